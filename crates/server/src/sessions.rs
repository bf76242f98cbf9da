//! A small in-process cache of validated sessions, saving one database read per request. An entry
//! lives at most [`TTL`] and never past the session's own expiry; logout on this server removes it
//! at once, on other servers within [`TTL`] (as does disabling an account).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use vaxtrace_store::User;

pub const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<[u8; 32], (User, Instant)>>,
}

impl SessionCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (User, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(&self, token_hash: &[u8; 32]) -> Option<User> {
        let mut entries = self.entries();
        match entries.get(token_hash) {
            Some((user, until)) if *until > Instant::now() => Some(user.clone()),
            Some(_) => {
                entries.remove(token_hash);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, token_hash: [u8; 32], user: User, expires_at: OffsetDateTime) {
        let left = (expires_at - OffsetDateTime::now_utc())
            .try_into()
            .unwrap_or(Duration::ZERO);
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            entries.clear(); // bounded memory; the database stays the truth
        }
        entries.insert(token_hash, (user, Instant::now() + left.min(TTL)));
    }

    pub fn remove(&self, token_hash: &[u8; 32]) {
        self.entries().remove(token_hash);
    }

    /// Forgets every session of a user (their phone was re-bound); other servers within [`TTL`].
    pub fn remove_user(&self, user_id: i64) {
        self.entries().retain(|_, (user, _)| user.id != user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxtrace_domain::{Jurisdiction, Role};

    fn user() -> User {
        User {
            id: 1,
            username: "a".into(),
            password_hash: String::new(),
            role: Role::Admin,
            jurisdiction: Jurisdiction::National,
            disabled: false,
        }
    }

    #[test]
    fn entries_never_outlive_their_session() {
        let cache = SessionCache::default();
        cache.put(
            [1; 32],
            user(),
            OffsetDateTime::now_utc() + time::Duration::hours(1),
        );
        cache.put(
            [2; 32],
            user(),
            OffsetDateTime::now_utc() - time::Duration::seconds(1),
        );
        assert!(cache.get(&[1; 32]).is_some());
        assert!(cache.get(&[2; 32]).is_none(), "already expired");
        cache.remove(&[1; 32]);
        assert!(cache.get(&[1; 32]).is_none());
        let other = User { id: 2, ..user() };
        let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
        cache.put([3; 32], user(), later);
        cache.put([4; 32], other, later);
        cache.remove_user(1);
        assert!(cache.get(&[3; 32]).is_none());
        assert!(
            cache.get(&[4; 32]).is_some(),
            "other users keep their sessions"
        );
    }
}
