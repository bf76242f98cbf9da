//! One citizen as a FHIR R4 `Bundle` (type `collection`): a `Patient`, then an `Immunization` per
//! record.

use std::fmt;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vaxtrace_domain::date::VIETNAM;
use vaxtrace_domain::{
    BirthDate, FullName, PersonalId, Phone, Residence, Sex, Vaccine, admin_units,
};

use crate::ids::{encode_segment, urn_uuid, uuid};
use crate::system;

/// The citizen, as the registry knows them.
#[derive(Clone)]
pub struct PatientFacts {
    pub personal_id: PersonalId,
    pub full_name: FullName,
    pub birth_date: BirthDate,
    pub sex: Sex,
    pub permanent: Residence,
    pub temporary: Option<Residence>,
    pub phone: Option<Phone>,
    /// Health-insurance card number, when the caller has one (the registry does not).
    pub health_insurance_number: Option<String>,
    pub deceased: bool,
}

impl fmt::Debug for PatientFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Personal data: the field types mask themselves; the card number is masked here.
        f.debug_struct("PatientFacts")
            .field("personal_id", &self.personal_id)
            .field("permanent", &self.permanent)
            .field(
                "health_insurance_number",
                &self.health_insurance_number.as_ref().map(|_| "***"),
            )
            .finish_non_exhaustive()
    }
}

/// How a record is stated in the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmunizationStatus {
    /// A dose the citizen received.
    Completed,
    /// A report that must not count (e.g. a second report of a dose already on record), sent so
    /// a receiver that has it from elsewhere can retract it.
    EnteredInError,
}

impl ImmunizationStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::EnteredInError => "entered-in-error",
        }
    }
}

/// One vaccination record.
#[derive(Debug, Clone)]
pub struct ImmunizationFacts {
    pub source: String,
    pub source_record_id: String,
    /// EU DCC product code; an unknown one is written as is, with the code as its display.
    pub vaccine_code: String,
    pub dose_number: u8,
    pub administered_at: OffsetDateTime,
    pub site_code: String,
    pub lot: Option<String>,
    /// When the record was received (`Immunization.recorded`).
    pub recorded_at: Option<OffsetDateTime>,
    pub status: ImmunizationStatus,
    /// The commune signed the record's current version.
    pub signed: bool,
}

/// The `Bundle` of one citizen, stamped `now`. Its identifier is derived from the content, so the
/// same records give the same identifier whenever they are exported.
pub fn citizen_bundle(
    patient: &PatientFacts,
    immunizations: &[ImmunizationFacts],
    now: OffsetDateTime,
) -> Value {
    let patient_url = urn_uuid("Patient", &patient.personal_id.to_string());
    let mut entries = vec![json!({"fullUrl": patient_url, "resource": patient_resource(patient)})];
    for imm in immunizations {
        let key = record_key(imm);
        entries.push(json!({
            "fullUrl": urn_uuid("Immunization", &key),
            "resource": immunization_resource(imm, &uuid("Immunization", &key), &patient_url),
        }));
    }
    let content = Value::Array(entries);
    let identifier = urn_uuid("Bundle", &content.to_string());
    json!({
        "resourceType": "Bundle",
        "identifier": {"system": system::URI, "value": identifier},
        "type": "collection",
        "timestamp": instant(now),
        "entry": content,
    })
}

fn record_key(imm: &ImmunizationFacts) -> String {
    format!("{}\u{1f}{}", imm.source, imm.source_record_id)
}

