//! The two lists a verifier downloads and refreshes: the trust list (which document signers to
//! trust) and the revocation list (which certificates no longer count). Both travel in one signed
//! envelope so a verifier that pins the country's CSCA can tell a genuine list from a forged or
//! altered one.
//!
//! The CSCA signs the lists, as a CA signs its CRL (keyUsage `cRLSign`): verifiers already pin it
//! to check DSCs, so no second trust anchor has to be distributed.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::HcertError;
use super::trust::{RevocationCheck, RevocationQuery};
use crate::{CertError, CertProfile, SigningKey};

/// Envelope format of a signed trust list.
pub const TRUST_LIST_FORMAT: &str = "vaxtrace-trust-list/1";
/// Envelope format of a signed revocation list.
pub const REVOCATION_LIST_FORMAT: &str = "vaxtrace-revocation-list/1";
/// Bytes of a revocation hash: the EU scheme keeps the first 128 bits of SHA-256.
pub const REVOCATION_HASH_LEN: usize = 16;

/// A signed list as published: the content's exact bytes (base64), an ES256 signature over the
/// format name and those bytes, and the signer's certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedList {
    pub format: String,
    pub content: String,
    pub signature: String,
    pub signer: String,
}

/// Format name, a NUL, then the content: a revocation list can never pass for a trust list.
fn signed_bytes(format: &str, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(format.len() + 1 + content.len());
    out.extend_from_slice(format.as_bytes());
    out.push(0);
    out.extend_from_slice(content);
    out
}

/// Signs `content` (a JSON document) as a list of `format` with the CSCA's key; returns the
/// envelope's JSON text.
pub fn sign_list(format: &str, content: &Json, csca: &SigningKey) -> Result<String, CertError> {
    if csca.profile() != CertProfile::Csca {
        return Err(CertError::ProfileMismatch {
            issuer: csca.profile(),
            subject: CertProfile::DocumentSigner,
        });
    }
    let bytes = serde_json::to_vec(content).map_err(|e| CertError::Generate(e.to_string()))?;
    let signature = csca.sign(&signed_bytes(format, &bytes))?;
    let envelope = SignedList {
        format: format.to_owned(),
        content: STANDARD.encode(&bytes),
        signature: STANDARD.encode(signature),
        signer: STANDARD.encode(csca.certificate_der()),
    };
    serde_json::to_string_pretty(&envelope).map_err(|e| CertError::Generate(e.to_string()))
}

/// Checks a signed list against pinned CSCA certificates and returns its content bytes.
///
/// The signer must be one of `anchors` byte for byte: a list is only as trusted as the anchor
/// the verifier chose, never the certificate the list carries.
pub fn open_list(text: &str, format: &str, anchors: &[Vec<u8>]) -> Result<Vec<u8>, HcertError> {
    let bad = |why: String| HcertError::SignedList(why);
    let envelope: SignedList =
        serde_json::from_str(text).map_err(|e| bad(format!("not a signed list: {e}")))?;
    if envelope.format != format {
        return Err(bad(format!(
            "the list is a {:?}, not a {format:?}",
            envelope.format
        )));
    }
    let decode = |field: &str, value: &str| {
        STANDARD
            .decode(value.trim())
            .map_err(|e| bad(format!("{field} is not base64: {e}")))
    };
    let content = decode("content", &envelope.content)?;
    let signature = decode("signature", &envelope.signature)?;
    let signer = decode("signer", &envelope.signer)?;
    if !anchors.contains(&signer) {
        return Err(bad(
            "the list is signed by a certificate that is not a pinned trust anchor".to_owned(),
        ));
    }
    let (_, cert) = X509Certificate::from_der(&signer)
        .map_err(|e| bad(format!("unreadable signer certificate: {e}")))?;
    let key = &cert.public_key().subject_public_key.data;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
        .verify(&signed_bytes(format, &content), &signature)
        .map_err(|_| bad("the list's signature does not match its content".to_owned()))?;
    Ok(content)
}

