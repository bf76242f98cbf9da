//! The audit sink: handlers hand it entries and wait until they are durably chained. Entries from
//! concurrent requests are committed together (group commit), so auditing every read stays cheap.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use vaxtrace_store::{AuditEntry, Store};

use crate::ApiError;
use crate::middleware::Caller;

const MAX_GROUP: usize = 1024;
const QUEUE: usize = 16 * 1024;

type Ack = oneshot::Sender<bool>;

#[derive(Debug, Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<(AuditEntry, Ack)>,
}

impl AuditSink {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::channel::<(AuditEntry, Ack)>(QUEUE);
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(MAX_GROUP);
            while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
                let (entries, acks): (Vec<_>, Vec<_>) = group.drain(..).unzip();
                let ok = match store.append_audit(entries).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(error = %e, "audit append failed");
                        false
                    }
                };
                for ack in acks {
                    let _ = ack.send(ok);
                }
            }
        });
        Self { tx }
    }

    /// Records an entry; fails (and so fails the request) if it could not be stored.
    pub async fn record(&self, entry: AuditEntry) -> Result<(), ApiError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send((entry, ack))
            .await
            .map_err(|_| ApiError::internal())?;
        match done.await {
            Ok(true) => Ok(()),
            _ => Err(ApiError::internal()),
        }
    }

    /// Records what `caller` did to `subject`'s data and why.
    pub async fn access(
        &self,
        caller: &Caller,
        action: &str,
        subject: Option<String>,
        purpose: &str,
        detail: Option<String>,
    ) -> Result<(), ApiError> {
        self.record(AuditEntry {
            at: OffsetDateTime::now_utc(),
            actor: caller.user.username.clone(),
            role: caller.user.role.code().into(),
            action: action.into(),
            subject,
            purpose: purpose.into(),
            detail,
        })
        .await
    }
}
