//! FHIR R4 exchange end to end on both backends: a citizen's Bundle after signing, that Bundle
//! imported into another deployment (stored and linked to the registry), refused bundles (422
//! naming every location, nothing stored, the attempt audited) and jurisdiction and role checks.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;

use common::{AN, TestApp, assert_error, install_keys, passphrase, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use vaxtrace_server::ServerConfig;
use vaxtrace_store::Backend;

const CCCD: &str = "https://vaxtrace.vn/fhir/sid/cccd";
const VACCINE: &str = "https://ec.europa.eu/health/documents/community-register/html/";

/// An app where An has two doses, both signed by commune 30730.
async fn app_with_signed_doses(backend: Backend) -> Option<TestApp> {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let app = spawn_app_with(backend, config).await?;
    install_keys(&app.store).await;
    common::record_and_sign_two_doses(&app).await;
    Some(app)
}

async fn export_bundle(app: &TestApp, user: &str) -> Value {
    let token = app.login(user).await;
    let res = app
        .get(&format!("/api/v1/citizens/{AN}/fhir"), Some(&token))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/fhir+json");
    res.json().await.unwrap()
}

async fn export_of_signed_doses(backend: Backend) {
    let Some(app) = app_with_signed_doses(backend).await else {
        return;
    };
    let bundle = export_bundle(&app, "health_30730").await;
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    assert!(bundle["timestamp"].as_str().unwrap().ends_with("+07:00"));
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let patient = &entries[0]["resource"];
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(patient["identifier"][0]["system"], CCCD);
    assert_eq!(patient["identifier"][0]["value"], AN);
    assert_eq!(patient["name"][0]["family"], "Nguyễn");
    assert_eq!(patient["name"][0]["given"], json!(["Văn", "An"]));
    assert_eq!(patient["gender"], "male");
    assert_eq!(patient["birthDate"], "1987-03-09");
    for (entry, (record, dose, at)) in entries[1..].iter().zip([
        ("A-1", 1, "2021-07-01T09:00:00+07:00"),
        ("A-2", 2, "2021-09-01T09:00:00+07:00"),
    ]) {
        let imm = &entry["resource"];
        assert_eq!(imm["resourceType"], "Immunization");
        assert_eq!(imm["status"], "completed");
        assert_eq!(imm["patient"]["reference"], entries[0]["fullUrl"]);
        assert_eq!(imm["identifier"][0]["value"], record);
        assert_eq!(imm["vaccineCode"]["coding"][0]["system"], VACCINE);
        assert_eq!(imm["vaccineCode"]["coding"][0]["code"], "EU/1/21/1529");
        assert_eq!(imm["occurrenceDateTime"], at);
        assert_eq!(imm["protocolApplied"][0]["doseNumberPositiveInt"], dose);
        assert_eq!(imm["lotNumber"], "ABV123");
        assert_eq!(imm["location"]["display"], "KG-TYT-30730");
        assert_eq!(imm["extension"][0]["valueBoolean"], true, "signed");
    }
    // The same records give the same bundle identifier.
    let again = export_bundle(&app, "health_91").await;
    assert_eq!(again["identifier"], bundle["identifier"]);

    // A commune officer of another province, and a role that may not read the registry.
    let hanoi = app.login("police_00001").await;
    let path = format!("/api/v1/citizens/{AN}/fhir");
    assert_error(
        app.get(&path, Some(&hanoi)).await,
        403,
        "outside_jurisdiction",
    )
    .await;
    let site = app.login("site_91").await;
    assert_error(app.get(&path, Some(&site)).await, 403, "forbidden_role").await;
    let trail = app.store.audit_for_subject(AN).await.unwrap();
    let exports: Vec<(&str, &str)> = trail
        .iter()
        .filter(|a| a.purpose == "fhir_export")
        .map(|a| (a.action.as_str(), a.actor.as_str()))
        .collect();
    assert_eq!(
        exports,
        [
            ("citizen.read", "health_30730"),
            ("citizen.read", "health_91"),
            ("citizen.read.denied", "police_00001")
        ]
    );
}

async fn import_stores_and_links_the_records(backend: Backend) {
    let Some(source) = app_with_signed_doses(backend).await else {
        return;
    };
    let bundle = export_bundle(&source, "health_91").await;
    // Another deployment with the same registry receives it.
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let site = app.login("site_91").await;
    let res = app
        .post_json("/api/v1/fhir/import", Some(&site), &bundle)
        .await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["recorded"], 2, "{report}");
    for (i, entry) in report["entries"].as_array().unwrap().iter().enumerate() {
        assert_eq!(entry["entry"], i + 1);
        assert_eq!(entry["status"], 201);
        assert_eq!(entry["outcome"], "inserted");
        assert_eq!(entry["decision"], "auto", "matched to the registry");
        assert_eq!(entry["fullUrl"], bundle["entry"][i + 1]["fullUrl"]);
    }
    let health = app.login("health_91").await;
    let records = app
        .get_json(
            &format!("/api/v1/citizens/{AN}/vaccinations"),
            Some(&health),
        )
        .await;
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2);
    for (r, (id, dose)) in records.iter().zip([("A-1", 1), ("A-2", 2)]) {
        assert_eq!(r["personal_id"], AN);
        assert_eq!(r["source"], "site-app");
        assert_eq!(r["source_record_id"], id);
        assert_eq!(r["dose_number"], dose);
        assert_eq!(r["vaccine_code"], "EU/1/21/1529");
        assert_eq!(r["site_code"], "KG-TYT-30730");
    }
    // The same bundle again changes nothing.
    let again = app
        .post_value("/api/v1/fhir/import", Some(&site), &bundle)
        .await;
    assert_eq!(again["entries"][0]["outcome"], "replayed", "{again}");
    assert_eq!(again["entries"][1]["status"], 200);
    assert_eq!(
        app.store
            .records_for_citizen(common::AN.parse().unwrap())
            .await
            .unwrap()
            .len(),
        2
    );
    let trail = app.store.audit_for_subject(AN).await.unwrap();
    assert_eq!(
        trail.iter().filter(|a| a.action == "fhir.import").count(),
        2
    );
    assert_eq!(
        trail
            .iter()
            .filter(|a| a.action == "vaccination.record")
            .count(),
        4
    );
}

