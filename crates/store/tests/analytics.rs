//! Conformance of the live analytics counters on both backends: they follow signing, corrections,
//! rejections, moves and deaths in the same transaction, and a recount from scratch agrees.

#![allow(clippy::unwrap_used)]
// Each test is one scenario, step by step.
#![allow(clippy::too_many_lines)]

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use vaxtrace_domain::{PersonalId, ShotInput};
use vaxtrace_store::testing::{TestDb, citizen};
use vaxtrace_store::{
    AnalyticsSettings, Backend, Change, Correction, Family, InsertOutcome, LinkDecision,
    NewCorrectionRequest, NewKey, NewShotRecord, NewSignature, ReviewAction, Store,
};

const NOW: OffsetDateTime = datetime!(2021-11-23 12:00 +7);
const AZ: &str = "EU/1/21/1529";

async fn setup(backend: Backend) -> Option<(TestDb, Arc<dyn Store>, i64)> {
    let db = TestDb::new(backend).await.expect("test database")?;
    let store = vaxtrace_store::open(&db.url).await.expect("open store");
    store.migrate().await.expect("migrate");
    let key = store
        .insert_key(NewKey {
            profile: "commune_signer".into(),
            unit_code: "30730".into(),
            fingerprint: "ab".repeat(32),
            certificate: vec![1],
            encrypted_private_key: vec![2],
            issuer_id: None,
            not_before: NOW - Duration::days(365),
            not_after: NOW + Duration::days(365),
        })
        .await
        .unwrap();
    Some((db, store, key))
}

/// The `n`-th test citizen's ID, consistent with their birth year and sex.
fn pid(n: u32, born: &str, sex: &str) -> String {
    let century = if born < "2000" { 0 } else { 2 };
    let sex_century = century + u8::from(sex == "F");
    format!("091{sex_century}{}{n:06}", &born[2..4])
}

async fn shot(
    store: &Arc<dyn Store>,
    source_id: &str,
    person: &str,
    dose: u8,
    day: &str,
    site: &str,
) -> i64 {
    let shot = ShotInput {
        source: "site-app".into(),
        source_record_id: source_id.into(),
        personal_id: Some(person.into()),
        full_name: "Nguyễn Văn An".into(),
        vaccine_code: AZ.into(),
        dose_number: dose.to_string(),
        administered_at: format!("{day} 09:00"),
        site_code: site.into(),
        ..ShotInput::default()
    }
    .parse(NOW)
    .unwrap();
    let out = store
        .insert_shots(vec![NewShotRecord {
            shot,
            decision: LinkDecision::Auto,
            personal_id: Some(PersonalId::parse(person).unwrap()),
            score: Some(30.0),
            evidence: "[]".into(),
            queue_unit: Some("30730".into()),
            received_at: NOW,
        }])
        .await
        .unwrap();
    match out[0] {
        InsertOutcome::Inserted { id, .. } => id,
        other => panic!("{other:?}"),
    }
}

async fn sign(store: &Arc<dyn Store>, key: i64, ids: &[i64], at: OffsetDateTime) {
    let mut sigs = Vec::new();
    for id in ids {
        let r = store.shot_record(*id).await.unwrap().unwrap();
        sigs.push(NewSignature {
            record_id: r.id,
            version: r.version,
            signature: vec![7; 64],
            signing_key_id: key,
        });
    }
    store.sign_records(sigs, "ubnd.xa30730", at).await.unwrap();
}

/// unit → series → n, without zeros.
async fn sums(
    store: &Arc<dyn Store>,
    units: &[&str],
    day: Option<Date>,
) -> BTreeMap<(String, String), i64> {
    let units = units.iter().map(|u| (*u).to_owned()).collect();
    store
        .series_sums(units, day, Family::Coverage)
        .await
        .unwrap()
        .into_iter()
        .map(|s| ((s.unit, s.series), s.n))
        .collect()
}

fn get(m: &BTreeMap<(String, String), i64>, unit: &str, series: &str) -> i64 {
    m.get(&(unit.to_owned(), series.to_owned()))
        .copied()
        .unwrap_or(0)
}

