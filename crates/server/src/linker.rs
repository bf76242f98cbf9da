//! Matching shot reports to the registry and storing them: the one path shared by the API and the
//! bulk importer. Rules are the domain's (`linkage`); candidate lookups and writes are the store's.
//!
//! Three passes keep the common case cheap: a report whose personal ID points at a citizen with the
//! same name and birth date is linked after one primary-key read; only the rest pay for blocking
//! on name, commune + birth date and phone; and only those still unclear for the IDs one typo away.

use serde::Serialize;
use time::OffsetDateTime;
use vaxtrace_domain::linkage::{self, Decision, Evidence, LinkRecord, Thresholds};
use vaxtrace_domain::{Citizen, LifeStatus, PersonalId, Shot};
use vaxtrace_store::{
    CandidateQuery, InsertOutcome, LinkDecision, NewShotRecord, Store, StoreResult,
};

/// Candidates kept in a record's evidence for the reviewer.
const EVIDENCE_CANDIDATES: usize = 3;

/// How one report was matched and stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Linked {
    #[serde(flatten)]
    pub outcome: InsertOutcome,
    pub decision: LinkDecision,
    pub score: Option<f64>,
}

#[derive(Serialize)]
struct CandidateEvidence<'a> {
    personal_id: PersonalId,
    #[serde(flatten)]
    evidence: &'a Evidence,
}

#[derive(Serialize)]
struct StoredEvidence<'a> {
    candidates: Vec<CandidateEvidence<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<&'static str>,
}

fn record_of(shot: &Shot) -> LinkRecord<'_> {
    LinkRecord {
        personal_id: shot.personal_id,
        name: &shot.full_name,
        birth: shot.birth_date,
        sex: shot.sex,
        phone: shot.phone.as_ref(),
        communes: shot.commune_code.as_slice(),
    }
}

/// The exact path: the given ID's citizen agrees on name and birth date.
fn exact_match(shot: &Shot, citizen: &Citizen) -> bool {
    let Some(birth) = shot.birth_date else {
        return false;
    };
    citizen.full_name.matches(&shot.full_name) && citizen.birth_date.admits(birth)
}

/// Blocking on name, commune + birth date and phone (the given ID's owner is already known).
fn blocking_query(shot: &Shot) -> CandidateQuery {
    let keys = linkage::blocking_keys(&record_of(shot));
    CandidateQuery {
        ids: Vec::new(),
        name_key: Some(keys.name_key),
        birth_year: keys.birth_year,
        unit_birth: keys.commune_birth,
        phone: keys.phone,
    }
}

/// The IDs one typo away from the given one (up to ~120 primary-key reads, so asked only when
/// the other keys found no clear match).
fn typo_query(id: PersonalId) -> CandidateQuery {
    CandidateQuery {
        ids: linkage::id_variants(id),
        ..CandidateQuery::default()
    }
}

/// Decides one report against its candidates.
fn decide(
    shot: Shot,
    candidates: &[Citizen],
    thresholds: &Thresholds,
    at: OffsetDateTime,
) -> NewShotRecord {
    let ranked = linkage::rank(&record_of(&shot), candidates);
    let mut decision = match linkage::decide(&ranked, thresholds) {
        Decision::Auto => LinkDecision::Auto,
        Decision::Review => LinkDecision::Review,
        Decision::Unmatched => LinkDecision::Unmatched,
    };
    let best = ranked
        .first()
        .and_then(|(id, _)| candidates.iter().find(|c| c.personal_id == *id));
    let mut notes = Vec::new();
    if decision == LinkDecision::Auto && best.is_some_and(|c| c.status == LifeStatus::Deceased) {
        // A shot for someone registered as deceased is a data error until a person says otherwise.
        decision = LinkDecision::Review;
        notes.push("citizen_deceased");
    }
    let personal_id = (decision == LinkDecision::Auto)
        .then(|| best.map(|c| c.personal_id))
        .flatten();
    let queue_unit = match (decision, best) {
        (LinkDecision::Auto, Some(c)) => Some(c.permanent.unit_code.to_owned()),
        _ => shot
            .commune_code
            .map(str::to_owned)
            .or_else(|| best.map(|c| c.permanent.unit_code.to_owned())),
    };
    let evidence = StoredEvidence {
        candidates: ranked
            .iter()
            .take(EVIDENCE_CANDIDATES)
            .map(|(personal_id, evidence)| CandidateEvidence {
                personal_id: *personal_id,
                evidence,
            })
            .collect(),
        notes,
    };
    NewShotRecord {
        score: ranked.first().map(|(_, e)| e.score),
        evidence: serde_json::to_string(&evidence).unwrap_or_else(|_| "{}".to_owned()),
        shot,
        decision,
        personal_id,
        queue_unit,
        received_at: at,
    }
}

