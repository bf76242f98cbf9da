//! Rules of the citizen app: one-time codes, household members managed from one account, and the
//! health-insurance card number.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::{ParseError, Phone};

/// A one-time code is six digits, valid this long.
pub const OTP_TTL_SECONDS: i64 = 5 * 60;
/// Wrong codes allowed on one challenge; the next try finds it locked.
pub const OTP_MAX_ATTEMPTS: u32 = 5;
/// Codes sent to one personal ID within [`OTP_WINDOW_SECONDS`]; more is refused (SMS cost, abuse).
pub const OTP_MAX_PER_PERSON: u32 = 3;
/// Codes sent to one phone number within the window, whichever personal ID asked.
pub const OTP_MAX_PER_PHONE: u32 = 5;
pub const OTP_WINDOW_SECONDS: i64 = 15 * 60;
/// People one account manages, the holder included (a large household).
pub const MAX_PEOPLE_PER_ACCOUNT: usize = 12;

/// Parses a six-digit code as typed: spaces are ignored.
pub fn parse_otp(raw: &str) -> Result<String, ParseError> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(ParseError::new(
            "code",
            "invalid_code",
            "Mã xác thực gồm 6 chữ số",
            "The code is 6 digits",
        ))
    }
}

/// The phone as shown back to a person who typed it: only the last three digits.
pub fn masked_phone(phone: &Phone) -> String {
    let digits = phone.as_str();
    let keep = digits.len().saturating_sub(3);
    format!("{}{}", "*".repeat(keep), &digits[keep..])
}

/// How a managed person relates to the account holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The account holder.
    #[serde(rename = "self")]
    Holder,
    Child,
    Parent,
    Spouse,
    Grandparent,
    Sibling,
    Other,
}

impl Relation {
    pub const MEMBERS: [Relation; 6] = [
        Self::Child,
        Self::Parent,
        Self::Spouse,
        Self::Grandparent,
        Self::Sibling,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Holder => "self",
            Self::Child => "child",
            Self::Parent => "parent",
            Self::Spouse => "spouse",
            Self::Grandparent => "grandparent",
            Self::Sibling => "sibling",
            Self::Other => "other",
        }
    }

    /// A stored code, the holder's included.
    pub fn from_code(code: &str) -> Option<Self> {
        std::iter::once(Self::Holder)
            .chain(Self::MEMBERS)
            .find(|r| r.code() == code)
    }

    /// A relation a person may give for someone they add: never `self`.
    pub fn parse_member(raw: &str) -> Result<Self, ParseError> {
        Self::MEMBERS
            .into_iter()
            .find(|r| r.code() == raw.trim())
            .ok_or_else(|| {
                ParseError::new(
                    "relation",
                    "invalid_relation",
                    "Quan hệ là một trong: child, parent, spouse, grandparent, sibling, other",
                    "Relation is one of: child, parent, spouse, grandparent, sibling, other",
                )
            })
    }
}

/// The health-insurance card number (mã thẻ BHYT): two letters for the beneficiary group, one digit
/// 1–5 for the benefit level, two digits for the issuing province, then the ten-digit social
/// insurance number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct InsuranceNumber(String);

impl InsuranceNumber {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        let b = s.as_bytes();
        let valid = b.len() == 15
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && (b'1'..=b'5').contains(&b[2])
            && b[3..].iter().all(u8::is_ascii_digit)
            && &b[3..5] != b"00";
        if valid {
            Ok(Self(s))
        } else {
            Err(ParseError::new(
                "card_number",
                "invalid_insurance_number",
                "Mã thẻ BHYT gồm 15 ký tự: 2 chữ cái, mức hưởng 1–5, mã tỉnh 2 số, mã số BHXH 10 số",
                "Health-insurance card number is 15 characters: 2 letters, benefit level 1–5, \
                 2-digit province, 10-digit social-insurance number",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ten-digit social-insurance number the card carries.
    pub fn social_insurance_number(&self) -> &str {
        &self.0[5..]
    }
}

impl fmt::Debug for InsuranceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InsuranceNumber(***)")
    }
}

impl Serialize for InsuranceNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_spaces_aside() {
        assert_eq!(parse_otp(" 123 456 ").unwrap(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert_eq!(parse_otp(bad).unwrap_err().code, "invalid_code", "{bad}");
        }
    }

    #[test]
    fn a_masked_phone_shows_the_last_three_digits() {
        let phone = Phone::parse("+84 912 345 678").unwrap();
        assert_eq!(masked_phone(&phone), "*******678");
    }

    #[test]
    fn relations_round_trip_and_self_cannot_be_claimed() {
        for r in Relation::MEMBERS {
            assert_eq!(Relation::parse_member(r.code()).unwrap(), r);
            assert_eq!(Relation::from_code(r.code()), Some(r));
        }
        assert_eq!(Relation::from_code("self"), Some(Relation::Holder));
        assert!(Relation::parse_member("self").is_err());
        assert!(Relation::parse_member("cousin").is_err());
    }

    #[test]
    fn insurance_numbers_are_checked_field_by_field() {
        let card = InsuranceNumber::parse("dn 4 91 0123456789").unwrap();
        assert_eq!(card.as_str(), "DN4910123456789");
        assert_eq!(card.social_insurance_number(), "0123456789");
        for bad in [
            "DN491012345678",   // 14 characters
            "DN6910123456789",  // benefit level 6
            "D14910123456789",  // one letter
            "DN4000123456789",  // province 00
            "DN49101234567X9",  // letter in the number
            "DN49101234567890", // 16 characters
        ] {
            assert!(InsuranceNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(format!("{card:?}"), "InsuranceNumber(***)");
    }
}
