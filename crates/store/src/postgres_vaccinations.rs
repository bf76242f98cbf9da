//! `PostgreSQL` implementation of [`VaccinationStore`].

use std::collections::HashSet;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement, Transaction};
use vaxtrace_domain::date::vietnam_day_range;
use vaxtrace_domain::{Citizen, PersonalId};

use vaxtrace_analytics::Deltas;

use crate::analytics::{AnalyticsSettings, review_voids_signature, signature_changed};
use crate::certificates::revoke_for_record_sql;
use crate::citizen_row::{COLUMNS, CitizenRow};
use crate::postgres::citizen_row;
use crate::postgres_analytics::{self as analytics, handle_corrections, refresh_member};
use crate::vaccinations::{
    CandidateQuery, Change, DOSE_COLUMNS, DoseRow, InsertOutcome, LinkDecision, NewKey,
    NewShotRecord, NewSignature, QueueCount, RECORD_COLUMNS, RecordFilter, RecordRow, ReviewAction,
    ShotRecord, StoredKey, StoredStatus, VaccinationStore, VersionEntry, derive_status, flags_text,
};
use crate::{PostgresStore, StoreError, StoreResult, from_unix_micros, unix_micros};

const BLOCK_LIMIT: i64 = 50;
const KEY_COLUMNS: &str = "id, profile, unit_code, fingerprint, certificate, encrypted_private_key, \
    issuer_id, not_before, not_after, active";

fn record_row(r: &Row) -> RecordRow {
    RecordRow {
        id: r.get(0),
        version: r.get(1),
        source: r.get(2),
        source_record_id: r.get(3),
        claimed_personal_id: r.get(4),
        full_name: r.get(5),
        birth_date: r.get(6),
        sex: r.get(7),
        phone: r.get(8),
        commune_code: r.get(9),
        vaccine_code: r.get(10),
        dose_number: i64::from(r.get::<_, i32>(11)),
        administered_at: r.get(12),
        site_code: r.get(13),
        lot: r.get(14),
        input_flags: r.get(15),
        decision: r.get(16),
        personal_id: r.get(17),
        score: r.get(18),
        evidence: r.get(19),
        queue_unit: r.get(20),
        duplicate_of: r.get(21),
        signed_version: r.get(22),
        signature: r.get(23),
        signing_key_id: r.get(24),
        signed_at: r.get(25),
        signed_by: r.get(26),
        received_at: r.get(27),
        updated_at: r.get(28),
    }
}

fn key_row(r: &Row) -> StoredKey {
    StoredKey {
        id: r.get(0),
        profile: r.get(1),
        unit_code: r.get(2),
        fingerprint: r.get(3),
        certificate: r.get(4),
        encrypted_private_key: r.get(5),
        issuer_id: r.get(6),
        not_before: from_unix_micros(r.get(7)),
        not_after: from_unix_micros(r.get(8)),
        active: r.get(9),
    }
}

fn records(rows: &[Row]) -> StoreResult<Vec<ShotRecord>> {
    rows.iter().map(|r| record_row(r).into_record()).collect()
}

async fn load_record(
    client: &impl GenericClient,
    id: i64,
    lock: bool,
) -> StoreResult<Option<ShotRecord>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = client
        .query_opt(
            &format!("SELECT {RECORD_COLUMNS} FROM vaccination_records WHERE id = $1{lock}"),
            &[&id],
        )
        .await?;
    row.map(|r| record_row(&r).into_record()).transpose()
}

