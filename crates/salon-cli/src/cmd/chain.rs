//! `salon chain`: serve a persistent LocalChain over HTTP (`serve`) so processes share one devnet,
//! and print a subnet summary from a service or a chain directory (`info`).

use crate::usage::usage;
use anyhow::Context;
use clap::{Args, Subcommand};
use salon_chain::{Chain, LocalChain, RemoteChain};
use salon_core::NetUid;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Run or inspect a local chain.
#[derive(Args, Debug)]
pub struct ChainArgs {
    #[command(subcommand)]
    command: ChainCommand,
}

#[derive(Subcommand, Debug)]
enum ChainCommand {
    /// Serve a persistent LocalChain over HTTP with signed extrinsics; produces blocks on a timer.
    Serve(ServeArgs),
    /// Print every subnet's metagraph (or one with --netuid) from a service or a chain directory.
    Info(InfoArgs),
    /// Create a subnet owned by a wallet's coldkey, with a profile's network settings.
    CreateSubnet(CreateSubnetArgs),
    /// Register a wallet's hotkey on a subnet (signed by the hotkey).
    Register(RegisterArgs),
    /// Add stake from a wallet's coldkey to its hotkey (the devnet chain's faucet).
    Stake(StakeArgs),
}

/// `salon chain create-subnet` flags.
#[derive(Args, Debug)]
struct CreateSubnetArgs {
    /// URL of a chain service, e.g. http://127.0.0.1:9944.
    #[arg(long)]
    chain: String,
    #[command(flatten)]
    wallet: super::keys_args::WalletFlags,
    /// Profile whose [network] settings (tempo, rate limit, yuma3, commit-reveal) the subnet takes.
    #[arg(long, default_value = "salon")]
    profile: String,
}

/// `salon chain register` flags.
#[derive(Args, Debug)]
struct RegisterArgs {
    /// URL of a chain service.
    #[arg(long)]
    chain: String,
    #[command(flatten)]
    wallet: super::keys_args::WalletFlags,
    /// Subnet to register on.
    #[arg(long, default_value_t = 1)]
    netuid: u16,
}

/// `salon chain stake` flags.
#[derive(Args, Debug)]
struct StakeArgs {
    /// URL of a chain service.
    #[arg(long)]
    chain: String,
    #[command(flatten)]
    wallet: super::keys_args::WalletFlags,
    /// Subnet.
    #[arg(long, default_value_t = 1)]
    netuid: u16,
    /// Amount in TAO.
    #[arg(long)]
    amount: f64,
}

/// `salon chain serve` flags.
#[derive(Args, Debug)]
struct ServeArgs {
    /// Directory holding the chain database (created if missing; reopened as it was).
    #[arg(long, default_value = "chain")]
    dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9944")]
    listen: String,
    /// Milliseconds per block.
    #[arg(long = "block-time", default_value_t = 250)]
    block_time: u64,
    /// Rao emitted per block (kept in the database; default 1 TAO on a new chain).
    #[arg(long = "emission-per-block")]
    emission_per_block: Option<u64>,
}

/// `salon chain info` flags.
#[derive(Args, Debug)]
struct InfoArgs {
    /// URL of a chain service, e.g. http://127.0.0.1:9944.
    #[arg(long, conflicts_with = "dir", required_unless_present = "dir")]
    chain: Option<String>,
    /// A chain directory (read directly; safe while a service runs on it).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Only this subnet.
    #[arg(long)]
    netuid: Option<u16>,
}

/// Runs `salon chain`.
pub async fn run(args: ChainArgs) -> anyhow::Result<()> {
    match args.command {
        ChainCommand::Serve(a) => serve(a).await,
        ChainCommand::Info(a) => info(a).await,
        ChainCommand::CreateSubnet(a) => {
            let profile = crate::profiles::load(&a.profile)?;
            let cold = a.wallet.coldkey()?;
            let chain = RemoteChain::new(&a.chain);
            let hp = salon_chain::hyperparameters_for(&profile.network);
            let netuid = chain.create_subnet(&cold, None, hp).await?;
            println!("created subnet {netuid} owned by {}", cold.ss58());
            Ok(())
        }
        ChainCommand::Register(a) => {
            let hot = a.wallet.hotkey()?;
            let cold = a
                .wallet
                .wallet()
                .coldkeypub()
                .map_err(|e| usage(e.to_string()))?;
            let chain = RemoteChain::new(&a.chain);
            let uid = chain.register(NetUid(a.netuid), &hot, &cold).await?;
            println!(
                "registered {} on subnet {} as uid {uid}",
                hot.ss58(),
                a.netuid
            );
            Ok(())
        }
        ChainCommand::Stake(a) => {
            if !(a.amount.is_finite() && a.amount > 0.0) {
                return Err(usage("--amount must be a positive number of TAO"));
            }
            let cold = a.wallet.coldkey()?;
            let hot = a
                .wallet
                .wallet()
                .hotkeypub()
                .map_err(|e| usage(e.to_string()))?;
            let chain = RemoteChain::new(&a.chain);
            let rao = (a.amount * 1e9).round() as u64;
            chain
                .add_stake(
                    &cold,
                    &salon_core::Hotkey(hot.to_ss58()),
                    NetUid(a.netuid),
                    rao,
                )
                .await?;
            println!(
                "staked {} TAO to {} on subnet {}",
                a.amount,
                hot.to_ss58(),
                a.netuid
            );
            Ok(())
        }
    }
}

