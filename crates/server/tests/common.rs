//! `spawn_app`: the real server on a random port with a fresh database, per test, on either backend.

#![allow(clippy::unwrap_used, clippy::too_many_lines)] // tests fail loudly; table-driven tests run long
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use vaxtrace_cert::{CertProfile, IssuedKey, KdfParams, SecretPassphrase};
use vaxtrace_domain::{Jurisdiction, Phone, Residence, Role};
use vaxtrace_server::{AppState, ServerConfig, accounts};
use vaxtrace_store::testing::{TestDb, citizen};
use vaxtrace_store::{Backend, NewKey, Store};

pub const PASSWORD: &str = "correct horse battery";

/// Citizens in Kiên Giang: An lives in commune 30730, Bình in 30733 with a temporary residence in 30730,
/// Cúc (year-only birth date) in Hà Nội's 00001.
pub const AN: &str = "091087123456";
pub const BINH: &str = "091195000001";
pub const CUC: &str = "001140000003";

#[derive(Debug)]
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub store: Arc<dyn Store>,
    _db: TestDb,
}

/// Users: one per interesting role/jurisdiction pair, all with [`PASSWORD`].
pub const USERS: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, "VN"),
    ("analyst", Role::MinistryAnalyst, "VN"),
    ("police_30730", Role::CommunePolice, "30730"),
    ("police_30733", Role::CommunePolice, "30733"),
    ("police_00001", Role::CommunePolice, "00001"),
    ("health_91", Role::ProvinceHealth, "91"),
    ("health_01", Role::ProvinceHealth, "01"),
    ("site_91", Role::VaccinationSite, "91"),
    ("health_30730", Role::CommuneHealth, "30730"),
    ("signer_30730", Role::CommuneSigner, "30730"),
    ("checkpoint_91", Role::CheckpointOfficer, "91"),
    ("venue_91", Role::VenueOwner, "91"),
];

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, ServerConfig::default()).await
}

