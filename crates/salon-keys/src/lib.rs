//! sr25519 keys, SS58 addresses, mnemonics and Bittensor wallet files.
//!
//! [`Keypair`] signs with the "substrate" context as Bittensor does; [`ss58`] encodes and decodes
//! addresses; [`Wallet`] reads and writes btcli wallets (plain or `$NACL`-encrypted key files).
//! Nothing here talks to a network.
//!
//! ```no_run
//! use salon_keys::{default_wallet_path, Wallet};
//! let wallet = Wallet::new(default_wallet_path(), "default", "default");
//! let hotkey = wallet.hotkey()?; // hotkeys are unencrypted, as btcli makes them
//! let signature = hotkey.sign(b"message");
//! salon_keys::verify(&hotkey.public(), b"message", &signature)?;
//! let coldkey = wallet.unlock_coldkey()?; // asks for the password or reads SALON_WALLET_PASSWORD
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod encryption;
pub mod keyfile;
pub mod keypair;
pub mod legacy;
pub mod mnemonic;
pub mod password;
pub mod ss58;
pub mod wallet;

pub use keypair::{verify, KeyError, Keypair, PublicKey, Verifier};
pub use wallet::{default_wallet_path, list_wallets, KeySource, Wallet, WalletError};
