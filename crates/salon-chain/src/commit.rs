//! Commit-reveal (hash variant): the commit hash subtensor checks at reveal time,
//! BlakeTwo256 over the SCALE encoding of `(who, netuid, uids, values, salt, version_key)`.

use blake2::{digest::consts::U32, Blake2b, Digest};
use salon_core::NetUid;
use salon_keys::PublicKey;

/// Most unrevealed commits one hotkey may hold on a subnet (subtensor's queue bound).
pub const MAX_UNREVEALED_COMMITS: usize = 10;

/// BlakeTwo256: BLAKE2b with a 32-byte digest, as Substrate hashes.
pub fn blake2_256(data: &[u8]) -> [u8; 32] {
    let mut h = Blake2b::<U32>::new();
    h.update(data);
    h.finalize().into()
}

/// Appends SCALE's compact encoding of a length or integer.
pub fn encode_compact(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push((n as u8) << 2);
    } else if n < 1 << 14 {
        out.extend_from_slice(&(((n as u16) << 2) | 0b01).to_le_bytes());
    } else if n < 1 << 30 {
        out.extend_from_slice(&(((n as u32) << 2) | 0b10).to_le_bytes());
    } else {
        let bytes = n.to_le_bytes();
        let len = 8 - (n.leading_zeros() / 8) as usize;
        out.push((((len - 4) as u8) << 2) | 0b11);
        out.extend_from_slice(&bytes[..len]);
    }
}

fn encode_u16_vec(out: &mut Vec<u8>, v: &[u16]) {
    encode_compact(out, v.len() as u64);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// The SCALE encoding of `(who: AccountId32, netuid: u16, uids: Vec<u16>, values: Vec<u16>,
/// salt: Vec<u16>, version_key: u64)`, the tuple subtensor hashes.
pub fn commit_preimage(
    who: &PublicKey,
    netuid: NetUid,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + 2 + 2 * (uids.len() + values.len() + salt.len()) + 20);
    out.extend_from_slice(&who.0);
    out.extend_from_slice(&netuid.0.to_le_bytes());
    encode_u16_vec(&mut out, uids);
    encode_u16_vec(&mut out, values);
    encode_u16_vec(&mut out, salt);
    out.extend_from_slice(&version_key.to_le_bytes());
    out
}

/// The commit hash for `commit_weights`: BlakeTwo256 of [`commit_preimage`].
pub fn commit_hash(
    who: &PublicKey,
    netuid: NetUid,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> [u8; 32] {
    blake2_256(&commit_preimage(
        who,
        netuid,
        uids,
        values,
        salt,
        version_key,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact(n: u64) -> Vec<u8> {
        let mut v = Vec::new();
        encode_compact(&mut v, n);
        v
    }

    #[test]
    fn compact_matches_the_published_scale_examples() {
        // Examples from the SCALE codec specification (docs.substrate.io, "Compact/general integers").
        assert_eq!(compact(0), [0x00]);
        assert_eq!(compact(1), [0x04]);
        assert_eq!(compact(42), [0xa8]);
        assert_eq!(compact(69), [0x15, 0x01]);
        assert_eq!(compact(65535), [0xfe, 0xff, 0x03, 0x00]);
        assert_eq!(compact(1 << 30), [0x03, 0x00, 0x00, 0x00, 0x40]);
    }

    #[test]
    fn blake2_256_of_empty_input_is_the_published_digest() {
        // BLAKE2b-256("") from RFC 7693 implementations / Substrate's BlakeTwo256.
        assert_eq!(
            hex::encode(blake2_256(b"")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        );
    }

    #[test]
    fn preimage_lays_out_the_tuple_in_order() {
        let who = PublicKey([9u8; 32]);
        let p = commit_preimage(&who, NetUid(2), &[0, 1], &[65535, 7], &[5], 3);
        let mut want = vec![9u8; 32];
        want.extend_from_slice(&[2, 0]); // netuid u16 LE
        want.extend_from_slice(&[0x08, 0, 0, 1, 0]); // uids: compact(2), 0u16, 1u16
        want.extend_from_slice(&[0x08, 0xff, 0xff, 7, 0]); // values
        want.extend_from_slice(&[0x04, 5, 0]); // salt
        want.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]); // version_key u64 LE
        assert_eq!(p, want);
        assert_ne!(
            commit_hash(&who, NetUid(2), &[0, 1], &[65535, 7], &[5], 3),
            commit_hash(&who, NetUid(2), &[0, 1], &[65535, 7], &[6], 3)
        );
    }
}
