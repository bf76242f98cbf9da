//! Text hygiene shared by every free-text field: NFC, collapsed whitespace, no control or markup
//! characters.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::ParseError;

/// NFC-normalises, trims and collapses internal whitespace runs to one space.
pub fn clean(raw: &str) -> String {
    // Nearly all input is already clean: checking is several times cheaper than rebuilding.
    if is_clean(raw) {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.nfc());
    }
    out
}

fn is_clean(raw: &str) -> bool {
    let mut previous_space = true; // also rejects a leading space
    for c in raw.chars() {
        let space = c.is_whitespace();
        if space && (c != ' ' || previous_space) {
            return false;
        }
        previous_space = space;
    }
    !raw.ends_with(' ') && (raw.is_ascii() || is_nfc_quick(raw.chars()) == IsNormalized::Yes)
}

/// A cleaned free-text field (address and the like): non-empty, bounded, and free of control
/// characters and of `<`/`>` so it can never carry markup.
pub fn free_text(field: &'static str, raw: &str, max_chars: usize) -> Result<String, ParseError> {
    let text = clean(raw);
    if text.is_empty() {
        return Err(ParseError::missing(field));
    }
    if text.chars().count() > max_chars {
        return Err(ParseError::new(
            field,
            "too_long",
            format!("Dài quá {max_chars} ký tự"),
            format!("Longer than {max_chars} characters"),
        ));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| c.is_control() || matches!(c, '<' | '>'))
    {
        return Err(ParseError::new(
            field,
            "invalid_character",
            format!("Ký tự không hợp lệ {bad:?}"),
            format!("Invalid character {bad:?}"),
        ));
    }
    Ok(text)
}

/// `Some(cleaned)` for a non-blank optional field, `None` for a blank one.
pub fn optional(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_collapses_whitespace_and_composes() {
        // "Đào" written decomposed (NFD) with doubled spaces.
        let nfd = "  Nguye\u{302}\u{303}n   Thi\u{323}\tĐa\u{300}o ";
        assert_eq!(clean(nfd), "Nguyễn Thị Đào");
    }

    #[test]
    fn clean_input_is_kept_and_unclean_input_fixed() {
        for already in ["", "Nguyễn Thị Đào", "a b"] {
            assert!(is_clean(already), "{already:?}");
            assert_eq!(clean(already), already);
        }
        for (dirty, fixed) in [
            (" a", "a"),
            ("a ", "a"),
            ("a  b", "a b"),
            ("a\tb", "a b"),
            ("a\u{a0}b", "a b"),
        ] {
            assert!(!is_clean(dirty), "{dirty:?}");
            assert_eq!(clean(dirty), fixed);
        }
        assert!(!is_clean("Đa\u{300}o"), "NFD is not clean");
    }

    #[test]
    fn free_text_rejects_markup_and_controls() {
        assert_eq!(
            free_text("address", "<script>", 50).unwrap_err().code,
            "invalid_character"
        );
        assert_eq!(
            free_text("address", "a\u{7}b", 50).unwrap_err().code,
            "invalid_character"
        );
        assert_eq!(free_text("address", "   ", 50).unwrap_err().code, "missing");
        assert_eq!(
            free_text("address", "abcdef", 5).unwrap_err().code,
            "too_long"
        );
        assert_eq!(free_text("address", "12 Lê Lợi", 50).unwrap(), "12 Lê Lợi");
    }
}
