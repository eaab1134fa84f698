//! `DIR/devnet.json`: what a devnet directory holds (profile, subnet, miners and their
//! behaviours), so a second run resumes the same network.

use crate::usage::usage;
use salon_miner::Behaviour;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One miner of the devnet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerEntry {
    /// Wallet name under DIR/wallets.
    pub wallet: String,
    /// How it behaves.
    pub behaviour: Behaviour,
}

/// The devnet directory's manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Profile name or path.
    pub profile: String,
    /// The subnet created for it.
    pub netuid: u16,
    /// Miners in wallet order.
    pub miners: Vec<MinerEntry>,
}

const FILE: &str = "devnet.json";

impl Manifest {
    /// Reads the manifest of `dir`, if it has one.
    pub fn load(dir: &Path) -> anyhow::Result<Option<Manifest>> {
        let path = dir.join(FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)?;
        let m = serde_json::from_str(&text).map_err(|e| {
            usage(format!(
                "{} is not a devnet manifest ({e}); use another --dir",
                path.display()
            ))
        })?;
        Ok(Some(m))
    }

    /// Writes the manifest atomically (temp file + rename).
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let tmp = dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, dir.join(FILE))?;
        Ok(())
    }

    /// The mix as `behaviour=count,...` in first-seen order.
    pub fn mix(&self) -> String {
        let mut counts: Vec<(Behaviour, usize)> = Vec::new();
        for m in &self.miners {
            match counts.iter_mut().find(|(b, _)| *b == m.behaviour) {
                Some((_, n)) => *n += 1,
                None => counts.push((m.behaviour, 1)),
            }
        }
        counts
            .iter()
            .map(|(b, n)| format!("{b}={n}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Miner entries for a mix, wallets named `miner-<i>-<behaviour>`.
pub fn miners_for(mix: &[(Behaviour, usize)]) -> Vec<MinerEntry> {
    let mut out = Vec::new();
    for (b, n) in mix {
        for _ in 0..*n {
            out.push(MinerEntry {
                wallet: format!("miner-{}-{}", out.len(), b),
                behaviour: *b,
            });
        }
    }
    out
}
