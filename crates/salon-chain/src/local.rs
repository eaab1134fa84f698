//! [`LocalChain`]: the embedded devnet chain, persisted in SQLite (`DIR/chain.sqlite`, WAL). Every
//! extrinsic and every block is one transaction, so a killed process loses nothing it reported done.

use crate::error::ChainError;
use crate::store::{self, SubnetRow};
use crate::types::{AxonInfo, EpochReport, Metagraph, NeuronInfo, SubnetInfo};
use crate::weights::Route;
use crate::{hyperparams, production, registration, weights, Chain};
use rusqlite::{Connection, TransactionBehavior};
use salon_core::{Hotkey, NetUid, Uid};
use salon_keys::{Keypair, PublicKey};
use salon_yuma::Hyperparameters;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// Default emission per block: 1 TAO.
pub const DEFAULT_EMISSION_PER_BLOCK: u64 = 1_000_000_000;

/// The database file inside the chain directory.
pub const DB_FILE: &str = "chain.sqlite";

/// The embedded, persistent chain. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct LocalChain {
    conn: Mutex<Connection>,
    dir: PathBuf,
    height: watch::Sender<u64>,
}

impl std::fmt::Debug for LocalChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalChain")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl LocalChain {
    /// Opens the chain stored in `dir` (created if missing), resuming at its last committed block.
    pub fn open(dir: &Path) -> Result<Self, ChainError> {
        std::fs::create_dir_all(dir).map_err(|e| ChainError::Io {
            message: format!("cannot create chain directory {}: {e}", dir.display()),
        })?;
        let conn = store::open(&dir.join(DB_FILE))?;
        let block = store::block(&conn)?;
        let (height, _) = watch::channel(block);
        Ok(Self {
            conn: Mutex::new(conn),
            dir: dir.to_path_buf(),
            height,
        })
    }

    /// The directory this chain lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolled the transaction back, so the connection is consistent.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one immediate transaction, committed only if `f` succeeds.
    fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        f(&tx)
    }

    /// The current height, without touching the database.
    pub fn height(&self) -> u64 {
        *self.height.borrow()
    }

    /// Advances one block in one transaction, running every epoch due at it; returns the new height.
    pub fn produce_block(&self) -> Result<u64, ChainError> {
        let block = self.write(production::produce_block)?;
        self.height.send_replace(block);
        Ok(block)
    }

    /// Produces `count` blocks; returns the final height.
    pub fn produce_blocks(&self, count: u64) -> Result<u64, ChainError> {
        let mut block = self.height();
        for _ in 0..count {
            block = self.produce_block()?;
        }
        Ok(block)
    }

    /// Produces a block every `block_time` until the task is aborted (errors are logged, not fatal).
    pub fn spawn_block_production(
        self: Arc<Self>,
        block_time: Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut timer = tokio::time::interval(block_time);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            timer.tick().await;
            loop {
                timer.tick().await;
                let chain = self.clone();
                match tokio::task::spawn_blocking(move || chain.produce_block()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!("block production failed: {e}"),
                    Err(e) => tracing::error!("block production task failed: {e}"),
                }
            }
        })
    }

    /// Rao emitted per block (distributed by epochs); 1 TAO unless changed.
    pub fn emission_per_block(&self) -> Result<u64, ChainError> {
        self.read(store::emission_per_block)
    }

    /// Sets the rao emitted per block (a chain setting, persisted).
    pub fn set_emission_per_block(&self, rao: u64) -> Result<(), ChainError> {
        self.write(|tx| store::set_emission_per_block(tx, rao))
    }

    /// Runs an epoch of `netuid` now, at the current block, outside the tempo schedule (tests and
    /// tools); distributes `rao_emission`.
    pub fn run_epoch_now(&self, netuid: NetUid, rao_emission: u64) -> Result<(), ChainError> {
        self.write(|tx| {
            let subnet = store::subnet(tx, netuid.0)?;
            let block = store::block(tx)?;
            production::run_epoch(tx, &subnet, block, rao_emission)
        })
    }

    fn subnet_info(c: &Connection, s: SubnetRow) -> Result<SubnetInfo, ChainError> {
        Ok(SubnetInfo {
            netuid: NetUid(s.netuid),
            n: store::neuron_count(c, s.netuid)?,
            owner_coldkey: s.owner_coldkey,
            owner_hotkey: s.owner_hotkey,
            created_block: s.created_block,
            last_epoch_block: s.last_epoch_block,
            epoch_index: s.epoch_index,
            hyperparameters: s.hp,
        })
    }

    /// Records a signed request's nonce; `Stale` if it was used before. Nonces below `oldest` are
    /// forgotten (callers reject them by age before calling).
    pub fn use_nonce(&self, signer: &str, nonce: u64, oldest: u64) -> Result<(), ChainError> {
        self.write(|tx| {
            store::prune_nonces(tx, oldest)?;
            if store::use_nonce(tx, signer, nonce)? {
                Ok(())
            } else {
                Err(ChainError::Stale {
                    signer: signer.to_string(),
                    nonce,
                })
            }
        })
    }

    fn create_subnet_sync(
        &self,
        owner_coldkey: &PublicKey,
        owner_hotkey: Option<&PublicKey>,
        hp: Hyperparameters,
    ) -> Result<NetUid, ChainError> {
        self.write(|tx| {
            let block = store::block(tx)?;
            let netuid = store::subnets(tx)?
                .last()
                .map(|s| s.netuid + 1)
                .unwrap_or(1);
            let coldkey = owner_coldkey.to_ss58();
            let row = SubnetRow {
                netuid,
                owner_coldkey: coldkey.clone(),
                owner_hotkey: None,
                hp,
                created_block: block,
                last_epoch_block: block,
                last_mechanism_step_block: 0,
                epoch_index: 0,
            };
            store::insert_subnet(tx, &row)?;
            if let Some(hotkey) = owner_hotkey {
                let hotkey = hotkey.to_ss58();
                let row = store::subnet(tx, netuid)?;
                registration::register(tx, &row, &hotkey, &coldkey, block)?;
                store::set_subnet_owner_hotkey(tx, netuid, &hotkey)?;
            }
            tracing::info!(netuid, owner = %coldkey, "subnet created");
            Ok(NetUid(netuid))
        })
    }

    /// `register` by public keys (the HTTP service verifies signatures before calling).
    pub fn register_keys(
        &self,
        netuid: NetUid,
        hotkey: &PublicKey,
        coldkey: &PublicKey,
    ) -> Result<Uid, ChainError> {
        self.write(|tx| {
            let subnet = store::subnet(tx, netuid.0)?;
            let block = store::block(tx)?;
            registration::register(tx, &subnet, &hotkey.to_ss58(), &coldkey.to_ss58(), block)
                .map(Uid)
        })
    }

    /// `create_subnet` by public keys.
    pub fn create_subnet_keys(
        &self,
        owner_coldkey: &PublicKey,
        owner_hotkey: Option<&PublicKey>,
        hp: Hyperparameters,
    ) -> Result<NetUid, ChainError> {
        self.create_subnet_sync(owner_coldkey, owner_hotkey, hp)
    }

    /// `add_stake` by public key: devnet faucet semantics, the stake is credited directly.
    pub fn add_stake_keys(
        &self,
        coldkey: &PublicKey,
        hotkey: &Hotkey,
        netuid: NetUid,
        amount: u64,
    ) -> Result<(), ChainError> {
        self.write(|tx| {
            store::subnet(tx, netuid.0)?;
            if amount == 0 {
                return Err(ChainError::AmountTooLow);
            }
            let coldkey = coldkey.to_ss58();
            let owner = store::hotkey_owner(tx, &hotkey.0)?.ok_or_else(|| {
                ChainError::HotKeyAccountNotExists {
                    hotkey: hotkey.0.clone(),
                }
            })?;
            if owner != coldkey {
                return Err(ChainError::NonAssociatedColdKey {
                    hotkey: hotkey.0.clone(),
                    coldkey,
                    owner,
                });
            }
            store::add_stake(tx, netuid.0, &hotkey.0, amount)
        })
    }

    /// `serve_axon` by public key.
    pub fn serve_axon_keys(
        &self,
        hotkey: &PublicKey,
        netuid: NetUid,
        axon: &AxonInfo,
    ) -> Result<(), ChainError> {
        check_axon(axon)?;
        self.write(|tx| {
            store::subnet(tx, netuid.0)?;
            let hotkey = hotkey.to_ss58();
            if store::neuron_by_hotkey(tx, netuid.0, &hotkey)?.is_none() {
                return Err(ChainError::HotKeyNotRegisteredInSubNet {
                    netuid: netuid.0,
                    hotkey,
                });
            }
            let block = store::block(tx)?;
            store::put_axon(tx, netuid.0, &hotkey, axon, block)
        })
    }

    /// `set_weights` by public key.
    pub fn set_weights_keys(
        &self,
        hotkey: &PublicKey,
        netuid: NetUid,
        dests: &[u16],
        values: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        self.write(|tx| {
            let subnet = store::subnet(tx, netuid.0)?;
            let block = store::block(tx)?;
            weights::set_weights(
                tx,
                &subnet,
                &hotkey.to_ss58(),
                dests,
                values,
                version_key,
                block,
                Route::Direct,
            )
        })
    }

    /// `commit_weights` by public key.
    pub fn commit_weights_keys(
        &self,
        hotkey: &PublicKey,
        netuid: NetUid,
        hash: &[u8; 32],
    ) -> Result<(), ChainError> {
        self.write(|tx| {
            let subnet = store::subnet(tx, netuid.0)?;
            let block = store::block(tx)?;
            weights::commit_weights(tx, &subnet, &hotkey.to_ss58(), hash, block)
        })
    }

    /// `reveal_weights` by public key.
    pub fn reveal_weights_keys(
        &self,
        hotkey: &PublicKey,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        salt: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        self.write(|tx| {
            let subnet = store::subnet(tx, netuid.0)?;
            let block = store::block(tx)?;
            weights::reveal_weights(tx, &subnet, hotkey, uids, values, salt, version_key, block)
        })
    }

    /// `set_hyperparameter` by public key: only the subnet owner's coldkey may.
    pub fn set_hyperparameter_keys(
        &self,
        owner_coldkey: &PublicKey,
        netuid: NetUid,
        name: &str,
        value: &str,
    ) -> Result<Hyperparameters, ChainError> {
        self.write(|tx| {
            let subnet = store::subnet(tx, netuid.0)?;
            let coldkey = owner_coldkey.to_ss58();
            if subnet.owner_coldkey != coldkey {
                return Err(ChainError::NotSubnetOwner {
                    netuid: netuid.0,
                    coldkey,
                });
            }
            let hp = hyperparams::with_value(&subnet.hp, name, value)?;
            store::set_hyperparameters(tx, netuid.0, &hp)?;
            tracing::info!(netuid = netuid.0, name, value, "hyperparameter set");
            Ok(hp)
        })
    }

    /// Every subnet.
    pub fn subnets_now(&self) -> Result<Vec<SubnetInfo>, ChainError> {
        self.read(|c| {
            store::subnets(c)?
                .into_iter()
                .map(|s| Self::subnet_info(c, s))
                .collect()
        })
    }

    /// The subnet's metagraph as of now.
    pub fn metagraph_now(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        self.read(|c| {
            let subnet = store::subnet(c, netuid.0)?;
            let block = store::block(c)?;
            let rows = store::neurons(c, netuid.0)?;
            let n = rows.len();
            let weights = store::weights(c, netuid.0, n)?;
            let bonds = store::bonds(c, netuid.0, n)?;
            let mut neurons = Vec::with_capacity(n);
            for ((r, w), b) in rows.into_iter().zip(weights).zip(bonds) {
                neurons.push(NeuronInfo {
                    uid: Uid(r.uid),
                    stake: store::stake(c, netuid.0, &r.hotkey)?,
                    axon: store::axon(c, netuid.0, &r.hotkey)?,
                    hotkey: Hotkey(r.hotkey),
                    coldkey: r.coldkey,
                    active: r.active,
                    emission: r.emission,
                    incentive: r.incentive,
                    consensus: r.consensus,
                    validator_trust: r.validator_trust,
                    dividends: r.dividends,
                    last_update: r.last_update,
                    block_at_registration: r.block_at_registration,
                    validator_permit: r.validator_permit,
                    weights: w,
                    bonds: b,
                });
            }
            Ok(Metagraph {
                netuid,
                block,
                hyperparameters: subnet.hp,
                owner_coldkey: subnet.owner_coldkey,
                neurons,
            })
        })
    }

    /// The subnet's epoch history, oldest first.
    pub fn epoch_history_now(&self, netuid: NetUid) -> Result<Vec<EpochReport>, ChainError> {
        self.read(|c| {
            store::subnet(c, netuid.0)?;
            store::epoch_history(c, netuid.0)
        })
    }

    /// Waits until the height reaches `block` (needs block production running); returns the height.
    pub async fn wait_for_height(&self, block: u64) -> u64 {
        let mut rx = self.height.subscribe();
        let reached = rx.wait_for(|&b| b >= block).await.map(|b| *b);
        reached.unwrap_or_else(|_| self.height())
    }
}

