//! Check-in and check-out: a person scans a venue's poster and confirms with their ID, or the venue
//! scans the person's chip ID card or pass; offline venues send what they collected in a batch.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vaxtrace_domain::{BirthDate, ChipQr, ParseError, Permission, PersonalId};
use vaxtrace_store::{CheckoutOutcome, NewCheckin, StoredVenue};
use vaxtrace_trace::stay_end;

use crate::declarations::judge_pass;
use crate::middleware::Caller;
use crate::services::{from_unix_seconds, parse_time};
use crate::venues::{PURPOSE, active_venue, owned_venue, venue_of_code};
use crate::{ApiError, AppState};

/// The most check-ins one batch request may carry (it must fit the request size limit).
pub const MAX_BATCH: usize = 500;

#[derive(Debug, Default, Deserialize)]
pub struct CheckinRequest {
    /// The poster's code, scanned by the person checking in; or
    pub venue_code: Option<String>,
    /// one of the caller's own venues, which scans the person.
    pub venue_id: Option<i64>,
    /// The person: the chip ID card's QR text, a travel pass, or ID and birth date.
    pub chip_qr: Option<String>,
    pub pass: Option<String>,
    pub personal_id: Option<String>,
    pub birth_date: Option<String>,
    /// A check-out's time (RFC 3339); now when absent.
    pub at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckinReceipt {
    pub venue_id: i64,
    pub venue_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_in_at: OffsetDateTime,
    /// When the stay is taken to end unless the person checks out.
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    pub checked_out: bool,
    /// The same check-in was already stored.
    pub duplicate: bool,
    /// The person's vaccination colour, for a venue that scanned them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// Whether the person is under a quarantine order today (venue scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<bool>,
}

fn identity_mismatch() -> ApiError {
    ApiError::invalid_field(
        "personal_id",
        "identity_mismatch",
        "Số định danh và ngày sinh không khớp với Cơ sở dữ liệu quốc gia về dân cư",
        "The personal ID and birth date do not match the population registry",
    )
}

/// Who is checking in, and how they showed it. A venue scans a card or a pass; ID and birth date
/// are for the person checking themselves in. Refusals are audited (guessing leaves a trace).
async fn identify(
    state: &AppState,
    caller: &Caller,
    req: &CheckinRequest,
    venue_scans: bool,
    now: OffsetDateTime,
) -> Result<(PersonalId, &'static str), ApiError> {
    // A citizen's household rule comes first: a stranger's ID must not get as far as the
    // registry comparison, whose answer would confirm a birth date.
    let claimed = req.personal_id.as_deref().map(PersonalId::parse);
    let early = match claimed {
        Some(Ok(id)) => crate::citizen_home::may_act_for(state, caller, id)
            .await
            .err(),
        _ => None,
    };
    let mut outcome = match early {
        Some(e) => Err(e),
        None => identify_unaudited(state, req, venue_scans, now).await,
    };
    if let Ok((id, _)) = &outcome
        && let Err(e) = crate::citizen_home::may_act_for(state, caller, *id).await
    {
        outcome = Err(e);
    }
    if let Err(e) = &outcome {
        let subject = req
            .personal_id
            .as_deref()
            .and_then(|p| PersonalId::parse(p).ok());
        state
            .audit
            .access(
                caller,
                "checkin.identity_refused",
                subject.map(|p| p.to_string()),
                PURPOSE,
                Some(e.code.clone()),
            )
            .await?;
    }
    outcome
}

async fn identify_unaudited(
    state: &AppState,
    req: &CheckinRequest,
    venue_scans: bool,
    now: OffsetDateTime,
) -> Result<(PersonalId, &'static str), ApiError> {
    match (&req.chip_qr, &req.pass, &req.personal_id) {
        (None, None, Some(_)) if venue_scans => Err(ApiError::bad_request(
            "scan_card_or_pass",
            "Địa điểm quét mã QR trên CCCD hoặc thẻ đi lại của người đến",
            "A venue scans the person's chip ID card QR or travel pass",
        )),
        (Some(qr), None, None) => {
            let card = ChipQr::parse(qr)?;
            let matches = state
                .store
                .citizen(card.personal_id)
                .await?
                .is_some_and(|c| {
                    c.identity_mismatches(
                        &card.full_name,
                        BirthDate::Full(card.birth_date),
                        Some(card.sex),
                    )
                    .is_empty()
                });
            if !matches {
                return Err(ApiError::invalid_field(
                    "chip_qr",
                    "card_mismatch",
                    "Thông tin trên CCCD không khớp với Cơ sở dữ liệu quốc gia về dân cư",
                    "The ID card does not match the population registry",
                ));
            }
            Ok((card.personal_id, "chip_qr"))
        }
        (None, Some(pass), None) => match judge_pass(state, pass, now).await? {
            ("valid", Some(d)) => Ok((d.personal_id, "pass")),
            (verdict, _) => Err(ApiError::invalid_field(
                "pass",
                "pass_not_valid",
                &format!("Thẻ đi lại không hợp lệ ({verdict})"),
                &format!("The travel pass is not valid ({verdict})"),
            )),
        },
        (None, None, Some(raw_id)) => {
            let id = PersonalId::parse(raw_id)?;
            let birth = BirthDate::parse(req.birth_date.as_deref().unwrap_or_default())
                .map_err(|e| ApiError::from(e.for_field("birth_date")))?;
            // As precise as the registry: a full date where it holds one.
            let citizen = state.store.citizen(id).await?;
            if citizen.is_none_or(|c| c.birth_date != birth) {
                return Err(identity_mismatch());
            }
            Ok((id, "venue_qr"))
        }
        _ => Err(ApiError::bad_request(
            "one_identity",
            "Gửi một trong: mã QR trên CCCD, thẻ đi lại, hoặc số định danh kèm ngày sinh",
            "Send one of: the chip ID card QR text, a travel pass, or personal ID with birth date",
        )),
    }
}

/// The venue of a request: the scanned poster (anyone logged in), or the caller's own venue.
async fn venue_of(
    state: &AppState,
    caller: &Caller,
    req: &CheckinRequest,
) -> Result<(StoredVenue, bool), ApiError> {
    match (&req.venue_code, req.venue_id) {
        (Some(code), None) => Ok((venue_of_code(state, code).await?, false)),
        (None, Some(id)) => {
            owned_venue(state, caller, id).await?;
            Ok((active_venue(state, id).await?, true))
        }
        _ => Err(ApiError::bad_request(
            "one_venue",
            "Gửi mã QR của địa điểm hoặc mã số địa điểm của bạn, một trong hai",
            "Send either the venue's QR code or the ID of your venue",
        )),
    }
}

/// `POST /api/v1/checkins`.
pub async fn check_in(
    state: &AppState,
    caller: &Caller,
    req: &CheckinRequest,
) -> Result<(StatusCode, CheckinReceipt), ApiError> {
    let now = OffsetDateTime::now_utc();
    let (venue, venue_scans) = venue_of(state, caller, req).await?;
    let (id, method) = identify(state, caller, req, venue_scans, now).await?;
    let start = now.unix_timestamp();
    let end = stay_end(start, None, venue.stay_minutes, start)?;
    let inserted = state
        .store
        .insert_checkins(vec![NewCheckin {
            venue_id: venue.id,
            personal_id: id,
            checked_in_at: start,
            ends_at: end.end,
            checked_out: false,
            method,
        }])
        .await?;
    state
        .audit
        .access(
            caller,
            "checkin",
            Some(id.to_string()),
            PURPOSE,
            Some(format!("venue {}", venue.id)),
        )
        .await?;
    let (colour, quarantined) = if venue_scans {
        let colour = state
            .store
            .citizen_status(id)
            .await?
            .map_or_else(|| "none".to_owned(), |s| s.colour);
        let today = vaxtrace_domain::date::vietnam_day(now);
        let quarantined = state.store.active_quarantine(id, today).await?.is_some();
        (Some(colour), Some(quarantined))
    } else {
        (None, None)
    };
    let receipt = CheckinReceipt {
        venue_id: venue.id,
        venue_name: venue.name,
        checked_in_at: from_unix_seconds(start),
        ends_at: from_unix_seconds(end.end),
        checked_out: false,
        duplicate: inserted == 0,
        colour,
        quarantined,
    };
    Ok((
        if inserted == 0 {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        receipt,
    ))
}

/// `POST /api/v1/checkins/checkout`.
pub async fn check_out(
    state: &AppState,
    caller: &Caller,
    req: &CheckinRequest,
) -> Result<CheckinReceipt, ApiError> {
    let now = OffsetDateTime::now_utc();
    let (venue, venue_scans) = venue_of(state, caller, req).await?;
    let (id, _) = identify(state, caller, req, venue_scans, now).await?;
    // Only a venue records a check-out after the fact; a person checks out now.
    let at = if venue_scans {
        parse_time("at", req.at.as_deref())?.unwrap_or(now)
    } else {
        now
    };
    if at > now + time::Duration::minutes(5) {
        return Err(ApiError::invalid_field(
            "at",
            "future_time",
            "Thời điểm ra không được ở tương lai",
            "The check-out time is in the future",
        ));
    }
    let outcome = state
        .store
        .check_out(id, venue.id, at.unix_timestamp())
        .await?;
    state
        .audit
        .access(
            caller,
            "checkout",
            Some(id.to_string()),
            PURPOSE,
            Some(format!("venue {}", venue.id)),
        )
        .await?;
    match outcome {
        CheckoutOutcome::CheckedOut {
            checked_in_at,
            ends_at,
        } => Ok(CheckinReceipt {
            venue_id: venue.id,
            venue_name: venue.name,
            checked_in_at: from_unix_seconds(checked_in_at),
            ends_at: from_unix_seconds(ends_at),
            checked_out: true,
            duplicate: false,
            colour: None,
            quarantined: None,
        }),
        CheckoutOutcome::BeforeCheckin { .. } => Err(ApiError::invalid_field(
            "at",
            "checkout_before_checkin",
            "Thời điểm ra trước thời điểm vào",
            "The check-out is before the check-in",
        )),
        CheckoutOutcome::NoOpenStay => Err(ApiError::not_found(
            "lượt vào địa điểm này trong 24 giờ qua",
            "Check-in at this venue in the last 24 hours",
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct BatchItem {
    pub personal_id: String,
    /// RFC 3339.
    pub checked_in_at: String,
    pub checked_out_at: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct BatchRequest {
    pub venue_id: i64,
    pub items: Vec<BatchItem>,
}

/// One refused item of a batch.
#[derive(Debug, Serialize)]
pub struct Rejected {
    pub index: usize,
    pub field: String,
    pub code: String,
    pub message_vi: String,
    pub message_en: String,
}

#[derive(Debug, Serialize)]
pub struct BatchOutcome {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<Rejected>,
}

fn rejected(index: usize, e: &ParseError) -> Rejected {
    Rejected {
        index,
        field: e.field.into(),
        code: e.code.into(),
        message_vi: e.message_vi.clone(),
        message_en: e.message_en.clone(),
    }
}

fn parse_item(
    item: &BatchItem,
    stay_minutes: u32,
    now: i64,
    oldest: i64,
) -> Result<NewCheckin, ParseError> {
    let personal_id = PersonalId::parse(&item.personal_id)?;
    let time = |field: &'static str, raw: &str| {
        vaxtrace_domain::date::parse_instant(field, raw.trim()).map(OffsetDateTime::unix_timestamp)
    };
    let start = time("checked_in_at", &item.checked_in_at)?;
    if start < oldest {
        return Err(ParseError::new(
            "checked_in_at",
            "too_old",
            "Lượt vào đã quá thời hạn lưu trữ",
            "The check-in is older than the retention period",
        ));
    }
    let out = item
        .checked_out_at
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|raw| time("checked_out_at", raw))
        .transpose()?;
    let end = stay_end(start, out, stay_minutes, now)?;
    Ok(NewCheckin {
        venue_id: 0,
        personal_id,
        checked_in_at: start,
        ends_at: end.end,
        checked_out: end.checked_out,
        method: "batch",
    })
}

/// `POST /api/v1/checkins/batch`: what an offline venue collected. Good items are stored, bad
/// ones are returned with the reason, so nothing is silently lost.
pub async fn batch(
    state: &AppState,
    caller: &Caller,
    req: &BatchRequest,
) -> Result<BatchOutcome, ApiError> {
    caller.require(Permission::ManageVenues)?;
    if req.items.is_empty() || req.items.len() > MAX_BATCH {
        return Err(ApiError::invalid_field(
            "items",
            "batch_size",
            &format!("Mỗi lần gửi từ 1 đến {MAX_BATCH} lượt"),
            &format!("Send between 1 and {MAX_BATCH} check-ins at a time"),
        ));
    }
    owned_venue(state, caller, req.venue_id).await?;
    let venue = active_venue(state, req.venue_id).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Anything the retention job would delete at once is refused instead.
    let oldest = now - i64::from(state.config.movement_retention_days) * 86_400;
    let mut rejected_items = Vec::new();
    let mut parsed = Vec::new();
    for (index, item) in req.items.iter().enumerate() {
        match parse_item(item, venue.stay_minutes, now, oldest) {
            Ok(c) => parsed.push((
                index,
                NewCheckin {
                    venue_id: venue.id,
                    ..c
                },
            )),
            Err(e) => rejected_items.push(rejected(index, &e)),
        }
    }
    let known: std::collections::HashSet<PersonalId> = state
        .store
        .known_citizens(parsed.iter().map(|(_, c)| c.personal_id).collect())
        .await?
        .into_iter()
        .collect();
    let mut good = Vec::with_capacity(parsed.len());
    for (index, c) in parsed {
        if known.contains(&c.personal_id) {
            good.push(c);
        } else {
            rejected_items.push(rejected(index, &crate::cases::unknown_citizen()));
        }
    }
    rejected_items.sort_by_key(|r| r.index);
    let offered = good.len() as u64;
    let accepted = if good.is_empty() {
        0
    } else {
        state.store.insert_checkins(good).await?
    };
    state
        .audit
        .access(
            caller,
            "checkin.batch",
            None,
            PURPOSE,
            Some(format!(
                "venue {}: {accepted} stored, {} duplicates, {} rejected",
                venue.id,
                offered - accepted,
                rejected_items.len()
            )),
        )
        .await?;
    Ok(BatchOutcome {
        accepted,
        duplicates: offered - accepted,
        rejected: rejected_items,
    })
}
