//! Conformance of certificate storage on both backends: issue, supersede, revoke by hand, revoke
//! in the same transaction as a correction of the stated record, and foreign document signers.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use vaxtrace_domain::{PersonalId, ShotInput};
use vaxtrace_store::testing::{TestDb, citizen};
use vaxtrace_store::{
    Backend, Change, Correction, ForeignDsc, InsertOutcome, LinkDecision, NewCertificate, NewKey,
    NewShotRecord, REVOKED_RECORD_CHANGED, ReviewAction, Store, StoreError,
};

const NOW: OffsetDateTime = datetime!(2021-11-23 12:00 +7);
const AN: &str = "091085000123";

async fn setup(backend: Backend) -> Option<(TestDb, Arc<dyn Store>, i64, i64)> {
    let db = TestDb::new(backend).await.expect("test database")?;
    let store = vaxtrace_store::open(&db.url).await.expect("open store");
    store.migrate().await.expect("migrate");
    store
        .upsert_citizens(vec![citizen(
            AN,
            "Nguyễn Văn An",
            "1985-03-04",
            "M",
            "30730",
        )])
        .await
        .unwrap();
    let dsc = store
        .insert_key(NewKey {
            profile: "document_signer".into(),
            unit_code: "VN".into(),
            fingerprint: "cd".repeat(32),
            certificate: vec![1, 2, 3],
            encrypted_private_key: vec![4, 5, 6],
            issuer_id: None,
            not_before: NOW,
            not_after: NOW + Duration::days(730),
        })
        .await
        .unwrap();
    let shot = ShotInput {
        source: "site-app".into(),
        source_record_id: "A-1".into(),
        personal_id: Some(AN.into()),
        full_name: "Nguyễn Văn An".into(),
        birth_date: Some("1985-03-04".into()),
        vaccine_code: "EU/1/21/1529".into(),
        dose_number: "1".into(),
        administered_at: "2021-08-02 09:30".into(),
        site_code: "KG-TYT-30730".into(),
        ..ShotInput::default()
    }
    .parse(NOW)
    .unwrap();
    let out = store
        .insert_shots(vec![NewShotRecord {
            shot,
            decision: LinkDecision::Auto,
            personal_id: Some(PersonalId::parse(AN).unwrap()),
            score: Some(30.0),
            evidence: "[]".into(),
            queue_unit: Some("30730".into()),
            received_at: NOW,
        }])
        .await
        .unwrap();
    let InsertOutcome::Inserted { id, .. } = out[0] else {
        panic!("{out:?}")
    };
    Some((db, store, dsc, id))
}

fn cert(uvci: &str, record: i64, dsc: i64, supersedes: Vec<String>) -> NewCertificate {
    NewCertificate {
        uvci: uvci.into(),
        personal_id: PersonalId::parse(AN).unwrap(),
        cert_type: "v".into(),
        record_id: Some(record),
        record_version: Some(1),
        dsc_key_id: dsc,
        kid: vec![9; 8],
        signature_hash: vec![7; 16],
        hc1: format!("HC1:{uvci}"),
        issued_at: NOW,
        expires_at: NOW + Duration::days(365),
        supersedes,
    }
}

