//! EU Digital COVID Certificate handlers.

use axum::extract::{Path, State};
use axum::routing::{MethodRouter, get};
use axum::{Extension, Json};
use vaxtrace_domain::PersonalId;

use crate::AppState;
use crate::certificates as svc;
use crate::middleware::Caller;

pub fn citizen_certificate() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         Path(raw): Path<String>| async move {
            let id = PersonalId::parse(&raw)?;
            svc::citizen_certificate(&state, &caller, id)
                .await
                .map(Json)
        },
    )
}
