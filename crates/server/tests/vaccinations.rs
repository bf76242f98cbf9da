//! The vaccination API end to end: recording shots, the review queue, signing, signature checks and
//! status, on both backends.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;

use common::{
    AN, assert_error, install_keys, passphrase, shot, sign_all_pending, spawn_app, spawn_app_with,
};
use serde_json::{Value, json};
use vaxtrace_server::ServerConfig;
use vaxtrace_store::Backend;

async fn signing_app(backend: Backend) -> Option<common::TestApp> {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let app = spawn_app_with(backend, config).await?;
    let _dsc = install_keys(&app.store).await;
    Some(app)
}

async fn sites_record_shots_idempotently(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let site = app.login("site_91").await;
    let res = app
        .post_json(
            "/api/v1/vaccinations",
            Some(&site),
            &shot("A-1", 1, "2021-07-01T09:00:00+07:00"),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["outcome"].as_str(), body["decision"].as_str()),
        (Some("inserted"), Some("auto"))
    );
    let id = body["id"].as_i64().unwrap();

    let again = app
        .post_json(
            "/api/v1/vaccinations",
            Some(&site),
            &shot("A-1", 1, "2021-07-01T09:00:00+07:00"),
        )
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["id"].as_i64(), again["outcome"].as_str()),
        (Some(id), Some("replayed"))
    );

    let mut changed = shot("A-1", 1, "2021-07-01T09:00:00+07:00");
    changed["lot"] = json!("OTHER");
    let body = assert_error(
        app.post_json("/api/v1/vaccinations", Some(&site), &changed)
            .await,
        409,
        "replayed_with_different_content",
    )
    .await;
    assert_eq!(body["field"], "source_record_id");

    let mut bad = shot("A-2", 1, "2021-07-01T09:00:00+07:00");
    bad["vaccine_code"] = json!("XYZ");
    let body = assert_error(
        app.post_json("/api/v1/vaccinations", Some(&site), &bad)
            .await,
        422,
        "unknown_vaccine",
    )
    .await;
    assert_eq!(body["field"], "vaccine_code");
    for (bad, code) in [
        (shot("A-3", 1, "2099-01-01T09:00:00+07:00"), "future_date"),
        (
            shot("A-4", 1, "2020-01-01T09:00:00+07:00"),
            "before_vaccine_available",
        ),
        (
            shot("A-5", 9, "2021-07-01T09:00:00+07:00"),
            "dose_out_of_range",
        ),
    ] {
        let res = app
            .post_json("/api/v1/vaccinations", Some(&site), &bad)
            .await;
        assert_error(res, 422, code).await;
    }
    let mut elsewhere = shot("A-6", 1, "2021-07-01T09:00:00+07:00");
    elsewhere["commune_code"] = json!("00001");
    assert_error(
        app.post_json("/api/v1/vaccinations", Some(&site), &elsewhere)
            .await,
        403,
        "outside_jurisdiction",
    )
    .await;
    let police = app.login("police_30730").await;
    assert_error(
        app.post_json(
            "/api/v1/vaccinations",
            Some(&police),
            &shot("A-7", 1, "2021-07-01T09:00:00+07:00"),
        )
        .await,
        403,
        "forbidden_role",
    )
    .await;
    assert_eq!(
        app.store.link_page(0, 100).await.unwrap().len(),
        1,
        "nothing but the first shot was stored"
    );
}

