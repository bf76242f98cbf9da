//! Issued EU DCC certificates, their revocation, and other countries' document signers: the types
//! and the interface both backends implement.

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;
use vaxtrace_domain::PersonalId;

use crate::StoreResult;

/// Why a certificate was revoked because its record changed; such certificates are re-issued
/// once the record is signed again.
pub const REVOKED_RECORD_CHANGED: &str = "record_changed";

/// A certificate to store as issued.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub uvci: String,
    pub personal_id: PersonalId,
    /// `v`, `t` or `r`.
    pub cert_type: String,
    pub record_id: Option<i64>,
    pub record_version: Option<i64>,
    pub dsc_key_id: i64,
    pub kid: Vec<u8>,
    pub signature_hash: Vec<u8>,
    pub hc1: String,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Earlier certificates this one replaces: marked superseded, their re-issue done.
    pub supersedes: Vec<String>,
}

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCertificate {
    pub uvci: String,
    pub personal_id: PersonalId,
    pub cert_type: String,
    pub record_id: Option<i64>,
    pub record_version: Option<i64>,
    pub dsc_key_id: i64,
    #[serde(skip)]
    pub kid: Vec<u8>,
    #[serde(skip)]
    pub signature_hash: Vec<u8>,
    #[serde(skip)]
    pub hc1: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revocation_reason: Option<String>,
    pub reissue_pending: bool,
    pub superseded_by: Option<String>,
}

impl StoredCertificate {
    /// Not revoked and not expired at `at`.
    pub fn is_current(&self, at: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && at < self.expires_at
    }
}

/// Another country's document signer certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignDsc {
    pub fingerprint: String,
    pub kid: Vec<u8>,
    pub country: String,
    pub certificate: Vec<u8>,
    /// Where it was imported from (a file name or URL), for the operator.
    pub source: String,
    pub imported_at: OffsetDateTime,
}

#[async_trait]
pub trait CertificateStore: Send + Sync {
    /// Stores an issued certificate and marks the ones it supersedes, in one transaction.
    async fn insert_certificate(&self, cert: NewCertificate) -> StoreResult<()>;
    async fn certificate(&self, uvci: &str) -> StoreResult<Option<StoredCertificate>>;
    /// Marks `olds` as replaced by the existing certificate `by` (their re-issue done).
    async fn supersede(&self, olds: Vec<String>, by: &str) -> StoreResult<()>;
    /// A citizen's certificates, oldest first.
    async fn certificates_for_citizen(&self, id: PersonalId)
    -> StoreResult<Vec<StoredCertificate>>;
    /// Revokes a certificate. `Ok(false)` when it was revoked already; `NotFound` when unknown.
    async fn revoke_certificate(
        &self,
        uvci: &str,
        reason: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Revoked certificates that have not expired by `at`: the content of the revocation list.
    async fn revoked_certificates(&self, at: OffsetDateTime)
    -> StoreResult<Vec<StoredCertificate>>;
    /// Certificates of these citizens revoked for a record change and not yet re-issued.
    async fn pending_reissues(&self, ids: Vec<PersonalId>) -> StoreResult<Vec<StoredCertificate>>;

    /// Adds or refreshes foreign DSCs (by fingerprint); returns how many were new.
    async fn upsert_foreign_dscs(&self, dscs: Vec<ForeignDsc>) -> StoreResult<u64>;
    async fn foreign_dscs(&self) -> StoreResult<Vec<ForeignDsc>>;
}

/// Columns of `dcc_certificates` in the order every SELECT of a [`StoredCertificate`] uses.
pub(crate) const CERTIFICATE_COLUMNS: &str = "uvci, personal_id, cert_type, record_id, \
    record_version, dsc_key_id, kid, signature_hash, hc1, issued_at, expires_at, revoked_at, \
    revocation_reason, reissue_pending, superseded_by";

/// A `dcc_certificates` row as both backends read it, in [`CERTIFICATE_COLUMNS`] order.
#[derive(Debug)]
pub(crate) struct CertificateRow {
    pub uvci: String,
    pub personal_id: i64,
    pub cert_type: String,
    pub record_id: Option<i64>,
    pub record_version: Option<i64>,
    pub dsc_key_id: i64,
    pub kid: Vec<u8>,
    pub signature_hash: Vec<u8>,
    pub hc1: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revocation_reason: Option<String>,
    pub reissue_pending: bool,
    pub superseded_by: Option<String>,
}

impl CertificateRow {
    pub fn into_certificate(self) -> StoreResult<StoredCertificate> {
        let personal_id = PersonalId::from_number(self.personal_id as u64)
            .map_err(|_| crate::StoreError::Corrupt("certificate: personal_id".into()))?;
        Ok(StoredCertificate {
            uvci: self.uvci,
            personal_id,
            cert_type: self.cert_type,
            record_id: self.record_id,
            record_version: self.record_version,
            dsc_key_id: self.dsc_key_id,
            kid: self.kid,
            signature_hash: self.signature_hash,
            hc1: self.hc1,
            issued_at: crate::from_unix_micros(self.issued_at),
            expires_at: crate::from_unix_micros(self.expires_at),
            revoked_at: self.revoked_at.map(crate::from_unix_micros),
            revocation_reason: self.revocation_reason,
            reissue_pending: self.reissue_pending,
            superseded_by: self.superseded_by,
        })
    }
}

/// The statement that revokes a changed record's certificates inside the review transaction;
/// `?1`/`$1` record ID, `?2`/`$2` time.
pub(crate) fn revoke_for_record_sql(placeholder: char) -> String {
    format!(
        "UPDATE dcc_certificates SET revoked_at = {p}2, revocation_reason = '{REVOKED_RECORD_CHANGED}', \
         reissue_pending = {t} WHERE record_id = {p}1 AND revoked_at IS NULL",
        p = placeholder,
        t = if placeholder == '$' { "TRUE" } else { "1" },
    )
}
