//! A case's movement timeline and contacts (F1, then F2), routed to the communes the contacts
//! live in; and break-glass reads of a person's movements without a case, each reviewed later.
//! Every read names its purpose: the case ID, or the break-glass reason.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vaxtrace_domain::{Citizen, Permission, PersonalId};
use vaxtrace_store::{Area, NewContact, StoredCase, StoredContact};
use vaxtrace_trace::contacts::{clip, clip_each, onward_windows, search_ranges};
use vaxtrace_trace::{
    CaseFacts, Contact, ContactRule, Exposure, InfectiousWindow, WindowRule, exposures,
    strongest_by_person,
};

use crate::cases::{case_for, residence_area};
use crate::middleware::Caller;
use crate::services::{from_unix_seconds, place_name, read_citizen};
use crate::{ApiError, AppState};

/// One thing the person did, in time order.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    /// `checkin`, `checkpoint_scan` or `declaration`.
    pub kind: &'static str,
    pub place: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Timeline {
    pub personal_id: PersonalId,
    pub case_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    pub entries: Vec<TimelineEntry>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TraceQuery {
    /// Days before onset or sample that count as infectious (default 2).
    pub days_before: Option<u32>,
    /// Shortest overlap that makes a contact, in minutes (default 15).
    pub min_overlap_minutes: Option<u32>,
    /// Minutes added on both sides of the case's stays (default 0).
    pub margin_minutes: Option<u32>,
    /// 1 for F1 only, 2 (default) for F1 and F2.
    pub depth: Option<u8>,
}

impl TraceQuery {
    fn window_rule(&self) -> Result<WindowRule, ApiError> {
        Ok(WindowRule::new(self.days_before.unwrap_or(2))?)
    }
    fn contact_rule(&self) -> Result<ContactRule, ApiError> {
        Ok(ContactRule::new(
            self.min_overlap_minutes.unwrap_or(15),
            self.margin_minutes.unwrap_or(0),
        )?)
    }
}

fn window_of(case: &StoredCase, rule: WindowRule, now: OffsetDateTime) -> InfectiousWindow {
    let onset_at = case
        .onset_on
        .as_deref()
        .and_then(|d| vaxtrace_domain::date::parse_day("onset_on", d).ok())
        .map(|d| {
            vaxtrace_domain::date::vietnam_day_range(d)
                .0
                .unix_timestamp()
        });
    rule.window(
        CaseFacts {
            sampled_at: case.sampled_at.unix_timestamp(),
            onset_at,
            isolated_at: case.isolated_at.map(OffsetDateTime::unix_timestamp),
        },
        now.unix_timestamp(),
    )
}

/// Venue names by ID, read once each.
#[derive(Default)]
struct VenueNames(HashMap<i64, (String, String)>);

impl VenueNames {
    async fn get(&mut self, state: &AppState, id: i64) -> Result<(String, String), ApiError> {
        if let Some(v) = self.0.get(&id) {
            return Ok(v.clone());
        }
        let named = state.store.venue(id).await?.map_or_else(
            || (format!("#{id}"), String::new()),
            |v| {
                (
                    v.name,
                    format!("{}, {}", v.address, place_name(&v.commune_code)),
                )
            },
        );
        self.0.insert(id, named.clone());
        Ok(named)
    }
}

/// Check-ins, checkpoint scans and declarations of `id` within `[from, to]`.
async fn movements(
    state: &AppState,
    id: PersonalId,
    from: i64,
    to: i64,
) -> Result<Vec<TimelineEntry>, ApiError> {
    let mut entries = Vec::new();
    let mut names = VenueNames::default();
    for stay in state.store.stays_of_people(vec![(id, from, to)]).await? {
        let (name, address) = names.get(state, stay.venue_id).await?;
        entries.push(TimelineEntry {
            at: from_unix_seconds(stay.start),
            until: Some(from_unix_seconds(stay.end)),
            kind: "checkin",
            place: name,
            detail: address,
        });
    }
    let window = from_unix_seconds(from)..=from_unix_seconds(to);
    for scan in state.store.scans_for_citizen(id).await? {
        if window.contains(&scan.scanned_at) {
            let place = state
                .store
                .checkpoint(&scan.checkpoint_code)
                .await?
                .map_or_else(|| scan.checkpoint_code.clone(), |c| c.name);
            entries.push(TimelineEntry {
                at: scan.scanned_at,
                until: None,
                kind: "checkpoint_scan",
                place,
                detail: scan.verdict,
            });
        }
    }
    for d in state.store.declarations_for_citizen(id).await? {
        if window.contains(&d.submitted_at) {
            entries.push(TimelineEntry {
                at: d.submitted_at,
                until: None,
                kind: "declaration",
                place: format!(
                    "{} → {}",
                    place_name(&d.origin_unit),
                    place_name(&d.destination_unit)
                ),
                detail: format!("travel {}", d.travel_date),
            });
        }
    }
    entries.sort_by_key(|e| e.at);
    Ok(entries)
}

/// `GET /api/v1/cases/{case_id}/timeline`.
pub async fn timeline(
    state: &AppState,
    caller: &Caller,
    case_id: &str,
    q: &TraceQuery,
) -> Result<Timeline, ApiError> {
    let (case, _) = case_for(state, caller, case_id).await?;
    let window = window_of(&case, q.window_rule()?, OffsetDateTime::now_utc());
    let entries = movements(state, case.personal_id, window.start, window.end).await?;
    state
        .audit
        .access(
            caller,
            "trace.timeline",
            Some(case.personal_id.to_string()),
            &case.case_id,
            Some(format!("{} entries", entries.len())),
        )
        .await?;
    Ok(Timeline {
        personal_id: case.personal_id,
        case_id: Some(case.case_id),
        from: from_unix_seconds(window.start),
        to: from_unix_seconds(window.end),
        entries,
    })
}

/// One overlap as shown to officers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    pub venue_id: i64,
    pub venue_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub contact_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub contact_to: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub overlap_from: OffsetDateTime,
    pub overlap_minutes: i64,
    /// Whose stay it overlapped: the case, or (for an F2) the F1.
    pub source: String,
}

