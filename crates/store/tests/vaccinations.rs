//! Conformance of the vaccination storage on both backends: idempotent ingest, replay conflicts,
//! candidate blocking, versioned review, signing and the status it derives.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::datetime;
use vaxtrace_domain::{PersonalId, Shot, ShotInput};
use vaxtrace_store::testing::{TestDb, citizen};
use vaxtrace_store::{
    Backend, CandidateQuery, Change, Correction, InsertOutcome, LinkDecision, NewKey,
    NewShotRecord, NewSignature, RecordFilter, ReviewAction, Store, StoreError,
};

const NOW: OffsetDateTime = datetime!(2021-11-23 12:00 +7);

async fn store(backend: Backend) -> Option<(TestDb, Arc<dyn Store>)> {
    let db = TestDb::new(backend).await.expect("test database")?;
    let store = vaxtrace_store::open(&db.url).await.expect("open store");
    store.migrate().await.expect("migrate");
    store
        .upsert_citizens(vec![
            citizen("091085000123", "Nguyễn Văn An", "1985-03-04", "M", "30730"),
            citizen("091190000456", "Trần Thị Bình", "1990-07-21", "F", "30733"),
        ])
        .await
        .unwrap();
    Some((db, store))
}

fn shot(record_id: &str, dose: &str, at: &str) -> Shot {
    ShotInput {
        source: "site-app".into(),
        source_record_id: record_id.into(),
        personal_id: Some("091085000123".into()),
        full_name: "Nguyễn Văn An".into(),
        birth_date: Some("1985-03-04".into()),
        sex: Some("M".into()),
        commune_code: Some("30730".into()),
        vaccine_code: "EU/1/21/1529".into(),
        dose_number: dose.into(),
        administered_at: at.into(),
        site_code: "KG-TYT-30730".into(),
        ..ShotInput::default()
    }
    .parse(NOW)
    .unwrap()
}

fn linked(shot: Shot, decision: LinkDecision) -> NewShotRecord {
    NewShotRecord {
        personal_id: decision
            .is_linked()
            .then(|| PersonalId::parse("091085000123").unwrap()),
        shot,
        decision,
        score: Some(30.0),
        evidence: r#"{"candidates":[{"personal_id":"091085000123","score":30.0}]}"#.into(),
        queue_unit: Some("30730".into()),
        received_at: NOW,
    }
}

fn inserted_id(o: InsertOutcome) -> i64 {
    match o {
        InsertOutcome::Inserted { id, .. } => id,
        other => panic!("expected an insert, got {other:?}"),
    }
}

fn change(actor: &str, version: i64) -> Change {
    Change {
        actor: actor.into(),
        reason: "kiểm tra sổ tiêm".into(),
        expected_version: version,
        at: NOW,
    }
}

async fn ingest_is_idempotent_and_keeps_conflicts_aside(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let first = shot("A-1", "1", "2021-08-02 09:30");
    let out = store
        .insert_shots(vec![linked(first.clone(), LinkDecision::Auto)])
        .await
        .unwrap();
    let id = inserted_id(out[0]);
    let again = store
        .insert_shots(vec![linked(first, LinkDecision::Auto)])
        .await
        .unwrap();
    assert_eq!(again, [InsertOutcome::Replayed { id }]);
    // Same source key, different lot: not applied, reported as a conflict.
    let mut changed = shot("A-1", "1", "2021-08-02 09:30");
    changed.lot = Some("OTHER".into());
    let conflict = store
        .insert_shots(vec![linked(changed, LinkDecision::Auto)])
        .await
        .unwrap();
    assert_eq!(conflict, [InsertOutcome::Conflict { id }]);
    let stored = store.shot_record(id).await.unwrap().unwrap();
    assert_eq!(stored.lot, None);
    assert_eq!(stored.version, 1);
    assert_eq!(store.link_page(0, 10).await.unwrap().len(), 1);
}

