//! Commands for vaccination records: generate, import, export links, matching quality, signing
//! keys, and record signature checks.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use time::{Duration, OffsetDateTime};
use vaxtrace_cert::{CertProfile, IssuedKey, SecretPassphrase};
use vaxtrace_domain::linkage::Thresholds;
use vaxtrace_domain::{UnitLevel, admin_units};
use vaxtrace_server::signing::{self, issued_key};
use vaxtrace_store::{LinkDecision, NewKey, Store};

use crate::Db;
use crate::commands::{cli_audit, open_store};
use crate::import_shots::{ShotImportOptions, ShotImportReport, import_vaccinations};
use crate::synth_shots::{ShotGenOptions, generate_vaccinations};

/// `vaxtrace generate vaccinations`.
#[derive(Debug, Clone, Args)]
pub struct GenerateShotsArgs {
    /// The registry CSV the shots are for (as written by `generate citizens`).
    #[arg(long)]
    pub citizens: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of eligible citizens (alive, 12+) with a first dose.
    #[arg(long, default_value_t = 0.97)]
    pub coverage_dose1: f64,
    /// Share of eligible citizens with a second dose.
    #[arg(long, default_value_t = 0.63)]
    pub coverage_dose2: f64,
    /// Share of eligible adults with a booster.
    #[arg(long, default_value_t = 0.1)]
    pub booster: f64,
    /// Share of rows with at least one error (typo, swapped date, wrong or missing ID …).
    #[arg(long, default_value_t = 0.05)]
    pub noise: f64,
    /// Share of shots reported a second time by another source.
    #[arg(long, default_value_t = 0.02)]
    pub duplicates: f64,
    /// The shots CSV to write.
    #[arg(long)]
    pub out: PathBuf,
    /// The ground truth: each row's true personal ID and the noise applied.
    #[arg(long)]
    pub truth: PathBuf,
    /// Every dose on or before this day (YYYY-MM-DD), so the coverage shares are that day's.
    #[arg(long, value_parser = parse_report_day)]
    pub report_day: Option<time::Date>,
    /// Kiên Giang's report of 23/11/2021: dose 1 for 97.31 % and dose 2 for 62.71 % of the
    /// eligible, no booster yet, every dose on or before that day (overrides the shares above).
    #[arg(long)]
    pub kien_giang_2021_11_23: bool,
}

fn parse_report_day(raw: &str) -> Result<time::Date, String> {
    vaxtrace_domain::date::parse_day("report_day", raw).map_err(|e| e.message_en)
}

pub fn generate(args: &GenerateShotsArgs) -> anyhow::Result<()> {
    let mut opts = ShotGenOptions {
        seed: args.seed,
        coverage_dose1: args.coverage_dose1,
        coverage_dose2: args.coverage_dose2,
        booster: args.booster,
        noise: args.noise,
        duplicate_rate: args.duplicates,
        report_day: args.report_day,
    };
    if args.kien_giang_2021_11_23 {
        opts.coverage_dose1 = 0.9731;
        opts.coverage_dose2 = 0.6271;
        opts.booster = 0.0;
        opts.report_day = Some(time::macros::date!(2021 - 11 - 23));
    }
    let open = |p: &Path| File::open(p).with_context(|| format!("cannot open {}", p.display()));
    let create =
        |p: &Path| File::create(p).with_context(|| format!("cannot create {}", p.display()));
    let size = std::fs::metadata(&args.citizens)
        .with_context(|| format!("cannot read {}", args.citizens.display()))?
        .len();
    let bar = crate::import::progress_bar(size.max(1) / 100, true);
    let stats = generate_vaccinations(
        &opts,
        BufReader::with_capacity(1 << 20, open(&args.citizens)?),
        BufWriter::with_capacity(1 << 20, create(&args.out)?),
        BufWriter::new(create(&args.truth)?),
        |n| {
            if n.is_multiple_of(4096) {
                bar.set_position(n);
            }
        },
    )?;
    bar.finish_and_clear();
    println!(
        "wrote {} shot reports ({} noisy, {} second-source duplicates) for {} eligible of {} citizens to {}; truth in {}",
        stats.shots + stats.duplicates,
        stats.noisy,
        stats.duplicates,
        stats.eligible,
        stats.citizens,
        args.out.display(),
        args.truth.display()
    );
    Ok(())
}

