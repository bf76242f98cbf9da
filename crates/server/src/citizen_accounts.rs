//! Citizen app accounts: sign-up checked against the registry, log-in by one-time code sent by SMS,
//! and an officer re-binding a lost phone. Every attempt, refused or not, is audited.

use axum::http::StatusCode;
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use vaxtrace_domain::citizen_app::{
    OTP_MAX_ATTEMPTS, OTP_MAX_PER_PERSON, OTP_MAX_PER_PHONE, OTP_TTL_SECONDS, OTP_WINDOW_SECONDS,
    masked_phone, parse_otp,
};
use vaxtrace_domain::{
    BirthDate, FullName, Jurisdiction, LifeStatus, Permission, PersonalId, Phone,
};
use vaxtrace_store::{
    AuditEntry, CITIZEN_USERNAME_PREFIX, NewChallenge, NewCitizenAccount, OtpPurpose, Redeem,
    SendLimit, StoreError,
};

use crate::accounts::{Session, open_session};
use crate::middleware::Caller;
use crate::services::read_citizen;
use crate::{ApiError, AppState};

const PURPOSE: &str = "citizen_account";

#[derive(Debug, Deserialize)]
pub struct SignupRequest {
    pub personal_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub phone: String,
}

#[derive(Debug, Deserialize)]
pub struct CitizenLoginRequest {
    pub personal_id: String,
    pub phone: String,
}

#[derive(Debug, Deserialize)]
pub struct CodeRequest {
    pub challenge_id: String,
    pub code: String,
}

#[derive(Debug, Deserialize)]
pub struct RebindRequest {
    pub phone: String,
    pub reason: String,
}

/// A code is on its way.
#[derive(Debug, Serialize)]
pub struct CodeSent {
    pub challenge_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The phone with all but its last three digits hidden.
    pub sent_to: String,
    /// `sms`, or `outbox` where a development server writes codes to a local file.
    pub delivery: &'static str,
}

/// What an unauthenticated attempt leaves in the audit log.
async fn audit_public(
    state: &AppState,
    action: &str,
    subject: PersonalId,
    detail: Option<String>,
) -> Result<(), ApiError> {
    state
        .audit
        .record(AuditEntry {
            at: OffsetDateTime::now_utc(),
            actor: "anonymous".into(),
            role: "public".into(),
            action: action.into(),
            subject: Some(subject.to_string()),
            purpose: PURPOSE.into(),
            detail,
        })
        .await
}

/// Which field disagreed is not said on this public endpoint: it would let anyone test a
/// stranger's name or birth date field by field (the audit log records which).
fn identity_mismatch() -> ApiError {
    ApiError::invalid_field(
        "personal_id",
        "identity_mismatch",
        "Số định danh, họ tên và ngày sinh không khớp với Cơ sở dữ liệu quốc gia về dân cư",
        "The personal ID, name and birth date do not match the national population registry",
    )
    .with(
        "fields",
        ["personal_id", "full_name", "birth_date"].to_vec(),
    )
}

fn too_many_codes() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_codes",
        "Đã thử quá nhiều lần; hãy thử lại sau 15 phút",
        "Too many attempts; try again in 15 minutes",
    )
}

/// A refused attempt counts toward the person's and the phone's sending limit, so guessing
/// someone's details is as slow as asking for codes; over the limit it is 429.
async fn count_refusal(
    state: &AppState,
    purpose: OtpPurpose,
    id: PersonalId,
    phone: &Phone,
    action: &str,
    detail: Option<String>,
) -> Result<(), ApiError> {
    let now = OffsetDateTime::now_utc();
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let attempt = NewChallenge {
        id: hex::encode(raw),
        purpose,
        personal_id: id,
        phone: phone.as_str().to_owned(),
        code_hash: [0; 32],
        created_at: now,
        expires_at: now,
        spent: true,
    };
    let counted = state
        .store
        .insert_challenge(attempt, send_limit(now))
        .await?;
    let action = if counted {
        action.to_owned()
    } else {
        format!("{action}.rate_limited")
    };
    audit_public(state, &action, id, detail).await?;
    if counted {
        Ok(())
    } else {
        Err(too_many_codes())
    }
}

fn send_limit(now: OffsetDateTime) -> SendLimit {
    SendLimit {
        since: now - Duration::seconds(OTP_WINDOW_SECONDS),
        per_person: OTP_MAX_PER_PERSON,
        per_phone: OTP_MAX_PER_PHONE,
    }
}

