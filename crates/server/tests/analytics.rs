//! The analytics API end to end on both backends: live coverage after signing, any day, by
//! residence and by site, exports, time series, due doses, supervision with correction requests,
//! flows, and the 4xx answers for bad areas, levels, dates and jurisdictions.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;

use common::{assert_error, install_keys, passphrase, spawn_app_with};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Value, json};
use vaxtrace_server::ServerConfig;
use vaxtrace_store::Backend;

async fn app_with_two_signed_doses(backend: Backend) -> Option<common::TestApp> {
    let config = ServerConfig {
        key_passphrase: Some(Arc::new(passphrase())),
        ..ServerConfig::default()
    };
    let app = spawn_app_with(backend, config).await?;
    let _dsc = install_keys(&app.store).await;
    common::record_and_sign_two_doses(&app).await;
    Some(app)
}

async fn coverage_is_live_exact_and_scoped(backend: Backend) {
    let Some(app) = app_with_two_signed_doses(backend).await else {
        return;
    };
    let health = app.login("health_91").await;
    let report = app.get_json("/api/v1/coverage", Some(&health)).await;
    assert_eq!(report["area"]["code"], "91");
    assert_eq!(report["level"], "district");
    assert_eq!(report["age_rule"]["version"], "VN-COHORT-2021");
    let total = &report["total"];
    // Two registry residents of Kiên Giang, both adults; An has both doses.
    assert_eq!(total["population"]["all"], 2);
    assert_eq!(total["population"]["adults"], 2);
    assert_eq!(total["dose1"]["adults"], 1);
    assert_eq!(total["full"]["all"], 1);
    assert_eq!(total["rate_dose1"]["adults"], 0.5);
    assert_eq!(total["doses"]["total"], 2);
    assert_eq!(total["doses"]["by_dose"]["2"], 1);
    assert_eq!(total["doses"]["by_vaccine"]["EU/1/21/1529"], 2);
    let units = report["units"].as_array().unwrap();
    assert!(units.len() > 10, "every district of the province");
    let with_an: Vec<&Value> = units.iter().filter(|u| u["dose1"]["all"] == 1).collect();
    assert_eq!(with_an.len(), 1);
    assert_eq!(with_an[0]["level"], "district");

    // Any day: on 2021-07-15 An had one dose and no complete series.
    let past = app
        .get_json(
            "/api/v1/coverage?area=91&level=commune&date=2021-07-15",
            Some(&health),
        )
        .await;
    let commune = past["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "30730")
        .unwrap();
    assert_eq!(commune["dose1"]["all"], 1);
    assert_eq!(commune["full"]["all"], 0);
    assert_eq!(commune["doses"]["total"], 1);
    assert_eq!(past["total"]["population"]["all"], 2);

    // By place of vaccination: doses only.
    let site = app
        .get_json("/api/v1/coverage?area=30730&basis=site", Some(&health))
        .await;
    assert!(site["total"]["population"].is_null());
    assert_eq!(site["total"]["doses"]["total"], 2);

    // The nation, for the ministry: 63 provinces; Hà Nội has one resident, unvaccinated.
    let analyst = app.login("analyst").await;
    let nation = app.get_json("/api/v1/coverage", Some(&analyst)).await;
    let provinces = nation["units"].as_array().unwrap();
    assert_eq!(provinces.len(), 63);
    assert_eq!(nation["total"]["population"]["all"], 3);
    let hanoi = provinces.iter().find(|p| p["code"] == "01").unwrap();
    assert_eq!(hanoi["population"]["all"], 1);
    assert!(hanoi["rate_dose1"]["adults"] == 0.0);

    // Bad input and other jurisdictions.
    let other = app.login("health_01").await;
    assert_error(
        app.get("/api/v1/coverage?area=91", Some(&other)).await,
        403,
        "outside_jurisdiction",
    )
    .await;
    assert_error(
        app.get("/api/v1/coverage?area=VN", Some(&health)).await,
        403,
        "outside_jurisdiction",
    )
    .await;
    for (query, code) in [
        ("area=99", "unknown_unit"),
        ("area=91&level=province", "level_too_coarse"),
        ("area=91&level=hamlet", "unknown_level"),
        ("date=2021-01-01", "before_campaign"),
        ("date=2999-01-01", "future_date"),
        ("date=23/11/2021", "invalid_date"),
        ("basis=everywhere", "unknown_basis"),
        ("format=xlsx", "unknown_format"),
    ] {
        let res = app
            .get(&format!("/api/v1/coverage?{query}"), Some(&health))
            .await;
        let body = assert_error(res, 422, code).await;
        assert!(body["field"].is_string(), "{query}: {body}");
    }
    let police = app.login("police_30730").await;
    assert_error(
        app.get("/api/v1/coverage", Some(&police)).await,
        403,
        "forbidden_role",
    )
    .await;
}

async fn exports_series_due_and_lowest(backend: Backend) {
    let Some(app) = app_with_two_signed_doses(backend).await else {
        return;
    };
    let health = app.login("health_91").await;
    let csv = app
        .get("/api/v1/coverage?area=91&format=csv", Some(&health))
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("date,basis,code,name,level,population"));
    let total = lines.last().unwrap();
    assert!(
        total.contains(",91,Tỉnh Kiên Giang,province,2,2,"),
        "{total}"
    );

    let parquet = app
        .get("/api/v1/coverage?area=91&format=parquet", Some(&health))
        .await;
    assert_eq!(parquet.status(), 200);
    let bytes = parquet.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    let reader = SerializedFileReader::new(bytes).unwrap();
    let meta = reader.metadata();
    // One row per district plus the province total.
    assert_eq!(meta.file_metadata().num_rows() as usize, lines.len() - 1);
    assert_eq!(
        meta.file_metadata().schema_descr().column(5).name(),
        "population"
    );

    let series = app
        .get_json(
            "/api/v1/coverage/series?area=91&from=2021-06-30&to=2021-09-02",
            Some(&health),
        )
        .await;
    let days = series["days"].as_array().unwrap();
    assert_eq!(days.len(), 65);
    assert_eq!(days[1]["date"], "2021-07-01");
    assert_eq!(days[1]["dose1"], 1);
    assert_eq!(days[0]["cum_doses"], 0);
    assert_eq!(days.last().unwrap()["cum_full"], 1);
    assert_eq!(days.last().unwrap()["cum_doses"], 2);
    assert_error(
        app.get(
            "/api/v1/coverage/series?from=2021-09-02&to=2021-06-30",
            Some(&health),
        )
        .await,
        422,
        "from_after_to",
    )
    .await;

    // An completed his series long ago: a booster is due.
    let due = app
        .get_json("/api/v1/coverage/due?area=91", Some(&health))
        .await;
    assert_eq!(due["total"]["due_booster"], 1);
    assert_eq!(due["units"][0]["code"], "30730");
    let lowest = app
        .get_json("/api/v1/coverage/lowest?area=91", Some(&health))
        .await;
    let units = lowest["units"].as_array().unwrap();
    // Bình's commune (nobody vaccinated) first, An's last.
    assert_eq!(units[0]["code"], "30733");
    assert_eq!(units[0]["rate"], 0.0);
    assert_eq!(units.last().unwrap()["rate"], 1.0);
    assert_eq!(units[0]["district"]["level"], "district");
}

