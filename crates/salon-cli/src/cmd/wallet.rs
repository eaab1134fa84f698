//! `salon wallet`: create, restore, list and show Bittensor wallets in btcli's layout, so keys
//! made here work in btcli and the Python SDK, and btcli wallets work here.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use salon_keys::password;
use salon_keys::wallet::{self, KeySource, NewKey, Wallet};
use std::io::Write;
use std::path::PathBuf;

/// Manage wallets: a coldkey (holds funds; keep it encrypted and offline) and hotkeys (used by
/// miners and validators to sign requests).
#[derive(Debug, Args)]
pub struct WalletArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: WalletCommand,
}

/// Which wallet and hotkey to act on (btcli's flag names).
#[derive(Debug, Clone, Args)]
pub struct WalletSelect {
    /// Wallet (coldkey) name: the folder <wallet.path>/<wallet.name>.
    #[arg(long = "wallet.name", value_name = "NAME", default_value = wallet::DEFAULT_WALLET_NAME)]
    pub name: String,
    /// Hotkey name: the file <wallet.path>/<wallet.name>/hotkeys/<wallet.hotkey>.
    #[arg(long = "wallet.hotkey", value_name = "HOTKEY", default_value = wallet::DEFAULT_HOTKEY_NAME)]
    pub hotkey: String,
    /// Folder holding wallets [default: $BT_WALLET_PATH, else ~/.bittensor/wallets].
    #[arg(long = "wallet.path", value_name = "DIR")]
    pub path: Option<PathBuf>,
}

impl WalletSelect {
    fn wallet(&self) -> Wallet {
        let path = self
            .path
            .clone()
            .unwrap_or_else(wallet::default_wallet_path);
        Wallet::new(path, &self.name, &self.hotkey)
    }
}

/// How a restored key is given.
#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub struct SecretSource {
    /// The 12-24 word mnemonic, quoted. Prefer leaving this out to be asked for it without echo:
    /// a mnemonic on the command line stays in your shell history.
    #[arg(long, value_name = "WORDS")]
    pub mnemonic: Option<String>,
    /// The 32-byte secret seed as hex (0x...), the `secretSeed` of a key file.
    #[arg(long, value_name = "0xHEX")]
    pub seed: Option<String>,
}

/// Options for writing a new key.
#[derive(Debug, Clone, Args)]
pub struct WriteOptions {
    /// Replace existing key files. The old keys are lost unless you have their mnemonics.
    #[arg(long)]
    pub overwrite: bool,
}

/// The `salon wallet` subcommands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a wallet: a new coldkey (encrypted with a password unless --no-password) and a new
    /// hotkey, each with a fresh mnemonic printed once.
    Create {
        #[command(flatten)]
        wallet: WalletSelect,
        /// Store the coldkey unencrypted (only for test wallets; anyone who can read the file
        /// controls the key). Otherwise the password comes from $SALON_WALLET_PASSWORD or a prompt.
        #[arg(long)]
        no_password: bool,
        /// Words in each new mnemonic.
        #[arg(long = "n-words", default_value_t = 12, value_parser = parse_words)]
        n_words: usize,
        #[command(flatten)]
        write: WriteOptions,
    },
    /// Add a new hotkey (unencrypted, as btcli does) to an existing wallet.
    NewHotkey {
        #[command(flatten)]
        wallet: WalletSelect,
        /// Words in the new mnemonic.
        #[arg(long = "n-words", default_value_t = 12, value_parser = parse_words)]
        n_words: usize,
        #[command(flatten)]
        write: WriteOptions,
    },
    /// Restore a coldkey from its mnemonic or seed (asks for the mnemonic if neither is given).
    RegenColdkey {
        #[command(flatten)]
        wallet: WalletSelect,
        #[command(flatten)]
        secret: SecretSource,
        /// Store the coldkey unencrypted (only for test wallets).
        #[arg(long)]
        no_password: bool,
        #[command(flatten)]
        write: WriteOptions,
    },
    /// Restore a hotkey from its mnemonic or seed (asks for the mnemonic if neither is given).
    RegenHotkey {
        #[command(flatten)]
        wallet: WalletSelect,
        #[command(flatten)]
        secret: SecretSource,
        #[command(flatten)]
        write: WriteOptions,
    },
    /// List the wallets in the wallet folder with their coldkey and hotkey addresses.
    List {
        /// Folder holding wallets [default: $BT_WALLET_PATH, else ~/.bittensor/wallets].
        #[arg(long = "wallet.path", value_name = "DIR")]
        path: Option<PathBuf>,
    },
    /// Show one wallet: its files, addresses and whether the coldkey is encrypted. Never shows
    /// secrets.
    Show {
        #[command(flatten)]
        wallet: WalletSelect,
    },
}

fn parse_words(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if salon_keys::mnemonic::WORD_COUNTS.contains(&n) => Ok(n),
        _ => Err("a mnemonic has 12, 15, 18, 21 or 24 words".to_string()),
    }
}

/// Runs a `salon wallet` subcommand, printing to stdout.
pub fn run(args: WalletArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    run_to(args, &mut stdout.lock())
}

