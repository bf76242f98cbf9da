//! The citizen app's home: the people one account manages (the holder and household members
//! checked against the registry), and the health card of each. Every read is audited under the
//! purpose `citizen_self_service`.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vaxtrace_domain::citizen_app::MAX_PEOPLE_PER_ACCOUNT;
use vaxtrace_domain::{
    BirthDate, Citizen, FullName, LifeStatus, Permission, PersonalId, Relation, Vaccine,
};
use vaxtrace_store::{AccountPerson, AddPerson, CitizenAccount, InsuranceCard, ShotRecord};

use crate::certificates::{IssuedCertificate, certificate_of};
use crate::declarations::{pass_signer, signed_pass};
use crate::middleware::Caller;
use crate::vaccinations::evaluate_records;
use crate::{ApiError, AppState};

pub(crate) const PURPOSE: &str = "citizen_self_service";

/// The caller's account; only citizens have one.
pub(crate) async fn account_of(
    state: &AppState,
    caller: &Caller,
) -> Result<CitizenAccount, ApiError> {
    caller.require(Permission::UseCitizenApp)?;
    state
        .store
        .citizen_account_of_user(caller.user.id)
        .await?
        .ok_or_else(ApiError::forbidden_role)
}

fn not_managed() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_your_household",
        "Người này không thuộc tài khoản của bạn; hãy thêm vào mục Gia đình trước",
        "This person is not managed by your account; add them under Household first",
    )
}

/// Citizens of the app act only for the people their account manages. Officers, and `citizen`
/// logins made with `vaxtrace user add` (a shared declaration kiosk, which checks each person
/// against the registry instead), are not limited here. A refusal is audited.
pub async fn may_act_for(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
) -> Result<(), ApiError> {
    if !caller.user.role.allows(Permission::UseCitizenApp) {
        return Ok(());
    }
    let Some(account) = state.store.citizen_account_of_user(caller.user.id).await? else {
        return Ok(());
    };
    let people = state.store.account_people(account.personal_id).await?;
    if people.iter().any(|p| p.personal_id == id)
        && still_household(state, account.personal_id, id).await?
    {
        return Ok(());
    }
    state
        .audit
        .access(
            caller,
            "citizen_app.not_managed",
            Some(id.to_string()),
            PURPOSE,
            None,
        )
        .await?;
    Err(not_managed())
}

/// One person the caller manages, resolved from `?person=` (the holder when absent).
#[derive(Debug)]
pub(crate) struct Managed {
    pub person: AccountPerson,
    pub citizen: Citizen,
}

pub(crate) async fn managed(
    state: &AppState,
    caller: &Caller,
    person: Option<&str>,
) -> Result<Managed, ApiError> {
    let account = account_of(state, caller).await?;
    let id = match person.map(str::trim).filter(|p| !p.is_empty()) {
        Some(raw) => PersonalId::parse(raw).map_err(|e| ApiError::from(e.for_field("person")))?,
        None => account.personal_id,
    };
    let person = state
        .store
        .account_people(account.personal_id)
        .await?
        .into_iter()
        .find(|p| p.personal_id == id)
        .ok_or_else(not_managed)?;
    if !still_household(state, account.personal_id, id).await? {
        return Err(not_managed());
    }
    let citizen = state
        .store
        .citizen(id)
        .await?
        .ok_or_else(|| ApiError::not_found("công dân", "Citizen"))?;
    Ok(Managed { person, citizen })
}

/// A member stays managed only while the registry keeps them in the holder's household: one who
/// moves out leaves the account's view at once.
async fn still_household(
    state: &AppState,
    holder: PersonalId,
    member: PersonalId,
) -> Result<bool, ApiError> {
    if holder == member {
        return Ok(true);
    }
    let household = |c: Option<Citizen>| c.and_then(|c| c.household_id);
    let of_holder = household(state.store.citizen(holder).await?);
    Ok(of_holder.is_some() && of_holder == household(state.store.citizen(member).await?))
}

/// `POST /api/v1/me/people/{personal_id}/remove`: the account stops managing a member.
pub async fn remove_person(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
) -> Result<(), ApiError> {
    let account = account_of(state, caller).await?;
    if !state
        .store
        .remove_account_person(account.personal_id, id)
        .await?
    {
        return Err(not_managed());
    }
    state
        .audit
        .access(
            caller,
            "citizen_app.remove_person",
            Some(id.to_string()),
            PURPOSE,
            None,
        )
        .await
}

#[derive(Debug, Serialize)]
pub struct PersonView {
    pub personal_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub relation: String,
}

fn person_view(person: &AccountPerson, citizen: &Citizen) -> PersonView {
    PersonView {
        personal_id: person.personal_id.to_string(),
        full_name: citizen.full_name.as_str().to_owned(),
        birth_date: citizen.birth_date.to_string(),
        relation: person.relation.clone(),
    }
}

