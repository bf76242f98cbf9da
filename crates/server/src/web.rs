//! The bilingual web UI (Vietnamese first, English second): static pages embedded in the binary that
//! talk to the JSON API with the session cookie.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;

use crate::AppState;

macro_rules! page {
    ($file:literal) => {
        get(|| async { Html(include_str!(concat!("../web/", $file))) })
    };
}

macro_rules! asset {
    ($file:literal, $mime:literal) => {
        get(|| async {
            (
                [
                    (header::CONTENT_TYPE, $mime),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                include_str!(concat!("../web/", $file)),
            )
                .into_response()
        })
    };
}

/// A binary file of `web/` (the citizen app's icons).
macro_rules! binary {
    ($file:literal, $mime:literal) => {
        get(|| async {
            (
                [
                    (header::CONTENT_TYPE, $mime),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                include_bytes!(concat!("../web/", $file)).as_slice(),
            )
                .into_response()
        })
    };
}

/// Adds `/static/NAME` for each script in `web/`.
macro_rules! scripts {
    ($router:expr, $($file:literal),* $(,)?) => {
        $router$(.route(
            concat!("/static/", $file),
            asset!($file, "text/javascript; charset=utf-8"),
        ))*
    };
}

pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/", page!("index.html"))
        .route("/login", page!("login.html"))
        .route("/lookup", page!("lookup.html"))
        .route("/verify", page!("verify.html"))
        .route("/review", page!("review.html"))
        .route("/signing", page!("signing.html"))
        .route("/history", page!("history.html"))
        .route("/scan", page!("scan.html"))
        .route("/declare", page!("declare.html"))
        .route("/checkpoint", page!("checkpoint.html"))
        .route("/inbox", page!("inbox.html"))
        .route("/checkin", page!("checkin.html"))
        .route("/venues", page!("venues.html"))
        .route("/cases", page!("cases.html"))
        .route("/analytics", page!("analytics.html"))
        .route("/supervision", page!("supervision.html"))
        .route("/flows", page!("flows.html"))
        // The citizen app lives under /app/, the scope of its service worker.
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", page!("citizen.html"))
        .route(
            "/app/manifest.webmanifest",
            asset!("citizen-manifest.webmanifest", "application/manifest+json"),
        )
        .route(
            "/app/sw.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                        (
                            header::HeaderName::from_static("service-worker-allowed"),
                            "/app/",
                        ),
                    ],
                    include_str!("../web/citizen-sw.js"),
                )
                    .into_response()
            }),
        )
        .route(
            "/static/citizen.css",
            asset!("citizen.css", "text/css; charset=utf-8"),
        )
        .route(
            "/static/icons/icon-192.png",
            binary!("icons/icon-192.png", "image/png"),
        )
        .route(
            "/static/icons/icon-512.png",
            binary!("icons/icon-512.png", "image/png"),
        )
        .route(
            "/static/app.css",
            asset!("app.css", "text/css; charset=utf-8"),
        )
        .route(
            "/static/poster.css",
            asset!("poster.css", "text/css; charset=utf-8"),
        )
        .route(
            "/static/certificate.css",
            asset!("certificate.css", "text/css; charset=utf-8"),
        )
        // jsQR 1.4.0 (Apache-2.0), see web/vendor/jsqr/NOTICE.md.
        .route(
            "/static/vendor/jsQR.js",
            asset!("vendor/jsqr/jsQR.js", "text/javascript; charset=utf-8"),
        )
        // Province boundaries (CC BY-SA 4.0), see web/vendor/geo/NOTICE.md.
        .route(
            "/static/vendor/geo/provinces.geojson",
            asset!("vendor/geo/provinces.geojson", "application/geo+json"),
        );
    scripts!(
        pages,
        "app.js",
        "index.js",
        "login.js",
        "lookup.js",
        "verify.js",
        "review.js",
        "signing.js",
        "history.js",
        "scan.js",
        "qr-reader.js",
        "declare.js",
        "checkpoint.js",
        "inbox.js",
        "checkin.js",
        "venues.js",
        "cases.js",
        "charts.js",
        "analytics.js",
        "supervision.js",
        "flows.js",
        "citizen.js",
    )
}
