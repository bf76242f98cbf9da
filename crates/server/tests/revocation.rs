//! The certificate lifecycle over the API: one certificate per record version, the signed trust
//! and revocation lists, revocation when the stated record is corrected, automatic re-issue when
//! it is signed again, revocation by hand, and the verification endpoint behind the scanner page.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;

use common::{AN, TestApp, assert_error, install_keys, passphrase, shot, sign_all_pending};
use serde_json::json;
use time::OffsetDateTime;
use vaxtrace_cert::hcert::{RevocationList, Step, TrustList, verify_hc1_with};
use vaxtrace_server::ServerConfig;
use vaxtrace_store::{Backend, REVOKED_RECORD_CHANGED};

async fn app_with_two_signed_doses(backend: Backend) -> Option<(TestApp, Vec<u8>)> {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let app = common::spawn_app_with(backend, config).await?;
    install_keys(&app.store).await;
    let csca = app
        .store
        .keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.profile == "csca")
        .unwrap()
        .certificate;
    let site = app.login("site_91").await;
    for (rid, dose, at) in [
        ("R-1", 1, "2021-07-01T09:00:00+07:00"),
        ("R-2", 2, "2021-09-01T09:00:00+07:00"),
    ] {
        let res = app
            .post_json("/api/v1/vaccinations", Some(&site), &shot(rid, dose, at))
            .await;
        assert_eq!(res.status(), 201);
    }
    sign_all_pending(&app, &app.login("signer_30730").await, 2).await;
    Some((app, csca))
}

async fn lists(app: &TestApp, anchor: &[u8]) -> (TrustList, RevocationList) {
    let anchors = [anchor.to_vec()];
    let res = app.get("/api/v1/trust-list", None).await;
    assert_eq!(res.status(), 200);
    let trust = TrustList::from_signed(&res.text().await.unwrap(), &anchors).unwrap();
    let res = app.get("/api/v1/revocation-list", None).await;
    assert_eq!(res.status(), 200);
    let revoked = RevocationList::from_signed(&res.text().await.unwrap(), &anchors).unwrap();
    (trust, revoked)
}

async fn correction_revokes_and_signing_reissues(backend: Backend) {
    let Some((app, csca)) = app_with_two_signed_doses(backend).await else {
        return;
    };
    let health = app.login("health_30730").await;
    let path = format!("/api/v1/citizens/{AN}/certificate");
    let first = app.get_json(&path, Some(&health)).await;
    let again = app.get_json(&path, Some(&health)).await;
    assert_eq!(
        first["uvci"], again["uvci"],
        "one certificate per record version"
    );
    assert_eq!(
        (first["reused"].as_bool(), again["reused"].as_bool()),
        (Some(false), Some(true))
    );
    let hc1 = first["hc1"].as_str().unwrap().to_owned();

    let now = OffsetDateTime::now_utc();
    let (trust, revoked) = lists(&app, &csca).await;
    assert_eq!(trust.len(), 1);
    assert!(revoked.is_empty());
    assert!(verify_hc1_with(&hc1, &trust, now, Some(&revoked)).is_valid());
    let checkpoint = app.login("checkpoint_91").await;
    let verdict = app
        .post_value("/api/v1/dcc/verify", Some(&checkpoint), &json!({"qr": hc1}))
        .await;
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["payload"]["nam"]["fnt"], "NGUYEN");

    // Correct the dose the certificate states: it is revoked at once.
    let record_id = first["record_id"].as_i64().unwrap();
    let record = app
        .get_json(&format!("/api/v1/vaccinations/{record_id}"), Some(&health))
        .await;
    let version = record["record"]["version"].as_i64().unwrap();
    let fix = json!({"action": "correct", "correction": {"lot": "FK1234"}, "reason": "Sai số lô", "version": version});
    let res = app
        .post_json(
            &format!("/api/v1/vaccinations/{record_id}/review"),
            Some(&health),
            &fix,
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (trust, revoked) = lists(&app, &csca).await;
    assert_eq!(revoked.len(), 1);
    let v = verify_hc1_with(&hc1, &trust, now, Some(&revoked));
    assert_eq!(
        v.first_failure().map(|(s, _)| s),
        Some(Step::Revocation),
        "{:?}",
        v.steps
    );
    let verdict = app
        .post_value("/api/v1/dcc/verify", Some(&checkpoint), &json!({"qr": hc1}))
        .await;
    assert_eq!(verdict["valid"], false);
    let failed: Vec<&str> = verdict["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["revocation"]);
    let signer = app.login("signer_30730").await;
    let (_, outcome) = sign_all_pending(&app, &signer, 1).await;
    assert_eq!(outcome["certificates_reissued"], 1, "{outcome}");

    let all = app
        .get_json(
            &format!("/api/v1/citizens/{AN}/certificates"),
            Some(&health),
        )
        .await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0]["uvci"], first["uvci"]);
    assert_eq!(all[0]["revocation_reason"], REVOKED_RECORD_CHANGED);
    assert_eq!(all[0]["superseded_by"], all[1]["uvci"]);
    assert_eq!(all[0]["reissue_pending"], false);
    assert!(all[1]["revoked_at"].is_null());
    let current = app.get_json(&path, Some(&health)).await;
    assert_eq!(current["uvci"], all[1]["uvci"]);
    assert_eq!(current["reused"], true);
    let (trust, revoked) = lists(&app, &csca).await;
    // Checked as of now: the new certificate was issued after `now` was taken.
    let v = verify_hc1_with(
        current["hc1"].as_str().unwrap(),
        &trust,
        OffsetDateTime::now_utc(),
        Some(&revoked),
    );
    assert!(v.is_valid(), "{:?}", v.steps);

    let audit = app.store.audit_for_subject(AN).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "certificate.reissue"));
}