/// `GET /api/v1/me/people`: the holder first, then household members.
pub async fn people(state: &AppState, caller: &Caller) -> Result<Vec<PersonView>, ApiError> {
    let account = account_of(state, caller).await?;
    let mut out = Vec::new();
    for person in state.store.account_people(account.personal_id).await? {
        if let Some(citizen) = state.store.citizen(person.personal_id).await? {
            out.push(person_view(&person, &citizen));
        }
    }
    state
        .audit
        .access(
            caller,
            "citizen_app.people",
            Some(account.personal_id.to_string()),
            PURPOSE,
            None,
        )
        .await?;
    Ok(out)
}

#[derive(Debug, Deserialize)]
pub struct AddPersonRequest {
    pub personal_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub relation: String,
}

/// `POST /api/v1/me/people`: a family member joins the account when the registry has them,
/// alive, under the name and birth date given, in the holder's household.
pub async fn add_person(
    state: &AppState,
    caller: &Caller,
    req: &AddPersonRequest,
) -> Result<PersonView, ApiError> {
    let account = account_of(state, caller).await?;
    let id = PersonalId::parse(&req.personal_id)?;
    let name = FullName::parse(&req.full_name)?;
    let birth = BirthDate::parse(&req.birth_date)?;
    let relation = Relation::parse_member(&req.relation)?;
    let subject = Some(id.to_string());
    let member = state.store.citizen(id).await?;
    let mismatched = match &member {
        Some(c) if c.status == LifeStatus::Alive => c.identity_mismatches(&name, birth, None),
        _ => vec!["personal_id"],
    };
    let refuse = |action: &'static str, detail: String| async move {
        state
            .audit
            .access(caller, action, subject, PURPOSE, Some(detail))
            .await
    };
    if !mismatched.is_empty() {
        refuse(
            "citizen_app.add_person.refused",
            format!("mismatch:{}", mismatched.join(",")),
        )
        .await?;
        return Err(ApiError::invalid_field(
            mismatched[0],
            "identity_mismatch",
            "Thông tin không khớp với Cơ sở dữ liệu quốc gia về dân cư",
            "The details do not match the national population registry",
        )
        .with("fields", mismatched));
    }
    if !still_household(state, account.personal_id, id).await? {
        refuse("citizen_app.add_person.refused", "not_household".into()).await?;
        return Err(ApiError::invalid_field(
            "personal_id",
            "not_household",
            "Người này không cùng hộ gia đình với bạn trong Cơ sở dữ liệu quốc gia về dân cư",
            "This person is not in your household in the national population registry",
        ));
    }
    // Someone with their own account manages themselves (and leaves others' on signing up).
    if id != account.personal_id && state.store.citizen_account(id).await?.is_some() {
        refuse("citizen_app.add_person.refused", "own_account".into()).await?;
        return Err(ApiError::invalid_field(
            "personal_id",
            "has_own_account",
            "Người này đã có tài khoản riêng",
            "This person has their own account",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let added = state
        .store
        .add_account_person(
            account.personal_id,
            id,
            relation.code(),
            now,
            MAX_PEOPLE_PER_ACCOUNT,
        )
        .await?;
    if added == AddPerson::Full {
        return Err(ApiError::invalid_field(
            "personal_id",
            "too_many_people",
            &format!("Một tài khoản quản lý tối đa {MAX_PEOPLE_PER_ACCOUNT} người"),
            &format!("One account manages at most {MAX_PEOPLE_PER_ACCOUNT} people"),
        ));
    }
    state
        .audit
        .access(
            caller,
            "citizen_app.add_person",
            Some(id.to_string()),
            PURPOSE,
            None,
        )
        .await?;
    let person = AccountPerson {
        personal_id: id,
        relation: relation.code().into(),
        added_at: now,
    };
    let member = member.ok_or_else(ApiError::internal)?;
    Ok(person_view(&person, &member))
}

#[derive(Debug, Serialize)]
pub struct CardStatus {
    pub colour: &'static str,
    pub rule_version: &'static str,
    pub rule_vi: String,
    pub rule_en: String,
}

#[derive(Debug, Serialize)]
pub struct CardDose {
    pub id: i64,
    pub dose_number: u8,
    pub vaccine_code: String,
    pub vaccine_name: &'static str,
    pub administered_on: String,
    pub signed: bool,
    pub counted: bool,
}

#[derive(Debug, Serialize)]
pub struct CardPass {
    pub declaration_id: i64,
    pub pass: String,
    pub pass_svg: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Serialize)]
pub struct CardCertificate {
    pub hc1: String,
    pub uvci: String,
    pub svg: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Serialize)]
pub struct CardTest {
    pub kind: String,
    pub result: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sampled_at: OffsetDateTime,
}

