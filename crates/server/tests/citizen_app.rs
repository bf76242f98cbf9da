//! The citizen app end to end over HTTP on both backends: sign-up checked against the registry,
//! one-time codes from the outbox (wrong, locked, rate-limited), household members, the health
//! card with certificate and pass, history and correction requests, the privacy page, and an
//! officer re-binding a lost phone.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{
    AN, BINH, TestApp, assert_error, install_keys, install_pass_signer, passphrase, spawn_app_with,
};
use serde_json::{Value, json};
use vaxtrace_server::ServerConfig;
use vaxtrace_server::sms::OutboxSms;
use vaxtrace_store::Backend;
use vaxtrace_store::testing::citizen;

/// An's son, in An's registry household.
const BAO: &str = "091215000007";
const PHONE: &str = "0912345678";

async fn spawn(backend: Backend) -> Option<(TestApp, PathBuf, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("sms-outbox.jsonl");
    let config = ServerConfig {
        sms: Arc::new(OutboxSms::new(outbox.clone())),
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let app = spawn_app_with(backend, config).await?;
    let mut an = citizen(AN, "Nguyễn Văn An", "1987-03-09", "M", "30730");
    an.household_id = Some("HH-30730-1".into());
    let mut bao = citizen(BAO, "Nguyễn Văn Bảo", "2015-06-01", "M", "30730");
    bao.household_id = Some("HH-30730-1".into());
    app.store.upsert_citizens(vec![an, bao]).await.unwrap();
    Some((app, outbox, dir))
}

/// The code of the latest text sent to `phone`: the only six-digit run in it.
fn last_code(outbox: &Path, phone: &str) -> String {
    let text = std::fs::read_to_string(outbox).unwrap();
    let line: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .rfind(|l| l["to"] == phone)
        .expect("a text to the phone");
    let body = line["text"].as_str().unwrap();
    let digits: Vec<&str> = body
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() == 6)
        .collect();
    assert_eq!(digits.len(), 1, "{body}");
    digits[0].to_owned()
}

/// Types a code against a challenge.
async fn verify(app: &TestApp, sent: &Value, code: &str) -> reqwest::Response {
    let body = json!({"challenge_id": sent["challenge_id"], "code": code});
    app.post_json("/api/v1/citizen/verify", None, &body).await
}

/// Asks for a log-in code for An.
async fn log_in(app: &TestApp, phone: &str) -> reqwest::Response {
    let body = json!({"personal_id": AN, "phone": phone});
    app.post_json("/api/v1/citizen/login", None, &body).await
}

async fn sign_up(app: &TestApp, outbox: &Path) -> String {
    let sent = app
        .post_json(
            "/api/v1/citizen/signup",
            None,
            &json!({"personal_id": AN, "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09", "phone": PHONE}),
        )
        .await;
    assert_eq!(sent.status(), 202);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["sent_to"], "*******678");
    assert_eq!(sent["delivery"], "outbox");
    let code = last_code(outbox, PHONE);
    let session = verify(app, &sent, &code)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(session["role"], "citizen", "{session}");
    assert_eq!(session["personal_id"], AN);
    session["token"].as_str().unwrap().to_owned()
}

