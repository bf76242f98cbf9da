//! `vaxtrace cert` and `vaxtrace dcc verify` as an operator and a verifier run them: issue (the
//! same certificate again while its record is unchanged), QR picture and printable page, the
//! signed trust and revocation lists checked against the exported CSCA, revocation, and import
//! of another country's trust list. Runs on `SQLite` and, when configured, on `PostgreSQL`.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use vaxtrace_store::testing::TestDb;
use vaxtrace_store::{Backend, LinkDecision, NewShotRecord, NewSignature};

mod common;
use common::{PASSPHRASE, ok, p, vaxtrace};

/// A registry of a few citizens, every key, and one signed dose for the first citizen; returns
/// that citizen's ID.
async fn setup(db: &TestDb, dir: &Path) -> String {
    let csv = dir.join("citizens.csv");
    ok(&[
        "generate",
        "citizens",
        "--province",
        "91",
        "--count",
        "20",
        "--seed",
        "5",
        "--out",
        p(&csv),
    ]);
    ok(&["import", "citizens", p(&csv), "--database-url", &db.url]);
    for args in [
        &["keys", "root"][..],
        &["keys", "province", "91"],
        &["keys", "commune", "30730"],
        &["keys", "csca"],
        &["keys", "dsc"],
    ] {
        let mut args = args.to_vec();
        args.extend(["--database-url", &db.url]);
        ok(&args);
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let (id, name, birth) = (row[0].to_owned(), row[1].to_owned(), row[2].to_owned());

    let store = vaxtrace_store::open(&db.url).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let shot = vaxtrace_domain::ShotInput {
        source: "site-app".into(),
        source_record_id: "1".into(),
        personal_id: Some(id.clone()),
        full_name: name,
        birth_date: Some(birth),
        vaccine_code: "EU/1/21/1529".into(),
        dose_number: "1".into(),
        administered_at: "2021-07-01 09:00".into(),
        site_code: "KG-1".into(),
        ..Default::default()
    }
    .parse(now)
    .unwrap();
    store
        .insert_shots(vec![NewShotRecord {
            shot,
            decision: LinkDecision::Auto,
            personal_id: Some(vaxtrace_domain::PersonalId::parse(&id).unwrap()),
            score: None,
            evidence: "{}".into(),
            queue_unit: Some("30730".into()),
            received_at: now,
        }])
        .await
        .unwrap();
    let secret = vaxtrace_cert::SecretPassphrase::new(PASSPHRASE).unwrap();
    let (key_id, key) =
        vaxtrace_server::signing::commune_signer(store.as_ref(), "30730", &secret, now)
            .await
            .unwrap();
    let record = store.shot_record(1).await.unwrap().unwrap();
    let signature = key.sign(&record.canonical_bytes()).unwrap();
    let signed = store
        .sign_records(
            vec![NewSignature {
                record_id: 1,
                version: 1,
                signature,
                signing_key_id: key_id,
            }],
            "ubnd",
            now,
        )
        .await
        .unwrap();
    assert_eq!(signed, [1]);
    id
}

async fn issue_verify_revoke(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let id = setup(&db, dir.path()).await;
    let (png, html) = (dir.path().join("c.png"), dir.path().join("c.html"));
    let o = vaxtrace(&[
        "cert",
        "issue",
        &id,
        "--database-url",
        &db.url,
        "--out-png",
        p(&png),
        "--out-html",
        p(&html),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hc1 = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert!(hc1.starts_with("HC1:"));
    let uvci = String::from_utf8_lossy(&o.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("UVCI ").map(str::to_owned))
        .unwrap();
    // The picture holds the same text; the page states the certificate in both languages.
    let from_picture = vaxtrace_cert::hcert::decode_png_qr(&std::fs::read(&png).unwrap()).unwrap();
    assert_eq!(from_picture, hc1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Ngày tiêm") && page.contains("Date of vaccination"));
    assert!(page.contains(&uvci) && page.contains("<style>"));
    // Asked again while the record is unchanged: the same certificate.
    assert_eq!(
        ok(&["cert", "issue", &id, "--database-url", &db.url]).trim(),
        hc1
    );

    let (csca, trust, revoked) = (
        dir.path().join("csca.der"),
        dir.path().join("trust.json"),
        dir.path().join("revoked.json"),
    );
    ok(&[
        "keys",
        "export-csca",
        "--out",
        p(&csca),
        "--database-url",
        &db.url,
    ]);
    ok(&[
        "cert",
        "export-trust-list",
        "--out",
        p(&trust),
        "--database-url",
        &db.url,
    ]);
    ok(&[
        "cert",
        "export-revocation-list",
        "--out",
        p(&revoked),
        "--database-url",
        &db.url,
    ]);
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "dcc",
            "verify",
            &hc1,
            "--trust-list",
            p(&trust),
            "--trust-anchor",
            p(&csca),
        ];
        args.extend_from_slice(extra);
        vaxtrace(&args)
    };
    let o = verify(&["--revocation-list", p(&revoked)]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("✓ revocation") && out.contains("VALID at"),
        "{out}"
    );

    // Without the anchor, neither a signed trust list nor a revocation list is taken.
    for extra in [&[][..], &["--revocation-list", p(&revoked)]] {
        let mut args = vec!["dcc", "verify", &hc1, "--trust-list", p(&trust)];
        args.extend_from_slice(extra);
        let o = vaxtrace(&args);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--trust-anchor"), "{err}");
    }
    // A list whose content was altered is refused.
    let mut envelope: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trust).unwrap()).unwrap();
    let mut content = STANDARD
        .decode(envelope["content"].as_str().unwrap())
        .unwrap();
    content.extend_from_slice(b" ");
    envelope["content"] = STANDARD.encode(&content).into();
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, envelope.to_string()).unwrap();
    let o = vaxtrace(&[
        "dcc",
        "verify",
        &hc1,
        "--trust-list",
        p(&forged),
        "--trust-anchor",
        p(&csca),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("signature"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = vaxtrace(&[
        "cert",
        "revoke",
        &uvci,
        "--reason",
        " ",
        "--database-url",
        &db.url,
    ]);
    assert!(!o.status.success(), "a reason is required");
    let o = vaxtrace(&[
        "cert",
        "revoke",
        "URN:UVCI:01:VN:NONE#X",
        "--reason",
        "x",
        "--database-url",
        &db.url,
    ]);
    assert!(!o.status.success(), "unknown UVCI");
    assert!(
        ok(&[
            "cert",
            "revoke",
            &uvci,
            "--reason",
            "wrong_data",
            "--database-url",
            &db.url
        ])
        .contains("revoked")
    );
    ok(&[
        "cert",
        "export-revocation-list",
        "--out",
        p(&revoked),
        "--database-url",
        &db.url,
    ]);
    let o = verify(&["--revocation-list", p(&revoked)]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("✗ revocation"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let list = ok(&["cert", "list", &id, "--database-url", &db.url]);
    assert!(
        list.contains(&uvci) && list.contains("revoked") && list.contains("wrong_data"),
        "{list}"
    );
    // The next request issues a new certificate; the revoked one is never handed out again.
    assert_ne!(
        ok(&["cert", "issue", &id, "--database-url", &db.url]).trim(),
        hc1
    );
}

async fn foreign_trust_lists_are_imported(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    setup(&db, dir.path()).await;
    let pass = vaxtrace_cert::SecretPassphrase::new(PASSPHRASE)
        .unwrap()
        .with_kdf(vaxtrace_cert::KdfParams::insecure_fast());
    let now = OffsetDateTime::now_utc();
    let until = now + time::Duration::days(365);
    let csca = vaxtrace_cert::create_csca("CSCA Test", now, until, &pass).unwrap();
    let dsc = vaxtrace_cert::issue(
        &csca,
        &pass,
        vaxtrace_cert::CertProfile::DocumentSigner,
        "VN",
        "DSC Test",
        now,
        until,
        &pass,
        &|_| None,
    )
    .unwrap();
    let list = serde_json::json!({"certificates": [
        {"country": "DE", "certificate_type": "DSC", "raw_data": STANDARD.encode(&dsc.certificate_der)},
        {"country": "DE", "certificate_type": "CSCA", "raw_data": STANDARD.encode(&csca.certificate_der)},
        {"certificate_type": "DSC", "raw_data": STANDARD.encode(&csca.certificate_der)},
    ]});
    let file = dir.path().join("de.json");
    std::fs::write(&file, list.to_string()).unwrap();
    let out = ok(&[
        "cert",
        "import-trust-list",
        p(&file),
        "--database-url",
        &db.url,
    ]);
    assert!(out.contains("imported 1 new"), "{out}");
    assert!(out.contains("skipped 1"), "{out}");
    let out = ok(&[
        "cert",
        "import-trust-list",
        p(&file),
        "--database-url",
        &db.url,
    ]);
    assert!(out.contains("imported 0 new"), "{out}");

    let (csca_file, trust) = (dir.path().join("csca.der"), dir.path().join("trust.json"));
    ok(&[
        "keys",
        "export-csca",
        "--out",
        p(&csca_file),
        "--database-url",
        &db.url,
    ]);
    ok(&[
        "cert",
        "export-trust-list",
        "--out",
        p(&trust),
        "--database-url",
        &db.url,
    ]);
    let listed = vaxtrace_cert::hcert::read_trust_list(
        &std::fs::read_to_string(&trust).unwrap(),
        &[std::fs::read(&csca_file).unwrap()],
    )
    .unwrap();
    let countries: Vec<_> = listed.iter().map(|d| d.country.clone().unwrap()).collect();
    assert_eq!(countries, ["VN", "DE"]);

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"certificates": [{"raw_data": "%%%"}]}"#).unwrap();
    let o = vaxtrace(&[
        "cert",
        "import-trust-list",
        p(&bad),
        "--database-url",
        &db.url,
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("base64"));
}

/// `vaxtrace serve` on a free loopback port, killed when dropped.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Server {
    fn start(db: &TestDb) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Held by the guard at once, so it is killed and reaped even if it never comes up.
        let server = Self {
            child: Command::new(env!("CARGO_BIN_EXE_vaxtrace"))
                .env("VAXTRACE_KEY_PASSPHRASE", PASSPHRASE)
                .args(["--log", "warn", "serve", "--database-url", &db.url])
                .args(["--addr", &format!("127.0.0.1:{port}")])
                .spawn()
                .unwrap(),
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("vaxtrace serve did not start");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn verifiers_refresh_the_lists(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let id = setup(&db, dir.path()).await;
    let hc1 = ok(&["cert", "issue", &id, "--database-url", &db.url])
        .trim()
        .to_owned();
    let csca = dir.path().join("csca.der");
    ok(&[
        "keys",
        "export-csca",
        "--out",
        p(&csca),
        "--database-url",
        &db.url,
    ]);
    let server = Server::start(&db);
    let lists = dir.path().join("lists");
    let refresh = || {
        vaxtrace(&[
            "dcc",
            "refresh",
            "--from",
            &server.url,
            "--trust-anchor",
            p(&csca),
            "--out-dir",
            p(&lists),
        ])
    };
    let verify = || {
        vaxtrace(&[
            "dcc",
            "verify",
            &hc1,
            "--trust-anchor",
            p(&csca),
            "--trust-list",
            p(&lists.join("trust-list.json")),
            "--revocation-list",
            p(&lists.join("revocation-list.json")),
        ])
    };
    assert!(refresh().status.success());
    assert!(
        verify().status.success(),
        "{}",
        String::from_utf8_lossy(&verify().stdout)
    );

    // A replayed older list is refused: the local copy is newer than the server's cached one.
    ok(&[
        "cert",
        "export-revocation-list",
        "--out",
        p(&lists.join("revocation-list.json")),
        "--database-url",
        &db.url,
    ]);
    let o = refresh();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("kept the newer one"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let uvci = String::from_utf8_lossy(
        &vaxtrace(&["cert", "issue", &id, "--database-url", &db.url]).stderr,
    )
    .lines()
    .find_map(|l| l.strip_prefix("UVCI ").map(str::to_owned))
    .unwrap();
    ok(&[
        "cert",
        "revoke",
        &uvci,
        "--reason",
        "wrong_data",
        "--database-url",
        &db.url,
    ]);
    assert!(refresh().status.success());
    let o = verify();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("✗ revocation"));

    // A server whose lists another CSCA signed is not believed.
    let other = dir.path().join("other.der");
    std::fs::write(&other, b"not the anchor").unwrap();
    let o = vaxtrace(&[
        "dcc",
        "refresh",
        "--from",
        &server.url,
        "--trust-anchor",
        p(&other),
        "--out-dir",
        p(&lists),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a genuine list"));
    let o = vaxtrace(&[
        "dcc",
        "refresh",
        "--from",
        "https://example.invalid",
        "--trust-anchor",
        p(&csca),
        "--out-dir",
        p(&lists),
    ]);
    assert!(!o.status.success());
}

vaxtrace_store::on_both_backends!(
    issue_verify_revoke,
    foreign_trust_lists_are_imported,
    verifiers_refresh_the_lists,
);
