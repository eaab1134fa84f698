//! `salon validator`: challenge miners, score them, set weights (or, with --no-chain, challenge
//! the miners named by --axon and print the weights it would set).

use super::keys_args::WalletFlags;
use crate::usage::usage;
use anyhow::Context;
use clap::Args;
use salon_chain::fixed::{FixedChain, FixedNeuron, WeightSet};
use salon_chain::{AxonInfo, Chain, NeuronInfo};
use salon_core::NetUid;
use salon_keys::PublicKey;
use salon_validator::dendrite_client::DendriteClient;
use salon_validator::scorers::Scorers;
use salon_validator::store::Store;
use salon_validator::{Validator, ValidatorOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Run the validator loop of a profile: each step one task, one group of miners, one fresh
/// challenge; rewards aggregated per miner and task; weights on the profile's schedule.
#[derive(Args)]
#[command(after_help = MODES)]
pub struct ValidatorArgs {
    /// Profile (incentive mechanism) to run.
    #[arg(long, default_value = "salon")]
    profile: String,
    #[command(flatten)]
    wallet: WalletFlags,
    /// URL of a chain service (`salon chain serve`), e.g. http://127.0.0.1:9944.
    #[arg(long)]
    chain: Option<String>,
    /// Run with no chain: challenge the miners given by --axon and print the weights instead of
    /// setting them.
    #[arg(long)]
    no_chain: bool,
    /// With --no-chain: a miner to challenge, as HOTKEY@IP:PORT (repeat for more; IPv6 as
    /// HOTKEY@[::1]:PORT). The hotkey is required: each request is signed for the miner's hotkey,
    /// and an address alone does not prove which key the miner holds. A Salon miner prints its
    /// hotkey when it starts; `salon wallet show` prints any wallet's.
    #[arg(long = "axon", value_name = "HOTKEY@IP:PORT")]
    axons: Vec<String>,
    /// Subnet to validate.
    #[arg(long, default_value_t = 1)]
    netuid: u16,
    /// SQLite file for scores and history (a restart resumes from it).
    #[arg(long, default_value = "validator.sqlite")]
    state: PathBuf,
    /// Stop after this many steps (default: run until Ctrl-C).
    #[arg(long)]
    steps: Option<u64>,
    /// Music profiles (bittaudio): folder of the released evaluation checkpoints
    /// (vggish-10086976.pth, passt-s-f128-p16-s10-ap.476-swa.pt, larger_clap_music/). Default: those
    /// found in $SALON_MODELS_DIR, the torch hub cache and the Hugging Face cache; with none, music
    /// is scored with the built-in metrics (the log says which).
    #[arg(long, value_name = "DIR", conflicts_with = "builtin_metrics")]
    models: Option<PathBuf>,
    /// Folder of reference WAV clips that music FAD and KLD compare against (default: the
    /// built-in composer's set).
    #[arg(long, value_name = "DIR")]
    music_reference: Option<PathBuf>,
    /// Score with the built-in metrics only, even where checkpoints are found.
    #[arg(long)]
    builtin_metrics: bool,
    /// Where the evaluation models run: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// The models' number format: f32 (as the Python peers), or f16 to run PaSST, most of a
    /// clip's arithmetic, in half precision (its logits stay within 1% of f32's; on an H100 a
    /// batch of ten 15 s clips scores in about 0.12 s against 0.19 s in f32). Default: f16 on a
    /// GPU, f32 on the CPU.
    #[arg(long, value_name = "f32|f16")]
    eval_precision: Option<salon_eval::models::music::Precision>,
}

/// The two ways to run, shown after the options in --help.
const MODES: &str = "\
With --chain URL the miners come from the subnet's metagraph and weights are set on the chain.

With --no-chain (local testing against Salon or Python miners) the miners are the --axon
HOTKEY@IP:PORT values: they take uids 0..n-1 in the order given (this validator takes uid n).
They are challenged and scored as usual; instead of setting weights the validator prints them,
one line per miner uid, as fractions summing to 1:
    weights block B: uid U HOTKEY weight W
on the profile's schedule (weights_interval_blocks; blocks last the profile's block_time_ms and
count from the Unix epoch) and once more at the end of --steps. Scores and history stay in
--state as with a chain, so a restart resumes.

Example, against a miner started with `salon miner --no-chain --axon.port 8091`:
    salon validator --no-chain --wallet.name v --steps 5 \\
        --axon 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY@127.0.0.1:8091";

/// Where the miners come from.
enum Source {
    /// A chain service at this URL.
    Chain(String),
    /// The --axon list, with no chain.
    Fixed(Vec<FixedNeuron>),
}

