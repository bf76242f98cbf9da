//! A FHIR R4 `Bundle` back into shot reports. Every entry is checked before anything is returned:
//! one problem anywhere and the caller gets all of them ([`Issues`]) and no shot at all.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use vaxtrace_domain::shot::{parse_administered_at, parse_dose_number};
use vaxtrace_domain::{PersonalId, ShotInput, Vaccine};

use crate::ids::decode_segment;
use crate::issue::{Issue, Issues, Kind};
use crate::json::{Check, str_of};
use crate::patient::{self, PatientRead};
use crate::system;

/// One `completed` Immunization as a shot report.
#[derive(Debug, Clone)]
pub struct ImportedShot {
    /// Index in `Bundle.entry`.
    pub entry: usize,
    pub full_url: Option<String>,
    pub input: ShotInput,
}

/// An Immunization that is not a dose given (`entered-in-error`, `not-done`): nothing to record.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedEntry {
    pub entry: usize,
    pub status: &'static str,
}

#[derive(Debug, Clone)]
pub struct Import {
    pub shots: Vec<ImportedShot>,
    pub skipped: Vec<SkippedEntry>,
}

const BUNDLE_TYPES: [&str; 9] = [
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
];
const STATUSES: [&str; 3] = ["completed", "entered-in-error", "not-done"];

/// Reads every `completed` Immunization of `bundle` with its referenced Patient. `now` bounds the
/// administration times (no future doses).
pub fn import_bundle(bundle: &Value, now: OffsetDateTime) -> Result<Import, Issues> {
    let mut check = Check::default();
    let Some(entries) = bundle_entries(&mut check, bundle) else {
        return Err(Issues(check.issues));
    };
    let mut patients: Vec<PatientRead> = Vec::new();
    let mut by_reference: HashMap<String, usize> = HashMap::new();
    let mut immunizations = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("Bundle.entry[{i}]");
        if !entry.is_object() {
            check.push(Issue::wrong_type(at, Kind::Object));
            continue;
        }
        let Some(resource) = check.object(entry, "resource", &at, true) else {
            continue;
        };
        let at = format!("{at}.resource");
        match check.string(resource, "resourceType", &at, true) {
            Some("Patient") => {
                let read = patient::read(&mut check, resource, &at);
                patient::check_name(&mut check, &read);
                let index = patients.len();
                patients.push(read);
                if let Some(url) = str_of(entry, "fullUrl") {
                    by_reference.insert(url.to_owned(), index);
                }
                if let Some(id) = str_of(resource, "id") {
                    by_reference.insert(format!("Patient/{id}"), index);
                }
            }
            Some("Immunization") => immunizations.push((i, entry, resource)),
            _ => {} // other resources (Organization, Location…) carry nothing we store
        }
    }
    if immunizations.is_empty() && !entries.is_empty() {
        check.push(Issue::new(
            "Bundle.entry",
            "no_immunization",
            "Gói không có Immunization nào",
            "The bundle has no Immunization",
        ));
    }
    let mut out = Import {
        shots: Vec::new(),
        skipped: Vec::new(),
    };
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for (i, entry, resource) in immunizations {
        let reader = Reader {
            at: format!("Bundle.entry[{i}].resource"),
            resource,
            patients: &patients,
            by_reference: &by_reference,
            now,
        };
        match reader.read(&mut check) {
            Read::Shot(input, identifier_at) => {
                let key = (input.source.clone(), input.source_record_id.clone());
                if let Some(first) = seen.insert(key, i) {
                    check.push(Issue::new(
                        identifier_at,
                        "duplicate_identifier",
                        format!("Mã bản ghi đã xuất hiện ở Bundle.entry[{first}] của gói"),
                        format!("Record identifier already used by Bundle.entry[{first}]"),
                    ));
                }
                out.shots.push(ImportedShot {
                    entry: i,
                    full_url: str_of(entry, "fullUrl").map(str::to_owned),
                    input: *input,
                });
            }
            Read::Skipped(status) => out.skipped.push(SkippedEntry { entry: i, status }),
            Read::Invalid => {}
        }
    }
    if check.issues.is_empty() {
        Ok(out)
    } else {
        Err(Issues(check.issues))
    }
}

/// The personal IDs of the bundle's Patients, even of a bundle with problems (to audit a refused
/// import against the people it concerns).
pub fn bundle_personal_ids(bundle: &Value) -> Vec<PersonalId> {
    let mut out: Vec<PersonalId> = bundle
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("resource"))
        .filter(|r| str_of(r, "resourceType") == Some("Patient"))
        .filter_map(|r| r.get("identifier").and_then(Value::as_array))
        .flatten()
        .filter(|i| str_of(i, "system") == Some(system::CCCD))
        .filter_map(|i| PersonalId::parse(str_of(i, "value")?).ok())
        .collect();
    out.sort_by_key(|p| p.as_number());
    out.dedup();
    out
}

