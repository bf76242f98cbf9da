//! Benchmarks that report every figure beside a peer measured in the same run on the same data:
//! registry import vs the `sqlite3` CLI's `.import` and `PostgreSQL`'s `COPY`; identity verification
//! over HTTP vs the same server's no-database health endpoint, on `SQLite` and `PostgreSQL`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::{Args, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;

use crate::import::{ImportReport, write_csv};
use crate::synth::Population;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Registry import: ours on `SQLite` and `PostgreSQL` vs `sqlite3 .import` and `COPY`, same CSV.
    Import(ImportBench),
    /// Identity verifications per second over HTTP on loopback, with p50/p99 latency.
    Verify(VerifyBench),
    /// Record linkage: shot reports matched and stored per second against a registry, vs storing
    /// the same rows unmatched; with matching quality against the generator's truth.
    Match(crate::bench_match::MatchBench),
    /// EU Digital COVID Certificates issued and verified per second per core, vs a bare P-256
    /// check (ring), `openssl speed ecdsap256` and the `dgc` crate, same certificates.
    Cert(crate::bench_cert::CertBench),
    /// Declarations accepted and passes scanned per second over HTTP on loopback, beside the
    /// same server's `/healthz`; SQLite, and PostgreSQL with --postgres-url.
    Declare(crate::bench_declare::DeclareBench),
    /// Check-ins ingested per second, then F1 and F2 searches for random cases beside the naive
    /// SQL self-join, over a synthetic city; SQLite, and PostgreSQL with --postgres-url.
    Trace(crate::bench_trace::TraceBench),
    /// Coverage of every commune of a province and of the nation by province from the live
    /// counters, vs `DuckDB` scanning the same data as Parquet; and the counters' cost to ingest.
    Coverage(crate::bench_coverage::CoverageBench),
    /// A bounded soak: mixed traffic (verifications, status lookups, check-ins, pass scans,
    /// declarations) paced for minutes; throughput, p50/p99 and errors per interval and kind,
    /// and the server's memory over time. SQLite, and PostgreSQL with --postgres-url.
    Soak(crate::bench_soak::SoakBench),
}

#[derive(Debug, Args)]
pub struct ImportBench {
    /// Rows in the generated CSV.
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the CSV and databases go (reused CSV if present). Default: a temporary directory.
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// `PostgreSQL` server to measure on (needs CREATE DATABASE); skipped when absent.
    #[arg(long, env = "VAXTRACE_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyBench {
    /// Citizens loaded into the registry being queried.
    #[arg(long, default_value_t = 200_000)]
    pub(crate) citizens: u64,
    /// Length of each measured run.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub(crate) seconds: u64,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub(crate) connections: u64,
    /// Upper bound on requests per run, whatever the time.
    #[arg(long, default_value_t = 5_000_000)]
    pub(crate) max_requests: u64,
    /// `PostgreSQL` server to measure on as well (needs CREATE DATABASE).
    #[arg(long, env = "VAXTRACE_BENCH_POSTGRES_URL")]
    pub(crate) postgres_url: Option<String>,
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Import(args) => import(args).await,
        BenchCommand::Verify(args) => verify(args).await,
        BenchCommand::Match(args) => crate::bench_match::run(args).await,
        BenchCommand::Cert(args) => crate::bench_cert::run(args).await,
        BenchCommand::Declare(args) => crate::bench_declare::run(args).await,
        BenchCommand::Trace(args) => crate::bench_trace::run(args).await,
        BenchCommand::Coverage(args) => crate::bench_coverage::run(args).await,
        BenchCommand::Soak(args) => crate::bench_soak::run(args).await,
    }
}

/// How a target is reported.
pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

pub(crate) fn exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the vaxtrace executable")
}

pub(crate) fn workdir(
    given: Option<&PathBuf>,
) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    if let Some(dir) = given {
        std::fs::create_dir_all(dir)?;
        Ok((dir.clone(), None))
    } else {
        let tmp = tempfile::Builder::new()
            .prefix("vaxtrace-bench")
            .tempdir()?;
        Ok((tmp.path().to_path_buf(), Some(tmp)))
    }
}

