//! The 12-digit personal identification number (số định danh cá nhân), Decree 137/2015/NĐ-CP Art. 13
//! and Circular 07/2016/TT-BCA: province of birth registration (3), century+sex (1), birth year (2),
//! random (6). No check digit exists, so only structure and consistency can be checked.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::{BirthDate, ParseError, Sex, admin_units};

/// Stored as its numeric value (it fits in 40 bits), printed zero-padded to 12 digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonalId(u64);

const MAX: u64 = 999_999_999_999;

impl PersonalId {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ParseError::missing("personal_id"));
        }
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(
                "personal_id",
                "invalid_format",
                "Số định danh phải gồm đúng 12 chữ số",
                "Personal ID must be exactly 12 digits",
            ));
        }
        let value = s
            .bytes()
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
        Self::from_number(value)
    }

    /// Rebuilds an ID from its stored numeric value, re-checking its structure.
    pub fn from_number(value: u64) -> Result<Self, ParseError> {
        if value > MAX {
            return Err(ParseError::new(
                "personal_id",
                "invalid_format",
                "Số định danh phải gồm đúng 12 chữ số",
                "Personal ID must be exactly 12 digits",
            ));
        }
        let id = Self(value);
        let province = id.province_code();
        if admin_units()
            .get(&province)
            .is_none_or(|u| !u.parent.is_empty())
        {
            return Err(ParseError::new(
                "personal_id",
                "unknown_province",
                format!("Mã tỉnh nơi đăng ký khai sinh không tồn tại: '0{province}'"),
                format!("Unknown birth-registration province code '0{province}'"),
            ));
        }
        Ok(id)
    }

    pub fn as_number(self) -> u64 {
        self.0
    }

    fn digit(self, position: u32) -> u64 {
        (self.0 / 10u64.pow(11 - position)) % 10
    }

    /// The GSO code (2 digits) of the province where the birth was registered.
    pub fn province_code(self) -> String {
        format!("{:02}", self.0 / 1_000_000_000 % 1000)
    }

    pub fn sex(self) -> Sex {
        if self.digit(3).is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    pub fn birth_year(self) -> i32 {
        let century = self.digit(3) / 2;
        let yy = self.digit(4) * 10 + self.digit(5);
        1900 + 100 * century as i32 + yy as i32
    }

    /// The last four digits, enough for an officer to confirm a card without exposing the number.
    pub fn last_four(self) -> String {
        format!("{:04}", self.0 % 10_000)
    }

    /// Checks digits 4–6 against a recorded birth date and sex; names each field that disagrees.
    pub fn check_consistency(self, birth: BirthDate, sex: Sex) -> Result<(), ParseError> {
        let mut wrong = Vec::new();
        if self.birth_year() != birth.year() {
            wrong.push("birth_date");
        }
        if self.sex() != sex {
            wrong.push("sex");
        }
        if wrong.is_empty() {
            return Ok(());
        }
        let fields = wrong.join(", ");
        Err(ParseError::new(
            "personal_id",
            "inconsistent",
            format!("Số định danh không khớp với: {fields}"),
            format!("Personal ID disagrees with: {fields}"),
        ))
    }
}

impl FromStr for PersonalId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012}", self.0)
    }
}

/// IDs are personal data: `{:?}` shows only the last four digits.
impl fmt::Debug for PersonalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalId(********{})", self.last_four())
    }
}

impl Serialize for PersonalId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_example() {
        let id = PersonalId::parse("001087123456").unwrap();
        assert_eq!(id.to_string(), "001087123456");
        assert_eq!(id.province_code(), "01");
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.birth_year(), 1987);
        assert_eq!(id.last_four(), "3456");
    }

    #[test]
    fn century_and_sex_digit() {
        let cases = [
            ("079300000001", Sex::Female, 2000),
            ("091205123456", Sex::Male, 2005),
            ("091199000000", Sex::Female, 1999),
            ("091421000000", Sex::Male, 2121),
        ];
        for (raw, sex, year) in cases {
            let id = PersonalId::parse(raw).unwrap();
            assert_eq!((id.sex(), id.birth_year()), (sex, year), "{raw}");
        }
    }

    #[test]
    fn rejects_bad_structure() {
        for (raw, code) in [
            ("00108712345", "invalid_format"),
            ("0010871234567", "invalid_format"),
            ("00108712345a", "invalid_format"),
            ("003087123456", "unknown_province"),
            ("099087123456", "unknown_province"),
            ("", "missing"),
            ("١٢٣٤٥٦٧٨٩٠١٢", "invalid_format"),
        ] {
            assert_eq!(PersonalId::parse(raw).unwrap_err().code, code, "{raw:?}");
        }
    }

    #[test]
    fn consistency_names_the_disagreeing_fields() {
        let id = PersonalId::parse("001087123456").unwrap();
        assert!(
            id.check_consistency(BirthDate::parse("1987-05-01").unwrap(), Sex::Male)
                .is_ok()
        );
        let err = id
            .check_consistency(BirthDate::parse("1988").unwrap(), Sex::Female)
            .unwrap_err();
        assert_eq!(err.code, "inconsistent");
        assert!(err.message_en.contains("birth_date") && err.message_en.contains("sex"));
    }

    #[test]
    fn debug_masks_all_but_last_four() {
        let id = PersonalId::parse("001087123456").unwrap();
        assert_eq!(format!("{id:?}"), "PersonalId(********3456)");
    }

    #[test]
    fn numeric_round_trip() {
        let id = PersonalId::parse("096399999999").unwrap();
        assert_eq!(PersonalId::from_number(id.as_number()).unwrap(), id);
        assert!(PersonalId::from_number(1_000_000_000_000).is_err());
    }
}
