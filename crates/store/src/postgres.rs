//! `PostgreSQL` backend: a deadpool connection pool over tokio-postgres. Bulk upserts stream rows with
//! binary COPY into a temporary stage and merge them in one statement.

use std::collections::{HashMap, HashSet};
use std::pin::pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use time::OffsetDateTime;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{NoTls, Row};
use vaxtrace_domain::{Citizen, PersonalId};

use vaxtrace_analytics::Deltas;

use crate::analytics::{AnalyticsStore, Facts, MemberWrite, member_moved, registry_changed};
use crate::audit::{self, AuditEntry, AuditVerification, ChainVerifier, StoredAudit};
use crate::citizen_row::{COLUMNS, CitizenRow, UPDATE_ALL};
use crate::postgres_analytics::{self, FACTS_COLUMNS};
use crate::sqlite::build_user;
use crate::{
    Backend, CITIZEN_INDEXES, ClusterIdentity, NewUser, Store, StoreError, StoreResult,
    UpsertCounts, User, dedupe_sorted, from_unix_micros, migrate, unix_micros,
};

/// Advisory lock key that serialises audit appends across every server sharing the database.
const AUDIT_LOCK: i64 = 0x7661_7874_6175_6474;
const POOL_SIZE: usize = 16;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: Pool,
    /// Check-in day partitions known to exist (see `postgres_trace`).
    partitions: Arc<Mutex<HashSet<i64>>>,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        // Fail now, with a clear message, rather than on the first request.
        drop(pool.get().await?);
        Ok(Self {
            pool,
            partitions: Arc::default(),
        })
    }
}

impl PostgresStore {
    pub(crate) fn lock_partitions(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub(crate) fn citizen_row(r: &Row) -> CitizenRow {
    CitizenRow {
        personal_id: r.get(0),
        full_name: r.get(1),
        birth_date: r.get(3),
        sex: r.get(4),
        permanent_unit: r.get(5),
        permanent_address: r.get(6),
        temporary_unit: r.get(7),
        temporary_address: r.get(8),
        phone: r.get(9),
        legacy_id: r.get(10),
        household_id: r.get(11),
        status: r.get(12),
    }
}

fn user_row(r: &Row) -> (i64, String, String, String, String, bool) {
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))
}

fn stored_audit(r: &Row) -> StoredAudit {
    StoredAudit {
        seq: r.get(0),
        at: from_unix_micros(r.get(1)),
        actor: r.get(2),
        role: r.get(3),
        action: r.get(4),
        subject: r.get(5),
        purpose: r.get(6),
        detail: r.get(7),
        prev_hash: r.get(8),
        hash: r.get(9),
    }
}

const AUDIT_COLUMNS: &str =
    "seq, at, actor, role, action, subject, purpose, detail, prev_hash, hash";
const AUDIT_PAGE: i64 = 10_000;

const STAGE_TYPES: [Type; 14] = [
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
];

