//! `vaxtrace bench coverage`: coverage of every commune of one province and of the nation by
//! province, from the live counters, beside `DuckDB` scanning the same people and doses exported to
//! Parquet, in the same run, with both answers compared; then what keeping the counters costs the
//! dose ingest (records stored and signed with the counters live, and off).
//!
//! The synthetic nation is generated province by province (2019 census shares) and each
//! province's counters are added before the next one is made, so memory stays bounded; the
//! counters come from the same contribution code as the live path.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::macros::date;
use time::{Date, Duration, OffsetDateTime};
use vaxtrace_analytics::area::Area;
use vaxtrace_analytics::member::ResidenceBasis;
use vaxtrace_analytics::report::Basis;
use vaxtrace_analytics::{AGE_RULE, Deltas, DoseCell, Member, Resident};
use vaxtrace_domain::date::vietnam_day;
use vaxtrace_domain::{ShotInput, UnitLevel, admin_units};
use vaxtrace_server::analytics::{CoverageReport, coverage_report};
use vaxtrace_server::exports::{Column, ParquetWriter, Table};
use vaxtrace_store::{
    AnalyticsSettings, InsertOutcome, LinkDecision, NewKey, NewShotRecord, NewSignature, Store,
};

use crate::bench::{fresh_pg_db, pg_admin, verdict, workdir};
use crate::import::peak_rss_kib;

#[derive(Debug, Clone, Args)]
pub struct CoverageBench {
    /// Synthetic citizens over the 63 provinces (the issue's scale: 100 million).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1_000..=200_000_000))]
    citizens: u64,
    /// The province whose communes are queried.
    #[arg(long, default_value = "91")]
    province: String,
    /// Runs of each query; the median is reported.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    repeat: u32,
    /// Citizens whose shots are stored and signed to measure the counters' cost to ingest.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=5_000_000))]
    ingest_citizens: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the databases and Parquet files go. Default: a temporary directory.
    #[arg(long)]
    workdir: Option<std::path::PathBuf>,
    /// `PostgreSQL` server to measure on as well (needs CREATE DATABASE).
    #[arg(long, env = "VAXTRACE_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// Python with the `duckdb` package, for the peer (skipped, and said so, when missing).
    #[arg(long, default_value = "python3")]
    python: String,
}

const QUERY_MAX_MS: f64 = 50.0;
const DUCKDB_MIN_RATIO: f64 = 20.0;
const COUNTER_COST_MAX: f64 = 0.10;
/// The historical day asked for beside today (Kiên Giang's report).
const REPORT_DAY: Date = date!(2021 - 11 - 23);
const CAMPAIGN: Date = date!(2021 - 03 - 08);
const VACCINES: [&str; 4] = ["EU/1/21/1529", "EU/1/20/1528", "EU/1/20/1507", "BBIBP-CorV"];

/// One synthetic citizen's counted facts, as both sides see them.
struct Person {
    commune: &'static str,
    resident: Resident,
    member: Member,
}

