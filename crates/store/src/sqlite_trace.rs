//! `SQLite` implementation of [`TraceStore`]. Check-ins are one table clustered by day (see the
//! migration), so every check-in read is a loop of key seeks, one per day of the range.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::{Date, OffsetDateTime};
use vaxtrace_domain::PersonalId;
use vaxtrace_trace::{MAX_STAY_SECS, Stay};

use crate::declarations::day_text;
use crate::trace::{
    Area, BREAK_GLASS_COLUMNS, BreakGlass, CASE_COLUMNS, CONTACT_COLUMNS, Cells, CheckinPurge,
    CheckoutOutcome, NewCase, NewCheckin, NewContact, NewQuarantine, NewTest, NewVenue,
    QUARANTINE_COLUMNS, QuarantineFilter, StoredCase, StoredContact, StoredQuarantine, StoredTest,
    StoredVenue, TEST_COLUMNS, TraceStore, VENUE_COLUMNS, area_filter, break_glass_from, case_from,
    contact_from, day_of, person_id, pid, quarantine_from, sort_stays, stay_from, test_from,
    venue_from,
};
use crate::{SqliteStore, StoreError, StoreResult, unix_micros};

impl Cells for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> StoreResult<i64> {
        Ok(self.get(i)?)
    }
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> StoreResult<String> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        Ok(self.get(i)?)
    }
    fn opt_real(&self, i: usize) -> StoreResult<Option<f64>> {
        Ok(self.get(i)?)
    }
    fn flag(&self, i: usize) -> StoreResult<bool> {
        Ok(self.get(i)?)
    }
}

fn query<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl Fn(&rusqlite::Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(map(r)?);
    }
    Ok(out)
}

/// After an `UPDATE … WHERE key = ? AND <not done yet>`: `Ok(true)` when it changed the row,
/// `Ok(false)` when the row exists but was done already, `NotFound` when there is no such row.
fn changed_or_missing(
    conn: &Connection,
    changed: usize,
    table: &str,
    column: &str,
    key: impl rusqlite::ToSql,
    what: &'static str,
) -> StoreResult<bool> {
    if changed == 1 {
        return Ok(true);
    }
    let exists: bool = conn.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE {column} = ?1)"),
        [key],
        |r| r.get(0),
    )?;
    if exists {
        Ok(false)
    } else {
        Err(StoreError::NotFound(what))
    }
}

const STAY_COLUMNS: &str = "personal_id, venue_id, checked_in_at, ends_at";

fn area_params(a: &Area) -> [&str; 3] {
    [&a.province_code, &a.district_code, &a.commune_code]
}

#[async_trait]
impl TraceStore for SqliteStore {
    async fn insert_venue(&self, v: NewVenue) -> StoreResult<i64> {
        self.write(move |conn| {
            Ok(conn.query_row(
                "INSERT INTO venues (name, kind, commune_code, address, latitude, longitude, \
                 stay_minutes, owner, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 RETURNING id",
                params![
                    v.name,
                    v.kind,
                    v.commune_code,
                    v.address,
                    v.latitude,
                    v.longitude,
                    v.stay_minutes,
                    v.owner,
                    unix_micros(v.created_at)
                ],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn venue(&self, id: i64) -> StoreResult<Option<StoredVenue>> {
        self.read(move |conn| {
            let sql = format!("SELECT {VENUE_COLUMNS} FROM venues WHERE id = ?1");
            Ok(query(conn, &sql, [id], |r| venue_from(r))?.pop())
        })
        .await
    }

    async fn venues_by_owner(&self, owner: &str) -> StoreResult<Vec<StoredVenue>> {
        let owner = owner.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {VENUE_COLUMNS} FROM venues WHERE owner = ?1 ORDER BY id");
            query(conn, &sql, [owner], |r| venue_from(r))
        })
        .await
    }

    async fn set_venue_active(&self, id: i64, active: bool) -> StoreResult<bool> {
        self.write(move |conn| {
            Ok(conn.execute(
                "UPDATE venues SET active = ?2 WHERE id = ?1",
                params![id, active],
            )? == 1)
        })
        .await
    }

    async fn insert_checkins(&self, mut batch: Vec<NewCheckin>) -> StoreResult<u64> {
        // Key order: each B-tree page is visited once per batch.
        batch.sort_unstable_by_key(|c| (c.checked_in_at / 86_400, c.venue_id, c.checked_in_at));
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut inserted = 0;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR IGNORE INTO checkins (day, venue_id, checked_in_at, personal_id, \
                     ends_at, checked_out, method) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for c in &batch {
                    inserted += stmt.execute(params![
                        day_of(c.checked_in_at),
                        c.venue_id,
                        c.checked_in_at,
                        person_id(c.personal_id),
                        c.ends_at,
                        c.checked_out,
                        c.method
                    ])? as u64;
                }
            }
            tx.commit()?;
            Ok(inserted)
        })
        .await
    }

