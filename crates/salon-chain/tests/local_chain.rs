//! LocalChain as a user drives it: registration, stake, axons, set_weights' checks, blocks and
//! epochs, commit-reveal, hyperparameters, and persistence across a reopen.

use salon_chain::commit::commit_hash;
use salon_chain::{AxonInfo, Chain, ChainError, Hyperparameters, LocalChain};
use salon_core::{Hotkey, NetUid, Uid};
use salon_keys::Keypair;

const TAO: u64 = 1_000_000_000;

fn hp() -> Hyperparameters {
    Hyperparameters {
        tempo: 5,
        commit_reveal: false,
        weights_rate_limit: 0,
        immunity_period: 0,
        ..Hyperparameters::default()
    }
}

struct Net {
    _dir: tempfile::TempDir,
    chain: LocalChain,
    owner: Keypair,
    netuid: NetUid,
}

async fn net(hp: Hyperparameters) -> Net {
    let dir = tempfile::tempdir().unwrap();
    let chain = LocalChain::open(dir.path()).unwrap();
    let owner = Keypair::generate();
    let netuid = chain.create_subnet(&owner, None, hp).await.unwrap();
    Net {
        _dir: dir,
        chain,
        owner,
        netuid,
    }
}

/// Registers a hotkey under `owner`'s coldkey and returns it with its uid.
async fn join(n: &Net) -> (Keypair, Uid) {
    let hk = Keypair::generate();
    let uid = n
        .chain
        .register(n.netuid, &hk, &n.owner.public())
        .await
        .unwrap();
    (hk, uid)
}

fn hotkey(k: &Keypair) -> Hotkey {
    Hotkey(k.ss58())
}

/// A validator with stake and a permit (one epoch run), plus `miners` miners.
async fn with_validator(n: &Net, miners: usize) -> (Keypair, Vec<Keypair>) {
    let (v, _) = join(n).await;
    n.chain
        .add_stake(&n.owner, &hotkey(&v), n.netuid, 1000 * TAO)
        .await
        .unwrap();
    let mut ms = Vec::new();
    for _ in 0..miners {
        ms.push(join(n).await.0);
    }
    n.chain.run_epoch_now(n.netuid, TAO).unwrap();
    assert!(n.chain.metagraph(n.netuid).await.unwrap().neurons[0].validator_permit);
    (v, ms)
}

#[tokio::test]
async fn registration_appends_then_replaces_lowest_emission_non_immune() {
    let n = net(Hyperparameters {
        max_allowed_uids: 3,
        immunity_period: 100,
        ..hp()
    })
    .await;
    let mut keys = Vec::new();
    for want in 0..3u16 {
        let (k, uid) = join(&n).await;
        assert_eq!(uid, Uid(want));
        keys.push(k);
    }
    let again = n
        .chain
        .register(n.netuid, &keys[1], &n.owner.public())
        .await
        .unwrap_err();
    assert_eq!(again.name(), "HotKeyAlreadyRegisteredInSubNet");
    // Another coldkey cannot claim a hotkey that is already owned.
    let other = Keypair::generate();
    let e = n
        .chain
        .create_subnet(&other, Some(&keys[0]), hp())
        .await
        .unwrap_err();
    assert_eq!(e.name(), "NonAssociatedColdKey");

    // Validator uid 0 weights uid 2 only, so after an epoch uid 1 has the lowest emission.
    n.chain
        .add_stake(&n.owner, &hotkey(&keys[0]), n.netuid, 100 * TAO)
        .await
        .unwrap();
    n.chain.run_epoch_now(n.netuid, TAO).unwrap();
    n.chain.produce_block().unwrap();
    n.chain
        .set_weights(&keys[0], n.netuid, &[1, 2], &[0, 100], 0)
        .await
        .unwrap();
    n.chain.produce_block().unwrap();
    n.chain.run_epoch_now(n.netuid, TAO).unwrap();
    let mg = n.chain.metagraph(n.netuid).await.unwrap();
    assert!(
        mg.neurons[2].emission > 0 && mg.neurons[1].emission == 0,
        "{:?}",
        mg.neurons
    );
    // Everyone is still immune (immunity 100 blocks): the lowest emission overall goes: uid 1.
    let (newcomer, uid) = join(&n).await;
    assert_eq!(uid, Uid(1));
    let mg = n.chain.metagraph(n.netuid).await.unwrap();
    assert_eq!(mg.neurons.len(), 3);
    assert_eq!(mg.neurons[1].hotkey, hotkey(&newcomer));
    assert_eq!(mg.neurons[1].block_at_registration, mg.block);
    assert!(!mg.neurons[1].validator_permit);
    // The validator's weight to the victim is zeroed but kept.
    assert_eq!(mg.neurons[0].weights, vec![(1, 0), (2, 65535)]);

    // Past immunity, a fresh (immune) low-emission neuron is spared; the oldest non-immune goes.
    let n2 = net(Hyperparameters {
        max_allowed_uids: 2,
        immunity_period: 3,
        ..hp()
    })
    .await;
    let (_a, _) = join(&n2).await; // uid 0, registered at block 0
    n2.chain.produce_blocks(4).unwrap(); // uid 0 is now past immunity
    let (_b, _) = join(&n2).await; // uid 1, immune
    let (_c, uid) = join(&n2).await;
    assert_eq!(
        uid,
        Uid(0),
        "the non-immune neuron is replaced, not the immune one"
    );
}

