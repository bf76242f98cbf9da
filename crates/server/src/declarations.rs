//! Health and travel declarations: checked against the registry, routed to the commune police
//! inboxes, answered with a 72-hour pass; the checkpoint scan of a pass or chip ID card; and the
//! outbreak areas and checkpoints that province officers manage.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use vaxtrace_cert::pass::{PassClaims, PassTime, sign_pass, verify_pass};
use vaxtrace_domain::date::vietnam_day;
use vaxtrace_domain::{
    ChipQr, Citizen, Declaration, DeclarationInput, Jurisdiction, LifeStatus, Permission,
    admin_units,
};
use vaxtrace_store::{
    Checkpoint, InboxCount, InboxEntry, InboxFilter, NewDeclaration, NewScan, OutbreakArea,
    StoredDeclaration,
};

use crate::middleware::Caller;
use crate::services::parse_time;
use crate::signing::SigningError;
use crate::{ApiError, AppState};

/// How long a pass stays valid.
pub const PASS_HOURS: i64 = 72;
pub(crate) const PURPOSE: &str = "movement_control";

/// What a successful declaration returns.
#[derive(Debug, Serialize)]
pub struct DeclarationReceipt {
    pub declaration_id: i64,
    /// The QR code's text: `VNP1:…`.
    pub pass: String,
    pub pass_svg: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub health_risk: bool,
    pub from_outbreak: bool,
    /// How many commune police inboxes received it (residences and destination). Which ones is
    /// not said: the residences are registry data.
    pub routed_to_police: usize,
}

/// The declared fields that disagree with the registry, never the registry's values.
pub(crate) fn registry_mismatches(d: &Declaration, c: &Citizen) -> Vec<&'static str> {
    let mut out = c.identity_mismatches(&d.full_name, d.birth_date, Some(d.sex));
    if let (Some(declared), Some(registered)) = (&d.phone, &c.phone)
        && declared != registered
    {
        out.push("phone");
    }
    if d.permanent_unit
        .is_some_and(|unit| unit != c.permanent.unit_code)
    {
        out.push("permanent_commune_code");
    }
    out
}

/// Whether `unit` lies in an outbreak area in force on `day`.
fn in_outbreak(unit: &str, day: Date, areas: &[OutbreakArea]) -> bool {
    let lineage = admin_units().lineage(unit);
    areas.iter().any(|a| {
        a.starts_on <= day && day <= a.ends_on && lineage.iter().any(|u| u.code == a.unit_code)
    })
}

/// Permanent and temporary residence and destination, one entry per commune with every reason.
fn routes(citizen: &Citizen, destination: &str) -> Vec<(String, String)> {
    let mut by_unit: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    by_unit
        .entry(citizen.permanent.unit_code)
        .or_default()
        .push("permanent");
    if let Some(t) = &citizen.temporary {
        by_unit.entry(t.unit_code).or_default().push("temporary");
    }
    by_unit.entry(destination).or_default().push("destination");
    by_unit
        .into_iter()
        .map(|(unit, why)| (unit.to_owned(), why.join(",")))
        .collect()
}

/// The active pass signer, unlocked (cached), or a 503 naming what is missing.
pub(crate) async fn pass_signer(
    state: &AppState,
) -> Result<std::sync::Arc<vaxtrace_cert::SigningKey>, ApiError> {
    let Some(passphrase) = state.config.key_passphrase.as_deref() else {
        return Err(pass_unavailable(&SigningError::NoKey("VN".into())));
    };
    state
        .passes
        .signer(state.store.as_ref(), passphrase)
        .await
        .map_err(|e| pass_unavailable(&e))
}

pub(crate) fn pass_unavailable(e: &SigningError) -> ApiError {
    tracing::error!(error = %e, "pass signer unavailable");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "pass_signing_unavailable",
        "Chưa có khóa ký thẻ đi lại đang hoạt động (vaxtrace keys pass-signer)",
        "No active travel pass signer (vaxtrace keys pass-signer)",
    )
}

