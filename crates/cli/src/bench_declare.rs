//! `vaxtrace bench declare`: declarations accepted per second over HTTP (each checked against the
//! registry, routed and answered with a signed pass) and pass scans per second at a checkpoint,
//! beside the same server's `/healthz` under the same bounded load generator on loopback.

use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use time::OffsetDateTime;
use vaxtrace_cert::{CertProfile, SecretPassphrase};
use vaxtrace_store::Checkpoint;

use crate::bench::{
    Backends, LoadResult, VerifyBench, add_bench_user, load, load_registry, login_as, print_load,
    start_server_with, verdict,
};
use crate::vaccination_commands::issue_and_activate;

#[derive(Debug, Clone, Args)]
pub struct DeclareBench {
    /// Citizens loaded into the registry each declaration is checked against.
    #[arg(long, default_value_t = 200_000)]
    citizens: u64,
    /// Length of each measured run.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    seconds: u64,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    connections: u64,
    /// Upper bound on requests per run, whatever the time.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// `PostgreSQL` server to measure on as well (needs CREATE DATABASE).
    #[arg(long, env = "VAXTRACE_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
}

pub(crate) const PASSPHRASE: &str = "bench declare passphrase, throwaway keys";
const CHECKPOINT: &str = "BENCH-1";
/// Passes collected for the scan run (each one scanned many times).
const PASSES: usize = 2_000;
/// The issue's targets.
const DECLARATIONS_MIN: f64 = 10_000.0;
const SCANS_MIN: f64 = 30_000.0;
const P99_MAX_MS: f64 = 10.0;

/// Registry, pass signer, users and a checkpoint; returns the declaration bodies.
pub(crate) async fn prepare(url: &str, citizens: u64) -> anyhow::Result<Vec<Bytes>> {
    let today = vaxtrace_domain::date::vietnam_day(OffsetDateTime::now_utc());
    let mut first_commune = None;
    let (store, bodies) = load_registry(url, citizens, |_, input| {
        first_commune.get_or_insert_with(|| input.permanent_commune_code.clone());
        Ok(Bytes::from(serde_json::to_vec(&json!({
            "personal_id": input.personal_id, "full_name": input.full_name,
            "birth_date": input.birth_date, "sex": input.sex, "symptoms": [],
            "origin_commune_code": input.permanent_commune_code, "origin_address": input.permanent_address,
            "destination_commune_code": "00004", "destination_address": "1 Đinh Tiên Hoàng",
            "travel_date": today.to_string(), "transport": "car", "vehicle": "51A-000.01"
        }))?))
    })
    .await?;

    let pass = SecretPassphrase::new(PASSPHRASE)?;
    let now = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let until = now + time::Duration::days(30);
    let root = vaxtrace_cert::create_root("Gốc (bench)", now, until, &pass)?;
    let root_id = issue_and_activate(&store, root.clone(), None).await?;
    let signer = vaxtrace_cert::issue(
        &root,
        &pass,
        CertProfile::PassSigner,
        "VN",
        "Thẻ đi lại (bench)",
        now,
        until,
        &pass,
        &|_| None,
    )?;
    issue_and_activate(&store, signer, Some(root_id)).await?;
    add_bench_user(
        store.as_ref(),
        "bench",
        vaxtrace_domain::Role::VaccinationSite,
    )
    .await?;
    add_bench_user(
        store.as_ref(),
        "bench-chot",
        vaxtrace_domain::Role::CheckpointOfficer,
    )
    .await?;
    store
        .upsert_checkpoint(Checkpoint {
            code: CHECKPOINT.into(),
            name: "Chốt đo tải".into(),
            commune_code: first_commune.context("empty registry")?,
            latitude: None,
            longitude: None,
        })
        .await?;
    Ok(bodies)
}

/// Declares `count` times on one connection and keeps the passes, for the scan run.
pub(crate) async fn collect_passes(
    addr: &str,
    token: &str,
    bodies: &[Bytes],
    count: usize,
) -> anyhow::Result<Vec<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut scans = Vec::with_capacity(count);
    for body in bodies.iter().cycle().take(count) {
        let receipt = post_authorised(
            &mut sender,
            addr,
            token,
            "/api/v1/declarations",
            body.clone(),
        )
        .await?;
        let pass = receipt["pass"].as_str().context("no pass in the receipt")?;
        scans.push(Bytes::from(serde_json::to_vec(
            &json!({"checkpoint": CHECKPOINT, "pass": pass}),
        )?));
    }
    Ok(scans)
}

