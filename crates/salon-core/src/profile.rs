//! Profiles: a subnet's incentive mechanism as configuration (tasks, shares, timeouts, scoring,
//! selection, aggregation, weight schedule and devnet chain settings), read from TOML.
//!
//! Each seed subnet is a profile, not a fork; `profiles/*.toml` holds them.

use crate::task::Task;
use serde::{Deserialize, Serialize};

/// Why a profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The TOML did not parse or had unknown fields.
    #[error("profile {name:?} is not valid TOML for a profile: {source}")]
    Toml {
        /// Profile name or path.
        name: String,
        /// Parser error.
        source: toml::de::Error,
    },
    /// The profile parsed but makes no sense.
    #[error("profile {name:?} is invalid: {reason}")]
    Invalid {
        /// Profile name or path.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// A subnet's whole incentive mechanism.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name (`salon`, `bittaudio`, ...).
    pub name: String,
    /// One paragraph: what this subnet does and where it differs from its seed.
    pub description: String,
    /// Devnet chain settings.
    #[serde(default)]
    pub network: NetworkSettings,
    /// Validator behaviour.
    #[serde(default)]
    pub validator: ValidatorSettings,
    /// Miner admission.
    #[serde(default)]
    pub miner: MinerSettings,
    /// The tasks offered, with their share of the incentive.
    #[serde(rename = "task")]
    pub tasks: Vec<TaskSettings>,
}

/// Chain settings the devnet creates the subnet with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSettings {
    /// Blocks per epoch.
    pub tempo: u16,
    /// Milliseconds per block on the devnet.
    pub block_time_ms: u64,
    /// Blocks between two weight sets by one validator.
    pub weights_rate_limit: u64,
    /// Yuma3 bonds.
    pub yuma3: bool,
    /// Liquid alpha.
    pub liquid_alpha: bool,
    /// Commit-reveal weights.
    pub commit_reveal: bool,
    /// Emission per block in rao.
    pub emission_per_block_rao: u64,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        Self {
            tempo: 40,
            block_time_ms: 150,
            weights_rate_limit: 5,
            yuma3: true,
            liquid_alpha: false,
            commit_reveal: false,
            emission_per_block_rao: 1_000_000_000,
        }
    }
}

/// How scores are aggregated over time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Aggregation {
    /// score <- alpha * new + (1 - alpha) * score.
    Ema {
        /// Weight of the new observation.
        alpha: f64,
    },
    /// Vision-style periods: mean of period means x sqrt(periods present / periods).
    Periods {
        /// Length of one period in blocks.
        period_blocks: u64,
        /// Periods kept.
        periods: usize,
    },
}

/// Validator behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidatorSettings {
    /// Miners queried together per step (BittAudio's k).
    pub group_size: usize,
    /// Aggregation over time.
    pub aggregation: Aggregation,
    /// Blocks between weight sets.
    pub weights_interval_blocks: u64,
    /// Exponent applied to scores before normalising weights (1 = proportional).
    pub weight_power: f64,
    /// Bit similarity above which two responses count as the same content (copy detection).
    pub duplicate_similarity: f64,
    /// Steps a miner stays at zero after being caught replaying content.
    pub duplicate_penalty_steps: u64,
    /// Seeds per validator uid: validator u draws from [u * seed_stride, (u + 1) * seed_stride).
    pub seed_stride: u64,
}

impl Default for ValidatorSettings {
    fn default() -> Self {
        Self {
            group_size: 4,
            aggregation: Aggregation::Ema { alpha: 0.3 },
            weights_interval_blocks: 10,
            weight_power: 1.0,
            duplicate_similarity: 0.9,
            duplicate_penalty_steps: 1000,
            seed_stride: 100_000,
        }
    }
}

/// Miner admission settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MinerSettings {
    /// Callers with less stake (rao) are refused.
    pub min_stake_rao: u64,
    /// Only callers holding a validator permit are served.
    pub require_validator_permit: bool,
    /// Requests handled at once.
    pub max_concurrency: usize,
}

impl Default for MinerSettings {
    fn default() -> Self {
        Self {
            min_stake_rao: 10_000_000_000,
            require_validator_permit: false,
            max_concurrency: 8,
        }
    }
}

/// How a task's raw evaluation becomes a reward.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RewardRule {
    /// The evaluation's score as is.
    #[default]
    Quality,
    /// NicheImage: (quality - 0.4 min(t^3 / F^3, 1)) clamped at 0.
    TimePenalty {
        /// F in seconds.
        factor_secs: f64,
    },
    /// Vision: quality x speed factor (faster than `mean_secs` earns up to +60%).
    SpeedFactor {
        /// Expected response time in seconds.
        mean_secs: f64,
    },
    /// BitMind v2: 0.5 MCC(last 100) + 0.5 accuracy(last 10).
    Detection,
}

