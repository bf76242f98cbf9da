//! `vaxtrace serve` killed with SIGKILL under concurrent HTTP writes: after a restart every
//! acknowledged write is there, and `vaxtrace check` finds the storage (foreign keys), the live
//! counters and the audit chain consistent, so the writes cut short left nothing half-done.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use vaxtrace_store::Backend;
use vaxtrace_store::testing::TestDb;

mod common;
use common::ok;
use common::server::{Person, Server, add_user, load, shot};

/// Writers sending reports at once; the kill comes after `ACKED_BEFORE_KILL` acknowledgements.
const WRITERS: usize = 8;
const ACKED_BEFORE_KILL: usize = 150;

/// Sends reports of `people` (dose 1 each, ids `W{writer}-{n}`) until the server stops answering;
/// pushes each report the server acknowledged with 201.
async fn write_until_killed(
    server: Arc<Server>,
    token: String,
    writer: usize,
    people: Arc<Vec<Person>>,
    acked: Arc<Mutex<Vec<Value>>>,
) {
    for n in 0.. {
        let person = &people[(writer + n * WRITERS) % people.len()];
        let body = shot(person, &format!("W{writer}-{n}"));
        let Ok(res) = server.try_post("/api/v1/vaccinations", &token, &body).await else {
            return; // the server is gone
        };
        match res.status().as_u16() {
            201 => acked.lock().unwrap().push(body),
            status => panic!("report {n} of writer {writer}: {status}"),
        }
    }
}

async fn acknowledged_writes_survive_kill_9_under_load(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let people = Arc::new(load(&db.url, dir.path(), "91", "200"));
    add_user(&db.url, "site_91", "vaccination_site", "91");
    let outbox = dir.path().join("outbox.jsonl");
    let server = Arc::new(Server::start(&db.url, &[], &outbox));
    let token = server.login("site_91").await;
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(write_until_killed(
                Arc::clone(&server),
                token.clone(),
                w,
                Arc::clone(&people),
                Arc::clone(&acked),
            ))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_mins(2);
    while acked.lock().unwrap().len() < ACKED_BEFORE_KILL {
        assert!(Instant::now() < deadline, "the server wrote too slowly");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for w in writers {
        w.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.len() >= ACKED_BEFORE_KILL, "{}", acked.len());

    // The database as the kill left it, checked before any server touches it again.
    let check = ok(&["check", "--database-url", &db.url]);
    assert!(
        check.contains("every foreign key holds")
            && check.contains("agree with a recount")
            && check.contains("audit chain: intact"),
        "{check}"
    );

    // Every acknowledged report is stored: sent again, each is a replay (200), never new (201).
    let restarted = Server::start(&db.url, &[], &outbox);
    let token = restarted.login("site_91").await;
    for body in &acked {
        let res = restarted
            .try_post("/api/v1/vaccinations", &token, body)
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", body["source_record_id"]);
    }
    let check = ok(&["check", "--database-url", &db.url]);
    assert!(check.contains("agree with a recount"), "{check}");
}

vaxtrace_store::on_both_backends!(acknowledged_writes_survive_kill_9_under_load);
