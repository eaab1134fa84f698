//! Bittensor wallets on disk, in btcli's layout: `<path>/<name>/coldkey`, `coldkeypub.txt`,
//! `hotkeys/<hotkey>` and `hotkeys/<hotkey>pub.txt`. Creating, regenerating, reading and listing.

use crate::encryption::{self, Encryption, EncryptionError};
use crate::keyfile::{self, KeyfileError};
use crate::password::{self, PasswordError};
use crate::{mnemonic, KeyError, Keypair, PublicKey};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The environment variable that overrides the default wallet folder (as in bittensor).
pub const WALLET_PATH_ENV: &str = "BT_WALLET_PATH";
/// The wallet name btcli uses when none is given.
pub const DEFAULT_WALLET_NAME: &str = "default";
/// The hotkey name btcli uses when none is given.
pub const DEFAULT_HOTKEY_NAME: &str = "default";

/// What went wrong reading or writing a wallet.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// A key file that does not exist.
    #[error("no {what} at {path}: {hint}")]
    Missing {
        /// Which key ("coldkey", "hotkey", ...).
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// How to make one.
        hint: &'static str,
    },
    /// A key file that exists and would be replaced.
    #[error(
        "{} already exists; refusing to replace a key. Back it up and pass --overwrite if you \
         really mean to replace it",
        .0.display()
    )]
    Exists(PathBuf),
    /// An encrypted key file read without a password.
    #[error("{} is encrypted: a password is needed (set SALON_WALLET_PASSWORD or answer the prompt)", .0.display())]
    PasswordRequired(PathBuf),
    /// Decryption failed (usually a wrong password).
    #[error("cannot decrypt {}: {source}", path.display())]
    Decrypt {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: EncryptionError,
    },
    /// The decrypted contents are not a usable key.
    #[error("{}: {source}", path.display())]
    Keyfile {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: KeyfileError,
    },
    /// A file system error.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A wallet or hotkey name that cannot be a file name.
    #[error(
        "invalid wallet or hotkey name {0:?}: use letters, digits, '-', '_' or '.', not a path"
    )]
    BadName(String),
    /// A bad mnemonic, seed or key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// No password could be obtained.
    #[error(transparent)]
    Password(#[from] PasswordError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WalletError + '_ {
    move |source| WalletError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Replaces a leading `~` with the home folder.
pub fn expand_tilde(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

/// The wallet folder: `$BT_WALLET_PATH`, else `~/.bittensor/wallets`.
pub fn default_wallet_path() -> PathBuf {
    match std::env::var_os(WALLET_PATH_ENV) {
        Some(p) if !p.is_empty() => expand_tilde(Path::new(&p)),
        _ => expand_tilde(Path::new("~/.bittensor/wallets")),
    }
}

fn check_name(name: &str) -> Result<(), WalletError> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(WalletError::BadName(name.to_string()))
    }
}

/// Where a regenerated key comes from.
pub enum KeySource<'a> {
    /// A BIP39 mnemonic (12-24 words); stored in the key file as `secretPhrase`.
    Mnemonic(&'a str),
    /// A 32-byte mini secret (`secretSeed`, e.g. from `--seed 0x...`).
    Seed(Zeroizing<[u8; 32]>),
}

impl KeySource<'_> {
    /// Parses `0x`-prefixed (or bare) hex of a 32-byte seed.
    pub fn seed_from_hex(hex_seed: &str) -> Result<KeySource<'static>, KeyError> {
        let digits = hex_seed.trim().trim_start_matches("0x");
        let bytes = Zeroizing::new(hex::decode(digits).map_err(|e| {
            KeyError::Invalid(format!(
                "seed is not hex ({e}); give 64 hex digits, e.g. 0xab12..."
            ))
        })?);
        let mut seed = Zeroizing::new([0u8; 32]);
        if bytes.len() != 32 {
            return Err(KeyError::Invalid(format!(
                "a seed is 32 bytes (64 hex digits), this one is {} bytes",
                bytes.len()
            )));
        }
        seed.copy_from_slice(&bytes);
        Ok(KeySource::Seed(seed))
    }

    fn keypair(&self) -> Result<(Keypair, Option<Zeroizing<String>>), KeyError> {
        match self {
            KeySource::Mnemonic(phrase) => Ok((
                Keypair::from_mnemonic(phrase, None)?,
                Some(mnemonic::normalize(phrase)),
            )),
            KeySource::Seed(seed) => Ok((Keypair::from_seed(seed)?, None)),
        }
    }
}