async fn refresh_status(
    tx: &Transaction<'_>,
    personal_id: i64,
    at: OffsetDateTime,
    settings: AnalyticsSettings,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    // One writer per citizen at a time: what it reads next includes what others committed.
    tx.execute(
        "SELECT 1 FROM citizens WHERE personal_id = $1 FOR NO KEY UPDATE",
        &[&personal_id],
    )
    .await?;
    let doses: Vec<DoseRow> = tx
        .query(
            &format!(
                "SELECT {DOSE_COLUMNS} FROM vaccination_records WHERE personal_id = $1 \
                 AND decision IN ('auto', 'confirmed') AND signed_version = version"
            ),
            &[&personal_id],
        )
        .await?
        .iter()
        .map(|r| DoseRow {
            id: r.get(0),
            vaccine_code: r.get(1),
            dose_number: i64::from(r.get::<_, i32>(2)),
            administered_at: r.get(3),
            site_code: r.get(4),
        })
        .collect();
    let derived = derive_status(&doses, at)?;
    tx.execute(
        "INSERT INTO citizen_status (personal_id, colour, rule_version, detail, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (personal_id) DO UPDATE SET colour = excluded.colour, \
         rule_version = excluded.rule_version, detail = excluded.detail, updated_at = excluded.updated_at",
        &[
            &personal_id,
            &derived.colour,
            &derived.rule_version,
            &derived.detail,
            &unix_micros(at),
        ],
    )
    .await?;
    refresh_member(tx, settings, personal_id, &derived.member, deltas).await
}

/// A report whose source key is already stored: a replay, or a conflict kept aside.
async fn existing_source_key(
    tx: &Transaction<'_>,
    rec: &NewShotRecord,
    fingerprint: &str,
) -> StoreResult<InsertOutcome> {
    let shot = &rec.shot;
    let row = tx
        .query_one(
            "SELECT id, fingerprint FROM vaccination_records WHERE source = $1 AND source_record_id = $2",
            &[&shot.source, &shot.source_record_id],
        )
        .await?;
    let (id, stored): (i64, String) = (row.get(0), row.get(1));
    if stored == fingerprint {
        return Ok(InsertOutcome::Replayed { id });
    }
    let payload = serde_json::to_string(shot)
        .map_err(|e| StoreError::Database(format!("record encoding: {e}")))?;
    tx.execute(
        "INSERT INTO vaccination_conflicts (record_id, received_at, fingerprint, payload) \
         VALUES ($1, $2, $3, $4)",
        &[&id, &unix_micros(rec.received_at), &fingerprint, &payload],
    )
    .await?;
    Ok(InsertOutcome::Conflict { id })
}

const SAME_DOSE_SQL: &str = "SELECT id FROM vaccination_records WHERE personal_id = $1 \
    AND vaccine_code = $2 AND dose_number = $3 AND administered_at >= $4 AND administered_at < $5 \
    AND decision IN ('auto', 'confirmed') ORDER BY id LIMIT 1";

const INSERT_SQL: &str = "INSERT INTO vaccination_records (source, source_record_id, fingerprint, \
    received_at, claimed_personal_id, full_name, birth_date, sex, phone, commune_code, vaccine_code, \
    dose_number, administered_at, site_code, lot, input_flags, decision, personal_id, score, evidence, \
    queue_unit, duplicate_of, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
    $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $4) \
    ON CONFLICT (source, source_record_id) DO NOTHING RETURNING id";

/// The day (Vietnam time) a dose was given, as a half-open range of unix microseconds.
fn dose_day(rec: &NewShotRecord) -> (i64, i64) {
    let (start, end) = vietnam_day_range(rec.shot.administered_on());
    (unix_micros(start), unix_micros(end))
}

