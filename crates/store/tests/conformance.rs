//! One conformance suite, run against every backend: each test is instantiated for `SQLite` and for
//! `PostgreSQL` (which prints a visible SKIPPED line when no server is configured).

#![allow(clippy::unwrap_used, clippy::too_many_lines)] // tests fail loudly; table-driven tests run long

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use vaxtrace_domain::{Jurisdiction, PersonalId, Role};
use vaxtrace_store::testing::{TestDb, citizen};
use vaxtrace_store::{AuditEntry, Backend, NewUser, Store, StoreError, UpsertCounts};

async fn store(backend: Backend) -> Option<(TestDb, Arc<dyn Store>)> {
    let db = TestDb::new(backend).await.expect("test database")?;
    let store = vaxtrace_store::open(&db.url).await.expect("open store");
    store.migrate().await.expect("migrate");
    Some((db, store))
}

fn entry(action: &str, subject: Option<&str>) -> AuditEntry {
    AuditEntry {
        at: OffsetDateTime::now_utc(),
        actor: "officer1".into(),
        role: "commune_police".into(),
        action: action.into(),
        subject: subject.map(Into::into),
        purpose: "test".into(),
        detail: None,
    }
}

async fn migrate_is_idempotent(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let store = vaxtrace_store::open(&db.url).await.unwrap();
    let all = store.pending_migrations().await.unwrap();
    assert_eq!(all.len(), 8, "{all:?}");
    assert_eq!(
        store.migrate().await.unwrap(),
        all,
        "pending_migrations names what migrate applies"
    );
    assert!(store.pending_migrations().await.unwrap().is_empty());
    assert_eq!(
        all,
        [
            "0001_registry",
            "0002_vaccinations",
            "0003_certificates",
            "0004_declarations",
            "0005_tracing",
            "0006_analytics",
            "0007_citizen_app",
            "0008_login_failures",
        ]
    );
    assert!(store.migrate().await.unwrap().is_empty());
    assert_eq!(store.backend(), backend);
}

/// `integrity_problems` is empty on sound data, and names a row whose foreign key points nowhere
/// (`SQLite`, written with the checks off) or a constraint left unvalidated (`PostgreSQL`).
async fn integrity_check_finds_broken_keys(backend: Backend) {
    let Some((db, store)) = store(backend).await else {
        return;
    };
    let a = citizen("091087123456", "Nguyễn Văn An", "1987-03-09", "M", "30730");
    store.upsert_citizens(vec![a]).await.unwrap();
    assert_eq!(
        store.integrity_problems().await.unwrap(),
        Vec::<String>::new()
    );
    let expected = match backend {
        Backend::Sqlite => {
            let path = db.url.strip_prefix("sqlite:").unwrap();
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch(
                "PRAGMA foreign_keys = OFF; INSERT INTO sessions VALUES (x'00', 999, 0, 0);",
            )
            .unwrap();
            "sessions"
        }
        Backend::Postgres => {
            let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .batch_execute(
                    "ALTER TABLE citizens ADD CONSTRAINT left_unvalidated CHECK (true) NOT VALID",
                )
                .await
                .unwrap();
            "left_unvalidated"
        }
    };
    let problems = store.integrity_problems().await.unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(expected), "{problems:?}");
}

async fn wal_position_advances_with_writes(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let before = store.wal_position().await.unwrap();
    let a = citizen("091087123456", "Nguyễn Văn An", "1987-03-09", "M", "30730");
    store.upsert_citizens(vec![a]).await.unwrap();
    let after = store.wal_position().await.unwrap();
    let cluster = store.cluster_identity().await.unwrap();
    match backend {
        Backend::Sqlite => {
            assert_eq!((before, after), (None, None), "no replication");
            assert!(cluster.is_none());
        }
        Backend::Postgres => {
            assert!(before.unwrap() < after.unwrap(), "{before:?} {after:?}");
            let cluster = cluster.unwrap();
            assert!(!cluster.in_recovery, "the test server is a primary");
            assert!(
                cluster.system_identifier.parse::<u64>().is_ok(),
                "{cluster:?}"
            );
        }
    }
}