fn run_to(args: WalletArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        WalletCommand::Create {
            wallet,
            no_password,
            n_words,
            write,
        } => {
            let w = wallet.wallet();
            if !write.overwrite {
                for p in [
                    w.coldkey_path(),
                    w.coldkeypub_path(),
                    w.hotkey_path(),
                    w.hotkeypub_path(),
                ] {
                    if p.exists() {
                        return Err(salon_keys::WalletError::Exists(p).into());
                    }
                }
            }
            let password = new_coldkey_password(no_password)?;
            let cold = w.create_coldkey(
                n_words,
                password.as_deref().map(String::as_str),
                write.overwrite,
            )?;
            print_new_key(out, "coldkey", &w, &cold, "regen-coldkey")?;
            let hot = w.create_hotkey(n_words, None, write.overwrite)?;
            print_new_key(out, "hotkey", &w, &hot, "regen-hotkey")?;
            writeln!(
                out,
                "Wallet {:?} is ready in {}.",
                w.name,
                w.dir().display()
            )?;
        }
        WalletCommand::NewHotkey {
            wallet,
            n_words,
            write,
        } => {
            let w = wallet.wallet();
            if !w.coldkeypub_path().exists() && !w.coldkey_path().exists() {
                bail!(
                    "no wallet {:?} in {}: create it first with `salon wallet create --wallet.name {}`",
                    w.name,
                    w.path.display(),
                    w.name
                );
            }
            let hot = w.create_hotkey(n_words, None, write.overwrite)?;
            print_new_key(out, "hotkey", &w, &hot, "regen-hotkey")?;
        }
        WalletCommand::RegenColdkey {
            wallet,
            secret,
            no_password,
            write,
        } => {
            let w = wallet.wallet();
            let phrase = secret_phrase(&secret)?;
            let source = key_source(&secret, phrase.as_deref().map(String::as_str))?;
            let password = new_coldkey_password(no_password)?;
            let kp = w.regen_coldkey(
                &source,
                password.as_deref().map(String::as_str),
                write.overwrite,
            )?;
            writeln!(
                out,
                "Restored coldkey {} to {}",
                kp.ss58(),
                w.coldkey_path().display()
            )?;
        }
        WalletCommand::RegenHotkey {
            wallet,
            secret,
            write,
        } => {
            let w = wallet.wallet();
            let phrase = secret_phrase(&secret)?;
            let source = key_source(&secret, phrase.as_deref().map(String::as_str))?;
            let kp = w.regen_hotkey(&source, None, write.overwrite)?;
            writeln!(
                out,
                "Restored hotkey {} to {}",
                kp.ss58(),
                w.hotkey_path().display()
            )?;
        }
        WalletCommand::List { path } => {
            let path = path.unwrap_or_else(wallet::default_wallet_path);
            let wallets = wallet::list_wallets(&path)
                .with_context(|| format!("listing wallets in {}", path.display()))?;
            if wallets.is_empty() {
                writeln!(
                    out,
                    "No wallets in {}. Create one with `salon wallet create`.",
                    path.display()
                )?;
            }
            writeln!(out, "Wallets in {}:", path.display())?;
            for w in wallets {
                writeln!(
                    out,
                    "{} (coldkey {})",
                    w.name,
                    w.coldkeypub.as_deref().unwrap_or("?")
                )?;
                for h in w.hotkeys {
                    writeln!(
                        out,
                        "  {} (hotkey {})",
                        h.name,
                        h.ss58.as_deref().unwrap_or("? encrypted")
                    )?;
                }
            }
        }
        WalletCommand::Show { wallet } => show(out, &wallet.wallet())?,
    }
    Ok(())
}

fn show(out: &mut dyn Write, w: &Wallet) -> anyhow::Result<()> {
    writeln!(out, "wallet     {} ({})", w.name, w.dir().display())?;
    let cold = match w.coldkeypub() {
        Ok(pk) => pk.to_ss58(),
        Err(e) => format!("unavailable: {e}"),
    };
    writeln!(out, "coldkey    {cold}")?;
    let encryption = match w.coldkey_encryption() {
        Ok(e) if e.is_encrypted() => format!("encrypted ({e:?})"),
        Ok(_) => "NOT encrypted: anyone who can read the file controls this key".to_string(),
        Err(_) => "no coldkey file (watch-only wallet)".to_string(),
    };
    writeln!(out, "           {encryption}")?;
    let hot = match w.hotkeypub() {
        Ok(pk) => pk.to_ss58(),
        Err(e) => format!("unavailable: {e}"),
    };
    writeln!(out, "hotkey     {} {hot}", w.hotkey)?;
    let others: Vec<String> = w.hotkeys()?.into_iter().map(|h| h.name).collect();
    writeln!(
        out,
        "hotkeys    {}",
        if others.is_empty() {
            "none".into()
        } else {
            others.join(", ")
        }
    )?;
    Ok(())
}

