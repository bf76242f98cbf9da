//! `vaxtrace analytics` (coverage in the terminal, recount) and `vaxtrace vaccination sign`
//! (batch signing of an area's verified records by each commune's key).

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use time::OffsetDateTime;
use vaxtrace_analytics::area::{Area, report_day};
use vaxtrace_analytics::member::ResidenceBasis;
use vaxtrace_analytics::report::{Basis, Counts, Rates};
use vaxtrace_cert::CertProfile;
use vaxtrace_domain::date::vietnam_day;
use vaxtrace_domain::{UnitLevel, admin_units};
use vaxtrace_server::analytics::{CoverageRow, coverage_report};
use vaxtrace_server::signing;
use vaxtrace_store::{AnalyticsSettings, LinkDecision, NewSignature, RecordFilter, Store};

use crate::Db;
use crate::commands::{cli_audit, count_bar, open_store};
use crate::vaccination_commands::{Passphrase, issue_under};

#[derive(Debug, Subcommand)]
pub enum AnalyticsCommand {
    /// Vaccination coverage of an area by unit, from the live counters.
    Coverage(CoverageArgs),
    /// Recompute every counter from the registry and the signed records and compare with the
    /// live ones; exit 1 when they differ (unless --apply replaced them).
    Recount {
        #[command(flatten)]
        db: Db,
        /// Replace the live counters with the recount.
        #[arg(long)]
        apply: bool,
        /// Count residents by permanent residence, or by temporary residence where there is one
        /// (takes --apply).
        #[arg(long, value_parser = ["permanent", "temporary"], requires = "apply")]
        residence: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    db: Db,
    /// `VN`, or a province, district or commune code.
    #[arg(long, default_value = "VN")]
    area: String,
    /// The units listed: province, district or commune (default: the level below the area).
    #[arg(long)]
    level: Option<String>,
    /// As of the end of this day (YYYY-MM-DD, Vietnam time); default today.
    #[arg(long)]
    date: Option<String>,
    /// Count by where people live, or doses by where they were given.
    #[arg(long, default_value = "residence", value_parser = ["residence", "site"])]
    basis: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum VaccinationCommand {
    /// Sign every verified, unsigned record of the communes of an area with each commune's key,
    /// creating a commune key under its province CA where there is none.
    Sign {
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        passphrase: Passphrase,
        /// A province, district or commune code.
        #[arg(long)]
        area: String,
        /// Hide the progress bar.
        #[arg(long)]
        no_progress: bool,
    },
}

pub async fn analytics(cmd: AnalyticsCommand) -> anyhow::Result<()> {
    match cmd {
        AnalyticsCommand::Coverage(args) => coverage(&args).await,
        AnalyticsCommand::Recount {
            db,
            apply,
            residence,
        } => {
            let store = open_store(&db).await?;
            // Applying also turns the live counters (back) on.
            let current = store.analytics_settings().await?;
            let settings = match residence.as_deref() {
                None if apply => Some(AnalyticsSettings {
                    live: true,
                    ..current
                }),
                None => None,
                Some(raw) => Some(AnalyticsSettings {
                    residence: ResidenceBasis::parse(raw).context("unknown residence basis")?,
                    live: true,
                    ..current
                }),
            };
            let report = store
                .recount(apply, settings, OffsetDateTime::now_utc())
                .await?;
            store
                .append_audit(vec![cli_audit(
                    "analytics.recount",
                    None,
                    "analytics",
                    format!(
                        "differences:{} applied:{}",
                        report.counter_differences + report.member_differences,
                        report.applied
                    ),
                )])
                .await?;
            println!(
                "recounted {} citizens, {} vaccinated, {} counters (residence: {})",
                report.citizens, report.members, report.counters, report.residence_basis
            );
            println!(
                "differences from the live counters: {} counters, {} contributions",
                report.counter_differences, report.member_differences
            );
            if report.applied {
                println!("applied: the live counters now equal the recount");
            } else if !report.agrees() {
                bail!(
                    "the live counters differ from a recount (run again with --apply to replace them)"
                );
            } else {
                println!("the live counters agree with the recount");
            }
            Ok(())
        }
    }
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |x| format!("{:.2} %", x * 100.0))
}

fn print_row(row: &CoverageRow) {
    let c = &row.coverage;
    let counts = |x: Option<Counts>| x.unwrap_or_default();
    let adults = |x: Option<Rates>| x.and_then(|r| r.adults);
    println!(
        "{:<6} {:<34} {:>11} {:>11} {:>11} {:>9} {:>11} {:>9} {:>10} {:>11}",
        row.unit.code,
        row.unit.name.chars().take(34).collect::<String>(),
        counts(c.population).all,
        counts(c.population).adults,
        counts(c.dose1).adults,
        percent(adults(c.rate_dose1)),
        counts(c.full).adults,
        percent(adults(c.rate_full)),
        counts(c.booster).all,
        c.doses.total,
    );
}

async fn coverage(args: &CoverageArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db).await?;
    let area = Area::parse(&args.area).map_err(|e| anyhow::anyhow!("--area: {}", e.message_en))?;
    let level = area
        .level(args.level.as_deref())
        .map_err(|e| anyhow::anyhow!("--level: {}", e.message_en))?;
    let today = vietnam_day(OffsetDateTime::now_utc());
    let day = report_day("date", args.date.as_deref(), today, today)
        .map_err(|e| anyhow::anyhow!("--date: {}", e.message_en))?;
    let basis = Basis::parse(&args.basis).context("unknown basis")?;
    let report = coverage_report(store.as_ref(), area, level, day, basis).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "Độ bao phủ tiêm chủng / Vaccination coverage — {} ({}), {} {}, by {:?}",
        area.name, area.code, day, report.age_rule.version, basis
    );
    println!(
        "{:<6} {:<34} {:>11} {:>11} {:>11} {:>9} {:>11} {:>9} {:>10} {:>11}",
        "code",
        "name",
        "population",
        "adults",
        "dose1 18+",
        "rate",
        "full 18+",
        "rate",
        "booster",
        "doses"
    );
    for row in &report.units {
        print_row(row);
    }
    print_row(&report.total);
    Ok(())
}

