//! A real `salon miner --profile bittaudio --no-chain` answers a Python bittensor 10.5.0 client
//! written as BittAudio's validator writes it (MusicGeneration, duration 755 tokens).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("SALON_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    p.exists().then_some(p)
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn python_bittaudio_client_gets_fifteen_seconds_of_music() {
    let Some(py) = python() else {
        if std::env::var("SALON_SKIP_INTEROP").as_deref() == Ok("1") {
            return;
        }
        panic!("no Python with bittensor 10.5.0: run scripts/test.sh (creates .venv) or set SALON_PYTHON");
    };
    let salon = env!("CARGO_BIN_EXE_salon");
    let dir = tempfile::tempdir().unwrap();
    let wallets = dir.path().to_str().unwrap();
    let out = Command::new(salon)
        .args([
            "wallet",
            "create",
            "--no-password",
            "--wallet.path",
            wallets,
            "--wallet.name",
            "m",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut miner = Child(
        Command::new(salon)
            .args([
                "miner",
                "--profile",
                "bittaudio",
                "--no-chain",
                "--wallet.path",
                wallets,
                "--wallet.name",
                "m",
            ])
            .args(["--axon.port", &port.to_string()])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(miner.0.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("serving"), "miner did not start: {line}");
    let hotkey = line.split_whitespace().nth(1).unwrap().to_string();

    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/interop/bittaudio_client.py");
    let out = Command::new(py)
        .arg(script)
        .args(["--port", &port.to_string(), "--hotkey", &hotkey])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
    assert_eq!(v["status"], 200, "{v}");
    let secs = v["seconds"].as_f64().unwrap();
    assert!(
        (secs - 15.1).abs() < 0.05,
        "755 tokens at 50/s is 15.1 s of 32 kHz audio, got {secs} s"
    );
    assert_eq!(v["finite"], true);
    assert!(
        v["peak"].as_f64().unwrap() > 0.05,
        "the music is not silent: {v}"
    );
}
