//! `vaxtrace import tests` as a lab's export is loaded: results for registry citizens stored, the
//! rest reported line by line with the reason, a re-run storing nothing twice; and `vaxtrace import
//! insurance` with the social-insurance agency's cards. Both backends.

#![allow(clippy::unwrap_used)]

use std::process::Output;

use vaxtrace_domain::PersonalId;
use vaxtrace_store::Backend;
use vaxtrace_store::testing::TestDb;

mod common;
use common::vaxtrace;

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

const CARDS: &str = "personal_id,card_number,valid_from,valid_to
091087123456,DN4910123456789,2021-01-01,2021-12-31
091087999999,DN4910123456780,2021-01-01,2021-12-31
091087123456,DN6910123456789,2021-01-01,2021-12-31
091087123456,DN4910123456789,2021-12-31,2021-01-01
";

fn import(kind: &str, file: &str, url: &str) -> Output {
    vaxtrace(&["import", kind, file, "--database-url", url, "--no-progress"])
}

async fn insurance_cards_are_imported_and_replaced(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(&people, CITIZENS).unwrap();
    assert!(
        import("citizens", people.to_str().unwrap(), &db.url)
            .status
            .success()
    );
    let cards = dir.path().join("bhxh-2021-11.csv");
    std::fs::write(&cards, CARDS).unwrap();
    let c = cards.to_str().unwrap();
    let first = import("insurance", c, &db.url);
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success() && said.contains("stored 1, refused 3"),
        "{said}"
    );
    let rejects = std::fs::read_to_string(format!("{c}.rejects.csv")).unwrap();
    let fields: Vec<&str> = rejects
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    // Line 3 is refused once the batch is checked against the registry, after the parse errors.
    assert_eq!(
        fields,
        ["card_number", "valid_to", "personal_id"],
        "{rejects}"
    );

    let store = vaxtrace_store::open(&db.url).await.unwrap();
    let an = PersonalId::parse("091087123456").unwrap();
    let card = store.insurance_card(an).await.unwrap().unwrap();
    assert_eq!(card.card_number, "DN4910123456789");
    assert_eq!(card.valid_to.as_deref(), Some("2021-12-31"));
    assert_eq!(card.source, "bhxh-2021-11.csv");

    // The next delivery replaces the card; a file with nothing usable fails.
    std::fs::write(
        &cards,
        "personal_id,card_number,valid_from,valid_to\n091087123456,HC4910123456789,2022-01-01,\n",
    )
    .unwrap();
    assert!(import("insurance", c, &db.url).status.success());
    let card = store.insurance_card(an).await.unwrap().unwrap();
    assert_eq!(
        (card.card_number.as_str(), card.valid_to),
        ("HC4910123456789", None)
    );
    std::fs::write(&cards, "personal_id,card_number\n091087123456,XX\n").unwrap();
    assert!(!import("insurance", c, &db.url).status.success());
    std::fs::write(&cards, "id,number\n1,2\n").unwrap();
    let wrong = import("insurance", c, &db.url);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("no `personal_id` column"));
}

vaxtrace_store::on_both_backends!(
    lab_results_are_imported_once,
    insurance_cards_are_imported_and_replaced,
);