pub async fn spawn_app_with(backend: Backend, config: ServerConfig) -> Option<TestApp> {
    let db = TestDb::new(backend).await.expect("test database")?;
    let store = vaxtrace_store::open(&db.url).await.expect("open store");
    store.migrate().await.expect("migrate");
    let mut binh = citizen(BINH, "Trần Thị Bình", "1995-11-20", "F", "30733");
    binh.temporary = Some(Residence {
        unit_code: "30730",
        address: "Phòng trọ 5".into(),
    });
    let mut parsed = vec![
        citizen(AN, "Nguyễn Văn An", "1987-03-09", "M", "30730"),
        binh,
        citizen(CUC, "Lê Thị Cúc", "1940", "F", "00001"),
    ];
    for c in &mut parsed {
        c.phone = Some(Phone::parse("0912345678").unwrap());
    }
    store.upsert_citizens(parsed).await.expect("seed citizens");
    for (name, role, j) in USERS {
        accounts::add_user(
            store.as_ref(),
            name,
            PASSWORD,
            *role,
            Jurisdiction::parse(j).unwrap(),
        )
        .await
        .expect("seed user");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(Arc::clone(&store), config);
    tokio::spawn(vaxtrace_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Some(TestApp {
        addr,
        client,
        store,
        _db: db,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn login(&self, username: &str) -> String {
        let res = self
            .post_json(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 200, "login of {username}");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// GET and parse the JSON body, whatever the status.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        self.get(path, token).await.json().await.unwrap()
    }

    /// POST JSON and parse the JSON body, whatever the status.
    pub async fn post_value(&self, path: &str, token: Option<&str>, body: &Value) -> Value {
        self.post_json(path, token, body)
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}

/// Asserts an error response: status, machine code, and both languages present.
pub async fn assert_error(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(
        !body["message_vi"].as_str().unwrap().is_empty()
            && !body["message_en"].as_str().unwrap().is_empty()
    );
    body
}

/// One shot report for [`AN`] (Vaxzevria) at commune 30730.
pub fn shot(record_id: &str, dose: u8, at: &str) -> Value {
    json!({
        "source": "site-app", "source_record_id": record_id, "personal_id": AN,
        "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09", "sex": "M",
        "commune_code": "30730", "vaccine_code": "EU/1/21/1529", "dose_number": dose.to_string(),
        "administered_at": at, "site_code": "KG-TYT-30730", "lot": "ABV123"
    })
}

pub fn passphrase() -> SecretPassphrase {
    SecretPassphrase::new("mật khẩu khóa ký thử nghiệm")
        .unwrap()
        .with_kdf(KdfParams::insecure_fast())
}

pub async fn store_key(store: &Arc<dyn Store>, key: &IssuedKey, issuer: Option<i64>) -> i64 {
    let id = store
        .insert_key(NewKey {
            profile: key.profile.as_str().into(),
            unit_code: key.unit_code.clone(),
            fingerprint: key.fingerprint.clone(),
            certificate: key.certificate_der.clone(),
            encrypted_private_key: key.encrypted_private_key.clone(),
            issuer_id: issuer,
            not_before: key.not_before,
            not_after: key.not_after,
        })
        .await
        .unwrap();
    store.activate_key(id).await.unwrap();
    id
}

/// The record chain (root → 91 → 30730) and the DCC chain (CSCA → DSC); returns the DSC.
pub async fn install_keys(store: &Arc<dyn Store>) -> IssuedKey {
    let pass = passphrase();
    let now = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let until = now + time::Duration::days(30);
    let province_of = |c: &str| {
        vaxtrace_domain::admin_units()
            .lineage(c)
            .last()
            .map(|u| u.code.to_owned())
    };
    let root = vaxtrace_cert::create_root("Gốc thử nghiệm", now, until, &pass).unwrap();
    let ca = vaxtrace_cert::issue(
        &root,
        &pass,
        CertProfile::ProvinceCa,
        "91",
        "CA Kiên Giang",
        now,
        until,
        &pass,
        &province_of,
    )
    .unwrap();
    let signer = vaxtrace_cert::issue(
        &ca,
        &pass,
        CertProfile::CommuneSigner,
        "30730",
        "UBND Phường Vĩnh Thanh Vân",
        now,
        until,
        &pass,
        &province_of,
    )
    .unwrap();
    let root_id = store_key(store, &root, None).await;
    let ca_id = store_key(store, &ca, Some(root_id)).await;
    store_key(store, &signer, Some(ca_id)).await;

    let csca = vaxtrace_cert::create_csca("CSCA Việt Nam thử nghiệm", now, until, &pass).unwrap();
    let dsc = vaxtrace_cert::issue(
        &csca,
        &pass,
        CertProfile::DocumentSigner,
        "VN",
        "DSC Bộ Y tế",
        now,
        until,
        &pass,
        &|_| None,
    )
    .unwrap();
    let csca_id = store_key(store, &csca, None).await;
    store_key(store, &dsc, Some(csca_id)).await;
    dsc
}

/// Signs every record waiting in the signer's commune; asserts `expected` were listed and signed.
/// Returns the `{id, version}` items signed and the sign response.
pub async fn sign_all_pending(app: &TestApp, signer: &str, expected: usize) -> (Vec<Value>, Value) {
    let pending = app.get_json("/api/v1/signing/pending", Some(signer)).await;
    let items: Vec<Value> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({"id": r["id"], "version": r["version"]}))
        .collect();
    assert_eq!(items.len(), expected, "{pending}");
    let outcome: Value = app
        .post_json(
            "/api/v1/signing/sign",
            Some(signer),
            &json!({"items": items}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        outcome["signed"].as_array().unwrap().len(),
        expected,
        "{outcome}"
    );
    (items, outcome)
}

/// A pass signer under the stored national root (call after [`install_keys`]); returns it.
pub async fn install_pass_signer(store: &Arc<dyn Store>) -> IssuedKey {
    let root = store
        .keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.profile == "national_root")
        .unwrap();
    let root_key = vaxtrace_server::signing::issued_key(&root).unwrap();
    let now = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let pass = passphrase();
    let signer = vaxtrace_cert::issue(
        &root_key,
        &pass,
        CertProfile::PassSigner,
        "VN",
        "Ký thẻ đi lại",
        now,
        root.not_after,
        &pass,
        &|_| None,
    )
    .unwrap();
    store_key(store, &signer, Some(root.id)).await;
    signer
}

/// An's two Vaxzevria doses (July and September 2021), reported by the site and signed by his
/// commune: call after [`install_keys`].
pub async fn record_and_sign_two_doses(app: &TestApp) {
    let site = app.login("site_91").await;
    for (id, dose, at) in [
        ("A-1", 1, "2021-07-01T09:00:00+07:00"),
        ("A-2", 2, "2021-09-01T09:00:00+07:00"),
    ] {
        let res = app
            .post_json("/api/v1/vaccinations", Some(&site), &shot(id, dose, at))
            .await;
        assert_eq!(res.status(), 201);
    }
    let signer = app.login("signer_30730").await;
    sign_all_pending(app, &signer, 2).await;
}