/// What a revocation entry hashes, as in the EU DCC revocation scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HashType {
    /// SHA-256 of the UCI (`ci`).
    #[serde(rename = "UCI")]
    Uci,
    /// SHA-256 of the issuing country code followed by the UCI.
    #[serde(rename = "COUNTRYCODEUCI")]
    CountryCodeUci,
    /// SHA-256 of the signature; of its `r` half only for ECDSA (`s` is malleable).
    #[serde(rename = "SIGNATURE")]
    Signature,
}

impl HashType {
    pub const ALL: [Self; 3] = [Self::Uci, Self::CountryCodeUci, Self::Signature];
}

/// The first 128 bits of SHA-256 over `parts`, concatenated.
fn truncated_hash(parts: &[&[u8]]) -> [u8; REVOCATION_HASH_LEN] {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p);
    }
    let digest = hasher.finalize();
    let mut out = [0; REVOCATION_HASH_LEN];
    out.copy_from_slice(&digest[..REVOCATION_HASH_LEN]);
    out
}

/// A certificate's revocation hash of `kind`; `None` when the certificate lacks the field.
/// `issuer` is the CWT `iss` claim, which `COUNTRYCODEUCI` prefixes to the UCI.
pub fn revocation_hash(
    kind: HashType,
    uci: Option<&str>,
    issuer: Option<&str>,
    signature: &[u8],
) -> Option<[u8; REVOCATION_HASH_LEN]> {
    match kind {
        HashType::Uci => uci.map(|u| truncated_hash(&[u.as_bytes()])),
        HashType::CountryCodeUci => Some(truncated_hash(&[issuer?.as_bytes(), uci?.as_bytes()])),
        // An ES256 signature is r||s, 32 bytes each; RSA signatures are 256 bytes or more.
        HashType::Signature if signature.len() == 64 => Some(truncated_hash(&[&signature[..32]])),
        HashType::Signature => Some(truncated_hash(&[signature])),
    }
}

/// One hash of a revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationEntry {
    /// Base64 of the truncated hash (24 characters).
    pub hash: String,
}

/// Revoked certificates of one DSC and hash type, in the shape of the EU gateway's
/// `RevocationBatchDto`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationBatch {
    pub country: String,
    /// RFC 3339: when the last certificate in the batch expires anyway and the batch can go.
    pub expires: String,
    /// Base64 kid of the DSC that signed the certificates.
    pub kid: String,
    #[serde(rename = "hashType")]
    pub hash_type: HashType,
    pub entries: Vec<RevocationEntry>,
}

/// The content of a revocation list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationContent {
    pub country: String,
    /// RFC 3339.
    pub issued_at: String,
    pub batches: Vec<RevocationBatch>,
}

/// A revocation list loaded for lookups.
#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    by_kid: HashMap<Vec<u8>, HashSet<(HashType, [u8; REVOCATION_HASH_LEN])>>,
}

impl RevocationList {
    pub fn from_content(content: &RevocationContent) -> Result<Self, HcertError> {
        let mut list = Self::default();
        for (b, batch) in content.batches.iter().enumerate() {
            let kid = STANDARD
                .decode(&batch.kid)
                .map_err(|_| HcertError::SignedList(format!("batches[{b}].kid")))?;
            let hashes = list.by_kid.entry(kid).or_default();
            for (i, entry) in batch.entries.iter().enumerate() {
                let hash: [u8; REVOCATION_HASH_LEN] = STANDARD
                    .decode(&entry.hash)
                    .ok()
                    .and_then(|h| h.try_into().ok())
                    .ok_or_else(|| {
                        HcertError::SignedList(format!("batches[{b}].entries[{i}].hash"))
                    })?;
                hashes.insert((batch.hash_type, hash));
            }
        }
        Ok(list)
    }

    /// Opens a signed revocation list (see [`open_list`]).
    pub fn from_signed(text: &str, anchors: &[Vec<u8>]) -> Result<Self, HcertError> {
        let content = open_list(text, REVOCATION_LIST_FORMAT, anchors)?;
        let content: RevocationContent = serde_json::from_slice(&content)
            .map_err(|e| HcertError::SignedList(format!("revocation content: {e}")))?;
        Self::from_content(&content)
    }

