//! The HTTP API end to end, on `SQLite` and `PostgreSQL`: auth, roles, jurisdiction, verification,
//! lookups, bad input, audit.

#![allow(clippy::unwrap_used, clippy::too_many_lines)] // tests fail loudly; table-driven tests run long

mod common;

use std::time::Duration;

use common::{AN, BINH, CUC, PASSWORD, assert_error, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use vaxtrace_server::ServerConfig;
use vaxtrace_store::Backend;

async fn openapi_documents_every_route(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.get("/api/openapi.json", None).await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    for route in vaxtrace_server::routes::ROUTES {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from OpenAPI",
            route.method,
            route.path
        );
        // Every template variable is a declared path parameter (OpenAPI tools refuse the rest).
        let declared = |place: &str| -> Vec<&str> {
            op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == place)
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default()
        };
        let templated: Vec<&str> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(
            declared("path"),
            templated,
            "{} {}",
            route.method,
            route.path
        );
        // Query parameters are those of the handler's query type.
        let query = route.query.map_or(&[][..], |shape| (shape.names)());
        assert_eq!(declared("query"), query, "{} {}", route.method, route.path);
    }
    let coverage = &doc["paths"]["/api/v1/coverage"]["get"];
    let names: Vec<&str> = coverage["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"area") && names.contains(&"format"),
        "{names:?}"
    );
    assert!(coverage["responses"]["400"].is_object());
    let health: Value = app.get("/healthz", None).await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["backend"], serde_json::to_value(backend).unwrap());
}

async fn security_headers_on_every_response(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for path in ["/login", "/api/v1/me", "/nope"] {
        let res = app.get(path, None).await;
        let h = res.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
    }
    assert_error(app.get("/nope", None).await, 404, "not_found").await;
}

async fn login_logout_and_bad_credentials(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(body["expires_at"].as_str().unwrap().starts_with("20"));
    let me: Value = app
        .get("/api/v1/me", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["username"].as_str(), me["role"].as_str()),
        (Some("admin"), Some("admin"))
    );

    // The cookie alone authenticates too (web UI).
    let session = cookie.split(';').next().unwrap();
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_error(
        app.get("/api/v1/me", Some(token)).await,
        401,
        "unauthenticated",
    )
    .await;

    let wrong = json!({"username": "admin", "password": "not the password"});
    assert_error(
        app.post_json("/api/v1/auth/login", None, &wrong).await,
        401,
        "bad_credentials",
    )
    .await;
    let unknown = json!({"username": "ghost", "password": PASSWORD});
    assert_error(
        app.post_json("/api/v1/auth/login", None, &unknown).await,
        401,
        "bad_credentials",
    )
    .await;
    assert_error(
        app.get("/api/v1/me", Some(&"0".repeat(64))).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        app.get("/api/v1/me", Some("garbage")).await,
        401,
        "unauthenticated",
    )
    .await;
}

async fn sessions_expire(backend: Backend) {
    let config = ServerConfig {
        session_ttl: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let Some(app) = spawn_app_with(backend, config).await else {
        return;
    };
    let token = app.login("admin").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_error(
        app.get("/api/v1/me", Some(&token)).await,
        401,
        "unauthenticated",
    )
    .await;
}

async fn malformed_requests_get_bilingual_errors(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let url = app.url("/api/v1/auth/login");
    let res = app
        .client
        .post(&url)
        .body("{\"username\":1}")
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "unsupported_media_type").await;
    let res = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "invalid_json").await;
    let res = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"username\":\"a\"}")
        .send()
        .await
        .unwrap();
    assert_error(res, 422, "invalid_body").await;
    // A mistyped query parameter: the same JSON error, naming the parameter.
    let analyst = app.login("analyst").await;
    let res = app
        .get("/api/v1/coverage/lowest?limit=many", Some(&analyst))
        .await;
    let body = assert_error(res, 400, "invalid_query").await;
    assert!(
        body["message_en"].as_str().unwrap().contains("limit"),
        "{body}"
    );
    let res = app
        .get("/api/v1/coverage/lowest?limit=3", Some(&analyst))
        .await;
    assert_eq!(res.status(), 200);
    // Last: the server answers 413 before reading the body and closes that connection.
    let huge = json!({"username": "a".repeat(100_000), "password": "x"});
    let res = app.client.post(&url).json(&huge).send().await.unwrap();
    assert_eq!(res.status(), 413);
}

