//! Replay protection: `NonceStore` applies the SDK's per-caller nonce rules plus an upper bound on
//! future nonces, and `SeenNonces` is btauth/1's seen-(hotkey, nonce) cache. Both are bounded in
//! memory: old entries are evicted, and a forced eviction raises a floor so that no replay is let in.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

const NS: i64 = 1_000_000_000;

/// Why a nonce was refused. The messages are the SDK's where the SDK has the same rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NonceError {
    /// No nonce in the request.
    #[error("Missing Nonce")]
    Missing,
    /// A caller's first nonce is older than the allowed window.
    #[error("Nonce is too old: acceptable delta is {allowed_secs:.2} seconds but request was {age_secs:.2} seconds old")]
    Stale {
        /// Allowed age in seconds (4 s + timeout).
        allowed_secs: f64,
        /// The request's age in seconds.
        age_secs: f64,
    },
    /// Not newer than the caller's last accepted nonce (a replay or a reordering).
    #[error("Nonce is too old, a newer one was last processed")]
    Replayed,
    /// Further in the future than clocks plausibly differ.
    #[error("Nonce is too far in the future: it is {ahead_secs:.2} seconds ahead of this axon's clock, at most {limit_secs:.2} allowed; check the caller's clock")]
    Future {
        /// How far ahead the nonce is.
        ahead_secs: f64,
        /// The allowed lead.
        limit_secs: f64,
    },
    /// The store was trimmed under load and cannot prove this nonce fresh.
    #[error("Nonce is too old: the nonce store was trimmed under load; sign the request again with a fresh nonce")]
    BelowFloor,
}

/// Limits of a [`NonceStore`].
#[derive(Clone, Debug)]
pub struct NonceRules {
    /// The SDK's fixed slack for a first nonce (4 s), added to the request timeout.
    pub past_slack: Duration,
    /// The largest timeout honoured when widening the window (a caller cannot widen it further).
    pub max_timeout: Duration,
    /// How far ahead of this clock a nonce may be.
    pub future_limit: Duration,
    /// Most callers (hotkey:uuid keys) remembered at once.
    pub capacity: usize,
}

impl Default for NonceRules {
    fn default() -> Self {
        Self {
            past_slack: Duration::from_secs(4),
            max_timeout: Duration::from_secs(600),
            future_limit: Duration::from_secs(5),
            capacity: 100_000,
        }
    }
}

#[derive(Default)]
struct Ledger {
    last: HashMap<String, i64>,
    by_age: BTreeSet<(i64, String)>,
    floor: i64,
}

/// The last accepted nonce of each caller (`"{hotkey}:{uuid}"`), bounded in memory.
pub struct NonceStore {
    rules: NonceRules,
    ledger: Mutex<Ledger>,
}

