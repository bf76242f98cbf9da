//! `PostgreSQL` implementation of [`TraceStore`]. Check-ins live in native day partitions, created
//! before the first row of a day arrives (and ahead by the retention job) and dropped whole by the
//! purge; the many-key reads are one statement each over `unnest`ed arrays.

use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use vaxtrace_domain::PersonalId;
use vaxtrace_trace::{MAX_STAY_SECS, Stay};

use crate::declarations::day_text;
use crate::trace::{
    BREAK_GLASS_COLUMNS, BreakGlass, CASE_COLUMNS, CONTACT_COLUMNS, Cells, CheckinPurge,
    CheckoutOutcome, NewCase, NewCheckin, NewContact, NewQuarantine, NewTest, NewVenue,
    QUARANTINE_COLUMNS, QuarantineFilter, StoredCase, StoredContact, StoredQuarantine, StoredTest,
    StoredVenue, TEST_COLUMNS, TraceStore, VENUE_COLUMNS, area_filter, break_glass_from, case_from,
    contact_from, day_of, person_id, pid, quarantine_from, sort_stays, stay_from, test_from,
    venue_from,
};
use crate::{PostgresStore, StoreError, StoreResult, unix_micros};

impl Cells for Row {
    fn int(&self, i: usize) -> StoreResult<i64> {
        self.opt_int(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i} is null")))
    }
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        // Columns are BIGINT but for a few narrow ones (level, stay_minutes).
        if let Ok(v) = self.try_get::<_, Option<i64>>(i) {
            return Ok(v);
        }
        if let Ok(v) = self.try_get::<_, Option<i32>>(i) {
            return Ok(v.map(i64::from));
        }
        Ok(self.try_get::<_, Option<i16>>(i)?.map(i64::from))
    }
    fn text(&self, i: usize) -> StoreResult<String> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        Ok(self.try_get(i)?)
    }
    fn opt_real(&self, i: usize) -> StoreResult<Option<f64>> {
        Ok(self.try_get(i)?)
    }
    fn flag(&self, i: usize) -> StoreResult<bool> {
        Ok(self.try_get(i)?)
    }
}

/// The quoted name of a day's partition (quoted: a day before 1970 is negative).
fn partition_name(day: i64) -> String {
    format!("\"checkins_d{day}\"")
}

/// Batches this large are inserted on two connections at once.
const PARALLEL_INSERT_FROM: usize = 10_000;

async fn insert_checkin_rows(
    client: &tokio_postgres::Client,
    batch: &[NewCheckin],
) -> Result<u64, tokio_postgres::Error> {
    let venue: Vec<i64> = batch.iter().map(|c| c.venue_id).collect();
    let start: Vec<i64> = batch.iter().map(|c| c.checked_in_at).collect();
    let person: Vec<i64> = batch.iter().map(|c| person_id(c.personal_id)).collect();
    let end: Vec<i64> = batch.iter().map(|c| c.ends_at).collect();
    let out: Vec<bool> = batch.iter().map(|c| c.checked_out).collect();
    let method: Vec<&str> = batch.iter().map(|c| c.method).collect();
    client
        .execute(
            "INSERT INTO checkins (venue_id, checked_in_at, personal_id, ends_at, checked_out, method) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], \
             $5::boolean[], $6::text[]) ON CONFLICT DO NOTHING",
            &[&venue, &start, &person, &end, &out, &method],
        )
        .await
}

/// After an `UPDATE … WHERE key = $1 AND <not done yet>`: `Ok(true)` when it changed the row,
/// `Ok(false)` when the row exists but was done already, `NotFound` when there is no such row.
async fn changed_or_missing(
    client: &tokio_postgres::Client,
    changed: u64,
    table: &str,
    column: &str,
    key: &(dyn ToSql + Sync),
    what: &'static str,
) -> StoreResult<bool> {
    if changed == 1 {
        return Ok(true);
    }
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE {column} = $1)");
    let row = client.query_one(&sql, &[key]).await?;
    if row.get(0) {
        Ok(false)
    } else {
        Err(StoreError::NotFound(what))
    }
}

