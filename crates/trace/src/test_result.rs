//! Laboratory test results (PCR, rapid antigen) as labs report them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vaxtrace_domain::{ParseError, PersonalId, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    Pcr,
    RapidAntigen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    Positive,
    Negative,
    Invalid,
}

macro_rules! coded {
    ($ty:ident, $field:literal, $code:literal, $($variant:ident = $text:literal),+) => {
        impl $ty {
            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                match raw.trim() {
                    $($text => Ok(Self::$variant),)+
                    other => Err(ParseError::new(
                        $field,
                        $code,
                        format!("Giá trị không hợp lệ '{other}'; chọn một trong: {}", [$($text),+].join(", ")),
                        format!("Invalid value '{other}'; one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }
    };
}

coded!(
    TestKind,
    "kind",
    "unknown_test_kind",
    Pcr = "pcr",
    RapidAntigen = "rapid_antigen"
);
coded!(
    TestOutcome,
    "result",
    "unknown_result",
    Positive = "positive",
    Negative = "negative",
    Invalid = "invalid"
);

/// A result as a lab submits it (JSON or one CSV row).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TestInput {
    pub personal_id: String,
    pub kind: String,
    /// RFC 3339.
    pub sampled_at: String,
    pub result: String,
    pub lab: String,
    /// The lab's own sample number: a result sent twice is stored once.
    pub lab_ref: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    pub personal_id: PersonalId,
    pub kind: TestKind,
    #[serde(with = "time::serde::rfc3339")]
    pub sampled_at: OffsetDateTime,
    pub result: TestOutcome,
    pub lab: String,
    pub lab_ref: String,
}

impl TestInput {
    /// Checks every field; a sample from the future (beyond a few minutes of clock drift) or from
    /// before the pandemic is refused.
    pub fn parse(&self, now: OffsetDateTime) -> Result<TestResult, ParseError> {
        let personal_id = PersonalId::parse(&self.personal_id)?;
        let kind = TestKind::parse(&self.kind)?;
        let sampled_at =
            vaxtrace_domain::date::parse_instant("sampled_at", self.sampled_at.trim())?;
        if sampled_at > now + time::Duration::minutes(5) {
            return Err(ParseError::new(
                "sampled_at",
                "future_time",
                "Thời điểm lấy mẫu ở tương lai",
                "The sample time is in the future",
            ));
        }
        if sampled_at.year() < 2020 {
            return Err(ParseError::new(
                "sampled_at",
                "before_pandemic",
                "Thời điểm lấy mẫu trước năm 2020",
                "The sample time is before 2020",
            ));
        }
        Ok(TestResult {
            personal_id,
            kind,
            sampled_at,
            result: TestOutcome::parse(&self.result)?,
            lab: text::free_text("lab", &self.lab, 200)?,
            lab_ref: text::free_text("lab_ref", &self.lab_ref, 64)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn input() -> TestInput {
        TestInput {
            personal_id: "091090000123".into(),
            kind: "pcr".into(),
            sampled_at: "2021-11-20T08:00:00+07:00".into(),
            result: "positive".into(),
            lab: "CDC Kiên Giang".into(),
            lab_ref: "KG-2021-0001".into(),
        }
    }

    #[test]
    fn a_lab_result_parses() {
        let t = input().parse(datetime!(2021-11-23 00:00 UTC)).unwrap();
        assert_eq!(t.kind, TestKind::Pcr);
        assert_eq!(t.result, TestOutcome::Positive);
        assert_eq!(t.sampled_at, datetime!(2021-11-20 01:00 UTC));
    }

    #[test]
    fn bad_results_name_their_field() {
        let now = datetime!(2021-11-23 00:00 UTC);
        let cases = [
            (
                TestInput {
                    kind: "elisa".into(),
                    ..input()
                },
                "kind",
            ),
            (
                TestInput {
                    result: "maybe".into(),
                    ..input()
                },
                "result",
            ),
            (
                TestInput {
                    sampled_at: "20/11/2021".into(),
                    ..input()
                },
                "sampled_at",
            ),
            (
                TestInput {
                    sampled_at: "2021-11-24T08:00:00+07:00".into(),
                    ..input()
                },
                "sampled_at",
            ),
            (
                TestInput {
                    sampled_at: "2019-11-24T08:00:00+07:00".into(),
                    ..input()
                },
                "sampled_at",
            ),
            (
                TestInput {
                    personal_id: "12".into(),
                    ..input()
                },
                "personal_id",
            ),
            (
                TestInput {
                    lab_ref: String::new(),
                    ..input()
                },
                "lab_ref",
            ),
        ];
        for (bad, field) in cases {
            assert_eq!(bad.parse(now).unwrap_err().field, field, "{bad:?}");
        }
    }
}
