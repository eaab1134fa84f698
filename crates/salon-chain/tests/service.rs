//! The chain service on loopback driven by a RemoteChain: extrinsics, queries, error names carried
//! across HTTP, forged signatures and replays rejected.

use salon_chain::commit::commit_hash;
use salon_chain::extrinsic::{now_ns, Call, SignedExtrinsic};
use salon_chain::{service, AxonInfo, Chain, Hyperparameters, LocalChain, RemoteChain};
use salon_core::{Hotkey, NetUid, Uid};
use salon_keys::Keypair;
use std::sync::Arc;

async fn start() -> (tempfile::TempDir, Arc<LocalChain>, RemoteChain, String) {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(LocalChain::open(dir.path()).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(service::serve(chain.clone(), listener));
    let remote = RemoteChain::new(&url);
    (dir, chain, remote, url)
}

#[tokio::test]
async fn remote_chain_round_trip_matches_the_local_chain() {
    let (_dir, local, remote, _) = start().await;
    let owner = Keypair::generate();
    let (v, m) = (Keypair::generate(), Keypair::generate());
    let hp = Hyperparameters {
        tempo: 4,
        weights_rate_limit: 50,
        commit_reveal: false,
        ..Hyperparameters::default()
    };
    let netuid = remote.create_subnet(&owner, None, hp).await.unwrap();
    assert_eq!(netuid, NetUid(1));
    assert_eq!(
        remote.register(netuid, &v, &owner.public()).await.unwrap(),
        Uid(0)
    );
    assert_eq!(
        remote.register(netuid, &m, &owner.public()).await.unwrap(),
        Uid(1)
    );
    remote
        .add_stake(&owner, &Hotkey(v.ss58()), netuid, 5_000_000_000)
        .await
        .unwrap();
    let axon = AxonInfo {
        ip: "127.0.0.1".into(),
        port: 8091,
        ip_type: 4,
        protocol: 4,
        version: 1,
    };
    remote.serve_axon(&m, netuid, axon.clone()).await.unwrap();
    local.produce_blocks(4).unwrap(); // epoch at block 4: permits
    assert_eq!(remote.block().await.unwrap(), 4);
    remote.set_weights(&v, netuid, &[1], &[7], 0).await.unwrap();

    let e = remote
        .set_weights(&v, netuid, &[1], &[9], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "SettingWeightsTooFast", "{e}");
    let e = remote
        .set_weights(&v, NetUid(9), &[1], &[9], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "SubNetworkDoesNotExist");
    let e = remote
        .set_hyperparameter(&v, netuid, "tempo", "3")
        .await
        .unwrap_err();
    assert_eq!(e.name(), "NotSubnetOwner");

    local.produce_blocks(4).unwrap();
    let mg = remote.metagraph(netuid).await.unwrap();
    assert_eq!(mg, local.metagraph(netuid).await.unwrap());
    assert_eq!(mg.neurons[1].axon, Some(axon));
    assert_eq!(mg.neurons[0].weights, vec![(1, 65535)]);
    assert!(mg.neurons[1].incentive > 65000, "{:?}", mg.neurons[1]);
    assert_eq!(remote.epoch_history(netuid).await.unwrap().len(), 2);
    assert_eq!(remote.subnets().await.unwrap()[0].n, 2);

    // Commit-reveal through the service.
    let hp = remote
        .set_hyperparameter(&owner, netuid, "commit_reveal", "true")
        .await
        .unwrap();
    assert!(hp.commit_reveal);
    assert!(remote.hyperparameters(netuid).await.unwrap().commit_reveal);
    let e = remote
        .set_weights(&v, netuid, &[1], &[9], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "CommitRevealEnabled");
    local.produce_blocks(50).unwrap(); // past the rate limit
    remote
        .commit_weights(
            &v,
            netuid,
            commit_hash(&v.public(), netuid, &[1], &[3], &[8, 8], 0),
        )
        .await
        .unwrap();
    local.produce_blocks(4).unwrap();
    let e = remote
        .reveal_weights(&v, netuid, &[1], &[3], &[8, 9], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "InvalidRevealCommitHashNotMatch");
    remote
        .reveal_weights(&v, netuid, &[1], &[3], &[8, 8], 0)
        .await
        .unwrap();
}

#[tokio::test]
async fn forged_signatures_and_replays_are_rejected() {
    let (_dir, _local, remote, url) = start().await;
    let owner = Keypair::generate();
    let netuid = remote
        .create_subnet(&owner, None, Hyperparameters::default())
        .await
        .unwrap();
    let victim = Keypair::generate();
    let http = reqwest::Client::new();
    let post = |body: SignedExtrinsic| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let r = http
                .post(format!("{url}/extrinsic"))
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    // A payload claiming `victim` as signer but signed by someone else.
    let call = Call::Register {
        netuid: netuid.0,
        coldkey: owner.ss58(),
    };
    let honest = SignedExtrinsic::sign(call.clone(), &victim, now_ns());
    let attacker = Keypair::generate();
    let mut forged = honest.clone();
    let mut msg = b"salon-chain/1:".to_vec();
    msg.extend_from_slice(honest.payload.as_bytes());
    forged.signature = hex::encode(attacker.sign(&msg));
    let (status, body) = post(forged).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "BadProof");
    assert!(remote.metagraph(netuid).await.unwrap().neurons.is_empty());

    // The honest one goes through once; the same bytes again are a replay.
    let (status, body) = post(honest.clone()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(honest).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("Stale")));
    // A nonce far in the past is stale too.
    let old = SignedExtrinsic::sign(call, &Keypair::generate(), now_ns() - 3_600_000_000_000);
    assert_eq!(post(old).await.1["error"], "Stale");
    // Garbage is a 400 with a message.
    let r = http
        .post(format!("{url}/extrinsic"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}
