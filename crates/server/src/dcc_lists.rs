//! The lists verifiers download — the trust list of document signers and the revocation list,
//! both signed by the CSCA — and verification of a scanned certificate against this server's
//! current view of both.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vaxtrace_cert::hcert::{
    self, HashType, ListedDsc, REVOCATION_LIST_FORMAT, RevocationBatch, RevocationContent,
    RevocationEntry, RevocationList, TRUST_LIST_FORMAT, TrustList, revocation_hash, sign_list,
    verify_hc1_with,
};
use vaxtrace_cert::{CertProfile, SecretPassphrase, SigningKey};
use vaxtrace_store::{Store, StoreError};

use crate::certificates::DCC_UNIT;
use crate::middleware::Caller;
use crate::signing::{self, issued_key};
use crate::{ApiError, AppState};

/// Signed lists by format, with the digest of the content they were signed for: a list is
/// re-signed (and the CSCA unlocked) only when its content changes.
#[derive(Debug, Default)]
pub struct ListCache {
    signed: Mutex<HashMap<&'static str, ([u8; 32], String)>>,
}

impl ListCache {
    fn get(&self, format: &'static str, digest: &[u8; 32]) -> Option<String> {
        let map = self
            .signed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(format)
            .filter(|(d, _)| d == digest)
            .map(|(_, text)| text.clone())
    }

    fn put(&self, format: &'static str, digest: [u8; 32], text: String) {
        let mut map = self
            .signed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(format, (digest, text));
    }
}