#[derive(Debug, Serialize)]
pub struct ContactView {
    pub case_id: String,
    pub personal_id: PersonalId,
    /// 1 for F1, 2 for F2.
    pub level: u8,
    pub via: Option<PersonalId>,
    /// `venue` or `household`.
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub exposed_at: OffsetDateTime,
    pub overlap_minutes: i64,
    pub commune_code: String,
    pub place: String,
    pub evidence: Vec<Evidence>,
}

impl ContactView {
    fn of(c: StoredContact) -> Self {
        Self {
            evidence: serde_json::from_str(&c.evidence).unwrap_or_default(),
            place: place_name(&c.commune_code),
            exposed_at: from_unix_seconds(c.exposed_at),
            overlap_minutes: c.overlap_secs / 60,
            case_id: c.case_id,
            personal_id: c.personal_id,
            level: c.level,
            via: c.via,
            kind: c.kind,
            commune_code: c.commune_code,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TraceReport {
    pub case_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub window_from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub window_to: OffsetDateTime,
    pub f1: usize,
    pub f2: usize,
    pub contacts: Vec<ContactView>,
}

/// Finds F1s (venue overlaps in the infectious window, and the household) and, at depth 2, F2s
/// (overlaps with each F1 from their exposure on). Returns each level's contacts.
pub async fn find_contacts(
    state: &AppState,
    personal_id: PersonalId,
    window: InfectiousWindow,
    rule: ContactRule,
    depth: u8,
    now: i64,
) -> Result<(Vec<Contact>, Vec<Contact>), ApiError> {
    let stays = state
        .store
        .stays_of_people(vec![(personal_id, window.start, window.end)])
        .await?;
    let sources = clip(&stays, window.start, window.end);
    let candidates = state
        .store
        .stays_at_venues(search_ranges(&sources, rule))
        .await?;
    let mut exclude: HashSet<PersonalId> = [personal_id].into();
    let mut f1 = strongest_by_person(exposures(&sources, &candidates, rule, &exclude));
    let venue_f1: HashSet<PersonalId> = f1.iter().map(|c| c.personal_id).collect();
    for member in state.store.household_members(personal_id).await? {
        if !venue_f1.contains(&member) {
            f1.push(Contact {
                personal_id: member,
                exposed_at: window.start,
                total_overlap_secs: window.end - window.start,
                evidence: Vec::new(),
            });
        }
    }
    exclude.extend(f1.iter().map(|c| c.personal_id));
    if depth < 2 || f1.is_empty() {
        return Ok((f1, Vec::new()));
    }
    let windows = onward_windows(&f1, now);
    let f1_stays = state.store.stays_of_people(windows.clone()).await?;
    let sources = clip_each(&f1_stays, &windows);
    let candidates = state
        .store
        .stays_at_venues(search_ranges(&sources, rule))
        .await?;
    let f2 = strongest_by_person(exposures(&sources, &candidates, rule, &exclude));
    Ok((f1, f2))
}

async fn evidence_json(
    state: &AppState,
    names: &mut VenueNames,
    evidence: &[Exposure],
) -> Result<String, ApiError> {
    let mut out = Vec::with_capacity(evidence.len());
    for e in evidence {
        out.push(Evidence {
            venue_id: e.venue_id,
            venue_name: names.get(state, e.venue_id).await?.0,
            contact_from: from_unix_seconds(e.contact_start),
            contact_to: from_unix_seconds(e.contact_end),
            overlap_from: from_unix_seconds(e.overlap_start),
            overlap_minutes: e.overlap_secs / 60,
            source: e.source.to_string(),
        });
    }
    serde_json::to_string(&out).map_err(|_| ApiError::internal())
}

/// Residence areas of the contacts, one registry read each.
async fn areas_of(
    state: &AppState,
    ids: impl Iterator<Item = PersonalId>,
) -> Result<HashMap<PersonalId, Area>, ApiError> {
    let mut out = HashMap::new();
    for id in ids {
        if let Some(c) = state.store.citizen(id).await? {
            out.insert(id, residence_area(&c));
        }
    }
    Ok(out)
}

/// `POST /api/v1/cases/{case_id}/trace`: finds and stores the contacts (replacing an earlier
/// trace of the case), so each contact's commune sees them.
pub async fn trace(
    state: &AppState,
    caller: &Caller,
    case_id: &str,
    q: &TraceQuery,
) -> Result<TraceReport, ApiError> {
    let (case, _) = case_for(state, caller, case_id).await?;
    let rule = q.contact_rule()?;
    let depth = q.depth.unwrap_or(2);
    if !(1..=2).contains(&depth) {
        return Err(ApiError::invalid_field(
            "depth",
            "invalid_depth",
            "Độ sâu truy vết là 1 (F1) hoặc 2 (F1 và F2)",
            "The depth is 1 (F1) or 2 (F1 and F2)",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let window = window_of(&case, q.window_rule()?, now);
    let (f1, f2) = find_contacts(
        state,
        case.personal_id,
        window,
        rule,
        depth,
        now.unix_timestamp(),
    )
    .await?;
    let areas = areas_of(state, f1.iter().chain(&f2).map(|c| c.personal_id)).await?;
    let mut names = VenueNames::default();
    let mut rows = Vec::with_capacity(f1.len() + f2.len());
    for (level, contacts) in [(1u8, &f1), (2, &f2)] {
        for c in contacts {
            // A contact missing from the registry cannot be routed: there is no commune to tell.
            let Some(area) = areas.get(&c.personal_id) else {
                continue;
            };
            rows.push(NewContact {
                personal_id: c.personal_id,
                level,
                via: (level == 2)
                    .then(|| c.evidence.first().map(|e| e.source))
                    .flatten(),
                kind: if c.evidence.is_empty() {
                    "household"
                } else {
                    "venue"
                },
                exposed_at: c.exposed_at,
                overlap_secs: c.total_overlap_secs,
                evidence: evidence_json(state, &mut names, &c.evidence).await?,
                area: area.clone(),
            });
        }
    }
    state
        .store
        .replace_contacts(&case.case_id, rows, now)
        .await?;
    state
        .audit
        .access(
            caller,
            "trace.contacts",
            Some(case.personal_id.to_string()),
            &case.case_id,
            Some(format!("{} F1, {} F2", f1.len(), f2.len())),
        )
        .await?;
    let contacts = stored_contacts(state, &case.case_id).await?;
    Ok(TraceReport {
        case_id: case.case_id,
        window_from: from_unix_seconds(window.start),
        window_to: from_unix_seconds(window.end),
        f1: contacts.iter().filter(|c| c.level == 1).count(),
        f2: contacts.iter().filter(|c| c.level == 2).count(),
        contacts,
    })
}

async fn stored_contacts(state: &AppState, case_id: &str) -> Result<Vec<ContactView>, ApiError> {
    Ok(state
        .store
        .contacts_of_case(case_id)
        .await?
        .into_iter()
        .map(ContactView::of)
        .collect())
}

/// `GET /api/v1/cases/{case_id}/contacts`: the last trace's contacts.
pub async fn case_contacts(
    state: &AppState,
    caller: &Caller,
    case_id: &str,
) -> Result<Vec<ContactView>, ApiError> {
    let (case, _) = case_for(state, caller, case_id).await?;
    let contacts = stored_contacts(state, &case.case_id).await?;
    state
        .audit
        .access(
            caller,
            "trace.contacts.read",
            Some(case.personal_id.to_string()),
            &case.case_id,
            Some(format!("{} contacts", contacts.len())),
        )
        .await?;
    Ok(contacts)
}

#[derive(Debug, Default, Deserialize)]
pub struct AreaContactsQuery {
    /// YYYY-MM-DD; the last 14 days when absent.
    pub since: Option<String>,
    pub limit: Option<u32>,
}

/// `GET /api/v1/contacts`: contacts living in the caller's area, for its health officers and
/// police to follow up.
pub async fn area_contacts(
    state: &AppState,
    caller: &Caller,
    q: &AreaContactsQuery,
) -> Result<Vec<ContactView>, ApiError> {
    caller.require(Permission::ReadContacts)?;
    let since = match q.since.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(day) => {
            vaxtrace_domain::date::vietnam_day_range(vaxtrace_domain::date::parse_day(
                "since", day,
            )?)
            .0
        }
        None => OffsetDateTime::now_utc() - time::Duration::days(14),
    };
    let unit = caller.user.jurisdiction.code();
    // Who the case (or the F1) was is the tracing officer's to know, not the contact's commune.
    let contacts: Vec<ContactView> = state
        .store
        .contacts_in_area(unit, since, q.limit.unwrap_or(200).clamp(1, 1000))
        .await?
        .into_iter()
        .map(|c| {
            let mut view = ContactView::of(c);
            view.via = None;
            for e in &mut view.evidence {
                e.source.clear();
            }
            view
        })
        .collect();
    for c in &contacts {
        state
            .audit
            .access(
                caller,
                "trace.contacts.area",
                Some(c.personal_id.to_string()),
                &c.case_id,
                None,
            )
            .await?;
    }
    Ok(contacts)
}

#[derive(Debug, Default, Deserialize)]
pub struct BreakGlassQuery {
    /// Why the movements are needed without a case ID; reviewed by an administrator.
    pub reason: Option<String>,
    /// Days back from now (default 14, at most 30).
    pub days: Option<u32>,
}

/// `GET /api/v1/citizens/{personal_id}/movements`: break-glass access without a case.
pub async fn break_glass(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
    q: &BreakGlassQuery,
) -> Result<Timeline, ApiError> {
    caller.require(Permission::TraceCases)?;
    let reason = q
        .reason
        .as_deref()
        .map(vaxtrace_domain::text::clean)
        .unwrap_or_default();
    if reason.chars().count() < 10 || reason.chars().count() > 500 || reason.contains(['<', '>']) {
        return Err(ApiError::invalid_field(
            "reason",
            "reason_required",
            "Truy cập khẩn cấp cần nêu lý do (10–500 ký tự); lý do sẽ được thẩm tra",
            "Break-glass access needs a reason (10–500 characters); it will be reviewed",
        ));
    }
    let citizen: Citizen = read_citizen(state, caller, id, "break_glass").await?;
    let now = OffsetDateTime::now_utc();
    let days = i64::from(q.days.unwrap_or(14).clamp(1, 30));
    state
        .store
        .insert_break_glass(
            &caller.user.username,
            caller.user.role.code(),
            id,
            &reason,
            now,
        )
        .await?;
    let from = now.unix_timestamp() - days * 86_400;
    let entries = movements(state, citizen.personal_id, from, now.unix_timestamp()).await?;
    state
        .audit
        .access(
            caller,
            "trace.break_glass",
            Some(id.to_string()),
            "break_glass",
            Some(reason),
        )
        .await?;
    Ok(Timeline {
        personal_id: id,
        case_id: None,
        from: from_unix_seconds(from),
        to: now,
        entries,
    })
}

#[derive(Debug, Deserialize)]
pub struct ReviewRequest {
    /// `justified` or `unjustified`.
    pub verdict: String,
}

/// `POST /api/v1/break-glass/{id}/review`.
pub async fn review_break_glass(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: &ReviewRequest,
) -> Result<serde_json::Value, ApiError> {
    caller.require(Permission::ReadAudit)?;
    let verdict = req.verdict.trim();
    if !matches!(verdict, "justified" | "unjustified") {
        return Err(ApiError::invalid_field(
            "verdict",
            "invalid_verdict",
            "Kết luận là justified (chính đáng) hoặc unjustified (không chính đáng)",
            "The verdict is justified or unjustified",
        ));
    }
    let now = OffsetDateTime::now_utc();
    if !state
        .store
        .review_break_glass(id, &caller.user.username, verdict, now)
        .await?
    {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "reviewed",
            "Lượt truy cập này đã được thẩm tra",
            "This access was reviewed already",
        ));
    }
    state
        .audit
        .access(
            caller,
            "break_glass.review",
            None,
            "oversight",
            Some(format!("{id} {verdict}")),
        )
        .await?;
    Ok(serde_json::json!({ "id": id, "verdict": verdict }))
}
