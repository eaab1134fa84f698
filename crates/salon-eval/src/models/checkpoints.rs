//! Where the released evaluation checkpoints are found without a network: `$SALON_MODELS_DIR`,
//! then the caches the Python tools fill (PyTorch hub for torchvggish and hear21passt, the
//! Hugging Face hub cache for CLAP), so a machine that ran the peers needs no extra download.

use std::path::{Path, PathBuf};

/// torchvggish's released weights (PyTorch state dict).
pub const VGGISH_FILE: &str = "vggish-10086976.pth";
/// hear21passt's released AudioSet weights (PaSST-S, patch 16, stride 10, SWA).
pub const PASST_FILE: &str = "passt-s-f128-p16-s10-ap.476-swa.pt";
/// The CLAP checkpoint BittAudio scores music with (transformers layout).
pub const CLAP_REPO: &str = "laion/larger_clap_music";
/// The EnCodec checkpoint fadtk's `encodec-emb` embeds with (transformers layout).
pub const ENCODEC_REPO: &str = "facebook/encodec_24khz";

/// The PyTorch hub checkpoint folder: `$TORCH_HOME/hub/checkpoints`, else
/// `$XDG_CACHE_HOME/torch/hub/checkpoints`, else `~/.cache/torch/hub/checkpoints`.
pub fn torch_hub_dir() -> Option<PathBuf> {
    if let Some(t) = std::env::var_os("TORCH_HOME") {
        return Some(PathBuf::from(t).join("hub/checkpoints"));
    }
    cache_home().map(|c| c.join("torch/hub/checkpoints"))
}

/// The Hugging Face hub cache: `$HF_HUB_CACHE`, `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hf_hub_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("HF_HUB_CACHE") {
        return Some(PathBuf::from(d));
    }
    if let Some(h) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(h).join("hub"));
    }
    cache_home().map(|c| c.join("huggingface/hub"))
}

fn cache_home() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
}

/// `file` in `$SALON_MODELS_DIR` or the PyTorch hub cache, whichever has it first.
pub fn find_file(file: &str) -> Option<PathBuf> {
    let dirs = [
        std::env::var_os("SALON_MODELS_DIR").map(PathBuf::from),
        torch_hub_dir(),
    ];
    dirs.into_iter()
        .flatten()
        .map(|d| d.join(file))
        .find(|p| p.is_file())
}

/// The folder name a hub repo id is kept under locally ("laion/larger_clap_music" ->
/// "larger_clap_music").
pub fn repo_dir_name(repo: &str) -> &str {
    repo.rsplit('/').next().unwrap_or(repo)
}

/// The snapshot folder of `repo` (e.g. "laion/larger_clap_music") in `$SALON_MODELS_DIR/<name>`
/// or the Hugging Face cache (the revision `refs/main` names, else any snapshot holding a
/// config.json).
pub fn find_repo(repo: &str) -> Option<PathBuf> {
    let name = repo_dir_name(repo);
    if let Some(d) = std::env::var_os("SALON_MODELS_DIR") {
        let p = PathBuf::from(d).join(name);
        if p.join("config.json").is_file() {
            return Some(p);
        }
    }
    hf_snapshot(&hf_hub_dir()?, repo)
}

/// The snapshot of `repo` inside the hub cache `hub`.
pub fn hf_snapshot(hub: &Path, repo: &str) -> Option<PathBuf> {
    let root = hub.join(format!("models--{}", repo.replace('/', "--")));
    let snapshots = root.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(root.join("refs/main")) {
        let p = snapshots.join(rev.trim());
        if p.join("config.json").is_file() {
            return Some(p);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(&snapshots)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("config.json").is_file())
        .collect();
    found.sort();
    found.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_snapshot_refs_main_names() {
        let hub = std::env::temp_dir().join(format!("salon-hub-{}", std::process::id()));
        let root = hub.join("models--laion--larger_clap_music");
        for rev in ["aaa", "bbb"] {
            std::fs::create_dir_all(root.join("snapshots").join(rev)).unwrap();
            std::fs::write(root.join("snapshots").join(rev).join("config.json"), "{}").unwrap();
        }
        std::fs::create_dir_all(root.join("refs")).unwrap();
        std::fs::write(root.join("refs/main"), "aaa\n").unwrap();
        assert_eq!(
            hf_snapshot(&hub, CLAP_REPO),
            Some(root.join("snapshots/aaa"))
        );
        // Without refs/main: the last snapshot that has a config.
        std::fs::remove_file(root.join("refs/main")).unwrap();
        assert_eq!(
            hf_snapshot(&hub, CLAP_REPO),
            Some(root.join("snapshots/bbb"))
        );
        assert_eq!(hf_snapshot(&hub, "someone/else"), None);
        std::fs::remove_dir_all(&hub).unwrap();
    }
}
