//! The bilingual web UI (Vietnamese first, English second): static pages embedded in the binary that
//! talk to the JSON API with the session cookie.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", page!("index.html"))
        .route("/login", page!("login.html"))
        .route("/lookup", page!("lookup.html"))
        .route("/verify", page!("verify.html"))
        .route("/review", page!("review.html"))
        .route("/signing", page!("signing.html"))
        .route("/history", page!("history.html"))
        .route("/scan", page!("scan.html"))
        .route(
            "/static/app.js",
            asset!("app.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/static/app.css",
            asset!("app.css", "text/css; charset=utf-8"),
        )
        .route(
            "/static/certificate.css",
            asset!("certificate.css", "text/css; charset=utf-8"),
        )
        .route(
            "/static/index.js",
            asset!("index.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/static/login.js",
            asset!("login.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/static/lookup.js",
            asset!("lookup.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/static/verify.js",
            asset!("verify.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/static/review.js",
            asset!("review.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/static/signing.js",
            asset!("signing.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/static/history.js",
            asset!("history.js", "text/javascript; charset=utf-8"),
        )
        .route(
            "/static/scan.js",
            asset!("scan.js", "text/javascript; charset=utf-8"),
        )
        // jsQR 1.4.0 (Apache-2.0), see web/vendor/jsqr/NOTICE.md.
        .route(
            "/static/vendor/jsQR.js",
            asset!("vendor/jsqr/jsQR.js", "text/javascript; charset=utf-8"),
        )
}
