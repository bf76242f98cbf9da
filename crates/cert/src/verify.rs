//! Verifying a record signature up a chain to a trusted root, and describing certificates.

use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde::Serialize;
use time::OffsetDateTime;

use crate::parse::{self, ParsedCert};
use crate::{CertError, CertProfile, fingerprint};

/// Most certificates a chain may hold: the hierarchy has three levels, plus one spare for a
/// future level. Longer chains are refused before any parsing.
pub const MAX_CHAIN_LEN: usize = 4;

/// Who signed, once [`verify_chain`] accepted the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedSigner {
    pub unit_code: String,
    pub profile: CertProfile,
    /// Hex SHA-256 of the leaf certificate.
    pub fingerprint: String,
    /// The leaf's subject DN, e.g. `C=VN, O=vaxtrace, OU=commune_signer, ..., CN=...`.
    pub subject: String,
}

/// Checks that `signature` (64-byte `r||s`) over `message` was made by the leaf of
/// `chain_leaf_first`, and that the chain leads to one of `trusted_roots`, all at time `at`.
///
/// The chain may end with the root itself (it must then equal a trusted root byte for byte) or
/// with the certificate a trusted root issued. Each failure has its own [`CertError`] variant.
pub fn verify_chain(
    message: &[u8],
    signature: &[u8],
    chain_leaf_first: &[Vec<u8>],
    trusted_roots: &[Vec<u8>],
    at: OffsetDateTime,
) -> Result<VerifiedSigner, CertError> {
    let len = chain_leaf_first.len();
    if len == 0 || len > MAX_CHAIN_LEN {
        return Err(CertError::ChainLength {
            len,
            max: MAX_CHAIN_LEN,
        });
    }
    let chain = chain_leaf_first
        .iter()
        .enumerate()
        .map(|(i, der)| parse::parse(der).map_err(|f| f.at(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let roots = trusted_roots
        .iter()
        .enumerate()
        .map(|(i, der)| match parse::parse(der) {
            Ok(root) if root.profile.issuer().is_none() => Ok(root),
            Ok(_) => Err(CertError::MalformedTrustedRoot {
                index: i,
                reason: "not a root certificate".to_owned(),
            }),
            Err(f) => Err(f.at_trusted_root(i)),
        })
        .collect::<Result<Vec<_>, _>>()?;

    let leaf = &chain[0];
    if !leaf.can_sign_records() {
        return Err(CertError::NotASigner);
    }
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, leaf.public_key())
        .verify(message, signature)
        .map_err(|_| CertError::BadSignature)?;

    if let Some(index) = chain.iter().position(|c| !c.valid_at(at)) {
        return Err(CertError::NotValidAt { index });
    }
    for (index, pair) in chain.windows(2).enumerate() {
        check_link(&pair[0], &pair[1], index)?;
    }

    let last_index = len - 1;
    let last = &chain[last_index];
    if last.profile.issuer().is_none() {
        if !roots.iter().any(|r| r.der == last.der) {
            return Err(CertError::UntrustedRoot);
        }
    } else {
        if last
            .profile
            .issuer()
            .and_then(CertProfile::issuer)
            .is_some()
        {
            return Err(CertError::IncompleteChain);
        }
        let root = roots
            .iter()
            .find(|r| last.is_issued_by(r))
            .ok_or(CertError::UntrustedRoot)?;
        if !root.valid_at(at) {
            return Err(CertError::NotValidAt { index: len });
        }
        check_link(last, root, last_index)?;
    }

    Ok(VerifiedSigner {
        unit_code: leaf.unit_code().to_owned(),
        profile: leaf.profile,
        fingerprint: fingerprint(leaf.der),
        subject: leaf.subject().to_string(),
    })
}

/// Checks that `issuer` (at `index + 1`, counting from the leaf) properly issued `child`.
fn check_link(
    child: &ParsedCert<'_>,
    issuer: &ParsedCert<'_>,
    index: usize,
) -> Result<(), CertError> {
    if child.profile.issuer() != Some(issuer.profile) {
        // An issuer from further up means a level was left out of the chain.
        let skipped = std::iter::successors(child.profile.issuer(), |p| p.issuer())
            .skip(1)
            .any(|p| p == issuer.profile);
        return Err(if skipped {
            CertError::IncompleteChain
        } else {
            CertError::ProfileMismatch {
                issuer: issuer.profile,
                subject: child.profile,
            }
        });
    }
    if !child.is_issued_by(issuer) {
        return Err(CertError::BrokenChain { index });
    }
    let issuer_index = index + 1;
    if !issuer.can_sign_certificates() {
        return Err(CertError::IssuerNotCa {
            index: issuer_index,
        });
    }
    // CAs strictly between this issuer and the leaf (the leaf is never a CA).
    let cas_below = issuer_index - 1;
    if issuer
        .path_len
        .is_some_and(|max| (max as usize) < cas_below)
    {
        return Err(CertError::PathLenExceeded {
            index: issuer_index,
        });
    }
    if child.unit_path[..child.unit_path.len() - 1] != issuer.unit_path[..] {
        return Err(CertError::UnitOutsideIssuer {
            unit: child.unit_code().to_owned(),
            issuer_unit: issuer.unit_code().to_owned(),
        });
    }
    Ok(())
}

/// What a person needs to see of a certificate of this hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub common_name: String,
    pub unit_code: String,
    /// Units from the root down to this one, e.g. `["VN", "01", "00004"]`.
    pub unit_path: Vec<String>,
    pub profile: CertProfile,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Hex of the serial number's DER integer content.
    pub serial: String,
    pub fingerprint: String,
}

/// Describes one of this hierarchy's certificates; foreign or malformed DER is an error.
pub fn certificate_summary(der: &[u8]) -> Result<CertSummary, CertError> {
    let cert = parse::parse(der).map_err(|f| f.at(0))?;
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.x509.issuer().to_string(),
        common_name: cert.common_name.to_owned(),
        unit_code: cert.unit_code().to_owned(),
        unit_path: cert.unit_path.iter().map(|&s| s.to_owned()).collect(),
        profile: cert.profile,
        not_before: cert.not_before(),
        not_after: cert.not_after(),
        serial: cert.serial_hex(),
        fingerprint: fingerprint(der),
    })
}
