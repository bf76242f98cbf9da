//! EU Digital COVID Certificates for citizens: the latest signed dose as a vaccination HCERT,
//! signed with the active DCC document signer. Shared by the API and `vaxtrace cert issue`.

use axum::http::StatusCode;
use qrcode::{EcLevel, QrCode};
use serde::Serialize;
use serde_json::Value as Json;
use time::{Duration, OffsetDateTime};
use vaxtrace_cert::hcert::{VaccinationDcc, issue_hcert, new_uvci};
use vaxtrace_cert::{CertError, CertProfile, SecretPassphrase, SigningKey};
use vaxtrace_domain::date::vietnam_day;
use vaxtrace_domain::status::evaluate;
use vaxtrace_domain::{Citizen, PersonalId};
use vaxtrace_store::{Store, StoreError};

use crate::middleware::Caller;
use crate::services::read_citizen;
use crate::signing::{self, SigningError, issued_key};
use crate::{ApiError, AppState};

/// How long an issued certificate stays valid (never past the DSC's own validity).
const VALIDITY_DAYS: i64 = 365;
/// Unit code of the national DCC keys.
const DCC_UNIT: &str = "VN";

/// An issued certificate: the QR text, its identifier, what it says, and the QR code as SVG.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCertificate {
    pub hc1: String,
    pub uvci: String,
    pub payload: Json,
    pub svg: String,
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

/// Issues a certificate for the citizen's latest counted dose (linked and signed records only).
pub async fn issue_certificate(
    store: &dyn Store,
    citizen: &Citizen,
    passphrase: &SecretPassphrase,
    now: OffsetDateTime,
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
    let hc1 = issue_hcert(&payload, &key, now.unix_timestamp(), exp.unix_timestamp())?;
    let svg = qr_svg(&hc1)?;
    Ok(IssuedCertificate {
        hc1,
        uvci,
        payload,
        svg,
    })
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
    let Some(passphrase) = state.config.key_passphrase.as_deref() else {
        return Err(unavailable(
            "Máy chủ chưa được cấu hình mật khẩu khóa ký",
            "The server has no signing key passphrase configured",
        ));
    };
    let subject = Some(id.to_string());
    let now = OffsetDateTime::now_utc();
    match issue_certificate(state.store.as_ref(), &citizen, passphrase, now).await {
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