/// `Bundle.entry`, once the input is known to be a Bundle.
fn bundle_entries<'a>(check: &mut Check, bundle: &'a Value) -> Option<&'a [Value]> {
    if !bundle.is_object() {
        check.push(not_a_bundle("Bundle"));
        return None;
    }
    match check.string(bundle, "resourceType", "Bundle", true) {
        Some("Bundle") => {}
        Some(_) => {
            check.push(not_a_bundle("Bundle.resourceType"));
            return None;
        }
        None => return None,
    }
    if let Some(kind) = check.string(bundle, "type", "Bundle", true)
        && !BUNDLE_TYPES.contains(&kind)
    {
        check.push(Issue::invalid_code("Bundle.type", kind, &BUNDLE_TYPES));
    }
    Some(check.array(bundle, "entry", "Bundle", true))
}

fn not_a_bundle(at: &str) -> Issue {
    Issue::new(
        at,
        "not_a_bundle",
        "Dữ liệu không phải FHIR Bundle (resourceType phải là \"Bundle\")",
        "Not a FHIR Bundle (resourceType must be \"Bundle\")",
    )
}

enum Read {
    /// The report and the `FHIRPath` of the identifier it was keyed by.
    Shot(Box<ShotInput>, String),
    Skipped(&'static str),
    Invalid,
}

/// One Immunization resource at `at`.
struct Reader<'a> {
    at: String,
    resource: &'a Value,
    patients: &'a [PatientRead],
    by_reference: &'a HashMap<String, usize>,
    now: OffsetDateTime,
}