async fn same_dose_from_a_second_source_is_a_duplicate(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let a = shot("A-1", "1", "2021-08-02 09:30");
    let mut b = shot("B-7", "1", "2021-08-02 15:00");
    b.source = "provincial-hdx".into();
    let out = store
        .insert_shots(vec![
            linked(a, LinkDecision::Auto),
            linked(b, LinkDecision::Auto),
        ])
        .await
        .unwrap();
    let first = inserted_id(out[0]);
    assert_eq!(
        out[1],
        InsertOutcome::Inserted {
            id: first + 1,
            duplicate: true
        }
    );
    let dup = store.shot_record(first + 1).await.unwrap().unwrap();
    assert_eq!(dup.decision, LinkDecision::Duplicate);
    assert_eq!(dup.duplicate_of, Some(first));
}

async fn candidates_come_from_every_blocking_key(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let an = PersonalId::parse("091085000123").unwrap();
    let binh = PersonalId::parse("091190000456").unwrap();
    let ids = |found: &Vec<vaxtrace_domain::Citizen>| {
        let mut v: Vec<_> = found.iter().map(|c| c.personal_id).collect();
        v.sort();
        v
    };
    let found = store
        .candidates(vec![
            CandidateQuery {
                ids: vec![an],
                ..CandidateQuery::default()
            },
            CandidateQuery {
                name_key: Some("nguyen van an".into()),
                birth_year: Some(1985),
                ..CandidateQuery::default()
            },
            CandidateQuery {
                name_key: Some("nguyen van an".into()),
                birth_year: Some(1986),
                ..CandidateQuery::default()
            },
            CandidateQuery {
                unit_birth: Some(("30733".into(), "1990-07-21".into())),
                ..CandidateQuery::default()
            },
            // Two keys naming the same citizen yield it once.
            CandidateQuery {
                ids: vec![binh],
                unit_birth: Some(("30733".into(), "1990-07-21".into())),
                ..CandidateQuery::default()
            },
        ])
        .await
        .unwrap();
    assert_eq!(ids(&found[0]), [an]);
    assert_eq!(ids(&found[1]), [an]);
    assert!(found[2].is_empty());
    assert_eq!(ids(&found[3]), [binh]);
    assert_eq!(ids(&found[4]), [binh]);
}

async fn review_is_versioned_and_refuses_stale_versions(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let out = store
        .insert_shots(vec![linked(
            shot("A-1", "1", "2021-08-02 09:30"),
            LinkDecision::Review,
        )])
        .await
        .unwrap();
    let id = inserted_id(out[0]);
    let queue = store
        .list_records(RecordFilter {
            units: Some(vec!["30730".into()]),
            decisions: vec![LinkDecision::Review],
            limit: 10,
            ..RecordFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(queue.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
    let other_commune = store
        .list_records(RecordFilter {
            units: Some(vec!["30733".into()]),
            limit: 10,
            ..RecordFilter::default()
        })
        .await
        .unwrap();
    assert!(other_commune.is_empty());

    let an = PersonalId::parse("091085000123").unwrap();
    let after = store
        .review_record(
            id,
            ReviewAction::Link {
                personal_id: an,
                queue_unit: "30730".into(),
            },
            change("tramyte", 1),
        )
        .await
        .unwrap();
    assert_eq!(
        (after.decision, after.personal_id, after.version),
        (LinkDecision::Confirmed, Some(an), 2)
    );
    let stale = store
        .review_record(id, ReviewAction::Reject, change("congan", 1))
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict(_)), "{stale:?}");
    let corrected = store
        .review_record(
            id,
            ReviewAction::Correct(Correction {
                lot: Some("AZ-123".into()),
                ..Correction::default()
            }),
            change("tramyte", 2),
        )
        .await
        .unwrap();
    assert_eq!(
        (corrected.lot.as_deref(), corrected.version),
        (Some("AZ-123"), 3)
    );
    let history = store.record_versions(id).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.version, h.action.as_str()))
            .collect::<Vec<_>>(),
        [(1, "link"), (2, "correct")]
    );
    assert!(
        history[0].before.contains("\"review\""),
        "history keeps the state before the change"
    );
    let missing = store
        .review_record(999, ReviewAction::Reject, change("x", 1))
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)));
}

