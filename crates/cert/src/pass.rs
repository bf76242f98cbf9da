//! The 72-hour travel pass: a compact signed token for a QR code. It holds no personal data: a
//! declaration number, a random subject reference (meaningful only to the server that stored
//! it), the issue and expiry times, and an ECDSA P-256 signature by a pass signer.
//!
//! Text form: `VNP1:` + base45 of `version ‖ kid(8) ‖ declaration(8) ‖ subject(8) ‖ iat(8) ‖
//! exp(8) ‖ signature(64)`, integers big-endian, times in Unix seconds; 158 characters, which a
//! QR code holds in alphanumeric mode.

use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::hcert::{base45, kid_of};
use crate::{CertError, CertProfile, SigningKey};

pub const PASS_PREFIX: &str = "VNP1:";
const VERSION: u8 = 1;
const BODY_LEN: usize = 1 + 8 * 5;
const SIGNATURE_LEN: usize = 64;
/// Longest text looked at: anything longer is not a pass.
const MAX_TEXT: usize = 512;

/// What a pass says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassClaims {
    pub declaration_id: i64,
    /// Random per declaration; links the pass to the stored declaration, not to a person.
    pub subject: [u8; 8],
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Where `at` falls in a pass's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassTime {
    Valid,
    NotYetValid,
    Expired,
}

impl PassClaims {
    pub fn window(&self, at: i64) -> PassTime {
        if at < self.issued_at {
            PassTime::NotYetValid
        } else if at > self.expires_at {
            PassTime::Expired
        } else {
            PassTime::Valid
        }
    }
}

/// Why a text is not a genuine pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error("not a pass: {0}")]
    Malformed(&'static str),
    #[error("signed by a key this server does not know")]
    UnknownKey,
    #[error("the signature does not match")]
    BadSignature,
}

fn body(kid: [u8; 8], c: &PassClaims) -> Vec<u8> {
    let mut out = Vec::with_capacity(BODY_LEN + SIGNATURE_LEN);
    out.push(VERSION);
    out.extend_from_slice(&kid);
    out.extend_from_slice(&c.declaration_id.to_be_bytes());
    out.extend_from_slice(&c.subject);
    out.extend_from_slice(&c.issued_at.to_be_bytes());
    out.extend_from_slice(&c.expires_at.to_be_bytes());
    out
}

/// The kid of a pass signer: the first 8 bytes of SHA-256 over its certificate.
pub fn pass_kid(certificate_der: &[u8]) -> [u8; 8] {
    kid_of(certificate_der)
}

/// The uncompressed P-256 point of a certificate, for [`verify_pass`].
pub fn public_key_of(certificate_der: &[u8]) -> Result<Vec<u8>, CertError> {
    let (_, cert) = X509Certificate::from_der(certificate_der).map_err(|e| {
        CertError::MalformedCertificate {
            index: 0,
            reason: e.to_string(),
        }
    })?;
    Ok(cert.public_key().subject_public_key.data.to_vec())
}

/// Signs `body` (which starts with the version and kid) and encodes it behind `prefix`.
fn seal(prefix: &str, mut body: Vec<u8>, key: &SigningKey) -> Result<String, CertError> {
    if key.profile() != CertProfile::PassSigner {
        return Err(CertError::ProfileMismatch {
            issuer: key.profile(),
            subject: CertProfile::PassSigner,
        });
    }
    let signature = key.sign(&body)?;
    body.extend_from_slice(&signature);
    Ok(format!("{prefix}{}", base45::encode(&body)))
}

