//! Declarations, their routing to commune police inboxes, checkpoints and scans, outbreak areas,
//! and the retention purge: the types and the interface both backends implement.

use async_trait::async_trait;
use serde::Serialize;
use time::{Date, OffsetDateTime};
use vaxtrace_domain::PersonalId;

use crate::StoreResult;

/// A checked declaration to store, with the inboxes it goes to.
#[derive(Debug, Clone)]
pub struct NewDeclaration {
    pub personal_id: PersonalId,
    pub subject_ref: [u8; 8],
    pub declared_by: String,
    pub source: String,
    /// The legacy app's own key; `None` for declarations made here.
    pub source_ref: Option<String>,
    pub submitted_at: OffsetDateTime,
    /// JSON of the checked declaration.
    pub body: String,
    pub health_risk: bool,
    pub from_outbreak: bool,
    pub origin_unit: String,
    pub destination_unit: String,
    pub travel_date: Date,
    pub pass_expires_at: OffsetDateTime,
    /// `(commune, why)`: one per commune, e.g. `("30730", "permanent,destination")`.
    pub routes: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDeclaration {
    pub id: i64,
    pub personal_id: PersonalId,
    #[serde(skip)]
    pub subject_ref: [u8; 8],
    pub declared_by: String,
    pub source: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    #[serde(skip)]
    pub body: String,
    pub health_risk: bool,
    pub from_outbreak: bool,
    pub origin_unit: String,
    pub destination_unit: String,
    pub travel_date: String,
    #[serde(with = "time::serde::rfc3339")]
    pub pass_expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// What a commune police officer filters the inbox by.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub commune: String,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    /// Arrivals from this province (2-digit code).
    pub origin_province: Option<String>,
    pub health_risk_only: bool,
    pub from_outbreak_only: bool,
    pub unacknowledged_only: bool,
    /// Newest first: only declarations with a smaller ID (`0` = from the newest).
    pub before_id: i64,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxEntry {
    pub declaration: StoredDeclaration,
    pub routes: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<String>,
}

/// Counts per commune, for district and province overviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxCount {
    pub commune_code: String,
    pub total: u64,
    pub health_risk: u64,
    pub from_outbreak: u64,
    pub unacknowledged: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checkpoint {
    pub code: String,
    pub name: String,
    pub commune_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct NewScan {
    pub checkpoint_code: String,
    pub officer: String,
    pub personal_id: Option<PersonalId>,
    pub declaration_id: Option<i64>,
    /// `pass` or `chip_qr`.
    pub method: &'static str,
    pub verdict: String,
    pub scanned_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredScan {
    pub id: i64,
    pub checkpoint_code: String,
    pub officer: String,
    pub declaration_id: Option<i64>,
    pub method: String,
    pub verdict: String,
    #[serde(with = "time::serde::rfc3339")]
    pub scanned_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutbreakArea {
    /// A province, district or commune code.
    pub unit_code: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub declared_by: String,
}

/// Rows deleted by a retention purge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub declarations: u64,
    pub inbox_entries: u64,
    pub scans: u64,
}

#[async_trait]
pub trait DeclarationStore: Send + Sync {
    /// Stores a declaration and its inbox rows in one transaction; returns its ID. A legacy
    /// `(source, source_ref)` seen before is a `Conflict`.
    async fn insert_declaration(&self, d: NewDeclaration) -> StoreResult<i64>;
    async fn declaration(&self, id: i64) -> StoreResult<Option<StoredDeclaration>>;
    /// The newest declaration of a citizen that is not revoked and whose pass is valid at `at`.
    async fn latest_valid_declaration(
        &self,
        id: PersonalId,
        at: OffsetDateTime,
    ) -> StoreResult<Option<StoredDeclaration>>;
    /// A citizen's declarations, newest first.
    async fn declarations_for_citizen(&self, id: PersonalId)
    -> StoreResult<Vec<StoredDeclaration>>;
    /// `Ok(false)` when revoked already; `NotFound` when unknown.
    async fn revoke_declaration(&self, id: i64, at: OffsetDateTime) -> StoreResult<bool>;
    /// Extends the pass of a declaration that is not revoked; `Ok(false)` when revoked or unknown.
    async fn renew_pass(&self, id: i64, expires_at: OffsetDateTime) -> StoreResult<bool>;

    async fn inbox(&self, filter: InboxFilter) -> StoreResult<Vec<InboxEntry>>;
    /// Counts per commune of `communes` (all communes when `None`) over `[from, to)`.
    async fn inbox_counts(
        &self,
        communes: Option<Vec<String>>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<InboxCount>>;
    /// Marks the commune's entries read; returns how many changed.
    async fn acknowledge(
        &self,
        commune: &str,
        ids: Vec<i64>,
        by: &str,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;

    async fn upsert_checkpoint(&self, c: Checkpoint) -> StoreResult<()>;
    async fn checkpoint(&self, code: &str) -> StoreResult<Option<Checkpoint>>;
    async fn checkpoints(&self) -> StoreResult<Vec<Checkpoint>>;
    async fn record_scan(&self, s: NewScan) -> StoreResult<i64>;
    /// A citizen's scans, newest first.
    async fn scans_for_citizen(&self, id: PersonalId) -> StoreResult<Vec<StoredScan>>;

    async fn add_outbreak_area(&self, a: OutbreakArea, at: OffsetDateTime) -> StoreResult<()>;
    /// Areas in force on `on`, or all when `None`.
    async fn outbreak_areas(&self, on: Option<Date>) -> StoreResult<Vec<OutbreakArea>>;

    /// Deletes declarations (with their inbox rows) submitted, valid and travelled before
    /// `before`, and scans from before it.
    async fn purge_movement_data(&self, before: OffsetDateTime) -> StoreResult<Purged>;
}

pub(crate) const DECLARATION_COLUMNS: &str = "id, personal_id, subject_ref, declared_by, source, \
    submitted_at, body, health_risk, from_outbreak, origin_unit, destination_unit, travel_date, \
    pass_expires_at, revoked_at";

/// A `declarations` row as both backends read it, in [`DECLARATION_COLUMNS`] order.
#[derive(Debug)]
pub(crate) struct DeclarationRow {
    pub id: i64,
    pub personal_id: i64,
    pub subject_ref: Vec<u8>,
    pub declared_by: String,
    pub source: String,
    pub submitted_at: i64,
    pub body: String,
    pub health_risk: bool,
    pub from_outbreak: bool,
    pub origin_unit: String,
    pub destination_unit: String,
    pub travel_date: String,
    pub pass_expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl DeclarationRow {
    pub fn into_declaration(self) -> StoreResult<StoredDeclaration> {
        Ok(StoredDeclaration {
            id: self.id,
            personal_id: PersonalId::from_number(self.personal_id as u64)
                .map_err(|_| crate::StoreError::Corrupt("declaration: personal_id".into()))?,
            subject_ref: self
                .subject_ref
                .try_into()
                .map_err(|_| crate::StoreError::Corrupt("declaration: subject_ref".into()))?,
            declared_by: self.declared_by,
            source: self.source,
            submitted_at: crate::from_unix_micros(self.submitted_at),
            body: self.body,
            health_risk: self.health_risk,
            from_outbreak: self.from_outbreak,
            origin_unit: self.origin_unit,
            destination_unit: self.destination_unit,
            travel_date: self.travel_date,
            pass_expires_at: crate::from_unix_micros(self.pass_expires_at),
            revoked_at: self.revoked_at.map(crate::from_unix_micros),
        })
    }
}

/// `YYYY-MM-DD`, as dates are stored.
pub(crate) fn day_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) fn parse_day(text: &str) -> StoreResult<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map_err(|_| crate::StoreError::Corrupt(format!("date {text:?}")))
}

/// The province (2-digit code) of a unit, for the inbox's origin filter.
pub(crate) fn province_of(unit: &str) -> String {
    vaxtrace_domain::admin_units()
        .lineage(unit)
        .last()
        .map_or_else(String::new, |u| u.code.to_owned())
}
