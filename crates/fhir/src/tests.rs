//! Export and import together: the round trip, the shape of what is exported, and each way a
//! bundle can be refused.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use vaxtrace_domain::{BirthDate, FullName, PersonalId, Phone, Residence, Sex, ShotInput};

use crate::{
    ImmunizationFacts, ImmunizationStatus, Issue, PatientFacts, bundle_personal_ids,
    citizen_bundle, import_bundle, operation_outcome, system,
};

const NOW: OffsetDateTime = datetime!(2021-11-23 12:00 +7);
const AN: &str = "091087123456";

fn an() -> PatientFacts {
    PatientFacts {
        personal_id: PersonalId::parse(AN).unwrap(),
        full_name: FullName::parse("Nguyễn Văn An").unwrap(),
        birth_date: BirthDate::parse("1987-03-09").unwrap(),
        sex: Sex::Male,
        permanent: Residence {
            unit_code: "30730",
            address: "12 Trần Phú".into(),
        },
        temporary: None,
        phone: Some(Phone::parse("0912345678").unwrap()),
        health_insurance_number: Some("DN4799123456789".into()),
        deceased: false,
    }
}

fn dose(id: &str, n: u8, at: OffsetDateTime, status: ImmunizationStatus) -> ImmunizationFacts {
    ImmunizationFacts {
        source: "site-app".into(),
        source_record_id: id.into(),
        vaccine_code: "EU/1/21/1529".into(),
        dose_number: n,
        administered_at: at,
        site_code: "KG-TYT-30730".into(),
        lot: Some(format!("ABV{n}")),
        recorded_at: Some(at + time::Duration::hours(2)),
        status,
        signed: n == 1,
    }
}

fn doses() -> Vec<ImmunizationFacts> {
    vec![
        // Given in UTC: the export must say it in Vietnam time.
        dose(
            "A-1",
            1,
            datetime!(2021-07-01 02:00 UTC),
            ImmunizationStatus::Completed,
        ),
        dose(
            "A-2",
            2,
            datetime!(2021-09-01 09:00 +7),
            ImmunizationStatus::Completed,
        ),
        dose(
            "B-9",
            2,
            datetime!(2021-09-01 10:00 +7),
            ImmunizationStatus::EnteredInError,
        ),
    ]
}

fn bundle() -> Value {
    citizen_bundle(&an(), &doses(), NOW)
}

/// The report a site would have sent for this dose of An.
fn report(f: &ImmunizationFacts) -> ShotInput {
    ShotInput {
        source: f.source.clone(),
        source_record_id: f.source_record_id.clone(),
        personal_id: Some(AN.into()),
        full_name: "Nguyễn Văn An".into(),
        birth_date: Some("1987-03-09".into()),
        sex: Some("M".into()),
        phone: Some("0912345678".into()),
        commune_code: Some("30730".into()),
        vaccine_code: f.vaccine_code.clone(),
        dose_number: f.dose_number.to_string(),
        administered_at: f.administered_at.format(&Rfc3339).unwrap(),
        site_code: f.site_code.clone(),
        lot: f.lot.clone(),
    }
}

/// The issues of a bundle that must be refused.
fn issues(bundle: &Value) -> Vec<Issue> {
    match import_bundle(bundle, NOW) {
        Ok(i) => panic!("accepted: {:?}", i.shots),
        Err(e) => e.0,
    }
}

fn without(mut bundle: Value, pointers: &[&str]) -> Value {
    for p in pointers {
        let (parent, key) = p.rsplit_once('/').unwrap();
        let parent = bundle.pointer_mut(parent).unwrap();
        match parent {
            Value::Object(m) => assert!(m.remove(key).is_some(), "{p}"),
            Value::Array(a) => {
                a.remove(key.parse().unwrap());
            }
            _ => panic!("{p}"),
        }
    }
    bundle
}

#[test]
fn round_trip_gives_back_the_same_shots() {
    let bundle = bundle();
    let import = import_bundle(&bundle, NOW).unwrap();
    let all = doses();
    let completed: Vec<&ImmunizationFacts> = all
        .iter()
        .filter(|d| d.status == ImmunizationStatus::Completed)
        .collect();
    assert_eq!(import.shots.len(), completed.len());
    for (shot, facts) in import.shots.iter().zip(completed) {
        let got = shot.input.parse(NOW).unwrap();
        assert_eq!(got, report(facts).parse(NOW).unwrap());
        assert!(got.flags.is_empty(), "{:?}", got.flags);
        assert_eq!(
            shot.full_url.as_deref(),
            bundle["entry"][shot.entry]["fullUrl"].as_str()
        );
    }
    // The retracted report is not a dose: skipped, and said so.
    assert_eq!(import.skipped.len(), 1);
    assert_eq!(
        (import.skipped[0].entry, import.skipped[0].status),
        (3, "entered-in-error")
    );
}

