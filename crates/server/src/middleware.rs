//! Cross-cutting request handling: authentication and each route's declared access rule (the one
//! place where roles are enforced), refusal of cross-site writes, request logging without personal
//! data.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use vaxtrace_domain::{Citizen, Permission};
use vaxtrace_store::User;

use crate::routes::Access;
use crate::{ApiError, AppState, accounts, replica};

pub const SESSION_COOKIE: &str = "vt_session";

/// The authenticated user behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
}

impl Caller {
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.user.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden_role())
        }
    }

    /// Jurisdiction scoping: a citizen is visible when any residence lies in the caller's area.
    pub fn can_see(&self, citizen: &Citizen) -> bool {
        citizen
            .residence_units()
            .any(|unit| self.user.jurisdiction.contains(unit))
    }
}

pub fn session_token(req: &Request) -> Option<&str> {
    let headers = req.headers();
    if let Some(bearer) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return bearer.strip_prefix("Bearer ").map(str::trim);
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}

pub async fn caller_of(state: &AppState, hash: Option<[u8; 32]>) -> Result<Caller, ApiError> {
    let hash = hash.ok_or_else(ApiError::unauthenticated)?;
    if let Some(user) = state.sessions.get(&hash) {
        return Ok(Caller { user });
    }
    let (user, expires_at) = state
        .store
        .session_user(hash, OffsetDateTime::now_utc())
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    state.sessions.put(hash, user.clone(), expires_at);
    Ok(Caller { user })
}

/// Enforces a route's declared [`Access`] and hands the [`Caller`] to the handler. With a read
/// replica it also gives the caller read-your-writes: see [`crate::replica`].
pub async fn require_access(
    State((state, access, writes)): State<(AppState, Access, bool)>,
    mut req: Request,
    next: Next,
) -> Response {
    // Only the hash crosses the await: a request body is not Sync.
    let hash = session_token(&req).and_then(accounts::token_hash);
    let caller = match caller_of(&state, hash).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if !access.admits(caller.user.role) {
        return ApiError::forbidden_role().into_response();
    }
    let user = caller.user.id;
    req.extensions_mut().insert(caller);
    let Some(replica) = state.replica.clone() else {
        return next.run(req).await;
    };
    let on_standby = !writes && !replica.behind_for(user);
    let response = replica::scope(on_standby, next.run(req)).await;
    if writes && response.status().is_success() {
        replica.note_write(user).await;
    }
    response
}

/// Logs method, route template (never the concrete path: it can hold a personal ID), status, time.
pub async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if status >= 500 {
        tracing::warn!(%method, %route, status, micros, "request failed");
    } else {
        tracing::debug!(%method, %route, status, micros, "request");
    }
    response
}

/// Refuses a state-changing request that a browser says comes from another site, whatever its
/// credentials: defence in depth beside the `SameSite=Strict` session cookie (an older browser,
/// a sibling subdomain). Clients outside a browser send neither header and pass.
pub async fn reject_cross_site(req: Request, next: Next) -> Response {
    if !req.method().is_safe() && is_cross_site(req.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "Yêu cầu từ trang web khác bị từ chối",
            "A request from another site was refused",
        )
        .into_response();
    }
    next.run(req).await
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, host)| host);
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    origin_host.is_none() || origin_host != host
}
