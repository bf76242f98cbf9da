//! Quarantine (isolation) orders for F0s and F1s: at home or in a facility, for a period.

use serde::{Deserialize, Serialize};
use time::Date;
use vaxtrace_domain::date::parse_day;
use vaxtrace_domain::{ParseError, PersonalId, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineKind {
    Home,
    Facility,
}

impl QuarantineKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Home => "home",
            Self::Facility => "facility",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw.trim() {
            "home" => Ok(Self::Home),
            "facility" => Ok(Self::Facility),
            _ => Err(ParseError::new(
                "kind",
                "unknown_quarantine_kind",
                "Hình thức cách ly là home (tại nhà) hoặc facility (tập trung)",
                "The kind is home or facility",
            )),
        }
    }
}

/// The longest single order; a longer isolation is a new order.
pub const MAX_DAYS: i64 = 28;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuarantineInput {
    pub personal_id: String,
    pub kind: String,
    /// YYYY-MM-DD, both days included.
    pub starts_on: String,
    pub ends_on: String,
    /// The facility's name, or a note on the home address.
    pub place: Option<String>,
    /// The case that caused it, when known.
    pub case_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineOrder {
    pub personal_id: PersonalId,
    pub kind: QuarantineKind,
    pub starts_on: Date,
    pub ends_on: Date,
    pub place: Option<String>,
    pub case_id: Option<String>,
}

impl QuarantineInput {
    /// An order may not start more than [`MAX_DAYS`] before `today` (it would be over already) and
    /// lasts at most [`MAX_DAYS`]; a facility order names its facility.
    pub fn parse(&self, today: Date) -> Result<QuarantineOrder, ParseError> {
        let personal_id = PersonalId::parse(&self.personal_id)?;
        let kind = QuarantineKind::parse(&self.kind)?;
        let starts_on = parse_day("starts_on", &self.starts_on)?;
        let ends_on = parse_day("ends_on", &self.ends_on)?;
        if ends_on < starts_on || (ends_on - starts_on).whole_days() >= MAX_DAYS {
            return Err(ParseError::new(
                "ends_on",
                "invalid_period",
                format!("Ngày kết thúc phải từ ngày bắt đầu, tối đa {MAX_DAYS} ngày"),
                format!("The end must be on or after the start, {MAX_DAYS} days at most"),
            ));
        }
        if (today - starts_on).whole_days() > MAX_DAYS {
            return Err(ParseError::new(
                "starts_on",
                "too_old",
                "Ngày bắt đầu quá xa trong quá khứ",
                "The start is too far in the past",
            ));
        }
        let place = self
            .place
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| text::free_text("place", p, 200))
            .transpose()?;
        if kind == QuarantineKind::Facility && place.is_none() {
            return Err(ParseError::missing("place"));
        }
        let case_id = self
            .case_id
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(crate::case::parse_case_id)
            .transpose()?;
        Ok(QuarantineOrder {
            personal_id,
            kind,
            starts_on,
            ends_on,
            place,
            case_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input() -> QuarantineInput {
        QuarantineInput {
            personal_id: "091090000123".into(),
            kind: "home".into(),
            starts_on: "2021-11-23".into(),
            ends_on: "2021-12-06".into(),
            place: None,
            case_id: Some("F0-91-000001".into()),
        }
    }

    #[test]
    fn a_home_order_parses() {
        let q = input().parse(date!(2021 - 11 - 23)).unwrap();
        assert_eq!(q.kind, QuarantineKind::Home);
        assert_eq!((q.ends_on - q.starts_on).whole_days(), 13);
    }

    #[test]
    fn bad_orders_name_their_field() {
        let today = date!(2021 - 11 - 23);
        let cases = [
            (
                QuarantineInput {
                    ends_on: "2021-11-22".into(),
                    ..input()
                },
                "ends_on",
            ),
            (
                QuarantineInput {
                    ends_on: "2021-12-31".into(),
                    ..input()
                },
                "ends_on",
            ),
            (
                QuarantineInput {
                    kind: "facility".into(),
                    ..input()
                },
                "place",
            ),
            (
                QuarantineInput {
                    kind: "hotel".into(),
                    ..input()
                },
                "kind",
            ),
            (
                QuarantineInput {
                    case_id: Some("42".into()),
                    ..input()
                },
                "case_id",
            ),
            (
                QuarantineInput {
                    starts_on: "2021-09-01".into(),
                    ends_on: "2021-09-10".into(),
                    ..input()
                },
                "starts_on",
            ),
        ];
        for (bad, field) in cases {
            assert_eq!(bad.parse(today).unwrap_err().field, field, "{bad:?}");
        }
    }
}