/// `POST /api/v1/citizen/signup`: the person must be who the registry says, and not have an
/// account yet; then a code goes to the phone they gave.
pub async fn signup(state: &AppState, req: &SignupRequest) -> Result<CodeSent, ApiError> {
    let id = PersonalId::parse(&req.personal_id)?;
    let name = FullName::parse(&req.full_name)?;
    let birth = BirthDate::parse(&req.birth_date)?;
    let phone = Phone::parse(&req.phone)?;
    let mismatched = match state.store.citizen(id).await? {
        Some(c) if c.status == LifeStatus::Alive => c.identity_mismatches(&name, birth, None),
        _ => vec!["personal_id"],
    };
    if !mismatched.is_empty() {
        let detail = Some(format!("mismatch:{}", mismatched.join(",")));
        let action = "citizen_app.signup.refused";
        count_refusal(state, OtpPurpose::Signup, id, &phone, action, detail).await?;
        return Err(identity_mismatch());
    }
    if state.store.citizen_account(id).await?.is_some() {
        audit_public(state, "citizen_app.signup.exists", id, None).await?;
        return Err(account_exists());
    }
    send_code(state, OtpPurpose::Signup, id, &phone).await
}

fn account_exists() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "account_exists",
        "Số định danh này đã có tài khoản; hãy đăng nhập, hoặc nhờ công an xã gắn lại số điện thoại",
        "This personal ID has an account; log in, or ask the commune police to re-bind the phone",
    )
}

/// `POST /api/v1/citizen/login`: a code to the phone the account is bound to.
pub async fn login(state: &AppState, req: &CitizenLoginRequest) -> Result<CodeSent, ApiError> {
    let id = PersonalId::parse(&req.personal_id)?;
    let phone = Phone::parse(&req.phone)?;
    let bound = state
        .store
        .citizen_account(id)
        .await?
        .is_some_and(|a| a.phone == phone.as_str());
    if !bound {
        let action = "citizen_app.login.refused";
        count_refusal(state, OtpPurpose::Login, id, &phone, action, None).await?;
        return Err(ApiError::invalid_field(
            "phone",
            "no_account",
            "Không có tài khoản với số định danh và số điện thoại này",
            "No account with this personal ID and phone",
        ));
    }
    send_code(state, OtpPurpose::Login, id, &phone).await
}

async fn send_code(
    state: &AppState,
    purpose: OtpPurpose,
    id: PersonalId,
    phone: &Phone,
) -> Result<CodeSent, ApiError> {
    let now = OffsetDateTime::now_utc();
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let challenge_id = hex::encode(raw);
    let expires_at = now + Duration::seconds(OTP_TTL_SECONDS);
    let limit = send_limit(now);
    let challenge = NewChallenge {
        id: challenge_id.clone(),
        purpose,
        personal_id: id,
        phone: phone.as_str().to_owned(),
        code_hash: code_hash(&challenge_id, &code),
        created_at: now,
        expires_at,
        spent: false,
    };
    let action = format!("citizen_app.{}", purpose.code());
    if !state.store.insert_challenge(challenge, limit).await? {
        audit_public(state, &format!("{action}.rate_limited"), id, None).await?;
        return Err(too_many_codes());
    }
    let text = format!("Mã xác thực vaxtrace: {code}. Hiệu lực 5 phút, không chia sẻ mã này.");
    let sender = std::sync::Arc::clone(&state.config.sms);
    let to = phone.as_str().to_owned();
    let sent = tokio::task::spawn_blocking(move || sender.send(&to, &text))
        .await
        .map_err(|_| ApiError::internal())?;
    if let Err(e) = sent {
        tracing::error!(error = %e, "one-time code not sent");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sms_unavailable",
            "Không gửi được tin nhắn; hãy thử lại sau",
            "The text message could not be sent; try again later",
        ));
    }
    audit_public(state, &format!("{action}.code_sent"), id, None).await?;
    Ok(CodeSent {
        challenge_id,
        expires_at,
        sent_to: masked_phone(phone),
        delivery: state.config.sms.delivery(),
    })
}

/// Bound to its challenge, so a code typed against another challenge never matches.
fn code_hash(challenge_id: &str, code: &str) -> [u8; 32] {
    Sha256::digest(format!("{challenge_id}:{code}").as_bytes()).into()
}

