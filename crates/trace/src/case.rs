//! A confirmed case (F0) and the window in which they may have infected others.

use serde::Serialize;
use vaxtrace_domain::ParseError;

/// What the window is computed from, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    /// When the positive sample was taken.
    pub sampled_at: i64,
    /// The start of the day symptoms began, if the case had any.
    pub onset_at: Option<i64>,
    /// When the case was isolated; the window runs to "now" until then.
    pub isolated_at: Option<i64>,
}

/// How far before the earlier of onset and sampling a case counts as infectious.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRule {
    pub days_before: u32,
}

impl Default for WindowRule {
    /// The Ministry of Health rule of 2021: from two days before onset or sampling.
    fn default() -> Self {
        Self { days_before: 2 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InfectiousWindow {
    pub start: i64,
    pub end: i64,
}

impl WindowRule {
    /// Refuses more than two weeks back: beyond that, check-ins are about to be deleted anyway and
    /// the contact list would be noise.
    pub fn new(days_before: u32) -> Result<Self, ParseError> {
        if days_before > 14 {
            return Err(ParseError::new(
                "days_before",
                "invalid_window",
                "Số ngày trước khởi phát phải từ 0 đến 14",
                "Days before onset must be between 0 and 14",
            ));
        }
        Ok(Self { days_before })
    }

    pub fn window(self, case: CaseFacts, now: i64) -> InfectiousWindow {
        let first = case
            .onset_at
            .map_or(case.sampled_at, |o| o.min(case.sampled_at));
        let start = first - i64::from(self.days_before) * 86_400;
        let end = case.isolated_at.unwrap_or(now).max(start);
        InfectiousWindow { start, end }
    }
}

impl InfectiousWindow {
    pub fn contains(self, t: i64) -> bool {
        (self.start..=self.end).contains(&t)
    }
}

/// The case ID printed on orders and used as the purpose of every tracing read:
/// `F0-<province>-<number>`, e.g. `F0-91-000042`.
pub fn case_id(province: &str, number: i64) -> String {
    format!("F0-{province}-{number:06}")
}

/// Checks the form of a case ID from a request.
pub fn parse_case_id(raw: &str) -> Result<String, ParseError> {
    let raw = raw.trim();
    let mut parts = raw.split('-');
    let ok = parts.next() == Some("F0")
        && parts
            .next()
            .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts
            .next()
            .is_some_and(|n| (6..=12).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_none();
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ParseError::new(
            "case_id",
            "invalid_case_id",
            "Mã ca bệnh phải có dạng F0-<mã tỉnh>-<số>, ví dụ F0-91-000042",
            "A case ID looks like F0-<province>-<number>, e.g. F0-91-000042",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn the_window_opens_two_days_before_the_earlier_of_onset_and_sample() {
        let rule = WindowRule::default();
        let sampled = 100 * DAY;
        let no_symptoms = CaseFacts {
            sampled_at: sampled,
            onset_at: None,
            isolated_at: None,
        };
        assert_eq!(
            rule.window(no_symptoms, sampled + DAY),
            InfectiousWindow {
                start: sampled - 2 * DAY,
                end: sampled + DAY
            }
        );
        let earlier_onset = CaseFacts {
            onset_at: Some(sampled - 3 * DAY),
            isolated_at: Some(sampled + 3600),
            ..no_symptoms
        };
        let w = rule.window(earlier_onset, sampled + 5 * DAY);
        assert_eq!(
            w,
            InfectiousWindow {
                start: sampled - 5 * DAY,
                end: sampled + 3600
            }
        );
        assert!(w.contains(sampled) && !w.contains(sampled + 2 * 3600));
        // Onset after the sample: the sample is earlier.
        let later_onset = CaseFacts {
            onset_at: Some(sampled + DAY),
            ..no_symptoms
        };
        assert_eq!(rule.window(later_onset, sampled).start, sampled - 2 * DAY);
    }

    #[test]
    fn the_window_rule_is_bounded() {
        assert!(WindowRule::new(14).is_ok());
        assert_eq!(WindowRule::new(15).unwrap_err().code, "invalid_window");
    }

    #[test]
    fn case_ids_round_trip() {
        let id = case_id("91", 42);
        assert_eq!(id, "F0-91-000042");
        assert_eq!(parse_case_id(&id).unwrap(), id);
        for bad in [
            "F0-91-42",
            "F1-91-000042",
            "F0-9a-000042",
            "F0-91-000042-1",
            "",
        ] {
            assert!(parse_case_id(bad).is_err(), "{bad}");
        }
    }
}