/// An's Patient with three Immunizations: a good one, one missing `vaccineCode` and
/// `occurrenceDateTime`, one pointing to a Patient that is not in the bundle.
fn broken_bundle() -> Value {
    let imm = |id: &str, reference: &str| {
        json!({"resourceType": "Immunization", "status": "completed",
            "identifier": [{"system": "https://vaxtrace.vn/fhir/sid/record/moh", "value": id}],
            "vaccineCode": {"coding": [{"system": VACCINE, "code": "EU/1/20/1528"}]},
            "patient": {"reference": reference},
            "occurrenceDateTime": "2021-08-02T09:00:00+07:00",
            "location": {"display": "KG-TYT-30730"},
            "protocolApplied": [{"doseNumberPositiveInt": 1}]})
    };
    let mut missing = imm("M-2", "urn:uuid:p");
    let fields = missing.as_object_mut().unwrap();
    fields.remove("vaccineCode");
    fields.remove("occurrenceDateTime");
    json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient",
            "identifier": [{"system": CCCD, "value": AN}],
            "name": [{"text": "Nguyễn Văn An"}], "gender": "male", "birthDate": "1987-03-09"}},
        {"fullUrl": "urn:uuid:i1", "resource": imm("M-1", "urn:uuid:p")},
        {"fullUrl": "urn:uuid:i2", "resource": missing},
        {"fullUrl": "urn:uuid:i3", "resource": imm("M-3", "urn:uuid:nobody")},
    ]})
}