async fn reissue_reuses_a_certificate_that_still_holds(backend: Backend) {
    let Some((app, _)) = app_with_two_signed_doses(backend).await else {
        return;
    };
    let health = app.login("health_30730").await;
    let current = app
        .get_json(&format!("/api/v1/citizens/{AN}/certificate"), Some(&health))
        .await;
    let an = vaxtrace_domain::PersonalId::parse(AN).unwrap();
    let records = app.store.records_for_citizen(an).await.unwrap();
    let first = records.iter().find(|r| r.dose_number == 1).unwrap();
    let dsc = app
        .store
        .keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.profile == "document_signer")
        .unwrap();
    // A certificate issued for dose 1 before dose 2 was signed.
    let now = OffsetDateTime::now_utc();
    app.store
        .insert_certificate(vaxtrace_store::NewCertificate {
            uvci: "URN:UVCI:01:VN:EARLIERDOSE1#A".into(),
            personal_id: an,
            cert_type: "v".into(),
            record_id: Some(first.id),
            record_version: Some(first.version),
            dsc_key_id: dsc.id,
            kid: vec![0; 8],
            signature_hash: vec![0; 16],
            hc1: "HC1:EARLIER".into(),
            issued_at: now - time::Duration::days(60),
            expires_at: now + time::Duration::days(300),
            supersedes: vec![],
        })
        .await
        .unwrap();
    // Correcting dose 1 revokes that certificate; signing it again re-issues, and the current
    // certificate (for dose 2, still true) takes its place instead of a second current one.
    let fix = json!({"action": "correct", "correction": {"lot": "FK1"}, "reason": "Sai lô", "version": first.version});
    let res = app
        .post_json(
            &format!("/api/v1/vaccinations/{}/review", first.id),
            Some(&health),
            &fix,
        )
        .await;
    assert_eq!(res.status(), 200);
    let signer = app.login("signer_30730").await;
    let (_, outcome) = sign_all_pending(&app, &signer, 1).await;
    assert_eq!(outcome["certificates_reissued"], 1, "{outcome}");
    let all = app
        .get_json(
            &format!("/api/v1/citizens/{AN}/certificates"),
            Some(&health),
        )
        .await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2, "no second current certificate: {all:?}");
    let earlier = all
        .iter()
        .find(|c| c["uvci"] == "URN:UVCI:01:VN:EARLIERDOSE1#A")
        .unwrap();
    assert_eq!(earlier["superseded_by"], current["uvci"]);
    assert_eq!(earlier["reissue_pending"], false);
}