async fn noisy_records_are_reviewed_in_their_commune(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let site = app.login("site_91").await;
    // No ID, no accents, day and month swapped: plausible, not certain.
    let noisy = json!({
        "source": "legacy-so-tay", "source_record_id": "ST-9", "full_name": "Nguyen Van An",
        "birth_date": "1987-09-03", "sex": "M", "commune_code": "30730",
        "vaccine_code": "AZ", "dose_number": "1", "administered_at": "2021-07-01 09:00", "site_code": "KG-TYT-30730"
    });
    let res = app
        .post_json("/api/v1/vaccinations", Some(&site), &noisy)
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["decision"], "review", "{body}");
    let id = body["id"].as_i64().unwrap();

    let health = app.login("health_30730").await;
    let queue: Value = app
        .get_json("/api/v1/vaccinations/queue", Some(&health))
        .await;
    assert_eq!(
        queue
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [id]
    );
    let other = app.login("police_30733").await;
    let queue: Value = app
        .get_json("/api/v1/vaccinations/queue", Some(&other))
        .await;
    assert!(
        queue.as_array().unwrap().is_empty(),
        "another commune's officer sees nothing"
    );
    assert_error(
        app.get(&format!("/api/v1/vaccinations/{id}"), Some(&other))
            .await,
        403,
        "outside_jurisdiction",
    )
    .await;

    let detail: Value = app
        .get_json(&format!("/api/v1/vaccinations/{id}"), Some(&health))
        .await;
    let first = &detail["candidates"][0];
    assert_eq!(first["citizen"]["personal_id"], AN);
    let fields = first["evidence"]["fields"].as_array().unwrap();
    let agreement = |f: &str| {
        fields.iter().find(|x| x["field"] == f).unwrap()["agreement"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(agreement("birth_date"), "close");
    assert_eq!(agreement("full_name"), "close");

    let link =
        json!({"action": "link", "personal_id": AN, "reason": "Đối chiếu sổ tiêm", "version": 1});
    let linked: Value = app
        .post_value(
            &format!("/api/v1/vaccinations/{id}/review"),
            Some(&health),
            &link,
        )
        .await;
    assert_eq!(
        (linked["decision"].as_str(), linked["version"].as_i64()),
        (Some("confirmed"), Some(2))
    );
    assert_error(
        app.post_json(
            &format!("/api/v1/vaccinations/{id}/review"),
            Some(&health),
            &link,
        )
        .await,
        409,
        "stale_version",
    )
    .await;
    let no_reason = json!({"action": "reject", "reason": " ", "version": 2});
    assert_error(
        app.post_json(
            &format!("/api/v1/vaccinations/{id}/review"),
            Some(&health),
            &no_reason,
        )
        .await,
        422,
        "missing",
    )
    .await;
    let fix = json!({"action": "correct", "correction": {"birth_date": "1987-03-09", "full_name": "Nguyễn Văn An"}, "reason": "Sửa theo CCCD", "version": 2});
    let fixed: Value = app
        .post_value(
            &format!("/api/v1/vaccinations/{id}/review"),
            Some(&health),
            &fix,
        )
        .await;
    assert_eq!(
        (fixed["birth_date"].as_str(), fixed["version"].as_i64()),
        (Some("1987-03-09"), Some(3))
    );
    let bad_fix = json!({"action": "correct", "correction": {"birth_date": "1987-13-40"}, "reason": "x", "version": 3});
    assert_error(
        app.post_json(
            &format!("/api/v1/vaccinations/{id}/review"),
            Some(&health),
            &bad_fix,
        )
        .await,
        422,
        "invalid_date",
    )
    .await;
    let detail: Value = app
        .get_json(&format!("/api/v1/vaccinations/{id}"), Some(&health))
        .await;
    let history: Vec<_> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(history, ["link", "correct"]);
    assert_eq!(detail["history"][0]["actor"], "health_30730");

    let audit = app.store.audit_for_subject(AN).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "vaccination.review.link" && a.actor == "health_30730")
    );
}

