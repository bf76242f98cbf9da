//! A stay: one person at one venue from check-in to check-out (or to the venue's default end).
//! Times are Unix seconds: check-ins are the largest table, and a second is precise enough.

use serde::Serialize;
use vaxtrace_domain::{ParseError, PersonalId};

/// The longest a stay counts for. A check-out later than this (a forgotten one) is cut here, and
/// it bounds how far back a search for overlapping stays must look.
pub const MAX_STAY_SECS: i64 = 24 * 3600;

/// How long before "now" a check-in may claim to be and still be accepted as clock drift.
pub const FUTURE_TOLERANCE_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stay {
    pub personal_id: PersonalId,
    pub venue_id: i64,
    pub start: i64,
    pub end: i64,
}

/// When a stay ends, and whether the person said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StayEnd {
    pub end: i64,
    pub checked_out: bool,
}

/// The end of a stay that began at `start`: the check-out when given (cut at [`MAX_STAY_SECS`]),
/// else the venue's default stay. A check-out before the check-in, or a check-in in the future,
/// is refused.
pub fn stay_end(
    start: i64,
    checked_out_at: Option<i64>,
    default_minutes: u32,
    now: i64,
) -> Result<StayEnd, ParseError> {
    if start > now + FUTURE_TOLERANCE_SECS {
        return Err(ParseError::new(
            "checked_in_at",
            "future_time",
            "Thời điểm vào không được ở tương lai",
            "The check-in time is in the future",
        ));
    }
    match checked_out_at {
        Some(out) if out <= start => Err(ParseError::new(
            "checked_out_at",
            "checkout_before_checkin",
            "Thời điểm ra phải sau thời điểm vào",
            "The check-out must be after the check-in",
        )),
        Some(out) if out > now + FUTURE_TOLERANCE_SECS => Err(ParseError::new(
            "checked_out_at",
            "future_time",
            "Thời điểm ra không được ở tương lai",
            "The check-out time is in the future",
        )),
        Some(out) => Ok(StayEnd {
            end: out.min(start + MAX_STAY_SECS),
            checked_out: true,
        }),
        None => Ok(StayEnd {
            end: start + i64::from(default_minutes) * 60,
            checked_out: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_637_650_000;

    #[test]
    fn a_stay_without_check_out_lasts_the_default() {
        let end = stay_end(NOW - 3600, None, 90, NOW).unwrap();
        assert_eq!(
            end,
            StayEnd {
                end: NOW - 3600 + 5400,
                checked_out: false
            }
        );
    }

    #[test]
    fn a_forgotten_check_out_is_cut_at_a_day() {
        let start = NOW - 3 * 86_400;
        let end = stay_end(start, Some(NOW), 30, NOW).unwrap();
        assert_eq!(end.end, start + MAX_STAY_SECS);
        assert!(end.checked_out);
    }

    #[test]
    fn impossible_times_are_refused() {
        assert_eq!(
            stay_end(NOW, Some(NOW - 60), 30, NOW).unwrap_err().code,
            "checkout_before_checkin"
        );
        assert_eq!(
            stay_end(NOW, Some(NOW), 30, NOW).unwrap_err().code,
            "checkout_before_checkin"
        );
        assert_eq!(
            stay_end(NOW + 3600, None, 30, NOW).unwrap_err().field,
            "checked_in_at"
        );
        assert_eq!(
            stay_end(NOW - 60, Some(NOW + 3600), 30, NOW)
                .unwrap_err()
                .field,
            "checked_out_at"
        );
        // A scanner clock a minute fast is not the future.
        assert!(stay_end(NOW + 60, None, 30, NOW).is_ok());
    }
}
