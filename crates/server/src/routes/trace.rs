//! Venue, check-in, test, case, contact, quarantine and break-glass endpoints.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxtrace_domain::PersonalId;
use vaxtrace_trace::{QuarantineInput, TestInput, VenueInput};

use super::declarations::{csv_download, push_csv_row};
use super::{ApiJson, ApiPath, ApiQuery};
use crate::checkins::{BatchRequest, CheckinRequest};
use crate::contact_trace::{AreaContactsQuery, BreakGlassQuery, ReviewRequest, TraceQuery};
use crate::middleware::Caller;
use crate::quarantines::{QuarantineQuery, ReleaseRequest};
use crate::{ApiError, AppState, cases, checkins, contact_trace, quarantines, venues};

type Caught = Extension<Caller>;

pub fn register_venue() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiJson(input): ApiJson<VenueInput>| async move {
            let venue = venues::register(&state, &caller, &input).await?;
            Ok::<_, ApiError>((StatusCode::CREATED, Json(venue)))
        },
    )
}

pub fn my_venues() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Caught| async move {
            venues::mine(&state, &caller).await.map(Json)
        },
    )
}

pub fn venue() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Caught, ApiPath(id): ApiPath<i64>| async move {
            venues::one(&state, &caller, id).await.map(Json)
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ActiveRequest {
    pub active: bool,
}

pub fn venue_active() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(id): ApiPath<i64>,
         ApiJson(req): ApiJson<ActiveRequest>| async move {
            venues::set_active(&state, &caller, id, req.active)
                .await
                .map(Json)
        },
    )
}

pub fn poster() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Caught, ApiPath(id): ApiPath<i64>| async move {
            let venue = venues::one(&state, &caller, id).await?;
            let page = crate::venue_poster::html(&venue).map_err(|_| ApiError::internal())?;
            Ok::<_, ApiError>(
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response(),
            )
        },
    )
}

pub fn poster_png() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Caught, ApiPath(id): ApiPath<i64>| async move {
            let venue = venues::one(&state, &caller, id).await?;
            let png = crate::venue_poster::png(&venue).map_err(|e| {
                tracing::error!(error = %e, "poster rendering failed");
                ApiError::internal()
            })?;
            Ok::<_, ApiError>(
                (
                    [
                        (header::CONTENT_TYPE, "image/png"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"venue-poster.png\"",
                        ),
                    ],
                    png,
                )
                    .into_response(),
            )
        },
    )
}

pub fn check_in() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiJson(req): ApiJson<CheckinRequest>| async move {
            let (status, receipt) = checkins::check_in(&state, &caller, &req).await?;
            Ok::<_, ApiError>((status, Json(receipt)))
        },
    )
}

pub fn check_out() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiJson(req): ApiJson<CheckinRequest>| async move {
            checkins::check_out(&state, &caller, &req).await.map(Json)
        },
    )
}

pub fn batch() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiJson(req): ApiJson<BatchRequest>| async move {
            checkins::batch(&state, &caller, &req).await.map(Json)
        },
    )
}

pub fn record_test() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiJson(input): ApiJson<TestInput>| async move {
            let (status, receipt) = cases::record_test(&state, &caller, &input).await?;
            Ok::<_, ApiError>((status, Json(receipt)))
        },
    )
}

pub fn confirm_case() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiJson(req): ApiJson<cases::CaseRequest>| async move {
            let case = cases::confirm(&state, &caller, &req).await?;
            Ok::<_, ApiError>((StatusCode::CREATED, Json(case)))
        },
    )
}

pub fn case() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Caught, ApiPath(id): ApiPath<String>| async move {
            cases::show(&state, &caller, &id).await.map(Json)
        },
    )
}

pub fn recover() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(id): ApiPath<String>,
         ApiJson(req): ApiJson<cases::RecoveryRequest>| async move {
            cases::recover(&state, &caller, &id, &req).await.map(Json)
        },
    )
}

pub fn timeline() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(id): ApiPath<String>,
         ApiQuery(q): ApiQuery<TraceQuery>| async move {
            contact_trace::timeline(&state, &caller, &id, &q)
                .await
                .map(Json)
        },
    )
}

pub fn timeline_csv() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(id): ApiPath<String>,
         ApiQuery(q): ApiQuery<TraceQuery>| async move {
            let timeline = contact_trace::timeline(&state, &caller, &id, &q).await?;
            let mut out = String::from("at,until,kind,place,detail\n");
            for e in &timeline.entries {
                let fields = [
                    e.at.to_string(),
                    e.until.map(|t| t.to_string()).unwrap_or_default(),
                    e.kind.to_owned(),
                    e.place.clone(),
                    e.detail.clone(),
                ];
                push_csv_row(&mut out, &fields);
            }
            Ok::<_, ApiError>(csv_download("timeline.csv", out))
        },
    )
}

pub fn trace() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(id): ApiPath<String>,
         ApiJson(q): ApiJson<TraceQuery>| async move {
            contact_trace::trace(&state, &caller, &id, &q)
                .await
                .map(Json)
        },
    )
}

pub fn case_contacts() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Caught, ApiPath(id): ApiPath<String>| async move {
            contact_trace::case_contacts(&state, &caller, &id)
                .await
                .map(Json)
        },
    )
}

pub fn area_contacts() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiQuery(q): ApiQuery<AreaContactsQuery>| async move {
            contact_trace::area_contacts(&state, &caller, &q)
                .await
                .map(Json)
        },
    )
}

pub fn order_quarantine() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiJson(input): ApiJson<QuarantineInput>| async move {
            let order = quarantines::order(&state, &caller, &input).await?;
            Ok::<_, ApiError>((StatusCode::CREATED, Json(order)))
        },
    )
}

pub fn quarantines() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiQuery(q): ApiQuery<QuarantineQuery>| async move {
            quarantines::list(&state, &caller, &q).await.map(Json)
        },
    )
}

pub fn release_quarantine() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(id): ApiPath<i64>,
         ApiJson(req): ApiJson<ReleaseRequest>| async move {
            quarantines::release(&state, &caller, id, &req)
                .await
                .map(Json)
        },
    )
}

pub fn movements() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(raw): ApiPath<String>,
         ApiQuery(q): ApiQuery<BreakGlassQuery>| async move {
            let id = PersonalId::parse(&raw)?;
            contact_trace::break_glass(&state, &caller, id, &q)
                .await
                .map(Json)
        },
    )
}

pub fn break_glass_pending() -> MethodRouter<AppState> {
    get(|State(state): State<AppState>| async move {
        Ok::<_, ApiError>(Json(state.store.break_glass_pending().await?))
    })
}

pub fn review_break_glass() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Caught,
         ApiPath(id): ApiPath<i64>,
         ApiJson(req): ApiJson<ReviewRequest>| async move {
            contact_trace::review_break_glass(&state, &caller, id, &req)
                .await
                .map(Json)
        },
    )
}