const AXON_FORM: &str =
    "expected HOTKEY@IP:PORT, e.g. 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY@127.0.0.1:8091";

/// Parses one --axon value (`HOTKEY@IP:PORT`) into a miner neuron.
fn parse_axon(value: &str) -> anyhow::Result<FixedNeuron> {
    let Some((hotkey, addr)) = value.split_once('@') else {
        if value.parse::<SocketAddr>().is_ok() {
            return Err(usage(format!(
                "--axon {value:?}: give the miner's hotkey too, as HOTKEY@{value} (each request is signed for the miner's hotkey; a Salon miner prints it when it starts)"
            )));
        }
        return Err(usage(format!("--axon {value:?}: {AXON_FORM}")));
    };
    let hotkey = PublicKey::from_ss58(hotkey)
        .map_err(|e| {
            usage(format!(
                "--axon {value:?}: {hotkey:?} is not an SS58 hotkey address ({e}); {AXON_FORM}"
            ))
        })?
        .to_ss58();
    let addr: SocketAddr = addr.parse().map_err(|_| {
        usage(format!(
            "--axon {value:?}: {addr:?} is not IP:PORT (IPv6 as [::1]:PORT); {AXON_FORM}"
        ))
    })?;
    if addr.port() == 0 {
        return Err(usage(format!(
            "--axon {value:?}: port 0 is not a port a miner listens on"
        )));
    }
    Ok(FixedNeuron {
        hotkey,
        axon: Some(AxonInfo {
            ip: addr.ip().to_string(),
            port: addr.port(),
            ip_type: if addr.is_ipv6() { 6 } else { 4 },
            protocol: 4,
            version: 0,
        }),
        validator_permit: false,
    })
}

/// Checks that exactly one of --chain / --no-chain is given and parses the --axon list.
fn source(args: &ValidatorArgs) -> anyhow::Result<Source> {
    match (&args.chain, args.no_chain) {
        (Some(_), true) => Err(usage(
            "give either --chain URL (miners from the metagraph) or --no-chain (miners from --axon), not both",
        )),
        (None, false) => Err(usage(
            "give --chain URL to validate a subnet, or --no-chain with --axon HOTKEY@IP:PORT to challenge explicit miners",
        )),
        (Some(url), false) => {
            if !args.axons.is_empty() {
                return Err(usage(
                    "--axon needs --no-chain: with --chain the miners come from the metagraph",
                ));
            }
            Ok(Source::Chain(url.clone()))
        }
        (None, true) => {
            if args.axons.is_empty() {
                return Err(usage(format!(
                    "--no-chain needs at least one --axon HOTKEY@IP:PORT to challenge ({AXON_FORM})"
                )));
            }
            let mut neurons: Vec<FixedNeuron> = Vec::with_capacity(args.axons.len());
            for v in &args.axons {
                let n = parse_axon(v)?;
                if let Some(uid) = neurons.iter().position(|m| m.hotkey == n.hotkey) {
                    return Err(usage(format!(
                        "--axon {v:?}: hotkey {} is already uid {uid}; give each miner once",
                        n.hotkey
                    )));
                }
                neurons.push(n);
            }
            Ok(Source::Fixed(neurons))
        }
    }
}

/// Prints one weight set, one line per miner uid (not the validator's own), as fractions of 1.
fn print_weights(set: &WeightSet, neurons: &[NeuronInfo]) {
    let total: f64 = set.weights.iter().map(|(_, w)| *w as f64).sum();
    for (uid, w) in &set.weights {
        if *uid == set.uid {
            continue;
        }
        let hotkey = neurons
            .get(*uid as usize)
            .map(|n| n.hotkey.0.as_str())
            .unwrap_or("?");
        let frac = if total > 0.0 { *w as f64 / total } else { 0.0 };
        println!(
            "weights block {}: uid {uid} {hotkey} weight {frac:.6}",
            set.block
        );
    }
}

