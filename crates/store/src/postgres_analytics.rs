//! `PostgreSQL` implementation of [`AnalyticsStore`], and the counter bookkeeping the other
//! `PostgreSQL` writers call inside their transactions. Deltas land in one `unnest` upsert, in key
//! order so concurrent writers lock counter rows in the same order.

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures_util::{StreamExt, pin_mut};
use time::{Date, OffsetDateTime};
use tokio_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use vaxtrace_analytics::counters::{as_of_ranges, bucket_day, day_bucket};
use vaxtrace_analytics::supervision::count_correction;
use vaxtrace_analytics::{Deltas, Member};
use vaxtrace_domain::date::vietnam_day_range;

use crate::analytics::{
    AnalyticsSettings, AnalyticsStore, DaySum, DueCount, Facts, Family, FlowRows, MEMBER_COLUMNS,
    MemberRow, MemberWrite, NewCorrectionRequest, RecountReport, SeriesSum,
    StoredCorrectionRequest, member_changed, signature_changed,
};
use crate::vaccinations::{DOSE_COLUMNS, DoseRow, derive_status};
use crate::{PostgresStore, StoreError, StoreResult, from_unix_micros, unix_micros};

const RECOUNT_FLUSH_KEYS: usize = 200_000;
/// Signed records read per page of a recount.
const RECOUNT_PAGE: i64 = 20_000;

pub(crate) async fn settings(c: &impl GenericClient) -> StoreResult<AnalyticsSettings> {
    let rows = c
        .query("SELECT key, value FROM analytics_settings", &[])
        .await?;
    Ok(AnalyticsSettings::from_pairs(
        rows.iter().map(|r| (r.get(0), r.get(1))),
    ))
}

