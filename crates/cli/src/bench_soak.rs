//! `vaxtrace bench soak`: a bounded soak on loopback. Mixed traffic (identity verifications,
//! status lookups, venue check-ins, pass scans, declarations) at a paced rate for minutes against
//! one `vaxtrace serve`, on `SQLite` and on `PostgreSQL`, reporting throughput, p50/p99 latency and
//! errors per kind and per interval, and the server's memory over time (it must stay flat).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::bench::{Backends, add_bench_user, login_as, start_server_with, verdict};
use crate::bench_declare::{PASSPHRASE, collect_passes, post_authorised, prepare};

#[derive(Debug, Clone, Args)]
pub struct SoakBench {
    /// Citizens in the registry the traffic is checked against.
    #[arg(long, default_value_t = 100_000)]
    citizens: u64,
    /// Length of the soak on each backend.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    minutes: u64,
    /// Requests per second offered in all, paced evenly over the connections.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    rate: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=256))]
    connections: u64,
    /// Seconds per reported interval (throughput, latency, the server's memory).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    interval: u64,
    /// The `SQLite` writer's page cache of the served server, in MiB (default: the server's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    sqlite_cache_mib: Option<u32>,
    /// `PostgreSQL` server to soak as well (needs CREATE DATABASE).
    #[arg(long, env = "VAXTRACE_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Verify,
    Status,
    Checkin,
    Scan,
    Declare,
}

const KINDS: [Kind; 5] = [
    Kind::Verify,
    Kind::Status,
    Kind::Checkin,
    Kind::Scan,
    Kind::Declare,
];

