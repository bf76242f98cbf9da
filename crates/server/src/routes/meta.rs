//! Health, the `OpenAPI` document, and the public administrative-unit catalogue.

use axum::Json;
use axum::extract::State;
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use serde_json::{Value, json};
use vaxtrace_domain::admin_units;

use super::ApiQuery;
use crate::{ApiError, AppState, openapi};

pub fn health() -> MethodRouter<AppState> {
    get(|State(state): State<AppState>| async move {
        Json(json!({"status": "ok", "backend": state.store.backend()}))
    })
}

pub fn openapi() -> MethodRouter<AppState> {
    get(|| async { Json(openapi::document()) })
}

#[derive(Debug, Deserialize)]
pub struct UnitsQuery {
    parent: Option<String>,
}

pub fn units() -> MethodRouter<AppState> {
    get(|ApiQuery(q): ApiQuery<UnitsQuery>| async move {
        let units = admin_units();
        let list: Vec<Value> = match q.parent.as_deref() {
            None => units.provinces().map(|u| json!(u)).collect(),
            Some(parent) => {
                if units.get(parent).is_none() {
                    return Err(ApiError::not_found(
                        "đơn vị hành chính",
                        "Administrative unit",
                    ));
                }
                units.children(parent).map(|u| json!(u)).collect()
            }
        };
        Ok(Json(json!({ "units": list })))
    })
}
