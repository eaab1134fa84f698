//! [`FixedChain`]: an in-memory chain over a fixed list of neurons with a wall-clock block height,
//! for running a validator against explicit axons with no chain (`salon validator --no-chain`).
//! Nothing registers or stakes; `set_weights` checks and records the weights instead.

use crate::{AxonInfo, Chain, ChainError, Hyperparameters, Metagraph, NeuronInfo};
use salon_core::{Hotkey, NetUid, Uid};
use salon_keys::{Keypair, PublicKey};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One neuron of a [`FixedChain`]: its hotkey (SS58) and, for miners, where its axon listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedNeuron {
    /// The neuron's hotkey (SS58).
    pub hotkey: String,
    /// Where its axon listens (None for a validator that serves nothing).
    pub axon: Option<AxonInfo>,
    /// Whether it holds a validator permit.
    pub validator_permit: bool,
}

/// One accepted `set_weights` call, as a [`FixedChain`] records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightSet {
    /// The block the weights were set at.
    pub block: u64,
    /// The uid of the hotkey that set them.
    pub uid: u16,
    /// The hotkey that set them (SS58).
    pub hotkey: String,
    /// `(dest uid, u16 weight)` as given.
    pub weights: Vec<(u16, u16)>,
}

type WeightObserver = Box<dyn Fn(&WeightSet, &[NeuronInfo]) + Send + Sync>;

/// A single subnet of fixed neurons (uids in the order given); the block height advances one
/// block per `block_time` of wall clock from `first_block`.
pub struct FixedChain {
    netuid: NetUid,
    hyperparameters: Hyperparameters,
    neurons: Mutex<Vec<NeuronInfo>>,
    first_block: u64,
    block_time: Duration,
    origin: Instant,
    weight_sets: Mutex<Vec<WeightSet>>,
    observer: Option<WeightObserver>,
}

impl FixedChain {
    /// A chain holding subnet `netuid` with `neurons` as uids 0..n; fails on an empty list, a
    /// hotkey that is not SS58, or a hotkey given twice.
    pub fn new(
        netuid: NetUid,
        hyperparameters: Hyperparameters,
        neurons: Vec<FixedNeuron>,
        first_block: u64,
        block_time: Duration,
    ) -> Result<Self, ChainError> {
        if neurons.is_empty() {
            return Err(ChainError::BadRequest {
                message: "a fixed chain needs at least one neuron".into(),
            });
        }
        if neurons.len() > u16::MAX as usize {
            return Err(ChainError::BadRequest {
                message: format!("{} neurons is more than uids can number", neurons.len()),
            });
        }
        let mut infos: Vec<NeuronInfo> = Vec::with_capacity(neurons.len());
        for (uid, n) in neurons.into_iter().enumerate() {
            let hotkey = PublicKey::from_ss58(&n.hotkey)
                .map_err(|e| ChainError::BadRequest {
                    message: format!("hotkey {:?} is not an SS58 address: {e}", n.hotkey),
                })?
                .to_ss58();
            if let Some(first) = infos.iter().find(|i| i.hotkey.0 == hotkey) {
                return Err(ChainError::HotKeyAlreadyRegisteredInSubNet {
                    netuid: netuid.0,
                    hotkey,
                    uid: first.uid.0,
                });
            }
            infos.push(NeuronInfo {
                uid: Uid(uid as u16),
                hotkey: Hotkey(hotkey),
                coldkey: String::new(),
                active: true,
                stake: 0,
                emission: 0,
                incentive: 0,
                consensus: 0,
                validator_trust: 0,
                dividends: 0,
                last_update: 0,
                block_at_registration: first_block,
                validator_permit: n.validator_permit,
                weights: Vec::new(),
                bonds: Vec::new(),
                axon: n.axon,
            });
        }
        Ok(Self {
            netuid,
            hyperparameters,
            neurons: Mutex::new(infos),
            first_block,
            block_time: block_time.max(Duration::from_millis(1)),
            origin: Instant::now(),
            weight_sets: Mutex::new(Vec::new()),
            observer: None,
        })
    }

