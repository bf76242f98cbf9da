//! The pass signer's keys on the request path: the active private key, unlocked once (argon2id
//! is far too slow to run per declaration), and every pass signer's public key by kid, so passes
//! signed before a rotation still verify. Both are re-read from the key store after a minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use vaxtrace_cert::pass::{pass_kid, public_key_of};
use vaxtrace_cert::{CertProfile, SecretPassphrase, SigningKey};
use vaxtrace_store::Store;

use crate::signing::{self, SigningError, issued_key};

const REFRESH: Duration = Duration::from_mins(1);

/// Pass signers' public keys (uncompressed P-256 points) by kid.
pub type PublicKeys = Arc<HashMap<[u8; 8], Vec<u8>>>;

#[derive(Default)]
struct Cached {
    signer: Option<(Instant, Arc<SigningKey>)>,
    public: Option<(Instant, PublicKeys)>,
    /// Every pass signer ever: venue posters stay up long after their signer retired.
    venue: Option<(Instant, PublicKeys)>,
}

#[derive(Default)]
pub struct PassKeys {
    cached: Mutex<Cached>,
}

impl std::fmt::Debug for PassKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassKeys").finish_non_exhaustive()
    }
}

impl PassKeys {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The active pass signer, unlocked.
    pub async fn signer(
        &self,
        store: &dyn Store,
        passphrase: &SecretPassphrase,
    ) -> Result<Arc<SigningKey>, SigningError> {
        if let Some((at, key)) = &self.lock().signer
            && at.elapsed() < REFRESH
        {
            return Ok(Arc::clone(key));
        }
        let now = OffsetDateTime::now_utc();
        let stored = signing::active_key(store, "VN", CertProfile::PassSigner, now).await?;
        let key = Arc::new(SigningKey::unlock(&issued_key(&stored)?, passphrase)?);
        self.lock().signer = Some((Instant::now(), Arc::clone(&key)));
        Ok(key)
    }

    /// Public keys of every pass signer, active or rotated within the life of a pass, by kid.
    pub async fn public_keys(&self, store: &dyn Store) -> Result<PublicKeys, SigningError> {
        // A retired key still vouches for the passes it signed, 72 hours at most.
        let oldest =
            OffsetDateTime::now_utc() - time::Duration::hours(crate::declarations::PASS_HOURS);
        self.cached_keys(store, |c| &mut c.public, Some(oldest))
            .await
    }

    /// Public keys of every pass signer there has been, for venue codes.
    pub async fn venue_keys(&self, store: &dyn Store) -> Result<PublicKeys, SigningError> {
        self.cached_keys(store, |c| &mut c.venue, None).await
    }

    async fn cached_keys(
        &self,
        store: &dyn Store,
        slot: fn(&mut Cached) -> &mut Option<(Instant, PublicKeys)>,
        valid_after: Option<OffsetDateTime>,
    ) -> Result<PublicKeys, SigningError> {
        if let Some((at, keys)) = slot(&mut self.lock())
            && at.elapsed() < REFRESH
        {
            return Ok(Arc::clone(keys));
        }
        let mut keys = HashMap::new();
        for k in store.keys().await? {
            if k.profile == CertProfile::PassSigner.as_str()
                && valid_after.is_none_or(|t| k.not_after > t)
            {
                keys.insert(pass_kid(&k.certificate), public_key_of(&k.certificate)?);
            }
        }
        let keys = Arc::new(keys);
        *slot(&mut self.lock()) = Some((Instant::now(), Arc::clone(&keys)));
        Ok(keys)
    }
}
