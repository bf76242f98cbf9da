//! The HTTP layer's one error type and its single mapping to status codes and bilingual bodies
//! `{code, message_vi, message_en, field?}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vaxtrace_domain::ParseError;
use vaxtrace_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: String,
    pub message_vi: String,
    pub message_en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Machine-readable particulars beside the message (e.g. `attempts_left`, `fields`).
    /// Boxed: most errors carry none, and a small error keeps every `Result` small.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, vi: &str, en: &str) -> Self {
        Self {
            status,
            code: code.into(),
            message_vi: vi.into(),
            message_en: en.into(),
            field: None,
            extra: None,
        }
    }
    /// Adds a particular to the body.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra
            .get_or_insert_default()
            .insert(key.into(), value.into());
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Chưa đăng nhập hoặc phiên đã hết hạn",
            "Not logged in or session expired",
        )
    }
    pub fn forbidden_role() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden_role",
            "Vai trò của bạn không được phép thực hiện thao tác này",
            "Your role may not do this",
        )
    }
    pub fn outside_jurisdiction() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "outside_jurisdiction",
            "Công dân không thuộc địa bàn của bạn",
            "Citizen is outside your jurisdiction",
        )
    }
    pub fn not_found(what_vi: &str, what_en: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("Không tìm thấy {what_vi}"),
            &format!("{what_en} not found"),
        )
    }
    pub fn bad_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "Sai tên đăng nhập hoặc mật khẩu",
            "Wrong username or password",
        )
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Lỗi hệ thống, vui lòng thử lại",
            "Internal error, please retry",
        )
    }
    pub fn bad_request(code: &str, vi: &str, en: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, vi, en)
    }
    /// 422 naming the field at fault.
    pub fn invalid_field(field: &str, code: &str, vi: &str, en: &str) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, vi, en);
        e.field = Some(field.to_owned());
        e
    }
    /// 403 for a unit, checkpoint or journey outside the caller's jurisdiction.
    pub fn outside_area(vi: &str, en: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "outside_jurisdiction", vi, en)
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: e.code.into(),
            message_vi: e.message_vi,
            message_en: e.message_en,
            field: Some(e.field.into()),
            extra: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "Dữ liệu đã tồn tại",
                "Already exists",
            ),
            StoreError::NotFound(what) => Self::not_found(what, what),
            other => {
                // The store's messages carry no row values, so they are safe to log.
                tracing::error!(error = %other, "storage failure");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
    }
}
