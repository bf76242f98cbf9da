//! `SQLite` implementation of [`DeclarationStore`].

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::{Date, OffsetDateTime};
use vaxtrace_domain::PersonalId;

use crate::declarations::{
    Checkpoint, DECLARATION_COLUMNS, DeclarationRow, DeclarationStore, InboxCount, InboxEntry,
    InboxFilter, NewDeclaration, NewScan, OutbreakArea, Purged, StoredDeclaration, StoredScan,
    day_text, parse_day, province_of,
};
use crate::{SqliteStore, StoreError, StoreResult, from_unix_micros, unix_micros};

fn declaration_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeclarationRow> {
    Ok(DeclarationRow {
        id: r.get(0)?,
        personal_id: r.get(1)?,
        subject_ref: r.get(2)?,
        declared_by: r.get(3)?,
        source: r.get(4)?,
        submitted_at: r.get(5)?,
        body: r.get(6)?,
        health_risk: r.get(7)?,
        from_outbreak: r.get(8)?,
        origin_unit: r.get(9)?,
        destination_unit: r.get(10)?,
        travel_date: r.get(11)?,
        pass_expires_at: r.get(12)?,
        revoked_at: r.get(13)?,
    })
}

fn query_declarations(
    conn: &Connection,
    where_clause: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<StoredDeclaration>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DECLARATION_COLUMNS} FROM declarations {where_clause}"
    ))?;
    let rows = stmt.query_map(params, declaration_row)?;
    rows.map(|r| r?.into_declaration()).collect()
}

