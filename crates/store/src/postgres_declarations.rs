//! `PostgreSQL` implementation of [`DeclarationStore`].

use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use vaxtrace_domain::PersonalId;

use crate::declarations::{
    Checkpoint, DECLARATION_COLUMNS, DeclarationRow, DeclarationStore, InboxCount, InboxEntry,
    InboxFilter, NewDeclaration, NewScan, OutbreakArea, Purged, StoredDeclaration, StoredScan,
    day_text, parse_day, province_of,
};
use crate::{PostgresStore, StoreError, StoreResult, from_unix_micros, unix_micros};

fn declaration_row(r: &Row) -> DeclarationRow {
    DeclarationRow {
        id: r.get(0),
        personal_id: r.get(1),
        subject_ref: r.get(2),
        declared_by: r.get(3),
        source: r.get(4),
        submitted_at: r.get(5),
        body: r.get(6),
        health_risk: r.get(7),
        from_outbreak: r.get(8),
        origin_unit: r.get(9),
        destination_unit: r.get(10),
        travel_date: r.get(11),
        pass_expires_at: r.get(12),
        revoked_at: r.get(13),
    }
}

fn checkpoint_row(r: &Row) -> Checkpoint {
    Checkpoint {
        code: r.get(0),
        name: r.get(1),
        commune_code: r.get(2),
        latitude: r.get(3),
        longitude: r.get(4),
    }
}

impl PostgresStore {
    async fn query_declarations(
        &self,
        where_clause: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Vec<StoredDeclaration>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!("SELECT {DECLARATION_COLUMNS} FROM declarations {where_clause}"),
                params,
            )
            .await?;
        rows.iter()
            .map(|r| declaration_row(r).into_declaration())
            .collect()
    }
}

const CHECKPOINT_COLUMNS: &str = "code, name, commune_code, latitude, longitude";

