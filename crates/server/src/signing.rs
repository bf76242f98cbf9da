//! Commune signatures over vaccination records: choosing the commune's key, signing record
//! versions, and checking a stored signature up to the national root. Shared by the API and the
//! `vaxtrace verify-record` command.

use serde::Serialize;
use time::OffsetDateTime;
use vaxtrace_cert::{CertError, CertProfile, IssuedKey, SecretPassphrase, SigningKey};
use vaxtrace_store::{ShotRecord, Store, StoreError, StoredKey};

/// Why signing or checking could not proceed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("no active signing key for unit {0}")]
    NoKey(String),
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn issued_key(stored: &StoredKey) -> Result<IssuedKey, SigningError> {
    let profile: CertProfile = stored
        .profile
        .parse()
        .map_err(|_| StoreError::Corrupt("signing key profile".into()))?;
    Ok(IssuedKey {
        profile,
        unit_code: stored.unit_code.clone(),
        certificate_der: stored.certificate.clone(),
        encrypted_private_key: stored.encrypted_private_key.clone(),
        not_before: stored.not_before,
        not_after: stored.not_after,
        fingerprint: stored.fingerprint.clone(),
    })
}

/// The unit's active key of a profile, valid at `at`.
pub async fn active_key(
    store: &dyn Store,
    unit: &str,
    profile: CertProfile,
    at: OffsetDateTime,
) -> Result<StoredKey, SigningError> {
    store
        .keys()
        .await?
        .into_iter()
        .filter(|k| k.active && k.unit_code == unit && k.profile == profile.as_str())
        .find(|k| k.not_before <= at && at < k.not_after)
        .ok_or_else(|| SigningError::NoKey(unit.to_owned()))
}

/// Unlocks a commune's signing key.
pub async fn commune_signer(
    store: &dyn Store,
    commune: &str,
    passphrase: &SecretPassphrase,
    at: OffsetDateTime,
) -> Result<(i64, SigningKey), SigningError> {
    let stored = active_key(store, commune, CertProfile::CommuneSigner, at).await?;
    let key = SigningKey::unlock(&issued_key(&stored)?, passphrase)?;
    Ok((stored.id, key))
}

/// The outcome of checking one record's signature.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SignatureCheck {
    pub record_id: i64,
    pub valid: bool,
    /// `unsigned`, `changed_since_signing`, or the certificate error's code; absent when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub current_version: i64,
    pub signed_version: Option<i64>,
    pub signer_unit: Option<String>,
    pub signer_subject: Option<String>,
    /// SHA-256 fingerprints of the chain, signer first, root last.
    pub chain: Vec<String>,
}

/// Checks a record's stored signature: made over the current version's bytes, by a commune
/// signer certificate issued by a province CA issued by a stored national root, valid when
/// signed, and for the commune that owns the record.
pub async fn check_record(
    store: &dyn Store,
    record: &ShotRecord,
) -> Result<SignatureCheck, SigningError> {
    let mut check = SignatureCheck {
        record_id: record.id,
        valid: false,
        problem: None,
        current_version: record.version,
        signed_version: record.signature.as_ref().map(|s| s.version),
        signer_unit: None,
        signer_subject: None,
        chain: Vec::new(),
    };
    let Some(sig) = &record.signature else {
        check.problem = Some("unsigned".into());
        return Ok(check);
    };
    let keys = store.keys().await?;
    let mut chain: Vec<Vec<u8>> = Vec::new();
    let mut next = keys.iter().find(|k| k.id == sig.signing_key_id);
    while let Some(k) = next {
        if chain.len() > vaxtrace_cert::MAX_CHAIN_LEN {
            break;
        }
        chain.push(k.certificate.clone());
        check.chain.push(k.fingerprint.clone());
        next = k.issuer_id.and_then(|id| keys.iter().find(|i| i.id == id));
    }
    let roots: Vec<Vec<u8>> = keys
        .iter()
        .filter(|k| k.profile == CertProfile::NationalRoot.as_str())
        .map(|k| k.certificate.clone())
        .collect();
    if sig.version != record.version {
        check.problem = Some("changed_since_signing".into());
        return Ok(check);
    }
    match vaxtrace_cert::verify_chain(
        &record.canonical_bytes(),
        &sig.signature,
        &chain,
        &roots,
        sig.signed_at,
    ) {
        Ok(signer) if record.queue_unit.as_deref() == Some(signer.unit_code.as_str()) => {
            check.valid = true;
            check.signer_unit = Some(signer.unit_code);
            check.signer_subject = Some(signer.subject);
        }
        Ok(signer) => {
            check.problem = Some("signer_not_owning_commune".into());
            check.signer_unit = Some(signer.unit_code);
        }
        Err(e) => check.problem = Some(cert_error_code(&e).into()),
    }
    Ok(check)
}

fn cert_error_code(e: &CertError) -> &'static str {
    match e {
        CertError::BadSignature => "bad_signature",
        CertError::BrokenChain { .. } => "broken_chain",
        CertError::UntrustedRoot => "untrusted_root",
        CertError::IncompleteChain => "incomplete_chain",
        CertError::NotValidAt { .. } => "certificate_not_valid_at_signing_time",
        CertError::NotASigner => "not_a_signer",
        CertError::IssuerNotCa { .. } | CertError::PathLenExceeded { .. } => "invalid_issuer",
        _ => "malformed_chain",
    }
}