/// A freshly generated key and the mnemonic that restores it (show it once, then drop it).
pub struct NewKey {
    /// The key pair.
    pub keypair: Keypair,
    /// Its mnemonic.
    pub mnemonic: Zeroizing<String>,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("keypair", &self.keypair)
            .finish_non_exhaustive()
    }
}

/// A hotkey found by [`Wallet::hotkeys`] or [`list_wallets`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HotkeySummary {
    /// The hotkey's file name.
    pub name: String,
    /// Its address, when readable without a password.
    pub ss58: Option<String>,
}

/// A wallet found by [`list_wallets`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletSummary {
    /// The wallet's folder name.
    pub name: String,
    /// The coldkey address from `coldkeypub.txt`, if present.
    pub coldkeypub: Option<String>,
    /// Its hotkeys, sorted by name.
    pub hotkeys: Vec<HotkeySummary>,
}

/// One wallet: a coldkey and the hotkey selected by `hotkey`, under `path/name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wallet {
    /// The folder holding wallets (e.g. `~/.bittensor/wallets`).
    pub path: PathBuf,
    /// The wallet (coldkey) name.
    pub name: String,
    /// The selected hotkey's name.
    pub hotkey: String,
}

const HINT_COLD: &str =
    "create one with `salon wallet create` or restore it with `salon wallet regen-coldkey`";
const HINT_HOT: &str =
    "create one with `salon wallet new-hotkey` or restore it with `salon wallet regen-hotkey`";

impl Wallet {
    /// A wallet handle; `~` in `path` is expanded. Nothing is read until asked.
    pub fn new(path: impl AsRef<Path>, name: &str, hotkey: &str) -> Self {
        Self {
            path: expand_tilde(path.as_ref()),
            name: name.to_string(),
            hotkey: hotkey.to_string(),
        }
    }

    /// The wallet's own folder, `path/name`.
    pub fn dir(&self) -> PathBuf {
        self.path.join(&self.name)
    }

    /// `path/name/coldkey`.
    pub fn coldkey_path(&self) -> PathBuf {
        self.dir().join("coldkey")
    }

    /// `path/name/coldkeypub.txt`.
    pub fn coldkeypub_path(&self) -> PathBuf {
        self.dir().join("coldkeypub.txt")
    }

    /// `path/name/hotkeys/<hotkey>`.
    pub fn hotkey_path(&self) -> PathBuf {
        self.dir().join("hotkeys").join(&self.hotkey)
    }

    /// `path/name/hotkeys/<hotkey>pub.txt`.
    pub fn hotkeypub_path(&self) -> PathBuf {
        self.dir()
            .join("hotkeys")
            .join(format!("{}pub.txt", self.hotkey))
    }

    fn check_names(&self) -> Result<(), WalletError> {
        check_name(&self.name)?;
        check_name(&self.hotkey)
    }

    /// How the coldkey file is encrypted (fails if it is missing).
    pub fn coldkey_encryption(&self) -> Result<Encryption, WalletError> {
        let data = read(&self.coldkey_path(), "coldkey", HINT_COLD)?;
        Ok(Encryption::detect(&data))
    }

    /// How the hotkey file is encrypted (fails if it is missing).
    pub fn hotkey_encryption(&self) -> Result<Encryption, WalletError> {
        let data = read(&self.hotkey_path(), "hotkey", HINT_HOT)?;
        Ok(Encryption::detect(&data))
    }

    /// The coldkey; `password` is needed when the file is encrypted.
    pub fn coldkey(&self, password: Option<&str>) -> Result<Keypair, WalletError> {
        self.check_names()?;
        load_keypair(&self.coldkey_path(), "coldkey", HINT_COLD, password)
    }