impl Reader<'_> {
    fn read(&self, check: &mut Check) -> Read {
        let (r, at) = (self.resource, self.at.as_str());
        match check.string(r, "status", at, true) {
            Some("completed") | None => {}
            Some("entered-in-error") => return Read::Skipped("entered-in-error"),
            Some("not-done") => return Read::Skipped("not-done"),
            Some(other) => check.push(Issue::invalid_code(
                format!("{at}.status"),
                other,
                &STATUSES,
            )),
        }
        let identifier = self.identifier(check);
        let vaccine_code = self.vaccine_code(check);
        let administered_at = self.occurrence(check);
        let patient = self.patient(check);
        let dose = self.dose_number(check);
        let site_code = self.site_code(check);
        let lot = check.string(r, "lotNumber", at, false).map(str::to_owned);
        let (
            Some((source, source_record_id, identifier_at)),
            Some(vaccine_code),
            Some(administered_at),
            Some(patient),
            Some((dose_number, dose_at)),
            Some(site_code),
        ) = (
            identifier,
            vaccine_code,
            administered_at,
            patient,
            dose,
            site_code,
        )
        else {
            return Read::Invalid;
        };
        let input = ShotInput {
            source,
            source_record_id,
            personal_id: patient.personal_id.clone(),
            full_name: patient.full_name.clone().unwrap_or_default(),
            birth_date: patient.birth_date.clone(),
            sex: patient.sex.clone(),
            phone: patient.phone.clone(),
            commune_code: patient.commune_code.clone(),
            vaccine_code,
            dose_number,
            administered_at,
            site_code,
            lot,
        };
        // The domain's own checks last, for what the element checks above cannot see (text
        // length and characters, a dose before the vaccine was in use).
        if let Err(e) = input.parse(self.now) {
            let location = match e.field {
                "source" | "source_record_id" => identifier_at.clone(),
                "full_name" => format!("{}.name", patient.at),
                "vaccine_code" => format!("{at}.vaccineCode"),
                "dose_number" => dose_at,
                "administered_at" => format!("{at}.occurrenceDateTime"),
                "site_code" => format!("{at}.location"),
                "lot" => format!("{at}.lotNumber"),
                _ => at.to_owned(),
            };
            check.push(Issue::from_parse(location, e));
            return Read::Invalid;
        }
        Read::Shot(Box::new(input), identifier_at)
    }

    /// (source, source record ID, `FHIRPath`): our own record systems give the source back;
    /// another system is kept whole in the record ID (`system|value`) under source `fhir`, so two
    /// senders' numbering cannot collide.
    fn identifier(&self, check: &mut Check) -> Option<(String, String, String)> {
        let ids = check.array(self.resource, "identifier", &self.at, true);
        let j = ids
            .iter()
            .position(|i| str_of(i, "system").is_some_and(|s| s.starts_with(system::RECORD_PREFIX)))
            .unwrap_or(0);
        let ident = ids.get(j)?;
        let at = format!("{}.identifier[{j}]", self.at);
        if !ident.is_object() {
            check.push(Issue::wrong_type(at, Kind::Object));
            return None;
        }
        let value = check.string(ident, "value", &at, true)?.trim().to_owned();
        let sys = check.string(ident, "system", &at, false);
        let (source, record) = match sys.map(|s| (s, s.strip_prefix(system::RECORD_PREFIX))) {
            Some((_, Some(source))) if !source.is_empty() => (decode_segment(source), value),
            Some((s, _)) => ("fhir".to_owned(), format!("{s}|{value}")),
            None => ("fhir".to_owned(), value),
        };
        Some((source, record, at))
    }

    /// The EU DCC product code (else any coding, else the text, which may be a known alias).
    fn vaccine_code(&self, check: &mut Check) -> Option<String> {
        let at = format!("{}.vaccineCode", self.at);
        let concept = check.object(self.resource, "vaccineCode", &self.at, true)?;
        let codings = check.array(concept, "coding", &at, false);
        let code = codings
            .iter()
            .find(|c| str_of(c, "system") == Some(system::VACCINE) && str_of(c, "code").is_some())
            .or_else(|| codings.iter().find(|c| str_of(c, "code").is_some()))
            .and_then(|c| str_of(c, "code"))
            .or_else(|| str_of(concept, "text"));
        let Some(code) = code else {
            check.push(Issue::missing(format!("{at}.coding")));
            return None;
        };
        match Vaccine::parse(code) {
            Ok(_) => Some(code.to_owned()),
            Err(e) => {
                check.push(Issue::from_parse(at, e));
                None
            }
        }
    }

    fn occurrence(&self, check: &mut Check) -> Option<String> {
        let r = self.resource;
        if r.get("occurrenceDateTime").is_none() && r.get("occurrenceString").is_some() {
            check.push(Issue::new(
                format!("{}.occurrenceString", self.at),
                "unsupported_occurrence",
                "Cần occurrenceDateTime; không dùng được occurrenceString",
                "occurrenceDateTime is required; occurrenceString cannot be used",
            ));
            return None;
        }
        let raw = check.string(r, "occurrenceDateTime", &self.at, true)?;
        match parse_administered_at(raw, self.now) {
            Ok(_) => Some(raw.to_owned()),
            Err(e) => {
                check.push(Issue::from_parse(
                    format!("{}.occurrenceDateTime", self.at),
                    e,
                ));
                None
            }
        }
    }

    /// The Patient of this bundle that `patient.reference` points at.
    fn patient(&self, check: &mut Check) -> Option<&PatientRead> {
        let at = format!("{}.patient", self.at);
        let subject = check.object(self.resource, "patient", &self.at, true)?;
        let reference = check.string(subject, "reference", &at, true)?;
        let found = self.by_reference.get(reference).or_else(|| {
            // An absolute URL ending in Patient/{id} may name a resource listed by its id.
            let tail = reference.rfind("Patient/").map(|k| &reference[k..])?;
            self.by_reference.get(tail)
        });
        let Some(&index) = found else {
            check.push(Issue::new(
                format!("{at}.reference"),
                "unresolved_reference",
                format!("Tham chiếu '{reference}' không trỏ tới Patient nào trong gói"),
                format!("Reference '{reference}' does not point to a Patient in the bundle"),
            ));
            return None;
        };
        let patient = self.patients.get(index)?;
        // A Patient without a usable name was reported where it is; nothing to add here.
        patient.full_name.as_ref()?;
        Some(patient)
    }

    /// `protocolApplied[0].doseNumberPositiveInt` (or `doseNumberString`) and its `FHIRPath`.
    fn dose_number(&self, check: &mut Check) -> Option<(String, String)> {
        let applied = check.array(self.resource, "protocolApplied", &self.at, true);
        let first = applied.first()?;
        let at = format!("{}.protocolApplied[0]", self.at);
        let (raw, dose_at) = if let Some(v) = first.get("doseNumberPositiveInt") {
            let dose_at = format!("{at}.doseNumberPositiveInt");
            let Some(n) = v.as_u64() else {
                check.push(Issue::wrong_type(dose_at, Kind::PositiveInt));
                return None;
            };
            (n.to_string(), dose_at)
        } else if first.get("doseNumberString").is_some() {
            let raw = check.string(first, "doseNumberString", &at, true)?;
            (raw.to_owned(), format!("{at}.doseNumberString"))
        } else {
            check.push(Issue::missing(format!("{at}.doseNumberPositiveInt")));
            return None;
        };
        match parse_dose_number(&raw) {
            Ok(_) => Some((raw, dose_at)),
            Err(e) => {
                check.push(Issue::from_parse(dose_at, e));
                None
            }
        }
    }

    /// The site: `location`'s identifier or display, else the first performer's.
    fn site_code(&self, check: &mut Check) -> Option<String> {
        fn of(reference: &Value) -> Option<&str> {
            reference
                .get("identifier")
                .and_then(|i| str_of(i, "value"))
                .or_else(|| str_of(reference, "display"))
        }
        let r = self.resource;
        let performers = r.get("performer").and_then(Value::as_array);
        let site = r
            .get("location")
            .and_then(of)
            .or_else(|| performers?.iter().find_map(|p| p.get("actor").and_then(of)));
        if site.is_none() {
            check.push(Issue::new(
                format!("{}.location", self.at),
                "missing",
                "Thiếu nơi tiêm (location hoặc performer)",
                "The vaccination site is missing (location or performer)",
            ));
        }
        site.map(str::to_owned)
    }
}
