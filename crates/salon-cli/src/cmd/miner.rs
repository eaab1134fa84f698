//! `salon miner`: serve engines behind a signed axon.

use super::keys_args::WalletFlags;
use crate::usage::usage;
use anyhow::Context;
use clap::Args;
use salon_core::{NetUid, Task};
use salon_miner::admission::ChainAdmission;
use salon_miner::{Behaviour, Miner};
use salon_wire::AdmitAll;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Serve a profile's tasks behind an axon: Salon's native synapse and the seeds' synapses
/// (MusicGeneration, TextToSpeech, VoiceClone, ImageGenerating, ImageSynapse).
///
/// With --chain the miner follows the metagraph: callers must be registered with enough stake
/// (the profile's minimum) and are served in stake order. With --no-chain any correctly signed
/// caller is served (local testing).
#[derive(Args)]
pub struct MinerArgs {
    /// Profile whose tasks to serve.
    #[arg(long, default_value = "salon")]
    profile: String,
    #[command(flatten)]
    wallet: WalletFlags,
    /// Address to listen on.
    #[arg(long = "axon.ip", default_value = "127.0.0.1")]
    ip: String,
    /// Port to listen on.
    #[arg(long = "axon.port", default_value_t = 8091)]
    port: u16,
    /// Serve without a chain: admit any correctly signed caller.
    #[arg(long, conflicts_with = "chain")]
    no_chain: bool,
    /// URL of a chain service (`salon chain serve`), e.g. http://127.0.0.1:9944.
    #[arg(long)]
    chain: Option<String>,
    /// Subnet to serve on.
    #[arg(long, default_value_t = 1)]
    netuid: u16,
    /// Engine per task or family, e.g. --engine music=builtin --engine image=builtin:fidelity=0.8.
    #[arg(long = "engine", value_name = "TASK=SPEC")]
    engines: Vec<String>,
    /// Devnet behaviour (for testing incentive mechanisms): honest, weak, lazy, copycat, slow, broken.
    #[arg(long, default_value = "honest", hide = true)]
    behaviour: String,
}

fn engine_overrides(
    specs: &[String],
) -> anyhow::Result<Vec<(Vec<Task>, salon_engines::spec::EngineSpec)>> {
    let mut out = Vec::new();
    for s in specs {
        let (key, spec) = s.split_once('=').ok_or_else(|| {
            usage(format!(
                "--engine {s:?}: expected TASK=SPEC, e.g. music=builtin"
            ))
        })?;
        let tasks: Vec<Task> = Task::ALL
            .into_iter()
            .filter(|t| t.as_str() == key || t.family() == key)
            .collect();
        if tasks.is_empty() {
            return Err(usage(format!(
                "--engine {s:?}: {key:?} is neither a task nor a family (music, speech, voice_clone, image, embedding, detector, text)"
            )));
        }
        let spec = salon_engines::spec::EngineSpec::parse(spec)
            .map_err(|e| usage(format!("--engine {s:?}: {e}")))?;
        out.push((tasks, spec));
    }
    Ok(out)
}

/// Runs `salon miner`.
pub async fn run(args: MinerArgs) -> anyhow::Result<()> {
    let profile = crate::profiles::load(&args.profile)?;
    let behaviour: Behaviour = args
        .behaviour
        .parse()
        .map_err(|e: salon_miner::behaviour::UnknownBehaviour| usage(e.to_string()))?;
    if !args.no_chain && args.chain.is_none() {
        return Err(usage(
            "give --chain URL to follow a chain, or --no-chain to serve any signed caller",
        ));
    }
    let hotkey = args.wallet.hotkey()?;
    let mut engines: BTreeMap<Task, Arc<dyn salon_engines::Engine>> =
        salon_miner::serve::engines_for(&profile, behaviour);
    for (tasks, spec) in engine_overrides(&args.engines)? {
        for t in tasks {
            engines.insert(
                t,
                spec.build(t).map_err(|e| usage(format!("--engine: {e}")))?,
            );
        }
    }
    let addr = format!("{}:{}", args.ip, args.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
        usage(format!(
            "cannot listen on {addr}: {e} (port in use? pick another --axon.port)"
        ))
    })?;
    let miner = Arc::new(Miner::new(engines, behaviour));
    let tasks: Vec<String> = miner.tasks().iter().map(|t| t.to_string()).collect();
    let (handle, refresher) = match &args.chain {
        None => (
            salon_miner::serve::axon(miner, hotkey.clone(), Arc::new(AdmitAll), &profile)
                .serve(listener)?,
            None,
        ),
        Some(url) => {
            let chain: Arc<dyn salon_chain::Chain> =
                Arc::new(salon_chain::remote::RemoteChain::new(url));
            let netuid = NetUid(args.netuid);
            let mg = chain
                .metagraph(netuid)
                .await
                .with_context(|| format!("reading subnet {netuid} from {url}"))?;
            if mg.neuron_by_hotkey(&hotkey.ss58()).is_none() {
                return Err(usage(format!(
                    "hotkey {} is not registered on subnet {netuid}",
                    hotkey.ss58()
                )));
            }
            let admission = ChainAdmission::new(profile.miner.clone());
            admission.update(mg);
            let refresher = admission.spawn_refresh(chain.clone(), netuid, Duration::from_secs(12));
            let handle = salon_miner::serve::axon(miner, hotkey.clone(), admission, &profile)
                .serve(listener)?;
            let port = handle.local_addr().port();
            let info = salon_chain::AxonInfo {
                ip: args.ip.clone(),
                port,
                ip_type: 4,
                protocol: 4,
                version: 1_000,
            };
            chain
                .serve_axon(&hotkey, netuid, info)
                .await
                .context("publishing the axon on the chain")?;
            (handle, Some(refresher))
        }
    };
    eprintln!(
        "miner {} serving {} on {} ({})",
        hotkey.ss58(),
        tasks.join(", "),
        handle.local_addr(),
        if args.no_chain {
            "no chain: any signed caller"
        } else {
            "admission from the chain"
        }
    );
    tokio::signal::ctrl_c().await.ok();
    if let Some(r) = refresher {
        r.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), handle.shutdown()).await;
    Ok(())
}