pub(crate) fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Runs `vaxtrace import citizens` in a child process so its peak memory is its own.
pub(crate) async fn our_import(
    csv: &Path,
    url: &str,
    dir: &Path,
    tag: &str,
) -> anyhow::Result<ImportReport> {
    let stats = dir.join(format!("{tag}.json"));
    let exit = tokio::process::Command::new(exe()?)
        .args(["--log", "warn", "import", "citizens"])
        .arg(csv)
        .args(["--database-url", url, "--no-progress", "--stats-json"])
        .arg(&stats)
        .arg("--rejects")
        .arg(dir.join(format!("{tag}.rejects.csv")))
        .stdout(Stdio::null())
        .status()
        .await?;
    if !exit.success() {
        bail!("our import into {tag} failed");
    }
    Ok(serde_json::from_slice(&std::fs::read(&stats)?)?)
}

/// The CSV's own columns, keyed by personal ID like the registry, for the peers.
const PEER_TABLE: &str = "CREATE TABLE citizens (personal_id BIGINT PRIMARY KEY, full_name TEXT NOT NULL, \
    birth_date TEXT NOT NULL, sex TEXT NOT NULL, permanent_commune_code TEXT NOT NULL, permanent_address TEXT NOT NULL, \
    temporary_commune_code TEXT, temporary_address TEXT, phone TEXT, legacy_id TEXT, household_id TEXT)";
/// The registry's secondary indexes, on the peer table's columns.
const PEER_INDEXES: &str = "CREATE INDEX p1 ON citizens (permanent_commune_code); \
    CREATE INDEX p2 ON citizens (temporary_commune_code) WHERE temporary_commune_code IS NOT NULL; \
    CREATE INDEX p3 ON citizens (full_name, birth_date); \
    CREATE INDEX p4 ON citizens (legacy_id) WHERE legacy_id IS NOT NULL; \
    CREATE INDEX p5 ON citizens (household_id) WHERE household_id IS NOT NULL;";

async fn sqlite3_cli_import(csv: &Path, db: &Path, with_indexes: bool) -> anyhow::Result<f64> {
    remove_sqlite(db);
    // Same page cache and journal settings as ours, so only the loading strategy differs.
    let table = PEER_TABLE.replace("BIGINT PRIMARY KEY", "INTEGER PRIMARY KEY");
    let script = format!(
        "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\nPRAGMA cache_size=-524288;\n{table};\n{}\n.import --csv --skip 1 {} citizens\n",
        if with_indexes { PEER_INDEXES } else { "" },
        csv.display()
    );
    let started = Instant::now();
    let mut child = tokio::process::Command::new("sqlite3")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot run sqlite3 (apt-get install sqlite3)")?;
    if let Some(mut stdin) = child.stdin.take() {
        tokio::io::AsyncWriteExt::write_all(&mut stdin, script.as_bytes()).await?;
    }
    if !child.wait().await?.success() {
        bail!("sqlite3 .import failed");
    }
    Ok(started.elapsed().as_secs_f64())
}

pub(crate) async fn pg_admin(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("cannot connect to PostgreSQL")?;
    tokio::spawn(conn);
    Ok(client)
}

pub(crate) async fn fresh_pg_db(admin: &tokio_postgres::Client, name: &str) -> anyhow::Result<()> {
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok(())
}

/// Client-side `COPY … FROM STDIN (FORMAT csv)`, as `psql \copy` does, in 1 MiB chunks.
async fn pg_copy(url: &str, csv: &Path) -> anyhow::Result<f64> {
    use futures_util::SinkExt;
    use tokio::io::AsyncReadExt;

    let client = pg_admin(url).await?;
    client
        .batch_execute(&format!("{PEER_TABLE}; {PEER_INDEXES}"))
        .await?;
    let started = Instant::now();
    let mut sink = std::pin::pin!(
        client
            .copy_in::<_, Bytes>("COPY citizens FROM STDIN (FORMAT csv, HEADER true)")
            .await?
    );
    let mut file = tokio::fs::File::open(csv).await?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        sink.send(Bytes::copy_from_slice(&buf[..n])).await?;
    }
    sink.as_mut().finish().await?;
    Ok(started.elapsed().as_secs_f64())
}

fn print_ours(ours: &ImportReport) {
    println!(
        "  vaxtrace import          {:>9.0} rows/s  {:>7.1} s  peak RSS {} MiB  (of which merge + indexes {:.1} s)",
        ours.rows_per_second,
        ours.seconds,
        ours.peak_rss_kib.unwrap_or(0) / 1024,
        ours.index_seconds
    );
}

