//! `SQLite` implementation of [`CitizenAppStore`].

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use vaxtrace_domain::{PersonalId, Role};

use crate::citizen_app::{
    AccountPerson, AddPerson, ChallengeRow, CitizenAccount, CitizenAppStore, InsuranceCard,
    NO_PASSWORD, NewChallenge, NewCitizenAccount, Redeem, RedeemWrite, SendLimit, citizen_username,
    judge,
};
use crate::trace::{person_id, pid};
use crate::{SqliteStore, StoreError, StoreResult, from_unix_micros, unix_micros};

const ACCOUNT_COLUMNS: &str = "personal_id, user_id, phone, created_at, phone_bound_at";

fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, i64, String, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn into_account(row: (i64, i64, String, i64, i64)) -> StoreResult<CitizenAccount> {
    Ok(CitizenAccount {
        personal_id: pid(row.0, "citizen_accounts.personal_id")?,
        user_id: row.1,
        phone: row.2,
        created_at: from_unix_micros(row.3),
        phone_bound_at: from_unix_micros(row.4),
    })
}

fn account_where(conn: &Connection, column: &str, key: i64) -> StoreResult<Option<CitizenAccount>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM citizen_accounts WHERE {column} = ?1");
    conn.prepare_cached(&sql)?
        .query_row([key], account_row)
        .optional()?
        .map(into_account)
        .transpose()
}