async fn upsert_counts_and_round_trip(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let mut a = citizen("091087123456", "Nguyễn Văn An", "1987-03-09", "M", "30730");
    a.temporary = Some(vaxtrace_domain::Residence {
        unit_code: "00001",
        address: "5 Phúc Xá".into(),
    });
    a.phone = Some(vaxtrace_domain::Phone::parse("0912345678").unwrap());
    let b = citizen("091195000001", "Trần Thị Bình", "1995-11", "F", "30733");
    let counts = store
        .upsert_citizens(vec![a.clone(), b.clone()])
        .await
        .unwrap();
    assert_eq!(
        counts,
        UpsertCounts {
            inserted: 2,
            updated: 0,
            unchanged: 0
        }
    );
    assert_eq!(
        store.citizen(a.personal_id).await.unwrap().as_ref(),
        Some(&a)
    );
    assert_eq!(
        store.citizen(b.personal_id).await.unwrap().as_ref(),
        Some(&b)
    );

    // Re-import: one changed, one identical, one new; a repeated ID inside a batch counts once.
    let mut b2 = b.clone();
    b2.permanent.address = "99 Nguyễn Trung Trực".into();
    let c = citizen("091300000002", "Lê Hoàng Đào", "2000", "F", "30730");
    let counts = store
        .upsert_citizens(vec![a.clone(), b.clone(), b2.clone(), c])
        .await
        .unwrap();
    assert_eq!(
        counts,
        UpsertCounts {
            inserted: 1,
            updated: 1,
            unchanged: 1
        }
    );
    assert_eq!(
        store
            .citizen(b.personal_id)
            .await
            .unwrap()
            .unwrap()
            .permanent
            .address,
        "99 Nguyễn Trung Trực"
    );
    assert_eq!(store.count_citizens().await.unwrap(), 3);
}

async fn unknown_citizen_is_none(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let id = PersonalId::parse("001087999999").unwrap();
    assert!(store.citizen(id).await.unwrap().is_none());
}

async fn bulk_load_stages_then_merges_in_key_order(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    assert!(store.begin_bulk_load().await.unwrap());
    let an = citizen("091087123456", "Nguyễn Văn An", "1987", "M", "30730");
    let mut an_moved = an.clone();
    an_moved.permanent.address = "99 Lê Lợi".into();
    let binh = citizen("091195000001", "Trần Thị Bình", "1995", "F", "30733");
    let mut staged = store.stage_citizens(vec![an, binh.clone()]).await.unwrap();
    // The same ID again in a later batch: the later row wins.
    staged += store.stage_citizens(vec![an_moved.clone()]).await.unwrap();
    let mut counts = store.finish_bulk_load().await.unwrap();
    counts += staged;
    assert_eq!(counts.inserted, 2);
    assert_eq!(counts.inserted + counts.updated, 3);
    assert_eq!(
        store.citizen(an_moved.personal_id).await.unwrap(),
        Some(an_moved)
    );
    assert_eq!(store.citizen(binh.personal_id).await.unwrap(), Some(binh));
    assert!(store.migrate().await.unwrap().is_empty());
    assert!(
        !store.begin_bulk_load().await.unwrap(),
        "no bulk load into a non-empty registry"
    );
}

async fn interrupted_bulk_load_restarts_cleanly(backend: Backend) {
    let Some((db, store)) = store(backend).await else {
        return;
    };
    assert!(store.begin_bulk_load().await.unwrap());
    store
        .stage_citizens(vec![citizen(
            "091087123456",
            "Nguyễn Văn An",
            "1987",
            "M",
            "30730",
        )])
        .await
        .unwrap();
    // The process dies here; a new one opens the database and starts again.
    drop(store);
    let store = vaxtrace_store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    assert!(store.begin_bulk_load().await.unwrap());
    let binh = citizen("091195000001", "Trần Thị Bình", "1995", "F", "30733");
    store.stage_citizens(vec![binh.clone()]).await.unwrap();
    let counts = store.finish_bulk_load().await.unwrap();
    assert_eq!(
        store.count_citizens().await.unwrap(),
        1,
        "the stale stage was discarded: {counts:?}"
    );
    assert_eq!(store.citizen(binh.personal_id).await.unwrap(), Some(binh));
}

async fn users_are_unique(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let new = NewUser {
        username: "cuong".into(),
        password_hash: "$argon2id$fake".into(),
        role: Role::CommunePolice,
        jurisdiction: Jurisdiction::parse("30730").unwrap(),
    };
    let id = store.create_user(new.clone()).await.unwrap();
    let err = store.create_user(new).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let user = store.user_by_username("cuong").await.unwrap().unwrap();
    assert_eq!(
        (user.id, user.role, user.jurisdiction.code()),
        (id, Role::CommunePolice, "30730")
    );
    assert!(store.user_by_username("nobody").await.unwrap().is_none());
}

async fn sessions_expire_and_end(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let user_id = store
        .create_user(NewUser {
            username: "an".into(),
            password_hash: "x".into(),
            role: Role::Admin,
            jurisdiction: Jurisdiction::National,
        })
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    store
        .create_session([1; 32], user_id, now + Duration::hours(1))
        .await
        .unwrap();
    store
        .create_session([2; 32], user_id, now - Duration::seconds(1))
        .await
        .unwrap();
    let (user, expires) = store.session_user([1; 32], now).await.unwrap().unwrap();
    assert_eq!(user.username, "an");
    // Stored in microseconds: the same instant, give or take rounding.
    assert!((expires - (now + Duration::hours(1))).abs() < Duration::milliseconds(1));
    assert!(
        store.session_user([2; 32], now).await.unwrap().is_none(),
        "expired"
    );
    assert!(
        store.session_user([3; 32], now).await.unwrap().is_none(),
        "unknown"
    );
    assert!(
        store
            .session_user([1; 32], now + Duration::hours(2))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.purge_expired_sessions(now).await.unwrap(), 1);
    store.delete_session([1; 32]).await.unwrap();
    assert!(
        store.session_user([1; 32], now).await.unwrap().is_none(),
        "logged out"
    );
}

