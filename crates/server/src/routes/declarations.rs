//! Declaration, checkpoint, inbox and outbreak-area endpoints.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use vaxtrace_domain::DeclarationInput;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::declarations::{
    self as svc, AckRequest, CheckpointRequest, CountsQuery, InboxQuery, InboxView,
    OutbreakRequest, ScanRequest,
};
use crate::middleware::Caller;
use crate::{ApiError, AppState};

pub fn submit() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(input): ApiJson<DeclarationInput>| async move {
            let receipt = svc::submit(&state, &caller, &input).await?;
            Ok::<_, ApiError>((axum::http::StatusCode::CREATED, Json(receipt)))
        },
    )
}

pub fn renew_pass() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<crate::legacy::PassRequest>| async move {
            crate::legacy::renew(&state, &caller, &req).await.map(Json)
        },
    )
}

pub fn revoke() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiPath(id): ApiPath<i64>| async move {
            svc::revoke_declaration(&state, &caller, id).await.map(Json)
        },
    )
}

pub fn scan() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<ScanRequest>| async move {
            svc::scan(&state, &caller, &req).await.map(Json)
        },
    )
}

pub fn checkpoints() -> MethodRouter<AppState> {
    get(|State(state): State<AppState>| async move {
        Ok::<_, ApiError>(Json(state.store.checkpoints().await?))
    })
}

pub fn add_checkpoint() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<CheckpointRequest>| async move {
            svc::add_checkpoint(&state, &caller, &req).await.map(Json)
        },
    )
}

pub fn inbox() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<InboxQuery>| async move {
            svc::inbox(&state, &caller, &q).await.map(Json)
        },
    )
}

/// One CSV field, quoted when it needs to be; a leading `=`, `+`, `-` or `@` is defused so a
/// spreadsheet never runs it as a formula.
pub(crate) fn csv_field(raw: &str) -> String {
    let text = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn inbox_csv(views: &[InboxView]) -> String {
    let mut out = String::from(
        "declaration_id,submitted_at,routes,personal_id,full_name,phone,origin,destination,\
         travel_date,transport,vehicle,health_risk,from_outbreak,acknowledged_at\n",
    );
    for v in views {
        let d = &v.entry.declaration;
        let text = |key: &str| v.details[key].as_str().unwrap_or_default().to_owned();
        let fields = [
            d.id.to_string(),
            d.submitted_at.to_string(),
            v.entry.routes.clone(),
            d.personal_id.to_string(),
            text("full_name"),
            text("phone"),
            v.origin_name.clone(),
            v.destination_name.clone(),
            d.travel_date.clone(),
            text("transport"),
            text("vehicle"),
            d.health_risk.to_string(),
            d.from_outbreak.to_string(),
            v.entry
                .acknowledged_at
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ];
        push_csv_row(&mut out, &fields);
    }
    out
}

/// Appends one CSV line of `fields`, each made safe by [`csv_field`].
pub(crate) fn push_csv_row(out: &mut String, fields: &[String]) {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&line.join(","));
    out.push('\n');
}

/// A CSV download named `filename`.
pub(crate) fn csv_download(filename: &str, body: String) -> axum::response::Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

pub fn inbox_export() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<InboxQuery>| async move {
            let views = svc::inbox(&state, &caller, &q).await?;
            Ok::<_, ApiError>(csv_download("declarations.csv", inbox_csv(&views)))
        },
    )
}

pub fn acknowledge() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<AckRequest>| async move {
            svc::acknowledge(&state, &caller, &req).await.map(Json)
        },
    )
}

pub fn counts() -> MethodRouter<AppState> {
    get(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiQuery(q): ApiQuery<CountsQuery>| async move {
            svc::counts(&state, &caller, &q).await.map(Json)
        },
    )
}

pub fn outbreak_areas() -> MethodRouter<AppState> {
    get(|State(state): State<AppState>| async move {
        let today = vaxtrace_domain::date::vietnam_day(time::OffsetDateTime::now_utc());
        Ok::<_, ApiError>(Json(state.store.outbreak_areas(Some(today)).await?))
    })
}

pub fn add_outbreak_area() -> MethodRouter<AppState> {
    post(
        |State(state): State<AppState>,
         Extension(caller): Extension<Caller>,
         ApiJson(req): ApiJson<OutbreakRequest>| async move {
            svc::add_outbreak_area(&state, &caller, &req)
                .await
                .map(Json)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Nguyễn Văn An"), "Nguyễn Văn An");
        assert_eq!(csv_field("12, Trần Phú"), "\"12, Trần Phú\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
