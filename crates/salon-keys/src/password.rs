//! Wallet passwords: from the `SALON_WALLET_PASSWORD` environment variable or a hidden prompt,
//! always held in memory that is wiped on drop, never printed or logged.

use zeroize::Zeroizing;

/// The environment variable Salon reads a wallet password from before prompting.
pub const PASSWORD_ENV: &str = "SALON_WALLET_PASSWORD";

/// A password, wiped from memory when dropped.
pub type Password = Zeroizing<String>;

/// Why no password could be had.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// No terminal to prompt on and no environment variable set.
    #[error(
        "a password is needed but there is no terminal to ask on: set {PASSWORD_ENV} \
         or run interactively ({0})"
    )]
    NoTerminal(std::io::Error),
    /// The two entries of a new password differ.
    #[error("the two passwords you typed differ; nothing was written, try again")]
    Mismatch,
    /// An empty password for a new encrypted key.
    #[error("an empty password does not protect anything; type one, or use --no-password")]
    Empty,
}

/// The password in `SALON_WALLET_PASSWORD`, if set.
pub fn from_env() -> Option<Password> {
    std::env::var(PASSWORD_ENV).ok().map(Zeroizing::new)
}

/// Asks for a password on the terminal without echoing it.
pub fn prompt(question: &str) -> Result<Password, PasswordError> {
    rpassword::prompt_password(question)
        .map(Zeroizing::new)
        .map_err(PasswordError::NoTerminal)
}

/// The password to unlock an existing key: the environment variable, else a hidden prompt.
pub fn for_unlock(what: &str) -> Result<Password, PasswordError> {
    match from_env() {
        Some(p) => Ok(p),
        None => prompt(&format!("Password to unlock {what}: ")),
    }
}

/// The password for a new encrypted key: the environment variable, else typed twice.
pub fn for_new_key(what: &str) -> Result<Password, PasswordError> {
    if let Some(p) = from_env() {
        return if p.is_empty() {
            Err(PasswordError::Empty)
        } else {
            Ok(p)
        };
    }
    let first = prompt(&format!("Choose a password to encrypt {what}: "))?;
    if first.is_empty() {
        return Err(PasswordError::Empty);
    }
    let second = prompt("Type it again: ")?;
    if *first != *second {
        return Err(PasswordError::Mismatch);
    }
    Ok(first)
}
