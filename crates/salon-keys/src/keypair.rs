//! sr25519 key pairs with Substrate's signing context, as Bittensor hotkeys and coldkeys use them.

use crate::ss58;
use schnorrkel::{ExpansionMode, MiniSecretKey, Signature};

const SIGNING_CONTEXT: &[u8] = b"substrate";

/// What went wrong with a key or a signature.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key bytes of the wrong length or shape.
    #[error("invalid key material: {0}")]
    Invalid(String),
    /// A bad SS58 address.
    #[error(transparent)]
    Ss58(#[from] ss58::Ss58Error),
    /// A signature that is malformed or does not verify.
    #[error("bad signature: {0}")]
    Signature(String),
}

/// A 32-byte sr25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Decodes an SS58 address (any format).
    pub fn from_ss58(address: &str) -> Result<Self, KeyError> {
        Ok(PublicKey(ss58::decode(address)?.0))
    }

    /// The SS58 address in Bittensor's format (42).
    pub fn to_ss58(&self) -> String {
        ss58::encode(&self.0, ss58::BITTENSOR_FORMAT)
    }
}

/// An sr25519 key pair.
#[derive(Clone)]
pub struct Keypair {
    inner: schnorrkel::Keypair,
    mini_secret: Option<[u8; 32]>,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keypair").field("ss58", &self.ss58()).finish_non_exhaustive()
    }
}

impl Keypair {
    /// A key pair from a 32-byte mini secret (the `secretSeed` of a wallet file), expanded as
    /// Substrate does (ed25519-style expansion).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let mini = MiniSecretKey::from_bytes(seed).map_err(|e| KeyError::Invalid(e.to_string()))?;
        Ok(Self { inner: mini.expand_to_keypair(ExpansionMode::Ed25519), mini_secret: Some(*seed) })
    }

    /// A key pair from the 64-byte expanded secret (key || nonce) of a wallet file's `privateKey`.
    pub fn from_expanded_secret(secret: &[u8; 64]) -> Result<Self, KeyError> {
        let sk = schnorrkel::SecretKey::from_ed25519_bytes(secret)
            .map_err(|e| KeyError::Invalid(e.to_string()))?;
        Ok(Self { inner: sk.to_keypair(), mini_secret: None })
    }

    /// A fresh random key pair.
    pub fn generate() -> Self {
        let seed: [u8; 32] = rand::random();
        Self::from_seed(&seed).expect("any 32 bytes are a valid mini secret")
    }

    /// The mini secret, if this pair was made from one.
    pub fn seed(&self) -> Option<&[u8; 32]> {
        self.mini_secret.as_ref()
    }

    /// The 64-byte expanded secret (key || nonce) as wallet files store it.
    pub fn expanded_secret(&self) -> [u8; 64] {
        self.inner.secret.to_ed25519_bytes()
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.inner.public.to_bytes())
    }

    /// The SS58 address (format 42).
    pub fn ss58(&self) -> String {
        self.public().to_ss58()
    }

    /// Signs `message` with the "substrate" context.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let ctx = schnorrkel::signing_context(SIGNING_CONTEXT);
        self.inner.sign(ctx.bytes(message)).to_bytes()
    }
}

/// Verifies an sr25519 signature made with the "substrate" context.
pub fn verify(public: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
    let sig = Signature::from_bytes(signature).map_err(|e| KeyError::Signature(e.to_string()))?;
    let pk = schnorrkel::PublicKey::from_bytes(&public.0).map_err(|e| KeyError::Invalid(e.to_string()))?;
    pk.verify_simple(SIGNING_CONTEXT, message, &sig)
        .map_err(|e| KeyError::Signature(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alice_seed_gives_alice_address() {
        // //Alice dev seed and address, as published by Substrate's subkey.
        let seed = hex::decode("e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a").unwrap();
        let kp = Keypair::from_seed(&seed.try_into().unwrap()).unwrap();
        assert_eq!(kp.ss58(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    }

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let kp = Keypair::generate();
        let sig = kp.sign(b"hello");
        verify(&kp.public(), b"hello", &sig).unwrap();
        assert!(verify(&kp.public(), b"hellO", &sig).is_err());
        assert!(verify(&Keypair::generate().public(), b"hello", &sig).is_err());
        let again = Keypair::from_expanded_secret(&kp.expanded_secret()).unwrap();
        assert_eq!(again.public(), kp.public());
    }
}