    /// Calls `f` with every accepted weight set and the neurons (for printing them as they come).
    pub fn on_weights(
        mut self,
        f: impl Fn(&WeightSet, &[NeuronInfo]) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Box::new(f));
        self
    }

    /// Every accepted weight set, oldest first.
    pub fn weight_sets(&self) -> Vec<WeightSet> {
        self.weight_sets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn height(&self) -> u64 {
        let blocks = self.origin.elapsed().as_nanos() / self.block_time.as_nanos();
        self.first_block
            .saturating_add(u64::try_from(blocks).unwrap_or(u64::MAX))
    }

    fn check_netuid(&self, netuid: NetUid) -> Result<(), ChainError> {
        if netuid == self.netuid {
            Ok(())
        } else {
            Err(ChainError::SubNetworkDoesNotExist { netuid: netuid.0 })
        }
    }

    fn unsupported(operation: &str) -> ChainError {
        ChainError::Unsupported {
            operation: format!("{operation} (the fixed list of --no-chain neurons)"),
        }
    }
}

#[async_trait::async_trait]
impl Chain for FixedChain {
    async fn block(&self) -> Result<u64, ChainError> {
        Ok(self.height())
    }

    async fn create_subnet(
        &self,
        _owner_coldkey: &Keypair,
        _owner_hotkey: Option<&Keypair>,
        _hyperparameters: Hyperparameters,
    ) -> Result<NetUid, ChainError> {
        Err(Self::unsupported("create_subnet"))
    }

    async fn register(
        &self,
        _netuid: NetUid,
        _hotkey: &Keypair,
        _coldkey: &PublicKey,
    ) -> Result<Uid, ChainError> {
        Err(Self::unsupported("register"))
    }

    async fn add_stake(
        &self,
        _coldkey: &Keypair,
        _hotkey: &Hotkey,
        _netuid: NetUid,
        _amount_rao: u64,
    ) -> Result<(), ChainError> {
        Err(Self::unsupported("add_stake"))
    }

    async fn serve_axon(
        &self,
        _hotkey: &Keypair,
        _netuid: NetUid,
        _axon: AxonInfo,
    ) -> Result<(), ChainError> {
        Err(Self::unsupported("serve_axon"))
    }

