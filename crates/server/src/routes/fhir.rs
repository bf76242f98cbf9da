//! FHIR R4 endpoints: a citizen's Bundle, and importing a Bundle.

use axum::Extension;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use serde_json::Value;
use vaxtrace_domain::PersonalId;

use super::{ApiJson, ApiPath};
use crate::fhir as svc;
use crate::middleware::Caller;
use crate::{ApiError, AppState};

const FHIR_JSON: &str = "application/fhir+json";

pub fn export() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>| async move {
            let id = PersonalId::parse(&raw)?;
            let bundle = svc::export(&state, &caller, id).await?;
            Ok::<_, ApiError>(([(header::CONTENT_TYPE, FHIR_JSON)], bundle.to_string()))
        },
    )
}

/// Accepts `application/json` and `application/fhir+json` alike.
pub fn import() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(bundle): ApiJson<Value>| async move {
            svc::import(&state, &caller, &bundle)
                .await
                .map(|report| axum::Json(report).into_response())
        },
    )
}
