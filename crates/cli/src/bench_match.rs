//! `vaxtrace bench match`: shot reports matched to the registry and stored, per second, beside the
//! same rows stored without matching (what matching costs), on `SQLite` and `PostgreSQL`, with the
//! matching quality measured against the generator's ground truth.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;
use vaxtrace_domain::linkage::Thresholds;
use vaxtrace_domain::{Shot, ShotInput};
use vaxtrace_server::linker::link;
use vaxtrace_store::{CandidateQuery, Store};

use crate::bench::{exe, fresh_pg_db, our_import, pg_admin, remove_sqlite, workdir};
use crate::import::write_csv;
use crate::import_shots::ShotImportReport;
use crate::synth::Population;
use crate::vaccination_commands::{GenerateShotsArgs, LinkQuality, generate, link_quality};

#[derive(Debug, Args)]
pub struct MatchBench {
    /// Citizens in the registry matched against.
    #[arg(long, default_value_t = 2_000_000)]
    citizens: u64,
    /// Province of the synthetic population (79 = Hồ Chí Minh City, large enough for millions).
    #[arg(long, default_value = "79")]
    province: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of shot reports with errors.
    #[arg(long, default_value_t = 0.05)]
    noise: f64,
    /// Where files and databases go (generated files are reused). Default: a temporary directory.
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// `PostgreSQL` server to measure on as well (needs CREATE DATABASE).
    #[arg(long, env = "VAXTRACE_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// Reports held in memory for the matching-only measurement.
    #[arg(long, default_value_t = 600_000)]
    matching_sample: usize,
    /// Concurrent matching tasks in the matching-only measurement (one per core).
    #[arg(long, default_value_t = 2)]
    matchers: usize,
}

/// Reads up to `limit` reports into batches, outside any timing.
fn load_sample(shots: &Path, limit: usize) -> anyhow::Result<Vec<Vec<Shot>>> {
    let now = time::OffsetDateTime::now_utc();
    let mut reader = csv::Reader::from_path(shots)?;
    let mut batches = vec![Vec::with_capacity(BATCH)];
    for row in reader.deserialize::<ShotInput>().take(limit) {
        let Ok(shot) = row?.parse(now) else { continue };
        if batches.last().is_some_and(|b| b.len() == BATCH) {
            batches.push(Vec::with_capacity(BATCH));
        }
        if let Some(last) = batches.last_mut() {
            last.push(shot);
        }
    }
    Ok(batches)
}

const BATCH: usize = 5_000;

/// Runs `work` over the batches on `tasks` concurrent tasks; returns records per second.
async fn timed<F, Fut>(
    store: &Arc<dyn Store>,
    batches: Vec<Vec<Shot>>,
    tasks: usize,
    work: F,
) -> anyhow::Result<f64>
where
    F: Fn(Arc<dyn Store>, Vec<Shot>) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = anyhow::Result<usize>> + Send,
{
    let total: usize = batches.iter().map(Vec::len).sum();
    let queue = Arc::new(std::sync::Mutex::new(batches));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks.max(1) {
        let (queue, store) = (Arc::clone(&queue), Arc::clone(store));
        handles.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("queue poisoned"))?
                    .pop();
                let Some(batch) = next else { break };
                done += work(Arc::clone(&store), batch).await?;
            }
            Ok::<_, anyhow::Error>(done)
        }));
    }
    let mut done = 0;
    for h in handles {
        done += h.await??;
    }
    anyhow::ensure!(done == total, "matched {done} of {total}");
    Ok(total as f64 / started.elapsed().as_secs_f64().max(1e-9))
}

