//! The citizen app's history and privacy pages, and "report an error in my vaccination record".

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vaxtrace_domain::{PersonalId, Role, Vaccine, admin_units};
use vaxtrace_store::{StoredCorrectionRequest, StoredTest};

use crate::citizen_home::{PURPOSE, managed};
use crate::middleware::Caller;
use crate::services::from_unix_seconds;
use crate::{ApiError, AppState};

#[derive(Debug, Serialize)]
pub struct DeclarationItem {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub declared_at: OffsetDateTime,
    pub travel_date: String,
    pub origin: String,
    pub destination: String,
    pub source: String,
    pub revoked: bool,
}

#[derive(Debug, Serialize)]
pub struct CheckinItem {
    pub venue_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_in_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

#[derive(Debug, Serialize)]
pub struct ScanItem {
    pub checkpoint_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub scanned_at: OffsetDateTime,
    pub verdict: String,
}

#[derive(Debug, Serialize)]
pub struct VaccinationItem {
    pub id: i64,
    pub dose_number: u8,
    pub vaccine_code: String,
    pub vaccine_name: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub administered_at: OffsetDateTime,
    pub site_code: String,
    pub decision: vaxtrace_store::LinkDecision,
    pub signed: bool,
}

/// A result as its person sees it: who typed it in is not theirs to know.
#[derive(Debug, Serialize)]
pub struct TestItem {
    pub kind: String,
    pub result: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sampled_at: OffsetDateTime,
    pub lab: String,
}

fn test_item(t: StoredTest) -> TestItem {
    TestItem {
        kind: t.kind,
        result: t.result,
        sampled_at: t.sampled_at,
        lab: t.lab,
    }
}

#[derive(Debug, Serialize)]
pub struct CorrectionItem {
    pub id: i64,
    pub vaccination_id: i64,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub filed_at: OffsetDateTime,
    pub handled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub handled_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize)]
pub struct History {
    pub declarations: Vec<DeclarationItem>,
    pub checkins: Vec<CheckinItem>,
    pub scans: Vec<ScanItem>,
    pub vaccinations: Vec<VaccinationItem>,
    pub tests: Vec<TestItem>,
    pub corrections: Vec<CorrectionItem>,
}

fn place(code: &str) -> String {
    admin_units()
        .get(code)
        .map_or_else(|| code.to_owned(), |u| u.full_name.to_owned())
}

/// Everything of one person's history, unaudited (the callers audit).
async fn gather(state: &AppState, id: PersonalId) -> Result<History, ApiError> {
    let now = OffsetDateTime::now_utc();
    let declarations = state
        .store
        .declarations_for_citizen(id)
        .await?
        .into_iter()
        .map(|d| DeclarationItem {
            id: d.id,
            declared_at: d.submitted_at,
            travel_date: d.travel_date,
            origin: place(&d.origin_unit),
            destination: place(&d.destination_unit),
            source: d.source,
            revoked: d.revoked_at.is_some(),
        })
        .collect();
    let window = i64::from(state.config.movement_retention_days) * 86_400;
    let stays = state
        .store
        .stays_of_people(vec![(
            id,
            now.unix_timestamp() - window,
            now.unix_timestamp(),
        )])
        .await?;
    let mut venues = HashMap::new();
    let mut checkins = Vec::with_capacity(stays.len());
    for stay in stays.into_iter().rev() {
        if let std::collections::hash_map::Entry::Vacant(slot) = venues.entry(stay.venue_id) {
            let name = state.store.venue(stay.venue_id).await?.map(|v| v.name);
            slot.insert(name.unwrap_or_default());
        }
        checkins.push(CheckinItem {
            venue_name: venues[&stay.venue_id].clone(),
            checked_in_at: from_unix_seconds(stay.start),
            until: from_unix_seconds(stay.end),
        });
    }
    let checkpoints: HashMap<_, _> = state
        .store
        .checkpoints()
        .await?
        .into_iter()
        .map(|c| (c.code, c.name))
        .collect();
    let scans = state
        .store
        .scans_for_citizen(id)
        .await?
        .into_iter()
        .map(|s| ScanItem {
            checkpoint_name: checkpoints
                .get(&s.checkpoint_code)
                .cloned()
                .unwrap_or(s.checkpoint_code),
            scanned_at: s.scanned_at,
            verdict: s.verdict,
        })
        .collect();
    let records = state.store.records_for_citizen(id).await?;
    let mut corrections = Vec::new();
    for r in &records {
        for c in state.store.correction_requests(r.id).await? {
            corrections.push(correction_item(c));
        }
    }
    corrections.sort_by_key(|c| std::cmp::Reverse(c.filed_at));
    let vaccinations = records
        .into_iter()
        .map(|r| VaccinationItem {
            id: r.id,
            dose_number: r.dose_number,
            vaccine_name: Vaccine::by_code(&r.vaccine_code).map_or("?", |v| v.name),
            signed: r.is_signed(),
            vaccine_code: r.vaccine_code,
            administered_at: r.administered_at,
            site_code: r.site_code,
            decision: r.decision,
        })
        .collect();
    Ok(History {
        declarations,
        checkins,
        scans,
        vaccinations,
        tests: state
            .store
            .tests_of(id)
            .await?
            .into_iter()
            .map(test_item)
            .collect(),
        corrections,
    })
}

