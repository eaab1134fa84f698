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
    /// A mnemonic that is not a valid BIP39 phrase, or a bad word count.
    #[error("invalid mnemonic: {0}")]
    Mnemonic(String),
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

impl Drop for Keypair {
    fn drop(&mut self) {
        // schnorrkel wipes its own secret key; the mini secret is ours to wipe.
        zeroize::Zeroize::zeroize(&mut self.mini_secret);
    }
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keypair")
            .field("ss58", &self.ss58())
            .finish_non_exhaustive()
    }
}

impl Keypair {
    /// A key pair from a 32-byte mini secret (the `secretSeed` of a wallet file), expanded as
    /// Substrate does (ed25519-style expansion).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, KeyError> {
        let mini = MiniSecretKey::from_bytes(seed).map_err(|e| KeyError::Invalid(e.to_string()))?;
        Ok(Self {
            inner: mini.expand_to_keypair(ExpansionMode::Ed25519),
            mini_secret: Some(*seed),
        })
    }

    /// A key pair from a BIP39 mnemonic and optional password, as Substrate and Bittensor derive it
    /// (substrate-bip39: the mini secret comes from the phrase's entropy, not the BIP39 seed).
    pub fn from_mnemonic(phrase: &str, password: Option<&str>) -> Result<Self, KeyError> {
        let mini = crate::mnemonic::mini_secret(phrase, password)?;
        Self::from_seed(&mini)
    }

    /// A key pair from the 64-byte expanded secret (key || nonce) of a wallet file's `privateKey`.
    ///
    /// bittensor-wallet stores schnorrkel's canonical form (scalar mod l); older tools stored the
    /// ed25519-compatible form (scalar times the cofactor). The canonical form is tried first;
    /// a scalar that is not canonical can only be the ed25519 form.
    pub fn from_expanded_secret(secret: &[u8; 64]) -> Result<Self, KeyError> {
        let sk = match schnorrkel::SecretKey::from_bytes(secret) {
            Ok(sk) => sk,
            Err(_) => schnorrkel::SecretKey::from_ed25519_bytes(secret)
                .map_err(|e| KeyError::Invalid(e.to_string()))?,
        };
        Ok(Self {
            inner: sk.to_keypair(),
            mini_secret: None,
        })
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

    /// The 64-byte expanded secret (key || nonce) as bittensor-wallet files store it in
    /// `privateKey` (schnorrkel's canonical encoding).
    pub fn expanded_secret(&self) -> [u8; 64] {
        self.inner.secret.to_bytes()
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
    Verifier::new(public)?.verify(message, signature)
}

/// A public key decoded once (its curve point decompressed), for checking many signatures from
/// the same signer without paying for the decoding each time.
#[derive(Clone, Debug)]
pub struct Verifier(schnorrkel::PublicKey);

impl Verifier {
    /// Decodes `public`; fails when the bytes are not a valid Ristretto point.
    pub fn new(public: &PublicKey) -> Result<Self, KeyError> {
        schnorrkel::PublicKey::from_bytes(&public.0)
            .map(Self)
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    /// Verifies an sr25519 signature made with the "substrate" context.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let sig =
            Signature::from_bytes(signature).map_err(|e| KeyError::Signature(e.to_string()))?;
        self.0
            .verify_simple(SIGNING_CONTEXT, message, &sig)
            .map_err(|e| KeyError::Signature(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alice_seed_gives_alice_address() {
        // //Alice dev seed and address, as published by Substrate's subkey.
        let seed = hex::decode("e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a")
            .unwrap();
        let kp = Keypair::from_seed(&seed.try_into().unwrap()).unwrap();
        assert_eq!(
            kp.ss58(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
    }

    #[test]
    fn dev_phrase_gives_the_published_root_address() {
        // Substrate's dev phrase; its root key (no derivation path) is this address, as
        // bittensor_wallet 4.1.1 `Keypair.create_from_mnemonic` also gives.
        let phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
        let kp = Keypair::from_mnemonic(phrase, None).unwrap();
        assert_eq!(
            kp.ss58(),
            "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"
        );
        let with_password = Keypair::from_mnemonic(phrase, Some("x")).unwrap();
        assert_ne!(with_password.public(), kp.public());
    }

    #[test]
    fn mnemonic_matches_a_bittensor_wallet_keyfile() {
        // All four values from a hotkey file written by bittensor_wallet 4.1.1 (create_new_hotkey).
        let kp = Keypair::from_mnemonic(
            "apple piece salute soul sibling enjoy judge accuse inject wedding pony ghost",
            None,
        )
        .unwrap();
        assert_eq!(
            hex::encode(kp.seed().unwrap()),
            "7bb4379e063fb5cb2f3765b9b7aa57cf85e624dededc329ddaf0c95164fc65f8"
        );
        assert_eq!(
            hex::encode(kp.expanded_secret()),
            "2527eb307eacb1e54c5a6367bfb9e7955b43199c91df1a00a279f1f3062af408\
             b98c94ccc52fd9f7e1bf3aba2ceef04618d5f1d0b2b326e7fec5ff6f9a0cd8b0"
        );
        assert_eq!(
            kp.ss58(),
            "5DxtWTBoHSRUT96bf3s4C9VguS8mECcMd5WYiVNVmgk5g5JA"
        );
    }

    #[test]
    fn mnemonic_password_follows_substrate_bip39_vectors() {
        // substrate-bip39's published vector (password "Substrate"): the mini secret is the first
        // 32 bytes of the 64-byte seed.
        let kp = Keypair::from_mnemonic(
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            Some("Substrate"),
        )
        .unwrap();
        assert_eq!(
            hex::encode(kp.seed().unwrap()),
            "4313249608fe8ac10fd5886c92c4579007272cb77c21551ee5b8d60b78041685"
        );
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
        let from_ed25519_form =
            Keypair::from_expanded_secret(&kp.inner.secret.to_ed25519_bytes()).unwrap();
        assert_eq!(from_ed25519_form.public(), kp.public());
    }
}