impl NonceStore {
    /// An empty store with these limits.
    pub fn new(rules: NonceRules) -> Self {
        Self {
            rules,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// The limits in force.
    pub fn rules(&self) -> &NonceRules {
        &self.rules
    }

    /// Number of callers remembered.
    pub fn len(&self) -> usize {
        self.lock().last.len()
    }

    /// Whether no caller is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn window_ns(&self, timeout_secs: f64) -> i64 {
        let t = timeout_secs.clamp(0.0, self.rules.max_timeout.as_secs_f64());
        self.rules.past_slack.as_nanos() as i64 + (t * NS as f64) as i64
    }

    /// Checks `nonce` for caller `key` without recording it (the SDK checks before verifying the
    /// signature; [`NonceStore::check_and_record`] repeats the check atomically afterwards).
    pub fn check(
        &self,
        key: &str,
        nonce: i64,
        timeout_secs: f64,
        now_ns: i64,
    ) -> Result<(), NonceError> {
        let ledger = self.lock();
        self.check_locked(&ledger, key, nonce, timeout_secs, now_ns)
    }

    fn check_locked(
        &self,
        l: &Ledger,
        key: &str,
        nonce: i64,
        timeout_secs: f64,
        now_ns: i64,
    ) -> Result<(), NonceError> {
        let limit = self.rules.future_limit.as_nanos() as i64;
        if nonce > now_ns.saturating_add(limit) {
            return Err(NonceError::Future {
                ahead_secs: (nonce - now_ns) as f64 / NS as f64,
                limit_secs: limit as f64 / NS as f64,
            });
        }
        match l.last.get(key) {
            Some(&last) if nonce <= last => Err(NonceError::Replayed),
            Some(_) => Ok(()),
            None => {
                let window = self.window_ns(timeout_secs);
                if nonce <= now_ns.saturating_sub(window) {
                    return Err(NonceError::Stale {
                        allowed_secs: window as f64 / NS as f64,
                        age_secs: (now_ns.saturating_sub(nonce)) as f64 / NS as f64,
                    });
                }
                if nonce <= l.floor {
                    return Err(NonceError::BelowFloor);
                }
                Ok(())
            }
        }
    }

    /// Checks and, if fresh, records `nonce` as caller `key`'s latest, in one step (two
    /// concurrent requests with one nonce cannot both pass). Evicts what the bounds require.
    pub fn check_and_record(
        &self,
        key: &str,
        nonce: i64,
        timeout_secs: f64,
        now_ns: i64,
    ) -> Result<(), NonceError> {
        let mut l = self.lock();
        self.check_locked(&l, key, nonce, timeout_secs, now_ns)?;
        if let Some(old) = l.last.insert(key.to_string(), nonce) {
            l.by_age.remove(&(old, key.to_string()));
        }
        l.by_age.insert((nonce, key.to_string()));
        if l.last.len() > self.rules.capacity {
            // Entries older than the widest window can never be replayed: drop them first.
            let cutoff = now_ns.saturating_sub(self.window_ns(f64::MAX));
            while let Some((n, _)) = l.by_age.first() {
                if *n >= cutoff && l.last.len() <= self.rules.capacity {
                    break;
                }
                let Some((n, k)) = l.by_age.pop_first() else {
                    break;
                };
                l.last.remove(&k);
                if n >= cutoff {
                    // Forced out while still inside the window: refuse anything not newer.
                    l.floor = l.floor.max(n);
                }
            }
        }
        Ok(())
    }
}

/// btauth/1's cache of seen (hotkey, nonce) pairs within the accepted age, bounded in memory.
pub struct SeenNonces {
    max_age: Duration,
    future_skew: Duration,
    capacity: usize,
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    set: HashSet<(String, i64)>,
    by_age: BTreeSet<(i64, String)>,
    floor: i64,
}

impl SeenNonces {
    /// A cache accepting nonces at most `max_age` old and `future_skew` ahead, remembering at most
    /// `capacity` pairs.
    pub fn new(max_age: Duration, future_skew: Duration, capacity: usize) -> Self {
        Self {
            max_age,
            future_skew,
            capacity,
            inner: Mutex::new(Seen::default()),
        }
    }