async fn signing_drives_status_and_changes_void_signatures(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let key = store
        .insert_key(NewKey {
            profile: "commune_signer".into(),
            unit_code: "30730".into(),
            fingerprint: "ab".repeat(32),
            certificate: vec![1, 2, 3],
            encrypted_private_key: vec![4, 5, 6],
            issuer_id: None,
            not_before: NOW,
            not_after: NOW + time::Duration::days(365),
        })
        .await
        .unwrap();
    let out = store
        .insert_shots(vec![
            linked(shot("A-1", "1", "2021-08-02 09:30"), LinkDecision::Auto),
            linked(shot("A-2", "2", "2021-10-01 09:30"), LinkDecision::Auto),
        ])
        .await
        .unwrap();
    let (d1, d2) = (inserted_id(out[0]), inserted_id(out[1]));
    let an = PersonalId::parse("091085000123").unwrap();
    assert_eq!(store.citizen_status(an).await.unwrap(), None);
    let pending = RecordFilter {
        unsigned_only: true,
        limit: 10,
        ..RecordFilter::default()
    };
    assert_eq!(store.list_records(pending.clone()).await.unwrap().len(), 2);

    // A signature over a stale version is not stored.
    let signed = store
        .sign_records(
            vec![
                NewSignature {
                    record_id: d1,
                    version: 1,
                    signature: vec![9; 64],
                    signing_key_id: key,
                },
                NewSignature {
                    record_id: d2,
                    version: 7,
                    signature: vec![9; 64],
                    signing_key_id: key,
                },
            ],
            "ubnd",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(signed, [d1]);
    assert_eq!(
        store.citizen_status(an).await.unwrap().unwrap().colour,
        "yellow"
    );
    store
        .sign_records(
            vec![NewSignature {
                record_id: d2,
                version: 1,
                signature: vec![9; 64],
                signing_key_id: key,
            }],
            "ubnd",
            NOW,
        )
        .await
        .unwrap();
    let status = store.citizen_status(an).await.unwrap().unwrap();
    assert_eq!(
        (status.colour.as_str(), status.rule_version.as_str()),
        ("green", "VN-2021.1")
    );
    assert!(
        store
            .list_records(pending.clone())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.shot_record(d2).await.unwrap().unwrap().is_signed());

    // Correcting a signed record voids its signature and the status follows at once.
    let corrected = store
        .review_record(
            d2,
            ReviewAction::Correct(Correction {
                lot: Some("X".into()),
                ..Correction::default()
            }),
            change("tramyte", 1),
        )
        .await
        .unwrap();
    assert!(!corrected.is_signed());
    assert_eq!(
        store.citizen_status(an).await.unwrap().unwrap().colour,
        "yellow"
    );
    assert_eq!(store.list_records(pending).await.unwrap().len(), 1);
    let counts = store
        .queue_counts(Some(vec!["30730".into()]))
        .await
        .unwrap();
    assert_eq!(counts.iter().map(|c| c.unsigned).sum::<u64>(), 1);
}

async fn keys_rotate_one_active_per_unit(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let new_key = |fp: &str| NewKey {
        profile: "commune_signer".into(),
        unit_code: "30730".into(),
        fingerprint: fp.into(),
        certificate: vec![1],
        encrypted_private_key: vec![2],
        issuer_id: None,
        not_before: NOW,
        not_after: NOW + time::Duration::days(1),
    };
    let a = store.insert_key(new_key("a")).await.unwrap();
    let b = store.insert_key(new_key("b")).await.unwrap();
    store.activate_key(a).await.unwrap();
    store.activate_key(b).await.unwrap();
    let keys = store.keys().await.unwrap();
    assert_eq!(
        keys.iter().map(|k| (k.id, k.active)).collect::<Vec<_>>(),
        [(a, false), (b, true)]
    );
    assert!(matches!(
        store.insert_key(new_key("a")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.activate_key(999).await,
        Err(StoreError::NotFound(_))
    ));
}

vaxtrace_store::on_both_backends!(
    ingest_is_idempotent_and_keeps_conflicts_aside,
    same_dose_from_a_second_source_is_a_duplicate,
    candidates_come_from_every_blocking_key,
    review_is_versioned_and_refuses_stale_versions,
    signing_drives_status_and_changes_void_signatures,
    keys_rotate_one_active_per_unit,
);
