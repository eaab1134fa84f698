//! The dendrite: signs a typed synapse, posts it to an axon, and turns whatever comes back
//! (answer, refusal, timeout, garbage) into a `Reply` with the SDK's status codes. Never panics
//! on network input.

use crate::axon::AuthScheme;
use crate::btauth;
use crate::headers::SynapseHeaders;
use crate::synapse::{now_ns, request_message, signature_hex, Envelope, Synapse, SDK_VERSION};
use crate::terminal::TerminalInfo;
use salon_keys::Keypair;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// Default cap on a response body (256 MiB: a 30 s 32 kHz float list is ~20 MB of JSON).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 << 20;

/// Where an axon is and who it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxonTarget {
    /// IP address (v4 or v6) or host name.
    pub ip: String,
    /// TCP port.
    pub port: u16,
    /// The axon's SS58 hotkey (part of the signed message).
    pub hotkey: String,
}

/// The outcome of one call.
#[derive(Clone, Debug)]
pub struct Reply<S> {
    /// The axon's answer, when it answered 200 with a well-formed synapse.
    pub synapse: Option<S>,
    /// The SDK's status code: 200 success; 4xx/5xx from the axon; 408 client timeout;
    /// 503 connection refused; 422 unreadable response; 500 other client errors.
    pub status_code: u16,
    /// Explanation of the status.
    pub status_message: String,
    /// Seconds the axon says it spent, if it said.
    pub process_time: Option<f64>,
    /// Wall time of the call as measured here.
    pub elapsed: Duration,
    /// The axon's terminal info as reported.
    pub axon: TerminalInfo,
}

impl<S> Reply<S> {
    /// Whether the call succeeded with an answer.
    pub fn is_success(&self) -> bool {
        self.status_code == 200 && self.synapse.is_some()
    }

    /// Whether the call timed out (408).
    pub fn is_timeout(&self) -> bool {
        self.status_code == 408
    }

    fn failure(status_code: u16, status_message: String, elapsed: Duration) -> Self {
        Self {
            synapse: None,
            status_code,
            status_message,
            process_time: None,
            elapsed,
            axon: TerminalInfo::default(),
        }
    }
}

/// A client that signs synapses with one hotkey.
pub struct Dendrite {
    keypair: Keypair,
    hotkey: String,
    uuid: String,
    external_ip: String,
    client: reqwest::Client,
    auth: AuthScheme,
    max_response_bytes: usize,
    last_nonce: AtomicI64,
}

impl Dendrite {
    /// A dendrite signing as `keypair`, announcing 127.0.0.1 as its IP, Synapse signatures.
    pub fn new(keypair: Keypair) -> Self {
        let node = uuid::Uuid::new_v4();
        let mut node_id = [0u8; 6];
        node_id.copy_from_slice(&node.as_bytes()[..6]);
        Self {
            hotkey: keypair.ss58(),
            keypair,
            uuid: uuid::Uuid::now_v1(&node_id).to_string(),
            external_ip: "127.0.0.1".into(),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()
                .unwrap_or_default(),
            auth: AuthScheme::Synapse,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            last_nonce: AtomicI64::new(0),
        }
    }

    /// The IP this dendrite announces in `bt_header_dendrite_ip`.
    pub fn with_external_ip(mut self, ip: impl Into<String>) -> Self {
        self.external_ip = ip.into();
        self
    }

    /// How to sign: Synapse (default), BtAuth1, or Both (both sets of headers).
    pub fn with_auth(mut self, scheme: AuthScheme) -> Self {
        self.auth = scheme;
        self
    }

    /// Largest response body read; larger ones fail with 422.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// This dendrite's hotkey (SS58).
    pub fn hotkey(&self) -> &str {
        &self.hotkey
    }

    /// This dendrite's uuid (fixed for its life, as the SDK's).
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// A nanosecond nonce, strictly increasing across this dendrite's calls.
    fn next_nonce(&self) -> i64 {
        let now = now_ns();
        let mut prev = self.last_nonce.load(Ordering::Relaxed);
        loop {
            let next = now.max(prev + 1);
            match self.last_nonce.compare_exchange_weak(
                prev,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(p) => prev = p,
            }
        }
    }

    /// Builds the signed request (headers and JSON body) for `synapse` to `target`.
    pub fn signed_request<S: Synapse>(
        &self,
        target: &AxonTarget,
        synapse: S,
        timeout: Duration,
    ) -> Result<(http::HeaderMap, Vec<u8>), crate::WireError> {
        let timeout_secs = timeout.as_secs_f64();
        let nonce = self.next_nonce();
        let body_hash = synapse.body_hash()?;
        let mut env = Envelope::new(synapse, timeout_secs);
        let dendrite = TerminalInfo {
            ip: Some(self.external_ip.clone()),
            version: Some(SDK_VERSION),
            nonce: Some(nonce),
            uuid: Some(self.uuid.clone()),
            hotkey: Some(self.hotkey.clone()),
            signature: Some(signature_hex(
                &self.keypair.sign(
                    request_message(nonce, &self.hotkey, &target.hotkey, &self.uuid, &body_hash)
                        .as_bytes(),
                ),
            )),
            ..Default::default()
        };
        let axon = TerminalInfo {
            ip: Some(target.ip.clone()),
            port: Some(target.port as i64),
            hotkey: Some(target.hotkey.clone()),
            ..Default::default()
        };
        env.dendrite = Some(dendrite.clone());
        env.axon = Some(axon.clone());
        let body = serde_json::to_vec(&env)?;
        let sh = SynapseHeaders {
            name: Some(S::NAME.to_string()),
            timeout: Some(timeout_secs),
            header_size: Some(0),
            total_size: Some(body.len() as i64),
            axon,
            dendrite,
            computed_body_hash: Some(body_hash),
        };
        let mut headers = http::HeaderMap::new();
        sh.write_to(&mut headers, S::required_fields());
        if matches!(self.auth, AuthScheme::BtAuth1 | AuthScheme::Both) {
            let path = format!("/{}", S::NAME);
            btauth::sign_headers(
                &mut headers,
                &self.keypair,
                "POST",
                &path,
                &body,
                nonce,
                Some(&target.hotkey),
            );
        }
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok((headers, body))
    }