/// Matching alone (registry reads + decisions, nothing written), beside the floor of any matcher
/// that reads the registry: one primary-key read per report.
async fn matching_only(
    url: &str,
    shots: &Path,
    args: &MatchBench,
) -> anyhow::Result<(usize, f64, f64)> {
    let store = vaxtrace_store::open(url).await?;
    let sample = load_sample(shots, args.matching_sample)?;
    let n = sample.iter().map(Vec::len).sum();
    let floor = timed(
        &store,
        sample.clone(),
        args.matchers,
        |store, batch| async move {
            let ids = batch
                .iter()
                .map(|s| CandidateQuery {
                    ids: s.personal_id.into_iter().collect(),
                    ..CandidateQuery::default()
                })
                .collect();
            Ok(store.candidates(ids).await?.len())
        },
    )
    .await?;
    let matched = timed(&store, sample, args.matchers, |store, batch| async move {
        let at = time::OffsetDateTime::now_utc();
        Ok(link(store.as_ref(), batch, &Thresholds::default(), at)
            .await?
            .len())
    })
    .await?;
    Ok((n, matched, floor))
}

/// Runs `vaxtrace import vaccinations` in a child process.
async fn shot_import(
    shots: &Path,
    url: &str,
    dir: &Path,
    tag: &str,
    skip_matching: bool,
) -> anyhow::Result<ShotImportReport> {
    let stats = dir.join(format!("{tag}.json"));
    let mut cmd = tokio::process::Command::new(exe()?);
    cmd.args(["--log", "warn", "import", "vaccinations"])
        .arg(shots)
        .args(["--database-url", url, "--no-progress", "--stats-json"])
        .arg(&stats)
        .arg("--rejects")
        .arg(dir.join(format!("{tag}.rejects.csv")))
        .stdout(Stdio::null());
    if skip_matching {
        cmd.arg("--skip-matching");
    }
    if !cmd.status().await?.success() {
        bail!("shot import into {tag} failed");
    }
    Ok(serde_json::from_slice(&std::fs::read(&stats)?)?)
}

