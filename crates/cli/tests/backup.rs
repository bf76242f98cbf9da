//! `vaxtrace backup` / `vaxtrace restore` as an operator runs them, on `SQLite` and, when
//! configured, on `PostgreSQL`: the restore equals the database at backup time, its audit chain
//! verifies, and nothing is overwritten or half-restored.

#![allow(clippy::unwrap_used)]

use vaxtrace_domain::PersonalId;
use vaxtrace_store::Backend;
use vaxtrace_store::testing::TestDb;

mod common;
use common::{load_citizens, ok, p, vaxtrace};

fn refused(args: &[&str], says: &str) {
    let o = vaxtrace(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(err.contains(says), "{args:?}: {err}");
}

async fn a_restore_equals_the_database_at_backup_time(backend: Backend) {
    let (Some(source), Some(target)) = (
        TestDb::new(backend).await.unwrap(),
        TestDb::new(backend).await.unwrap(),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    load_citizens(&source.url, dir.path(), "91", "400");
    let file = dir.path().join("vaxtrace.backup");
    let out = ok(&["backup", "--database-url", &source.url, "--out", p(&file)]);
    assert!(out.contains("400 citizens"), "{out}");
    refused(
        &["backup", "--database-url", &source.url, "--out", p(&file)],
        "never overwrites",
    );
    // Written after the backup: not in the restore.
    load_citizens(&source.url, dir.path(), "01", "50");

    let out = ok(&["restore", p(&file), "--database-url", &target.url]);
    assert!(out.contains("restored 400 citizens"), "{out}");
    let (from, to) = (
        vaxtrace_store::open(&source.url).await.unwrap(),
        vaxtrace_store::open(&target.url).await.unwrap(),
    );
    assert!(from.count_citizens().await.unwrap() > 400);
    assert_eq!(to.count_citizens().await.unwrap(), 400);
    let people = std::fs::read_to_string(dir.path().join("people-91.csv")).unwrap();
    for line in people.lines().skip(1).step_by(97) {
        let id = PersonalId::parse(line.split(',').next().unwrap()).unwrap();
        assert_eq!(
            from.citizen(id).await.unwrap(),
            to.citizen(id).await.unwrap()
        );
    }
    let audit = to.verify_audit().await.unwrap();
    assert!(
        audit.first_broken.is_none() && audit.entries >= 2,
        "{audit:?}"
    );

    refused(
        &["restore", p(&file), "--database-url", &target.url],
        if backend == Backend::Sqlite {
            "exists"
        } else {
            "has tables"
        },
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_backup_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("notes.txt");
    std::fs::write(&bogus, "not a database, just some text that is long enough").unwrap();
    let target = dir.path().join("restored.db");
    let url = format!("sqlite:{}", target.display());
    refused(
        &["restore", p(&bogus), "--database-url", &url],
        "not a SQLite database",
    );
    refused(
        &[
            "restore",
            p(&dir.path().join("missing")),
            "--database-url",
            &url,
        ],
        "no backup at",
    );
    assert!(!target.exists());
    let missing = dir.path().join("typo.db");
    refused(
        &[
            "backup",
            "--database-url",
            &format!("sqlite:{}", missing.display()),
            "--out",
            p(&dir.path().join("b")),
        ],
        "no SQLite database at",
    );
    assert!(
        !missing.exists(),
        "a mistyped path does not become a database"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

vaxtrace_store::on_both_backends!(a_restore_equals_the_database_at_backup_time,);