/// RFC 3339 in Vietnam time, whole seconds (FHIR `instant` and `dateTime` both accept it).
pub(crate) fn instant(t: OffsetDateTime) -> String {
    let t = t.to_offset(VIETNAM);
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn patient_resource(p: &PatientFacts) -> Value {
    let id = p.personal_id.to_string();
    let mut identifiers = vec![json!({"use": "official", "system": system::CCCD, "value": id})];
    if let Some(card) = p.health_insurance_number.as_deref() {
        identifiers.push(json!({"use": "secondary", "system": system::BHYT, "value": card}));
    }
    let mut addresses = vec![address(&p.permanent, "home")];
    addresses.extend(p.temporary.as_ref().map(|t| address(t, "temp")));
    let mut resource = json!({
        "resourceType": "Patient",
        "id": uuid("Patient", &id),
        "identifier": identifiers,
        "name": [name(&p.full_name)],
        "gender": match p.sex { Sex::Male => "male", Sex::Female => "female" },
        "birthDate": p.birth_date.to_string(),
        "address": addresses,
    });
    if let Some(phone) = &p.phone {
        resource["telecom"] = json!([{"system": "phone", "value": phone.as_str()}]);
    }
    if p.deceased {
        resource["deceasedBoolean"] = Value::Bool(true);
    }
    resource
}

/// Vietnamese names are written family name first: `Nguyễn Văn An` → family `Nguyễn`, given
/// `Văn`, `An` (middle and given names, in order).
fn name(full: &FullName) -> Value {
    let mut words = full.as_str().split(' ');
    let mut out = Map::new();
    out.insert("use".into(), "official".into());
    out.insert("text".into(), full.as_str().into());
    if let Some(family) = words.next() {
        out.insert("family".into(), family.into());
    }
    let given: Vec<&str> = words.collect();
    if !given.is_empty() {
        out.insert("given".into(), given.into());
    }
    Value::Object(out)
}

/// The street address in `line`, the commune as a second line, district and province by name,
/// and every unit's GSO code as an extension (FHIR `Address` has no code fields).
fn address(r: &Residence, use_: &str) -> Value {
    let lineage = admin_units().lineage(r.unit_code);
    let mut line = vec![r.address.clone()];
    let mut out = json!({"use": use_, "type": "physical", "country": "VN"});
    for unit in &lineage {
        match unit.level {
            vaxtrace_domain::UnitLevel::Commune => line.push(unit.full_name.to_owned()),
            vaxtrace_domain::UnitLevel::District => out["district"] = unit.full_name.into(),
            vaxtrace_domain::UnitLevel::Province => out["state"] = unit.full_name.into(),
        }
    }
    let mut text = vec![r.address.as_str()];
    text.extend(lineage.iter().map(|u| u.full_name));
    out["text"] = text.join(", ").into();
    out["line"] = line.into();
    out["extension"] = lineage
        .iter()
        .map(|u| {
            json!({"url": system::EXT_ADMIN_UNIT,
                "valueCoding": {"system": system::ADMIN_UNIT, "code": u.code, "display": u.full_name}})
        })
        .collect();
    out
}

fn immunization_resource(imm: &ImmunizationFacts, id: &str, patient_url: &str) -> Value {
    let vaccine = Vaccine::by_code(&imm.vaccine_code);
    let display = vaccine.map_or(imm.vaccine_code.as_str(), |v| v.name);
    let site = json!({"identifier": {"system": system::SITE, "value": imm.site_code}, "display": imm.site_code});
    let mut resource = json!({
        "resourceType": "Immunization",
        "id": id,
        "extension": [{"url": system::EXT_SIGNED, "valueBoolean": imm.signed}],
        "identifier": [{
            "system": format!("{}{}", system::RECORD_PREFIX, encode_segment(&imm.source)),
            "value": imm.source_record_id,
        }],
        "status": imm.status.code(),
        "vaccineCode": {
            "coding": [{"system": system::VACCINE, "code": imm.vaccine_code, "display": display}],
            "text": display,
        },
        "patient": {"reference": patient_url},
        "occurrenceDateTime": instant(imm.administered_at),
        "location": site.clone(),
        "performer": [{"actor": site}],
        "protocolApplied": [{
            "targetDisease": [{"coding": [{"system": system::SNOMED, "code": system::COVID_19, "display": "COVID-19"}]}],
            "doseNumberPositiveInt": imm.dose_number,
        }],
    });
    if let Some(at) = imm.recorded_at {
        resource["recorded"] = instant(at).into();
    }
    if let Some(lot) = &imm.lot {
        resource["lotNumber"] = lot.as_str().into();
    }
    if let Some(v) = vaccine {
        resource["manufacturer"] = json!({
            "identifier": {"system": system::MANUFACTURER, "value": v.manufacturer_code},
            "display": v.manufacturer,
        });
    }
    resource
}
