//! How the validator reaches miners: the [`MinerClient`] seam (the Synapse dendrite in
//! production, anything in tests).

use salon_core::{Request, Response};
use std::time::Duration;

/// Where a miner listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinerTarget {
    /// Miner uid.
    pub uid: u16,
    /// Miner hotkey (SS58); the request is signed for it.
    pub hotkey: String,
    /// IP address.
    pub ip: String,
    /// Port.
    pub port: u16,
}

/// The result of one query.
#[derive(Clone, Debug)]
pub struct QueryOutcome {
    /// The miner's answer, when the call succeeded and parsed.
    pub response: Option<Response>,
    /// Transport status (200 ok, 408 timeout, 4xx/5xx rejections, 422/500 bad answers).
    pub status: u16,
    /// Status message or error text.
    pub message: String,
    /// Time from send to answer.
    pub elapsed: Duration,
}

/// Sends challenges to miners.
#[async_trait::async_trait]
pub trait MinerClient: Send + Sync {
    /// Sends `request` to `target`, waiting at most `timeout`.
    async fn query(
        &self,
        target: &MinerTarget,
        request: &Request,
        timeout: Duration,
    ) -> QueryOutcome;
}