async fn review(store: &Arc<dyn Store>, id: i64, action: ReviewAction, at: OffsetDateTime) {
    let r = store.shot_record(id).await.unwrap().unwrap();
    store
        .review_record(
            id,
            action,
            Change {
                actor: "tramyte.xa30730".into(),
                reason: "kiểm tra".into(),
                expected_version: r.version,
                at,
            },
        )
        .await
        .unwrap();
}

async fn assert_recount_agrees(store: &Arc<dyn Store>) {
    let report = store.recount(false, None, NOW).await.unwrap();
    assert!(report.agrees(), "{report:?}");
    assert!(!report.applied);
}

async fn counters_follow_every_change(backend: Backend) {
    let Some((_db, store, key)) = setup(backend).await else {
        return;
    };
    let (an, binh, child) = (
        pid(1, "1985", "M"),
        pid(2, "1985", "F"),
        pid(3, "2010", "M"),
    );
    store
        .upsert_citizens(vec![
            citizen(&an, "Nguyễn Văn An", "1985-03-04", "M", "30730"),
            citizen(&binh, "Trần Thị Bình", "1985-05-06", "F", "30730"),
            citizen(&child, "Lê Văn Cường", "2010-01-02", "M", "30733"),
        ])
        .await
        .unwrap();
    // Counted live, but never recounted: the next start (migrate) recounts once and records it.
    assert!(!store.analytics_settings().await.unwrap().counted);
    assert!(store.migrate().await.unwrap().is_empty());
    assert!(store.analytics_settings().await.unwrap().counted);
    let now = sums(&store, &["30730", "30733", "91"], None).await;
    assert_eq!(
        get(&now, "30730", "pop:2M") + get(&now, "30730", "pop:2F"),
        2
    );
    assert_eq!(get(&now, "30733", "pop:0M"), 1);
    assert_eq!(get(&now, "91", "pop:2M"), 1);

    let a1 = shot(&store, "a1", &an, 1, "2021-07-01", "KG-TYT-30733").await;
    let a2 = shot(&store, "a2", &an, 2, "2021-09-01", "KG-TYT-30733").await;
    let b1 = shot(&store, "b1", &binh, 1, "2021-08-15", "KG-TYT-30730").await;
    // Unsigned records count nowhere yet.
    assert_eq!(get(&sums(&store, &["91"], None).await, "91", "dose1:2M"), 0);
    sign(&store, key, &[a1, a2, b1], NOW).await;
    let now = sums(&store, &["30730", "30733", "91"], None).await;
    assert_eq!(get(&now, "91", "dose1:2M"), 1);
    assert_eq!(get(&now, "91", "dose1:2F"), 1);
    assert_eq!(get(&now, "91", "full:2M"), 1);
    assert_eq!(get(&now, "30730", &format!("dose:r:1:{AZ}")), 2);
    assert_eq!(get(&now, "30733", &format!("dose:s:2:{AZ}")), 1);
    assert_eq!(get(&now, "30733", &format!("dose:r:2:{AZ}")), 0);
    // As of a past day: An had one dose on 2021-08-01, Bình none.
    let past = sums(&store, &["30730"], Some(date!(2021 - 08 - 01))).await;
    assert_eq!(get(&past, "30730", "dose1:2M"), 1);
    assert_eq!(get(&past, "30730", "dose1:2F"), 0);
    assert_eq!(get(&past, "30730", "full:2M"), 0);
    assert_eq!(get(&past, "30730", "pop:2F"), 1);
    assert_recount_agrees(&store).await;

    // Supervision: three signatures today, all auto-linked.
    let sv = store
        .series_sums(vec!["30730".into()], None, Family::Supervision)
        .await
        .unwrap();
    let signed: i64 = sv
        .iter()
        .filter(|s| s.series == "sv:signed")
        .map(|s| s.n)
        .sum();
    assert_eq!(signed, 3);

    // A citizen asks for a correction; the officer corrects the date of An's second dose, which
    // voids its signature: An is no longer full until it is signed again.
    let req = store
        .request_correction(NewCorrectionRequest {
            record_id: a2,
            message: "Ngày tiêm sai".into(),
            requested_by: "citizen".into(),
            at: NOW,
        })
        .await
        .unwrap();
    assert_eq!(req.queue_unit, "30730");
    assert_eq!(
        store.open_corrections(vec!["30730".into()]).await.unwrap(),
        [("30730".into(), 1)]
    );
    let later = NOW + Duration::hours(5);
    review(
        &store,
        a2,
        ReviewAction::Correct(Correction {
            administered_at: Some(datetime!(2021-09-03 09:00 +7)),
            ..Correction::default()
        }),
        later,
    )
    .await;
    assert!(
        store
            .open_corrections(vec!["30730".into()])
            .await
            .unwrap()
            .is_empty()
    );
    let handled = store.correction_requests(a2).await.unwrap();
    assert_eq!(handled[0].handled_at, Some(later));
    let now = sums(&store, &["91"], None).await;
    assert_eq!(get(&now, "91", "full:2M"), 0);
    assert_eq!(get(&now, "91", "dose1:2M"), 1);
    assert_recount_agrees(&store).await;
    sign(&store, key, &[a2], later).await;
    assert_eq!(get(&sums(&store, &["91"], None).await, "91", "full:2M"), 1);

    // Bình's only dose is rejected: she leaves dose 1; An moves to Hà Nội with his doses.
    review(&store, b1, ReviewAction::Reject, later).await;
    store
        .upsert_citizens(vec![citizen(
            &an,
            "Nguyễn Văn An",
            "1985-03-04",
            "M",
            "00001",
        )])
        .await
        .unwrap();
    let now = sums(&store, &["91", "01", "00001"], None).await;
    assert_eq!(get(&now, "91", "dose1:2F"), 0);
    assert_eq!(get(&now, "91", "dose1:2M"), 0);
    assert_eq!(get(&now, "91", "pop:2M"), 0);
    assert_eq!(get(&now, "01", "full:2M"), 1);
    assert_eq!(get(&now, "00001", "pop:2M"), 1);
    // Doses stay counted where they were given.
    assert_eq!(
        get(
            &sums(&store, &["30733"], None).await,
            "30733",
            &format!("dose:s:1:{AZ}")
        ),
        1
    );
    assert_recount_agrees(&store).await;

    // An is due for a booster 84 days (the newest rules) after his series; by then, not before.
    let due = store
        .due_counts(vec!["00001".into()], date!(2021 - 11 - 25))
        .await
        .unwrap();
    assert!(due.is_empty(), "{due:?}");
    let due = store
        .due_counts(vec!["00001".into()], date!(2021 - 11 - 26))
        .await
        .unwrap();
    assert_eq!((due[0].due_dose, due[0].due_booster), (0, 1));

    // Deceased: out of the population and of every count.
    let mut dead = citizen(&an, "Nguyễn Văn An", "1985-03-04", "M", "00001");
    dead.status = vaxtrace_domain::LifeStatus::Deceased;
    store.upsert_citizens(vec![dead]).await.unwrap();
    let now = sums(&store, &["01"], None).await;
    assert!(now.is_empty(), "{now:?}");
    assert_recount_agrees(&store).await;
}