fn correction_item(c: StoredCorrectionRequest) -> CorrectionItem {
    CorrectionItem {
        id: c.id,
        vaccination_id: c.record_id,
        message: c.message,
        filed_at: c.requested_at,
        handled: c.handled_at.is_some(),
        handled_at: c.handled_at,
    }
}

/// `GET /api/v1/me/history?person=`.
pub async fn history(
    state: &AppState,
    caller: &Caller,
    person: Option<&str>,
) -> Result<History, ApiError> {
    let m = managed(state, caller, person).await?;
    let id = m.citizen.personal_id;
    let history = gather(state, id).await?;
    state
        .audit
        .access(
            caller,
            "citizen_app.history",
            Some(id.to_string()),
            PURPOSE,
            None,
        )
        .await?;
    Ok(history)
}

#[derive(Debug, Deserialize)]
pub struct MyCorrectionRequest {
    #[serde(default)]
    pub person: Option<String>,
    pub vaccination_id: i64,
    pub message: String,
}

const MAX_MESSAGE_CHARS: usize = 1_000;
const MAX_OPEN_REQUESTS: usize = 3;

/// `POST /api/v1/me/corrections`: goes to the review queue of the record's commune, and is
/// handled by the record's next review, as one filed at the commune office.
pub async fn file_correction(
    state: &AppState,
    caller: &Caller,
    req: &MyCorrectionRequest,
) -> Result<CorrectionItem, ApiError> {
    let m = managed(state, caller, req.person.as_deref()).await?;
    let id = m.citizen.personal_id;
    let message = vaxtrace_domain::text::free_text("message", &req.message, MAX_MESSAGE_CHARS)?;
    let records = state.store.records_for_citizen(id).await?;
    if !records.iter().any(|r| r.id == req.vaccination_id) {
        return Err(ApiError::not_found(
            "mũi tiêm của bạn",
            "Your vaccination record",
        ));
    }
    // One record's open requests are few: the queue is the commune's, not a message board.
    let open = state
        .store
        .correction_requests(req.vaccination_id)
        .await?
        .iter()
        .filter(|c| c.handled_at.is_none())
        .count();
    if open >= MAX_OPEN_REQUESTS {
        return Err(ApiError::invalid_field(
            "vaccination_id",
            "too_many_requests",
            "Mũi tiêm này đã có yêu cầu đang chờ xã xử lý",
            "This record already has requests waiting for the commune",
        ));
    }
    let subject = Some(id.to_string());
    let stored = crate::corrections::store_request(
        state,
        caller,
        req.vaccination_id,
        message,
        subject,
        PURPOSE,
    )
    .await?;
    Ok(correction_item(stored))
}

#[derive(Debug, Serialize)]
pub struct Holding {
    pub kind: &'static str,
    pub label_vi: &'static str,
    pub label_en: &'static str,
    pub count: usize,
    pub retention_vi: String,
    pub retention_en: String,
}

#[derive(Debug, Serialize)]
pub struct Access {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The officer's role and unit, never their name.
    pub role: String,
    pub role_label_vi: &'static str,
    pub unit: Option<String>,
    pub unit_name: Option<String>,
    pub action: String,
    pub purpose: String,
}

#[derive(Debug, Serialize)]
pub struct Privacy {
    pub holdings: Vec<Holding>,
    /// Everyone else's accesses (officers, a household's account holder), newest first.
    pub accesses: Vec<Access>,
    /// Entries of this account's own use and of sign-in attempts for this person.
    pub own_uses: usize,
}

/// Accesses shown, newest first.
const MAX_ACCESSES: usize = 200;

fn role_label(code: &str) -> &'static str {
    match code {
        "public" => "Đăng nhập ứng dụng",
        other => Role::ALL
            .into_iter()
            .find(|r| r.code() == other)
            .map_or("Hệ thống", Role::label_vi),
    }
}

