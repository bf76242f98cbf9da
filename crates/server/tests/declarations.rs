//! Declarations over the API: checked against the registry, routed to the commune police
//! inboxes, answered with a 72-hour pass that checkpoints scan; outbreak areas; checkpoints.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;

use common::{BINH, TestApp, assert_error, install_keys, install_pass_signer, passphrase};
use serde_json::{Value, json};
use time::OffsetDateTime;
use vaxtrace_domain::PersonalId;
use vaxtrace_server::ServerConfig;
use vaxtrace_store::Backend;

async fn app(backend: Backend) -> Option<(TestApp, vaxtrace_cert::IssuedKey)> {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let app = common::spawn_app_with(backend, config).await?;
    install_keys(&app.store).await;
    let signer = install_pass_signer(&app.store).await;
    Some((app, signer))
}

fn today_plus(days: i64) -> String {
    let day =
        vaxtrace_domain::date::vietnam_day(OffsetDateTime::now_utc()) + time::Duration::days(days);
    day.to_string()
}

/// Trần Thị Bình (permanent 30733, temporary 30730) travelling from 30730 to Hà Nội (00004).
fn binh_declares() -> Value {
    json!({
        "personal_id": BINH, "full_name": "Trần Thị Bình", "birth_date": "1995-11-20", "sex": "F",
        "phone": "0912345678", "symptoms": ["cough"],
        "origin_commune_code": "30730", "origin_address": "Phòng trọ 5",
        "destination_commune_code": "00004", "destination_address": "1 Đinh Tiên Hoàng",
        "travel_date": today_plus(1), "transport": "bus", "vehicle": "68B-012.34",
        "purpose": "Thăm gia đình"
    })
}

async fn checkpoint(app: &TestApp) {
    let health = app.login("health_91").await;
    let body = json!({"code": "KG-RACHGIA-1", "name": "Chốt cửa ngõ Rạch Giá", "commune_code": "30730", "latitude": 10.01, "longitude": 105.08});
    assert_eq!(
        app.post_json("/api/v1/checkpoints", Some(&health), &body)
            .await
            .status(),
        200
    );
}

