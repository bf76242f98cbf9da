//! EU Digital COVID Certificates for citizens: the latest signed dose as a vaccination HCERT,
//! signed with the active DCC document signer. Shared by the API and `vaxtrace cert issue`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use qrcode::{EcLevel, QrCode};
use serde::Serialize;
use serde_json::Value as Json;
use time::{Duration, OffsetDateTime};

use vaxtrace_cert::hcert::{
    HashType, TrustList, VaccinationDcc, issue_hcert_signed, kid_of, new_uvci, revocation_hash,
    verify_hc1,
};
use vaxtrace_cert::{CertError, CertProfile, SecretPassphrase, SigningKey};
use vaxtrace_domain::date::vietnam_day;
use vaxtrace_domain::status::evaluate;
use vaxtrace_domain::{Citizen, PersonalId};
use vaxtrace_store::{NewCertificate, Store, StoreError, StoredCertificate};

use crate::middleware::Caller;
use crate::services::read_citizen;
use crate::signing::{self, SigningError, issued_key};
use crate::{ApiError, AppState};

/// How long an issued certificate stays valid (never past the DSC's own validity).
const VALIDITY_DAYS: i64 = 365;
/// Unit code of the national DCC keys.
pub const DCC_UNIT: &str = "VN";

/// An issued certificate: the QR text, its identifier, what it says, and the QR code as SVG.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCertificate {
    pub hc1: String,
    pub uvci: String,
    pub payload: Json,
    pub svg: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The record (and its version) the certificate states.
    pub record_id: i64,
    /// `true` when a current certificate for the same record version was returned again.
    pub reused: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("the citizen has no signed vaccination record")]
    NoSignedDose,
    #[error("no active DCC document signer")]
    NoSigner,
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SigningError> for CertificateError {
    fn from(e: SigningError) -> Self {
        match e {
            SigningError::NoKey(_) => Self::NoSigner,
            SigningError::Cert(e) => Self::Cert(e),
            SigningError::Store(e) => Self::Store(e),
        }
    }
}

/// The certificate for the citizen's latest counted dose (linked and signed records only): the
/// current one if it still states that record version, else a newly signed and stored one.
pub async fn issue_certificate(
    store: &dyn Store,
    citizen: &Citizen,
    passphrase: &SecretPassphrase,
    now: OffsetDateTime,
) -> Result<IssuedCertificate, CertificateError> {
    issue_replacing(store, citizen, passphrase, now, Vec::new()).await
}

/// Issues a certificate that supersedes `supersedes`, or reuses the current one that still states
/// the latest dose's record version.
async fn issue_replacing(
    store: &dyn Store,
    citizen: &Citizen,
    passphrase: &SecretPassphrase,
    now: OffsetDateTime,
    supersedes: Vec<String>,
) -> Result<IssuedCertificate, CertificateError> {
    let records = store.records_for_citizen(citizen.personal_id).await?;
    let doses = crate::vaccinations::signed_doses(&records);
    let status = evaluate(&doses, vietnam_day(now));
    // The doses the rules counted (duplicates left out); all signed ones if none counted.
    let latest = doses
        .iter()
        .filter(|d| status.counted.is_empty() || status.counted.contains(&d.record_id))
        .max_by_key(|d| (d.administered_on, d.dose_number, d.record_id))
        .ok_or(CertificateError::NoSignedDose)?;
    let record_version = records
        .iter()
        .find(|r| r.id == latest.record_id)
        .map(|r| r.version)
        .ok_or(CertificateError::NoSignedDose)?;

    if let Some(current) = store
        .certificates_for_citizen(citizen.personal_id)
        .await?
        .into_iter()
        .rev()
        .find(|c| {
            c.is_current(now)
                && c.record_id == Some(latest.record_id)
                && c.record_version == Some(record_version)
        })
    {
        // Still true: the revoked ones are replaced by it rather than by a second current one.
        if !supersedes.is_empty() {
            store.supersede(supersedes, &current.uvci).await?;
        }
        return from_stored(current, true);
    }

    let vaccine = latest.vaccine;
    let series_doses = vaccine.primary_doses.max(latest.dose_number);
    let stored = signing::active_key(store, DCC_UNIT, CertProfile::DocumentSigner, now).await?;
    let key = SigningKey::unlock(&issued_key(&stored)?, passphrase)?;
    let uvci = new_uvci()?;
    let payload = VaccinationDcc {
        full_name: citizen.full_name.as_str().to_owned(),
        date_of_birth: citizen.birth_date.to_string(),
        prophylaxis: vaccine.prophylaxis_code.to_owned(),
        product: vaccine.code.to_owned(),
        manufacturer: vaccine.manufacturer_code.to_owned(),
        dose_number: latest.dose_number,
        series_doses,
        vaccinated_on: latest.administered_on,
        uvci: uvci.clone(),
    }
    .payload()?;
    let exp = (now + Duration::days(VALIDITY_DAYS)).min(stored.not_after);
    let (hc1, signature) =
        issue_hcert_signed(&payload, &key, now.unix_timestamp(), exp.unix_timestamp())?;
    let signature_hash = revocation_hash(HashType::Signature, None, None, &signature)
        .map(|h| h.to_vec())
        .unwrap_or_default();
    store
        .insert_certificate(NewCertificate {
            uvci: uvci.clone(),
            personal_id: citizen.personal_id,
            cert_type: "v".into(),
            record_id: Some(latest.record_id),
            record_version: Some(record_version),
            dsc_key_id: stored.id,
            kid: kid_of(&stored.certificate).to_vec(),
            signature_hash,
            hc1: hc1.clone(),
            issued_at: now,
            expires_at: exp,
            supersedes,
        })
        .await?;
    let svg = qr_svg(&hc1)?;
    Ok(IssuedCertificate {
        hc1,
        uvci,
        payload,
        svg,
        issued_at: now,
        expires_at: exp,
        record_id: latest.record_id,
        reused: false,
    })
}

