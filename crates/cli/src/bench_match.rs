//! `vaxtrace bench match`: shot reports matched to the registry and stored, per second, beside the
//! same rows stored without matching (what matching costs), on `SQLite` and `PostgreSQL`, with the
//! matching quality measured against the generator's ground truth.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;

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
}

/// Runs `vaxtrace import vaccinations` in a child process.
async fn shot_import(shots: &Path, url: &str, dir: &Path, tag: &str, skip_matching: bool) -> anyhow::Result<ShotImportReport> {
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
        .args(["--log", "warn", "export", "links", "--database-url", url, "--out"])
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
}

/// Loads the registry into two fresh databases, imports the shots into one with matching and into
/// the other without, and scores the links.
async fn measure(urls: [String; 2], files: &Files, dir: &Path, tag: &str) -> anyhow::Result<Measured> {
    for (i, url) in urls.iter().enumerate() {
        let report = our_import(&files.citizens, url, dir, &format!("{tag}-registry-{i}")).await?;
        anyhow::ensure!(report.rejected == 0, "registry rows rejected: {report:?}");
    }
    let matched = shot_import(&files.shots, &urls[0], dir, &format!("{tag}-matched"), false).await?;
    let unmatched = shot_import(&files.shots, &urls[1], dir, &format!("{tag}-unmatched"), true).await?;
    let links = dir.join(format!("{tag}-links.csv"));
    export_links(&urls[0], &links).await?;
    let quality = link_quality(&links, &files.truth)?;
    Ok(Measured { matched, unmatched, quality })
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
        write_csv(&files.citizens, population, &indicatif::ProgressBar::hidden())?;
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
}

pub async fn run(args: MatchBench) -> anyhow::Result<()> {
    let (dir, _tmp) = workdir(args.workdir.as_ref())?;
    let files = prepare(&args, &dir).context("preparing the benchmark data")?;
    let sqlite: [PathBuf; 2] = [dir.join("match-a.db"), dir.join("match-b.db")];
    for db in &sqlite {
        remove_sqlite(db);
    }
    let urls = sqlite.clone().map(|p| format!("sqlite:{}", p.display()));
    let lite = measure(urls, &files, &dir, "sqlite").await?;
    for db in &sqlite {
        remove_sqlite(db);
    }
    print("SQLite", &lite);
    let mut results = vec![json!({"backend": "sqlite", "matched": lite.matched, "unmatched": lite.unmatched, "quality": lite.quality})];
    if let Some(url) = &args.postgres_url {
        let admin = pg_admin(url).await?;
        let names = ["vaxtrace_bench_match_a", "vaxtrace_bench_match_b"];
        for name in names {
            fresh_pg_db(&admin, name).await?;
        }
        let pg = measure(names.map(|n| vaxtrace_store::with_database(url, n)), &files, &dir, "postgres").await?;
        for name in names {
            admin.batch_execute(&format!("DROP DATABASE {name}")).await?;
        }
        print("PostgreSQL", &pg);
        println!(
            "  SQLite matches at {:.2}× the PostgreSQL speed",
            lite.matched.rows_per_second / pg.matched.rows_per_second.max(1e-9)
        );
        results.push(json!({"backend": "postgres", "matched": pg.matched, "unmatched": pg.unmatched, "quality": pg.quality}));
    } else {
        println!("PostgreSQL: skipped (pass --postgres-url or set VAXTRACE_BENCH_POSTGRES_URL)");
    }
    println!("{}", json!({"bench": "match", "citizens": args.citizens, "results": results}));
    Ok(())
}