async fn refused_bundles_store_nothing_and_are_audited(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let site = app.login("site_91").await;
    let res = app
        .post_json("/api/v1/fhir/import", Some(&site), &broken_bundle())
        .await;
    let body = assert_error(res, 422, "invalid_fhir_bundle").await;
    let at: Vec<(&str, &str)> = body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["location"].as_str().unwrap(), i["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        at,
        [
            ("Bundle.entry[2].resource.vaccineCode", "missing"),
            ("Bundle.entry[2].resource.occurrenceDateTime", "missing"),
            (
                "Bundle.entry[3].resource.patient.reference",
                "unresolved_reference"
            ),
        ]
    );
    assert!(
        body["issues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| !i["message_vi"].as_str().unwrap().is_empty()
                && !i["message_en"].as_str().unwrap().is_empty())
    );
    assert_eq!(body["field"], "Bundle.entry[2].resource.vaccineCode");
    let outcome = &body["outcome"];
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"].as_array().unwrap().len(), 3);
    assert_eq!(outcome["issue"][2]["expression"][0], at[2].0);
    assert_eq!(outcome["issue"][0]["code"], "required");

    // Nothing stored: not even the good entry.
    let id = AN.parse().unwrap();
    assert!(app.store.records_for_citizen(id).await.unwrap().is_empty());
    let health = app.login("health_91").await;
    let queue = app
        .get_json(
            "/api/v1/vaccinations/queue?decision=auto,review,unmatched",
            Some(&health),
        )
        .await;
    assert_eq!(queue, json!([]));
    let trail = app.store.audit_for_subject(AN).await.unwrap();
    let refused: Vec<_> = trail
        .iter()
        .filter(|a| a.action == "fhir.import.refused")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].actor, "site_91");
    let detail = refused[0].detail.as_deref().unwrap();
    assert!(detail.starts_with("issues:3 "), "{detail}");
    assert!(detail.contains("Bundle.entry[3].resource.patient.reference unresolved_reference"));

    // Not a bundle at all; a role that may not record; a commune outside the caller's area.
    let patient = broken_bundle()["entry"][0]["resource"].clone();
    let body = assert_error(
        app.post_json("/api/v1/fhir/import", Some(&site), &patient)
            .await,
        422,
        "invalid_fhir_bundle",
    )
    .await;
    assert_eq!(body["issues"][0]["code"], "not_a_bundle");
    let police = app.login("police_30730").await;
    assert_error(
        app.post_json("/api/v1/fhir/import", Some(&police), &broken_bundle())
            .await,
        403,
        "forbidden_role",
    )
    .await;
    let mut good = broken_bundle();
    good["entry"].as_array_mut().unwrap().truncate(2);
    good["entry"][0]["resource"]["address"] = json!([{"use": "home", "extension": [{
        "url": "https://vaxtrace.vn/fhir/StructureDefinition/admin-unit",
        "valueCoding": {"system": "https://vaxtrace.vn/fhir/CodeSystem/admin-unit", "code": "30730"}}]}]);
    let hanoi = app.login("health_01").await;
    let body = assert_error(
        app.post_json("/api/v1/fhir/import", Some(&hanoi), &good)
            .await,
        403,
        "outside_jurisdiction",
    )
    .await;
    assert_eq!(body["field"], "Bundle.entry[1]");
    assert!(app.store.records_for_citizen(id).await.unwrap().is_empty());
    // The same bundle from the province's own site is recorded.
    let ok = app
        .post_value("/api/v1/fhir/import", Some(&site), &good)
        .await;
    assert_eq!(ok["recorded"], 1, "{ok}");
    assert_eq!(app.store.records_for_citizen(id).await.unwrap().len(), 1);
}

vaxtrace_store::on_both_backends!(
    export_of_signed_doses,
    import_stores_and_links_the_records,
    refused_bundles_store_nothing_and_are_audited,
);
