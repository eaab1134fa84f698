//! From rewards to weights, shared by every profile: reward rules (time penalty, speed factor),
//! per-task aggregation over time (EMA or Vision-style periods) and weight normalisation.

use salon_core::profile::{Aggregation, RewardRule};
use std::collections::VecDeque;

/// Applies a profile's reward rule to a quality score in [0, 1] and the response time.
/// `RewardRule::Detection` is handled by the detection statistics and passes quality through.
pub fn reward(rule: RewardRule, quality: f64, response_secs: f64) -> f64 {
    let q = quality.clamp(0.0, 1.0);
    match rule {
        RewardRule::Quality | RewardRule::Detection => q,
        RewardRule::TimePenalty { factor_secs } => {
            if q <= 0.0 {
                return 0.0;
            }
            let ratio = (response_secs / factor_secs).max(0.0);
            (q - 0.4 * (ratio * ratio * ratio).min(1.0)).max(0.0)
        }
        RewardRule::SpeedFactor { mean_secs } => q * speed_factor(response_secs, mean_secs),
    }
}

/// Vision's speed factor, scaled to stay within [0, 1]: faster than `mean` approaches 1, slower
/// decays exponentially. (Vision's raw factor reaches 1.6; dividing by 1.6 keeps rewards bounded.)
pub fn speed_factor(secs: f64, mean: f64) -> f64 {
    let t = secs.max(0.0);
    let raw = if t <= mean {
        1.0 + 0.6 * ((mean - t).powf(0.25) / mean.powf(0.25))
    } else {
        (-(t - mean) / mean).exp()
    };
    raw / 1.6
}

/// A score aggregated over time for one miner and task.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Aggregate {
    /// Exponential moving average.
    Ema {
        /// Current value.
        value: f64,
        /// Observations so far.
        count: u64,
    },
    /// Period means, newest last, and the running sum and count of the open period.
    Periods {
        /// Closed periods' means.
        closed: VecDeque<f64>,
        /// Period index of the open period.
        open_period: u64,
        /// Sum of the open period's rewards.
        open_sum: f64,
        /// Count of the open period's rewards.
        open_count: u64,
    },
}

impl Aggregate {
    /// An empty aggregate of the given kind.
    pub fn new(kind: Aggregation) -> Self {
        match kind {
            Aggregation::Ema { .. } => Aggregate::Ema {
                value: 0.0,
                count: 0,
            },
            Aggregation::Periods { .. } => Aggregate::Periods {
                closed: VecDeque::new(),
                open_period: 0,
                open_sum: 0.0,
                open_count: 0,
            },
        }
    }

    /// Records one reward observed at `block`.
    pub fn observe(&mut self, kind: Aggregation, reward: f64, block: u64) {
        match (self, kind) {
            (Aggregate::Ema { value, count }, Aggregation::Ema { alpha }) => {
                *value = alpha * reward + (1.0 - alpha) * *value;
                *count += 1;
            }
            (
                Aggregate::Periods {
                    closed,
                    open_period,
                    open_sum,
                    open_count,
                },
                Aggregation::Periods {
                    period_blocks,
                    periods,
                },
            ) => {
                let p = block / period_blocks.max(1);
                if p != *open_period && *open_count > 0 {
                    closed.push_back(*open_sum / *open_count as f64);
                    // Periods with no observation count as absent (they shrink the sqrt factor).
                    for _ in 1..p.saturating_sub(*open_period) {
                        closed.push_back(f64::NAN);
                    }
                    while closed.len() > periods {
                        closed.pop_front();
                    }
                    *open_sum = 0.0;
                    *open_count = 0;
                }
                *open_period = p;
                *open_sum += reward;
                *open_count += 1;
            }
            (agg, kind) => {
                *agg = Aggregate::new(kind);
                agg.observe(kind, reward, block);
            }
        }
    }

    /// Forces the aggregate to zero (a sticky penalty).
    pub fn punish(&mut self) {
        match self {
            Aggregate::Ema { value, .. } => *value = 0.0,
            Aggregate::Periods {
                closed, open_sum, ..
            } => {
                closed.iter_mut().for_each(|v| *v = 0.0);
                *open_sum = 0.0;
            }
        }
    }

