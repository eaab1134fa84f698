//! The per-call record the axon's layers pass along (parsed headers, raw body, verified caller,
//! start time), and how any refusal becomes the SDK's error response.

use crate::body_hash::python_float_repr;
use crate::headers::SynapseHeaders;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use std::time::{Duration, Instant};

/// Which scheme authenticated a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    /// Bittensor 10.x Synapse signatures (`bt_header_dendrite_signature`).
    Synapse,
    /// bittensor 11.x btauth/1 (`X-Bittensor-*` headers).
    BtAuth1,
    /// Either: btauth/1 when its signature header is present, else Synapse.
    Both,
}

/// The verified caller, handed to synapse handlers.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The caller's SS58 hotkey (verified).
    pub hotkey: String,
    /// The caller's address as seen by this axon.
    pub ip: String,
    /// The caller's source port.
    pub port: u16,
    /// The dendrite's uuid (Synapse scheme only).
    pub uuid: Option<String>,
    /// The nonce the caller signed.
    pub nonce: i64,
    /// The scheme that verified it ([`AuthScheme::Synapse`] or [`AuthScheme::BtAuth1`]).
    pub scheme: AuthScheme,
    /// The synapse name called.
    pub synapse: String,
    /// The caller's timeout.
    pub timeout: Duration,
}

/// What the layers know about a call in flight.
#[derive(Clone)]
pub struct Exchange {
    /// When the axon started on it.
    pub start: Instant,
    /// The Synapse headers, updated with this axon's terminal info.
    pub headers: SynapseHeaders,
    /// The raw request body.
    pub body: Bytes,
    /// The caller once verified.
    pub caller: Option<Caller>,
    /// Method and path with query (signed by btauth/1).
    pub method: String,
    /// Path and query string.
    pub path_and_query: String,
}

/// A JSON response `{"message": message}` with the SDK's headers: axon status code, message and
/// process time set on `headers`.
pub fn error_response(
    status: u16,
    message: &str,
    headers: &SynapseHeaders,
    start: Instant,
) -> Response {
    let mut h = headers.clone();
    h.axon.status_code = Some(status as i64);
    h.axon.status_message = Some(message.to_string());
    h.axon.process_time = Some(start.elapsed().as_secs_f64());
    let body = serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap_or_default();
    h.total_size = Some(body.len() as i64);
    let mut map = HeaderMap::new();
    h.write_to(&mut map, &[]);
    json_response(status, map, body)
}

/// A response with a JSON body and the given headers.
pub fn json_response(status: u16, mut headers: HeaderMap, body: Vec<u8>) -> Response {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *resp.headers_mut() = headers;
    resp
}

/// Python's `str(float)` of a timeout, for messages.
pub fn secs_text(secs: f64) -> String {
    python_float_repr(secs)
}