/// `vaxtrace import vaccinations`.
#[derive(Debug, Clone, Args)]
pub struct ImportShotsArgs {
    /// CSV with header `source,source_record_id,personal_id,full_name,birth_date,sex,phone,`
    /// `commune_code,vaccine_code,dose_number,administered_at,site_code,lot` (`personal_id` may be empty).
    pub file: PathBuf,
    #[command(flatten)]
    pub db: Db,
    /// Where unusable rows are described (line, column, reason). Default: FILE.rejects.csv.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Rows matched and stored per transaction.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub stats_json: Option<PathBuf>,
    #[arg(long)]
    pub no_progress: bool,
    /// Auto-link threshold (bits of evidence).
    #[arg(long, default_value_t = Thresholds::default().auto)]
    pub auto_threshold: f64,
    /// Review threshold: below it a record is unmatched.
    #[arg(long, default_value_t = Thresholds::default().review)]
    pub review_threshold: f64,
    /// Store every row as unmatched without looking at the registry: only for measuring what
    /// matching costs (`vaxtrace bench match`).
    #[arg(long, hide = true)]
    pub skip_matching: bool,
}

pub async fn import(args: &ImportShotsArgs) -> anyhow::Result<()> {
    if args.review_threshold > args.auto_threshold {
        bail!("--review-threshold must not exceed --auto-threshold");
    }
    let store = open_store(&args.db).await?;
    let rejects = args
        .rejects
        .clone()
        .unwrap_or_else(|| crate::default_rejects(&args.file));
    let opts = ShotImportOptions {
        batch_size: args.batch_size as usize,
        rejects: rejects.clone(),
        progress: !args.no_progress,
        thresholds: Thresholds {
            auto: args.auto_threshold,
            review: args.review_threshold,
            ..Thresholds::default()
        },
        skip_matching: args.skip_matching,
    };
    let report = import_vaccinations(store, &args.file, &opts).await?;
    print_report(&report, &rejects);
    if let Some(path) = &args.stats_json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn print_report(r: &ShotImportReport, rejects: &Path) {
    println!(
        "read {} rows in {:.1} s ({:.0} rows/s): {} new ({} auto-linked, {} to review, {} unmatched, {} duplicates), {} already stored, {} conflicting replays kept aside, {} rejected{}",
        r.rows,
        r.seconds,
        r.rows_per_second,
        r.inserted,
        r.auto,
        r.review,
        r.unmatched,
        r.duplicate,
        r.replayed,
        r.conflicts,
        r.rejected,
        if r.rejected > 0 {
            format!(" (see {})", rejects.display())
        } else {
            String::new()
        }
    );
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Every record's link: `source,source_record_id,personal_id,decision,score`.
    Links {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn export(cmd: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Links { db, out } = cmd;
    let store = open_store(&db).await?;
    let file = File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = csv::Writer::from_writer(BufWriter::new(file));
    w.write_record([
        "source",
        "source_record_id",
        "personal_id",
        "decision",
        "score",
    ])?;
    let (mut after, mut n) = (0, 0u64);
    loop {
        let page = store.link_page(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in &page {
            // A record in review suggests its best candidate.
            let suggested = r
                .personal_id
                .or_else(|| r.candidate_ids().first().copied())
                .map(|p| p.to_string());
            w.write_record([
                r.source.as_str(),
                &r.source_record_id,
                &suggested.unwrap_or_default(),
                r.decision.code(),
                &r.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
            ])?;
            n += 1;
        }
    }
    w.flush()?;
    store
        .append_audit(vec![cli_audit(
            "links.export",
            None,
            "vaccination_record",
            format!("rows={n}"),
        )])
        .await?;
    println!("wrote {n} links to {}", out.display());
    Ok(())
}

/// Matching quality of the stored links against a generator's ground truth.
#[derive(Debug, Default, serde::Serialize, PartialEq)]
pub struct LinkQuality {
    pub records: u64,
    pub auto: u64,
    pub auto_correct: u64,
    pub review: u64,
    pub review_with_truth_first: u64,
    pub unmatched: u64,
    /// Linked automatically, then found to repeat an earlier record of the same dose.
    pub duplicate: u64,
    pub duplicate_correct: u64,
    /// Correct automatic links (auto and duplicate) / automatic links.
    pub auto_precision: f64,
    /// (Correct auto-links + review records) / records with a true citizen.
    pub found_or_queued: f64,
}

pub fn link_quality(links: &Path, truth: &Path) -> anyhow::Result<LinkQuality> {
    let mut truth_by_key: HashMap<(String, String), String> = HashMap::new();
    let mut t = csv::Reader::from_path(truth)
        .with_context(|| format!("cannot open {}", truth.display()))?;
    for row in t.records() {
        let row = row?;
        truth_by_key.insert((row[0].to_owned(), row[1].to_owned()), row[2].to_owned());
    }
    let mut q = LinkQuality::default();
    let mut l = csv::Reader::from_path(links)
        .with_context(|| format!("cannot open {}", links.display()))?;
    for row in l.records() {
        let row = row?;
        let Some(expected) = truth_by_key.get(&(row[0].to_owned(), row[1].to_owned())) else {
            continue;
        };
        q.records += 1;
        let right = &row[2] == expected.as_str();
        match LinkDecision::parse(&row[3]) {
            Some(LinkDecision::Auto | LinkDecision::Confirmed) => {
                q.auto += 1;
                q.auto_correct += u64::from(right);
            }
            Some(LinkDecision::Review) => {
                q.review += 1;
                q.review_with_truth_first += u64::from(right);
            }
            Some(LinkDecision::Duplicate) => {
                q.duplicate += 1;
                q.duplicate_correct += u64::from(right);
            }
            _ => q.unmatched += 1,
        }
    }
    let automatic = q.auto + q.duplicate;
    q.auto_precision = (q.auto_correct + q.duplicate_correct) as f64 / (automatic as f64).max(1.0);
    q.found_or_queued =
        (q.auto_correct + q.duplicate_correct + q.review) as f64 / (q.records as f64).max(1.0);
    Ok(q)
}

#[derive(Debug, Subcommand)]
pub enum LinkageCommand {
    /// Compare exported links (`export links`) with a generator's truth file: precision of
    /// auto-links, and the share of true matches auto-linked or queued for review.
    Quality {
        #[arg(long)]
        links: PathBuf,
        #[arg(long)]
        truth: PathBuf,
    },
}

pub fn linkage(cmd: &LinkageCommand) -> anyhow::Result<()> {
    let LinkageCommand::Quality { links, truth } = cmd;
    let q = link_quality(links, truth)?;
    println!("{}", serde_json::to_string_pretty(&q)?);
    Ok(())
}

/// The passphrase that encrypts every private key at rest.
#[derive(Debug, Clone, Args)]
pub struct Passphrase {
    /// Passphrase protecting the private keys (at least 12 characters). Prefer the environment
    /// variable: a flag is visible to other users of the machine.
    #[arg(
        long = "key-passphrase",
        env = "VAXTRACE_KEY_PASSPHRASE",
        hide_env_values = true
    )]
    pub value: String,
}

impl Passphrase {
    pub fn secret(&self) -> anyhow::Result<SecretPassphrase> {
        Ok(SecretPassphrase::new(self.value.clone())?)
    }
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create the national root CA (once; again only to replace it).
    Root {
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        passphrase: Passphrase,
        #[arg(long, default_value = "Cơ quan cấp chứng thư gốc quốc gia vaxtrace")]
        name: String,
        #[arg(long, default_value_t = 20)]
        years: i64,
    },
    /// Issue (or rotate) a province CA under the active root.
    Province {
        /// Province code (2 digits).
        code: String,
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        passphrase: Passphrase,
        #[arg(long, default_value_t = 10)]
        years: i64,
    },
    /// Issue (or rotate) a commune People's Committee signing key under its province CA.
    Commune {
        /// Commune code (5 digits).
        code: String,
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        passphrase: Passphrase,
        #[arg(long, default_value_t = 2)]
        years: i64,
    },
    /// Create (or replace) the EU DCC Country Signing CA, the anchor other countries import.
    Csca {
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        passphrase: Passphrase,
        #[arg(long, default_value = "CSCA Việt Nam - Bộ Y tế")]
        name: String,
        #[arg(long, default_value_t = 10)]
        years: i64,
    },
    /// Issue (or rotate) the EU DCC Document Signer (DSC) under the active CSCA.
    Dsc {
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        passphrase: Passphrase,
        #[arg(long, default_value = "DSC Bộ Y tế Việt Nam")]
        name: String,
        #[arg(long, default_value_t = 2)]
        years: i64,
    },
    /// Issue (or rotate) the signer of the 72-hour travel passes under the national root.
    PassSigner {
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        passphrase: Passphrase,
        #[arg(long, default_value = "Ký thẻ đi lại 72 giờ - Bộ Công an")]
        name: String,
        #[arg(long, default_value_t = 1)]
        years: i64,
    },
    /// Write the active DSC certificate (DER), for verifiers' trust lists.
    ExportDsc {
        #[command(flatten)]
        db: Db,
        /// Output file (DER).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the active CSCA certificate (DER): the trust anchor verifiers pin to check the
    /// trust list, the revocation list and the DSCs.
    ExportCsca {
        #[command(flatten)]
        db: Db,
        /// Output file (DER).
        #[arg(long)]
        out: PathBuf,
    },
    /// List keys: profile, unit, validity, fingerprint, active.
    List {
        #[command(flatten)]
        db: Db,
    },
}

async fn list_keys(db: &Db) -> anyhow::Result<()> {
    let store = open_store(db).await?;
    for k in store.keys().await? {
        println!(
            "{:>4}  {:<15} {:<6} {} – {}  {}  {}",
            k.id,
            k.profile,
            k.unit_code,
            k.not_before.date(),
            k.not_after.date(),
            if k.active { "active  " } else { "inactive" },
            k.fingerprint
        );
    }
    Ok(())
}

/// Writes the active national certificate of `profile` (DER).
async fn export_certificate(
    db: &Db,
    profile: CertProfile,
    command: &str,
    out: &std::path::Path,
    now: time::OffsetDateTime,
) -> anyhow::Result<()> {
    let store = open_store(db).await?;
    let key = signing::active_key(store.as_ref(), "VN", profile, now)
        .await
        .with_context(|| format!("no active {profile}: run `vaxtrace keys {command}` first"))?;
    std::fs::write(out, &key.certificate)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!("wrote {profile} {} to {}", key.fingerprint, out.display());
    Ok(())
}

pub(crate) async fn issue_and_activate(
    store: &Arc<dyn Store>,
    key: IssuedKey,
    issuer_id: Option<i64>,
) -> anyhow::Result<i64> {
    let id = store
        .insert_key(NewKey {
            profile: key.profile.as_str().to_owned(),
            unit_code: key.unit_code.clone(),
            fingerprint: key.fingerprint.clone(),
            certificate: key.certificate_der.clone(),
            encrypted_private_key: key.encrypted_private_key.clone(),
            issuer_id,
            not_before: key.not_before,
            not_after: key.not_after,
        })
        .await?;
    store.activate_key(id).await?;
    store
        .append_audit(vec![cli_audit(
            "keys.issue",
            None,
            "vaccination_record",
            format!(
                "{} {} {}",
                key.profile.as_str(),
                key.unit_code,
                key.fingerprint
            ),
        )])
        .await?;
    println!(
        "issued {} for {} (key {id}), valid {} – {}, fingerprint {}",
        key.profile,
        key.unit_code,
        key.not_before.date(),
        key.not_after.date(),
        key.fingerprint
    );
    Ok(id)
}

/// The province of a commune, from the administrative-unit catalogue.
fn province_of(commune: &str) -> Option<String> {
    admin_units()
        .lineage(commune)
        .last()
        .map(|u| u.code.to_owned())
}

fn unit_name(code: &str, level: UnitLevel) -> anyhow::Result<&'static str> {
    match admin_units().get(code) {
        Some(u) if u.level == level => Ok(u.full_name),
        _ => bail!("'{code}' is not a {level:?} code"),
    }
}

/// Issues a province CA (under the active root) or a commune signer (under its province's active
/// CA) and makes it the unit's active key; the previous one stays for verifying old signatures.
/// The key is valid from `now`, so a caller that looks it up at the same instant finds it.
pub(crate) async fn issue_under(
    store: &Arc<dyn Store>,
    passphrase: &Passphrase,
    profile: CertProfile,
    code: &str,
    years: i64,
    now: OffsetDateTime,
) -> anyhow::Result<i64> {
    let (level, issuer_unit, issuer_profile, label) = match profile {
        CertProfile::ProvinceCa => (
            UnitLevel::Province,
            "VN".to_owned(),
            CertProfile::NationalRoot,
            "CA",
        ),
        _ => (
            UnitLevel::Commune,
            province_of(code).unwrap_or_default(),
            CertProfile::ProvinceCa,
            "UBND",
        ),
    };
    let name = unit_name(code, level)?;
    let secret = passphrase.secret()?;
    let issuer = signing::active_key(store.as_ref(), &issuer_unit, issuer_profile, now)
        .await
        .with_context(|| match issuer_profile {
            CertProfile::NationalRoot => "no active national root: run `vaxtrace keys root` first".to_owned(),
            _ => format!("no active CA for province {issuer_unit}: run `vaxtrace keys province {issuer_unit}` first"),
        })?;
    let key = vaxtrace_cert::issue(
        &issued_key(&issuer)?,
        &secret,
        profile,
        code,
        &format!("{label} {name}"),
        now,
        (now + Duration::days(365 * years)).min(issuer.not_after),
        &secret,
        &province_of,
    )?;
    issue_and_activate(store, key, Some(issuer.id)).await
}

/// Creates (or replaces) the country signing CA of the EU DCC hierarchy.
async fn issue_csca(
    store: &Arc<dyn Store>,
    passphrase: &Passphrase,
    name: &str,
    years: i64,
) -> anyhow::Result<i64> {
    let now = OffsetDateTime::now_utc();
    let key = vaxtrace_cert::create_csca(
        name,
        now,
        now + Duration::days(365 * years),
        &passphrase.secret()?,
    )?;
    issue_and_activate(store, key, None).await
}

/// Issues (or rotates) the document signer of certificates under the active CSCA.
/// Issues a national leaf key (DSC under the CSCA, pass signer under the national root).
async fn issue_national_leaf(
    store: &Arc<dyn Store>,
    passphrase: &Passphrase,
    profile: CertProfile,
    name: &str,
    years: i64,
) -> anyhow::Result<i64> {
    let now = OffsetDateTime::now_utc();
    let secret = passphrase.secret()?;
    let issuer_profile = profile.issuer().context("not a leaf profile")?;
    let command = if issuer_profile == CertProfile::Csca {
        "csca"
    } else {
        "root"
    };
    let issuer = signing::active_key(store.as_ref(), "VN", issuer_profile, now)
        .await
        .with_context(|| {
            format!("no active {issuer_profile}: run `vaxtrace keys {command}` first")
        })?;
    let until = (now + Duration::days(365 * years)).min(issuer.not_after);
    let key = vaxtrace_cert::issue(
        &issued_key(&issuer)?,
        &secret,
        profile,
        "VN",
        name,
        now,
        until,
        &secret,
        &|_| None,
    )?;
    issue_and_activate(store, key, Some(issuer.id)).await
}

pub async fn keys(cmd: KeysCommand) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    match cmd {
        KeysCommand::Root {
            db,
            passphrase,
            name,
            years,
        } => {
            let store = open_store(&db).await?;
            let key = vaxtrace_cert::create_root(
                &name,
                now,
                now + Duration::days(365 * years),
                &passphrase.secret()?,
            )?;
            issue_and_activate(&store, key, None).await?;
        }
        KeysCommand::Province {
            code,
            db,
            passphrase,
            years,
        } => {
            let store = open_store(&db).await?;
            issue_under(
                &store,
                &passphrase,
                CertProfile::ProvinceCa,
                &code,
                years,
                OffsetDateTime::now_utc(),
            )
            .await?;
        }
        KeysCommand::Commune {
            code,
            db,
            passphrase,
            years,
        } => {
            let store = open_store(&db).await?;
            issue_under(
                &store,
                &passphrase,
                CertProfile::CommuneSigner,
                &code,
                years,
                OffsetDateTime::now_utc(),
            )
            .await?;
        }
        KeysCommand::Csca {
            db,
            passphrase,
            name,
            years,
        } => {
            let store = open_store(&db).await?;
            issue_csca(&store, &passphrase, &name, years).await?;
        }
        KeysCommand::Dsc {
            db,
            passphrase,
            name,
            years,
        } => {
            let store = open_store(&db).await?;
            issue_national_leaf(
                &store,
                &passphrase,
                CertProfile::DocumentSigner,
                &name,
                years,
            )
            .await?;
        }
        KeysCommand::PassSigner {
            db,
            passphrase,
            name,
            years,
        } => {
            let store = open_store(&db).await?;
            issue_national_leaf(&store, &passphrase, CertProfile::PassSigner, &name, years).await?;
        }
        KeysCommand::ExportDsc { db, out } => {
            export_certificate(&db, CertProfile::DocumentSigner, "dsc", &out, now).await?;
        }
        KeysCommand::ExportCsca { db, out } => {
            export_certificate(&db, CertProfile::Csca, "csca", &out, now).await?;
        }
        KeysCommand::List { db } => list_keys(&db).await?,
    }
    Ok(())
}

/// `vaxtrace verify-record`.
#[derive(Debug, Clone, Args)]
pub struct VerifyRecordArgs {
    /// The record ID.
    pub id: i64,
    #[command(flatten)]
    pub db: Db,
}

pub async fn verify_record(args: &VerifyRecordArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db).await?;
    let record = store
        .shot_record(args.id)
        .await?
        .with_context(|| format!("no vaccination record {}", args.id))?;
    let check = signing::check_record(store.as_ref(), &record).await?;
    println!("{}", serde_json::to_string_pretty(&check)?);
    if !check.valid {
        bail!(
            "record {} signature is not valid: {}",
            args.id,
            check.problem.as_deref().unwrap_or("unknown")
        );
    }
    Ok(())
}

