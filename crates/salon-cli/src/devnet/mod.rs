//! The embedded devnet: a LocalChain, one validator and a mix of miners (honest and adversarial)
//! in one process, over real signed HTTP on loopback, for a number of epochs; then a leaderboard.

pub mod manifest;
pub mod report;

use crate::usage::usage;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use manifest::{Manifest, MinerEntry};
use report::{NeuronRow, Report};
use salon_chain::local::LocalChain;
use salon_chain::{AxonInfo, Chain};
use salon_core::{NetUid, Profile};
use salon_keys::{Keypair, Wallet};
use salon_miner::admission::ChainAdmission;
use salon_miner::Behaviour;
use salon_validator::dendrite_client::DendriteClient;
use salon_validator::scorers::Scorers;
use salon_validator::store::Store;
use salon_validator::{Validator, ValidatorOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What to run.
pub struct DevnetPlan {
    /// The incentive mechanism.
    pub profile: Profile,
    /// How the profile was named (manifest key).
    pub profile_key: String,
    /// Epochs to run.
    pub epochs: u32,
    /// State directory.
    pub dir: PathBuf,
    /// Requested mix (None = the manifest's, or the default).
    pub mix: Option<Vec<(Behaviour, usize)>>,
    /// First miner port (0 = any free port).
    pub base_port: u16,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Print nothing while running.
    pub quiet: bool,
}

/// The default mix: every behaviour, two honest miners.
pub const DEFAULT_MIX: &str = "honest=2,weak=1,lazy=1,copycat=1,slow=1,broken=1";

const VALIDATOR_WALLET: &str = "validator";
const OWNER_WALLET: &str = "owner";
const HOTKEY: &str = "default";
/// Validator stake: far above any profile's miner minimum.
const VALIDATOR_STAKE_RAO: u64 = 1_000_000 * 1_000_000_000;

fn check_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| usage(format!("cannot create --dir {}: {e}", dir.display())))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok")
        .map_err(|e| usage(format!("--dir {} is not writable: {e}", dir.display())))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn hotkey_of(wallets: &Path, name: &str) -> anyhow::Result<(Keypair, Keypair)> {
    let w = Wallet::new(wallets, name, HOTKEY);
    let cold = if w.coldkey_path().exists() {
        w.coldkey(None)
            .with_context(|| format!("reading devnet wallet {name}"))?
    } else {
        w.create_coldkey(12, None, false)?.keypair
    };
    let hot = if w.hotkey_path().exists() {
        w.hotkey()?
    } else {
        w.create_hotkey(12, None, false)?.keypair
    };
    Ok((cold, hot))
}

async fn bind(count: usize, base_port: u16) -> anyhow::Result<Vec<tokio::net::TcpListener>> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let port = if base_port == 0 {
            0
        } else {
            base_port
                .checked_add(i as u16)
                .ok_or_else(|| usage("--base-port too high for this many miners"))?
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            usage(format!("cannot listen on {addr} for miner {i}: {e} (port in use? pick another --base-port)"))
        })?;
        out.push(l);
    }
    Ok(out)
}

