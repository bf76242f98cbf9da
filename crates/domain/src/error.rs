//! The one error type of the domain layer: which field, a machine-readable code, and a message in
//! Vietnamese and English.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub field: &'static str,
    pub code: &'static str,
    pub message_vi: String,
    pub message_en: String,
}

impl ParseError {
    pub fn new(
        field: &'static str,
        code: &'static str,
        message_vi: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        Self {
            field,
            code,
            message_vi: message_vi.into(),
            message_en: message_en.into(),
        }
    }

    /// The same error reported against another field name (e.g. `temporary_commune_code`).
    #[must_use]
    pub fn for_field(mut self, field: &'static str) -> Self {
        self.field = field;
        self
    }

    pub fn missing(field: &'static str) -> Self {
        Self::new(
            field,
            "missing",
            "Thiếu trường bắt buộc",
            "Required field is missing",
        )
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message_en, self.code)
    }
}

impl std::error::Error for ParseError {}
