//! Running the `vaxtrace` binary from the CLI tests: one environment for all of them (no database
//! URL from the caller's shell, the test key passphrase, quiet logs).

#![allow(dead_code)] // each test binary uses a subset

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const PASSPHRASE: &str = "mật khẩu khóa ký thử nghiệm";

/// The binary with the tests' environment, not yet run (for a child to kill).
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vaxtrace"));
    cmd.env_remove("VAXTRACE_DATABASE_URL")
        .env("VAXTRACE_KEY_PASSPHRASE", PASSPHRASE)
        .args(["--log", "warn"])
        .args(args);
    cmd
}

pub fn vaxtrace(args: &[&str]) -> Output {
    command(args).output().expect("run vaxtrace")
}

/// Runs and asserts success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let o = vaxtrace(args);
    assert!(
        o.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Generates `count` synthetic citizens of `province` (fixed seed) into `dir` and imports them
/// into `url`; returns the CSV file.
pub fn load_citizens(url: &str, dir: &Path, province: &str, count: &str) -> PathBuf {
    let file = dir.join(format!("people-{province}.csv"));
    let generate = [
        "generate",
        "citizens",
        "--province",
        province,
        "--count",
        count,
    ];
    ok(&[&generate[..], &["--seed", "3", "--out", p(&file)]].concat());
    ok(&[
        "import",
        "citizens",
        p(&file),
        "--database-url",
        url,
        "--no-progress",
    ]);
    file
}
