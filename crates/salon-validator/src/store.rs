//! The validator's persistent state in SQLite (WAL): aggregated scores per (hotkey, task),
//! sticky penalties, recent fingerprints for copy detection, detection histories, the results
//! log and a few counters. Keyed by hotkey, so a uid that changes hands starts from zero.

use rusqlite::{params, Connection, OptionalExtension};
use salon_core::Task;
use salon_eval::aggregate::Aggregate;
use salon_eval::Fingerprint;
use std::path::Path;

/// Why the state store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("validator state database error: {0} (is the state file writable and not corrupted?)")]
    Sql(#[from] rusqlite::Error),
    /// A stored value did not decode.
    #[error("validator state holds an unreadable value: {0}")]
    Decode(#[from] serde_json::Error),
}

/// One scored (or failed) query, for reports.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ResultRow {
    /// Validator step.
    pub step: u64,
    /// Chain block when scored.
    pub block: u64,
    /// Miner uid.
    pub uid: u16,
    /// Miner hotkey.
    pub hotkey: String,
    /// Task.
    pub task: Task,
    /// Reward in [0, 1].
    pub reward: f64,
    /// Transport status code.
    pub status: u16,
    /// Response time in ms.
    pub elapsed_ms: u64,
    /// Note (why zero, etc.).
    pub note: Option<String>,
}

/// The validator's SQLite state.
pub struct Store {
    conn: Connection,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS scores (hotkey TEXT NOT NULL, task TEXT NOT NULL, aggregate TEXT NOT NULL,
  PRIMARY KEY (hotkey, task));
CREATE TABLE IF NOT EXISTS penalties (hotkey TEXT PRIMARY KEY, reason TEXT NOT NULL, until_step INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fingerprints (id INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT NOT NULL,
  hotkey TEXT NOT NULL, request_key TEXT NOT NULL, fingerprint TEXT NOT NULL, step INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS fingerprints_task ON fingerprints (task, id);
CREATE TABLE IF NOT EXISTS detections (id INTEGER PRIMARY KEY AUTOINCREMENT, hotkey TEXT NOT NULL,
  label INTEGER NOT NULL, predicted INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS detections_hotkey ON detections (hotkey, id);
CREATE TABLE IF NOT EXISTS results (step INTEGER NOT NULL, block INTEGER NOT NULL, uid INTEGER NOT NULL,
  hotkey TEXT NOT NULL, task TEXT NOT NULL, reward REAL NOT NULL, status INTEGER NOT NULL,
  elapsed_ms INTEGER NOT NULL, note TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
";

/// Fingerprints kept per task for copy detection.
const FINGERPRINTS_PER_TASK: i64 = 512;
/// Detection outcomes kept per miner.
const DETECTIONS_PER_MINER: i64 = 100;

impl Store {
    /// Opens (or creates) the state database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
    }

    /// An in-memory store (tests).
    pub fn in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
    }

    /// A counter or marker from the meta table.
    pub fn meta(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(|v| v as u64))
    }

    /// Sets a meta value.
    pub fn set_meta(&self, key: &str, value: u64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value as i64],
        )?;
        Ok(())
    }

