//! `SQLite` implementation of [`VaccinationStore`].

use std::collections::HashSet;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use time::OffsetDateTime;
use vaxtrace_domain::date::vietnam_day_range;
use vaxtrace_domain::{Citizen, PersonalId};

use vaxtrace_analytics::Deltas;

use crate::analytics::{AnalyticsSettings, review_voids_signature, signature_changed};
use crate::certificates::revoke_for_record_sql;
use crate::citizen_row::{COLUMNS, CitizenRow};
use crate::sqlite::citizen_from_row;
use crate::sqlite_analytics::{self as analytics, handle_corrections, refresh_member};
use crate::vaccinations::{
    CandidateQuery, Change, DOSE_COLUMNS, DoseRow, InsertOutcome, LinkDecision, NewKey,
    NewShotRecord, NewSignature, QueueCount, RECORD_COLUMNS, RecordFilter, RecordRow, ReviewAction,
    ShotRecord, StoredKey, StoredStatus, VaccinationStore, VersionEntry, derive_status, flags_text,
};
use crate::{SqliteStore, StoreError, StoreResult, from_unix_micros, unix_micros};

/// (personal ID, queue unit, decision, administered at) of a record just signed.
type SignedRow = (Option<i64>, Option<String>, String, i64);

/// Per blocking key: enough for any real name/date collision, bounded for pathological keys.
const BLOCK_LIMIT: i64 = 50;

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        id: r.get(0)?,
        version: r.get(1)?,
        source: r.get(2)?,
        source_record_id: r.get(3)?,
        claimed_personal_id: r.get(4)?,
        full_name: r.get(5)?,
        birth_date: r.get(6)?,
        sex: r.get(7)?,
        phone: r.get(8)?,
        commune_code: r.get(9)?,
        vaccine_code: r.get(10)?,
        dose_number: r.get(11)?,
        administered_at: r.get(12)?,
        site_code: r.get(13)?,
        lot: r.get(14)?,
        input_flags: r.get(15)?,
        decision: r.get(16)?,
        personal_id: r.get(17)?,
        score: r.get(18)?,
        evidence: r.get(19)?,
        queue_unit: r.get(20)?,
        duplicate_of: r.get(21)?,
        signed_version: r.get(22)?,
        signature: r.get(23)?,
        signing_key_id: r.get(24)?,
        signed_at: r.get(25)?,
        signed_by: r.get(26)?,
        received_at: r.get(27)?,
        updated_at: r.get(28)?,
    })
}

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredKey> {
    Ok(StoredKey {
        id: r.get(0)?,
        profile: r.get(1)?,
        unit_code: r.get(2)?,
        fingerprint: r.get(3)?,
        certificate: r.get(4)?,
        encrypted_private_key: r.get(5)?,
        issuer_id: r.get(6)?,
        not_before: from_unix_micros(r.get(7)?),
        not_after: from_unix_micros(r.get(8)?),
        active: r.get(9)?,
    })
}

const KEY_COLUMNS: &str = "id, profile, unit_code, fingerprint, certificate, encrypted_private_key, \
    issuer_id, not_before, not_after, active";

fn load_record(conn: &Connection, id: i64) -> StoreResult<Option<ShotRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RECORD_COLUMNS} FROM vaccination_records WHERE id = ?1"
    ))?;
    stmt.query_row([id], record_row)
        .optional()?
        .map(RecordRow::into_record)
        .transpose()
}

fn query_records(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<ShotRecord>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, record_row)?;
    rows.map(|r| r?.into_record()).collect()
}

