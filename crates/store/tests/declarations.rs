//! Conformance of declaration storage on both backends: routing to inboxes and their filters,
//! acknowledgement scoped to the commune, the latest valid pass, revocation, checkpoints and
//! scans, outbreak areas, and the retention purge.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use std::sync::Arc;

use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use vaxtrace_domain::PersonalId;
use vaxtrace_store::testing::TestDb;
use vaxtrace_store::{
    Backend, Checkpoint, InboxFilter, NewDeclaration, NewScan, OutbreakArea, Store, StoreError,
};

const NOW: OffsetDateTime = datetime!(2021-08-20 08:00 UTC);
const AN: &str = "091087123456";

async fn store(backend: Backend) -> Option<(TestDb, Arc<dyn Store>)> {
    let db = TestDb::new(backend).await.expect("test database")?;
    let store = vaxtrace_store::open(&db.url).await.expect("open store");
    store.migrate().await.expect("migrate");
    Some((db, store))
}

/// A declaration from Rạch Giá (30730, Kiên Giang) to Hà Nội (00004), `hours_ago` before NOW.
fn declaration(
    hours_ago: i64,
    risk: bool,
    outbreak: bool,
    routes: &[(&str, &str)],
) -> NewDeclaration {
    let submitted = NOW - Duration::hours(hours_ago);
    NewDeclaration {
        personal_id: PersonalId::parse(AN).unwrap(),
        subject_ref: [hours_ago as u8; 8],
        declared_by: "an".into(),
        source: "vaxtrace".into(),
        source_ref: None,
        submitted_at: submitted,
        body: "{}".into(),
        health_risk: risk,
        from_outbreak: outbreak,
        origin_unit: "30730".into(),
        destination_unit: "00004".into(),
        travel_date: submitted.date(),
        pass_expires_at: submitted + Duration::hours(72),
        routes: routes
            .iter()
            .map(|(c, r)| ((*c).to_owned(), (*r).to_owned()))
            .collect(),
    }
}

fn inbox(commune: &str) -> InboxFilter {
    InboxFilter {
        commune: commune.into(),
        limit: 50,
        ..InboxFilter::default()
    }
}