async fn declare_route_scan(backend: Backend) {
    let Some((app, _)) = app(backend).await else {
        return;
    };
    checkpoint(&app).await;
    let site = app.login("site_91").await;

    // Mismatches name the field, never the registry's value; nothing is stored.
    for (field, value, named) in [
        ("full_name", json!("Trần Thị Bính"), "full_name"),
        ("phone", json!("0987654321"), "phone"),
        ("personal_id", json!("091195000002"), "personal_id"),
    ] {
        let mut body = binh_declares();
        body[field] = value;
        let err = assert_error(
            app.post_json("/api/v1/declarations", Some(&site), &body)
                .await,
            422,
            "registry_mismatch",
        )
        .await;
        assert_eq!(err["field"], named);
        assert!(
            !err.to_string().contains("Bình\""),
            "no registry value leaks: {err}"
        );
    }
    let mut bad = binh_declares();
    bad["destination_commune_code"] = json!("99999");
    let err = assert_error(
        app.post_json("/api/v1/declarations", Some(&site), &bad)
            .await,
        422,
        "unknown_commune",
    )
    .await;
    assert_eq!(err["field"], "destination_commune_code");
    assert_error(
        app.post_json("/api/v1/declarations", None, &binh_declares())
            .await,
        401,
        "unauthenticated",
    )
    .await;
    let binh = PersonalId::parse(BINH).unwrap();
    assert!(
        app.store
            .declarations_for_citizen(binh)
            .await
            .unwrap()
            .is_empty()
    );

    let res = app
        .post_json("/api/v1/declarations", Some(&site), &binh_declares())
        .await;
    assert_eq!(res.status(), 201);
    let receipt: Value = res.json().await.unwrap();
    let pass = receipt["pass"].as_str().unwrap().to_owned();
    assert!(pass.starts_with("VNP1:"));
    assert!(!pass.contains(BINH) && receipt["pass_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(
        receipt["routed_to_police"], 3,
        "residences and destination, not named"
    );
    assert_eq!(receipt["health_risk"], true);

    // The inboxes: each commune sees its own, with why.
    let police = app.login("police_30730").await;
    let inbox = app
        .get_json("/api/v1/declarations/inbox", Some(&police))
        .await;
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox}");
    assert_eq!(inbox[0]["routes"], "temporary");
    assert_eq!(inbox[0]["details"]["vehicle"], "68B-012.34");
    assert!(
        inbox[0]["destination_name"]
            .as_str()
            .unwrap()
            .contains("Hà Nội")
    );
    let other = app.login("police_30733").await;
    assert_eq!(
        app.get_json("/api/v1/declarations/inbox", Some(&other))
            .await[0]["routes"],
        "permanent"
    );
    let far = app.login("police_00001").await;
    assert!(
        app.get_json("/api/v1/declarations/inbox", Some(&far))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_error(
        app.get(
            "/api/v1/declarations/inbox",
            Some(&app.login("health_91").await),
        )
        .await,
        403,
        "forbidden_role",
    )
    .await;
    let csv = app
        .get("/api/v1/declarations/inbox.csv?risk=true", Some(&police))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("declaration_id,") && csv.contains("Trần Thị Bình"),
        "{csv}"
    );
    let id = receipt["declaration_id"].as_i64().unwrap();
    let ack = app
        .post_value(
            "/api/v1/declarations/inbox/ack",
            Some(&police),
            &json!({"ids": [id]}),
        )
        .await;
    assert_eq!(ack["acknowledged"], 1);
    assert!(
        app.get_json("/api/v1/declarations/inbox?unread=true", Some(&police))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get_json("/api/v1/declarations/inbox?unread=true", Some(&other))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_error(
        app.get("/api/v1/declarations/inbox?from=yesterday", Some(&police))
            .await,
        422,
        "invalid_time",
    )
    .await;

    // The province sees counts for its communes only, never Hà Nội's.
    let counts = app
        .get_json(
            "/api/v1/declarations/counts",
            Some(&app.login("health_91").await),
        )
        .await;
    let communes: Vec<&str> = counts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commune_code"].as_str().unwrap())
        .collect();
    assert_eq!(communes, ["30730", "30733"]);

    // The checkpoint scans the pass, then the chip ID card.
    let officer = app.login("checkpoint_91").await;
    let scan = |body: Value| {
        let officer = officer.clone();
        let app = &app;
        async move {
            app.post_value("/api/v1/checkpoints/scan", Some(&officer), &body)
                .await
        }
    };
    let seen = scan(json!({"checkpoint": "KG-RACHGIA-1", "pass": pass})).await;
    assert_eq!(seen["verdict"], "valid", "{seen}");
    assert_eq!(
        (seen["full_name"].as_str(), seen["birth_year"].as_i64()),
        (Some("Trần Thị Bình"), Some(1995))
    );
    assert_eq!(
        (seen["id_hint"].as_str(), seen["vaccination"].as_str()),
        (Some("0001"), Some("none"))
    );
    assert_eq!(seen["health_risk"], true);
    assert!(seen["origin"].as_str().unwrap().contains("Kiên Giang"));

    let mut edited = pass.clone().into_bytes();
    let i = edited.len() - 10;
    edited[i] = if edited[i] == b'A' { b'B' } else { b'A' };
    let forged =
        scan(json!({"checkpoint": "KG-RACHGIA-1", "pass": String::from_utf8(edited).unwrap()}))
            .await;
    assert_eq!(forged["verdict"], "forged");
    assert!(
        forged["full_name"].is_null(),
        "a forged pass reveals nobody"
    );
    let card = format!("{BINH}||Trần Thị Bình|20111995|Nữ|5 Lê Lợi|01012021");
    assert_eq!(
        scan(json!({"checkpoint": "KG-RACHGIA-1", "chip_qr": card})).await["verdict"],
        "valid"
    );
    let forged_card = format!("{BINH}||Ai Đó|20111995|Nữ|x|01012021");
    let seen_forged = scan(json!({"checkpoint": "KG-RACHGIA-1", "chip_qr": forged_card})).await;
    assert_eq!(seen_forged["verdict"], "card_mismatch");
    assert!(
        seen_forged["full_name"].is_null(),
        "a made-up card reveals nobody"
    );
    let an_card = "091087123456||Nguyễn Văn An|09031987|Nam|12 Trần Phú|01012021";
    assert_eq!(
        scan(json!({"checkpoint": "KG-RACHGIA-1", "chip_qr": an_card})).await["verdict"],
        "no_declaration"
    );
    assert_error(
        app.post_json(
            "/api/v1/checkpoints/scan",
            Some(&officer),
            &json!({"checkpoint": "KG-RACHGIA-1"}),
        )
        .await,
        400,
        "pass_or_card",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/checkpoints/scan",
            Some(&officer),
            &json!({"checkpoint": "NOPE", "pass": pass}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/checkpoints/scan",
            Some(&site),
            &json!({"checkpoint": "KG-RACHGIA-1", "pass": pass}),
        )
        .await,
        403,
        "forbidden_role",
    )
    .await;

    // A checkpoint in Hà Nội is outside a Kiên Giang officer's area.
    let admin = app.login("admin").await;
    let hanoi = json!({"code": "HN-PHAPVAN", "name": "Trạm thu phí Pháp Vân – Cầu Giẽ", "commune_code": "00004"});
    assert_eq!(
        app.post_json("/api/v1/checkpoints", Some(&admin), &hanoi)
            .await
            .status(),
        200
    );
    assert_error(
        app.post_json(
            "/api/v1/checkpoints/scan",
            Some(&officer),
            &json!({"checkpoint": "HN-PHAPVAN", "pass": pass}),
        )
        .await,
        403,
        "outside_jurisdiction",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/checkpoints",
            Some(&app.login("health_01").await),
            &json!({"code": "X", "name": "X", "commune_code": "30730"}),
        )
        .await,
        403,
        "outside_jurisdiction",
    )
    .await;

    // Revoked: the pass stops working at once.
    let revoke = format!("/api/v1/declarations/{id}/revoke");
    assert_error(
        app.post_json(&revoke, Some(&officer), &json!({})).await,
        403,
        "forbidden_role",
    )
    .await;
    let out = app
        .post_value(&revoke, Some(&app.login("health_91").await), &json!({}))
        .await;
    assert_eq!(out["revoked"], true);
    let health = app.login("health_91").await;
    assert_error(
        app.post_json(
            "/api/v1/declarations/999999/revoke",
            Some(&health),
            &json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        scan(json!({"checkpoint": "KG-RACHGIA-1", "pass": pass})).await["verdict"],
        "revoked"
    );
    assert_eq!(
        app.store.scans_for_citizen(binh).await.unwrap().len(),
        4,
        "every scan with an identity is kept"
    );
    let audit = app.store.audit_for_subject(BINH).await.unwrap();
    for action in [
        "declaration.refused",
        "declaration.submit",
        "declaration.inbox.read",
        "checkpoint.scan",
        "declaration.revoke",
    ] {
        assert!(audit.iter().any(|a| a.action == action), "{action}");
    }
}

async fn outbreak_areas_flag_arrivals(backend: Backend) {
    let Some((app, _)) = app(backend).await else {
        return;
    };
    let health = app.login("health_91").await;
    let area =
        json!({"unit_code": "30730", "starts_on": today_plus(-3), "ends_on": today_plus(10)});
    assert_eq!(
        app.post_json("/api/v1/outbreak-areas", Some(&health), &area)
            .await
            .status(),
        200
    );
    let outside =
        json!({"unit_code": "00004", "starts_on": today_plus(0), "ends_on": today_plus(1)});
    assert_error(
        app.post_json("/api/v1/outbreak-areas", Some(&health), &outside)
            .await,
        403,
        "outside_jurisdiction",
    )
    .await;
    let backwards =
        json!({"unit_code": "30730", "starts_on": today_plus(2), "ends_on": today_plus(1)});
    assert_error(
        app.post_json("/api/v1/outbreak-areas", Some(&health), &backwards)
            .await,
        422,
        "invalid_period",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/outbreak-areas",
            Some(&app.login("police_30730").await),
            &area,
        )
        .await,
        403,
        "forbidden_role",
    )
    .await;
    assert_eq!(
        app.get_json("/api/v1/outbreak-areas", Some(&health))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let site = app.login("site_91").await;
    let mut calm = binh_declares();
    calm["symptoms"] = json!([]);
    let receipt = app
        .post_value("/api/v1/declarations", Some(&site), &calm)
        .await;
    assert_eq!(
        (
            receipt["from_outbreak"].as_bool(),
            receipt["health_risk"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let police = app.login("police_30733").await;
    let flagged = app
        .get_json(
            "/api/v1/declarations/inbox?outbreak=true&origin_province=91",
            Some(&police),
        )
        .await;
    assert_eq!(flagged.as_array().unwrap().len(), 1);
    assert!(
        app.get_json("/api/v1/declarations/inbox?risk=true", Some(&police))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_error(
        app.get(
            "/api/v1/declarations/inbox?origin_province=99",
            Some(&police),
        )
        .await,
        422,
        "unknown_province",
    )
    .await;
}

async fn expired_and_foreign_passes(backend: Backend) {
    let Some((app, signer)) = app(backend).await else {
        return;
    };
    checkpoint(&app).await;
    let receipt = app
        .post_value(
            "/api/v1/declarations",
            Some(&app.login("site_91").await),
            &binh_declares(),
        )
        .await;
    let id = receipt["declaration_id"].as_i64().unwrap();
    let stored = app.store.declaration(id).await.unwrap().unwrap();
    let key = vaxtrace_cert::SigningKey::unlock(&signer, &passphrase()).unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = vaxtrace_cert::pass::PassClaims {
        declaration_id: id,
        subject: stored.subject_ref,
        issued_at: now - 80 * 3600,
        expires_at: now - 8 * 3600,
    };
    let old = vaxtrace_cert::pass::sign_pass(&claims, &key).unwrap();
    let officer = app.login("checkpoint_91").await;
    let verdict = app
        .post_value(
            "/api/v1/checkpoints/scan",
            Some(&officer),
            &json!({"checkpoint": "KG-RACHGIA-1", "pass": old}),
        )
        .await;
    assert_eq!(verdict["verdict"], "expired");
    // A pass naming this declaration but another subject is not ours.
    let wrong_subject = vaxtrace_cert::pass::sign_pass(
        &vaxtrace_cert::pass::PassClaims {
            subject: [0; 8],
            issued_at: now - 60,
            expires_at: now + 3600,
            ..claims
        },
        &key,
    )
    .unwrap();
    let verdict = app
        .post_value(
            "/api/v1/checkpoints/scan",
            Some(&officer),
            &json!({"checkpoint": "KG-RACHGIA-1", "pass": wrong_subject}),
        )
        .await;
    assert_eq!(verdict["verdict"], "forged");
}

async fn imported_people_get_a_pass_without_declaring(backend: Backend) {
    let Some((app, _)) = app(backend).await else {
        return;
    };
    checkpoint(&app).await;
    let mut input: vaxtrace_domain::DeclarationInput =
        serde_json::from_value(binh_declares()).unwrap();
    input.personal_id = String::new(); // the old app knew her phone only
    input.full_name = "Tran Thi Binh".into();
    let item = vaxtrace_server::legacy::LegacyDeclaration {
        source: "ncovi",
        source_ref: "NC-77".into(),
        declared_at: OffsetDateTime::now_utc() - time::Duration::days(5),
        input,
    };
    let outcome = vaxtrace_server::legacy::import_one(app.store.as_ref(), item.clone(), "import")
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            vaxtrace_server::legacy::LegacyOutcome::Imported { .. }
        ),
        "{outcome:?}"
    );
    assert_eq!(
        vaxtrace_server::legacy::import_one(app.store.as_ref(), item, "import")
            .await
            .unwrap(),
        vaxtrace_server::legacy::LegacyOutcome::AlreadyImported
    );
    // Its own 72 hours have passed; the police already have it in their inbox.
    let police = app.login("police_30733").await;
    assert_eq!(
        app.get_json("/api/v1/declarations/inbox", Some(&police))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let site = app.login("site_91").await;
    let who = json!({"personal_id": BINH, "full_name": "Trần Thị Bình", "birth_date": "1995-11-20", "phone": "0912345678"});
    // What is printed on the card is not enough: the registry holds her phone.
    let card_only =
        json!({"personal_id": BINH, "full_name": "Trần Thị Bình", "birth_date": "1995-11-20"});
    assert_error(
        app.post_json("/api/v1/declarations/pass", Some(&site), &card_only)
            .await,
        422,
        "registry_mismatch",
    )
    .await;
    let wrong =
        json!({"personal_id": BINH, "full_name": "Trần Thị Bính", "birth_date": "1995-11-20"});
    assert_error(
        app.post_json("/api/v1/declarations/pass", Some(&site), &wrong)
            .await,
        422,
        "registry_mismatch",
    )
    .await;
    let unknown = json!({"personal_id": "091087123456", "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09", "phone": "0912345678"});
    assert_error(
        app.post_json("/api/v1/declarations/pass", Some(&site), &unknown)
            .await,
        404,
        "not_found",
    )
    .await;
    let receipt = app
        .post_value("/api/v1/declarations/pass", Some(&site), &who)
        .await;
    let pass = receipt["pass"]
        .as_str()
        .unwrap_or_else(|| panic!("{receipt}"));
    let officer = app.login("checkpoint_91").await;
    let seen = app
        .post_value(
            "/api/v1/checkpoints/scan",
            Some(&officer),
            &json!({"checkpoint": "KG-RACHGIA-1", "pass": pass}),
        )
        .await;
    assert_eq!(seen["verdict"], "valid", "{seen}");
    assert_eq!(seen["full_name"], "Trần Thị Bình");
}

async fn declarations_need_a_pass_signer(backend: Backend) {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let Some(app) = common::spawn_app_with(backend, config).await else {
        return;
    };
    install_keys(&app.store).await;
    assert_error(
        app.post_json(
            "/api/v1/declarations",
            Some(&app.login("site_91").await),
            &binh_declares(),
        )
        .await,
        503,
        "pass_signing_unavailable",
    )
    .await;
    assert!(
        app.store
            .declarations_for_citizen(PersonalId::parse(BINH).unwrap())
            .await
            .unwrap()
            .is_empty(),
        "nothing half-written"
    );
}

vaxtrace_store::on_both_backends!(
    declare_route_scan,
    outbreak_areas_flag_arrivals,
    expired_and_foreign_passes,
    imported_people_get_a_pass_without_declaring,
    declarations_need_a_pass_signer,
);
