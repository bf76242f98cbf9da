//! `vaxtrace analytics` and the report-day generator as a user runs them: shares of a report
//! day, coverage in the terminal and as JSON, batch signing by a district's communes, a recount
//! that agrees, and clear refusals. Runs on `SQLite` and, when configured, on `PostgreSQL`.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use vaxtrace_store::Backend;
use vaxtrace_store::testing::TestDb;

mod common;
use common::{ok, vaxtrace};

async fn report_day_shares_signing_coverage_and_recount(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (people, shots, truth) = (path("people.csv"), path("shots.csv"), path("truth.csv"));
    ok(&[
        "generate",
        "citizens",
        "--province",
        "91",
        "--count",
        "3000",
        "--seed",
        "5",
        "--out",
        &people,
    ]);
    ok(&[
        "generate",
        "vaccinations",
        "--citizens",
        &people,
        "--kien-giang-2021-11-23",
        "--noise",
        "0",
        "--duplicates",
        "0",
        "--out",
        &shots,
        "--truth",
        &truth,
    ]);
    // Every dose on or before the report day; dose-1 people are 97.31 % of the eligible.
    let mut reader = csv::Reader::from_path(&shots).unwrap();
    let mut first_doses = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let at = &row[10];
        assert!(at[..10] <= *"2021-11-23", "{at}");
        first_doses += usize::from(&row[9] == "1");
    }
    let eligible = csv::Reader::from_path(&people)
        .unwrap()
        .records()
        .filter(|r| r.as_ref().unwrap()[2][..4].parse::<i32>().unwrap() <= 2009)
        .count();
    let share = first_doses as f64 / eligible as f64;
    assert!((share - 0.9731).abs() < 0.02, "dose-1 share {share}");

    let url = db.url.as_str();
    ok(&[
        "import",
        "citizens",
        &people,
        "--database-url",
        url,
        "--no-progress",
    ]);
    ok(&[
        "import",
        "vaccinations",
        &shots,
        "--database-url",
        url,
        "--no-progress",
    ]);
    ok(&["keys", "root", "--database-url", url]);
    ok(&["keys", "province", "91", "--database-url", url]);
    // One district only: its communes get keys and sign.
    let signed = ok(&[
        "vaccination",
        "sign",
        "--area",
        "900",
        "--database-url",
        url,
        "--no-progress",
    ]);
    assert!(signed.contains("signed "), "{signed}");
    let json = ok(&[
        "analytics",
        "coverage",
        "--area",
        "91",
        "--date",
        "2021-11-23",
        "--json",
        "--database-url",
        url,
    ]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["total"]["population"]["all"], 3000);
    let units = report["units"].as_array().unwrap();
    let signed_district = units.iter().find(|u| u["code"] == "900").unwrap();
    let elsewhere = units.iter().find(|u| u["code"] == "899").unwrap();
    assert!(signed_district["dose1"]["all"].as_i64().unwrap() > 0);
    assert_eq!(
        elsewhere["dose1"]["all"], 0,
        "unsigned records do not count"
    );
    let table = ok(&[
        "analytics",
        "coverage",
        "--area",
        "900",
        "--database-url",
        url,
    ]);
    assert!(table.contains("Thành phố Hà Tiên"), "{table}");
    let recount = ok(&["analytics", "recount", "--database-url", url]);
    assert!(recount.contains("agree"), "{recount}");

    for (args, needle) in [
        (vec!["analytics", "coverage", "--area", "99"], "--area"),
        (
            vec![
                "analytics",
                "coverage",
                "--area",
                "91",
                "--level",
                "province",
            ],
            "--level",
        ),
        (
            vec!["analytics", "coverage", "--date", "2020-01-01"],
            "--date",
        ),
        (vec!["vaccination", "sign", "--area", "VN"], "--area"),
    ] {
        let mut all = args.clone();
        all.extend(["--database-url", url]);
        let o = vaxtrace(&all);
        assert!(!o.status.success(), "{all:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{all:?}"
        );
    }
}

vaxtrace_store::on_both_backends!(report_day_shares_signing_coverage_and_recount);