/// An earlier linked record of the same dose (vaccine, dose number, day) of the same citizen.
async fn earlier_same_dose(
    tx: &Transaction<'_>,
    stmt: &Statement,
    rec: &NewShotRecord,
) -> StoreResult<Option<i64>> {
    let Some(pid) = rec.personal_id.filter(|_| rec.decision.is_linked()) else {
        return Ok(None);
    };
    let (from, to) = dose_day(rec);
    Ok(tx
        .query_opt(
            stmt,
            &[
                &(pid.as_number() as i64),
                &rec.shot.vaccine.code,
                &i32::from(rec.shot.dose_number),
                &from,
                &to,
            ],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Inserts one report unless its source key exists; returns the new ID.
async fn insert_row(
    tx: &Transaction<'_>,
    stmt: &Statement,
    rec: &NewShotRecord,
    fingerprint: &str,
    duplicate_of: Option<i64>,
) -> StoreResult<Option<i64>> {
    let shot = &rec.shot;
    let decision = if duplicate_of.is_some() {
        LinkDecision::Duplicate
    } else {
        rec.decision
    };
    let row = tx
        .query_opt(
            stmt,
            &[
                &shot.source,
                &shot.source_record_id,
                &fingerprint,
                &unix_micros(rec.received_at),
                &shot.personal_id.map(|p| p.as_number() as i64),
                &shot.full_name.as_str(),
                &shot.birth_date.map(|b| b.to_string()),
                &shot.sex.map(vaxtrace_domain::Sex::code),
                &shot.phone.as_ref().map(vaxtrace_domain::Phone::as_str),
                &shot.commune_code,
                &shot.vaccine.code,
                &i32::from(shot.dose_number),
                &unix_micros(shot.administered_at),
                &shot.site_code,
                &shot.lot,
                &flags_text(shot),
                &decision.code(),
                &rec.personal_id.map(|p| p.as_number() as i64),
                &rec.score,
                &rec.evidence,
                &rec.queue_unit,
                &duplicate_of,
            ],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Stores a batch in pipelined waves (each wave's statements are all sent before any answer is
/// awaited): the duplicate-dose lookups, then the inserts, then the reports that repeat a dose
/// earlier in the same batch (they need its ID), then the source keys already stored.
async fn insert_batch(
    tx: &Transaction<'_>,
    records: &[NewShotRecord],
) -> StoreResult<Vec<InsertOutcome>> {
    use futures_util::future::try_join_all;
    // Prepared once per batch: a text query would be parsed and planned again for every row.
    let same_dose = tx.prepare(SAME_DOSE_SQL).await?;
    let insert = tx.prepare(INSERT_SQL).await?;
    let fingerprints: Vec<String> = records
        .iter()
        .map(|r| r.shot.content_fingerprint())
        .collect();
    let earlier = try_join_all(
        records
            .iter()
            .map(|rec| earlier_same_dose(tx, &same_dose, rec)),
    )
    .await?;
    // A dose reported twice within the batch: the later report is a duplicate of the first.
    let mut first_of_dose = std::collections::HashMap::new();
    let mut repeats_in_batch: Vec<Option<usize>> = vec![None; records.len()];
    for (i, rec) in records.iter().enumerate() {
        if let (Some(pid), None, true) = (rec.personal_id, earlier[i], rec.decision.is_linked()) {
            let key = (
                pid,
                rec.shot.vaccine.code,
                rec.shot.dose_number,
                dose_day(rec).0,
            );
            if let Some(&first) = first_of_dose.get(&key) {
                repeats_in_batch[i] = Some(first);
            } else {
                first_of_dose.insert(key, i);
            }
        }
    }
    let wave: Vec<usize> = (0..records.len())
        .filter(|&i| repeats_in_batch[i].is_none())
        .collect();
    let ids = try_join_all(
        wave.iter()
            .map(|&i| insert_row(tx, &insert, &records[i], &fingerprints[i], earlier[i])),
    )
    .await?;
    let mut inserted: Vec<Option<i64>> = vec![None; records.len()];
    for (&i, id) in wave.iter().zip(ids) {
        inserted[i] = id;
    }
    let mut outcomes: Vec<Option<InsertOutcome>> = vec![None; records.len()];
    for i in 0..records.len() {
        if let Some(first) = repeats_in_batch[i] {
            let original = match inserted[first] {
                Some(id) => Some(id),
                None => match existing_source_key(tx, &records[first], &fingerprints[first]).await?
                {
                    InsertOutcome::Replayed { id }
                    | InsertOutcome::Conflict { id }
                    | InsertOutcome::Inserted { id, .. } => Some(id),
                },
            };
            inserted[i] = insert_row(tx, &insert, &records[i], &fingerprints[i], original).await?;
            if let Some(id) = inserted[i] {
                outcomes[i] = Some(InsertOutcome::Inserted {
                    id,
                    duplicate: true,
                });
            }
        } else if let Some(id) = inserted[i] {
            outcomes[i] = Some(InsertOutcome::Inserted {
                id,
                duplicate: earlier[i].is_some(),
            });
        }
    }
    let mut out = Vec::with_capacity(records.len());
    for (i, outcome) in outcomes.into_iter().enumerate() {
        out.push(match outcome {
            Some(o) => o,
            None => existing_source_key(tx, &records[i], &fingerprints[i]).await?,
        });
    }
    Ok(out)
}

async fn apply_review(tx: &Transaction<'_>, id: i64, action: &ReviewAction) -> StoreResult<()> {
    match action {
        ReviewAction::Link {
            personal_id,
            queue_unit,
        } => {
            tx.execute(
                "UPDATE vaccination_records SET decision = 'confirmed', personal_id = $2, \
                 queue_unit = $3, duplicate_of = NULL WHERE id = $1",
                &[&id, &(personal_id.as_number() as i64), queue_unit],
            )
            .await?;
        }
        ReviewAction::Reject => {
            tx.execute(
                "UPDATE vaccination_records SET decision = 'rejected', personal_id = NULL WHERE id = $1",
                &[&id],
            )
            .await?;
        }
        ReviewAction::Duplicate { of } => {
            let exists = tx
                .query_opt("SELECT 1 FROM vaccination_records WHERE id = $1", &[of])
                .await?
                .is_some();
            if !exists || *of == id {
                return Err(StoreError::Conflict(
                    "the original record does not exist".into(),
                ));
            }
            tx.execute(
                "UPDATE vaccination_records SET decision = 'duplicate', duplicate_of = $2 WHERE id = $1",
                &[&id, of],
            )
            .await?;
        }
        ReviewAction::Correct(c) => {
            tx.execute(
                "UPDATE vaccination_records SET full_name = coalesce($2, full_name), \
                 birth_date = coalesce($3, birth_date), sex = coalesce($4, sex), \
                 phone = coalesce($5, phone), commune_code = coalesce($6, commune_code), \
                 vaccine_code = coalesce($7, vaccine_code), dose_number = coalesce($8, dose_number), \
                 administered_at = coalesce($9, administered_at), lot = coalesce($10, lot) WHERE id = $1",
                &[
                    &id,
                    &c.full_name,
                    &c.birth_date,
                    &c.sex,
                    &c.phone,
                    &c.commune_code,
                    &c.vaccine_code,
                    &c.dose_number.map(i32::from),
                    &c.administered_at.map(unix_micros),
                    &c.lot,
                ],
            )
            .await?;
        }
    }
    Ok(())
}

#[async_trait]
impl VaccinationStore for PostgresStore {
    async fn candidates(&self, queries: Vec<CandidateQuery>) -> StoreResult<Vec<Vec<Citizen>>> {
        let client = self.pool.get().await?;
        let select = format!("SELECT {COLUMNS} FROM citizens");
        let by_ids = client
            .prepare_cached(&format!("{select} WHERE personal_id = ANY($1)"))
            .await?;
        let by_name = client
            .prepare_cached(&format!(
                "{select} WHERE name_key = $1 AND birth_date >= $2 AND birth_date < $3 LIMIT {BLOCK_LIMIT}"
            ))
            .await?;
        let by_name_any = client
            .prepare_cached(&format!("{select} WHERE name_key = $1 LIMIT {BLOCK_LIMIT}"))
            .await?;
        let by_unit = client
            .prepare_cached(&format!(
                "{select} WHERE permanent_unit = $1 AND birth_date = $2 LIMIT {BLOCK_LIMIT}"
            ))
            .await?;
        let by_phone = client
            .prepare_cached(&format!("{select} WHERE phone = $1 LIMIT {BLOCK_LIMIT}"))
            .await?;
        // Every ID of the batch in one primary-key lookup.
        let all_ids: Vec<i64> = queries
            .iter()
            .flat_map(|q| q.ids.iter().map(|i| i.as_number() as i64))
            .collect();
        let by_id: std::collections::HashMap<i64, CitizenRow> = if all_ids.is_empty() {
            std::collections::HashMap::new()
        } else {
            client
                .query(&by_ids, &[&all_ids])
                .await?
                .iter()
                .map(|r| {
                    let row = citizen_row(r);
                    (row.personal_id, row)
                })
                .collect()
        };
        // Every lookup of the batch is sent before any answer is awaited: tokio-postgres
        // pipelines them on the one connection, so the batch costs about one round trip.
        let client = &**client;
        let mut lookups = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            let mut add = |stmt, params: Vec<Box<dyn ToSql + Sync + Send>>| {
                lookups.push(async move {
                    let refs: Vec<&(dyn ToSql + Sync)> =
                        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
                    client.query(stmt, &refs).await.map(|rows| (i, rows))
                });
            };
            if let Some(name) = &q.name_key {
                match q.birth_year {
                    Some(y) => add(
                        &by_name,
                        vec![
                            Box::new(name.clone()),
                            Box::new(y.to_string()),
                            Box::new((y + 1).to_string()),
                        ],
                    ),
                    None => add(&by_name_any, vec![Box::new(name.clone())]),
                }
            }
            if let Some((unit, birth)) = &q.unit_birth {
                add(
                    &by_unit,
                    vec![Box::new(unit.clone()), Box::new(birth.clone())],
                );
            }
            if let Some(phone) = &q.phone {
                add(&by_phone, vec![Box::new(phone.clone())]);
            }
        }
        let answers = futures_util::future::try_join_all(lookups).await?;
        let mut rows: Vec<Vec<CitizenRow>> = queries
            .iter()
            .map(|q| {
                q.ids
                    .iter()
                    .filter_map(|id| by_id.get(&(id.as_number() as i64)).cloned())
                    .collect()
            })
            .collect();
        for (i, found) in answers {
            rows[i].extend(found.iter().map(citizen_row));
        }
        rows.into_iter()
            .map(|found| {
                let mut seen = HashSet::new();
                found
                    .into_iter()
                    .filter(|r| seen.insert(r.personal_id))
                    .map(CitizenRow::into_citizen)
                    .collect::<StoreResult<Vec<_>>>()
            })
            .collect()
    }

    async fn insert_shots(&self, records: Vec<NewShotRecord>) -> StoreResult<Vec<InsertOutcome>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // ON CONFLICT keeps one row per source key across concurrent servers. Two sources
        // reporting the same dose at the same instant may both be stored as linked; the status
        // rules count a dose once and flag the pair.
        let outcomes = insert_batch(&tx, &records).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn shot_record(&self, id: i64) -> StoreResult<Option<ShotRecord>> {
        let client = self.pool.get().await?;
        load_record(&client, id, false).await
    }

    async fn records_for_citizen(&self, id: PersonalId) -> StoreResult<Vec<ShotRecord>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM vaccination_records WHERE personal_id = $1 \
                     ORDER BY administered_at, id"
                ),
                &[&(id.as_number() as i64)],
            )
            .await?;
        records(&rows)
    }

    async fn list_records(&self, filter: RecordFilter) -> StoreResult<Vec<ShotRecord>> {
        let client = self.pool.get().await?;
        let decisions: Vec<&str> = filter.decisions.iter().map(|d| d.code()).collect();
        let rows = client
            .query(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM vaccination_records WHERE id > $1 \
                     AND ($2::text[] IS NULL OR queue_unit = ANY($2)) \
                     AND (cardinality($3::text[]) = 0 OR decision = ANY($3)) \
                     AND (NOT $4 OR (decision IN ('auto', 'confirmed') AND signed_version IS DISTINCT FROM version)) \
                     ORDER BY id LIMIT $5"
                ),
                &[
                    &filter.after_id,
                    &filter.units,
                    &decisions,
                    &filter.unsigned_only,
                    &i64::from(filter.limit),
                ],
            )
            .await?;
        records(&rows)
    }

    async fn queue_counts(&self, units: Option<Vec<String>>) -> StoreResult<Vec<QueueCount>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT queue_unit, decision, count(*), \
                 count(*) FILTER (WHERE signed_version IS DISTINCT FROM version) \
                 FROM vaccination_records WHERE $1::text[] IS NULL OR queue_unit = ANY($1) \
                 GROUP BY queue_unit, decision ORDER BY queue_unit, decision",
                &[&units],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueCount {
                    unit: r.get(0),
                    decision: LinkDecision::parse(r.get(1))
                        .ok_or_else(|| StoreError::Corrupt("decision".into()))?,
                    total: r.get::<_, i64>(2) as u64,
                    unsigned: r.get::<_, i64>(3) as u64,
                })
            })
            .collect()
    }

    async fn record_versions(&self, id: i64) -> StoreResult<Vec<VersionEntry>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT version, changed_at, actor, action, reason, before \
                 FROM vaccination_record_versions WHERE record_id = $1 ORDER BY version",
                &[&id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| VersionEntry {
                version: r.get(0),
                changed_at: from_unix_micros(r.get(1)),
                actor: r.get(2),
                action: r.get(3),
                reason: r.get(4),
                before: r.get(5),
            })
            .collect())
    }

    async fn review_record(
        &self,
        id: i64,
        action: ReviewAction,
        change: Change,
    ) -> StoreResult<ShotRecord> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let record = load_record(&tx, id, true)
            .await?
            .ok_or(StoreError::NotFound("record"))?;
        if record.version != change.expected_version {
            return Err(StoreError::Conflict(
                "the record changed since it was opened".into(),
            ));
        }
        let before = serde_json::to_string(&record)
            .map_err(|e| StoreError::Database(format!("record encoding: {e}")))?;
        let now = unix_micros(change.at);
        tx.execute(
            "INSERT INTO vaccination_record_versions \
             (record_id, version, changed_at, actor, action, reason, before) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &id,
                &record.version,
                &now,
                &change.actor,
                &action.code(),
                &change.reason,
                &before,
            ],
        )
        .await?;
        let settings = analytics::settings(&*tx).await?;
        let mut deltas = Deltas::new();
        review_voids_signature(&record, &mut deltas);
        handle_corrections(&*tx, id, &change.actor, change.at, &mut deltas).await?;
        apply_review(&tx, id, &action).await?;
        tx.execute(
            "UPDATE vaccination_records SET version = version + 1, updated_at = $2 WHERE id = $1",
            &[&id, &now],
        )
        .await?;
        // The record a certificate states has changed: that certificate no longer holds.
        tx.execute(&revoke_for_record_sql('$'), &[&id, &now])
            .await?;
        let after = load_record(&tx, id, false)
            .await?
            .ok_or(StoreError::NotFound("record"))?;
        let affected: HashSet<i64> = [record.personal_id, after.personal_id]
            .into_iter()
            .flatten()
            .map(|p| p.as_number() as i64)
            .collect();
        let mut affected: Vec<i64> = affected.into_iter().collect();
        affected.sort_unstable();
        for pid in affected {
            refresh_status(&tx, pid, change.at, settings, &mut deltas).await?;
        }
        if settings.live {
            analytics::flush(&*tx, deltas).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    async fn sign_records(
        &self,
        signatures: Vec<NewSignature>,
        signed_by: &str,
        at: OffsetDateTime,
    ) -> StoreResult<Vec<i64>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let settings = analytics::settings(&*tx).await?;
        let mut deltas = Deltas::new();
        let mut signed = Vec::new();
        let mut citizens = HashSet::new();
        for s in &signatures {
            // A re-signature replaces the signature made earlier: it counts once.
            let previous: Option<i64> = tx
                .query_opt(
                    "SELECT CASE WHEN signed_version = version THEN signed_at END \
                     FROM vaccination_records WHERE id = $1 AND version = $2 FOR UPDATE",
                    &[&s.record_id, &s.version],
                )
                .await?
                .and_then(|r| r.get(0));
            let row = tx
                .query_opt(
                    "UPDATE vaccination_records SET signed_version = version, signature = $3, \
                     signing_key_id = $4, signed_at = $5, signed_by = $6 \
                     WHERE id = $1 AND version = $2 AND decision IN ('auto', 'confirmed') \
                     RETURNING personal_id, queue_unit, decision, administered_at",
                    &[
                        &s.record_id,
                        &s.version,
                        &s.signature,
                        &s.signing_key_id,
                        &unix_micros(at),
                        &signed_by,
                    ],
                )
                .await?;
            if let Some(row) = row {
                signed.push(s.record_id);
                citizens.extend(row.get::<_, Option<i64>>(0));
                let unit: Option<String> = row.get(1);
                let decision: String = row.get(2);
                signature_changed(
                    &mut deltas,
                    unit.as_deref(),
                    &decision,
                    row.get(3),
                    unix_micros(at),
                    1,
                );
                if let Some(previous) = previous {
                    signature_changed(
                        &mut deltas,
                        unit.as_deref(),
                        &decision,
                        row.get(3),
                        previous,
                        -1,
                    );
                }
            }
        }
        // In ID order, so concurrent signers lock citizens in the same order.
        let mut citizens: Vec<i64> = citizens.into_iter().collect();
        citizens.sort_unstable();
        for pid in citizens {
            refresh_status(&tx, pid, at, settings, &mut deltas).await?;
        }
        if settings.live {
            analytics::flush(&*tx, deltas).await?;
        }
        tx.commit().await?;
        Ok(signed)
    }

    async fn citizen_status(&self, id: PersonalId) -> StoreResult<Option<StoredStatus>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT colour, rule_version, detail, updated_at FROM citizen_status WHERE personal_id = $1",
                &[&(id.as_number() as i64)],
            )
            .await?;
        Ok(row.map(|r| StoredStatus {
            colour: r.get(0),
            rule_version: r.get(1),
            detail: r.get(2),
            updated_at: from_unix_micros(r.get(3)),
        }))
    }

    async fn link_page(&self, after_id: i64, limit: u32) -> StoreResult<Vec<ShotRecord>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM vaccination_records WHERE id > $1 ORDER BY id LIMIT $2"
                ),
                &[&after_id, &i64::from(limit)],
            )
            .await?;
        records(&rows)
    }

    async fn insert_key(&self, key: NewKey) -> StoreResult<i64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "INSERT INTO signing_keys (profile, unit_code, fingerprint, certificate, \
                 encrypted_private_key, issuer_id, not_before, not_after, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9) RETURNING id",
                &[
                    &key.profile,
                    &key.unit_code,
                    &key.fingerprint,
                    &key.certificate,
                    &key.encrypted_private_key,
                    &key.issuer_id,
                    &unix_micros(key.not_before),
                    &unix_micros(key.not_after),
                    &unix_micros(OffsetDateTime::now_utc()),
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn keys(&self) -> StoreResult<Vec<StoredKey>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!("SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY id"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(key_row).collect())
    }

    async fn key(&self, id: i64) -> StoreResult<Option<StoredKey>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                &format!("SELECT {KEY_COLUMNS} FROM signing_keys WHERE id = $1"),
                &[&id],
            )
            .await?;
        Ok(row.as_ref().map(key_row))
    }

    async fn activate_key(&self, id: i64) -> StoreResult<()> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE signing_keys SET active = (id = $1) WHERE (unit_code, profile) = \
                 (SELECT unit_code, profile FROM signing_keys WHERE id = $1)",
                &[&id],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound("key"));
        }
        Ok(())
    }
}