    pub fn len(&self) -> usize {
        self.by_kid.values().map(HashSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RevocationCheck for RevocationList {
    fn check(&self, q: &RevocationQuery<'_>) -> Result<(), String> {
        let Some(revoked) = self.by_kid.get(q.kid) else {
            return Ok(());
        };
        for kind in HashType::ALL {
            if let Some(hash) = revocation_hash(kind, q.uci, q.issuer, q.signature)
                && revoked.contains(&(kind, hash))
            {
                return Err(format!(
                    "the certificate is on the revocation list ({})",
                    serde_json::to_string(&kind)
                        .unwrap_or_default()
                        .trim_matches('"')
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn hashes_follow_the_eu_scheme() {
        let uci = "URN:UVCI:01:VN:ABC123#X";
        let sig: Vec<u8> = (0..64).collect();
        let uci_hash = revocation_hash(HashType::Uci, Some(uci), Some("VN"), &sig).unwrap();
        assert_eq!(uci_hash[..], Sha256::digest(uci.as_bytes())[..16]);
        let cc = revocation_hash(HashType::CountryCodeUci, Some(uci), Some("VN"), &sig).unwrap();
        assert_eq!(cc[..], Sha256::digest(format!("VN{uci}").as_bytes())[..16]);
        // ECDSA: r only, so a re-encoded s does not escape the list.
        let mut other_s = sig.clone();
        other_s[40] ^= 1;
        let a = revocation_hash(HashType::Signature, None, None, &sig).unwrap();
        let b = revocation_hash(HashType::Signature, None, None, &other_s).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[..], Sha256::digest(&sig[..32])[..16]);
        let rsa = vec![7u8; 256];
        assert_eq!(
            revocation_hash(HashType::Signature, None, None, &rsa).unwrap()[..],
            Sha256::digest(&rsa)[..16]
        );
        assert_eq!(revocation_hash(HashType::Uci, None, Some("VN"), &sig), None);
    }

    fn batch(kid: [u8; 8], hash_type: HashType, hashes: Vec<String>) -> RevocationBatch {
        RevocationBatch {
            country: "VN".into(),
            expires: "2031-01-01T00:00:00Z".into(),
            kid: STANDARD.encode(kid),
            hash_type,
            entries: hashes
                .into_iter()
                .map(|hash| RevocationEntry { hash })
                .collect(),
        }
    }

    #[test]
    fn a_listed_certificate_is_refused_under_its_kid_only() {
        let uci = "URN:UVCI:01:VN:ABC123#X";
        let hash = revocation_hash(HashType::Uci, Some(uci), None, &[]).unwrap();
        let content = RevocationContent {
            country: "VN".into(),
            issued_at: "2021-11-23T00:00:00Z".into(),
            batches: vec![batch([1; 8], HashType::Uci, vec![STANDARD.encode(hash)])],
        };
        let list = RevocationList::from_content(&content).unwrap();
        let query = |kid: &'static [u8], uci: &'static str| RevocationQuery {
            kid,
            dsc: &[],
            issuer: Some("VN"),
            uci: Some(uci),
            country: Some("VN"),
            signature: &[0; 64],
        };
        assert!(list.check(&query(&[1; 8], uci)).is_err());
        assert!(list.check(&query(&[2; 8], uci)).is_ok());
        assert!(
            list.check(&query(&[1; 8], "URN:UVCI:01:VN:OTHER#Y"))
                .is_ok()
        );
    }

    #[test]
    fn malformed_entries_are_named() {
        let content = RevocationContent {
            batches: vec![batch(
                [0; 8],
                HashType::Uci,
                vec![STANDARD.encode([0u8; 15])],
            )],
            ..RevocationContent::default()
        };
        let err = RevocationList::from_content(&content).unwrap_err();
        assert!(
            err.to_string().contains("batches[0].entries[0].hash"),
            "{err}"
        );
    }
}