/// serve_axon's checks: a parseable IP of the stated type and a non-zero port.
fn check_axon(axon: &AxonInfo) -> Result<(), ChainError> {
    let ip: std::net::IpAddr = axon.ip.parse().map_err(|_| ChainError::BadRequest {
        message: format!("axon ip {:?} is not an IP address", axon.ip),
    })?;
    if (axon.ip_type == 4) != ip.is_ipv4() || !(axon.ip_type == 4 || axon.ip_type == 6) {
        return Err(ChainError::BadRequest {
            message: format!(
                "axon ip_type {} does not match ip {}: use 4 or 6",
                axon.ip_type, axon.ip
            ),
        });
    }
    if axon.port == 0 {
        return Err(ChainError::BadRequest {
            message: "axon port 0 is not a listening port".into(),
        });
    }
    Ok(())
}

#[async_trait::async_trait]
impl Chain for LocalChain {
    async fn block(&self) -> Result<u64, ChainError> {
        self.read(store::block)
    }

    async fn create_subnet(
        &self,
        owner_coldkey: &Keypair,
        owner_hotkey: Option<&Keypair>,
        hyperparameters: Hyperparameters,
    ) -> Result<NetUid, ChainError> {
        let hotkey = owner_hotkey.map(|k| k.public());
        self.create_subnet_sync(&owner_coldkey.public(), hotkey.as_ref(), hyperparameters)
    }

