//! Who a miner serves: callers registered on the subnet with enough stake (and a validator
//! permit if required), served in stake order. The metagraph is refreshed in the background.

use salon_chain::{Chain, Metagraph};
use salon_core::profile::MinerSettings;
use salon_core::NetUid;
use salon_wire::Admission;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Admission from the chain's metagraph.
pub struct ChainAdmission {
    metagraph: RwLock<Option<Metagraph>>,
    settings: MinerSettings,
}

impl ChainAdmission {
    /// A policy with `settings`; until the first metagraph arrives every caller is refused.
    pub fn new(settings: MinerSettings) -> Arc<Self> {
        Arc::new(Self {
            metagraph: RwLock::new(None),
            settings,
        })
    }

    /// Replaces the metagraph the policy reads.
    pub fn update(&self, mg: Metagraph) {
        *self.metagraph.write().unwrap_or_else(|p| p.into_inner()) = Some(mg);
    }

    /// Refreshes the metagraph from `chain` every `every` until the returned task is aborted.
    pub fn spawn_refresh(
        self: &Arc<Self>,
        chain: Arc<dyn Chain>,
        netuid: NetUid,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match chain.metagraph(netuid).await {
                    Ok(mg) => me.update(mg),
                    Err(e) => tracing::warn!("miner could not refresh the metagraph: {e}"),
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}

impl Admission for ChainAdmission {
    fn blacklist(&self, caller_hotkey: &str, _synapse: &str) -> Option<String> {
        let guard = self.metagraph.read().unwrap_or_else(|p| p.into_inner());
        let Some(mg) = guard.as_ref() else {
            return Some("miner has not synced the metagraph yet".into());
        };
        let Some(n) = mg.neuron_by_hotkey(caller_hotkey) else {
            return Some(format!(
                "hotkey {caller_hotkey} is not registered on subnet {}",
                mg.netuid
            ));
        };
        if n.stake < self.settings.min_stake_rao {
            return Some(format!(
                "stake {} rao is below this miner's minimum of {} rao",
                n.stake, self.settings.min_stake_rao
            ));
        }
        if self.settings.require_validator_permit && !n.validator_permit {
            return Some("caller holds no validator permit".into());
        }
        None
    }

    fn priority(&self, caller_hotkey: &str) -> f64 {
        let guard = self.metagraph.read().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .and_then(|mg| mg.neuron_by_hotkey(caller_hotkey))
            .map(|n| n.stake as f64)
            .unwrap_or(0.0)
    }
}
