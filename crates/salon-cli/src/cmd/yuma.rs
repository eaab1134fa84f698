//! `salon yuma`: replay Yuma Consensus scenarios exactly as subtensor computes them.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Yuma Consensus tools.
#[derive(Args)]
pub struct YumaArgs {
    #[command(subcommand)]
    command: YumaCommand,
}

#[derive(Subcommand)]
enum YumaCommand {
    /// Replay scenario files (one scenario or a JSON list) and print the epochs' outputs as JSON:
    /// consensus, incentive, dividends, validator trust and bonds as u16, permits, emission in rao.
    Replay {
        /// Scenario files in the format of crates/salon-yuma/scenarios/*.json.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs `salon yuma`.
pub fn run(args: YumaArgs) -> anyhow::Result<()> {
    match args.command {
        YumaCommand::Replay { files } => {
            for f in files {
                if !f.is_file() {
                    return Err(crate::usage::usage(format!(
                        "scenario file {} does not exist",
                        f.display()
                    )));
                }
                let out = salon_yuma::replay::replay_file(&f)
                    .map_err(|e| crate::usage::usage(format!("{}: {e}", f.display())))?;
                println!("{out}");
            }
            Ok(())
        }
    }
}
