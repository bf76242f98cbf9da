//! EU Digital COVID Certificates over the API: issued for signed doses only, and verifiable with
//! the document signer's certificate alone.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;

use common::{AN, assert_error, install_keys, passphrase, shot, sign_all_pending, spawn_app_with};
use serde_json::Value;
use time::OffsetDateTime;
use vaxtrace_cert::hcert::{TrustList, uvci_checksum_is_valid, verify_hc1};
use vaxtrace_server::ServerConfig;
use vaxtrace_store::Backend;

async fn certificate_for_signed_doses(backend: Backend) {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(backend, config).await else {
        return;
    };
    let dsc = install_keys(&app.store).await;
    let health = app.login("health_91").await;
    let path = format!("/api/v1/citizens/{AN}/certificate");

    let site = app.login("site_91").await;
    for (rid, dose, at) in [
        ("C-1", 1, "2021-07-01T09:00:00+07:00"),
        ("C-2", 2, "2021-09-01T09:00:00+07:00"),
    ] {
        assert_eq!(
            app.post_json("/api/v1/vaccinations", Some(&site), &shot(rid, dose, at))
                .await
                .status(),
            201
        );
    }
    let body = assert_error(app.get(&path, Some(&health)).await, 409, "no_signed_dose").await;
    assert!(
        !body["message_vi"].as_str().unwrap().is_empty()
            && !body["message_en"].as_str().unwrap().is_empty()
    );

    let signer = app.login("signer_30730").await;
    sign_all_pending(&app, &signer, 2).await;

    let res = app.get(&path, Some(&health)).await;
    assert_eq!(res.status(), 200);
    let cert: Value = res.json().await.unwrap();
    let hc1 = cert["hc1"].as_str().unwrap();
    let mut trust = TrustList::new();
    trust.add(dsc.certificate_der.clone());
    let verification = verify_hc1(hc1, &trust, OffsetDateTime::now_utc());
    assert!(verification.is_valid(), "{:?}", verification.steps);
    let payload = verification.payload.unwrap();
    assert_eq!(payload, cert["payload"]);
    assert_eq!(payload["nam"]["fnt"], "NGUYEN");
    assert_eq!(payload["nam"]["gnt"], "VAN<AN");
    assert_eq!(payload["dob"], "1987-03-09");
    let entry = &payload["v"][0];
    assert_eq!(
        (entry["dn"].as_u64(), entry["sd"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        (entry["dt"].as_str(), entry["mp"].as_str()),
        (Some("2021-09-01"), Some("EU/1/21/1529"))
    );
    assert_eq!(entry["ci"], cert["uvci"]);
    assert!(uvci_checksum_is_valid(cert["uvci"].as_str().unwrap()));
    assert!(cert["svg"].as_str().unwrap().contains("<svg"));

    // Jurisdiction and role are those of reading the citizen.
    assert_error(
        app.get(&path, Some(&app.login("police_30733").await)).await,
        403,
        "outside_jurisdiction",
    )
    .await;
    assert_error(app.get(&path, None).await, 401, "unauthenticated").await;
    assert_error(
        app.get("/api/v1/citizens/091087999999/certificate", Some(&health))
            .await,
        404,
        "not_found",
    )
    .await;
}

async fn certificate_needs_a_passphrase(backend: Backend) {
    let Some(app) = spawn_app_with(backend, ServerConfig::default()).await else {
        return;
    };
    let health = app.login("health_91").await;
    assert_error(
        app.get(&format!("/api/v1/citizens/{AN}/certificate"), Some(&health))
            .await,
        503,
        "certificate_signing_unavailable",
    )
    .await;
}

vaxtrace_store::on_both_backends!(certificate_for_signed_doses, certificate_needs_a_passphrase);
