//! `SQLite` backend: WAL mode, one writer connection (`SQLite` allows one writer at a time) and a small
//! pool of read-only connections; every call runs on tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use vaxtrace_domain::{Citizen, Jurisdiction, PersonalId, Role};

use crate::audit::{self, AuditEntry, AuditVerification, ChainVerifier, StoredAudit};
use vaxtrace_analytics::Deltas;

use crate::analytics::{AnalyticsStore, MemberWrite, facts_of, member_moved, registry_changed};
use crate::citizen_row::{COLUMNS, CitizenRow};
use crate::sqlite_analytics;
use crate::{
    Backend, CITIZEN_INDEXES, ClusterIdentity, NewUser, Store, StoreError, StoreResult,
    UpsertCounts, User, dedupe_sorted, from_unix_micros, migrate, unix_micros,
};

const MAX_READERS: usize = 8;
/// Default page cache of the writer: a large one is what keeps random-key inserts into the
/// registry B-tree fast.
pub const WRITER_CACHE_MIB: u32 = 512;
/// A reader's page cache, at most: readers touch few pages each.
const READER_CACHE_MIB: u32 = 32;

#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    cache_kib: u32,
    writer: Arc<Mutex<Connection>>,
    idle_readers: Arc<Mutex<Vec<Connection>>>,
    reader_slots: Arc<Semaphore>,
}

/// `writer_cache_kib` is the writer's page cache; readers get at most [`READER_CACHE_MIB`].
fn open_connection(path: &Path, read_only: bool, writer_cache_kib: u32) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    // Process crashes lose nothing under WAL + NORMAL; only an OS crash may lose the last commits.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;",
    )?;
    let cache_kib = if read_only {
        writer_cache_kib.min(READER_CACHE_MIB * 1024)
    } else {
        writer_cache_kib
    };
    conn.execute_batch(&format!("PRAGMA cache_size = -{cache_kib};"))?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON;")?;
    }
    Ok(conn)
}

/// Detaches and deletes a bulk stage left by this or an interrupted earlier load.
fn detach_stage(conn: &Connection, stage: &Path) -> StoreResult<()> {
    let attached: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_database_list WHERE name = 'bulk')",
        [],
        |r| r.get(0),
    )?;
    if attached {
        conn.execute_batch("DETACH DATABASE bulk")?;
    }
    match std::fs::remove_file(stage) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Database(format!(
            "cannot remove the bulk stage: {e}"
        ))),
        _ => Ok(()),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll back).
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SqliteStore {
    pub async fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::open_with_cache(path, WRITER_CACHE_MIB).await
    }

    /// With the writer's page cache at `megabytes` MiB (readers' at most 32 MiB): the memory the
    /// database may hold beyond the server's own, which grows to it as the data is touched.
    pub async fn open_with_cache(path: impl AsRef<Path>, megabytes: u32) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        let cache_kib = megabytes.clamp(1, 65_536) * 1024;
        if path.as_os_str().is_empty() || path == Path::new(":memory:") {
            return Err(StoreError::Config(
                "SQLite needs a file path (WAL mode)".into(),
            ));
        }
        let p = path.clone();
        let writer =
            tokio::task::spawn_blocking(move || open_connection(&p, false, cache_kib)).await??;
        Ok(Self {
            path,
            cache_kib,
            writer: Arc::new(Mutex::new(writer)),
            idle_readers: Arc::new(Mutex::new(Vec::new())),
            reader_slots: Arc::new(Semaphore::new(MAX_READERS)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bulk-load stage: a scratch database file beside the registry.
    fn stage_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".bulk-stage");
        self.path.with_file_name(name)
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let writer = Arc::clone(&self.writer);
        tokio::task::spawn_blocking(move || f(&mut lock(&writer))).await?
    }

    /// A primary-key read on the calling thread: it takes microseconds, less than a hop to the
    /// blocking pool, and WAL readers never wait for the writer.
    pub(crate) fn read_now<T>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let conn = match lock(&self.idle_readers).pop() {
            Some(c) => c,
            None => open_connection(&self.path, true, self.cache_kib)?,
        };
        let out = f(&conn);
        lock(&self.idle_readers).push(conn);
        out
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let _slot = self
            .reader_slots
            .acquire()
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let idle = Arc::clone(&self.idle_readers);
        let (path, cache_kib) = (self.path.clone(), self.cache_kib);
        tokio::task::spawn_blocking(move || {
            let conn = match lock(&idle).pop() {
                Some(c) => c,
                None => open_connection(&path, true, cache_kib)?,
            };
            let out = f(&conn);
            lock(&idle).push(conn);
            out
        })
        .await?
    }
}

