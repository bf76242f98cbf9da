//! The citizen app's storage: accounts bound to a registry citizen and a phone, one-time-code
//! challenges, the people an account manages, and health-insurance cards.

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;
use vaxtrace_domain::{Jurisdiction, PersonalId};

use crate::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OtpPurpose {
    Signup,
    Login,
}

impl OtpPurpose {
    pub fn code(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::Login => "login",
        }
    }

    pub(crate) fn from_code(code: &str) -> StoreResult<Self> {
        match code {
            "signup" => Ok(Self::Signup),
            "login" => Ok(Self::Login),
            _ => Err(crate::StoreError::Corrupt("otp_challenges.purpose".into())),
        }
    }
}

/// A code just sent; only its hash is stored. A refused attempt is stored `spent`, so it counts
/// toward the sending limit (guessing someone's details costs as much as asking for codes).
#[derive(Debug, Clone)]
pub struct NewChallenge {
    pub id: String,
    pub purpose: OtpPurpose,
    pub personal_id: PersonalId,
    pub phone: String,
    pub code_hash: [u8; 32],
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub spent: bool,
}

/// How many codes one person and one phone may be sent within a window.
#[derive(Debug, Clone, Copy)]
pub struct SendLimit {
    pub since: OffsetDateTime,
    pub per_person: u32,
    pub per_phone: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub purpose: OtpPurpose,
    pub personal_id: PersonalId,
    pub phone: String,
}

/// The outcome of typing a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeem {
    Accepted(Challenge),
    Wrong {
        attempts_left: u32,
    },
    /// Too many wrong codes: this challenge is dead; ask for a new code.
    Locked,
    Expired,
    /// No such challenge, or already used.
    Unknown,
}

/// A stored challenge as the redeem rule sees it.
pub(crate) struct ChallengeRow {
    pub purpose: String,
    pub personal_id: i64,
    pub phone: String,
    pub code_hash: Vec<u8>,
    pub expires_at: i64,
    pub attempts: i64,
    pub used: bool,
}

/// What to write back after judging a code.
pub(crate) enum RedeemWrite {
    Nothing,
    MarkUsed,
    CountAttempt,
}

