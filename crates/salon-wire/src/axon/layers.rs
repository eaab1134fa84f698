//! The axon's checks as axum middleware, in the SDK's order: intake (body limit 413, header
//! parsing 400), blacklist (403), verification (401), priority (503 / 408).

use super::exchange::{error_response, secs_text, AuthScheme, Caller, Exchange};
use super::AxonState;
use crate::btauth;
use crate::headers::SynapseHeaders;
use crate::synapse::{now_ns, parse_signature_hex, request_message, signature_hex, SDK_VERSION};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The route name as the SDK takes it: the first path segment.
pub fn route_name(path: &str) -> &str {
    path.split('/').nth(1).unwrap_or("")
}

/// 404 for a synapse this axon does not serve, with the SDK's message.
pub async fn unknown_synapse(State(st): State<Arc<AxonState>>, req: Request) -> Response {
    let start = Instant::now();
    let name = route_name(req.uri().path()).to_string();
    let list = serde_json::Value::from(st.route_names.clone());
    let msg = format!(
        "Synapse name '{name}' not found. Available synapses {}",
        crate::body_hash::python_str(&list)
    );
    let headers = SynapseHeaders {
        name: Some("Synapse".into()),
        ..Default::default()
    };
    error_response(404, &msg, &headers, start)
}

/// Reads the body within the limit and the Synapse headers; fills in this axon's terminal info.
pub async fn intake(State(st): State<Arc<AxonState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let name = route_name(req.uri().path()).to_string();
    let base = SynapseHeaders {
        name: Some(name.clone()),
        ..Default::default()
    };
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_big = |n: String| {
        format!(
            "Payload too large: the request body is {n} bytes but this axon accepts at most {} bytes",
            st.body_limit
        )
    };
    if let Some(n) = declared {
        if n > st.body_limit as u64 {
            return error_response(413, &too_big(n.to_string()), &base, start);
        }
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, st.body_limit).await {
        Ok(b) => b,
        Err(_) => return error_response(413, &too_big("more than that".into()), &base, start),
    };
    let mut headers = match SynapseHeaders::parse(&parts.headers) {
        Ok(h) => h,
        Err(e) => {
            let msg = format!("Improperly formatted request. Could not parse headers into synapse of type {name}: {e}");
            return error_response(400, &msg, &base, start);
        }
    };
    headers.name = Some(name);
    let axon_nonce = now_ns();
    headers.axon.version = Some(SDK_VERSION);
    headers.axon.uuid = Some(st.uuid.clone());
    headers.axon.nonce = Some(axon_nonce);
    headers.axon.status_code = Some(100);
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Some(peer) = peer {
        headers.dendrite.ip = Some(peer.ip().to_string());
        headers.dendrite.port = Some(peer.port() as i64);
    }
    // The SDK's axon signs "{axon.nonce}.{dendrite.hotkey}.{axon.hotkey}.{axon.uuid}".
    let msg = format!(
        "{axon_nonce}.{}.{}.{}",
        headers.dendrite.hotkey.as_deref().unwrap_or("None"),
        headers.axon.hotkey.as_deref().unwrap_or("None"),
        st.uuid
    );
    headers.axon.signature = Some(signature_hex(&st.keypair.sign(msg.as_bytes())));
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let exchange = Exchange {
        start,
        headers,
        body: bytes.clone(),
        caller: None,
        method: parts.method.as_str().to_string(),
        path_and_query,
    };
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(exchange);
    next.run(req).await
}

fn exchange(req: &Request) -> Option<&Exchange> {
    req.extensions().get::<Exchange>()
}

fn uses_btauth(st: &AxonState, req: &Request) -> bool {
    match st.auth {
        AuthScheme::Synapse => false,
        AuthScheme::BtAuth1 => true,
        AuthScheme::Both => btauth::is_btauth(req.headers()),
    }
}

/// The hotkey a request claims, before verification.
fn claimed_hotkey(st: &AxonState, req: &Request, ex: &Exchange) -> String {
    if uses_btauth(st, req) {
        btauth::claimed_hotkey(req.headers()).unwrap_or_default()
    } else {
        ex.headers.dendrite.hotkey.clone().unwrap_or_default()
    }
}

/// 403 when the admission policy refuses the (claimed) caller.
pub async fn blacklist(State(st): State<Arc<AxonState>>, req: Request, next: Next) -> Response {
    let Some(ex) = exchange(&req) else {
        return next.run(req).await;
    };
    let hotkey = claimed_hotkey(&st, &req, ex);
    let name = ex.headers.name.clone().unwrap_or_default();
    if let Some(reason) = st.admission.blacklist(&hotkey, &name) {
        let msg = format!("Forbidden. Key is blacklisted: {reason}.");
        return error_response(403, &msg, &ex.headers, ex.start);
    }
    next.run(req).await
}

