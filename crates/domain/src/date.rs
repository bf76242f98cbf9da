//! Birth dates as the registry knows them: full, month-year, or year only (older citizens often have
//! no recorded day).

use std::fmt;

use serde::{Serialize, Serializer};
use time::macros::offset;
use time::{Date, Month, OffsetDateTime, UtcOffset};

use crate::ParseError;

/// Vietnam's time (UTC+7, no daylight saving): the calendar in which doses and statuses are dated.
pub const VIETNAM: UtcOffset = offset!(+7);

/// A calendar day written `YYYY-MM-DD` (ISO 8601), as forms and query strings send it.
pub fn parse_day(field: &'static str, raw: &str) -> Result<Date, ParseError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &format).map_err(|_| {
        ParseError::new(
            field,
            "invalid_date",
            "Ngày phải có dạng YYYY-MM-DD",
            "The date must be YYYY-MM-DD",
        )
    })
}

/// An instant written in RFC 3339, e.g. `2021-11-23T08:00:00+07:00`, or a 422-style error naming
/// `field`.
pub fn parse_instant(field: &'static str, raw: &str) -> Result<OffsetDateTime, ParseError> {
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).map_err(|_| {
        ParseError::new(
            field,
            "invalid_time",
            "Thời điểm phải theo RFC 3339, ví dụ 2021-11-23T08:00:00+07:00",
            "The time must be RFC 3339, e.g. 2021-11-23T08:00:00+07:00",
        )
    })
}

/// The calendar day in Vietnam of an instant.
pub fn vietnam_day(t: OffsetDateTime) -> Date {
    t.to_offset(VIETNAM).date()
}

/// The instants of one calendar day in Vietnam, as a half-open range.
pub fn vietnam_day_range(day: Date) -> (OffsetDateTime, OffsetDateTime) {
    let start = day.midnight().assume_offset(VIETNAM);
    (start, start + time::Duration::DAY)
}

pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 2399;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BirthDate {
    Year(i32),
    YearMonth(i32, Month),
    Full(Date),
}

impl BirthDate {
    /// Parses `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::parse_field("birth_date", raw)
    }

    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, ParseError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ParseError::missing(field));
        }
        let bad = || {
            ParseError::new(
                field,
                "invalid_date",
                format!("Ngày không hợp lệ '{raw}' (dạng YYYY-MM-DD, YYYY-MM hoặc YYYY)"),
                format!("Invalid date '{raw}' (expected YYYY-MM-DD, YYYY-MM or YYYY)"),
            )
        };
        let parts: Vec<&str> = raw.split('-').collect();
        let number = |s: &str, len: usize| -> Result<u16, ParseError> {
            if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let year = i32::from(number(parts[0], 4)?);
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(ParseError::new(
                field,
                "year_out_of_range",
                format!("Năm sinh phải trong khoảng {MIN_YEAR}–{MAX_YEAR}"),
                format!("Birth year must be within {MIN_YEAR}–{MAX_YEAR}"),
            ));
        }
        let month = |s: &str| -> Result<Month, ParseError> {
            Month::try_from(number(s, 2)? as u8).map_err(|_| bad())
        };
        match parts.as_slice() {
            [_] => Ok(Self::Year(year)),
            [_, m] => Ok(Self::YearMonth(year, month(m)?)),
            [_, m, d] => {
                let day = number(d, 2)? as u8;
                Date::from_calendar_date(year, month(m)?, day)
                    .map(Self::Full)
                    .map_err(|_| bad())
            }
            _ => Err(bad()),
        }
    }

    /// Parses the chip card's `ddmmyyyy`.
    pub fn parse_ddmmyyyy(field: &'static str, raw: &str) -> Result<Date, ParseError> {
        let bad = || {
            ParseError::new(
                field,
                "invalid_date",
                format!("Ngày không hợp lệ '{raw}' (dạng ddmmyyyy)"),
                format!("Invalid date '{raw}' (expected ddmmyyyy)"),
            )
        };
        if raw.len() != 8 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let day: u8 = raw[0..2].parse().map_err(|_| bad())?;
        let month: u8 = raw[2..4].parse().map_err(|_| bad())?;
        let year: i32 = raw[4..8].parse().map_err(|_| bad())?;
        let month = Month::try_from(month).map_err(|_| bad())?;
        Date::from_calendar_date(year, month, day).map_err(|_| bad())
    }

    pub fn year(self) -> i32 {
        match self {
            Self::Year(y) | Self::YearMonth(y, _) => y,
            Self::Full(d) => d.year(),
        }
    }

    /// Earliest day this date can denote, for "not in the future" checks.
    pub fn earliest_day(self) -> Date {
        let (year, month, day) = match self {
            Self::Year(y) => (y, Month::January, 1),
            Self::YearMonth(y, m) => (y, m, 1),
            Self::Full(d) => return d,
        };
        Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
    }

    /// Rejects a date that lies wholly after `today`.
    pub fn check_not_future(self, field: &'static str, today: Date) -> Result<Self, ParseError> {
        if self.earliest_day() > today {
            return Err(ParseError::new(
                field,
                "future_date",
                "Ngày sinh ở tương lai",
                "Birth date is in the future",
            ));
        }
        Ok(self)
    }

    /// Whether a precise date (e.g. typed into a form) is compatible with this possibly partial one.
    pub fn admits(self, other: Self) -> bool {
        match (self, other) {
            (Self::Full(a), Self::Full(b)) => a == b,
            (a, b) => {
                a.year() == b.year()
                    && match (a.month(), b.month()) {
                        (Some(x), Some(y)) => x == y,
                        _ => true,
                    }
            }
        }
    }

    fn month(self) -> Option<Month> {
        match self {
            Self::Year(_) => None,
            Self::YearMonth(_, m) => Some(m),
            Self::Full(d) => Some(d.month()),
        }
    }
}

