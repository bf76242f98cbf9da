//! Venue check-in, tests, cases and contact tracing over the API: posters with signed codes,
//! self and venue check-in, offline batches with per-item refusals, test results, F0 cases, the
//! movement timeline, F1/F2 contacts routed to the communes they live in, quarantine shown on
//! status lookups, recovery, and reviewed break-glass access.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;

use common::{AN, BINH, CUC, TestApp, assert_error, install_keys, install_pass_signer, passphrase};
use serde_json::{Value, json};
use time::OffsetDateTime;
use vaxtrace_domain::PersonalId;
use vaxtrace_server::ServerConfig;
use vaxtrace_store::{Backend, NewCheckin};

async fn app(backend: Backend) -> Option<TestApp> {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let app = common::spawn_app_with(backend, config).await?;
    install_keys(&app.store).await;
    install_pass_signer(&app.store).await;
    Some(app)
}

fn market() -> Value {
    json!({"name": "Chợ Rạch Giá", "kind": "market", "commune_code": "30730", "address": "2 Trần Phú"})
}

async fn register(app: &TestApp, owner: &str) -> Value {
    let res = app
        .post_json("/api/v1/venues", Some(owner), &market())
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn venues_posters_and_check_in(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let owner = app.login("venue_91").await;
    let visitor = app.login("site_91").await;

    let bad = json!({"name": "Quán", "kind": "bar", "commune_code": "30730", "address": "1"});
    let err = assert_error(
        app.post_json("/api/v1/venues", Some(&owner), &bad).await,
        422,
        "unknown_venue_kind",
    )
    .await;
    assert_eq!(err["field"], "kind");
    assert_error(
        app.post_json("/api/v1/venues", Some(&visitor), &market())
            .await,
        403,
        "forbidden_role",
    )
    .await;
    let venue = register(&app, &owner).await;
    let (id, code) = (
        venue["id"].as_i64().unwrap(),
        venue["code"].as_str().unwrap().to_owned(),
    );
    assert!(code.starts_with("VNV1:"));
    assert_eq!(venue["stay_minutes"], 60);
    assert_eq!(venue["kind_vi"], "Chợ");
    let mine = app.get_json("/api/v1/venues", Some(&owner)).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);

    let poster = app
        .get(&format!("/api/v1/venues/{id}/poster.png"), Some(&owner))
        .await;
    assert_eq!(poster.status(), 200);
    assert_eq!(poster.headers()["content-type"], "image/png");
    assert!(poster.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let page = app
        .get(&format!("/api/v1/venues/{id}/poster.html"), Some(&owner))
        .await;
    let page = page.text().await.unwrap();
    assert!(page.contains("Chợ Rạch Giá") && page.contains("VNV1:"));
    // Someone else's venue is not yours to print.
    let admin = app.login("admin").await;
    let other = app
        .post_value("/api/v1/venues", Some(&admin), &market())
        .await;
    let other_id = other["id"].as_i64().unwrap();
    assert_error(
        app.get(
            &format!("/api/v1/venues/{other_id}/poster.png"),
            Some(&owner),
        )
        .await,
        403,
        "not_your_venue",
    )
    .await;

    // The person scans the poster and confirms with ID and birth date.
    let me = json!({"venue_code": code, "personal_id": AN, "birth_date": "1987-03-09"});
    let res = app.post_json("/api/v1/checkins", Some(&visitor), &me).await;
    assert!(res.status() == 201 || res.status() == 200);
    let receipt: Value = res.json().await.unwrap();
    assert_eq!(receipt["venue_name"], "Chợ Rạch Giá");
    assert!(
        receipt.get("colour").is_none(),
        "the person sees no one's status"
    );
    let wrong = json!({"venue_code": code, "personal_id": AN, "birth_date": "1987-03-10"});
    assert_error(
        app.post_json("/api/v1/checkins", Some(&visitor), &wrong)
            .await,
        422,
        "identity_mismatch",
    )
    .await;
    let mut forged = code.clone().into_bytes();
    let last = forged.len() - 3;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = json!({"venue_code": String::from_utf8(forged).unwrap(), "personal_id": AN, "birth_date": "1987-03-09"});
    assert_error(
        app.post_json("/api/v1/checkins", Some(&visitor), &forged)
            .await,
        422,
        "forged_venue_code",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/checkins",
            Some(&visitor),
            &json!({"venue_code": code}),
        )
        .await,
        400,
        "one_identity",
    )
    .await;

    // The venue scans a chip ID card and sees the colour.
    let card = format!("{BINH}||Trần Thị Bình|20111995|Nữ|5 Lê Lợi|01012021");
    let scanned = app
        .post_value(
            "/api/v1/checkins",
            Some(&owner),
            &json!({"venue_id": id, "chip_qr": card}),
        )
        .await;
    assert_eq!(scanned["colour"], "none");
    assert_eq!(scanned["quarantined"], false);
    // A venue scans a card or a pass; typing someone's ID and birth date is for oneself.
    assert_error(
        app.post_json(
            "/api/v1/checkins",
            Some(&owner),
            &json!({"venue_id": id, "personal_id": AN, "birth_date": "1987-03-09"}),
        )
        .await,
        400,
        "scan_card_or_pass",
    )
    .await;
    // The birth year alone is not enough where the registry holds the full date.
    let vague = json!({"venue_code": code, "personal_id": AN, "birth_date": "1987"});
    assert_error(
        app.post_json("/api/v1/checkins", Some(&visitor), &vague)
            .await,
        422,
        "identity_mismatch",
    )
    .await;
    assert!(
        app.store
            .audit_for_subject(AN)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "checkin.identity_refused"),
        "a refused identity leaves a trace"
    );
    // Only the owner scans for a venue.
    assert_error(
        app.post_json(
            "/api/v1/checkins",
            Some(&visitor),
            &json!({"venue_id": id, "chip_qr": card}),
        )
        .await,
        403,
        "forbidden_role",
    )
    .await;

    // Check-out ends the stay; nobody else has one to end.
    let out = app
        .post_value("/api/v1/checkins/checkout", Some(&visitor), &me)
        .await;
    assert_eq!(out["checked_out"], true, "{out}");
    let cuc = json!({"venue_code": code, "personal_id": CUC, "birth_date": "1940"});
    assert_error(
        app.post_json("/api/v1/checkins/checkout", Some(&visitor), &cuc)
            .await,
        404,
        "not_found",
    )
    .await;

    // An offline venue's batch: good rows stored once, bad ones returned with reasons.
    let now = OffsetDateTime::now_utc();
    let earlier = rfc3339(now - time::Duration::hours(3));
    let items = json!([
        {"personal_id": AN, "checked_in_at": earlier},
        {"personal_id": BINH, "checked_in_at": earlier, "checked_out_at": rfc3339(now - time::Duration::hours(2))},
        {"personal_id": AN, "checked_in_at": rfc3339(now + time::Duration::hours(2))},
        {"personal_id": BINH, "checked_in_at": earlier, "checked_out_at": rfc3339(now - time::Duration::hours(4))},
        {"personal_id": "091087999999", "checked_in_at": earlier},
        {"personal_id": "12", "checked_in_at": earlier},
        {"personal_id": AN, "checked_in_at": rfc3339(now - time::Duration::days(40))},
        {"personal_id": AN, "checked_in_at": "0001-01-01T00:00:00Z"},
    ]);
    let batch = json!({"venue_id": id, "items": items});
    let outcome = app
        .post_value("/api/v1/checkins/batch", Some(&owner), &batch)
        .await;
    assert_eq!(outcome["accepted"], 2, "{outcome}");
    let codes: Vec<(u64, &str)> = outcome["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        vec![
            (2, "future_time"),
            (3, "checkout_before_checkin"),
            (4, "unknown_citizen"),
            (5, "invalid_format"),
            (6, "too_old"),
            (7, "too_old")
        ]
    );
    let again = app
        .post_value("/api/v1/checkins/batch", Some(&owner), &batch)
        .await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2))
    );

    // A closed venue's poster stops working.
    let closed = app
        .post_value(
            &format!("/api/v1/venues/{id}/active"),
            Some(&owner),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(closed["active"], false);
    assert_error(
        app.post_json("/api/v1/checkins", Some(&visitor), &me).await,
        409,
        "venue_closed",
    )
    .await;
}

