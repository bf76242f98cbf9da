//! The vaxtrace HTTP server.
//!
//! Owns HTTP: the axum router built from one route table ([`routes::ROUTES`]) that also declares each
//! endpoint's access rule and generates the `OpenAPI` document; authentication (argon2 passwords,
//! expiring sessions as bearer token or cookie); the audit sink; the error mapping to HTTP; and the
//! bilingual web UI. Handlers are thin: they parse with `vaxtrace-domain`, call a service function in
//! [`services`], and map the result. SQL lives in `vaxtrace-store`.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod cases;
pub mod certificate_page;
pub mod certificates;
pub mod checkins;
pub mod citizen_accounts;
pub mod citizen_history;
pub mod citizen_home;
pub mod contact_trace;
pub mod corrections;
pub mod dcc_lists;
pub mod declarations;
pub mod error;
pub mod exports;
pub mod fhir;
pub mod legacy;
pub mod linker;
mod middleware;
pub mod openapi;
pub mod passes;
pub mod quarantines;
pub mod replica;
pub mod routes;
pub mod services;
pub mod sessions;
pub mod signing;
pub mod sms;
pub mod vaccinations;
pub mod venue_poster;
pub mod venues;
mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use vaxtrace_store::Store;

pub use error::ApiError;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// How long a session token stays valid after login.
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure` (set when served behind HTTPS).
    pub cookie_secure: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Record linkage thresholds (auto-link, review, margin).
    pub link_thresholds: vaxtrace_domain::linkage::Thresholds,
    /// Unlocks the commune signing keys; without it the server cannot sign records.
    pub key_passphrase: Option<Arc<vaxtrace_cert::SecretPassphrase>>,
    /// Declarations and checkpoint scans are deleted once older than this many days.
    pub movement_retention_days: u32,
    /// Where the citizen app's one-time codes go.
    pub sms: Arc<dyn sms::SmsSender>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_hours(8),
            cookie_secure: false,
            max_body_bytes: 64 * 1024,
            link_thresholds: vaxtrace_domain::linkage::Thresholds::default(),
            key_passphrase: None,
            movement_retention_days: 30,
            sms: Arc::new(sms::OutboxSms::new(
                std::env::temp_dir().join("vaxtrace-sms-outbox.jsonl"),
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// A hot standby for read-only work, when `--read-database-url` is set: see [`Self::reader`].
    pub replica: Option<Arc<replica::ReadReplica>>,
    pub audit: audit::AuditSink,
    pub sessions: Arc<sessions::SessionCache>,
    pub config: Arc<ServerConfig>,
    pub dcc_lists: Arc<dcc_lists::ListCache>,
    pub passes: Arc<passes::PassKeys>,
}

impl AppState {
    /// Must be called inside a tokio runtime: starts the audit writer.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> Self {
        Self {
            audit: audit::AuditSink::start(Arc::clone(&store)),
            replica: None,
            store,
            sessions: Arc::default(),
            config: Arc::new(config),
            dcc_lists: Arc::default(),
            passes: Arc::default(),
        }
    }
}

impl AppState {
    /// Sends read-only work to `read_store`, a streaming replica of [`Self::store`].
    #[must_use]
    pub fn with_read_store(mut self, read_store: Arc<dyn Store>) -> Self {
        self.replica = Some(replica::ReadReplica::start(
            read_store,
            Arc::clone(&self.store),
        ));
        self
    }

    /// Where read-only work goes (status lookups, identity verification, analytics, exports): the
    /// standby, unless there is none or the caller's own latest write has not reached it yet.
    /// Nothing that must see a write made by someone else a moment ago reads here.
    pub fn reader(&self) -> &dyn Store {
        match &self.replica {
            Some(replica) if replica::reads_on_standby() => replica.store(),
            _ => self.store.as_ref(),
        }
    }
}

pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let retention = tokio::spawn(declarations::retention_loop(state.clone()));
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await;
    retention.abort();
    served
}
