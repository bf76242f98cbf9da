//! The citizen app's endpoints: sign-up and log-in by one-time code, and the `me` pages.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use vaxtrace_domain::PersonalId;

use super::auth::session_cookie;
use super::{ApiJson, ApiPath, ApiQuery};
use crate::certificate_page::{Styles, render};
use crate::citizen_accounts::{
    self as accounts, CitizenLoginRequest, CodeRequest, RebindRequest, SignupRequest,
};
use crate::citizen_history::{self as history, MyCorrectionRequest};
use crate::citizen_home::{self as home, AddPersonRequest};
use crate::middleware::Caller;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize)]
pub struct PersonQuery {
    pub person: Option<String>,
}

pub fn signup() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>, ApiJson(req): ApiJson<SignupRequest>| async move {
            let sent = accounts::signup(&state, &req).await?;
            Ok::<_, ApiError>((StatusCode::ACCEPTED, Json(sent)))
        },
    )
}

pub fn login() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>, ApiJson(req): ApiJson<CitizenLoginRequest>| async move {
            let sent = accounts::login(&state, &req).await?;
            Ok::<_, ApiError>((StatusCode::ACCEPTED, Json(sent)))
        },
    )
}

pub fn verify() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>, ApiJson(req): ApiJson<CodeRequest>| async move {
            let session = accounts::verify_code(&state, &req).await?;
            let mut headers = HeaderMap::new();
            let ttl = state.config.session_ttl.as_secs();
            headers.insert(
                header::SET_COOKIE,
                session_cookie(&state, &session.token, ttl),
            );
            let personal_id = session
                .user
                .username
                .trim_start_matches(vaxtrace_store::CITIZEN_USERNAME_PREFIX)
                .to_owned();
            let body = json!({
                "token": session.token,
                "expires_at": session.expires_at.format(&Rfc3339).unwrap_or_default(),
                "role": session.user.role,
                "personal_id": personal_id,
            });
            Ok::<_, ApiError>((headers, Json(body)))
        },
    )
}

pub fn rebind_phone() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>,
         ApiJson(req): ApiJson<RebindRequest>| async move {
            let id = PersonalId::parse(&raw)?;
            accounts::rebind_phone(&state, &caller, id, &req)
                .await
                .map(Json)
        },
    )
}

pub fn people() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>, Extension(caller): Extension<Caller>| async move {
            home::people(&state, &caller).await.map(Json)
        },
    )
}

pub fn add_person() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<AddPersonRequest>| async move {
            let person = home::add_person(&state, &caller, &req).await?;
            Ok::<_, ApiError>((StatusCode::CREATED, Json(person)))
        },
    )
}

pub fn remove_person() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(raw): ApiPath<String>| async move {
            let id = PersonalId::parse(&raw)?;
            home::remove_person(&state, &caller, id).await?;
            Ok::<_, ApiError>(StatusCode::NO_CONTENT)
        },
    )
}

pub fn card() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<PersonQuery>| async move {
            home::card(&state, &caller, q.person.as_deref())
                .await
                .map(Json)
        },
    )
}

pub fn renew_pass() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<PersonQuery>| async move {
            home::renew_pass(&state, &caller, q.person.as_deref())
                .await
                .map(Json)
        },
    )
}

pub fn certificate_page() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<PersonQuery>| async move {
            let cert = home::certificate(&state, &caller, q.person.as_deref()).await?;
            Ok::<_, ApiError>(Html(render(&cert, Styles::Linked)))
        },
    )
}

pub fn fhir() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<PersonQuery>| async move {
            let m = home::managed(&state, &caller, q.person.as_deref()).await?;
            let id = m.citizen.personal_id;
            let bundle = crate::fhir::citizen_bundle(&state, &m.citizen).await?;
            state
                .audit
                .access(
                    &caller,
                    "citizen_app.fhir_export",
                    Some(id.to_string()),
                    home::PURPOSE,
                    None,
                )
                .await?;
            let name = format!("attachment; filename=\"vaxtrace-{id}.fhir.json\"");
            Ok::<_, ApiError>(
                (
                    [
                        (header::CONTENT_TYPE, "application/fhir+json".to_owned()),
                        (header::CONTENT_DISPOSITION, name),
                    ],
                    bundle.to_string(),
                )
                    .into_response(),
            )
        },
    )
}

pub fn history() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<PersonQuery>| async move {
            history::history(&state, &caller, q.person.as_deref())
                .await
                .map(Json)
        },
    )
}

pub fn file_correction() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<MyCorrectionRequest>| async move {
            let item = history::file_correction(&state, &caller, &req).await?;
            Ok::<_, ApiError>((StatusCode::CREATED, Json(item)))
        },
    )
}

pub fn privacy() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<PersonQuery>| async move {
            history::privacy(&state, &caller, q.person.as_deref())
                .await
                .map(Json)
        },
    )
}
