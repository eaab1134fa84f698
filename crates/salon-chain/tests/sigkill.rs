//! A process writing to a LocalChain is killed with SIGKILL mid-run; reopening the directory finds
//! every block, registration and weight row the process reported as done.

use salon_chain::{Chain, Hyperparameters, LocalChain};
use salon_keys::Keypair;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const DIR_VAR: &str = "SALON_CHAIN_SIGKILL_WRITER_DIR";

/// The child: registers, sets weights and produces blocks forever, reporting each done step.
async fn writer(dir: &str) {
    let chain = LocalChain::open(std::path::Path::new(dir)).unwrap();
    let owner = Keypair::generate();
    let v = Keypair::generate();
    let hp = Hyperparameters {
        tempo: 3,
        commit_reveal: false,
        weights_rate_limit: 0,
        ..Hyperparameters::default()
    };
    let netuid = chain.create_subnet(&owner, Some(&v), hp).await.unwrap();
    chain
        .add_stake(&owner, &salon_core::Hotkey(v.ss58()), netuid, 1_000_000_000)
        .await
        .unwrap();
    chain.run_epoch_now(netuid, 0).unwrap(); // validator permits
    loop {
        let uid = chain
            .register(netuid, &Keypair::generate(), &owner.public())
            .await
            .unwrap();
        let dests: Vec<u16> = (0..=uid.0).collect();
        chain
            .set_weights(&v, netuid, &dests, &vec![1; dests.len()], 0)
            .await
            .unwrap();
        let block = chain.produce_block().unwrap();
        println!("committed {block} {}", dests.len());
    }
}

#[tokio::test]
async fn sigkill_loses_nothing_committed() {
    if let Ok(dir) = std::env::var(DIR_VAR) {
        writer(&dir).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sigkill_loses_nothing_committed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut last = (0u64, 0usize);
    let mut seen = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("committed ") {
            let mut parts = rest.split(' ');
            last = (
                parts.next().unwrap().parse().unwrap(),
                parts.next().unwrap().parse().unwrap(),
            );
            seen += 1;
            if seen == 25 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert_eq!(seen, 25, "the writer stopped early");

    let chain = LocalChain::open(dir.path()).unwrap();
    let (block, weighted) = last;
    assert!(chain.block().await.unwrap() >= block);
    let mg = chain.metagraph(salon_core::NetUid(1)).await.unwrap();
    assert!(
        mg.neurons.len() >= weighted,
        "{} neurons, {weighted} reported",
        mg.neurons.len()
    );
    assert!(mg.neurons[0].weights.len() >= weighted);
    assert!(
        mg.neurons[0].bonds.iter().any(|&(_, b)| b > 0),
        "epochs stored bonds"
    );
    assert!(!chain
        .epoch_history(salon_core::NetUid(1))
        .await
        .unwrap()
        .is_empty());
}