fn new_coldkey_password(no_password: bool) -> anyhow::Result<Option<password::Password>> {
    if no_password {
        return Ok(None);
    }
    let pw = password::for_new_key("the coldkey")?;
    eprintln!("Encrypting the coldkey (Argon2i, takes a few seconds)...");
    Ok(Some(pw))
}

fn secret_phrase(secret: &SecretSource) -> anyhow::Result<Option<password::Password>> {
    if secret.mnemonic.is_some() || secret.seed.is_some() {
        return Ok(None);
    }
    let phrase = password::prompt("Mnemonic (not echoed): ")
        .context("give --mnemonic \"...\" or --seed 0x... when not running in a terminal")?;
    Ok(Some(phrase))
}

fn key_source<'a>(
    secret: &'a SecretSource,
    prompted: Option<&'a str>,
) -> anyhow::Result<KeySource<'a>> {
    if let Some(seed) = &secret.seed {
        return Ok(KeySource::seed_from_hex(seed)?);
    }
    match secret.mnemonic.as_deref().or(prompted) {
        Some(phrase) => Ok(KeySource::Mnemonic(phrase)),
        None => bail!("give the key's --mnemonic \"...\" or --seed 0x..."),
    }
}

fn print_new_key(
    out: &mut dyn Write,
    what: &str,
    w: &Wallet,
    key: &NewKey,
    regen: &str,
) -> anyhow::Result<()> {
    let path = if what == "coldkey" {
        w.coldkey_path()
    } else {
        w.hotkey_path()
    };
    writeln!(
        out,
        "\nNew {what} {} written to {}",
        key.keypair.ss58(),
        path.display()
    )?;
    writeln!(
        out,
        "Its mnemonic ({} words):\n",
        key.mnemonic.split(' ').count()
    )?;
    writeln!(out, "    {}\n", key.mnemonic.as_str())?;
    writeln!(
        out,
        "WARNING: write these words down and keep them offline. Anyone who has them controls this \
         {what}; they are the only way to restore it if the files are lost. They will not be shown \
         again.\nRestore with: salon wallet {regen} --wallet.name {} --wallet.hotkey {}\n",
        w.name, w.hotkey
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: WalletArgs,
    }

    fn run_args(args: &[&str]) -> anyhow::Result<String> {
        let cli = Cli::try_parse_from(std::iter::once("salon-wallet").chain(args.iter().copied()))?;
        let mut out = Vec::new();
        run_to(cli.args, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    const DEV_PHRASE: &str =
        "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

    #[test]
    fn create_regen_list_show_with_btcli_flags() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().to_str().unwrap();
        let out = run_args(&[
            "create",
            "--wallet.name",
            "w",
            "--wallet.path",
            p,
            "--no-password",
            "--n-words",
            "15",
        ])
        .unwrap();
        assert!(out.contains("WARNING"));
        let w = Wallet::new(p, "w", "default");
        let phrase =
            salon_keys::keyfile::phrase_from_json(&std::fs::read(w.coldkey_path()).unwrap())
                .unwrap()
                .unwrap();
        assert_eq!(phrase.split(' ').count(), 15);
        assert!(out.contains(phrase.as_str()), "the mnemonic is shown once");

        // Creating again must not replace the keys.
        let again = run_args(&[
            "create",
            "--wallet.name",
            "w",
            "--wallet.path",
            p,
            "--no-password",
        ]);
        assert!(again.unwrap_err().to_string().contains("--overwrite"));

        let out = run_args(&[
            "regen-coldkey",
            "--wallet.name",
            "dev",
            "--wallet.path",
            p,
            "--mnemonic",
            DEV_PHRASE,
            "--no-password",
        ])
        .unwrap();
        assert!(
            out.contains("5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"),
            "{out}"
        );
        let seed = "0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a";
        let out = run_args(&[
            "regen-hotkey",
            "--wallet.name",
            "dev",
            "--wallet.hotkey",
            "alice",
            "--wallet.path",
            p,
            "--seed",
            seed,
        ])
        .unwrap();
        assert!(
            out.contains("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"),
            "{out}"
        );

        let listed = run_args(&["list", "--wallet.path", p]).unwrap();
        assert!(listed.contains("dev (coldkey 5DfhGy"), "{listed}");
        assert!(listed.contains("alice (hotkey 5Grwva"), "{listed}");
        let shown = run_args(&[
            "show",
            "--wallet.name",
            "dev",
            "--wallet.hotkey",
            "alice",
            "--wallet.path",
            p,
        ])
        .unwrap();
        assert!(shown.contains("NOT encrypted"), "{shown}");
        assert!(!shown.contains("bottom drive"), "show never prints secrets");
    }

    #[test]
    fn bad_arguments_are_rejected_before_anything_is_written() {
        assert!(run_args(&["create", "--n-words", "13"]).is_err());
        assert!(run_args(&["regen-hotkey", "--mnemonic", "a", "--seed", "0x00"]).is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().to_str().unwrap();
        let err = run_args(&[
            "regen-hotkey",
            "--wallet.path",
            p,
            "--mnemonic",
            "not a real phrase",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("mnemonic"), "{err}");
        assert!(std::fs::read_dir(p).unwrap().next().is_none());
    }
}