#[async_trait]
impl DeclarationStore for PostgresStore {
    async fn insert_declaration(&self, d: NewDeclaration) -> StoreResult<i64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let submitted = unix_micros(d.submitted_at);
        let row = tx
            .query_one(
                "INSERT INTO declarations (personal_id, subject_ref, declared_by, source, source_ref, \
                 submitted_at, body, health_risk, from_outbreak, origin_unit, destination_unit, \
                 travel_date, pass_expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
                &[
                    &(d.personal_id.as_number() as i64),
                    &d.subject_ref.as_slice(),
                    &d.declared_by,
                    &d.source,
                    &d.source_ref,
                    &submitted,
                    &d.body,
                    &d.health_risk,
                    &d.from_outbreak,
                    &d.origin_unit,
                    &d.destination_unit,
                    &day_text(d.travel_date),
                    &unix_micros(d.pass_expires_at),
                ],
            )
            .await?;
        let id: i64 = row.get(0);
        let origin_province = province_of(&d.origin_unit);
        for (commune, routes) in &d.routes {
            tx.execute(
                "INSERT INTO declaration_inbox (commune_code, declaration_id, routes, submitted_at, \
                 origin_province, health_risk, from_outbreak) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    commune,
                    &id,
                    routes,
                    &submitted,
                    &origin_province,
                    &d.health_risk,
                    &d.from_outbreak,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn declaration(&self, id: i64) -> StoreResult<Option<StoredDeclaration>> {
        Ok(self
            .query_declarations("WHERE id = $1", &[&id])
            .await?
            .pop())
    }

    async fn latest_valid_declaration(
        &self,
        id: PersonalId,
        at: OffsetDateTime,
    ) -> StoreResult<Option<StoredDeclaration>> {
        Ok(self
            .query_declarations(
                "WHERE personal_id = $1 AND revoked_at IS NULL AND submitted_at <= $2 \
                 AND pass_expires_at > $2 ORDER BY submitted_at DESC, id DESC LIMIT 1",
                &[&(id.as_number() as i64), &unix_micros(at)],
            )
            .await?
            .pop())
    }

    async fn declarations_for_citizen(
        &self,
        id: PersonalId,
    ) -> StoreResult<Vec<StoredDeclaration>> {
        self.query_declarations(
            "WHERE personal_id = $1 ORDER BY submitted_at DESC, id DESC",
            &[&(id.as_number() as i64)],
        )
        .await
    }

    async fn revoke_declaration(&self, id: i64, at: OffsetDateTime) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT revoked_at FROM declarations WHERE id = $1", &[&id])
            .await?
            .ok_or(StoreError::NotFound("declaration"))?;
        if row.get::<_, Option<i64>>(0).is_some() {
            return Ok(false);
        }
        let changed = client
            .execute(
                "UPDATE declarations SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &unix_micros(at)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn renew_pass(&self, id: i64, expires_at: OffsetDateTime) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE declarations SET pass_expires_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &unix_micros(expires_at)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn inbox(&self, f: InboxFilter) -> StoreResult<Vec<InboxEntry>> {
        let columns = DECLARATION_COLUMNS
            .split(", ")
            .map(|c| format!("d.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {columns}, i.routes, i.acknowledged_at, i.acknowledged_by \
                     FROM declaration_inbox i JOIN declarations d ON d.id = i.declaration_id \
                     WHERE i.commune_code = $1 AND ($2::BIGINT IS NULL OR i.submitted_at >= $2) \
                     AND ($3::BIGINT IS NULL OR i.submitted_at < $3) \
                     AND ($4::TEXT IS NULL OR i.origin_province = $4) \
                     AND (NOT $5 OR i.health_risk) AND (NOT $6 OR i.from_outbreak) \
                     AND (NOT $7 OR i.acknowledged_at IS NULL) AND ($8::BIGINT = 0 OR i.declaration_id < $8) \
                     ORDER BY i.declaration_id DESC LIMIT $9"
                ),
                &[
                    &f.commune,
                    &f.from.map(unix_micros),
                    &f.to.map(unix_micros),
                    &f.origin_province,
                    &f.health_risk_only,
                    &f.from_outbreak_only,
                    &f.unacknowledged_only,
                    &f.before_id,
                    &i64::from(f.limit),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxEntry {
                    declaration: declaration_row(r).into_declaration()?,
                    routes: r.get(14),
                    acknowledged_at: r.get::<_, Option<i64>>(15).map(from_unix_micros),
                    acknowledged_by: r.get(16),
                })
            })
            .collect()
    }

    async fn inbox_counts(
        &self,
        communes: Option<Vec<String>>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<InboxCount>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT commune_code, count(*), count(*) FILTER (WHERE health_risk), \
                 count(*) FILTER (WHERE from_outbreak), count(*) FILTER (WHERE acknowledged_at IS NULL) \
                 FROM declaration_inbox WHERE ($1::TEXT[] IS NULL OR commune_code = ANY($1)) \
                 AND submitted_at >= $2 AND submitted_at < $3 \
                 GROUP BY commune_code ORDER BY commune_code",
                &[&communes, &unix_micros(from), &unix_micros(to)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| InboxCount {
                commune_code: r.get(0),
                total: r.get::<_, i64>(1) as u64,
                health_risk: r.get::<_, i64>(2) as u64,
                from_outbreak: r.get::<_, i64>(3) as u64,
                unacknowledged: r.get::<_, i64>(4) as u64,
            })
            .collect())
    }

    async fn acknowledge(
        &self,
        commune: &str,
        ids: Vec<i64>,
        by: &str,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let client = self.pool.get().await?;
        Ok(client
            .execute(
                "UPDATE declaration_inbox SET acknowledged_at = $3, acknowledged_by = $4 \
                 WHERE commune_code = $1 AND declaration_id = ANY($2) AND acknowledged_at IS NULL",
                &[&commune, &ids, &unix_micros(at), &by],
            )
            .await?)
    }

