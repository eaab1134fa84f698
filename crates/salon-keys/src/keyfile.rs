//! The JSON inside Bittensor key files (`coldkey`, `hotkeys/<name>`) and public key files
//! (`coldkeypub.txt`, `hotkeys/<name>pub.txt`), byte-compatible with bittensor-wallet.

use crate::{Keypair, PublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The `cryptoType` of sr25519 keys, the only kind Salon reads and writes.
pub const CRYPTO_TYPE_SR25519: u8 = 1;

/// Why the contents of a key file were rejected.
#[derive(Debug, thiserror::Error)]
pub enum KeyfileError {
    /// Not JSON of the expected shape.
    #[error("key file is not valid key JSON ({0}); if it is encrypted, it needs a password")]
    Json(String),
    /// A field that is not the hex or address it should be.
    #[error("key file field {field} is invalid: {reason}")]
    Field {
        /// The JSON field name.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// Another key type (ed25519 = 0, ecdsa = 2).
    #[error("key file holds a key of cryptoType {0}; Salon supports only sr25519 (cryptoType 1)")]
    CryptoType(u64),
    /// Only a public key: no secret to sign with.
    #[error("key file holds only a public key (ss58Address/publicKey), no secret to sign with")]
    PublicOnly,
    /// No usable field at all.
    #[error("key file has none of secretPhrase, secretSeed, privateKey, ss58Address, publicKey")]
    Empty,
    /// The stored public key or address disagrees with the secret.
    #[error("key file is inconsistent: its secret gives {derived}, but it says {stored}")]
    Inconsistent {
        /// The address derived from the secret.
        derived: String,
        /// The address the file claims.
        stored: String,
    },
    /// A bad key, mnemonic or address.
    #[error(transparent)]
    Key(#[from] crate::KeyError),
}

/// The fields of a key file; all optional on read, as bittensor-wallet treats them.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyfileJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_phrase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_seed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ss58_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crypto_type: Option<u64>,
}

impl Drop for KeyfileJson {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.private_key.zeroize();
        self.secret_phrase.zeroize();
        self.secret_seed.zeroize();
    }
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn unhex<const N: usize>(field: &'static str, s: &str) -> Result<Zeroizing<[u8; N]>, KeyfileError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    let bytes = Zeroizing::new(hex::decode(digits).map_err(|e| KeyfileError::Field {
        field,
        reason: e.to_string(),
    })?);
    let mut out = Zeroizing::new([0u8; N]);
    if bytes.len() != N {
        return Err(KeyfileError::Field {
            field,
            reason: format!("expected {N} bytes, found {}", bytes.len()),
        });
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

/// The key-file JSON of a key pair, with its mnemonic when given (all seven fields when the pair
/// has a seed and a phrase).
pub fn keypair_to_json(keypair: &Keypair, phrase: Option<&str>) -> Zeroizing<Vec<u8>> {
    let public = hex0x(&keypair.public().0);
    let json = KeyfileJson {
        account_id: Some(public.clone()),
        public_key: Some(public),
        private_key: Some(hex0x(&Zeroizing::new(keypair.expanded_secret())[..])),
        secret_phrase: phrase.map(|p| crate::mnemonic::normalize(p).to_string()),
        secret_seed: keypair.seed().map(|s| hex0x(s)),
        ss58_address: Some(keypair.ss58()),
        crypto_type: Some(CRYPTO_TYPE_SR25519 as u64),
    };
    Zeroizing::new(serde_json::to_vec(&json).expect("plain strings serialize"))
}

/// The public-key-file JSON (`coldkeypub.txt`): publicKey, accountId, ss58Address, cryptoType.
pub fn public_to_json(public: &PublicKey) -> Vec<u8> {
    let hex = hex0x(&public.0);
    let json = KeyfileJson {
        account_id: Some(hex.clone()),
        public_key: Some(hex),
        ss58_address: Some(public.to_ss58()),
        crypto_type: Some(CRYPTO_TYPE_SR25519 as u64),
        private_key: None,
        secret_phrase: None,
        secret_seed: None,
    };
    serde_json::to_vec(&json).expect("plain strings serialize")
}

fn parse(data: &[u8]) -> Result<KeyfileJson, KeyfileError> {
    let json: KeyfileJson =
        serde_json::from_slice(data).map_err(|e| KeyfileError::Json(e.to_string()))?;
    match json.crypto_type {
        None => {}
        Some(t) if t == CRYPTO_TYPE_SR25519 as u64 => {}
        Some(t) => return Err(KeyfileError::CryptoType(t)),
    }
    Ok(json)
}

fn stored_public(json: &KeyfileJson) -> Result<Option<PublicKey>, KeyfileError> {
    if let Some(hex) = json.public_key.as_deref().or(json.account_id.as_deref()) {
        return Ok(Some(PublicKey(*unhex::<32>("publicKey", hex)?)));
    }
    match json.ss58_address.as_deref() {
        Some(addr) => Ok(Some(PublicKey::from_ss58(addr)?)),
        None => Ok(None),
    }
}

/// The key pair in key-file JSON, read in bittensor-wallet's order: secretPhrase, then
/// secretSeed, then privateKey. Fails if the file's public key or address disagrees.
pub fn keypair_from_json(data: &[u8]) -> Result<Keypair, KeyfileError> {
    let json = parse(data)?;
    let keypair = if let Some(phrase) = json.secret_phrase.as_deref() {
        Keypair::from_mnemonic(phrase, None)?
    } else if let Some(seed) = json.secret_seed.as_deref() {
        Keypair::from_seed(&*unhex::<32>("secretSeed", seed)?)?
    } else if let Some(secret) = json.private_key.as_deref() {
        Keypair::from_expanded_secret(&*unhex::<64>("privateKey", secret)?)?
    } else if json.ss58_address.is_some() || json.public_key.is_some() {
        return Err(KeyfileError::PublicOnly);
    } else {
        return Err(KeyfileError::Empty);
    };
    if let Some(stored) = stored_public(&json)? {
        if stored != keypair.public() {
            return Err(KeyfileError::Inconsistent {
                derived: keypair.ss58(),
                stored: stored.to_ss58(),
            });
        }
    }
    Ok(keypair)
}

/// The public key in a public-key file or a key file (publicKey, else accountId, else ss58Address).
pub fn public_from_json(data: &[u8]) -> Result<PublicKey, KeyfileError> {
    let json = parse(data)?;
    stored_public(&json)?.ok_or(KeyfileError::Empty)
}

/// The mnemonic stored in key-file JSON, if any.
pub fn phrase_from_json(data: &[u8]) -> Result<Option<Zeroizing<String>>, KeyfileError> {
    let json = parse(data)?;
    Ok(json
        .secret_phrase
        .as_deref()
        .map(|p| Zeroizing::new(p.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A hotkey file and its pub file exactly as bittensor_wallet 4.1.1 wrote them.
    const PY_HOTKEY: &str = r#"{"cryptoType":1,"privateKey":"0x2527eb307eacb1e54c5a6367bfb9e7955b43199c91df1a00a279f1f3062af408b98c94ccc52fd9f7e1bf3aba2ceef04618d5f1d0b2b326e7fec5ff6f9a0cd8b0","accountId":"0x5408d9b571478dc07cbb635c5dde6cbd4626fdee315022f6266d558bf0bc4c4c","secretPhrase":"apple piece salute soul sibling enjoy judge accuse inject wedding pony ghost","secretSeed":"0x7bb4379e063fb5cb2f3765b9b7aa57cf85e624dededc329ddaf0c95164fc65f8","ss58Address":"5DxtWTBoHSRUT96bf3s4C9VguS8mECcMd5WYiVNVmgk5g5JA","publicKey":"0x5408d9b571478dc07cbb635c5dde6cbd4626fdee315022f6266d558bf0bc4c4c"}"#;
    const PY_HOTKEY_PUB: &str = r#"{"accountId":"0x5408d9b571478dc07cbb635c5dde6cbd4626fdee315022f6266d558bf0bc4c4c","cryptoType":1,"publicKey":"0x5408d9b571478dc07cbb635c5dde6cbd4626fdee315022f6266d558bf0bc4c4c","ss58Address":"5DxtWTBoHSRUT96bf3s4C9VguS8mECcMd5WYiVNVmgk5g5JA"}"#;
    const PY_SS58: &str = "5DxtWTBoHSRUT96bf3s4C9VguS8mECcMd5WYiVNVmgk5g5JA";

    fn json_value(bytes: &[u8]) -> serde_json::Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn reads_python_files_and_writes_the_same_fields() {
        let kp = keypair_from_json(PY_HOTKEY.as_bytes()).unwrap();
        assert_eq!(kp.ss58(), PY_SS58);
        assert_eq!(
            public_from_json(PY_HOTKEY_PUB.as_bytes()).unwrap(),
            kp.public()
        );
        let phrase = phrase_from_json(PY_HOTKEY.as_bytes()).unwrap().unwrap();
        let written = keypair_to_json(&kp, Some(&phrase));
        assert_eq!(json_value(&written), json_value(PY_HOTKEY.as_bytes()));
        assert_eq!(
            json_value(&public_to_json(&kp.public())),
            json_value(PY_HOTKEY_PUB.as_bytes())
        );
    }

    #[test]
    fn each_secret_field_alone_is_enough() {
        let full = json_value(PY_HOTKEY.as_bytes());
        for keep in ["secretPhrase", "secretSeed", "privateKey"] {
            let mut v = full.clone();
            for drop in ["secretPhrase", "secretSeed", "privateKey"] {
                if drop != keep {
                    v.as_object_mut().unwrap().remove(drop);
                }
            }
            let kp = keypair_from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
            assert_eq!(kp.ss58(), PY_SS58, "from {keep}");
        }
    }

    #[test]
    fn bad_files_get_clear_errors() {
        assert!(matches!(
            keypair_from_json(PY_HOTKEY_PUB.as_bytes()),
            Err(KeyfileError::PublicOnly)
        ));
        assert!(matches!(
            keypair_from_json(b"$NACL...."),
            Err(KeyfileError::Json(_))
        ));
        let ed = PY_HOTKEY.replace("\"cryptoType\":1", "\"cryptoType\":0");
        assert!(matches!(
            keypair_from_json(ed.as_bytes()),
            Err(KeyfileError::CryptoType(0))
        ));
        // A tampered address is caught rather than silently trusted.
        let other = Keypair::generate().ss58();
        let lying = PY_HOTKEY
            .replace(PY_SS58, &other)
            .replace("\"publicKey\":\"0x5408", "\"x\":\"");
        let lying = lying.replace("\"accountId\":\"0x5408", "\"y\":\"");
        assert!(matches!(
            keypair_from_json(lying.as_bytes()),
            Err(KeyfileError::Inconsistent { .. })
        ));
    }
}
