//! FHIR R4 exchange with the health sector: a citizen's records as a `Bundle`, and bundles from
//! the Ministry of Health's systems recorded through the same path as `POST /api/v1/vaccinations`
//! (so each shot is matched to the registry). The mapping itself is `vaxtrace-fhir`'s.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use vaxtrace_domain::{Citizen, LifeStatus, Permission, PersonalId, ShotInput};
use vaxtrace_fhir::{
    ImmunizationFacts, ImmunizationStatus, Issue, PatientFacts, SkippedEntry, operation_outcome,
};
use vaxtrace_store::{InsuranceCard, LinkDecision, ShotRecord};

use crate::middleware::Caller;
use crate::services::read_citizen;
use crate::vaccinations::{Receipt, record_shot};
use crate::{ApiError, AppState};

/// Issue locations kept in a refusal's audit detail (the response has them all).
const AUDITED_ISSUES: usize = 10;

/// The request body of `POST /api/v1/fhir/import` in the `OpenAPI` document (the FHIR schema
/// proper is HL7's; this names what the importer reads).
pub(crate) fn bundle_schema() -> Value {
    serde_json::json!({"type": "object", "required": ["resourceType", "type", "entry"],
        "description": "FHIR R4 Bundle: Patient and Immunization resources (others are ignored)",
        "properties": {"resourceType": {"const": "Bundle"}, "type": {"type": "string"},
            "entry": {"type": "array", "items": {"type": "object",
                "properties": {"fullUrl": {"type": "string"}, "resource": {"type": "object"}}}}}})
}

/// The Bundle of a citizen the caller has already been allowed to see (officers through
/// [`export`], the citizen app through the managed person it resolved): no access check here.
pub async fn citizen_bundle(state: &AppState, citizen: &Citizen) -> Result<Value, ApiError> {
    let id = citizen.personal_id;
    let records = state.reader().records_for_citizen(id).await?;
    let card = state.reader().insurance_card(id).await?;
    Ok(bundle_of(
        citizen,
        &records,
        card,
        OffsetDateTime::now_utc(),
    ))
}

/// For an officer: jurisdiction-checked and audited as a registry read (purpose `fhir_export`).
pub async fn export(state: &AppState, caller: &Caller, id: PersonalId) -> Result<Value, ApiError> {
    let citizen = read_citizen(state, caller, id, "fhir_export").await?;
    citizen_bundle(state, &citizen).await
}

fn bundle_of(
    citizen: &Citizen,
    records: &[ShotRecord],
    card: Option<InsuranceCard>,
    now: OffsetDateTime,
) -> Value {
    let patient = PatientFacts {
        personal_id: citizen.personal_id,
        full_name: citizen.full_name.clone(),
        birth_date: citizen.birth_date,
        sex: citizen.sex,
        permanent: citizen.permanent.clone(),
        temporary: citizen.temporary.clone(),
        phone: citizen.phone.clone(),
        // From the social-insurance agency's delivery (`vaxtrace import insurance`).
        health_insurance_number: card.map(|c| c.card_number),
        deceased: citizen.status == LifeStatus::Deceased,
    };
    let immunizations: Vec<ImmunizationFacts> =
        records.iter().filter_map(immunization_of).collect();
    vaxtrace_fhir::citizen_bundle(&patient, &immunizations, now)
}

/// Linked records are doses given (`completed`, signed or not, as the extension says); a
/// duplicate report is `entered-in-error`, so a receiver that has it from elsewhere can drop it.
/// Records waiting for review, unmatched or rejected are not this citizen's by any decision yet.
fn immunization_of(r: &ShotRecord) -> Option<ImmunizationFacts> {
    let status = match r.decision {
        LinkDecision::Auto | LinkDecision::Confirmed => ImmunizationStatus::Completed,
        LinkDecision::Duplicate => ImmunizationStatus::EnteredInError,
        LinkDecision::Review | LinkDecision::Unmatched | LinkDecision::Rejected => return None,
    };
    Some(ImmunizationFacts {
        source: r.source.clone(),
        source_record_id: r.source_record_id.clone(),
        vaccine_code: r.vaccine_code.clone(),
        dose_number: r.dose_number,
        administered_at: r.administered_at,
        site_code: r.site_code.clone(),
        lot: r.lot.clone(),
        recorded_at: Some(r.received_at),
        status,
        signed: r.is_signed(),
    })
}

/// What became of one entry of an imported bundle.
#[derive(Debug, Serialize)]
pub struct EntryResult {
    /// Index in `Bundle.entry`.
    pub entry: usize,
    #[serde(rename = "fullUrl", skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// 201 inserted, 200 replayed, 409 sent before with other content (kept aside); absent for
    /// a skipped entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(flatten)]
    pub receipt: Option<Receipt>,
    /// The Immunization's status when it was not a dose to record (`entered-in-error`, `not-done`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub recorded: usize,
    pub entries: Vec<EntryResult>,
}

