//! Vaccination services: recording shots, the commune review queue, signing, signature checks and
//! status lookups. Each function parses with the domain, enforces role and jurisdiction, audits,
//! and calls the store.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vaxtrace_domain::date::vietnam_day;
use vaxtrace_domain::shot::{parse_administered_at, parse_birth_date, parse_dose_number};
use vaxtrace_domain::status::{Dose, Status, evaluate};
use vaxtrace_domain::{
    ChipQr, Citizen, FullName, Jurisdiction, ParseError, Permission, PersonalId, Phone, Sex,
    ShotInput, UnitLevel, Vaccine, admin_units, text,
};
use vaxtrace_store::{
    Change, Correction, InsertOutcome, LinkDecision, NewSignature, QueueCount, RecordFilter,
    ReviewAction, ShotRecord, StoreError,
};

use crate::linker::{self, Linked};
use crate::middleware::Caller;
use crate::services::{CitizenView, read_citizen};
use crate::signing::{self, SignatureCheck, SigningError};
use crate::{ApiError, AppState};

const MAX_PAGE: u32 = 200;

/// The units whose records a jurisdiction covers; `None` = the whole country.
pub fn jurisdiction_units(j: Jurisdiction) -> Option<Vec<String>> {
    let Jurisdiction::Unit(code) = j else {
        return None;
    };
    let units = admin_units();
    let mut out = vec![code.to_owned()];
    match UnitLevel::of_code(code) {
        Some(UnitLevel::Province) => {
            for d in units.children(code) {
                out.push(d.code.to_owned());
                out.extend(units.children(d.code).map(|c| c.code.to_owned()));
            }
        }
        Some(UnitLevel::District) => out.extend(units.children(code).map(|c| c.code.to_owned())),
        _ => {}
    }
    Some(out)
}

fn can_work(caller: &Caller, record: &ShotRecord) -> bool {
    match caller.user.jurisdiction {
        Jurisdiction::National => true,
        j @ Jurisdiction::Unit(_) => record.queue_unit.as_deref().is_some_and(|u| j.contains(u)),
    }
}

#[derive(Debug, Serialize)]
pub struct Receipt {
    pub id: i64,
    /// `inserted` or `replayed`.
    pub outcome: &'static str,
    pub decision: LinkDecision,
}

