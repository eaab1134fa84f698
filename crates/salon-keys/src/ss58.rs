//! SS58 addresses: base58 of prefix || public key || blake2b-512("SS58PRE" || prefix || key)[..2].

use blake2::{Blake2b512, Digest};

/// The address format Bittensor uses (generic Substrate, 42).
pub const BITTENSOR_FORMAT: u16 = 42;

/// Why an SS58 address was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Ss58Error {
    /// Not valid base58.
    #[error("SS58 address {0:?} is not valid base58")]
    Base58(String),
    /// Wrong length for a 32-byte account.
    #[error("SS58 address {0:?} has the wrong length for a 32-byte public key")]
    Length(String),
    /// Checksum mismatch: a typo or a corrupted address.
    #[error("SS58 address {0:?} has a bad checksum (mistyped?)")]
    Checksum(String),
}

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn checksum(data: &[u8]) -> [u8; 2] {
    let mut h = Blake2b512::new();
    h.update(b"SS58PRE");
    h.update(data);
    let out = h.finalize();
    [out[0], out[1]]
}

fn prefix_bytes(format: u16) -> Vec<u8> {
    if format < 64 {
        vec![format as u8]
    } else {
        let first = (((format & 0b0000_0000_1111_1100) as u8) >> 2) | 0b0100_0000;
        let second = ((format >> 8) as u8) | (((format & 0b0000_0000_0000_0011) as u8) << 6);
        vec![first, second]
    }
}

/// Encodes a 32-byte public key with the given address format.
pub fn encode(public: &[u8; 32], format: u16) -> String {
    let mut data = prefix_bytes(format);
    data.extend_from_slice(public);
    let c = checksum(&data);
    data.extend_from_slice(&c);
    base58_encode(&data)
}

/// Decodes an address of any format into (public key, format).
pub fn decode(address: &str) -> Result<([u8; 32], u16), Ss58Error> {
    let data = base58_decode(address).ok_or_else(|| Ss58Error::Base58(address.to_string()))?;
    let (format, prefix_len) = match data.first() {
        Some(&b) if b < 64 => (b as u16, 1),
        Some(&b) if b < 128 && data.len() > 1 => {
            let lower = ((b << 2) | (data[1] >> 6)) as u16;
            let upper = (data[1] & 0b0011_1111) as u16;
            (lower | (upper << 8), 2)
        }
        _ => return Err(Ss58Error::Base58(address.to_string())),
    };
    if data.len() != prefix_len + 32 + 2 {
        return Err(Ss58Error::Length(address.to_string()));
    }
    let body = &data[..prefix_len + 32];
    if checksum(body) != data[prefix_len + 32..] {
        return Err(Ss58Error::Checksum(address.to_string()));
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&body[prefix_len..]);
    Ok((key, format))
}

fn base58_encode(data: &[u8]) -> String {
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    let mut digits: Vec<u8> = Vec::with_capacity(data.len() * 138 / 100 + 1);
    for &byte in &data[zeros..] {
        let mut carry = byte as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut s = String::with_capacity(zeros + digits.len());
    s.extend(std::iter::repeat_n('1', zeros));
    s.extend(digits.iter().rev().map(|&d| ALPHABET[d as usize] as char));
    s
}

fn base58_decode(s: &str) -> Option<Vec<u8>> {
    let zeros = s.bytes().take_while(|&b| b == b'1').count();
    let mut bytes: Vec<u8> = Vec::with_capacity(s.len());
    for c in s.bytes().skip(zeros) {
        let mut carry = ALPHABET.iter().position(|&a| a == c)? as u32;
        for b in bytes.iter_mut() {
            carry += (*b as u32) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Alice's well-known dev account (//Alice), public key and address as published by Substrate.
    const ALICE_PUB: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
    const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    #[test]
    fn alice_round_trips() {
        let mut key = [0u8; 32];
        key.copy_from_slice(&hex::decode(ALICE_PUB).unwrap());
        assert_eq!(encode(&key, 42), ALICE_SS58);
        assert_eq!(decode(ALICE_SS58).unwrap(), (key, 42));
    }

    #[test]
    fn other_formats_round_trip_and_typos_are_caught() {
        let key = [7u8; 32];
        for f in [0u16, 2, 42, 63, 64, 1284, 16383] {
            assert_eq!(decode(&encode(&key, f)).unwrap(), (key, f));
        }
        let mut bad = ALICE_SS58.to_string();
        bad.replace_range(10..11, "x");
        assert!(decode(&bad).is_err());
        assert!(matches!(decode("0OIl"), Err(Ss58Error::Base58(_))));
    }
}