/// One rule for both backends: spent → unknown, too many tries → locked, late → expired; a
/// match spends the challenge, a miss counts an attempt.
pub(crate) fn judge(
    row: Option<ChallengeRow>,
    code_hash: &[u8; 32],
    now_micros: i64,
    max_attempts: u32,
) -> StoreResult<(Redeem, RedeemWrite)> {
    let Some(row) = row.filter(|r| !r.used) else {
        return Ok((Redeem::Unknown, RedeemWrite::Nothing));
    };
    let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
    if attempts >= max_attempts {
        return Ok((Redeem::Locked, RedeemWrite::Nothing));
    }
    if row.expires_at <= now_micros {
        return Ok((Redeem::Expired, RedeemWrite::Nothing));
    }
    if constant_time_eq(&row.code_hash, code_hash) {
        let challenge = Challenge {
            purpose: OtpPurpose::from_code(&row.purpose)?,
            personal_id: crate::trace::pid(row.personal_id, "otp_challenges.personal_id")?,
            phone: row.phone,
        };
        return Ok((Redeem::Accepted(challenge), RedeemWrite::MarkUsed));
    }
    let left = max_attempts - attempts - 1;
    let outcome = if left == 0 {
        Redeem::Locked
    } else {
        Redeem::Wrong {
            attempts_left: left,
        }
    };
    Ok((outcome, RedeemWrite::CountAttempt))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitizenAccount {
    pub personal_id: PersonalId,
    pub user_id: i64,
    pub phone: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub phone_bound_at: OffsetDateTime,
}

/// The users row of a citizen account: only one-time codes log it in.
pub const CITIZEN_USERNAME_PREFIX: &str = "citizen-";
/// Not a PHC string, so no password ever verifies against it.
pub(crate) const NO_PASSWORD: &str = "!otp-only";

#[derive(Debug, Clone)]
pub struct NewCitizenAccount {
    pub personal_id: PersonalId,
    pub phone: String,
    /// The commune of permanent residence: the account's users row is scoped to it.
    pub jurisdiction: Jurisdiction,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountPerson {
    pub personal_id: PersonalId,
    /// A [`vaxtrace_domain::Relation`] code; `self` for the holder.
    pub relation: String,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddPerson {
    Added,
    AlreadyThere,
    /// The account manages the most people allowed.
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsuranceCard {
    pub personal_id: PersonalId,
    pub card_number: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub source: String,
}

#[async_trait]
pub trait CitizenAppStore {
    /// Stores a challenge unless the person or the phone was sent too many codes since
    /// `limit.since`; false means refused and nothing stored.
    async fn insert_challenge(&self, c: NewChallenge, limit: SendLimit) -> StoreResult<bool>;
    /// Judges a typed code against a challenge in one transaction.
    async fn redeem_challenge(
        &self,
        id: String,
        code_hash: [u8; 32],
        now: OffsetDateTime,
        max_attempts: u32,
    ) -> StoreResult<Redeem>;

    async fn citizen_account(&self, personal_id: PersonalId)
    -> StoreResult<Option<CitizenAccount>>;
    async fn citizen_account_of_user(&self, user_id: i64) -> StoreResult<Option<CitizenAccount>>;
    /// The account, its users row and its holder as the first managed person, in one
    /// transaction; `Conflict` when the citizen has an account, or when a users row of that name
    /// exists that is not a password-less citizen row. The holder leaves any other account that
    /// managed them: from now on they manage themselves.
    async fn create_citizen_account(&self, a: NewCitizenAccount) -> StoreResult<CitizenAccount>;
    /// Binds the account to a new phone and ends its sessions; false when there is no account.
    async fn rebind_phone(
        &self,
        personal_id: PersonalId,
        phone: String,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;

    /// The people an account manages, the holder first.
    async fn account_people(&self, owner: PersonalId) -> StoreResult<Vec<AccountPerson>>;
    async fn add_account_person(
        &self,
        owner: PersonalId,
        person: PersonalId,
        relation: &'static str,
        at: OffsetDateTime,
        max_people: usize,
    ) -> StoreResult<AddPerson>;

    /// Stops managing a member (never the holder); false when they were not managed.
    async fn remove_account_person(
        &self,
        owner: PersonalId,
        person: PersonalId,
    ) -> StoreResult<bool>;

    /// Inserts or replaces cards by personal ID; returns how many rows were written.
    async fn upsert_insurance_cards(
        &self,
        cards: Vec<InsuranceCard>,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
    async fn insurance_card(&self, personal_id: PersonalId) -> StoreResult<Option<InsuranceCard>>;
}

pub(crate) fn citizen_username(personal_id: PersonalId) -> String {
    format!("{CITIZEN_USERNAME_PREFIX}{personal_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &[u8; 32], attempts: i64, expires_at: i64, used: bool) -> ChallengeRow {
        ChallengeRow {
            purpose: "login".into(),
            personal_id: 91_087_123_456,
            phone: "0912345678".into(),
            code_hash: code.to_vec(),
            expires_at,
            attempts,
            used,
        }
    }

    #[test]
    fn the_redeem_rule_spends_counts_locks_and_expires() {
        let good = [7u8; 32];
        let bad = [8u8; 32];
        let judged = |r, h, now| judge(Some(r), h, now, 3).unwrap().0;
        assert!(matches!(
            judged(row(&good, 0, 100, false), &good, 50),
            Redeem::Accepted(_)
        ));
        assert_eq!(
            judged(row(&good, 0, 100, false), &bad, 50),
            Redeem::Wrong { attempts_left: 2 }
        );
        assert_eq!(judged(row(&good, 2, 100, false), &bad, 50), Redeem::Locked);
        // Locked stays locked even for the right code.
        assert_eq!(judged(row(&good, 3, 100, false), &good, 50), Redeem::Locked);
        assert_eq!(
            judged(row(&good, 0, 100, false), &good, 100),
            Redeem::Expired
        );
        assert_eq!(judged(row(&good, 0, 100, true), &good, 50), Redeem::Unknown);
        assert_eq!(judge(None, &good, 50, 3).unwrap().0, Redeem::Unknown);
    }
}