/// Records one shot from a vaccination site or health officer.
pub async fn record_shot(
    state: &AppState,
    caller: &Caller,
    input: &ShotInput,
) -> Result<(StatusCode, Receipt), ApiError> {
    caller.require(Permission::RecordVaccination)?;
    let now = OffsetDateTime::now_utc();
    let shot = input.parse(now)?;
    if let Some(commune) = shot.commune_code
        && !caller.user.jurisdiction.contains(commune)
    {
        return Err(ApiError::outside_area(
            "Xã của mũi tiêm không thuộc địa bàn của bạn",
            "The record's commune is outside your jurisdiction",
        ));
    }
    let subject = shot.personal_id.map(|p| p.to_string());
    let mut linked = linker::link_and_store(
        state.store.as_ref(),
        vec![shot],
        &state.config.link_thresholds,
        now,
    )
    .await?;
    let Some(Linked {
        outcome, decision, ..
    }) = linked.pop()
    else {
        return Err(ApiError::internal());
    };
    let (status, id, label) = match outcome {
        InsertOutcome::Inserted { id, .. } => (StatusCode::CREATED, id, "inserted"),
        InsertOutcome::Replayed { id } => (StatusCode::OK, id, "replayed"),
        InsertOutcome::Conflict { id } => {
            state
                .audit
                .access(
                    caller,
                    "vaccination.conflict",
                    subject,
                    "vaccination_record",
                    Some(format!("record:{id}")),
                )
                .await?;
            let mut err = ApiError::new(
                StatusCode::CONFLICT,
                "replayed_with_different_content",
                "Mã bản ghi nguồn đã được gửi với nội dung khác; bản gửi lại được lưu riêng để kiểm tra",
                "This source record ID was already sent with different content; the new version is kept aside for review",
            );
            err.field = Some("source_record_id".into());
            return Err(err);
        }
    };
    state
        .audit
        .access(
            caller,
            "vaccination.record",
            subject,
            "vaccination_record",
            Some(format!("record:{id} {label} {}", decision.code())),
        )
        .await?;
    Ok((
        status,
        Receipt {
            id,
            outcome: label,
            decision,
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
pub struct QueueQuery {
    /// Comma-separated decisions; default `review,unmatched`.
    pub decision: Option<String>,
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

fn parse_decisions(
    raw: Option<&str>,
    default: &[LinkDecision],
) -> Result<Vec<LinkDecision>, ApiError> {
    match text::optional(raw) {
        None => Ok(default.to_vec()),
        Some(list) => list
            .split(',')
            .map(|d| {
                LinkDecision::parse(d.trim()).ok_or_else(|| {
                    ParseError::new(
                        "decision",
                        "unknown_decision",
                        "Trạng thái không hợp lệ (auto, review, confirmed, rejected, unmatched, duplicate)",
                        "Unknown decision (auto, review, confirmed, rejected, unmatched, duplicate)",
                    )
                    .into()
                })
            })
            .collect(),
    }
}

/// The review queue of the caller's area, oldest first.
pub async fn queue(
    state: &AppState,
    caller: &Caller,
    q: &QueueQuery,
) -> Result<Vec<ShotRecord>, ApiError> {
    caller.require(Permission::ReviewVaccinations)?;
    let decisions = parse_decisions(
        q.decision.as_deref(),
        &[LinkDecision::Review, LinkDecision::Unmatched],
    )?;
    let records = state
        .store
        .list_records(RecordFilter {
            units: jurisdiction_units(caller.user.jurisdiction),
            decisions,
            unsigned_only: false,
            after_id: q.after.unwrap_or(0),
            limit: q.limit.unwrap_or(50).clamp(1, MAX_PAGE),
        })
        .await?;
    state
        .audit
        .access(
            caller,
            "vaccination.queue.read",
            None,
            "vaccination_review",
            Some(format!("records:{}", records.len())),
        )
        .await?;
    Ok(records)
}

pub async fn queue_counts(state: &AppState, caller: &Caller) -> Result<Vec<QueueCount>, ApiError> {
    if !caller.user.role.allows(Permission::ReviewVaccinations) {
        caller.require(Permission::SignVaccinations)?;
    }
    Ok(state
        .store
        .queue_counts(jurisdiction_units(caller.user.jurisdiction))
        .await?)
}

#[derive(Debug, Serialize)]
pub struct CandidateView {
    pub citizen: CitizenView,
    pub evidence: serde_json::Value,
}

#[derive(Debug, Serialize)]
pub struct VersionView {
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub before: serde_json::Value,
}

#[derive(Debug, Serialize)]
pub struct RecordDetail {
    pub record: ShotRecord,
    pub candidates: Vec<CandidateView>,
    pub notes: Vec<String>,
    pub history: Vec<VersionView>,
    pub signature_valid: bool,
}

pub(crate) async fn load_workable(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<ShotRecord, ApiError> {
    let record = state
        .store
        .shot_record(id)
        .await?
        .ok_or_else(|| ApiError::not_found("bản ghi tiêm", "Vaccination record"))?;
    if !can_work(caller, &record) {
        return Err(ApiError::outside_area(
            "Bản ghi không thuộc địa bàn của bạn",
            "The record is outside your jurisdiction",
        ));
    }
    Ok(record)
}

/// One record with its candidate citizens side by side, their per-field evidence and its history.
pub async fn record_detail(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<RecordDetail, ApiError> {
    caller.require(Permission::ReviewVaccinations)?;
    let record = load_workable(state, caller, id).await?;
    let evidence: serde_json::Value = serde_json::from_str(&record.evidence).unwrap_or_default();
    let mut candidates = Vec::new();
    for c in evidence["candidates"].as_array().into_iter().flatten() {
        let Some(pid) = c["personal_id"]
            .as_str()
            .and_then(|p| PersonalId::parse(p).ok())
        else {
            continue;
        };
        if let Some(citizen) = state.store.citizen(pid).await? {
            candidates.push(CandidateView {
                citizen: citizen.into(),
                evidence: c.clone(),
            });
        }
    }
    for c in &candidates {
        state
            .audit
            .access(
                caller,
                "citizen.read",
                Some(c.citizen.citizen.personal_id.to_string()),
                "vaccination_review",
                Some(format!("record:{id}")),
            )
            .await?;
    }
    let notes = evidence["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    let history = state
        .store
        .record_versions(id)
        .await?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            changed_at: v.changed_at,
            actor: v.actor,
            action: v.action,
            reason: v.reason,
            before: serde_json::from_str(&v.before).unwrap_or_default(),
        })
        .collect();
    state
        .audit
        .access(
            caller,
            "vaccination.read",
            record.personal_id.map(|p| p.to_string()),
            "vaccination_review",
            Some(format!("record:{id}")),
        )
        .await?;
    Ok(RecordDetail {
        signature_valid: record.is_signed(),
        record,
        candidates,
        notes,
        history,
    })
}

#[derive(Debug, Deserialize)]
pub struct ReviewRequest {
    /// `link`, `reject`, `duplicate` or `correct`.
    pub action: String,
    pub personal_id: Option<String>,
    pub duplicate_of: Option<i64>,
    pub correction: Option<CorrectionInput>,
    pub reason: String,
    /// The version the officer saw.
    pub version: i64,
}

#[derive(Debug, Deserialize, Default)]
pub struct CorrectionInput {
    pub full_name: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub commune_code: Option<String>,
    pub vaccine_code: Option<String>,
    pub dose_number: Option<String>,
    pub administered_at: Option<String>,
    pub lot: Option<String>,
}

/// Parses an officer's correction with the same rules as a new report.
fn parse_correction(c: &CorrectionInput, now: OffsetDateTime) -> Result<Correction, ApiError> {
    let f = |v: &Option<String>| text::optional(v.as_deref()).map(str::to_owned);
    let out = Correction {
        full_name: f(&c.full_name)
            .map(|v| FullName::parse(&v).map(|n| n.as_str().to_owned()))
            .transpose()?,
        birth_date: f(&c.birth_date)
            .map(|v| parse_birth_date(&v).map(|b| b.to_string()))
            .transpose()?,
        sex: f(&c.sex)
            .map(|v| Sex::parse_field("sex", &v).map(|s| s.code().to_owned()))
            .transpose()?,
        phone: f(&c.phone)
            .map(|v| Phone::parse(&v).map(|p| p.as_str().to_owned()))
            .transpose()?,
        commune_code: f(&c.commune_code)
            .map(|v| {
                admin_units()
                    .parse_residence_unit("commune_code", &v)
                    .map(str::to_owned)
            })
            .transpose()?,
        vaccine_code: f(&c.vaccine_code)
            .map(|v| Vaccine::parse(&v).map(|v| v.code.to_owned()))
            .transpose()?,
        dose_number: f(&c.dose_number)
            .map(|v| parse_dose_number(&v))
            .transpose()?,
        administered_at: f(&c.administered_at)
            .map(|v| parse_administered_at(&v, now))
            .transpose()?,
        lot: f(&c.lot)
            .map(|v| text::free_text("lot", &v, 64))
            .transpose()?,
    };
    if out == Correction::default() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_correction",
            "Chưa nhập trường nào cần sửa",
            "No field to correct",
        ));
    }
    Ok(out)
}

fn stale(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "stale_version",
            "Bản ghi đã được người khác thay đổi; hãy tải lại",
            "The record was changed by someone else; reload it",
        ),
        other => other.into(),
    }
}

/// Applies a commune officer's decision to one record.
pub async fn review(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: &ReviewRequest,
) -> Result<ShotRecord, ApiError> {
    caller.require(Permission::ReviewVaccinations)?;
    let reason = text::free_text("reason", &req.reason, 500)?;
    let record = load_workable(state, caller, id).await?;
    let now = OffsetDateTime::now_utc();
    let action = match req.action.as_str() {
        "link" => {
            let pid = PersonalId::parse(req.personal_id.as_deref().unwrap_or_default())?;
            let citizen = link_target(state, caller, &record, pid).await?;
            ReviewAction::Link {
                personal_id: pid,
                queue_unit: citizen.permanent.unit_code.to_owned(),
            }
        }
        "reject" => ReviewAction::Reject,
        "duplicate" => {
            let of = req
                .duplicate_of
                .ok_or_else(|| ApiError::from(ParseError::missing("duplicate_of")))?;
            load_workable(state, caller, of).await?;
            ReviewAction::Duplicate { of }
        }
        "correct" => ReviewAction::Correct(parse_correction(
            req.correction
                .as_ref()
                .unwrap_or(&CorrectionInput::default()),
            now,
        )?),
        _ => {
            return Err(ParseError::new(
                "action",
                "unknown_action",
                "Thao tác phải là link, reject, duplicate hoặc correct",
                "Action must be link, reject, duplicate or correct",
            )
            .into());
        }
    };
    let code = action.code();
    let updated = state
        .store
        .review_record(
            id,
            action,
            Change {
                actor: caller.user.username.clone(),
                reason,
                expected_version: req.version,
                at: now,
            },
        )
        .await
        .map_err(stale)?;
    let subject = updated
        .personal_id
        .or(record.personal_id)
        .map(|p| p.to_string());
    state
        .audit
        .access(
            caller,
            &format!("vaccination.review.{code}"),
            subject,
            "vaccination_review",
            Some(format!("record:{id} v{}", updated.version)),
        )
        .await?;
    Ok(updated)
}

/// A citizen a record may be linked to: one of its candidates, or anyone in the caller's area.
async fn link_target(
    state: &AppState,
    caller: &Caller,
    record: &ShotRecord,
    pid: PersonalId,
) -> Result<Citizen, ApiError> {
    if record.candidate_ids().contains(&pid) {
        return state
            .store
            .citizen(pid)
            .await?
            .ok_or_else(|| ApiError::not_found("công dân", "Citizen"));
    }
    read_citizen(state, caller, pid, "vaccination_review").await
}

#[derive(Debug, Deserialize)]
pub struct BulkItem {
    pub id: i64,
    pub version: i64,
}

#[derive(Debug, Deserialize)]
pub struct BulkRequest {
    /// `confirm_best` (link each to its best candidate) or `reject`.
    pub action: String,
    pub items: Vec<BulkItem>,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct BulkFailure {
    pub id: i64,
    pub code: String,
}

#[derive(Debug, Serialize)]
pub struct BulkOutcome {
    pub done: Vec<i64>,
    pub failed: Vec<BulkFailure>,
}

/// The same decision for many obvious records; each is applied and audited on its own.
pub async fn bulk_review(
    state: &AppState,
    caller: &Caller,
    req: &BulkRequest,
) -> Result<BulkOutcome, ApiError> {
    caller.require(Permission::ReviewVaccinations)?;
    if req.items.len() > MAX_PAGE as usize {
        return Err(ApiError::bad_request(
            "too_many",
            "Tối đa 200 bản ghi mỗi lần",
            "At most 200 records at a time",
        ));
    }
    let mut out = BulkOutcome {
        done: Vec::new(),
        failed: Vec::new(),
    };
    for item in &req.items {
        let personal_id = if req.action == "confirm_best" {
            let Some(record) = state.store.shot_record(item.id).await? else {
                out.failed.push(BulkFailure {
                    id: item.id,
                    code: "not_found".into(),
                });
                continue;
            };
            record.candidate_ids().first().map(ToString::to_string)
        } else {
            None
        };
        let single = ReviewRequest {
            action: if req.action == "confirm_best" {
                "link".into()
            } else {
                req.action.clone()
            },
            personal_id,
            duplicate_of: None,
            correction: None,
            reason: req.reason.clone(),
            version: item.version,
        };
        match review(state, caller, item.id, &single).await {
            Ok(_) => out.done.push(item.id),
            Err(e) if e.status.is_server_error() => return Err(e),
            Err(e) => out.failed.push(BulkFailure {
                id: item.id,
                code: e.code,
            }),
        }
    }
    Ok(out)
}

fn signer_commune(caller: &Caller) -> Result<&'static str, ApiError> {
    caller.require(Permission::SignVaccinations)?;
    match caller.user.jurisdiction {
        Jurisdiction::Unit(code) => Ok(code),
        Jurisdiction::National => Err(ApiError::forbidden_role()),
    }
}

/// Linked records of the signer's commune waiting for a signature (new or changed since signed).
pub async fn pending_signature(
    state: &AppState,
    caller: &Caller,
    after: i64,
    limit: u32,
) -> Result<Vec<ShotRecord>, ApiError> {
    let commune = signer_commune(caller)?;
    let records = state
        .store
        .list_records(RecordFilter {
            units: Some(vec![commune.to_owned()]),
            decisions: vec![LinkDecision::Auto, LinkDecision::Confirmed],
            unsigned_only: true,
            after_id: after,
            limit: limit.clamp(1, MAX_PAGE),
        })
        .await?;
    state
        .audit
        .access(
            caller,
            "vaccination.signing.read",
            None,
            "vaccination_signing",
            Some(format!("records:{}", records.len())),
        )
        .await?;
    Ok(records)
}

#[derive(Debug, Deserialize)]
pub struct SignRequest {
    pub items: Vec<BulkItem>,
}

#[derive(Debug, Serialize)]
pub struct SignOutcome {
    pub signed: Vec<i64>,
    /// Changed since listed, not linked, or not of this commune.
    pub skipped: Vec<i64>,
    /// New certificates issued for citizens whose certificate a correction had revoked.
    pub certificates_reissued: usize,
}

fn signing_error(e: SigningError) -> ApiError {
    match e {
        SigningError::NoKey(_) => ApiError::new(
            StatusCode::CONFLICT,
            "no_signing_key",
            "Xã chưa có khóa ký còn hiệu lực (tạo bằng vaxtrace keys commune)",
            "The commune has no valid signing key (create one with vaxtrace keys commune)",
        ),
        SigningError::Store(e) => e.into(),
        SigningError::Cert(e) => {
            tracing::error!(error = %e, "signing key unusable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "signing_unavailable",
                "Không mở được khóa ký",
                "The signing key cannot be unlocked",
            )
        }
    }
}

/// Signs a batch of record versions with the commune's key.
pub async fn sign(
    state: &AppState,
    caller: &Caller,
    req: &SignRequest,
) -> Result<SignOutcome, ApiError> {
    let commune = signer_commune(caller)?;
    if req.items.len() > MAX_PAGE as usize {
        return Err(ApiError::bad_request(
            "too_many",
            "Tối đa 200 bản ghi mỗi lần",
            "At most 200 records at a time",
        ));
    }
    let Some(passphrase) = state.config.key_passphrase.as_deref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "signing_unavailable",
            "Máy chủ chưa được cấu hình mật khẩu khóa ký",
            "The server has no signing key passphrase configured",
        ));
    };
    let now = OffsetDateTime::now_utc();
    let (key_id, key) = signing::commune_signer(state.store.as_ref(), commune, passphrase, now)
        .await
        .map_err(signing_error)?;
    let mut signatures = Vec::new();
    let mut citizens = Vec::new();
    for item in &req.items {
        match state.store.shot_record(item.id).await? {
            Some(r)
                if r.version == item.version
                    && r.decision.is_linked()
                    && r.queue_unit.as_deref() == Some(commune) =>
            {
                let signature = key
                    .sign(&r.canonical_bytes())
                    .map_err(|e| signing_error(e.into()))?;
                signatures.push(NewSignature {
                    record_id: r.id,
                    version: r.version,
                    signature,
                    signing_key_id: key_id,
                });
                citizens.extend(r.personal_id.map(|p| (r.id, p)));
            }
            _ => {}
        }
    }
    let signed = state
        .store
        .sign_records(signatures, &caller.user.username, now)
        .await?;
    let skipped: Vec<i64> = req
        .items
        .iter()
        .map(|i| i.id)
        .filter(|id| !signed.contains(id))
        .collect();
    state
        .audit
        .access(
            caller,
            "vaccination.sign",
            None,
            "vaccination_signing",
            Some(format!("signed:{} skipped:{}", signed.len(), skipped.len())),
        )
        .await?;
    let reissued = reissue_certificates(state, caller, &citizens, &signed, passphrase, now).await?;
    Ok(SignOutcome {
        signed,
        skipped,
        certificates_reissued: reissued,
    })
}

