//! Identifiers: neuron uids, subnet ids and hotkeys (SS58 addresses).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A neuron's position in a subnet (0..n).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Uid(pub u16);

/// A subnet identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NetUid(pub u16);

/// A hotkey, as its SS58 address. Validation and decoding live in `salon-keys`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hotkey(pub String);

impl Hotkey {
    /// The first and last few characters, for logs and tables ("5Grw…utQY").
    pub fn short(&self) -> String {
        let s = &self.0;
        if s.len() <= 10 {
            return s.clone();
        }
        format!("{}…{}", &s[..5], &s[s.len() - 4..])
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for NetUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Hotkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