async fn signing_makes_status_and_corrections_void_it(backend: Backend) {
    let Some(app) = signing_app(backend).await else {
        return;
    };
    let site = app.login("site_91").await;
    for (rid, dose, at) in [
        ("D-1", 1, "2021-07-01T09:00:00+07:00"),
        ("D-2", 2, "2021-09-01T09:00:00+07:00"),
    ] {
        assert_eq!(
            app.post_json("/api/v1/vaccinations", Some(&site), &shot(rid, dose, at))
                .await
                .status(),
            201
        );
    }
    let health = app.login("health_91").await;
    let status: Value = app
        .get_json(&format!("/api/v1/citizens/{AN}/status"), Some(&health))
        .await;
    assert_eq!(status["colour"], "none", "unsigned records do not count");
    assert_eq!(status["details"]["awaiting_signature"], 2);

    let signer = app.login("signer_30730").await;
    let (items, _) = sign_all_pending(&app, &signer, 2).await;
    let first = items[0]["id"].as_i64().unwrap();

    let status: Value = app
        .get_json(&format!("/api/v1/citizens/{AN}/status"), Some(&health))
        .await;
    assert_eq!(
        (status["colour"].as_str(), status["rule_version"].as_str()),
        (Some("green"), Some("VN-2022.1"))
    );
    assert_eq!(status["details"]["doses"].as_array().unwrap().len(), 2);
    let check: Value = app
        .get_json(
            &format!("/api/v1/vaccinations/{first}/signature"),
            Some(&health),
        )
        .await;
    assert_eq!(
        (check["valid"].as_bool(), check["signer_unit"].as_str()),
        (Some(true), Some("30730")),
        "{check}"
    );
    assert_eq!(check["chain"].as_array().unwrap().len(), 3);

    // A checkpoint sees the colour only.
    let checkpoint = app.login("checkpoint_91").await;
    let colour: Value = app
        .get_json(&format!("/api/v1/citizens/{AN}/status"), Some(&checkpoint))
        .await;
    assert_eq!(colour["colour"], "green");
    assert!(colour.get("details").is_none(), "{colour}");
    let qr = format!("{AN}|371234567|Nguyễn Văn An|09031987|Nam|12 Trần Phú|15072021");
    let by_qr: Value = app
        .post_value(
            "/api/v1/citizens/status-by-qr",
            Some(&checkpoint),
            &json!({"qr": qr}),
        )
        .await;
    assert_eq!(by_qr["colour"], "green");

    // A correction voids the signature; the status follows at once.
    let officer = app.login("health_30730").await;
    let fix = json!({"action": "correct", "correction": {"lot": "ABV999"}, "reason": "Sai số lô", "version": 1});
    assert_eq!(
        app.post_json(
            &format!("/api/v1/vaccinations/{first}/review"),
            Some(&officer),
            &fix
        )
        .await
        .status(),
        200
    );
    let check: Value = app
        .get_json(
            &format!("/api/v1/vaccinations/{first}/signature"),
            Some(&health),
        )
        .await;
    assert_eq!(
        (check["valid"].as_bool(), check["problem"].as_str()),
        (Some(false), Some("changed_since_signing"))
    );
    let status: Value = app
        .get_json(&format!("/api/v1/citizens/{AN}/status"), Some(&health))
        .await;
    assert_eq!(status["colour"], "yellow");
    let pending: Value = app.get_json("/api/v1/signing/pending", Some(&signer)).await;
    assert_eq!(pending.as_array().unwrap().len(), 1);

    // A signature over a version that changed since listing is refused.
    let stale_sign = json!({"items": [{"id": first, "version": 1}]});
    let out: Value = app
        .post_value("/api/v1/signing/sign", Some(&signer), &stale_sign)
        .await;
    assert_eq!(
        out["skipped"].as_array().unwrap().len(),
        1,
        "a version changed since listing is not signed"
    );
    assert_error(
        app.get("/api/v1/signing/pending", Some(&health)).await,
        403,
        "forbidden_role",
    )
    .await;
}

async fn a_shot_for_a_deceased_citizen_is_never_auto_linked(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut an = app
        .store
        .citizen(vaxtrace_domain::PersonalId::parse(AN).unwrap())
        .await
        .unwrap()
        .unwrap();
    an.status = vaxtrace_domain::LifeStatus::Deceased;
    app.store.upsert_citizens(vec![an]).await.unwrap();
    let site = app.login("site_91").await;
    let res = app
        .post_json(
            "/api/v1/vaccinations",
            Some(&site),
            &shot("X-1", 2, "2021-09-01T09:00:00+07:00"),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["decision"], "review", "{body}");
    let health = app.login("health_30730").await;
    let detail: Value = app
        .get_json(
            &format!("/api/v1/vaccinations/{}", body["id"]),
            Some(&health),
        )
        .await;
    assert_eq!(detail["notes"], json!(["citizen_deceased"]));
}

async fn signing_needs_a_key_and_a_passphrase(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let signer = app.login("signer_30730").await;
    assert_error(
        app.post_json("/api/v1/signing/sign", Some(&signer), &json!({"items": []}))
            .await,
        503,
        "signing_unavailable",
    )
    .await;
}

vaxtrace_store::on_both_backends!(
    sites_record_shots_idempotently,
    noisy_records_are_reviewed_in_their_commune,
    signing_makes_status_and_corrections_void_it,
    signing_needs_a_key_and_a_passphrase,
    a_shot_for_a_deceased_citizen_is_never_auto_linked,
);
