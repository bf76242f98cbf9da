//! Quarantine orders: health officers put F0s and F1s under home or facility isolation; the
//! officers of the commune follow who is due to end.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vaxtrace_domain::Permission;
use vaxtrace_domain::date::{parse_day, vietnam_day};
use vaxtrace_store::{NewQuarantine, QuarantineFilter, StoredQuarantine};
use vaxtrace_trace::QuarantineInput;

use crate::cases::residence_area;
use crate::middleware::Caller;
use crate::services::{place_name, read_citizen};
use crate::venues::PURPOSE;
use crate::{ApiError, AppState};

#[derive(Debug, Serialize)]
pub struct QuarantineView {
    #[serde(flatten)]
    pub order: StoredQuarantine,
    pub place_of_residence: String,
}

fn view(order: StoredQuarantine) -> QuarantineView {
    QuarantineView {
        place_of_residence: place_name(&order.commune_code),
        order,
    }
}

/// `POST /api/v1/quarantines`.
pub async fn order(
    state: &AppState,
    caller: &Caller,
    input: &QuarantineInput,
) -> Result<QuarantineView, ApiError> {
    caller.require(Permission::ManageQuarantine)?;
    let now = OffsetDateTime::now_utc();
    let order = input.parse(vietnam_day(now))?;
    let purpose = order.case_id.clone().unwrap_or_else(|| "quarantine".into());
    let citizen = read_citizen(state, caller, order.personal_id, &purpose).await?;
    if let Some(case_id) = &order.case_id
        && state.store.case(case_id).await?.is_none()
    {
        return Err(ApiError::invalid_field(
            "case_id",
            "unknown_case",
            "Không có ca bệnh với mã này",
            "No case has this ID",
        ));
    }
    let id = state
        .store
        .insert_quarantine(NewQuarantine {
            personal_id: order.personal_id,
            kind: order.kind.code(),
            place: order.place,
            starts_on: order.starts_on,
            ends_on: order.ends_on,
            case_id: order.case_id,
            ordered_by: caller.user.username.clone(),
            ordered_at: now,
            area: residence_area(&citizen),
        })
        .await?;
    state
        .audit
        .access(
            caller,
            "quarantine.order",
            Some(citizen.personal_id.to_string()),
            &purpose,
            Some(id.to_string()),
        )
        .await?;
    let stored = state
        .store
        .quarantine(id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(view(stored))
}

#[derive(Debug, Default, Deserialize)]
pub struct QuarantineQuery {
    /// YYYY-MM-DD: orders in force that day (today when absent).
    pub on: Option<String>,
    /// YYYY-MM-DD: only orders ending by then.
    pub ending_by: Option<String>,
    pub limit: Option<u32>,
}

/// `GET /api/v1/quarantines`: orders in force in the caller's area, soonest to end first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    q: &QuarantineQuery,
) -> Result<Vec<QuarantineView>, ApiError> {
    caller.require(Permission::ReadContacts)?;
    let day = |field: &'static str, raw: &Option<String>| {
        raw.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_day(field, s))
            .transpose()
    };
    let on = day("on", &q.on)?.unwrap_or_else(|| vietnam_day(OffsetDateTime::now_utc()));
    let orders = state
        .store
        .quarantines(QuarantineFilter {
            unit: caller.user.jurisdiction.code().to_owned(),
            in_force_on: on,
            ending_by: day("ending_by", &q.ending_by)?,
            limit: q.limit.unwrap_or(200).clamp(1, 1000),
        })
        .await?;
    for order in &orders {
        state
            .audit
            .access(
                caller,
                "quarantine.list",
                Some(order.personal_id.to_string()),
                order.case_id.as_deref().unwrap_or(PURPOSE),
                Some(order.id.to_string()),
            )
            .await?;
    }
    Ok(orders.into_iter().map(view).collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct ReleaseRequest {
    /// YYYY-MM-DD; today when absent.
    pub released_on: Option<String>,
}

/// `POST /api/v1/quarantines/{id}/release`: ends an order early.
pub async fn release(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: &ReleaseRequest,
) -> Result<QuarantineView, ApiError> {
    caller.require(Permission::ManageQuarantine)?;
    let order = state
        .store
        .quarantine(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lệnh cách ly", "Quarantine order"))?;
    read_citizen(state, caller, order.personal_id, "quarantine").await?;
    let today = vietnam_day(OffsetDateTime::now_utc());
    let on = match req.released_on.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_day("released_on", s)?,
        None => today,
    };
    if on > today || on.to_string() < order.starts_on {
        return Err(ApiError::invalid_field(
            "released_on",
            "invalid_date",
            "Ngày kết thúc cách ly phải từ ngày bắt đầu đến hôm nay",
            "The release date must be between the start and today",
        ));
    }
    if !state.store.release_quarantine(id, on).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "released",
            "Lệnh cách ly đã kết thúc",
            "The order was released already",
        ));
    }
    state
        .audit
        .access(
            caller,
            "quarantine.release",
            Some(order.personal_id.to_string()),
            "quarantine",
            Some(id.to_string()),
        )
        .await?;
    let stored = state
        .store
        .quarantine(id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(view(stored))
}