/// The demo's vaccination records: synthetic shots with noise for the demo population, matched
/// and stored like any import. Skipped when records exist.
pub async fn load_demo_vaccinations(
    store: &Arc<dyn Store>,
    province: &str,
    citizens: u64,
    seed: u64,
) -> anyhow::Result<()> {
    if !store.link_page(0, 1).await?.is_empty() {
        println!("vaccination records already loaded: reusing them");
        return Ok(());
    }
    println!("generating and matching synthetic vaccination records …");
    let dir = tempfile::tempdir()?;
    let (people, shots, truth) = (
        dir.path().join("citizens.csv"),
        dir.path().join("shots.csv"),
        dir.path().join("truth.csv"),
    );
    let population = crate::synth::Population::new(province, citizens, seed)?;
    crate::import::write_csv(&people, population, &indicatif::ProgressBar::hidden())?;
    generate(&GenerateShotsArgs {
        citizens: people,
        seed,
        coverage_dose1: 0.97,
        coverage_dose2: 0.63,
        booster: 0.1,
        noise: 0.05,
        duplicates: 0.02,
        out: shots.clone(),
        truth,
        report_day: None,
        kien_giang_2021_11_23: false,
    })?;
    let opts = ShotImportOptions {
        batch_size: 5_000,
        rejects: dir.path().join("rejects.csv"),
        progress: true,
        thresholds: Thresholds::default(),
        skip_matching: false,
    };
    let report = import_vaccinations(Arc::clone(store), &shots, &opts).await?;
    print_report(&report, &opts.rejects);
    Ok(())
}