async fn login_attempts_count_within_the_window(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let (an, binh) = ([1; 32], [2; 32]);
    let now = OffsetDateTime::now_utc();
    let window = Duration::minutes(15);
    let attempt = |key: [u8; 32], at: OffsetDateTime| {
        let store = Arc::clone(&store);
        async move {
            store
                .record_login_attempt(key, at, at - window)
                .await
                .unwrap()
        }
    };
    // Each attempt counts the ones in its own window: the one 40 minutes ago has dropped out.
    let mut counts = Vec::new();
    for minutes_ago in [40, 10, 5, 0] {
        counts.push(attempt(an, now - Duration::minutes(minutes_ago)).await);
    }
    assert_eq!(counts, [1, 1, 2, 3]);
    assert_eq!(attempt(binh, now).await, 1, "per username");
    store.clear_login_failures(an).await.unwrap();
    assert_eq!(attempt(an, now).await, 1, "cleared");
    assert_eq!(attempt(binh, now).await, 2);
    // Purging with the sessions drops attempts older than a day.
    let later = now + Duration::days(2);
    store.purge_expired_sessions(later).await.unwrap();
    assert_eq!(
        store
            .record_login_attempt(binh, later, now - Duration::days(30))
            .await
            .unwrap(),
        1
    );

    // Attempts racing each other: at most five of twenty see a count of five or less.
    let key = [3; 32];
    let racing: Vec<_> = (0..20).map(|_| tokio::spawn(attempt(key, now))).collect();
    let mut within = 0;
    for handle in racing {
        within += usize::from(handle.await.unwrap() <= 5);
    }
    assert!(within <= 5, "{within} attempts passed a limit of five");
}

async fn audit_chain_verifies_and_detects_tampering(backend: Backend) {
    let Some((db, store)) = store(backend).await else {
        return;
    };
    assert_eq!(store.verify_audit().await.unwrap().entries, 0);
    store
        .append_audit(vec![
            entry("citizen.read", Some("091087123456")),
            entry("identity.verify", None),
        ])
        .await
        .unwrap();
    store
        .append_audit(vec![entry("citizen.read", Some("091087123456"))])
        .await
        .unwrap();
    let v = store.verify_audit().await.unwrap();
    assert!(v.intact() && v.entries == 3, "{v:?}");
    let mine = store.audit_for_subject("091087123456").await.unwrap();
    assert_eq!(mine.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3]);

    // Append-only: the database itself refuses changes.
    let update = "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2";
    assert!(
        raw_sql(&db, update).await.is_err(),
        "audit_log must refuse UPDATE"
    );
    // An attacker with DDL rights disables the guard; the chain still exposes the change.
    let disable = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    };
    raw_sql(&db, disable).await.unwrap();
    raw_sql(&db, update).await.unwrap();
    let v = store.verify_audit().await.unwrap();
    assert_eq!(v.first_broken, Some(2), "{v:?}");
}

async fn concurrent_audit_appends_keep_one_chain(backend: Backend) {
    let Some((_db, store)) = store(backend).await else {
        return;
    };
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for _ in 0..10 {
                    store
                        .append_audit(vec![entry(&format!("task{i}"), None)])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let v = store.verify_audit().await.unwrap();
    assert!(v.intact() && v.entries == 80, "{v:?}");
}

async fn raw_sql(db: &TestDb, sql: &str) -> Result<(), String> {
    match db.backend {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(db.url.trim_start_matches("sqlite:"))
                .map_err(|e| e.to_string())?;
            conn.execute_batch(sql).map_err(|e| e.to_string())
        }
        Backend::Postgres => {
            let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            client.batch_execute(sql).await.map_err(|e| e.to_string())
        }
    }
}

vaxtrace_store::on_both_backends!(
    integrity_check_finds_broken_keys,
    migrate_is_idempotent,
    wal_position_advances_with_writes,
    upsert_counts_and_round_trip,
    unknown_citizen_is_none,
    bulk_load_stages_then_merges_in_key_order,
    interrupted_bulk_load_restarts_cleanly,
    users_are_unique,
    sessions_expire_and_end,
    login_attempts_count_within_the_window,
    audit_chain_verifies_and_detects_tampering,
    concurrent_audit_appends_keep_one_chain,
);
