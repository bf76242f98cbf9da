//! Venue check-in, test results, cases, contacts, quarantine and break-glass reviews: the types
//! and the interface both backends implement.

use async_trait::async_trait;
use serde::Serialize;
use time::{Date, OffsetDateTime};
use vaxtrace_domain::{PersonalId, UnitLevel, admin_units};
use vaxtrace_trace::Stay;

use crate::StoreResult;

#[derive(Debug, Clone)]
pub struct NewVenue {
    pub name: String,
    pub kind: String,
    pub commune_code: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub stay_minutes: u32,
    pub owner: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredVenue {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub commune_code: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub stay_minutes: u32,
    pub owner: String,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// One check-in; times in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewCheckin {
    pub venue_id: i64,
    pub personal_id: PersonalId,
    pub checked_in_at: i64,
    pub ends_at: i64,
    pub checked_out: bool,
    /// `venue_qr` (the person scanned the poster), `chip_qr` or `pass` (the venue scanned the
    /// person), or `batch` (sent later by an offline venue).
    pub method: &'static str,
}

/// What a check-out found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CheckoutOutcome {
    CheckedOut {
        checked_in_at: i64,
        ends_at: i64,
    },
    /// The person's only stay at the venue near that time began after it.
    BeforeCheckin {
        checked_in_at: i64,
    },
    /// No stay at the venue began in the day before the check-out.
    NoOpenStay,
}

