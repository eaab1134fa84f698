//! Decryption of the two legacy encrypted key-file formats older bittensor versions wrote:
//! Ansible Vault 1.1 (AES-256-CTR + HMAC-SHA256) and Fernet tokens (`gAAAAA`, AES-128-CBC).
//! Salon reads them so old wallets keep working; it never writes them.

use crate::encryption::EncryptionError;
use aes::cipher::{BlockDecryptMut, KeyIvInit, StreamCipher};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The PBKDF2 salt bittensor used for Fernet-encrypted key files.
pub const FERNET_SALT: &[u8] = b"Iguesscyborgslikemyselfhaveatendencytobeparanoidaboutourorigins";
/// PBKDF2-HMAC-SHA256 iterations for Fernet-encrypted key files.
pub const FERNET_ITERATIONS: u32 = 10_000_000;
const VAULT_ITERATIONS: u32 = 10_000;

fn malformed(what: &str) -> EncryptionError {
    EncryptionError::Malformed(what.to_string())
}

fn unpad_pkcs7(mut data: Vec<u8>) -> Result<Zeroizing<Vec<u8>>, EncryptionError> {
    let pad = *data.last().ok_or_else(|| malformed("empty plaintext"))? as usize;
    if pad == 0
        || pad > 16
        || pad > data.len()
        || !data[data.len() - pad..].iter().all(|&b| b as usize == pad)
    {
        return Err(EncryptionError::WrongPassword);
    }
    data.truncate(data.len() - pad);
    Ok(Zeroizing::new(data))
}

/// Decrypts an `$ANSIBLE_VAULT;1.1;AES256` file (PBKDF2-SHA256, 10 000 rounds, 80-byte output
/// split into AES key, HMAC key and counter IV).
pub fn ansible_vault_decrypt(
    data: &[u8],
    password: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EncryptionError> {
    let text = std::str::from_utf8(data).map_err(|_| malformed("vault file is not text"))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let fields: Vec<&str> = header.trim().split(';').collect();
    if fields.len() < 3 || fields[0] != "$ANSIBLE_VAULT" || fields[2] != "AES256" {
        return Err(malformed(&format!(
            "unsupported vault header {header:?} (only 1.1/AES256)"
        )));
    }
    let hex_body: String = lines.map(str::trim).collect();
    let inner = hex::decode(hex_body).map_err(|_| malformed("vault body is not hex"))?;
    let inner = std::str::from_utf8(&inner).map_err(|_| malformed("vault payload is not text"))?;
    let parts: Vec<&str> = inner.split('\n').collect();
    if parts.len() != 3 {
        return Err(malformed(
            "vault payload should be salt, hmac and ciphertext",
        ));
    }
    let salt = hex::decode(parts[0]).map_err(|_| malformed("vault salt is not hex"))?;
    let mac = hex::decode(parts[1]).map_err(|_| malformed("vault hmac is not hex"))?;
    let ciphertext = hex::decode(parts[2]).map_err(|_| malformed("vault ciphertext is not hex"))?;

    let mut derived = Zeroizing::new([0u8; 80]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password, &salt, VAULT_ITERATIONS, &mut derived[..]);
    let (aes_key, rest) = derived.split_at(32);
    let (mac_key, iv) = rest.split_at(32);

    let mut check = <Hmac<Sha256> as Mac>::new_from_slice(mac_key).expect("any key length");
    check.update(&ciphertext);
    check
        .verify_slice(&mac)
        .map_err(|_| EncryptionError::WrongPassword)?;

    let mut plain = ciphertext;
    let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new(aes_key.into(), iv.into());
    cipher.apply_keystream(&mut plain);
    unpad_pkcs7(plain)
}

/// Decrypts a Fernet token with a raw 32-byte Fernet key (signing key || encryption key).
pub fn fernet_decrypt_with_key(
    token: &[u8],
    key: &[u8; 32],
) -> Result<Zeroizing<Vec<u8>>, EncryptionError> {
    let token = std::str::from_utf8(token).map_err(|_| malformed("Fernet token is not text"))?;
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token.trim())
        .map_err(|_| malformed("Fernet token is not url-safe base64"))?;
    // version (1) || timestamp (8) || iv (16) || ciphertext (n * 16) || hmac (32)
    if raw.len() < 1 + 8 + 16 + 16 + 32 || raw[0] != 0x80 || (raw.len() - 57) % 16 != 0 {
        return Err(malformed("Fernet token has the wrong version or length"));
    }
    let (signed, mac) = raw.split_at(raw.len() - 32);
    let mut check = <Hmac<Sha256> as Mac>::new_from_slice(&key[..16]).expect("any key length");
    check.update(signed);
    check
        .verify_slice(mac)
        .map_err(|_| EncryptionError::WrongPassword)?;
    let iv = &signed[9..25];
    let mut plain = signed[25..].to_vec();
    let mut decryptor = cbc::Decryptor::<aes::Aes128>::new(key[16..].into(), iv.into());
    for block in plain.chunks_exact_mut(16) {
        decryptor.decrypt_block_mut(aes::Block::from_mut_slice(block));
    }
    unpad_pkcs7(plain)
}

/// Decrypts a legacy bittensor Fernet key file: key = PBKDF2-HMAC-SHA256(password, salt, 10^7).
/// Takes several seconds by design of that format.
pub fn fernet_decrypt(data: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, EncryptionError> {
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha256>(password, FERNET_SALT, FERNET_ITERATIONS, &mut key[..]);
    fernet_decrypt_with_key(data, &key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fernet_spec_vector_decrypts() {
        // From the Fernet specification's verify.json (github.com/fernet/spec).
        let key = base64::engine::general_purpose::URL_SAFE
            .decode("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
            .unwrap();
        let token = b"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";
        let plain = fernet_decrypt_with_key(token, &key.clone().try_into().unwrap()).unwrap();
        assert_eq!(&plain[..], b"hello");
        let mut wrong: [u8; 32] = key.try_into().unwrap();
        wrong[0] ^= 1;
        assert!(matches!(
            fernet_decrypt_with_key(token, &wrong),
            Err(EncryptionError::WrongPassword)
        ));
    }
}