/// `POST /api/v1/citizen/verify`: the code opens a session (creating the account on sign-up).
pub async fn verify_code(state: &AppState, req: &CodeRequest) -> Result<Session, ApiError> {
    let code = parse_otp(&req.code)?;
    let challenge_id = req.challenge_id.trim();
    let valid_id = challenge_id.len() == 32 && challenge_id.bytes().all(|b| b.is_ascii_hexdigit());
    let outcome = if valid_id {
        let now = OffsetDateTime::now_utc();
        let hash = code_hash(challenge_id, &code);
        state
            .store
            .redeem_challenge(challenge_id.to_owned(), hash, now, OTP_MAX_ATTEMPTS)
            .await?
    } else {
        Redeem::Unknown
    };
    let challenge = match outcome {
        Redeem::Accepted(c) => c,
        Redeem::Wrong { attempts_left } => {
            return Err(ApiError::invalid_field(
                "code",
                "wrong_code",
                "Mã xác thực không đúng",
                "Wrong code",
            )
            .with("attempts_left", attempts_left));
        }
        Redeem::Locked => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked",
                "Nhập sai quá nhiều lần; hãy yêu cầu mã mới",
                "Too many wrong codes; ask for a new one",
            ));
        }
        Redeem::Expired | Redeem::Unknown => {
            return Err(ApiError::new(
                StatusCode::GONE,
                "expired",
                "Mã đã hết hạn hoặc đã dùng; hãy yêu cầu mã mới",
                "The code has expired or was used; ask for a new one",
            ));
        }
    };
    let id = challenge.personal_id;
    if challenge.purpose == OtpPurpose::Signup {
        create_account(state, id, challenge.phone.clone()).await?;
    } else if state
        .store
        .citizen_account(id)
        .await?
        .is_none_or(|a| a.phone != challenge.phone)
    {
        // The phone was re-bound after this code was sent.
        audit_public(state, "citizen_app.login.stale", id, None).await?;
        return Err(ApiError::new(
            StatusCode::GONE,
            "expired",
            "Mã đã hết hạn hoặc đã dùng; hãy yêu cầu mã mới",
            "The code has expired or was used; ask for a new one",
        ));
    }
    let username = format!("{CITIZEN_USERNAME_PREFIX}{id}");
    let user = state
        .store
        .user_by_username(&username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(ApiError::bad_credentials)?;
    let session = open_session(state.store.as_ref(), user, state.config.session_ttl).await?;
    // A re-bind that committed while this session was being opened deleted the sessions it
    // saw, not this one: look again, and give up the session if the phone moved.
    if state
        .store
        .citizen_account(id)
        .await?
        .is_none_or(|a| a.phone != challenge.phone)
    {
        if let Some(hash) = crate::accounts::token_hash(&session.token) {
            state.store.delete_session(hash).await?;
        }
        return Err(ApiError::new(
            StatusCode::GONE,
            "expired",
            "Mã đã hết hạn hoặc đã dùng; hãy yêu cầu mã mới",
            "The code has expired or was used; ask for a new one",
        ));
    }
    audit_public(state, "citizen_app.session_opened", id, None).await?;
    Ok(session)
}

async fn create_account(state: &AppState, id: PersonalId, phone: String) -> Result<(), ApiError> {
    let Some(citizen) = state.store.citizen(id).await? else {
        return Err(identity_mismatch());
    };
    let jurisdiction =
        Jurisdiction::parse(citizen.permanent.unit_code).map_err(|_| ApiError::internal())?;
    let new = NewCitizenAccount {
        personal_id: id,
        phone,
        jurisdiction,
        at: OffsetDateTime::now_utc(),
    };
    match state.store.create_citizen_account(new).await {
        Ok(_) => audit_public(state, "citizen_app.account_created", id, None).await,
        Err(StoreError::Conflict(_)) => Err(account_exists()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/citizen-accounts/{personal_id}/phone`: an officer of the person's area binds the
/// account to a new phone (the old one was lost); the account's sessions end.
pub async fn rebind_phone(
    state: &AppState,
    caller: &Caller,
    id: PersonalId,
    req: &RebindRequest,
) -> Result<serde_json::Value, ApiError> {
    caller.require(Permission::ManageCitizenAccounts)?;
    let phone = Phone::parse(&req.phone)?;
    let reason = req.reason.trim();
    if !(3..=300).contains(&reason.chars().count()) {
        return Err(ApiError::invalid_field(
            "reason",
            "invalid_reason",
            "Ghi lý do (3–300 ký tự), ví dụ: mất điện thoại, đã đối chiếu CCCD",
            "Give a reason (3–300 characters), e.g. phone lost, ID card checked",
        ));
    }
    let citizen = read_citizen(state, caller, id, PURPOSE).await?;
    // The commune that keeps the person's permanent residence checks their ID card, not one
    // where they only stay.
    if !caller
        .user
        .jurisdiction
        .contains(citizen.permanent.unit_code)
    {
        return Err(ApiError::outside_jurisdiction());
    }
    let now = OffsetDateTime::now_utc();
    if !state
        .store
        .rebind_phone(id, phone.as_str().to_owned(), now)
        .await?
    {
        return Err(ApiError::not_found("tài khoản ứng dụng", "App account"));
    }
    if let Some(account) = state.store.citizen_account(id).await? {
        state.sessions.remove_user(account.user_id);
    }
    state
        .audit
        .access(
            caller,
            "citizen_account.rebind_phone",
            Some(id.to_string()),
            PURPOSE,
            Some(reason.to_owned()),
        )
        .await?;
    Ok(serde_json::json!({ "personal_id": id.to_string(), "sent_to": masked_phone(&phone) }))
}
