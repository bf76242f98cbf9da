//! The vaccine catalogue: the COVID-19 vaccines used in Vietnam, keyed by the EU DCC value-set
//! product code (`vaccine-medicinal-product`), with the manufacturer code (`vaccine-mah-manf`),
//! prophylaxis type (`vaccine-prophylaxis`), primary-series length and minimum dose interval.

use serde::Serialize;
use time::{Date, macros::date};

use crate::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Vaccine {
    /// EU DCC `mp` code.
    pub code: &'static str,
    pub name: &'static str,
    pub manufacturer: &'static str,
    /// EU DCC `ma` code.
    pub manufacturer_code: &'static str,
    /// EU DCC `vp` code.
    pub prophylaxis_code: &'static str,
    pub primary_doses: u8,
    pub min_interval_days: u16,
    /// Earliest plausible administration (first clinical use or emergency authorisation); a shot
    /// dated before this is a data error.
    pub available_from: Date,
    /// Other spellings found in legacy app exports.
    #[serde(skip)]
    pub aliases: &'static [&'static str],
}

const MRNA: &str = "1119349007";
const VECTOR: &str = "29061000087103";
const INACTIVATED: &str = "1157024006";
const PROTEIN: &str = "1162643001";

pub const CATALOGUE: &[Vaccine] = &[
    Vaccine {
        code: "EU/1/21/1529",
        name: "AstraZeneca (Vaxzevria)",
        manufacturer: "AstraZeneca AB",
        manufacturer_code: "ORG-100001699",
        prophylaxis_code: VECTOR,
        primary_doses: 2,
        min_interval_days: 28,
        available_from: date!(2020 - 12 - 30),
        aliases: &["AZ", "ASTRAZENECA", "VAXZEVRIA", "COVISHIELD"],
    },
    Vaccine {
        code: "EU/1/20/1528",
        name: "Pfizer-BioNTech (Comirnaty)",
        manufacturer: "Biontech Manufacturing GmbH",
        manufacturer_code: "ORG-100030215",
        prophylaxis_code: MRNA,
        primary_doses: 2,
        min_interval_days: 21,
        available_from: date!(2020 - 12 - 08),
        aliases: &["PFIZER", "COMIRNATY", "PFIZER-BIONTECH"],
    },
    Vaccine {
        code: "EU/1/20/1507",
        name: "Moderna (Spikevax)",
        manufacturer: "Moderna Biotech Spain S.L.",
        manufacturer_code: "ORG-100031184",
        prophylaxis_code: MRNA,
        primary_doses: 2,
        min_interval_days: 28,
        available_from: date!(2020 - 12 - 21),
        aliases: &["MODERNA", "SPIKEVAX"],
    },
    Vaccine {
        code: "BBIBP-CorV",
        name: "Sinopharm (BBIBP-CorV / Vero Cell)",
        manufacturer: "China Sinopharm International Corp. - Beijing location",
        manufacturer_code: "ORG-100020693",
        prophylaxis_code: INACTIVATED,
        primary_doses: 2,
        min_interval_days: 21,
        available_from: date!(2020 - 07 - 22),
        aliases: &[
            "SINOPHARM",
            "VERO CELL",
            "VEROCELL",
            "Inactivated-SARS-CoV-2-Vero-Cell",
        ],
    },
    Vaccine {
        code: "Sputnik-V",
        name: "Sputnik V (Gam-COVID-Vac)",
        manufacturer: "Gamaleya Research Institute",
        manufacturer_code: "Gamaleya-Research-Institute",
        prophylaxis_code: VECTOR,
        primary_doses: 2,
        min_interval_days: 21,
        available_from: date!(2020 - 08 - 11),
        aliases: &["SPUTNIK", "SPUTNIK V", "GAM-COVID-VAC"],
    },
    Vaccine {
        code: "Abdala",
        name: "Abdala (CIGB-66)",
        manufacturer: "Center for Genetic Engineering and Biotechnology",
        manufacturer_code: "CIGB",
        prophylaxis_code: PROTEIN,
        primary_doses: 3,
        min_interval_days: 14,
        available_from: date!(2021 - 03 - 22),
        aliases: &["CIGB-66", "ABDALA"],
    },
    Vaccine {
        code: "Hayat-Vax",
        name: "Hayat-Vax",
        manufacturer: "Gulf Pharmaceutical Industries",
        manufacturer_code: "ORG-100023050",
        prophylaxis_code: INACTIVATED,
        primary_doses: 2,
        min_interval_days: 21,
        available_from: date!(2021 - 03 - 29),
        aliases: &["HAYAT", "HAYATVAX", "HAYAT-VAX"],
    },
    Vaccine {
        code: "EU/1/20/1525",
        name: "Janssen (Jcovden)",
        manufacturer: "Janssen-Cilag International",
        manufacturer_code: "ORG-100001417",
        prophylaxis_code: VECTOR,
        primary_doses: 1,
        min_interval_days: 0,
        available_from: date!(2021 - 02 - 27),
        aliases: &["JANSSEN", "J&J", "JCOVDEN"],
    },
];

/// Highest dose number accepted: primary series plus two boosters.
pub const MAX_DOSE_NUMBER: u8 = 5;

impl Vaccine {
    /// Finds a vaccine by its code or a known alias, ignoring case and surrounding spaces.
    pub fn parse(raw: &str) -> Result<&'static Vaccine, ParseError> {
        let wanted = raw.trim();
        if wanted.is_empty() {
            return Err(ParseError::missing("vaccine_code"));
        }
        CATALOGUE
            .iter()
            .find(|v| {
                v.code.eq_ignore_ascii_case(wanted)
                    || v.aliases.iter().any(|a| a.eq_ignore_ascii_case(wanted))
            })
            .ok_or_else(|| {
                let codes: Vec<&str> = CATALOGUE.iter().map(|v| v.code).collect();
                ParseError::new(
                    "vaccine_code",
                    "unknown_vaccine",
                    format!(
                        "Mã vắc xin không có trong danh mục; chọn: {}",
                        codes.join(", ")
                    ),
                    format!("Unknown vaccine code; one of: {}", codes.join(", ")),
                )
            })
    }

    pub fn by_code(code: &str) -> Option<&'static Vaccine> {
        CATALOGUE.iter().find(|v| v.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_from_the_eu_value_sets() {
        for (i, v) in CATALOGUE.iter().enumerate() {
            assert!(CATALOGUE[i + 1..].iter().all(|w| w.code != v.code));
            assert!(v.primary_doses >= 1);
        }
        assert_eq!(Vaccine::by_code("EU/1/20/1525").unwrap().primary_doses, 1);
        assert_eq!(Vaccine::by_code("Abdala").unwrap().primary_doses, 3);
    }

    #[test]
    fn parses_codes_and_legacy_aliases() {
        assert_eq!(
            Vaccine::parse(" eu/1/21/1529 ").unwrap().code,
            "EU/1/21/1529"
        );
        assert_eq!(Vaccine::parse("Vero Cell").unwrap().code, "BBIBP-CorV");
        assert_eq!(Vaccine::parse("pfizer").unwrap().code, "EU/1/20/1528");
        assert_eq!(Vaccine::parse("CIGB-66").unwrap().code, "Abdala");
        assert_eq!(Vaccine::parse("XYZ").unwrap_err().code, "unknown_vaccine");
        assert_eq!(Vaccine::parse("").unwrap_err().code, "missing");
    }
}
