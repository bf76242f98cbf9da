//! `SQLite` implementation of [`AnalyticsStore`], and the counter bookkeeping the other `SQLite`
//! writers call inside their transactions.

use std::collections::BTreeMap;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use time::{Date, OffsetDateTime};
use vaxtrace_analytics::counters::{as_of_ranges, bucket_day, day_bucket};
use vaxtrace_analytics::supervision::count_correction;
use vaxtrace_analytics::{Deltas, Member};
use vaxtrace_domain::date::vietnam_day_range;

use crate::analytics::{
    AnalyticsSettings, AnalyticsStore, DaySum, DueCount, Facts, Family, FlowRows, MEMBER_COLUMNS,
    MemberRow, MemberWrite, NewCorrectionRequest, RecountReport, SeriesSum,
    StoredCorrectionRequest, member_changed, placeholders, signature_changed,
};
use crate::vaccinations::{DOSE_COLUMNS, DoseRow, derive_status};
use crate::{SqliteStore, StoreError, StoreResult, from_unix_micros, unix_micros};

/// Recount deltas are written out when they reach this many keys (memory stays bounded).
const RECOUNT_FLUSH_KEYS: usize = 200_000;

pub(crate) fn settings(conn: &Connection) -> StoreResult<AnalyticsSettings> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM analytics_settings")?;
    let pairs = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<(String, String)>, _>>()?;
    Ok(AnalyticsSettings::from_pairs(pairs))
}

fn save_settings(conn: &Connection, s: AnalyticsSettings) -> StoreResult<()> {
    for (k, v) in s.pairs() {
        conn.execute(
            "INSERT INTO analytics_settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![k, v],
        )?;
    }
    Ok(())
}

/// Adds the deltas to the counters of `table` (`coverage_counts`, or a recount's shadow).
pub(crate) fn flush_into(conn: &Connection, table: &str, deltas: Deltas) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO {table} (unit, grain, bucket, series, n) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (unit, grain, bucket, series) DO UPDATE SET n = n + excluded.n"
    ))?;
    for (k, n) in deltas.into_sorted() {
        stmt.execute(params![k.unit, k.grain.code(), k.bucket, k.series, n])?;
    }
    Ok(())
}

pub(crate) fn flush(conn: &Connection, deltas: Deltas) -> StoreResult<()> {
    flush_into(conn, "coverage_counts", deltas)
}

pub(crate) fn facts(conn: &Connection, personal_id: i64) -> StoreResult<Option<Facts>> {
    Ok(conn
        .prepare_cached(
            "SELECT permanent_unit, temporary_unit, birth_date, sex, status FROM citizens \
             WHERE personal_id = ?1",
        )?
        .query_row([personal_id], facts_row)
        .optional()?)
}

fn facts_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Facts> {
    Ok(Facts {
        permanent_unit: r.get(0)?,
        temporary_unit: r.get(1)?,
        birth_date: r.get(2)?,
        sex: r.get(3)?,
        status: r.get(4)?,
    })
}

fn member_from_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<MemberRow> {
    Ok(MemberRow {
        unit: r.get(at)?,
        band: r.get(at + 1)?,
        sex: r.get(at + 2)?,
        alive: r.get(at + 3)?,
        dose1_day: r.get(at + 4)?,
        full_day: r.get(at + 5)?,
        booster_day: r.get(at + 6)?,
        next_due_day: r.get(at + 7)?,
        doses: r.get(at + 8)?,
    })
}

pub(crate) fn member_row(conn: &Connection, personal_id: i64) -> StoreResult<Option<MemberRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {MEMBER_COLUMNS} FROM coverage_members WHERE personal_id = ?1"
        ))?
        .query_row([personal_id], |r| member_from_row(r, 0))
        .optional()?)
}