#[tokio::test]
async fn stake_requires_the_owning_coldkey_and_axons_need_registration() {
    let n = net(hp()).await;
    let (k, _) = join(&n).await;
    let stranger = Keypair::generate();
    let e = n
        .chain
        .add_stake(&stranger, &hotkey(&k), n.netuid, TAO)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "NonAssociatedColdKey");
    let e = n
        .chain
        .add_stake(&n.owner, &hotkey(&Keypair::generate()), n.netuid, TAO)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "HotKeyAccountNotExists");
    let e = n
        .chain
        .add_stake(&n.owner, &hotkey(&k), NetUid(99), TAO)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "SubNetworkDoesNotExist");
    n.chain
        .add_stake(&n.owner, &hotkey(&k), n.netuid, 2 * TAO)
        .await
        .unwrap();
    n.chain
        .add_stake(&n.owner, &hotkey(&k), n.netuid, 3 * TAO)
        .await
        .unwrap();

    let axon = AxonInfo {
        ip: "127.0.0.1".into(),
        port: 8091,
        ip_type: 4,
        protocol: 4,
        version: 1,
    };
    n.chain
        .serve_axon(&k, n.netuid, axon.clone())
        .await
        .unwrap();
    let e = n
        .chain
        .serve_axon(&Keypair::generate(), n.netuid, axon.clone())
        .await
        .unwrap_err();
    assert_eq!(e.name(), "HotKeyNotRegisteredInSubNet");
    let bad = AxonInfo {
        ip: "not-an-ip".into(),
        ..axon.clone()
    };
    assert!(n.chain.serve_axon(&k, n.netuid, bad).await.is_err());

    let mg = n.chain.metagraph(n.netuid).await.unwrap();
    assert_eq!(mg.neurons[0].stake, 5 * TAO);
    assert_eq!(mg.neurons[0].axon, Some(axon));
    assert_eq!(mg.owner_coldkey, n.owner.ss58());
}

