//! The typed end of a route: parse the body into the synapse, check its body hash, run the
//! handler, and answer with the synapse JSON and the SDK's response headers.

use super::exchange::{error_response, json_response, AuthScheme, Caller, Exchange};
use crate::synapse::{now_ns, Envelope, Synapse, SDK_VERSION};
use axum::extract::Request;
use axum::response::Response;
use futures::FutureExt;
use http::HeaderMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;

/// A handler's refusal or failure, turned into a status code and `{"message": ...}`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct HandlerError {
    /// HTTP status code.
    pub status: u16,
    /// Message for the caller.
    pub message: String,
}

impl HandlerError {
    /// Any status and message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    /// 400: the synapse's inputs cannot be served (the caller must change them).
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    /// 500: the miner failed (engine error); the caller may retry elsewhere.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }
    /// 503: the miner cannot take this work now.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, message)
    }
}

/// Runs one call of synapse `S` through `handler`, after the layers admitted it.
pub async fn handle<S, F, Fut>(handler: F, mut req: Request) -> Response
where
    S: Synapse,
    F: Fn(S, Caller) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<S, HandlerError>> + Send + 'static,
{
    let Some(ex) = req.extensions_mut().remove::<Exchange>() else {
        return error_response(
            500,
            "axon misconfigured: route reached without its layers",
            &Default::default(),
            std::time::Instant::now(),
        );
    };
    let Some(caller) = ex.caller.clone() else {
        return error_response(
            401,
            "Not Verified with error: no verified caller",
            &ex.headers,
            ex.start,
        );
    };
    let envelope: Envelope<S> = match serde_json::from_slice(&ex.body) {
        Ok(e) => e,
        Err(e) => {
            let msg = format!(
                "Improperly formatted request. Could not parse body into synapse of type {}: {e}",
                S::NAME
            );
            return error_response(400, &msg, &ex.headers, ex.start);
        }
    };
    if caller.scheme == AuthScheme::Synapse {
        let parsed = match envelope.synapse.body_hash() {
            Ok(h) => h,
            Err(e) => return error_response(500, &e.to_string(), &ex.headers, ex.start),
        };
        let sent = ex.headers.computed_body_hash.clone().unwrap_or_default();
        if parsed != sent {
            let msg = format!(
                "Hash mismatch between header body hash {sent} and parsed body hash {parsed}"
            );
            return error_response(500, &msg, &ex.headers, ex.start);
        }
    }
    let Envelope {
        name,
        timeout,
        header_size,
        dendrite,
        axon,
        computed_body_hash,
        synapse,
        ..
    } = envelope;
    let outcome = AssertUnwindSafe(handler(synapse, caller))
        .catch_unwind()
        .await;
    let synapse = match outcome {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return error_response(e.status, &e.message, &ex.headers, ex.start),
        Err(_) => {
            return error_response(
                500,
                "Internal Server Error: the synapse handler panicked",
                &ex.headers,
                ex.start,
            )
        }
    };
    let mut axon = axon.unwrap_or_default();
    axon.status_code = Some(200);
    axon.status_message = Some("Success".into());
    axon.process_time = Some(ex.start.elapsed().as_secs_f64());
    axon.version = Some(SDK_VERSION);
    axon.uuid = ex.headers.axon.uuid.clone();
    axon.nonce = ex.headers.axon.nonce.or(Some(now_ns()));
    axon.signature = ex.headers.axon.signature.clone();
    let hash = match synapse.body_hash() {
        Ok(h) => h,
        Err(e) => return error_response(500, &e.to_string(), &ex.headers, ex.start),
    };
    let reply = Envelope {
        name: name.or_else(|| Some(S::NAME.to_string())),
        timeout,
        total_size: Some(0),
        header_size,
        dendrite,
        axon: Some(axon),
        computed_body_hash: computed_body_hash.or(Some(String::new())),
        synapse,
    };
    let body = match serde_json::to_vec(&reply) {
        Ok(b) => b,
        Err(e) => {
            let msg =
                format!("Internal Server Error: the response synapse could not be serialized: {e}");
            return error_response(500, &msg, &ex.headers, ex.start);
        }
    };
    let headers = crate::headers::SynapseHeaders {
        name: reply.name.clone(),
        timeout: reply.timeout,
        header_size: reply.header_size,
        total_size: Some(body.len() as i64),
        axon: reply.axon.clone().unwrap_or_default(),
        dendrite: reply.dendrite.clone().unwrap_or_default(),
        computed_body_hash: Some(hash),
    };
    let mut map = HeaderMap::new();
    headers.write_to(&mut map, S::required_fields());
    json_response(200, map, body)
}
