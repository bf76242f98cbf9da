//! The `vaxtrace` binary as a user runs it: exit codes, one-line errors, the import's rejects file,
//! idempotency, recovery after kill -9, users and the audit chain. Runs on `SQLite` and, when
//! configured, on `PostgreSQL`.

#![allow(clippy::unwrap_used, clippy::too_many_lines)] // tests fail loudly; table-driven tests run long

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use vaxtrace_store::Backend;
use vaxtrace_store::testing::TestDb;

fn vaxtrace() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vaxtrace"));
    cmd.env_remove("VAXTRACE_DATABASE_URL")
        .arg("--log")
        .arg("warn");
    cmd
}

fn run(args: &[&str]) -> Output {
    vaxtrace().args(args).output().expect("run vaxtrace")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Citizens in the registry; 0 while the schema does not exist yet.
async fn count(url: &str) -> u64 {
    match vaxtrace_store::open(url).await {
        Ok(store) => store.count_citizens().await.unwrap_or(0),
        Err(_) => 0,
    }
}

const HEADER: &str = "personal_id,full_name,birth_date,sex,permanent_commune_code,permanent_address,temporary_commune_code,temporary_address,phone,legacy_id,household_id\n";

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["demo", "--help"],
        &["migrate", "--help"],
        &["user", "add", "--help"],
        &["generate", "citizens", "--help"],
        &["import", "citizens", "--help"],
        &["audit", "verify", "--help"],
        &["bench", "import", "--help"],
        &["bench", "verify", "--help"],
        &["generate", "vaccinations", "--help"],
        &["import", "vaccinations", "--help"],
        &["export", "links", "--help"],
        &["linkage", "quality", "--help"],
        &["keys", "root", "--help"],
        &["keys", "commune", "--help"],
        &["verify-record", "--help"],
        &["import", "tests", "--help"],
        &["bench", "trace", "--help"],
        &["bench", "coverage", "--help"],
        &["analytics", "coverage", "--help"],
        &["analytics", "recount", "--help"],
        &["vaccination", "sign", "--help"],
        &["backup", "--help"],
        &["restore", "--help"],
    ] {
        let o = run(args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("Usage:"), "{args:?}");
    }
    let o = run(&["no-such-command"]);
    assert!(!o.status.success());
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

