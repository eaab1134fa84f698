//! Reference-set statistics cached on disk, keyed by embedding model and by a hash of the set's
//! file names and contents, so a validator computes them once and not for every response.

use super::FadError;
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A folder of cached reference statistics (one JSON file per model and set).
#[derive(Clone, Debug)]
pub struct StatsCache {
    dir: PathBuf,
}

/// A value from the cache, and whether it was there already.
#[derive(Clone, Debug)]
pub struct Cached<T> {
    /// The statistics.
    pub value: T,
    /// True if read from disk, false if just computed (and written).
    pub hit: bool,
    /// The file that holds them.
    pub path: PathBuf,
}

impl StatsCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default folder: $SALON_CACHE_DIR/fad, else $XDG_CACHE_HOME/salon/fad, else
    /// ~/.cache/salon/fad, else ./.salon-cache/fad.
    pub fn default_dir() -> PathBuf {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(d) = env("SALON_CACHE_DIR") {
            return d.join("fad");
        }
        if let Some(d) = env("XDG_CACHE_HOME") {
            return d.join("salon").join("fad");
        }
        if let Some(d) = env("HOME") {
            return d.join(".cache").join("salon").join("fad");
        }
        PathBuf::from(".salon-cache").join("fad")
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for `model` and set `key`.
    pub fn path_for(&self, model: &str, key: &str) -> PathBuf {
        let safe: String = model
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}-{key}.json"))
    }

    /// The cached value for (`model`, `key`), or `build()`'s, written to the cache. An unreadable
    /// or stale cache file is rebuilt, not an error.
    pub fn get_or_build<T: Serialize + DeserializeOwned>(
        &self,
        model: &str,
        key: &str,
        build: impl FnOnce() -> Result<T, FadError>,
    ) -> Result<Cached<T>, FadError> {
        let path = self.path_for(model, key);
        if let Ok(bytes) = std::fs::read(&path) {
            if let Ok(entry) = serde_json::from_slice::<Entry<T>>(&bytes) {
                if entry.model == model && entry.key == key {
                    return Ok(Cached {
                        value: entry.value,
                        hit: true,
                        path,
                    });
                }
            }
        }
        let value = build()?;
        std::fs::create_dir_all(&self.dir).map_err(|e| FadError::io(&self.dir, e))?;
        let entry = Entry {
            model: model.to_string(),
            key: key.to_string(),
            value,
        };
        let json = serde_json::to_vec(&entry).map_err(|e| FadError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        // Write then rename, so a reader never sees half a file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, json).map_err(|e| FadError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| FadError::io(&path, e))?;
        Ok(Cached {
            value: entry.value,
            hit: false,
            path,
        })
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry<T> {
    model: String,
    key: String,
    value: T,
}

/// A key for a reference set: SHA-256 (first 16 hex digits) over the files' names, sorted, and
/// their contents; the folder they sit in does not matter, any change to a file does.
pub fn set_key(files: &[PathBuf]) -> Result<String, FadError> {
    let mut named: Vec<(String, &PathBuf)> = files
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, p)
        })
        .collect();
    named.sort();
    let mut h = Sha256::new();
    for (name, path) in named {
        let bytes = std::fs::read(path).map_err(|e| FadError::io(path, e))?;
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fad::GaussianStats;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("salon-fad-cache-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn computes_once_then_reads_back() {
        let dir = temp_dir("once");
        let cache = StatsCache::new(dir.join("cache"));
        let stats = GaussianStats {
            mean: vec![0.1, 1.0 / 3.0],
            cov: vec![1.0, 0.2, 0.2, 2.0],
            count: 7,
        };
        let first = cache
            .get_or_build("vggish", "abc", || Ok(stats.clone()))
            .unwrap();
        assert!(!first.hit);
        let second = cache
            .get_or_build::<GaussianStats>("vggish", "abc", || panic!("must not rebuild"))
            .unwrap();
        assert!(second.hit);
        assert_eq!(second.value, stats); // f64 survive JSON exactly
                                         // Another model or set is another entry.
        let other = cache
            .get_or_build("clap", "abc", || Ok(stats.clone()))
            .unwrap();
        assert!(!other.hit);
        // A corrupt file is rebuilt.
        std::fs::write(&first.path, b"{ not json").unwrap();
        let rebuilt = cache
            .get_or_build("vggish", "abc", || Ok(stats.clone()))
            .unwrap();
        assert!(!rebuilt.hit);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn set_key_follows_names_and_contents_not_order_or_folder() {
        let dir = temp_dir("key");
        let (a, b) = (dir.join("a.wav"), dir.join("b.wav"));
        std::fs::write(&a, b"one").unwrap();
        std::fs::write(&b, b"two").unwrap();
        let k1 = set_key(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(k1.len(), 16);
        assert_eq!(k1, set_key(&[b.clone(), a.clone()]).unwrap());
        let moved = dir.join("sub");
        std::fs::create_dir_all(&moved).unwrap();
        std::fs::copy(&a, moved.join("a.wav")).unwrap();
        std::fs::copy(&b, moved.join("b.wav")).unwrap();
        assert_eq!(
            k1,
            set_key(&[moved.join("a.wav"), moved.join("b.wav")]).unwrap()
        );
        std::fs::write(&b, b"twO").unwrap();
        assert_ne!(k1, set_key(&[a.clone(), b.clone()]).unwrap());
        assert!(set_key(&[dir.join("missing.wav")]).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