async fn supervision_counts_signatures_and_corrections(backend: Backend) {
    let Some(app) = app_with_two_signed_doses(backend).await else {
        return;
    };
    let health = app.login("health_91").await;
    let report = app
        .get_json(
            "/api/v1/analytics/supervision?area=91&level=commune",
            Some(&health),
        )
        .await;
    assert_eq!(report["total"]["signed"], 2);
    assert_eq!(report["total"]["auto_share"], 1.0);
    assert!(report["total"]["median_days_to_sign"].as_u64().unwrap() >= 60);
    assert_eq!(report["days"].as_array().unwrap().len(), 1);
    let units = report["units"].as_array().unwrap();
    assert_eq!(units[0]["rank"], 1);

    // A citizen reports an error; the commune's queue shows it open until the record is reviewed.
    let commune = app.login("health_30730").await;
    let records = app
        .get_json("/api/v1/citizens/091087123456/vaccinations", Some(&commune))
        .await;
    let id = records[0]["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/vaccinations/{id}/correction-requests"),
            Some(&commune),
            &json!({"message": "Sai ngày tiêm mũi 1"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let report = app
        .get_json("/api/v1/analytics/supervision?area=30730", Some(&health))
        .await;
    assert_eq!(report["total"]["corrections_requested"], 1);
    assert_eq!(report["total"]["corrections_open"], 1);
    assert!(report["total"]["lag_score"].as_f64().unwrap() > 0.0);
    let blank = app
        .post_json(
            &format!("/api/v1/vaccinations/{id}/correction-requests"),
            Some(&commune),
            &json!({"message": "  "}),
        )
        .await;
    assert_eq!(blank.status(), 422);
    let other = app.login("police_30733").await;
    let res = app
        .post_json(
            &format!("/api/v1/vaccinations/{id}/correction-requests"),
            Some(&other),
            &json!({"message": "x"}),
        )
        .await;
    assert_eq!(res.status(), 403);

    let flows = app
        .get_json("/api/v1/analytics/flows", Some(&app.login("analyst").await))
        .await;
    assert_eq!(flows["level"], "province");
    assert!(flows["flows"].as_array().unwrap().is_empty());
    assert_error(
        app.get("/api/v1/analytics/flows?level=commune", Some(&health))
            .await,
        422,
        "unknown_level",
    )
    .await;
}

vaxtrace_store::on_both_backends!(
    coverage_is_live_exact_and_scoped,
    exports_series_due_and_lowest,
    supervision_counts_signatures_and_corrections,
);