/// One authorised JSON POST on an open connection; an answer other than 2xx is an error.
pub(crate) async fn post_authorised(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: &str,
    token: &str,
    path: &str,
    body: Bytes,
) -> anyhow::Result<Value> {
    let req = hyper::Request::post(path)
        .header("host", addr)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(body))?;
    sender.ready().await?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    let bytes = res.into_body().collect().await?.to_bytes();
    anyhow::ensure!(
        status.is_success(),
        "POST {path}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok(serde_json::from_slice(&bytes)?)
}

/// One backend: load the registry, serve, declare, collect passes, scan; print and return figures.
async fn measure(
    name: &str,
    url: &str,
    args: &DeclareBench,
    load_args: &VerifyBench,
) -> anyhow::Result<Value> {
    eprintln!("{name}: loading {} citizens…", args.citizens);
    let bodies = prepare(url, args.citizens).await?;
    let server = start_server_with(url, &[("VAXTRACE_KEY_PASSPHRASE", PASSPHRASE)]).await?;
    let site_token = login_as(&server.addr, "bench").await?;
    let officer_token = login_as(&server.addr, "bench-chot").await?;
    let warm = VerifyBench {
        seconds: 1,
        ..load_args.clone()
    };
    load(
        &server.addr,
        "/api/v1/declarations",
        &site_token,
        &bodies,
        &warm,
    )
    .await?;
    let floor = load(
        &server.addr,
        "/healthz",
        &site_token,
        &[Bytes::new()],
        load_args,
    )
    .await?;
    let declarations = load(
        &server.addr,
        "/api/v1/declarations",
        &site_token,
        &bodies,
        load_args,
    )
    .await?;
    let scans = collect_passes(&server.addr, &site_token, &bodies, PASSES).await?;
    let scanned = load(
        &server.addr,
        "/api/v1/checkpoints/scan",
        &officer_token,
        &scans,
        load_args,
    )
    .await?;
    println!(
        "{name}: {} citizens, {} connections, {} s per run, load generator on the same cores",
        args.citizens, args.connections, args.seconds
    );
    print_load("GET /healthz (HTTP floor)", &floor);
    print_load("POST /declarations", &declarations);
    print_load("POST /checkpoints/scan", &scanned);
    let check = |label: &str, r: &LoadResult, min: f64| {
        let ok = r.per_second >= min && r.p99_ms < P99_MAX_MS && r.errors == 0;
        println!(
            "  {label:<14} {:>8.0}/s ({:.0} % of the floor), p99 {:.2} ms, {} errors (target ≥ {min:.0}/s, p99 < {P99_MAX_MS} ms)  {}",
            r.per_second,
            100.0 * r.per_second / floor.per_second.max(1e-9),
            r.p99_ms,
            r.errors,
            verdict(ok)
        );
    };
    check("declarations", &declarations, DECLARATIONS_MIN);
    check("pass scans", &scanned, SCANS_MIN);
    drop(server);
    Ok(json!({"backend": name,
        "declarations_per_s": declarations.per_second, "declarations_p99_ms": declarations.p99_ms,
        "declaration_errors": declarations.errors, "scans_per_s": scanned.per_second,
        "scans_p99_ms": scanned.p99_ms, "scan_errors": scanned.errors, "healthz_per_s": floor.per_second}))
}

pub async fn run(args: DeclareBench) -> anyhow::Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("vaxtrace-bench")
        .tempdir()?;
    let backends = Backends::new(
        "declare",
        &tmp.path().join("declare.db"),
        args.postgres_url.as_deref(),
    )
    .await?;
    let load_args = VerifyBench {
        citizens: args.citizens,
        seconds: args.seconds,
        connections: args.connections,
        max_requests: args.max_requests,
        postgres_url: None,
    };
    let mut results = Vec::new();
    for (name, url) in &backends.list {
        results.push(measure(name, url, &args, &load_args).await?);
    }
    backends.finish().await;
    println!("{}", json!({"bench": "declare", "results": results}));
    Ok(())
}