async fn random_changes_agree_with_a_recount(backend: Backend) {
    let Some((_db, store, key)) = setup(backend).await else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(2021);
    let communes = ["30730", "30733", "30736", "00001"];
    let people: Vec<(String, &str, &str)> = (0..24)
        .map(|n| {
            let born = ["1950", "1985", "2006", "2012"][n as usize % 4];
            let sex = ["M", "F"][n as usize % 2];
            (pid(n, born, sex), born, sex)
        })
        .collect();
    let register = |rng: &mut StdRng| {
        people
            .iter()
            .map(|(id, born, sex)| {
                let born = format!("{born}-06-15");
                citizen(
                    id,
                    "Phạm Thị Dung",
                    &born,
                    sex,
                    communes[rng.random_range(0..4)],
                )
            })
            .collect::<Vec<_>>()
    };
    store.upsert_citizens(register(&mut rng)).await.unwrap();
    let mut records = Vec::new();
    for step in 0..120 {
        let at = NOW + Duration::minutes(step);
        match rng.random_range(0..10) {
            0..=3 => {
                let (person, _, _) = &people[rng.random_range(0..people.len())];
                let day = date!(2021 - 06 - 01) + Duration::days(rng.random_range(0..150));
                let site = format!("KG-TYT-{}", communes[rng.random_range(0..3)]);
                let dose = rng.random_range(1..=3);
                records.push(
                    shot(
                        &store,
                        &format!("r{step}"),
                        person,
                        dose,
                        &day.to_string(),
                        &site,
                    )
                    .await,
                );
            }
            4..=5 if !records.is_empty() => {
                let pick: Vec<i64> = records
                    .iter()
                    .copied()
                    .filter(|_| rng.random_bool(0.5))
                    .collect();
                sign(&store, key, &pick, at).await;
            }
            6 if !records.is_empty() => {
                let id = records[rng.random_range(0..records.len())];
                let day = date!(2021 - 06 - 01) + Duration::days(rng.random_range(0..150));
                let fix = Correction {
                    administered_at: Some(day.midnight().assume_offset(time::macros::offset!(+7))),
                    ..Correction::default()
                };
                review(&store, id, ReviewAction::Correct(fix), at).await;
            }
            7 if !records.is_empty() => {
                let id = records[rng.random_range(0..records.len())];
                review(&store, id, ReviewAction::Reject, at).await;
            }
            8 => {
                // Some move, some die, some change nothing.
                let mut batch = register(&mut rng);
                for c in &mut batch {
                    if rng.random_bool(0.05) {
                        c.status = vaxtrace_domain::LifeStatus::Deceased;
                    }
                }
                store.upsert_citizens(batch).await.unwrap();
            }
            _ if !records.is_empty() => {
                let id = records[rng.random_range(0..records.len())];
                store
                    .request_correction(NewCorrectionRequest {
                        record_id: id,
                        message: "Sai thông tin".into(),
                        requested_by: "citizen".into(),
                        at,
                    })
                    .await
                    .unwrap();
            }
            _ => {}
        }
    }
    let report = store.recount(false, None, NOW).await.unwrap();
    assert!(report.agrees(), "{report:?}");
    assert!(report.members > 0 && report.counters > 0, "{report:?}");
    assert_eq!(report.citizens, people.len() as u64);
}