#[tokio::test]
async fn set_weights_checks_reject_with_subtensor_error_names() {
    let n = net(Hyperparameters {
        min_allowed_weights: 2,
        weights_version_key: 5,
        stake_threshold: 10,
        ..hp()
    })
    .await;
    let (v, ms) = with_validator(&n, 3).await;
    let (no_permit, _) = join(&n).await;
    let id = n.netuid;
    let c = &n.chain;
    let name = |r: Result<(), ChainError>| r.unwrap_err().name();

    assert_eq!(
        name(c.set_weights(&v, NetUid(77), &[1], &[1], 5).await),
        "SubNetworkDoesNotExist"
    );
    assert_eq!(
        name(c.set_weights(&v, id, &[1, 2], &[1], 5).await),
        "WeightVecNotEqualSize"
    );
    assert_eq!(
        name(c.set_weights(&v, id, &[0, 1, 2, 3, 4, 5], &[1; 6], 5).await),
        "UidsLengthExceedUidsInSubNet"
    );
    assert_eq!(
        name(
            c.set_weights(&Keypair::generate(), id, &[1, 2], &[1, 1], 5)
                .await
        ),
        "HotKeyNotRegisteredInSubNet"
    );
    assert_eq!(
        name(c.set_weights(&ms[0], id, &[1, 2], &[1, 1], 5).await),
        "NotEnoughStakeToSetWeights"
    );
    assert_eq!(
        name(c.set_weights(&v, id, &[1, 2], &[1, 1], 4).await),
        "IncorrectWeightVersionKey"
    );
    c.add_stake(&n.owner, &hotkey(&no_permit), id, 1000)
        .await
        .unwrap();
    assert_eq!(
        name(c.set_weights(&no_permit, id, &[1, 2], &[1, 1], 5).await),
        "NeuronNoValidatorPermit"
    );
    assert_eq!(
        name(c.set_weights(&v, id, &[1, 1], &[1, 1], 5).await),
        "DuplicateUids"
    );
    assert_eq!(
        name(c.set_weights(&v, id, &[1, 9], &[1, 1], 5).await),
        "UidVecContainInvalidOne"
    );
    assert_eq!(
        name(c.set_weights(&v, id, &[1], &[1], 5).await),
        "WeightVecLengthIsLow"
    );
    // A single self-weight needs neither a permit nor the minimum length.
    c.set_weights(&no_permit, id, &[4], &[7], 5).await.unwrap();
    c.set_weights(&v, id, &[1, 2], &[1, 1], 5).await.unwrap();
}

#[tokio::test]
async fn weights_are_max_upscaled_with_explicit_zeros_and_last_update_set() {
    let n = net(hp()).await;
    let (v, _) = with_validator(&n, 3).await;
    n.chain.produce_blocks(2).unwrap();
    // Examples from reference/yuma/README.md section 2.
    n.chain
        .set_weights(&v, n.netuid, &[2, 1], &[43690, 21845], 0)
        .await
        .unwrap();
    let mg = n.chain.metagraph(n.netuid).await.unwrap();
    assert_eq!(mg.neurons[0].weights, vec![(2, 65535), (1, 32768)]);
    assert_eq!(mg.neurons[0].last_update, mg.block);
    n.chain
        .set_weights(&v, n.netuid, &[1, 2, 3], &[32767, 0, 32767], 0)
        .await
        .unwrap();
    let mg = n.chain.metagraph(n.netuid).await.unwrap();
    assert_eq!(mg.neurons[0].weights, vec![(1, 65535), (2, 0), (3, 65535)]);
}

#[tokio::test]
async fn rate_limit_blocks_a_second_set_until_enough_blocks_pass() {
    let n = net(Hyperparameters {
        weights_rate_limit: 3,
        ..hp()
    })
    .await;
    let (v, _) = with_validator(&n, 2).await;
    n.chain.produce_block().unwrap();
    // The first set after registering is allowed at once.
    n.chain
        .set_weights(&v, n.netuid, &[1, 2], &[1, 1], 0)
        .await
        .unwrap();
    n.chain.produce_blocks(2).unwrap();
    let e = n
        .chain
        .set_weights(&v, n.netuid, &[1, 2], &[1, 2], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "SettingWeightsTooFast");
    n.chain.produce_block().unwrap();
    n.chain
        .set_weights(&v, n.netuid, &[1, 2], &[1, 2], 0)
        .await
        .unwrap();
}