/// Inclusive range for a random challenge parameter.
pub type Range<T> = [T; 2];

/// One task of the profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSettings {
    /// Which task.
    pub task: Task,
    /// Share of the incentive (shares are normalised over the profile).
    pub share: f64,
    /// Seconds a miner has to answer.
    pub timeout_secs: f64,
    /// How evaluation becomes reward.
    #[serde(default)]
    pub reward: RewardRule,
    /// Ranges of the challenge parameters.
    #[serde(default)]
    pub params: ChallengeParams,
}

/// Random ranges for challenge parameters; unset ones take the task's defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChallengeParams {
    /// Audio length in seconds.
    pub duration_secs: Option<Range<f32>>,
    /// Image width in pixels (multiples of 64 are drawn).
    pub width: Option<Range<u32>>,
    /// Image height in pixels.
    pub height: Option<Range<u32>>,
    /// Denoising steps.
    pub steps: Option<Range<u32>>,
    /// Guidance scale.
    pub cfg_scale: Option<Range<f32>>,
    /// Image-to-image strength.
    pub strength: Option<Range<f32>>,
    /// Words of text output.
    pub max_tokens: Option<Range<u32>>,
}

impl Profile {
    /// Parses and validates a profile from TOML text; `name` is used in messages.
    pub fn from_toml(name: &str, text: &str) -> Result<Profile, ProfileError> {
        let p: Profile = toml::from_str(text).map_err(|source| ProfileError::Toml {
            name: name.to_string(),
            source,
        })?;
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), ProfileError> {
        let bad = |reason: String| ProfileError::Invalid {
            name: self.name.clone(),
            reason,
        };
        if self.tasks.is_empty() {
            return Err(bad("it offers no [[task]]".into()));
        }
        for t in &self.tasks {
            if !(t.share > 0.0 && t.share.is_finite()) {
                return Err(bad(format!(
                    "task {} has share {}; shares must be > 0",
                    t.task, t.share
                )));
            }
            if t.timeout_secs.is_nan() || t.timeout_secs <= 0.0 {
                return Err(bad(format!(
                    "task {} has timeout {}; it must be > 0",
                    t.task, t.timeout_secs
                )));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.tasks {
            if !seen.insert(t.task) {
                return Err(bad(format!("task {} is listed twice", t.task)));
            }
        }
        if self.validator.group_size == 0 {
            return Err(bad("validator.group_size must be at least 1".into()));
        }
        if self.network.tempo == 0 {
            return Err(bad("network.tempo must be at least 1".into()));
        }
        if let Aggregation::Ema { alpha } = self.validator.aggregation {
            if !(alpha > 0.0 && alpha <= 1.0) {
                return Err(bad(format!("EMA alpha {alpha} must be in (0, 1]")));
            }
        }
        Ok(())
    }

    /// The task settings for `task`, if offered.
    pub fn task(&self, task: Task) -> Option<&TaskSettings> {
        self.tasks.iter().find(|t| t.task == task)
    }

    /// Each task's share normalised to sum to 1.
    pub fn normalized_shares(&self) -> Vec<(Task, f64)> {
        let total: f64 = self.tasks.iter().map(|t| t.share).sum();
        self.tasks
            .iter()
            .map(|t| (t.task, t.share / total))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "x"
description = "test"
[[task]]
task = "text_to_music"
share = 2
timeout_secs = 5
[[task]]
task = "text_to_image"
share = 1
timeout_secs = 5
reward = { kind = "time_penalty", factor_secs = 12 }
"#;

    #[test]
    fn parses_with_defaults_and_normalises_shares() {
        let p = Profile::from_toml("x", MINIMAL).unwrap();
        assert_eq!(p.network, NetworkSettings::default());
        let s = p.normalized_shares();
        assert!((s[0].1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            p.task(Task::TextToImage).unwrap().reward,
            RewardRule::TimePenalty { factor_secs: 12.0 }
        );
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        let dup = MINIMAL.replace("text_to_image", "text_to_music");
        assert!(Profile::from_toml("x", &dup)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let typo = MINIMAL.replace("share = 1", "shares = 1");
        assert!(Profile::from_toml("x", &typo).is_err());
        let zero = MINIMAL.replace("share = 1", "share = 0");
        assert!(Profile::from_toml("x", &zero)
            .unwrap_err()
            .to_string()
            .contains("share"));
    }
}
