//! Wallet flags shared by the miner and validator commands (`--wallet.name` etc., as btcli).

use clap::Args;
use salon_keys::{Keypair, Wallet};
use std::path::PathBuf;

/// Which wallet's hotkey signs.
#[derive(Args, Clone, Debug)]
pub struct WalletFlags {
    /// Wallet (coldkey) name.
    #[arg(long = "wallet.name", default_value = "default")]
    pub name: String,
    /// Hotkey name inside the wallet.
    #[arg(long = "wallet.hotkey", default_value = "default")]
    pub hotkey: String,
    /// Wallets directory [default: $BT_WALLET_PATH or ~/.bittensor/wallets].
    #[arg(long = "wallet.path")]
    pub path: Option<PathBuf>,
}

impl WalletFlags {
    /// The wallet these flags name.
    pub fn wallet(&self) -> Wallet {
        let path = self
            .path
            .clone()
            .unwrap_or_else(salon_keys::default_wallet_path);
        Wallet::new(path, &self.name, &self.hotkey)
    }

    /// The coldkey, unlocked with $SALON_WALLET_PASSWORD or a prompt when encrypted.
    pub fn coldkey(&self) -> anyhow::Result<Keypair> {
        self.wallet().unlock_coldkey().map_err(|e| {
            crate::usage::usage(format!(
                "cannot load the coldkey of wallet {:?}: {e} (create it with `salon wallet create --wallet.name {}`)",
                self.name, self.name
            ))
        })
    }

    /// The hotkey, with a clear error saying how to create it when missing.
    pub fn hotkey(&self) -> anyhow::Result<Keypair> {
        let w = self.wallet();
        w.hotkey().map_err(|e| {
            crate::usage::usage(format!(
                "cannot load hotkey {:?} of wallet {:?}: {e} (create it with `salon wallet new-hotkey --wallet.name {} --wallet.hotkey {}`)",
                self.hotkey, self.name, self.name, self.hotkey
            ))
        })
    }
}