fn person(rng: &mut ChaCha8Rng, communes: &[&'static str]) -> Person {
    let commune = communes[rng.random_range(0..communes.len())];
    let birth_year = rng.random_range(1925..=2020);
    let sex = if rng.random_bool(0.5) { 'M' } else { 'F' };
    let resident = Resident {
        unit: commune.to_owned(),
        band: AGE_RULE.band(birth_year),
        sex,
        alive: true,
    };
    let mut member = Member::default();
    if AGE_RULE.reference_year - birth_year >= 12 && rng.random_bool(0.95) {
        let vaccine = VACCINES[rng.random_range(0..VACCINES.len())];
        let site = |rng: &mut ChaCha8Rng| {
            let c = if rng.random_bool(0.9) {
                commune
            } else {
                communes[rng.random_range(0..communes.len())]
            };
            Some(c.to_owned())
        };
        let d1 = CAMPAIGN + Duration::days(rng.random_range(0..400));
        let mut doses = vec![(d1, 1)];
        if rng.random_bool(0.75) {
            let d2 = d1 + Duration::days(rng.random_range(28..84));
            doses.push((d2, 2));
            member.full_on = Some(d2);
            if rng.random_bool(0.4) {
                let d3 = d2 + Duration::days(rng.random_range(90..300));
                doses.push((d3, 3));
                member.booster_on = Some(d3);
            }
        }
        member.dose1_on = Some(d1);
        member.doses = doses
            .into_iter()
            .map(|(day, dose_number)| DoseCell {
                day,
                dose_number,
                vaccine: vaccine.to_owned(),
                site_unit: site(rng),
            })
            .collect();
    }
    Person {
        commune,
        resident,
        member,
    }
}

fn day_number(d: Option<Date>) -> Option<i64> {
    d.map(vaxtrace_analytics::counters::day_bucket)
}

/// Column buffers of one province's people and doses, for Parquet.
#[derive(Default)]
struct Rows {
    p_province: Vec<String>,
    p_commune: Vec<String>,
    p_band: Vec<i64>,
    p_dose1: Vec<Option<i64>>,
    p_full: Vec<Option<i64>>,
    p_booster: Vec<Option<i64>>,
    d_province: Vec<String>,
    d_commune: Vec<String>,
    d_day: Vec<i64>,
}

impl Rows {
    fn push(&mut self, province: &str, p: &Person) {
        self.p_province.push(province.to_owned());
        self.p_commune.push(p.commune.to_owned());
        self.p_band.push(p.resident.band.index() as i64);
        self.p_dose1.push(day_number(p.member.dose1_on));
        self.p_full.push(day_number(p.member.full_on));
        self.p_booster.push(day_number(p.member.booster_on));
        for d in &p.member.doses {
            self.d_province.push(province.to_owned());
            self.d_commune.push(p.commune.to_owned());
            self.d_day
                .push(vaxtrace_analytics::counters::day_bucket(d.day));
        }
    }

    fn tables(self) -> (Table, Table) {
        (
            Table {
                columns: vec![
                    ("province", Column::Text(self.p_province)),
                    ("commune", Column::Text(self.p_commune)),
                    ("band", Column::Int(self.p_band)),
                    ("dose1_day", Column::OptInt(self.p_dose1)),
                    ("full_day", Column::OptInt(self.p_full)),
                    ("booster_day", Column::OptInt(self.p_booster)),
                ],
            },
            Table {
                columns: vec![
                    ("province", Column::Text(self.d_province)),
                    ("commune", Column::Text(self.d_commune)),
                    ("day", Column::Int(self.d_day)),
                ],
            },
        )
    }
}

/// Generates the nation into the stores' counters and two Parquet files; returns (people, doses).
async fn generate(
    args: &CoverageBench,
    stores: &[(&str, Arc<dyn Store>)],
    dir: &Path,
) -> anyhow::Result<(u64, u64)> {
    let units = admin_units();
    let provinces: Vec<&'static str> = units.provinces().map(|u| u.code).collect();
    let census: u64 = provinces
        .iter()
        .map(|p| units.population_2019(p).unwrap_or(0))
        .sum();
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut people_out: Option<ParquetWriter<std::fs::File>> = None;
    let mut doses_out: Option<ParquetWriter<std::fs::File>> = None;
    let (mut people, mut doses) = (0, 0);
    let bar = crate::commands::count_bar(args.citizens);
    for (i, province) in provinces.iter().enumerate() {
        let share = units.population_2019(province).unwrap_or(0);
        let n = if i + 1 == provinces.len() {
            args.citizens - people
        } else {
            args.citizens * share / census.max(1)
        };
        let communes = Area::of(province).residence_units();
        let mut deltas = Deltas::new();
        let mut rows = Rows::default();
        for _ in 0..n {
            let p = person(&mut rng, &communes);
            p.resident.count_population(&mut deltas, 1);
            p.member.count(&p.resident, &mut deltas, 1);
            doses += p.member.doses.len() as u64;
            rows.push(province, &p);
        }
        people += n;
        bar.set_position(people);
        for (_, store) in stores {
            store.add_counts(deltas.clone()).await?;
        }
        let (pt, dt) = rows.tables();
        if people_out.is_none() {
            let create = |name: &str| std::fs::File::create(dir.join(name));
            people_out = Some(ParquetWriter::new(create("people.parquet")?, &pt)?);
            doses_out = Some(ParquetWriter::new(create("doses.parquet")?, &dt)?);
        }
        if let (Some(po), Some(dout)) = (people_out.as_mut(), doses_out.as_mut()) {
            po.write(&pt)?;
            dout.write(&dt)?;
        }
    }
    bar.finish_and_clear();
    if let (Some(po), Some(dout)) = (people_out, doses_out) {
        po.close()?;
        dout.close()?;
    }
    Ok((people, doses))
}

/// (unit, population, dose1, full, booster, doses) per unit of a report.
type Answer = Vec<(String, i64, i64, i64, i64, i64)>;

fn answer(report: &CoverageReport) -> Answer {
    report
        .units
        .iter()
        .map(|r| {
            let c = &r.coverage;
            let all = |x: Option<vaxtrace_analytics::report::Counts>| x.map_or(0, |x| x.all);
            (
                r.unit.code.to_owned(),
                all(c.population),
                all(c.dose1),
                all(c.full),
                all(c.booster),
                c.doses.total,
            )
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The four queries: (label, area, level, day).
fn queries(province: &str, today: Date) -> Vec<(String, Area, UnitLevel, Date)> {
    let p = Area::of(admin_units().get(province).map_or("91", |u| u.code));
    vec![
        (
            format!("communes of {province}, today"),
            p,
            UnitLevel::Commune,
            today,
        ),
        (
            format!("communes of {province}, {REPORT_DAY}"),
            p,
            UnitLevel::Commune,
            REPORT_DAY,
        ),
        (
            "nation by province, today".into(),
            Area::NATION,
            UnitLevel::Province,
            today,
        ),
        (
            format!("nation by province, {REPORT_DAY}"),
            Area::NATION,
            UnitLevel::Province,
            REPORT_DAY,
        ),
    ]
}

async fn ours(
    store: &dyn Store,
    q: &(String, Area, UnitLevel, Date),
    repeat: u32,
) -> anyhow::Result<(f64, Answer)> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeat {
        let started = Instant::now();
        let report = coverage_report(store, q.1, q.2, q.3, Basis::Residence).await?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        last = Some(report);
    }
    Ok((median(times), last.map(|r| answer(&r)).unwrap_or_default()))
}

const DUCKDB_SCRIPT: &str = r#"
import json, sys, time
import duckdb
people, doses, province, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
days = sys.argv[5:]
con = duckdb.connect()
def run(sql):
    times, rows = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[len(times) // 2], rows
out = []
for unit, where in (("commune", f"province = '{province}'"), ("province", "true")):
    for day in days:
        sql = f"""
          WITH p AS (SELECT {unit} AS unit, count(*) AS pop,
                       count(*) FILTER (WHERE dose1_day <= {day}) AS d1,
                       count(*) FILTER (WHERE full_day <= {day}) AS full,
                       count(*) FILTER (WHERE booster_day <= {day}) AS boost
                     FROM read_parquet('{people}') WHERE {where} GROUP BY 1),
               d AS (SELECT {unit} AS unit, count(*) AS doses FROM read_parquet('{doses}')
                     WHERE {where} AND day <= {day} GROUP BY 1)
          SELECT p.unit, p.pop, p.d1, p.full, p.boost, coalesce(d.doses, 0)
          FROM p LEFT JOIN d USING (unit) ORDER BY p.unit"""
        ms, rows = run(sql)
        out.append({"ms": ms, "rows": [list(r) for r in rows]})
print(json.dumps(out))
"#;

/// `DuckDB`'s medians and answers for the same four queries, or why it could not run.
fn duckdb(args: &CoverageBench, dir: &Path, today: Date) -> anyhow::Result<Vec<(f64, Answer)>> {
    let script = dir.join("coverage_duckdb.py");
    std::fs::write(&script, DUCKDB_SCRIPT)?;
    let bucket = |d: Date| vaxtrace_analytics::counters::day_bucket(d).to_string();
    let out = std::process::Command::new(&args.python)
        .arg(&script)
        .arg(dir.join("people.parquet"))
        .arg(dir.join("doses.parquet"))
        .arg(&args.province)
        .arg(args.repeat.min(5).to_string())
        .args([bucket(today), bucket(REPORT_DAY)])
        .output()
        .with_context(|| format!("cannot run {}", args.python))?;
    if !out.status.success() {
        bail!(
            "{}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    let parsed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    Ok(parsed
        .into_iter()
        .map(|q| {
            let rows = q["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    let n = |i: usize| r[i].as_i64().unwrap_or(-1);
                    (
                        r[0].as_str().unwrap_or("").to_owned(),
                        n(1),
                        n(2),
                        n(3),
                        n(4),
                        n(5),
                    )
                })
                .collect();
            (q["ms"].as_f64().unwrap_or(f64::NAN), rows)
        })
        .collect())
}

/// Units with people only (`DuckDB` lists no empty unit), sorted.
fn comparable(mut a: Answer) -> Answer {
    a.retain(|r| r.1 > 0);
    a.sort();
    a
}

/// Shots of `citizens` people stored and signed in batches of 500; returns doses per second.
async fn ingest(store: &Arc<dyn Store>, citizens: u64, seed: u64) -> anyhow::Result<f64> {
    let now = OffsetDateTime::now_utc();
    let key = store
        .insert_key(NewKey {
            profile: "commune_signer".into(),
            unit_code: "30730".into(),
            fingerprint: format!("{:064x}", rand::random::<u128>()),
            certificate: vec![1],
            encrypted_private_key: vec![2],
            issuer_id: None,
            not_before: now,
            not_after: now + Duration::days(30),
        })
        .await?;
    let communes = Area::of("91").residence_units();
    let population = crate::synth::Population::new("91", citizens, seed)?;
    let people: Vec<_> = population.collect();
    let mut registry = Vec::with_capacity(people.len());
    for p in &people {
        registry.push(
            p.parse(date!(2021 - 08 - 01))
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    for chunk in registry.chunks(50_000) {
        store.upsert_citizens(chunk.to_vec()).await?;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pending = Vec::new();
    let started = Instant::now();
    let mut stored = 0u64;
    for c in &registry {
        let d1 = CAMPAIGN + Duration::days(rng.random_range(0..300));
        for (n, day) in [(1, d1), (2, d1 + Duration::days(60))] {
            let shot = ShotInput {
                source: "bench".into(),
                source_record_id: format!("{}-{n}", c.personal_id),
                personal_id: Some(c.personal_id.to_string()),
                full_name: c.full_name.as_str().to_owned(),
                vaccine_code: VACCINES[0].into(),
                dose_number: n.to_string(),
                administered_at: format!("{day} 09:00"),
                site_code: format!("KG-TYT-{}", communes[rng.random_range(0..communes.len())]),
                ..ShotInput::default()
            }
            .parse(now)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            pending.push(NewShotRecord {
                shot,
                decision: LinkDecision::Auto,
                personal_id: Some(c.personal_id),
                score: Some(30.0),
                evidence: "[]".into(),
                queue_unit: Some(c.permanent.unit_code.to_owned()),
                received_at: now,
            });
        }
        if pending.len() >= 500 {
            stored += store_and_sign(store, std::mem::take(&mut pending), key).await?;
        }
    }
    stored += store_and_sign(store, pending, key).await?;
    Ok(stored as f64 / started.elapsed().as_secs_f64())
}

async fn store_and_sign(
    store: &Arc<dyn Store>,
    batch: Vec<NewShotRecord>,
    key: i64,
) -> anyhow::Result<u64> {
    let outcomes = store.insert_shots(batch).await?;
    let signatures: Vec<NewSignature> = outcomes
        .iter()
        .filter_map(|o| match o {
            InsertOutcome::Inserted { id, .. } => Some(NewSignature {
                record_id: *id,
                version: 1,
                signature: vec![7; 64],
                signing_key_id: key,
            }),
            _ => None,
        })
        .collect();
    Ok(store
        .sign_records(signatures, "bench", OffsetDateTime::now_utc())
        .await?
        .len() as u64)
}

/// Ingest with live counters and with them off, on fresh databases; prints and returns the cost.
async fn counter_cost(
    label: &str,
    open: impl AsyncFn(&str) -> anyhow::Result<Arc<dyn Store>>,
    args: &CoverageBench,
) -> anyhow::Result<f64> {
    let live = open("live").await?;
    let with = ingest(&live, args.ingest_citizens, args.seed).await?;
    let off = open("off").await?;
    off.recount(
        true,
        Some(AnalyticsSettings {
            residence: ResidenceBasis::Permanent,
            live: false,
            counted: true,
        }),
        OffsetDateTime::now_utc(),
    )
    .await?;
    let without = ingest(&off, args.ingest_citizens, args.seed).await?;
    let started = Instant::now();
    let back_on = AnalyticsSettings::default();
    let report = off
        .recount(true, Some(back_on), OffsetDateTime::now_utc())
        .await?;
    let recount_s = started.elapsed().as_secs_f64();
    let check = live.recount(false, None, OffsetDateTime::now_utc()).await?;
    let cost = 1.0 - with / without;
    println!(
        "{label}: dose ingest (store + sign) {with:.0} doses/s with live counters, {without:.0}/s without: cost {:.1} % (target < {:.0} %) {}",
        cost * 100.0,
        COUNTER_COST_MAX * 100.0,
        verdict(cost < COUNTER_COST_MAX)
    );
    println!(
        "{label}: recount of the same {} vaccinated citizens {recount_s:.1} s; live counters agree with a recount: {}",
        report.members,
        check.agrees()
    );
    if !check.agrees() {
        bail!("{label}: the live counters differ from a recount: {check:?}");
    }
    Ok(cost)
}

pub async fn run(args: CoverageBench) -> anyhow::Result<()> {
    if admin_units().get(&args.province).map(|u| u.level) != Some(UnitLevel::Province) {
        bail!("--province: '{}' is not a province code", args.province);
    }
    let (dir, _tmp) = workdir(args.workdir.as_ref())?;
    let sqlite_path = dir.join("coverage.db");
    crate::bench::remove_sqlite(&sqlite_path);
    let mut stores: Vec<(&str, Arc<dyn Store>)> = vec![(
        "SQLite",
        vaxtrace_store::open(&format!("sqlite:{}", sqlite_path.display())).await?,
    )];
    let admin = match &args.postgres_url {
        Some(url) => Some((url.clone(), pg_admin(url).await?)),
        None => None,
    };
    if let Some((url, admin)) = &admin {
        fresh_pg_db(admin, "vaxtrace_bench_coverage").await?;
        let db_url = vaxtrace_store::with_database(url, "vaxtrace_bench_coverage");
        stores.push(("PostgreSQL", vaxtrace_store::open(&db_url).await?));
    }
    for (_, s) in &stores {
        s.migrate().await?;
    }
    let started = Instant::now();
    let (people, doses) = generate(&args, &stores, &dir).await?;
    println!(
        "generated {people} citizens and {doses} doses over 63 provinces in {:.1} s (counters of both backends, Parquet for DuckDB); peak RSS {} MiB",
        started.elapsed().as_secs_f64(),
        peak_rss_kib().unwrap_or(0) / 1024
    );
    let today = vietnam_day(OffsetDateTime::now_utc());
    let qs = queries(&args.province, today);
    let peer = match duckdb(&args, &dir, today) {
        Ok(p) => Some(p),
        Err(e) => {
            println!("DuckDB peer unavailable ({e:#}): pip install duckdb");
            None
        }
    };
    for (name, store) in &stores {
        for (i, q) in qs.iter().enumerate() {
            let (ms, ours_answer) = ours(store.as_ref(), q, args.repeat).await?;
            let fast = ms < QUERY_MAX_MS;
            let mut line = format!(
                "{name}: {}: {ms:.2} ms (target < {QUERY_MAX_MS} ms) {}",
                q.0,
                verdict(fast)
            );
            if let Some((duck_ms, duck)) = peer.as_ref().and_then(|p| p.get(i)) {
                let ratio = duck_ms / ms;
                let same = comparable(ours_answer) == comparable(duck.clone());
                let _ = write!(
                    line,
                    "; DuckDB full scan {duck_ms:.2} ms = {ratio:.1}× (target ≥ {DUCKDB_MIN_RATIO}×) {}; same numbers: {same}",
                    verdict(ratio >= DUCKDB_MIN_RATIO)
                );
                if !same {
                    bail!(
                        "{name}: {} differs from DuckDB's answer over the same data",
                        q.0
                    );
                }
            }
            println!("{line}");
        }
    }
    let sqlite_dir = dir.clone();
    counter_cost(
        "SQLite",
        async |tag: &str| {
            let path = sqlite_dir.join(format!("ingest-{tag}.db"));
            crate::bench::remove_sqlite(&path);
            let s = vaxtrace_store::open(&format!("sqlite:{}", path.display())).await?;
            s.migrate().await?;
            Ok(s)
        },
        &args,
    )
    .await?;
    if let Some((url, admin)) = &admin {
        counter_cost(
            "PostgreSQL",
            async |tag: &str| {
                let name = format!("vaxtrace_bench_ingest_{tag}");
                fresh_pg_db(admin, &name).await?;
                let s = vaxtrace_store::open(&vaxtrace_store::with_database(url, &name)).await?;
                s.migrate().await?;
                Ok(s)
            },
            &args,
        )
        .await?;
    }
    Ok(())
}
