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
    // Created empty and private first: `VACUUM INTO` and `pg_dump` both write into it, and the
    // whole registry is never readable by other users of the machine, even while being written.
    create_private(&partial)?;
    let written = match Location::of(url) {
        Location::Sqlite(path) => {
            let target = partial.clone();
            tokio::task::spawn_blocking(move || sqlite_backup(&path, &target)).await?
        }
        Location::Postgres(url) => match pg_command("pg_dump", &url) {
            Ok(mut cmd) => {
                cmd.arg("--format=custom").arg("--file").arg(&partial);
                run(cmd, "pg_dump").await
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = written.and_then(|()| sync(&partial)) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
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
    create_private(&partial)?;
    let copied = std::fs::File::open(file)
        .and_then(|mut from| {
            let mut to = std::fs::OpenOptions::new().write(true).open(&partial)?;
            std::io::copy(&mut from, &mut to)?;
            to.sync_all()
        })
        .map_err(io("cannot copy the backup"));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, target).map_err(io("cannot move the restored database into place"))
}

/// An empty file only its owner can read and write.
fn create_private(path: &Path) -> StoreResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(io("cannot create the file"))
}

/// On disk before the rename, so a power loss cannot leave a short file under the final name.
fn sync(path: &Path) -> StoreResult<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot sync the backup"))
}

/// `pg_dump` or `pg_restore` for the database of `url`: the URL without its password as
/// `--dbname` (so the tools reach exactly what the emptiness check reached), the password in the
/// environment so it never appears in the process list, and no other `PG*` variable from the
/// caller's shell.
fn pg_command(program: &str, url: &str) -> StoreResult<Command> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
    if config.get_dbname().is_none() {
        return Err(StoreError::Config(
            "the PostgreSQL URL names no database".into(),
        ));
    }
    let mut cmd = Command::new(program);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PG") {
            cmd.env_remove(name);
        }
    }
    if let Some(password) = config.get_password() {
        cmd.env("PGPASSWORD", String::from_utf8_lossy(password).into_owned());
    }
    cmd.arg("--dbname").arg(without_password(url));
    Ok(cmd)
}

/// `postgres://user:secret@host/db` → `postgres://user@host/db`.
fn without_password(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[start..].find('/').map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &url[start..start + at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..start], &url[start + at..])
        }
        None => url.to_owned(),
    }
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

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn the_password_is_taken_out_of_the_url() {
        assert_eq!(
            without_password("postgres://vt:s3cr%40t@db.example:5432/vaxtrace?sslmode=require"),
            "postgres://vt@db.example:5432/vaxtrace?sslmode=require"
        );
        assert_eq!(
            without_password("postgresql://vt@127.0.0.1/vaxtrace"),
            "postgresql://vt@127.0.0.1/vaxtrace"
        );
        assert_eq!(
            without_password("postgres://127.0.0.1/vaxtrace"),
            "postgres://127.0.0.1/vaxtrace"
        );
    }
}
