//! Backups of a live database and their restore into an empty one. `SQLite` copies itself with
//! `VACUUM INTO` (a snapshot under one read transaction, so the server keeps writing); `PostgreSQL`
//! uses its own `pg_dump` / `pg_restore` (custom format, restored in one transaction). Either way
//! the file appears under its final name only once it is complete.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use rusqlite::{Connection, OpenFlags};
use tokio::process::Command;

use crate::{StoreError, StoreResult};

/// Where a database URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres(url.to_owned())
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            Self::Sqlite(PathBuf::from(path))
        }
    }
}

/// Writes a consistent copy of the database at `url` to `out`, which must not exist.
pub async fn backup(url: &str, out: &Path) -> StoreResult<()> {
    if out.exists() {
        return Err(StoreError::Config(format!(
            "{} exists: a backup never overwrites a file",
            out.display()
        )));
    }
    let partial = partial_path(out);
    remove_if_present(&partial)?;
    match Location::of(url) {
        Location::Sqlite(path) => {
            let target = partial.clone();
            tokio::task::spawn_blocking(move || sqlite_backup(&path, &target)).await??;
        }
        Location::Postgres(url) => {
            let mut cmd = pg_command("pg_dump", &url)?;
            cmd.arg("--format=custom").arg("--file").arg(&partial);
            run(cmd, "pg_dump").await?;
        }
    }
    std::fs::rename(&partial, out).map_err(io("cannot move the backup into place"))
}

/// Restores a backup made by [`backup`] into the database at `url`, which must be empty (a new
/// `SQLite` path, or a `PostgreSQL` database without tables). Nothing is left half-restored.
pub async fn restore(file: &Path, url: &str) -> StoreResult<()> {
    if !file.is_file() {
        return Err(StoreError::Config(format!(
            "no backup at {}",
            file.display()
        )));
    }
    match Location::of(url) {
        Location::Sqlite(path) => {
            let file = file.to_path_buf();
            tokio::task::spawn_blocking(move || sqlite_restore(&file, &path)).await?
        }
        Location::Postgres(url) => {
            if postgres_table_count(&url).await? > 0 {
                return Err(StoreError::Config(
                    "the target PostgreSQL database has tables: restore into an empty database"
                        .into(),
                ));
            }
            let mut cmd = pg_command("pg_restore", &url)?;
            cmd.args([
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
            ])
            .arg(file);
            run(cmd, "pg_restore").await
        }
    }
}

fn sqlite_backup(source: &Path, target: &Path) -> StoreResult<()> {
    if !source.is_file() {
        return Err(StoreError::Config(format!(
            "no SQLite database at {}",
            source.display()
        )));
    }
    let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = target
        .to_str()
        .ok_or_else(|| StoreError::Config("the backup path is not UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}

fn sqlite_restore(file: &Path, target: &Path) -> StoreResult<()> {
    if target.exists() {
        return Err(StoreError::Config(format!(
            "{} exists: restore into a new path (move the old database aside first)",
            target.display()
        )));
    }
    let backup = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let check: String = backup
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|_| StoreError::Config(format!("{} is not a SQLite database", file.display())))?;
    if check != "ok" {
        return Err(StoreError::Corrupt(format!(
            "the backup fails its integrity check: {check}"
        )));
    }
    let is_vaxtrace: bool = backup.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !is_vaxtrace {
        return Err(StoreError::Config(format!(
            "{} is not a vaxtrace database",
            file.display()
        )));
    }
    drop(backup);
    let partial = partial_path(target);
    remove_if_present(&partial)?;
    std::fs::copy(file, &partial).map_err(io("cannot copy the backup"))?;
    std::fs::rename(&partial, target).map_err(io("cannot move the restored database into place"))
}

/// `pg_dump` or `pg_restore` for the database of `url`, the connection given in the environment
/// so the password never appears in the process list.
fn pg_command(program: &str, url: &str) -> StoreResult<Command> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
    let mut cmd = Command::new(program);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(tokio_postgres::config::Host::Tcp(host)) = config.get_hosts().first() {
        cmd.env("PGHOST", host);
    }
    if let Some(port) = config.get_ports().first() {
        cmd.env("PGPORT", port.to_string());
    }
    if let Some(user) = config.get_user() {
        cmd.env("PGUSER", user);
    }
    if let Some(password) = config.get_password() {
        cmd.env("PGPASSWORD", String::from_utf8_lossy(password).into_owned());
    }
    let dbname = config
        .get_dbname()
        .ok_or_else(|| StoreError::Config("the PostgreSQL URL names no database".into()))?;
    cmd.env("PGDATABASE", dbname);
    if program == "pg_restore" {
        cmd.arg("--dbname").arg(dbname);
    }
    Ok(cmd)
}

async fn run(mut cmd: Command, program: &str) -> StoreResult<()> {
    let out = cmd.output().await.map_err(|e| {
        StoreError::Config(format!(
            "cannot run {program} (install the PostgreSQL client tools): {e}"
        ))
    })?;
    if out.status.success() {
        Ok(())
    } else {
        // The tools' messages name objects and settings, not row values.
        Err(StoreError::Database(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

async fn postgres_table_count(url: &str) -> StoreResult<i64> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    let count = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .await?
        .get(0);
    drop(client);
    let _ = driver.await;
    Ok(count)
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn remove_if_present(path: &Path) -> StoreResult<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("cannot remove")(e)),
        _ => Ok(()),
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |e| StoreError::Config(format!("{what}: {e}"))
}