    /// Number of pairs remembered.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set
            .len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Accepts and records a fresh, unseen nonce; refuses old, future and repeated ones.
    pub fn check_and_record(
        &self,
        hotkey: &str,
        nonce: i64,
        now_ns: i64,
    ) -> Result<(), NonceError> {
        let max_age = self.max_age.as_nanos() as i64;
        let skew = self.future_skew.as_nanos() as i64;
        if nonce > now_ns.saturating_add(skew) {
            return Err(NonceError::Future {
                ahead_secs: (nonce - now_ns) as f64 / NS as f64,
                limit_secs: skew as f64 / NS as f64,
            });
        }
        let cutoff = now_ns.saturating_sub(max_age);
        if nonce < cutoff {
            return Err(NonceError::Stale {
                allowed_secs: max_age as f64 / NS as f64,
                age_secs: (now_ns - nonce) as f64 / NS as f64,
            });
        }
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if nonce <= s.floor {
            return Err(NonceError::BelowFloor);
        }
        if !s.set.insert((hotkey.to_string(), nonce)) {
            return Err(NonceError::Replayed);
        }
        s.by_age.insert((nonce, hotkey.to_string()));
        while let Some((n, _)) = s.by_age.first() {
            let full = s.set.len() > self.capacity;
            if *n >= cutoff && !full {
                break;
            }
            let Some((n, k)) = s.by_age.pop_first() else {
                break;
            };
            s.set.remove(&(k, n));
            if n >= cutoff {
                s.floor = s.floor.max(n);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000 * NS;

    fn store(capacity: usize) -> NonceStore {
        NonceStore::new(NonceRules {
            capacity,
            ..NonceRules::default()
        })
    }

    #[test]
    fn sdk_rules_first_nonce_window_then_strictly_increasing() {
        let s = store(100);
        // 12 s timeout + 4 s slack: 15 s old is fine, 17 s old is not.
        assert!(s.check_and_record("a:u", NOW - 15 * NS, 12.0, NOW).is_ok());
        let err = store(100)
            .check_and_record("a:u", NOW - 17 * NS, 12.0, NOW)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Nonce is too old: acceptable delta is 16.00 seconds but request was 17.00 seconds old"
        );
        assert_eq!(
            s.check_and_record("a:u", NOW - 15 * NS, 12.0, NOW),
            Err(NonceError::Replayed)
        );
        assert_eq!(
            s.check_and_record("a:u", NOW - 16 * NS, 12.0, NOW),
            Err(NonceError::Replayed)
        );
        assert!(s.check_and_record("a:u", NOW - 14 * NS, 12.0, NOW).is_ok());
        assert_eq!(
            NonceError::Replayed.to_string(),
            "Nonce is too old, a newer one was last processed"
        );
        // Another uuid of the same hotkey is another caller.
        assert!(s.check_and_record("a:v", NOW, 12.0, NOW).is_ok());
    }

    #[test]
    fn future_nonces_are_bounded() {
        let s = store(100);
        assert!(s.check_and_record("a:u", NOW + 4 * NS, 12.0, NOW).is_ok());
        assert!(matches!(
            s.check_and_record("b:u", NOW + 60 * NS, 12.0, NOW),
            Err(NonceError::Future { .. })
        ));
    }

    #[test]
    fn a_huge_timeout_cannot_widen_the_window_past_the_cap() {
        let s = store(100);
        let old = NOW - 3600 * NS;
        assert!(matches!(
            s.check_and_record("a:u", old, 1e9, NOW),
            Err(NonceError::Stale { .. })
        ));
    }

    #[test]
    fn store_stays_bounded_and_never_admits_a_replay_after_eviction() {
        let s = store(50);
        for i in 0..500i64 {
            let nonce = NOW - 10 * NS + i;
            s.check_and_record(&format!("k{i}:u"), nonce, 12.0, NOW)
                .unwrap();
            assert!(s.len() <= 50, "len {} after {i}", s.len());
        }
        // k0 was evicted; replaying its nonce must still fail (floor), as must any evicted one.
        let err = s
            .check_and_record("k0:u", NOW - 10 * NS, 12.0, NOW)
            .unwrap_err();
        assert_eq!(err, NonceError::BelowFloor);
        // A fresh caller with a fresh nonce is still served.
        assert!(s.check_and_record("new:u", NOW, 12.0, NOW).is_ok());
    }

    #[test]
    fn expired_entries_are_evicted_without_raising_the_floor() {
        let s = store(2);
        s.check_and_record("a:u", NOW - 10 * NS, 12.0, NOW).unwrap();
        let later = NOW + 3600 * NS;
        s.check_and_record("b:u", later, 12.0, later).unwrap();
        s.check_and_record("c:u", later - NS, 12.0, later).unwrap();
        assert_eq!(s.len(), 2);
        // "a" left by age, so an old-but-in-window first nonce of a new caller is still fine.
        assert!(s
            .check_and_record("d:u", later - 2 * NS, 12.0, later)
            .is_ok());
    }

    #[test]
    fn seen_cache_rejects_repeats_old_and_future_and_stays_bounded() {
        let s = SeenNonces::new(Duration::from_secs(10), Duration::from_secs(2), 10);
        assert!(s.check_and_record("h", NOW, NOW).is_ok());
        assert_eq!(s.check_and_record("h", NOW, NOW), Err(NonceError::Replayed));
        assert!(s.check_and_record("g", NOW, NOW).is_ok());
        assert!(matches!(
            s.check_and_record("h", NOW - 11 * NS, NOW),
            Err(NonceError::Stale { .. })
        ));
        assert!(matches!(
            s.check_and_record("h", NOW + 3 * NS, NOW),
            Err(NonceError::Future { .. })
        ));
        for i in 0..100 {
            s.check_and_record(&format!("x{i}"), NOW - 5 * NS + i, NOW)
                .unwrap();
            assert!(s.len() <= 10);
        }
        assert_eq!(
            s.check_and_record("x0", NOW - 5 * NS, NOW),
            Err(NonceError::BelowFloor)
        );
    }
}