/// Ten requests of the mix: verifications and lookups dominate, as at the national peak.
const MIX: [Kind; 10] = [
    Kind::Verify,
    Kind::Status,
    Kind::Checkin,
    Kind::Scan,
    Kind::Verify,
    Kind::Declare,
    Kind::Status,
    Kind::Checkin,
    Kind::Scan,
    Kind::Verify,
];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Self::Verify => "POST /identity/verify",
            Self::Status => "GET /citizens/{id}/status",
            Self::Checkin => "POST /checkins",
            Self::Scan => "POST /checkpoints/scan",
            Self::Declare => "POST /declarations",
        }
    }

    fn slot(self) -> usize {
        KINDS.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// What the traffic needs: bodies per kind and the tokens that may send them.
struct Traffic {
    declarations: Vec<Bytes>,
    verifications: Vec<Bytes>,
    statuses: Vec<String>,
    checkins: Vec<Bytes>,
    scans: Vec<Bytes>,
    site: String,
    officer: String,
}

impl Traffic {
    /// Method, path, token and body of the `n`-th request of `kind`.
    fn request(&self, kind: Kind, n: usize) -> (&'static str, String, &str, Bytes) {
        let pick = |v: &[Bytes]| v[n % v.len()].clone();
        match kind {
            Kind::Verify => (
                "POST",
                "/api/v1/identity/verify".into(),
                &self.site,
                pick(&self.verifications),
            ),
            Kind::Status => (
                "GET",
                self.statuses[n % self.statuses.len()].clone(),
                &self.officer,
                Bytes::new(),
            ),
            Kind::Checkin => (
                "POST",
                "/api/v1/checkins".into(),
                &self.site,
                pick(&self.checkins),
            ),
            Kind::Scan => (
                "POST",
                "/api/v1/checkpoints/scan".into(),
                &self.officer,
                pick(&self.scans),
            ),
            Kind::Declare => (
                "POST",
                "/api/v1/declarations".into(),
                &self.site,
                pick(&self.declarations),
            ),
        }
    }
}

/// Latencies (µs) and errors of one interval, per kind.
#[derive(Debug, Default, Clone)]
struct Window {
    latencies: [Vec<u32>; 5],
    errors: [u64; 5],
}

impl Window {
    fn merge(&mut self, other: Self) {
        for (mine, theirs) in self.latencies.iter_mut().zip(other.latencies) {
            mine.extend(theirs);
        }
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors) {
            *mine += theirs;
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let at = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(at).map_or(0.0, |&us| f64::from(us) / 1000.0)
}

/// Through the server: logins, a venue, passes; then the bodies of every kind.
async fn prepare_traffic(addr: &str, declarations: Vec<Bytes>) -> anyhow::Result<Traffic> {
    let site = login_as(addr, "bench").await?;
    let officer = login_as(addr, "bench-chot").await?;
    let owner = login_as(addr, "bench-venue").await?;
    let people: Vec<Value> = declarations
        .iter()
        .map(|b| serde_json::from_slice(b))
        .collect::<Result<_, _>>()?;
    let commune = people[0]["origin_commune_code"].clone();
    let venue = post_once(
        addr,
        "/api/v1/venues",
        &owner,
        &json!({"name": "Chợ đo tải", "kind": "shop", "commune_code": commune, "address": "1 Chợ"}),
    )
    .await?;
    let code = venue["code"].as_str().context("no venue code")?.to_owned();
    let field = |p: &Value, f: &str| p[f].as_str().unwrap_or_default().to_owned();
    let verifications = people
        .iter()
        .map(|p| {
            Bytes::from(json!({"personal_id": p["personal_id"], "full_name": p["full_name"], "birth_date": p["birth_date"]}).to_string())
        })
        .collect();
    let statuses = people
        .iter()
        .map(|p| format!("/api/v1/citizens/{}/status", field(p, "personal_id")))
        .collect();
    let checkins = people
        .iter()
        .map(|p| {
            Bytes::from(json!({"venue_code": code, "personal_id": p["personal_id"], "birth_date": p["birth_date"]}).to_string())
        })
        .collect();
    let scans = collect_passes(addr, &site, &declarations, 2_000).await?;
    Ok(Traffic {
        declarations,
        verifications,
        statuses,
        checkins,
        scans,
        site,
        officer,
    })
}

async fn post_once(addr: &str, path: &str, token: &str, body: &Value) -> anyhow::Result<Value> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    post_authorised(
        &mut sender,
        addr,
        token,
        path,
        Bytes::from(body.to_string()),
    )
    .await
}

/// When requests go out: one every `every` per connection, from `started`, for `windows`
/// intervals of `interval`.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    started: Instant,
    every: Duration,
    interval: Duration,
    windows: usize,
    connections: usize,
}

/// One connection's share of the soak, paced to the schedule; its windows of measurements.
async fn connection(
    addr: String,
    traffic: Arc<Traffic>,
    first: usize,
    schedule: Schedule,
) -> anyhow::Result<Vec<Window>> {
    let Schedule {
        started,
        every,
        interval,
        windows,
        connections,
    } = schedule;
    let stream = tokio::net::TcpStream::connect(&addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut out = vec![Window::default(); windows];
    let end = started + interval * u32::try_from(windows)?;
    // Connections start spread over one period, so the offered load is even.
    #[allow(clippy::cast_precision_loss)]
    let mut next = started + every.mul_f64(first as f64 / connections as f64);
    let mut n = first;
    while next < end {
        tokio::time::sleep_until(next.into()).await;
        next += every;
        let kind = MIX[n % MIX.len()];
        let (method, path, token, body) = traffic.request(kind, n / MIX.len());
        n += 1;
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &addr)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Full::new(body))?;
        let sent = Instant::now();
        let window =
            &mut out[((sent - started).as_secs_f64() / interval.as_secs_f64()) as usize % windows];
        sender.ready().await?;
        let ok = match sender.send_request(req).await {
            Ok(res) => {
                let ok = res.status().is_success();
                res.into_body().collect().await.is_ok() && ok
            }
            Err(_) => false,
        };
        window.latencies[kind.slot()]
            .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        if !ok {
            window.errors[kind.slot()] += 1;
        }
    }
    Ok(out)
}