async fn sign_up_checks_the_registry_and_codes(backend: Backend) {
    let Some((app, outbox, _dir)) = spawn(backend).await else {
        return;
    };
    // Someone else's ID (Bình's, with An's name and birth date). Which field disagrees is not said
    // on this public endpoint; nothing is stored or sent, and the audit log has the detail.
    let res = app
        .post_json(
            "/api/v1/citizen/signup",
            None,
            &json!({"personal_id": BINH, "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09", "phone": "0987000111"}),
        )
        .await;
    let body = assert_error(res, 422, "identity_mismatch").await;
    assert_eq!(
        body["fields"],
        json!(["personal_id", "full_name", "birth_date"])
    );
    assert!(!outbox.exists(), "no code was sent");
    assert!(
        app.store
            .citizen_account(vaxtrace_domain::PersonalId::parse(BINH).unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let audit = app.store.audit_for_subject(BINH).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "citizen_app.signup.refused"
                && e.detail.as_deref() == Some("mismatch:full_name,birth_date"))
    );

    // A wrong code first: the attempts left are told, then the right code opens a session.
    let sent = app
        .post_value(
            "/api/v1/citizen/signup",
            None,
            &json!({"personal_id": AN, "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09", "phone": PHONE}),
        )
        .await;
    let code = last_code(&outbox, PHONE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = verify(&app, &sent, wrong).await;
    assert_eq!(
        assert_error(res, 422, "wrong_code").await["attempts_left"],
        4
    );
    let session = verify(&app, &sent, &code)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    // The code is spent.
    let res = verify(&app, &sent, &code).await;
    assert_error(res, 410, "expired").await;

    let me = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["role"], "citizen");
    // A citizen reads no one's registry record, not even through officer endpoints.
    let res = app
        .get(&format!("/api/v1/citizens/{AN}"), Some(&token))
        .await;
    assert_error(res, 403, "forbidden_role").await;
    // A second sign-up for the same ID is refused.
    let res = app
        .post_json(
            "/api/v1/citizen/signup",
            None,
            &json!({"personal_id": AN, "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09", "phone": "0987000111"}),
        )
        .await;
    assert_error(res, 409, "account_exists").await;

    // Log-in needs the bound phone; five wrong codes lock the challenge, even for the right code.
    let res = log_in(&app, "0987000111").await;
    assert_error(res, 422, "no_account").await;
    let sent = app
        .post_value(
            "/api/v1/citizen/login",
            None,
            &json!({"personal_id": AN, "phone": PHONE}),
        )
        .await;
    let code = last_code(&outbox, PHONE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let res = verify(&app, &sent, wrong).await;
        assert_eq!(
            assert_error(res, 422, "wrong_code").await["attempts_left"],
            left
        );
    }
    for attempt in [wrong, code.as_str()] {
        let res = verify(&app, &sent, attempt).await;
        assert_error(res, 429, "locked").await;
    }
    // Three attempts for one person in 15 minutes, no more: a sign-up, the refused log-in (refusals
    // count, so guessing is as slow as asking) and a log-in so far.
    let res = log_in(&app, PHONE).await;
    assert_error(res, 429, "too_many_codes").await;
    let res = app
        .post_json(
            "/api/v1/citizen/verify",
            None,
            &json!({"challenge_id": "not-a-challenge", "code": "12345"}),
        )
        .await;
    assert_error(res, 422, "invalid_code").await;
}

async fn a_household_is_managed_from_one_account(backend: Backend) {
    let Some((app, outbox, _dir)) = spawn(backend).await else {
        return;
    };
    let token = sign_up(&app, &outbox).await;
    let people = app.get_json("/api/v1/me/people", Some(&token)).await;
    assert_eq!(people.as_array().unwrap().len(), 1);
    assert_eq!(people[0]["relation"], "self");

    // Bình is not in An's household; a wrong birth date is named; then Bảo joins.
    let add = |id: &str, name: &str, birth: &str| json!({"personal_id": id, "full_name": name, "birth_date": birth, "relation": "child"});
    let res = app
        .post_json(
            "/api/v1/me/people",
            Some(&token),
            &add(BINH, "Trần Thị Bình", "1995-11-20"),
        )
        .await;
    assert_error(res, 422, "not_household").await;
    let res = app
        .post_json(
            "/api/v1/me/people",
            Some(&token),
            &add(BAO, "Nguyễn Văn Bảo", "2015-06-02"),
        )
        .await;
    assert_eq!(
        assert_error(res, 422, "identity_mismatch").await["fields"],
        json!(["birth_date"])
    );
    let res = app
        .post_json(
            "/api/v1/me/people",
            Some(&token),
            &add(BAO, "Nguyễn Văn Bảo", "2015-06-01"),
        )
        .await;
    assert_eq!(res.status(), 201);
    let people = app.get_json("/api/v1/me/people", Some(&token)).await;
    let ids: Vec<_> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["personal_id"].clone())
        .collect();
    assert_eq!(ids, [json!(AN), json!(BAO)]);

    let card = app
        .get_json(&format!("/api/v1/me/card?person={BAO}"), Some(&token))
        .await;
    assert_eq!(card["person"]["full_name"], "Nguyễn Văn Bảo");
    assert_eq!(card["status"]["colour"], "none");
    assert!(
        card["certificate"].is_null() && card["certificate_note_en"].is_string(),
        "{card}"
    );
    // Not managed: refused, for the card and for acting on their behalf.
    let res = app
        .get(&format!("/api/v1/me/card?person={BINH}"), Some(&token))
        .await;
    assert_error(res, 403, "not_your_household").await;
    let res = app
        .post_json(
            "/api/v1/declarations/pass",
            Some(&token),
            &json!({"personal_id": BINH, "full_name": "Trần Thị Bình", "birth_date": "1995-11-20"}),
        )
        .await;
    assert_error(res, 403, "not_your_household").await;
    let audit = app.store.audit_for_subject(BINH).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "citizen_app.not_managed"));

    // Bảo moves out of An's household in the registry: An no longer sees his card; back in, he does.
    let card_of_bao = format!("/api/v1/me/card?person={BAO}");
    let mut bao = citizen(BAO, "Nguyễn Văn Bảo", "2015-06-01", "M", "30730");
    bao.household_id = Some("HH-30730-2".into());
    app.store.upsert_citizens(vec![bao.clone()]).await.unwrap();
    assert_error(
        app.get(&card_of_bao, Some(&token)).await,
        403,
        "not_your_household",
    )
    .await;
    bao.household_id = Some("HH-30730-1".into());
    app.store.upsert_citizens(vec![bao]).await.unwrap();
    assert_eq!(app.get(&card_of_bao, Some(&token)).await.status(), 200);
    // Removed, he is gone; the holder cannot be removed.
    let remove = |id: &str| format!("/api/v1/me/people/{id}/remove");
    let res = app.post_json(&remove(BAO), Some(&token), &json!({})).await;
    assert_eq!(res.status(), 204);
    assert_error(
        app.get(&card_of_bao, Some(&token)).await,
        403,
        "not_your_household",
    )
    .await;
    let res = app.post_json(&remove(AN), Some(&token), &json!({})).await;
    assert_error(res, 403, "not_your_household").await;
    assert_eq!(
        app.get_json("/api/v1/me/people", Some(&token))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Officers have no `me` pages.
    let officer = app.login("police_30730").await;
    let res = app.get("/api/v1/me/card", Some(&officer)).await;
    assert_error(res, 403, "forbidden_role").await;
}