async fn routing_and_inbox_filters(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let routes = [("30730", "permanent"), ("00004", "destination")];
    let calm = store
        .insert_declaration(declaration(5, false, false, &routes))
        .await
        .unwrap();
    let risky = store
        .insert_declaration(declaration(1, true, true, &routes))
        .await
        .unwrap();
    let ids = |entries: Vec<vaxtrace_store::InboxEntry>| {
        entries.iter().map(|e| e.declaration.id).collect::<Vec<_>>()
    };

    assert_eq!(
        ids(store.inbox(inbox("00004")).await.unwrap()),
        [risky, calm],
        "newest first"
    );
    assert!(
        store.inbox(inbox("00001")).await.unwrap().is_empty(),
        "not routed there"
    );
    let only_risk = InboxFilter {
        health_risk_only: true,
        ..inbox("00004")
    };
    assert_eq!(ids(store.inbox(only_risk).await.unwrap()), [risky]);
    let only_outbreak = InboxFilter {
        from_outbreak_only: true,
        ..inbox("00004")
    };
    assert_eq!(ids(store.inbox(only_outbreak).await.unwrap()), [risky]);
    let from_kien_giang = InboxFilter {
        origin_province: Some("91".into()),
        ..inbox("00004")
    };
    assert_eq!(store.inbox(from_kien_giang).await.unwrap().len(), 2);
    let from_hanoi = InboxFilter {
        origin_province: Some("01".into()),
        ..inbox("00004")
    };
    assert!(store.inbox(from_hanoi).await.unwrap().is_empty());
    let last_3h = InboxFilter {
        from: Some(NOW - Duration::hours(3)),
        ..inbox("00004")
    };
    assert_eq!(ids(store.inbox(last_3h).await.unwrap()), [risky]);
    let page = InboxFilter {
        before_id: risky,
        ..inbox("00004")
    };
    assert_eq!(ids(store.inbox(page).await.unwrap()), [calm]);
    let entry = &store.inbox(inbox("30730")).await.unwrap()[0];
    assert_eq!(entry.routes, "permanent");

    // Acknowledging is per commune: the destination's read does not clear the residence's.
    assert_eq!(
        store
            .acknowledge("00004", vec![risky, calm, 999], "congan", NOW)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .acknowledge("00004", vec![risky], "congan", NOW)
            .await
            .unwrap(),
        0
    );
    let unread = |c: &str| InboxFilter {
        unacknowledged_only: true,
        ..inbox(c)
    };
    assert!(store.inbox(unread("00004")).await.unwrap().is_empty());
    assert_eq!(store.inbox(unread("30730")).await.unwrap().len(), 2);

    let counts = store
        .inbox_counts(
            Some(vec!["00004".into(), "30730".into()]),
            NOW - Duration::days(1),
            NOW + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(counts.len(), 2);
    let hanoi = counts.iter().find(|c| c.commune_code == "00004").unwrap();
    assert_eq!(
        (
            hanoi.total,
            hanoi.health_risk,
            hanoi.from_outbreak,
            hanoi.unacknowledged
        ),
        (2, 1, 1, 0)
    );
    let all = store
        .inbox_counts(None, NOW - Duration::days(1), NOW + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(all.len(), 2);

    // A legacy app's record seen twice is refused, not duplicated.
    let legacy = NewDeclaration {
        source: "ncovi".into(),
        source_ref: Some("N-1".into()),
        ..declaration(2, false, false, &[])
    };
    store.insert_declaration(legacy.clone()).await.unwrap();
    assert!(matches!(
        store.insert_declaration(legacy).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn latest_valid_pass_and_revocation(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let an = PersonalId::parse(AN).unwrap();
    let old = store
        .insert_declaration(declaration(80, false, false, &[]))
        .await
        .unwrap();
    assert_eq!(
        store.latest_valid_declaration(an, NOW).await.unwrap(),
        None,
        "72 h have passed"
    );
    let older = store
        .insert_declaration(declaration(10, false, false, &[]))
        .await
        .unwrap();
    let newer = store
        .insert_declaration(declaration(2, false, false, &[]))
        .await
        .unwrap();
    assert_eq!(
        store
            .latest_valid_declaration(an, NOW)
            .await
            .unwrap()
            .unwrap()
            .id,
        newer
    );
    assert!(store.revoke_declaration(newer, NOW).await.unwrap());
    assert!(!store.revoke_declaration(newer, NOW).await.unwrap());
    assert!(matches!(
        store.revoke_declaration(9999, NOW).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .latest_valid_declaration(an, NOW)
            .await
            .unwrap()
            .unwrap()
            .id,
        older
    );
    let all: Vec<i64> = store
        .declarations_for_citizen(an)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(all, [newer, older, old]);
    assert!(
        store
            .declaration(newer)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
}

async fn checkpoints_scans_outbreaks_and_retention(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let an = PersonalId::parse(AN).unwrap();
    let toll = Checkpoint {
        code: "HN-PHAPVAN".into(),
        name: "Trạm thu phí Pháp Vân – Cầu Giẽ".into(),
        commune_code: "00664".into(),
        latitude: Some(20.94),
        longitude: Some(105.85),
    };
    store.upsert_checkpoint(toll.clone()).await.unwrap();
    store
        .upsert_checkpoint(Checkpoint {
            name: "Chốt Pháp Vân".into(),
            ..toll.clone()
        })
        .await
        .unwrap();
    assert_eq!(store.checkpoints().await.unwrap().len(), 1);
    assert_eq!(
        store.checkpoint("HN-PHAPVAN").await.unwrap().unwrap().name,
        "Chốt Pháp Vân"
    );
    assert_eq!(store.checkpoint("nope").await.unwrap(), None);

    let recent = store
        .insert_declaration(declaration(1, false, false, &[("00004", "destination")]))
        .await
        .unwrap();
    let stale = store
        .insert_declaration(declaration(
            24 * 40,
            false,
            false,
            &[("00004", "destination")],
        ))
        .await
        .unwrap();
    for (hours, decl) in [(1, Some(recent)), (24 * 40, Some(stale))] {
        store
            .record_scan(NewScan {
                checkpoint_code: toll.code.clone(),
                officer: "chot1".into(),
                personal_id: Some(an),
                declaration_id: decl,
                method: "pass",
                verdict: "valid".into(),
                scanned_at: NOW - Duration::hours(hours),
            })
            .await
            .unwrap();
    }
    assert_eq!(store.scans_for_citizen(an).await.unwrap().len(), 2);

    let area = OutbreakArea {
        unit_code: "30730".into(),
        starts_on: date!(2021 - 08 - 01),
        ends_on: date!(2021 - 08 - 31),
        declared_by: "yte.tinh91".into(),
    };
    store.add_outbreak_area(area.clone(), NOW).await.unwrap();
    assert_eq!(
        store
            .outbreak_areas(Some(date!(2021 - 08 - 20)))
            .await
            .unwrap(),
        std::slice::from_ref(&area)
    );
    assert!(
        store
            .outbreak_areas(Some(date!(2021 - 09 - 01)))
            .await
            .unwrap()
            .is_empty()
    );
    let extended = OutbreakArea {
        ends_on: date!(2021 - 09 - 15),
        ..area
    };
    store
        .add_outbreak_area(extended.clone(), NOW)
        .await
        .unwrap();
    assert_eq!(store.outbreak_areas(None).await.unwrap(), [extended]);

    // A journey still ahead keeps its declaration, however early it was declared.
    let ahead = NewDeclaration {
        travel_date: date!(2021 - 09 - 15),
        ..declaration(24 * 35, false, false, &[])
    };
    let ahead = store.insert_declaration(ahead).await.unwrap();
    let purged = store
        .purge_movement_data(NOW - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(
        (purged.declarations, purged.inbox_entries, purged.scans),
        (1, 1, 1)
    );
    assert_eq!(store.declaration(stale).await.unwrap(), None);
    assert!(store.declaration(recent).await.unwrap().is_some());
    assert!(store.declaration(ahead).await.unwrap().is_some());
    assert_eq!(store.scans_for_citizen(an).await.unwrap().len(), 1);
    assert_eq!(store.inbox(inbox("00004")).await.unwrap().len(), 1);
    assert_eq!(
        store
            .purge_movement_data(NOW - Duration::days(30))
            .await
            .unwrap(),
        vaxtrace_store::Purged::default()
    );
}

vaxtrace_store::on_both_backends!(
    routing_and_inbox_filters,
    latest_valid_pass_and_revocation,
    checkpoints_scans_outbreaks_and_retention,
);
