//! The LocalChain's SQLite schema and row access. Every function takes a connection (or a
//! transaction, which derefs to one); callers group them into one transaction per extrinsic/block.

use crate::error::ChainError;
use crate::types::AxonInfo;
use rusqlite::{params, Connection, OptionalExtension};
use salon_yuma::Hyperparameters;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS chain (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    block INTEGER NOT NULL,
    emission_per_block INTEGER NOT NULL
);
INSERT OR IGNORE INTO chain (id, block, emission_per_block) VALUES (0, 0, 1000000000);
CREATE TABLE IF NOT EXISTS subnets (
    netuid INTEGER PRIMARY KEY,
    owner_coldkey TEXT NOT NULL,
    owner_hotkey TEXT,
    hyperparameters TEXT NOT NULL,
    created_block INTEGER NOT NULL,
    last_epoch_block INTEGER NOT NULL,
    last_mechanism_step_block INTEGER NOT NULL DEFAULT 0,
    epoch_index INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS hotkey_owners (
    hotkey TEXT PRIMARY KEY,
    coldkey TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS neurons (
    netuid INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    coldkey TEXT NOT NULL,
    block_at_registration INTEGER NOT NULL,
    last_update INTEGER NOT NULL,
    validator_permit INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    emission INTEGER NOT NULL DEFAULT 0,
    incentive INTEGER NOT NULL DEFAULT 0,
    consensus INTEGER NOT NULL DEFAULT 0,
    dividends INTEGER NOT NULL DEFAULT 0,
    validator_trust INTEGER NOT NULL DEFAULT 0,
    stake_weight INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (netuid, uid),
    UNIQUE (netuid, hotkey)
);
CREATE TABLE IF NOT EXISTS stakes (
    netuid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    stake INTEGER NOT NULL,
    PRIMARY KEY (netuid, hotkey)
);
CREATE TABLE IF NOT EXISTS weights (
    netuid INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    dest INTEGER NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (netuid, uid, pos)
);
CREATE TABLE IF NOT EXISTS bonds (
    netuid INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    dest INTEGER NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (netuid, uid, pos)
);
CREATE TABLE IF NOT EXISTS axons (
    netuid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    ip TEXT NOT NULL,
    port INTEGER NOT NULL,
    ip_type INTEGER NOT NULL,
    protocol INTEGER NOT NULL,
    version INTEGER NOT NULL,
    block INTEGER NOT NULL,
    PRIMARY KEY (netuid, hotkey)
);
CREATE TABLE IF NOT EXISTS commits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    netuid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    hash BLOB NOT NULL,
    commit_block INTEGER NOT NULL,
    commit_epoch INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS commits_by_hotkey ON commits (netuid, hotkey);
CREATE TABLE IF NOT EXISTS epochs (
    netuid INTEGER NOT NULL,
    block INTEGER NOT NULL,
    rao_emission INTEGER NOT NULL,
    PRIMARY KEY (netuid, block)
);
CREATE TABLE IF NOT EXISTS epoch_neurons (
    netuid INTEGER NOT NULL,
    block INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    stake INTEGER NOT NULL,
    incentive INTEGER NOT NULL,
    dividends INTEGER NOT NULL,
    consensus INTEGER NOT NULL,
    validator_trust INTEGER NOT NULL,
    emission INTEGER NOT NULL,
    validator_permit INTEGER NOT NULL,
    active INTEGER NOT NULL,
    PRIMARY KEY (netuid, block, uid)
);
CREATE TABLE IF NOT EXISTS nonces (
    signer TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    PRIMARY KEY (signer, nonce)
);
";

/// Opens (creating if needed) the database at `path` in WAL mode with the schema in place.
pub fn open(path: &std::path::Path) -> Result<Connection, ChainError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL + NORMAL: a committed transaction survives the process being killed (SIGKILL); only an
    // OS crash or power loss can drop the last few.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// A subnet's stored row.
#[derive(Clone, Debug)]
pub struct SubnetRow {
    pub netuid: u16,
    pub owner_coldkey: String,
    pub owner_hotkey: Option<String>,
    pub hp: Hyperparameters,
    pub created_block: u64,
    pub last_epoch_block: u64,
    pub last_mechanism_step_block: u64,
    pub epoch_index: u64,
}

/// A neuron's stored row (stake lives in `stakes`, weights and bonds in their tables).
#[derive(Clone, Debug, Default)]
pub struct NeuronRow {
    pub uid: u16,
    pub hotkey: String,
    pub coldkey: String,
    pub block_at_registration: u64,
    pub last_update: u64,
    pub validator_permit: bool,
    pub active: bool,
    pub emission: u64,
    pub incentive: u16,
    pub consensus: u16,
    pub dividends: u16,
    pub validator_trust: u16,
}

/// A pending weight commit.
#[derive(Clone, Debug)]
pub struct CommitRow {
    pub id: i64,
    pub hash: Vec<u8>,
    pub commit_block: u64,
    pub commit_epoch: u64,
}

pub fn block(c: &Connection) -> Result<u64, ChainError> {
    Ok(
        c.query_row("SELECT block FROM chain WHERE id = 0", [], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

pub fn set_block(c: &Connection, block: u64) -> Result<(), ChainError> {
    c.execute(
        "UPDATE chain SET block = ?1 WHERE id = 0",
        params![block as i64],
    )?;
    Ok(())
}

pub fn emission_per_block(c: &Connection) -> Result<u64, ChainError> {
    Ok(c.query_row(
        "SELECT emission_per_block FROM chain WHERE id = 0",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

pub fn set_emission_per_block(c: &Connection, rao: u64) -> Result<(), ChainError> {
    c.execute(
        "UPDATE chain SET emission_per_block = ?1 WHERE id = 0",
        params![rao as i64],
    )?;
    Ok(())
}

fn hp_from_json(s: &str) -> Result<Hyperparameters, ChainError> {
    serde_json::from_str(s).map_err(|e| ChainError::Storage {
        message: format!("stored hyperparameters: {e}"),
    })
}

fn hp_to_json(hp: &Hyperparameters) -> String {
    serde_json::to_string(hp).expect("hyperparameters are plain numbers and booleans")
}

const SUBNET_COLS: &str =
    "netuid, owner_coldkey, owner_hotkey, hyperparameters, created_block, last_epoch_block, \
                           last_mechanism_step_block, epoch_index";

fn subnet_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(SubnetRow, String)> {
    Ok((
        SubnetRow {
            netuid: r.get(0)?,
            owner_coldkey: r.get(1)?,
            owner_hotkey: r.get(2)?,
            hp: Hyperparameters::default(),
            created_block: r.get::<_, i64>(4)? as u64,
            last_epoch_block: r.get::<_, i64>(5)? as u64,
            last_mechanism_step_block: r.get::<_, i64>(6)? as u64,
            epoch_index: r.get::<_, i64>(7)? as u64,
        },
        r.get(3)?,
    ))
}

/// The subnet, or `SubNetworkDoesNotExist`.
pub fn subnet(c: &Connection, netuid: u16) -> Result<SubnetRow, ChainError> {
    let row = c
        .query_row(
            &format!("SELECT {SUBNET_COLS} FROM subnets WHERE netuid = ?1"),
            params![netuid],
            subnet_from_row,
        )
        .optional()?;
    let (mut s, hp) = row.ok_or(ChainError::SubNetworkDoesNotExist { netuid })?;
    s.hp = hp_from_json(&hp)?;
    Ok(s)
}

/// Every subnet, by netuid.
pub fn subnets(c: &Connection) -> Result<Vec<SubnetRow>, ChainError> {
    let mut stmt = c.prepare(&format!(
        "SELECT {SUBNET_COLS} FROM subnets ORDER BY netuid"
    ))?;
    let rows = stmt
        .query_map([], subnet_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(mut s, hp)| {
            s.hp = hp_from_json(&hp)?;
            Ok(s)
        })
        .collect()
}

pub fn insert_subnet(c: &Connection, s: &SubnetRow) -> Result<(), ChainError> {
    c.execute(
        &format!("INSERT INTO subnets ({SUBNET_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            s.netuid,
            s.owner_coldkey,
            s.owner_hotkey,
            hp_to_json(&s.hp),
            s.created_block as i64,
            s.last_epoch_block as i64,
            s.last_mechanism_step_block as i64,
            s.epoch_index as i64
        ],
    )?;
    Ok(())
}

pub fn set_hyperparameters(
    c: &Connection,
    netuid: u16,
    hp: &Hyperparameters,
) -> Result<(), ChainError> {
    c.execute(
        "UPDATE subnets SET hyperparameters = ?2 WHERE netuid = ?1",
        params![netuid, hp_to_json(hp)],
    )?;
    Ok(())
}

pub fn set_subnet_owner_hotkey(
    c: &Connection,
    netuid: u16,
    hotkey: &str,
) -> Result<(), ChainError> {
    c.execute(
        "UPDATE subnets SET owner_hotkey = ?2 WHERE netuid = ?1",
        params![netuid, hotkey],
    )?;
    Ok(())
}

pub fn mark_epoch(c: &Connection, netuid: u16, block: u64) -> Result<(), ChainError> {
    c.execute(
        "UPDATE subnets SET last_epoch_block = ?2, last_mechanism_step_block = ?2, epoch_index = epoch_index + 1 \
         WHERE netuid = ?1",
        params![netuid, block as i64],
    )?;
    Ok(())
}

pub fn hotkey_owner(c: &Connection, hotkey: &str) -> Result<Option<String>, ChainError> {
    Ok(c.query_row(
        "SELECT coldkey FROM hotkey_owners WHERE hotkey = ?1",
        params![hotkey],
        |r| r.get(0),
    )
    .optional()?)
}

pub fn set_hotkey_owner(c: &Connection, hotkey: &str, coldkey: &str) -> Result<(), ChainError> {
    c.execute(
        "INSERT OR IGNORE INTO hotkey_owners (hotkey, coldkey) VALUES (?1, ?2)",
        params![hotkey, coldkey],
    )?;
    Ok(())
}

const NEURON_COLS: &str =
    "uid, hotkey, coldkey, block_at_registration, last_update, validator_permit, active, \
                           emission, incentive, consensus, dividends, validator_trust";

fn neuron_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NeuronRow> {
    Ok(NeuronRow {
        uid: r.get(0)?,
        hotkey: r.get(1)?,
        coldkey: r.get(2)?,
        block_at_registration: r.get::<_, i64>(3)? as u64,
        last_update: r.get::<_, i64>(4)? as u64,
        validator_permit: r.get(5)?,
        active: r.get(6)?,
        emission: r.get::<_, i64>(7)? as u64,
        incentive: r.get(8)?,
        consensus: r.get(9)?,
        dividends: r.get(10)?,
        validator_trust: r.get(11)?,
    })
}

/// The subnet's neurons by uid.
pub fn neurons(c: &Connection, netuid: u16) -> Result<Vec<NeuronRow>, ChainError> {
    let mut stmt = c.prepare(&format!(
        "SELECT {NEURON_COLS} FROM neurons WHERE netuid = ?1 ORDER BY uid"
    ))?;
    let rows = stmt
        .query_map(params![netuid], neuron_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The neuron with this hotkey on the subnet, if registered.
pub fn neuron_by_hotkey(
    c: &Connection,
    netuid: u16,
    hotkey: &str,
) -> Result<Option<NeuronRow>, ChainError> {
    Ok(c.query_row(
        &format!("SELECT {NEURON_COLS} FROM neurons WHERE netuid = ?1 AND hotkey = ?2"),
        params![netuid, hotkey],
        neuron_from_row,
    )
    .optional()?)
}

pub fn neuron_count(c: &Connection, netuid: u16) -> Result<u16, ChainError> {
    Ok(c.query_row(
        "SELECT COUNT(*) FROM neurons WHERE netuid = ?1",
        params![netuid],
        |r| r.get::<_, i64>(0),
    )? as u16)
}

/// Writes a fresh neuron into `uid` (insert or replace), with zeroed epoch outputs.
pub fn put_new_neuron(
    c: &Connection,
    netuid: u16,
    uid: u16,
    hotkey: &str,
    coldkey: &str,
    block: u64,
) -> Result<(), ChainError> {
    c.execute(
        "INSERT OR REPLACE INTO neurons (netuid, uid, hotkey, coldkey, block_at_registration, last_update, \
         validator_permit, active, emission, incentive, consensus, dividends, validator_trust, stake_weight) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0, 1, 0, 0, 0, 0, 0, 0)",
        params![netuid, uid, hotkey, coldkey, block as i64],
    )?;
    Ok(())
}

pub fn set_last_update(
    c: &Connection,
    netuid: u16,
    uid: u16,
    block: u64,
) -> Result<(), ChainError> {
    c.execute(
        "UPDATE neurons SET last_update = ?3 WHERE netuid = ?1 AND uid = ?2",
        params![netuid, uid, block as i64],
    )?;
    Ok(())
}

/// Epoch outputs for one uid.
pub struct NeuronOutputs {
    pub active: bool,
    pub validator_permit: bool,
    pub emission: u64,
    pub incentive: u16,
    pub consensus: u16,
    pub dividends: u16,
    pub validator_trust: u16,
    pub stake_weight: u16,
}

pub fn set_outputs(
    c: &Connection,
    netuid: u16,
    uid: u16,
    o: &NeuronOutputs,
) -> Result<(), ChainError> {
    c.execute(
        "UPDATE neurons SET active = ?3, validator_permit = ?4, emission = ?5, incentive = ?6, consensus = ?7, \
         dividends = ?8, validator_trust = ?9, stake_weight = ?10 WHERE netuid = ?1 AND uid = ?2",
        params![
            netuid,
            uid,
            o.active,
            o.validator_permit,
            o.emission as i64,
            o.incentive,
            o.consensus,
            o.dividends,
            o.validator_trust,
            o.stake_weight
        ],
    )?;
    Ok(())
}

pub fn stake(c: &Connection, netuid: u16, hotkey: &str) -> Result<u64, ChainError> {
    Ok(c.query_row(
        "SELECT stake FROM stakes WHERE netuid = ?1 AND hotkey = ?2",
        params![netuid, hotkey],
        |r| r.get::<_, i64>(0),
    )
    .optional()?
    .unwrap_or(0) as u64)
}

pub fn add_stake(c: &Connection, netuid: u16, hotkey: &str, amount: u64) -> Result<(), ChainError> {
    let now = stake(c, netuid, hotkey)?;
    let new = now.saturating_add(amount).min(i64::MAX as u64);
    c.execute(
        "INSERT OR REPLACE INTO stakes (netuid, hotkey, stake) VALUES (?1, ?2, ?3)",
        params![netuid, hotkey, new as i64],
    )?;
    Ok(())
}

fn rows_of(
    c: &Connection,
    table: &str,
    netuid: u16,
    n: usize,
) -> Result<Vec<Vec<(u16, u16)>>, ChainError> {
    let mut out = vec![Vec::new(); n];
    let mut stmt = c.prepare(&format!(
        "SELECT uid, dest, value FROM {table} WHERE netuid = ?1 ORDER BY uid, pos"
    ))?;
    let mut rows = stmt.query(params![netuid])?;
    while let Some(r) = rows.next()? {
        let uid: u16 = r.get(0)?;
        if let Some(row) = out.get_mut(uid as usize) {
            row.push((r.get(1)?, r.get(2)?));
        }
    }
    Ok(out)
}

/// Stored weight rows, indexed by uid (length `n`).
pub fn weights(c: &Connection, netuid: u16, n: usize) -> Result<Vec<Vec<(u16, u16)>>, ChainError> {
    rows_of(c, "weights", netuid, n)
}

/// Stored bond rows, indexed by uid (length `n`).
pub fn bonds(c: &Connection, netuid: u16, n: usize) -> Result<Vec<Vec<(u16, u16)>>, ChainError> {
    rows_of(c, "bonds", netuid, n)
}

fn put_row(
    c: &Connection,
    table: &str,
    netuid: u16,
    uid: u16,
    row: &[(u16, u16)],
) -> Result<(), ChainError> {
    c.execute(
        &format!("DELETE FROM {table} WHERE netuid = ?1 AND uid = ?2"),
        params![netuid, uid],
    )?;
    let mut stmt = c.prepare_cached(&format!(
        "INSERT INTO {table} (netuid, uid, pos, dest, value) VALUES (?1, ?2, ?3, ?4, ?5)"
    ))?;
    for (pos, (dest, value)) in row.iter().enumerate() {
        stmt.execute(params![netuid, uid, pos as i64, dest, value])?;
    }
    Ok(())
}

pub fn put_weights(
    c: &Connection,
    netuid: u16,
    uid: u16,
    row: &[(u16, u16)],
) -> Result<(), ChainError> {
    put_row(c, "weights", netuid, uid, row)
}

pub fn put_bonds(
    c: &Connection,
    netuid: u16,
    uid: u16,
    row: &[(u16, u16)],
) -> Result<(), ChainError> {
    put_row(c, "bonds", netuid, uid, row)
}

/// Deregistration: deletes the victim's own rows and zeroes every other row's weight to it.
pub fn clear_uid_rows(c: &Connection, netuid: u16, uid: u16) -> Result<(), ChainError> {
    c.execute(
        "DELETE FROM weights WHERE netuid = ?1 AND uid = ?2",
        params![netuid, uid],
    )?;
    c.execute(
        "DELETE FROM bonds WHERE netuid = ?1 AND uid = ?2",
        params![netuid, uid],
    )?;
    c.execute(
        "UPDATE weights SET value = 0 WHERE netuid = ?1 AND dest = ?2",
        params![netuid, uid],
    )?;
    Ok(())
}

pub fn put_axon(
    c: &Connection,
    netuid: u16,
    hotkey: &str,
    a: &AxonInfo,
    block: u64,
) -> Result<(), ChainError> {
    c.execute(
        "INSERT OR REPLACE INTO axons (netuid, hotkey, ip, port, ip_type, protocol, version, block) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![netuid, hotkey, a.ip, a.port, a.ip_type, a.protocol, a.version as i64, block as i64],
    )?;
    Ok(())
}

pub fn axon(c: &Connection, netuid: u16, hotkey: &str) -> Result<Option<AxonInfo>, ChainError> {
    Ok(c.query_row(
        "SELECT ip, port, ip_type, protocol, version FROM axons WHERE netuid = ?1 AND hotkey = ?2",
        params![netuid, hotkey],
        |r| {
            Ok(AxonInfo {
                ip: r.get(0)?,
                port: r.get(1)?,
                ip_type: r.get(2)?,
                protocol: r.get(3)?,
                version: r.get::<_, i64>(4)? as u64,
            })
        },
    )
    .optional()?)
}

/// Removes what a deregistered hotkey left on the subnet: its axon and its pending commits.
pub fn forget_hotkey(c: &Connection, netuid: u16, hotkey: &str) -> Result<(), ChainError> {
    c.execute(
        "DELETE FROM axons WHERE netuid = ?1 AND hotkey = ?2",
        params![netuid, hotkey],
    )?;
    c.execute(
        "DELETE FROM commits WHERE netuid = ?1 AND hotkey = ?2",
        params![netuid, hotkey],
    )?;
    Ok(())
}

/// The hotkey's pending commits, oldest first.
pub fn commits(c: &Connection, netuid: u16, hotkey: &str) -> Result<Vec<CommitRow>, ChainError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, hash, commit_block, commit_epoch FROM commits WHERE netuid = ?1 AND hotkey = ?2 ORDER BY id",
    )?;
    let rows = stmt
        .query_map(params![netuid, hotkey], |r| {
            Ok(CommitRow {
                id: r.get(0)?,
                hash: r.get(1)?,
                commit_block: r.get::<_, i64>(2)? as u64,
                commit_epoch: r.get::<_, i64>(3)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn insert_commit(
    c: &Connection,
    netuid: u16,
    hotkey: &str,
    hash: &[u8; 32],
    block: u64,
    epoch: u64,
) -> Result<(), ChainError> {
    c.execute(
        "INSERT INTO commits (netuid, hotkey, hash, commit_block, commit_epoch) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![netuid, hotkey, &hash[..], block as i64, epoch as i64],
    )?;
    Ok(())
}

pub fn delete_commit(c: &Connection, id: i64) -> Result<(), ChainError> {
    c.execute("DELETE FROM commits WHERE id = ?1", params![id])?;
    Ok(())
}

/// Records that an epoch ran, with the rao it distributed.
pub fn insert_epoch(
    c: &Connection,
    netuid: u16,
    block: u64,
    rao_emission: u64,
) -> Result<(), ChainError> {
    c.execute(
        "INSERT OR REPLACE INTO epochs (netuid, block, rao_emission) VALUES (?1, ?2, ?3)",
        params![
            netuid,
            block as i64,
            rao_emission.min(i64::MAX as u64) as i64
        ],
    )?;
    Ok(())
}

/// One uid's line of the epoch history.
pub fn insert_epoch_neuron(
    c: &Connection,
    netuid: u16,
    block: u64,
    n: &crate::types::EpochNeuron,
) -> Result<(), ChainError> {
    let mut stmt = c.prepare_cached(
        "INSERT OR REPLACE INTO epoch_neurons (netuid, block, uid, hotkey, stake, incentive, dividends, consensus, \
         validator_trust, emission, validator_permit, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    stmt.execute(params![
        netuid,
        block as i64,
        n.uid,
        n.hotkey,
        n.stake as i64,
        n.incentive,
        n.dividends,
        n.consensus,
        n.validator_trust,
        n.emission.min(i64::MAX as u64) as i64,
        n.validator_permit,
        n.active
    ])?;
    Ok(())
}

/// The subnet's epoch history, oldest first.
pub fn epoch_history(
    c: &Connection,
    netuid: u16,
) -> Result<Vec<crate::types::EpochReport>, ChainError> {
    use crate::types::{EpochNeuron, EpochReport};
    let mut reports: Vec<EpochReport> = Vec::new();
    let mut stmt =
        c.prepare("SELECT block, rao_emission FROM epochs WHERE netuid = ?1 ORDER BY block")?;
    let heads = stmt
        .query_map(params![netuid], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut nstmt = c.prepare(
        "SELECT uid, hotkey, stake, incentive, dividends, consensus, validator_trust, emission, validator_permit, \
         active FROM epoch_neurons WHERE netuid = ?1 AND block = ?2 ORDER BY uid",
    )?;
    for (block, rao_emission) in heads {
        let neurons = nstmt
            .query_map(params![netuid, block as i64], |r| {
                Ok(EpochNeuron {
                    uid: r.get(0)?,
                    hotkey: r.get(1)?,
                    stake: r.get::<_, i64>(2)? as u64,
                    incentive: r.get(3)?,
                    dividends: r.get(4)?,
                    consensus: r.get(5)?,
                    validator_trust: r.get(6)?,
                    emission: r.get::<_, i64>(7)? as u64,
                    validator_permit: r.get(8)?,
                    active: r.get(9)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        reports.push(EpochReport {
            netuid: salon_core::NetUid(netuid),
            block,
            rao_emission,
            neurons,
        });
    }
    Ok(reports)
}

/// Records a signed request's nonce; false if it was seen before (a replay).
pub fn use_nonce(c: &Connection, signer: &str, nonce: u64) -> Result<bool, ChainError> {
    let n = c.execute(
        "INSERT OR IGNORE INTO nonces (signer, nonce) VALUES (?1, ?2)",
        params![signer, nonce.min(i64::MAX as u64) as i64],
    )?;
    Ok(n == 1)
}

/// Forgets nonces older than `before` (they fall outside the accepted window anyway).
pub fn prune_nonces(c: &Connection, before: u64) -> Result<(), ChainError> {
    c.execute(
        "DELETE FROM nonces WHERE nonce < ?1",
        params![before.min(i64::MAX as u64) as i64],
    )?;
    Ok(())
}