/// One citizen's column values, in [`COLUMNS`] order.
struct CitizenParams<'a> {
    id: i64,
    full_name: &'a str,
    name_key: String,
    birth_date: String,
    sex: &'static str,
    permanent_unit: &'static str,
    permanent_address: &'a str,
    temporary_unit: Option<&'static str>,
    temporary_address: Option<&'a str>,
    phone: Option<&'a str>,
    legacy_id: Option<&'a str>,
    household_id: Option<&'a str>,
    status: &'static str,
    now: i64,
}

fn citizen_params(c: &Citizen, now: i64) -> CitizenParams<'_> {
    CitizenParams {
        id: c.personal_id.as_number() as i64,
        full_name: c.full_name.as_str(),
        name_key: c.full_name.folded_key(),
        birth_date: c.birth_date.to_string(),
        sex: c.sex.code(),
        permanent_unit: c.permanent.unit_code,
        permanent_address: &c.permanent.address,
        temporary_unit: c.temporary.as_ref().map(|t| t.unit_code),
        temporary_address: c.temporary.as_ref().map(|t| t.address.as_str()),
        phone: c.phone.as_ref().map(vaxtrace_domain::Phone::as_str),
        legacy_id: c.legacy_id.as_ref().map(vaxtrace_domain::LegacyId::as_str),
        household_id: c.household_id.as_deref(),
        status: c.status.code(),
        now,
    }
}

impl CitizenParams<'_> {
    fn as_params(&self) -> [&dyn rusqlite::ToSql; 14] {
        [
            &self.id,
            &self.full_name,
            &self.name_key,
            &self.birth_date,
            &self.sex,
            &self.permanent_unit,
            &self.permanent_address,
            &self.temporary_unit,
            &self.temporary_address,
            &self.phone,
            &self.legacy_id,
            &self.household_id,
            &self.status,
            &self.now,
        ]
    }
}

pub(crate) fn citizen_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CitizenRow> {
    Ok(CitizenRow {
        personal_id: r.get(0)?,
        full_name: r.get(1)?,
        birth_date: r.get(3)?,
        sex: r.get(4)?,
        permanent_unit: r.get(5)?,
        permanent_address: r.get(6)?,
        temporary_unit: r.get(7)?,
        temporary_address: r.get(8)?,
        phone: r.get(9)?,
        legacy_id: r.get(10)?,
        household_id: r.get(11)?,
        status: r.get(12)?,
    })
}

fn user_from_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(i64, String, String, String, String, bool)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(crate) fn build_user(
    (id, username, password_hash, role, jurisdiction, disabled): (
        i64,
        String,
        String,
        String,
        String,
        bool,
    ),
) -> StoreResult<User> {
    let corrupt = |e: vaxtrace_domain::ParseError| StoreError::Corrupt(e.to_string());
    Ok(User {
        id,
        username,
        password_hash,
        role: role.parse::<Role>().map_err(corrupt)?,
        jurisdiction: Jurisdiction::parse(&jurisdiction).map_err(corrupt)?,
        disabled,
    })
}