    /// The coldkey, asking for its password (environment variable or hidden prompt) if needed.
    pub fn unlock_coldkey(&self) -> Result<Keypair, WalletError> {
        let password = match self.coldkey_encryption()?.is_encrypted() {
            true => Some(password::for_unlock(&format!(
                "coldkey of wallet {}",
                self.name
            ))?),
            false => None,
        };
        self.coldkey(password.as_deref().map(String::as_str))
    }

    /// The coldkey's public key from `coldkeypub.txt` (no password needed).
    pub fn coldkeypub(&self) -> Result<PublicKey, WalletError> {
        self.check_names()?;
        let path = self.coldkeypub_path();
        let data = read(&path, "coldkeypub.txt", HINT_COLD)?;
        keyfile::public_from_json(&data).map_err(|source| WalletError::Keyfile { path, source })
    }

    /// The selected hotkey (hotkeys are unencrypted unless made otherwise).
    pub fn hotkey(&self) -> Result<Keypair, WalletError> {
        self.hotkey_with_password(None)
    }

    /// The selected hotkey, with a password for an encrypted hotkey file.
    pub fn hotkey_with_password(&self, password: Option<&str>) -> Result<Keypair, WalletError> {
        self.check_names()?;
        load_keypair(&self.hotkey_path(), "hotkey", HINT_HOT, password)
    }

    /// The selected hotkey, asking for a password (environment variable or hidden prompt) only
    /// if its file is encrypted.
    pub fn unlock_hotkey(&self) -> Result<Keypair, WalletError> {
        let password = match self.hotkey_encryption()?.is_encrypted() {
            true => Some(password::for_unlock(&format!(
                "hotkey {} of wallet {}",
                self.hotkey, self.name
            ))?),
            false => None,
        };
        self.hotkey_with_password(password.as_deref().map(String::as_str))
    }

    /// The hotkey's public key: from `<hotkey>pub.txt`, else from the (unencrypted) hotkey file.
    pub fn hotkeypub(&self) -> Result<PublicKey, WalletError> {
        self.check_names()?;
        let path = self.hotkeypub_path();
        if path.exists() {
            let data = read(&path, "hotkey public file", HINT_HOT)?;
            return keyfile::public_from_json(&data)
                .map_err(|source| WalletError::Keyfile { path, source });
        }
        Ok(self.hotkey()?.public())
    }

