//! Registry endpoints: identity verification, lookup by ID and by chip-card QR.

use axum::extract::State;
use axum::routing::{MethodRouter, post};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxtrace_domain::PersonalId;

use super::{ApiJson, ApiPath};
use crate::middleware::Caller;
use crate::services::{self, CitizenView, VerifyRequest};
use crate::{ApiError, AppState};

pub fn verify() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<VerifyRequest>| async move {
            services::verify_identity(&state, &caller, &req)
                .await
                .map(Json)
        },
    )
}

pub fn get() -> MethodRouter<AppState> {
    axum::routing::get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>| async move {
            let id = PersonalId::parse(&raw)?;
            let citizen = services::read_citizen(&state, &caller, id, "citizen_lookup").await?;
            Ok::<_, ApiError>(Json(CitizenView::from(citizen)))
        },
    )
}

#[derive(Debug, Deserialize)]
struct QrRequest {
    qr: String,
}

pub fn lookup_qr() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<QrRequest>| async move {
            services::lookup_by_qr(&state, &caller, &req.qr)
                .await
                .map(Json)
        },
    )
}