#[tokio::test]
async fn epochs_fire_every_tempo_blocks_and_pay_by_weight() {
    let n = net(hp()).await;
    let (v, _) = with_validator(&n, 2).await; // permits from a manual epoch at block 0
    n.chain.produce_block().unwrap();
    n.chain
        .set_weights(&v, n.netuid, &[1, 2], &[1, 3], 0)
        .await
        .unwrap();
    // Subnet created at block 0, tempo 5: epochs at blocks 5 and 10.
    n.chain.produce_blocks(9).unwrap();
    let history = n.chain.epoch_history(n.netuid).await.unwrap();
    let blocks: Vec<u64> = history.iter().map(|e| e.block).collect();
    assert_eq!(
        blocks,
        vec![0, 5, 10],
        "manual epoch at 0, then every tempo blocks"
    );
    let last = history.last().unwrap();
    assert_eq!(
        last.rao_emission,
        5 * TAO,
        "emission per block x blocks since the previous epoch"
    );
    let incentive: Vec<u16> = last.neurons.iter().map(|x| x.incentive).collect();
    let total: u32 = incentive.iter().map(|&x| x as u32).sum();
    assert!((65533..=65535).contains(&total), "{incentive:?}");
    assert!(
        (incentive[2] as f64 / incentive[1] as f64 - 3.0).abs() < 0.01,
        "{incentive:?}"
    );
    let paid: u64 = last.neurons.iter().map(|x| x.emission).sum();
    assert!(paid <= 5 * TAO && paid > 5 * TAO - 1000, "{paid}");
    let mg = n.chain.metagraph(n.netuid).await.unwrap();
    assert_eq!(mg.neurons[2].incentive, incentive[2]);
    assert!(mg.neurons[0].dividends > 0);
    assert_eq!(
        mg.neurons[0].stake,
        1000 * TAO,
        "emission is not added to stake"
    );

    // Tempo 0 never fires.
    n.chain
        .set_hyperparameter(&n.owner, n.netuid, "tempo", "0")
        .await
        .unwrap();
    n.chain.produce_blocks(20).unwrap();
    assert_eq!(n.chain.epoch_history(n.netuid).await.unwrap().len(), 3);
}

#[tokio::test]
async fn nothing_is_lost_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Keypair::generate();
    let (v, m) = (Keypair::generate(), Keypair::generate());
    let netuid;
    let before;
    {
        let chain = LocalChain::open(dir.path()).unwrap();
        netuid = chain.create_subnet(&owner, Some(&v), hp()).await.unwrap();
        chain.register(netuid, &m, &owner.public()).await.unwrap();
        chain
            .add_stake(&owner, &hotkey(&v), netuid, 10 * TAO)
            .await
            .unwrap();
        let axon = AxonInfo {
            ip: "::1".into(),
            port: 9000,
            ip_type: 6,
            protocol: 4,
            version: 2,
        };
        chain.serve_axon(&m, netuid, axon).await.unwrap();
        chain.produce_blocks(5).unwrap();
        chain
            .set_weights(&v, netuid, &[0, 1], &[1, 1], 0)
            .await
            .unwrap();
        chain.set_emission_per_block(7).unwrap();
        chain.produce_blocks(6).unwrap();
        chain
            .set_hyperparameter(&owner, netuid, "kappa", "30000")
            .await
            .unwrap();
        before = chain.metagraph(netuid).await.unwrap();
        assert!(
            before.neurons.iter().any(|x| !x.bonds.is_empty()),
            "bonds exist to be kept"
        );
    }
    let chain = LocalChain::open(dir.path()).unwrap();
    assert_eq!(chain.block().await.unwrap(), 11);
    assert_eq!(chain.metagraph(netuid).await.unwrap(), before);
    assert_eq!(chain.emission_per_block().unwrap(), 7);
    assert_eq!(chain.epoch_history(netuid).await.unwrap().len(), 2);
    assert_eq!(chain.produce_block().unwrap(), 12);
}

