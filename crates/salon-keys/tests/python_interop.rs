//! Wallet interop with the Python SDK (bittensor-wallet, installed with bittensor 10.5.0):
//! wallets made by either side are read by the other with the same addresses and signing keys,
//! including an encrypted (`$NACL`) coldkey, and signatures verify both ways.
//!
//! Python comes from `SALON_PYTHON`, else the workspace's `.venv/bin/python`. Without it these
//! tests fail, unless `SALON_SKIP_INTEROP=1`.

use salon_keys::{verify, KeySource, PublicKey, Wallet};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const MSG: &[u8] = b"salon interop: sign me";
const PASSWORD: &str = "correct horse battery staple";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python interpreter with bittensor_wallet, or None when interop is explicitly skipped.
fn python() -> Option<PathBuf> {
    let skip = std::env::var("SALON_SKIP_INTEROP").is_ok_and(|v| v == "1");
    let python = std::env::var_os("SALON_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    let works = Command::new(&python)
        .args(["-c", "import bittensor_wallet"])
        .output()
        .is_ok_and(|o| o.status.success());
    match (works, skip) {
        (true, _) => Some(python),
        (false, true) => {
            eprintln!("SALON_SKIP_INTEROP=1: skipping the Python wallet interop test");
            None
        }
        (false, false) => panic!(
            "no Python with bittensor_wallet at {} (set SALON_PYTHON, or create the venv: \
             python3 -m venv .venv && .venv/bin/pip install bittensor==10.5.0; \
             or set SALON_SKIP_INTEROP=1 to skip)",
            python.display()
        ),
    }
}

/// Runs scripts/interop/wallet_interop.py and parses the JSON on its last line of output.
fn script(python: &Path, args: &[&str]) -> Value {
    let out = Command::new(python)
        .arg(workspace().join("scripts/interop/wallet_interop.py"))
        .args(args)
        .output()
        .expect("run the interop script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wallet_interop.py {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout
        .lines()
        .rfind(|l| l.starts_with('{'))
        .expect("a JSON line");
    serde_json::from_str(last).expect("valid JSON from the interop script")
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} in {v}"))
}

fn sig_bytes(hex0x: &str) -> Vec<u8> {
    hex::decode(hex0x.trim_start_matches("0x")).unwrap()
}

#[test]
fn wallets_made_by_bittensor_wallet_are_read_by_salon() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let py = script(&python, &["make", path, PASSWORD, &hex::encode(MSG)]);

    let plain = Wallet::new(path, "pyplain", "hk");
    let cold = plain.coldkey(None).unwrap();
    let hot = plain.hotkey().unwrap();
    assert_eq!(cold.ss58(), s(&py, &["plain_coldkey", "ss58"]));
    assert_eq!(plain.coldkeypub().unwrap(), cold.public());
    assert_eq!(hot.ss58(), s(&py, &["plain_hotkey", "ss58"]));
    assert_eq!(plain.hotkeypub().unwrap(), hot.public());

    // Python's signatures verify in Salon, and only for the right message and key.
    let hot_sig = sig_bytes(s(&py, &["plain_hotkey", "sig"]));
    verify(&hot.public(), MSG, &hot_sig).unwrap();
    verify(
        &cold.public(),
        MSG,
        &sig_bytes(s(&py, &["plain_coldkey", "sig"])),
    )
    .unwrap();
    assert!(verify(&hot.public(), b"another message", &hot_sig).is_err());
    assert!(verify(&cold.public(), MSG, &hot_sig).is_err());

    // Salon's signatures with the loaded keys verify in Python.
    for kp in [&cold, &hot] {
        let sig = hex::encode(kp.sign(MSG));
        let res = script(&python, &["verify", &kp.ss58(), &hex::encode(MSG), &sig]);
        assert_eq!(res["valid"], Value::Bool(true), "{}", kp.ss58());
    }
    let wrong = hex::encode(cold.sign(MSG));
    let res = script(&python, &["verify", &hot.ss58(), &hex::encode(MSG), &wrong]);
    assert_eq!(res["valid"], Value::Bool(false));

    // The password-encrypted coldkey opens with the password and gives the pub file's address.
    let enc = Wallet::new(path, "pyenc", "hk");
    assert!(enc.coldkey_encryption().unwrap().is_encrypted());
    assert!(enc.coldkey(None).is_err());
    let enc_cold = enc.coldkey(Some(PASSWORD)).unwrap();
    assert_eq!(enc_cold.ss58(), s(&py, &["enc_coldkeypub"]));
    assert_eq!(enc.coldkeypub().unwrap(), enc_cold.public());
}

#[test]
fn wallets_made_by_salon_are_read_by_bittensor_wallet() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();

    let plain = Wallet::new(path, "rsplain", "hk");
    let cold = plain.create_coldkey(12, None, false).unwrap().keypair;
    let hot = plain.create_hotkey(24, None, false).unwrap().keypair;
    // A hotkey restored from a seed has no mnemonic: Python must use secretSeed.
    let seeded = Wallet::new(path, "rsseed", "hk");
    let seed = KeySource::seed_from_hex(&format!("0x{}", hex::encode([7u8; 32]))).unwrap();
    let seed_hot = seeded.regen_hotkey(&seed, None, false).unwrap();
    let enc = Wallet::new(path, "rsenc", "hk");
    let enc_cold = enc
        .create_coldkey(12, Some(PASSWORD), false)
        .unwrap()
        .keypair;

    let py = script(&python, &["read", path, PASSWORD, &hex::encode(MSG)]);
    assert_eq!(s(&py, &["plain_coldkey", "ss58"]), cold.ss58());
    assert_eq!(s(&py, &["plain_coldkeypub"]), cold.ss58());
    assert_eq!(s(&py, &["plain_hotkey", "ss58"]), hot.ss58());
    assert_eq!(s(&py, &["plain_hotkeypub"]), hot.ss58());
    assert_eq!(s(&py, &["seed_hotkey", "ss58"]), seed_hot.ss58());
    assert_eq!(s(&py, &["enc_coldkey", "ss58"]), enc_cold.ss58());
    assert_eq!(py["enc_coldkey_encrypted"], Value::Bool(true));

    // What Python signs with the keys it read verifies against Salon's public keys.
    for (key, public) in [
        ("plain_coldkey", cold.public()),
        ("plain_hotkey", hot.public()),
        ("seed_hotkey", seed_hot.public()),
        ("enc_coldkey", enc_cold.public()),
    ] {
        let sig = sig_bytes(s(&py, &[key, "sig"]));
        verify(&public, MSG, &sig).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(
            PublicKey::from_ss58(s(&py, &[key, "ss58"])).unwrap(),
            public
        );
    }
}