pub(crate) fn write_member(
    conn: &Connection,
    table: &str,
    personal_id: i64,
    write: MemberWrite,
) -> StoreResult<()> {
    match write {
        MemberWrite::Keep => {}
        MemberWrite::Delete => {
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE personal_id = ?1"))?
                .execute([personal_id])?;
        }
        MemberWrite::Put(m) => {
            conn.prepare_cached(&format!(
                "INSERT OR REPLACE INTO {table} (personal_id, {MEMBER_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))?
            .execute(params![
                personal_id,
                m.unit,
                m.band,
                m.sex,
                m.alive,
                m.dose1_day,
                m.full_day,
                m.booster_day,
                m.next_due_day,
                m.doses
            ])?;
        }
    }
    Ok(())
}

/// After a citizen's signed doses changed: their contribution, old out and new in.
pub(crate) fn refresh_member(
    conn: &Connection,
    settings: AnalyticsSettings,
    personal_id: i64,
    member: &Member,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    if !settings.live {
        return Ok(());
    }
    let Some(facts) = facts(conn, personal_id)? else {
        return Ok(());
    };
    let resident = facts.resident(settings.residence)?;
    let old = member_row(conn, personal_id)?;
    let write = member_changed(old.as_ref(), &resident, member, deltas)?;
    write_member(conn, "coverage_members", personal_id, write)
}

/// A record's review handles its open correction requests.
pub(crate) fn handle_corrections(
    conn: &Connection,
    record_id: i64,
    by: &str,
    at: OffsetDateTime,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE correction_requests SET handled_at = ?2, handled_by = ?3 \
         WHERE record_id = ?1 AND handled_at IS NULL RETURNING queue_unit, requested_at",
    )?;
    let handled = stmt
        .query_map(params![record_id, unix_micros(at), by], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (unit, requested) in handled {
        let requested = from_unix_micros(requested);
        count_correction(deltas, &unit, requested, None, -1);
        count_correction(deltas, &unit, requested, Some(at), 1);
    }
    Ok(())
}

fn in_list(conn: &Connection, sql: &str, units: &[String]) -> StoreResult<Vec<(String, i64)>> {
    let sql = sql.replace("{units}", &placeholders(1, units.len()));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(units), |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn correction_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCorrectionRequest> {
    Ok(StoredCorrectionRequest {
        id: r.get(0)?,
        record_id: r.get(1)?,
        queue_unit: r.get(2)?,
        message: r.get(3)?,
        requested_by: r.get(4)?,
        requested_at: from_unix_micros(r.get(5)?),
        handled_at: r.get::<_, Option<i64>>(6)?.map(from_unix_micros),
        handled_by: r.get(7)?,
    })
}

const CORRECTION_COLUMNS: &str =
    "id, record_id, queue_unit, message, requested_by, requested_at, handled_at, handled_by";

/// Every counter and member row recomputed from the base tables into `temp.recount_*`.
fn recount_into_shadow(
    conn: &Connection,
    settings: AnalyticsSettings,
    now: OffsetDateTime,
) -> StoreResult<(u64, u64)> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.recount_counts; DROP TABLE IF EXISTS temp.recount_members;
         CREATE TEMP TABLE recount_counts (unit TEXT NOT NULL, grain INTEGER NOT NULL,
             bucket INTEGER NOT NULL, series TEXT NOT NULL, n INTEGER NOT NULL,
             PRIMARY KEY (unit, grain, bucket, series)) WITHOUT ROWID;
         CREATE TEMP TABLE recount_members AS SELECT * FROM main.coverage_members WHERE 0;",
    )?;
    let mut deltas = Deltas::new();
    let mut citizens = 0;
    {
        let mut stmt = conn.prepare(
            "SELECT permanent_unit, temporary_unit, birth_date, sex, status FROM citizens",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            facts_row(r)?
                .resident(settings.residence)?
                .count_population(&mut deltas, 1);
            citizens += 1;
        }
    }
    let mut members = 0;
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT personal_id, {DOSE_COLUMNS} FROM vaccination_records \
             WHERE personal_id IS NOT NULL AND decision IN ('auto', 'confirmed') \
             AND signed_version = version ORDER BY personal_id, id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut current: Option<(i64, Vec<DoseRow>)> = None;
        loop {
            let next = rows.next()?;
            let pid = next.map(|r| r.get::<_, i64>(0)).transpose()?;
            if let Some((done, doses)) = current.take_if(|(p, _)| Some(*p) != pid) {
                if let Some(facts) = facts(conn, done)? {
                    let resident = facts.resident(settings.residence)?;
                    let member = derive_status(&doses, now)?.member;
                    let write = member_changed(None, &resident, &member, &mut deltas)?;
                    write_member(conn, "temp.recount_members", done, write)?;
                    members += 1;
                }
                if deltas.len() > RECOUNT_FLUSH_KEYS {
                    flush_into(conn, "temp.recount_counts", std::mem::take(&mut deltas))?;
                }
            }
            let Some(r) = next else { break };
            let dose = DoseRow {
                id: r.get(1)?,
                vaccine_code: r.get(2)?,
                dose_number: r.get(3)?,
                administered_at: r.get(4)?,
                site_code: r.get(5)?,
            };
            current
                .get_or_insert_with(|| (pid.unwrap_or_default(), Vec::new()))
                .1
                .push(dose);
        }
    }
    {
        let mut stmt = conn.prepare(
            "SELECT queue_unit, decision, administered_at, signed_at FROM vaccination_records \
             WHERE decision IN ('auto', 'confirmed') AND signed_version = version",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let unit: Option<String> = r.get(0)?;
            let decision: String = r.get(1)?;
            signature_changed(
                &mut deltas,
                unit.as_deref(),
                &decision,
                r.get(2)?,
                r.get(3)?,
                1,
            );
            if deltas.len() > RECOUNT_FLUSH_KEYS {
                flush_into(conn, "temp.recount_counts", std::mem::take(&mut deltas))?;
            }
        }
        let mut stmt =
            conn.prepare("SELECT queue_unit, requested_at, handled_at FROM correction_requests")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let unit: String = r.get(0)?;
            let handled: Option<i64> = r.get(2)?;
            count_correction(
                &mut deltas,
                &unit,
                from_unix_micros(r.get(1)?),
                handled.map(from_unix_micros),
                1,
            );
        }
    }
    flush_into(conn, "temp.recount_counts", deltas)?;
    Ok((citizens, members))
}

