//! The subcommands that are not benchmarks.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use time::OffsetDateTime;
use vaxtrace_domain::{Jurisdiction, Role, UnitLevel, admin_units};
use vaxtrace_server::{AppState, ServerConfig, accounts};
use vaxtrace_store::{Store, redact_url};

use crate::import::{ImportOptions, import_citizens, write_batch, write_csv};
use crate::synth::{Population, REFERENCE_DAY};
use crate::{Db, ServeArgs, default_rejects};

/// An audit entry for work done from the command line (the operator is the machine's user).
pub(crate) fn cli_audit(
    action: &str,
    subject: Option<String>,
    purpose: &str,
    detail: String,
) -> vaxtrace_store::AuditEntry {
    vaxtrace_store::AuditEntry {
        at: OffsetDateTime::now_utc(),
        actor: "cli".into(),
        role: "admin".into(),
        action: action.into(),
        subject,
        purpose: purpose.into(),
        detail: Some(detail),
    }
}

pub async fn open_store(db: &Db) -> anyhow::Result<Arc<dyn Store>> {
    let options = vaxtrace_store::OpenOptions {
        sqlite_cache_mib: db.sqlite_cache_mib,
    };
    let store = vaxtrace_store::open_with(&db.database_url, &options)
        .await
        .with_context(|| format!("cannot open database {}", redact_url(&db.database_url)))?;
    store.migrate().await.context("migration failed")?;
    Ok(store)
}

pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let store = vaxtrace_store::open(&db.database_url).await?;
    let applied = store.migrate().await?;
    if applied.is_empty() {
        println!("database is up to date");
    } else {
        println!("applied migrations: {}", applied.join(", "));
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return ctrl_c.await.unwrap_or(());
        };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
    tracing::info!("shutting down: finishing in-flight requests");
}

fn server_config(args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let key_passphrase = match &args.key_passphrase {
        Some(p) => Some(Arc::new(vaxtrace_cert::SecretPassphrase::new(p.clone())?)),
        None => None,
    };
    Ok(ServerConfig {
        session_ttl: Duration::from_secs(args.session_minutes * 60),
        cookie_secure: args.cookie_secure,
        key_passphrase,
        movement_retention_days: args.movement_retention_days,
        sms: sms_sender(args)?,
        ..ServerConfig::default()
    })
}

/// TLS to the gateway, except an adapter on this machine (exactly loopback, not a look-alike
/// host such as `localhost.example`).
fn gateway_url_allowed(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

#[cfg(test)]
mod gateway_tests {
    #[test]
    fn only_tls_or_exact_loopback() {
        let good = [
            "https://sms.example.vn/send",
            "http://127.0.0.1:9000/send",
            "http://localhost/x",
            "http://[::1]:80",
        ];
        for ok in good {
            assert!(super::gateway_url_allowed(ok), "{ok}");
        }
        let bad = [
            "http://localhost.evil.com/send",
            "http://127.0.0.1.evil.com",
            "http://sms.example.vn",
            "ftp://localhost",
            "http://localhost:80@evil.com/",
        ];
        for url in bad {
            assert!(!super::gateway_url_allowed(url), "{url}");
        }
    }
}

fn sms_sender(args: &ServeArgs) -> anyhow::Result<Arc<dyn vaxtrace_server::sms::SmsSender>> {
    let Some(url) = &args.sms_gateway_url else {
        tracing::warn!(
            outbox = %args.sms_outbox.display(),
            "no SMS gateway: one-time codes are written to the development outbox"
        );
        return Ok(Arc::new(vaxtrace_server::sms::OutboxSms::new(
            args.sms_outbox.clone(),
        )));
    };
    anyhow::ensure!(
        gateway_url_allowed(url),
        "--sms-gateway-url must be https:// (plain http only to 127.0.0.1 or localhost)"
    );
    let token = args.sms_gateway_token.clone();
    Ok(Arc::new(vaxtrace_server::sms::HttpGatewaySms::new(
        url.clone(),
        token,
    )))
}

#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    pub db: Db,
    /// Delete what is older than this many days.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
}

