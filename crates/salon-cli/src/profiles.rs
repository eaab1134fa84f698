//! The profiles shipped in `profiles/*.toml`, embedded in the binary, and loading a profile by
//! name or from a file.

use crate::usage::usage;
use salon_core::Profile;
use std::path::Path;

/// (name, TOML text) of every shipped profile.
pub const SHIPPED: [(&str, &str); 6] = [
    ("salon", include_str!("../../../profiles/salon.toml")),
    (
        "bittaudio",
        include_str!("../../../profiles/bittaudio.toml"),
    ),
    (
        "audiosubnet",
        include_str!("../../../profiles/audiosubnet.toml"),
    ),
    ("vision", include_str!("../../../profiles/vision.toml")),
    (
        "nicheimage",
        include_str!("../../../profiles/nicheimage.toml"),
    ),
    ("bitmind", include_str!("../../../profiles/bitmind.toml")),
];

/// Loads a shipped profile by name, or a TOML file by path (anything containing '/' or ending
/// in .toml).
pub fn load(name_or_path: &str) -> anyhow::Result<Profile> {
    if let Some((name, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
        return Profile::from_toml(name, text)
            .map_err(|e| anyhow::anyhow!("shipped profile is broken: {e}"));
    }
    if name_or_path.contains('/') || name_or_path.ends_with(".toml") {
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read profile file {}: {e}", path.display())))?;
        return Profile::from_toml(name_or_path, &text).map_err(|e| usage(e.to_string()));
    }
    let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
    Err(usage(format!(
        "unknown profile {name_or_path:?}; shipped profiles are {} (or pass a path to a .toml file)",
        names.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_profile_parses() {
        for (name, _) in SHIPPED {
            let p = load(name).unwrap();
            assert_eq!(p.name, name);
        }
        assert!(load("nosuch")
            .unwrap_err()
            .to_string()
            .contains("unknown profile"));
    }
}
