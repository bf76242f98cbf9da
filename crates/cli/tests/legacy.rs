//! `vaxtrace import legacy` as an operator runs it on earlier apps' exports: records linked by ID
//! or by phone + name + birth date, the rest reported line by line, a re-run importing nothing
//! twice, and the newest declaration first in the person's history. Both backends.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vaxtrace_domain::PersonalId;
use vaxtrace_store::Backend;
use vaxtrace_store::testing::TestDb;

mod common;
use common::vaxtrace;

const CITIZENS: &str =
    "personal_id,full_name,birth_date,sex,permanent_commune_code,permanent_address,\
temporary_commune_code,temporary_address,phone,legacy_id,household_id
091087123456,Nguyễn Văn An,1987-03-09,M,30730,12 Trần Phú,,,0912345678,,
091195000001,Trần Thị Bình,1995-11-20,F,30733,5 Lê Lợi,,,0987654321,,
";

async fn legacy_exports_link_and_merge(backend: Backend) {
    let Some(db) = TestDb::new(backend).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(&people, CITIZENS).unwrap();
    assert!(
        vaxtrace(&[
            "import",
            "citizens",
            people.to_str().unwrap(),
            "--database-url",
            &db.url,
            "--no-progress"
        ])
        .status
        .success()
    );

    let now = OffsetDateTime::now_utc();
    let at = |hours: i64| {
        (now - time::Duration::hours(hours))
            .format(&Rfc3339)
            .unwrap()
    };
    let today = vaxtrace_domain::date::vietnam_day(now).to_string();
    let trip = |id: &str, app: &str, phone: &str, name: &str, hours: i64| {
        serde_json::json!({
            "app_id": app, "phone": phone, "personal_id": id, "full_name": name,
            "birth_date": "1987-03-09", "sex": "M", "declared_at": at(hours), "symptoms": ["fever"],
            "from": {"commune_code": "30730", "address": "12 Trần Phú"},
            "to": {"commune_code": "00004", "address": "1 Đinh Tiên Hoàng"},
            "travel_date": today, "transport": "car", "vehicle": "68A-123.45"
        })
        .to_string()
    };
    let ncovi = [
        trip("091087123456", "NC-1", "0912345678", "Nguyễn Văn An", 30),
        String::new(),
        trip("", "NC-2", "0912 345 678", "NGUYEN VAN AN", 20),
        trip("", "NC-3", "0912345678", "Nguyễn Văn Ba", 10),
        "{not json".to_owned(),
    ]
    .join("\n");
    let file = dir.path().join("ncovi.jsonl");
    std::fs::write(&file, ncovi).unwrap();
    let f = file.to_str().unwrap();
    let o = vaxtrace(&[
        "import",
        "legacy",
        f,
        "--format",
        "ncovi-jsonl",
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("imported 2, already imported 0, not linked 1, unreadable 1"),
        "{out}"
    );
    let unlinked = std::fs::read_to_string(dir.path().join("ncovi.jsonl.unlinked.csv")).unwrap();
    assert!(
        unlinked.contains("4,personal_id,no registry citizen with this phone, name and birth date")
            || unlinked.contains("4,personal_id,\"no registry citizen"),
        "{unlinked}"
    );
    assert!(unlinked.lines().any(|l| l.starts_with("5,")), "{unlinked}");
    // A second run imports nothing twice.
    let again = vaxtrace(&[
        "import",
        "legacy",
        f,
        "--format",
        "ncovi-jsonl",
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("imported 0, already imported 2"));

    let bluezone = format!(
        "record_id,personal_id,full_name,birth_date,sex,phone,declared_at,symptoms,contact_with_case,\
origin_commune_code,origin_address,destination_commune_code,destination_address,travel_date,transport,vehicle,purpose
BZ-1,091087123456,Nguyễn Văn An,1987-03-09,M,,{},cough;fever,1,30730,12 Trần Phú,00004,1 Đinh Tiên Hoàng,{today},bus,51B-999.99,
BZ-2,091195000001,Trần Thị Bình,1995-11-21,F,,{},,0,30733,5 Lê Lợi,30733,5 Lê Lợi,{today},other,,Đi chợ
",
        at(2),
        at(2)
    );
    let file = dir.path().join("bluezone.csv");
    std::fs::write(&file, bluezone).unwrap();
    let o = vaxtrace(&[
        "import",
        "legacy",
        file.to_str().unwrap(),
        "--format",
        "bluezone-csv",
        "--database-url",
        &db.url,
        "--no-progress",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("imported 1, already imported 0, not linked 1"),
        "{out}"
    );
    let unlinked = std::fs::read_to_string(dir.path().join("bluezone.csv.unlinked.csv")).unwrap();
    assert!(
        unlinked.contains("3,personal_id,disagrees with the registry: birth_date"),
        "{unlinked}"
    );

    let store = vaxtrace_store::open(&db.url).await.unwrap();
    let history = store
        .declarations_for_citizen(PersonalId::parse("091087123456").unwrap())
        .await
        .unwrap();
    let sources: Vec<&str> = history.iter().map(|d| d.source.as_str()).collect();
    assert_eq!(
        sources,
        ["bluezone", "ncovi", "ncovi"],
        "newest first, older kept as history"
    );
    assert!(history.iter().all(|d| d.health_risk));
    let bad = vaxtrace(&[
        "import",
        "legacy",
        "/nonexistent.jsonl",
        "--format",
        "ncovi-jsonl",
        "--database-url",
        &db.url,
    ]);
    assert!(!bad.status.success());
}

vaxtrace_store::on_both_backends!(legacy_exports_link_and_merge);
