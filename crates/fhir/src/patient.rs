//! The identity fields of a `Patient` resource, as a shot report carries them: the personal ID,
//! name, birth date, sex, phone and commune. Only the name is required; the rest helps matching.

use serde_json::Value;
use vaxtrace_domain::{FullName, UnitLevel};

use crate::issue::Issue;
use crate::json::{Check, str_of};
use crate::system;

#[derive(Debug, Clone, Default)]
pub(crate) struct PatientRead {
    pub personal_id: Option<String>,
    pub full_name: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub commune_code: Option<String>,
    /// `FHIRPath` of the resource, for issues found later (e.g. by the domain's name check).
    pub at: String,
}

const GENDERS: [&str; 4] = ["male", "female", "other", "unknown"];

pub(crate) fn read(check: &mut Check, resource: &Value, at: &str) -> PatientRead {
    let personal_id = check
        .array(resource, "identifier", at, false)
        .iter()
        .find(|i| str_of(i, "system") == Some(system::CCCD))
        .and_then(|i| str_of(i, "value"))
        .map(str::to_owned);
    let birth_date = check
        .string(resource, "birthDate", at, false)
        .map(str::to_owned);
    let sex = match check.string(resource, "gender", at, false) {
        Some("male") => Some("M".to_owned()),
        Some("female") => Some("F".to_owned()),
        Some("other" | "unknown") | None => None,
        Some(other) => {
            check.push(Issue::invalid_code(format!("{at}.gender"), other, &GENDERS));
            None
        }
    };
    let phone = check
        .array(resource, "telecom", at, false)
        .iter()
        .find(|t| str_of(t, "system") == Some("phone"))
        .and_then(|t| str_of(t, "value"))
        .map(str::to_owned);
    PatientRead {
        personal_id,
        full_name: full_name(check, resource, at),
        birth_date,
        sex,
        phone,
        commune_code: commune(check, resource, at),
        at: at.to_owned(),
    }
}

/// `name.text`, else family then given names (the Vietnamese order). The official name is
/// preferred when there are several.
fn full_name(check: &mut Check, resource: &Value, at: &str) -> Option<String> {
    let names = check.array(resource, "name", at, true);
    let (i, name) = names
        .iter()
        .enumerate()
        .find(|(_, n)| str_of(n, "use") == Some("official"))
        .or_else(|| names.iter().enumerate().next())?;
    if let Some(text) = str_of(name, "text") {
        return Some(text.to_owned());
    }
    let mut words: Vec<&str> = str_of(name, "family").into_iter().collect();
    if let Some(given) = name.get("given").and_then(Value::as_array) {
        words.extend(given.iter().filter_map(Value::as_str));
    }
    let joined = words.join(" ");
    if joined.trim().is_empty() {
        check.push(Issue::missing(format!("{at}.name[{i}].text")));
        return None;
    }
    Some(joined)
}

/// The commune of the home address (else the first), from its admin-unit extensions; a
/// communeless island district when no commune is given.
fn commune(check: &mut Check, resource: &Value, at: &str) -> Option<String> {
    let addresses = check.array(resource, "address", at, false);
    let address = addresses
        .iter()
        .find(|a| str_of(a, "use") == Some("home"))
        .or_else(|| addresses.first())?;
    let codes: Vec<&str> = address
        .get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| str_of(e, "url") == Some(system::EXT_ADMIN_UNIT))
        .filter_map(|e| e.get("valueCoding"))
        .filter(|c| str_of(c, "system") == Some(system::ADMIN_UNIT))
        .filter_map(|c| str_of(c, "code"))
        .collect();
    let level = |c: &&str| UnitLevel::of_code(c);
    codes
        .iter()
        .find(|c| level(c) == Some(UnitLevel::Commune))
        .or_else(|| codes.iter().find(|c| level(c) == Some(UnitLevel::District)))
        .map(|c| (*c).to_owned())
}

/// The domain's name check, so a bad name is reported at the Patient, not at each Immunization.
pub(crate) fn check_name(check: &mut Check, patient: &PatientRead) {
    if let Some(name) = &patient.full_name
        && let Err(e) = FullName::parse(name)
    {
        check.push(Issue::from_parse(format!("{}.name", patient.at), e));
    }
}