#[test]
fn export_is_r4_shaped_and_deterministic() {
    let b = bundle();
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "collection");
    assert_eq!(b["timestamp"], "2021-11-23T12:00:00+07:00");
    let later = citizen_bundle(&an(), &doses(), NOW + time::Duration::days(1));
    assert_eq!(
        later["identifier"], b["identifier"],
        "same content, same identifier"
    );
    assert_eq!(later["entry"], b["entry"]);
    let fewer = citizen_bundle(&an(), &doses()[..1], NOW);
    assert_ne!(fewer["identifier"], b["identifier"]);

    let patient_url = b["entry"][0]["fullUrl"].as_str().unwrap();
    assert!(patient_url.starts_with("urn:uuid:"));
    let p = &b["entry"][0]["resource"];
    assert_eq!(p["resourceType"], "Patient");
    assert_eq!(
        patient_url,
        format!("urn:uuid:{}", p["id"].as_str().unwrap())
    );
    assert_eq!(
        p["identifier"][0],
        json!({"use": "official", "system": system::CCCD, "value": AN})
    );
    assert_eq!(p["identifier"][1]["system"], system::BHYT);
    assert_eq!(
        p["name"][0],
        json!({"use": "official", "text": "Nguyễn Văn An", "family": "Nguyễn", "given": ["Văn", "An"]})
    );
    assert_eq!(p["gender"], "male");
    assert_eq!(p["birthDate"], "1987-03-09");
    let address = &p["address"][0];
    assert_eq!(address["use"], "home");
    assert_eq!(address["line"][0], "12 Trần Phú");
    assert_eq!(address["state"], "Tỉnh Kiên Giang");
    let codes: Vec<&str> = address["extension"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["valueCoding"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.first(), Some(&"30730"));
    assert_eq!(codes.last(), Some(&"91"));
    assert_eq!(codes.len(), 3);

    let imm = &b["entry"][1]["resource"];
    assert_eq!(imm["resourceType"], "Immunization");
    assert_eq!(imm["status"], "completed");
    assert_eq!(imm["patient"]["reference"], patient_url);
    assert_eq!(imm["occurrenceDateTime"], "2021-07-01T09:00:00+07:00");
    assert_eq!(imm["recorded"], "2021-07-01T11:00:00+07:00");
    assert_eq!(
        imm["vaccineCode"]["coding"][0],
        json!({"system": system::VACCINE, "code": "EU/1/21/1529", "display": "AstraZeneca (Vaxzevria)"})
    );
    assert_eq!(
        imm["identifier"][0]["system"],
        format!("{}site-app", system::RECORD_PREFIX)
    );
    assert_eq!(imm["identifier"][0]["value"], "A-1");
    assert_eq!(imm["protocolApplied"][0]["doseNumberPositiveInt"], 1);
    assert_eq!(imm["lotNumber"], "ABV1");
    assert_eq!(imm["location"]["display"], "KG-TYT-30730");
    assert_eq!(imm["performer"][0]["actor"]["display"], "KG-TYT-30730");
    assert_eq!(imm["extension"][0]["valueBoolean"], true);
    assert_eq!(
        b["entry"][2]["resource"]["extension"][0]["valueBoolean"],
        false
    );
    assert_eq!(b["entry"][3]["resource"]["status"], "entered-in-error");
    // Record URLs are distinct and stable.
    assert_ne!(b["entry"][1]["fullUrl"], b["entry"][2]["fullUrl"]);
}

