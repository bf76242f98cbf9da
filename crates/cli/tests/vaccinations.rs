//! `vaxtrace` vaccination commands as a user runs them: generate → import → export links →
//! quality; a re-import changes nothing; bad rows go to the rejects file; keys and record
//! signature checks. Runs on `SQLite` and, when configured, on `PostgreSQL`.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use std::process::Command;

use vaxtrace_store::testing::TestDb;
use vaxtrace_store::{Backend, LinkDecision, RecordFilter};

mod common;
use common::{PASSPHRASE, command, ok, p, vaxtrace};

async fn generated_shots_match_with_measured_quality(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (people, shots, truth, links) = (
        dir.path().join("people.csv"),
        dir.path().join("shots.csv"),
        dir.path().join("truth.csv"),
        dir.path().join("links.csv"),
    );
    ok(&[
        "generate",
        "citizens",
        "--province",
        "91",
        "--count",
        "3000",
        "--seed",
        "7",
        "--out",
        p(&people),
    ]);
    ok(&[
        "import",
        "citizens",
        p(&people),
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    ok(&[
        "generate",
        "vaccinations",
        "--citizens",
        p(&people),
        "--seed",
        "7",
        "--noise",
        "0.2",
        "--out",
        p(&shots),
        "--truth",
        p(&truth),
    ]);
    let first = ok(&[
        "import",
        "vaccinations",
        p(&shots),
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    assert!(first.contains(" 0 rejected"), "{first}");
    // Idempotent on (source, source_record_id): nothing new the second time.
    let second = ok(&[
        "import",
        "vaccinations",
        p(&shots),
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    assert!(second.contains(": 0 new"), "{second}");
    ok(&[
        "export",
        "links",
        "--database-url",
        &db.url,
        "--out",
        p(&links),
    ]);
    let exported = std::fs::read_to_string(&links).unwrap();
    assert!(exported.starts_with("source,source_record_id,personal_id,decision,score\n"));
    let quality: serde_json::Value = serde_json::from_str(&ok(&[
        "linkage",
        "quality",
        "--links",
        p(&links),
        "--truth",
        p(&truth),
    ]))
    .unwrap();
    let records = quality["records"].as_u64().unwrap();
    assert_eq!(records as usize, exported.lines().count() - 1);
    assert!(
        quality["auto_precision"].as_f64().unwrap() >= 0.995,
        "{quality}"
    );
    assert!(
        quality["found_or_queued"].as_f64().unwrap() >= 0.98,
        "{quality}"
    );
    assert!(
        quality["review"].as_u64().unwrap() > 0,
        "20 % noise must send some records to review"
    );
}

async fn bad_rows_are_rejected_with_reasons(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("shots.csv");
    std::fs::write(
        &shots,
        "source,source_record_id,personal_id,full_name,birth_date,sex,phone,commune_code,vaccine_code,dose_number,administered_at,site_code,lot\n\
         site,1,,Nguyễn Văn An,1987-03-09,M,,30730,EU/1/21/1529,1,2021-07-01 09:00,S1,L1\n\
         site,2,,Nguyễn Văn An,1987-03-09,M,,30730,XYZ,1,2021-07-01 09:00,S1,L1\n\
         site,3,,Nguyễn Văn An,1987-03-09,M,,30730,EU/1/21/1529,7,2021-07-01 09:00,S1,L1\n\
         site,4,,Nguyễn Văn An,1987-03-09,M,,30730,EU/1/21/1529,1,2099-07-01 09:00,S1,L1\n\
         site,5,,Nguyễn Văn An,1987-03-09,M,,30730,EU/1/21/1529,1\n",
    )
    .unwrap();
    let out = ok(&[
        "import",
        "vaccinations",
        p(&shots),
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    assert!(
        out.contains("read 5 rows") && out.contains("4 rejected"),
        "{out}"
    );
    let rejects = std::fs::read_to_string(dir.path().join("shots.csv.rejects.csv")).unwrap();
    for expected in [
        "3,vaccine_code,unknown_vaccine",
        "4,dose_number,dose_out_of_range",
        "5,administered_at,future_date",
        "6,row,field_count",
    ] {
        assert!(rejects.contains(expected), "{expected} in {rejects}");
    }
    let bad_header = dir.path().join("bad.csv");
    std::fs::write(&bad_header, "source,who\n").unwrap();
    let o = vaxtrace(&[
        "import",
        "vaccinations",
        p(&bad_header),
        "--database-url",
        &db.url,
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown column 'who'") && err.lines().count() == 1,
        "{err}"
    );
}

async fn keys_sign_and_records_verify(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let o = vaxtrace(&["keys", "commune", "30730", "--database-url", &db.url]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("keys province 91"),
        "tells the order"
    );
    ok(&["keys", "root", "--database-url", &db.url]);
    ok(&["keys", "province", "91", "--database-url", &db.url]);
    ok(&["keys", "commune", "30730", "--database-url", &db.url]);
    // Rotation: a second commune key becomes the active one, the first stays for old signatures.
    ok(&["keys", "commune", "30730", "--database-url", &db.url]);
    let list = ok(&["keys", "list", "--database-url", &db.url]);
    assert_eq!(list.lines().count(), 4);
    assert_eq!(
        list.lines()
            .filter(|l| l.contains("commune_signer") && l.contains("inactive"))
            .count(),
        1
    );
    let o = vaxtrace(&["keys", "province", "99", "--database-url", &db.url]);
    assert!(!o.status.success(), "unknown province");
    let o = Command::new(env!("CARGO_BIN_EXE_vaxtrace"))
        .env("VAXTRACE_KEY_PASSPHRASE", "short")
        .args(["keys", "root", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(!o.status.success(), "a short passphrase is refused");

    // An unsigned record does not verify; a signed one does until it changes.
    let store = vaxtrace_store::open(&db.url).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let record = |id: &str, decision| vaxtrace_store::NewShotRecord {
        shot: vaxtrace_domain::ShotInput {
            source: "s".into(),
            source_record_id: id.into(),
            full_name: "Nguyễn Văn An".into(),
            vaccine_code: "EU/1/21/1529".into(),
            dose_number: "1".into(),
            administered_at: "2021-07-01 09:00".into(),
            site_code: "S".into(),
            ..Default::default()
        }
        .parse(now)
        .unwrap(),
        decision,
        personal_id: Some(vaxtrace_domain::PersonalId::parse("091087123456").unwrap()),
        score: None,
        evidence: "{}".into(),
        queue_unit: Some("30730".into()),
        received_at: now,
    };
    store
        .insert_shots(vec![
            record("1", LinkDecision::Unmatched),
            record("2", LinkDecision::Auto),
        ])
        .await
        .unwrap();
    let o = vaxtrace(&["verify-record", "1", "--database-url", &db.url]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"unsigned\""));
    assert!(
        !vaxtrace(&["verify-record", "99", "--database-url", &db.url])
            .status
            .success()
    );

    let secret = vaxtrace_cert::SecretPassphrase::new(PASSPHRASE).unwrap();
    let (key_id, key) =
        vaxtrace_server::signing::commune_signer(store.as_ref(), "30730", &secret, now)
            .await
            .unwrap();
    let stored = store.shot_record(2).await.unwrap().unwrap();
    let signature = key.sign(&stored.canonical_bytes()).unwrap();
    store
        .sign_records(
            vec![vaxtrace_store::NewSignature {
                record_id: 2,
                version: 1,
                signature,
                signing_key_id: key_id,
            }],
            "ubnd",
            now,
        )
        .await
        .unwrap();
    let out = ok(&["verify-record", "2", "--database-url", &db.url]);
    assert!(
        out.contains("\"valid\": true") && out.contains("\"signer_unit\": \"30730\""),
        "{out}"
    );
    store
        .review_record(
            2,
            vaxtrace_store::ReviewAction::Correct(vaxtrace_store::Correction {
                lot: Some("X".into()),
                ..Default::default()
            }),
            vaxtrace_store::Change {
                actor: "t".into(),
                reason: "r".into(),
                expected_version: 1,
                at: now,
            },
        )
        .await
        .unwrap();
    let o = vaxtrace(&["verify-record", "2", "--database-url", &db.url]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("changed_since_signing"));
}

fn records(linked_unsigned: bool) -> RecordFilter {
    RecordFilter {
        units: None,
        decisions: vec![LinkDecision::Auto, LinkDecision::Confirmed],
        unsigned_only: linked_unsigned,
        after_id: 0,
        limit: 100_000,
    }
}

/// `vaccination sign` killed mid-run (some communes signed, some keys made): a second run signs
/// exactly the rest, every signature verifies to the root, and the audit chain holds.
async fn signing_survives_kill_9(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (people, shots) = (dir.path().join("people.csv"), dir.path().join("shots.csv"));
    let truth = dir.path().join("truth.csv");
    let url = db.url.as_str();
    ok(&[
        "generate",
        "citizens",
        "--province",
        "91",
        "--count",
        "3000",
        "--seed",
        "5",
        "--out",
        p(&people),
    ]);
    ok(&[
        "generate",
        "vaccinations",
        "--citizens",
        p(&people),
        "--seed",
        "5",
        "--noise",
        "0",
        "--duplicates",
        "0",
        "--out",
        p(&shots),
        "--truth",
        p(&truth),
    ]);
    ok(&[
        "import",
        "citizens",
        p(&people),
        "--database-url",
        url,
        "--no-progress",
    ]);
    ok(&[
        "import",
        "vaccinations",
        p(&shots),
        "--database-url",
        url,
        "--no-progress",
    ]);
    ok(&["keys", "root", "--database-url", url]);
    ok(&["keys", "province", "91", "--database-url", url]);
    let store = vaxtrace_store::open(url).await.unwrap();
    let total = store.list_records(records(true)).await.unwrap().len();
    assert!(total > 1000, "{total}");

    let mut child =
        common::command(&["vaccination", "sign", "--area", "91", "--database-url", url])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
    let started = std::time::Instant::now();
    let mut unsigned = total;
    while unsigned == total && started.elapsed() < std::time::Duration::from_mins(2) {
        std::thread::sleep(std::time::Duration::from_millis(30));
        unsigned = store.list_records(records(true)).await.unwrap().len();
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let after_kill = store.list_records(records(true)).await.unwrap().len();
    assert!(
        0 < after_kill && after_kill < total,
        "killed mid-run: {after_kill} of {total} unsigned"
    );

    let out = ok(&["vaccination", "sign", "--area", "91", "--database-url", url]);
    assert!(
        out.contains(&format!("signed {after_kill} records")),
        "{out}"
    );
    assert!(store.list_records(records(true)).await.unwrap().is_empty());
    for record in store
        .list_records(records(false))
        .await
        .unwrap()
        .iter()
        .step_by(53)
    {
        let check = vaxtrace_server::signing::check_record(store.as_ref(), record)
            .await
            .unwrap();
        assert!(check.valid, "{check:?}");
    }
    let audit = store.verify_audit().await.unwrap();
    assert!(audit.first_broken.is_none(), "{audit:?}");
}

/// The demo makes its keys with the passphrase its server will use: the one given in
/// `VAXTRACE_KEY_PASSPHRASE` (the tests' own here), not a generated one; a later run with another
/// passphrase is refused before it serves keys it cannot open.
#[test]
fn demo_keys_open_with_the_given_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let url = format!("sqlite:{}", p(&db));
    let demo = [
        "demo",
        "--no-serve",
        "--citizens",
        "300",
        "--database-url",
        &url,
    ];
    ok(&demo);
    assert!(
        !dir.path().join("demo.db.demo-key-passphrase").exists(),
        "a generated passphrase was used"
    );
    ok(&demo); // the same passphrase again: the keys are reused
    let o = command(&demo)
        .env("VAXTRACE_KEY_PASSPHRASE", "một mật khẩu khác hẳn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("made with another passphrase"),
        "{err}"
    );
}

vaxtrace_store::on_both_backends!(
    signing_survives_kill_9,
    generated_shots_match_with_measured_quality,
    bad_rows_are_rejected_with_reasons,
    keys_sign_and_records_verify,
);