/// The registry's citizen when the declared identity agrees with it; otherwise a refusal that
/// names the disagreeing fields (audited), never the registry's values.
async fn registered(
    state: &AppState,
    caller: &Caller,
    declaration: &Declaration,
) -> Result<Citizen, ApiError> {
    let citizen = state.store.citizen(declaration.personal_id).await?;
    let mismatched = match &citizen {
        None => vec!["personal_id"],
        Some(c) if c.status == LifeStatus::Deceased => vec!["personal_id"],
        Some(c) => registry_mismatches(declaration, c),
    };
    if let Some(citizen) = citizen.filter(|_| mismatched.is_empty()) {
        return Ok(citizen);
    }
    state
        .audit
        .access(
            caller,
            "declaration.refused",
            Some(declaration.personal_id.to_string()),
            PURPOSE,
            Some(format!("mismatch:{}", mismatched.join(","))),
        )
        .await?;
    Err(ApiError::invalid_field(
        mismatched[0],
        "registry_mismatch",
        &format!(
            "Thông tin không khớp với Cơ sở dữ liệu quốc gia về dân cư: {}",
            mismatched.join(", ")
        ),
        &format!(
            "Does not match the national population registry: {}",
            mismatched.join(", ")
        ),
    ))
}

/// `POST /api/v1/declarations`.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    input: &DeclarationInput,
) -> Result<DeclarationReceipt, ApiError> {
    let now = OffsetDateTime::now_utc();
    let declaration = input.parse(vietnam_day(now))?;
    crate::citizen_home::may_act_for(state, caller, declaration.personal_id).await?;
    let subject = Some(declaration.personal_id.to_string());
    let citizen = registered(state, caller, &declaration).await?;
    let key = pass_signer(state).await?;

    let expires_at = now + Duration::hours(PASS_HOURS);
    let record = new_declaration(
        state.store.as_ref(),
        &citizen,
        &declaration,
        Provenance {
            declared_by: &caller.user.username,
            source: "vaxtrace",
            source_ref: None,
            at: now,
        },
        expires_at,
    )
    .await?;
    let (subject_ref, from_outbreak) = (record.subject_ref, record.from_outbreak);
    let routed = record.routes.len();
    let id = state.store.insert_declaration(record).await?;
    let (pass, pass_svg) = signed_pass(&key, id, subject_ref, now, expires_at)?;
    state
        .audit
        .access(
            caller,
            "declaration.submit",
            subject,
            PURPOSE,
            Some(id.to_string()),
        )
        .await?;
    Ok(DeclarationReceipt {
        declaration_id: id,
        pass,
        pass_svg,
        expires_at,
        health_risk: declaration.health_risk(),
        from_outbreak,
        routed_to_police: routed,
    })
}

/// Who stated a declaration, where it came from, and when.
pub(crate) struct Provenance<'a> {
    pub(crate) declared_by: &'a str,
    pub(crate) source: &'a str,
    pub(crate) source_ref: Option<String>,
    pub(crate) at: OffsetDateTime,
}

/// The row to store for a checked declaration of a registered citizen: outbreak flag, routes,
/// a fresh random subject reference.
pub(crate) async fn new_declaration(
    store: &dyn vaxtrace_store::Store,
    citizen: &Citizen,
    declaration: &Declaration,
    from: Provenance<'_>,
    pass_expires_at: OffsetDateTime,
) -> Result<NewDeclaration, vaxtrace_store::StoreError> {
    let areas = store.outbreak_areas(Some(declaration.travel_date)).await?;
    let from_outbreak = declaration.visited_outbreak_area
        || in_outbreak(
            declaration.origin.unit_code,
            declaration.travel_date,
            &areas,
        );
    let mut subject_ref = [0u8; 8];
    rand::rng().fill_bytes(&mut subject_ref);
    let body = serde_json::to_string(declaration)
        .map_err(|e| vaxtrace_store::StoreError::Database(format!("declaration encoding: {e}")))?;
    Ok(NewDeclaration {
        personal_id: citizen.personal_id,
        subject_ref,
        declared_by: from.declared_by.to_owned(),
        source: from.source.to_owned(),
        source_ref: from.source_ref,
        submitted_at: from.at,
        body,
        health_risk: declaration.health_risk(),
        from_outbreak,
        origin_unit: declaration.origin.unit_code.to_owned(),
        destination_unit: declaration.destination.unit_code.to_owned(),
        travel_date: declaration.travel_date,
        pass_expires_at,
        routes: routes(citizen, declaration.destination.unit_code),
    })
}