fn differences(
    conn: &Connection,
    a: &str,
    b: &str,
    columns: &str,
    filter: &str,
) -> StoreResult<u64> {
    let one_way = |x: &str, y: &str| -> StoreResult<i64> {
        Ok(conn.query_row(
            &format!(
                "SELECT count(*) FROM (SELECT {columns} FROM {x} WHERE {filter} \
                 EXCEPT SELECT {columns} FROM {y} WHERE {filter})"
            ),
            [],
            |r| r.get(0),
        )?)
    };
    Ok((one_way(a, b)? + one_way(b, a)?) as u64)
}

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn series_sums(
        &self,
        units: Vec<String>,
        day: Option<Date>,
        family: Family,
    ) -> StoreResult<Vec<SeriesSum>> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |conn| {
            let list = placeholders(1, units.len());
            let cond = family.condition();
            let next = units.len() + 1;
            let (sql, bounds): (String, Vec<i64>) = match day {
                None => (
                    format!(
                        "SELECT unit, series, n FROM coverage_counts WHERE unit IN ({list}) \
                         AND grain = 0 AND {cond} AND n <> 0"
                    ),
                    vec![],
                ),
                Some(day) => {
                    let ranges = as_of_ranges(day);
                    let mut parts = vec![format!(
                        "SELECT unit, series, n FROM coverage_counts WHERE unit IN ({list}) \
                         AND grain = 0 AND series LIKE 'pop:%' AND {cond}"
                    )];
                    let mut bounds = Vec::new();
                    for (i, (grain, lo, hi)) in ranges.iter().enumerate() {
                        let (a, b) = (next + 2 * i, next + 2 * i + 1);
                        parts.push(format!(
                            "SELECT unit, series, n FROM coverage_counts WHERE unit IN ({list}) \
                             AND grain = {} AND bucket BETWEEN ?{a} AND ?{b} AND {cond}",
                            grain.code()
                        ));
                        bounds.extend([*lo, *hi]);
                    }
                    (
                        format!(
                            "SELECT unit, series, sum(n) FROM ({}) GROUP BY unit, series \
                             HAVING sum(n) <> 0",
                            parts.join(" UNION ALL ")
                        ),
                        bounds,
                    )
                }
            };
            let mut stmt = conn.prepare(&sql)?;
            let values: Vec<rusqlite::types::Value> = units
                .into_iter()
                .map(rusqlite::types::Value::from)
                .chain(bounds.into_iter().map(rusqlite::types::Value::from))
                .collect();
            let rows = stmt.query_map(params_from_iter(values), |r| {
                Ok(SeriesSum {
                    unit: r.get(0)?,
                    series: r.get(1)?,
                    n: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn day_sums(
        &self,
        units: Vec<String>,
        from: Date,
        to: Date,
        family: Family,
    ) -> StoreResult<Vec<DaySum>> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |conn| {
            let (a, b) = (units.len() + 1, units.len() + 2);
            let sql = format!(
                "SELECT bucket, series, sum(n) FROM coverage_counts WHERE unit IN ({}) \
                 AND grain = 3 AND bucket BETWEEN ?{a} AND ?{b} AND {} \
                 GROUP BY bucket, series HAVING sum(n) <> 0 ORDER BY bucket",
                placeholders(1, units.len()),
                family.condition()
            );
            let mut stmt = conn.prepare(&sql)?;
            let values: Vec<rusqlite::types::Value> = units
                .into_iter()
                .map(rusqlite::types::Value::from)
                .chain([day_bucket(from).into(), day_bucket(to).into()])
                .collect();
            let rows = stmt.query_map(params_from_iter(values), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (bucket, series, n) = row?;
                let day = bucket_day(bucket)
                    .ok_or_else(|| StoreError::Corrupt("coverage day bucket".into()))?;
                out.push(DaySum { day, series, n });
            }
            Ok(out)
        })
        .await
    }

    async fn due_counts(&self, units: Vec<String>, day: Date) -> StoreResult<Vec<DueCount>> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |conn| {
            let n = units.len() + 1;
            let sql = format!(
                "SELECT unit, sum(full_day IS NULL), sum(full_day IS NOT NULL) FROM coverage_members \
                 WHERE unit IN ({}) AND next_due_day IS NOT NULL AND next_due_day <= ?{n} AND alive \
                 GROUP BY unit",
                placeholders(1, units.len())
            );
            let mut stmt = conn.prepare(&sql)?;
            let values: Vec<rusqlite::types::Value> = units
                .into_iter()
                .map(rusqlite::types::Value::from)
                .chain([day_bucket(day).into()])
                .collect();
            let rows = stmt.query_map(params_from_iter(values), |r| {
                Ok(DueCount {
                    unit: r.get(0)?,
                    due_dose: r.get(1)?,
                    due_booster: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn waiting_review(&self, units: Vec<String>) -> StoreResult<Vec<(String, i64)>> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |conn| {
            in_list(
                conn,
                "SELECT queue_unit, count(*) FROM vaccination_records \
                 WHERE queue_unit IN ({units}) AND decision = 'review' GROUP BY queue_unit",
                &units,
            )
        })
        .await
    }

    async fn open_corrections(&self, units: Vec<String>) -> StoreResult<Vec<(String, i64)>> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |conn| {
            in_list(
                conn,
                "SELECT queue_unit, count(*) FROM correction_requests \
                 WHERE queue_unit IN ({units}) AND handled_at IS NULL GROUP BY queue_unit",
                &units,
            )
        })
        .await
    }

    async fn request_correction(
        &self,
        request: NewCorrectionRequest,
    ) -> StoreResult<StoredCorrectionRequest> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (personal_id, unit): (Option<i64>, Option<String>) = tx
                .query_row(
                    "SELECT personal_id, queue_unit FROM vaccination_records WHERE id = ?1",
                    [request.record_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound("record"))?;
            let unit = unit.ok_or_else(|| {
                StoreError::Conflict("the record has no commune to review it".into())
            })?;
            let stored = tx.query_row(
                &format!(
                    "INSERT INTO correction_requests (record_id, personal_id, queue_unit, message, \
                     requested_by, requested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     RETURNING {CORRECTION_COLUMNS}"
                ),
                params![
                    request.record_id,
                    personal_id,
                    unit,
                    request.message,
                    request.requested_by,
                    unix_micros(request.at)
                ],
                correction_row,
            )?;
            if settings(&tx)?.live {
                let mut deltas = Deltas::new();
                count_correction(&mut deltas, &unit, request.at, None, 1);
                flush(&tx, deltas)?;
            }
            tx.commit()?;
            Ok(stored)
        })
        .await
    }

    async fn correction_requests(
        &self,
        record_id: i64,
    ) -> StoreResult<Vec<StoredCorrectionRequest>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {CORRECTION_COLUMNS} FROM correction_requests WHERE record_id = ?1 ORDER BY id"
            ))?;
            let rows = stmt.query_map([record_id], correction_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn flow_rows(&self, from: Date, to: Date) -> StoreResult<FlowRows> {
        self.read(move |conn| {
            let (start, _) = vietnam_day_range(from);
            let (_, end) = vietnam_day_range(to);
            let (from, to) = (from.to_string(), to.to_string());
            let mut out = FlowRows::default();
            let mut pairs: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
            let mut stmt = conn.prepare_cached(
                "SELECT travel_date, origin_unit, destination_unit, count(*) FROM declarations \
                 WHERE travel_date BETWEEN ?1 AND ?2 AND revoked_at IS NULL \
                 GROUP BY travel_date, origin_unit, destination_unit",
            )?;
            let rows = stmt.query_map(params![from, to], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            for row in rows {
                let (day, o, d, n): (String, String, String, i64) = row?;
                pairs.entry((o.clone(), d.clone())).or_default().0 += n;
                out.days.push((day, o, d, n));
            }
            let mut stmt = conn.prepare_cached(
                "SELECT d.origin_unit, d.destination_unit, count(*) FROM checkpoint_scans s \
                 JOIN declarations d ON d.id = s.declaration_id \
                 WHERE s.scanned_at >= ?1 AND s.scanned_at < ?2 \
                 AND d.travel_date BETWEEN ?3 AND ?4 AND d.revoked_at IS NULL \
                 GROUP BY d.origin_unit, d.destination_unit",
            )?;
            let bounds = params![unix_micros(start), unix_micros(end), from, to];
            let rows = stmt.query_map(bounds, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            for row in rows {
                let (o, d, n): (String, String, i64) = row?;
                pairs.entry((o, d)).or_default().1 += n;
            }
            out.pairs = pairs
                .into_iter()
                .map(|((o, d), (decl, scans))| (o, d, decl, scans))
                .collect();
            let mut stmt = conn.prepare_cached(
                "SELECT destination_unit, count(*) FROM declarations \
                 WHERE travel_date BETWEEN ?1 AND ?2 AND from_outbreak AND revoked_at IS NULL \
                 GROUP BY destination_unit",
            )?;
            let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
            out.outbreak_arrivals = rows.collect::<Result<Vec<_>, _>>()?;
            Ok(out)
        })
        .await
    }

    async fn analytics_settings(&self) -> StoreResult<AnalyticsSettings> {
        self.read(settings).await
    }

    async fn add_counts(&self, deltas: Deltas) -> StoreResult<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            flush(&tx, deltas)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn recount(
        &self,
        apply: bool,
        new_settings: Option<AnalyticsSettings>,
        at: OffsetDateTime,
    ) -> StoreResult<RecountReport> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let settings = new_settings.map_or_else(|| settings(&tx), Ok)?;
            let (citizens, members) =
                recount_into_shadow(&tx, settings, at)?;
            let counters: i64 = tx.query_row(
                "SELECT count(*) FROM temp.recount_counts WHERE n <> 0",
                [],
                |r| r.get(0),
            )?;
            let report = RecountReport {
                citizens,
                members,
                counters: counters as u64,
                counter_differences: differences(
                    &tx,
                    "main.coverage_counts",
                    "temp.recount_counts",
                    "unit, grain, bucket, series, n",
                    "n <> 0",
                )?,
                member_differences: differences(
                    &tx,
                    "main.coverage_members",
                    "temp.recount_members",
                    &format!("personal_id, {MEMBER_COLUMNS}"),
                    "1",
                )?,
                residence_basis: settings.residence.code().to_owned(),
                applied: apply,
            };
            if apply {
                tx.execute_batch(
                    "DELETE FROM main.coverage_counts;
                     INSERT INTO main.coverage_counts SELECT * FROM temp.recount_counts WHERE n <> 0;
                     DELETE FROM main.coverage_members;
                     INSERT INTO main.coverage_members SELECT * FROM temp.recount_members;",
                )?;
                save_settings(
                    &tx,
                    AnalyticsSettings {
                        counted: true,
                        ..settings
                    },
                )?;
            }
            tx.execute_batch(
                "DROP TABLE temp.recount_counts; DROP TABLE temp.recount_members;",
            )?;
            tx.commit()?;
            Ok(report)
        })
        .await
    }
}
