//! `PostgreSQL` implementation of [`CitizenAppStore`].

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio_postgres::Row;
use vaxtrace_domain::{PersonalId, Role};

use crate::citizen_app::{
    AccountPerson, AddPerson, ChallengeRow, CitizenAccount, CitizenAppStore, InsuranceCard,
    NO_PASSWORD, NewChallenge, NewCitizenAccount, Redeem, RedeemWrite, SendLimit, citizen_username,
    judge,
};
use crate::trace::{person_id, pid};
use crate::{PostgresStore, StoreError, StoreResult, from_unix_micros, unix_micros};

const ACCOUNT_COLUMNS: &str = "personal_id, user_id, phone, created_at, phone_bound_at";

fn into_account(r: &Row) -> StoreResult<CitizenAccount> {
    Ok(CitizenAccount {
        personal_id: pid(r.get(0), "citizen_accounts.personal_id")?,
        user_id: r.get(1),
        phone: r.get(2),
        created_at: from_unix_micros(r.get(3)),
        phone_bound_at: from_unix_micros(r.get(4)),
    })
}

/// The advisory-lock key of a phone number (ten digits fit an i64), so two people cannot race
/// past one phone's limit.
fn phone_lock_key(phone: &str) -> i64 {
    phone.parse::<i64>().unwrap_or_default().wrapping_neg()
}

impl PostgresStore {
    async fn account_where(&self, column: &str, key: i64) -> StoreResult<Option<CitizenAccount>> {
        let client = self.pool.get().await?;
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM citizen_accounts WHERE {column} = $1");
        client
            .query_opt(&sql, &[&key])
            .await?
            .as_ref()
            .map(into_account)
            .transpose()
    }
}

