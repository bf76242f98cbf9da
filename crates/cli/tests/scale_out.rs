//! Scale-out on `PostgreSQL`, with real `vaxtrace serve` processes: two servers on one database
//! agree (sessions, idempotent writes, live counters, one audit chain), and `--read-database-url`
//! sends read-only work to a hot standby while writes stay on the primary.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vaxtrace_store::Backend;
use vaxtrace_store::testing::{self, TestDb};

mod common;
use common::server::{Server, add_user, load, shot};
use common::{command, ok, p};

/// Signs every verified record of Kiên Giang with fresh keys, as the commune offices do.
fn sign(url: &str) {
    ok(&["keys", "root", "--database-url", url]);
    ok(&["keys", "province", "91", "--database-url", url]);
    let out = ok(&["vaccination", "sign", "--area", "91", "--database-url", url]);
    assert!(out.contains("signed "), "{out}");
}

fn dose1(coverage: &Value) -> i64 {
    coverage["total"]["dose1"]["all"].as_i64().unwrap()
}

#[tokio::test]
async fn two_servers_on_one_database_agree() {
    let Some(db) = TestDb::new(Backend::Postgres).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let people = load(&db.url, dir.path(), "91", "120");
    add_user(&db.url, "site_91", "vaccination_site", "91");
    add_user(&db.url, "analyst", "ministry_analyst", "VN");
    let outbox = dir.path().join("outbox.jsonl");
    let (a, b) = (
        Server::start(&db.url, &[], &outbox),
        Server::start(&db.url, &[], &outbox),
    );

    // A session opened on one server is valid on the other: sessions live in the database.
    let site = a.login("site_91").await;
    assert_eq!(b.get_json("/api/v1/me", &site).await["username"], "site_91");

    // The same reports sent to both servers at once: each is stored once, whichever wins.
    let reported = &people[..40];
    let sends = reported.iter().enumerate().flat_map(|(i, person)| {
        let body = shot(person, &format!("S-{i}"));
        let site = site.clone();
        [&a, &b].map(move |server| {
            let (body, site) = (body.clone(), site.clone());
            async move {
                server
                    .post("/api/v1/vaccinations", Some(&site), &body)
                    .await
                    .status()
            }
        })
    });
    let statuses = futures_util::future::join_all(sends).await;
    let created = statuses.iter().filter(|s| s.as_u16() == 201).count();
    assert!(
        statuses.iter().all(|s| matches!(s.as_u16(), 200 | 201)),
        "{statuses:?}"
    );
    assert_eq!(
        created,
        reported.len(),
        "one report created per record: {statuses:?}"
    );

    // Once signed, both answer the same live coverage, and the counters equal a recount.
    sign(&db.url);
    let analyst = b.login("analyst").await;
    let path = "/api/v1/coverage?area=91&date=2021-08-31";
    let (from_a, from_b) = (
        a.get_json(path, &analyst).await,
        b.get_json(path, &analyst).await,
    );
    assert_eq!(from_a, from_b);
    assert_eq!(dose1(&from_a), 40, "{from_a}");
    let recount = ok(&["analytics", "recount", "--database-url", &db.url]);
    assert!(recount.contains("agree"), "{recount}");

    // Logout on A ends a session B has not cached yet at once (a cached one within 30 s).
    let second = b.login("site_91").await;
    assert_eq!(
        a.post("/api/v1/auth/logout", Some(&second), &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(b.get("/api/v1/me", &second).await.status(), 401);

    // Every server appended to one audit chain.
    let audit = ok(&["audit", "verify", "--database-url", &db.url]);
    assert!(
        audit.contains("intact") || audit.contains("verified"),
        "{audit}"
    );
}

/// Polls until the standby has replayed everything the primary has written so far.
async fn caught_up(primary: &tokio_postgres::Client, standby: &tokio_postgres::Client) {
    let lsn: String = primary
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let done: bool = standby
            .query_one(
                "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                &[&lsn],
            )
            .await
            .unwrap()
            .get(0);
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "the standby did not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// `serve` with `read_url` as its read database stops before listening, saying `says`.
fn refused_as_replica(primary_url: &str, read_url: &str, says: &str) {
    let o = command(&[
        "serve",
        "--database-url",
        primary_url,
        "--read-database-url",
        read_url,
        "--addr",
        "127.0.0.1:0",
    ])
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains(says),
        "{read_url}: {err}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("listening"));
}

#[tokio::test]
async fn read_only_work_goes_to_the_hot_standby() {
    let Some(db) = TestDb::new(Backend::Postgres).await.unwrap() else {
        return;
    };
    let Some(standby_admin) = testing::postgres_standby_url() else {
        eprintln!(
            "SKIPPED: set {} to a hot standby of the test cluster",
            testing::POSTGRES_STANDBY_ENV
        );
        return;
    };
    let database = db.url.rsplit('/').next().unwrap().to_owned();
    let standby_url = vaxtrace_store::with_database(&standby_admin, &database);
    let dir = tempfile::tempdir().unwrap();
    let people = load(&db.url, dir.path(), "91", "60");
    add_user(&db.url, "site_91", "vaccination_site", "91");
    add_user(&db.url, "site_91_b", "vaccination_site", "91");
    add_user(&db.url, "analyst", "ministry_analyst", "VN");
    let (primary, standby) = (connect(&db.url).await, connect(&standby_admin).await);
    // A run that failed while replay was paused must not leave the standby stuck.
    standby
        .execute("SELECT pg_wal_replay_resume()", &[])
        .await
        .unwrap();
    caught_up(&primary, &standby).await;

    let outbox = dir.path().join("outbox.jsonl");
    let server = Server::start(&db.url, &["--read-database-url", &standby_url], &outbox);
    let (site, other_site) = (
        server.login("site_91").await,
        server.login("site_91_b").await,
    );
    let analyst = server.login("analyst").await;
    assert_eq!(server.verify(&site, &people[0]).await["match"], true);

    // Replay paused: what the primary gets next is not on the standby, so an answer shows where
    // it was read. Citizens imported meanwhile are unknown to the standby.
    standby
        .execute("SELECT pg_wal_replay_pause()", &[])
        .await
        .unwrap();
    let late = load(&db.url, dir.path(), "01", "5").remove(0);
    let unseen = server.verify(&site, &late).await;
    assert_eq!(unseen["match"], false, "read on the standby: {unseen}");
    assert_eq!(unseen["mismatched"], json!(["personal_id"]));

    // Writes go to the primary; then the writer reads there too (read-your-writes) while the
    // standby lags, and everyone else still reads the standby.
    let report = server
        .post(
            "/api/v1/vaccinations",
            Some(&site),
            &shot(&people[1], "R-1"),
        )
        .await;
    assert_eq!(report.status(), 201);
    assert_eq!(
        server.verify(&site, &late).await["match"],
        true,
        "writer on the primary"
    );
    assert_eq!(server.verify(&other_site, &late).await["match"], false);
    sign(&db.url);
    let path = "/api/v1/coverage?area=91&date=2021-08-31";
    assert_eq!(
        dose1(&server.get_json(path, &analyst).await),
        0,
        "analytics on the standby"
    );

    standby
        .execute("SELECT pg_wal_replay_resume()", &[])
        .await
        .unwrap();
    caught_up(&primary, &standby).await;
    assert_eq!(server.verify(&other_site, &late).await["match"], true);
    assert_eq!(dose1(&server.get_json(path, &analyst).await), 1);
    let audit = ok(&["audit", "verify", "--database-url", &db.url]);
    assert!(
        audit.contains("intact") || audit.contains("verified"),
        "{audit}"
    );

    // Only a migrated hot standby of this cluster is taken for a replica: not the primary's own
    // database, not the standby's copy of an unmigrated one, not SQLite.
    let Some(empty) = TestDb::new(Backend::Postgres).await.unwrap() else {
        return;
    };
    caught_up(&primary, &standby).await;
    let empty_on_standby =
        vaxtrace_store::with_database(&standby_admin, empty.url.rsplit('/').next().unwrap());
    let sqlite = format!("sqlite:{}", p(&dir.path().join("other.db")));
    for (read_url, says) in [
        (db.url.as_str(), "not a hot standby"),
        (empty_on_standby.as_str(), "lacks migrations"),
        (sqlite.as_str(), "needs PostgreSQL streaming replication"),
    ] {
        refused_as_replica(&db.url, read_url, says);
    }
    assert!(
        !dir.path().join("other.db").exists(),
        "a refused SQLite URL creates no file"
    );
}