/// The demo's keys (root, the province's CA, the demo commune's signer; CSCA and DSC) under one
/// generated passphrase kept in a private file beside the database; returns the passphrase.
pub async fn ensure_demo_keys(
    store: &Arc<dyn Store>,
    province: &str,
    commune: &str,
    passphrase_file: &Path,
    given: Option<&str>,
) -> anyhow::Result<String> {
    // A passphrase the operator gave (VAXTRACE_KEY_PASSPHRASE) is the one the server will use,
    // so the demo's keys are made with it; otherwise one is kept beside the database.
    let text = if let Some(given) = given {
        given.to_owned()
    } else if let Ok(t) = std::fs::read_to_string(passphrase_file) {
        t.trim().to_owned()
    } else {
        let t = crate::commands::random_password() + &crate::commands::random_password();
        crate::commands::write_private(passphrase_file, &(t.clone() + "\n"))?;
        t
    };
    let pass = Passphrase { value: text };
    let now = OffsetDateTime::now_utc();
    let has = |unit: String, profile: CertProfile| {
        let store = Arc::clone(store);
        async move {
            signing::active_key(store.as_ref(), &unit, profile, now)
                .await
                .is_ok()
        }
    };
    if !has("VN".into(), CertProfile::NationalRoot).await {
        let key = vaxtrace_cert::create_root(
            "Cơ quan cấp chứng thư gốc quốc gia vaxtrace (demo)",
            now,
            now + Duration::days(365 * 20),
            &pass.secret()?,
        )?;
        issue_and_activate(store, key, None).await?;
    }
    if !has(province.to_owned(), CertProfile::ProvinceCa).await {
        issue_under(store, &pass, CertProfile::ProvinceCa, province, 10, now).await?;
    }
    if !has(commune.to_owned(), CertProfile::CommuneSigner).await {
        issue_under(store, &pass, CertProfile::CommuneSigner, commune, 2, now).await?;
    }
    if !has("VN".into(), CertProfile::Csca).await {
        issue_csca(store, &pass, "CSCA Việt Nam (demo)", 10).await?;
    }
    if !has("VN".into(), CertProfile::DocumentSigner).await {
        issue_national_leaf(
            store,
            &pass,
            CertProfile::DocumentSigner,
            "DSC Bộ Y tế (demo)",
            2,
        )
        .await?;
    }
    if !has("VN".into(), CertProfile::PassSigner).await {
        let name = "Ký thẻ đi lại 72 giờ (demo)";
        issue_national_leaf(store, &pass, CertProfile::PassSigner, name, 1).await?;
    }
    let root = signing::active_key(store.as_ref(), "VN", CertProfile::NationalRoot, now).await?;
    let root = signing::issued_key(&root)?;
    if vaxtrace_cert::SigningKey::unlock(&root, &pass.secret()?).is_err() {
        bail!(
            "the demo keys in this database were made with another passphrase: {}",
            if given.is_some() {
                "unset VAXTRACE_KEY_PASSPHRASE (or --key-passphrase), or use a new database"
            } else {
                "give it with VAXTRACE_KEY_PASSPHRASE, or use a new database"
            }
        );
    }
    Ok(pass.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxtrace_store::testing::TestDb;

    /// `vaccination sign` creates a missing commune key and looks it up at the instant it took
    /// at the start; the key must be valid from that instant even late in a second (a key dated
    /// from a later clock reading was missed whenever the run crossed a second boundary).
    #[tokio::test]
    async fn a_key_issued_at_an_instant_is_active_at_that_instant() {
        let db = TestDb::new(vaxtrace_store::Backend::Sqlite)
            .await
            .unwrap()
            .unwrap();
        let store = open_store(&Db {
            database_url: db.url.clone(),
            sqlite_cache_mib: None,
        })
        .await
        .unwrap();
        let pass = Passphrase {
            value: "mật khẩu khóa ký thử nghiệm".into(),
        };
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(999_999_999)
            .unwrap();
        let root = vaxtrace_cert::create_root(
            "Gốc thử nghiệm",
            now,
            now + Duration::days(365 * 20),
            &pass.secret().unwrap(),
        )
        .unwrap();
        issue_and_activate(&store, root, None).await.unwrap();
        issue_under(&store, &pass, CertProfile::ProvinceCa, "91", 10, now)
            .await
            .unwrap();
        let id = issue_under(&store, &pass, CertProfile::CommuneSigner, "30730", 2, now)
            .await
            .unwrap();
        let (found, _) =
            signing::commune_signer(store.as_ref(), "30730", &pass.secret().unwrap(), now)
                .await
                .unwrap();
        assert_eq!(found, id);
    }
}