impl From<Date> for BirthDate {
    fn from(d: Date) -> Self {
        Self::Full(d)
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Year(y) => write!(f, "{y:04}"),
            Self::YearMonth(y, m) => write!(f, "{y:04}-{:02}", m as u8),
            Self::Full(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day()),
        }
    }
}

impl Serialize for BirthDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_three_precisions_and_prints_them_back() {
        for s in ["1987", "1987-03", "1987-03-09"] {
            assert_eq!(BirthDate::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_impossible_dates() {
        for s in [
            "1987-02-30",
            "1987-13",
            "87-01-01",
            "1987-1-1",
            "abcd",
            "1800",
            "2023-02-29",
        ] {
            assert!(BirthDate::parse(s).is_err(), "{s} should be rejected");
        }
        assert!(BirthDate::parse("2024-02-29").is_ok());
        assert_eq!(BirthDate::parse("").unwrap_err().code, "missing");
    }

    #[test]
    fn future_dates_are_rejected_against_today() {
        let today = date!(2021 - 08 - 01);
        let d = BirthDate::parse("2021-09").unwrap();
        assert_eq!(
            d.check_not_future("birth_date", today).unwrap_err().code,
            "future_date"
        );
        assert!(
            BirthDate::parse("2021")
                .unwrap()
                .check_not_future("birth_date", today)
                .is_ok()
        );
    }

    #[test]
    fn partial_dates_admit_precise_ones() {
        let year = BirthDate::parse("1950").unwrap();
        let month = BirthDate::parse("1950-04").unwrap();
        let full = BirthDate::parse("1950-04-12").unwrap();
        assert!(year.admits(full) && month.admits(full) && full.admits(full));
        assert!(!month.admits(BirthDate::parse("1950-05-12").unwrap()));
        assert!(!full.admits(BirthDate::parse("1950-04-13").unwrap()));
    }

    #[test]
    fn parses_chip_card_dates() {
        assert_eq!(
            BirthDate::parse_ddmmyyyy("d", "09031987").unwrap(),
            date!(1987 - 03 - 09)
        );
        assert!(BirthDate::parse_ddmmyyyy("d", "31021987").is_err());
        assert!(BirthDate::parse_ddmmyyyy("d", "0903198").is_err());
    }
}
