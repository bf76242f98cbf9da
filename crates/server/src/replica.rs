//! Read-only work on a hot standby, with read-your-writes for the writer. After a user's write
//! succeeds we note the primary's WAL position; until the standby has replayed past it, that
//! user's requests read from the primary. Everyone else reads the standby, which may lag.
//!
//! One task per server polls the standby's replay position and drops the notes it has passed, so
//! a request compares with a number in memory, and the notes are only those of the last moments'
//! writers. The notes live in this process: with several servers, a load balancer that keeps a
//! session on one server gives the same guarantee. See docs/scale.md.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use vaxtrace_store::Store;

tokio::task_local! {
    /// Set by the access middleware for the request being served: reads may go to the standby.
    static READ_ON_STANDBY: bool;
}

/// How often the standby's replay position is read.
const POLL: Duration = Duration::from_millis(50);
/// Marks a write whose WAL position could not be read; the poller replaces it by the primary's
/// position at its next tick (later than the write, so still safe).
const UNKNOWN: u64 = u64::MAX;

#[derive(Debug)]
pub struct ReadReplica {
    store: Arc<dyn Store>,
    primary: Arc<dyn Store>,
    notes: WriteNotes,
}

/// Who wrote what lately, against how far the standby has replayed.
#[derive(Debug, Default)]
struct WriteNotes {
    /// The standby's replay position at the last poll (0 before the first).
    replayed: AtomicU64,
    /// User ID → the primary's WAL position just after their latest write, and when noted.
    written: Mutex<HashMap<i64, (u64, Instant)>>,
}

impl ReadReplica {
    /// The replica of `primary`, with its polling task (which ends when the replica is dropped).
    pub fn start(store: Arc<dyn Store>, primary: Arc<dyn Store>) -> Arc<Self> {
        let replica = Arc::new(Self {
            store,
            primary,
            notes: WriteNotes::default(),
        });
        tokio::spawn(poll(Arc::downgrade(&replica)));
        replica
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Records that `user` just wrote to the primary.
    pub async fn note_write(&self, user: i64) {
        let position = match self.primary.wal_position().await {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the primary's WAL position");
                UNKNOWN
            }
        };
        self.notes.note(user, position);
    }

    /// Whether `user` must read from the primary: their latest write is not on the standby yet.
    pub fn behind_for(&self, user: i64) -> bool {
        self.notes.behind_for(user)
    }
}

impl WriteNotes {
    /// The notes; a panic elsewhere while holding them leaves them usable.
    fn lock(&self) -> MutexGuard<'_, HashMap<i64, (u64, Instant)>> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn note(&self, user: i64, position: u64) {
        // Two writes of one user can finish in either order: keep the later position.
        self.lock()
            .entry(user)
            .and_modify(|(p, at)| {
                *p = (*p).max(position);
                *at = Instant::now();
            })
            .or_insert((position, Instant::now()));
    }

    fn behind_for(&self, user: i64) -> bool {
        let replayed = self.replayed.load(Ordering::Acquire);
        self.lock().get(&user).is_some_and(|(p, _)| *p > replayed)
    }

    /// The standby has replayed up to `replayed` (one standby: it only moves forward).
    fn forget_replayed(&self, replayed: u64) {
        self.replayed.store(replayed, Ordering::Release);
        self.lock().retain(|_, (p, _)| *p > replayed);
    }

    fn has_unknown(&self) -> bool {
        self.lock().values().any(|(p, _)| *p == UNKNOWN)
    }

    /// Gives the notes of unknown position the primary's `position`, read after their writes.
    fn resolve_unknown(&self, position: u64) {
        for (p, _) in self.lock().values_mut() {
            if *p == UNKNOWN {
                *p = position;
            }
        }
    }
}

async fn poll(replica: Weak<ReadReplica>) {
    let mut failing = false;
    loop {
        tokio::time::sleep(POLL).await;
        let Some(replica) = replica.upgrade() else {
            return;
        };
        if replica.notes.has_unknown()
            && let Ok(Some(position)) = replica.primary.wal_position().await
        {
            replica.notes.resolve_unknown(position);
        }
        match replica.store.wal_position().await {
            Ok(Some(replayed)) => {
                failing = false;
                replica.notes.forget_replayed(replayed);
            }
            // Not replayed anything yet: every noted writer stays on the primary.
            Ok(None) => replica.notes.forget_replayed(0),
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot read the standby's replay position");
                }
                failing = true;
            }
        }
    }
}

/// Runs `fut` (one request), letting its reads go to the standby when `on_standby`.
pub async fn scope<F: Future>(on_standby: bool, fut: F) -> F::Output {
    READ_ON_STANDBY.scope(on_standby, fut).await
}

/// Whether the request being served may read from the standby; anything outside a request's
/// scope reads from the primary.
pub fn reads_on_standby() -> bool {
    READ_ON_STANDBY.try_with(|b| *b).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_reads_the_primary_until_the_standby_passes_their_write() {
        let notes = WriteNotes::default();
        notes.note(7, 100);
        notes.note(7, 90); // an earlier write that finished later
        assert!(notes.behind_for(7));
        assert!(!notes.behind_for(8), "others read the standby");
        notes.forget_replayed(99);
        assert!(notes.behind_for(7), "the later position is kept");
        notes.forget_replayed(100);
        assert!(!notes.behind_for(7));
        assert!(notes.lock().is_empty(), "passed notes are dropped");
    }

    #[test]
    fn an_unknown_position_keeps_the_writer_on_the_primary_until_resolved() {
        let notes = WriteNotes::default();
        notes.note(7, UNKNOWN);
        notes.forget_replayed(1_000_000);
        assert!(notes.behind_for(7) && notes.has_unknown());
        notes.resolve_unknown(1_000_500);
        assert!(!notes.has_unknown());
        notes.forget_replayed(1_000_400);
        assert!(
            notes.behind_for(7),
            "the standby has not reached the primary's position"
        );
        notes.forget_replayed(1_000_500);
        assert!(!notes.behind_for(7));
    }
}
