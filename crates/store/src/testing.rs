//! Fresh, isolated databases for tests: a temporary `SQLite` file, or a new database on the `PostgreSQL`
//! server named by `VAXTRACE_TEST_POSTGRES_URL` (a URL with rights to CREATE DATABASE).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Backend, StoreError, StoreResult};

pub const POSTGRES_ENV: &str = "VAXTRACE_TEST_POSTGRES_URL";
/// A hot standby of that server (`scripts/test.sh` starts one), for the read-replica tests.
pub const POSTGRES_STANDBY_ENV: &str = "VAXTRACE_TEST_POSTGRES_STANDBY_URL";

#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    // Removed on drop; PostgreSQL test databases live in a throwaway cluster.
    _dir: Option<tempfile::TempDir>,
}

/// The `PostgreSQL` server for tests, if one is configured.
pub fn postgres_admin_url() -> Option<String> {
    setting(POSTGRES_ENV)
}

/// The hot standby of [`postgres_admin_url`], if one is configured.
pub fn postgres_standby_url() -> Option<String> {
    setting(POSTGRES_STANDBY_ENV)
}

fn setting(name: &str) -> Option<String> {
    #[allow(clippy::disallowed_methods)] // tests take their settings from the environment
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A fresh database, or `Ok(None)` (with a visible notice) when the backend is not available.
    pub async fn new(backend: Backend) -> StoreResult<Option<Self>> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().map_err(|e| StoreError::Config(e.to_string()))?;
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                Ok(Some(Self {
                    url,
                    backend,
                    _dir: Some(dir),
                }))
            }
            Backend::Postgres => {
                let Some(admin) = postgres_admin_url() else {
                    eprintln!(
                        "SKIPPED (PostgreSQL): set {POSTGRES_ENV} to run this test on PostgreSQL"
                    );
                    return Ok(None);
                };
                let name = format!("vt_test_{}", unique_suffix());
                let (client, connection) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await?;
                let driver = tokio::spawn(connection);
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await?;
                drop(client);
                let _ = driver.await;
                Ok(Some(Self {
                    url: crate::with_database(&admin, &name),
                    backend,
                    _dir: None,
                }))
            }
        }
    }
}

/// A valid synthetic citizen for tests (address "12 Trần Phú"; the era is August 2021).
pub fn citizen(
    id: &str,
    name: &str,
    birth: &str,
    sex: &str,
    commune: &str,
) -> vaxtrace_domain::Citizen {
    vaxtrace_domain::CitizenInput {
        personal_id: id.into(),
        full_name: name.into(),
        birth_date: birth.into(),
        sex: sex.into(),
        permanent_commune_code: commune.into(),
        permanent_address: "12 Trần Phú".into(),
        ..vaxtrace_domain::CitizenInput::default()
    }
    .parse(time::macros::date!(2021 - 08 - 01))
    .unwrap_or_else(|e| panic!("invalid test citizen: {e}"))
}

/// Instantiates each `async fn name(backend: Backend)` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::Backend::Sqlite).await } )* }
        mod postgres { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::Backend::Postgres).await } )* }
    };
}