/// A pass for a stored declaration, and its QR code as SVG.
pub(crate) fn signed_pass(
    key: &vaxtrace_cert::SigningKey,
    declaration_id: i64,
    subject: [u8; 8],
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(String, String), ApiError> {
    let claims = PassClaims {
        declaration_id,
        subject,
        issued_at: now.unix_timestamp(),
        expires_at: expires_at.unix_timestamp(),
    };
    let pass = sign_pass(&claims, key).map_err(|e| {
        tracing::error!(error = %e, "pass signing failed");
        ApiError::internal()
    })?;
    let svg = crate::certificates::qr_svg(&pass).map_err(|_| ApiError::internal())?;
    Ok((pass, svg))
}

#[derive(Debug, Deserialize)]
pub struct ScanRequest {
    pub checkpoint: String,
    /// A pass QR text (`VNP1:…`), or
    pub pass: Option<String>,
    /// the chip ID card's QR text: the latest valid declaration is looked up.
    pub chip_qr: Option<String>,
}

/// What the officer at the checkpoint sees.
#[derive(Debug, Default, Serialize)]
pub struct ScanResult {
    /// `valid`, `expired`, `revoked`, `forged`, `not_yet_valid`, `no_declaration`, or
    /// `card_mismatch` (a chip ID card whose text disagrees with the registry).
    pub verdict: &'static str,
    pub declaration_id: Option<i64>,
    pub full_name: Option<String>,
    pub birth_year: Option<i32>,
    /// The last four digits of the personal ID, to compare with the card.
    pub id_hint: Option<String>,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub travel_date: Option<String>,
    /// `green`, `yellow` or `none`.
    pub vaccination: Option<String>,
    pub health_risk: Option<bool>,
    pub from_outbreak: Option<bool>,
    /// Under a quarantine order today.
    pub quarantine: Option<bool>,
    /// A confirmed case not yet recovered.
    pub f0: Option<bool>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl ScanResult {
    fn only(verdict: &'static str) -> Self {
        Self {
            verdict,
            ..Self::default()
        }
    }
}

/// "Phường Vĩnh Thanh Vân, Thành phố Rạch Giá, Tỉnh Kiên Giang".
fn unit_name(code: &str) -> String {
    let names: Vec<&str> = admin_units()
        .lineage(code)
        .iter()
        .map(|u| u.full_name)
        .collect();
    if names.is_empty() {
        code.to_owned()
    } else {
        names.join(", ")
    }
}

/// The verdict on a pass, and its declaration when the pass is genuine.
pub(crate) async fn judge_pass(
    state: &AppState,
    text: &str,
    now: OffsetDateTime,
) -> Result<(&'static str, Option<StoredDeclaration>), ApiError> {
    let keys = state
        .passes
        .public_keys(state.store.as_ref())
        .await
        .map_err(|e| pass_unavailable(&e))?;
    let Ok(claims) = verify_pass(text, &|kid| keys.get(kid).cloned()) else {
        return Ok(("forged", None));
    };
    let Some(declaration) = state.store.declaration(claims.declaration_id).await? else {
        // Signed by us, but deleted by retention (or never stored): nothing to vouch for.
        return Ok(("expired", None));
    };
    if declaration.subject_ref != claims.subject {
        return Ok(("forged", None));
    }
    let verdict = if declaration.revoked_at.is_some() {
        "revoked"
    } else {
        match claims.window(now.unix_timestamp()) {
            PassTime::Valid => "valid",
            PassTime::Expired => "expired",
            PassTime::NotYetValid => "not_yet_valid",
        }
    };
    Ok((verdict, Some(declaration)))
}

/// The verdict on a chip ID card's QR text. The text is unsigned, so only a card that agrees with
/// the registry is looked up.
async fn judge_card(state: &AppState, qr: &str, now: OffsetDateTime) -> Result<Judged, ApiError> {
    let card = ChipQr::parse(qr)?;
    let citizen = state.store.citizen(card.personal_id).await?.filter(|c| {
        c.identity_mismatches(
            &card.full_name,
            vaxtrace_domain::BirthDate::Full(card.birth_date),
            Some(card.sex),
        )
        .is_empty()
    });
    if citizen.is_none() {
        return Ok(Judged {
            verdict: "card_mismatch",
            declaration: None,
            personal_id: card.personal_id,
            citizen: None,
        });
    }
    let declaration = state
        .store
        .latest_valid_declaration(card.personal_id, now)
        .await?;
    Ok(Judged {
        verdict: if declaration.is_some() {
            "valid"
        } else {
            "no_declaration"
        },
        declaration,
        personal_id: card.personal_id,
        citizen,
    })
}

/// A chip card's verdict, with the registry record it was checked against.
struct Judged {
    verdict: &'static str,
    declaration: Option<StoredDeclaration>,
    personal_id: vaxtrace_domain::PersonalId,
    citizen: Option<Citizen>,
}

/// `POST /api/v1/checkpoints/scan`.
pub async fn scan(
    state: &AppState,
    caller: &Caller,
    req: &ScanRequest,
) -> Result<ScanResult, ApiError> {
    caller.require(Permission::ScanCheckpoint)?;
    let Some(checkpoint) = state.store.checkpoint(req.checkpoint.trim()).await? else {
        return Err(ApiError::not_found("chốt kiểm soát", "Checkpoint"));
    };
    if !caller.user.jurisdiction.contains(&checkpoint.commune_code) {
        return Err(ApiError::outside_area(
            "Chốt kiểm soát không thuộc địa bàn của bạn",
            "The checkpoint is outside your jurisdiction",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let (method, verdict, declaration, card_id, read) = match (&req.pass, &req.chip_qr) {
        (Some(pass), None) => {
            let (verdict, d) = judge_pass(state, pass, now).await?;
            ("pass", verdict, d, None, None)
        }
        (None, Some(qr)) => {
            let j = judge_card(state, qr, now).await?;
            (
                "chip_qr",
                j.verdict,
                j.declaration,
                Some(j.personal_id),
                j.citizen,
            )
        }
        _ => {
            return Err(ApiError::bad_request(
                "pass_or_card",
                "Gửi mã thẻ đi lại hoặc mã QR trên CCCD, một trong hai",
                "Send either a pass or a chip ID card QR text",
            ));
        }
    };
    let personal_id = declaration.as_ref().map(|d| d.personal_id).or(card_id);
    state
        .store
        .record_scan(NewScan {
            checkpoint_code: checkpoint.code.clone(),
            officer: caller.user.username.clone(),
            personal_id,
            declaration_id: declaration.as_ref().map(|d| d.id),
            method,
            verdict: verdict.to_owned(),
            scanned_at: now,
        })
        .await?;
    state
        .audit
        .access(
            caller,
            "checkpoint.scan",
            personal_id.map(|p| p.to_string()),
            PURPOSE,
            Some(format!("{} {verdict}", checkpoint.code)),
        )
        .await?;
    let Some(d) = declaration else {
        return Ok(ScanResult::only(verdict));
    };
    // A card's check has read the citizen already.
    let citizen = match read {
        Some(c) => Some(c),
        None => state.store.citizen(d.personal_id).await?,
    };
    let colour = state
        .store
        .citizen_status(d.personal_id)
        .await?
        .map_or_else(|| "none".to_owned(), |s| s.colour);
    let flags = crate::cases::health_flags(state, d.personal_id, false).await?;
    let id = d.personal_id.to_string();
    Ok(ScanResult {
        verdict,
        declaration_id: Some(d.id),
        full_name: citizen.as_ref().map(|c| c.full_name.as_str().to_owned()),
        birth_year: citizen.as_ref().map(|c| c.birth_date.year()),
        id_hint: Some(id[id.len() - 4..].to_owned()),
        origin: Some(unit_name(&d.origin_unit)),
        destination: Some(unit_name(&d.destination_unit)),
        travel_date: Some(d.travel_date.clone()),
        vaccination: Some(colour),
        health_risk: Some(d.health_risk),
        from_outbreak: Some(d.from_outbreak),
        quarantine: Some(flags.quarantined),
        f0: Some(flags.f0),
        expires_at: Some(d.pass_expires_at),
    })
}

/// The commune whose inbox the caller reads.
fn own_commune(caller: &Caller) -> Result<&'static str, ApiError> {
    caller.require(Permission::ReadDeclarationInbox)?;
    match caller.user.jurisdiction {
        Jurisdiction::Unit(code) if code.len() == 5 => Ok(code),
        _ => Err(ApiError::forbidden_role()),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct InboxQuery {
    /// RFC 3339.
    pub from: Option<String>,
    pub to: Option<String>,
    pub origin_province: Option<String>,
    #[serde(default)]
    pub risk: bool,
    #[serde(default)]
    pub outbreak: bool,
    #[serde(default)]
    pub unread: bool,
    #[serde(default)]
    pub before: i64,
    pub limit: Option<u32>,
}

/// One inbox line: the declaration as the police follow it up.
#[derive(Debug, Serialize)]
pub struct InboxView {
    #[serde(flatten)]
    pub entry: InboxEntry,
    pub details: serde_json::Value,
    pub origin_name: String,
    pub destination_name: String,
}

const MAX_PAGE: u32 = 200;

/// `GET /api/v1/declarations/inbox`.
pub async fn inbox(
    state: &AppState,
    caller: &Caller,
    q: &InboxQuery,
) -> Result<Vec<InboxView>, ApiError> {
    let commune = own_commune(caller)?;
    if let Some(p) = &q.origin_province
        && !(p.len() == 2 && admin_units().get(p).is_some())
    {
        return Err(ApiError::invalid_field(
            "origin_province",
            "unknown_province",
            "Mã tỉnh không tồn tại",
            "Unknown province code",
        ));
    }
    let entries = state
        .store
        .inbox(InboxFilter {
            commune: commune.to_owned(),
            from: parse_time("from", q.from.as_deref())?,
            to: parse_time("to", q.to.as_deref())?,
            origin_province: q.origin_province.clone(),
            health_risk_only: q.risk,
            from_outbreak_only: q.outbreak,
            unacknowledged_only: q.unread,
            before_id: q.before.max(0),
            limit: q.limit.unwrap_or(50).clamp(1, MAX_PAGE),
        })
        .await?;
    for e in &entries {
        state
            .audit
            .access(
                caller,
                "declaration.inbox.read",
                Some(e.declaration.personal_id.to_string()),
                PURPOSE,
                Some(e.declaration.id.to_string()),
            )
            .await?;
    }
    Ok(entries
        .into_iter()
        .map(|entry| InboxView {
            details: serde_json::from_str(&entry.declaration.body).unwrap_or_default(),
            origin_name: unit_name(&entry.declaration.origin_unit),
            destination_name: unit_name(&entry.declaration.destination_unit),
            entry,
        })
        .collect())
}

#[derive(Debug, Deserialize)]
pub struct AckRequest {
    pub ids: Vec<i64>,
}

/// `POST /api/v1/declarations/inbox/ack`.
pub async fn acknowledge(
    state: &AppState,
    caller: &Caller,
    req: &AckRequest,
) -> Result<serde_json::Value, ApiError> {
    let commune = own_commune(caller)?;
    if req.ids.is_empty() || req.ids.len() > MAX_PAGE as usize {
        return Err(ApiError::bad_request(
            "invalid_ids",
            "Cần từ 1 đến 200 tờ khai",
            "Between 1 and 200 declarations",
        ));
    }
    let changed = state
        .store
        .acknowledge(
            commune,
            req.ids.clone(),
            &caller.user.username,
            OffsetDateTime::now_utc(),
        )
        .await?;
    state
        .audit
        .access(
            caller,
            "declaration.inbox.ack",
            None,
            PURPOSE,
            Some(format!("{changed} of {}", req.ids.len())),
        )
        .await?;
    Ok(serde_json::json!({ "acknowledged": changed }))
}

#[derive(Debug, Deserialize)]
pub struct CountsQuery {
    /// `YYYY-MM-DD` (Vietnam days); default the last 7 days.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `GET /api/v1/declarations/counts`: per commune of the caller's area, no personal data.
pub async fn counts(
    state: &AppState,
    caller: &Caller,
    q: &CountsQuery,
) -> Result<Vec<InboxCount>, ApiError> {
    caller.require(Permission::ReadMovementCounts)?;
    let day = |field: &'static str, raw: &Option<String>, default: Date| match raw
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        None => Ok::<_, ApiError>(default),
        Some(s) => Ok(vaxtrace_domain::date::parse_day(field, s)?),
    };
    let today = vietnam_day(OffsetDateTime::now_utc());
    let from = day("from", &q.from, today - Duration::days(6))?;
    let to = day("to", &q.to, today)?;
    let (start, _) = vaxtrace_domain::date::vietnam_day_range(from);
    let (_, end) = vaxtrace_domain::date::vietnam_day_range(to);
    let communes = match caller.user.jurisdiction {
        Jurisdiction::National => None,
        Jurisdiction::Unit(code) => Some(communes_within(code)),
    };
    Ok(state.store.inbox_counts(communes, start, end).await?)
}

/// Every commune (or communeless island district) within a unit, the unit itself included.
fn communes_within(code: &str) -> Vec<String> {
    let units = admin_units();
    let mut out = vec![code.to_owned()];
    let mut frontier = vec![code];
    while let Some(unit) = frontier.pop() {
        for child in units.children(unit) {
            out.push(child.code.to_owned());
            frontier.push(child.code);
        }
    }
    out
}

/// `POST /api/v1/declarations/{id}/revoke`: a province officer of the journey's origin or
/// destination withdraws a declaration (false data, a case found); its pass stops at once.
pub async fn revoke_declaration(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<serde_json::Value, ApiError> {
    caller.require(Permission::ManageMovementControl)?;
    let Some(declaration) = state.store.declaration(id).await? else {
        return Err(ApiError::not_found("tờ khai", "Declaration"));
    };
    let j = caller.user.jurisdiction;
    if !(j.contains(&declaration.origin_unit) || j.contains(&declaration.destination_unit)) {
        return Err(ApiError::outside_area(
            "Hành trình không qua địa bàn của bạn",
            "The journey is outside your jurisdiction",
        ));
    }
    let revoked = state
        .store
        .revoke_declaration(id, OffsetDateTime::now_utc())
        .await?;
    state
        .audit
        .access(
            caller,
            "declaration.revoke",
            Some(declaration.personal_id.to_string()),
            PURPOSE,
            Some(id.to_string()),
        )
        .await?;
    Ok(serde_json::json!({ "declaration_id": id, "revoked": revoked }))
}

#[derive(Debug, Deserialize)]
pub struct OutbreakRequest {
    pub unit_code: String,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    pub ends_on: String,
}

/// `POST /api/v1/outbreak-areas`.
pub async fn add_outbreak_area(
    state: &AppState,
    caller: &Caller,
    req: &OutbreakRequest,
) -> Result<OutbreakArea, ApiError> {
    caller.require(Permission::ManageMovementControl)?;
    let code = req.unit_code.trim();
    let Some(unit) = admin_units().get(code) else {
        return Err(ApiError::invalid_field(
            "unit_code",
            "unknown_unit",
            "Mã đơn vị hành chính không tồn tại",
            "Unknown administrative unit",
        ));
    };
    if !caller.user.jurisdiction.contains(unit.code) {
        return Err(ApiError::outside_area(
            "Đơn vị không thuộc địa bàn của bạn",
            "The unit is outside your jurisdiction",
        ));
    }
    let parse = |field: &'static str, raw: &str| vaxtrace_domain::date::parse_day(field, raw);
    let (starts_on, ends_on) = (
        parse("starts_on", &req.starts_on)?,
        parse("ends_on", &req.ends_on)?,
    );
    if ends_on < starts_on || ends_on - starts_on > Duration::days(366) {
        return Err(ApiError::invalid_field(
            "ends_on",
            "invalid_period",
            "Thời gian không hợp lệ (tối đa 1 năm)",
            "Invalid period (at most a year)",
        ));
    }
    let area = OutbreakArea {
        unit_code: unit.code.to_owned(),
        starts_on,
        ends_on,
        declared_by: caller.user.username.clone(),
    };
    state
        .store
        .add_outbreak_area(area.clone(), OffsetDateTime::now_utc())
        .await?;
    state
        .audit
        .access(
            caller,
            "outbreak_area.add",
            None,
            PURPOSE,
            Some(format!("{} {starts_on}..{ends_on}", unit.code)),
        )
        .await?;
    Ok(area)
}

#[derive(Debug, Deserialize)]
pub struct CheckpointRequest {
    pub code: String,
    pub name: String,
    pub commune_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// `POST /api/v1/checkpoints`.
pub async fn add_checkpoint(
    state: &AppState,
    caller: &Caller,
    req: &CheckpointRequest,
) -> Result<Checkpoint, ApiError> {
    caller.require(Permission::ManageMovementControl)?;
    let code = req.code.trim();
    if code.is_empty()
        || code.len() > 32
        || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::invalid_field(
            "code",
            "invalid_code",
            "Mã chốt: chữ, số và '-', tối đa 32",
            "Checkpoint code: letters, digits and '-', at most 32",
        ));
    }
    let name = vaxtrace_domain::text::free_text("name", &req.name, 120)?;
    let commune = admin_units().parse_residence_unit("commune_code", &req.commune_code)?;
    let existing = state.store.checkpoint(code).await?;
    let moves_a_foreign_one = existing
        .as_ref()
        .is_some_and(|c| !caller.user.jurisdiction.contains(&c.commune_code));
    if moves_a_foreign_one || !caller.user.jurisdiction.contains(commune) {
        return Err(ApiError::outside_area(
            "Xã/phường không thuộc địa bàn của bạn",
            "The commune is outside your jurisdiction",
        ));
    }
    let valid = |v: Option<f64>, max: f64| v.is_none_or(|v| v.is_finite() && v.abs() <= max);
    if !valid(req.latitude, 90.0) || !valid(req.longitude, 180.0) {
        return Err(ApiError::invalid_field(
            "latitude",
            "invalid_position",
            "Tọa độ không hợp lệ",
            "Invalid coordinates",
        ));
    }
    let checkpoint = Checkpoint {
        code: code.to_owned(),
        name,
        commune_code: commune.to_owned(),
        latitude: req.latitude,
        longitude: req.longitude,
    };
    state.store.upsert_checkpoint(checkpoint.clone()).await?;
    state
        .audit
        .access(
            caller,
            "checkpoint.register",
            None,
            PURPOSE,
            Some(checkpoint.code.clone()),
        )
        .await?;
    Ok(checkpoint)
}

/// Deletes movement data older than `days`, recording the counts in the audit log.
pub async fn purge_expired(
    state: &AppState,
    days: u32,
) -> Result<(vaxtrace_store::Purged, vaxtrace_store::CheckinPurge), ApiError> {
    let cutoff = OffsetDateTime::now_utc() - Duration::days(i64::from(days));
    let purged = state.store.purge_movement_data(cutoff).await?;
    let checkins = state.store.purge_checkins(cutoff.unix_timestamp()).await?;
    // Expired sessions, spent one-time codes and old failed logins go on the same schedule.
    state
        .store
        .purge_expired_sessions(OffsetDateTime::now_utc())
        .await?;
    // The next week's check-in partitions exist before their first row arrives.
    let today = vaxtrace_store::day_of(OffsetDateTime::now_utc().unix_timestamp());
    state
        .store
        .prepare_checkin_partitions(today, today + 7)
        .await?;
    state
        .audit
        .record(vaxtrace_store::AuditEntry {
            at: OffsetDateTime::now_utc(),
            actor: "system".into(),
            role: "system".into(),
            action: "retention.purge".into(),
            subject: None,
            purpose: "retention".into(),
            detail: Some(format!(
                "older than {days} days: {} declarations, {} inbox entries, {} scans, \
                 {} check-in partitions and {} check-ins",
                purged.declarations,
                purged.inbox_entries,
                purged.scans,
                checkins.partitions_dropped,
                checkins.rows_deleted
            )),
        })
        .await?;
    Ok((purged, checkins))
}

/// Purges expired movement data at start and then every hour, for as long as the server runs.
pub async fn retention_loop(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_hours(1));
    loop {
        tick.tick().await;
        match purge_expired(&state, state.config.movement_retention_days).await {
            Ok((p, c)) if p.declarations + p.scans + c.rows_deleted + c.partitions_dropped > 0 => {
                tracing::info!(
                    declarations = p.declarations,
                    scans = p.scans,
                    checkin_partitions = c.partitions_dropped,
                    checkins = c.rows_deleted,
                    "retention purge"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(code = %e.code, "retention purge failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communes_within_a_district_include_its_communes() {
        let within = communes_within("001");
        assert!(within.contains(&"00001".to_owned()));
        for commune in &within[1..] {
            assert!(
                admin_units()
                    .lineage(commune)
                    .iter()
                    .any(|u| u.code == "001")
            );
        }
        assert_eq!(communes_within("00001"), ["00001"]);
    }

    #[test]
    fn outbreak_areas_cover_the_units_below_them() {
        let area = |code: &str| OutbreakArea {
            unit_code: code.into(),
            starts_on: time::macros::date!(2021 - 08 - 01),
            ends_on: time::macros::date!(2021 - 08 - 31),
            declared_by: "x".into(),
        };
        let day = time::macros::date!(2021 - 08 - 15);
        assert!(in_outbreak("30730", day, &[area("91")]));
        assert!(in_outbreak("30730", day, &[area("30730")]));
        assert!(!in_outbreak("30730", day, &[area("01")]));
        assert!(!in_outbreak(
            "30730",
            time::macros::date!(2021 - 09 - 01),
            &[area("91")]
        ));
    }
}