async fn recount_applies_another_residence_basis(backend: Backend) {
    let Some((_db, store, key)) = setup(backend).await else {
        return;
    };
    let an = pid(1, "1985", "M");
    let mut c = citizen(&an, "Nguyễn Văn An", "1985-03-04", "M", "30730");
    c.temporary = Some(vaxtrace_domain::Residence {
        unit_code: "00001",
        address: "1 Phúc Xá".into(),
    });
    store.upsert_citizens(vec![c]).await.unwrap();
    let a1 = shot(&store, "a1", &an, 1, "2021-07-01", "KG-TYT-30730").await;
    sign(&store, key, &[a1], NOW).await;
    assert_eq!(get(&sums(&store, &["91"], None).await, "91", "dose1:2M"), 1);
    let temporary = AnalyticsSettings {
        residence: vaxtrace_analytics::member::ResidenceBasis::Temporary,
        ..AnalyticsSettings::default()
    };
    // Counted by another basis, everything moves: the recount disagrees and replaces.
    let report = store.recount(true, Some(temporary), NOW).await.unwrap();
    assert!(!report.agrees() && report.applied, "{report:?}");
    assert_eq!(report.residence_basis, "temporary");
    let now = sums(&store, &["91", "01"], None).await;
    assert_eq!(get(&now, "91", "dose1:2M"), 0);
    assert_eq!(get(&now, "01", "dose1:2M"), 1);
    let stored = store.analytics_settings().await.unwrap();
    assert_eq!(
        (stored.residence, stored.live, stored.counted),
        (temporary.residence, true, true)
    );
    // And the live path keeps to it.
    let a2 = shot(&store, "a2", &an, 2, "2021-09-01", "KG-TYT-30730").await;
    sign(&store, key, &[a2], NOW).await;
    assert_eq!(get(&sums(&store, &["01"], None).await, "01", "full:2M"), 1);
    assert_recount_agrees(&store).await;
}

vaxtrace_store::on_both_backends!(
    counters_follow_every_change,
    random_changes_agree_with_a_recount,
    recount_applies_another_residence_basis,
);
