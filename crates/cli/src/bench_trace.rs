//! `vaxtrace bench trace`: a synthetic city's check-ins ingested in batches, then F1 and F2
//! contact searches for random cases, beside the naive SQL self-join for the same F1 question,
//! on `SQLite` and (with --postgres-url) `PostgreSQL`, in the same run.
//!
//! The city: people with a few favourite venues each (a workplace, a market, eateries) and
//! occasional visits elsewhere, check-ins spread over the waking hours of every day, stays of 15
//! minutes to 2 hours (8 at a workplace). Generated batch by batch, so memory stays flat at any size.

use std::time::{Duration, Instant};

use clap::Args;
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use time::OffsetDateTime;
use vaxtrace_domain::PersonalId;
use vaxtrace_server::{AppState, ServerConfig};
use vaxtrace_store::{NewCheckin, Store};
use vaxtrace_trace::{ContactRule, InfectiousWindow};

use crate::bench::{Backends, verdict};
use crate::import::{peak_rss_kib, progress_bar};

#[derive(Debug, Clone, Args)]
pub struct TraceBench {
    /// People in the city.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1_000..=50_000_000))]
    people: u64,
    /// Venues in the city.
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(10..=10_000_000))]
    venues: u64,
    /// Days of check-ins, ending today.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..=60))]
    days: u64,
    /// Check-ins in all (the scale: 100 million; towards a billion with time and disk).
    #[arg(long, default_value_t = 100_000_000, value_parser = clap::value_parser!(u64).range(10_000..=2_000_000_000))]
    checkins: u64,
    /// Check-ins per insert call.
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(100..=1_000_000))]
    batch: u64,
    /// Random cases whose contacts are searched.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    cases: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the SQLite database goes (it can be large). Default: a temporary directory.
    #[arg(long)]
    workdir: Option<std::path::PathBuf>,
    /// `PostgreSQL` server to measure on as well (needs CREATE DATABASE).
    #[arg(long, env = "VAXTRACE_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    #[arg(long)]
    no_progress: bool,
}

/// The targets.
const F1_MAX_MS: f64 = 100.0;
const F2_MAX_MS: f64 = 1_000.0;
const INGEST_MIN: f64 = 100_000.0;
const FAVOURITES: u64 = 5;

fn person(i: u64) -> PersonalId {
    // Hà Nội-registered, male, born 1990 − i / 1M: every index a distinct, valid ID.
    let year = 90 - (i / 1_000_000) % 90;
    PersonalId::parse(&format!("0010{year:02}{:06}", i % 1_000_000))
        .unwrap_or_else(|_| unreachable!("synthetic IDs are valid"))
}

/// The synthetic city, deterministic from the seed.
struct City {
    people: u64,
    venues: u64,
    start: i64,
    days: u64,
    rng: ChaCha8Rng,
}

impl City {
    /// A person's `k`th favourite venue: the same every day, spread over the city.
    fn favourite(&self, person: u64, k: u64) -> i64 {
        let mixed = (person.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ k.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .rotate_left(17);
        (mixed % self.venues) as i64 + 1
    }

    /// Check-in number `n` of `total`: days fill in order, as a live system would ingest them.
    fn checkin(&mut self, n: u64, total: u64) -> NewCheckin {
        let day = n * self.days / total;
        let who = self.rng.random_range(0..self.people);
        let k = self.rng.random_range(0..FAVOURITES + 1);
        let venue = if k < FAVOURITES {
            self.favourite(who, k)
        } else {
            self.rng.random_range(1..=self.venues as i64)
        };
        let start = self.start + day as i64 * 86_400 + self.rng.random_range(6 * 3600..22 * 3600);
        let minutes = if k == 0 {
            480
        } else {
            self.rng.random_range(15..=120)
        };
        NewCheckin {
            venue_id: venue,
            personal_id: person(who),
            checked_in_at: start,
            ends_at: start + minutes * 60,
            checked_out: false,
            method: "batch",
        }
    }
}

struct Timing {
    f1_ms: Vec<f64>,
    f2_ms: Vec<f64>,
    naive_ms: Vec<f64>,
    f1_sizes: Vec<usize>,
    f2_sizes: Vec<usize>,
    agree: u64,
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

async fn ingest(store: &dyn Store, args: &TraceBench, bar: &ProgressBar) -> anyhow::Result<f64> {
    let today = vaxtrace_store::day_of(OffsetDateTime::now_utc().unix_timestamp());
    let first_day = today - args.days as i64;
    store.prepare_checkin_partitions(first_day, today).await?;
    let mut city = City {
        people: args.people,
        venues: args.venues,
        start: first_day * 86_400,
        days: args.days,
        rng: ChaCha8Rng::seed_from_u64(args.seed),
    };
    let mut inserting = Duration::ZERO;
    let mut n = 0;
    while n < args.checkins {
        let size = args.batch.min(args.checkins - n);
        let batch: Vec<NewCheckin> = (n..n + size)
            .map(|i| city.checkin(i, args.checkins))
            .collect();
        let started = Instant::now();
        store.insert_checkins(batch).await?;
        inserting += started.elapsed();
        n += size;
        bar.set_position(n);
    }
    Ok(args.checkins as f64 / inserting.as_secs_f64().max(1e-9))
}

async fn search(state: &AppState, args: &TraceBench) -> anyhow::Result<Timing> {
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ 0xF0);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // A case sampled yesterday: infectious from three days ago.
    let window = InfectiousWindow {
        start: now - 3 * 86_400,
        end: now - 86_400,
    };
    let rule = ContactRule::default();
    let mut t = Timing {
        f1_ms: Vec::new(),
        f2_ms: Vec::new(),
        naive_ms: Vec::new(),
        f1_sizes: Vec::new(),
        f2_sizes: Vec::new(),
        agree: 0,
    };
    for _ in 0..args.cases {
        let case = person(rng.random_range(0..args.people));
        let started = Instant::now();
        let (f1, _) =
            vaxtrace_server::contact_trace::find_contacts(state, case, window, rule, 1, now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message_en))?;
        t.f1_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let (_, f2) =
            vaxtrace_server::contact_trace::find_contacts(state, case, window, rule, 2, now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message_en))?;
        t.f2_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let naive = state
            .store
            .naive_contacts(case, window.start, window.end, rule.min_overlap_secs)
            .await?;
        t.naive_ms.push(started.elapsed().as_secs_f64() * 1e3);
        // The naive join counts the case's stays that began in the window, until it closes; ours
        // also those still going on when it opens, so ours is a superset.
        let ours: std::collections::HashSet<PersonalId> =
            f1.iter().map(|c| c.personal_id).collect();
        if naive.iter().all(|p| ours.contains(p)) {
            t.agree += 1;
        }
        t.f1_sizes.push(f1.len());
        t.f2_sizes.push(f2.len());
    }
    Ok(t)
}