    /// The aggregate of (hotkey, task), if any.
    pub fn aggregate(&self, hotkey: &str, task: Task) -> Result<Option<Aggregate>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT aggregate FROM scores WHERE hotkey = ?1 AND task = ?2",
                params![hotkey, task.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match text {
            Some(t) => Some(serde_json::from_str(&t)?),
            None => None,
        })
    }

    /// Stores the aggregate of (hotkey, task).
    pub fn put_aggregate(
        &self,
        hotkey: &str,
        task: Task,
        agg: &Aggregate,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO scores (hotkey, task, aggregate) VALUES (?1, ?2, ?3)
             ON CONFLICT(hotkey, task) DO UPDATE SET aggregate = excluded.aggregate",
            params![hotkey, task.as_str(), serde_json::to_string(agg)?],
        )?;
        Ok(())
    }

    /// Forgets every score of hotkeys not in `keep` (deregistered miners).
    pub fn retain_hotkeys(&self, keep: &[String]) -> Result<(), StoreError> {
        let existing: Vec<String> = {
            let mut st = self.conn.prepare("SELECT DISTINCT hotkey FROM scores")?;
            let rows = st.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for hk in existing.iter().filter(|h| !keep.contains(h)) {
            self.conn
                .execute("DELETE FROM scores WHERE hotkey = ?1", [hk])?;
        }
        Ok(())
    }

    /// Marks `hotkey` as penalised until `until_step` (a later, longer penalty wins).
    pub fn penalize(&self, hotkey: &str, reason: &str, until_step: u64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO penalties (hotkey, reason, until_step) VALUES (?1, ?2, ?3)
             ON CONFLICT(hotkey) DO UPDATE SET reason = excluded.reason,
               until_step = max(until_step, excluded.until_step)",
            params![hotkey, reason, until_step as i64],
        )?;
        Ok(())
    }

    /// The reason `hotkey` is penalised at `step`, if it is.
    pub fn penalty(&self, hotkey: &str, step: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT reason FROM penalties WHERE hotkey = ?1 AND until_step > ?2",
                params![hotkey, step as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Recent fingerprints of `task` with their hotkey and request key.
    pub fn fingerprints(
        &self,
        task: Task,
    ) -> Result<Vec<(String, String, Fingerprint)>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT hotkey, request_key, fingerprint FROM fingerprints WHERE task = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![task.as_str(), FINGERPRINTS_PER_TASK], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (hk, key, fp) = row?;
            out.push((hk, key, serde_json::from_str(&fp)?));
        }
        Ok(out)
    }

    /// Remembers a response fingerprint; old ones beyond the per-task bound are dropped.
    pub fn add_fingerprint(
        &self,
        task: Task,
        hotkey: &str,
        request_key: &str,
        fp: &Fingerprint,
        step: u64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO fingerprints (task, hotkey, request_key, fingerprint, step) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![task.as_str(), hotkey, request_key, serde_json::to_string(fp)?, step as i64],
        )?;
        self.conn.execute(
            "DELETE FROM fingerprints WHERE task = ?1 AND id NOT IN
               (SELECT id FROM fingerprints WHERE task = ?1 ORDER BY id DESC LIMIT ?2)",
            params![task.as_str(), FINGERPRINTS_PER_TASK],
        )?;
        Ok(())
    }

    /// Records a detection outcome and returns the miner's recent (label, predicted) history,
    /// newest first.
    pub fn add_detection(
        &self,
        hotkey: &str,
        label: bool,
        predicted: bool,
    ) -> Result<Vec<(bool, bool)>, StoreError> {
        self.conn.execute(
            "INSERT INTO detections (hotkey, label, predicted) VALUES (?1, ?2, ?3)",
            params![hotkey, label, predicted],
        )?;
        self.conn.execute(
            "DELETE FROM detections WHERE hotkey = ?1 AND id NOT IN
               (SELECT id FROM detections WHERE hotkey = ?1 ORDER BY id DESC LIMIT ?2)",
            params![hotkey, DETECTIONS_PER_MINER],
        )?;
        let mut st = self.conn.prepare(
            "SELECT label, predicted FROM detections WHERE hotkey = ?1 ORDER BY id DESC",
        )?;
        let rows = st.query_map([hotkey], |r| {
            Ok((r.get::<_, bool>(0)?, r.get::<_, bool>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Appends a result row.
    pub fn add_result(&self, row: &ResultRow) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO results (step, block, uid, hotkey, task, reward, status, elapsed_ms, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                row.step as i64,
                row.block as i64,
                row.uid,
                row.hotkey,
                row.task.as_str(),
                row.reward,
                row.status,
                row.elapsed_ms as i64,
                row.note
            ],
        )?;
        Ok(())
    }

    /// Mean reward and count per hotkey over results from `since_step` on.
    pub fn mean_rewards(&self, since_step: u64) -> Result<Vec<(String, f64, u64)>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT hotkey, avg(reward), count(*) FROM results WHERE step >= ?1 GROUP BY hotkey",
        )?;
        let rows = st.query_map([since_step as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, i64>(2)? as u64,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_core::profile::Aggregation;

    #[test]
    fn state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite");
        let kind = Aggregation::Ema { alpha: 0.5 };
        {
            let s = Store::open(&path).unwrap();
            let mut a = Aggregate::new(kind);
            a.observe(kind, 1.0, 0);
            s.put_aggregate("hk", Task::TextToMusic, &a).unwrap();
            s.penalize("cheat", "replayed", 10).unwrap();
            s.set_meta("step", 7).unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.aggregate("hk", Task::TextToMusic)
                .unwrap()
                .unwrap()
                .value(kind),
            1.0
        );
        assert_eq!(s.penalty("cheat", 9).unwrap().as_deref(), Some("replayed"));
        assert_eq!(s.penalty("cheat", 10).unwrap(), None);
        assert_eq!(s.meta("step").unwrap(), Some(7));
    }

    #[test]
    fn fingerprints_and_detections_are_bounded() {
        let s = Store::in_memory().unwrap();
        let fp = Fingerprint::from_bools([true, false]);
        for i in 0..(FINGERPRINTS_PER_TASK + 10) {
            s.add_fingerprint(Task::TextToImage, "hk", &i.to_string(), &fp, 0)
                .unwrap();
        }
        assert_eq!(
            s.fingerprints(Task::TextToImage).unwrap().len() as i64,
            FINGERPRINTS_PER_TASK
        );
        let mut hist = Vec::new();
        for i in 0..150 {
            hist = s.add_detection("hk", i % 2 == 0, true).unwrap();
        }
        assert_eq!(hist.len() as i64, DETECTIONS_PER_MINER);
        assert_eq!(hist[0], (false, true), "newest first");
    }
}