async fn officers_read_only_their_jurisdiction(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let path = format!("/api/v1/citizens/{AN}");
    assert_error(app.get(&path, None).await, 401, "unauthenticated").await;

    let police = app.login("police_30730").await;
    let res = app.get(&path, Some(&police)).await;
    assert_eq!(res.status(), 200);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["personal_id"], AN);
    assert_eq!(c["full_name"], "Nguyễn Văn An");
    assert_eq!(c["permanent"]["unit_code"], "30730");
    assert!(
        c["permanent_place"]
            .as_str()
            .unwrap()
            .ends_with("Tỉnh Kiên Giang"),
        "{c}"
    );

    // Temporary residence in 30730 also puts Bình in this officer's area.
    assert_eq!(
        app.get(&format!("/api/v1/citizens/{BINH}"), Some(&police))
            .await
            .status(),
        200
    );
    let other = app.login("police_30733").await;
    assert_error(
        app.get(&path, Some(&other)).await,
        403,
        "outside_jurisdiction",
    )
    .await;
    let hanoi = app.login("health_01").await;
    assert_error(
        app.get(&path, Some(&hanoi)).await,
        403,
        "outside_jurisdiction",
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/citizens/{CUC}"), Some(&hanoi))
            .await
            .status(),
        200
    );
    let province = app.login("health_91").await;
    assert_eq!(app.get(&path, Some(&province)).await.status(), 200);
    let admin = app.login("admin").await;
    assert_eq!(app.get(&path, Some(&admin)).await.status(), 200);

    // Roles without the permission never see records, whatever their area.
    for user in ["site_91", "analyst"] {
        let token = app.login(user).await;
        assert_error(app.get(&path, Some(&token)).await, 403, "forbidden_role").await;
    }
    assert_error(
        app.get("/api/v1/citizens/091087999999", Some(&admin)).await,
        404,
        "not_found",
    )
    .await;
    let body = assert_error(
        app.get("/api/v1/citizens/12345", Some(&admin)).await,
        422,
        "invalid_format",
    )
    .await;
    assert_eq!(body["field"], "personal_id");
    let body = assert_error(
        app.get("/api/v1/citizens/1%27%20OR%201=1", Some(&admin))
            .await,
        422,
        "invalid_format",
    )
    .await;
    assert_eq!(body["field"], "personal_id");

    // Every attempt is in the audit log, refused ones included, and the chain holds.
    let trail = app.store.audit_for_subject(AN).await.unwrap();
    let actions: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert!(actions.contains(&("police_30730", "citizen.read")));
    assert!(actions.contains(&("police_30733", "citizen.read.denied")));
    assert!(actions.contains(&("health_01", "citizen.read.denied")));
    assert!(trail.iter().all(|e| e.purpose == "citizen_lookup"));
    assert!(app.store.verify_audit().await.unwrap().intact());
}

async fn identity_verification_never_reveals_registry_data(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let site = app.login("site_91").await;
    let verify = |body: Value| {
        let (app, site) = (&app, site.clone());
        async move {
            app.post_json("/api/v1/identity/verify", Some(&site), &body)
                .await
        }
    };
    let res = verify(
        json!({"personal_id": AN, "full_name": "NGUYỄN  VĂN AN", "birth_date": "1987-03-09"}),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"match": true}));

    let res = verify(
        json!({"personal_id": AN, "full_name": "Nguyễn Văn Anh", "birth_date": "1987-03-10"}),
    )
    .await;
    let text = res.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"match": false, "mismatched": ["full_name", "birth_date"]})
    );
    assert!(
        !text.contains("Nguyễn Văn An\"") && !text.contains("1987-03-09"),
        "registry values leaked: {text}"
    );

    let res = verify(json!({"personal_id": "091087999999", "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09"})).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["mismatched"],
        json!(["personal_id"])
    );

    // Decomposed Unicode (NFD) is normalised, not rejected.
    let nfd = "Tra\u{302}\u{300}n Thi\u{323} Bi\u{300}nh";
    let res =
        verify(json!({"personal_id": BINH, "full_name": nfd, "birth_date": "1995-11-20"})).await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"match": true}));
    // A registry date known only by year admits any full date in that year.
    let res =
        verify(json!({"personal_id": CUC, "full_name": "Lê Thị Cúc", "birth_date": "1940-06-01"}))
            .await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"match": true}));

    for (body, field, code) in [
        (
            json!({"personal_id": "12", "full_name": "A", "birth_date": "1987"}),
            "personal_id",
            "invalid_format",
        ),
        (
            json!({"personal_id": AN, "full_name": "<script>alert(1)</script>", "birth_date": "1987"}),
            "full_name",
            "invalid_character",
        ),
        (
            json!({"personal_id": AN, "full_name": "x'; DROP TABLE citizens; --", "birth_date": "1987"}),
            "full_name",
            "invalid_character",
        ),
        (
            json!({"personal_id": AN, "full_name": "An", "birth_date": "1987-02-30"}),
            "birth_date",
            "invalid_date",
        ),
    ] {
        let err = assert_error(verify(body).await, 422, code).await;
        assert_eq!(err["field"], field);
    }
    let analyst = app.login("analyst").await;
    let body = json!({"personal_id": AN, "full_name": "Nguyễn Văn An", "birth_date": "1987"});
    assert_error(
        app.post_json("/api/v1/identity/verify", Some(&analyst), &body)
            .await,
        403,
        "forbidden_role",
    )
    .await;
    let trail = app.store.audit_for_subject(AN).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "identity.verify" && e.detail.as_deref() == Some("match"))
    );
    assert!(
        trail
            .iter()
            .any(|e| e.detail.as_deref() == Some("mismatch:full_name,birth_date"))
    );
}