pub async fn vaccination(cmd: VaccinationCommand) -> anyhow::Result<()> {
    let VaccinationCommand::Sign {
        db,
        passphrase,
        area,
        no_progress,
    } = cmd;
    let store = open_store(&db).await?;
    let area = Area::parse(&area).map_err(|e| anyhow::anyhow!("--area: {}", e.message_en))?;
    if area.level.is_none() {
        bail!("--area: sign a province, district or commune at a time");
    }
    let communes: Vec<&'static str> = area
        .residence_units()
        .into_iter()
        .filter(|c| {
            admin_units()
                .get(c)
                .is_some_and(|u| u.level == UnitLevel::Commune)
        })
        .collect();
    let (signed, created) = sign_communes(&store, &passphrase, &communes, !no_progress).await?;
    store
        .append_audit(vec![cli_audit(
            "vaccination.sign",
            None,
            "vaccination_signing",
            format!("area:{} signed:{signed} keys_created:{created}", area.code),
        )])
        .await?;
    println!(
        "signed {signed} records in {} communes of {} ({created} commune keys created)",
        communes.len(),
        area.name
    );
    Ok(())
}

/// Signs the verified records of each commune with its key, creating a missing commune key under
/// its province CA; returns (records signed, keys created).
pub(crate) async fn sign_communes(
    store: &Arc<dyn Store>,
    passphrase: &Passphrase,
    communes: &[&str],
    progress: bool,
) -> anyhow::Result<(u64, u64)> {
    let secret = passphrase.secret()?;
    let bar = if progress {
        count_bar(communes.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let (mut signed, mut created) = (0, 0);
    for commune in communes {
        bar.inc(1);
        if unsigned_page(store, commune, 0, 1).await?.is_empty() {
            continue;
        }
        let now = OffsetDateTime::now_utc();
        let (key_id, key) =
            match signing::commune_signer(store.as_ref(), commune, &secret, now).await {
                Ok(k) => k,
                Err(signing::SigningError::NoKey(_)) => {
                    // Valid from the same `now`: a key dated a second later would not be found.
                    issue_under(
                        store,
                        passphrase,
                        CertProfile::CommuneSigner,
                        commune,
                        2,
                        now,
                    )
                    .await?;
                    created += 1;
                    signing::commune_signer(store.as_ref(), commune, &secret, now).await?
                }
                Err(e) => return Err(e.into()),
            };
        signed += sign_commune(store, commune, key_id, &key).await?;
    }
    bar.finish_and_clear();
    Ok((signed, created))
}

async fn unsigned_page(
    store: &Arc<dyn Store>,
    commune: &str,
    after_id: i64,
    limit: u32,
) -> anyhow::Result<Vec<vaxtrace_store::ShotRecord>> {
    Ok(store
        .list_records(RecordFilter {
            units: Some(vec![commune.to_owned()]),
            decisions: vec![LinkDecision::Auto, LinkDecision::Confirmed],
            unsigned_only: true,
            after_id,
            limit,
        })
        .await?)
}

/// Signs one commune's verified, unsigned records a page at a time; returns how many.
async fn sign_commune(
    store: &Arc<dyn Store>,
    commune: &str,
    key_id: i64,
    key: &vaxtrace_cert::SigningKey,
) -> anyhow::Result<u64> {
    let mut total = 0;
    let mut after_id = 0;
    loop {
        let page = unsigned_page(store, commune, after_id, 500).await?;
        let Some(last) = page.last() else { break };
        after_id = last.id;
        let signatures = page
            .iter()
            .map(|r| {
                Ok(NewSignature {
                    record_id: r.id,
                    version: r.version,
                    signature: key.sign(&r.canonical_bytes())?,
                    signing_key_id: key_id,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let done = store
            .sign_records(
                signatures,
                &format!("cli:{commune}"),
                OffsetDateTime::now_utc(),
            )
            .await?;
        total += done.len() as u64;
    }
    Ok(total)
}