/// After signing: new certificates for citizens whose certificate a correction revoked. A
/// failure here never undoes the signatures; it is logged and the re-issue stays pending.
async fn reissue_certificates(
    state: &AppState,
    caller: &Caller,
    citizens: &[(i64, PersonalId)],
    signed: &[i64],
    passphrase: &vaxtrace_cert::SecretPassphrase,
    now: OffsetDateTime,
) -> Result<usize, ApiError> {
    let mut ids: Vec<PersonalId> = citizens
        .iter()
        .filter(|(record, _)| signed.contains(record))
        .map(|(_, p)| *p)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(0);
    }
    match crate::certificates::reissue_pending(state.store.as_ref(), ids, passphrase, now).await {
        Ok(reissued) => {
            for (id, uvci) in &reissued {
                state
                    .audit
                    .access(
                        caller,
                        "certificate.reissue",
                        Some(id.to_string()),
                        "dcc_certificate",
                        Some(uvci.clone()),
                    )
                    .await?;
            }
            Ok(reissued.len())
        }
        Err(e) => {
            tracing::error!(error = %e, "certificate re-issue after signing failed; left pending");
            Ok(0)
        }
    }
}

/// Checks one record's signature chain.
pub async fn check_signature(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<SignatureCheck, ApiError> {
    if !caller.user.role.allows(Permission::ReviewVaccinations) {
        caller.require(Permission::SignVaccinations)?;
    }
    let record = load_workable(state, caller, id).await?;
    signing::check_record(state.store.as_ref(), &record)
        .await
        .map_err(signing_error)
}

#[derive(Debug, Serialize)]
pub struct DoseView {
    pub record_id: i64,
    pub vaccine_code: String,
    pub vaccine_name: &'static str,
    pub dose_number: u8,
    #[serde(with = "time::serde::rfc3339")]
    pub administered_at: OffsetDateTime,
    pub site_code: String,
    pub lot: Option<String>,
    pub decision: LinkDecision,
    pub signed: bool,
    pub counted: bool,
}

/// The answer to "what is this citizen's status": full for health officers, colour only for
/// checkpoints and venues.
#[derive(Debug, Serialize)]
pub struct StatusView {
    pub colour: &'static str,
    pub rule_version: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// F0 and quarantine, today.
    pub health: crate::cases::HealthFlags,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
}

#[derive(Debug, Serialize)]
pub struct StatusDetails {
    pub status: Status,
    pub doses: Vec<DoseView>,
    /// Linked records not yet signed: they do not count until the commune signs them.
    pub awaiting_signature: usize,
}

/// The doses the status rules may count: linked records whose current version is signed.
/// Unsigned records are the commune's claims, not yet vouched for.
pub fn signed_doses(records: &[ShotRecord]) -> Vec<Dose> {
    records
        .iter()
        .filter(|r| r.decision.is_linked() && r.is_signed())
        .filter_map(|r| Dose::new(r.id, &r.vaccine_code, r.dose_number, r.administered_at))
        .collect()
}

/// Evaluates the versioned rules on the citizen's signed, linked records, now.
pub(crate) fn evaluate_records(records: &[ShotRecord], now: OffsetDateTime) -> Status {
    evaluate(&signed_doses(records), vietnam_day(now))
}

/// A citizen's status by personal ID.
pub async fn citizen_status(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
    purpose: &str,
) -> Result<StatusView, ApiError> {
    let now = OffsetDateTime::now_utc();
    if caller.user.role.allows(Permission::ReadCitizen) {
        read_citizen(state, caller, id, purpose).await?;
        let records = state.reader().records_for_citizen(id).await?;
        let status = evaluate_records(&records, now);
        let doses = records
            .iter()
            .filter(|r| r.decision.is_linked() || r.decision == LinkDecision::Duplicate)
            .map(|r| DoseView {
                record_id: r.id,
                vaccine_name: Vaccine::by_code(&r.vaccine_code).map_or("?", |v| v.name),
                vaccine_code: r.vaccine_code.clone(),
                dose_number: r.dose_number,
                administered_at: r.administered_at,
                site_code: r.site_code.clone(),
                lot: r.lot.clone(),
                decision: r.decision,
                signed: r.is_signed(),
                counted: status.counted.contains(&r.id),
            })
            .collect();
        let awaiting_signature = records
            .iter()
            .filter(|r| r.decision.is_linked() && !r.is_signed())
            .count();
        return Ok(StatusView {
            colour: status.colour.code(),
            rule_version: status.rule_version,
            checked_at: now,
            health: crate::cases::health_flags(state, id, true).await?,
            details: Some(StatusDetails {
                status,
                doses,
                awaiting_signature,
            }),
        });
    }
    caller.require(Permission::ReadStatusColour)?;
    let exists = state.reader().citizen(id).await?.is_some();
    state
        .audit
        .access(
            caller,
            if exists {
                "status.colour"
            } else {
                "status.colour.not_found"
            },
            Some(id.to_string()),
            purpose,
            None,
        )
        .await?;
    if !exists {
        return Err(ApiError::not_found("công dân", "Citizen"));
    }
    let status = evaluate_records(&state.reader().records_for_citizen(id).await?, now);
    Ok(StatusView {
        colour: status.colour.code(),
        rule_version: status.rule_version,
        checked_at: now,
        health: crate::cases::health_flags(state, id, false).await?,
        details: None,
    })
}

/// A citizen's status from the chip ID card's QR text.
pub async fn status_by_qr(
    state: &AppState,
    caller: &Caller,
    qr: &str,
) -> Result<StatusView, ApiError> {
    let card = ChipQr::parse(qr)?;
    citizen_status(state, caller, card.personal_id, "status_check_qr").await
}

/// Every record linked to a citizen (history page).
pub async fn history(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
) -> Result<Vec<ShotRecord>, ApiError> {
    read_citizen(state, caller, id, "vaccination_history").await?;
    Ok(state.store.records_for_citizen(id).await?)
}