/// Every DSC a verifier should trust: this country's document signers that have not expired
/// (rotated ones too: what they signed stays valid) and the imported foreign ones.
pub async fn trusted_dscs(
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<Vec<ListedDsc>, StoreError> {
    let mut out: Vec<ListedDsc> = store
        .keys()
        .await?
        .into_iter()
        .filter(|k| k.profile == CertProfile::DocumentSigner.as_str() && now < k.not_after)
        .map(|k| ListedDsc {
            kid: hcert::kid_of(&k.certificate).to_vec(),
            country: Some(hcert::ISSUER_COUNTRY.to_owned()),
            der: k.certificate,
        })
        .collect();
    out.extend(store.foreign_dscs().await?.into_iter().map(|d| ListedDsc {
        kid: d.kid,
        country: Some(d.country),
        der: d.certificate,
    }));
    Ok(out)
}

/// The revocation list's content: one UCI batch per DSC, for revoked, unexpired certificates.
pub async fn revocation_content(
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<RevocationContent, StoreError> {
    let mut batches: BTreeMap<Vec<u8>, (OffsetDateTime, Vec<RevocationEntry>)> = BTreeMap::new();
    for cert in store.revoked_certificates(now).await? {
        let Some(hash) = revocation_hash(HashType::Uci, Some(&cert.uvci), None, &[]) else {
            continue;
        };
        let batch = batches
            .entry(cert.kid)
            .or_insert_with(|| (cert.expires_at, Vec::new()));
        batch.0 = batch.0.max(cert.expires_at);
        batch.1.push(RevocationEntry {
            hash: STANDARD.encode(hash),
        });
    }
    Ok(RevocationContent {
        country: hcert::ISSUER_COUNTRY.to_owned(),
        issued_at: String::new(),
        batches: batches
            .into_iter()
            .map(|(kid, (expires, entries))| RevocationBatch {
                country: hcert::ISSUER_COUNTRY.to_owned(),
                expires: expires.format(&Rfc3339).unwrap_or_default(),
                kid: STANDARD.encode(kid),
                hash_type: HashType::Uci,
                entries,
            })
            .collect(),
    })
}

/// Why a list could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("no signing key passphrase configured")]
    NoPassphrase,
    #[error("no active CSCA: run `vaxtrace keys csca`")]
    NoCsca,
    #[error("the CSCA key cannot be unlocked")]
    Locked,
    #[error("list signing failed: {0}")]
    Sign(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ListError> for ApiError {
    fn from(e: ListError) -> Self {
        let unavailable = |vi: &str, en: &str| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "list_signing_unavailable",
                vi,
                en,
            )
        };
        match e {
            ListError::NoPassphrase => unavailable(
                "Máy chủ chưa được cấu hình mật khẩu khóa ký",
                "The server has no signing key passphrase configured",
            ),
            ListError::NoCsca => unavailable(
                "Chưa có CSCA đang hoạt động (vaxtrace keys csca)",
                "No active CSCA (vaxtrace keys csca)",
            ),
            ListError::Locked => {
                tracing::error!("CSCA key cannot be unlocked");
                unavailable("Không mở được khóa CSCA", "The CSCA key cannot be unlocked")
            }
            ListError::Sign(reason) => {
                tracing::error!(%reason, "list signing failed");
                ApiError::internal()
            }
            ListError::Store(e) => e.into(),
        }
    }
}

/// The trust list's content, `issued_at` left empty.
pub async fn trust_list_content(
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<Json, StoreError> {
    Ok(TrustList::gateway_content(
        &trusted_dscs(store, now).await?,
        "",
    ))
}

/// The revocation list's content as JSON, `issued_at` left empty.
pub async fn revocation_list_content(
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<Json, StoreError> {
    let content = revocation_content(store, now).await?;
    serde_json::to_value(content).map_err(|e| StoreError::Database(e.to_string()))
}

/// Signs `content` with the active CSCA, setting its `issued_at` to `now`.
pub async fn sign_with_csca(
    store: &dyn Store,
    passphrase: Option<&SecretPassphrase>,
    format: &str,
    mut content: Json,
    now: OffsetDateTime,
) -> Result<String, ListError> {
    let passphrase = passphrase.ok_or(ListError::NoPassphrase)?;
    let stored = signing::active_key(store, DCC_UNIT, CertProfile::Csca, now)
        .await
        .map_err(|_| ListError::NoCsca)?;
    let key = issued_key(&stored)
        .ok()
        .and_then(|k| SigningKey::unlock(&k, passphrase).ok())
        .ok_or(ListError::Locked)?;
    content["issued_at"] = Json::from(now.format(&Rfc3339).unwrap_or_default());
    sign_list(format, &content, &key).map_err(|e| ListError::Sign(e.to_string()))
}

/// `GET /api/v1/trust-list`.
pub async fn trust_list(state: &AppState) -> Result<String, ApiError> {
    let now = OffsetDateTime::now_utc();
    let content = trust_list_content(state.store.as_ref(), now).await?;
    signed(state, TRUST_LIST_FORMAT, content, now).await
}

/// `GET /api/v1/revocation-list`.
pub async fn revocation_list(state: &AppState) -> Result<String, ApiError> {
    let now = OffsetDateTime::now_utc();
    let content = revocation_list_content(state.store.as_ref(), now).await?;
    signed(state, REVOCATION_LIST_FORMAT, content, now).await
}

/// The signed list for `content`, re-signed only when the content changed since last time.
async fn signed(
    state: &AppState,
    format: &'static str,
    content: Json,
    now: OffsetDateTime,
) -> Result<String, ApiError> {
    let digest: [u8; 32] = Sha256::digest(content.to_string().as_bytes()).into();
    if let Some(text) = state.dcc_lists.get(format, &digest) {
        return Ok(text);
    }
    let passphrase = state.config.key_passphrase.as_deref();
    let text = sign_with_csca(state.store.as_ref(), passphrase, format, content, now).await?;
    state.dcc_lists.put(format, digest, text.clone());
    Ok(text)
}

#[derive(Debug, Deserialize)]
pub struct VerifyDccRequest {
    /// The QR code's text, `HC1:…`.
    pub qr: String,
    /// Verify as of this instant (RFC 3339) instead of now.
    pub at: Option<String>,
}

/// `POST /api/v1/dcc/verify`: every verification step against the current trust and
/// revocation lists, with the decoded payload a checkpoint officer compares with the holder.
pub async fn verify(
    state: &AppState,
    caller: &Caller,
    req: &VerifyDccRequest,
) -> Result<Json, ApiError> {
    let now = OffsetDateTime::now_utc();
    let at = crate::services::parse_time("at", req.at.as_deref())?.unwrap_or(now);
    let store = state.store.as_ref();
    let trust = TrustList::from_listed(trusted_dscs(store, now).await?);
    let revoked = RevocationList::from_content(&revocation_content(store, now).await?)
        .map_err(|_| ApiError::internal())?;
    let v = verify_hc1_with(req.qr.trim(), &trust, at, Some(&revoked));
    let verdict = match v.first_failure() {
        None => "valid".to_owned(),
        Some((step, _)) => format!("invalid:{step}"),
    };
    // The holder shows the certificate; what is logged is the verdict, never its content.
    state
        .audit
        .access(
            caller,
            "dcc.verify",
            None,
            "dcc_verification",
            Some(verdict),
        )
        .await?;
    let mut out = serde_json::to_value(&v).map_err(|_| ApiError::internal())?;
    out["valid"] = Json::from(v.is_valid());
    out["at"] = Json::from(at.format(&Rfc3339).unwrap_or_default());
    Ok(out)
}
