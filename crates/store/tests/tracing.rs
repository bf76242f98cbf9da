//! Conformance of tracing storage on both backends: venues, idempotent check-ins, check-out, stay
//! searches by person and by venue (across day boundaries), the naive join agreeing with them,
//! households, tests, cases, contacts routed by area, quarantine orders, break-glass reviews, and
//! the retention purge keeping exactly what is newer than its cutoff.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::{date, datetime};
use vaxtrace_domain::PersonalId;
use vaxtrace_store::testing::{TestDb, citizen};
use vaxtrace_store::{
    Area, Backend, CheckoutOutcome, NewCase, NewCheckin, NewContact, NewQuarantine, NewTest,
    NewVenue, QuarantineFilter, Store, StoreError,
};
use vaxtrace_trace::Stay;

const NOW: OffsetDateTime = datetime!(2021-11-23 08:00 UTC);
const T: i64 = 1_637_654_400; // 2021-11-23 08:00 UTC
const HOUR: i64 = 3600;

async fn store(backend: Backend) -> Option<(TestDb, Arc<dyn Store>)> {
    let db = TestDb::new(backend).await.expect("test database")?;
    let store = vaxtrace_store::open(&db.url).await.expect("open store");
    store.migrate().await.expect("migrate");
    Some((db, store))
}

fn person(n: u64) -> PersonalId {
    PersonalId::parse(&format!("0910900{n:05}")).unwrap()
}

fn venue(name: &str) -> NewVenue {
    NewVenue {
        name: name.into(),
        kind: "restaurant".into(),
        commune_code: "30730".into(),
        address: "1 Trần Phú".into(),
        latitude: None,
        longitude: None,
        stay_minutes: 90,
        owner: "owner".into(),
        created_at: NOW,
    }
}

fn checkin(venue_id: i64, p: u64, start: i64, end: i64) -> NewCheckin {
    NewCheckin {
        venue_id,
        personal_id: person(p),
        checked_in_at: start,
        ends_at: end,
        checked_out: false,
        method: "venue_qr",
    }
}

async fn venues_and_idempotent_checkins(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let a = store.insert_venue(venue("Quán A")).await.unwrap();
    let b = store.insert_venue(venue("Quán B")).await.unwrap();
    assert_ne!(a, b);
    let stored = store.venue(a).await.unwrap().unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.stay_minutes, stored.active),
        ("Quán A", 90, true)
    );
    assert_eq!(store.venues_by_owner("owner").await.unwrap().len(), 2);
    assert!(store.set_venue_active(a, false).await.unwrap());
    assert!(!store.venue(a).await.unwrap().unwrap().active);
    assert!(!store.set_venue_active(999, false).await.unwrap());

    let batch = vec![checkin(a, 1, T, T + HOUR), checkin(a, 2, T, T + HOUR)];
    assert_eq!(store.insert_checkins(batch.clone()).await.unwrap(), 2);
    // The same check-ins again (an offline venue re-sending): nothing new.
    assert_eq!(store.insert_checkins(batch).await.unwrap(), 0);
    assert_eq!(store.insert_checkins(Vec::new()).await.unwrap(), 0);
}