#[async_trait]
impl CitizenAppStore for SqliteStore {
    async fn insert_challenge(&self, c: NewChallenge, limit: SendLimit) -> StoreResult<bool> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let since = unix_micros(limit.since);
            let (by_person, by_phone): (u32, u32) = tx.query_row(
                "SELECT (SELECT count(*) FROM otp_challenges WHERE personal_id = ?1 AND created_at >= ?3), \
                        (SELECT count(*) FROM otp_challenges WHERE phone = ?2 AND created_at >= ?3)",
                params![person_id(c.personal_id), c.phone, since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if by_person >= limit.per_person || by_phone >= limit.per_phone {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO otp_challenges (id, purpose, personal_id, phone, code_hash, created_at, expires_at, used_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?8 THEN ?6 END)",
                params![
                    c.id,
                    c.purpose.code(),
                    person_id(c.personal_id),
                    c.phone,
                    &c.code_hash[..],
                    unix_micros(c.created_at),
                    unix_micros(c.expires_at),
                    c.spent
                ],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn redeem_challenge(
        &self,
        id: String,
        code_hash: [u8; 32],
        now: OffsetDateTime,
        max_attempts: u32,
    ) -> StoreResult<Redeem> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = tx
                .query_row(
                    "SELECT purpose, personal_id, phone, code_hash, expires_at, attempts, used_at IS NOT NULL \
                     FROM otp_challenges WHERE id = ?1",
                    [&id],
                    |r| {
                        Ok(ChallengeRow {
                            purpose: r.get(0)?,
                            personal_id: r.get(1)?,
                            phone: r.get(2)?,
                            code_hash: r.get(3)?,
                            expires_at: r.get(4)?,
                            attempts: r.get(5)?,
                            used: r.get(6)?,
                        })
                    },
                )
                .optional()?;
            let now = unix_micros(now);
            let (outcome, write) = judge(row, &code_hash, now, max_attempts)?;
            match write {
                RedeemWrite::Nothing => {}
                RedeemWrite::MarkUsed => {
                    tx.execute("UPDATE otp_challenges SET used_at = ?2 WHERE id = ?1", params![id, now])?;
                }
                RedeemWrite::CountAttempt => {
                    tx.execute("UPDATE otp_challenges SET attempts = attempts + 1 WHERE id = ?1", [&id])?;
                }
            }
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn citizen_account(
        &self,
        personal_id: PersonalId,
    ) -> StoreResult<Option<CitizenAccount>> {
        self.read(move |conn| account_where(conn, "personal_id", person_id(personal_id)))
            .await
    }

    async fn citizen_account_of_user(&self, user_id: i64) -> StoreResult<Option<CitizenAccount>> {
        self.read_now(|conn| account_where(conn, "user_id", user_id))
    }

    async fn create_citizen_account(&self, a: NewCitizenAccount) -> StoreResult<CitizenAccount> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let at = unix_micros(a.at);
            let person = person_id(a.personal_id);
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM citizen_accounts WHERE personal_id = ?1)",
                [person],
                |r| r.get(0),
            )?;
            if exists {
                return Err(StoreError::Conflict("citizen account exists".into()));
            }
            // A users row left by a deleted account is reused, not duplicated, but only a
            // password-less citizen row: never another role's, nor one with a password.
            tx.execute(
                "INSERT INTO users (username, password_hash, role, jurisdiction, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (username) DO NOTHING",
                params![
                    citizen_username(a.personal_id),
                    NO_PASSWORD,
                    Role::Citizen.code(),
                    a.jurisdiction.code(),
                    at
                ],
            )?;
            let user_id: Option<i64> = tx
                .query_row(
                    "SELECT id FROM users WHERE username = ?1 AND role = ?2 AND password_hash = ?3",
                    params![citizen_username(a.personal_id), Role::Citizen.code(), NO_PASSWORD],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(user_id) = user_id else {
                return Err(StoreError::Conflict("username taken by another user".into()));
            };
            tx.execute(
                "DELETE FROM account_people WHERE personal_id = ?1 AND owner_id <> ?1",
                [person],
            )?;
            tx.execute(
                &format!("INSERT INTO citizen_accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?4)"),
                params![person, user_id, a.phone, at],
            )?;
            tx.execute(
                "INSERT INTO account_people (owner_id, personal_id, relation, added_at) VALUES (?1, ?1, 'self', ?2)",
                params![person, at],
            )?;
            tx.commit()?;
            Ok(CitizenAccount {
                personal_id: a.personal_id,
                user_id,
                phone: a.phone,
                created_at: a.at,
                phone_bound_at: a.at,
            })
        })
        .await
    }

    async fn rebind_phone(
        &self,
        personal_id: PersonalId,
        phone: String,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let user_id: Option<i64> = tx
                .query_row(
                    "UPDATE citizen_accounts SET phone = ?2, phone_bound_at = ?3 WHERE personal_id = ?1 RETURNING user_id",
                    params![person_id(personal_id), phone, unix_micros(at)],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(user_id) = user_id {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
            }
            tx.commit()?;
            Ok(user_id.is_some())
        })
        .await
    }

    async fn account_people(&self, owner: PersonalId) -> StoreResult<Vec<AccountPerson>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT personal_id, relation, added_at FROM account_people WHERE owner_id = ?1 \
                 ORDER BY relation <> 'self', added_at, personal_id",
            )?;
            let rows = stmt.query_map([person_id(owner)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            rows.map(|r| {
                let (id, relation, added_at) = r?;
                Ok(AccountPerson {
                    personal_id: pid(id, "account_people.personal_id")?,
                    relation,
                    added_at: from_unix_micros(added_at),
                })
            })
            .collect()
        })
        .await
    }

    async fn add_account_person(
        &self,
        owner: PersonalId,
        person: PersonalId,
        relation: &'static str,
        at: OffsetDateTime,
        max_people: usize,
    ) -> StoreResult<AddPerson> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (count, present): (usize, bool) = tx.query_row(
                "SELECT count(*), coalesce(max(personal_id = ?2), 0) FROM account_people WHERE owner_id = ?1",
                params![person_id(owner), person_id(person)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if present {
                return Ok(AddPerson::AlreadyThere);
            }
            if count >= max_people {
                return Ok(AddPerson::Full);
            }
            tx.execute(
                "INSERT INTO account_people (owner_id, personal_id, relation, added_at) VALUES (?1, ?2, ?3, ?4)",
                params![person_id(owner), person_id(person), relation, unix_micros(at)],
            )?;
            tx.commit()?;
            Ok(AddPerson::Added)
        })
        .await
    }

    async fn remove_account_person(
        &self,
        owner: PersonalId,
        person: PersonalId,
    ) -> StoreResult<bool> {
        self.write(move |conn| {
            Ok(conn.execute(
                "DELETE FROM account_people WHERE owner_id = ?1 AND personal_id = ?2 AND relation <> 'self'",
                params![person_id(owner), person_id(person)],
            )? > 0)
        })
        .await
    }

    async fn upsert_insurance_cards(
        &self,
        cards: Vec<InsuranceCard>,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut written = 0;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO health_insurance_cards (personal_id, card_number, valid_from, valid_to, source, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (personal_id) DO UPDATE SET \
                     card_number = excluded.card_number, valid_from = excluded.valid_from, \
                     valid_to = excluded.valid_to, source = excluded.source, updated_at = excluded.updated_at",
                )?;
                for c in &cards {
                    written += stmt.execute(params![
                        person_id(c.personal_id),
                        c.card_number,
                        c.valid_from,
                        c.valid_to,
                        c.source,
                        unix_micros(at)
                    ])? as u64;
                }
            }
            tx.commit()?;
            Ok(written)
        })
        .await
    }

    async fn insurance_card(&self, personal_id: PersonalId) -> StoreResult<Option<InsuranceCard>> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT card_number, valid_from, valid_to, source FROM health_insurance_cards WHERE personal_id = ?1",
            )?
            .query_row([person_id(personal_id)], |r| {
                Ok(InsuranceCard {
                    personal_id,
                    card_number: r.get(0)?,
                    valid_from: r.get(1)?,
                    valid_to: r.get(2)?,
                    source: r.get(3)?,
                })
            })
            .optional()
            .map_err(StoreError::from)
        })
        .await
    }
}
