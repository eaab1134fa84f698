//! Signed extrinsics of the chain service: the [`Call`]s, the payload a key signs (call, signer,
//! nonce as JSON text) and the check the service runs before dispatching one.

use crate::error::ChainError;
use crate::types::AxonInfo;
use salon_keys::{Keypair, PublicKey};
use salon_yuma::Hyperparameters;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Prefixed to the payload before signing, so these signatures mean nothing elsewhere.
pub const SIGNING_DOMAIN: &[u8] = b"salon-chain/1:";

/// How far a nonce (unix time in ns) may be from the service's clock: 5 minutes.
pub const NONCE_WINDOW_NS: u64 = 300 * 1_000_000_000;

/// One chain call. Who signs: `create_subnet`, `add_stake` and `set_hyperparameter` the coldkey;
/// the others the hotkey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    /// Creates a subnet owned by the signer (coldkey).
    CreateSubnet {
        /// Hotkey (SS58) to register as uid 0, owned by the signer.
        owner_hotkey: Option<String>,
        /// The new subnet's hyperparameters.
        hyperparameters: Hyperparameters,
    },
    /// Registers the signer (hotkey) under `coldkey`.
    Register {
        /// The subnet.
        netuid: u16,
        /// The owning coldkey (SS58).
        coldkey: String,
    },
    /// Credits stake from the signer (coldkey) to `hotkey`.
    AddStake {
        /// The hotkey (SS58).
        hotkey: String,
        /// The subnet.
        netuid: u16,
        /// Amount in rao.
        amount_rao: u64,
    },
    /// Publishes the signer's (hotkey) axon.
    ServeAxon {
        /// The subnet.
        netuid: u16,
        /// Where it listens.
        axon: AxonInfo,
    },
    /// Sets the signer's (hotkey) weights.
    SetWeights {
        /// The subnet.
        netuid: u16,
        /// Destination uids.
        dests: Vec<u16>,
        /// Values, one per uid.
        values: Vec<u16>,
        /// The validator's version key.
        version_key: u64,
    },
    /// Commits a weights hash (hex of 32 bytes).
    CommitWeights {
        /// The subnet.
        netuid: u16,
        /// BlakeTwo256 commit hash, hex.
        commit_hash: String,
    },
    /// Reveals committed weights.
    RevealWeights {
        /// The subnet.
        netuid: u16,
        /// Destination uids.
        uids: Vec<u16>,
        /// Values, one per uid.
        values: Vec<u16>,
        /// The salt committed.
        salt: Vec<u16>,
        /// The version key committed.
        version_key: u64,
    },
    /// Sets one hyperparameter (signer: the subnet owner's coldkey).
    SetHyperparameter {
        /// The subnet.
        netuid: u16,
        /// Field name of [`Hyperparameters`].
        name: String,
        /// Value as text ("10", "true").
        value: String,
    },
}

/// What a key signs: the call, who signs, and a fresh nonce.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extrinsic {
    /// The call.
    pub call: Call,
    /// The signer's SS58 address.
    pub signer: String,
    /// Unix time in nanoseconds, unique per signer (replays are rejected).
    pub nonce: u64,
}

/// The request body of `POST /extrinsic`: the exact payload text and its sr25519 signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedExtrinsic {
    /// [`Extrinsic`] as JSON text; the signature covers `SIGNING_DOMAIN || payload`.
    pub payload: String,
    /// The 64-byte signature, hex.
    pub signature: String,
}

/// The current unix time in nanoseconds.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Hands out strictly increasing nonces based on the clock.
#[derive(Debug, Default)]
pub struct NonceSource {
    last: AtomicU64,
}

impl NonceSource {
    /// A nonce greater than every one this source gave before, close to the current time.
    pub fn next(&self) -> u64 {
        let now = now_ns();
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.max(prev + 1);
            match self
                .last
                .compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(p) => prev = p,
            }
        }
    }
}

fn message(payload: &str) -> Vec<u8> {
    let mut m = SIGNING_DOMAIN.to_vec();
    m.extend_from_slice(payload.as_bytes());
    m
}

impl SignedExtrinsic {
    /// Signs `call` with `key` and `nonce`.
    pub fn sign(call: Call, key: &Keypair, nonce: u64) -> Self {
        let ext = Extrinsic {
            call,
            signer: key.ss58(),
            nonce,
        };
        let payload = serde_json::to_string(&ext).expect("calls serialize to JSON");
        let signature = hex::encode(key.sign(&message(&payload)));
        Self { payload, signature }
    }

    /// Parses the payload and checks the signature against its signer; returns the extrinsic and
    /// the signer's key. Nonce freshness is the caller's to check.
    pub fn verify(&self) -> Result<(Extrinsic, PublicKey), ChainError> {
        let ext: Extrinsic =
            serde_json::from_str(&self.payload).map_err(|e| ChainError::BadRequest {
                message: format!("payload is not a valid extrinsic: {e}"),
            })?;
        let signer = PublicKey::from_ss58(&ext.signer).map_err(|e| ChainError::BadRequest {
            message: format!("signer: {e}"),
        })?;
        let sig = hex::decode(&self.signature).map_err(|_| ChainError::BadRequest {
            message: "signature is not hex".into(),
        })?;
        salon_keys::verify(&signer, &message(&self.payload), &sig).map_err(|_| {
            ChainError::BadProof {
                signer: ext.signer.clone(),
            }
        })?;
        Ok((ext, signer))
    }
}

/// Whether `nonce` lies within [`NONCE_WINDOW_NS`] of `now`.
pub fn nonce_in_window(nonce: u64, now: u64) -> bool {
    nonce.abs_diff(now) <= NONCE_WINDOW_NS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_extrinsics_verify_and_tampering_is_caught() {
        let key = Keypair::generate();
        let call = Call::SetWeights {
            netuid: 1,
            dests: vec![0, 1],
            values: vec![1, 2],
            version_key: 0,
        };
        let signed = SignedExtrinsic::sign(call.clone(), &key, 42);
        let (ext, signer) = signed.verify().unwrap();
        assert_eq!((ext.call, ext.nonce, signer), (call, 42, key.public()));

        let tampered = SignedExtrinsic {
            payload: signed.payload.replace("[1,2]", "[9,2]"),
            ..signed.clone()
        };
        assert_eq!(tampered.verify().unwrap_err().name(), "BadProof");
        // Someone else's signature over a payload naming `key` as signer.
        let forged = SignedExtrinsic {
            signature: hex::encode(Keypair::generate().sign(&message(&signed.payload))),
            ..signed
        };
        assert_eq!(forged.verify().unwrap_err().name(), "BadProof");
    }

    #[test]
    fn nonces_increase_and_the_window_is_enforced() {
        let src = NonceSource::default();
        let (a, b) = (src.next(), src.next());
        assert!(b > a);
        assert!(nonce_in_window(a, now_ns()));
        assert!(!nonce_in_window(a - 2 * NONCE_WINDOW_NS, a));
    }
}
