//! Storage for vaxtrace.
//!
//! Owns all SQL. One [`Store`] interface with two implementations — `SQLite` (WAL, the embedded
//! default) and `PostgreSQL` (for scale) — chosen once from the database URL by [`open`]. Each backend
//! owns its migrations (`migrations/<backend>/NNNN_name.sql`, forward-only). The same conformance
//! suite (`tests/conformance.rs`) runs against both. This crate knows nothing of HTTP or the CLI.

mod analytics;
mod audit;
pub mod backup;
mod certificates;
mod citizen_app;
mod citizen_row;
mod declarations;
mod error;
mod migrate;
mod postgres;
mod postgres_analytics;
mod postgres_certificates;
mod postgres_citizen_app;
mod postgres_declarations;
mod postgres_trace;
mod postgres_vaccinations;
mod sqlite;
mod sqlite_analytics;
mod sqlite_certificates;
mod sqlite_citizen_app;
mod sqlite_declarations;
mod sqlite_trace;
mod sqlite_vaccinations;
#[cfg(feature = "testing")]
pub mod testing;
mod trace;
mod vaccinations;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;
use vaxtrace_domain::{Citizen, Jurisdiction, PersonalId, Role};

pub use analytics::{
    AnalyticsSettings, AnalyticsStore, DaySum, DueCount, Family, FlowRows, NewCorrectionRequest,
    RecountReport, SeriesSum, StoredCorrectionRequest,
};
pub use audit::{AuditEntry, AuditVerification};
pub use certificates::{
    CertificateStore, ForeignDsc, NewCertificate, REVOKED_RECORD_CHANGED, StoredCertificate,
};
pub use citizen_app::{
    AccountPerson, AddPerson, CITIZEN_USERNAME_PREFIX, Challenge, CitizenAccount, CitizenAppStore,
    InsuranceCard, NewChallenge, NewCitizenAccount, OtpPurpose, Redeem, SendLimit,
};
pub use declarations::{
    Checkpoint, DeclarationStore, InboxCount, InboxEntry, InboxFilter, NewDeclaration, NewScan,
    OutbreakArea, Purged, StoredDeclaration, StoredScan,
};
pub use error::{StoreError, StoreResult};
pub use postgres::PostgresStore;
pub use sqlite::{SqliteStore, WRITER_CACHE_MIB};
pub use trace::{
    Area, BreakGlass, CheckinPurge, CheckoutOutcome, NewCase, NewCheckin, NewContact,
    NewQuarantine, NewTest, NewVenue, QuarantineFilter, StoredCase, StoredContact,
    StoredQuarantine, StoredTest, StoredVenue, TraceStore, day_of,
};
pub use vaccinations::{
    CandidateQuery, Change, Correction, InsertOutcome, LinkDecision, NewKey, NewShotRecord,
    NewSignature, QueueCount, RecordFilter, ReviewAction, ShotRecord, Signature, StoredKey,
    StoredStatus, VaccinationStore, VersionEntry,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The `PostgreSQL` cluster a database lives in: a streaming standby shares its primary's system
/// identifier and is in recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIdentity {
    pub system_identifier: String,
    pub in_recovery: bool,
}

/// How one batch of registry rows landed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for UpsertCounts {
    fn add_assign(&mut self, o: Self) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub jurisdiction: Jurisdiction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub jurisdiction: Jurisdiction,
    pub disabled: bool,
}