fn rate(rows: u64, seconds: f64) -> f64 {
    rows as f64 / seconds.max(1e-9)
}

async fn import(args: ImportBench) -> anyhow::Result<()> {
    let (dir, _tmp) = workdir(args.workdir.as_ref())?;
    let csv = dir.join(format!("citizens-91-{}-{}.csv", args.count, args.seed));
    if !csv.exists() {
        eprintln!("generating {} rows into {} …", args.count, csv.display());
        let bar = indicatif::ProgressBar::hidden();
        write_csv(&csv, Population::new("91", args.count, args.seed)?, &bar)?;
    }
    let rows = args.count;
    let mut results = Vec::new();

    let ours_db = dir.join("ours.db");
    remove_sqlite(&ours_db);
    let ours = our_import(
        &csv,
        &format!("sqlite:{}", ours_db.display()),
        &dir,
        "sqlite",
    )
    .await?;
    anyhow::ensure!(
        ours.inserted == rows && ours.rejected == 0,
        "our SQLite import lost rows: {ours:?}"
    );
    remove_sqlite(&ours_db);
    let cli_indexed = sqlite3_cli_import(&csv, &dir.join("cli.db"), true).await?;
    let cli_keyed = sqlite3_cli_import(&csv, &dir.join("cli.db"), false).await?;
    remove_sqlite(&dir.join("cli.db"));
    println!("SQLite, {rows} rows (same CSV, same page cache):");
    print_ours(&ours);
    println!(
        "  sqlite3 .import, indexed {:>9.0} rows/s  {:>7.1} s  → ours at {:.2}× its speed",
        rate(rows, cli_indexed),
        cli_indexed,
        cli_indexed / ours.seconds
    );
    println!(
        "  sqlite3 .import, key only{:>9.0} rows/s  {:>7.1} s  → ours at {:.2}× its speed",
        rate(rows, cli_keyed),
        cli_keyed,
        cli_keyed / ours.seconds
    );
    results.push(json!({"backend": "sqlite", "rows": rows, "ours": ours, "sqlite3_indexed_s": cli_indexed, "sqlite3_key_only_s": cli_keyed}));

    if let Some(url) = &args.postgres_url {
        let admin = pg_admin(url).await?;
        fresh_pg_db(&admin, "vaxtrace_bench_ours").await?;
        fresh_pg_db(&admin, "vaxtrace_bench_copy").await?;
        let ours = our_import(
            &csv,
            &vaxtrace_store::with_database(url, "vaxtrace_bench_ours"),
            &dir,
            "postgres",
        )
        .await?;
        anyhow::ensure!(
            ours.inserted == rows,
            "our PostgreSQL import lost rows: {ours:?}"
        );
        let copy = pg_copy(
            &vaxtrace_store::with_database(url, "vaxtrace_bench_copy"),
            &csv,
        )
        .await?;
        for db in ["vaxtrace_bench_ours", "vaxtrace_bench_copy"] {
            admin.batch_execute(&format!("DROP DATABASE {db}")).await?;
        }
        println!("PostgreSQL, {rows} rows:");
        print_ours(&ours);
        println!(
            "  COPY (csv), indexed      {:>9.0} rows/s  {:>7.1} s  → ours takes {:.2}× the COPY time",
            rate(rows, copy),
            copy,
            ours.seconds / copy
        );
        results.push(json!({"backend": "postgres", "rows": rows, "ours": ours, "copy_s": copy}));
    } else {
        println!("PostgreSQL: skipped (pass --postgres-url or set VAXTRACE_BENCH_POSTGRES_URL)");
    }
    println!("{}", json!({"bench": "import", "results": results}));
    Ok(())
}

/// Connections walk the request list with a prime stride so they do not repeat each other.
const STRIDE: usize = 7919;

#[derive(Debug, Deserialize)]
struct LoginResponse {
    token: String,
}

pub(crate) struct Served {
    child: tokio::process::Child,
    pub(crate) addr: String,
}

impl Served {
    /// The server's process ID, to sample its memory.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_server(url: &str) -> anyhow::Result<Served> {
    start_server_with(url, &[]).await
}