    /// Generates a coldkey with a `words`-word mnemonic and writes `coldkey` (encrypted with
    /// `password` when given) and `coldkeypub.txt`.
    pub fn create_coldkey(
        &self,
        words: usize,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<NewKey, WalletError> {
        let phrase = mnemonic::generate(words)?;
        let keypair = self.regen_coldkey(&KeySource::Mnemonic(&phrase), password, overwrite)?;
        Ok(NewKey {
            keypair,
            mnemonic: phrase,
        })
    }

    /// Generates a hotkey with a `words`-word mnemonic and writes `hotkeys/<hotkey>` and its
    /// pub file.
    pub fn create_hotkey(
        &self,
        words: usize,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<NewKey, WalletError> {
        let phrase = mnemonic::generate(words)?;
        let keypair = self.regen_hotkey(&KeySource::Mnemonic(&phrase), password, overwrite)?;
        Ok(NewKey {
            keypair,
            mnemonic: phrase,
        })
    }

    /// Restores a coldkey from a mnemonic or seed and writes `coldkey` and `coldkeypub.txt`.
    pub fn regen_coldkey(
        &self,
        source: &KeySource<'_>,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<Keypair, WalletError> {
        self.check_names()?;
        let (keypair, phrase) = source.keypair()?;
        let paths = [self.coldkey_path(), self.coldkeypub_path()];
        write_pair(
            &paths,
            &keypair,
            phrase.as_deref().map(String::as_str),
            password,
            overwrite,
        )?;
        Ok(keypair)
    }

    /// Restores a hotkey from a mnemonic or seed and writes `hotkeys/<hotkey>` and its pub file.
    pub fn regen_hotkey(
        &self,
        source: &KeySource<'_>,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<Keypair, WalletError> {
        self.check_names()?;
        let (keypair, phrase) = source.keypair()?;
        let paths = [self.hotkey_path(), self.hotkeypub_path()];
        write_pair(
            &paths,
            &keypair,
            phrase.as_deref().map(String::as_str),
            password,
            overwrite,
        )?;
        Ok(keypair)
    }

    /// Writes `coldkeypub.txt` alone (a watch-only wallet, e.g. from an ss58 address).
    pub fn regen_coldkeypub(&self, public: &PublicKey, overwrite: bool) -> Result<(), WalletError> {
        self.check_names()?;
        write_file(
            &self.coldkeypub_path(),
            &keyfile::public_to_json(public),
            0o644,
            overwrite,
        )
    }

    /// The names of this wallet's hotkeys, sorted, with their addresses where readable.
    pub fn hotkeys(&self) -> Result<Vec<HotkeySummary>, WalletError> {
        let dir = self.dir().join("hotkeys");
        let mut out = Vec::new();
        for name in file_names(&dir)? {
            if name.ends_with("pub.txt") || name.starts_with('.') {
                continue;
            }
            let w = Wallet {
                hotkey: name.clone(),
                ..self.clone()
            };
            out.push(HotkeySummary {
                ss58: w.hotkeypub().ok().map(|p| p.to_ss58()),
                name,
            });
        }
        Ok(out)
    }
}

/// Every wallet under `path` (folders holding a coldkey or coldkeypub.txt), sorted by name.
pub fn list_wallets(path: &Path) -> Result<Vec<WalletSummary>, WalletError> {
    let mut out = Vec::new();
    for name in file_names(path)? {
        let w = Wallet::new(path, &name, DEFAULT_HOTKEY_NAME);
        if !w.coldkey_path().exists() && !w.coldkeypub_path().exists() {
            continue;
        }
        let coldkeypub = w.coldkeypub().ok().map(|p| p.to_ss58());
        out.push(WalletSummary {
            name,
            coldkeypub,
            hotkeys: w.hotkeys()?,
        });
    }
    Ok(out)
}

fn file_names(dir: &Path) -> Result<Vec<String>, WalletError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

fn read(
    path: &Path,
    what: &'static str,
    hint: &'static str,
) -> Result<Zeroizing<Vec<u8>>, WalletError> {
    match std::fs::read(path) {
        Ok(data) => Ok(Zeroizing::new(data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(WalletError::Missing {
            what,
            path: path.to_path_buf(),
            hint,
        }),
        Err(e) => Err(io_err(path)(e)),
    }
}

fn load_keypair(
    path: &Path,
    what: &'static str,
    hint: &'static str,
    password: Option<&str>,
) -> Result<Keypair, WalletError> {
    let data = read(path, what, hint)?;
    let plain = match (Encryption::detect(&data).is_encrypted(), password) {
        (false, _) => data,
        (true, None) => return Err(WalletError::PasswordRequired(path.to_path_buf())),
        (true, Some(pw)) => {
            encryption::decrypt(&data, pw.as_bytes()).map_err(|source| WalletError::Decrypt {
                path: path.to_path_buf(),
                source,
            })?
        }
    };
    keyfile::keypair_from_json(&plain).map_err(|source| WalletError::Keyfile {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a key file (mode 0600, `$NACL`-encrypted when a password is given) and its pub file,
/// after checking that neither exists unless `overwrite`.
fn write_pair(
    paths: &[PathBuf; 2],
    keypair: &Keypair,
    phrase: Option<&str>,
    password: Option<&str>,
    overwrite: bool,
) -> Result<(), WalletError> {
    if !overwrite {
        if let Some(existing) = paths.iter().find(|p| p.exists()) {
            return Err(WalletError::Exists(existing.clone()));
        }
    }
    let json = keyfile::keypair_to_json(keypair, phrase);
    let contents = match password {
        Some(pw) => Zeroizing::new(encryption::nacl_encrypt(&json, pw.as_bytes()).map_err(
            |source| WalletError::Decrypt {
                path: paths[0].clone(),
                source,
            },
        )?),
        None => json,
    };
    write_file(&paths[0], &contents, 0o600, overwrite)?;
    write_file(
        &paths[1],
        &keyfile::public_to_json(&keypair.public()),
        0o644,
        overwrite,
    )
}

/// Writes `data` to `path` atomically with `mode`: a temporary file in the same folder, then a
/// hard link (which fails if `path` exists) or, with `overwrite`, a rename.
fn write_file(path: &Path, data: &[u8], mode: u32, overwrite: bool) -> Result<(), WalletError> {
    let dir = path.parent().expect("key paths have a parent folder");
    create_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{:016x}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        rand::random::<u64>()
    ));
    let result = write_new(&tmp, data, mode).and_then(|()| {
        if overwrite {
            std::fs::rename(&tmp, path).map_err(io_err(path))
        } else {
            match std::fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(WalletError::Exists(path.to_path_buf()))
                }
                Err(e) => Err(io_err(path)(e)),
            }
        }
    });
    let _ = std::fs::remove_file(&tmp);
    result
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), WalletError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(data).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

fn create_private_dir(dir: &Path) -> Result<(), WalletError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV_PHRASE: &str =
        "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

    fn temp_wallet() -> (tempfile::TempDir, Wallet) {
        let dir = tempfile::tempdir().unwrap();
        let w = Wallet::new(dir.path(), "alice", "hk1");
        (dir, w)
    }

    #[test]
    fn created_keys_read_back_and_files_are_private() {
        let (_dir, w) = temp_wallet();
        let cold = w.create_coldkey(12, None, false).unwrap();
        let hot = w.create_hotkey(24, None, false).unwrap();
        assert_eq!(hot.mnemonic.split(' ').count(), 24);
        assert_eq!(w.coldkey(None).unwrap().public(), cold.keypair.public());
        assert_eq!(w.coldkeypub().unwrap(), cold.keypair.public());
        assert_eq!(w.hotkey().unwrap().public(), hot.keypair.public());
        assert_eq!(w.hotkeypub().unwrap(), hot.keypair.public());
        // The stored mnemonic restores the same key.
        assert_eq!(
            Keypair::from_mnemonic(&cold.mnemonic, None)
                .unwrap()
                .public(),
            cold.keypair.public()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [w.coldkey_path(), w.hotkey_path()] {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", p.display());
            }
        }
    }

    #[test]
    fn existing_keys_are_never_replaced_without_overwrite() {
        let (_dir, w) = temp_wallet();
        let first = w.create_coldkey(12, None, false).unwrap();
        let err = w.create_coldkey(12, None, false).unwrap_err();
        assert!(matches!(err, WalletError::Exists(_)), "{err}");
        assert!(err.to_string().contains("--overwrite"));
        assert_eq!(w.coldkey(None).unwrap().public(), first.keypair.public());
        let second = w
            .regen_coldkey(&KeySource::Mnemonic(DEV_PHRASE), None, true)
            .unwrap();
        assert_eq!(
            second.ss58(),
            "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"
        );
        assert_eq!(w.coldkey(None).unwrap().public(), second.public());
        assert_eq!(w.coldkeypub().unwrap(), second.public());
        // No temporary files are left behind.
        let names = file_names(&w.dir()).unwrap();
        assert_eq!(names, ["coldkey", "coldkeypub.txt"]);
    }

    #[test]
    fn regen_from_seed_and_listing() {
        let (dir, w) = temp_wallet();
        // //Alice's published mini secret and address.
        let seed = KeySource::seed_from_hex(
            "0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a",
        )
        .unwrap();
        let kp = w.regen_hotkey(&seed, None, false).unwrap();
        assert_eq!(
            kp.ss58(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        w.regen_coldkeypub(&kp.public(), false).unwrap();
        let listed = list_wallets(dir.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "alice");
        assert_eq!(listed[0].coldkeypub.as_deref(), Some(kp.ss58().as_str()));
        assert_eq!(
            listed[0].hotkeys,
            [HotkeySummary {
                name: "hk1".into(),
                ss58: Some(kp.ss58())
            }]
        );
        assert!(matches!(w.coldkey(None), Err(WalletError::Missing { .. })));
        assert!(KeySource::seed_from_hex("0x1234").is_err());
    }

    #[test]
    fn names_that_are_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x", "a/b", "", ".."] {
            let w = Wallet::new(dir.path(), bad, "h");
            assert!(matches!(
                w.create_coldkey(12, None, false),
                Err(WalletError::BadName(_))
            ));
        }
    }
}