impl PostgresStore {
    /// Inserts rows whose partitions were ensured; when another server's purge dropped one of
    /// them meanwhile, forgets the batch's days, recreates them and tries once more.
    async fn insert_checkin_part(&self, rows: &[NewCheckin], days: &[i64]) -> StoreResult<u64> {
        let client = self.pool.get().await?;
        match insert_checkin_rows(&client, rows).await {
            Err(e) if e.code() == Some(&SqlState::CHECK_VIOLATION) => {
                {
                    let mut known = self.lock_partitions();
                    for day in days {
                        known.remove(day);
                    }
                }
                self.ensure_partitions(days.iter().copied()).await?;
                Ok(insert_checkin_rows(&client, rows).await?)
            }
            other => Ok(other?),
        }
    }

    async fn select<T>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        map: fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let client = self.pool.get().await?;
        let rows = client.query(sql, params).await?;
        rows.iter().map(map).collect()
    }

    /// Creates the day partitions not known to exist. Another server creating the same one at the
    /// same moment is not an error.
    async fn ensure_partitions(&self, days: impl IntoIterator<Item = i64>) -> StoreResult<u64> {
        let missing: Vec<i64> = {
            let known = self.lock_partitions();
            let mut days: Vec<i64> = days.into_iter().filter(|d| !known.contains(d)).collect();
            days.sort_unstable();
            days.dedup();
            days
        };
        let mut created = 0;
        if missing.is_empty() {
            return Ok(created);
        }
        let client = self.pool.get().await?;
        for day in missing {
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF checkins FOR VALUES FROM ({}) TO ({})",
                partition_name(day),
                day * 86_400,
                (day + 1) * 86_400
            );
            match client.batch_execute(&sql).await {
                Ok(()) => created += 1,
                Err(e)
                    if e.code() == Some(&SqlState::DUPLICATE_TABLE)
                        || e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {}
                Err(e) => return Err(e.into()),
            }
            self.lock_partitions().insert(day);
        }
        Ok(created)
    }

    /// The day partitions that exist, from the catalogue.
    async fn partition_days(&self) -> StoreResult<Vec<i64>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                 WHERE i.inhparent = 'checkins'::regclass",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                r.get::<_, String>(0)
                    .strip_prefix("checkins_d")?
                    .parse()
                    .ok()
            })
            .collect())
    }
}

