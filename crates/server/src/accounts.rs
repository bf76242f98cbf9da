//! Accounts and sessions: argon2id password hashes, random session tokens stored only as their
//! SHA-256, expiry enforced by the store query.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use vaxtrace_domain::{Jurisdiction, ParseError, Role};
use vaxtrace_store::{NewUser, Store, User};

use crate::ApiError;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Password attempts allowed per username within [`LOGIN_WINDOW`]; beyond them a login is
/// refused (429) without checking the password. Every attempt counts until one succeeds, so the
/// lock lasts while someone keeps trying and ends at most a window after the last attempt.
pub const LOGIN_MAX_ATTEMPTS: u32 = 5;
pub const LOGIN_WINDOW: time::Duration = time::Duration::minutes(15);

/// A valid hash of no one's password, verified against for unknown users.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3bdSfAxuLCj7lD8ZlSIqCgbEmN2dzIgvqxCvEl9Bs+I";

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| ApiError::internal())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ApiError::internal())
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A username: 3–64 characters of ASCII letters, digits, `.`, `_` and `-`.
pub fn parse_username(raw: &str) -> Result<String, ParseError> {
    let name = raw.trim();
    // Citizen app accounts own this prefix; a password user there could be taken over.
    if name.starts_with(vaxtrace_store::CITIZEN_USERNAME_PREFIX) {
        return Err(ParseError::new(
            "username",
            "reserved_username",
            "Tên đăng nhập bắt đầu bằng 'citizen-' dành cho tài khoản ứng dụng công dân",
            "Usernames starting with 'citizen-' are reserved for citizen app accounts",
        ));
    }
    if (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        Ok(name.to_owned())
    } else {
        Err(ParseError::new(
            "username",
            "invalid_username",
            "Tên đăng nhập gồm 3–64 ký tự chữ, số, '.', '_' hoặc '-'",
            "Username is 3–64 letters, digits, '.', '_' or '-'",
        ))
    }
}

pub fn check_password_strength(password: &str) -> Result<(), ParseError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ParseError::new(
            "password",
            "weak_password",
            format!("Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự"),
            format!("Password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Creates a user after checking every field; the password is hashed here and nowhere else.
pub async fn add_user(
    store: &dyn Store,
    username: &str,
    password: &str,
    role: Role,
    jurisdiction: Jurisdiction,
) -> Result<i64, ApiError> {
    let username = parse_username(username)?;
    check_password_strength(password)?;
    jurisdiction.check_role(role)?;
    let password = password.to_owned();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())??;
    Ok(store
        .create_user(NewUser {
            username,
            password_hash,
            role,
            jurisdiction,
        })
        .await?)
}

pub fn token_hash(token: &str) -> Option<[u8; 32]> {
    // Tokens are 64 hex characters; anything else cannot be ours.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(Sha256::digest(token.as_bytes()).into())
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: OffsetDateTime,
    pub user: User,
}

/// Checks the password (in constant work whether or not the user exists) and opens a session.
pub async fn login(
    store: &dyn Store,
    username: &str,
    password: &str,
    ttl: std::time::Duration,
) -> Result<Session, ApiError> {
    let username = username.trim();
    // Counted in the database before the password is checked, so every server behind a
    // balancer shares the limit and guesses sent in parallel count too.
    let key: [u8; 32] = Sha256::digest(username.as_bytes()).into();
    let now = OffsetDateTime::now_utc();
    if store
        .record_login_attempt(key, now, now - LOGIN_WINDOW)
        .await?
        > LOGIN_MAX_ATTEMPTS
    {
        return Err(too_many_logins());
    }
    let user = store.user_by_username(username).await?;
    // An unknown user still costs one argon2 verification, so timing does not reveal usernames.
    let stored = user
        .as_ref()
        .map_or(DUMMY.to_owned(), |u| u.password_hash.clone());
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|_| ApiError::internal())?;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        _ => return Err(ApiError::bad_credentials()),
    };
    store.clear_login_failures(key).await?;
    open_session(store, user, ttl).await
}

fn too_many_logins() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "too_many_logins",
        "Sai mật khẩu quá nhiều lần; hãy thử lại sau 15 phút",
        "Too many wrong passwords; try again in 15 minutes",
    )
}

/// A new random session token for a user who proved who they are (password or one-time code).
pub async fn open_session(
    store: &dyn Store,
    user: User,
    ttl: std::time::Duration,
) -> Result<Session, ApiError> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let expires_at = OffsetDateTime::now_utc() + ttl;
    let hash = token_hash(&token).ok_or_else(ApiError::internal)?;
    store.create_session(hash, user.id, expires_at).await?;
    Ok(Session {
        token,
        expires_at,
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_must_be_64_hex() {
        assert!(token_hash(&"a".repeat(64)).is_some());
        assert!(token_hash("abc").is_none());
        assert!(token_hash(&"g".repeat(64)).is_none());
    }

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(parse_username("cap_xa.30730").is_ok());
        assert!(parse_username("a b").is_err());
        assert!(parse_username("ab").is_err());
        assert_eq!(
            parse_username("citizen-091087123456").unwrap_err().code,
            "reserved_username"
        );
        assert!(check_password_strength("short").is_err());
    }
}