/// `vaxtrace retention`: the hourly purge of `serve`, run once.
pub async fn retention(args: &RetentionArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db).await?;
    let state = vaxtrace_server::AppState::new(store, ServerConfig::default());
    let (purged, checkins) = vaxtrace_server::declarations::purge_expired(&state, args.days)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message_en))?;
    println!(
        "deleted {} declarations, {} inbox entries, {} checkpoint scans, {} check-in day \
         partitions and {} check-ins older than {} days",
        purged.declarations,
        purged.inbox_entries,
        purged.scans,
        checkins.partitions_dropped,
        checkins.rows_deleted,
        args.days
    );
    Ok(())
}

/// The standby for read-only work: never migrated from here (a standby refuses writes). It must
/// be a hot standby of the primary's cluster and already have every migration, or its answers
/// would not be the primary's.
async fn open_read_store(primary: &dyn Store, url: &str) -> anyhow::Result<Arc<dyn Store>> {
    const STREAMING: &str =
        "--read-database-url needs PostgreSQL streaming replication: both URLs must be postgres://";
    let shown = redact_url(url);
    // Checked before opening: opening a SQLite path would create the file.
    if !url.starts_with("postgres") {
        bail!(STREAMING);
    }
    let store = vaxtrace_store::open(url)
        .await
        .with_context(|| format!("cannot open the read database {shown}"))?;
    let (Some(ours), Some(theirs)) = (
        primary.cluster_identity().await?,
        store
            .cluster_identity()
            .await
            .with_context(|| format!("cannot identify the cluster of {shown} (the role needs EXECUTE on pg_control_system())"))?,
    ) else {
        bail!(STREAMING);
    };
    if theirs.system_identifier != ours.system_identifier {
        bail!("the read database {shown} is not a standby of --database-url (another cluster)");
    }
    if !theirs.in_recovery {
        bail!("the read database {shown} is not a hot standby (it is not in recovery)");
    }
    let pending = store
        .pending_migrations()
        .await
        .with_context(|| format!("cannot read the migrations of {shown}"))?;
    if !pending.is_empty() {
        bail!(
            "the read database {shown} lacks migrations {}: is it the same database as \
             --database-url, and has it caught up?",
            pending.join(", ")
        );
    }
    tracing::info!(read_database = %shown, "read-only work goes to the read database");
    Ok(store)
}

async fn run_server(
    args: &ServeArgs,
    store: Arc<dyn Store>,
    banner: impl FnOnce(&str),
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let read_store = match &args.read_database_url {
        Some(url) => Some(open_read_store(store.as_ref(), url).await?),
        None => None,
    };
    let url = format!("http://{}", listener.local_addr()?);
    banner(&url);
    tracing::info!(%url, backend = ?store.backend(), "serving");
    let mut state = AppState::new(store, server_config(args)?);
    if let Some(read_store) = read_store {
        state = state.with_read_store(read_store);
    }
    vaxtrace_server::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db).await?;
    run_server(&args, store, |url| println!("vaxtrace listening on {url}")).await
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input (one line, at least 10 characters).
    Add {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        username: String,
        /// One of: admin, `ministry_analyst`, `province_health`, `district_health`, `commune_health`,
        /// `commune_police`, `commune_signer`, `vaccination_site`, `checkpoint_officer`, `venue_owner`, citizen.
        #[arg(long)]
        role: String,
        /// `VN` for national, or a province (2 digits), district (3) or commune (5) code.
        #[arg(long)]
        jurisdiction: String,
    },
}

