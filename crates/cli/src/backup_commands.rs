//! `vaxtrace backup` and `vaxtrace restore`: a consistent copy of a live database, and its
//! restore into an empty one, whose audit chain must verify before the command reports success.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use time::OffsetDateTime;
use vaxtrace_store::{backup, redact_url};

use crate::Db;
use crate::commands::{cli_audit, open_store};

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    db: Db,
    /// The backup file to write; it must not exist. `SQLite` writes a database file, `PostgreSQL`
    /// a `pg_dump` custom-format archive (the PostgreSQL client tools must be installed).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `vaxtrace backup`.
    file: PathBuf,
    /// The database to restore into: a new `SQLite` path, or an empty `PostgreSQL` database.
    /// Stop the servers of that database first.
    #[command(flatten)]
    db: Db,
}

pub async fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    // Opening a SQLite path creates the file: a mistyped path must not become an empty database.
    if let backup::Location::Sqlite(path) = backup::Location::of(&args.db.database_url)
        && !path.is_file()
    {
        anyhow::bail!("no SQLite database at {}", path.display());
    }
    // Not migrated: a backup copies the database as it is.
    let store = vaxtrace_store::open(&args.db.database_url)
        .await
        .with_context(|| format!("cannot open database {}", redact_url(&args.db.database_url)))?;
    let citizens = store.count_citizens().await?;
    let spinner = crate::commands::spinner("backing up");
    backup::backup(&args.db.database_url, &args.out)
        .await
        .context("backup failed")?;
    spinner.finish_and_clear();
    // A backup copies everyone's personal data: taking one is in the audit log.
    store
        .append_audit(vec![cli_audit(
            "backup.create",
            None,
            "backup",
            format!("file:{}", args.out.display()),
        )])
        .await?;
    let bytes = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    println!(
        "wrote {} ({} MB, {citizens} citizens; readable by its owner only)",
        args.out.display(),
        bytes / 1_000_000
    );
    Ok(())
}

pub async fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let spinner = crate::commands::spinner("restoring");
    backup::restore(&args.file, &args.db.database_url)
        .await
        .context("restore failed")?;
    spinner.finish_and_clear();
    // An older backup gets the newer migrations; then the restored data must hold together.
    let store = open_store(&args.db).await?;
    let audit = store.verify_audit().await?;
    if let Some(broken) = audit.first_broken {
        anyhow::bail!("restored, but the audit chain breaks at entry {broken}");
    }
    store
        .append_audit(vec![cli_audit(
            "backup.restore",
            None,
            "backup",
            format!("file:{}", args.file.display()),
        )])
        .await?;
    println!(
        "restored {} citizens; audit chain of {} entries verifies",
        store.count_citizens().await?,
        audit.entries
    );
    Ok(())
}

/// `vaxtrace check`: every check runs and prints its verdict; the command fails if any failed.
pub async fn check(db: &Db) -> anyhow::Result<()> {
    let store = open_store(db).await?;
    let mut failed = 0;
    let problems = store.integrity_problems().await?;
    if problems.is_empty() {
        println!("storage: intact, every foreign key holds");
    } else {
        failed += 1;
        for problem in problems.iter().take(20) {
            println!("storage: {problem}");
        }
        println!("storage: {} problems", problems.len());
    }
    let recount = store
        .recount(false, None, OffsetDateTime::now_utc())
        .await?;
    if recount.agrees() {
        println!(
            "counters: agree with a recount of {} citizens",
            recount.citizens
        );
    } else {
        failed += 1;
        println!(
            "counters: {} counters and {} contributions differ from a recount \
             (vaxtrace analytics recount --apply replaces them)",
            recount.counter_differences, recount.member_differences
        );
    }
    let audit = store.verify_audit().await?;
    match audit.first_broken {
        None => println!("audit chain: intact, {} entries", audit.entries),
        Some(seq) => {
            failed += 1;
            println!("audit chain: broken at entry {seq}");
        }
    }
    if failed > 0 {
        bail!("{failed} of 3 checks failed");
    }
    Ok(())
}