/// Runs the devnet and returns its report.
pub async fn run(plan: DevnetPlan) -> anyhow::Result<Report> {
    check_dir(&plan.dir)?;
    let existing = Manifest::load(&plan.dir)?;
    let miners: Vec<MinerEntry> = match (&existing, &plan.mix) {
        (Some(m), Some(mix)) if manifest::miners_for(mix) != m.miners => {
            return Err(usage(format!(
                "{} already holds a devnet with miners {}; run it without --miners or use another --dir",
                plan.dir.display(),
                m.mix()
            )))
        }
        (Some(m), _) => m.miners.clone(),
        (None, Some(mix)) => manifest::miners_for(mix),
        (None, None) => manifest::miners_for(&salon_miner::behaviour::parse_mix(DEFAULT_MIX).map_err(usage)?),
    };
    if let Some(m) = &existing {
        if m.profile != plan.profile_key {
            return Err(usage(format!(
                "{} already holds a devnet for profile {:?}; use another --dir for profile {:?}",
                plan.dir.display(),
                m.profile,
                plan.profile_key
            )));
        }
    }
    let listeners = bind(miners.len(), plan.base_port).await?;

    let chain =
        Arc::new(LocalChain::open(&plan.dir.join("chain")).context("opening the devnet chain")?);
    let wallets = plan.dir.join("wallets");
    let (owner_cold, _) = hotkey_of(&wallets, OWNER_WALLET)?;
    let (val_cold, val_hot) = hotkey_of(&wallets, VALIDATOR_WALLET)?;
    let netuid = match &existing {
        Some(m) => NetUid(m.netuid),
        None => {
            chain.set_emission_per_block(plan.profile.network.emission_per_block_rao)?;
            chain
                .create_subnet(
                    &owner_cold,
                    None,
                    salon_chain::hyperparameters_for(&plan.profile.network),
                )
                .await?
        }
    };
    Manifest {
        profile: plan.profile_key.clone(),
        netuid: netuid.0,
        miners: miners.clone(),
    }
    .save(&plan.dir)?;

    let mg = chain.metagraph(netuid).await?;
    if mg.neuron_by_hotkey(&val_hot.ss58()).is_none() {
        chain.register(netuid, &val_hot, &val_cold.public()).await?;
        chain
            .add_stake(
                &val_cold,
                &salon_core::Hotkey(val_hot.ss58()),
                netuid,
                VALIDATOR_STAKE_RAO,
            )
            .await?;
    }
    let mut miner_keys = Vec::new();
    for m in &miners {
        let (cold, hot) = hotkey_of(&wallets, &m.wallet)?;
        if chain
            .metagraph(netuid)
            .await?
            .neuron_by_hotkey(&hot.ss58())
            .is_none()
        {
            chain.register(netuid, &hot, &cold.public()).await?;
        }
        miner_keys.push(hot);
    }

    // Miners: real axons on loopback, admission from the chain.
    let chain_dyn: Arc<dyn Chain> = chain.clone();
    let mut axons = Vec::new();
    let mut refreshers = Vec::new();
    for ((entry, hot), listener) in miners.iter().zip(&miner_keys).zip(listeners) {
        let engines = salon_miner::serve::engines_for(&plan.profile, entry.behaviour);
        let miner = Arc::new(salon_miner::Miner::new(engines, entry.behaviour));
        let admission = ChainAdmission::new(plan.profile.miner.clone());
        admission.update(chain.metagraph(netuid).await?);
        refreshers.push(admission.spawn_refresh(
            chain_dyn.clone(),
            netuid,
            Duration::from_millis(1000),
        ));
        let handle = salon_miner::serve::axon(miner, hot.clone(), admission, &plan.profile)
            .serve(listener)
            .context("starting a miner axon")?;
        let port = handle.local_addr().port();
        chain
            .serve_axon(
                hot,
                netuid,
                AxonInfo {
                    ip: "127.0.0.1".into(),
                    port,
                    ip_type: 4,
                    protocol: 4,
                    version: 1_000,
                },
            )
            .await?;
        axons.push(handle);
    }

    // Validator.
    let validator = Arc::new(Validator::new(
        chain_dyn.clone(),
        val_hot.clone(),
        Arc::new(DendriteClient::new(val_hot.clone())),
        ValidatorOptions {
            netuid,
            profile: plan.profile.clone(),
            version_key: 0,
            rng_seed: 0x5a10_u64 ^ netuid.0 as u64,
        },
        tokio::task::spawn_blocking({
            let p = plan.profile.clone();
            move || Scorers::builtin(&p)
        })
        .await?,
        Store::open(&plan.dir.join("validator.sqlite")).context("opening the validator state")?,
    ));
    let start_step = validator.current_step()?;
    let epochs_before = chain.epoch_history_now(netuid)?.len();
    let blocks = chain
        .clone()
        .spawn_block_production(Duration::from_millis(plan.profile.network.block_time_ms));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let vtask = tokio::spawn({
        let v = validator.clone();
        async move { v.run(stop_rx).await }
    });

    let bar = if plan.progress {
        ProgressBar::new(plan.epochs as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} epoch {pos}/{len} [{bar:30}] {elapsed_precise} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let plain_progress = !plan.progress && !plan.quiet;
    let mut reported = 0;
    let result: anyhow::Result<()> = async {
        loop {
            let done = chain
                .epoch_history_now(netuid)?
                .len()
                .saturating_sub(epochs_before);
            bar.set_position(done as u64);
            if plain_progress && done > reported {
                reported = done;
                eprintln!(
                    "epoch {done}/{} done at block {}",
                    plan.epochs,
                    chain.height()
                );
            }
            bar.set_message(format!(
                "block {}  validator step {}",
                chain.height(),
                validator.current_step()?
            ));
            if done >= plan.epochs as usize {
                return Ok(());
            }
            if vtask.is_finished() {
                anyhow::bail!("the validator stopped unexpectedly");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    .await;
    bar.finish_and_clear();

    // Shut down: validator, blocks, axons.
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), vtask).await;
    blocks.abort();
    refreshers.iter().for_each(|r| r.abort());
    for a in axons {
        let _ = tokio::time::timeout(Duration::from_millis(500), a.shutdown()).await;
    }
    result?;

    // Report.
    let mg = chain.metagraph(netuid).await?;
    let means = validator.mean_rewards(start_step + 1)?;
    let steps = validator.current_step()? - start_step;
    let mut neurons: Vec<NeuronRow> = mg
        .neurons
        .iter()
        .map(|n| {
            let entry = miners
                .iter()
                .zip(&miner_keys)
                .find(|(_, k)| k.ss58() == n.hotkey.0)
                .map(|(e, _)| e);
            let (score, queries) = means
                .iter()
                .find(|(h, _, _)| *h == n.hotkey.0)
                .map(|(_, s, c)| (*s, *c))
                .unwrap_or((0.0, 0));
            NeuronRow {
                uid: n.uid.0,
                hotkey: n.hotkey.0.clone(),
                role: if entry.is_some() {
                    "miner"
                } else {
                    "validator"
                },
                behaviour: entry
                    .map(|e| e.behaviour.to_string())
                    .unwrap_or_else(|| "-".into()),
                score,
                incentive: n.incentive as f64 / 65535.0,
                dividends: n.dividends as f64 / 65535.0,
                emission: n.emission as f64 / 1e9,
                queries,
            }
        })
        .collect();
    neurons.sort_by(|a, b| b.incentive.total_cmp(&a.incentive).then(a.uid.cmp(&b.uid)));
    Ok(Report {
        profile: plan.profile.name.clone(),
        epochs: plan.epochs,
        block: chain.height(),
        netuid: netuid.0,
        steps,
        neurons,
    })
}