async fn stays_are_found_by_person_and_venue_across_midnight(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let v = store.insert_venue(venue("Chợ đêm")).await.unwrap();
    let w = store.insert_venue(venue("Quán W")).await.unwrap();
    let midnight = (T / 86_400 + 1) * 86_400;
    store
        .insert_checkins(vec![
            // The case, across midnight.
            checkin(v, 0, midnight - HOUR, midnight + HOUR),
            // Began the evening before, still there: overlaps by an hour.
            checkin(v, 1, midnight - 10 * HOUR, midnight),
            // After midnight, in the next day's partition.
            checkin(v, 2, midnight + HOUR / 2, midnight + 2 * HOUR),
            // Same time, another venue.
            checkin(w, 3, midnight - HOUR, midnight + HOUR),
            // Long ago.
            checkin(v, 4, midnight - 5 * 86_400, midnight - 5 * 86_400 + HOUR),
        ])
        .await
        .unwrap();
    let of_case = store
        .stays_of_people(vec![(person(0), midnight - 2 * HOUR, midnight + 2 * HOUR)])
        .await
        .unwrap();
    assert_eq!(
        of_case,
        vec![Stay {
            personal_id: person(0),
            venue_id: v,
            start: midnight - HOUR,
            end: midnight + HOUR
        }]
    );
    // A window opening after the stay began still finds it while it lasts.
    let later = store
        .stays_of_people(vec![(person(0), midnight, midnight + 2 * HOUR)])
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    let ranges =
        vaxtrace_trace::contacts::search_ranges(&of_case, vaxtrace_trace::ContactRule::default());
    let mut at_venue: Vec<u64> = store
        .stays_at_venues(ranges)
        .await
        .unwrap()
        .iter()
        .map(|s| s.personal_id.as_number())
        .collect();
    at_venue.sort_unstable();
    assert_eq!(
        at_venue,
        vec![
            person(0).as_number(),
            person(1).as_number(),
            person(2).as_number()
        ]
    );

    // The naive self-join finds the same contacts as the bounded search.
    let naive = store
        .naive_contacts(person(0), midnight - 2 * HOUR, midnight + 2 * HOUR, 15 * 60)
        .await
        .unwrap();
    assert_eq!(naive, vec![person(1), person(2)]);
    // The case's stay counts until the window closes (at midnight here): person 2 came after.
    let naive = store
        .naive_contacts(person(0), midnight - 2 * HOUR, midnight, 15 * 60)
        .await
        .unwrap();
    assert_eq!(naive, vec![person(1)]);
}

