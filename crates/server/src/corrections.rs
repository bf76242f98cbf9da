//! Requests to correct a vaccination record, filed for a citizen (at the commune office or by
//! phone today; from the citizen app later). The record's next review handles them, and the
//! supervision report counts how many were made and how fast they were handled.

use serde::Deserialize;
use time::OffsetDateTime;
use vaxtrace_domain::Permission;
use vaxtrace_store::{NewCorrectionRequest, StoredCorrectionRequest};

use crate::middleware::Caller;
use crate::vaccinations::load_workable;
use crate::{ApiError, AppState};

const MAX_MESSAGE_CHARS: usize = 1_000;

#[derive(Debug, Deserialize)]
pub struct CorrectionRequestInput {
    /// What the citizen says is wrong.
    pub message: String,
}

pub async fn file(
    state: &AppState,
    caller: &Caller,
    record_id: i64,
    input: &CorrectionRequestInput,
) -> Result<StoredCorrectionRequest, ApiError> {
    caller.require(Permission::ReviewVaccinations)?;
    let record = load_workable(state, caller, record_id).await?;
    let message = vaxtrace_domain::text::free_text("message", &input.message, MAX_MESSAGE_CHARS)?;
    let subject = record.personal_id.map(|p| p.to_string());
    store_request(
        state,
        caller,
        record_id,
        message,
        subject,
        "vaccination_review",
    )
    .await
}

/// Stores a request and audits it; the callers have checked the record is the caller's to ask about.
pub(crate) async fn store_request(
    state: &AppState,
    caller: &Caller,
    record_id: i64,
    message: String,
    subject: Option<String>,
    purpose: &str,
) -> Result<StoredCorrectionRequest, ApiError> {
    let stored = state
        .store
        .request_correction(NewCorrectionRequest {
            record_id,
            message,
            requested_by: caller.user.username.clone(),
            at: OffsetDateTime::now_utc(),
        })
        .await?;
    state
        .audit
        .access(
            caller,
            "vaccination.correction_request",
            subject,
            purpose,
            Some(format!("record:{record_id}")),
        )
        .await?;
    Ok(stored)
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    record_id: i64,
) -> Result<Vec<StoredCorrectionRequest>, ApiError> {
    caller.require(Permission::ReviewVaccinations)?;
    load_workable(state, caller, record_id).await?;
    Ok(state.store.correction_requests(record_id).await?)
}