#[test]
fn each_missing_required_element_is_reported_where_it_is() {
    let cases: [(&[&str], &str); 14] = [
        (&["/type"], "Bundle.type"),
        (&["/entry"], "Bundle.entry"),
        (&["/entry/1/resource"], "Bundle.entry[1].resource"),
        (
            &["/entry/1/resource/resourceType"],
            "Bundle.entry[1].resource.resourceType",
        ),
        (
            &["/entry/1/resource/status"],
            "Bundle.entry[1].resource.status",
        ),
        (
            &["/entry/1/resource/vaccineCode"],
            "Bundle.entry[1].resource.vaccineCode",
        ),
        (
            &["/entry/1/resource/occurrenceDateTime"],
            "Bundle.entry[1].resource.occurrenceDateTime",
        ),
        (
            &["/entry/1/resource/patient"],
            "Bundle.entry[1].resource.patient",
        ),
        (
            &["/entry/1/resource/patient/reference"],
            "Bundle.entry[1].resource.patient.reference",
        ),
        (
            &["/entry/1/resource/identifier"],
            "Bundle.entry[1].resource.identifier",
        ),
        (
            &["/entry/1/resource/identifier/0/value"],
            "Bundle.entry[1].resource.identifier[0].value",
        ),
        (
            &["/entry/1/resource/protocolApplied"],
            "Bundle.entry[1].resource.protocolApplied",
        ),
        (
            &["/entry/1/resource/protocolApplied/0/doseNumberPositiveInt"],
            "Bundle.entry[1].resource.protocolApplied[0].doseNumberPositiveInt",
        ),
        (
            &["/entry/1/resource/location", "/entry/1/resource/performer"],
            "Bundle.entry[1].resource.location",
        ),
    ];
    for (removed, location) in cases {
        let found = issues(&without(bundle(), removed));
        assert_eq!(found.len(), 1, "{removed:?}: {found:?}");
        assert_eq!(
            (found[0].location.as_str(), found[0].code),
            (location, "missing"),
            "{removed:?}"
        );
        assert!(
            found[0].message_vi.starts_with("Thiếu"),
            "{}",
            found[0].message_vi
        );
        assert!(!found[0].message_en.is_empty());
    }
    let nameless = issues(&without(bundle(), &["/entry/0/resource/name"]));
    assert_eq!(
        nameless.len(),
        1,
        "reported once, at the Patient: {nameless:?}"
    );
    assert_eq!(nameless[0].location, "Bundle.entry[0].resource.name");
}

#[test]
fn every_problem_is_reported_at_once_and_nothing_is_returned() {
    let mut b = without(
        bundle(),
        &[
            "/entry/1/resource/vaccineCode",
            "/entry/2/resource/occurrenceDateTime",
            "/entry/2/resource/identifier",
        ],
    );
    b["entry"][1]["resource"]["protocolApplied"][0]["doseNumberPositiveInt"] = json!(9);
    let found = issues(&b);
    let at: Vec<(&str, &str)> = found
        .iter()
        .map(|i| (i.location.as_str(), i.code))
        .collect();
    assert_eq!(
        at,
        [
            ("Bundle.entry[1].resource.vaccineCode", "missing"),
            (
                "Bundle.entry[1].resource.protocolApplied[0].doseNumberPositiveInt",
                "dose_out_of_range"
            ),
            ("Bundle.entry[2].resource.identifier", "missing"),
            ("Bundle.entry[2].resource.occurrenceDateTime", "missing"),
        ]
    );
    let outcome = operation_outcome(&found);
    assert_eq!(outcome["issue"].as_array().unwrap().len(), 4);
    assert_eq!(outcome["issue"][1]["expression"][0], at[1].0);
    assert_eq!(
        outcome["issue"][1]["details"]["text"],
        "Mũi tiêm phải từ 1 đến 5"
    );
}

#[test]
fn unknown_vaccine_is_refused_at_vaccine_code() {
    let mut b = bundle();
    b["entry"][2]["resource"]["vaccineCode"] =
        json!({"coding": [{"system": system::VACCINE, "code": "EU/9/99/9999"}]});
    let found = issues(&b);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].location, "Bundle.entry[2].resource.vaccineCode");
    assert_eq!(found[0].code, "unknown_vaccine");
    assert!(
        found[0].message_vi.contains("vắc xin"),
        "{}",
        found[0].message_vi
    );
}

#[test]
fn only_a_bundle_is_accepted() {
    let patient = bundle()["entry"][0]["resource"].clone();
    for (input, location) in [
        (patient, "Bundle.resourceType"),
        (json!([1, 2]), "Bundle"),
        (json!("Bundle"), "Bundle"),
    ] {
        let found = issues(&input);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].location.as_str(), found[0].code),
            (location, "not_a_bundle")
        );
    }
    let found = issues(&json!({"type": "collection", "entry": []}));
    assert_eq!(found[0].location, "Bundle.resourceType");
    let only_patient = without(bundle(), &["/entry/3", "/entry/2", "/entry/1"]);
    assert_eq!(issues(&only_patient)[0].code, "no_immunization");
}

