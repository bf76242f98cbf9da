// Any text as a chip ID card QR, a personal ID, or a registry CSV row: parsing must report, never
// panic, and an ID that parses prints back as the digits it was read from.
// Included by fuzz/fuzz_targets/registry_text.rs and by the replay test of the corpus.

use vaxtrace_domain::{ChipQr, CitizenInput, PersonalId};

/// The property of every input; shared by the fuzz target and the replay test.
pub fn check(text: &str) {
    if let Ok(id) = PersonalId::parse(text) {
        assert_eq!(id.to_string(), text.trim());
    }
    if let Ok(card) = ChipQr::parse(text) {
        assert!(card.issue_date >= card.birth_date);
    }
    let f: Vec<&str> = text.split(',').collect();
    let get = |i: usize| f.get(i).map(|s| (*s).to_owned());
    let row = CitizenInput {
        personal_id: get(0).unwrap_or_default(),
        full_name: get(1).unwrap_or_default(),
        birth_date: get(2).unwrap_or_default(),
        sex: get(3).unwrap_or_default(),
        permanent_commune_code: get(4).unwrap_or_default(),
        permanent_address: get(5).unwrap_or_default(),
        temporary_commune_code: get(6),
        temporary_address: get(7),
        phone: get(8),
        legacy_id: get(9),
        household_id: get(10),
        status: get(11),
    };
    let today = time::Date::from_calendar_date(2021, time::Month::August, 15).unwrap();
    let _ = row.parse(today);
}