    async fn register(
        &self,
        netuid: NetUid,
        hotkey: &Keypair,
        coldkey: &PublicKey,
    ) -> Result<Uid, ChainError> {
        self.register_keys(netuid, &hotkey.public(), coldkey)
    }

    async fn add_stake(
        &self,
        coldkey: &Keypair,
        hotkey: &Hotkey,
        netuid: NetUid,
        amount_rao: u64,
    ) -> Result<(), ChainError> {
        self.add_stake_keys(&coldkey.public(), hotkey, netuid, amount_rao)
    }

    async fn serve_axon(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        axon: AxonInfo,
    ) -> Result<(), ChainError> {
        self.serve_axon_keys(&hotkey.public(), netuid, &axon)
    }

    async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        dests: &[u16],
        values: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        self.set_weights_keys(&hotkey.public(), netuid, dests, values, version_key)
    }

    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        self.metagraph_now(netuid)
    }

    async fn commit_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        hash: [u8; 32],
    ) -> Result<(), ChainError> {
        self.commit_weights_keys(&hotkey.public(), netuid, &hash)
    }

    async fn reveal_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        salt: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        self.reveal_weights_keys(&hotkey.public(), netuid, uids, values, salt, version_key)
    }

    async fn set_hyperparameter(
        &self,
        owner_coldkey: &Keypair,
        netuid: NetUid,
        name: &str,
        value: &str,
    ) -> Result<Hyperparameters, ChainError> {
        self.set_hyperparameter_keys(&owner_coldkey.public(), netuid, name, value)
    }

    async fn subnets(&self) -> Result<Vec<SubnetInfo>, ChainError> {
        self.subnets_now()
    }

    async fn epoch_history(&self, netuid: NetUid) -> Result<Vec<EpochReport>, ChainError> {
        self.epoch_history_now(netuid)
    }

    async fn wait_for_block(&self, block: u64) -> Result<u64, ChainError> {
        Ok(self.wait_for_height(block).await)
    }
}
