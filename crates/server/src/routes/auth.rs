//! Login, logout and "who am I".

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use vaxtrace_domain::admin_units;

use super::ApiJson;
use crate::middleware::{Caller, SESSION_COOKIE, session_token};
use crate::{ApiError, AppState, accounts};

#[derive(Debug, Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

pub(crate) fn session_cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn login() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>, ApiJson(req): ApiJson<LoginRequest>| async move {
            let session = accounts::login(
                state.store.as_ref(),
                &req.username,
                &req.password,
                state.config.session_ttl,
            )
            .await?;
            let mut headers = HeaderMap::new();
            headers.insert(
                header::SET_COOKIE,
                session_cookie(&state, &session.token, state.config.session_ttl.as_secs()),
            );
            let body = json!({
                "token": session.token,
                "expires_at": session.expires_at.format(&Rfc3339).unwrap_or_default(),
                "role": session.user.role,
                "jurisdiction": session.user.jurisdiction.code(),
            });
            Ok::<_, ApiError>((headers, Json(body)))
        },
    )
}

pub fn logout() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>, req: axum::extract::Request| async move {
            let hash = session_token(&req).and_then(accounts::token_hash);
            drop(req);
            if let Some(hash) = hash {
                state.sessions.remove(&hash);
                state.store.delete_session(hash).await?;
            }
            Ok::<_, ApiError>(
                (
                    StatusCode::NO_CONTENT,
                    [(header::SET_COOKIE, session_cookie(&state, "", 0))],
                )
                    .into_response(),
            )
        },
    )
}

pub fn me() -> MethodRouter<AppState> {
    get(|Extension(caller): Extension<Caller>| async move {
        let j = caller.user.jurisdiction;
        let place = admin_units()
            .get(j.code())
            .map_or("Việt Nam", |u| u.full_name);
        Json(json!({
            "username": caller.user.username,
            "role": caller.user.role,
            "role_label_vi": caller.user.role.label_vi(),
            "jurisdiction": j.code(),
            "jurisdiction_name": place,
        }))
    })
}
