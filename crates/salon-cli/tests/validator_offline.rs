//! `salon validator --no-chain --axon HOTKEY@IP:PORT` against two real `salon miner --no-chain`
//! processes: the honest miner earns rewards and all the weight, the broken one nothing; and the
//! flag mistakes a user can make are usage errors (exit 2) that say what to write instead.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

const SALON: &str = env!("CARGO_BIN_EXE_salon");

const PROFILE: &str = r#"
name = "offline"
description = "small image subnet for the offline validator test"
[validator]
group_size = 4
weights_interval_blocks = 4
[[task]]
task = "text_to_image"
share = 1.0
timeout_secs = 5.0
params = { width = [128, 192], height = [128, 192] }
"#;

struct Proc(std::process::Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn salon(args: &[&str]) -> Output {
    Command::new(SALON).args(args).output().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `salon miner --no-chain` with `behaviour`; returns the process and its hotkey once it
/// says it is serving.
fn miner(profile: &str, wallets: &str, name: &str, port: u16, behaviour: &str) -> (Proc, String) {
    let mut child = Proc(
        Command::new(SALON)
            .args(["miner", "--profile", profile, "--no-chain"])
            .args(["--wallet.path", wallets, "--wallet.name", name])
            .args(["--axon.port", &port.to_string(), "--behaviour", behaviour])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let hotkey = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("miner {name} exited before serving: {seen:?}");
        };
        if line.contains(" serving ") {
            break line.split_whitespace().nth(1).unwrap().to_string();
        }
        seen.push(line);
    };
    // Keep draining its log so the miner never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, hotkey)
}

/// The last printed weight of `uid`, checking the line names `hotkey`.
fn last_weight(stdout: &str, uid: u16, hotkey: &str) -> f64 {
    let tag = format!(": uid {uid} ");
    let line = stdout
        .lines()
        .rfind(|l| l.starts_with("weights block ") && l.contains(&tag))
        .unwrap_or_else(|| panic!("no weight printed for uid {uid}:\n{stdout}"));
    assert!(
        line.contains(hotkey),
        "uid {uid} should be {hotkey}: {line}"
    );
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Rewards printed for `uid` by the step lines.
fn rewards(stdout: &str, uid: u16) -> Vec<f64> {
    let tag = format!(" uid {uid}: reward ");
    stdout
        .lines()
        .filter(|l| l.starts_with("step "))
        .filter_map(|l| l.split_once(&tag))
        .map(|(_, rest)| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn no_chain_validator_pays_the_honest_miner_and_not_the_broken_one() {
    let tmp = tempfile::tempdir().unwrap();
    let wallets = tmp.path().join("wallets");
    let w = wallets.to_str().unwrap();
    let profile = tmp.path().join("offline.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let p = profile.to_str().unwrap();
    for name in ["v", "honest", "broken"] {
        let out = salon(&[
            "wallet",
            "create",
            "--no-password",
            "--wallet.path",
            w,
            "--wallet.name",
            name,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (broken_port, honest_port) = (free_port(), free_port());
    let (_broken, broken_hk) = miner(p, w, "broken", broken_port, "broken");
    let (_honest, honest_hk) = miner(p, w, "honest", honest_port, "honest");
    // The broken miner first: uids follow the --axon order.
    let axon_broken = format!("{broken_hk}@127.0.0.1:{broken_port}");
    let axon_honest = format!("{honest_hk}@127.0.0.1:{honest_port}");
    let state = tmp.path().join("v.sqlite");
    let out = salon(&[
        "validator",
        "--profile",
        p,
        "--wallet.path",
        w,
        "--wallet.name",
        "v",
        "--no-chain",
        "--axon",
        &axon_broken,
        "--axon",
        &axon_honest,
        "--steps",
        "3",
        "--state",
        state.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "validator failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (broken_rewards, honest_rewards) = (rewards(&stdout, 0), rewards(&stdout, 1));
    assert_eq!(broken_rewards.len(), 3, "one reward per step:\n{stdout}");
    assert_eq!(honest_rewards.len(), 3, "one reward per step:\n{stdout}");
    assert!(
        honest_rewards.iter().all(|r| *r > 0.0),
        "honest miner earned {honest_rewards:?}"
    );
    assert!(
        broken_rewards.iter().all(|r| *r == 0.0),
        "broken miner earned {broken_rewards:?}"
    );
    let honest_w = last_weight(&stdout, 1, &honest_hk);
    let broken_w = last_weight(&stdout, 0, &broken_hk);
    assert!(honest_w > 0.99, "honest weight {honest_w}:\n{stdout}");
    assert_eq!(broken_w, 0.0, "broken weight:\n{stdout}");
    assert!(
        !stdout.contains(": uid 2 "),
        "the validator (uid 2) prints no weight for itself:\n{stdout}"
    );
    assert!(state.exists(), "scores are kept in --state");

    // A validator may not list its own hotkey among the miners.
    let own = salon(&[
        "validator",
        "--profile",
        p,
        "--wallet.path",
        w,
        "--wallet.name",
        "honest",
        "--no-chain",
        "--axon",
        &axon_honest,
        "--steps",
        "1",
        "--state",
        tmp.path().join("own.sqlite").to_str().unwrap(),
    ]);
    assert_eq!(own.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&own.stderr).contains("own hotkey"));
}

#[test]
fn chain_flags_and_malformed_axons_are_usage_errors() {
    let hk = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    let good = format!("{hk}@127.0.0.1:8091");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![], "--no-chain"),
        (
            vec![
                "--chain".into(),
                "http://127.0.0.1:9".into(),
                "--no-chain".into(),
                "--axon".into(),
                good.clone(),
            ],
            "not both",
        ),
        (vec!["--no-chain".into()], "--axon HOTKEY@IP:PORT"),
        (
            vec![
                "--chain".into(),
                "http://127.0.0.1:9".into(),
                "--axon".into(),
                good.clone(),
            ],
            "--axon needs --no-chain",
        ),
        (
            vec![
                "--no-chain".into(),
                "--axon".into(),
                "127.0.0.1:8091".into(),
            ],
            "give the miner's hotkey too",
        ),
        (
            vec!["--no-chain".into(), "--axon".into(), "miner-one".into()],
            "expected HOTKEY@IP:PORT",
        ),
        (
            vec![
                "--no-chain".into(),
                "--axon".into(),
                "nothex@127.0.0.1:8091".into(),
            ],
            "not an SS58 hotkey",
        ),
        (
            vec![
                "--no-chain".into(),
                "--axon".into(),
                format!("{hk}@localhost"),
            ],
            "is not IP:PORT",
        ),
        (
            vec![
                "--no-chain".into(),
                "--axon".into(),
                good.clone(),
                "--axon".into(),
                format!("{hk}@127.0.0.1:8092"),
            ],
            "already uid 0",
        ),
    ];
    for (args, expected) in cases {
        let out = Command::new(SALON)
            .arg("validator")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in {stderr}"
        );
    }
}
