//! `vaxtrace`: the command line of the vaxtrace system. Each subcommand parses its flags (and
//! `VAXTRACE_*` environment variables), then calls the library crates; failures print one line and
//! exit non-zero.

mod analytics_commands;
mod backup_commands;
mod bench;
mod bench_cert;
mod bench_coverage;
mod bench_declare;
mod bench_match;
mod bench_soak;
mod bench_trace;
mod cert_commands;
mod commands;
mod dcc_commands;
mod dcc_refresh;
pub mod fuzzing;
mod import;
mod import_insurance;
mod import_legacy;
mod import_shots;
mod import_tests;
mod synth;
mod synth_shots;
mod vaccination_commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "vaxtrace",
    version,
    about = "COVID-19 vaccination records and movement control on the national population registry",
    long_about = "vaxtrace keeps the population registry, identity verification, access control and the audit log.\n\
        Start with `vaxtrace demo`, which creates vaxtrace.db, loads a synthetic province and serves the web UI."
)]
pub struct Cli {
    /// Log filter (tracing syntax), e.g. `info` or `vaxtrace_server=debug`.
    #[arg(long, global = true, env = "VAXTRACE_LOG", default_value = "info")]
    log: String,
    /// Log lines as JSON (for log collectors) instead of text.
    #[arg(long, global = true, env = "VAXTRACE_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Db {
    /// Database: `sqlite:PATH` (embedded default) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "VAXTRACE_DATABASE_URL",
        default_value = "sqlite:vaxtrace.db"
    )]
    database_url: String,
    /// SQLite only: the page cache of the writing connection, in MiB (readers keep at most 32
    /// each). The database's memory grows to it as data is touched. Default 512.
    #[arg(long, env = "VAXTRACE_SQLITE_CACHE_MIB", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    sqlite_cache_mib: Option<u32>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: Db,
    /// A hot standby of --database-url (`PostgreSQL` streaming replication) for read-only work:
    /// status lookups, identity verification, analytics and exports. Its answers may lag the
    /// primary by the replication delay; writes and everything else stay on --database-url.
    #[arg(long, env = "VAXTRACE_READ_DATABASE_URL")]
    read_database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "VAXTRACE_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Minutes a login session stays valid.
    #[arg(long, env = "VAXTRACE_SESSION_MINUTES", default_value_t = 480, value_parser = clap::value_parser!(u64).range(1..=10_080))]
    session_minutes: u64,
    /// Mark the session cookie Secure (when served behind HTTPS).
    #[arg(long, env = "VAXTRACE_COOKIE_SECURE")]
    cookie_secure: bool,
    /// Passphrase of the commune signing keys; without it the server cannot sign records.
    #[arg(long, env = "VAXTRACE_KEY_PASSPHRASE", hide_env_values = true)]
    key_passphrase: Option<String>,
    /// Days declarations and checkpoint scans are kept; older ones are deleted every hour.
    #[arg(long, env = "VAXTRACE_MOVEMENT_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    movement_retention_days: u32,
    /// Send the citizen app's one-time codes through this SMS gateway: `POST URL` with
    /// `{"to","text"}` JSON. Without it, codes are written to --sms-outbox, for development only.
    #[arg(long, env = "VAXTRACE_SMS_GATEWAY_URL")]
    sms_gateway_url: Option<String>,
    /// Bearer token for the SMS gateway. Prefer the environment variable.
    #[arg(long, env = "VAXTRACE_SMS_GATEWAY_TOKEN", hide_env_values = true)]
    sms_gateway_token: Option<String>,
    /// Development SMS outbox: one JSON line per code sent, when no gateway is set.
    #[arg(long, env = "VAXTRACE_SMS_OUTBOX", default_value = "sms-outbox.jsonl")]
    sms_outbox: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Set up a demo: creates or reuses the database, loads a synthetic province, creates demo
    /// logins, and serves the web UI.
    Demo(commands::DemoArgs),
    /// Apply pending database migrations.
    Migrate(Db),
    /// Manage users.
    #[command(subcommand)]
    User(commands::UserCommand),
    /// Generate synthetic data.
    #[command(subcommand)]
    Generate(commands::GenerateCommand),
    /// Import data files.
    #[command(subcommand)]
    Import(commands::ImportCommand),
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(commands::AuditCommand),
    /// Export data files.
    #[command(subcommand)]
    Export(vaccination_commands::ExportCommand),
    /// Record-linkage quality against a generator's ground truth.
    #[command(subcommand)]
    Linkage(vaccination_commands::LinkageCommand),
    /// Delete movement data (declarations, checkpoint scans) older than the retention period.
    Retention(commands::RetentionArgs),
    /// Signing keys: national root, province CAs, commune signers (create and rotate).
    #[command(subcommand)]
    Keys(vaccination_commands::KeysCommand),
    /// Check a vaccination record's signature up to the national root; exit 0 only when valid.
    VerifyRecord(vaccination_commands::VerifyRecordArgs),
    /// Measure performance against a peer in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// EU Digital COVID Certificates: verify one, run a conformance suite.
    #[command(subcommand)]
    Dcc(dcc_commands::DccCommand),
    /// Issue EU Digital COVID Certificates from signed vaccination records.
    #[command(subcommand)]
    Cert(cert_commands::CertCommand),
    /// Vaccination coverage from the live counters, and their recount.
    #[command(subcommand)]
    Analytics(analytics_commands::AnalyticsCommand),
    /// Vaccination records: batch signing by the communes.
    #[command(subcommand)]
    Vaccination(analytics_commands::VaccinationCommand),
    /// Write a consistent copy of the database while it serves (SQLite `VACUUM INTO`;
    /// `pg_dump` for PostgreSQL).
    Backup(backup_commands::BackupArgs),
    /// Restore a backup into an empty database, then check its audit chain.
    Restore(backup_commands::RestoreArgs),
    /// Check a database, e.g. after a crash or a restore: storage integrity and foreign keys, the
    /// live counters against a recount, the audit chain. Exit 0 only when all three hold.
    Check(Db),
}

