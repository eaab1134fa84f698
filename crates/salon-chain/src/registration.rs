//! Registration: appending a neuron while the subnet has room, replacing the lowest-emission
//! non-immune neuron when it is full (reference/yuma/README.md section 6).

use crate::error::ChainError;
use crate::store::{self, NeuronRow, SubnetRow};
use rusqlite::Connection;

/// Checks that `coldkey` may own `hotkey` and records the ownership on first use.
pub fn claim_hotkey(c: &Connection, hotkey: &str, coldkey: &str) -> Result<(), ChainError> {
    match store::hotkey_owner(c, hotkey)? {
        Some(owner) if owner != coldkey => Err(ChainError::NonAssociatedColdKey {
            hotkey: hotkey.to_string(),
            coldkey: coldkey.to_string(),
            owner,
        }),
        Some(_) => Ok(()),
        None => store::set_hotkey_owner(c, hotkey, coldkey),
    }
}

/// Registers `hotkey` on the subnet at `block`; returns its uid.
pub fn register(
    c: &Connection,
    subnet: &SubnetRow,
    hotkey: &str,
    coldkey: &str,
    block: u64,
) -> Result<u16, ChainError> {
    let netuid = subnet.netuid;
    if let Some(n) = store::neuron_by_hotkey(c, netuid, hotkey)? {
        return Err(ChainError::HotKeyAlreadyRegisteredInSubNet {
            netuid,
            hotkey: hotkey.to_string(),
            uid: n.uid,
        });
    }
    claim_hotkey(c, hotkey, coldkey)?;
    let neurons = store::neurons(c, netuid)?;
    let n = neurons.len();
    let uid = if n < subnet.hp.max_allowed_uids as usize {
        n as u16
    } else {
        let owner_uid = subnet
            .owner_hotkey
            .as_deref()
            .and_then(|h| neurons.iter().find(|x| x.hotkey == h))
            .map(|x| x.uid);
        let victim = pick_victim(&neurons, owner_uid, subnet.hp.immunity_period, block)
            .ok_or_else(|| ChainError::BadRequest {
                message: format!(
                    "subnet {netuid} has max_allowed_uids 0: no uid can be registered"
                ),
            })?;
        let old = &neurons[victim as usize];
        store::clear_uid_rows(c, netuid, victim)?;
        store::forget_hotkey(c, netuid, &old.hotkey)?;
        tracing::info!(netuid, uid = victim, old = %old.hotkey, new = %hotkey, "subnet full: replacing neuron");
        victim
    };
    store::put_new_neuron(c, netuid, uid, hotkey, coldkey, block)?;
    Ok(uid)
}

/// The uid to replace: lowest stored emission, ties to the earlier registration then the lower uid;
/// non-immune uids first, the owner's uid only as a last resort.
pub fn pick_victim(
    neurons: &[NeuronRow],
    owner_uid: Option<u16>,
    immunity_period: u64,
    block: u64,
) -> Option<u16> {
    let immune = |n: &NeuronRow| block.saturating_sub(n.block_at_registration) < immunity_period;
    let best = |pool: &mut dyn Iterator<Item = &NeuronRow>| {
        pool.min_by_key(|n| (n.emission, n.block_at_registration, n.uid))
            .map(|n| n.uid)
    };
    let not_owner = |n: &&NeuronRow| Some(n.uid) != owner_uid;
    best(&mut neurons.iter().filter(not_owner).filter(|n| !immune(n)))
        .or_else(|| best(&mut neurons.iter().filter(not_owner)))
        .or_else(|| best(&mut neurons.iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neuron(uid: u16, emission: u64, registered: u64) -> NeuronRow {
        NeuronRow {
            uid,
            emission,
            block_at_registration: registered,
            ..Default::default()
        }
    }

    #[test]
    fn victim_is_lowest_emission_non_immune_then_earliest_then_lowest_uid() {
        let ns = vec![
            neuron(0, 5, 0),
            neuron(1, 1, 90),
            neuron(2, 3, 0),
            neuron(3, 3, 0),
        ];
        // uid 1 has the lowest emission but is immune (registered 10 blocks ago, immunity 50).
        assert_eq!(pick_victim(&ns, None, 50, 100), Some(2));
        // Without immunity it goes.
        assert_eq!(pick_victim(&ns, None, 0, 100), Some(1));
        // All immune: the lowest emission overall.
        assert_eq!(pick_victim(&ns, None, 1000, 100), Some(1));
        // The owner is spared while others remain.
        let ns = vec![neuron(0, 0, 0), neuron(1, 9, 0)];
        assert_eq!(pick_victim(&ns, Some(0), 0, 100), Some(1));
    }
}