/// `GET /api/v1/me/privacy?person=`: what is held, for how long, and who looked and why.
pub async fn privacy(
    state: &AppState,
    caller: &Caller,
    person: Option<&str>,
) -> Result<Privacy, ApiError> {
    let m = managed(state, caller, person).await?;
    let id = m.citizen.personal_id;
    let h = gather(state, id).await?;
    let certificates = state.store.certificates_for_citizen(id).await?.len();
    let insurance = usize::from(state.store.insurance_card(id).await?.is_some());
    let counts = Counts {
        vaccinations: h.vaccinations.len(),
        certificates,
        tests: h.tests.len(),
        declarations: h.declarations.len(),
        checkins: h.checkins.len(),
        scans: h.scans.len(),
        insurance,
    };
    let holdings = holdings(&counts, state.config.movement_retention_days);
    let (accesses, own_uses) = accesses(state, caller, id).await?;
    state
        .audit
        .access(
            caller,
            "citizen_app.privacy",
            Some(id.to_string()),
            PURPOSE,
            None,
        )
        .await?;
    Ok(Privacy {
        holdings,
        accesses,
        own_uses,
    })
}

/// How many of each kind one person has.
struct Counts {
    vaccinations: usize,
    certificates: usize,
    tests: usize,
    declarations: usize,
    checkins: usize,
    scans: usize,
    insurance: usize,
}

/// Kinds of data held, with how long each is kept.
fn holdings(c: &Counts, retention_days: u32) -> Vec<Holding> {
    enum Kept {
        Registry,
        Medical,
        UntilExpiry,
        Movement,
        Insurance,
    }
    let rows = [
        (
            "registry",
            "Thông tin dân cư",
            "Registry record",
            1,
            Kept::Registry,
        ),
        (
            "vaccinations",
            "Mũi tiêm",
            "Vaccinations",
            c.vaccinations,
            Kept::Medical,
        ),
        (
            "certificates",
            "Chứng nhận tiêm chủng",
            "Vaccination certificates",
            c.certificates,
            Kept::UntilExpiry,
        ),
        (
            "tests",
            "Kết quả xét nghiệm",
            "Test results",
            c.tests,
            Kept::Medical,
        ),
        (
            "declarations",
            "Tờ khai y tế",
            "Health declarations",
            c.declarations,
            Kept::Movement,
        ),
        (
            "checkins",
            "Lượt quét mã địa điểm",
            "Venue check-ins",
            c.checkins,
            Kept::Movement,
        ),
        (
            "scans",
            "Lượt kiểm tra tại chốt",
            "Checkpoint scans",
            c.scans,
            Kept::Movement,
        ),
        (
            "insurance",
            "Thẻ bảo hiểm y tế",
            "Health-insurance card",
            c.insurance,
            Kept::Insurance,
        ),
    ];
    rows.into_iter()
        .map(|(kind, label_vi, label_en, count, kept)| {
            let (retention_vi, retention_en) = match kept {
                Kept::Registry => (
                    "Theo Cơ sở dữ liệu quốc gia về dân cư".to_owned(),
                    "As the national population registry keeps it".to_owned(),
                ),
                Kept::Medical => (
                    "Lâu dài (hồ sơ y tế)".to_owned(),
                    "Permanently (medical record)".to_owned(),
                ),
                Kept::UntilExpiry => (
                    "Đến khi hết hạn hoặc bị thu hồi".to_owned(),
                    "Until they expire or are revoked".to_owned(),
                ),
                Kept::Movement => (
                    format!("{retention_days} ngày, rồi tự động xoá"),
                    format!("{retention_days} days, then deleted automatically"),
                ),
                Kept::Insurance => (
                    "Theo dữ liệu Bảo hiểm xã hội".to_owned(),
                    "As the social-insurance agency provides it".to_owned(),
                ),
            };
            Holding {
                kind,
                label_vi,
                label_en,
                count,
                retention_vi,
                retention_en,
            }
        })
        .collect()
}

/// The audit log about a person, each officer reduced to role and unit.
async fn accesses(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
) -> Result<(Vec<Access>, usize), ApiError> {
    let mut units: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Vec::new();
    let mut own_uses = 0;
    let entries = state.store.audit_for_subject(&id.to_string()).await?;
    for e in entries.into_iter().rev() {
        // The account's own use and sign-in attempts are counted, not listed, so that no
        // amount of them can push an officer's access out of view.
        if e.actor == caller.user.username || e.role == "public" {
            own_uses += 1;
            continue;
        }
        if out.len() == MAX_ACCESSES {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = units.entry(e.actor.clone()) {
            let user = state.store.user_by_username(&e.actor).await?;
            slot.insert(user.map(|u| u.jurisdiction.code().to_owned()));
        }
        let unit = units[&e.actor].clone();
        out.push(Access {
            at: e.at,
            role_label_vi: role_label(&e.role),
            unit_name: unit.as_deref().map(place),
            unit,
            role: e.role,
            action: e.action,
            purpose: e.purpose,
        });
    }
    Ok((out, own_uses))
}