    async fn upsert_checkpoint(&self, c: Checkpoint) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO checkpoints (code, name, commune_code, latitude, longitude, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                 commune_code = excluded.commune_code, latitude = excluded.latitude, \
                 longitude = excluded.longitude",
                &[
                    &c.code,
                    &c.name,
                    &c.commune_code,
                    &c.latitude,
                    &c.longitude,
                    &unix_micros(OffsetDateTime::now_utc()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn checkpoint(&self, code: &str) -> StoreResult<Option<Checkpoint>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                &format!("SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE code = $1"),
                &[&code],
            )
            .await?;
        Ok(row.as_ref().map(checkpoint_row))
    }

    async fn checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!("SELECT {CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY code"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(checkpoint_row).collect())
    }

    async fn record_scan(&self, s: NewScan) -> StoreResult<i64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "INSERT INTO checkpoint_scans (checkpoint_code, officer, personal_id, declaration_id, \
                 method, verdict, scanned_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[
                    &s.checkpoint_code,
                    &s.officer,
                    &s.personal_id.map(|p| p.as_number() as i64),
                    &s.declaration_id,
                    &s.method,
                    &s.verdict,
                    &unix_micros(s.scanned_at),
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn scans_for_citizen(&self, id: PersonalId) -> StoreResult<Vec<StoredScan>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT id, checkpoint_code, officer, declaration_id, method, verdict, scanned_at \
                 FROM checkpoint_scans WHERE personal_id = $1 ORDER BY scanned_at DESC, id DESC",
                &[&(id.as_number() as i64)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| StoredScan {
                id: r.get(0),
                checkpoint_code: r.get(1),
                officer: r.get(2),
                declaration_id: r.get(3),
                method: r.get(4),
                verdict: r.get(5),
                scanned_at: from_unix_micros(r.get(6)),
            })
            .collect())
    }

    async fn add_outbreak_area(&self, a: OutbreakArea, at: OffsetDateTime) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO outbreak_areas (unit_code, starts_on, ends_on, declared_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (unit_code, starts_on) DO UPDATE SET \
                 ends_on = excluded.ends_on, declared_by = excluded.declared_by",
                &[
                    &a.unit_code,
                    &day_text(a.starts_on),
                    &day_text(a.ends_on),
                    &a.declared_by,
                    &unix_micros(at),
                ],
            )
            .await?;
        Ok(())
    }

    async fn outbreak_areas(&self, on: Option<Date>) -> StoreResult<Vec<OutbreakArea>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT unit_code, starts_on, ends_on, declared_by FROM outbreak_areas \
                 WHERE $1::TEXT IS NULL OR (starts_on <= $1 AND ends_on >= $1) \
                 ORDER BY unit_code, starts_on",
                &[&on.map(day_text)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OutbreakArea {
                    unit_code: r.get(0),
                    starts_on: parse_day(r.get(1))?,
                    ends_on: parse_day(r.get(2))?,
                    declared_by: r.get(3),
                })
            })
            .collect()
    }

    async fn purge_movement_data(&self, before: OffsetDateTime) -> StoreResult<Purged> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let cutoff = unix_micros(before);
        // Kept while the journey or the pass is still ahead of the cutoff.
        let cutoff_day = day_text(before.date());
        let inbox_entries = tx
            .execute(
                "DELETE FROM declaration_inbox WHERE declaration_id IN \
                 (SELECT id FROM declarations WHERE submitted_at < $1 AND pass_expires_at < $1 AND travel_date < $2)",
                &[&cutoff, &cutoff_day],
            )
            .await?;
        let declarations = tx
            .execute(
                "DELETE FROM declarations WHERE submitted_at < $1 AND pass_expires_at < $1 AND travel_date < $2",
                &[&cutoff, &cutoff_day],
            )
            .await?;
        let scans = tx
            .execute(
                "DELETE FROM checkpoint_scans WHERE scanned_at < $1",
                &[&cutoff],
            )
            .await?;
        tx.commit().await?;
        Ok(Purged {
            declarations,
            inbox_entries,
            scans,
        })
    }
}
