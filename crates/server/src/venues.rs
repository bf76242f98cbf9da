//! Venues: registration by their owner, the signed check-in code on the poster, and resolving a
//! scanned code back to an active venue.

use axum::http::StatusCode;
use serde::Serialize;
use time::OffsetDateTime;
use vaxtrace_cert::pass::{sign_venue_code, verify_venue_code};
use vaxtrace_domain::Permission;
use vaxtrace_store::{NewVenue, StoredVenue};
use vaxtrace_trace::{VenueInput, VenueKind};

use crate::declarations::{pass_signer, pass_unavailable};
use crate::middleware::Caller;
use crate::services::place_name;
use crate::{ApiError, AppState};

pub(crate) const PURPOSE: &str = "contact_tracing";

/// A venue with its poster code, as its owner sees it.
#[derive(Debug, Serialize)]
pub struct VenueView {
    #[serde(flatten)]
    pub venue: StoredVenue,
    pub kind_vi: &'static str,
    pub kind_en: &'static str,
    pub place: String,
    /// The text of the poster's QR code (`VNV1:…`).
    pub code: String,
}

pub(crate) fn kind_of(venue: &StoredVenue) -> Option<VenueKind> {
    VenueKind::parse(&venue.kind).ok()
}

async fn view(state: &AppState, venue: StoredVenue) -> Result<VenueView, ApiError> {
    let key = pass_signer(state).await?;
    let code = sign_venue_code(venue.id, &key).map_err(|e| {
        tracing::error!(error = %e, "venue code signing failed");
        ApiError::internal()
    })?;
    let kind = kind_of(&venue);
    Ok(VenueView {
        kind_vi: kind.map_or("?", VenueKind::label_vi),
        kind_en: kind.map_or("?", VenueKind::label_en),
        place: place_name(&venue.commune_code),
        code,
        venue,
    })
}

/// `POST /api/v1/venues`: the caller becomes the venue's owner.
pub async fn register(
    state: &AppState,
    caller: &Caller,
    input: &VenueInput,
) -> Result<VenueView, ApiError> {
    caller.require(Permission::ManageVenues)?;
    let venue = input.parse()?;
    if !caller.user.jurisdiction.contains(venue.commune_code) {
        return Err(ApiError::outside_area(
            "Địa điểm không thuộc địa bàn của bạn",
            "The venue is outside your jurisdiction",
        ));
    }
    // Fail before storing anything if no code can be signed for the poster.
    pass_signer(state).await?;
    let id = state
        .store
        .insert_venue(NewVenue {
            name: venue.name,
            kind: venue.kind.code().into(),
            commune_code: venue.commune_code.into(),
            address: venue.address,
            latitude: venue.latitude,
            longitude: venue.longitude,
            stay_minutes: venue.stay_minutes,
            owner: caller.user.username.clone(),
            created_at: OffsetDateTime::now_utc(),
        })
        .await?;
    state
        .audit
        .access(
            caller,
            "venue.register",
            None,
            PURPOSE,
            Some(id.to_string()),
        )
        .await?;
    let stored = owned_venue(state, caller, id).await?;
    view(state, stored).await
}

/// A venue the caller owns (an administrator owns them all).
pub(crate) async fn owned_venue(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<StoredVenue, ApiError> {
    caller.require(Permission::ManageVenues)?;
    let venue = state
        .store
        .venue(id)
        .await?
        .ok_or_else(|| ApiError::not_found("địa điểm", "Venue"))?;
    if venue.owner != caller.user.username && caller.user.role != vaxtrace_domain::Role::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_your_venue",
            "Địa điểm không do bạn quản lý",
            "You do not manage this venue",
        ));
    }
    Ok(venue)
}

/// `GET /api/v1/venues`: the caller's venues with their poster codes.
pub async fn mine(state: &AppState, caller: &Caller) -> Result<Vec<VenueView>, ApiError> {
    caller.require(Permission::ManageVenues)?;
    let mut out = Vec::new();
    for venue in state.store.venues_by_owner(&caller.user.username).await? {
        out.push(view(state, venue).await?);
    }
    Ok(out)
}

/// `GET /api/v1/venues/{id}`.
pub async fn one(state: &AppState, caller: &Caller, id: i64) -> Result<VenueView, ApiError> {
    let venue = owned_venue(state, caller, id).await?;
    view(state, venue).await
}

/// `POST /api/v1/venues/{id}/active`: closes or reopens a venue; a closed venue's poster stops
/// working at once.
pub async fn set_active(
    state: &AppState,
    caller: &Caller,
    id: i64,
    active: bool,
) -> Result<VenueView, ApiError> {
    owned_venue(state, caller, id).await?;
    state.store.set_venue_active(id, active).await?;
    state
        .audit
        .access(
            caller,
            if active {
                "venue.reopen"
            } else {
                "venue.close"
            },
            None,
            PURPOSE,
            Some(id.to_string()),
        )
        .await?;
    one(state, caller, id).await
}

/// The active venue a scanned poster code names, or a refusal saying why not.
pub(crate) async fn venue_of_code(state: &AppState, code: &str) -> Result<StoredVenue, ApiError> {
    let keys = state
        .passes
        .venue_keys(state.store.as_ref())
        .await
        .map_err(|e| pass_unavailable(&e))?;
    let id = verify_venue_code(code, &|kid| keys.get(kid).cloned()).map_err(|_| {
        ApiError::invalid_field(
            "venue_code",
            "forged_venue_code",
            "Mã QR địa điểm không hợp lệ hoặc bị làm giả",
            "The venue QR code is not genuine",
        )
    })?;
    active_venue(state, id).await
}

/// A venue that exists and is open.
pub(crate) async fn active_venue(state: &AppState, id: i64) -> Result<StoredVenue, ApiError> {
    let venue = state
        .store
        .venue(id)
        .await?
        .ok_or_else(|| ApiError::not_found("địa điểm", "Venue"))?;
    if !venue.active {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "venue_closed",
            "Địa điểm đã ngừng hoạt động",
            "The venue is closed",
        ));
    }
    Ok(venue)
}