/// An exact-path link, with the same evidence a reviewer would see.
fn exact_record(shot: Shot, citizen: &Citizen, at: OffsetDateTime) -> NewShotRecord {
    let mut rec = decide(
        shot,
        std::slice::from_ref(citizen),
        &Thresholds::default(),
        at,
    );
    rec.decision = LinkDecision::Auto;
    rec.personal_id = Some(citizen.personal_id);
    rec.queue_unit = Some(citizen.permanent.unit_code.to_owned());
    rec
}

/// Matches and stores a batch of parsed reports, in one store transaction.
pub async fn link_and_store(
    store: &dyn Store,
    shots: Vec<Shot>,
    thresholds: &Thresholds,
    at: OffsetDateTime,
) -> StoreResult<Vec<Linked>> {
    let records = link(store, shots, thresholds, at).await?;
    store_linked(store, records).await
}

/// Decides a batch of parsed reports against the registry (reads only), so a bulk importer can
/// match one batch while the previous one is written.
pub async fn link(
    store: &dyn Store,
    shots: Vec<Shot>,
    thresholds: &Thresholds,
    at: OffsetDateTime,
) -> StoreResult<Vec<NewShotRecord>> {
    // Pass 1: the given IDs.
    let by_id: Vec<CandidateQuery> = shots
        .iter()
        .map(|s| CandidateQuery {
            ids: s.personal_id.into_iter().collect(),
            ..CandidateQuery::default()
        })
        .collect();
    let owners = store.candidates(by_id).await?;
    let mut records: Vec<Option<NewShotRecord>> = Vec::with_capacity(shots.len());
    let mut pending = Vec::new();
    for (shot, owner) in shots.into_iter().zip(owners) {
        match owner.first() {
            Some(c) if exact_match(&shot, c) && c.status == LifeStatus::Alive => {
                records.push(Some(exact_record(shot, c, at)));
            }
            _ => {
                pending.push((records.len(), shot, owner));
                records.push(None);
            }
        }
    }
    // Pass 2: blocking for the rest.
    if !pending.is_empty() {
        let queries = pending
            .iter()
            .map(|(_, shot, _)| blocking_query(shot))
            .collect();
        let found = store.candidates(queries).await?;
        let mut unclear = Vec::new();
        for ((i, shot, mut candidates), more) in pending.into_iter().zip(found) {
            candidates.extend(more);
            let rec = decide(shot, &candidates, thresholds, at);
            match rec.shot.personal_id {
                Some(id) if rec.decision != LinkDecision::Auto => {
                    unclear.push((i, id, rec.shot, candidates));
                }
                _ => records[i] = Some(rec),
            }
        }
        // Pass 3: a mistyped ID may point past every other key (a name typo too, say).
        if !unclear.is_empty() {
            let queries = unclear
                .iter()
                .map(|(_, id, _, _)| typo_query(*id))
                .collect();
            let found = store.candidates(queries).await?;
            for ((i, _, shot, mut candidates), more) in unclear.into_iter().zip(found) {
                candidates.extend(more);
                records[i] = Some(decide(shot, &candidates, thresholds, at));
            }
        }
    }
    Ok(records.into_iter().flatten().collect())
}

/// Stores decided reports in one transaction.
pub async fn store_linked(
    store: &dyn Store,
    records: Vec<NewShotRecord>,
) -> StoreResult<Vec<Linked>> {
    let summary: Vec<(LinkDecision, Option<f64>)> =
        records.iter().map(|r| (r.decision, r.score)).collect();
    let outcomes = store.insert_shots(records).await?;
    Ok(outcomes
        .into_iter()
        .zip(summary)
        .map(|(outcome, (decision, score))| Linked {
            decision: match outcome {
                InsertOutcome::Inserted {
                    duplicate: true, ..
                } => LinkDecision::Duplicate,
                _ => decision,
            },
            outcome,
            score,
        })
        .collect())
}

/// Stores reports without matching (all `unmatched`): the storage-only peer that the matching
/// benchmark compares against.
pub fn unmatched(shots: Vec<Shot>, at: OffsetDateTime) -> Vec<NewShotRecord> {
    shots
        .into_iter()
        .map(|shot| NewShotRecord {
            queue_unit: shot.commune_code.map(str::to_owned),
            shot,
            decision: LinkDecision::Unmatched,
            personal_id: None,
            score: None,
            evidence: "{}".to_owned(),
            received_at: at,
        })
        .collect()
}
