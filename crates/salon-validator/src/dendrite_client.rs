//! The production [`MinerClient`]: Salon's native synapse over the signed Bittensor 10.x
//! protocol, through `salon_wire::Dendrite`.

use crate::client::{MinerClient, MinerTarget, QueryOutcome};
use salon_core::Request;
use salon_keys::Keypair;
use salon_wire::synapses::SalonSynapse;
use salon_wire::{AxonTarget, Dendrite};
use std::time::Duration;

/// Queries miners with `SalonSynapse`, signed by the validator's hotkey.
pub struct DendriteClient {
    dendrite: Dendrite,
}

impl DendriteClient {
    /// A client signing with `keypair`.
    pub fn new(keypair: Keypair) -> Self {
        Self {
            dendrite: Dendrite::new(keypair),
        }
    }
}

#[async_trait::async_trait]
impl MinerClient for DendriteClient {
    async fn query(
        &self,
        target: &MinerTarget,
        request: &Request,
        timeout: Duration,
    ) -> QueryOutcome {
        let axon = AxonTarget {
            ip: target.ip.clone(),
            port: target.port,
            hotkey: target.hotkey.clone(),
        };
        let synapse = SalonSynapse {
            request: request.clone(),
            response: None,
            error: None,
        };
        let reply = self.dendrite.call(&axon, synapse, timeout).await;
        let (response, mut status, mut message) = (
            reply.synapse.as_ref().and_then(|s| s.response.clone()),
            reply.status_code,
            reply.status_message.clone(),
        );
        if status == 200 && response.is_none() {
            status = 422;
            message = reply
                .synapse
                .and_then(|s| s.error)
                .unwrap_or_else(|| "the miner returned no response".to_string());
        }
        QueryOutcome {
            response,
            status,
            message,
            elapsed: reply.elapsed,
        }
    }
}
