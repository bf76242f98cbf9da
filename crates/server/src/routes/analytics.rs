//! Coverage, supervision and flow endpoints, and correction requests.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::analytics::{self as svc, AnalyticsQuery};
use crate::corrections::{self, CorrectionRequestInput};
use crate::exports;
use crate::middleware::Caller;
use crate::{ApiError, AppState};

type Caught = Extension<Caller>;

fn format(q: &AnalyticsQuery) -> Option<&str> {
    q.format
        .as_deref()
        .filter(|f| !f.is_empty() && *f != "json")
}

pub fn coverage() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiQuery(q): ApiQuery<AnalyticsQuery>| async move {
            let report = svc::coverage(&state, &caller, &q).await?;
            match format(&q) {
                None => Ok::<Response, ApiError>(Json(report).into_response()),
                Some(f) => {
                    let stem = format!("coverage-{}-{}", report.area.code, report.date);
                    exports::download(&exports::coverage_table(&report), f, &stem)
                }
            }
        },
    )
}

pub fn series() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiQuery(q): ApiQuery<AnalyticsQuery>| async move {
            svc::series(&state, &caller, &q).await.map(Json)
        },
    )
}

pub fn lowest() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiQuery(q): ApiQuery<AnalyticsQuery>| async move {
            svc::lowest(&state, &caller, &q).await.map(Json)
        },
    )
}

pub fn due() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiQuery(q): ApiQuery<AnalyticsQuery>| async move {
            svc::due(&state, &caller, &q).await.map(Json)
        },
    )
}

pub fn supervision() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiQuery(q): ApiQuery<AnalyticsQuery>| async move {
            svc::supervision(&state, &caller, &q).await.map(Json)
        },
    )
}

pub fn flows() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiQuery(q): ApiQuery<AnalyticsQuery>| async move {
            let report = svc::flows(&state, &caller, &q).await?;
            match format(&q) {
                None => Ok::<Response, ApiError>(Json(report).into_response()),
                Some(f) => {
                    let stem = format!("flows-{}-{}-{}", report.area.code, report.from, report.to);
                    exports::download(&exports::flows_table(&report), f, &stem)
                }
            }
        },
    )
}

pub fn correction_requests() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Caught, ApiPath(id): ApiPath<i64>| async move {
            corrections::list(&state, &caller, id).await.map(Json)
        },
    )
}

pub fn file_correction_request() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(id): ApiPath<i64>,
         ApiJson(input): ApiJson<CorrectionRequestInput>| async move {
            let stored = corrections::file(&state, &caller, id, &input).await?;
            Ok::<_, ApiError>((StatusCode::CREATED, Json(stored)))
        },
    )
}
