//! Who may call and in what order: the `Admission` policy an axon consults before verifying
//! (blacklist) and before queueing (priority). The default admits everyone at priority 0.

/// An axon's admission policy, keyed by the caller's hotkey.
pub trait Admission: Send + Sync {
    /// `Some(reason)` refuses the call with 403 "Forbidden. Key is blacklisted: {reason}.".
    fn blacklist(&self, caller_hotkey: &str, synapse: &str) -> Option<String>;
    /// Higher values are served first when calls wait for a free slot.
    fn priority(&self, caller_hotkey: &str) -> f64;
}

/// Admits every caller at priority 0 (local testing, `--no-chain`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AdmitAll;

impl Admission for AdmitAll {
    fn blacklist(&self, _caller_hotkey: &str, _synapse: &str) -> Option<String> {
        None
    }
    fn priority(&self, _caller_hotkey: &str) -> f64 {
        0.0
    }
}