#[async_trait]
impl TraceStore for PostgresStore {
    async fn insert_venue(&self, v: NewVenue) -> StoreResult<i64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "INSERT INTO venues (name, kind, commune_code, address, latitude, longitude, \
                 stay_minutes, owner, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 RETURNING id",
                &[
                    &v.name,
                    &v.kind,
                    &v.commune_code,
                    &v.address,
                    &v.latitude,
                    &v.longitude,
                    &(v.stay_minutes as i32),
                    &v.owner,
                    &unix_micros(v.created_at),
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn venue(&self, id: i64) -> StoreResult<Option<StoredVenue>> {
        let sql = format!("SELECT {VENUE_COLUMNS} FROM venues WHERE id = $1");
        Ok(self.select(&sql, &[&id], venue_from).await?.pop())
    }

    async fn venues_by_owner(&self, owner: &str) -> StoreResult<Vec<StoredVenue>> {
        let sql = format!("SELECT {VENUE_COLUMNS} FROM venues WHERE owner = $1 ORDER BY id");
        self.select(&sql, &[&owner], venue_from).await
    }

    async fn set_venue_active(&self, id: i64, active: bool) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE venues SET active = $2 WHERE id = $1",
                &[&id, &active],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn insert_checkins(&self, mut batch: Vec<NewCheckin>) -> StoreResult<u64> {
        if batch.is_empty() {
            return Ok(0);
        }
        let days: Vec<i64> = batch.iter().map(|c| day_of(c.checked_in_at)).collect();
        self.ensure_partitions(days.iter().copied()).await?;
        if batch.len() < PARALLEL_INSERT_FROM {
            return self.insert_checkin_part(&batch, &days).await;
        }
        // Key order, split where the key changes: the halves fill disjoint ranges of the primary
        // key on two connections (two database cores), and never wait on each other's rows.
        let key = |c: &NewCheckin| (c.venue_id, c.checked_in_at, person_id(c.personal_id));
        batch.sort_unstable_by_key(key);
        let mut middle = batch.len() / 2;
        while middle < batch.len() && key(&batch[middle]) == key(&batch[middle - 1]) {
            middle += 1;
        }
        let (low, high) = batch.split_at(middle);
        let (a, b) = tokio::try_join!(
            self.insert_checkin_part(low, &days),
            self.insert_checkin_part(high, &days)
        )?;
        Ok(a + b)
    }

    async fn check_out(
        &self,
        personal_id: PersonalId,
        venue_id: i64,
        at: i64,
    ) -> StoreResult<CheckoutOutcome> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                "SELECT checked_in_at FROM checkins WHERE personal_id = $1 AND venue_id = $2 \
                 AND checked_in_at BETWEEN $3 AND $4 AND NOT checked_out \
                 ORDER BY checked_in_at FOR UPDATE",
                &[
                    &person_id(personal_id),
                    &venue_id,
                    &(at - MAX_STAY_SECS),
                    &(at + MAX_STAY_SECS),
                ],
            )
            .await?;
        let starts: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let outcome = match (starts.iter().rev().find(|s| **s <= at), starts.first()) {
            (Some(&start), _) => {
                tx.execute(
                    "UPDATE checkins SET ends_at = $4, checked_out = TRUE WHERE venue_id = $1 \
                     AND checked_in_at = $2 AND personal_id = $3",
                    &[&venue_id, &start, &person_id(personal_id), &at],
                )
                .await?;
                CheckoutOutcome::CheckedOut {
                    checked_in_at: start,
                    ends_at: at,
                }
            }
            (None, Some(&start)) => CheckoutOutcome::BeforeCheckin {
                checked_in_at: start,
            },
            (None, None) => CheckoutOutcome::NoOpenStay,
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn stays_of_people(
        &self,
        queries: Vec<(PersonalId, i64, i64)>,
    ) -> StoreResult<Vec<Stay>> {
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        let person: Vec<i64> = queries.iter().map(|q| person_id(q.0)).collect();
        let from: Vec<i64> = queries.iter().map(|q| q.1).collect();
        let to: Vec<i64> = queries.iter().map(|q| q.2).collect();
        // The overall bounds let the planner skip partitions outside every window.
        let low = from.iter().min().copied().unwrap_or_default() - MAX_STAY_SECS;
        let high = to.iter().max().copied().unwrap_or_default();
        let mut stays = self
            .select(
                "SELECT c.personal_id, c.venue_id, c.checked_in_at, c.ends_at \
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS q(p, f, t) \
                 JOIN checkins c ON c.personal_id = q.p AND c.checked_in_at >= q.f - $6 \
                 AND c.checked_in_at <= q.t AND c.ends_at > q.f \
                 WHERE c.checked_in_at BETWEEN $4 AND $5",
                &[&person, &from, &to, &low, &high, &MAX_STAY_SECS],
                stay_from,
            )
            .await?;
        sort_stays(&mut stays);
        Ok(stays)
    }

    async fn stays_at_venues(&self, ranges: Vec<(i64, i64, i64)>) -> StoreResult<Vec<Stay>> {
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        let venue: Vec<i64> = ranges.iter().map(|r| r.0).collect();
        let from: Vec<i64> = ranges.iter().map(|r| r.1).collect();
        let to: Vec<i64> = ranges.iter().map(|r| r.2).collect();
        let low = from.iter().min().copied().unwrap_or_default();
        let high = to.iter().max().copied().unwrap_or_default();
        self.select(
            "SELECT c.personal_id, c.venue_id, c.checked_in_at, c.ends_at \
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS q(v, f, t) \
             JOIN checkins c ON c.venue_id = q.v AND c.checked_in_at BETWEEN q.f AND q.t \
             WHERE c.checked_in_at BETWEEN $4 AND $5",
            &[&venue, &from, &to, &low, &high],
            stay_from,
        )
        .await
    }

    async fn naive_contacts(
        &self,
        personal_id: PersonalId,
        from: i64,
        to: i64,
        min_overlap_secs: i64,
    ) -> StoreResult<Vec<PersonalId>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT DISTINCT b.personal_id FROM checkins a JOIN checkins b \
                 ON b.venue_id = a.venue_id AND b.personal_id <> a.personal_id \
                 WHERE a.personal_id = $1 AND a.checked_in_at BETWEEN $2 AND $3 \
                 AND LEAST(a.ends_at, b.ends_at, $3) - GREATEST(a.checked_in_at, b.checked_in_at) >= $4 \
                 ORDER BY 1",
                &[&person_id(personal_id), &from, &to, &min_overlap_secs],
            )
            .await?;
        rows.iter()
            .map(|r| pid(r.get(0), "checkins.personal_id"))
            .collect()
    }

    async fn known_citizens(&self, ids: Vec<PersonalId>) -> StoreResult<Vec<PersonalId>> {
        let numbers: Vec<i64> = ids.iter().map(|p| person_id(*p)).collect();
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT personal_id FROM citizens WHERE personal_id = ANY($1)",
                &[&numbers],
            )
            .await?;
        rows.iter()
            .map(|r| pid(r.get(0), "citizens.personal_id"))
            .collect()
    }

    async fn household_members(&self, personal_id: PersonalId) -> StoreResult<Vec<PersonalId>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT personal_id FROM citizens WHERE household_id = \
                 (SELECT household_id FROM citizens WHERE personal_id = $1) \
                 AND personal_id <> $1 ORDER BY personal_id",
                &[&person_id(personal_id)],
            )
            .await?;
        rows.iter()
            .map(|r| pid(r.get(0), "citizens.personal_id"))
            .collect()
    }

    async fn prepare_checkin_partitions(&self, from_day: i64, to_day: i64) -> StoreResult<u64> {
        self.ensure_partitions(from_day..=to_day).await
    }

    async fn purge_checkins(&self, before: i64) -> StoreResult<CheckinPurge> {
        let mut purge = CheckinPurge::default();
        let client = self.pool.get().await?;
        for day in self.partition_days().await? {
            if (day + 1) * 86_400 <= before {
                // Detached concurrently first: a plain DROP would lock all of `checkins`.
                let name = partition_name(day);
                client
                    .batch_execute(&format!(
                        "ALTER TABLE checkins DETACH PARTITION {name} CONCURRENTLY"
                    ))
                    .await?;
                client
                    .batch_execute(&format!("DROP TABLE IF EXISTS {name}"))
                    .await?;
                self.lock_partitions().remove(&day);
                purge.partitions_dropped += 1;
            }
        }
        purge.rows_deleted = client
            .execute("DELETE FROM checkins WHERE checked_in_at < $1", &[&before])
            .await?;
        Ok(purge)
    }

    async fn insert_test(&self, t: NewTest) -> StoreResult<(i64, bool)> {
        let client = self.pool.get().await?;
        let new = client
            .query_opt(
                "INSERT INTO test_results (personal_id, kind, sampled_at, result, lab, lab_ref, \
                 recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (lab, lab_ref) DO NOTHING RETURNING id",
                &[
                    &person_id(t.personal_id),
                    &t.kind,
                    &unix_micros(t.sampled_at),
                    &t.result,
                    &t.lab,
                    &t.lab_ref,
                    &t.recorded_by,
                    &unix_micros(t.recorded_at),
                ],
            )
            .await?;
        if let Some(row) = new {
            return Ok((row.get(0), true));
        }
        let row = client
            .query_one(
                "SELECT id FROM test_results WHERE lab = $1 AND lab_ref = $2",
                &[&t.lab, &t.lab_ref],
            )
            .await?;
        Ok((row.get(0), false))
    }

    async fn test_result(&self, id: i64) -> StoreResult<Option<StoredTest>> {
        let sql = format!("SELECT {TEST_COLUMNS} FROM test_results WHERE id = $1");
        Ok(self.select(&sql, &[&id], test_from).await?.pop())
    }

    async fn tests_of(&self, personal_id: PersonalId) -> StoreResult<Vec<StoredTest>> {
        let sql = format!(
            "SELECT {TEST_COLUMNS} FROM test_results WHERE personal_id = $1 \
             ORDER BY sampled_at DESC, id DESC"
        );
        self.select(&sql, &[&person_id(personal_id)], test_from)
            .await
    }

    async fn open_case(&self, c: NewCase) -> StoreResult<StoredCase> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_one(
                "INSERT INTO cases (case_id, personal_id, test_id, sampled_at, onset_on, isolated_at, \
                 confirmed_by, confirmed_at, province_code, district_code, commune_code) \
                 VALUES ('pending:' || ($1::bigint)::text, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 RETURNING number",
                &[
                    &person_id(c.personal_id),
                    &c.test_id,
                    &unix_micros(c.sampled_at),
                    &c.onset_on.map(day_text),
                    &c.isolated_at.map(unix_micros),
                    &c.confirmed_by,
                    &unix_micros(c.confirmed_at),
                    &c.area.province_code,
                    &c.area.district_code,
                    &c.area.commune_code,
                ],
            )
            .await?;
        let number: i64 = row.get(0);
        let case_id = vaxtrace_trace::case::case_id(&c.area.province_code, number);
        let sql =
            format!("UPDATE cases SET case_id = $2 WHERE number = $1 RETURNING {CASE_COLUMNS}");
        let row = tx.query_one(&sql, &[&number, &case_id]).await?;
        let stored = case_from(&row)?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn case(&self, case_id: &str) -> StoreResult<Option<StoredCase>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1");
        Ok(self.select(&sql, &[&case_id], case_from).await?.pop())
    }

    async fn open_case_of(&self, personal_id: PersonalId) -> StoreResult<Option<StoredCase>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE personal_id = $1 AND recovered_on IS NULL"
        );
        Ok(self
            .select(&sql, &[&person_id(personal_id)], case_from)
            .await?
            .pop())
    }

    async fn close_case(&self, case_id: &str, recovered_on: Date) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE cases SET recovered_on = $2 WHERE case_id = $1 AND recovered_on IS NULL",
                &[&case_id, &day_text(recovered_on)],
            )
            .await?;
        changed_or_missing(&client, changed, "cases", "case_id", &case_id, "case").await
    }

    async fn replace_contacts(
        &self,
        case_id: &str,
        contacts: Vec<NewContact>,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM contacts WHERE case_id = $1", &[&case_id])
            .await?;
        let stmt = tx
            .prepare(
                "INSERT INTO contacts (case_id, personal_id, level, via, kind, exposed_at, \
                 overlap_secs, evidence, province_code, district_code, commune_code, traced_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .await?;
        for c in &contacts {
            tx.execute(
                &stmt,
                &[
                    &case_id,
                    &person_id(c.personal_id),
                    &i16::from(c.level),
                    &c.via.map(person_id),
                    &c.kind,
                    &c.exposed_at,
                    &c.overlap_secs,
                    &c.evidence,
                    &c.area.province_code,
                    &c.area.district_code,
                    &c.area.commune_code,
                    &unix_micros(at),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(contacts.len() as u64)
    }

    async fn contacts_of_case(&self, case_id: &str) -> StoreResult<Vec<StoredContact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE case_id = $1 \
             ORDER BY level, exposed_at, personal_id"
        );
        self.select(&sql, &[&case_id], contact_from).await
    }

    async fn contacts_in_area(
        &self,
        unit: &str,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<StoredContact>> {
        let filter = area_filter(unit, "$1");
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE {filter} AND traced_at >= $2 \
             ORDER BY traced_at DESC, case_id, personal_id LIMIT $3"
        );
        self.select(
            &sql,
            &[&unit, &unix_micros(since), &i64::from(limit)],
            contact_from,
        )
        .await
    }

    async fn insert_quarantine(&self, q: NewQuarantine) -> StoreResult<i64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "INSERT INTO quarantines (personal_id, kind, place, starts_on, ends_on, case_id, \
                 ordered_by, ordered_at, province_code, district_code, commune_code) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                &[
                    &person_id(q.personal_id),
                    &q.kind,
                    &q.place,
                    &day_text(q.starts_on),
                    &day_text(q.ends_on),
                    &q.case_id,
                    &q.ordered_by,
                    &unix_micros(q.ordered_at),
                    &q.area.province_code,
                    &q.area.district_code,
                    &q.area.commune_code,
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn quarantine(&self, id: i64) -> StoreResult<Option<StoredQuarantine>> {
        let sql = format!("SELECT {QUARANTINE_COLUMNS} FROM quarantines WHERE id = $1");
        Ok(self.select(&sql, &[&id], quarantine_from).await?.pop())
    }

    async fn quarantines(&self, f: QuarantineFilter) -> StoreResult<Vec<StoredQuarantine>> {
        let filter = area_filter(&f.unit, "$1");
        let sql = format!(
            "SELECT {QUARANTINE_COLUMNS} FROM quarantines WHERE {filter} \
             AND (released_on IS NULL OR released_on > $2) AND starts_on <= $2 AND ends_on >= $2 \
             AND ($3::text IS NULL OR ends_on <= $3) ORDER BY ends_on, id LIMIT $4"
        );
        self.select(
            &sql,
            &[
                &f.unit,
                &day_text(f.in_force_on),
                &f.ending_by.map(day_text),
                &i64::from(f.limit),
            ],
            quarantine_from,
        )
        .await
    }

    async fn active_quarantine(
        &self,
        personal_id: PersonalId,
        on: Date,
    ) -> StoreResult<Option<StoredQuarantine>> {
        let sql = format!(
            "SELECT {QUARANTINE_COLUMNS} FROM quarantines WHERE personal_id = $1 \
             AND (released_on IS NULL OR released_on > $2) AND starts_on <= $2 AND ends_on >= $2 \
             ORDER BY ends_on DESC, id DESC LIMIT 1"
        );
        Ok(self
            .select(
                &sql,
                &[&person_id(personal_id), &day_text(on)],
                quarantine_from,
            )
            .await?
            .pop())
    }

    async fn release_quarantine(&self, id: i64, on: Date) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE quarantines SET released_on = $2 WHERE id = $1 AND released_on IS NULL",
                &[&id, &day_text(on)],
            )
            .await?;
        changed_or_missing(&client, changed, "quarantines", "id", &id, "quarantine").await
    }

    async fn insert_break_glass(
        &self,
        actor: &str,
        role: &str,
        personal_id: PersonalId,
        reason: &str,
        at: OffsetDateTime,
    ) -> StoreResult<i64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "INSERT INTO break_glass (actor, role, personal_id, reason, at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &actor,
                    &role,
                    &person_id(personal_id),
                    &reason,
                    &unix_micros(at),
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn break_glass_pending(&self) -> StoreResult<Vec<BreakGlass>> {
        let sql = format!(
            "SELECT {BREAK_GLASS_COLUMNS} FROM break_glass WHERE reviewed_at IS NULL ORDER BY id"
        );
        self.select(&sql, &[], break_glass_from).await
    }

    async fn review_break_glass(
        &self,
        id: i64,
        by: &str,
        verdict: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE break_glass SET reviewed_by = $2, verdict = $3, reviewed_at = $4 \
                 WHERE id = $1 AND reviewed_at IS NULL",
                &[&id, &by, &verdict, &unix_micros(at)],
            )
            .await?;
        changed_or_missing(
            &client,
            changed,
            "break_glass",
            "id",
            &id,
            "break-glass access",
        )
        .await
    }
}
