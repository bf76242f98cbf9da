//! Running the `vaxtrace` binary from the CLI tests: one environment for all of them (no database
//! URL from the caller's shell, the test key passphrase, quiet logs).

#![allow(dead_code)] // each test binary uses a subset

use std::path::Path;
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