/// `vaxtrace serve` as a child process on a free loopback port, with extra environment.
pub(crate) async fn start_server_with(url: &str, env: &[(&str, &str)]) -> anyhow::Result<Served> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = tokio::process::Command::new(exe()?)
        .envs(env.iter().copied())
        .args([
            "serve",
            "--database-url",
            url,
            "--addr",
            &addr,
            "--log",
            "warn",
        ])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let served = Served { child, addr };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&served.addr).await.is_ok() {
            return Ok(served);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not start on {}", served.addr)
}

/// The backends a bench measures: `SQLite` at a path, and `PostgreSQL` in a fresh database
/// `vaxtrace_bench_NAME` when a server is given, dropped again by [`Backends::finish`].
pub(crate) struct Backends {
    pub(crate) list: Vec<(&'static str, String)>,
    admin: Option<(tokio_postgres::Client, String)>,
}

impl Backends {
    pub(crate) async fn new(
        name: &str,
        sqlite: &Path,
        postgres_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let mut list = vec![("sqlite", format!("sqlite:{}", sqlite.display()))];
        let mut admin = None;
        if let Some(url) = postgres_url {
            let database = format!("vaxtrace_bench_{name}");
            let client = pg_admin(url).await?;
            fresh_pg_db(&client, &database).await?;
            list.push(("postgres", vaxtrace_store::with_database(url, &database)));
            admin = Some((client, database));
        } else {
            println!(
                "PostgreSQL: skipped (pass --postgres-url or set VAXTRACE_BENCH_POSTGRES_URL)"
            );
        }
        Ok(Self { list, admin })
    }

    /// Drops the `PostgreSQL` database, once the servers using it have stopped.
    pub(crate) async fn finish(self) {
        if let Some((client, database)) = self.admin {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                .await;
        }
    }
}

/// Password of every bench user.
const BENCH_PASSWORD: &str = "bench-password-not-secret";

/// Loads `citizens` synthetic citizens of province 91 (seed 99) into the migrated store at `url`,
/// and returns it with one request body per citizen, made by `body`, for the first 100,000.
pub(crate) async fn load_registry(
    url: &str,
    citizens: u64,
    mut body: impl FnMut(usize, &vaxtrace_domain::CitizenInput) -> anyhow::Result<Bytes>,
) -> anyhow::Result<(std::sync::Arc<dyn vaxtrace_store::Store>, Vec<Bytes>)> {
    let store = vaxtrace_store::open(url).await?;
    store.migrate().await?;
    let today = vaxtrace_domain::date::vietnam_day(time::OffsetDateTime::now_utc());
    let mut bodies = Vec::new();
    let mut batch = Vec::new();
    for (i, input) in Population::new("91", citizens, 99)?.enumerate() {
        if bodies.len() < 100_000 {
            bodies.push(body(i, &input)?);
        }
        batch.push(input.parse(today)?);
        if batch.len() == 50_000 {
            store.upsert_citizens(std::mem::take(&mut batch)).await?;
        }
    }
    store.upsert_citizens(batch).await?;
    Ok((store, bodies))
}

/// A bench user of province 91 with [`BENCH_PASSWORD`].
pub(crate) async fn add_bench_user(
    store: &dyn vaxtrace_store::Store,
    username: &str,
    role: vaxtrace_domain::Role,
) -> anyhow::Result<()> {
    vaxtrace_server::accounts::add_user(
        store,
        username,
        BENCH_PASSWORD,
        role,
        vaxtrace_domain::Jurisdiction::parse("91")?,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.message_en))?;
    Ok(())
}