async fn the_card_history_corrections_and_privacy(backend: Backend) {
    let Some((app, outbox, _dir)) = spawn(backend).await else {
        return;
    };
    install_keys(&app.store).await;
    install_pass_signer(&app.store).await;
    common::record_and_sign_two_doses(&app).await;

    let card = vaxtrace_store::InsuranceCard {
        personal_id: vaxtrace_domain::PersonalId::parse(AN).unwrap(),
        card_number: "DN4910123456789".into(),
        valid_from: Some("2021-01-01".into()),
        valid_to: Some("2021-12-31".into()),
        source: "bhxh-2021-11".into(),
    };
    let now = time::OffsetDateTime::now_utc();
    app.store
        .upsert_insurance_cards(vec![card], now)
        .await
        .unwrap();

    let token = sign_up(&app, &outbox).await;
    let card = app.get_json("/api/v1/me/card", Some(&token)).await;
    assert_eq!(card["status"]["colour"], "green", "{card}");
    assert_eq!(card["insurance"]["card_number"], "DN4910123456789");
    let fhir = app.get("/api/v1/me/fhir", Some(&token)).await;
    assert_eq!(fhir.headers()["content-type"], "application/fhir+json");
    let bundle: Value = serde_json::from_str(&fhir.text().await.unwrap()).unwrap();
    let patient = &bundle["entry"][0]["resource"];
    assert_eq!(patient["resourceType"], "Patient");
    assert!(
        patient["identifier"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["value"] == "DN4910123456789"),
        "{patient}"
    );
    assert!(!card["status"]["rule_vi"].as_str().unwrap().is_empty());
    assert_eq!(card["doses"].as_array().unwrap().len(), 2);
    assert!(
        card["certificate"]["hc1"]
            .as_str()
            .unwrap()
            .starts_with("HC1:")
    );
    assert!(card["pass"].is_null(), "no declaration yet");
    let res = app
        .post_json("/api/v1/me/pass", Some(&token), &json!({}))
        .await;
    assert_error(res, 404, "not_found").await;
    // An declares in the app; the card shows the pass, and a fresh one is a tap away later.
    let travel = vaxtrace_domain::date::vietnam_day(time::OffsetDateTime::now_utc())
        + time::Duration::days(1);
    let declaration = json!({
        "personal_id": AN, "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09", "sex": "M",
        "phone": "0912345678", "symptoms": [],
        "origin_commune_code": "30730", "origin_address": "12 Trần Phú",
        "destination_commune_code": "00004", "destination_address": "1 Đinh Tiên Hoàng",
        "travel_date": travel.to_string(), "transport": "bus", "vehicle": "68B-012.34",
        "purpose": "Thăm gia đình"
    });
    let res = app
        .post_json("/api/v1/declarations", Some(&token), &declaration)
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let card = app.get_json("/api/v1/me/card", Some(&token)).await;
    assert!(
        card["pass"]["pass"].as_str().unwrap().starts_with("VNP1:"),
        "{card}"
    );
    let renewed = app
        .post_value("/api/v1/me/pass", Some(&token), &json!({}))
        .await;
    assert_eq!(renewed["declaration_id"], card["pass"]["declaration_id"]);
    let page = app.get("/api/v1/me/certificate.html", Some(&token)).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Nguyễn Văn An"));

    let history = app.get_json("/api/v1/me/history", Some(&token)).await;
    let first = history["vaccinations"][0]["id"].as_i64().unwrap();
    let res = app
        .post_json(
            "/api/v1/me/corrections",
            Some(&token),
            &json!({"vaccination_id": first, "message": "Sai số lô vắc xin"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post_json(
            "/api/v1/me/corrections",
            Some(&token),
            &json!({"vaccination_id": first + 1000, "message": "Không phải của tôi"}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    // Three open requests per record at most.
    for n in 2..=4 {
        let res = app
            .post_json(
                "/api/v1/me/corrections",
                Some(&token),
                &json!({"vaccination_id": first, "message": format!("Lần {n}")}),
            )
            .await;
        if n < 4 {
            assert_eq!(res.status(), 201);
        } else {
            assert_error(res, 422, "too_many_requests").await;
        }
    }
    let history = app.get_json("/api/v1/me/history", Some(&token)).await;
    assert_eq!(history["corrections"].as_array().unwrap().len(), 3);
    assert!(
        history["corrections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["message"] == "Sai số lô vắc xin")
    );
    assert!(history["tests"].is_array());
    assert_eq!(history["corrections"][0]["handled"], false);
    // The request waits in the commune's review queue, as one filed at the office.
    let health = app.login("health_30730").await;
    let filed = app
        .get_json(
            &format!("/api/v1/vaccinations/{first}/correction-requests"),
            Some(&health),
        )
        .await;
    assert_eq!(filed[0]["requested_by"], format!("citizen-{AN}"));

    let privacy = app.get_json("/api/v1/me/privacy", Some(&token)).await;
    let held = |kind: &str| {
        privacy["holdings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["kind"] == kind)
            .unwrap()["count"]
            .clone()
    };
    assert_eq!(held("vaccinations"), 2);
    assert_eq!(held("certificates"), 1);
    let accesses = privacy["accesses"].as_array().unwrap();
    let site_access = accesses
        .iter()
        .find(|a| a["role"] == "vaccination_site")
        .unwrap();
    assert_eq!(site_access["unit"], "91");
    assert_eq!(site_access["action"], "vaccination.record");
    assert!(
        !privacy.to_string().contains("site_91"),
        "officers are reduced to role and unit"
    );

    // The phone is lost: an officer of another commune may not re-bind it, An's may.
    let other = app.login("police_30733").await;
    let rebind = json!({"phone": "0987654321", "reason": "Mất điện thoại, đã đối chiếu CCCD"});
    let res = app
        .post_json(
            &format!("/api/v1/citizen-accounts/{AN}/phone"),
            Some(&other),
            &rebind,
        )
        .await;
    assert_eq!(res.status(), 403);
    let police = app.login("police_30730").await;
    let res = app
        .post_json(
            &format!("/api/v1/citizen-accounts/{AN}/phone"),
            Some(&police),
            &rebind,
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app.get("/api/v1/me/card", Some(&token)).await;
    assert_eq!(res.status(), 401, "the old phone's session ended");
    let res = log_in(&app, "0987654321").await;
    assert_eq!(res.status(), 202);
}

vaxtrace_store::on_both_backends!(
    sign_up_checks_the_registry_and_codes,
    a_household_is_managed_from_one_account,
    the_card_history_corrections_and_privacy,
);
