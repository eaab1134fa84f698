//! The released evaluation models for `salon fad` and `salon score`: where their checkpoints are
//! (a `--models DIR`, else `$SALON_MODELS_DIR` and the Python tools' caches) and a cache tag that
//! changes whenever a checkpoint file does.

use crate::usage::usage;
use salon_eval::models::checkpoints::{repo_dir_name, CLAP_REPO, PASST_FILE, VGGISH_FILE};
use salon_eval::models::music::ModelPaths;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The checkpoints in `dir` (an error naming the expected files if it holds none), or those
/// discovered in `$SALON_MODELS_DIR` and the caches.
pub fn model_paths(dir: Option<&Path>) -> anyhow::Result<ModelPaths> {
    let Some(dir) = dir else {
        return Ok(ModelPaths::discover());
    };
    if !dir.is_dir() {
        return Err(usage(format!("--models {}: no such folder", dir.display())));
    }
    let paths = ModelPaths::in_dir(dir);
    if paths.is_empty() {
        return Err(usage(format!(
            "--models {}: no released checkpoint there; expected any of {VGGISH_FILE}, \
             {PASST_FILE} and a folder {} (the transformers layout of {CLAP_REPO})",
            dir.display(),
            repo_dir_name(CLAP_REPO)
        )));
    }
    Ok(paths)
}

/// A short tag of the checkpoints' paths, sizes and modification times, for cache keys.
pub fn checkpoint_tag(paths: &[&Path]) -> String {
    let mut h = Sha256::new();
    for p in paths {
        let files: Vec<std::path::PathBuf> = if p.is_dir() {
            let mut v: Vec<_> = std::fs::read_dir(p)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            v.sort();
            v
        } else {
            vec![p.to_path_buf()]
        };
        for f in files {
            h.update(f.to_string_lossy().as_bytes());
            if let Ok(m) = std::fs::metadata(&f) {
                h.update(m.len().to_le_bytes());
                if let Ok(t) = m.modified().and_then(|t| {
                    t.duration_since(std::time::UNIX_EPOCH)
                        .map_err(std::io::Error::other)
                }) {
                    h.update(t.as_nanos().to_le_bytes());
                }
            }
        }
    }
    let d = h.finalize();
    d[..6].iter().map(|b| format!("{b:02x}")).collect()
}