fn open(dir: &std::path::Path) -> anyhow::Result<LocalChain> {
    LocalChain::open(dir)
        .map_err(|e| usage(format!("cannot open the chain in {}: {e}", dir.display())))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.block_time == 0 {
        return Err(usage("--block-time must be at least 1 ms"));
    }
    let chain = Arc::new(open(&args.dir)?);
    if let Some(rao) = args.emission_per_block {
        chain
            .set_emission_per_block(rao)
            .context("setting the emission per block")?;
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| {
            usage(format!(
                "cannot listen on {}: {e} (port in use? pick another --listen)",
                args.listen
            ))
        })?;
    let addr = listener
        .local_addr()
        .context("reading the listening address")?;
    let blocks = chain
        .clone()
        .spawn_block_production(Duration::from_millis(args.block_time));
    eprintln!(
        "chain serving on http://{addr} (dir {}, block {}, {} ms blocks); Ctrl-C stops",
        args.dir.display(),
        chain.height(),
        args.block_time
    );
    let result = tokio::select! {
        r = salon_chain::service::serve(chain.clone(), listener) => r.context("chain service stopped"),
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    blocks.abort();
    eprintln!("chain stopped at block {}", chain.height());
    result
}

fn tao(rao: u64) -> f64 {
    rao as f64 / 1e9
}

fn frac(x: u16) -> f64 {
    salon_chain::types::u16_to_fraction(x)
}

async fn info(args: InfoArgs) -> anyhow::Result<()> {
    let chain: Box<dyn Chain> = match (&args.chain, &args.dir) {
        (Some(url), _) => Box::new(RemoteChain::new(url)),
        (None, Some(dir)) => {
            if !dir.join(salon_chain::local::DB_FILE).exists() {
                return Err(usage(format!(
                    "{} holds no chain (no {})",
                    dir.display(),
                    salon_chain::local::DB_FILE
                )));
            }
            Box::new(open(dir)?)
        }
        (None, None) => return Err(usage("give --chain URL or --dir DIR")),
    };
    let block = chain.block().await.context("reading the block height")?;
    let subnets = chain.subnets().await.context("listing subnets")?;
    println!("block {block}, {} subnet(s)", subnets.len());
    for s in subnets
        .iter()
        .filter(|s| args.netuid.is_none_or(|n| n == s.netuid.0))
    {
        let mg = chain
            .metagraph(s.netuid)
            .await
            .with_context(|| format!("reading subnet {}", s.netuid))?;
        let hp = &mg.hyperparameters;
        println!(
            "\nsubnet {} owner {} n {} tempo {} last epoch {} (#{}) commit_reveal {} yuma3 {}",
            s.netuid,
            s.owner_coldkey,
            s.n,
            hp.tempo,
            s.last_epoch_block,
            s.epoch_index,
            hp.commit_reveal,
            hp.yuma3
        );
        println!(
            "{:>4}  {:<12} {:>12} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>12} {:>8}  axon",
            "uid",
            "hotkey",
            "stake(TAO)",
            "permit",
            "active",
            "incentive",
            "dividends",
            "consensus",
            "vtrust",
            "emission",
            "updated"
        );
        for n in &mg.neurons {
            println!(
                "{:>4}  {:<12} {:>12.3} {:>6} {:>6} {:>9.5} {:>9.5} {:>9.5} {:>9.5} {:>12.6} {:>8}  {}",
                n.uid.0,
                n.hotkey.short(),
                tao(n.stake),
                if n.validator_permit { "yes" } else { "-" },
                if n.active { "yes" } else { "-" },
                frac(n.incentive),
                frac(n.dividends),
                frac(n.consensus),
                frac(n.validator_trust),
                tao(n.emission),
                n.last_update,
                n.axon.as_ref().map(|a| a.url()).unwrap_or_else(|| "-".into())
            );
        }
    }
    if let Some(n) = args.netuid {
        if !subnets.iter().any(|s| s.netuid == NetUid(n)) {
            return Err(usage(format!("subnet {n} does not exist on this chain")));
        }
    }
    Ok(())
}
