//! Private keys at rest: PKCS#8 DER sealed with AES-256-GCM under an argon2id-derived key.
//!
//! Format (all integers big-endian):
//!
//! ```text
//! "VXK1" | m_kib u32 | t u32 | p u32 | salt [16] | nonce [12] | ciphertext + GCM tag [16]
//! ```
//!
//! The argon2id cost is stored so that keys made with different costs all open; everything before
//! the ciphertext is authenticated as associated data, so altering it fails like a wrong passphrase.

use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::{CertError, KdfParams, SecretPassphrase};

const MAGIC: &[u8; 4] = b"VXK1";
const SALT_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + 12 + SALT_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;
/// Caps on a stored cost, so a tampered blob cannot make us allocate or spin without bound.
const MAX_M_KIB: u32 = 4 * 1024 * 1024;
const MAX_T: u32 = 64;
const MAX_P: u32 = 16;

/// Encrypts a PKCS#8 document under the passphrase, with the passphrase's KDF cost.
pub(crate) fn seal(
    pkcs8: &[u8],
    passphrase: &SecretPassphrase,
    rng: &SystemRandom,
) -> Result<Vec<u8>, CertError> {
    let kdf = passphrase.kdf();
    let mut salt = [0u8; SALT_LEN];
    rng.fill(&mut salt)?;
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)?;

    let mut out = Vec::with_capacity(HEADER_LEN + pkcs8.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    for n in [kdf.m_kib, kdf.t, kdf.p] {
        out.extend_from_slice(&n.to_be_bytes());
    }
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);

    let key = aead_key(passphrase, &salt, kdf)?;
    let mut in_out = pkcs8.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(&out[..HEADER_LEN]),
        &mut in_out,
    )?;
    out.extend_from_slice(&in_out);
    Ok(out)
}

/// Decrypts a blob made by [`seal`]; the clear PKCS#8 is wiped when dropped.
pub(crate) fn open(
    blob: &[u8],
    passphrase: &SecretPassphrase,
) -> Result<Zeroizing<Vec<u8>>, CertError> {
    if blob.len() < HEADER_LEN + TAG_LEN {
        return Err(CertError::CorruptKey("too short"));
    }
    let (header, sealed) = blob.split_at(HEADER_LEN);
    let (magic, rest) = header.split_at(MAGIC.len());
    if magic != MAGIC {
        return Err(CertError::CorruptKey("unknown format (expected VXK1)"));
    }
    let (costs, rest) = rest.split_at(12);
    let (salt, nonce) = rest.split_at(SALT_LEN);
    let word = |i: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&costs[i * 4..i * 4 + 4]);
        u32::from_be_bytes(b)
    };
    let kdf = KdfParams {
        m_kib: word(0),
        t: word(1),
        p: word(2),
    };
    if kdf.m_kib > MAX_M_KIB || kdf.t > MAX_T || kdf.p > MAX_P {
        return Err(CertError::CorruptKey("key derivation cost out of range"));
    }
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| CertError::CorruptKey("bad nonce"))?;

    let key = aead_key(passphrase, salt, kdf)?;
    let mut in_out = Zeroizing::new(sealed.to_vec());
    let clear_len = key
        .open_in_place(nonce, Aad::from(header), &mut in_out)
        .map_err(|_| CertError::WrongPassphrase)?
        .len();
    in_out.truncate(clear_len);
    Ok(in_out)
}

fn aead_key(
    passphrase: &SecretPassphrase,
    salt: &[u8],
    kdf: KdfParams,
) -> Result<LessSafeKey, CertError> {
    let params = Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|_| CertError::CorruptKey("invalid key derivation cost"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|_| CertError::CorruptKey("invalid key derivation input"))?;
    Ok(LessSafeKey::new(UnboundKey::new(
        &AES_256_GCM,
        key.as_ref(),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretPassphrase {
        SecretPassphrase::new(s)
            .unwrap()
            .with_kdf(KdfParams::insecure_fast())
    }

    #[test]
    fn round_trip_and_layout() {
        let rng = SystemRandom::new();
        let blob = seal(b"pkcs8 bytes", &pass("mật khẩu rất dài"), &rng).unwrap();
        assert_eq!(&blob[..4], b"VXK1");
        assert_eq!(blob.len(), HEADER_LEN + 11 + TAG_LEN);
        assert!(
            !blob.windows(11).any(|w| w == b"pkcs8 bytes"),
            "ciphertext only"
        );
        let clear = open(&blob, &pass("mật khẩu rất dài")).unwrap();
        assert_eq!(clear.as_slice(), b"pkcs8 bytes");
    }

    #[test]
    fn wrong_passphrase_and_tampering_are_refused() {
        let rng = SystemRandom::new();
        let blob = seal(b"secret", &pass("first passphrase"), &rng).unwrap();
        assert!(matches!(
            open(&blob, &pass("other passphrase")),
            Err(CertError::WrongPassphrase)
        ));

        let mut bumped_cost = blob.clone();
        bumped_cost[11] ^= 2; // t 1 -> 3: authenticated, so it fails even with the right passphrase
        assert!(matches!(
            open(&bumped_cost, &pass("first passphrase")),
            Err(CertError::WrongPassphrase)
        ));

        let mut huge_cost = blob.clone();
        huge_cost[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            open(&huge_cost, &pass("first passphrase")),
            Err(CertError::CorruptKey(_))
        ));

        assert!(matches!(
            open(&blob[..20], &pass("first passphrase")),
            Err(CertError::CorruptKey(_))
        ));
        let mut bad_magic = blob;
        bad_magic[0] = b'X';
        assert!(matches!(
            open(&bad_magic, &pass("first passphrase")),
            Err(CertError::CorruptKey(_))
        ));
    }
}
