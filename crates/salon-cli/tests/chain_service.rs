//! A shared devnet of separate processes: `salon chain serve`, one `salon validator` and four
//! `salon miner`s on loopback. The chain service is SIGKILLed mid-run and restarted on the same
//! directory: no registration, weight or bond is lost and the network carries on.

use salon_chain::{Chain, RemoteChain};
use salon_core::NetUid;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SALON: &str = env!("CARGO_BIN_EXE_salon");

struct Proc(std::process::Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> Proc {
    Proc(
        Command::new(SALON)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn ok(args: &[&str]) {
    let out = Command::new(SALON).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "salon {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const PROFILE: &str = r#"
name = "shared"
description = "small image subnet for the multi-process test"
[network]
tempo = 20
weights_rate_limit = 2
[validator]
group_size = 4
weights_interval_blocks = 4
[miner]
min_stake_rao = 1000000000
[[task]]
task = "text_to_image"
share = 1.0
timeout_secs = 3.0
params = { width = [128, 192], height = [128, 192] }
"#;

async fn wait_epochs(chain: &RemoteChain, n: usize, limit: Duration) -> usize {
    let start = Instant::now();
    loop {
        let e = chain
            .epoch_history(NetUid(1))
            .await
            .map(|h| h.len())
            .unwrap_or(0);
        if e >= n || start.elapsed() > limit {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn serve(dir: &Path, port: u16) -> Proc {
    spawn(&[
        "chain",
        "serve",
        "--dir",
        dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--block-time",
        "100",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_processes_survive_a_chain_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let wallets = tmp.path().join("wallets");
    let w = wallets.to_str().unwrap();
    let profile = tmp.path().join("shared.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let p = profile.to_str().unwrap();
    let chain_dir = tmp.path().join("chain");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut chain_proc = serve(&chain_dir, port);
    let chain = RemoteChain::new(&url);
    let start = Instant::now();
    while chain.block().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chain service did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let names = ["owner", "validator", "m0", "m1", "m2", "m3"];
    for n in names {
        ok(&[
            "wallet",
            "create",
            "--no-password",
            "--wallet.path",
            w,
            "--wallet.name",
            n,
        ]);
    }
    ok(&[
        "chain",
        "create-subnet",
        "--chain",
        &url,
        "--wallet.path",
        w,
        "--wallet.name",
        "owner",
        "--profile",
        p,
    ]);
    for n in &names[1..] {
        ok(&[
            "chain",
            "register",
            "--chain",
            &url,
            "--wallet.path",
            w,
            "--wallet.name",
            n,
        ]);
    }
    ok(&[
        "chain",
        "stake",
        "--chain",
        &url,
        "--wallet.path",
        w,
        "--wallet.name",
        "validator",
        "--amount",
        "1000",
    ]);

    let mut others = Vec::new();
    for n in &names[2..] {
        let port = free_port().to_string();
        others.push(spawn(&[
            "miner",
            "--chain",
            &url,
            "--profile",
            p,
            "--wallet.path",
            w,
            "--wallet.name",
            n,
            "--axon.port",
            &port,
        ]));
    }
    let state = tmp.path().join("validator.sqlite");
    others.push(spawn(&[
        "validator",
        "--chain",
        &url,
        "--profile",
        p,
        "--wallet.path",
        w,
        "--wallet.name",
        "validator",
        "--state",
        state.to_str().unwrap(),
    ]));

    // Two epochs: permits, then weights and bonds.
    assert!(
        wait_epochs(&chain, 2, Duration::from_secs(90)).await >= 2,
        "epochs did not run"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = chain.metagraph(NetUid(1)).await.unwrap();
    assert!(
        before.neurons.iter().any(|n| !n.weights.is_empty()),
        "the validator set weights"
    );
    let _ = chain_proc.0.kill(); // SIGKILL
    let _ = chain_proc.0.wait();
    chain_proc = serve(&chain_dir, port);
    let start = Instant::now();
    let after = loop {
        if let Ok(mg) = chain.metagraph(NetUid(1)).await {
            break mg;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chain service did not restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        after.block >= before.block,
        "height went back from {} to {}",
        before.block,
        after.block
    );
    assert_eq!(after.neurons.len(), before.neurons.len());
    for (b, a) in before.neurons.iter().zip(&after.neurons) {
        assert_eq!(a.hotkey, b.hotkey, "registration kept");
        assert_eq!(a.stake, b.stake);
        assert!(
            b.weights.is_empty() || !a.weights.is_empty(),
            "weights of uid {} lost",
            b.uid
        );
        assert!(
            b.bonds.is_empty() || !a.bonds.is_empty(),
            "bonds of uid {} lost",
            b.uid
        );
        if a.last_update == b.last_update {
            assert_eq!(
                a.weights, b.weights,
                "weights of uid {} changed without a new set",
                b.uid
            );
        }
    }
    // The network carries on: another epoch pays the miners.
    let epochs = chain.epoch_history(NetUid(1)).await.unwrap().len();
    assert!(
        wait_epochs(&chain, epochs + 1, Duration::from_secs(60)).await > epochs,
        "no epoch after restart"
    );
    let mg = chain.metagraph(NetUid(1)).await.unwrap();
    let miner_incentive: u32 = mg.neurons.iter().skip(1).map(|n| n.incentive as u32).sum();
    assert!(
        miner_incentive > 60_000,
        "miners earn after the restart: {miner_incentive}"
    );
    drop(others);
    drop(chain_proc);
}
