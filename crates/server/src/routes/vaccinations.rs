//! Vaccination endpoints: recording, review queue, signing, signature checks, status.

use axum::extract::State;
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxtrace_domain::{PersonalId, ShotInput};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::middleware::Caller;
use crate::vaccinations::{self as svc, BulkRequest, QueueQuery, ReviewRequest, SignRequest};
use crate::{ApiError, AppState};

pub fn record() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(input): ApiJson<ShotInput>| async move {
            let (status, receipt) = svc::record_shot(&state, &caller, &input).await?;
            Ok::<_, ApiError>((status, Json(receipt)))
        },
    )
}

pub fn queue() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<QueueQuery>| async move {
            svc::queue(&state, &caller, &q).await.map(Json)
        },
    )
}

pub fn counts() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Extension<Caller>| async move {
            svc::queue_counts(&state, &caller).await.map(Json)
        },
    )
}

pub fn detail() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(id): ApiPath<i64>| async move {
            svc::record_detail(&state, &caller, id).await.map(Json)
        },
    )
}

pub fn review() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(id): ApiPath<i64>,
         ApiJson(req): ApiJson<ReviewRequest>| async move {
            svc::review(&state, &caller, id, &req).await.map(Json)
        },
    )
}

pub fn bulk_review() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<BulkRequest>| async move {
            svc::bulk_review(&state, &caller, &req).await.map(Json)
        },
    )
}

pub fn signature() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(id): ApiPath<i64>| async move {
            svc::check_signature(&state, &caller, id).await.map(Json)
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

pub fn pending() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<PageQuery>| async move {
            svc::pending_signature(&state, &caller, q.after.unwrap_or(0), q.limit.unwrap_or(50))
                .await
                .map(Json)
        },
    )
}

pub fn sign() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<SignRequest>| async move {
            svc::sign(&state, &caller, &req).await.map(Json)
        },
    )
}

pub fn status() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>| async move {
            let id = PersonalId::parse(&raw)?;
            svc::citizen_status(&state, &caller, id, "status_check")
                .await
                .map(Json)
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct QrRequest {
    qr: String,
}

pub fn status_by_qr() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<QrRequest>| async move {
            svc::status_by_qr(&state, &caller, &req.qr).await.map(Json)
        },
    )
}

pub fn history() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>| async move {
            let id = PersonalId::parse(&raw)?;
            svc::history(&state, &caller, id).await.map(Json)
        },
    )
}
