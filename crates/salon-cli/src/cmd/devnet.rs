//! `salon devnet`: the whole network on this machine, offline.

use crate::devnet::{self, DevnetPlan};
use crate::usage::usage;
use clap::Args;
use std::path::PathBuf;

/// Run a chain, a validator and miners in one process for some epochs, then print a leaderboard.
///
/// Everything is real: sr25519 wallets in the btcli layout under DIR/wallets, signed Bittensor
/// 10.x requests over HTTP on 127.0.0.1, Yuma Consensus at every epoch, state in SQLite. A second
/// run with the same --dir resumes the same network.
#[derive(Args)]
pub struct DevnetArgs {
    /// Profile: salon, bittaudio, audiosubnet, vision, nicheimage, bitmind, or a path to a TOML file.
    #[arg(long, default_value = "salon")]
    profile: String,
    /// Epochs to run before printing the leaderboard.
    #[arg(long, default_value_t = 3)]
    epochs: u32,
    /// Directory for the chain, wallets and validator state.
    #[arg(long, default_value = "devnet")]
    dir: PathBuf,
    /// Miner mix as BEHAVIOUR=COUNT,...; behaviours: honest, weak, lazy, copycat, slow, broken.
    /// [default: honest=2,weak=1,lazy=1,copycat=1,slow=1,broken=1, or the mix DIR was created with]
    #[arg(long)]
    miners: Option<String>,
    /// Also write the leaderboard as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// First miner port on 127.0.0.1 (miners use consecutive ports); 0 picks free ports.
    #[arg(long, default_value_t = 0)]
    base_port: u16,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `salon devnet`.
pub async fn run(args: DevnetArgs) -> anyhow::Result<()> {
    let profile = crate::profiles::load(&args.profile)?;
    if args.epochs == 0 {
        return Err(usage("--epochs must be at least 1"));
    }
    let mix = match &args.miners {
        Some(spec) => Some(salon_miner::behaviour::parse_mix(spec).map_err(usage)?),
        None => None,
    };
    if let Some(json) = &args.json {
        if let Some(parent) = json.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(usage(format!(
                    "--json {}: directory {} does not exist",
                    json.display(),
                    parent.display()
                )));
            }
        }
    }
    let report = devnet::run(DevnetPlan {
        profile,
        profile_key: args.profile.clone(),
        epochs: args.epochs,
        dir: args.dir.clone(),
        mix,
        base_port: args.base_port,
        progress: !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        quiet: args.quiet,
    })
    .await?;
    print!("{}", report.table());
    if let Some(json) = &args.json {
        std::fs::write(json, serde_json::to_vec_pretty(&report)?)
            .map_err(|e| usage(format!("cannot write --json {}: {e}", json.display())))?;
    }
    Ok(())
}
