//! What is wrong with a bundle: one [`Issue`] per problem, each at its `FHIRPath` location, with a
//! machine code and a message in Vietnamese and English (the style of
//! [`vaxtrace_domain::ParseError`]), and their rendering as an `OperationOutcome`.

use serde::Serialize;
use serde_json::{Value, json};
use vaxtrace_domain::ParseError;

use crate::system;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// `FHIRPath` of the element at fault, e.g. `Bundle.entry[2].resource.vaccineCode`.
    pub location: String,
    pub code: &'static str,
    pub message_vi: String,
    pub message_en: String,
}

/// Every problem found in a bundle; nothing of it may be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the FHIR bundle, first: {}", .0.len(), .0.first().map_or("", |i| i.location.as_str()))]
pub struct Issues(pub Vec<Issue>);

/// The JSON types a member can be required to have.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    String,
    Object,
    Array,
    PositiveInt,
}

impl Kind {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::String => ("chuỗi", "string"),
            Self::Object => ("đối tượng", "object"),
            Self::Array => ("mảng", "array"),
            Self::PositiveInt => ("số nguyên dương", "positive integer"),
        }
    }
}

/// The element's own name: `vaccineCode` for `Bundle.entry[2].resource.vaccineCode`.
fn element(location: &str) -> &str {
    let last = location.rsplit('.').next().unwrap_or(location);
    last.split('[').next().unwrap_or(last)
}

impl Issue {
    pub(crate) fn new(
        location: impl Into<String>,
        code: &'static str,
        vi: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            location: location.into(),
            code,
            message_vi: vi.into(),
            message_en: en.into(),
        }
    }

    pub(crate) fn missing(location: impl Into<String>) -> Self {
        let location = location.into();
        let name = element(&location).to_owned();
        Self::new(
            location,
            "missing",
            format!("Thiếu trường bắt buộc {name}"),
            format!("Required element {name} is missing"),
        )
    }

    pub(crate) fn wrong_type(location: impl Into<String>, kind: Kind) -> Self {
        let location = location.into();
        let name = element(&location).to_owned();
        let (vi, en) = kind.names();
        Self::new(
            location,
            "invalid_type",
            format!("Sai kiểu dữ liệu ở {name} (cần {vi})"),
            format!("Wrong type for {name} (expected {en})"),
        )
    }

    pub(crate) fn invalid_code(location: impl Into<String>, value: &str, allowed: &[&str]) -> Self {
        let location = location.into();
        let name = element(&location).to_owned();
        let allowed = allowed.join(", ");
        Self::new(
            location,
            "invalid_code",
            format!("Giá trị '{value}' không hợp lệ cho {name} (một trong: {allowed})"),
            format!("Invalid value '{value}' for {name} (one of: {allowed})"),
        )
    }

    /// A domain rule broken at `location` (unknown vaccine, dose out of range, future time…).
    pub(crate) fn from_parse(location: impl Into<String>, e: ParseError) -> Self {
        Self::new(location, e.code, e.message_vi, e.message_en)
    }

    /// The `OperationOutcome.issue.code` (FHIR `IssueType`) for this problem.
    fn issue_type(&self) -> &'static str {
        match self.code {
            "missing" => "required",
            "invalid_type" | "not_a_bundle" | "invalid_json" => "structure",
            "invalid_code" | "unknown_vaccine" => "code-invalid",
            "unresolved_reference" => "not-found",
            "duplicate_identifier" => "duplicate",
            "too_long" => "too-long",
            _ => "value",
        }
    }
}

/// The issues as a FHIR R4 `OperationOutcome`: Vietnamese in `details.text`, English in
/// `diagnostics`, the location as a `FHIRPath` `expression`.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    let issue: Vec<Value> = issues
        .iter()
        .map(|i| {
            json!({
                "severity": "error",
                "code": i.issue_type(),
                "details": {
                    "coding": [{"system": system::ISSUE, "code": i.code}],
                    "text": i.message_vi,
                },
                "diagnostics": i.message_en,
                "expression": [i.location],
            })
        })
        .collect();
    json!({"resourceType": "OperationOutcome", "issue": issue})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_element() {
        let i = Issue::missing("Bundle.entry[2].resource.vaccineCode");
        assert_eq!(i.message_vi, "Thiếu trường bắt buộc vaccineCode");
        assert_eq!(i.message_en, "Required element vaccineCode is missing");
        let t = Issue::wrong_type("Bundle.entry[0].resource.identifier[1]", Kind::Object);
        assert_eq!(t.message_en, "Wrong type for identifier (expected object)");
    }

    #[test]
    fn outcome_carries_every_issue() {
        let issues = [
            Issue::missing("Bundle.entry"),
            Issue::invalid_code("Bundle.entry[1].resource.status", "done", &["completed"]),
        ];
        let outcome = operation_outcome(&issues);
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert_eq!(outcome["issue"][0]["code"], "required");
        assert_eq!(outcome["issue"][1]["code"], "code-invalid");
        assert_eq!(
            outcome["issue"][1]["expression"][0],
            "Bundle.entry[1].resource.status"
        );
        assert_eq!(
            outcome["issue"][1]["details"]["coding"][0]["code"],
            "invalid_code"
        );
    }
}
