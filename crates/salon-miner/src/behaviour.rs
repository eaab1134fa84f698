//! Devnet miner behaviours: the honest miner and the adversaries the incentive mechanism must
//! beat. Real miners run `honest`; the others exist to test scoring rules end to end.

use std::fmt;
use std::str::FromStr;

/// How a miner answers.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Runs its engines at their best settings.
    Honest,
    /// Runs its engines at lower-quality settings.
    Weak,
    /// Answers with silence, blank images, constant guesses.
    Lazy,
    /// Generates once per task, then replays (lightly disguised) old answers.
    Copycat,
    /// Answers correctly but after the timeout.
    Slow,
    /// Answers with malformed responses.
    Broken,
}

impl Behaviour {
    /// All behaviours, in the devnet's default order.
    pub const ALL: [Behaviour; 6] = [
        Behaviour::Honest,
        Behaviour::Weak,
        Behaviour::Lazy,
        Behaviour::Copycat,
        Behaviour::Slow,
        Behaviour::Broken,
    ];

    /// The name used in flags and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Behaviour::Honest => "honest",
            Behaviour::Weak => "weak",
            Behaviour::Lazy => "lazy",
            Behaviour::Copycat => "copycat",
            Behaviour::Slow => "slow",
            Behaviour::Broken => "broken",
        }
    }

    /// Engine fidelity this behaviour generates with.
    pub fn fidelity(self) -> f32 {
        match self {
            Behaviour::Weak => 0.5,
            _ => 1.0,
        }
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A behaviour name that is not one of [`Behaviour::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown miner behaviour {0:?}; expected one of honest, weak, lazy, copycat, slow, broken")]
pub struct UnknownBehaviour(pub String);

impl FromStr for Behaviour {
    type Err = UnknownBehaviour;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Behaviour::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| UnknownBehaviour(s.to_string()))
    }
}

/// Parses a miner mix such as `honest=3,weak=1,lazy=1` into (behaviour, count) pairs.
pub fn parse_mix(spec: &str) -> Result<Vec<(Behaviour, usize)>, String> {
    let mut out: Vec<(Behaviour, usize)> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, count) = part.split_once('=').ok_or_else(|| {
            format!("bad --miners entry {part:?}: expected BEHAVIOUR=COUNT, e.g. honest=3")
        })?;
        let b: Behaviour = name
            .trim()
            .parse()
            .map_err(|e: UnknownBehaviour| e.to_string())?;
        let n: usize = count
            .trim()
            .parse()
            .map_err(|_| format!("bad --miners entry {part:?}: {count:?} is not a whole number"))?;
        if out.iter().any(|(x, _)| *x == b) {
            return Err(format!("bad --miners: {b} is listed twice"));
        }
        if n > 0 {
            out.push((b, n));
        }
    }
    let total: usize = out.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return Err("bad --miners: the mix has no miners; e.g. --miners honest=3,weak=1".into());
    }
    if total > 64 {
        return Err(format!(
            "bad --miners: {total} miners is more than the devnet's limit of 64"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_bad_ones_explain() {
        assert_eq!(
            parse_mix("honest=3, weak=1").unwrap(),
            vec![(Behaviour::Honest, 3), (Behaviour::Weak, 1)]
        );
        assert!(parse_mix("honest").unwrap_err().contains("BEHAVIOUR=COUNT"));
        assert!(parse_mix("greedy=1")
            .unwrap_err()
            .contains("unknown miner behaviour"));
        assert!(parse_mix("honest=x").unwrap_err().contains("whole number"));
        assert!(parse_mix("honest=0").unwrap_err().contains("no miners"));
        assert!(parse_mix("honest=1,honest=2")
            .unwrap_err()
            .contains("twice"));
    }
}