async fn prepare_registry(url: &str, citizens: u64) -> anyhow::Result<Vec<Bytes>> {
    let (store, bodies) = load_registry(url, citizens, |i, input| {
        // Half the requests match, half carry a wrong birth year.
        let birth = if i % 2 == 0 {
            input.birth_date.as_str()
        } else {
            "1900"
        };
        Ok(Bytes::from(serde_json::to_vec(&json!({"personal_id": input.personal_id, "full_name": input.full_name, "birth_date": birth}))?))
    })
    .await?;
    add_bench_user(
        store.as_ref(),
        "bench",
        vaxtrace_domain::Role::VaccinationSite,
    )
    .await?;
    Ok(bodies)
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadResult {
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

/// A bounded load: `connections` keep-alive HTTP/1.1 connections to a loopback server, each sending
/// requests back to back until the time or the request budget runs out.
pub(crate) async fn load(
    addr: &str,
    path: &'static str,
    token: &str,
    bodies: &[Bytes],
    args: &VerifyBench,
) -> anyhow::Result<LoadResult> {
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let budget = args.max_requests / args.connections;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let (bodies, token, host) = (bodies.to_vec(), format!("Bearer {token}"), addr.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(budget.min(1 << 20) as usize);
            let mut errors = 0u64;
            let mut i = c as usize;
            while Instant::now() < deadline && (latencies.len() as u64) < budget {
                let body = bodies
                    .get(i % bodies.len().max(1))
                    .cloned()
                    .unwrap_or_default();
                i += STRIDE;
                let method = if body.is_empty() { "GET" } else { "POST" };
                let req = hyper::Request::builder()
                    .method(method)
                    .uri(path)
                    .header("host", &host)
                    .header("authorization", &token)
                    .header("content-type", "application/json")
                    .body(Full::new(body))?;
                let sent = Instant::now();
                sender.ready().await?;
                let res = sender.send_request(req).await?;
                let ok = res.status().is_success();
                res.into_body().collect().await?;
                latencies.push(sent.elapsed().as_micros() as u32);
                if !ok {
                    errors += 1;
                }
            }
            Ok::<_, anyhow::Error>((latencies, errors))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, err) = t.await??;
        all.extend(lat);
        errors += err;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    Ok(LoadResult {
        requests: all.len() as u64,
        errors,
        per_second: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}

async fn login(addr: &str) -> anyhow::Result<String> {
    login_as(addr, "bench").await
}

/// Logs a bench user in (password `bench-password-not-secret`).
pub(crate) async fn login_as(addr: &str, username: &str) -> anyhow::Result<String> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let body = json!({"username": username, "password": BENCH_PASSWORD}).to_string();
    let req = hyper::Request::post("/api/v1/auth/login")
        .header("host", addr)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let res = sender.send_request(req).await?;
    anyhow::ensure!(
        res.status().is_success(),
        "bench login failed: {}",
        res.status()
    );
    let bytes = res.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice::<LoginResponse>(&bytes)?.token)
}

pub(crate) fn print_load(label: &str, r: &LoadResult) {
    println!(
        "  {label:<28} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {} requests, {} errors",
        r.per_second, r.p50_ms, r.p99_ms, r.requests, r.errors
    );
}

async fn verify(args: VerifyBench) -> anyhow::Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("vaxtrace-bench")
        .tempdir()?;
    let backends = Backends::new(
        "verify",
        &tmp.path().join("verify.db"),
        args.postgres_url.as_deref(),
    )
    .await?;
    let mut results = Vec::new();
    for (name, url) in &backends.list {
        let bodies = prepare_registry(url, args.citizens).await?;
        let server = start_server(url).await?;
        let token = login(&server.addr).await?;
        // Warm-up, unmeasured: page cache and connection pools.
        let warm = VerifyBench {
            seconds: 1,
            ..args.clone()
        };
        load(
            &server.addr,
            "/api/v1/identity/verify",
            &token,
            &bodies,
            &warm,
        )
        .await?;
        let floor = load(&server.addr, "/healthz", &token, &[Bytes::new()], &args).await?;
        let verify = load(
            &server.addr,
            "/api/v1/identity/verify",
            &token,
            &bodies,
            &args,
        )
        .await?;
        println!(
            "{name}: {} citizens, {} connections, {} s per run, load generator on the same 2 cores",
            args.citizens, args.connections, args.seconds
        );
        print_load("GET /healthz (HTTP floor)", &floor);
        print_load("POST /identity/verify", &verify);
        println!(
            "  verify reaches {:.0} % of the floor's rate (each verify also authenticates, reads the registry and appends to the audit chain)",
            100.0 * verify.per_second / floor.per_second.max(1e-9)
        );
        results.push(json!({"backend": name, "verify_per_s": verify.per_second, "verify_p50_ms": verify.p50_ms, "verify_p99_ms": verify.p99_ms,
            "errors": verify.errors, "healthz_per_s": floor.per_second, "healthz_p99_ms": floor.p99_ms}));
        drop(server);
    }
    backends.finish().await;
    println!("{}", json!({"bench": "verify", "results": results}));
    Ok(())
}