async fn lookup_by_chip_card_qr(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let police = app.login("police_30730").await;
    let qr = format!("{AN}|371234567|Nguyễn Văn An|09031987|Nam|12 Trần Phú, Rạch Giá|15072021");
    let res = app
        .post_json(
            "/api/v1/citizens/lookup-qr",
            Some(&police),
            &json!({"qr": qr}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["citizen"]["personal_id"], AN);
    assert_eq!(body["card_matches_registry"], true);

    let forged = qr.replace("09031987", "10031987");
    let body: Value = app
        .post_json(
            "/api/v1/citizens/lookup-qr",
            Some(&police),
            &json!({"qr": forged}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            body["card_matches_registry"].clone(),
            body["mismatched"].clone()
        ),
        (json!(false), json!(["birth_date"]))
    );

    let err = assert_error(
        app.post_json(
            "/api/v1/citizens/lookup-qr",
            Some(&police),
            &json!({"qr": "abc|def"}),
        )
        .await,
        422,
        "field_count",
    )
    .await;
    assert_eq!(err["field"], "qr");
    let err = assert_error(
        app.post_json(
            "/api/v1/citizens/lookup-qr",
            Some(&police),
            &json!({"qr": qr.replace("|Nam|", "|?|")}),
        )
        .await,
        422,
        "invalid_sex",
    )
    .await;
    assert_eq!(err["field"], "sex");
    let outsider = app.login("police_30733").await;
    assert_error(
        app.post_json(
            "/api/v1/citizens/lookup-qr",
            Some(&outsider),
            &json!({"qr": qr}),
        )
        .await,
        403,
        "outside_jurisdiction",
    )
    .await;
}

async fn admin_units_are_public(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let provinces: Value = app
        .get("/api/v1/admin-units", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(provinces["units"].as_array().unwrap().len(), 63);
    let districts: Value = app
        .get("/api/v1/admin-units?parent=91", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        districts["units"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["full_name"] == "Thành phố Rạch Giá")
    );
    assert_error(
        app.get("/api/v1/admin-units?parent=999", None).await,
        404,
        "not_found",
    )
    .await;
}

async fn wrong_passwords_lock_the_username(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let wrong = json!({"username": "admin", "password": "not the password"});
    let right = json!({"username": "admin", "password": PASSWORD});
    let login = "/api/v1/auth/login";
    for _ in 0..4 {
        assert_error(
            app.post_json(login, None, &wrong).await,
            401,
            "bad_credentials",
        )
        .await;
    }
    // A successful login forgets the failures before it.
    assert_eq!(app.post_json(login, None, &right).await.status(), 200);
    for _ in 0..5 {
        assert_error(
            app.post_json(login, None, &wrong).await,
            401,
            "bad_credentials",
        )
        .await;
    }
    // Locked: even the right password is refused without being checked.
    assert_error(
        app.post_json(login, None, &right).await,
        429,
        "too_many_logins",
    )
    .await;
    // Another username is not affected, and the lock is per username even when unknown.
    app.login("police_30730").await;
    let ghost = json!({"username": "ghost", "password": "x"});
    for _ in 0..5 {
        assert_error(
            app.post_json(login, None, &ghost).await,
            401,
            "bad_credentials",
        )
        .await;
    }
    assert_error(
        app.post_json(login, None, &ghost).await,
        429,
        "too_many_logins",
    )
    .await;
}

async fn cross_site_writes_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let body = json!({"username": "admin", "password": PASSWORD});
    let post = |headers: &[(&str, String)]| {
        let mut req = app.client.post(app.url("/api/v1/auth/login")).json(&body);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        req.send()
    };
    let own = format!("http://{}", app.addr);
    for refused in [
        vec![("origin", "http://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![
            ("sec-fetch-site", "same-site".to_owned()),
            ("origin", own.clone()),
        ],
    ] {
        assert_error(post(&refused).await.unwrap(), 403, "cross_site_request").await;
    }
    for allowed in [
        vec![],
        vec![("origin", own.clone())],
        vec![
            ("sec-fetch-site", "same-origin".to_owned()),
            ("origin", own.clone()),
        ],
    ] {
        assert_eq!(post(&allowed).await.unwrap().status(), 200, "{allowed:?}");
    }
    // Reading is not a write: a cross-site GET reaches the route.
    let res = app
        .client
        .get(app.url("/api/v1/admin-units"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

vaxtrace_store::on_both_backends!(
    wrong_passwords_lock_the_username,
    cross_site_writes_are_refused,
    openapi_documents_every_route,
    security_headers_on_every_response,
    login_logout_and_bad_credentials,
    sessions_expire,
    malformed_requests_get_bilingual_errors,
    officers_read_only_their_jurisdiction,
    identity_verification_never_reveals_registry_data,
    lookup_by_chip_card_qr,
    admin_units_are_public,
);