#[derive(Debug, Serialize)]
pub struct HealthCard {
    pub person: PersonView,
    pub status: CardStatus,
    pub doses: Vec<CardDose>,
    pub certificate: Option<CardCertificate>,
    /// Why there is no certificate, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_note_vi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_note_en: Option<String>,
    pub pass: Option<CardPass>,
    pub f0: bool,
    pub quarantined: bool,
    pub quarantine_kind: Option<String>,
    pub quarantine_ends_on: Option<String>,
    pub latest_test: Option<CardTest>,
    pub insurance: Option<InsuranceCard>,
}

pub(crate) fn card_doses(records: &[ShotRecord], counted: &[i64]) -> Vec<CardDose> {
    records
        .iter()
        .filter(|r| r.decision.is_linked())
        .map(|r| CardDose {
            id: r.id,
            dose_number: r.dose_number,
            vaccine_code: r.vaccine_code.clone(),
            vaccine_name: Vaccine::by_code(&r.vaccine_code).map_or("?", |v| v.name),
            administered_on: vaxtrace_domain::date::vietnam_day(r.administered_at).to_string(),
            signed: r.is_signed(),
            counted: counted.contains(&r.id),
        })
        .collect()
}

/// `GET /api/v1/me/card?person=`: everything the person shows at a door, in one answer.
pub async fn card(
    state: &AppState,
    caller: &Caller,
    person: Option<&str>,
) -> Result<HealthCard, ApiError> {
    let m = managed(state, caller, person).await?;
    let id = m.citizen.personal_id;
    let now = OffsetDateTime::now_utc();
    // From the primary, as the certificate below is: the card's doses and certificate agree.
    let records = state.store.records_for_citizen(id).await?;
    let status = evaluate_records(&records, now);
    let (certificate, note) = match certificate_of(state, caller, &m.citizen, PURPOSE).await {
        Ok(c) => (Some(certificate_view(c)), None),
        Err(e) => (None, Some((e.message_vi, e.message_en))),
    };
    let flags = crate::cases::health_flags(state, id, true).await?;
    let latest_test = state.store.tests_of(id).await?.into_iter().next();
    state
        .audit
        .access(
            caller,
            "citizen_app.card",
            Some(id.to_string()),
            PURPOSE,
            None,
        )
        .await?;
    Ok(HealthCard {
        person: person_view(&m.person, &m.citizen),
        status: CardStatus {
            colour: status.colour.code(),
            rule_version: status.rule_version,
            rule_vi: status.reason_vi.clone(),
            rule_en: status.reason_en.clone(),
        },
        doses: card_doses(&records, &status.counted),
        certificate,
        certificate_note_vi: note.as_ref().map(|n| n.0.clone()),
        certificate_note_en: note.map(|n| n.1),
        pass: current_pass(state, id, now).await?,
        f0: flags.f0,
        quarantined: flags.quarantined,
        quarantine_kind: flags.quarantine_kind,
        quarantine_ends_on: flags.quarantine_ends_on,
        latest_test: latest_test.map(|t| CardTest {
            kind: t.kind,
            result: t.result,
            sampled_at: t.sampled_at,
        }),
        insurance: state.store.insurance_card(id).await?,
    })
}

fn certificate_view(c: IssuedCertificate) -> CardCertificate {
    CardCertificate {
        hc1: c.hc1,
        uvci: c.uvci,
        svg: c.svg,
        expires_at: c.expires_at,
    }
}

/// The newest declaration's pass while it is valid, signed afresh (same expiry); none without a
/// pass signer, so the card still shows.
async fn current_pass(
    state: &AppState,
    id: PersonalId,
    now: OffsetDateTime,
) -> Result<Option<CardPass>, ApiError> {
    let latest = state
        .store
        .declarations_for_citizen(id)
        .await?
        .into_iter()
        .find(|d| d.revoked_at.is_none() && d.pass_expires_at > now);
    let Some(d) = latest else {
        return Ok(None);
    };
    let Ok(key) = pass_signer(state).await else {
        return Ok(None);
    };
    let (pass, pass_svg) = signed_pass(&key, d.id, d.subject_ref, now, d.pass_expires_at)?;
    Ok(Some(CardPass {
        declaration_id: d.id,
        pass,
        pass_svg,
        expires_at: d.pass_expires_at,
    }))
}

/// `POST /api/v1/me/pass?person=`: a fresh pass for the person's newest declaration of the last
/// 14 days, made here or imported from an earlier app, so nobody declares twice.
pub async fn renew_pass(
    state: &AppState,
    caller: &Caller,
    person: Option<&str>,
) -> Result<crate::legacy::PassReceipt, ApiError> {
    let m = managed(state, caller, person).await?;
    crate::legacy::fresh_pass(state, caller, m.citizen.personal_id).await
}

/// `GET /api/v1/me/certificate.html?person=`: the printable certificate of a managed person.
pub async fn certificate(
    state: &AppState,
    caller: &Caller,
    person: Option<&str>,
) -> Result<IssuedCertificate, ApiError> {
    let m = managed(state, caller, person).await?;
    certificate_of(state, caller, &m.citizen, PURPOSE).await
}
