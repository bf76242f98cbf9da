//! Declarations from earlier apps, imported so that nobody declares again: each linked to the
//! registry (by personal ID, or by phone + name + birth date when the app had no ID), kept once
//! per app record, routed like a new declaration; and the pass a person asks for later.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use vaxtrace_domain::date::vietnam_day;
use vaxtrace_domain::{BirthDate, DeclarationInput, FullName, ParseError, PersonalId, Phone};
use vaxtrace_store::{CandidateQuery, Store, StoreError};

use crate::declarations::{
    PASS_HOURS, PURPOSE, Provenance, new_declaration, pass_signer, registry_mismatches, signed_pass,
};
use crate::middleware::Caller;
use crate::{ApiError, AppState};

/// One record of an earlier app, in vaxtrace's terms.
#[derive(Debug, Clone)]
pub struct LegacyDeclaration {
    /// The app: `ncovi`, `bluezone`.
    pub source: &'static str,
    /// The app's own key of the record.
    pub source_ref: String,
    pub declared_at: OffsetDateTime,
    /// With an empty `personal_id` when the app did not have it.
    pub input: DeclarationInput,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyOutcome {
    Imported {
        id: i64,
        personal_id: PersonalId,
    },
    /// This app record was imported before.
    AlreadyImported,
    /// Not linked to the registry; the reason names fields, never registry values.
    Unlinked(String),
    Invalid(ParseError),
}

/// Links a record without an ID: exactly one citizen with this phone, birth date and name (accents
/// aside, as old apps often dropped them).
async fn link_by_phone(
    store: &dyn Store,
    input: &DeclarationInput,
) -> Result<Result<PersonalId, String>, StoreError> {
    let Some(phone) = input.phone.as_deref().and_then(|p| Phone::parse(p).ok()) else {
        return Ok(Err("no personal ID and no valid phone number".into()));
    };
    let (Ok(name), Ok(birth)) = (
        FullName::parse(&input.full_name),
        BirthDate::parse(&input.birth_date),
    ) else {
        return Ok(Err(
            "no personal ID, and the name or birth date is unreadable".into(),
        ));
    };
    let query = CandidateQuery {
        phone: Some(phone.as_str().to_owned()),
        ..CandidateQuery::default()
    };
    let found = store
        .candidates(vec![query])
        .await?
        .pop()
        .unwrap_or_default();
    let matches: Vec<PersonalId> = found
        .iter()
        .filter(|c| c.full_name.folded_key() == name.folded_key() && c.birth_date.admits(birth))
        .map(|c| c.personal_id)
        .collect();
    Ok(match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err("no registry citizen with this phone, name and birth date".into()),
        _ => Err("several registry citizens share this phone, name and birth date".into()),
    })
}

