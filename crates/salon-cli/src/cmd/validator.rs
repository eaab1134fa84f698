//! `salon validator`: challenge miners, score them, set weights.

use super::keys_args::WalletFlags;
use crate::usage::usage;
use anyhow::Context;
use clap::Args;
use salon_core::NetUid;
use salon_validator::dendrite_client::DendriteClient;
use salon_validator::scorers::Scorers;
use salon_validator::store::Store;
use salon_validator::{Validator, ValidatorOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// Run the validator loop of a profile against a chain: each step one task, one group of miners,
/// one fresh challenge; rewards aggregated per miner and task; weights on the profile's schedule.
#[derive(Args)]
pub struct ValidatorArgs {
    /// Profile (incentive mechanism) to run.
    #[arg(long, default_value = "salon")]
    profile: String,
    #[command(flatten)]
    wallet: WalletFlags,
    /// URL of a chain service (`salon chain serve`), e.g. http://127.0.0.1:9944.
    #[arg(long)]
    chain: String,
    /// Subnet to validate.
    #[arg(long, default_value_t = 1)]
    netuid: u16,
    /// SQLite file for scores and history (a restart resumes from it).
    #[arg(long, default_value = "validator.sqlite")]
    state: PathBuf,
    /// Stop after this many steps (default: run until Ctrl-C).
    #[arg(long)]
    steps: Option<u64>,
}

/// Runs `salon validator`.
pub async fn run(args: ValidatorArgs) -> anyhow::Result<()> {
    let profile = crate::profiles::load(&args.profile)?;
    let hotkey = args.wallet.hotkey()?;
    let chain: Arc<dyn salon_chain::Chain> =
        Arc::new(salon_chain::remote::RemoteChain::new(&args.chain));
    let netuid = NetUid(args.netuid);
    chain
        .metagraph(netuid)
        .await
        .with_context(|| format!("reading subnet {netuid} from {}", args.chain))?;
    let store = Store::open(&args.state).map_err(|e| {
        usage(format!(
            "cannot open validator state {}: {e}",
            args.state.display()
        ))
    })?;
    let scorers = tokio::task::spawn_blocking({
        let p = profile.clone();
        move || Scorers::builtin(&p)
    })
    .await?;
    let v = Arc::new(Validator::new(
        chain,
        hotkey.clone(),
        Arc::new(DendriteClient::new(hotkey.clone())),
        ValidatorOptions {
            netuid,
            profile,
            version_key: 0,
            rng_seed: rand::random(),
        },
        scorers,
        store,
    ));
    let (tx, rx) = tokio::sync::watch::channel(false);
    match args.steps {
        Some(n) => {
            for _ in 0..n {
                let r = v.step().await?;
                for (uid, reward, status, note) in &r.results {
                    println!(
                        "step {} {} uid {uid}: reward {reward:.3} (status {status}{})",
                        r.step,
                        r.task,
                        note.as_deref()
                            .map(|n| format!(", {n}"))
                            .unwrap_or_default()
                    );
                }
                v.maybe_set_weights().await?;
            }
        }
        None => {
            let task = tokio::spawn({
                let v = v.clone();
                async move { v.run(rx).await }
            });
            tokio::signal::ctrl_c().await.ok();
            let _ = tx.send(true);
            let _ = task.await;
        }
    }
    Ok(())
}