fn from_stored(c: StoredCertificate, reused: bool) -> Result<IssuedCertificate, CertificateError> {
    // Decoding only: the payload of a certificate this server signed and stored.
    let payload = verify_hc1(&c.hc1, &TrustList::new(), c.issued_at)
        .payload
        .ok_or_else(|| StoreError::Corrupt("certificate: hc1".into()))?;
    Ok(IssuedCertificate {
        svg: qr_svg(&c.hc1)?,
        hc1: c.hc1,
        uvci: c.uvci,
        payload,
        issued_at: c.issued_at,
        expires_at: c.expires_at,
        record_id: c.record_id.unwrap_or_default(),
        reused,
    })
}

/// Re-issues the certificates revoked because their record changed, for citizens whose records
/// were just signed again. Returns the new UVCIs by citizen; a citizen left with no signed dose
/// keeps the revocation pending until one is signed.
pub async fn reissue_pending(
    store: &dyn Store,
    citizens: Vec<PersonalId>,
    passphrase: &SecretPassphrase,
    now: OffsetDateTime,
) -> Result<Vec<(PersonalId, String)>, CertificateError> {
    let mut by_citizen: BTreeMap<PersonalId, Vec<String>> = BTreeMap::new();
    for c in store.pending_reissues(citizens).await? {
        by_citizen.entry(c.personal_id).or_default().push(c.uvci);
    }
    let mut out = Vec::new();
    for (id, old) in by_citizen {
        let Some(citizen) = store.citizen(id).await? else {
            continue;
        };
        match issue_replacing(store, &citizen, passphrase, now, old).await {
            Ok(issued) => out.push((id, issued.uvci)),
            Err(CertificateError::NoSignedDose) => {}
            // One citizen's problem (a name no DCC can hold) must not stop the others.
            Err(CertificateError::Cert(e)) => {
                tracing::warn!(error = %e, "certificate re-issue refused; left pending");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The QR code at error correction level Q, as the EU DCC guidelines recommend.
pub fn qr_code(text: &str) -> Result<QrCode, CertError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
        .map_err(|e| CertError::InvalidDcc(format!("QR code: {e}")))
}

/// The QR code's modules, row by row (`true` = dark), and its width in modules.
pub fn qr_modules(text: &str) -> Result<(usize, Vec<bool>), CertError> {
    let code = qr_code(text)?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok((code.width(), dark))
}

pub fn qr_svg(text: &str) -> Result<String, CertError> {
    Ok(qr_code(text)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(320, 320)
        .quiet_zone(true)
        .build())
}

/// `GET /api/v1/citizens/{personal_id}/certificate`.
pub async fn citizen_certificate(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
) -> Result<IssuedCertificate, ApiError> {
    let purpose = "dcc_certificate";
    let citizen = read_citizen(state, caller, id, purpose).await?;
    certificate_of(state, caller, &citizen, purpose).await
}

/// Issues (or returns the current) certificate of a citizen the caller may already see.
pub(crate) async fn certificate_of(
    state: &AppState,
    caller: &Caller,
    citizen: &Citizen,
    purpose: &str,
) -> Result<IssuedCertificate, ApiError> {
    let id = citizen.personal_id;
    let Some(passphrase) = state.config.key_passphrase.as_deref() else {
        return Err(unavailable(
            "Máy chủ chưa được cấu hình mật khẩu khóa ký",
            "The server has no signing key passphrase configured",
        ));
    };
    let subject = Some(id.to_string());
    let now = OffsetDateTime::now_utc();
    match issue_certificate(state.store.as_ref(), citizen, passphrase, now).await {
        Ok(issued) => {
            state
                .audit
                .access(
                    caller,
                    "certificate.issue",
                    subject,
                    purpose,
                    Some(issued.uvci.clone()),
                )
                .await?;
            Ok(issued)
        }
        Err(e) => {
            let err = api_error(e);
            state
                .audit
                .access(
                    caller,
                    "certificate.refused",
                    subject,
                    purpose,
                    Some(err.code.clone()),
                )
                .await?;
            Err(err)
        }
    }
}

fn unavailable(vi: &str, en: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "certificate_signing_unavailable",
        vi,
        en,
    )
}

fn api_error(e: CertificateError) -> ApiError {
    match e {
        CertificateError::NoSignedDose => ApiError::new(
            StatusCode::CONFLICT,
            "no_signed_dose",
            "Công dân chưa có mũi tiêm nào đã được xã ký xác nhận",
            "The citizen has no vaccination record signed by their commune",
        ),
        CertificateError::NoSigner => unavailable(
            "Chưa có khóa ký chứng nhận EU DCC (DSC) đang hoạt động",
            "No active EU DCC document signer key",
        ),
        CertificateError::Cert(CertError::InvalidDcc(reason)) => {
            tracing::warn!(%reason, "certificate content refused");
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "certificate_content_invalid",
                "Dữ liệu công dân không lập được chứng nhận EU DCC (họ tên hoặc ngày sinh)",
                "The citizen's data cannot form an EU DCC (name or date of birth)",
            )
        }
        CertificateError::Cert(e) => {
            tracing::error!(error = %e, "DCC signing key unusable");
            unavailable(
                "Không mở được khóa ký chứng nhận",
                "The certificate signing key cannot be unlocked",
            )
        }
        CertificateError::Store(e) => e.into(),
    }
}

/// `GET /api/v1/citizens/{personal_id}/certificates`: every certificate issued, with revocations.
pub async fn citizen_certificates(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
) -> Result<Vec<StoredCertificate>, ApiError> {
    read_citizen(state, caller, id, "dcc_certificate").await?;
    Ok(state.store.certificates_for_citizen(id).await?)
}

#[derive(Debug, serde::Deserialize)]
pub struct RevokeRequest {
    /// Why, in a word or two: `wrong_data`, `fraud`, `holder_request`, …
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct RevokeOutcome {
    pub uvci: String,
    /// `false` when it was revoked already.
    pub revoked: bool,
}

/// Longest revocation reason kept.
const MAX_REASON_CHARS: usize = 200;

/// The trimmed reason, when it is 1 to 200 characters (API and CLI alike).
pub fn revocation_reason(raw: &str) -> Option<&str> {
    let reason = raw.trim();
    (!reason.is_empty() && reason.chars().count() <= MAX_REASON_CHARS).then_some(reason)
}

/// `POST /api/v1/certificates/{uvci}/revoke`: an officer whose jurisdiction holds the citizen
/// revokes a certificate; the revocation list carries it from then on.
pub async fn revoke(
    state: &AppState,
    caller: &Caller,
    uvci: &str,
    req: &RevokeRequest,
) -> Result<RevokeOutcome, ApiError> {
    let Some(reason) = revocation_reason(&req.reason) else {
        return Err(ApiError::invalid_field(
            "reason",
            "invalid_reason",
            "Cần lý do thu hồi (tối đa 200 ký tự)",
            "A revocation reason is required (at most 200 characters)",
        ));
    };
    let Some(cert) = state.store.certificate(uvci).await? else {
        return Err(ApiError::not_found("chứng nhận", "Certificate"));
    };
    let purpose = "dcc_revocation";
    read_citizen(state, caller, cert.personal_id, purpose).await?;
    let revoked = state
        .store
        .revoke_certificate(uvci, reason, OffsetDateTime::now_utc())
        .await?;
    state
        .audit
        .access(
            caller,
            "certificate.revoke",
            Some(cert.personal_id.to_string()),
            purpose,
            Some(format!("{uvci} {reason}")),
        )
        .await?;
    Ok(RevokeOutcome {
        uvci: uvci.to_owned(),
        revoked,
    })
}