async fn measure(name: &str, url: &str, args: &TraceBench) -> anyhow::Result<serde_json::Value> {
    let store = vaxtrace_store::open(url).await?;
    store.migrate().await?;
    let bar = progress_bar(args.checkins, !args.no_progress);
    let started = Instant::now();
    let per_second = ingest(store.as_ref(), args, &bar).await?;
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let state = AppState::new(store, ServerConfig::default());
    let t = search(&state, args).await?;
    let (f1_p50, f1_p95) = (percentile(&t.f1_ms, 0.5), percentile(&t.f1_ms, 0.95));
    let (f2_p50, f2_p95) = (percentile(&t.f2_ms, 0.5), percentile(&t.f2_ms, 0.95));
    let naive_p50 = percentile(&t.naive_ms, 0.5);
    let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len().max(1) as f64;
    println!(
        "{name}: {} check-ins ({} people, {} venues, {} days) in {wall:.0} s",
        args.checkins, args.people, args.venues, args.days
    );
    println!(
        "  ingest {per_second:>10.0} check-ins/s in batches of {} (target ≥ {INGEST_MIN:.0})  {}",
        args.batch,
        verdict(per_second >= INGEST_MIN)
    );
    println!(
        "  F1  p50 {f1_p50:>8.1} ms  p95 {f1_p95:>8.1} ms  ({:.0} contacts on average; target < {F1_MAX_MS} ms)  {}",
        mean(&t.f1_sizes),
        verdict(f1_p95 < F1_MAX_MS)
    );
    println!(
        "  F2  p50 {f2_p50:>8.1} ms  p95 {f2_p95:>8.1} ms  ({:.0} contacts on average; target < {F2_MAX_MS} ms)  {}",
        mean(&t.f2_sizes),
        verdict(f2_p95 < F2_MAX_MS)
    );
    println!(
        "  naive SQL self-join for F1: p50 {naive_p50:.1} ms = {:.1}× our F1 p50; its contacts within ours for {}/{} cases",
        naive_p50 / f1_p50.max(1e-9),
        t.agree,
        args.cases
    );
    println!("  peak memory {} MiB", peak_rss_kib().unwrap_or(0) / 1024);
    Ok(
        json!({"backend": name, "checkins": args.checkins, "ingest_per_s": per_second,
        "f1_p50_ms": f1_p50, "f1_p95_ms": f1_p95, "f2_p50_ms": f2_p50, "f2_p95_ms": f2_p95,
        "naive_f1_p50_ms": naive_p50, "naive_agrees": t.agree, "cases": args.cases,
        "peak_rss_kib": peak_rss_kib()}),
    )
}

pub async fn run(args: TraceBench) -> anyhow::Result<()> {
    let (dir, _tmp) = crate::bench::workdir(args.workdir.as_ref())?;
    let path = dir.join("trace.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let backends = Backends::new("trace", &path, args.postgres_url.as_deref()).await?;
    let mut results = Vec::new();
    for (name, url) in &backends.list {
        results.push(measure(name, url, &args).await?);
    }
    backends.finish().await;
    println!("{}", json!({"bench": "trace", "results": results}));
    Ok(())
}