async fn check_out_ends_the_latest_stay(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let v = store.insert_venue(venue("Văn phòng")).await.unwrap();
    store
        .insert_checkins(vec![
            checkin(v, 1, T - 5 * HOUR, T - 4 * HOUR),
            checkin(v, 1, T, T + 8 * HOUR),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.check_out(person(1), v, T + 2 * HOUR).await.unwrap(),
        CheckoutOutcome::CheckedOut {
            checked_in_at: T,
            ends_at: T + 2 * HOUR
        }
    );
    let stays = store
        .stays_of_people(vec![(person(1), T, T + 10 * HOUR)])
        .await
        .unwrap();
    assert_eq!(stays.last().unwrap().end, T + 2 * HOUR);
    assert_eq!(
        store.check_out(person(1), v, T - 6 * HOUR).await.unwrap(),
        CheckoutOutcome::BeforeCheckin {
            checked_in_at: T - 5 * HOUR
        }
    );
    assert_eq!(
        store.check_out(person(2), v, T).await.unwrap(),
        CheckoutOutcome::NoOpenStay
    );
}

async fn households_are_found_in_the_registry(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let mut members = Vec::new();
    for (i, household) in [
        (1, Some("HK-1")),
        (2, Some("HK-1")),
        (3, Some("HK-2")),
        (4, None),
    ] {
        let mut c = citizen(
            &person(i).to_string(),
            "Nguyễn Văn An",
            "1990-01-01",
            "M",
            "30730",
        );
        c.household_id = household.map(str::to_owned);
        members.push(c);
    }
    store.upsert_citizens(members).await.unwrap();
    assert_eq!(
        store.household_members(person(1)).await.unwrap(),
        vec![person(2)]
    );
    assert!(store.household_members(person(4)).await.unwrap().is_empty());
    assert!(store.household_members(person(9)).await.unwrap().is_empty());
    let mut known = store
        .known_citizens(vec![person(9), person(2), person(1)])
        .await
        .unwrap();
    known.sort_unstable();
    assert_eq!(known, vec![person(1), person(2)]);
}

fn test_result(lab_ref: &str) -> NewTest {
    NewTest {
        personal_id: person(1),
        kind: "pcr",
        sampled_at: NOW,
        result: "positive",
        lab: "CDC Kiên Giang".into(),
        lab_ref: lab_ref.into(),
        recorded_by: "lab".into(),
        recorded_at: NOW,
    }
}

async fn tests_cases_and_contacts(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let (id, new) = store.insert_test(test_result("KG-1")).await.unwrap();
    assert!(new);
    assert_eq!(
        store.insert_test(test_result("KG-1")).await.unwrap(),
        (id, false)
    );
    assert_eq!(store.tests_of(person(1)).await.unwrap().len(), 1);
    assert_eq!(
        store.test_result(id).await.unwrap().unwrap().result,
        "positive"
    );

    let case = NewCase {
        personal_id: person(1),
        test_id: id,
        sampled_at: NOW,
        onset_on: Some(date!(2021 - 11 - 21)),
        isolated_at: None,
        confirmed_by: "health".into(),
        confirmed_at: NOW,
        area: Area::of("30730"),
    };
    let opened = store.open_case(case.clone()).await.unwrap();
    assert!(opened.case_id.starts_with("F0-91-"), "{}", opened.case_id);
    assert_eq!(opened.onset_on.as_deref(), Some("2021-11-21"));
    assert!(matches!(
        store.open_case(case.clone()).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.open_case_of(person(1)).await.unwrap().unwrap(),
        opened
    );

    let contact = |p: u64, level: u8, unit: &str| NewContact {
        personal_id: person(p),
        level,
        via: (level == 2).then(|| person(2)),
        kind: "venue",
        exposed_at: T,
        overlap_secs: 1800,
        evidence: "[]".into(),
        area: Area::of(unit),
    };
    let traced = store
        .replace_contacts(
            &opened.case_id,
            vec![contact(2, 1, "30730"), contact(3, 2, "00004")],
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(traced, 2);
    // A new trace replaces the old one.
    store
        .replace_contacts(
            &opened.case_id,
            vec![contact(2, 1, "30730"), contact(4, 2, "00004")],
            NOW,
        )
        .await
        .unwrap();
    let contacts = store.contacts_of_case(&opened.case_id).await.unwrap();
    let ids: Vec<_> = contacts.iter().map(|c| (c.personal_id, c.level)).collect();
    assert_eq!(ids, vec![(person(2), 1), (person(4), 2)]);
    assert_eq!(contacts[1].via, Some(person(2)));
    let since = NOW - time::Duration::days(1);
    // Routed by residence: Rạch Giá's commune, its district and province see one; Hà Nội one.
    for unit in ["30730", "899", "91"] {
        let seen = store.contacts_in_area(unit, since, 10).await.unwrap();
        assert_eq!(seen.len(), 1, "{unit}");
        assert_eq!(seen[0].personal_id, person(2));
    }
    assert_eq!(
        store.contacts_in_area("VN", since, 10).await.unwrap().len(),
        2
    );
    let hanoi = store.contacts_in_area("01", since, 10).await.unwrap();
    assert_eq!(hanoi[0].personal_id, person(4));
    assert!(
        store
            .contacts_in_area("79", since, 10)
            .await
            .unwrap()
            .is_empty()
    );

    assert!(
        store
            .close_case(&opened.case_id, date!(2021 - 12 - 05))
            .await
            .unwrap()
    );
    assert!(
        !store
            .close_case(&opened.case_id, date!(2021 - 12 - 06))
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .close_case("F0-91-999999", date!(2021 - 12 - 05))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.open_case_of(person(1)).await.unwrap().is_none());
    // Recovered, the person can become a case again.
    let (second_test, _) = store.insert_test(test_result("KG-2")).await.unwrap();
    let again = store
        .open_case(NewCase {
            test_id: second_test,
            ..case
        })
        .await
        .unwrap();
    assert_ne!(again.case_id, opened.case_id);
}

async fn quarantine_orders_and_break_glass(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let order = |p: u64, starts, ends| NewQuarantine {
        personal_id: person(p),
        kind: "home",
        place: None,
        starts_on: starts,
        ends_on: ends,
        case_id: None,
        ordered_by: "health".into(),
        ordered_at: NOW,
        area: Area::of("30730"),
    };
    let a = store
        .insert_quarantine(order(1, date!(2021 - 11 - 20), date!(2021 - 11 - 26)))
        .await
        .unwrap();
    let b = store
        .insert_quarantine(order(2, date!(2021 - 11 - 22), date!(2021 - 12 - 05)))
        .await
        .unwrap();
    store
        .insert_quarantine(order(3, date!(2021 - 11 - 01), date!(2021 - 11 - 10)))
        .await
        .unwrap();
    let filter = |unit: &str, ending_by| QuarantineFilter {
        unit: unit.into(),
        in_force_on: date!(2021 - 11 - 23),
        ending_by,
        limit: 10,
    };
    let ids =
        |list: Vec<vaxtrace_store::StoredQuarantine>| list.iter().map(|q| q.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.quarantines(filter("30730", None)).await.unwrap()),
        vec![a, b]
    );
    assert_eq!(
        ids(store
            .quarantines(filter("91", Some(date!(2021 - 11 - 30))))
            .await
            .unwrap()),
        vec![a]
    );
    assert!(
        store
            .quarantines(filter("01", None))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .active_quarantine(person(1), date!(2021 - 11 - 23))
            .await
            .unwrap()
            .unwrap()
            .id,
        a
    );
    assert!(
        store
            .active_quarantine(person(3), date!(2021 - 11 - 23))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .release_quarantine(a, date!(2021 - 11 - 24))
            .await
            .unwrap()
    );
    assert!(
        !store
            .release_quarantine(a, date!(2021 - 11 - 24))
            .await
            .unwrap()
    );
    assert!(
        store
            .active_quarantine(person(1), date!(2021 - 11 - 25))
            .await
            .unwrap()
            .is_none()
    );
    // Released on the 24th, the order was still in force on the 23rd.
    assert_eq!(
        ids(store.quarantines(filter("30730", None)).await.unwrap()),
        vec![a, b]
    );
    assert!(matches!(
        store.release_quarantine(999, date!(2021 - 11 - 24)).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.quarantine(b).await.unwrap().unwrap().ends_on,
        "2021-12-05"
    );

    let bg = store
        .insert_break_glass(
            "health",
            "province_health",
            person(1),
            "outbreak at market",
            NOW,
        )
        .await
        .unwrap();
    let pending = store.break_glass_pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].reason, "outbreak at market");
    assert!(
        store
            .review_break_glass(bg, "admin", "justified", NOW)
            .await
            .unwrap()
    );
    assert!(
        !store
            .review_break_glass(bg, "admin", "unjustified", NOW)
            .await
            .unwrap()
    );
    assert!(store.break_glass_pending().await.unwrap().is_empty());
}

async fn retention_keeps_exactly_what_is_newer(backend: Backend) {
    let Some((db, store)) = store(backend).await else {
        return;
    };
    let v = store.insert_venue(venue("Siêu thị")).await.unwrap();
    let cutoff = T - 30 * 86_400 + 5 * HOUR; // mid-day: one partition is cut, not dropped
    assert!(
        store
            .prepare_checkin_partitions(T / 86_400, T / 86_400 + 3)
            .await
            .is_ok()
    );
    let mut batch = Vec::new();
    for i in 0..40 {
        let start = T - 35 * 86_400 + i * 21_600; // every 6 hours over 10 days
        batch.push(checkin(v, 1, start, start + HOUR));
    }
    store.insert_checkins(batch.clone()).await.unwrap();
    let purge = store.purge_checkins(cutoff).await.unwrap();
    let kept = store
        .stays_of_people(vec![(person(1), T - 40 * 86_400, T)])
        .await
        .unwrap();
    let expected: Vec<i64> = batch
        .iter()
        .map(|c| c.checked_in_at)
        .filter(|s| *s >= cutoff)
        .collect();
    assert_eq!(kept.iter().map(|s| s.start).collect::<Vec<_>>(), expected);
    assert!(!expected.is_empty() && expected.len() < batch.len());
    if backend == Backend::Postgres {
        assert!(purge.partitions_dropped >= 5, "{purge:?}");
    }
    // Inserting into a day whose partition was dropped recreates it.
    assert_eq!(store.insert_checkins(vec![batch[0]]).await.unwrap(), 1);
    // Another server purges; this one still believes the day's partition exists.
    let other = vaxtrace_store::open(&db.url).await.unwrap();
    other.purge_checkins(cutoff).await.unwrap();
    assert_eq!(store.insert_checkins(vec![batch[0]]).await.unwrap(), 1);
}

vaxtrace_store::on_both_backends!(
    venues_and_idempotent_checkins,
    stays_are_found_by_person_and_venue_across_midnight,
    check_out_ends_the_latest_stay,
    households_are_found_in_the_registry,
    tests_cases_and_contacts,
    quarantine_orders_and_break_glass,
    retention_keeps_exactly_what_is_newer,
);
