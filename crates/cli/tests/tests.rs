//! `vaxtrace import tests` as a lab's export is loaded: results for registry citizens stored, the
//! rest reported line by line with the reason, a re-run storing nothing twice. Both backends.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use vaxtrace_domain::PersonalId;
use vaxtrace_store::Backend;
use vaxtrace_store::testing::TestDb;

fn vaxtrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vaxtrace"))
        .env_remove("VAXTRACE_DATABASE_URL")
        .args(["--log", "warn"])
        .args(args)
        .output()
        .expect("run vaxtrace")
}

const CITIZENS: &str =
    "personal_id,full_name,birth_date,sex,permanent_commune_code,permanent_address,\
temporary_commune_code,temporary_address,phone,legacy_id,household_id
091087123456,Nguyễn Văn An,1987-03-09,M,30730,12 Trần Phú,,,,,
";

const RESULTS: &str = "personal_id,kind,sampled_at,result,lab,lab_ref
091087123456,pcr,2021-11-20T08:00:00+07:00,positive,CDC Kiên Giang,KG-1
091087123456,rapid_antigen,2021-11-21T08:00:00+07:00,negative,CDC Kiên Giang,KG-2
091087999999,pcr,2021-11-20T08:00:00+07:00,positive,CDC Kiên Giang,KG-3
091087123456,elisa,2021-11-20T08:00:00+07:00,positive,CDC Kiên Giang,KG-4
091087123456,pcr,2099-11-20T08:00:00+07:00,positive,CDC Kiên Giang,KG-5
";

async fn lab_results_are_imported_once(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(&people, CITIZENS).unwrap();
    let p = people.to_str().unwrap();
    assert!(
        vaxtrace(&[
            "import",
            "citizens",
            p,
            "--database-url",
            &db.url,
            "--no-progress"
        ])
        .status
        .success()
    );
    let results = dir.path().join("results.csv");
    std::fs::write(&results, RESULTS).unwrap();
    let r = results.to_str().unwrap();
    let first = vaxtrace(&[
        "import",
        "tests",
        r,
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        said.contains("stored 2, already stored 0, refused 3"),
        "{said}"
    );
    let rejects = std::fs::read_to_string(format!("{r}.rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines[0], "line,field,reason");
    assert!(lines[1].starts_with("4,personal_id,"), "{rejects}");
    assert!(
        lines[2].starts_with("5,kind,") && lines[3].starts_with("6,sampled_at,"),
        "{rejects}"
    );

    let again = vaxtrace(&[
        "import",
        "tests",
        r,
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("stored 0, already stored 2, refused 3")
    );
    let store = vaxtrace_store::open(&db.url).await.unwrap();
    let stored = store
        .tests_of(PersonalId::parse("091087123456").unwrap())
        .await
        .unwrap();
    assert_eq!(
        stored
            .iter()
            .map(|t| t.lab_ref.as_str())
            .collect::<Vec<_>>(),
        ["KG-2", "KG-1"]
    );
}

vaxtrace_store::on_both_backends!(lab_results_are_imported_once);