#[async_trait]
impl CitizenAppStore for PostgresStore {
    async fn insert_challenge(&self, c: NewChallenge, limit: SendLimit) -> StoreResult<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let person = person_id(c.personal_id);
        tx.execute(
            "SELECT pg_advisory_xact_lock($1), pg_advisory_xact_lock($2)",
            &[&person, &phone_lock_key(&c.phone)],
        )
        .await?;
        let since = unix_micros(limit.since);
        let row = tx
            .query_one(
                "SELECT (SELECT count(*) FROM otp_challenges WHERE personal_id = $1 AND created_at >= $3), \
                        (SELECT count(*) FROM otp_challenges WHERE phone = $2 AND created_at >= $3)",
                &[&person, &c.phone, &since],
            )
            .await?;
        let (by_person, by_phone): (i64, i64) = (row.get(0), row.get(1));
        if by_person >= i64::from(limit.per_person) || by_phone >= i64::from(limit.per_phone) {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO otp_challenges (id, purpose, personal_id, phone, code_hash, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::BOOLEAN THEN $6::BIGINT END)",
            &[
                &c.id,
                &c.purpose.code(),
                &person,
                &c.phone,
                &&c.code_hash[..],
                &unix_micros(c.created_at),
                &unix_micros(c.expires_at),
                &c.spent,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn redeem_challenge(
        &self,
        id: String,
        code_hash: [u8; 32],
        now: OffsetDateTime,
        max_attempts: u32,
    ) -> StoreResult<Redeem> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT purpose, personal_id, phone, code_hash, expires_at, attempts, used_at IS NOT NULL \
                 FROM otp_challenges WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?
            .map(|r| ChallengeRow {
                purpose: r.get(0),
                personal_id: r.get(1),
                phone: r.get(2),
                code_hash: r.get(3),
                expires_at: r.get(4),
                attempts: i64::from(r.get::<_, i32>(5)),
                used: r.get(6),
            });
        let now = unix_micros(now);
        let (outcome, write) = judge(row, &code_hash, now, max_attempts)?;
        match write {
            RedeemWrite::Nothing => {}
            RedeemWrite::MarkUsed => {
                tx.execute(
                    "UPDATE otp_challenges SET used_at = $2 WHERE id = $1",
                    &[&id, &now],
                )
                .await?;
            }
            RedeemWrite::CountAttempt => {
                tx.execute(
                    "UPDATE otp_challenges SET attempts = attempts + 1 WHERE id = $1",
                    &[&id],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn citizen_account(
        &self,
        personal_id: PersonalId,
    ) -> StoreResult<Option<CitizenAccount>> {
        self.account_where("personal_id", person_id(personal_id))
            .await
    }

    async fn citizen_account_of_user(&self, user_id: i64) -> StoreResult<Option<CitizenAccount>> {
        self.account_where("user_id", user_id).await
    }

    async fn create_citizen_account(&self, a: NewCitizenAccount) -> StoreResult<CitizenAccount> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let at = unix_micros(a.at);
        let person = person_id(a.personal_id);
        let username = citizen_username(a.personal_id);
        tx.execute(
            "INSERT INTO users (username, password_hash, role, jurisdiction, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING",
            &[
                &username,
                &NO_PASSWORD,
                &Role::Citizen.code(),
                &a.jurisdiction.code(),
                &at,
            ],
        )
        .await?;
        // Only a password-less citizen row is reused: never another role's, nor one with a password.
        let user_id: i64 = tx
            .query_opt(
                "SELECT id FROM users WHERE username = $1 AND role = $2 AND password_hash = $3",
                &[&username, &Role::Citizen.code(), &NO_PASSWORD],
            )
            .await?
            .ok_or_else(|| StoreError::Conflict("username taken by another user".into()))?
            .get(0);
        tx.execute(
            "DELETE FROM account_people WHERE personal_id = $1 AND owner_id <> $1",
            &[&person],
        )
        .await?;
        // The primary key turns a second sign-up into Conflict.
        tx.execute(
            &format!(
                "INSERT INTO citizen_accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $4)"
            ),
            &[&person, &user_id, &a.phone, &at],
        )
        .await?;
        tx.execute(
            "INSERT INTO account_people (owner_id, personal_id, relation, added_at) VALUES ($1, $1, 'self', $2)",
            &[&person, &at],
        )
        .await?;
        tx.commit().await?;
        Ok(CitizenAccount {
            personal_id: a.personal_id,
            user_id,
            phone: a.phone,
            created_at: a.at,
            phone_bound_at: a.at,
        })
    }

    async fn rebind_phone(
        &self,
        personal_id: PersonalId,
        phone: String,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let user_id: Option<i64> = tx
            .query_opt(
                "UPDATE citizen_accounts SET phone = $2, phone_bound_at = $3 WHERE personal_id = $1 RETURNING user_id",
                &[&person_id(personal_id), &phone, &unix_micros(at)],
            )
            .await?
            .map(|r| r.get(0));
        if let Some(user_id) = user_id {
            tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])
                .await?;
        }
        tx.commit().await?;
        Ok(user_id.is_some())
    }

    async fn account_people(&self, owner: PersonalId) -> StoreResult<Vec<AccountPerson>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT personal_id, relation, added_at FROM account_people WHERE owner_id = $1 \
                 ORDER BY relation <> 'self', added_at, personal_id",
                &[&person_id(owner)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountPerson {
                    personal_id: pid(r.get(0), "account_people.personal_id")?,
                    relation: r.get(1),
                    added_at: from_unix_micros(r.get(2)),
                })
            })
            .collect()
    }

    async fn add_account_person(
        &self,
        owner: PersonalId,
        person: PersonalId,
        relation: &'static str,
        at: OffsetDateTime,
        max_people: usize,
    ) -> StoreResult<AddPerson> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let owner = person_id(owner);
        let person = person_id(person);
        // The holder's row serialises additions to one account.
        tx.execute(
            "SELECT 1 FROM citizen_accounts WHERE personal_id = $1 FOR UPDATE",
            &[&owner],
        )
        .await?;
        let row = tx
            .query_one(
                "SELECT count(*), coalesce(bool_or(personal_id = $2), false) FROM account_people WHERE owner_id = $1",
                &[&owner, &person],
            )
            .await?;
        let (count, present): (i64, bool) = (row.get(0), row.get(1));
        if present {
            return Ok(AddPerson::AlreadyThere);
        }
        if count as usize >= max_people {
            return Ok(AddPerson::Full);
        }
        tx.execute(
            "INSERT INTO account_people (owner_id, personal_id, relation, added_at) VALUES ($1, $2, $3, $4)",
            &[&owner, &person, &relation, &unix_micros(at)],
        )
        .await?;
        tx.commit().await?;
        Ok(AddPerson::Added)
    }

    async fn remove_account_person(
        &self,
        owner: PersonalId,
        person: PersonalId,
    ) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let removed = client
            .execute(
                "DELETE FROM account_people WHERE owner_id = $1 AND personal_id = $2 AND relation <> 'self'",
                &[&person_id(owner), &person_id(person)],
            )
            .await?;
        Ok(removed > 0)
    }

    async fn upsert_insurance_cards(
        &self,
        cards: Vec<InsuranceCard>,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare(
                "INSERT INTO health_insurance_cards (personal_id, card_number, valid_from, valid_to, source, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (personal_id) DO UPDATE SET \
                 card_number = excluded.card_number, valid_from = excluded.valid_from, \
                 valid_to = excluded.valid_to, source = excluded.source, updated_at = excluded.updated_at",
            )
            .await?;
        let at = unix_micros(at);
        let mut written = 0;
        for c in &cards {
            written += tx
                .execute(
                    &stmt,
                    &[
                        &person_id(c.personal_id),
                        &c.card_number,
                        &c.valid_from,
                        &c.valid_to,
                        &c.source,
                        &at,
                    ],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn insurance_card(&self, personal_id: PersonalId) -> StoreResult<Option<InsuranceCard>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT card_number, valid_from, valid_to, source FROM health_insurance_cards WHERE personal_id = $1",
                &[&person_id(personal_id)],
            )
            .await?;
        Ok(row.map(|r| InsuranceCard {
            personal_id,
            card_number: r.get(0),
            valid_from: r.get(1),
            valid_to: r.get(2),
            source: r.get(3),
        }))
    }
}
