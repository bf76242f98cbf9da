//! Properties of the parsers of outside input over generated values: personal IDs and chip ID card
//! QR texts round-trip, names fold stably, and no input of any shape makes a parser panic.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;
use vaxtrace_domain::name::fold;
use vaxtrace_domain::{ChipQr, FullName, PersonalId, Sex, admin_units};

fn province_code() -> impl Strategy<Value = String> {
    let codes: Vec<String> = admin_units()
        .provinces()
        .map(|u| u.code.to_owned())
        .collect();
    prop::sample::select(codes)
}

/// A structurally valid ID for a person born in `year` with `sex`.
fn id_text(province: &str, sex: Sex, year: i32, serial: u32) -> String {
    let century = u32::try_from((year - 1900) / 100).unwrap();
    let digit = century * 2 + u32::from(sex == Sex::Female);
    format!("0{province}{digit}{:02}{serial:06}", year % 100)
}

fn sex() -> impl Strategy<Value = Sex> {
    prop_oneof![Just(Sex::Male), Just(Sex::Female)]
}

fn vietnamese_name() -> impl Strategy<Value = String> {
    let word =
        "[A-ZĐÂĂÊÔƠƯ][a-zđàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]{0,7}";
    prop::collection::vec(word, 1..5).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn personal_ids_round_trip(province in province_code(), sex in sex(), year in 1900i32..2100, serial in 0u32..1_000_000) {
        let text = id_text(&province, sex, year, serial);
        let id = PersonalId::parse(&text).unwrap();
        prop_assert_eq!(id.to_string(), text.clone());
        prop_assert_eq!(PersonalId::from_number(id.as_number()).unwrap(), id);
        prop_assert_eq!((id.sex(), id.birth_year()), (sex, year));
        prop_assert_eq!(PersonalId::parse(&format!("  {text}\n")).unwrap(), id);
    }

    #[test]
    fn any_text_either_parses_to_itself_or_is_refused(raw in "[0-9]{12}|\\PC{0,20}") {
        if let Ok(id) = PersonalId::parse(&raw) {
            prop_assert_eq!(id.to_string(), raw.trim());
        }
    }

    #[test]
    fn chip_qr_texts_round_trip(
        province in province_code(),
        sex in sex(),
        (year, month, day) in (1920i32..2008, 1u8..=12, 1u8..=28),
        serial in 0u32..1_000_000,
        name in vietnamese_name(),
        legacy in prop::option::of("[0-9]{9}"),
    ) {
        let id = id_text(&province, sex, year, serial);
        let sex_word = if sex == Sex::Male { "Nam" } else { "Nữ" };
        let text = format!(
            "{id}|{}|{name}|{day:02}{month:02}{year}|{sex_word}|12 Trần Phú, Rạch Giá|15072021",
            legacy.clone().unwrap_or_default()
        );
        let qr = ChipQr::parse(&text).unwrap();
        prop_assert_eq!(qr.personal_id.to_string(), id);
        prop_assert_eq!(qr.legacy_id.map(|l| l.as_str().to_owned()), legacy);
        prop_assert_eq!(qr.full_name.as_str(), name.as_str());
        prop_assert_eq!((qr.birth_date.year(), u8::from(qr.birth_date.month()), qr.birth_date.day()), (year, month, day));
        prop_assert_eq!(qr.sex, sex);
    }

    #[test]
    fn chip_qr_parsing_never_panics(fields in prop::collection::vec("\\PC{0,14}", 0..9)) {
        let _ = ChipQr::parse(&fields.join("|"));
    }

    #[test]
    fn names_fold_stably_in_any_normal_form(name in vietnamese_name()) {
        let folded = fold(&name);
        prop_assert!(folded.is_ascii(), "{}", folded);
        prop_assert_eq!(fold(&folded), folded.clone());
        let decomposed: String = name.nfd().collect();
        prop_assert_eq!(fold(&decomposed), folded);
        let parsed = FullName::parse(&decomposed).unwrap();
        prop_assert_eq!(parsed.as_str(), name.as_str());
        prop_assert!(parsed.matches(&FullName::parse(&name.to_uppercase()).unwrap()));
    }
}