#[test]
fn a_reference_to_a_patient_outside_the_bundle_is_refused() {
    let mut b = bundle();
    b["entry"][1]["resource"]["patient"]["reference"] =
        json!("urn:uuid:00000000-0000-8000-8000-000000000000");
    let found = issues(&b);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].location,
        "Bundle.entry[1].resource.patient.reference"
    );
    assert_eq!(found[0].code, "unresolved_reference");
    // Nor may it point at an entry that is not a Patient.
    let mut b = bundle();
    b["entry"][1]["resource"]["patient"]["reference"] = b["entry"][2]["fullUrl"].clone();
    assert_eq!(issues(&b)[0].code, "unresolved_reference");
}

#[test]
fn bad_values_are_refused_with_their_reason() {
    type Edit = fn(&mut Value);
    let cases: [(Edit, &str, &str); 6] = [
        (
            |b| b["entry"][1]["resource"]["status"] = json!("done"),
            "Bundle.entry[1].resource.status",
            "invalid_code",
        ),
        (
            |b| b["entry"][0]["resource"]["gender"] = json!("x"),
            "Bundle.entry[0].resource.gender",
            "invalid_code",
        ),
        (
            |b| {
                b["entry"][1]["resource"]["occurrenceDateTime"] =
                    json!("2022-01-01T00:00:00+07:00");
            },
            "Bundle.entry[1].resource.occurrenceDateTime",
            "future_date",
        ),
        (
            |b| {
                b["entry"][1]["resource"]["protocolApplied"][0]["doseNumberPositiveInt"] =
                    json!("1");
            },
            "Bundle.entry[1].resource.protocolApplied[0].doseNumberPositiveInt",
            "invalid_type",
        ),
        (
            |b| b["entry"][2]["resource"]["identifier"][0]["value"] = json!("A-1"),
            "Bundle.entry[2].resource.identifier[0]",
            "duplicate_identifier",
        ),
        (
            |b| b["entry"][1]["resource"]["occurrenceDateTime"] = json!("2020-06-01"),
            "Bundle.entry[1].resource.occurrenceDateTime",
            "before_vaccine_available",
        ),
    ];
    for (edit, location, code) in cases {
        let mut b = bundle();
        edit(&mut b);
        let found = issues(&b);
        assert_eq!(found.len(), 1, "{location}: {found:?}");
        assert_eq!(
            (found[0].location.as_str(), found[0].code),
            (location, code)
        );
    }
}

#[test]
fn foreign_bundles_are_read_too() {
    // Another system's bundle: Patient/{id} references, its own identifier system, a vaccine
    // named by text only, the site as a performer, names without text.
    let b = json!({
        "resourceType": "Bundle", "type": "transaction",
        "entry": [
            {"fullUrl": "https://his.example.vn/fhir/Patient/p1", "resource": {
                "resourceType": "Patient", "id": "p1",
                "identifier": [{"system": system::CCCD, "value": AN}],
                "name": [{"family": "Nguyễn", "given": ["Văn", "An"]}],
                "gender": "male", "birthDate": "1987-03"}},
            {"resource": {
                "resourceType": "Immunization", "status": "completed",
                "identifier": [{"system": "urn:oid:1.2.3", "value": "77"}],
                "vaccineCode": {"text": "AZ"},
                "patient": {"reference": "Patient/p1"},
                "occurrenceDateTime": "2021-08-02",
                "performer": [{"actor": {"display": "BV Đa khoa Kiên Giang"}}],
                "protocolApplied": [{"doseNumberString": "1"}]}}
        ]
    });
    let import = import_bundle(&b, NOW).unwrap();
    let shot = import.shots[0].input.parse(NOW).unwrap();
    assert_eq!(shot.source, "fhir");
    assert_eq!(shot.source_record_id, "urn:oid:1.2.3|77");
    assert_eq!(shot.full_name.as_str(), "Nguyễn Văn An");
    assert_eq!(shot.vaccine.code, "EU/1/21/1529");
    assert_eq!(shot.site_code, "BV Đa khoa Kiên Giang");
    assert_eq!(shot.birth_date.unwrap().to_string(), "1987-03");
    assert_eq!(shot.commune_code, None);
    assert_eq!(bundle_personal_ids(&b), [PersonalId::parse(AN).unwrap()]);
}
