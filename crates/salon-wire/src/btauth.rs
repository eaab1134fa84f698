//! btauth/1 (bittensor 11.x): request signing over method, path, body digest, nonce, sender and
//! receiver, carried in `X-Bittensor-*` headers; signing for dendrites and verification for axons.
//!
//! The scheme field of the payload is the signature scheme name (`sr25519`, the only one Salon
//! signs with); `X-Bittensor-Crypto` is sent only for other schemes, as the reference states.

use crate::nonce::{NonceError, SeenNonces};
use crate::synapse::{parse_signature_hex, signature_hex};
use http::{HeaderMap, HeaderValue};
use salon_keys::{verify, Keypair, PublicKey};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Header with the protocol version ("1").
pub const VERSION_HEADER: &str = "x-bittensor-version";
/// Header with the sender's SS58 hotkey.
pub const HOTKEY_HEADER: &str = "x-bittensor-hotkey";
/// Header with the receiver's SS58 hotkey.
pub const RECEIVER_HEADER: &str = "x-bittensor-receiver";
/// Header with the nonce (nanoseconds since the epoch).
pub const NONCE_HEADER: &str = "x-bittensor-nonce";
/// Header naming a non-sr25519 signature scheme.
pub const CRYPTO_HEADER: &str = "x-bittensor-crypto";
/// Header with "0x" + hex of the signature.
pub const SIGNATURE_HEADER: &str = "x-bittensor-signature";
/// Oldest nonce accepted.
pub const MAX_AGE: Duration = Duration::from_secs(10);
/// Furthest-ahead nonce accepted.
pub const FORWARD_SKEW: Duration = Duration::from_secs(2);

/// The exact bytes signed: `"\n".join(["btauth/1", scheme, METHOD, path_with_query,
/// sha256_hex(body), nonce, sender, receiver or "-"])`.
pub fn payload(
    scheme: &str,
    method: &str,
    path_with_query: &str,
    body: &[u8],
    nonce: i64,
    sender: &str,
    receiver: Option<&str>,
) -> String {
    let digest = hex::encode(Sha256::digest(body));
    [
        "btauth/1",
        scheme,
        &method.to_ascii_uppercase(),
        path_with_query,
        &digest,
        &nonce.to_string(),
        sender,
        receiver.unwrap_or("-"),
    ]
    .join("\n")
}

/// Adds btauth/1 headers signing this request with `keypair`.
pub fn sign_headers(
    headers: &mut HeaderMap,
    keypair: &Keypair,
    method: &str,
    path_with_query: &str,
    body: &[u8],
    nonce: i64,
    receiver: Option<&str>,
) {
    let sender = keypair.ss58();
    let msg = payload(
        "sr25519",
        method,
        path_with_query,
        body,
        nonce,
        &sender,
        receiver,
    );
    let sig = signature_hex(&keypair.sign(msg.as_bytes()));
    let put = |h: &mut HeaderMap, k: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    put(headers, VERSION_HEADER, "1");
    put(headers, HOTKEY_HEADER, &sender);
    if let Some(r) = receiver {
        put(headers, RECEIVER_HEADER, r);
    }
    put(headers, NONCE_HEADER, &nonce.to_string());
    put(headers, SIGNATURE_HEADER, &sig);
}