#[derive(Debug, Clone)]
pub struct NewTest {
    pub personal_id: PersonalId,
    pub kind: &'static str,
    pub sampled_at: OffsetDateTime,
    pub result: &'static str,
    pub lab: String,
    pub lab_ref: String,
    pub recorded_by: String,
    pub recorded_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredTest {
    pub id: i64,
    pub personal_id: PersonalId,
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sampled_at: OffsetDateTime,
    pub result: String,
    pub lab: String,
    pub lab_ref: String,
    pub recorded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// A residence split into the three levels it is filtered by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    pub province_code: String,
    pub district_code: String,
    pub commune_code: String,
}

impl Area {
    /// The area of a residence unit (a commune, or an island district without communes).
    pub fn of(unit: &str) -> Self {
        let lineage = admin_units().lineage(unit);
        let at = |level: UnitLevel| {
            lineage
                .iter()
                .find(|u| u.level == level)
                .map_or_else(|| unit.to_owned(), |u| u.code.to_owned())
        };
        Self {
            province_code: at(UnitLevel::Province),
            district_code: at(UnitLevel::District),
            commune_code: unit.to_owned(),
        }
    }
}

/// The condition that keeps rows of `unit`'s area, on the column of the unit's level, with the
/// unit bound to `param` (`?1` or `$1`); for the whole country a condition on the parameter
/// alone, so the statement binds the same parameters either way.
pub(crate) fn area_filter(unit: &str, param: &str) -> String {
    let column = match UnitLevel::of_code(unit) {
        Some(UnitLevel::Province) => "province_code",
        Some(UnitLevel::District) => "district_code",
        Some(UnitLevel::Commune) => "commune_code",
        None => return format!("{param} = {param}"),
    };
    format!("{column} = {param}")
}

/// A personal ID as both backends store it.
pub(crate) fn person_id(p: PersonalId) -> i64 {
    p.as_number() as i64
}

#[derive(Debug, Clone)]
pub struct NewCase {
    pub personal_id: PersonalId,
    pub test_id: i64,
    pub sampled_at: OffsetDateTime,
    pub onset_on: Option<Date>,
    pub isolated_at: Option<OffsetDateTime>,
    pub confirmed_by: String,
    pub confirmed_at: OffsetDateTime,
    pub area: Area,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCase {
    pub case_id: String,
    pub personal_id: PersonalId,
    pub test_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub sampled_at: OffsetDateTime,
    pub onset_on: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub isolated_at: Option<OffsetDateTime>,
    pub confirmed_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub confirmed_at: OffsetDateTime,
    pub recovered_on: Option<String>,
    pub commune_code: String,
}

#[derive(Debug, Clone)]
pub struct NewContact {
    pub personal_id: PersonalId,
    pub level: u8,
    /// The F1 an F2 was exposed to.
    pub via: Option<PersonalId>,
    /// `venue` or `household`.
    pub kind: &'static str,
    pub exposed_at: i64,
    pub overlap_secs: i64,
    pub evidence: String,
    pub area: Area,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredContact {
    pub case_id: String,
    pub personal_id: PersonalId,
    pub level: u8,
    pub via: Option<PersonalId>,
    pub kind: String,
    pub exposed_at: i64,
    pub overlap_secs: i64,
    #[serde(skip)]
    pub evidence: String,
    pub commune_code: String,
    #[serde(with = "time::serde::rfc3339")]
    pub traced_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewQuarantine {
    pub personal_id: PersonalId,
    pub kind: &'static str,
    pub place: Option<String>,
    pub starts_on: Date,
    pub ends_on: Date,
    pub case_id: Option<String>,
    pub ordered_by: String,
    pub ordered_at: OffsetDateTime,
    pub area: Area,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredQuarantine {
    pub id: i64,
    pub personal_id: PersonalId,
    pub kind: String,
    pub place: Option<String>,
    pub starts_on: String,
    pub ends_on: String,
    pub case_id: Option<String>,
    pub ordered_by: String,
    pub released_on: Option<String>,
    pub commune_code: String,
}

/// Which quarantine orders a list shows.
#[derive(Debug, Clone)]
pub struct QuarantineFilter {
    /// `VN`, or a province, district or commune code.
    pub unit: String,
    /// Orders in force on this day (not released, `starts_on ≤ day ≤ ends_on`).
    pub in_force_on: Date,
    /// Only those ending on or before this day (who is due to end).
    pub ending_by: Option<Date>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakGlass {
    pub id: i64,
    pub actor: String,
    pub role: String,
    pub personal_id: PersonalId,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reviewed_by: Option<String>,
    pub verdict: Option<String>,
}

/// What a check-in purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CheckinPurge {
    /// Whole day partitions dropped (`PostgreSQL`).
    pub partitions_dropped: u64,
    /// Rows deleted one by one (the boundary day; every row on `SQLite`).
    pub rows_deleted: u64,
}

/// The UTC day number of a Unix time in seconds: the check-in partition key.
pub fn day_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(86_400)
}

#[async_trait]
pub trait TraceStore: Send + Sync {
    async fn insert_venue(&self, v: NewVenue) -> StoreResult<i64>;
    async fn venue(&self, id: i64) -> StoreResult<Option<StoredVenue>>;
    async fn venues_by_owner(&self, owner: &str) -> StoreResult<Vec<StoredVenue>>;
    /// `Ok(false)` when the venue is unknown.
    async fn set_venue_active(&self, id: i64, active: bool) -> StoreResult<bool>;

    /// Stores check-ins; one already stored (same venue, person and time) is skipped, so a batch
    /// that failed can be sent again whole. Returns how many were new. `PostgreSQL` stores a large
    /// batch as two transactions on two connections: after an error, part of it may be stored.
    async fn insert_checkins(&self, batch: Vec<NewCheckin>) -> StoreResult<u64>;
    /// Ends the person's latest stay at the venue that began in the day before `at`.
    async fn check_out(
        &self,
        personal_id: PersonalId,
        venue_id: i64,
        at: i64,
    ) -> StoreResult<CheckoutOutcome>;
    /// Stays of each person that overlap `[from, to]`, oldest first per person.
    async fn stays_of_people(&self, queries: Vec<(PersonalId, i64, i64)>)
    -> StoreResult<Vec<Stay>>;
    /// Stays that began at `venue` within `[from, to]`, for each `(venue, from, to)`.
    async fn stays_at_venues(&self, ranges: Vec<(i64, i64, i64)>) -> StoreResult<Vec<Stay>>;
    /// The naive way to find a person's contacts, for the benchmark to compare against: one SQL
    /// self-join of the person's check-ins that began in `[from, to]` (counted until `to`, as the
    /// window closes) with every check-in at the same venue; no bounds but the venue and the window.
    async fn naive_contacts(
        &self,
        personal_id: PersonalId,
        from: i64,
        to: i64,
        min_overlap_secs: i64,
    ) -> StoreResult<Vec<PersonalId>>;
    /// Those of `ids` that are in the registry.
    async fn known_citizens(&self, ids: Vec<PersonalId>) -> StoreResult<Vec<PersonalId>>;
    /// The other members of the person's household in the registry.
    async fn household_members(&self, personal_id: PersonalId) -> StoreResult<Vec<PersonalId>>;
    /// Creates the day partitions for `[from_day, to_day]` where the backend has them.
    async fn prepare_checkin_partitions(&self, from_day: i64, to_day: i64) -> StoreResult<u64>;
    /// Deletes every check-in that began before `before` (Unix seconds).
    async fn purge_checkins(&self, before: i64) -> StoreResult<CheckinPurge>;

    /// Stores a result; the same `(lab, lab_ref)` again returns the stored ID and `false`.
    async fn insert_test(&self, t: NewTest) -> StoreResult<(i64, bool)>;
    async fn test_result(&self, id: i64) -> StoreResult<Option<StoredTest>>;
    /// A citizen's results, newest sample first.
    async fn tests_of(&self, personal_id: PersonalId) -> StoreResult<Vec<StoredTest>>;

    /// Opens a case with the next case ID of its province; `Conflict` when the person has an open
    /// case already.
    async fn open_case(&self, c: NewCase) -> StoreResult<StoredCase>;
    async fn case(&self, case_id: &str) -> StoreResult<Option<StoredCase>>;
    async fn open_case_of(&self, personal_id: PersonalId) -> StoreResult<Option<StoredCase>>;
    /// `Ok(false)` when the case is closed already; `NotFound` when unknown.
    async fn close_case(&self, case_id: &str, recovered_on: Date) -> StoreResult<bool>;

    /// Replaces the contacts of a case with a new trace's, in one transaction.
    async fn replace_contacts(
        &self,
        case_id: &str,
        contacts: Vec<NewContact>,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// A case's contacts, F1s first, each level in order of exposure.
    async fn contacts_of_case(&self, case_id: &str) -> StoreResult<Vec<StoredContact>>;
    /// Contacts living in `unit` (`VN` for all) traced since `since`, newest first.
    async fn contacts_in_area(
        &self,
        unit: &str,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<StoredContact>>;

    async fn insert_quarantine(&self, q: NewQuarantine) -> StoreResult<i64>;
    async fn quarantine(&self, id: i64) -> StoreResult<Option<StoredQuarantine>>;
    async fn quarantines(&self, f: QuarantineFilter) -> StoreResult<Vec<StoredQuarantine>>;
    /// The person's order in force on `on`, if any (the latest to end).
    async fn active_quarantine(
        &self,
        personal_id: PersonalId,
        on: Date,
    ) -> StoreResult<Option<StoredQuarantine>>;
    /// Releases an order early; `Ok(false)` when released already, `NotFound` when unknown.
    async fn release_quarantine(&self, id: i64, on: Date) -> StoreResult<bool>;

    async fn insert_break_glass(
        &self,
        actor: &str,
        role: &str,
        personal_id: PersonalId,
        reason: &str,
        at: OffsetDateTime,
    ) -> StoreResult<i64>;
    async fn break_glass_pending(&self) -> StoreResult<Vec<BreakGlass>>;
    /// `Ok(false)` when reviewed already; `NotFound` when unknown.
    async fn review_break_glass(
        &self,
        id: i64,
        by: &str,
        verdict: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
}

pub(crate) fn pid(raw: i64, what: &'static str) -> StoreResult<PersonalId> {
    PersonalId::from_number(raw as u64).map_err(|_| crate::StoreError::Corrupt(what.into()))
}

pub(crate) const VENUE_COLUMNS: &str = "id, name, kind, commune_code, address, latitude, longitude, \
    stay_minutes, owner, active, created_at";
pub(crate) const TEST_COLUMNS: &str =
    "id, personal_id, kind, sampled_at, result, lab, lab_ref, recorded_by, recorded_at";
pub(crate) const CASE_COLUMNS: &str = "case_id, personal_id, test_id, sampled_at, onset_on, \
    isolated_at, confirmed_by, confirmed_at, recovered_on, commune_code";
pub(crate) const CONTACT_COLUMNS: &str = "case_id, personal_id, level, via, kind, exposed_at, \
    overlap_secs, evidence, commune_code, traced_at";
pub(crate) const QUARANTINE_COLUMNS: &str = "id, personal_id, kind, place, starts_on, ends_on, \
    case_id, ordered_by, released_on, commune_code";
pub(crate) const BREAK_GLASS_COLUMNS: &str =
    "id, actor, role, personal_id, reason, at, reviewed_by, verdict";

/// Column access both backends' rows offer, so each row type is mapped once.
pub(crate) trait Cells {
    fn int(&self, i: usize) -> StoreResult<i64>;
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>>;
    fn text(&self, i: usize) -> StoreResult<String>;
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>>;
    fn opt_real(&self, i: usize) -> StoreResult<Option<f64>>;
    fn flag(&self, i: usize) -> StoreResult<bool>;
}

pub(crate) fn venue_from(r: &impl Cells) -> StoreResult<StoredVenue> {
    Ok(StoredVenue {
        id: r.int(0)?,
        name: r.text(1)?,
        kind: r.text(2)?,
        commune_code: r.text(3)?,
        address: r.text(4)?,
        latitude: r.opt_real(5)?,
        longitude: r.opt_real(6)?,
        stay_minutes: r.int(7)? as u32,
        owner: r.text(8)?,
        active: r.flag(9)?,
        created_at: crate::from_unix_micros(r.int(10)?),
    })
}

pub(crate) fn test_from(r: &impl Cells) -> StoreResult<StoredTest> {
    Ok(StoredTest {
        id: r.int(0)?,
        personal_id: pid(r.int(1)?, "test_results.personal_id")?,
        kind: r.text(2)?,
        sampled_at: crate::from_unix_micros(r.int(3)?),
        result: r.text(4)?,
        lab: r.text(5)?,
        lab_ref: r.text(6)?,
        recorded_by: r.text(7)?,
        recorded_at: crate::from_unix_micros(r.int(8)?),
    })
}

pub(crate) fn case_from(r: &impl Cells) -> StoreResult<StoredCase> {
    Ok(StoredCase {
        case_id: r.text(0)?,
        personal_id: pid(r.int(1)?, "cases.personal_id")?,
        test_id: r.int(2)?,
        sampled_at: crate::from_unix_micros(r.int(3)?),
        onset_on: r.opt_text(4)?,
        isolated_at: r.opt_int(5)?.map(crate::from_unix_micros),
        confirmed_by: r.text(6)?,
        confirmed_at: crate::from_unix_micros(r.int(7)?),
        recovered_on: r.opt_text(8)?,
        commune_code: r.text(9)?,
    })
}

pub(crate) fn contact_from(r: &impl Cells) -> StoreResult<StoredContact> {
    Ok(StoredContact {
        case_id: r.text(0)?,
        personal_id: pid(r.int(1)?, "contacts.personal_id")?,
        level: r.int(2)? as u8,
        via: r.opt_int(3)?.map(|v| pid(v, "contacts.via")).transpose()?,
        kind: r.text(4)?,
        exposed_at: r.int(5)?,
        overlap_secs: r.int(6)?,
        evidence: r.text(7)?,
        commune_code: r.text(8)?,
        traced_at: crate::from_unix_micros(r.int(9)?),
    })
}

pub(crate) fn quarantine_from(r: &impl Cells) -> StoreResult<StoredQuarantine> {
    Ok(StoredQuarantine {
        id: r.int(0)?,
        personal_id: pid(r.int(1)?, "quarantines.personal_id")?,
        kind: r.text(2)?,
        place: r.opt_text(3)?,
        starts_on: r.text(4)?,
        ends_on: r.text(5)?,
        case_id: r.opt_text(6)?,
        ordered_by: r.text(7)?,
        released_on: r.opt_text(8)?,
        commune_code: r.text(9)?,
    })
}

pub(crate) fn break_glass_from(r: &impl Cells) -> StoreResult<BreakGlass> {
    Ok(BreakGlass {
        id: r.int(0)?,
        actor: r.text(1)?,
        role: r.text(2)?,
        personal_id: pid(r.int(3)?, "break_glass.personal_id")?,
        reason: r.text(4)?,
        at: crate::from_unix_micros(r.int(5)?),
        reviewed_by: r.opt_text(6)?,
        verdict: r.opt_text(7)?,
    })
}

pub(crate) fn stay_from(r: &impl Cells) -> StoreResult<Stay> {
    Ok(Stay {
        personal_id: pid(r.int(0)?, "checkins.personal_id")?,
        venue_id: r.int(1)?,
        start: r.int(2)?,
        end: r.int(3)?,
    })
}

/// Orders stays by person, then time (what `stays_of_people` promises).
pub(crate) fn sort_stays(stays: &mut [Stay]) {
    stays.sort_unstable_by_key(|s| (s.personal_id, s.start, s.venue_id));
}