/// Python's rendering of an optional value inside an f-string.
fn py_opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "None".into())
}

fn verify_synapse(st: &AxonState, ex: &Exchange) -> Result<Caller, String> {
    let d = &ex.headers.dendrite;
    let hotkey = d
        .hotkey
        .clone()
        .ok_or("Missing dendrite hotkey (bt_header_dendrite_hotkey)")?;
    let verifier = st.keys.get(&hotkey)?;
    let nonce = d.nonce.ok_or("Missing Nonce")?;
    let uuid = py_opt(&d.uuid);
    let key = format!("{hotkey}:{uuid}");
    let timeout = ex.headers.timeout_secs();
    let now = now_ns();
    st.nonces
        .check(&key, nonce, timeout, now)
        .map_err(|e| e.to_string())?;
    let sig_text = d
        .signature
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or("Missing Signature")?;
    let body_hash = py_opt(&ex.headers.computed_body_hash);
    let message = request_message(nonce, &hotkey, &st.hotkey, &uuid, &body_hash);
    let sig = parse_signature_hex(&sig_text)?;
    verifier
        .verify(message.as_bytes(), &sig)
        .map_err(|_| format!("Signature mismatch with {message} and {sig_text}"))?;
    st.nonces
        .check_and_record(&key, nonce, timeout, now)
        .map_err(|e| e.to_string())?;
    Ok(Caller {
        hotkey,
        ip: d.ip.clone().unwrap_or_default(),
        port: d.port.unwrap_or(0).clamp(0, u16::MAX as i64) as u16,
        uuid: d.uuid.clone(),
        nonce,
        scheme: AuthScheme::Synapse,
        synapse: ex.headers.name.clone().unwrap_or_default(),
        timeout: Duration::from_secs_f64(timeout.min(1e9)),
    })
}

fn verify_btauth(st: &AxonState, req: &Request, ex: &Exchange) -> Result<Caller, String> {
    let c = btauth::verify_request(
        req.headers(),
        &ex.method,
        &ex.path_and_query,
        &ex.body,
        &st.hotkey,
        &st.seen,
        now_ns(),
    )
    .map_err(|e| e.to_string())?;
    let d = &ex.headers.dendrite;
    Ok(Caller {
        hotkey: c.hotkey,
        ip: d.ip.clone().unwrap_or_default(),
        port: d.port.unwrap_or(0).clamp(0, u16::MAX as i64) as u16,
        uuid: d.uuid.clone(),
        nonce: c.nonce,
        scheme: AuthScheme::BtAuth1,
        synapse: ex.headers.name.clone().unwrap_or_default(),
        timeout: Duration::from_secs_f64(ex.headers.timeout_secs().min(1e9)),
    })
}

/// 401 unless the request is signed by its claimed hotkey for this axon with a fresh nonce.
pub async fn verify_layer(
    State(st): State<Arc<AxonState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(ex) = exchange(&req) else {
        return next.run(req).await;
    };
    let result = if uses_btauth(&st, &req) {
        verify_btauth(&st, &req, ex)
    } else {
        verify_synapse(&st, ex)
    };
    match result {
        Ok(caller) => {
            if let Some(ex) = req.extensions_mut().get_mut::<Exchange>() {
                ex.caller = Some(caller);
            }
            next.run(req).await
        }
        Err(e) => {
            let msg = format!("Not Verified with error: {e}");
            error_response(401, &msg, &ex.headers, ex.start)
        }
    }
}

/// Waits for a free slot, best priority first: 503 when the queue is full, 408 when the wait
/// outlasts the caller's timeout.
pub async fn priority(State(st): State<Arc<AxonState>>, req: Request, next: Next) -> Response {
    let Some(gate) = st.gate.clone() else {
        return next.run(req).await;
    };
    let Some(ex) = exchange(&req) else {
        return next.run(req).await;
    };
    let hotkey = ex
        .caller
        .as_ref()
        .map(|c| c.hotkey.clone())
        .unwrap_or_default();
    let prio = st.admission.priority(&hotkey);
    let timeout = ex.headers.timeout_secs();
    let wait = Duration::from_secs_f64(timeout.min(1e9)).saturating_sub(ex.start.elapsed());
    match gate.acquire(prio, wait).await {
        Ok(permit) => {
            let resp = next.run(req).await;
            drop(permit);
            resp
        }
        Err(super::priority::GateError::Timeout) => {
            let msg = format!("Response timeout after: {}s", secs_text(timeout));
            error_response(408, &msg, &ex.headers, ex.start)
        }
        Err(e) => error_response(503, &e.to_string(), &ex.headers, ex.start),
    }
}