fn id(raw: &str) -> PersonalId {
    PersonalId::parse(raw).unwrap()
}

fn stay(venue: i64, who: &str, start: i64, minutes: i64) -> NewCheckin {
    NewCheckin {
        venue_id: venue,
        personal_id: id(who),
        checked_in_at: start,
        ends_at: start + minutes * 60,
        checked_out: true,
        method: "venue_qr",
    }
}

const DUNG: &str = "091095000077";

async fn cases_trace_and_quarantine(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let owner = app.login("venue_91").await;
    let lab = app.login("site_91").await;
    let health = app.login("health_91").await;

    // Dũng shares An's household.
    let mut an = app.store.citizen(id(AN)).await.unwrap().unwrap();
    an.household_id = Some("HK-30730-1".into());
    let mut dung =
        vaxtrace_store::testing::citizen(DUNG, "Phạm Văn Dũng", "1995-01-02", "M", "30730");
    dung.household_id = Some("HK-30730-1".into());
    app.store.upsert_citizens(vec![an, dung]).await.unwrap();

    // Yesterday An (to be F0) and Bình overlapped 30 minutes at the market; later Bình and Cúc
    // overlapped at a restaurant (Cúc is then an F2); Cúc met An only for 5 minutes.
    let market = register(&app, &owner).await["id"].as_i64().unwrap();
    let restaurant = app
        .post_value("/api/v1/venues", Some(&owner), &json!({"name": "Quán Cơm Tấm", "kind": "restaurant", "commune_code": "30730", "address": "9 Lê Lợi"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let t = OffsetDateTime::now_utc().unix_timestamp() - 86_400;
    app.store
        .insert_checkins(vec![
            stay(market, AN, t, 60),
            stay(market, BINH, t + 30 * 60, 60),
            stay(market, CUC, t + 55 * 60, 30),
            stay(restaurant, BINH, t + 3 * 3600, 60),
            stay(restaurant, CUC, t + 3 * 3600 + 600, 60),
        ])
        .await
        .unwrap();

    let sampled = rfc3339(OffsetDateTime::now_utc() - time::Duration::hours(2));
    let result = json!({"personal_id": AN, "kind": "pcr", "sampled_at": sampled, "result": "positive", "lab": "CDC Kiên Giang", "lab_ref": "KG-0001"});
    let res = app.post_json("/api/v1/tests", Some(&lab), &result).await;
    assert_eq!(res.status(), 201);
    let test_id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let again = app.post_json("/api/v1/tests", Some(&lab), &result).await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<Value>().await.unwrap()["id"].as_i64(),
        Some(test_id)
    );
    let mut unknown = result.clone();
    unknown["personal_id"] = json!("091087999999");
    unknown["lab_ref"] = json!("KG-0002");
    assert_error(
        app.post_json("/api/v1/tests", Some(&lab), &unknown).await,
        422,
        "unknown_citizen",
    )
    .await;

    // Only health officers confirm cases, in their own area.
    let police = app.login("police_30730").await;
    assert_error(
        app.post_json("/api/v1/cases", Some(&police), &json!({"test_id": test_id}))
            .await,
        403,
        "forbidden_role",
    )
    .await;
    let hanoi = app.login("health_01").await;
    assert_error(
        app.post_json("/api/v1/cases", Some(&hanoi), &json!({"test_id": test_id}))
            .await,
        403,
        "outside_jurisdiction",
    )
    .await;
    let res = app
        .post_json("/api/v1/cases", Some(&health), &json!({"test_id": test_id}))
        .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.unwrap();
    let case_id = case["case_id"].as_str().unwrap().to_owned();
    assert!(case_id.starts_with("F0-91-"), "{case}");
    assert_eq!(case["full_name"], "Nguyễn Văn An");
    assert_error(
        app.post_json("/api/v1/cases", Some(&health), &json!({"test_id": test_id}))
            .await,
        409,
        "open_case_exists",
    )
    .await;
    assert_error(
        app.get(&format!("/api/v1/cases/{case_id}/timeline"), Some(&hanoi))
            .await,
        403,
        "outside_jurisdiction",
    )
    .await;
    assert_error(
        app.get("/api/v1/cases/F0-91-12/timeline", Some(&health))
            .await,
        422,
        "invalid_case_id",
    )
    .await;

    let timeline = app
        .get_json(&format!("/api/v1/cases/{case_id}/timeline"), Some(&health))
        .await;
    let entries = timeline["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{timeline}");
    assert_eq!(
        (entries[0]["kind"].as_str(), entries[0]["place"].as_str()),
        (Some("checkin"), Some("Chợ Rạch Giá"))
    );
    let csv = app
        .get(
            &format!("/api/v1/cases/{case_id}/timeline.csv"),
            Some(&health),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("at,until,kind,place,detail\n") && csv.contains("Chợ Rạch Giá"));

    let report = app
        .post_value(
            &format!("/api/v1/cases/{case_id}/trace"),
            Some(&health),
            &json!({}),
        )
        .await;
    let level = |who: &str| {
        report["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["personal_id"] == who)
            .map(|c| {
                (
                    c["level"].as_u64().unwrap(),
                    c["kind"].as_str().unwrap().to_owned(),
                )
            })
    };
    assert_eq!(level(BINH), Some((1, "venue".into())), "{report}");
    assert_eq!(level(DUNG), Some((1, "household".into())));
    assert_eq!(
        level(CUC),
        Some((2, "venue".into())),
        "Cúc met An 5 minutes but Bình an hour"
    );
    assert_eq!(
        (report["f1"].as_u64(), report["f2"].as_u64()),
        (Some(2), Some(1))
    );
    let binh = report["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["personal_id"] == BINH)
        .unwrap();
    assert_eq!(binh["evidence"][0]["venue_name"], "Chợ Rạch Giá");
    assert_eq!(binh["evidence"][0]["overlap_minutes"], 30);
    let cuc = report["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["personal_id"] == CUC)
        .unwrap();
    assert_eq!(cuc["via"], BINH);
    // F1 only at depth 1, and a stricter rule drops Bình's 30 minutes.
    let strict = app
        .post_value(
            &format!("/api/v1/cases/{case_id}/trace"),
            Some(&health),
            &json!({"depth": 1, "min_overlap_minutes": 45}),
        )
        .await;
    assert_eq!(
        (strict["f1"].as_u64(), strict["f2"].as_u64()),
        (Some(1), Some(0)),
        "{strict}"
    );
    app.post_value(
        &format!("/api/v1/cases/{case_id}/trace"),
        Some(&health),
        &json!({}),
    )
    .await;

    // Each commune's officers see the contacts living there.
    let seen = |token: String| {
        let app = &app;
        async move {
            let list = app.get_json("/api/v1/contacts", Some(&token)).await;
            let mut ids: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["personal_id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        seen(police.clone()).await,
        vec![DUNG.to_owned(), BINH.to_owned()]
    );
    assert_eq!(
        seen(app.login("police_00001").await).await,
        vec![CUC.to_owned()]
    );
    assert!(seen(app.login("police_30733").await).await.is_empty());

    // Quarantine Bình; status lookups and the venue's scan show it; An shows as F0.
    let today = vaxtrace_domain::date::vietnam_day(OffsetDateTime::now_utc());
    let order = json!({"personal_id": BINH, "kind": "home", "starts_on": today.to_string(), "ends_on": (today + time::Duration::days(13)).to_string(), "case_id": case_id});
    let res = app
        .post_json("/api/v1/quarantines", Some(&health), &order)
        .await;
    assert_eq!(res.status(), 201);
    let order_id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let facility = json!({"personal_id": BINH, "kind": "facility", "starts_on": today.to_string(), "ends_on": today.to_string()});
    assert_error(
        app.post_json("/api/v1/quarantines", Some(&health), &facility)
            .await,
        422,
        "missing",
    )
    .await;
    let due = app
        .get_json(
            &format!(
                "/api/v1/quarantines?ending_by={}",
                today + time::Duration::days(14)
            ),
            Some(&police),
        )
        .await;
    assert_eq!(due.as_array().unwrap().len(), 1);
    let checkpoint = app.login("checkpoint_91").await;
    let status = app
        .get_json(
            &format!("/api/v1/citizens/{BINH}/status"),
            Some(&checkpoint),
        )
        .await;
    assert_eq!(status["health"]["quarantined"], true, "{status}");
    assert!(status["health"].get("case_id").is_none());
    assert!(
        status["health"].get("quarantine_ends_on").is_none(),
        "a checkpoint needs no more"
    );
    let full = app
        .get_json(&format!("/api/v1/citizens/{BINH}/status"), Some(&health))
        .await;
    assert_eq!(full["health"]["quarantine_kind"], "home");
    // The contact's commune learns who to follow up, not who the case was.
    let list = app.get_json("/api/v1/contacts", Some(&police)).await;
    let binh_seen = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["personal_id"] == BINH)
        .unwrap();
    assert!(
        binh_seen["via"].is_null() && binh_seen["evidence"][0]["source"] == "",
        "{binh_seen}"
    );
    let an_status = app
        .get_json(&format!("/api/v1/citizens/{AN}/status"), Some(&health))
        .await;
    assert_eq!(an_status["health"]["f0"], true);
    assert_eq!(an_status["health"]["case_id"], case_id);
    let released = app
        .post_value(
            &format!("/api/v1/quarantines/{order_id}/release"),
            Some(&health),
            &json!({}),
        )
        .await;
    assert_eq!(released["released_on"], today.to_string());
    let status = app
        .get_json(
            &format!("/api/v1/citizens/{BINH}/status"),
            Some(&checkpoint),
        )
        .await;
    assert_eq!(status["health"]["quarantined"], false);

    let recovered = app
        .post_value(
            &format!("/api/v1/cases/{case_id}/recover"),
            Some(&health),
            &json!({"recovered_on": today.to_string()}),
        )
        .await;
    assert_eq!(recovered["recovered_on"], today.to_string(), "{recovered}");
    let an_status = app
        .get_json(&format!("/api/v1/citizens/{AN}/status"), Some(&health))
        .await;
    assert_eq!(an_status["health"]["f0"], false);

    // Break-glass: a reason is required, and every use waits for review.
    assert_error(
        app.get(&format!("/api/v1/citizens/{BINH}/movements"), Some(&health))
            .await,
        422,
        "reason_required",
    )
    .await;
    let urgent = app
        .get_json(&format!("/api/v1/citizens/{BINH}/movements?reason=Cluster%20at%20the%20market%2C%20case%20not%20yet%20confirmed"), Some(&health))
        .await;
    assert_eq!(urgent["entries"].as_array().unwrap().len(), 2, "{urgent}");
    let admin = app.login("admin").await;
    let pending = app.get_json("/api/v1/break-glass", Some(&admin)).await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    let bg = pending[0]["id"].as_i64().unwrap();
    let reviewed = app
        .post_value(
            &format!("/api/v1/break-glass/{bg}/review"),
            Some(&admin),
            &json!({"verdict": "justified"}),
        )
        .await;
    assert_eq!(reviewed["verdict"], "justified");
    assert_error(
        app.get("/api/v1/break-glass", Some(&health)).await,
        403,
        "forbidden_role",
    )
    .await;
    let trail = app.store.audit_for_subject(BINH).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "trace.break_glass"));
    assert!(
        trail
            .iter()
            .any(|e| e.action == "trace.contacts.area" && e.purpose == case_id)
    );
}

vaxtrace_store::on_both_backends!(venues_posters_and_check_in, cases_trace_and_quarantine);
