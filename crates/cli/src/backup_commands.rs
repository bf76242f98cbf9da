//! `vaxtrace backup` and `vaxtrace restore`: a consistent copy of a live database, and its
//! restore into an empty one, checked (audit chain, row counts) before the command reports success.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use vaxtrace_store::backup;

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
    let store = open_store(&args.db).await?;
    // A backup copies everyone's personal data: it is in the audit log, and in the backup itself.
    store
        .append_audit(vec![cli_audit(
            "backup.create",
            None,
            "backup",
            format!("file:{}", args.out.display()),
        )])
        .await?;
    let citizens = store.count_citizens().await?;
    drop(store);
    let spinner = crate::commands::spinner("backing up");
    backup::backup(&args.db.database_url, &args.out)
        .await
        .context("backup failed")?;
    spinner.finish_and_clear();
    let bytes = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    println!(
        "wrote {} ({} MB, {citizens} citizens)",
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
