//! EU Digital COVID Certificate handlers.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use vaxtrace_domain::PersonalId;

use super::{ApiJson, ApiPath};
use crate::certificate_page::{Styles, render};
use crate::certificates::{self as svc, RevokeRequest};
use crate::dcc_lists::{self as lists, VerifyDccRequest};
use crate::middleware::Caller;
use crate::{ApiError, AppState};

pub fn citizen_certificate() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>| async move {
            let id = PersonalId::parse(&raw)?;
            svc::citizen_certificate(&state, &caller, id)
                .await
                .map(Json)
        },
    )
}

pub fn printable() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>| async move {
            let id = PersonalId::parse(&raw)?;
            let cert = svc::citizen_certificate(&state, &caller, id).await?;
            Ok::<_, ApiError>(Html(render(&cert, Styles::Linked)))
        },
    )
}

pub fn citizen_certificates() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>| async move {
            let id = PersonalId::parse(&raw)?;
            svc::citizen_certificates(&state, &caller, id)
                .await
                .map(Json)
        },
    )
}

pub fn revoke() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(uvci): ApiPath<String>,
         ApiJson(req): ApiJson<RevokeRequest>| async move {
            svc::revoke(&state, &caller, &uvci, &req).await.map(Json)
        },
    )
}

/// A signed list as JSON text; verifiers may cache it for a minute.
fn signed_list_response(text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        text,
    )
        .into_response()
}

pub fn trust_list() -> MethodRouter<AppState> {
    get(|State(state): State<AppState>| async move {
        lists::trust_list(&state).await.map(signed_list_response)
    })
}

pub fn revocation_list() -> MethodRouter<AppState> {
    get(|State(state): State<AppState>| async move {
        lists::revocation_list(&state)
            .await
            .map(signed_list_response)
    })
}

pub fn verify() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<VerifyDccRequest>| async move {
            lists::verify(&state, &caller, &req).await.map(Json)
        },
    )
}