/// Why a btauth/1 request was refused.
#[derive(Debug, thiserror::Error)]
pub enum BtAuthError {
    /// A required header is absent or unreadable.
    #[error("btauth/1: missing or unreadable header {0}")]
    MissingHeader(&'static str),
    /// Version other than 1.
    #[error("btauth/1: unsupported version {0:?}; expected \"1\"")]
    Version(String),
    /// A signature scheme other than sr25519.
    #[error("btauth/1: unsupported crypto scheme {0:?}; this axon verifies sr25519 only")]
    Crypto(String),
    /// The request is addressed to another hotkey.
    #[error("btauth/1: receiver {got:?} is not this axon's hotkey {expected}")]
    Receiver {
        /// Receiver named in the request.
        got: String,
        /// This axon's hotkey.
        expected: String,
    },
    /// Nonce refused.
    #[error("btauth/1: {0}")]
    Nonce(#[from] NonceError),
    /// Bad sender or signature.
    #[error("btauth/1: signature mismatch: {0}")]
    Signature(String),
}

/// What a verified btauth/1 request tells about its sender.
#[derive(Clone, Debug)]
pub struct BtAuthCaller {
    /// The sender's SS58 hotkey.
    pub hotkey: String,
    /// The nonce it signed.
    pub nonce: i64,
}

/// The sender hotkey a request claims (unverified), for blacklisting before verification.
pub fn claimed_hotkey(headers: &HeaderMap) -> Option<String> {
    headers
        .get(HOTKEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Whether a request carries a btauth/1 signature.
pub fn is_btauth(headers: &HeaderMap) -> bool {
    headers.contains_key(SIGNATURE_HEADER)
}

/// Verifies a btauth/1 request addressed to `receiver`, and records its nonce in `seen`.
pub fn verify_request(
    headers: &HeaderMap,
    method: &str,
    path_with_query: &str,
    body: &[u8],
    receiver: &str,
    seen: &SeenNonces,
    now_ns: i64,
) -> Result<BtAuthCaller, BtAuthError> {
    let get = |k: &'static str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .ok_or(BtAuthError::MissingHeader(k))
    };
    let version = get(VERSION_HEADER)?;
    if version.trim() != "1" {
        return Err(BtAuthError::Version(version.to_string()));
    }
    if let Some(c) = headers.get(CRYPTO_HEADER) {
        let c = c.to_str().unwrap_or("?");
        if !c.eq_ignore_ascii_case("sr25519") {
            return Err(BtAuthError::Crypto(c.to_string()));
        }
    }
    let sender = get(HOTKEY_HEADER)?;
    let got_receiver = get(RECEIVER_HEADER)?;
    if got_receiver != receiver {
        return Err(BtAuthError::Receiver {
            got: got_receiver.to_string(),
            expected: receiver.to_string(),
        });
    }
    let nonce: i64 = get(NONCE_HEADER)?
        .trim()
        .parse()
        .map_err(|_| BtAuthError::MissingHeader(NONCE_HEADER))?;
    let sig = parse_signature_hex(get(SIGNATURE_HEADER)?).map_err(BtAuthError::Signature)?;
    let public = PublicKey::from_ss58(sender)
        .map_err(|e| BtAuthError::Signature(format!("sender {sender:?}: {e}")))?;
    let msg = payload(
        "sr25519",
        method,
        path_with_query,
        body,
        nonce,
        sender,
        Some(receiver),
    );
    verify(&public, msg.as_bytes(), &sig).map_err(|e| BtAuthError::Signature(e.to_string()))?;
    seen.check_and_record(sender, nonce, now_ns)?;
    Ok(BtAuthCaller {
        hotkey: sender.to_string(),
        nonce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synapse::now_ns;

    #[test]
    fn payload_layout_is_the_documented_one() {
        let p = payload("sr25519", "post", "/Dummy?x=1", b"", 5, "SENDER", None);
        assert_eq!(
            p,
            "btauth/1\nsr25519\nPOST\n/Dummy?x=1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n5\nSENDER\n-"
        );
    }

    #[test]
    fn signed_request_verifies_once_and_tampering_fails() {
        let caller = Keypair::generate();
        let axon = Keypair::generate();
        let seen = SeenNonces::new(MAX_AGE, FORWARD_SKEW, 1000);
        let now = now_ns();
        let mut h = HeaderMap::new();
        sign_headers(
            &mut h,
            &caller,
            "POST",
            "/Dummy",
            b"{}",
            now,
            Some(&axon.ss58()),
        );
        let ok = verify_request(&h, "POST", "/Dummy", b"{}", &axon.ss58(), &seen, now).unwrap();
        assert_eq!(ok.hotkey, caller.ss58());
        assert!(matches!(
            verify_request(&h, "POST", "/Dummy", b"{}", &axon.ss58(), &seen, now),
            Err(BtAuthError::Nonce(NonceError::Replayed))
        ));
        let mut h2 = HeaderMap::new();
        sign_headers(
            &mut h2,
            &caller,
            "POST",
            "/Dummy",
            b"{}",
            now + 1,
            Some(&axon.ss58()),
        );
        assert!(matches!(
            verify_request(
                &h2,
                "POST",
                "/Dummy",
                b"{\"x\":1}",
                &axon.ss58(),
                &seen,
                now
            ),
            Err(BtAuthError::Signature(_))
        ));
        assert!(matches!(
            verify_request(&h2, "POST", "/Dummy", b"{}", &caller.ss58(), &seen, now),
            Err(BtAuthError::Receiver { .. })
        ));
    }
}