/// Streams rows into `table` with binary COPY inside the caller's transaction.
async fn copy_citizens(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    batch: &[Citizen],
    now: i64,
) -> StoreResult<()> {
    let sink = tx
        .copy_in(&format!("COPY {table} ({COLUMNS}) FROM STDIN BINARY"))
        .await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &STAGE_TYPES));
    for c in batch {
        let temporary = c.temporary.as_ref();
        let row: [&(dyn ToSql + Sync); 14] = [
            &(c.personal_id.as_number() as i64),
            &c.full_name.as_str(),
            &c.full_name.folded_key(),
            &c.birth_date.to_string(),
            &c.sex.code(),
            &c.permanent.unit_code,
            &c.permanent.address,
            &temporary.map(|t| t.unit_code),
            &temporary.map(|t| t.address.as_str()),
            &c.phone.as_ref().map(vaxtrace_domain::Phone::as_str),
            &c.legacy_id.as_ref().map(vaxtrace_domain::LegacyId::as_str),
            &c.household_id.as_deref(),
            &c.status.code(),
            &now,
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> StoreResult<Vec<String>> {
        let mut client = self.pool.get().await?;
        client.batch_execute(migrate::CREATE_TABLE).await?;
        let mut applied = Vec::new();
        for m in migrate::POSTGRES {
            let tx = client.transaction().await?;
            // Serialises concurrent migrators (several servers starting at once).
            tx.execute("SELECT pg_advisory_xact_lock(1)", &[]).await?;
            let done: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)",
                    &[&m.version],
                )
                .await?
                .get(0);
            if !done {
                tx.batch_execute(m.sql).await?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    &[&m.version, &m.name, &unix_micros(OffsetDateTime::now_utc())],
                )
                .await?;
                applied.push(m.name.to_owned());
            }
            tx.commit().await?;
        }
        for (_, sql) in CITIZEN_INDEXES {
            client.batch_execute(sql).await?;
        }
        drop(client);
        crate::analytics::count_existing_data(self).await?;
        Ok(applied)
    }

    async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        let client = self.pool.get().await?;
        let exists: bool = client
            .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
            .await?
            .get(0);
        let applied: Vec<i64> = if exists {
            let rows = client
                .query("SELECT version FROM schema_migrations", &[])
                .await?;
            rows.iter().map(|r| r.get(0)).collect()
        } else {
            Vec::new()
        };
        Ok(migrate::pending(migrate::POSTGRES, &applied))
    }

    async fn integrity_problems(&self) -> StoreResult<Vec<String>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint \
                 WHERE NOT convalidated AND connamespace = current_schema()::regnamespace",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                format!(
                    "constraint {} of {} is not validated",
                    r.get::<_, String>(1),
                    r.get::<_, String>(0)
                )
            })
            .collect())
    }

    async fn wal_position(&self) -> StoreResult<Option<u64>> {
        let client = self.pool.get().await?;
        let position: Option<i64> = client
            .query_one(
                "SELECT ((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                 ELSE pg_current_wal_insert_lsn() END) - '0/0'::pg_lsn)::bigint",
                &[],
            )
            .await?
            .get(0);
        Ok(position.and_then(|p| u64::try_from(p).ok()))
    }

    async fn cluster_identity(&self) -> StoreResult<Option<ClusterIdentity>> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT system_identifier::text, pg_is_in_recovery() FROM pg_control_system()",
                &[],
            )
            .await?;
        Ok(Some(ClusterIdentity {
            system_identifier: row.get(0),
            in_recovery: row.get(1),
        }))
    }

    async fn upsert_citizens(&self, batch: Vec<Citizen>) -> StoreResult<UpsertCounts> {
        let batch = dedupe_sorted(batch);
        let total = batch.len() as u64;
        let now = unix_micros(OffsetDateTime::now_utc());
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(
            "CREATE TEMP TABLE IF NOT EXISTS citizens_stage (LIKE citizens) ON COMMIT DELETE ROWS",
        )
        .await?;
        copy_citizens(&tx, "citizens_stage", &batch, now).await?;
        let settings = postgres_analytics::settings(&*tx).await?;
        // What the counters saw of the rows about to change, locked until commit.
        let old: HashMap<i64, Facts> = tx
            .query(
                &format!(
                    "SELECT c.personal_id, {} FROM citizens c \
                     WHERE c.personal_id IN (SELECT personal_id FROM citizens_stage) FOR UPDATE",
                    FACTS_COLUMNS
                        .split(", ")
                        .map(|col| format!("c.{col}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), postgres_analytics::facts_row(r, 1)))
            .collect();
        let merged = tx
            .query(
                &format!(
                    "WITH merged AS (
                       INSERT INTO citizens ({COLUMNS}) SELECT {COLUMNS} FROM citizens_stage ORDER BY personal_id
                       ON CONFLICT (personal_id) DO UPDATE SET {UPDATE_ALL}
                       WHERE (citizens.full_name, citizens.birth_date, citizens.sex, citizens.permanent_unit,
                              citizens.permanent_address, citizens.temporary_unit, citizens.temporary_address,
                              citizens.phone, citizens.legacy_id, citizens.household_id, citizens.status)
                         IS DISTINCT FROM
                             (EXCLUDED.full_name, EXCLUDED.birth_date, EXCLUDED.sex, EXCLUDED.permanent_unit,
                              EXCLUDED.permanent_address, EXCLUDED.temporary_unit, EXCLUDED.temporary_address,
                              EXCLUDED.phone, EXCLUDED.legacy_id, EXCLUDED.household_id, EXCLUDED.status)
                       RETURNING (xmax = 0) AS inserted, personal_id, {FACTS_COLUMNS})
                     SELECT * FROM merged"
                ),
                &[],
            )
            .await?;
        let (mut inserted, mut updated) = (0, 0);
        let mut deltas = Deltas::new();
        let mut moved = Vec::new();
        for r in &merged {
            let is_new: bool = r.get(0);
            let pid: i64 = r.get(1);
            let facts = postgres_analytics::facts_row(r, 2);
            if is_new {
                inserted += 1;
            } else {
                updated += 1;
            }
            let was = if is_new { None } else { old.get(&pid) };
            if let Some(now) = registry_changed(was, &facts, settings.residence, &mut deltas)? {
                moved.push((pid, now));
            }
        }
        if settings.live {
            for (pid, now) in moved {
                if let Some(member) = postgres_analytics::member_row(&*tx, pid).await? {
                    let row = member_moved(&member, &now, &mut deltas)?;
                    postgres_analytics::write_member(
                        &*tx,
                        "coverage_members",
                        pid,
                        MemberWrite::Put(row),
                    )
                    .await?;
                }
            }
            postgres_analytics::flush(&*tx, deltas).await?;
        }
        tx.commit().await?;
        Ok(UpsertCounts {
            inserted,
            updated,
            unchanged: total - inserted - updated,
        })
    }

    async fn citizen(&self, id: PersonalId) -> StoreResult<Option<Citizen>> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM citizens WHERE personal_id = $1"
            ))
            .await?;
        let row = client.query_opt(&stmt, &[&(id.as_number() as i64)]).await?;
        row.map(|r| citizen_row(&r).into_citizen()).transpose()
    }

    async fn count_citizens(&self) -> StoreResult<u64> {
        let client = self.pool.get().await?;
        Ok(client
            .query_one("SELECT count(*) FROM citizens", &[])
            .await?
            .get::<_, i64>(0) as u64)
    }

    async fn begin_bulk_load(&self) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let empty: bool = client
            .query_one("SELECT NOT EXISTS (SELECT 1 FROM citizens)", &[])
            .await?
            .get(0);
        if empty {
            for (name, _) in CITIZEN_INDEXES {
                client
                    .batch_execute(&format!("DROP INDEX IF EXISTS {name}"))
                    .await?;
            }
            // Unlogged: after a crash the stage is rebuilt from the file anyway.
            client
                .batch_execute(
                    "DROP TABLE IF EXISTS citizens_bulk_stage;
                     CREATE UNLOGGED TABLE citizens_bulk_stage (LIKE citizens,
                         stage_seq BIGINT GENERATED ALWAYS AS IDENTITY)",
                )
                .await?;
        }
        Ok(empty)
    }

    async fn stage_citizens(&self, batch: Vec<Citizen>) -> StoreResult<UpsertCounts> {
        let now = unix_micros(OffsetDateTime::now_utc());
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        copy_citizens(&tx, "citizens_bulk_stage", &batch, now).await?;
        tx.commit().await?;
        Ok(UpsertCounts::default())
    }

    async fn finish_bulk_load(&self) -> StoreResult<UpsertCounts> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let staged: i64 = tx
            .query_one("SELECT count(*) FROM citizens_bulk_stage", &[])
            .await?
            .get(0);
        // Key order makes the primary-key B-tree grow by appends; the newest copy of an ID wins.
        let inserted = tx
            .execute(
                &format!(
                    "INSERT INTO citizens ({COLUMNS}) SELECT DISTINCT ON (personal_id) {COLUMNS} \
                     FROM citizens_bulk_stage ORDER BY personal_id, stage_seq DESC"
                ),
                &[],
            )
            .await?;
        tx.batch_execute("DROP TABLE citizens_bulk_stage").await?;
        tx.commit().await?;
        client
            .batch_execute("SET maintenance_work_mem = '256MB'")
            .await?;
        for (_, sql) in CITIZEN_INDEXES {
            client.batch_execute(sql).await?;
        }
        client.batch_execute("RESET maintenance_work_mem").await?;
        drop(client);
        // The registry was empty: its population counters are counted afresh.
        self.recount(true, None, OffsetDateTime::now_utc()).await?;
        Ok(UpsertCounts {
            inserted,
            updated: staged as u64 - inserted,
            unchanged: 0,
        })
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<i64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "INSERT INTO users (username, password_hash, role, jurisdiction, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &user.username,
                    &user.password_hash,
                    &user.role.code(),
                    &user.jurisdiction.code(),
                    &unix_micros(OffsetDateTime::now_utc()),
                ],
            )
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("username already exists".into()),
                other => other,
            })?;
        Ok(row.get(0))
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, username, password_hash, role, jurisdiction, disabled FROM users WHERE username = $1",
            )
            .await?;
        let row = client.query_opt(&stmt, &[&username]).await?;
        row.map(|r| build_user(user_row(&r))).transpose()
    }

    async fn create_session(
        &self,
        token_hash: [u8; 32],
        user_id: i64,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[
                    &&token_hash[..],
                    &user_id,
                    &unix_micros(OffsetDateTime::now_utc()),
                    &unix_micros(expires_at),
                ],
            )
            .await?;
        Ok(())
    }

    async fn session_user(
        &self,
        token_hash: [u8; 32],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(User, OffsetDateTime)>> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT u.id, u.username, u.password_hash, u.role, u.jurisdiction, u.disabled, s.expires_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled",
            )
            .await?;
        let row = client
            .query_opt(&stmt, &[&&token_hash[..], &unix_micros(now)])
            .await?;
        row.map(|r| Ok((build_user(user_row(&r))?, from_unix_micros(r.get(6)))))
            .transpose()
    }

    async fn delete_session(&self, token_hash: [u8; 32]) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "DELETE FROM sessions WHERE token_hash = $1",
                &[&&token_hash[..]],
            )
            .await?;
        Ok(())
    }

    async fn purge_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let client = self.pool.get().await?;
        // Spent and expired one-time codes go too, once past the sending-limit window.
        client
            .execute(
                "DELETE FROM otp_challenges WHERE expires_at <= $1",
                &[&unix_micros(now - time::Duration::DAY)],
            )
            .await?;
        client
            .execute(
                "DELETE FROM login_failures WHERE failed_at <= $1",
                &[&unix_micros(now - time::Duration::DAY)],
            )
            .await?;
        Ok(client
            .execute(
                "DELETE FROM sessions WHERE expires_at <= $1",
                &[&unix_micros(now)],
            )
            .await?)
    }

    async fn record_login_attempt(
        &self,
        username_hash: [u8; 32],
        at: OffsetDateTime,
        since: OffsetDateTime,
    ) -> StoreResult<u32> {
        let client = self.pool.get().await?;
        let key = &username_hash[..];
        client
            .execute(
                "DELETE FROM login_failures WHERE username_hash = $1 AND failed_at < $2",
                &[&key, &unix_micros(since)],
            )
            .await?;
        // Committed on its own before the count: racing attempts see each other.
        client
            .execute(
                "INSERT INTO login_failures (username_hash, failed_at) VALUES ($1, $2)",
                &[&key, &unix_micros(at)],
            )
            .await?;
        let count: i64 = client
            .query_one(
                "SELECT count(*) FROM login_failures WHERE username_hash = $1 AND failed_at >= $2",
                &[&key, &unix_micros(since)],
            )
            .await?
            .get(0);
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn clear_login_failures(&self, username_hash: [u8; 32]) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "DELETE FROM login_failures WHERE username_hash = $1",
                &[&&username_hash[..]],
            )
            .await?;
        Ok(())
    }

    async fn append_audit(&self, entries: Vec<AuditEntry>) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])
            .await?;
        let head = tx
            .query_opt(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .await?;
        let (mut seq, mut prev): (i64, Vec<u8>) =
            head.map_or((0, audit::GENESIS.to_vec()), |r| (r.get(0), r.get(1)));
        let n = entries.len();
        let (mut seqs, mut ats, mut prevs, mut hashes) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for e in &entries {
            seq += 1;
            let at = unix_micros(e.at);
            let hash = audit::chain_hash(&prev, seq, at, &e.into());
            seqs.push(seq);
            ats.push(at);
            prevs.push(std::mem::replace(&mut prev, hash.to_vec()));
            hashes.push(hash.to_vec());
        }
        let text = |f: fn(&AuditEntry) -> Option<&str>| entries.iter().map(f).collect::<Vec<_>>();
        tx.execute(
            &format!(
                "INSERT INTO audit_log ({AUDIT_COLUMNS}) SELECT * FROM UNNEST(\
                 $1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                 $8::text[], $9::bytea[], $10::bytea[])"
            ),
            &[
                &seqs,
                &ats,
                &text(|e| Some(&e.actor)),
                &text(|e| Some(&e.role)),
                &text(|e| Some(&e.action)),
                &text(|e| e.subject.as_deref()),
                &text(|e| Some(&e.purpose)),
                &text(|e| e.detail.as_deref()),
                &prevs,
                &hashes,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_for_subject(&self, subject: &str) -> StoreResult<Vec<StoredAudit>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE subject = $1 ORDER BY seq"),
                &[&subject],
            )
            .await?;
        Ok(rows.iter().map(stored_audit).collect())
    }

    async fn verify_audit(&self) -> StoreResult<AuditVerification> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
            ))
            .await?;
        let mut verifier = ChainVerifier::new();
        let mut after = 0i64;
        loop {
            let rows = client.query(&stmt, &[&after, &AUDIT_PAGE]).await?;
            for row in &rows {
                let entry = stored_audit(row);
                after = entry.seq;
                if !verifier.push(&entry) {
                    return Ok(verifier.result);
                }
            }
            if (rows.len() as i64) < AUDIT_PAGE {
                return Ok(verifier.result);
            }
        }
    }
}