async fn export_links(url: &str, out: &Path) -> anyhow::Result<()> {
    let ok = tokio::process::Command::new(exe()?)
        .args([
            "--log",
            "warn",
            "export",
            "links",
            "--database-url",
            url,
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .await?
        .success();
    if !ok {
        bail!("export links failed");
    }
    Ok(())
}

struct Measured {
    matched: ShotImportReport,
    unmatched: ShotImportReport,
    quality: LinkQuality,
    /// Reports, matching-only records/s, primary-key-read floor records/s.
    matching_only: (usize, f64, f64),
}

/// Loads the registry into two fresh databases, imports the shots into one with matching and into
/// the other without, and scores the links.
async fn measure(
    urls: [String; 2],
    files: &Files,
    dir: &Path,
    tag: &str,
    args: &MatchBench,
) -> anyhow::Result<Measured> {
    for (i, url) in urls.iter().enumerate() {
        let report = our_import(&files.citizens, url, dir, &format!("{tag}-registry-{i}")).await?;
        anyhow::ensure!(report.rejected == 0, "registry rows rejected: {report:?}");
    }
    let matched = shot_import(
        &files.shots,
        &urls[0],
        dir,
        &format!("{tag}-matched"),
        false,
    )
    .await?;
    let unmatched = shot_import(
        &files.shots,
        &urls[1],
        dir,
        &format!("{tag}-unmatched"),
        true,
    )
    .await?;
    let links = dir.join(format!("{tag}-links.csv"));
    export_links(&urls[0], &links).await?;
    let quality = link_quality(&links, &files.truth)?;
    let matching_only = matching_only(&urls[1], &files.shots, args).await?;
    Ok(Measured {
        matched,
        unmatched,
        quality,
        matching_only,
    })
}

struct Files {
    citizens: PathBuf,
    shots: PathBuf,
    truth: PathBuf,
}

fn prepare(args: &MatchBench, dir: &Path) -> anyhow::Result<Files> {
    let stem = format!("{}-{}-{}", args.province, args.citizens, args.seed);
    let files = Files {
        citizens: dir.join(format!("citizens-{stem}.csv")),
        shots: dir.join(format!("shots-{stem}-{}.csv", args.noise)),
        truth: dir.join(format!("truth-{stem}-{}.csv", args.noise)),
    };
    if !files.citizens.exists() {
        eprintln!("generating {} citizens …", args.citizens);
        let population = Population::new(&args.province, args.citizens, args.seed)?;
        write_csv(
            &files.citizens,
            population,
            &indicatif::ProgressBar::hidden(),
        )?;
    }
    if !files.shots.exists() || !files.truth.exists() {
        eprintln!("generating shot reports …");
        generate(&GenerateShotsArgs {
            citizens: files.citizens.clone(),
            seed: args.seed,
            coverage_dose1: 0.97,
            coverage_dose2: 0.63,
            booster: 0.1,
            noise: args.noise,
            duplicates: 0.02,
            out: files.shots.clone(),
            truth: files.truth.clone(),
            report_day: None,
            kien_giang_2021_11_23: false,
        })?;
    }
    Ok(files)
}

fn print(label: &str, m: &Measured) {
    let (a, b) = (&m.matched, &m.unmatched);
    println!(
        "{label}: {} reports against the registry\n  matched + stored     {:>8.0} rows/s  {:>6.1} s  peak RSS {} MiB\n  stored, no matching  {:>8.0} rows/s  {:>6.1} s  → matching runs at {:.2}× the storage-only speed\n  auto-link precision {:.4}, true matches auto-linked or queued {:.4} ({} auto, {} review, {} unmatched, {} duplicates)",
        a.rows,
        a.rows_per_second,
        a.seconds,
        a.peak_rss_kib.unwrap_or(0) / 1024,
        b.rows_per_second,
        b.seconds,
        a.rows_per_second / b.rows_per_second.max(1e-9),
        m.quality.auto_precision,
        m.quality.found_or_queued,
        m.quality.auto,
        m.quality.review,
        m.quality.unmatched,
        m.quality.duplicate,
    );
    let (n, matched, floor) = m.matching_only;
    println!(
        "  matching only ({n} reports in memory, nothing written): {matched:.0} records/s; one primary-key read per report: {floor:.0}/s → matching at {:.2}× that floor",
        matched / floor.max(1e-9)
    );
}

pub async fn run(args: MatchBench) -> anyhow::Result<()> {
    let (dir, _tmp) = workdir(args.workdir.as_ref())?;
    let files = prepare(&args, &dir).context("preparing the benchmark data")?;
    let sqlite: [PathBuf; 2] = [dir.join("match-a.db"), dir.join("match-b.db")];
    for db in &sqlite {
        remove_sqlite(db);
    }
    let urls = sqlite.clone().map(|p| format!("sqlite:{}", p.display()));
    let lite = measure(urls, &files, &dir, "sqlite", &args).await?;
    for db in &sqlite {
        remove_sqlite(db);
    }
    print("SQLite", &lite);
    let mut results = vec![
        json!({"backend": "sqlite", "matched": lite.matched, "unmatched": lite.unmatched, "quality": lite.quality, "matching_only": lite.matching_only}),
    ];
    if let Some(url) = &args.postgres_url {
        let admin = pg_admin(url).await?;
        let names = ["vaxtrace_bench_match_a", "vaxtrace_bench_match_b"];
        for name in names {
            fresh_pg_db(&admin, name).await?;
        }
        let pg = measure(
            names.map(|n| vaxtrace_store::with_database(url, n)),
            &files,
            &dir,
            "postgres",
            &args,
        )
        .await?;
        for name in names {
            admin
                .batch_execute(&format!("DROP DATABASE {name}"))
                .await?;
        }
        print("PostgreSQL", &pg);
        println!(
            "  SQLite matches at {:.2}× the PostgreSQL speed",
            lite.matched.rows_per_second / pg.matched.rows_per_second.max(1e-9)
        );
        results.push(json!({"backend": "postgres", "matched": pg.matched, "unmatched": pg.unmatched, "quality": pg.quality, "matching_only": pg.matching_only}));
    } else {
        println!("PostgreSQL: skipped (pass --postgres-url or set VAXTRACE_BENCH_POSTGRES_URL)");
    }
    println!(
        "{}",
        json!({"bench": "match", "citizens": args.citizens, "results": results})
    );
    Ok(())
}