async fn revocation_by_hand_is_scoped_and_validated(backend: Backend) {
    let Some((app, csca)) = app_with_two_signed_doses(backend).await else {
        return;
    };
    let health = app.login("health_30730").await;
    let cert = app
        .get_json(&format!("/api/v1/citizens/{AN}/certificate"), Some(&health))
        .await;
    let uvci = cert["uvci"].as_str().unwrap();
    // The checksum follows a '#' and may itself be '/' or ':': escape the UVCI for the path.
    let escaped = uvci.replace('#', "%23").replace('/', "%2F");
    let path = format!("/api/v1/certificates/{escaped}/revoke");
    let reason = json!({"reason": "wrong_data"});
    assert_error(
        app.post_json(&path, None, &reason).await,
        401,
        "unauthenticated",
    )
    .await;
    let checkpoint = app.login("checkpoint_91").await;
    assert_error(
        app.post_json(&path, Some(&checkpoint), &reason).await,
        403,
        "forbidden_role",
    )
    .await;
    let other = app.login("health_01").await;
    assert_error(
        app.post_json(&path, Some(&other), &reason).await,
        403,
        "outside_jurisdiction",
    )
    .await;
    assert_error(
        app.post_json(&path, Some(&health), &json!({"reason": "  "}))
            .await,
        422,
        "invalid_reason",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/certificates/URN:UVCI:01:VN:NOPE/revoke",
            Some(&health),
            &reason,
        )
        .await,
        404,
        "not_found",
    )
    .await;

    let (_, revoked) = lists(&app, &csca).await;
    assert!(revoked.is_empty(), "refused attempts revoke nothing");
    let out = app.post_value(&path, Some(&health), &reason).await;
    assert_eq!(out["revoked"], true);
    let out = app.post_value(&path, Some(&health), &reason).await;
    assert_eq!(out["revoked"], false);
    let (_, revoked) = lists(&app, &csca).await;
    assert_eq!(revoked.len(), 1);
    // A revoked certificate is not handed out again: the next request issues a new one.
    let next = app
        .get_json(&format!("/api/v1/citizens/{AN}/certificate"), Some(&health))
        .await;
    assert_ne!(next["uvci"], cert["uvci"]);
    let audit = app.store.audit_for_subject(AN).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "certificate.revoke" && a.actor == "health_30730")
    );
}

async fn verification_endpoint_reports_each_step(backend: Backend) {
    let Some((app, _)) = app_with_two_signed_doses(backend).await else {
        return;
    };
    let checkpoint = app.login("checkpoint_91").await;
    assert_error(
        app.post_json("/api/v1/dcc/verify", None, &json!({"qr": "HC1:x"}))
            .await,
        401,
        "unauthenticated",
    )
    .await;
    let verdict = app
        .post_value(
            "/api/v1/dcc/verify",
            Some(&checkpoint),
            &json!({"qr": "HC2:ABC"}),
        )
        .await;
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["steps"][0]["step"], "prefix");
    assert_eq!(verdict["steps"][0]["status"], "failed");
    assert_error(
        app.post_json(
            "/api/v1/dcc/verify",
            Some(&checkpoint),
            &json!({"qr": "HC1:", "at": "yesterday"}),
        )
        .await,
        422,
        "invalid_time",
    )
    .await;
    // A certificate checked a year and a half ahead has expired.
    let health = app.login("health_30730").await;
    let cert = app
        .get_json(&format!("/api/v1/citizens/{AN}/certificate"), Some(&health))
        .await;
    let later = (OffsetDateTime::now_utc() + time::Duration::days(540))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let verdict = app
        .post_value(
            "/api/v1/dcc/verify",
            Some(&checkpoint),
            &json!({"qr": cert["hc1"], "at": later}),
        )
        .await;
    assert_eq!(verdict["valid"], false);
    let expiry = verdict["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "expiry")
        .unwrap();
    assert_eq!(expiry["status"], "failed");
}

async fn lists_need_a_csca(backend: Backend) {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let Some(app) = common::spawn_app_with(backend, config).await else {
        return;
    };
    assert_error(
        app.get("/api/v1/trust-list", None).await,
        503,
        "list_signing_unavailable",
    )
    .await;
}

vaxtrace_store::on_both_backends!(
    correction_revokes_and_signing_reissues,
    reissue_reuses_a_certificate_that_still_holds,
    revocation_by_hand_is_scoped_and_validated,
    verification_endpoint_reports_each_step,
    lists_need_a_csca,
);