fn json_list<T: serde::Serialize>(items: &T) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl DeclarationStore for SqliteStore {
    async fn insert_declaration(&self, d: NewDeclaration) -> StoreResult<i64> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let submitted = unix_micros(d.submitted_at);
            let id: i64 = tx.query_row(
                "INSERT INTO declarations (personal_id, subject_ref, declared_by, source, source_ref, \
                 submitted_at, body, health_risk, from_outbreak, origin_unit, destination_unit, \
                 travel_date, pass_expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
                params![
                    d.personal_id.as_number() as i64,
                    d.subject_ref.as_slice(),
                    d.declared_by,
                    d.source,
                    d.source_ref,
                    submitted,
                    d.body,
                    d.health_risk,
                    d.from_outbreak,
                    d.origin_unit,
                    d.destination_unit,
                    day_text(d.travel_date),
                    unix_micros(d.pass_expires_at)
                ],
                |r| r.get(0),
            )?;
            let origin_province = province_of(&d.origin_unit);
            for (commune, routes) in &d.routes {
                tx.prepare_cached(
                    "INSERT INTO declaration_inbox (commune_code, declaration_id, routes, submitted_at, \
                     origin_province, health_risk, from_outbreak) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    commune,
                    id,
                    routes,
                    submitted,
                    origin_province,
                    d.health_risk,
                    d.from_outbreak
                ])?;
            }
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    async fn declaration(&self, id: i64) -> StoreResult<Option<StoredDeclaration>> {
        self.read(move |conn| Ok(query_declarations(conn, "WHERE id = ?1", [id])?.pop()))
            .await
    }

    async fn latest_valid_declaration(
        &self,
        id: PersonalId,
        at: OffsetDateTime,
    ) -> StoreResult<Option<StoredDeclaration>> {
        self.read(move |conn| {
            Ok(query_declarations(
                conn,
                "WHERE personal_id = ?1 AND revoked_at IS NULL AND submitted_at <= ?2 \
                 AND pass_expires_at > ?2 ORDER BY submitted_at DESC, id DESC LIMIT 1",
                params![id.as_number() as i64, unix_micros(at)],
            )?
            .pop())
        })
        .await
    }

    async fn declarations_for_citizen(
        &self,
        id: PersonalId,
    ) -> StoreResult<Vec<StoredDeclaration>> {
        self.read(move |conn| {
            query_declarations(
                conn,
                "WHERE personal_id = ?1 ORDER BY submitted_at DESC, id DESC",
                [id.as_number() as i64],
            )
        })
        .await
    }

    async fn revoke_declaration(&self, id: i64, at: OffsetDateTime) -> StoreResult<bool> {
        self.write(move |conn| {
            let revoked: Option<Option<i64>> = conn
                .query_row("SELECT revoked_at FROM declarations WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            match revoked {
                None => Err(StoreError::NotFound("declaration")),
                Some(Some(_)) => Ok(false),
                Some(None) => {
                    conn.execute(
                        "UPDATE declarations SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                        params![id, unix_micros(at)],
                    )?;
                    Ok(true)
                }
            }
        })
        .await
    }

    async fn renew_pass(&self, id: i64, expires_at: OffsetDateTime) -> StoreResult<bool> {
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE declarations SET pass_expires_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, unix_micros(expires_at)],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn inbox(&self, f: InboxFilter) -> StoreResult<Vec<InboxEntry>> {
        self.read(move |conn| {
            let columns = DECLARATION_COLUMNS
                .split(", ")
                .map(|c| format!("d.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {columns}, i.routes, i.acknowledged_at, i.acknowledged_by \
                 FROM declaration_inbox i JOIN declarations d ON d.id = i.declaration_id \
                 WHERE i.commune_code = ?1 AND (?2 IS NULL OR i.submitted_at >= ?2) \
                 AND (?3 IS NULL OR i.submitted_at < ?3) AND (?4 IS NULL OR i.origin_province = ?4) \
                 AND (?5 = 0 OR i.health_risk) AND (?6 = 0 OR i.from_outbreak) \
                 AND (?7 = 0 OR i.acknowledged_at IS NULL) AND (?8 = 0 OR i.declaration_id < ?8) \
                 ORDER BY i.declaration_id DESC LIMIT ?9"
            ))?;
            let rows = stmt.query_map(
                params![
                    f.commune,
                    f.from.map(unix_micros),
                    f.to.map(unix_micros),
                    f.origin_province,
                    f.health_risk_only,
                    f.from_outbreak_only,
                    f.unacknowledged_only,
                    f.before_id,
                    i64::from(f.limit)
                ],
                |r| {
                    Ok((
                        declaration_row(r)?,
                        r.get::<_, String>(14)?,
                        r.get::<_, Option<i64>>(15)?,
                        r.get::<_, Option<String>>(16)?,
                    ))
                },
            )?;
            rows.map(|r| {
                let (row, routes, at, by) = r?;
                Ok(InboxEntry {
                    declaration: row.into_declaration()?,
                    routes,
                    acknowledged_at: at.map(from_unix_micros),
                    acknowledged_by: by,
                })
            })
            .collect()
        })
        .await
    }

    async fn inbox_counts(
        &self,
        communes: Option<Vec<String>>,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<InboxCount>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT commune_code, count(*), sum(health_risk), sum(from_outbreak), \
                 sum(acknowledged_at IS NULL) FROM declaration_inbox \
                 WHERE (?1 IS NULL OR commune_code IN (SELECT value FROM json_each(?1))) \
                 AND submitted_at >= ?2 AND submitted_at < ?3 \
                 GROUP BY commune_code ORDER BY commune_code",
            )?;
            let rows = stmt.query_map(
                params![
                    communes.as_ref().map(json_list),
                    unix_micros(from),
                    unix_micros(to)
                ],
                |r| {
                    Ok(InboxCount {
                        commune_code: r.get(0)?,
                        total: r.get::<_, i64>(1)? as u64,
                        health_risk: r.get::<_, i64>(2)? as u64,
                        from_outbreak: r.get::<_, i64>(3)? as u64,
                        unacknowledged: r.get::<_, i64>(4)? as u64,
                    })
                },
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn acknowledge(
        &self,
        commune: &str,
        ids: Vec<i64>,
        by: &str,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let (commune, by) = (commune.to_owned(), by.to_owned());
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE declaration_inbox SET acknowledged_at = ?3, acknowledged_by = ?4 \
                 WHERE commune_code = ?1 AND declaration_id IN (SELECT value FROM json_each(?2)) \
                 AND acknowledged_at IS NULL",
                params![commune, json_list(&ids), unix_micros(at), by],
            )?;
            Ok(changed as u64)
        })
        .await
    }

    async fn upsert_checkpoint(&self, c: Checkpoint) -> StoreResult<()> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO checkpoints (code, name, commune_code, latitude, longitude, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                 commune_code = excluded.commune_code, latitude = excluded.latitude, \
                 longitude = excluded.longitude",
                params![
                    c.code,
                    c.name,
                    c.commune_code,
                    c.latitude,
                    c.longitude,
                    unix_micros(OffsetDateTime::now_utc())
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn checkpoint(&self, code: &str) -> StoreResult<Option<Checkpoint>> {
        let code = code.to_owned();
        self.read(move |conn| Ok(query_checkpoints(conn, "WHERE code = ?1", [code])?.pop()))
            .await
    }

    async fn checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        self.read(|conn| query_checkpoints(conn, "ORDER BY code", []))
            .await
    }

    async fn record_scan(&self, s: NewScan) -> StoreResult<i64> {
        self.write(move |conn| {
            Ok(conn.query_row(
                "INSERT INTO checkpoint_scans (checkpoint_code, officer, personal_id, declaration_id, \
                 method, verdict, scanned_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                params![
                    s.checkpoint_code,
                    s.officer,
                    s.personal_id.map(|p| p.as_number() as i64),
                    s.declaration_id,
                    s.method,
                    s.verdict,
                    unix_micros(s.scanned_at)
                ],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn scans_for_citizen(&self, id: PersonalId) -> StoreResult<Vec<StoredScan>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, checkpoint_code, officer, declaration_id, method, verdict, scanned_at \
                 FROM checkpoint_scans WHERE personal_id = ?1 ORDER BY scanned_at DESC, id DESC",
            )?;
            let rows = stmt.query_map([id.as_number() as i64], |r| {
                Ok(StoredScan {
                    id: r.get(0)?,
                    checkpoint_code: r.get(1)?,
                    officer: r.get(2)?,
                    declaration_id: r.get(3)?,
                    method: r.get(4)?,
                    verdict: r.get(5)?,
                    scanned_at: from_unix_micros(r.get(6)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn add_outbreak_area(&self, a: OutbreakArea, at: OffsetDateTime) -> StoreResult<()> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO outbreak_areas (unit_code, starts_on, ends_on, declared_by, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (unit_code, starts_on) DO UPDATE SET \
                 ends_on = excluded.ends_on, declared_by = excluded.declared_by",
                params![
                    a.unit_code,
                    day_text(a.starts_on),
                    day_text(a.ends_on),
                    a.declared_by,
                    unix_micros(at)
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn outbreak_areas(&self, on: Option<Date>) -> StoreResult<Vec<OutbreakArea>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT unit_code, starts_on, ends_on, declared_by FROM outbreak_areas \
                 WHERE ?1 IS NULL OR (starts_on <= ?1 AND ends_on >= ?1) ORDER BY unit_code, starts_on",
            )?;
            let rows = stmt.query_map([on.map(day_text)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            rows.map(|r| {
                let (unit_code, starts, ends, declared_by) = r?;
                Ok(OutbreakArea {
                    unit_code,
                    starts_on: parse_day(&starts)?,
                    ends_on: parse_day(&ends)?,
                    declared_by,
                })
            })
            .collect()
        })
        .await
    }

    async fn purge_movement_data(&self, before: OffsetDateTime) -> StoreResult<Purged> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let cutoff = unix_micros(before);
            // Kept while the journey or the pass is still ahead of the cutoff.
            let cutoff_day = day_text(before.date());
            let inbox_entries = tx.execute(
                "DELETE FROM declaration_inbox WHERE declaration_id IN \
                 (SELECT id FROM declarations WHERE submitted_at < ?1 AND pass_expires_at < ?1 AND travel_date < ?2)",
                params![cutoff, cutoff_day],
            )? as u64;
            let declarations =
                tx.execute("DELETE FROM declarations WHERE submitted_at < ?1 AND pass_expires_at < ?1 AND travel_date < ?2", params![cutoff, cutoff_day])? as u64;
            let scans = tx.execute(
                "DELETE FROM checkpoint_scans WHERE scanned_at < ?1",
                [cutoff],
            )? as u64;
            tx.commit()?;
            Ok(Purged {
                declarations,
                inbox_entries,
                scans,
            })
        })
        .await
    }
}

fn query_checkpoints(
    conn: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<Checkpoint>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT code, name, commune_code, latitude, longitude FROM checkpoints {tail}"
    ))?;
    let rows = stmt.query_map(params, |r| {
        Ok(Checkpoint {
            code: r.get(0)?,
            name: r.get(1)?,
            commune_code: r.get(2)?,
            latitude: r.get(3)?,
            longitude: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