/// Resident memory of a process, from `/proc` (Linux), in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One backend: prepare, soak, print the intervals and the totals; returns the summary.
async fn soak(name: &str, url: &str, args: &SoakBench) -> anyhow::Result<Value> {
    eprintln!("{name}: loading {} citizens…", args.citizens);
    // The registry, keys, users and checkpoint, then a venue owner.
    let declarations = prepare(url, args.citizens).await?;
    let store = vaxtrace_store::open(url).await?;
    add_bench_user(
        store.as_ref(),
        "bench-venue",
        vaxtrace_domain::Role::VenueOwner,
    )
    .await?;
    drop(store);
    let cache = args.sqlite_cache_mib.map(|m| m.to_string());
    let mut env = vec![("VAXTRACE_KEY_PASSPHRASE", PASSPHRASE)];
    if let Some(mib) = &cache {
        env.push(("VAXTRACE_SQLITE_CACHE_MIB", mib));
    }
    let server = start_server_with(url, &env).await?;
    let traffic = Arc::new(prepare_traffic(&server.addr, declarations).await?);
    let pid = server.pid().context("the server has no pid")?;
    let interval = Duration::from_secs(args.interval);
    let windows = usize::try_from((args.minutes * 60).div_ceil(args.interval))?;
    #[allow(clippy::cast_precision_loss)]
    let every = Duration::from_secs_f64(args.connections as f64 / args.rate as f64);
    eprintln!(
        "{name}: soaking {} min at {} req/s…",
        args.minutes, args.rate
    );
    let started = Instant::now();
    let schedule = Schedule {
        started,
        every,
        interval,
        windows,
        connections: usize::try_from(args.connections)?,
    };
    let sqlite_file = url.strip_prefix("sqlite:").map(std::path::PathBuf::from);
    let sampler = tokio::spawn(async move {
        let (mut rss, mut files) = (Vec::new(), Vec::new());
        for w in 1..=windows {
            tokio::time::sleep_until((started + interval * u32::try_from(w).unwrap_or(1)).into())
                .await;
            rss.push(rss_kib(pid).unwrap_or(0));
            files.push(sqlite_file.as_deref().map_or(0, sqlite_kib));
        }
        (rss, files)
    });
    let tasks: Vec<_> = (0..args.connections)
        .map(|c| {
            let c = usize::try_from(c).unwrap_or(0);
            tokio::spawn(connection(
                server.addr.clone(),
                Arc::clone(&traffic),
                c,
                schedule,
            ))
        })
        .collect();
    let mut all = vec![Window::default(); windows];
    for t in tasks {
        for (mine, theirs) in all.iter_mut().zip(t.await??) {
            mine.merge(theirs);
        }
    }
    let (rss, files) = sampler.await?;
    drop(server);
    Ok(report(name, args, &all, &rss, &files))
}

/// The database file and its write-ahead log, in KiB.
fn sqlite_kib(db: &std::path::Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    [db.as_os_str(), &wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len() / 1024)
        .sum()
}