/// Records every dose of a bundle. All entries are checked (FHIR structure, the domain's rules,
/// the caller's area) before the first is stored; any problem refuses the whole bundle, with
/// every issue, and the refusal is audited.
pub async fn import(
    state: &AppState,
    caller: &Caller,
    bundle: &Value,
) -> Result<ImportReport, ApiError> {
    caller.require(Permission::RecordVaccination)?;
    let now = OffsetDateTime::now_utc();
    let import = match vaxtrace_fhir::import_bundle(bundle, now) {
        Ok(import) => import,
        Err(issues) => {
            audit(
                state,
                caller,
                bundle,
                "fhir.import.refused",
                refusal(&issues.0),
            )
            .await?;
            return Err(invalid_bundle(&issues.0));
        }
    };
    if let Some((entry, _)) = import
        .shots
        .iter()
        .map(|s| (s.entry, &s.input))
        .find(|(_, input)| !within_area(caller, input, now))
    {
        let detail = format!("outside_jurisdiction Bundle.entry[{entry}]");
        audit(state, caller, bundle, "fhir.import.refused", detail).await?;
        let mut err = ApiError::outside_area(
            "Xã của mũi tiêm không thuộc địa bàn của bạn",
            "The record's commune is outside your jurisdiction",
        );
        err.field = Some(format!("Bundle.entry[{entry}]"));
        return Err(err);
    }
    let mut entries = Vec::with_capacity(import.shots.len() + import.skipped.len());
    for shot in &import.shots {
        let (status, receipt, error) = match record_shot(state, caller, &shot.input).await {
            Ok((status, receipt)) => (status, Some(receipt), None),
            // Kept aside by the store, as for a single report; the other entries still count.
            Err(e) if e.status == StatusCode::CONFLICT => (e.status, None, Some(e)),
            Err(e) => return Err(e),
        };
        entries.push(EntryResult {
            entry: shot.entry,
            full_url: shot.full_url.clone(),
            status: Some(status.as_u16()),
            receipt,
            skipped: None,
            error,
        });
    }
    entries.extend(import.skipped.iter().map(skipped));
    entries.sort_by_key(|e| e.entry);
    let recorded = entries.iter().filter(|e| e.receipt.is_some()).count();
    let detail = format!("entries:{} recorded:{recorded}", entries.len());
    audit(state, caller, bundle, "fhir.import", detail).await?;
    Ok(ImportReport { recorded, entries })
}

/// The check `record_shot` makes, made for every entry before any is stored.
fn within_area(caller: &Caller, input: &ShotInput, now: OffsetDateTime) -> bool {
    input
        .parse(now)
        .ok()
        .and_then(|shot| shot.commune_code)
        .is_none_or(|commune| caller.user.jurisdiction.contains(commune))
}

fn skipped(s: &SkippedEntry) -> EntryResult {
    EntryResult {
        entry: s.entry,
        full_url: None,
        status: None,
        receipt: None,
        skipped: Some(s.status),
        error: None,
    }
}

/// 422 with every issue, and the same as a FHIR `OperationOutcome` for FHIR clients.
fn invalid_bundle(issues: &[Issue]) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_fhir_bundle",
        "Gói FHIR không hợp lệ; không bản ghi nào được lưu",
        "Invalid FHIR bundle; nothing was stored",
    );
    err.field = issues.first().map(|i| i.location.clone());
    err.with("issues", serde_json::to_value(issues).unwrap_or_default())
        .with("outcome", operation_outcome(issues))
}

/// Where and what, never values: locations and codes carry no personal data.
fn refusal(issues: &[Issue]) -> String {
    let shown: Vec<String> = issues
        .iter()
        .take(AUDITED_ISSUES)
        .map(|i| format!("{} {}", i.location, i.code))
        .collect();
    format!("issues:{} {}", issues.len(), shown.join("; "))
}

/// One entry per person the bundle names (usually one), or one without a subject.
async fn audit(
    state: &AppState,
    caller: &Caller,
    bundle: &Value,
    action: &str,
    detail: String,
) -> Result<(), ApiError> {
    let ids = vaxtrace_fhir::bundle_personal_ids(bundle);
    if ids.is_empty() {
        return state
            .audit
            .access(caller, action, None, "fhir_import", Some(detail))
            .await;
    }
    for id in ids {
        state
            .audit
            .access(
                caller,
                action,
                Some(id.to_string()),
                "fhir_import",
                Some(detail.clone()),
            )
            .await?;
    }
    Ok(())
}