    /// Sends `synapse` to `target` and waits at most `timeout` for the answer.
    pub async fn call<S: Synapse>(
        &self,
        target: &AxonTarget,
        synapse: S,
        timeout: Duration,
    ) -> Reply<S> {
        let start = Instant::now();
        let (headers, body) = match self.signed_request(target, synapse, timeout) {
            Ok(x) => x,
            Err(e) => {
                return Reply::failure(
                    400,
                    format!("Could not encode the synapse: {e}"),
                    start.elapsed(),
                )
            }
        };
        let host = if target.ip.contains(':') {
            format!("[{}]", target.ip)
        } else {
            target.ip.clone()
        };
        let url = format!("http://{host}:{}/{}", target.port, S::NAME);
        let sent = self
            .client
            .post(&url)
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .send()
            .await;
        let timeout_msg = || {
            format!(
                "Request timeout after {} seconds",
                crate::body_hash::python_float_repr(timeout.as_secs_f64())
            )
        };
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Reply::failure(408, timeout_msg(), start.elapsed()),
            Err(e) if e.is_connect() => {
                let msg = format!(
                    "Service unavailable at {}:{}/{}",
                    target.ip,
                    target.port,
                    S::NAME
                );
                tracing::debug!("dendrite connect error: {e}");
                return Reply::failure(503, msg, start.elapsed());
            }
            Err(e) => return Reply::failure(500, format!("Client error: {e}"), start.elapsed()),
        };
        let http_status = resp.status().as_u16();
        let server = SynapseHeaders::parse(resp.headers()).unwrap_or_default();
        let mut bytes = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    if bytes.len() + c.len() > self.max_response_bytes {
                        let msg = format!(
                            "Failed to parse response: body larger than the dendrite's limit of {} bytes",
                            self.max_response_bytes
                        );
                        return Reply::failure(422, msg, start.elapsed());
                    }
                    bytes.extend_from_slice(&c);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    return Reply::failure(408, timeout_msg(), start.elapsed())
                }
                Err(e) => {
                    return Reply::failure(400, format!("Payload error: {e}"), start.elapsed())
                }
            }
        }
        let elapsed = start.elapsed();
        let mut axon = server.axon.clone();
        if http_status == 200 {
            let env: Envelope<S> = match serde_json::from_slice(&bytes) {
                Ok(e) => e,
                Err(e) => {
                    return Reply::failure(422, format!("Failed to parse response: {e}"), elapsed)
                }
            };
            let body_axon = env.axon.unwrap_or_default();
            axon.status_code = axon.status_code.or(body_axon.status_code).or(Some(200));
            axon.status_message = axon
                .status_message
                .or(body_axon.status_message)
                .or(Some("Success".into()));
            axon.process_time = axon.process_time.or(body_axon.process_time);
            let status = u16::try_from(axon.status_code.unwrap_or(200)).unwrap_or(500);
            return Reply {
                synapse: (status == 200).then_some(env.synapse),
                status_code: status,
                status_message: axon.status_message.clone().unwrap_or_default(),
                process_time: axon.process_time,
                elapsed,
                axon,
            };
        }
        let message = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(v) => match (v.get("message"), v.get("detail")) {
                (Some(serde_json::Value::String(m)), _) => m.clone(),
                (Some(m), _) if !m.is_null() => m.to_string(),
                (_, Some(d)) => d.to_string(),
                _ => v.to_string(),
            },
            Err(_) => {
                let text = String::from_utf8_lossy(&bytes);
                format!(
                    "non-JSON response: {}",
                    text.chars().take(200).collect::<String>()
                )
            }
        };
        let status = axon
            .status_code
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(http_status);
        axon.status_code = Some(status as i64);
        axon.status_message = Some(message.clone());
        Reply {
            synapse: None,
            status_code: status,
            status_message: message,
            process_time: axon.process_time,
            elapsed,
            axon,
        }
    }

    /// Sends `synapse` to every target concurrently; replies come back in target order.
    pub async fn call_many<S: Synapse>(
        &self,
        targets: &[AxonTarget],
        synapse: S,
        timeout: Duration,
    ) -> Vec<Reply<S>> {
        futures::future::join_all(
            targets
                .iter()
                .map(|t| self.call(t, synapse.clone(), timeout)),
        )
        .await
    }
}
