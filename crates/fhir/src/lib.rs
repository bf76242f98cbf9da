//! FHIR R4 exchange of immunizations with the health sector.
//!
//! Owns the mapping both ways: [`citizen_bundle`] writes one citizen as a `Bundle` (type
//! `collection`) of one `Patient` and an `Immunization` per vaccination record; [`import_bundle`]
//! reads such a bundle back into [`vaxtrace_domain::ShotInput`]s, checking every required field and
//! reporting every problem at once, each at its `FHIRPath` location ([`Issue`], rendered as an
//! `OperationOutcome` by [`operation_outcome`]). Pure: JSON values in and out, the clock passed in.
//! It knows nothing of the store, HTTP or files: callers map their records into [`PatientFacts`]
//! and [`ImmunizationFacts`], and record the imported shots through their usual path.

mod export;
mod ids;
mod import;
mod issue;
mod json;
mod patient;

pub use export::{ImmunizationFacts, ImmunizationStatus, PatientFacts, citizen_bundle};
pub use ids::urn_uuid;
pub use import::{Import, ImportedShot, SkippedEntry, bundle_personal_ids, import_bundle};
pub use issue::{Issue, Issues, operation_outcome};

/// The code systems and identifier namespaces the bundles use.
pub mod system {
    /// Personal ID (căn cước công dân), the registry key.
    pub const CCCD: &str = "https://vaxtrace.vn/fhir/sid/cccd";
    /// Health-insurance card number (bảo hiểm y tế).
    pub const BHYT: &str = "https://vaxtrace.vn/fhir/sid/bhyt";
    /// Followed by the (percent-encoded) source: `…/record/site-app` + the source's record ID.
    pub const RECORD_PREFIX: &str = "https://vaxtrace.vn/fhir/sid/record/";
    /// Vaccination site codes (`KG-TYT-30730`).
    pub const SITE: &str = "https://vaxtrace.vn/fhir/sid/site";
    /// EU DCC `vaccine-medicinal-product` value set (EMA product numbers and the WHO-listed names).
    pub const VACCINE: &str = "https://ec.europa.eu/health/documents/community-register/html/";
    /// EU DCC `vaccine-mah-manf` value set (EMA SPOR organisation IDs).
    pub const MANUFACTURER: &str = "https://spor.ema.europa.eu/v1/organisations";
    /// GSO administrative unit codes (province 2, district 3, commune 5 digits).
    pub const ADMIN_UNIT: &str = "https://vaxtrace.vn/fhir/CodeSystem/admin-unit";
    /// Extension on `Patient.address`: one administrative unit of the address (`valueCoding`).
    pub const EXT_ADMIN_UNIT: &str = "https://vaxtrace.vn/fhir/StructureDefinition/admin-unit";
    /// Extension on `Immunization`: the commune has signed the record's current version.
    pub const EXT_SIGNED: &str = "https://vaxtrace.vn/fhir/StructureDefinition/signed-by-commune";
    /// `OperationOutcome.issue.details` codes (the [`crate::Issue`] codes).
    pub const ISSUE: &str = "https://vaxtrace.vn/fhir/CodeSystem/import-issue";
    pub const SNOMED: &str = "http://snomed.info/sct";
    /// SNOMED CT: COVID-19 (the target disease of every dose).
    pub const COVID_19: &str = "840539006";
    /// `Bundle.identifier` values are `urn:uuid:` URIs.
    pub const URI: &str = "urn:ietf:rfc:3986";
}

#[cfg(test)]
mod tests;
