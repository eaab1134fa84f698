//! Block production: advancing the height and running Yuma Consensus for every subnet whose tempo
//! has elapsed, storing the epoch's outputs and its history line.
//!
//! Emission is recorded (per neuron and in the history) but not added to stake: devnet stake is what
//! the faucet (`add_stake`) credited, so validator permits and consensus weights stay as set up.

use crate::error::ChainError;
use crate::store::{self, NeuronOutputs, SubnetRow};
use crate::types::EpochNeuron;
use crate::weights::first_pending_commit_blocks;
use rusqlite::Connection;
use salon_yuma::EpochInput;

/// Advances one block and runs the epochs due at it; returns the new height.
pub fn produce_block(c: &Connection) -> Result<u64, ChainError> {
    let block = store::block(c)? + 1;
    store::set_block(c, block)?;
    let per_block = store::emission_per_block(c)?;
    for subnet in store::subnets(c)? {
        let tempo = subnet.hp.tempo as u64;
        let since = block.saturating_sub(subnet.last_epoch_block);
        if tempo > 0 && since >= tempo {
            run_epoch(c, &subnet, block, per_block.saturating_mul(since))?;
        }
    }
    Ok(block)
}

/// Runs one epoch of `subnet` at `block`, distributing `rao_emission`, and stores what it returns.
pub fn run_epoch(
    c: &Connection,
    subnet: &SubnetRow,
    block: u64,
    rao_emission: u64,
) -> Result<(), ChainError> {
    let netuid = subnet.netuid;
    let neurons = store::neurons(c, netuid)?;
    let n = neurons.len();
    if n > 0 {
        let stake = neurons
            .iter()
            .map(|x| store::stake(c, netuid, &x.hotkey))
            .collect::<Result<Vec<_>, _>>()?;
        let owner_uid = subnet
            .owner_hotkey
            .as_deref()
            .and_then(|h| neurons.iter().find(|x| x.hotkey == h))
            .map(|x| x.uid);
        let first_pending_commit_block = if subnet.hp.commit_reveal {
            first_pending_commit_blocks(c, subnet, &neurons)?
        } else {
            vec![None; n]
        };
        let input = EpochInput {
            current_block: block,
            stake: stake.clone(),
            last_update: neurons.iter().map(|x| x.last_update).collect(),
            block_at_registration: neurons.iter().map(|x| x.block_at_registration).collect(),
            validator_permit: neurons.iter().map(|x| x.validator_permit).collect(),
            weights: store::weights(c, netuid, n)?,
            bonds: store::bonds(c, netuid, n)?,
            owner_uid,
            last_mechanism_step_block: subnet.last_mechanism_step_block,
            first_pending_commit_block,
        };
        let out = salon_yuma::epoch(&subnet.hp, &input, rao_emission);
        let u16_at = |v: &[u16], i: usize| v.get(i).copied().unwrap_or(0);
        store::insert_epoch(c, netuid, block, rao_emission)?;
        for (i, neuron) in neurons.iter().enumerate() {
            let o = NeuronOutputs {
                active: out.active.get(i).copied().unwrap_or(false),
                validator_permit: out.validator_permit.get(i).copied().unwrap_or(false),
                emission: out.emission.get(i).copied().unwrap_or(0),
                incentive: u16_at(&out.incentive, i),
                consensus: u16_at(&out.consensus, i),
                dividends: u16_at(&out.dividends, i),
                validator_trust: u16_at(&out.validator_trust, i),
                stake_weight: u16_at(&out.stake_weight, i),
            };
            store::set_outputs(c, netuid, neuron.uid, &o)?;
            store::put_bonds(
                c,
                netuid,
                neuron.uid,
                out.bonds.get(i).map(Vec::as_slice).unwrap_or(&[]),
            )?;
            let line = EpochNeuron {
                uid: neuron.uid,
                hotkey: neuron.hotkey.clone(),
                stake: stake[i],
                incentive: o.incentive,
                dividends: o.dividends,
                consensus: o.consensus,
                validator_trust: o.validator_trust,
                emission: o.emission,
                validator_permit: o.validator_permit,
                active: o.active,
            };
            store::insert_epoch_neuron(c, netuid, block, &line)?;
        }
        tracing::debug!(netuid, block, n, rao_emission, "epoch");
    }
    store::mark_epoch(c, netuid, block)
}