    async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        dests: &[u16],
        values: &[u16],
        _version_key: u64,
    ) -> Result<(), ChainError> {
        self.check_netuid(netuid)?;
        if dests.len() != values.len() {
            return Err(ChainError::WeightVecNotEqualSize {
                dests: dests.len(),
                values: values.len(),
            });
        }
        let block = self.height();
        let mut neurons = self.neurons.lock().unwrap_or_else(|p| p.into_inner());
        let n = neurons.len() as u16;
        let ss58 = hotkey.ss58();
        let uid = neurons
            .iter()
            .find(|x| x.hotkey.0 == ss58)
            .map(|x| x.uid.0)
            .ok_or_else(|| ChainError::HotKeyNotRegisteredInSubNet {
                netuid: netuid.0,
                hotkey: ss58.clone(),
            })?;
        let mut seen = std::collections::BTreeSet::new();
        for d in dests {
            if *d >= n {
                return Err(ChainError::UidVecContainInvalidOne { uid: *d, n });
            }
            if !seen.insert(*d) {
                return Err(ChainError::DuplicateUids { uid: *d });
            }
        }
        let weights: Vec<(u16, u16)> = dests.iter().copied().zip(values.iter().copied()).collect();
        let me = &mut neurons[uid as usize];
        me.weights = weights.iter().copied().filter(|(_, w)| *w > 0).collect();
        me.last_update = block;
        let set = WeightSet {
            block,
            uid,
            hotkey: ss58,
            weights,
        };
        if let Some(f) = &self.observer {
            f(&set, &neurons);
        }
        drop(neurons);
        self.weight_sets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(set);
        Ok(())
    }

    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        self.check_netuid(netuid)?;
        Ok(Metagraph {
            netuid,
            block: self.height(),
            hyperparameters: self.hyperparameters.clone(),
            owner_coldkey: String::new(),
            neurons: self
                .neurons
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        })
    }

    async fn hyperparameters(&self, netuid: NetUid) -> Result<Hyperparameters, ChainError> {
        self.check_netuid(netuid)?;
        Ok(self.hyperparameters.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> Keypair {
        Keypair::from_seed(&[i; 32]).unwrap()
    }

    fn miner(k: &Keypair, port: u16) -> FixedNeuron {
        FixedNeuron {
            hotkey: k.ss58(),
            axon: Some(AxonInfo {
                ip: "127.0.0.1".into(),
                port,
                ip_type: 4,
                protocol: 4,
                version: 0,
            }),
            validator_permit: false,
        }
    }

    fn chain(neurons: Vec<FixedNeuron>) -> Result<FixedChain, ChainError> {
        FixedChain::new(
            NetUid(1),
            Hyperparameters::default(),
            neurons,
            7,
            Duration::from_secs(3600),
        )
    }

    #[tokio::test]
    async fn neurons_take_uids_in_order_and_weights_are_recorded() {
        let (a, b, v) = (key(1), key(2), key(3));
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let c = chain(vec![
            miner(&a, 9001),
            miner(&b, 9002),
            FixedNeuron {
                hotkey: v.ss58(),
                axon: None,
                validator_permit: true,
            },
        ])
        .unwrap()
        .on_weights({
            let seen = seen.clone();
            move |set, neurons| {
                seen.lock()
                    .unwrap()
                    .push((set.uid, neurons[0].hotkey.0.clone()))
            }
        });
        let mg = c.metagraph(NetUid(1)).await.unwrap();
        assert_eq!(mg.block, 7, "an hour-long block has not passed");
        assert_eq!(mg.neurons.len(), 3);
        assert_eq!(mg.neurons[1].hotkey.0, b.ss58());
        assert_eq!(mg.neurons[1].axon.as_ref().unwrap().port, 9002);
        assert_eq!(mg.neuron_by_hotkey(&v.ss58()).unwrap().uid, Uid(2));

        c.set_weights(&v, NetUid(1), &[0, 1, 2], &[65535, 100, 0], 0)
            .await
            .unwrap();
        let sets = c.weight_sets();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].uid, 2);
        assert_eq!(sets[0].weights, vec![(0, 65535), (1, 100), (2, 0)]);
        assert_eq!(*seen.lock().unwrap(), vec![(2, a.ss58())]);
        let mg = c.metagraph(NetUid(1)).await.unwrap();
        assert_eq!(mg.neurons[2].weights, vec![(0, 65535), (1, 100)]);
    }

    #[tokio::test]
    async fn bad_weights_and_strangers_are_refused() {
        let (a, v, stranger) = (key(1), key(3), key(9));
        let c = chain(vec![
            miner(&a, 9001),
            FixedNeuron {
                hotkey: v.ss58(),
                axon: None,
                validator_permit: true,
            },
        ])
        .unwrap();
        assert!(matches!(
            c.set_weights(&stranger, NetUid(1), &[0], &[1], 0).await,
            Err(ChainError::HotKeyNotRegisteredInSubNet { .. })
        ));
        assert!(matches!(
            c.set_weights(&v, NetUid(1), &[0, 5], &[1, 1], 0).await,
            Err(ChainError::UidVecContainInvalidOne { uid: 5, n: 2 })
        ));
        assert!(matches!(
            c.set_weights(&v, NetUid(1), &[0, 0], &[1, 1], 0).await,
            Err(ChainError::DuplicateUids { uid: 0 })
        ));
        assert!(matches!(
            c.set_weights(&v, NetUid(1), &[0], &[1, 1], 0).await,
            Err(ChainError::WeightVecNotEqualSize { .. })
        ));
        assert!(matches!(
            c.metagraph(NetUid(2)).await,
            Err(ChainError::SubNetworkDoesNotExist { netuid: 2 })
        ));
        assert!(matches!(
            c.register(NetUid(1), &stranger, &stranger.public()).await,
            Err(ChainError::Unsupported { .. })
        ));
        assert!(c.weight_sets().is_empty());
    }

    #[test]
    fn duplicate_and_malformed_hotkeys_are_refused() {
        let a = key(1);
        assert!(matches!(
            chain(vec![miner(&a, 1), miner(&a, 2)]),
            Err(ChainError::HotKeyAlreadyRegisteredInSubNet { uid: 0, .. })
        ));
        let mut bad = miner(&a, 1);
        bad.hotkey = "not-an-address".into();
        assert!(matches!(
            chain(vec![bad]),
            Err(ChainError::BadRequest { .. })
        ));
        assert!(chain(Vec::new()).is_err());
    }
}
