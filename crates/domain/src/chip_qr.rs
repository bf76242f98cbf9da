//! The QR text printed on the chip-based citizen identity card:
//! `id|old_id|full name|ddmmyyyy birth date|sex|address|ddmmyyyy issue date`.

use serde::Serialize;
use time::Date;

use crate::{BirthDate, FullName, LegacyId, ParseError, PersonalId, Sex, text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChipQr {
    pub personal_id: PersonalId,
    pub legacy_id: Option<LegacyId>,
    pub full_name: FullName,
    pub birth_date: Date,
    pub sex: Sex,
    pub address: String,
    pub issue_date: Date,
}

const FIELDS: [&str; 7] = [
    "personal_id",
    "legacy_id",
    "full_name",
    "birth_date",
    "sex",
    "address",
    "issue_date",
];

impl ChipQr {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let raw = raw.trim_end_matches(['\r', '\n']);
        if raw.len() > 1024 {
            return Err(ParseError::new(
                "qr",
                "too_long",
                "Mã QR quá dài",
                "QR text is too long",
            ));
        }
        let parts: Vec<&str> = raw.split('|').collect();
        if parts.len() != FIELDS.len() {
            return Err(ParseError::new(
                "qr",
                "field_count",
                format!("Mã QR phải có 7 trường ngăn bởi '|', có {}", parts.len()),
                format!(
                    "QR text must have 7 '|'-separated fields, found {}",
                    parts.len()
                ),
            ));
        }
        let personal_id = PersonalId::parse(parts[0])?;
        let legacy_id = text::optional(Some(parts[1]))
            .map(LegacyId::parse)
            .transpose()?;
        let full_name = FullName::parse(parts[2])?;
        let birth_date = BirthDate::parse_ddmmyyyy("birth_date", parts[3])?;
        let sex = Sex::parse_field("sex", parts[4])?;
        let address = text::free_text("address", parts[5], 300)?;
        let issue_date = BirthDate::parse_ddmmyyyy("issue_date", parts[6])?;
        if issue_date < birth_date {
            return Err(ParseError::new(
                "issue_date",
                "before_birth",
                "Ngày cấp trước ngày sinh",
                "Issue date is before the birth date",
            ));
        }
        personal_id.check_consistency(BirthDate::Full(birth_date), sex)?;
        Ok(Self {
            personal_id,
            legacy_id,
            full_name,
            birth_date,
            sex,
            address,
            issue_date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const GOOD: &str = "091087123456|371234567|Nguyễn Văn An|09031987|Nam|12 Trần Phú, Vĩnh Thanh Vân, Rạch Giá, Kiên Giang|15072021";

    #[test]
    fn parses_a_card() {
        let qr = ChipQr::parse(GOOD).unwrap();
        assert_eq!(qr.personal_id.to_string(), "091087123456");
        assert_eq!(qr.legacy_id.unwrap().as_str(), "371234567");
        assert_eq!(qr.full_name.as_str(), "Nguyễn Văn An");
        assert_eq!(qr.birth_date, date!(1987 - 03 - 09));
        assert_eq!(qr.sex, Sex::Male);
        assert_eq!(qr.issue_date, date!(2021 - 07 - 15));
    }

    #[test]
    fn empty_old_id_is_allowed() {
        let qr = ChipQr::parse(&GOOD.replace("|371234567|", "||")).unwrap();
        assert!(qr.legacy_id.is_none());
    }

    #[test]
    fn every_malformed_field_is_named() {
        let cases = [
            (GOOD.replace("091087123456", "09108712345"), "personal_id"),
            (GOOD.replace("371234567", "37123"), "legacy_id"),
            (GOOD.replace("Nguyễn Văn An", ""), "full_name"),
            (GOOD.replace("09031987", "31021987"), "birth_date"),
            (GOOD.replace("|Nam|", "|Khác|"), "sex"),
            (GOOD.replace("12 Trần Phú", "<script>"), "address"),
            (GOOD.replace("15072021", "2021-07-15"), "issue_date"),
            (GOOD.replace("15072021", "01011980"), "issue_date"),
            (GOOD.replace("|Nam|", "|Nữ|"), "personal_id"),
            ("091087123456|x".to_owned(), "qr"),
        ];
        for (raw, field) in cases {
            assert_eq!(ChipQr::parse(&raw).unwrap_err().field, field, "{raw}");
        }
    }
}