/// Runs `salon validator`.
pub async fn run(args: ValidatorArgs) -> anyhow::Result<()> {
    let source = source(&args)?;
    let profile = crate::profiles::load(&args.profile)?;
    let hotkey = args.wallet.hotkey()?;
    let netuid = NetUid(args.netuid);
    let (chain, fixed): (Arc<dyn Chain>, Option<Arc<FixedChain>>) = match source {
        Source::Chain(url) => {
            let chain: Arc<dyn Chain> = Arc::new(salon_chain::remote::RemoteChain::new(&url));
            chain
                .metagraph(netuid)
                .await
                .with_context(|| format!("reading subnet {netuid} from {url}"))?;
            (chain, None)
        }
        Source::Fixed(mut neurons) => {
            let me = hotkey.ss58();
            if let Some(uid) = neurons.iter().position(|n| n.hotkey == me) {
                return Err(usage(format!(
                    "--axon {:?}: uid {uid} has this validator's own hotkey {me}; a validator does not challenge itself (run the miner with another hotkey)",
                    args.axons[uid]
                )));
            }
            neurons.push(FixedNeuron {
                hotkey: me,
                axon: None,
                validator_permit: true,
            });
            let block_ms = profile.network.block_time_ms.max(1);
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let fixed = FixedChain::new(
                netuid,
                salon_chain::hyperparameters_for(&profile.network),
                neurons,
                now_ms / block_ms,
                Duration::from_millis(block_ms),
            )
            .map_err(|e| usage(format!("--axon: {e}")))?
            .on_weights(print_weights);
            let fixed = Arc::new(fixed);
            (fixed.clone() as Arc<dyn Chain>, Some(fixed))
        }
    };
    let store = Store::open(&args.state).map_err(|e| {
        usage(format!(
            "cannot open validator state {}: {e}",
            args.state.display()
        ))
    })?;
    let music = music_models(&args, &profile)?;
    let scorers = tokio::task::spawn_blocking({
        let p = profile.clone();
        move || -> anyhow::Result<Scorers> {
            let s = Scorers::builtin(&p);
            match music {
                Some((models, reference)) => s
                    .with_music_models(&p, models, reference)
                    .map_err(|e| usage(format!("music reference set: {e}"))),
                None => Ok(s),
            }
        }
    })
    .await??;
    let weight_power = profile.validator.weight_power;
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
            let mut last_set = false;
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
                last_set = v.maybe_set_weights().await?.is_some();
            }
            if let (Some(fixed), false) = (&fixed, last_set) {
                final_weights(fixed, &v, &hotkey, netuid, weight_power, n).await?;
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

/// With --no-chain at the end of --steps: the weights as they stand, printed (and recorded) even
/// when the schedule would wait longer.
async fn final_weights(
    fixed: &FixedChain,
    v: &Validator,
    hotkey: &salon_keys::Keypair,
    netuid: NetUid,
    weight_power: f64,
    steps: u64,
) -> anyhow::Result<()> {
    let mg = fixed.metagraph(netuid).await?;
    let weights = salon_eval::aggregate::normalize_weights(&v.scores(&mg)?, weight_power);
    if weights.iter().all(|w| *w == 0.0) {
        println!("weights after {steps} steps: none (no miner has earned a reward yet)");
        return Ok(());
    }
    let values = salon_eval::aggregate::weights_to_u16(&weights);
    let dests: Vec<u16> = (0..values.len() as u16).collect();
    fixed
        .set_weights(hotkey, netuid, &dests, &values, 0)
        .await
        .context("recording the final weights")?;
    Ok(())
}

/// The music-evaluation models and reference clips to score with, if the profile has music and
/// checkpoints are configured or found.
type MusicSetup = (
    Arc<salon_eval::models::music::MusicModels>,
    Option<Vec<salon_core::Audio>>,
);

fn music_models(
    args: &ValidatorArgs,
    profile: &salon_core::Profile,
) -> anyhow::Result<Option<MusicSetup>> {
    let has_music = profile
        .tasks
        .iter()
        .any(|t| t.task == salon_core::Task::TextToMusic);
    if !has_music || args.builtin_metrics {
        return Ok(None);
    }
    let paths = super::eval_models::model_paths(args.models.as_deref())?;
    if paths.is_empty() {
        tracing::info!(
            "no music-evaluation checkpoints found (--models, $SALON_MODELS_DIR, torch hub and \
             Hugging Face caches): music is scored with the built-in metrics"
        );
        return Ok(None);
    }
    let device = salon_engines::musicgen::device_by_name(&args.device)
        .map_err(|e| usage(format!("--device: {e}")))?;
    let precision = args
        .eval_precision
        .unwrap_or_else(|| salon_eval::models::music::Precision::for_device(&device));
    let models = salon_eval::models::music::MusicModels::load(&paths, &device, precision)
        .map_err(|e| usage(format!("cannot load the music-evaluation models: {e}")))?;
    tracing::info!(
        models = ?models.loaded(),
        device = %args.device,
        precision = %precision,
        "music-evaluation models loaded"
    );
    let reference = args
        .music_reference
        .as_deref()
        .map(|dir| {
            super::fad::wav_files(dir)?
                .iter()
                .map(|f| super::fad::load_wav(f))
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .transpose()?;
    Ok(Some((Arc::new(models), reference)))
}