/// Checks a sealed token's form and signature and returns its signed body (version, kid, fields).
fn open(
    text: &str,
    prefix: &'static str,
    body_len: usize,
    key_for: &dyn Fn(&[u8; 8]) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, PassError> {
    let text = text.trim();
    if text.len() > MAX_TEXT {
        return Err(PassError::Malformed("too long"));
    }
    let encoded = text
        .strip_prefix(prefix)
        .ok_or(PassError::Malformed("wrong prefix"))?;
    let mut bytes = base45::decode(encoded).map_err(|_| PassError::Malformed("invalid base45"))?;
    if bytes.len() != body_len + SIGNATURE_LEN {
        return Err(PassError::Malformed("wrong length"));
    }
    if bytes[0] != VERSION {
        return Err(PassError::Malformed("unknown version"));
    }
    let signature = bytes.split_off(body_len);
    let key = key_for(&field(&bytes, 0)).ok_or(PassError::UnknownKey)?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
        .verify(&bytes, &signature)
        .map_err(|_| PassError::BadSignature)?;
    Ok(bytes)
}

/// The `i`th 8-byte field after the version byte.
fn field(body: &[u8], i: usize) -> [u8; 8] {
    let mut out = [0; 8];
    out.copy_from_slice(&body[1 + 8 * i..9 + 8 * i]);
    out
}

/// Signs a pass with a pass signer's key.
pub fn sign_pass(claims: &PassClaims, key: &SigningKey) -> Result<String, CertError> {
    if claims.issued_at >= claims.expires_at {
        return Err(CertError::InvalidValidity(
            "a pass must expire after it is issued",
        ));
    }
    seal(
        PASS_PREFIX,
        body(pass_kid(key.certificate_der()), claims),
        key,
    )
}

/// Checks a pass's form and signature; `key_for` returns the public key of a known pass signer
/// by kid. The validity window is the caller's to judge ([`PassClaims::window`]), so an expired
/// pass can still be named.
pub fn verify_pass(
    text: &str,
    key_for: &dyn Fn(&[u8; 8]) -> Option<Vec<u8>>,
) -> Result<PassClaims, PassError> {
    let signed = open(text, PASS_PREFIX, BODY_LEN, key_for)?;
    Ok(PassClaims {
        declaration_id: i64::from_be_bytes(field(&signed, 1)),
        subject: field(&signed, 2),
        issued_at: i64::from_be_bytes(field(&signed, 3)),
        expires_at: i64::from_be_bytes(field(&signed, 4)),
    })
}

/// The check-in code on a venue's poster: `VNV1:` + base45 of `version ‖ kid(8) ‖ venue(8) ‖
/// signature(64)`, 122 characters. Posters stay up for months, so it carries no expiry: a
/// deactivated venue is refused by the server, not by the code.
pub const VENUE_PREFIX: &str = "VNV1:";
const VENUE_BODY_LEN: usize = 1 + 8 + 8;

pub fn sign_venue_code(venue_id: i64, key: &SigningKey) -> Result<String, CertError> {
    let mut body = Vec::with_capacity(VENUE_BODY_LEN + SIGNATURE_LEN);
    body.push(VERSION);
    body.extend_from_slice(&pass_kid(key.certificate_der()));
    body.extend_from_slice(&venue_id.to_be_bytes());
    seal(VENUE_PREFIX, body, key)
}

/// The venue ID of a genuine venue code.
pub fn verify_venue_code(
    text: &str,
    key_for: &dyn Fn(&[u8; 8]) -> Option<Vec<u8>>,
) -> Result<i64, PassError> {
    let signed = open(text, VENUE_PREFIX, VENUE_BODY_LEN, key_for)?;
    Ok(i64::from_be_bytes(field(&signed, 1)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;
    use crate::{IssuedKey, KdfParams, SecretPassphrase, create_root, issue};

    fn pass() -> SecretPassphrase {
        SecretPassphrase::new("pass signing passphrase")
            .unwrap()
            .with_kdf(KdfParams::insecure_fast())
    }

    fn signer() -> (IssuedKey, SigningKey) {
        let (nb, na) = (
            datetime!(2021-01-01 0:00 UTC),
            datetime!(2031-01-01 0:00 UTC),
        );
        let root = create_root("Gốc", nb, na, &pass()).unwrap();
        let key = issue(
            &root,
            &pass(),
            CertProfile::PassSigner,
            "VN",
            "Ký thẻ đi lại",
            nb,
            na,
            &pass(),
            &|_| None,
        )
        .unwrap();
        let unlocked = SigningKey::unlock(&key, &pass()).unwrap();
        (key, unlocked)
    }

    const CLAIMS: PassClaims = PassClaims {
        declaration_id: 4_200_000_123,
        subject: [7; 8],
        issued_at: 1_629_000_000,
        expires_at: 1_629_000_000 + 72 * 3600,
    };

    #[test]
    fn a_signed_pass_round_trips_and_fits_a_qr_code() {
        let (cert, key) = signer();
        let text = sign_pass(&CLAIMS, &key).unwrap();
        assert!(text.starts_with(PASS_PREFIX));
        assert_eq!(text.len(), 5 + 158);
        assert!(
            text.bytes()
                .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b))
        );
        let public = public_key_of(&cert.certificate_der).unwrap();
        let kid = pass_kid(&cert.certificate_der);
        let keys = |k: &[u8; 8]| (*k == kid).then(|| public.clone());
        assert_eq!(verify_pass(&text, &keys), Ok(CLAIMS));
        assert_eq!(CLAIMS.window(CLAIMS.issued_at + 3600), PassTime::Valid);
        assert_eq!(CLAIMS.window(CLAIMS.expires_at + 1), PassTime::Expired);
        assert_eq!(CLAIMS.window(CLAIMS.issued_at - 1), PassTime::NotYetValid);
    }

    #[test]
    fn venue_codes_round_trip_and_are_not_passes() {
        let (cert, key) = signer();
        let code = sign_venue_code(637_001, &key).unwrap();
        assert!(code.starts_with(VENUE_PREFIX));
        assert_eq!(code.len(), 5 + 122);
        let public = public_key_of(&cert.certificate_der).unwrap();
        let kid = pass_kid(&cert.certificate_der);
        let keys = |k: &[u8; 8]| (*k == kid).then(|| public.clone());
        assert_eq!(verify_venue_code(&code, &keys), Ok(637_001));
        let mut raw = base45::decode(&code[VENUE_PREFIX.len()..]).unwrap();
        raw[10] ^= 1; // another venue number
        let edited = format!("{VENUE_PREFIX}{}", base45::encode(&raw));
        assert_eq!(
            verify_venue_code(&edited, &keys),
            Err(PassError::BadSignature)
        );
        // A pass is not a venue code, nor the other way round.
        let pass = sign_pass(&CLAIMS, &key).unwrap();
        assert!(verify_venue_code(&pass, &keys).is_err());
        assert!(verify_pass(&code, &keys).is_err());
    }

    #[test]
    fn forged_edited_and_foreign_passes_are_refused() {
        let (cert, key) = signer();
        let text = sign_pass(&CLAIMS, &key).unwrap();
        let public = public_key_of(&cert.certificate_der).unwrap();
        let kid = pass_kid(&cert.certificate_der);
        let keys = |k: &[u8; 8]| (*k == kid).then(|| public.clone());

        // Every single-byte edit of the token is caught.
        let mut raw = base45::decode(&text[PASS_PREFIX.len()..]).unwrap();
        for i in 0..raw.len() {
            raw[i] ^= 0x01;
            let edited = format!("{PASS_PREFIX}{}", base45::encode(&raw));
            assert!(verify_pass(&edited, &keys).is_err(), "byte {i}");
            raw[i] ^= 0x01;
        }
        let (_, other) = signer();
        let foreign = sign_pass(&CLAIMS, &other).unwrap();
        assert_eq!(verify_pass(&foreign, &keys), Err(PassError::UnknownKey));
        for bad in ["", "VNP1:", "HC1:ABC", "VNP1:%%%", &"VNP1:".repeat(200)] {
            assert!(
                matches!(verify_pass(bad, &keys), Err(PassError::Malformed(_))),
                "{bad:?}"
            );
        }
        // Only a pass signer signs passes, and a pass must expire after it is issued.
        let (nb, na) = (
            datetime!(2021-01-01 0:00 UTC),
            datetime!(2031-01-01 0:00 UTC),
        );
        let root = create_root("Gốc", nb, na, &pass()).unwrap();
        let root_key = SigningKey::unlock(&root, &pass()).unwrap();
        assert!(sign_pass(&CLAIMS, &root_key).is_err());
        let backwards = PassClaims {
            expires_at: CLAIMS.issued_at,
            ..CLAIMS
        };
        assert!(sign_pass(&backwards, &key).is_err());
    }
}
