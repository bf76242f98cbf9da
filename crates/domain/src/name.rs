//! Vietnamese personal names: NFC, whitespace folding, a case- and tone-placement-insensitive
//! comparison form, and an accent-folded key for search and matching.

use std::fmt;

use serde::{Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use crate::{ParseError, text};

const MAX_CHARS: usize = 100;

/// A person's full name, NFC with single spaces. Letters (any script, with their marks), spaces,
/// apostrophes, hyphens and dots only — as in `H'Hen Niê` or `Nguyễn Thị Đào`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FullName(String);

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let name = text::clean(raw);
        if name.is_empty() {
            return Err(ParseError::missing("full_name"));
        }
        if name.chars().count() > MAX_CHARS {
            return Err(ParseError::new(
                "full_name",
                "too_long",
                format!("Họ tên dài quá {MAX_CHARS} ký tự"),
                format!("Name longer than {MAX_CHARS} characters"),
            ));
        }
        if let Some(bad) = name.chars().find(|&c| !is_name_char(c)) {
            return Err(ParseError::new(
                "full_name",
                "invalid_character",
                format!("Họ tên có ký tự không hợp lệ {bad:?}"),
                format!("Name contains an invalid character {bad:?}"),
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accent-folded, lower-case key: `Nguyễn Thị Đào` → `nguyen thi dao`.
    pub fn folded_key(&self) -> String {
        fold(&self.0)
    }

    /// Form for exact comparison: lower case, one tone-placement convention (`Hoà` = `Hòa`).
    pub fn comparison_form(&self) -> String {
        comparison_form(&self.0)
    }

    /// Same person's name, allowing letter case, whitespace, NFC/NFD and tone-placement differences
    /// but not missing or different diacritics.
    pub fn matches(&self, other: &FullName) -> bool {
        // Both are NFC with single spaces: equal text needs no comparison forms (the common case).
        self == other || self.comparison_form() == other.comparison_form()
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphabetic()
        || c.is_alphabetic()
        || matches!(c, ' ' | '\'' | '-' | '.' | '\u{2019}')
        || is_combining_mark(c)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// Accent-folds any text: NFD, drop combining marks, `đ`→`d`, lower case, single spaces.
pub fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.nfd() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if is_combining_mark(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// Lower case, NFC, with the tone mark of a syllable-final `oa`, `oe`, `uy` moved onto the first
/// vowel, so GSO's `Hoà` and `Hòa` compare equal.
pub fn comparison_form(raw: &str) -> String {
    let lower: Vec<char> = text::clean(raw).to_lowercase().nfd().collect();
    let mut out: Vec<char> = Vec::with_capacity(lower.len());
    let mut i = 0;
    while i < lower.len() {
        // Pattern in NFD: first vowel, second vowel, tone, then end of syllable.
        if i + 2 < lower.len()
            && matches!((lower[i], lower[i + 1]), ('o', 'a' | 'e') | ('u', 'y'))
            && TONE_MARKS.contains(&lower[i + 2])
            && lower.get(i + 3).is_none_or(|c| !c.is_alphabetic())
        {
            out.extend([lower[i], lower[i + 2], lower[i + 1]]);
            i += 3;
            continue;
        }
        out.push(lower[i]);
        i += 1;
    }
    out.into_iter().nfc().collect()
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names are personal data: never printed by `{:?}`.
impl fmt::Debug for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FullName(***)")
    }
}

impl Serialize for FullName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_names() {
        let name = FullName::parse("Nguyễn Thị Đào").unwrap();
        assert_eq!(name.folded_key(), "nguyen thi dao");
        assert_eq!(fold("  ĐẶNG   Văn  Ơn "), "dang van on");
    }

    #[test]
    fn nfd_input_is_composed_not_rejected() {
        let nfd: String = "Nguyễn Thị Đào".nfd().collect();
        assert_ne!(nfd, "Nguyễn Thị Đào");
        let name = FullName::parse(&nfd).unwrap();
        assert_eq!(name.as_str(), "Nguyễn Thị Đào");
    }

    #[test]
    fn tone_placement_and_case_do_not_matter_but_accents_do() {
        let hoa = |s: &str| FullName::parse(s).unwrap();
        assert!(hoa("Nguyễn Văn Hoà").matches(&hoa("NGUYỄN  VĂN HÒA")));
        assert!(!hoa("Nguyễn Văn Hoà").matches(&hoa("Nguyen Van Hoa")));
        assert!(hoa("Lê Thị Thuý").matches(&hoa("Lê Thị Thúy")));
        // A tone on "oa" followed by a consonant is not moved: "Toàn" stays distinct from "Tòan".
        assert_ne!(comparison_form("Toàn"), comparison_form("Tòan"));
    }

    #[test]
    fn rejects_markup_digits_and_blank() {
        assert_eq!(
            FullName::parse("<b>An</b>").unwrap_err().code,
            "invalid_character"
        );
        assert_eq!(
            FullName::parse("An 2").unwrap_err().code,
            "invalid_character"
        );
        assert_eq!(
            FullName::parse("Robert'); DROP TABLE citizens;--")
                .unwrap_err()
                .code,
            "invalid_character"
        );
        assert_eq!(FullName::parse("  ").unwrap_err().code, "missing");
        assert!(FullName::parse("H'Hen Niê").is_ok());
    }

    #[test]
    fn debug_hides_the_name() {
        let name = FullName::parse("Trần Văn Bình").unwrap();
        assert!(!format!("{name:?}").contains("Bình"));
    }
}