async fn issue_revoke_and_supersede(backend: Backend) {
    let Some((_db, store, dsc, record)) = setup(backend).await else {
        return;
    };
    let an = PersonalId::parse(AN).unwrap();
    store
        .insert_certificate(cert("U1", record, dsc, vec![]))
        .await
        .unwrap();
    let got = store.certificate("U1").await.unwrap().unwrap();
    assert_eq!(
        (got.hc1.as_str(), got.kid.len(), got.signature_hash.len()),
        ("HC1:U1", 8, 16)
    );
    assert!(got.is_current(NOW));
    assert!(!got.is_current(NOW + Duration::days(366)));
    assert!(store.revoked_certificates(NOW).await.unwrap().is_empty());
    // The same UVCI twice is refused, not overwritten.
    assert!(matches!(
        store
            .insert_certificate(cert("U1", record, dsc, vec![]))
            .await,
        Err(StoreError::Conflict(_))
    ));

    assert!(
        store
            .revoke_certificate("U1", "wrong_data", NOW)
            .await
            .unwrap()
    );
    assert!(!store.revoke_certificate("U1", "again", NOW).await.unwrap());
    assert!(matches!(
        store.revoke_certificate("nope", "x", NOW).await,
        Err(StoreError::NotFound(_))
    ));
    let revoked = store.revoked_certificates(NOW).await.unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].revocation_reason.as_deref(), Some("wrong_data"));
    assert!(
        !revoked[0].reissue_pending,
        "a revocation by hand does not re-issue"
    );
    // Past its expiry a revoked certificate leaves the list.
    assert!(
        store
            .revoked_certificates(NOW + Duration::days(400))
            .await
            .unwrap()
            .is_empty()
    );

    store
        .insert_certificate(cert("U2", record, dsc, vec!["U1".into()]))
        .await
        .unwrap();
    let all = store.certificates_for_citizen(an).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.uvci.as_str()).collect::<Vec<_>>(),
        ["U1", "U2"]
    );
    assert_eq!(all[0].superseded_by.as_deref(), Some("U2"));
}

async fn correcting_the_stated_record_revokes_in_the_same_transaction(backend: Backend) {
    let Some((_db, store, dsc, record)) = setup(backend).await else {
        return;
    };
    let an = PersonalId::parse(AN).unwrap();
    store
        .insert_certificate(cert("U1", record, dsc, vec![]))
        .await
        .unwrap();
    let correction = ReviewAction::Correct(Correction {
        lot: Some("AB1234".into()),
        ..Correction::default()
    });
    let change = Change {
        actor: "tramyte.xa30730".into(),
        reason: "sai số lô".into(),
        expected_version: 1,
        at: NOW,
    };
    store
        .review_record(record, correction, change)
        .await
        .unwrap();
    let c = store.certificate("U1").await.unwrap().unwrap();
    assert_eq!(c.revocation_reason.as_deref(), Some(REVOKED_RECORD_CHANGED));
    assert!(c.reissue_pending);
    let pending = store.pending_reissues(vec![an]).await.unwrap();
    assert_eq!(pending.len(), 1);
    store
        .insert_certificate(cert("U2", record, dsc, vec!["U1".into()]))
        .await
        .unwrap();
    assert!(store.pending_reissues(vec![an]).await.unwrap().is_empty());
    // The new certificate stays current: only certificates of the changed version were revoked.
    assert!(
        store
            .certificate("U2")
            .await
            .unwrap()
            .unwrap()
            .is_current(NOW)
    );
}

async fn foreign_document_signers_are_kept_once(backend: Backend) {
    let Some((_db, store, _, _)) = setup(backend).await else {
        return;
    };
    let dsc = |fp: &str, country: &str| ForeignDsc {
        fingerprint: fp.into(),
        kid: vec![1; 8],
        country: country.into(),
        certificate: vec![3, 4],
        source: "de-trust-list.json".into(),
        imported_at: NOW,
    };
    assert_eq!(
        store
            .upsert_foreign_dscs(vec![dsc("a", "DE"), dsc("b", "FR")])
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .upsert_foreign_dscs(vec![dsc("a", "DE")])
            .await
            .unwrap(),
        0
    );
    let all = store.foreign_dscs().await.unwrap();
    assert_eq!(
        all.iter().map(|d| d.country.as_str()).collect::<Vec<_>>(),
        ["DE", "FR"]
    );
}

vaxtrace_store::on_both_backends!(
    issue_revoke_and_supersede,
    correcting_the_stated_record_revokes_in_the_same_transaction,
    foreign_document_signers_are_kept_once,
);