/// Imports one record: links it, checks it against the registry, and stores it as history (the
/// newest declaration of a person is the one a pass is issued for).
pub async fn import_one(
    store: &dyn Store,
    item: LegacyDeclaration,
    importer: &str,
) -> Result<LegacyOutcome, StoreError> {
    let mut input = item.input;
    if input.personal_id.trim().is_empty() {
        match link_by_phone(store, &input).await? {
            Ok(id) => input.personal_id = id.to_string(),
            Err(reason) => return Ok(LegacyOutcome::Unlinked(reason)),
        }
    }
    let declaration = match input.parse(vietnam_day(item.declared_at)) {
        Ok(d) => d,
        Err(e) => return Ok(LegacyOutcome::Invalid(e)),
    };
    let Some(citizen) = store.citizen(declaration.personal_id).await? else {
        return Ok(LegacyOutcome::Unlinked(
            "personal ID not in the registry".into(),
        ));
    };
    // Earlier apps often stored names without diacritics: the folded name is enough there.
    let mut mismatched = registry_mismatches(&declaration, &citizen);
    if citizen.full_name.folded_key() == declaration.full_name.folded_key() {
        mismatched.retain(|f| *f != "full_name");
    }
    if !mismatched.is_empty() {
        return Ok(LegacyOutcome::Unlinked(format!(
            "disagrees with the registry: {}",
            mismatched.join(", ")
        )));
    }
    let record = new_declaration(
        store,
        &citizen,
        &declaration,
        Provenance {
            declared_by: importer,
            source: item.source,
            source_ref: Some(item.source_ref),
            at: item.declared_at,
        },
        item.declared_at + Duration::hours(PASS_HOURS),
    )
    .await?;
    match store.insert_declaration(record).await {
        Ok(id) => Ok(LegacyOutcome::Imported {
            id,
            personal_id: citizen.personal_id,
        }),
        Err(StoreError::Conflict(_)) => Ok(LegacyOutcome::AlreadyImported),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PassRequest {
    pub personal_id: String,
    pub full_name: String,
    pub birth_date: String,
    /// Required when the registry holds a phone number: what is printed on the card is not
    /// enough to get someone else's pass.
    pub phone: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PassReceipt {
    pub declaration_id: i64,
    pub pass: String,
    pub pass_svg: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Journeys this far back still get a pass (as when declaring).
const PASS_DAYS_BACK: i64 = 14;

/// `POST /api/v1/declarations/pass`: a fresh 72-hour pass for the person's newest declaration
/// (made here or imported from an earlier app), once name and birth date agree with the registry.
pub async fn renew(
    state: &AppState,
    caller: &Caller,
    req: &PassRequest,
) -> Result<PassReceipt, ApiError> {
    let id = PersonalId::parse(&req.personal_id)?;
    crate::citizen_home::may_act_for(state, caller, id).await?;
    let name = FullName::parse(&req.full_name)?;
    let birth = BirthDate::parse(&req.birth_date)?;
    let citizen = state.store.citizen(id).await?;
    let phone = req.phone.as_deref().and_then(|p| Phone::parse(p).ok());
    let agrees = citizen.as_ref().is_some_and(|c| {
        c.status != vaxtrace_domain::LifeStatus::Deceased
            && c.identity_mismatches(&name, birth, None).is_empty()
            && c.phone
                .as_ref()
                .is_none_or(|registered| phone.as_ref() == Some(registered))
    });
    let subject = Some(id.to_string());
    if !agrees {
        state
            .audit
            .access(caller, "declaration.pass.refused", subject, PURPOSE, None)
            .await?;
        return Err(ApiError::invalid_field(
            "full_name",
            "registry_mismatch",
            "Họ tên, ngày sinh hoặc số điện thoại không khớp với Cơ sở dữ liệu quốc gia về dân cư",
            "The name, birth date or phone does not match the national population registry",
        ));
    }
    fresh_pass(state, caller, id).await
}

/// A fresh 72-hour pass for the newest declaration of someone whose identity the caller has
/// established (by name and birth date above, or as a person the citizen app account manages).
pub(crate) async fn fresh_pass(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
) -> Result<PassReceipt, ApiError> {
    let subject = Some(id.to_string());
    let now = OffsetDateTime::now_utc();
    let earliest = (vietnam_day(now) - Duration::days(PASS_DAYS_BACK)).to_string();
    let latest = state
        .store
        .declarations_for_citizen(id)
        .await?
        .into_iter()
        .find(|d| d.revoked_at.is_none() && d.travel_date >= earliest);
    let Some(declaration) = latest else {
        return Err(ApiError::not_found(
            "tờ khai còn hiệu lực",
            "Current declaration",
        ));
    };
    let key = pass_signer(state).await?;
    let expires_at = now + Duration::hours(PASS_HOURS);
    if !state.store.renew_pass(declaration.id, expires_at).await? {
        return Err(ApiError::not_found(
            "tờ khai còn hiệu lực",
            "Current declaration",
        ));
    }
    let (pass, pass_svg) = signed_pass(
        &key,
        declaration.id,
        declaration.subject_ref,
        now,
        expires_at,
    )?;
    state
        .audit
        .access(
            caller,
            "declaration.pass",
            subject,
            PURPOSE,
            Some(declaration.id.to_string()),
        )
        .await?;
    Ok(PassReceipt {
        declaration_id: declaration.id,
        pass,
        pass_svg,
        expires_at,
    })
}
