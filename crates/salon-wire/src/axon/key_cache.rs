//! Callers' hotkeys decoded once: SS58 decoding and point decompression cost about a fifth of a
//! signature check, and an axon hears the same few validators over and over.

use salon_keys::{PublicKey, Verifier};
use std::collections::HashMap;
use std::sync::Mutex;

/// A bounded map from SS58 hotkey to its decoded [`Verifier`]; emptied when it fills, so a flood
/// of fresh keys costs memory no larger than `capacity` entries.
pub struct KeyCache {
    map: Mutex<HashMap<String, Verifier>>,
    capacity: usize,
}

impl KeyCache {
    /// An empty cache holding at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The verifier for `hotkey`, decoding it on first sight.
    pub fn get(&self, hotkey: &str) -> Result<Verifier, String> {
        if let Some(v) = self.lock().get(hotkey) {
            return Ok(v.clone());
        }
        let public = PublicKey::from_ss58(hotkey)
            .map_err(|e| format!("Invalid ss58 address {hotkey:?}: {e}"))?;
        let verifier =
            Verifier::new(&public).map_err(|e| format!("Invalid ss58 address {hotkey:?}: {e}"))?;
        let mut map = self.lock();
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(hotkey.to_string(), verifier.clone());
        Ok(verifier)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Verifier>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_keys::Keypair;

    #[test]
    fn cached_key_verifies_its_signatures_and_rejects_others() {
        let cache = KeyCache::new(2);
        let a = Keypair::generate();
        let sig = a.sign(b"hello");
        for _ in 0..2 {
            let v = cache.get(&a.ss58()).unwrap();
            v.verify(b"hello", &sig).unwrap();
            assert!(v.verify(b"hellp", &sig).is_err());
        }
        assert!(cache.get("not-an-address").is_err());
    }

    #[test]
    fn stays_within_capacity() {
        let cache = KeyCache::new(3);
        for _ in 0..10 {
            cache.get(&Keypair::generate().ss58()).unwrap();
            assert!(cache.lock().len() <= 3);
        }
    }
}
