//! The SMS senders against a real HTTP gateway on loopback: the JSON and the bearer token arrive,
//! a refusal or an unreachable gateway is an error; the outbox appends one line per text.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use vaxtrace_server::sms::{HttpGatewaySms, OutboxSms, SmsSender};

type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

async fn gateway(status: StatusCode) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/send",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let log = Arc::clone(&log);
            async move {
                let auth = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                log.lock().unwrap().push((auth, body));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn send(sender: Arc<dyn SmsSender>) -> Result<(), String> {
    tokio::task::spawn_blocking(move || sender.send("0912345678", "Mã xác thực vaxtrace: 123456"))
        .await
        .unwrap()
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_gets_json_and_the_token() {
    let (url, seen) = gateway(StatusCode::OK).await;
    let sender = Arc::new(HttpGatewaySms::new(url, Some("s3cret-token".into())));
    assert_eq!(sender.delivery(), "sms");
    assert!(
        !format!("{sender:?}").contains("s3cret-token"),
        "the token never prints"
    );
    send(sender).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0.as_deref(), Some("Bearer s3cret-token"));
    assert_eq!(seen[0].1["to"], "0912345678");
    assert_eq!(seen[0].1["text"], "Mã xác thực vaxtrace: 123456");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_or_absent_gateway_is_an_error() {
    let (url, _) = gateway(StatusCode::SERVICE_UNAVAILABLE).await;
    let err = send(Arc::new(HttpGatewaySms::new(url, None)))
        .await
        .unwrap_err();
    assert!(err.contains("503"), "{err}");
    // Nothing listens on port 9 of loopback.
    let err = send(Arc::new(HttpGatewaySms::new(
        "http://127.0.0.1:9/send".into(),
        None,
    )))
    .await
    .unwrap_err();
    assert!(err.contains("unreachable"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_appends_a_line_per_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.jsonl");
    let outbox: Arc<dyn SmsSender> = Arc::new(OutboxSms::new(path.clone()));
    assert_eq!(outbox.delivery(), "outbox");
    send(Arc::clone(&outbox)).await.unwrap();
    send(outbox).await.unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["to"], "0912345678");
    assert!(lines[1]["at"].as_str().unwrap().starts_with("20"));
}