fn stored_audit(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAudit> {
    Ok(StoredAudit {
        seq: r.get(0)?,
        at: from_unix_micros(r.get(1)?),
        actor: r.get(2)?,
        role: r.get(3)?,
        action: r.get(4)?,
        subject: r.get(5)?,
        purpose: r.get(6)?,
        detail: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

const AUDIT_COLUMNS: &str =
    "seq, at, actor, role, action, subject, purpose, detail, prev_hash, hash";

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> StoreResult<Vec<String>> {
        let applied = self.write(|conn| {
            conn.execute_batch(migrate::CREATE_TABLE)?;
            let mut applied = Vec::new();
            for m in migrate::SQLITE {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let done: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                    [m.version],
                    |r| r.get(0),
                )?;
                if !done {
                    tx.execute_batch(m.sql)?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                        params![m.version, m.name, unix_micros(OffsetDateTime::now_utc())],
                    )?;
                    applied.push(m.name.to_owned());
                }
                tx.commit()?;
            }
            for (_, sql) in CITIZEN_INDEXES {
                conn.execute_batch(sql)?;
            }
            Ok(applied)
        })
        .await?;
        crate::analytics::count_existing_data(self).await?;
        Ok(applied)
    }

    async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        let applied = self
            .read(|conn| {
                let exists: bool = conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                     WHERE type = 'table' AND name = 'schema_migrations')",
                    [],
                    |r| r.get(0),
                )?;
                if !exists {
                    return Ok(Vec::new());
                }
                let mut stmt = conn.prepare("SELECT version FROM schema_migrations")?;
                let versions = stmt
                    .query_map([], |r| r.get::<_, i64>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(versions)
            })
            .await?;
        Ok(migrate::pending(migrate::SQLITE, &applied))
    }

    async fn integrity_problems(&self) -> StoreResult<Vec<String>> {
        self.read(|conn| {
            let mut problems: Vec<String> = conn
                .prepare("PRAGMA integrity_check")?
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|line| line != "ok")
                .collect();
            let mut orphans = conn.prepare("PRAGMA foreign_key_check")?;
            let found = orphans.query_map([], |r| {
                Ok(format!(
                    "{} row {} points to a missing {} row",
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                    r.get::<_, String>(2)?
                ))
            })?;
            for orphan in found {
                problems.push(orphan?);
            }
            Ok(problems)
        })
        .await
    }

    async fn wal_position(&self) -> StoreResult<Option<u64>> {
        Ok(None)
    }

    async fn cluster_identity(&self) -> StoreResult<Option<ClusterIdentity>> {
        Ok(None)
    }

    async fn upsert_citizens(&self, batch: Vec<Citizen>) -> StoreResult<UpsertCounts> {
        let batch = dedupe_sorted(batch);
        self.write(move |conn| {
            let now = unix_micros(OffsetDateTime::now_utc());
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut counts = UpsertCounts::default();
            {
                let mut insert = tx.prepare_cached(&format!(
                    "INSERT OR IGNORE INTO citizens ({COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ))?;
                let mut update = tx.prepare_cached(
                    "UPDATE citizens SET full_name = ?2, name_key = ?3, birth_date = ?4, sex = ?5, \
                     permanent_unit = ?6, permanent_address = ?7, temporary_unit = ?8, temporary_address = ?9, \
                     phone = ?10, legacy_id = ?11, household_id = ?12, status = ?13, updated_at = ?14 \
                     WHERE personal_id = ?1 AND (full_name IS NOT ?2 OR birth_date IS NOT ?4 OR sex IS NOT ?5 \
                     OR permanent_unit IS NOT ?6 OR permanent_address IS NOT ?7 OR temporary_unit IS NOT ?8 \
                     OR temporary_address IS NOT ?9 OR phone IS NOT ?10 OR legacy_id IS NOT ?11 \
                     OR household_id IS NOT ?12 OR status IS NOT ?13)",
                )?;
                let settings = sqlite_analytics::settings(&tx)?;
                let mut deltas = Deltas::new();
                for c in &batch {
                    let row = citizen_params(c, now);
                    let values = row.as_params();
                    let pid = c.personal_id.as_number() as i64;
                    if insert.execute(values)? == 1 {
                        counts.inserted += 1;
                        registry_changed(None, &facts_of(c), settings.residence, &mut deltas)?;
                        continue;
                    }
                    let old = sqlite_analytics::facts(&tx, pid)?;
                    if update.execute(values)? == 1 {
                        counts.updated += 1;
                        let moved = registry_changed(old.as_ref(), &facts_of(c), settings.residence, &mut deltas)?;
                        if let Some(now) = moved.filter(|_| settings.live)
                            && let Some(member) = sqlite_analytics::member_row(&tx, pid)?
                        {
                            let row = member_moved(&member, &now, &mut deltas)?;
                            let write = MemberWrite::Put(row);
                            sqlite_analytics::write_member(&tx, "coverage_members", pid, write)?;
                        }
                    } else {
                        counts.unchanged += 1;
                    }
                }
                if settings.live {
                    sqlite_analytics::flush(&tx, deltas)?;
                }
            }
            tx.commit()?;
            Ok(counts)
        })
        .await
    }

    async fn citizen(&self, id: PersonalId) -> StoreResult<Option<Citizen>> {
        let row = self.read_now(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM citizens WHERE personal_id = ?1"
            ))?;
            Ok(stmt
                .query_row([id.as_number() as i64], citizen_from_row)
                .optional()?)
        })?;
        row.map(CitizenRow::into_citizen).transpose()
    }

    async fn count_citizens(&self) -> StoreResult<u64> {
        self.read(|conn| {
            Ok(conn.query_row("SELECT count(*) FROM citizens", [], |r| r.get::<_, i64>(0))? as u64)
        })
        .await
    }

    async fn begin_bulk_load(&self) -> StoreResult<bool> {
        let stage = self.stage_path();
        self.write(move |conn| {
            let empty: bool = conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM citizens)", [], |r| r.get(0))?;
            if empty {
                for (name, _) in CITIZEN_INDEXES {
                    conn.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
                }
                detach_stage(conn, &stage)?;
                // The stage is disposable (a re-run rebuilds it), so it needs no journal and no fsync.
                conn.execute("ATTACH DATABASE ?1 AS bulk", [stage.to_string_lossy()])?;
                conn.execute_batch(&format!(
                    "PRAGMA bulk.journal_mode = OFF; PRAGMA bulk.synchronous = OFF;
                     CREATE TABLE bulk.citizens_stage AS SELECT {COLUMNS} FROM main.citizens WHERE 0;"
                ))?;
            }
            Ok(empty)
        })
        .await
    }

    async fn stage_citizens(&self, batch: Vec<Citizen>) -> StoreResult<UpsertCounts> {
        self.write(move |conn| {
            let now = unix_micros(OffsetDateTime::now_utc());
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare_cached(&format!(
                    "INSERT INTO bulk.citizens_stage ({COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ))?;
                for c in &batch {
                    insert.execute(citizen_params(c, now).as_params())?;
                }
            }
            tx.commit()?;
            Ok(UpsertCounts::default())
        })
        .await
    }

    async fn finish_bulk_load(&self) -> StoreResult<UpsertCounts> {
        let stage = self.stage_path();
        let cache_kib = self.cache_kib;
        let counts = self
            .write(move |conn| {
                // Sorts of a whole registry spill to temporary files; a smaller page cache while they
                // run keeps the sorter's memory (sized from it) well under 1 GiB at 100M rows.
                conn.execute_batch(
                    "PRAGMA temp_store = FILE; PRAGMA cache_size = -131072; PRAGMA threads = 2",
                )?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let staged: i64 =
                    tx.query_row("SELECT count(*) FROM bulk.citizens_stage", [], |r| r.get(0))?;
                // In key order the registry B-tree grows by appends and each page is written once.
                // REPLACE keeps the last occurrence of an ID repeated in the file.
                tx.execute_batch(&format!(
                    "INSERT OR REPLACE INTO main.citizens ({COLUMNS}) \
                 SELECT {COLUMNS} FROM bulk.citizens_stage ORDER BY personal_id, rowid"
                ))?;
                let inserted: i64 =
                    tx.query_row("SELECT count(*) FROM main.citizens", [], |r| r.get(0))?;
                tx.commit()?;
                detach_stage(conn, &stage)?;
                for (_, sql) in CITIZEN_INDEXES {
                    conn.execute_batch(sql)?;
                }
                conn.execute_batch(&format!(
                    "PRAGMA threads = 0; PRAGMA cache_size = -{cache_kib}"
                ))?;
                Ok(UpsertCounts {
                    inserted: inserted as u64,
                    updated: (staged - inserted) as u64,
                    unchanged: 0,
                })
            })
            .await?;
        // The registry was empty: its population counters are counted afresh.
        self.recount(true, None, OffsetDateTime::now_utc()).await?;
        Ok(counts)
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<i64> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO users (username, password_hash, role, jurisdiction, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    user.username,
                    user.password_hash,
                    user.role.code(),
                    user.jurisdiction.code(),
                    unix_micros(OffsetDateTime::now_utc())
                ],
            )
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("username already exists".into()),
                other => other,
            })?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let username = username.to_owned();
        let row = self
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, username, password_hash, role, jurisdiction, disabled FROM users WHERE username = ?1",
                )?;
                Ok(stmt.query_row([username], user_from_row).optional()?)
            })
            .await?;
        row.map(build_user).transpose()
    }

    async fn create_session(
        &self,
        token_hash: [u8; 32],
        user_id: i64,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                &token_hash[..],
                user_id,
                unix_micros(OffsetDateTime::now_utc()),
                unix_micros(expires_at)
            ])?;
            Ok(())
        })
        .await
    }

    async fn session_user(
        &self,
        token_hash: [u8; 32],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(User, OffsetDateTime)>> {
        let row = self.read_now(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT u.id, u.username, u.password_hash, u.role, u.jurisdiction, u.disabled, s.expires_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
            )?;
            Ok(stmt
                .query_row(params![&token_hash[..], unix_micros(now)], |r| Ok((user_from_row(r)?, r.get::<_, i64>(6)?)))
                .optional()?)
        })?;
        row.map(|(u, expires)| Ok((build_user(u)?, from_unix_micros(expires))))
            .transpose()
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                [&token_hash[..]],
            )?;
            Ok(())
        })
        .await
    }

    async fn purge_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        self.write(move |conn| {
            // Spent and expired one-time codes go too, once past the sending-limit window.
            conn.execute(
                "DELETE FROM otp_challenges WHERE expires_at <= ?1",
                [unix_micros(now - time::Duration::DAY)],
            )?;
            conn.execute(
                "DELETE FROM login_failures WHERE failed_at <= ?1",
                [unix_micros(now - time::Duration::DAY)],
            )?;
            Ok(conn.execute(
                "DELETE FROM sessions WHERE expires_at <= ?1",
                [unix_micros(now)],
            )? as u64)
        })
        .await
    }

    async fn record_login_attempt(
        &self,
        username_hash: [u8; 32],
        at: OffsetDateTime,
        since: OffsetDateTime,
    ) -> StoreResult<u32> {
        // One writer: the delete, insert and count of one attempt run without another between.
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM login_failures WHERE username_hash = ?1 AND failed_at < ?2",
                params![&username_hash[..], unix_micros(since)],
            )?;
            tx.execute(
                "INSERT INTO login_failures (username_hash, failed_at) VALUES (?1, ?2)",
                params![&username_hash[..], unix_micros(at)],
            )?;
            let count = tx.query_row(
                "SELECT count(*) FROM login_failures WHERE username_hash = ?1 AND failed_at >= ?2",
                params![&username_hash[..], unix_micros(since)],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok(count)
        })
        .await
    }

    async fn clear_login_failures(&self, username_hash: [u8; 32]) -> StoreResult<()> {
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM login_failures WHERE username_hash = ?1",
                [&username_hash[..]],
            )?;
            Ok(())
        })
        .await
    }

    async fn append_audit(&self, entries: Vec<AuditEntry>) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (mut seq, mut prev): (i64, Vec<u8>) = tx
                .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .unwrap_or((0, audit::GENESIS.to_vec()));
            {
                let mut insert = tx.prepare_cached(&format!(
                    "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))?;
                for e in &entries {
                    seq += 1;
                    let at = unix_micros(e.at);
                    let hash = audit::chain_hash(&prev, seq, at, &e.into());
                    insert.execute(params![
                        seq, at, e.actor, e.role, e.action, e.subject, e.purpose, e.detail, prev, &hash[..]
                    ])?;
                    prev = hash.to_vec();
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn audit_for_subject(&self, subject: &str) -> StoreResult<Vec<StoredAudit>> {
        let subject = subject.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE subject = ?1 ORDER BY seq"
            ))?;
            let rows = stmt
                .query_map([subject], stored_audit)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn verify_audit(&self) -> StoreResult<AuditVerification> {
        self.read(|conn| {
            let mut verifier = ChainVerifier::new();
            let mut stmt = conn.prepare(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                if !verifier.push(&stored_audit(row)?) {
                    break;
                }
            }
            Ok(verifier.result)
        })
        .await
    }
}