pub async fn user(cmd: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        db,
        username,
        role,
        jurisdiction,
    } = cmd;
    let role: Role = role.parse()?;
    let jurisdiction = Jurisdiction::parse(&jurisdiction)?;
    jurisdiction.check_role(role)?;
    if std::io::stdin().is_terminal() {
        eprintln!(
            "password (one line, at least {} characters):",
            accounts::MIN_PASSWORD_CHARS
        );
    }
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("cannot read the password from stdin")?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        bail!("no password on standard input");
    }
    let store = open_store(&db).await?;
    let id = accounts::add_user(store.as_ref(), &username, password, role, jurisdiction)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message_en))?;
    println!(
        "created user {username} (id {id}, role {role}, jurisdiction {})",
        jurisdiction.code()
    );
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Write a deterministic synthetic population of one province as an import CSV.
    Citizens {
        /// Province GSO code (2 digits), e.g. 91 for Kiên Giang.
        #[arg(long)]
        province: String,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write synthetic shot reports for a generated population, with realistic noise and a
    /// ground-truth file for measuring matching quality.
    Vaccinations(crate::vaccination_commands::GenerateShotsArgs),
}

pub(crate) fn count_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// A spinner with the elapsed time, for work whose size is not known ahead; hidden when stderr is
/// not a terminal.
pub(crate) fn spinner(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

pub fn generate(cmd: GenerateCommand) -> anyhow::Result<()> {
    let (province, count, seed, out) = match cmd {
        GenerateCommand::Citizens {
            province,
            count,
            seed,
            out,
        } => (province, count, seed, out),
        GenerateCommand::Vaccinations(args) => {
            return crate::vaccination_commands::generate(&args);
        }
    };
    let population = Population::new(&province, count, seed)?;
    let bar = count_bar(count);
    let n = write_csv(&out, population, &bar)?;
    bar.finish_and_clear();
    println!(
        "wrote {n} citizens of province {province} to {}",
        out.display()
    );
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import registry rows (CSV with header: `personal_id,full_name,birth_date,sex`,
    /// `permanent_commune_code,permanent_address,temporary_commune_code,temporary_address,phone`,
    /// `legacy_id,household_id`). Re-importing updates rows, never duplicates them.
    Citizens {
        file: PathBuf,
        #[command(flatten)]
        db: Db,
        /// Where rejected rows are described (line, column, reason). Default: FILE.rejects.csv.
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Rows per transaction.
        #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        batch_size: u64,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        stats_json: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        no_progress: bool,
        /// Validate the file and write the rejects file, without touching the database.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import vaccination records and match each to the registry. Re-importing the same
    /// (`source`, `source_record_id`) never duplicates a record.
    Vaccinations(crate::vaccination_commands::ImportShotsArgs),
    /// Import declarations exported by earlier apps (`--format ncovi-jsonl` keyed by phone,
    /// `bluezone-csv` keyed by personal ID), linked to the registry so nobody declares again.
    Legacy(crate::import_legacy::ImportLegacyArgs),
    /// Import laboratory test results (CSV: `personal_id,kind,sampled_at,result,lab,lab_ref`);
    /// unknown personal IDs and bad rows go to the rejects file, repeats are not stored twice.
    Tests(crate::import_tests::ImportTestsArgs),
    /// Import health-insurance cards from the social-insurance agency (CSV:
    /// `personal_id,card_number,valid_from,valid_to`); a re-import replaces each person's card.
    Insurance(crate::import_insurance::ImportInsuranceArgs),
}

pub async fn import(cmd: ImportCommand) -> anyhow::Result<()> {
    let (file, db, rejects, batch_size, stats_json, no_progress, dry_run) = match cmd {
        ImportCommand::Citizens {
            file,
            db,
            rejects,
            batch_size,
            stats_json,
            no_progress,
            dry_run,
        } => (
            file,
            db,
            rejects,
            batch_size,
            stats_json,
            no_progress,
            dry_run,
        ),
        ImportCommand::Vaccinations(args) => {
            return crate::vaccination_commands::import(&args).await;
        }
        ImportCommand::Legacy(args) => return crate::import_legacy::run(args).await,
        ImportCommand::Tests(args) => return crate::import_tests::run(args).await,
        ImportCommand::Insurance(args) => return crate::import_insurance::run(args).await,
    };
    let store = open_store(&db).await?;
    let rejects = rejects.unwrap_or_else(|| default_rejects(&file));
    let opts = ImportOptions {
        batch_size: batch_size as usize,
        rejects: rejects.clone(),
        progress: !no_progress,
        dry_run,
    };
    let report = import_citizens(store, &file, &opts).await?;
    println!(
        "{} {} rows in {:.1} s ({:.0} rows/s): {} new, {} updated, {} unchanged, {} rejected{}",
        if dry_run {
            "checked (dry run, nothing written)"
        } else {
            "imported"
        },
        report.rows,
        report.seconds,
        report.rows_per_second,
        report.inserted,
        report.updated,
        report.unchanged,
        report.rejected,
        if report.rejected > 0 {
            format!(" (see {})", rejects.display())
        } else {
            String::new()
        }
    );
    if let Some(path) = stats_json {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit log's hash chain; exit 0 only when it is intact.
    Verify {
        #[command(flatten)]
        db: Db,
    },
}

pub async fn audit(cmd: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { db } = cmd;
    let store = open_store(&db).await?;
    let v = store.verify_audit().await?;
    match v.first_broken {
        None => {
            println!(
                "audit chain intact: {} entries, head {}",
                v.entries,
                v.head.as_deref().unwrap_or("(empty)")
            );
            Ok(())
        }
        Some(seq) => bail!("audit chain broken at entry {seq} (entries before it verify)"),
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Size of the synthetic population loaded into an empty registry.
    #[arg(long, default_value_t = 200_000)]
    citizens: u64,
    /// Province of the synthetic population (2-digit code; 91 = Kiên Giang).
    #[arg(long, default_value = "91")]
    province: String,
    #[arg(long, default_value_t = 2021)]
    seed: u64,
    /// Set everything up, print the logins, but do not start the server.
    #[arg(long)]
    no_serve: bool,
}

fn logins_file(database_url: &str) -> PathBuf {
    match database_url.strip_prefix("sqlite:") {
        Some(path) => PathBuf::from(format!("{path}.demo-logins.txt")),
        None => PathBuf::from("vaxtrace-demo-logins.txt"),
    }
}

pub(crate) fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY345679";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

async fn load_demo_population(store: &Arc<dyn Store>, args: &DemoArgs) -> anyhow::Result<()> {
    if store.count_citizens().await? > 0 {
        println!("registry already has citizens: reusing it");
        return Ok(());
    }
    println!(
        "loading {} synthetic citizens of province {} …",
        args.citizens, args.province
    );
    let bulk = store.begin_bulk_load().await?;
    let bar = count_bar(args.citizens);
    let mut batch = Vec::with_capacity(50_000);
    let today = OffsetDateTime::now_utc().date();
    for input in Population::new(&args.province, args.citizens, args.seed)? {
        batch.push(input.parse(today)?);
        if batch.len() == 50_000 {
            write_batch(store.as_ref(), bulk, std::mem::take(&mut batch)).await?;
            bar.inc(50_000);
        }
    }
    write_batch(store.as_ref(), bulk, batch).await?;
    if bulk {
        store.finish_bulk_load().await?;
    }
    bar.finish_and_clear();
    Ok(())
}

/// The demo's officers: one per role, bound to the synthetic province or its first commune.
fn demo_users(province: &str) -> anyhow::Result<Vec<(String, Role, Jurisdiction)>> {
    let units = admin_units();
    let commune = units
        .communes_of_province(province)
        .first()
        .map(|u| u.code)
        .context("province has no communes")?;
    let district = units
        .get(commune)
        .map(|u| u.parent)
        .context("commune without district")?;
    let j = |code: &str| Jurisdiction::parse(code);
    Ok(vec![
        ("admin".into(), Role::Admin, Jurisdiction::National),
        (
            "bo.phantich".into(),
            Role::MinistryAnalyst,
            Jurisdiction::National,
        ),
        (
            format!("yte.tinh{province}"),
            Role::ProvinceHealth,
            j(province)?,
        ),
        (
            format!("yte.huyen{district}"),
            Role::DistrictHealth,
            j(district)?,
        ),
        (
            format!("tramyte.xa{commune}"),
            Role::CommuneHealth,
            j(commune)?,
        ),
        (
            format!("congan.xa{commune}"),
            Role::CommunePolice,
            j(commune)?,
        ),
        (
            format!("ubnd.xa{commune}"),
            Role::CommuneSigner,
            j(commune)?,
        ),
        (
            format!("diemtiem.xa{commune}"),
            Role::VaccinationSite,
            j(commune)?,
        ),
        (
            format!("chot.tinh{province}"),
            Role::CheckpointOfficer,
            j(province)?,
        ),
        (
            format!("diadiem.xa{commune}"),
            Role::VenueOwner,
            j(commune)?,
        ),
    ])
}

async fn ensure_demo_users(
    store: &Arc<dyn Store>,
    args: &DemoArgs,
    file: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut lines: Vec<String> = std::fs::read_to_string(file)
        .map(|s| s.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    for (username, role, jurisdiction) in demo_users(&args.province)? {
        if store.user_by_username(&username).await?.is_some() {
            continue;
        }
        let password = random_password();
        accounts::add_user(store.as_ref(), &username, &password, role, jurisdiction)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message_en))?;
        lines.push(format!(
            "{username:<22} {password:<18} {role} @ {}",
            jurisdiction.code()
        ));
    }
    write_private(file, &(lines.join("\n") + "\n"))?;
    Ok(lines)
}

/// The demo venue owner's market, so `/venues` has a poster to print and `/checkin` a code.
async fn ensure_demo_venue(store: &Arc<dyn Store>, commune: &str) -> anyhow::Result<()> {
    let owner = format!("diadiem.xa{commune}");
    if !store.venues_by_owner(&owner).await?.is_empty() {
        return Ok(());
    }
    let name = admin_units().get(commune).map_or(commune, |u| u.name);
    store
        .insert_venue(vaxtrace_store::NewVenue {
            name: format!("Chợ {name}"),
            kind: "market".into(),
            commune_code: commune.to_owned(),
            address: "Đường chợ".into(),
            latitude: None,
            longitude: None,
            stay_minutes: vaxtrace_trace::VenueKind::Market.default_stay_minutes(),
            owner,
            created_at: time::OffsetDateTime::now_utc(),
        })
        .await?;
    Ok(())
}

pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Every commune of the demo province but the demo signer's signs its verified records, so the
/// dashboards have numbers while the demo commune's records wait at /signing.
async fn sign_other_communes(
    store: &Arc<dyn Store>,
    province: &str,
    first_commune: &str,
    passphrase: &str,
) -> anyhow::Result<()> {
    let others: Vec<&str> =
        vaxtrace_analytics::area::Area::of(admin_units().get(province).map_or("91", |u| u.code))
            .residence_units()
            .into_iter()
            .filter(|c| {
                *c != first_commune
                    && admin_units()
                        .get(c)
                        .is_some_and(|u| u.level == UnitLevel::Commune)
            })
            .collect();
    let key_pass = crate::vaccination_commands::Passphrase {
        value: passphrase.to_owned(),
    };
    let (signed, _) =
        crate::analytics_commands::sign_communes(store, &key_pass, &others, true).await?;
    if signed > 0 {
        println!("signed {signed} verified records in the other communes of the province");
    }
    Ok(())
}

pub async fn demo(mut args: DemoArgs) -> anyhow::Result<()> {
    let store = open_store(&args.serve.db).await?;
    load_demo_population(&store, &args).await?;
    crate::vaccination_commands::load_demo_vaccinations(
        &store,
        &args.province,
        args.citizens,
        args.seed,
    )
    .await?;
    let first_commune = admin_units()
        .communes_of_province(&args.province)
        .first()
        .map(|u| u.code)
        .context("province has no communes")?;
    let passphrase_file = match args.serve.db.database_url.strip_prefix("sqlite:") {
        Some(path) => PathBuf::from(format!("{path}.demo-key-passphrase")),
        None => PathBuf::from("vaxtrace-demo-key-passphrase"),
    };
    let passphrase = crate::vaccination_commands::ensure_demo_keys(
        &store,
        &args.province,
        first_commune,
        &passphrase_file,
        args.serve.key_passphrase.as_deref(),
    )
    .await?;
    sign_other_communes(&store, &args.province, first_commune, &passphrase).await?;
    if args.serve.key_passphrase.is_none() {
        args.serve.key_passphrase = Some(passphrase);
    }
    // One checkpoint at the entrance of the demo province, for /checkpoint.
    let province_name = admin_units()
        .get(&args.province)
        .map_or(args.province.as_str(), |u| u.full_name);
    store
        .upsert_checkpoint(vaxtrace_store::Checkpoint {
            code: format!("CHOT-{}-1", args.province),
            name: format!("Chốt kiểm soát cửa ngõ {province_name}"),
            commune_code: first_commune.to_owned(),
            latitude: None,
            longitude: None,
        })
        .await?;
    let file = logins_file(&args.serve.db.database_url);
    let logins = ensure_demo_users(&store, &args, &file).await?;
    ensure_demo_venue(&store, first_commune).await?;
    let commune = admin_units().communes_of_province(&args.province)[0];
    let samples: Vec<_> = Population::new(&args.province, args.citizens.min(20_000), args.seed)?
        .filter(|c| c.permanent_commune_code == commune.code)
        .take(2)
        .collect();
    let (citizens, shown_url) = (args.citizens, redact_url(&args.serve.db.database_url));
    let outbox = args
        .serve
        .sms_gateway_url
        .is_none()
        .then(|| args.serve.sms_outbox.display().to_string());
    let banner = move |url: &str| {
        println!("\nvaxtrace demo — {citizens} citizens in {shown_url}");
        println!("Demo logins (also in {}):", file.display());
        for line in &logins {
            println!("  {line}");
        }
        println!(
            "Synthetic citizens of {} ({}) to try:",
            commune.full_name, commune.code
        );
        for c in &samples {
            println!("  {}  {}  {}", c.personal_id, c.full_name, c.birth_date);
        }
        println!("Data era: ages are relative to {REFERENCE_DAY}.");
        println!(
            "Pages: /review (tramyte…), /signing (ubnd…), /history (print a certificate), \
             /scan (chot…: check a certificate QR), /declare (any login: travel declaration and \
             72-hour pass), /checkpoint (chot…), /inbox (congan…), /venues (diadiem…: check-in poster), /checkin \
             (any login), /cases (yte…: F0 timeline, F1/F2 tracing), /analytics, /supervision and \
             /flows (bo.phantich, yte.tinh…: coverage map, verification work, travel flows)"
        );
        println!(
            "Verifiers: {url}/api/v1/trust-list and {url}/api/v1/revocation-list, signed by the \
             CSCA (`vaxtrace keys export-csca --out csca.der`)"
        );
        if let Some(outbox) = &outbox {
            println!(
                "Citizen app: {url}/app — sign up with a citizen above and any phone number; no \
                 SMS is sent in the demo, the one-time code is written to {outbox}"
            );
        }
        println!("\nOpen {url}/login   (Ctrl-C to stop)");
    };
    if args.no_serve {
        banner("http://(not started)");
        return Ok(());
    }
    run_server(&args.serve, store, banner).await
}
