//! Encrypted key files: bittensor-wallet's `$NACL` format (Argon2i v1.3 key, XSalsa20-Poly1305
//! secretbox) read and written, and detection of the legacy formats that `legacy` decrypts.

use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use zeroize::Zeroizing;

/// The prefix of a `$NACL` encrypted key file.
pub const NACL_PREFIX: &[u8] = b"$NACL";
/// bittensor-wallet's fixed Argon2i salt for `$NACL` files.
pub const NACL_SALT: [u8; 16] = *b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1";
/// Argon2i passes (libsodium OPSLIMIT_SENSITIVE).
pub const ARGON2_OPSLIMIT: u32 = 8;
/// Argon2i memory in KiB (libsodium MEMLIMIT_SENSITIVE, 512 MiB).
pub const ARGON2_MEMLIMIT_KIB: u32 = 512 * 1024;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// How a key file's bytes are protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encryption {
    /// Plain JSON.
    None,
    /// `$NACL`: Argon2i + XSalsa20-Poly1305 (current bittensor-wallet).
    Nacl,
    /// `$ANSIBLE_VAULT` (bittensor before 6.x).
    AnsibleVault,
    /// Fernet tokens starting `gAAAAA` (the oldest bittensor wallets).
    LegacyFernet,
}

impl Encryption {
    /// Recognises the format from the file's first bytes.
    pub fn detect(data: &[u8]) -> Self {
        if data.starts_with(NACL_PREFIX) {
            Encryption::Nacl
        } else if data.starts_with(b"$ANSIBLE_VAULT") {
            Encryption::AnsibleVault
        } else if data.starts_with(b"gAAAAA") {
            Encryption::LegacyFernet
        } else {
            Encryption::None
        }
    }

    /// Whether a password is needed to read the file.
    pub fn is_encrypted(self) -> bool {
        self != Encryption::None
    }
}

/// Why encrypting or decrypting a key file failed.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    /// The authentication tag did not match: almost always a wrong password.
    #[error("wrong password (or the key file is corrupted): decryption failed authentication")]
    WrongPassword,
    /// The file is too short or badly formed for its format.
    #[error("encrypted key file is malformed: {0}")]
    Malformed(String),
    /// The key derivation could not run (e.g. not enough memory for Argon2i's 512 MiB).
    #[error("password key derivation failed: {0} (Argon2i needs 512 MiB of free memory)")]
    Kdf(String),
}

/// The 32-byte secretbox key for `password`, as libsodium's crypto_pwhash_argon2i derives it
/// with OPSLIMIT/MEMLIMIT_SENSITIVE and bittensor-wallet's salt. Takes a few seconds.
pub fn nacl_key(password: &[u8]) -> Result<Zeroizing<[u8; 32]>, EncryptionError> {
    let params = argon2::Params::new(ARGON2_MEMLIMIT_KIB, ARGON2_OPSLIMIT, 1, Some(32))
        .map_err(|e| EncryptionError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password, &NACL_SALT, &mut key[..])
        .map_err(|e| EncryptionError::Kdf(e.to_string()))?;
    Ok(key)
}

/// Encrypts key-file bytes as `$NACL` || nonce || secretbox(plaintext) with a fresh random nonce.
pub fn nacl_encrypt(plaintext: &[u8], password: &[u8]) -> Result<Vec<u8>, EncryptionError> {
    let key = nacl_key(password)?;
    let nonce: [u8; NONCE_LEN] = rand::random();
    nacl_seal(plaintext, &key, &nonce)
}

fn nacl_seal(
    plaintext: &[u8],
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, EncryptionError> {
    let cipher = XSalsa20Poly1305::new(key.into());
    // crypto_secretbox puts the Poly1305 tag first, as libsodium's secretbox_easy does.
    let boxed = cipher
        .encrypt(nonce.into(), plaintext)
        .map_err(|_| EncryptionError::Malformed("encryption failed".into()))?;
    let mut out = Vec::with_capacity(NACL_PREFIX.len() + NONCE_LEN + boxed.len());
    out.extend_from_slice(NACL_PREFIX);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&boxed);
    Ok(out)
}

/// Decrypts a `$NACL` file's bytes with `password`.
pub fn nacl_decrypt(data: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, EncryptionError> {
    let body = data
        .strip_prefix(NACL_PREFIX)
        .ok_or_else(|| EncryptionError::Malformed("missing the $NACL prefix".into()))?;
    if body.len() < NONCE_LEN + TAG_LEN {
        return Err(EncryptionError::Malformed(format!(
            "only {} bytes after $NACL",
            body.len()
        )));
    }
    let key = nacl_key(password)?;
    nacl_open(body, &key)
}

fn nacl_open(body: &[u8], key: &[u8; 32]) -> Result<Zeroizing<Vec<u8>>, EncryptionError> {
    let (nonce, boxed) = body.split_at(NONCE_LEN);
    let cipher = XSalsa20Poly1305::new(key.into());
    cipher
        .decrypt(nonce.into(), boxed)
        .map(Zeroizing::new)
        .map_err(|_| EncryptionError::WrongPassword)
}

/// Decrypts key-file bytes in any supported format; plain JSON is returned unchanged.
pub fn decrypt(data: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, EncryptionError> {
    match Encryption::detect(data) {
        Encryption::None => Ok(Zeroizing::new(data.to_vec())),
        Encryption::Nacl => nacl_decrypt(data, password),
        Encryption::AnsibleVault => crate::legacy::ansible_vault_decrypt(data, password),
        Encryption::LegacyFernet => crate::legacy::fernet_decrypt(data, password),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secretbox_matches_the_nacl_test_vector() {
        // The classic NaCl crypto_secretbox vector (Bernstein, "Cryptography in NaCl", also in
        // libsodium's test/default/secretbox.c): firstkey, nonce, the 131-byte message, and the
        // first and last bytes of the boxed output (tag first).
        let key: [u8; 32] =
            hex::decode("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")
                .unwrap()
                .try_into()
                .unwrap();
        let nonce: [u8; 24] = hex::decode("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
            .unwrap()
            .try_into()
            .unwrap();
        let msg = hex::decode(concat!(
            "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a",
            "1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057",
            "e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040",
            "e082f937763848645e0705"
        ))
        .unwrap();
        let sealed = nacl_seal(&msg, &key, &nonce).unwrap();
        let boxed = &sealed[NACL_PREFIX.len() + NONCE_LEN..];
        assert_eq!(
            hex::encode(&boxed[..16]),
            "f3ffc7703f9400e52a7dfb4b3d3305d9"
        );
        assert_eq!(hex::encode(&boxed[boxed.len() - 5..]), "5a74e355a5");
        let opened = nacl_open(&sealed[NACL_PREFIX.len()..], &key).unwrap();
        assert_eq!(&opened[..], &msg[..]);
        let mut tampered = sealed[NACL_PREFIX.len()..].to_vec();
        tampered[40] ^= 1;
        assert!(matches!(
            nacl_open(&tampered, &key),
            Err(EncryptionError::WrongPassword)
        ));
    }

    #[test]
    fn formats_are_recognised() {
        assert_eq!(Encryption::detect(b"$NACLxyz"), Encryption::Nacl);
        assert_eq!(
            Encryption::detect(b"$ANSIBLE_VAULT;1.1;AES256\n"),
            Encryption::AnsibleVault
        );
        assert_eq!(Encryption::detect(b"gAAAAABk"), Encryption::LegacyFernet);
        assert_eq!(Encryption::detect(b"{\"ss58Address\":1}"), Encryption::None);
        assert!(!Encryption::None.is_encrypted());
    }
}