async fn save_settings(c: &impl GenericClient, s: AnalyticsSettings) -> StoreResult<()> {
    for (k, v) in s.pairs() {
        c.execute(
            "INSERT INTO analytics_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&k, &v],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn flush_into(
    c: &impl GenericClient,
    table: &str,
    deltas: Deltas,
) -> StoreResult<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    let rows = deltas.into_sorted();
    let mut units = Vec::with_capacity(rows.len());
    let mut grains = Vec::with_capacity(rows.len());
    let mut buckets = Vec::with_capacity(rows.len());
    let mut series = Vec::with_capacity(rows.len());
    let mut ns = Vec::with_capacity(rows.len());
    for (k, n) in rows {
        units.push(k.unit);
        grains.push(k.grain.code() as i16);
        buckets.push(k.bucket);
        series.push(k.series);
        ns.push(n);
    }
    c.execute(
        &format!(
            "INSERT INTO {table} AS c (unit, grain, bucket, series, n) \
             SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[], $4::text[], $5::bigint[]) \
             ON CONFLICT (unit, grain, bucket, series) DO UPDATE SET n = c.n + excluded.n"
        ),
        &[&units, &grains, &buckets, &series, &ns],
    )
    .await?;
    Ok(())
}

pub(crate) async fn flush(c: &impl GenericClient, deltas: Deltas) -> StoreResult<()> {
    flush_into(c, "coverage_counts", deltas).await
}

pub(crate) fn facts_row(r: &Row, at: usize) -> Facts {
    Facts {
        permanent_unit: r.get(at),
        temporary_unit: r.get(at + 1),
        birth_date: r.get(at + 2),
        sex: r.get(at + 3),
        status: r.get(at + 4),
    }
}

pub(crate) const FACTS_COLUMNS: &str = "permanent_unit, temporary_unit, birth_date, sex, status";

async fn facts(c: &impl GenericClient, personal_id: i64) -> StoreResult<Option<Facts>> {
    let row = c
        .query_opt(
            &format!("SELECT {FACTS_COLUMNS} FROM citizens WHERE personal_id = $1"),
            &[&personal_id],
        )
        .await?;
    Ok(row.map(|r| facts_row(&r, 0)))
}

pub(crate) fn member_from_row(r: &Row, at: usize) -> MemberRow {
    MemberRow {
        unit: r.get(at),
        band: i64::from(r.get::<_, i16>(at + 1)),
        sex: r.get(at + 2),
        alive: r.get(at + 3),
        dose1_day: r.get(at + 4),
        full_day: r.get(at + 5),
        booster_day: r.get(at + 6),
        next_due_day: r.get(at + 7),
        doses: r.get(at + 8),
    }
}

pub(crate) async fn write_member(
    c: &impl GenericClient,
    table: &str,
    personal_id: i64,
    write: MemberWrite,
) -> StoreResult<()> {
    match write {
        MemberWrite::Keep => {}
        MemberWrite::Delete => {
            c.execute(
                &format!("DELETE FROM {table} WHERE personal_id = $1"),
                &[&personal_id],
            )
            .await?;
        }
        MemberWrite::Put(m) => {
            c.execute(
                &format!(
                    "INSERT INTO {table} (personal_id, {MEMBER_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (personal_id) DO UPDATE SET unit = excluded.unit, \
                     band = excluded.band, sex = excluded.sex, alive = excluded.alive, \
                     dose1_day = excluded.dose1_day, full_day = excluded.full_day, \
                     booster_day = excluded.booster_day, next_due_day = excluded.next_due_day, \
                     doses = excluded.doses"
                ),
                &[
                    &personal_id,
                    &m.unit,
                    &(m.band as i16),
                    &m.sex,
                    &m.alive,
                    &m.dose1_day,
                    &m.full_day,
                    &m.booster_day,
                    &m.next_due_day,
                    &m.doses,
                ],
            )
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn member_row(
    c: &impl GenericClient,
    personal_id: i64,
) -> StoreResult<Option<MemberRow>> {
    let row = c
        .query_opt(
            &format!("SELECT {MEMBER_COLUMNS} FROM coverage_members WHERE personal_id = $1"),
            &[&personal_id],
        )
        .await?;
    Ok(row.map(|r| member_from_row(&r, 0)))
}

pub(crate) async fn refresh_member(
    c: &impl GenericClient,
    settings: AnalyticsSettings,
    personal_id: i64,
    member: &Member,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    if !settings.live {
        return Ok(());
    }
    let Some(facts) = facts(c, personal_id).await? else {
        return Ok(());
    };
    let resident = facts.resident(settings.residence)?;
    let old = member_row(c, personal_id).await?;
    let write = member_changed(old.as_ref(), &resident, member, deltas)?;
    write_member(c, "coverage_members", personal_id, write).await
}

pub(crate) async fn handle_corrections(
    c: &impl GenericClient,
    record_id: i64,
    by: &str,
    at: OffsetDateTime,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let rows = c
        .query(
            "UPDATE correction_requests SET handled_at = $2, handled_by = $3 \
             WHERE record_id = $1 AND handled_at IS NULL RETURNING queue_unit, requested_at",
            &[&record_id, &unix_micros(at), &by],
        )
        .await?;
    for r in rows {
        let unit: String = r.get(0);
        let requested = from_unix_micros(r.get(1));
        count_correction(deltas, &unit, requested, None, -1);
        count_correction(deltas, &unit, requested, Some(at), 1);
    }
    Ok(())
}

const CORRECTION_COLUMNS: &str =
    "id, record_id, queue_unit, message, requested_by, requested_at, handled_at, handled_by";

fn correction_from(r: &Row) -> StoredCorrectionRequest {
    StoredCorrectionRequest {
        id: r.get(0),
        record_id: r.get(1),
        queue_unit: r.get(2),
        message: r.get(3),
        requested_by: r.get(4),
        requested_at: from_unix_micros(r.get(5)),
        handled_at: r.get::<_, Option<i64>>(6).map(from_unix_micros),
        handled_by: r.get(7),
    }
}

fn no_params() -> [&'static (dyn ToSql + Sync); 0] {
    []
}

async fn recount_into_shadow(
    c: &impl GenericClient,
    settings: AnalyticsSettings,
    now: OffsetDateTime,
) -> StoreResult<(u64, u64)> {
    c.batch_execute(
        "DROP TABLE IF EXISTS recount_counts; DROP TABLE IF EXISTS recount_members;
         CREATE TEMP TABLE recount_counts (LIKE coverage_counts INCLUDING ALL) ON COMMIT DROP;
         CREATE TEMP TABLE recount_members (LIKE coverage_members INCLUDING ALL) ON COMMIT DROP;",
    )
    .await?;
    let mut deltas = Deltas::new();
    let mut citizens = 0;
    {
        let rows = c
            .query_raw(
                &format!("SELECT {FACTS_COLUMNS} FROM citizens"),
                no_params(),
            )
            .await?;
        pin_mut!(rows);
        while let Some(r) = rows.next().await {
            facts_row(&r?, 0)
                .resident(settings.residence)?
                .count_population(&mut deltas, 1);
            citizens += 1;
        }
    }
    // Each citizen's signed doses with their registry facts, a page at a time: writes into the
    // shadow tables cannot interleave with a half-read result on the same connection.
    let mut members = 0;
    let mut after: i64 = -1;
    let columns = DOSE_COLUMNS
        .split(", ")
        .map(|col| format!("r.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT r.personal_id, {columns}, c.permanent_unit, c.temporary_unit, c.birth_date, \
         c.sex, c.status FROM vaccination_records r \
         JOIN citizens c ON c.personal_id = r.personal_id \
         WHERE r.decision IN ('auto', 'confirmed') AND r.signed_version = r.version \
         AND r.personal_id > $1 ORDER BY r.personal_id, r.id LIMIT $2"
    );
    loop {
        let rows = c.query(&sql, &[&after, &RECOUNT_PAGE]).await?;
        let full_page = rows.len() as i64 == RECOUNT_PAGE;
        let mut per_citizen: Vec<(i64, Facts, Vec<DoseRow>)> = Vec::new();
        for r in &rows {
            let pid: i64 = r.get(0);
            let dose = DoseRow {
                id: r.get(1),
                vaccine_code: r.get(2),
                dose_number: i64::from(r.get::<_, i32>(3)),
                administered_at: r.get(4),
                site_code: r.get(5),
            };
            match per_citizen.last_mut() {
                Some((p, _, doses)) if *p == pid => doses.push(dose),
                _ => per_citizen.push((pid, facts_row(r, 6), vec![dose])),
            }
        }
        // The last citizen of a full page may go on in the next one: read them again there.
        if full_page && per_citizen.len() > 1 {
            per_citizen.pop();
        }
        let Some(last) = per_citizen.last().map(|(p, _, _)| *p) else {
            break;
        };
        members += shadow_members(c, settings, now, &per_citizen, &mut deltas).await?;
        if deltas.len() > RECOUNT_FLUSH_KEYS {
            flush_into(c, "recount_counts", std::mem::take(&mut deltas)).await?;
        }
        after = last;
        if !full_page {
            break;
        }
    }
    shadow_supervision(c, &mut deltas).await?;
    flush_into(c, "recount_counts", deltas).await?;
    Ok((citizens, members))
}

/// The supervision series of the current signatures and of every correction request.
/// Streamed without writes in between, and the deltas grow with units × days, not rows: memory
/// stays bounded.
async fn shadow_supervision(c: &impl GenericClient, deltas: &mut Deltas) -> StoreResult<()> {
    let signed = c
        .query_raw(
            "SELECT queue_unit, decision, administered_at, signed_at FROM vaccination_records \
             WHERE decision IN ('auto', 'confirmed') AND signed_version = version",
            no_params(),
        )
        .await?;
    pin_mut!(signed);
    while let Some(r) = signed.next().await {
        let r = r?;
        let unit: Option<String> = r.get(0);
        let decision: String = r.get(1);
        signature_changed(deltas, unit.as_deref(), &decision, r.get(2), r.get(3), 1);
    }
    let corrections = c
        .query_raw(
            "SELECT queue_unit, requested_at, handled_at FROM correction_requests",
            no_params(),
        )
        .await?;
    pin_mut!(corrections);
    while let Some(r) = corrections.next().await {
        let r = r?;
        let unit: String = r.get(0);
        let handled: Option<i64> = r.get(2);
        count_correction(
            deltas,
            &unit,
            from_unix_micros(r.get(1)),
            handled.map(from_unix_micros),
            1,
        );
    }
    Ok(())
}

async fn shadow_members(
    c: &impl GenericClient,
    settings: AnalyticsSettings,
    now: OffsetDateTime,
    group: &[(i64, Facts, Vec<DoseRow>)],
    deltas: &mut Deltas,
) -> StoreResult<u64> {
    for (pid, facts, doses) in group {
        let resident = facts.resident(settings.residence)?;
        let member = derive_status(doses, now)?.member;
        let write = member_changed(None, &resident, &member, deltas)?;
        write_member(c, "recount_members", *pid, write).await?;
    }
    Ok(group.len() as u64)
}

async fn differences(
    c: &impl GenericClient,
    a: &str,
    b: &str,
    columns: &str,
    filter: &str,
) -> StoreResult<u64> {
    let mut total = 0;
    for (x, y) in [(a, b), (b, a)] {
        let n: i64 = c
            .query_one(
                &format!(
                    "SELECT count(*) FROM (SELECT {columns} FROM {x} WHERE {filter} \
                     EXCEPT SELECT {columns} FROM {y} WHERE {filter}) d"
                ),
                &[],
            )
            .await?
            .get(0);
        total += n;
    }
    Ok(total as u64)
}

fn sum_from(r: &Row) -> SeriesSum {
    SeriesSum {
        unit: r.get(0),
        series: r.get(1),
        n: r.get(2),
    }
}

#[async_trait]
impl AnalyticsStore for PostgresStore {
    async fn series_sums(
        &self,
        units: Vec<String>,
        day: Option<Date>,
        family: Family,
    ) -> StoreResult<Vec<SeriesSum>> {
        let client = self.pool.get().await?;
        let cond = family.condition();
        let rows = match day {
            None => {
                client
                    .query(
                        &format!(
                            "SELECT unit, series, n FROM coverage_counts WHERE unit = ANY($1) \
                             AND grain = 0 AND {cond} AND n <> 0"
                        ),
                        &[&units],
                    )
                    .await?
            }
            Some(day) => {
                let [y, m, d] = as_of_ranges(day);
                let sql = format!(
                    "SELECT unit, series, sum(n)::bigint FROM (
                       SELECT unit, series, n FROM coverage_counts WHERE unit = ANY($1) AND grain = 0
                         AND series LIKE 'pop:%' AND {cond}
                       UNION ALL SELECT unit, series, n FROM coverage_counts WHERE unit = ANY($1)
                         AND grain = {} AND bucket BETWEEN $2 AND $3 AND {cond}
                       UNION ALL SELECT unit, series, n FROM coverage_counts WHERE unit = ANY($1)
                         AND grain = {} AND bucket BETWEEN $4 AND $5 AND {cond}
                       UNION ALL SELECT unit, series, n FROM coverage_counts WHERE unit = ANY($1)
                         AND grain = {} AND bucket BETWEEN $6 AND $7 AND {cond}
                     ) s GROUP BY unit, series HAVING sum(n) <> 0",
                    y.0.code(),
                    m.0.code(),
                    d.0.code()
                );
                client
                    .query(&sql, &[&units, &y.1, &y.2, &m.1, &m.2, &d.1, &d.2])
                    .await?
            }
        };
        Ok(rows.iter().map(sum_from).collect())
    }

    async fn day_sums(
        &self,
        units: Vec<String>,
        from: Date,
        to: Date,
        family: Family,
    ) -> StoreResult<Vec<DaySum>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT bucket, series, sum(n)::bigint FROM coverage_counts WHERE unit = ANY($1) \
                     AND grain = 3 AND bucket BETWEEN $2 AND $3 AND {} \
                     GROUP BY bucket, series HAVING sum(n) <> 0 ORDER BY bucket",
                    family.condition()
                ),
                &[&units, &day_bucket(from), &day_bucket(to)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DaySum {
                    day: bucket_day(r.get(0))
                        .ok_or_else(|| StoreError::Corrupt("coverage day bucket".into()))?,
                    series: r.get(1),
                    n: r.get(2),
                })
            })
            .collect()
    }

    async fn due_counts(&self, units: Vec<String>, day: Date) -> StoreResult<Vec<DueCount>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT unit, count(*) FILTER (WHERE full_day IS NULL), \
                 count(*) FILTER (WHERE full_day IS NOT NULL) FROM coverage_members \
                 WHERE unit = ANY($1) AND next_due_day IS NOT NULL AND next_due_day <= $2 AND alive \
                 GROUP BY unit",
                &[&units, &day_bucket(day)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DueCount {
                unit: r.get(0),
                due_dose: r.get(1),
                due_booster: r.get(2),
            })
            .collect())
    }

    async fn waiting_review(&self, units: Vec<String>) -> StoreResult<Vec<(String, i64)>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT queue_unit, count(*) FROM vaccination_records \
                 WHERE queue_unit = ANY($1) AND decision = 'review' GROUP BY queue_unit",
                &[&units],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn open_corrections(&self, units: Vec<String>) -> StoreResult<Vec<(String, i64)>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT queue_unit, count(*) FROM correction_requests \
                 WHERE queue_unit = ANY($1) AND handled_at IS NULL GROUP BY queue_unit",
                &[&units],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn request_correction(
        &self,
        request: NewCorrectionRequest,
    ) -> StoreResult<StoredCorrectionRequest> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT personal_id, queue_unit FROM vaccination_records WHERE id = $1",
                &[&request.record_id],
            )
            .await?
            .ok_or(StoreError::NotFound("record"))?;
        let personal_id: Option<i64> = row.get(0);
        let unit: String = row
            .get::<_, Option<String>>(1)
            .ok_or_else(|| StoreError::Conflict("the record has no commune to review it".into()))?;
        let stored = tx
            .query_one(
                &format!(
                    "INSERT INTO correction_requests (record_id, personal_id, queue_unit, message, \
                     requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     RETURNING {CORRECTION_COLUMNS}"
                ),
                &[
                    &request.record_id,
                    &personal_id,
                    &unit,
                    &request.message,
                    &request.requested_by,
                    &unix_micros(request.at),
                ],
            )
            .await?;
        if settings(&*tx).await?.live {
            let mut deltas = Deltas::new();
            count_correction(&mut deltas, &unit, request.at, None, 1);
            flush(&*tx, deltas).await?;
        }
        tx.commit().await?;
        Ok(correction_from(&stored))
    }

    async fn correction_requests(
        &self,
        record_id: i64,
    ) -> StoreResult<Vec<StoredCorrectionRequest>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {CORRECTION_COLUMNS} FROM correction_requests WHERE record_id = $1 ORDER BY id"
                ),
                &[&record_id],
            )
            .await?;
        Ok(rows.iter().map(correction_from).collect())
    }

    async fn flow_rows(&self, from: Date, to: Date) -> StoreResult<FlowRows> {
        let client = self.pool.get().await?;
        let (start, _) = vietnam_day_range(from);
        let (_, end) = vietnam_day_range(to);
        let (from, to) = (from.to_string(), to.to_string());
        let mut out = FlowRows::default();
        let mut pairs: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        let rows = client
            .query(
                "SELECT travel_date, origin_unit, destination_unit, count(*) FROM declarations \
                 WHERE travel_date BETWEEN $1 AND $2 AND revoked_at IS NULL \
                 GROUP BY travel_date, origin_unit, destination_unit",
                &[&from, &to],
            )
            .await?;
        for r in rows {
            let (day, o, d, n): (String, String, String, i64) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            pairs.entry((o.clone(), d.clone())).or_default().0 += n;
            out.days.push((day, o, d, n));
        }
        let rows = client
            .query(
                "SELECT d.origin_unit, d.destination_unit, count(*) FROM checkpoint_scans s \
                 JOIN declarations d ON d.id = s.declaration_id \
                 WHERE s.scanned_at >= $1 AND s.scanned_at < $2 \
                 AND d.travel_date BETWEEN $3 AND $4 AND d.revoked_at IS NULL \
                 GROUP BY d.origin_unit, d.destination_unit",
                &[&unix_micros(start), &unix_micros(end), &from, &to],
            )
            .await?;
        for r in rows {
            pairs.entry((r.get(0), r.get(1))).or_default().1 += r.get::<_, i64>(2);
        }
        out.pairs = pairs
            .into_iter()
            .map(|((o, d), (decl, scans))| (o, d, decl, scans))
            .collect();
        let rows = client
            .query(
                "SELECT destination_unit, count(*) FROM declarations \
                 WHERE travel_date BETWEEN $1 AND $2 AND from_outbreak AND revoked_at IS NULL \
                 GROUP BY destination_unit",
                &[&from, &to],
            )
            .await?;
        out.outbreak_arrivals = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(out)
    }

    async fn analytics_settings(&self) -> StoreResult<AnalyticsSettings> {
        let client = self.pool.get().await?;
        settings(&**client).await
    }

    async fn add_counts(&self, deltas: Deltas) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        flush(&*tx, deltas).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn recount(
        &self,
        apply: bool,
        new_settings: Option<AnalyticsSettings>,
        at: OffsetDateTime,
    ) -> StoreResult<RecountReport> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Writers of counters wait; the base tables are read in the same snapshot.
        tx.batch_execute(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
             LOCK TABLE coverage_members, coverage_counts IN EXCLUSIVE MODE",
        )
        .await?;
        let settings = match new_settings {
            Some(s) => s,
            None => settings(&*tx).await?,
        };
        let (citizens, members) = recount_into_shadow(&*tx, settings, at).await?;
        let counters: i64 = tx
            .query_one("SELECT count(*) FROM recount_counts WHERE n <> 0", &[])
            .await?
            .get(0);
        let report = RecountReport {
            citizens,
            members,
            counters: counters as u64,
            counter_differences: differences(
                &*tx,
                "coverage_counts",
                "recount_counts",
                "unit, grain, bucket, series, n",
                "n <> 0",
            )
            .await?,
            member_differences: differences(
                &*tx,
                "coverage_members",
                "recount_members",
                &format!("personal_id, {MEMBER_COLUMNS}"),
                "true",
            )
            .await?,
            residence_basis: settings.residence.code().to_owned(),
            applied: apply,
        };
        if apply {
            tx.batch_execute(
                "DELETE FROM coverage_counts;
                 INSERT INTO coverage_counts SELECT * FROM recount_counts WHERE n <> 0;
                 DELETE FROM coverage_members;
                 INSERT INTO coverage_members SELECT * FROM recount_members;",
            )
            .await?;
            let counted = AnalyticsSettings {
                counted: true,
                ..settings
            };
            save_settings(&*tx, counted).await?;
        }
        tx.commit().await?;
        Ok(report)
    }
}