async fn import_reports_bad_rows_and_keeps_good_ones(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let mut data = HEADER.as_bytes().to_vec();
    data.extend_from_slice(
        "091087123456,Nguyễn Văn An,1987-03-09,M,30730,12 Trần Phú,,,0912345678,371234567,HH1\n"
            .as_bytes(),
    );
    // Decomposed (NFD) name: accepted and stored composed.
    data.extend_from_slice("091195000001,Tra\u{302}\u{300}n Thi\u{323} Bi\u{300}nh,1995-11,F,30733,5 Lê Lợi,30730,Phòng 2,,,HH2\n".as_bytes());
    data.extend_from_slice(b"12345,Bad Id,1987,M,30730,x,,,,,\n"); // line 4
    data.extend_from_slice("091087000001,Lê Văn Cường,1987-02-30,M,30730,x,,,,,\n".as_bytes()); // line 5
    data.extend_from_slice(
        "091087000002,<script>alert(1)</script>,1987,M,30730,x,,,,,\n".as_bytes(),
    ); // line 6
    data.extend_from_slice("091087000003,Lê Văn Dũng,1987,M,99999,x,,,,,\n".as_bytes()); // line 7
    data.extend_from_slice(b"091087000004,L\xe9 V\xe2n,1987,M,30730,x,,,,,\n"); // line 8: Latin-1, not UTF-8
    data.extend_from_slice("091087000005,Lê Văn Em,1987,M,30730\n".as_bytes()); // line 9: short row
    data.extend_from_slice("091087000006,Lê Văn Phúc,1988,M,30730,x,,,,,\n".as_bytes()); // line 10: ID says 1987
    write(&csv, &data);
    let rejects = dir.path().join("rejects.csv");
    let o = run(&[
        "import",
        "citizens",
        csv.to_str().unwrap(),
        "--database-url",
        &db.url,
        "--rejects",
        rejects.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("2 new, 0 updated, 0 unchanged, 7 rejected"),
        "{}",
        stdout(&o)
    );
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    for expected in [
        "4,personal_id,invalid_format",
        "5,birth_date,invalid_date",
        "6,full_name,invalid_character",
        "7,permanent_commune_code,unknown_commune",
        "8,full_name,not_utf8",
        "9,row,field_count",
        "10,personal_id,inconsistent",
    ] {
        assert!(
            rejected.contains(expected),
            "missing {expected} in\n{rejected}"
        );
    }
    let store = vaxtrace_store::open(&db.url).await.unwrap();
    let binh = store
        .citizen("091195000001".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(binh.full_name.as_str(), "Trần Thị Bình");

    // Re-import: nothing duplicated; a changed row is an update.
    let at = data.windows(5).position(|w| w == b"12 Tr").unwrap();
    data[at + 1] = b'4'; // "12 Trần Phú" → "14 Trần Phú"
    write(&csv, &data);
    let o = run(&[
        "import",
        "citizens",
        csv.to_str().unwrap(),
        "--database-url",
        &db.url,
        "--rejects",
        rejects.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(
        stdout(&o).contains("0 new, 1 updated, 1 unchanged, 7 rejected"),
        "{}",
        stdout(&o)
    );
    assert_eq!(count(&db.url).await, 2);
}

async fn import_refuses_a_bad_file_with_one_line(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    for (content, reason) in [
        (&b""[..], "header row is required"),
        (b"personal_id,full_name\n", "required column 'birth_date'"),
        (b"personal_id,full_name,birth_date,sex,permanent_commune_code,permanent_address,nickname\n", "unknown column 'nickname'"),
    ] {
        write(&csv, content);
        let o = run(&["import", "citizens", csv.to_str().unwrap(), "--database-url", &db.url, "--no-progress"]);
        assert!(!o.status.success());
        let err = stderr(&o);
        assert!(err.contains(reason) && err.trim().lines().count() == 1, "{err}");
    }
    let o = run(&[
        "import",
        "citizens",
        "/no/such/file.csv",
        "--database-url",
        &db.url,
    ]);
    assert!(!o.status.success() && stderr(&o).contains("cannot read /no/such/file.csv"));
    assert_eq!(count(&db.url).await, 0);
}

fn generate(csv: &Path, rows: u64) {
    let o = run(&[
        "generate",
        "citizens",
        "--province",
        "91",
        "--count",
        &rows.to_string(),
        "--seed",
        "3",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn import_child(csv: &Path, url: &str) -> std::process::Child {
    vaxtrace()
        .args([
            "import",
            "citizens",
            csv.to_str().unwrap(),
            "--database-url",
            url,
            "--batch-size",
            "2000",
            "--no-progress",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn import_to_completion(csv: &Path, url: &str) -> String {
    let o = run(&[
        "import",
        "citizens",
        csv.to_str().unwrap(),
        "--database-url",
        url,
        "--no-progress",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

/// Into a registry that has rows, batches are upserted and committed one by one.
async fn incremental_import_survives_kill_9(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (seed, csv) = (dir.path().join("seed.csv"), dir.path().join("p.csv"));
    write(
        &seed,
        format!("{HEADER}001087000001,Lê Văn A,1987,M,00001,1 Phúc Xá,,,,,\n").as_bytes(),
    );
    import_to_completion(&seed, &db.url);
    let rows = 200_000;
    generate(&csv, rows);
    let mut child = import_child(&csv, &db.url);
    // Kill it once some batches are committed, before it can finish.
    let started = Instant::now();
    while count(&db.url).await < 10_000 && started.elapsed() < Duration::from_mins(1) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = count(&db.url).await;
    assert!(
        partial > 10_000 && partial < rows + 1,
        "partial import left {partial} rows"
    );
    let out = import_to_completion(&csv, &db.url);
    assert_eq!(count(&db.url).await, rows + 1);
    assert!(out.contains(&format!("{} unchanged", partial - 1)), "{out}");
    assert!(
        run(&["audit", "verify", "--database-url", &db.url])
            .status
            .success()
    );
}

/// Into an empty registry, rows are staged and merged at the end; a kill loses the stage only.
async fn bulk_import_survives_kill_9(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("p.csv");
    let rows = 200_000;
    generate(&csv, rows);
    let mut child = import_child(&csv, &db.url);
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let out = import_to_completion(&csv, &db.url);
    assert_eq!(count(&db.url).await, rows, "{out}");
    let store = vaxtrace_store::open(&db.url).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), Vec::<String>::new());
    assert!(
        run(&["audit", "verify", "--database-url", &db.url])
            .status
            .success()
    );
}

async fn users_are_created_from_stdin_and_checked(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let add = |args: &[&str], password: &str| {
        let mut child = vaxtrace()
            .args(["user", "add", "--database-url", &db.url])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = add(
        &[
            "--username",
            "congan.xa30730",
            "--role",
            "commune_police",
            "--jurisdiction",
            "30730",
        ],
        "a long enough password\n",
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("created user congan.xa30730"));
    for (args, password, reason) in [
        (
            &[
                "--username",
                "congan.xa30730",
                "--role",
                "commune_police",
                "--jurisdiction",
                "30730",
            ][..],
            "a long enough password\n",
            "Already exists",
        ),
        (
            &[
                "--username",
                "user1",
                "--role",
                "police",
                "--jurisdiction",
                "30730",
            ],
            "a long enough password\n",
            "Unknown role",
        ),
        (
            &[
                "--username",
                "user2",
                "--role",
                "commune_police",
                "--jurisdiction",
                "91",
            ],
            "a long enough password\n",
            "needs a jurisdiction at level",
        ),
        (
            &[
                "--username",
                "user3",
                "--role",
                "admin",
                "--jurisdiction",
                "VN",
            ],
            "short\n",
            "at least 10 characters",
        ),
        (
            &[
                "--username",
                "user4",
                "--role",
                "admin",
                "--jurisdiction",
                "XX",
            ],
            "a long enough password\n",
            "Unknown jurisdiction",
        ),
        (
            &[
                "--username",
                "bad name",
                "--role",
                "admin",
                "--jurisdiction",
                "VN",
            ],
            "a long enough password\n",
            "Username is",
        ),
    ] {
        let o = add(args, password);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(stderr(&o).contains(reason), "{args:?}: {}", stderr(&o));
    }
}

vaxtrace_store::on_both_backends!(
    import_reports_bad_rows_and_keeps_good_ones,
    import_refuses_a_bad_file_with_one_line,
    incremental_import_survives_kill_9,
    bulk_import_survives_kill_9,
    users_are_created_from_stdin_and_checked,
);