fn report(name: &str, args: &SoakBench, windows: &[Window], rss: &[u64], files: &[u64]) -> Value {
    #[allow(clippy::cast_precision_loss)]
    let secs = args.interval as f64;
    println!(
        "{name}: {} citizens, {} min, {} req/s offered on {} connections",
        args.citizens, args.minutes, args.rate, args.connections
    );
    println!(
        "  {:>6} {:>9} {:>8} {:>8} {:>7} {:>10} {:>12}",
        "t (s)", "req/s", "p50 ms", "p99 ms", "errors", "RSS MiB", "SQLite MiB"
    );
    for (i, ((w, kib), file)) in windows.iter().zip(rss).zip(files).enumerate() {
        let mut lat: Vec<u32> = w.latencies.iter().flatten().copied().collect();
        lat.sort_unstable();
        #[allow(clippy::cast_precision_loss)]
        let rate = lat.len() as f64 / secs;
        #[allow(clippy::cast_precision_loss)]
        let mib = *kib as f64 / 1024.0;
        #[allow(clippy::cast_precision_loss)]
        let file_mib = *file as f64 / 1024.0;
        println!(
            "  {:>6} {:>9.1} {:>8.2} {:>8.2} {:>7} {:>10.1} {:>12.1}",
            (i as u64 + 1) * args.interval,
            rate,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            w.errors.iter().sum::<u64>(),
            mib,
            file_mib
        );
    }
    let mut total = Window::default();
    for w in windows {
        total.merge(w.clone());
    }
    #[allow(clippy::cast_precision_loss)]
    let duration = secs * windows.len() as f64;
    let mut kinds = Vec::new();
    for kind in KINDS {
        let lat = &mut total.latencies[kind.slot()];
        lat.sort_unstable();
        let errors = total.errors[kind.slot()];
        #[allow(clippy::cast_precision_loss)]
        let rate = lat.len() as f64 / duration;
        println!(
            "  {:<28} {:>9.1} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {} requests, {} errors",
            kind.label(),
            rate,
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            lat.len(),
            errors
        );
        kinds.push(
            json!({"kind": kind.label(), "requests": lat.len(), "per_second": rate,
            "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99), "errors": errors}),
        );
    }
    let mut all: Vec<u32> = total.latencies.iter().flatten().copied().collect();
    all.sort_unstable();
    let errors: u64 = total.errors.iter().sum();
    // Flat: after the first interval (caches warming), memory grows by less than a fifth.
    let settled = rss.get(1).or(rss.first()).copied().unwrap_or(0);
    let last = rss.last().copied().unwrap_or(0);
    let peak = rss.iter().copied().max().unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let growth = if settled == 0 {
        0.0
    } else {
        100.0 * (last as f64 - settled as f64) / settled as f64
    };
    let flat = growth < 20.0;
    #[allow(clippy::cast_precision_loss)]
    let rate = all.len() as f64 / duration;
    println!(
        "  total {rate:.1} req/s, p50 {:.2} ms, p99 {:.2} ms, {} requests, {errors} errors (target 0)  {}",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.len(),
        verdict(errors == 0)
    );
    println!(
        "  server memory: {:.1} MiB after the first interval, {:.1} MiB at the end, peak {:.1} MiB ({growth:+.1} %, target < +20 %)  {}",
        settled as f64 / 1024.0,
        last as f64 / 1024.0,
        peak as f64 / 1024.0,
        verdict(flat)
    );
    json!({"backend": name, "per_second": rate, "p50_ms": percentile(&all, 0.5),
        "p99_ms": percentile(&all, 0.99), "errors": errors, "rss_kib": rss, "memory_growth_percent": growth,
        "kinds": kinds})
}

pub async fn run(args: SoakBench) -> anyhow::Result<()> {
    let tmp = tempfile::Builder::new().prefix("vaxtrace-soak").tempdir()?;
    let backends = Backends::new(
        "soak",
        &tmp.path().join("soak.db"),
        args.postgres_url.as_deref(),
    )
    .await?;
    let mut results = Vec::new();
    for (name, url) in &backends.list {
        results.push(soak(name, url, &args).await?);
    }
    if let [sqlite, postgres] = results.as_slice() {
        let ratio = |k: &str| {
            sqlite[k].as_f64().unwrap_or(0.0) / postgres[k].as_f64().unwrap_or(1.0).max(1e-9)
        };
        println!(
            "SQLite / PostgreSQL at the same offered load: p50 {:.2}×, p99 {:.2}×",
            ratio("p50_ms"),
            ratio("p99_ms")
        );
    }
    backends.finish().await;
    let failed = results.iter().any(|r| r["errors"].as_u64() != Some(0));
    anyhow::ensure!(!failed, "the soak saw errors");
    Ok(())
}
