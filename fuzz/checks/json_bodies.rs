// Any bytes as the body of any endpoint that takes one, sent through the whole router (session,
// access rule, extractors, validation, storage) as a user the route admits: the answer is never
// a 500 and every error is the bilingual JSON error. The first byte picks the route, from the
// route table, so a new endpoint is fuzzed the moment it exists.
// Included by fuzz/fuzz_targets/json_bodies.rs and by the replay test of the corpus.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, header};
use tower::ServiceExt;
use vaxtrace_domain::{Jurisdiction, PersonalId, Role};
use vaxtrace_server::routes::{Access, ROUTES, Route};
use vaxtrace_server::{AppState, ServerConfig, accounts};
use vaxtrace_store::testing::{TestDb, citizen};
use vaxtrace_store::{Backend, NewCitizenAccount};

/// An in-process server on a fresh `SQLite` database, with one session per role.
#[allow(missing_debug_implementations)]
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    tokens: Vec<(Role, String)>,
    routes: Vec<&'static Route>,
    _db: TestDb,
}

const AN: &str = "091087123456";

/// Where each role's user works: 30730 is a commune of district 899 in province 91.
fn jurisdiction_of(role: Role) -> &'static str {
    match role {
        Role::Admin | Role::MinistryAnalyst => "VN",
        Role::ProvinceHealth
        | Role::VaccinationSite
        | Role::CheckpointOfficer
        | Role::VenueOwner => "91",
        Role::DistrictHealth => "899",
        Role::CommuneHealth | Role::CommunePolice | Role::CommuneSigner | Role::Citizen => "30730",
    }
}

/// The routes that take a body, by path then method (the order `fuzz/seed.py` numbers them in);
/// logout is left out so the sessions live.
pub fn body_routes() -> Vec<&'static Route> {
    let mut routes: Vec<&'static Route> = ROUTES
        .iter()
        .filter(|r| r.method != Method::GET && !r.path.ends_with("/logout"))
        .collect();
    routes.sort_by_key(|r| (r.path, r.method.as_str()));
    routes
}

const BINH: &str = "091195000001";

/// A concrete path for a route template, about An; a phone rebind is about Bình, as it ends
/// the citizen's sessions and An's is the one the citizen routes use.
fn concrete(path: &str) -> String {
    let person = if path.ends_with("/phone") { BINH } else { AN };
    path.replace("{personal_id}", person)
        .replace("{id}", "1")
        .replace("{case_id}", "F0-91-1")
        .replace("{uvci}", "URN%3AUVCI%3A01%3AVN%3AX")
}

impl Harness {
    pub fn get() -> &'static Self {
        static HARNESS: OnceLock<Harness> = OnceLock::new();
        HARNESS.get_or_init(Self::start)
    }

    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (router, tokens, db) = runtime.block_on(Self::setup());
        Self {
            runtime,
            router,
            tokens,
            routes: body_routes(),
            _db: db,
        }
    }

    async fn setup() -> (axum::Router, Vec<(Role, String)>, TestDb) {
        let db = TestDb::new(Backend::Sqlite)
            .await
            .expect("test database")
            .expect("SQLite is always there");
        let store = vaxtrace_store::open(&db.url).await.expect("open");
        store.migrate().await.expect("migrate");
        store
            .upsert_citizens(vec![
                citizen(AN, "Nguyễn Văn An", "1987-03-09", "M", "30730"),
                citizen(BINH, "Trần Thị Bình", "1995-11-20", "F", "30733"),
            ])
            .await
            .expect("seed citizens");
        store
            .create_citizen_account(NewCitizenAccount {
                personal_id: PersonalId::parse(BINH).expect("id"),
                phone: "0987654321".into(),
                jurisdiction: Jurisdiction::parse("30733").expect("commune"),
                at: time::OffsetDateTime::now_utc(),
            })
            .await
            .expect("Bình's account");
        let key_dir =
            std::path::PathBuf::from(&db.url.replace("sqlite:", "")).with_extension("keys");
        std::fs::create_dir_all(&key_dir).expect("key dir");
        let passphrase = vaxtrace_cli::fuzzing::install_demo_keys(&store, &key_dir)
            .await
            .expect("keys");
        let mut tokens = Vec::new();
        for role in Role::ALL {
            let jurisdiction = Jurisdiction::parse(jurisdiction_of(role)).expect("jurisdiction");
            let user_id = if role == Role::Citizen {
                let account = store
                    .create_citizen_account(NewCitizenAccount {
                        personal_id: PersonalId::parse(AN).expect("id"),
                        phone: "0912345678".into(),
                        jurisdiction,
                        at: time::OffsetDateTime::now_utc(),
                    })
                    .await
                    .expect("citizen account");
                account.user_id
            } else {
                let name = format!("fuzz_{role:?}").to_lowercase();
                accounts::add_user(
                    store.as_ref(),
                    &name,
                    "correct horse battery",
                    role,
                    jurisdiction,
                )
                .await
                .expect("user")
            };
            let token = format!("{:0>64}", tokens.len());
            let hash = accounts::token_hash(&token).expect("hash");
            let expires = time::OffsetDateTime::now_utc() + time::Duration::days(1);
            store
                .create_session(hash, user_id, expires)
                .await
                .expect("session");
            tokens.push((role, token));
        }
        let outbox = key_dir.join("sms-outbox.jsonl");
        let config = ServerConfig {
            sms: Arc::new(vaxtrace_server::sms::OutboxSms::new(outbox)),
            key_passphrase: Some(Arc::new(passphrase)),
            ..ServerConfig::default()
        };
        (
            vaxtrace_server::app(AppState::new(store, config)),
            tokens,
            db,
        )
    }

    /// The session of the first role the route admits (the admin for any logged-in user).
    fn token_for(&self, access: Access) -> &str {
        self.tokens
            .iter()
            .find(|(role, _)| access.admits(*role))
            .map_or("", |(_, t)| t.as_str())
    }

    pub fn routes(&self) -> &[&'static Route] {
        &self.routes
    }
}

/// The property of every input; shared by the fuzz target and the replay test. Returns the
/// status, or `None` for an empty input.
pub fn check(data: &[u8]) -> Option<u16> {
    let harness = Harness::get();
    let (&selector, body) = data.split_first()?;
    let route = harness.routes[usize::from(selector) % harness.routes.len()];
    let request = Request::builder()
        .method(route.method.clone())
        .uri(concrete(route.path))
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", harness.token_for(route.access)),
        )
        .body(Body::from(body.to_vec()))
        .expect("request");
    let (status, text) = harness.runtime.block_on(async {
        let response = harness
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("body");
        (status, bytes)
    });
    let at = format!("{} {}", route.method, route.path);
    assert_ne!(
        status.as_u16(),
        500,
        "{at}: {}",
        String::from_utf8_lossy(&text)
    );
    if status.is_client_error() || status.is_server_error() {
        let error: serde_json::Value = serde_json::from_slice(&text).unwrap_or_else(|_| {
            panic!(
                "{at} {status}: not JSON: {}",
                String::from_utf8_lossy(&text)
            )
        });
        for field in ["code", "message_vi", "message_en"] {
            assert!(
                error[field].as_str().is_some_and(|s| !s.is_empty()),
                "{at} {status}: no {field} in {error}"
            );
        }
    }
    Some(status.as_u16())
}