fn init_logging(filter: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

/// The `vaxtrace` command: parses the arguments, runs the subcommand, reports a failure in one line.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log, cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => commands::serve(args).await,
        Command::Demo(args) => commands::demo(args).await,
        Command::Migrate(db) => commands::migrate(&db).await,
        Command::User(cmd) => commands::user(cmd).await,
        Command::Generate(cmd) => commands::generate(cmd),
        Command::Import(cmd) => commands::import(cmd).await,
        Command::Audit(cmd) => commands::audit(cmd).await,
        Command::Export(cmd) => vaccination_commands::export(cmd).await,
        Command::Linkage(cmd) => vaccination_commands::linkage(&cmd),
        Command::Retention(args) => commands::retention(&args).await,
        Command::Keys(cmd) => vaccination_commands::keys(cmd).await,
        Command::VerifyRecord(args) => vaccination_commands::verify_record(&args).await,
        Command::Bench(cmd) => bench::run(cmd).await,
        Command::Dcc(cmd) => dcc_commands::run(cmd).await,
        Command::Cert(cmd) => cert_commands::run(cmd).await,
        Command::Analytics(cmd) => analytics_commands::analytics(cmd).await,
        Command::Vaccination(cmd) => analytics_commands::vaccination(cmd).await,
        Command::Backup(args) => backup_commands::backup(&args).await,
        Command::Restore(args) => backup_commands::restore(&args).await,
        Command::Check(db) => backup_commands::check(&db).await,
    }
}

/// Default rejects file: `FILE.rejects.csv` beside the input.
fn default_rejects(input: &std::path::Path) -> PathBuf {
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(".rejects.csv");
    input.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn rejects_file_sits_beside_the_input() {
        assert_eq!(
            super::default_rejects("/tmp/a/people.csv".as_ref()),
            std::path::Path::new("/tmp/a/people.csv.rejects.csv")
        );
    }
}