/// The one storage interface; handlers and commands hold an `Arc<dyn Store>`.
#[async_trait]
pub trait Store:
    VaccinationStore
    + CertificateStore
    + DeclarationStore
    + TraceStore
    + AnalyticsStore
    + CitizenAppStore
    + Send
    + Sync
    + Debug
{
    fn backend(&self) -> Backend;

    /// Applies pending migrations and makes sure every secondary index exists. Idempotent.
    async fn migrate(&self) -> StoreResult<Vec<String>>;

    /// The migrations this database has not applied, without changing it (so it works on a
    /// read-only hot standby).
    async fn pending_migrations(&self) -> StoreResult<Vec<String>>;

    /// What is wrong with the stored data at the storage level, empty when nothing: `SQLite`'s
    /// integrity check and rows whose foreign key points nowhere; on `PostgreSQL`, which enforces
    /// every key through its WAL, constraints left unvalidated. Reads the whole database.
    async fn integrity_problems(&self) -> StoreResult<Vec<String>>;

    /// How far this database's write-ahead log has got, as a byte position: written, on a
    /// primary; replayed, on a hot standby. `None` where there is no replication (`SQLite`).
    /// Comparing the two tells whether a standby already holds a given write.
    async fn wal_position(&self) -> StoreResult<Option<u64>>;

    /// Which cluster this database lives in; `None` without replication (`SQLite`).
    async fn cluster_identity(&self) -> StoreResult<Option<ClusterIdentity>>;

    /// Inserts or updates registry rows by personal ID in one transaction. A personal ID repeated
    /// within the batch counts once, its last occurrence winning.
    async fn upsert_citizens(&self, batch: Vec<Citizen>) -> StoreResult<UpsertCounts>;
    async fn citizen(&self, id: PersonalId) -> StoreResult<Option<Citizen>>;
    async fn count_citizens(&self) -> StoreResult<u64>;

    /// Starts a bulk load if the registry is empty (else returns false and changes nothing): drops
    /// the secondary indexes and empties the stage, so a re-run after a crash starts afresh.
    async fn begin_bulk_load(&self) -> StoreResult<bool>;
    /// Stages one batch of a bulk load, one transaction per call. Returns the rows already merged
    /// into the registry, for a backend that merges while staging (none does today).
    async fn stage_citizens(&self, batch: Vec<Citizen>) -> StoreResult<UpsertCounts>;
    /// Completes a bulk load: merges what is staged (the last occurrence of a repeated ID wins and
    /// counts as an update) and builds the secondary indexes. Returns the rows it merged.
    async fn finish_bulk_load(&self) -> StoreResult<UpsertCounts>;

    async fn create_user(&self, user: NewUser) -> StoreResult<i64>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn create_session(
        &self,
        token_hash: [u8; 32],
        user_id: i64,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The user behind an unexpired session of an enabled account, and when the session expires.
    async fn session_user(
        &self,
        token_hash: [u8; 32],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(User, OffsetDateTime)>>;
    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()>;
    async fn purge_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;

    /// Records a password login attempt of one username (by its hash) and returns the attempts
    /// since `since`, this one included; that username's older attempts are dropped. The insert
    /// commits before the count, so of attempts racing each other the k-th counts at least k.
    async fn record_login_attempt(
        &self,
        username_hash: [u8; 32],
        at: OffsetDateTime,
        since: OffsetDateTime,
    ) -> StoreResult<u32>;
    /// Forgets a username's attempts (after a successful login).
    async fn clear_login_failures(&self, username_hash: [u8; 32]) -> StoreResult<()>;

    /// Appends entries to the hash-chained audit log in one transaction, serialised against every
    /// other writer (also across servers).
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> StoreResult<()>;
    /// Audit entries about one subject, oldest first.
    async fn audit_for_subject(&self, subject: &str) -> StoreResult<Vec<audit::StoredAudit>>;
    /// Recomputes the chain from the first entry and reports the first broken link.
    async fn verify_audit(&self) -> StoreResult<AuditVerification>;
}

/// Opens the store named by a URL: `sqlite:PATH` (or a bare path) or `postgres://…`.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    open_with(url, &OpenOptions::default()).await
}

/// How to open a database, beyond its URL.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `SQLite`: the writer's page cache in MiB (default [`WRITER_CACHE_MIB`]).
    pub sqlite_cache_mib: Option<u32>,
}

pub async fn open_with(url: &str, options: &OpenOptions) -> StoreResult<Arc<dyn Store>> {
    match backup::Location::of(url) {
        backup::Location::Postgres(url) => Ok(Arc::new(PostgresStore::connect(&url).await?)),
        backup::Location::Sqlite(path) => {
            let cache = options.sqlite_cache_mib.unwrap_or(WRITER_CACHE_MIB);
            Ok(Arc::new(SqliteStore::open_with_cache(path, cache).await?))
        }
    }
}

/// Shows a database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Replaces the database name of a `PostgreSQL` URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[host_start..].find('/') {
        Some(slash) => &base[..host_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// Secondary indexes of the registry, in the SQL both backends accept. Dropped for bulk loads into an
/// empty registry and rebuilt by `migrate`.
pub(crate) const CITIZEN_INDEXES: [(&str, &str); 6] = [
    (
        "citizens_permanent_unit_birth",
        "CREATE INDEX IF NOT EXISTS citizens_permanent_unit_birth ON citizens (permanent_unit, birth_date)",
    ),
    (
        "citizens_phone",
        "CREATE INDEX IF NOT EXISTS citizens_phone ON citizens (phone) WHERE phone IS NOT NULL",
    ),
    (
        "citizens_temporary_unit",
        "CREATE INDEX IF NOT EXISTS citizens_temporary_unit ON citizens (temporary_unit) WHERE temporary_unit IS NOT NULL",
    ),
    (
        "citizens_name_key",
        "CREATE INDEX IF NOT EXISTS citizens_name_key ON citizens (name_key, birth_date)",
    ),
    (
        "citizens_legacy_id",
        "CREATE INDEX IF NOT EXISTS citizens_legacy_id ON citizens (legacy_id) WHERE legacy_id IS NOT NULL",
    ),
    (
        "citizens_household",
        "CREATE INDEX IF NOT EXISTS citizens_household ON citizens (household_id) WHERE household_id IS NOT NULL",
    ),
];

pub(crate) fn unix_micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

pub(crate) fn from_unix_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Keeps the last occurrence of each personal ID, sorted by ID (B-tree friendly insert order).
pub(crate) fn dedupe_sorted(mut batch: Vec<Citizen>) -> Vec<Citizen> {
    // Stable sort keeps input order among equal IDs, so the last one is the newest.
    batch.sort_by_key(|c| c.personal_id);
    let mut out: Vec<Citizen> = Vec::with_capacity(batch.len());
    for c in batch {
        match out.last_mut() {
            Some(last) if last.personal_id == c.personal_id => *last = c,
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres", "x"),
            "postgres://u@h:5/x"
        );
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite:vaxtrace.db"), "sqlite:vaxtrace.db");
    }
}
