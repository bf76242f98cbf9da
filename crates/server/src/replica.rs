//! Read-only work on a hot standby, with read-your-writes for the writer. After a user's write
//! succeeds we note the primary's WAL position; until the standby has replayed past it, that
//! user's requests read from the primary. Everyone else reads the standby, which may lag.
//!
//! The note lives in this process: with several servers, a load balancer that keeps a session
//! on one server (or a short lag) gives the same guarantee. See docs/scale.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use vaxtrace_store::Store;

tokio::task_local! {
    /// Set by the access middleware for the request being served: read from the primary.
    static READ_PRIMARY: bool;
}

/// Notes older than this are dropped when the table is large: the standby has long caught up.
const FORGET_AFTER: Duration = Duration::from_mins(5);
const PRUNE_ABOVE: usize = 100_000;

#[derive(Debug)]
pub struct ReadReplica {
    store: Arc<dyn Store>,
    /// User ID → primary WAL position just after their latest write, and when it was noted.
    written: Mutex<HashMap<i64, (u64, Instant)>>,
}

impl ReadReplica {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            written: Mutex::default(),
        }
    }

    /// The notes; a panic elsewhere while holding them leaves them usable.
    fn notes(&self) -> MutexGuard<'_, HashMap<i64, (u64, Instant)>> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Records that `user` just wrote to `primary`.
    pub async fn note_write(&self, primary: &dyn Store, user: i64) {
        let position = match primary.wal_position().await {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(e) => {
                // Without the position, the user's next reads could miss the write: assume the
                // worst, a position no standby has reached yet.
                tracing::warn!(error = %e, "cannot read the primary's WAL position");
                u64::MAX
            }
        };
        let mut written = self.notes();
        if written.len() > PRUNE_ABOVE {
            written.retain(|_, (_, at)| at.elapsed() < FORGET_AFTER);
        }
        written.insert(user, (position, Instant::now()));
    }

    /// Whether `user` must read from the primary: their latest write is not on the standby yet.
    pub async fn behind_for(&self, user: i64) -> bool {
        let noted = {
            let written = self.notes();
            written.get(&user).map(|(position, _)| *position)
        };
        let Some(noted) = noted else {
            return false;
        };
        match self.store.wal_position().await {
            Ok(Some(replayed)) if replayed >= noted => {
                let mut written = self.notes();
                // A newer write may have replaced the note meanwhile: keep that one.
                if written.get(&user).is_some_and(|(p, _)| *p <= replayed) {
                    written.remove(&user);
                }
                false
            }
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the standby's replay position");
                true
            }
        }
    }
}

/// Runs `fut` (one request) reading from the primary when `on_primary`.
pub async fn scope<F: Future>(on_primary: bool, fut: F) -> F::Output {
    READ_PRIMARY.scope(on_primary, fut).await
}

/// Whether the request being served was told to read from the primary.
pub fn reads_on_primary() -> bool {
    READ_PRIMARY.try_with(|b| *b).unwrap_or(false)
}