/// Re-derives one citizen's status from their signed records, inside the caller's transaction,
/// and adds the change of what they contribute to the counters to `deltas`.
fn refresh_status(
    tx: &Transaction<'_>,
    personal_id: i64,
    at: OffsetDateTime,
    settings: AnalyticsSettings,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let doses = {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {DOSE_COLUMNS} FROM vaccination_records \
             WHERE personal_id = ?1 AND decision IN ('auto', 'confirmed') AND signed_version = version"
        ))?;
        stmt.query_map([personal_id], |r| {
            Ok(DoseRow {
                id: r.get(0)?,
                vaccine_code: r.get(1)?,
                dose_number: r.get(2)?,
                administered_at: r.get(3)?,
                site_code: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?
    };
    let derived = derive_status(&doses, at)?;
    tx.prepare_cached(
        "INSERT INTO citizen_status (personal_id, colour, rule_version, detail, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (personal_id) DO UPDATE SET colour = excluded.colour, \
         rule_version = excluded.rule_version, detail = excluded.detail, updated_at = excluded.updated_at",
    )?
    .execute(params![
        personal_id,
        derived.colour,
        derived.rule_version,
        derived.detail,
        unix_micros(at)
    ])?;
    refresh_member(tx, settings, personal_id, &derived.member, deltas)
}

/// An earlier linked record of the same dose (vaccine, dose number, day) of the same citizen.
fn earlier_same_dose(tx: &Transaction<'_>, rec: &NewShotRecord) -> StoreResult<Option<i64>> {
    let Some(pid) = rec.personal_id else {
        return Ok(None);
    };
    let (start, end) = vietnam_day_range(rec.shot.administered_on());
    let (from, to) = (unix_micros(start), unix_micros(end));
    Ok(tx
        .prepare_cached(
            "SELECT id FROM vaccination_records WHERE personal_id = ?1 AND vaccine_code = ?2 \
             AND dose_number = ?3 AND administered_at >= ?4 AND administered_at < ?5 \
             AND decision IN ('auto', 'confirmed') ORDER BY id LIMIT 1",
        )?
        .query_row(
            params![
                pid.as_number() as i64,
                rec.shot.vaccine.code,
                rec.shot.dose_number,
                from,
                to
            ],
            |r| r.get(0),
        )
        .optional()?)
}

/// A report whose source key is already stored: a replay, or a conflict kept aside.
fn existing_source_key(
    tx: &Transaction<'_>,
    rec: &NewShotRecord,
    fingerprint: &str,
) -> StoreResult<InsertOutcome> {
    let shot = &rec.shot;
    let (id, stored): (i64, String) = tx
        .prepare_cached(
            "SELECT id, fingerprint FROM vaccination_records WHERE source = ?1 AND source_record_id = ?2",
        )?
        .query_row(params![shot.source, shot.source_record_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if stored == fingerprint {
        return Ok(InsertOutcome::Replayed { id });
    }
    let payload = serde_json::to_string(shot)
        .map_err(|e| StoreError::Database(format!("record encoding: {e}")))?;
    tx.prepare_cached(
        "INSERT INTO vaccination_conflicts (record_id, received_at, fingerprint, payload) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        id,
        unix_micros(rec.received_at),
        fingerprint,
        payload
    ])?;
    Ok(InsertOutcome::Conflict { id })
}

fn insert_one(tx: &Transaction<'_>, rec: &NewShotRecord) -> StoreResult<InsertOutcome> {
    let shot = &rec.shot;
    let fingerprint = shot.content_fingerprint();
    let duplicate_of = if rec.decision.is_linked() {
        earlier_same_dose(tx, rec)?
    } else {
        None
    };
    let decision = if duplicate_of.is_some() {
        LinkDecision::Duplicate
    } else {
        rec.decision
    };
    let now = unix_micros(rec.received_at);
    let inserted: Option<i64> = tx
        .prepare_cached(
            "INSERT INTO vaccination_records (source, source_record_id, fingerprint, received_at, \
             claimed_personal_id, full_name, birth_date, sex, phone, commune_code, vaccine_code, \
             dose_number, administered_at, site_code, lot, input_flags, decision, personal_id, score, \
             evidence, queue_unit, duplicate_of, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
             ?19, ?20, ?21, ?22, ?4) ON CONFLICT (source, source_record_id) DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                shot.source,
                shot.source_record_id,
                fingerprint,
                now,
                shot.personal_id.map(|p| p.as_number() as i64),
                shot.full_name.as_str(),
                shot.birth_date.map(|b| b.to_string()),
                shot.sex.map(vaxtrace_domain::Sex::code),
                shot.phone.as_ref().map(vaxtrace_domain::Phone::as_str),
                shot.commune_code,
                shot.vaccine.code,
                shot.dose_number,
                unix_micros(shot.administered_at),
                shot.site_code,
                shot.lot,
                flags_text(shot),
                decision.code(),
                rec.personal_id.map(|p| p.as_number() as i64),
                rec.score,
                rec.evidence,
                rec.queue_unit,
                duplicate_of,
            ],
            |r| r.get(0),
        )
        .optional()?;
    match inserted {
        Some(id) => Ok(InsertOutcome::Inserted {
            id,
            duplicate: duplicate_of.is_some(),
        }),
        None => existing_source_key(tx, rec, &fingerprint),
    }
}

fn apply_review(
    tx: &Transaction<'_>,
    record: &ShotRecord,
    action: &ReviewAction,
    now: i64,
) -> StoreResult<()> {
    let id = record.id;
    match action {
        ReviewAction::Link {
            personal_id,
            queue_unit,
        } => {
            tx.execute(
                "UPDATE vaccination_records SET decision = 'confirmed', personal_id = ?2, \
                 queue_unit = ?3, duplicate_of = NULL WHERE id = ?1",
                params![id, personal_id.as_number() as i64, queue_unit],
            )?;
        }
        ReviewAction::Reject => {
            tx.execute(
                "UPDATE vaccination_records SET decision = 'rejected', personal_id = NULL WHERE id = ?1",
                [id],
            )?;
        }
        ReviewAction::Duplicate { of } => {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM vaccination_records WHERE id = ?1)",
                [of],
                |r| r.get(0),
            )?;
            if !exists || *of == id {
                return Err(StoreError::Conflict(
                    "the original record does not exist".into(),
                ));
            }
            tx.execute(
                "UPDATE vaccination_records SET decision = 'duplicate', duplicate_of = ?2 WHERE id = ?1",
                params![id, of],
            )?;
        }
        ReviewAction::Correct(c) => {
            tx.execute(
                "UPDATE vaccination_records SET full_name = coalesce(?2, full_name), \
                 birth_date = coalesce(?3, birth_date), sex = coalesce(?4, sex), \
                 phone = coalesce(?5, phone), commune_code = coalesce(?6, commune_code), \
                 vaccine_code = coalesce(?7, vaccine_code), dose_number = coalesce(?8, dose_number), \
                 administered_at = coalesce(?9, administered_at), lot = coalesce(?10, lot) WHERE id = ?1",
                params![
                    id,
                    c.full_name,
                    c.birth_date,
                    c.sex,
                    c.phone,
                    c.commune_code,
                    c.vaccine_code,
                    c.dose_number,
                    c.administered_at.map(unix_micros),
                    c.lot
                ],
            )?;
        }
    }
    tx.execute(
        "UPDATE vaccination_records SET version = version + 1, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

#[async_trait]
impl VaccinationStore for SqliteStore {
    async fn candidates(&self, queries: Vec<CandidateQuery>) -> StoreResult<Vec<Vec<Citizen>>> {
        self.read(move |conn| {
            let select = format!("SELECT {COLUMNS} FROM citizens");
            let mut by_id = conn.prepare_cached(&format!("{select} WHERE personal_id = ?1"))?;
            let mut by_name = conn.prepare_cached(&format!(
                "{select} WHERE name_key = ?1 AND birth_date >= ?2 AND birth_date < ?3 LIMIT {BLOCK_LIMIT}"
            ))?;
            let mut by_name_any = conn.prepare_cached(&format!(
                "{select} WHERE name_key = ?1 LIMIT {BLOCK_LIMIT}"
            ))?;
            let mut by_unit = conn.prepare_cached(&format!(
                "{select} WHERE permanent_unit = ?1 AND birth_date = ?2 LIMIT {BLOCK_LIMIT}"
            ))?;
            let mut by_phone = conn
                .prepare_cached(&format!("{select} WHERE phone = ?1 LIMIT {BLOCK_LIMIT}"))?;
            let mut out = Vec::with_capacity(queries.len());
            for q in &queries {
                let mut rows: Vec<CitizenRow> = Vec::new();
                for id in &q.ids {
                    rows.extend(by_id.query_row([id.as_number() as i64], citizen_from_row).optional()?);
                }
                if let Some(name) = &q.name_key {
                    let rs = if let Some(y) = q.birth_year {
                        by_name
                            .query_map(params![name, y.to_string(), (y + 1).to_string()], citizen_from_row)?
                            .collect::<Result<Vec<_>, _>>()?
                    } else {
                        by_name_any
                            .query_map([name], citizen_from_row)?
                            .collect::<Result<Vec<_>, _>>()?
                    };
                    rows.extend(rs);
                }
                if let Some((unit, birth)) = &q.unit_birth {
                    let rs = by_unit.query_map([unit, birth], citizen_from_row)?;
                    rows.extend(rs.collect::<Result<Vec<_>, _>>()?);
                }
                if let Some(phone) = &q.phone {
                    let rs = by_phone.query_map([phone], citizen_from_row)?;
                    rows.extend(rs.collect::<Result<Vec<_>, _>>()?);
                }
                let mut seen = HashSet::new();
                let citizens = rows
                    .into_iter()
                    .filter(|r| seen.insert(r.personal_id))
                    .map(CitizenRow::into_citizen)
                    .collect::<StoreResult<Vec<_>>>()?;
                out.push(citizens);
            }
            Ok(out)
        })
        .await
    }

    async fn insert_shots(&self, records: Vec<NewShotRecord>) -> StoreResult<Vec<InsertOutcome>> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let outcomes = records
                .iter()
                .map(|rec| insert_one(&tx, rec))
                .collect::<StoreResult<Vec<_>>>()?;
            tx.commit()?;
            Ok(outcomes)
        })
        .await
    }

    async fn shot_record(&self, id: i64) -> StoreResult<Option<ShotRecord>> {
        self.read(move |conn| load_record(conn, id)).await
    }

    async fn records_for_citizen(&self, id: PersonalId) -> StoreResult<Vec<ShotRecord>> {
        self.read(move |conn| {
            query_records(
                conn,
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM vaccination_records WHERE personal_id = ?1 \
                     ORDER BY administered_at, id"
                ),
                [id.as_number() as i64],
            )
        })
        .await
    }

    async fn list_records(&self, filter: RecordFilter) -> StoreResult<Vec<ShotRecord>> {
        self.read(move |conn| {
            let decisions: Vec<&str> = filter.decisions.iter().map(|d| d.code()).collect();
            let units = filter.units.map(|u| serde_json::to_string(&u).unwrap_or_default());
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM vaccination_records WHERE id > ?1 \
                 AND (?2 IS NULL OR queue_unit IN (SELECT value FROM json_each(?2))) \
                 AND (?3 = '[]' OR decision IN (SELECT value FROM json_each(?3))) \
                 AND (?4 = 0 OR (decision IN ('auto', 'confirmed') AND signed_version IS NOT version)) \
                 ORDER BY id LIMIT ?5"
            );
            query_records(
                conn,
                &sql,
                params![
                    filter.after_id,
                    units,
                    serde_json::to_string(&decisions).unwrap_or_default(),
                    filter.unsigned_only,
                    i64::from(filter.limit)
                ],
            )
        })
        .await
    }

    async fn queue_counts(&self, units: Option<Vec<String>>) -> StoreResult<Vec<QueueCount>> {
        self.read(move |conn| {
            let units = units.map(|u| serde_json::to_string(&u).unwrap_or_default());
            let mut stmt = conn.prepare_cached(
                "SELECT queue_unit, decision, count(*), \
                 sum(CASE WHEN signed_version IS NOT version THEN 1 ELSE 0 END) \
                 FROM vaccination_records \
                 WHERE ?1 IS NULL OR queue_unit IN (SELECT value FROM json_each(?1)) \
                 GROUP BY queue_unit, decision ORDER BY queue_unit, decision",
            )?;
            let rows = stmt.query_map([units], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            rows.map(|r| {
                let (unit, decision, total, unsigned) = r?;
                Ok(QueueCount {
                    unit,
                    decision: LinkDecision::parse(&decision)
                        .ok_or_else(|| StoreError::Corrupt("decision".into()))?,
                    unsigned: unsigned as u64,
                    total: total as u64,
                })
            })
            .collect()
        })
        .await
    }

    async fn record_versions(&self, id: i64) -> StoreResult<Vec<VersionEntry>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT version, changed_at, actor, action, reason, before \
                 FROM vaccination_record_versions WHERE record_id = ?1 ORDER BY version",
            )?;
            let rows = stmt.query_map([id], |r| {
                Ok(VersionEntry {
                    version: r.get(0)?,
                    changed_at: from_unix_micros(r.get(1)?),
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    reason: r.get(4)?,
                    before: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn review_record(
        &self,
        id: i64,
        action: ReviewAction,
        change: Change,
    ) -> StoreResult<ShotRecord> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let record = load_record(&tx, id)?.ok_or(StoreError::NotFound("record"))?;
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
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    record.version,
                    now,
                    change.actor,
                    action.code(),
                    change.reason,
                    before
                ],
            )?;
            let settings = analytics::settings(&tx)?;
            let mut deltas = Deltas::new();
            review_voids_signature(&record, &mut deltas);
            handle_corrections(&tx, id, &change.actor, change.at, &mut deltas)?;
            apply_review(&tx, &record, &action, now)?;
            // The record a certificate states has changed: that certificate no longer holds.
            tx.execute(&revoke_for_record_sql('?'), params![id, now])?;
            let after = load_record(&tx, id)?.ok_or(StoreError::NotFound("record"))?;
            let affected: HashSet<i64> = [record.personal_id, after.personal_id]
                .into_iter()
                .flatten()
                .map(|p| p.as_number() as i64)
                .collect();
            for pid in affected {
                refresh_status(&tx, pid, change.at, settings, &mut deltas)?;
            }
            if settings.live {
                analytics::flush(&tx, deltas)?;
            }
            tx.commit()?;
            Ok(after)
        })
        .await
    }

    async fn sign_records(
        &self,
        signatures: Vec<NewSignature>,
        signed_by: &str,
        at: OffsetDateTime,
    ) -> StoreResult<Vec<i64>> {
        let signed_by = signed_by.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let settings = analytics::settings(&tx)?;
            let mut deltas = Deltas::new();
            let mut signed = Vec::new();
            let mut citizens = HashSet::new();
            for s in &signatures {
                // A re-signature replaces the signature made earlier: it counts once.
                let previous: Option<i64> = tx
                    .prepare_cached(
                        "SELECT signed_at FROM vaccination_records \
                         WHERE id = ?1 AND version = ?2 AND signed_version = version",
                    )?
                    .query_row(params![s.record_id, s.version], |r| r.get(0))
                    .optional()?;
                let row: Option<SignedRow> = tx
                    .prepare_cached(
                        "UPDATE vaccination_records SET signed_version = version, signature = ?3, \
                         signing_key_id = ?4, signed_at = ?5, signed_by = ?6 \
                         WHERE id = ?1 AND version = ?2 AND decision IN ('auto', 'confirmed') \
                         RETURNING personal_id, queue_unit, decision, administered_at",
                    )?
                    .query_row(
                        params![
                            s.record_id,
                            s.version,
                            s.signature,
                            s.signing_key_id,
                            unix_micros(at),
                            signed_by
                        ],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .optional()?;
                if let Some((pid, unit, decision, administered_at)) = row {
                    signed.push(s.record_id);
                    citizens.extend(pid);
                    let unit: Option<String> = unit;
                    let decision: String = decision;
                    signature_changed(
                        &mut deltas,
                        unit.as_deref(),
                        &decision,
                        administered_at,
                        unix_micros(at),
                        1,
                    );
                    if let Some(previous) = previous {
                        signature_changed(
                            &mut deltas,
                            unit.as_deref(),
                            &decision,
                            administered_at,
                            previous,
                            -1,
                        );
                    }
                }
            }
            for pid in citizens {
                refresh_status(&tx, pid, at, settings, &mut deltas)?;
            }
            if settings.live {
                analytics::flush(&tx, deltas)?;
            }
            tx.commit()?;
            Ok(signed)
        })
        .await
    }

    async fn citizen_status(&self, id: PersonalId) -> StoreResult<Option<StoredStatus>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT colour, rule_version, detail, updated_at FROM citizen_status \
                     WHERE personal_id = ?1",
                )?
                .query_row([id.as_number() as i64], |r| {
                    Ok(StoredStatus {
                        colour: r.get(0)?,
                        rule_version: r.get(1)?,
                        detail: r.get(2)?,
                        updated_at: from_unix_micros(r.get(3)?),
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn link_page(&self, after_id: i64, limit: u32) -> StoreResult<Vec<ShotRecord>> {
        self.read(move |conn| {
            query_records(
                conn,
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM vaccination_records WHERE id > ?1 ORDER BY id LIMIT ?2"
                ),
                params![after_id, i64::from(limit)],
            )
        })
        .await
    }

    async fn insert_key(&self, key: NewKey) -> StoreResult<i64> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO signing_keys (profile, unit_code, fingerprint, certificate, \
                 encrypted_private_key, issuer_id, not_before, not_after, active, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)",
                params![
                    key.profile,
                    key.unit_code,
                    key.fingerprint,
                    key.certificate,
                    key.encrypted_private_key,
                    key.issuer_id,
                    unix_micros(key.not_before),
                    unix_micros(key.not_after),
                    unix_micros(OffsetDateTime::now_utc())
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY id"
            ))?;
            let rows = stmt.query_map([], key_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn key(&self, id: i64) -> StoreResult<Option<StoredKey>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM signing_keys WHERE id = ?1"
                ))?
                .query_row([id], key_row)
                .optional()?)
        })
        .await
    }

    async fn activate_key(&self, id: i64) -> StoreResult<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE signing_keys SET active = (id = ?1) WHERE (unit_code, profile) = \
                 (SELECT unit_code, profile FROM signing_keys WHERE id = ?1)",
                [id],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound("key"));
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}
