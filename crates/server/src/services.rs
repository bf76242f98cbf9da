//! What the endpoints do, one function each, independent of HTTP extraction: parse with the domain,
//! enforce jurisdiction, audit, call the store.

use serde::{Deserialize, Serialize};
use vaxtrace_domain::{BirthDate, ChipQr, Citizen, FullName, Permission, PersonalId, admin_units};

use crate::middleware::Caller;
use crate::{ApiError, AppState};

/// An optional RFC 3339 instant from a request (blank = absent), or a 422 naming `field`.
pub(crate) fn parse_time(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<time::OffsetDateTime>, ApiError> {
    Ok(raw
        .filter(|s| !s.is_empty())
        .map(|s| vaxtrace_domain::date::parse_instant(field, s))
        .transpose()?)
}

/// A time in Unix seconds (how check-ins store it) as an instant.
pub(crate) fn from_unix_seconds(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A citizen as shown to an authorised officer, with place names spelled out.
#[derive(Debug, Serialize)]
pub struct CitizenView {
    #[serde(flatten)]
    pub citizen: Citizen,
    pub permanent_place: String,
    pub temporary_place: Option<String>,
}

/// `Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội`.
pub fn place_name(unit_code: &str) -> String {
    let names: Vec<&str> = admin_units()
        .lineage(unit_code)
        .iter()
        .map(|u| u.full_name)
        .collect();
    names.join(", ")
}

impl From<Citizen> for CitizenView {
    fn from(citizen: Citizen) -> Self {
        Self {
            permanent_place: place_name(citizen.permanent.unit_code),
            temporary_place: citizen.temporary.as_ref().map(|t| place_name(t.unit_code)),
            citizen,
        }
    }
}

/// Reads one registry record for an officer: unknown → 404, outside the officer's area → 403.
/// Every attempt, allowed or refused, is audited.
pub async fn read_citizen(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
    purpose: &str,
) -> Result<Citizen, ApiError> {
    caller.require(Permission::ReadCitizen)?;
    let subject = Some(id.to_string());
    let Some(citizen) = state.store.citizen(id).await? else {
        state
            .audit
            .access(caller, "citizen.read.not_found", subject, purpose, None)
            .await?;
        return Err(ApiError::not_found("công dân", "Citizen"));
    };
    if !caller.can_see(&citizen) {
        state
            .audit
            .access(caller, "citizen.read.denied", subject, purpose, None)
            .await?;
        return Err(ApiError::outside_jurisdiction());
    }
    state
        .audit
        .access(caller, "citizen.read", subject, purpose, None)
        .await?;
    Ok(citizen)
}

#[derive(Debug, Deserialize)]
pub struct VerifyRequest {
    pub personal_id: String,
    pub full_name: String,
    pub birth_date: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct VerifyOutcome {
    #[serde(rename = "match")]
    pub matched: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mismatched: Vec<&'static str>,
}

/// Does this ID belong to this name and birth date? Answers yes/no and names the disagreeing
/// fields, never the registry's values.
pub async fn verify_identity(
    state: &AppState,
    caller: &Caller,
    req: &VerifyRequest,
) -> Result<VerifyOutcome, ApiError> {
    caller.require(Permission::VerifyIdentity)?;
    let id = PersonalId::parse(&req.personal_id)?;
    let name = FullName::parse(&req.full_name)?;
    let birth = BirthDate::parse(&req.birth_date)?;
    let citizen = state.reader().citizen(id).await?;
    let mismatched = match &citizen {
        None => vec!["personal_id"],
        Some(c) => c.identity_mismatches(&name, birth, None),
    };
    let outcome = VerifyOutcome {
        matched: mismatched.is_empty(),
        mismatched,
    };
    let detail = Some(if outcome.matched {
        "match".to_owned()
    } else {
        format!("mismatch:{}", outcome.mismatched.join(","))
    });
    state
        .audit
        .access(
            caller,
            "identity.verify",
            Some(id.to_string()),
            "identity_verification",
            detail,
        )
        .await?;
    Ok(outcome)
}

#[derive(Debug, Serialize)]
pub struct QrLookup {
    pub citizen: CitizenView,
    /// Whether the card's name and birth date agree with the registry.
    pub card_matches_registry: bool,
    pub mismatched: Vec<&'static str>,
}

/// Looks a citizen up from the chip ID card's QR text and checks the card against the registry.
pub async fn lookup_by_qr(
    state: &AppState,
    caller: &Caller,
    qr_text: &str,
) -> Result<QrLookup, ApiError> {
    let card = ChipQr::parse(qr_text)?;
    let citizen = read_citizen(state, caller, card.personal_id, "citizen_lookup_qr").await?;
    let mismatched = citizen.identity_mismatches(
        &card.full_name,
        BirthDate::Full(card.birth_date),
        Some(card.sex),
    );
    Ok(QrLookup {
        card_matches_registry: mismatched.is_empty(),
        mismatched,
        citizen: citizen.into(),
    })
}
