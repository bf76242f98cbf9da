//! The access matrix, generated from the route table: every endpoint × every role (and no login),
//! asserting that the declared rule is what the server enforces. A new route is in the matrix the
//! moment it is in `ROUTES`. Then, for every endpoint about one citizen, an officer of the
//! citizen's commune is let through and one of another commune is not.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use common::{AN, TestApp, USERS, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use vaxtrace_domain::{Jurisdiction, PersonalId, Role};
use vaxtrace_server::routes::{Access, ROUTES, Route};
use vaxtrace_store::{Backend, NewCitizenAccount};

/// A concrete path for a route template.
fn concrete(path: &str) -> String {
    path.replace("{personal_id}", AN)
        .replace("{id}", "1")
        .replace("{case_id}", "F0-91-1")
        .replace("{uvci}", "URN%3AUVCI%3A01%3AVN%3AX")
}

/// What the server answered: status and error code, if any.
async fn call(app: &TestApp, route: &Route, token: Option<&str>) -> (u16, String) {
    let url = app.url(&concrete(route.path));
    let mut req = app.client.request(route.method.clone(), url);
    if route.method == Method::POST {
        req = req.json(&json!({}));
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// A citizen app session for An, made the way the one-time code makes it.
async fn citizen_token(app: &TestApp) -> String {
    let account = app
        .store
        .create_citizen_account(NewCitizenAccount {
            personal_id: PersonalId::parse(AN).unwrap(),
            phone: "0912345678".into(),
            jurisdiction: Jurisdiction::parse("30730").unwrap(),
            at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    let token = "c".repeat(64);
    let hash = vaxtrace_server::accounts::token_hash(&token).unwrap();
    let expires = OffsetDateTime::now_utc() + Duration::hours(1);
    app.store
        .create_session(hash, account.user_id, expires)
        .await
        .unwrap();
    token
}

/// Logging out would end the session the rest of the matrix uses.
fn skipped(route: &Route) -> bool {
    route.path == "/api/v1/auth/logout"
}

async fn every_route_enforces_its_declared_rule(backend: Backend) {
    // With every key in place, so nothing answers 503 for want of one.
    let config = vaxtrace_server::ServerConfig {
        key_passphrase: Some(std::sync::Arc::new(common::passphrase())),
        ..vaxtrace_server::ServerConfig::default()
    };
    let Some(app) = common::spawn_app_with(backend, config).await else {
        return;
    };
    common::install_keys(&app.store).await;
    common::install_pass_signer(&app.store).await;
    let district = vaxtrace_domain::admin_units().get("30730").unwrap().parent;
    vaxtrace_server::accounts::add_user(
        app.store.as_ref(),
        "health_district",
        common::PASSWORD,
        Role::DistrictHealth,
        Jurisdiction::parse(district).unwrap(),
    )
    .await
    .unwrap();
    let mut sessions: Vec<(Role, String, String)> = Vec::new();
    let users = USERS.iter().map(|u| (u.0, u.1));
    for (name, role) in users.chain([("health_district", Role::DistrictHealth)]) {
        sessions.push((role, name.to_owned(), app.login(name).await));
    }
    sessions.push((Role::Citizen, "citizen".into(), citizen_token(&app).await));
    // Every role plays in the matrix.
    for role in Role::ALL {
        assert!(
            sessions.iter().any(|s| s.0 == role),
            "no session for {role}"
        );
    }
    let mut wrong = Vec::new();
    for route in ROUTES.iter().filter(|r| !skipped(r)) {
        let (status, code) = call(&app, route, None).await;
        let anonymous_ok = match route.access {
            Access::Public => status != 401 && status != 403,
            _ => status == 401 && code == "unauthenticated",
        };
        if !anonymous_ok {
            wrong.push(format!(
                "{} {} anonymous: {status} {code}",
                route.method, route.path
            ));
        }
        for (role, name, token) in &sessions {
            let allowed = route.access.admits(*role);
            let (status, code) = call(&app, route, Some(token)).await;
            let denied = status == 403 && code == "forbidden_role";
            if allowed == denied || status == 401 || status >= 500 {
                wrong.push(format!(
                    "{} {} as {name}: {status} {code} (allowed: {allowed})",
                    route.method, route.path
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Commune officers of An's commune and of the next one.
const OWN_AND_OTHER: [(&str, &str); 1] = [("police_30730", "police_30733")];

async fn citizen_endpoints_stay_in_the_jurisdiction(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut checked = 0;
    for (own, other) in OWN_AND_OTHER {
        let role = USERS.iter().find(|u| u.0 == own).unwrap().1;
        let (own, other) = (app.login(own).await, app.login(other).await);
        for route in ROUTES.iter().filter(|r| {
            // POST bodies are checked before the jurisdiction; those routes have their own tests.
            r.path.contains("{personal_id}")
                && r.method == Method::GET
                && !matches!(r.access, Access::Public | Access::Authenticated)
                && r.access.admits(role)
        }) {
            let (own_status, own_code) = call(&app, route, Some(&own)).await;
            let (other_status, other_code) = call(&app, route, Some(&other)).await;
            assert!(
                own_code != "outside_jurisdiction" && own_status != 403,
                "{} {} own commune: {own_status} {own_code}",
                route.method,
                route.path
            );
            assert!(
                other_status == 403 && other_code == "outside_jurisdiction",
                "{} {} other commune: {other_status} {other_code}",
                route.method,
                route.path
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} citizen endpoints checked");
}

vaxtrace_store::on_both_backends!(
    every_route_enforces_its_declared_rule,
    citizen_endpoints_stay_in_the_jurisdiction,
);