    async fn check_out(
        &self,
        personal_id: PersonalId,
        venue_id: i64,
        at: i64,
    ) -> StoreResult<CheckoutOutcome> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut latest_before: Option<(i64, i64)> = None;
            let mut after: Option<i64> = None;
            for day in day_of(at - MAX_STAY_SECS)..=day_of(at + MAX_STAY_SECS) {
                let mut stmt = tx.prepare_cached(
                    "SELECT checked_in_at FROM checkins WHERE day = ?1 AND personal_id = ?2 \
                     AND venue_id = ?3 AND checked_in_at BETWEEN ?4 AND ?5 AND NOT checked_out",
                )?;
                let starts = stmt.query_map(
                    params![
                        day,
                        person_id(personal_id),
                        venue_id,
                        at - MAX_STAY_SECS,
                        at + MAX_STAY_SECS
                    ],
                    |r| r.get::<_, i64>(0),
                )?;
                for start in starts {
                    let start = start?;
                    if start <= at {
                        if latest_before.is_none_or(|(_, s)| start > s) {
                            latest_before = Some((day, start));
                        }
                    } else if after.is_none_or(|s| start < s) {
                        after = Some(start);
                    }
                }
            }
            let outcome = match (latest_before, after) {
                (Some((day, start)), _) => {
                    tx.execute(
                        "UPDATE checkins SET ends_at = ?5, checked_out = 1 WHERE day = ?1 \
                         AND venue_id = ?2 AND checked_in_at = ?3 AND personal_id = ?4",
                        params![day, venue_id, start, person_id(personal_id), at],
                    )?;
                    CheckoutOutcome::CheckedOut {
                        checked_in_at: start,
                        ends_at: at,
                    }
                }
                (None, Some(start)) => CheckoutOutcome::BeforeCheckin {
                    checked_in_at: start,
                },
                (None, None) => CheckoutOutcome::NoOpenStay,
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn stays_of_people(
        &self,
        queries: Vec<(PersonalId, i64, i64)>,
    ) -> StoreResult<Vec<Stay>> {
        self.read(move |conn| {
            let mut stays = Vec::new();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {STAY_COLUMNS} FROM checkins WHERE day = ?1 AND personal_id = ?2 \
                 AND checked_in_at BETWEEN ?3 AND ?4 AND ends_at > ?5"
            ))?;
            for (person, from, to) in queries {
                let earliest = from - MAX_STAY_SECS;
                for day in day_of(earliest)..=day_of(to) {
                    let mut rows =
                        stmt.query(params![day, person_id(person), earliest, to, from])?;
                    while let Some(r) = rows.next()? {
                        stays.push(stay_from(r)?);
                    }
                }
            }
            sort_stays(&mut stays);
            Ok(stays)
        })
        .await
    }

    async fn stays_at_venues(&self, ranges: Vec<(i64, i64, i64)>) -> StoreResult<Vec<Stay>> {
        self.read(move |conn| {
            let mut stays = Vec::new();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {STAY_COLUMNS} FROM checkins WHERE day = ?1 AND venue_id = ?2 \
                 AND checked_in_at BETWEEN ?3 AND ?4"
            ))?;
            for (venue, from, to) in ranges {
                for day in day_of(from)..=day_of(to) {
                    let mut rows = stmt.query(params![day, venue, from, to])?;
                    while let Some(r) = rows.next()? {
                        stays.push(stay_from(r)?);
                    }
                }
            }
            Ok(stays)
        })
        .await
    }

    async fn naive_contacts(
        &self,
        personal_id: PersonalId,
        from: i64,
        to: i64,
        min_overlap_secs: i64,
    ) -> StoreResult<Vec<PersonalId>> {
        self.read(move |conn| {
            // The day lists are the only help the planner gets: without them SQLite would scan
            // every day for each stay.
            let days = |a: i64, b: i64| {
                (day_of(a)..=day_of(b))
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let sql = format!(
                "SELECT DISTINCT b.personal_id FROM checkins a JOIN checkins b \
                 ON b.venue_id = a.venue_id AND b.personal_id <> a.personal_id \
                 WHERE a.day IN ({}) AND a.personal_id = ?1 \
                 AND a.checked_in_at BETWEEN ?2 AND ?3 AND b.day IN ({}) \
                 AND MIN(a.ends_at, b.ends_at, ?3) - MAX(a.checked_in_at, b.checked_in_at) >= ?4 \
                 ORDER BY 1",
                days(from, to),
                days(from - MAX_STAY_SECS, to + MAX_STAY_SECS),
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(
                params![person_id(personal_id), from, to, min_overlap_secs],
                |r| r.get::<_, i64>(0),
            )?;
            rows.map(|r| pid(r?, "checkins.personal_id")).collect()
        })
        .await
    }

    async fn known_citizens(&self, ids: Vec<PersonalId>) -> StoreResult<Vec<PersonalId>> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM citizens WHERE personal_id = ?1)")?;
            let mut known = Vec::new();
            for id in ids {
                if stmt.query_row([person_id(id)], |r| r.get::<_, bool>(0))? {
                    known.push(id);
                }
            }
            Ok(known)
        })
        .await
    }

    async fn household_members(&self, personal_id: PersonalId) -> StoreResult<Vec<PersonalId>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT personal_id FROM citizens WHERE household_id = \
                 (SELECT household_id FROM citizens WHERE personal_id = ?1) \
                 AND personal_id <> ?1 ORDER BY personal_id",
            )?;
            let rows = stmt.query_map([person_id(personal_id)], |r| r.get::<_, i64>(0))?;
            rows.map(|r| pid(r?, "citizens.personal_id")).collect()
        })
        .await
    }

    async fn prepare_checkin_partitions(&self, _from_day: i64, _to_day: i64) -> StoreResult<u64> {
        Ok(0)
    }

    async fn purge_checkins(&self, before: i64) -> StoreResult<CheckinPurge> {
        let mut purge = CheckinPurge::default();
        let mut from = i64::MIN;
        // A transaction per day keeps the WAL small on a big purge; empty days are skipped.
        loop {
            let next: Option<i64> = self
                .read(move |conn| {
                    Ok(conn.query_row(
                        "SELECT MIN(day) FROM checkins WHERE day >= ?1",
                        [from],
                        |r| r.get(0),
                    )?)
                })
                .await?;
            let Some(day) = next.filter(|d| *d <= day_of(before)) else {
                return Ok(purge);
            };
            purge.rows_deleted += self
                .write(move |conn| {
                    Ok(conn.execute(
                        "DELETE FROM checkins WHERE day = ?1 AND checked_in_at < ?2",
                        params![day, before],
                    )? as u64)
                })
                .await?;
            from = day + 1;
        }
    }

    async fn insert_test(&self, t: NewTest) -> StoreResult<(i64, bool)> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let new: Option<i64> = tx
                .query_row(
                    "INSERT INTO test_results (personal_id, kind, sampled_at, result, lab, lab_ref, \
                     recorded_by, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (lab, lab_ref) DO NOTHING RETURNING id",
                    params![
                        person_id(t.personal_id),
                        t.kind,
                        unix_micros(t.sampled_at),
                        t.result,
                        t.lab,
                        t.lab_ref,
                        t.recorded_by,
                        unix_micros(t.recorded_at)
                    ],
                    |r| r.get(0),
                )
                .optional()?;
            let out = match new {
                Some(id) => (id, true),
                None => (
                    tx.query_row(
                        "SELECT id FROM test_results WHERE lab = ?1 AND lab_ref = ?2",
                        params![t.lab, t.lab_ref],
                        |r| r.get(0),
                    )?,
                    false,
                ),
            };
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn test_result(&self, id: i64) -> StoreResult<Option<StoredTest>> {
        self.read(move |conn| {
            let sql = format!("SELECT {TEST_COLUMNS} FROM test_results WHERE id = ?1");
            Ok(query(conn, &sql, [id], |r| test_from(r))?.pop())
        })
        .await
    }

    async fn tests_of(&self, personal_id: PersonalId) -> StoreResult<Vec<StoredTest>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {TEST_COLUMNS} FROM test_results WHERE personal_id = ?1 \
                 ORDER BY sampled_at DESC, id DESC"
            );
            query(conn, &sql, [person_id(personal_id)], |r| test_from(r))
        })
        .await
    }

    async fn open_case(&self, c: NewCase) -> StoreResult<StoredCase> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let [province, district, commune] = area_params(&c.area);
            let number: i64 = tx.query_row(
                "INSERT INTO cases (case_id, personal_id, test_id, sampled_at, onset_on, isolated_at, \
                 confirmed_by, confirmed_at, province_code, district_code, commune_code) \
                 VALUES ('pending:' || ?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING number",
                params![
                    person_id(c.personal_id),
                    c.test_id,
                    unix_micros(c.sampled_at),
                    c.onset_on.map(day_text),
                    c.isolated_at.map(unix_micros),
                    c.confirmed_by,
                    unix_micros(c.confirmed_at),
                    province,
                    district,
                    commune
                ],
                |r| r.get(0),
            )?;
            let case_id = vaxtrace_trace::case::case_id(province, number);
            tx.execute(
                "UPDATE cases SET case_id = ?2 WHERE number = ?1",
                params![number, case_id],
            )?;
            let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE number = ?1");
            let stored = query(&tx, &sql, [number], |r| case_from(r))?
                .pop()
                .ok_or(StoreError::NotFound("case"))?;
            tx.commit()?;
            Ok(stored)
        })
        .await
    }

    async fn case(&self, case_id: &str) -> StoreResult<Option<StoredCase>> {
        let case_id = case_id.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE case_id = ?1");
            Ok(query(conn, &sql, [case_id], |r| case_from(r))?.pop())
        })
        .await
    }

    async fn open_case_of(&self, personal_id: PersonalId) -> StoreResult<Option<StoredCase>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE personal_id = ?1 AND recovered_on IS NULL"
            );
            Ok(query(conn, &sql, [person_id(personal_id)], |r| case_from(r))?.pop())
        })
        .await
    }

    async fn close_case(&self, case_id: &str, recovered_on: Date) -> StoreResult<bool> {
        let case_id = case_id.to_owned();
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE cases SET recovered_on = ?2 WHERE case_id = ?1 AND recovered_on IS NULL",
                params![case_id, day_text(recovered_on)],
            )?;
            changed_or_missing(conn, changed, "cases", "case_id", &case_id, "case")
        })
        .await
    }

    async fn replace_contacts(
        &self,
        case_id: &str,
        contacts: Vec<NewContact>,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let case_id = case_id.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM contacts WHERE case_id = ?1", [&case_id])?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO contacts (case_id, personal_id, level, via, kind, exposed_at, \
                     overlap_secs, evidence, province_code, district_code, commune_code, traced_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?;
                for c in &contacts {
                    let [province, district, commune] = area_params(&c.area);
                    stmt.execute(params![
                        case_id,
                        person_id(c.personal_id),
                        c.level,
                        c.via.map(person_id),
                        c.kind,
                        c.exposed_at,
                        c.overlap_secs,
                        c.evidence,
                        province,
                        district,
                        commune,
                        unix_micros(at)
                    ])?;
                }
            }
            tx.commit()?;
            Ok(contacts.len() as u64)
        })
        .await
    }

    async fn contacts_of_case(&self, case_id: &str) -> StoreResult<Vec<StoredContact>> {
        let case_id = case_id.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE case_id = ?1 \
                 ORDER BY level, exposed_at, personal_id"
            );
            query(conn, &sql, [case_id], |r| contact_from(r))
        })
        .await
    }

    async fn contacts_in_area(
        &self,
        unit: &str,
        since: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<StoredContact>> {
        let unit = unit.to_owned();
        self.read(move |conn| {
            let filter = area_filter(&unit, "?1");
            let sql = format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE {filter} AND traced_at >= ?2 \
                 ORDER BY traced_at DESC, case_id, personal_id LIMIT ?3"
            );
            query(conn, &sql, params![unit, unix_micros(since), limit], |r| {
                contact_from(r)
            })
        })
        .await
    }

    async fn insert_quarantine(&self, q: NewQuarantine) -> StoreResult<i64> {
        self.write(move |conn| {
            let [province, district, commune] = area_params(&q.area);
            Ok(conn.query_row(
                "INSERT INTO quarantines (personal_id, kind, place, starts_on, ends_on, case_id, \
                 ordered_by, ordered_at, province_code, district_code, commune_code) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
                params![
                    person_id(q.personal_id),
                    q.kind,
                    q.place,
                    day_text(q.starts_on),
                    day_text(q.ends_on),
                    q.case_id,
                    q.ordered_by,
                    unix_micros(q.ordered_at),
                    province,
                    district,
                    commune
                ],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn quarantine(&self, id: i64) -> StoreResult<Option<StoredQuarantine>> {
        self.read(move |conn| {
            let sql = format!("SELECT {QUARANTINE_COLUMNS} FROM quarantines WHERE id = ?1");
            Ok(query(conn, &sql, [id], |r| quarantine_from(r))?.pop())
        })
        .await
    }

    async fn quarantines(&self, f: QuarantineFilter) -> StoreResult<Vec<StoredQuarantine>> {
        self.read(move |conn| {
            let filter = area_filter(&f.unit, "?1");
            let sql = format!(
                "SELECT {QUARANTINE_COLUMNS} FROM quarantines WHERE {filter} \
                 AND (released_on IS NULL OR released_on > ?2) AND starts_on <= ?2 AND ends_on >= ?2 \
                 AND (?3 IS NULL OR ends_on <= ?3) ORDER BY ends_on, id LIMIT ?4"
            );
            query(
                conn,
                &sql,
                params![
                    f.unit,
                    day_text(f.in_force_on),
                    f.ending_by.map(day_text),
                    f.limit
                ],
                |r| quarantine_from(r),
            )
        })
        .await
    }

    async fn active_quarantine(
        &self,
        personal_id: PersonalId,
        on: Date,
    ) -> StoreResult<Option<StoredQuarantine>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {QUARANTINE_COLUMNS} FROM quarantines WHERE personal_id = ?1 \
                 AND (released_on IS NULL OR released_on > ?2) AND starts_on <= ?2 AND ends_on >= ?2 \
                 ORDER BY ends_on DESC, id DESC LIMIT 1"
            );
            Ok(query(
                conn,
                &sql,
                params![person_id(personal_id), day_text(on)],
                |r| quarantine_from(r),
            )?
            .pop())
        })
        .await
    }

    async fn release_quarantine(&self, id: i64, on: Date) -> StoreResult<bool> {
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE quarantines SET released_on = ?2 WHERE id = ?1 AND released_on IS NULL",
                params![id, day_text(on)],
            )?;
            changed_or_missing(conn, changed, "quarantines", "id", id, "quarantine")
        })
        .await
    }

    async fn insert_break_glass(
        &self,
        actor: &str,
        role: &str,
        personal_id: PersonalId,
        reason: &str,
        at: OffsetDateTime,
    ) -> StoreResult<i64> {
        let (actor, role, reason) = (actor.to_owned(), role.to_owned(), reason.to_owned());
        self.write(move |conn| {
            Ok(conn.query_row(
                "INSERT INTO break_glass (actor, role, personal_id, reason, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![actor, role, person_id(personal_id), reason, unix_micros(at)],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn break_glass_pending(&self) -> StoreResult<Vec<BreakGlass>> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {BREAK_GLASS_COLUMNS} FROM break_glass WHERE reviewed_at IS NULL ORDER BY id"
            );
            query(conn, &sql, [], |r| break_glass_from(r))
        })
        .await
    }

    async fn review_break_glass(
        &self,
        id: i64,
        by: &str,
        verdict: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let (by, verdict) = (by.to_owned(), verdict.to_owned());
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE break_glass SET reviewed_by = ?2, verdict = ?3, reviewed_at = ?4 \
                 WHERE id = ?1 AND reviewed_at IS NULL",
                params![id, by, verdict, unix_micros(at)],
            )?;
            changed_or_missing(conn, changed, "break_glass", "id", id, "break-glass access")
        })
        .await
    }
}