    /// The aggregated score. The EMA is bias-corrected (divided by 1 - (1 - alpha)^count, as
    /// Adam does), so a miner's first answers count at full value instead of starting from zero.
    pub fn value(&self, kind: Aggregation) -> f64 {
        match (self, kind) {
            (Aggregate::Ema { value, count }, Aggregation::Ema { alpha }) => {
                let seen = 1.0 - (1.0 - alpha).powi((*count).min(10_000) as i32);
                if seen > 0.0 {
                    (value / seen).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            }
            (Aggregate::Ema { value, .. }, _) => *value,
            (
                Aggregate::Periods {
                    closed,
                    open_sum,
                    open_count,
                    ..
                },
                Aggregation::Periods { periods, .. },
            ) => {
                let mut present: Vec<f64> =
                    closed.iter().copied().filter(|v| v.is_finite()).collect();
                if *open_count > 0 {
                    present.push(open_sum / *open_count as f64);
                }
                if present.is_empty() {
                    return 0.0;
                }
                let mean = present.iter().sum::<f64>() / present.len() as f64;
                mean * ((present.len().min(periods) as f64) / periods as f64).sqrt()
            }
            (Aggregate::Periods { .. }, Aggregation::Ema { .. }) => 0.0,
        }
    }
}

/// Turns per-miner scores into weights summing to 1 (scores raised to `power` first); all-zero
/// scores give all-zero weights.
pub fn normalize_weights(scores: &[f64], power: f64) -> Vec<f64> {
    let raised: Vec<f64> = scores
        .iter()
        .map(|&s| {
            if s.is_finite() && s > 0.0 {
                s.powf(power)
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = raised.iter().sum();
    if total <= 0.0 {
        return vec![0.0; scores.len()];
    }
    raised.iter().map(|s| s / total).collect()
}

/// Weights as the u16 values `set_weights` takes, max-upscaled so the largest is 65535
/// (as the SDK does before submitting).
pub fn weights_to_u16(weights: &[f64]) -> Vec<u16> {
    let max = weights.iter().copied().fold(0.0f64, f64::max);
    if max <= 0.0 {
        return vec![0; weights.len()];
    }
    weights
        .iter()
        .map(|w| ((w / max) * 65535.0).round().clamp(0.0, 65535.0) as u16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_moves_toward_new_rewards() {
        let kind = Aggregation::Ema { alpha: 0.5 };
        let mut a = Aggregate::new(kind);
        a.observe(kind, 1.0, 0);
        assert!(
            (a.value(kind) - 1.0).abs() < 1e-12,
            "bias-corrected: one 1.0 is worth 1.0"
        );
        a.observe(kind, 0.0, 1);
        assert!((a.value(kind) - 0.25 / 0.75).abs() < 1e-12);
        a.punish();
        assert_eq!(a.value(kind), 0.0);
    }

    #[test]
    fn periods_reward_presence() {
        let kind = Aggregation::Periods {
            period_blocks: 10,
            periods: 4,
        };
        let mut steady = Aggregate::new(kind);
        let mut once = Aggregate::new(kind);
        for p in 0..4 {
            steady.observe(kind, 0.8, p * 10);
        }
        once.observe(kind, 0.8, 30);
        assert!((steady.value(kind) - 0.8).abs() < 1e-12);
        assert!(
            (once.value(kind) - 0.4).abs() < 1e-12,
            "one of four periods -> sqrt(1/4)"
        );
    }

    #[test]
    fn time_penalty_and_speed_factor_favour_fast_answers() {
        let rule = RewardRule::TimePenalty { factor_secs: 12.0 };
        assert!(reward(rule, 1.0, 1.0) > reward(rule, 1.0, 10.0));
        assert_eq!(reward(rule, 1.0, 100.0), 0.6);
        assert_eq!(reward(rule, 0.0, 0.1), 0.0);
        let s = RewardRule::SpeedFactor { mean_secs: 2.0 };
        assert!(reward(s, 1.0, 0.5) > reward(s, 1.0, 3.0));
        assert!(reward(s, 1.0, 0.0) <= 1.0);
    }

    #[test]
    fn weights_normalise_and_upscale() {
        let w = normalize_weights(&[0.5, 0.25, 0.0, f64::NAN], 1.0);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(weights_to_u16(&w), vec![65535, 32768, 0, 0]);
        assert_eq!(normalize_weights(&[0.0, 0.0], 2.0), vec![0.0, 0.0]);
    }
}