#[tokio::test]
async fn commit_reveal_round_trip() {
    let n = net(Hyperparameters {
        commit_reveal: true,
        commit_reveal_period: 1,
        ..hp()
    })
    .await;
    let (v, _) = with_validator(&n, 2).await;
    let c = &n.chain;
    let id = n.netuid;
    let e = c
        .set_weights(&v, id, &[1, 2], &[1, 1], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "CommitRevealEnabled");
    let e = c
        .reveal_weights(&v, id, &[1, 2], &[1, 1], &[9], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "NoWeightsCommitFound");

    let (uids, values, salt) = ([1u16, 2], [10u16, 30], [1u16, 2, 3, 4]);
    c.produce_block().unwrap();
    c.commit_weights(
        &v,
        id,
        commit_hash(&v.public(), id, &uids, &values, &salt, 0),
    )
    .await
    .unwrap();
    let e = c
        .reveal_weights(&v, id, &uids, &values, &salt, 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "RevealTooEarly");
    c.produce_blocks(4).unwrap(); // block 5: an epoch, the reveal window opens
    let e = c
        .reveal_weights(&v, id, &uids, &values, &[4, 3, 2, 1], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "InvalidRevealCommitHashNotMatch");
    c.reveal_weights(&v, id, &uids, &values, &salt, 0)
        .await
        .unwrap();
    let mg = c.metagraph(id).await.unwrap();
    assert_eq!(mg.neurons[0].weights, vec![(1, 21845), (2, 65535)]);
    assert_eq!(
        mg.neurons[0].last_update, 1,
        "with commit-reveal, last_update is the commit block"
    );
    let e = c
        .reveal_weights(&v, id, &uids, &values, &salt, 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "NoWeightsCommitFound", "a commit reveals once");

    // A commit not revealed in its window expires.
    c.commit_weights(
        &v,
        id,
        commit_hash(&v.public(), id, &uids, &values, &[7], 0),
    )
    .await
    .unwrap();
    c.produce_blocks(10).unwrap(); // two epochs later
    let e = c
        .reveal_weights(&v, id, &uids, &values, &[7], 0)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "ExpiredWeightCommit");

    // Turning commit-reveal off brings set_weights back and rejects commits.
    let e = c
        .set_hyperparameter(&Keypair::generate(), id, "commit_reveal", "false")
        .await
        .unwrap_err();
    assert_eq!(e.name(), "NotSubnetOwner");
    c.set_hyperparameter(&n.owner, id, "commit_reveal", "false")
        .await
        .unwrap();
    let e = c.commit_weights(&v, id, [0; 32]).await.unwrap_err();
    assert_eq!(e.name(), "CommitRevealDisabled");
    c.set_weights(&v, id, &[1, 2], &[1, 1], 0).await.unwrap();
}

#[tokio::test]
async fn too_many_unrevealed_commits_are_refused() {
    let n = net(Hyperparameters {
        commit_reveal: true,
        ..hp()
    })
    .await;
    let (v, _) = with_validator(&n, 1).await;
    for i in 0..10u8 {
        n.chain.commit_weights(&v, n.netuid, [i; 32]).await.unwrap();
    }
    let e = n
        .chain
        .commit_weights(&v, n.netuid, [99; 32])
        .await
        .unwrap_err();
    assert_eq!(e.name(), "TooManyUnrevealedCommits");
}

#[tokio::test]
async fn block_timer_produces_blocks_and_wait_for_block_returns() {
    let dir = tempfile::tempdir().unwrap();
    let chain = std::sync::Arc::new(LocalChain::open(dir.path()).unwrap());
    let handle = chain
        .clone()
        .spawn_block_production(std::time::Duration::from_millis(5));
    let reached = chain.wait_for_block(3).await.unwrap();
    assert!(reached >= 3);
    handle.abort();
}
