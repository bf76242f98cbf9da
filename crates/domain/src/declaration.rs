//! Health and domestic travel declarations: what a person states before travelling, parsed and
//! checked here; the comparison with the registry and the pass are the server's.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::citizen::{Phone, parse_identity};
use crate::date::BirthDate;
use crate::{FullName, ParseError, PersonalId, Sex, admin_units, text};

/// Symptoms a declaration asks about (the Ministry of Health form of 2021).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Symptom {
    Fever,
    Cough,
    ShortnessOfBreath,
    LossOfTasteOrSmell,
    SoreThroat,
    Fatigue,
    Diarrhoea,
}

impl Symptom {
    pub const ALL: [Self; 7] = [
        Self::Fever,
        Self::Cough,
        Self::ShortnessOfBreath,
        Self::LossOfTasteOrSmell,
        Self::SoreThroat,
        Self::Fatigue,
        Self::Diarrhoea,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Fever => "fever",
            Self::Cough => "cough",
            Self::ShortnessOfBreath => "shortness_of_breath",
            Self::LossOfTasteOrSmell => "loss_of_taste_or_smell",
            Self::SoreThroat => "sore_throat",
            Self::Fatigue => "fatigue",
            Self::Diarrhoea => "diarrhoea",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == raw.trim())
            .ok_or_else(|| {
                ParseError::new(
                    "symptoms",
                    "unknown_symptom",
                    format!("Triệu chứng không có trong danh mục: '{}'", raw.trim()),
                    format!("Unknown symptom '{}'", raw.trim()),
                )
            })
    }
}

/// How the person travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Car,
    Motorbike,
    Bus,
    Train,
    Plane,
    Ship,
    Other,
}

impl Transport {
    pub const ALL: [Self; 7] = [
        Self::Car,
        Self::Motorbike,
        Self::Bus,
        Self::Train,
        Self::Plane,
        Self::Ship,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Car => "car",
            Self::Motorbike => "motorbike",
            Self::Bus => "bus",
            Self::Train => "train",
            Self::Plane => "plane",
            Self::Ship => "ship",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|t| t.code() == raw.trim())
            .ok_or_else(|| {
                ParseError::new(
                    "transport",
                    "unknown_transport",
                    "Phương tiện không hợp lệ",
                    "Unknown means of transport",
                )
            })
    }

    /// A plate, flight or train number is needed to follow up on fellow travellers.
    fn needs_vehicle(self) -> bool {
        !matches!(self, Self::Other)
    }
}

/// What a declaration arrives as (the API body, a legacy export row): text, checked by
/// [`DeclarationInput::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeclarationInput {
    pub personal_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// The declared permanent residence, checked against the registry when given.
    #[serde(default)]
    pub permanent_commune_code: Option<String>,
    #[serde(default)]
    pub symptoms: Vec<String>,
    #[serde(default)]
    pub contact_with_case: bool,
    #[serde(default)]
    pub contact_with_suspected: bool,
    /// Passed through an outbreak area in the last 14 days.
    #[serde(default)]
    pub visited_outbreak_area: bool,
    pub origin_commune_code: String,
    pub origin_address: String,
    pub destination_commune_code: String,
    pub destination_address: String,
    /// `YYYY-MM-DD`.
    pub travel_date: String,
    pub transport: String,
    #[serde(default)]
    pub vehicle: Option<String>,
    #[serde(default)]
    pub purpose: Option<String>,
}

/// A place of the journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub unit_code: &'static str,
    pub address: String,
}

/// A checked declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    pub personal_id: PersonalId,
    pub full_name: FullName,
    pub birth_date: BirthDate,
    pub sex: Sex,
    pub phone: Option<Phone>,
    pub permanent_unit: Option<&'static str>,
    pub symptoms: Vec<Symptom>,
    pub contact_with_case: bool,
    pub contact_with_suspected: bool,
    pub visited_outbreak_area: bool,
    pub origin: Place,
    pub destination: Place,
    pub travel_date: Date,
    pub transport: Transport,
    pub vehicle: Option<String>,
    pub purpose: Option<String>,
}

impl Declaration {
    /// Symptoms or a contact declared: checkpoints and the police see a risk flag.
    pub fn health_risk(&self) -> bool {
        !self.symptoms.is_empty() || self.contact_with_case || self.contact_with_suspected
    }
}

const MAX_ADDRESS: usize = 200;
const MAX_PURPOSE: usize = 200;
const MAX_VEHICLE: usize = 20;
/// Journeys declared for up to two weeks back (declared on arrival) and a month ahead.
const DAYS_BACK: i64 = 14;
const DAYS_AHEAD: i64 = 30;

fn vehicle(raw: &str) -> Result<String, ParseError> {
    let upper: String = text::clean(raw).to_uppercase();
    let ok = !upper.is_empty()
        && upper.chars().count() <= MAX_VEHICLE
        && upper
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ' ' | '/'));
    if ok {
        Ok(upper)
    } else {
        Err(ParseError::new(
            "vehicle",
            "invalid_vehicle",
            "Biển số, số hiệu chuyến bay/tàu: chữ, số, '-', '.', tối đa 20 ký tự",
            "Plate, flight or train number: letters, digits, '-', '.', at most 20 characters",
        ))
    }
}

impl DeclarationInput {
    /// Parses every field. `today` (Vietnam's calendar day) bounds the travel date.
    pub fn parse(&self, today: Date) -> Result<Declaration, ParseError> {
        let units = admin_units();
        let (personal_id, full_name, birth_date, sex) = parse_identity(
            &self.personal_id,
            &self.full_name,
            &self.birth_date,
            &self.sex,
            today,
        )?;
        let place = |code_field, code: &str, address_field, address: &str| {
            Ok::<_, ParseError>(Place {
                unit_code: units.parse_residence_unit(code_field, code)?,
                address: text::free_text(address_field, address, MAX_ADDRESS)?,
            })
        };
        let origin = place(
            "origin_commune_code",
            &self.origin_commune_code,
            "origin_address",
            &self.origin_address,
        )?;
        let destination = place(
            "destination_commune_code",
            &self.destination_commune_code,
            "destination_address",
            &self.destination_address,
        )?;
        if self.travel_date.trim().is_empty() {
            return Err(ParseError::missing("travel_date"));
        }
        let travel_date = crate::date::parse_day("travel_date", &self.travel_date)?;
        if travel_date < today - Duration::days(DAYS_BACK)
            || travel_date > today + Duration::days(DAYS_AHEAD)
        {
            return Err(ParseError::new(
                "travel_date",
                "travel_date_out_of_range",
                format!(
                    "Ngày đi phải trong khoảng {DAYS_BACK} ngày trước đến {DAYS_AHEAD} ngày tới"
                ),
                format!(
                    "The travel date must be within {DAYS_BACK} days back and {DAYS_AHEAD} days ahead"
                ),
            ));
        }
        let transport = Transport::parse(&self.transport)?;
        let vehicle = text::optional(self.vehicle.as_deref())
            .map(vehicle)
            .transpose()?;
        if vehicle.is_none() && transport.needs_vehicle() {
            return Err(ParseError::missing("vehicle"));
        }
        let purpose = text::optional(self.purpose.as_deref())
            .map(|p| text::free_text("purpose", p, MAX_PURPOSE))
            .transpose()?;
        if origin.unit_code == destination.unit_code && purpose.is_none() {
            return Err(ParseError::new(
                "purpose",
                "purpose_required",
                "Đi lại trong cùng xã/phường cần nêu mục đích",
                "A journey within one commune needs a purpose",
            ));
        }
        let mut symptoms = self
            .symptoms
            .iter()
            .map(|s| Symptom::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        symptoms.sort_by_key(|s| s.code());
        symptoms.dedup();
        Ok(Declaration {
            personal_id,
            full_name,
            birth_date,
            sex,
            phone: text::optional(self.phone.as_deref())
                .map(Phone::parse)
                .transpose()?,
            permanent_unit: text::optional(self.permanent_commune_code.as_deref())
                .map(|c| units.parse_residence_unit("permanent_commune_code", c))
                .transpose()?,
            symptoms,
            contact_with_case: self.contact_with_case,
            contact_with_suspected: self.contact_with_suspected,
            visited_outbreak_area: self.visited_outbreak_area,
            origin,
            destination,
            travel_date,
            transport,
            vehicle,
            purpose,
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2021 - 08 - 20);

    pub(crate) fn input() -> DeclarationInput {
        DeclarationInput {
            personal_id: "091087123456".into(),
            full_name: "Nguyễn Văn An".into(),
            birth_date: "1987-03-09".into(),
            sex: "M".into(),
            phone: Some("0912 345 678".into()),
            symptoms: vec!["cough".into(), "fever".into(), "cough".into()],
            origin_commune_code: "30730".into(),
            origin_address: "12 Trần Phú".into(),
            destination_commune_code: "00004".into(),
            destination_address: "1 Đinh Tiên Hoàng".into(),
            travel_date: "2021-08-21".into(),
            transport: "car".into(),
            vehicle: Some("68a-123.45".into()),
            ..DeclarationInput::default()
        }
    }

    #[test]
    fn a_complete_declaration_parses() {
        let d = input().parse(TODAY).unwrap();
        assert_eq!(d.symptoms, [Symptom::Cough, Symptom::Fever]);
        assert!(d.health_risk());
        assert_eq!(d.vehicle.as_deref(), Some("68A-123.45"));
        assert_eq!(d.phone.as_ref().map(Phone::as_str), Some("0912345678"));
        assert_eq!(
            (d.origin.unit_code, d.destination.unit_code),
            ("30730", "00004")
        );
        let calm = DeclarationInput {
            symptoms: vec![],
            ..input()
        };
        assert!(!calm.parse(TODAY).unwrap().health_risk());
    }

    #[test]
    #[allow(clippy::too_many_lines, reason = "one table of cases")]
    fn each_bad_field_is_named() {
        let cases: Vec<(DeclarationInput, &str, &str)> = vec![
            (
                DeclarationInput {
                    destination_commune_code: "99999".into(),
                    ..input()
                },
                "destination_commune_code",
                "unknown_commune",
            ),
            (
                DeclarationInput {
                    travel_date: "2021-06-01".into(),
                    ..input()
                },
                "travel_date",
                "travel_date_out_of_range",
            ),
            (
                DeclarationInput {
                    travel_date: "2022-08-01".into(),
                    ..input()
                },
                "travel_date",
                "travel_date_out_of_range",
            ),
            (
                DeclarationInput {
                    travel_date: "2021-08".into(),
                    ..input()
                },
                "travel_date",
                "invalid_date",
            ),
            (
                DeclarationInput {
                    transport: "rocket".into(),
                    ..input()
                },
                "transport",
                "unknown_transport",
            ),
            (
                DeclarationInput {
                    vehicle: None,
                    ..input()
                },
                "vehicle",
                "missing",
            ),
            (
                DeclarationInput {
                    vehicle: Some("<b>".into()),
                    ..input()
                },
                "vehicle",
                "invalid_vehicle",
            ),
            (
                DeclarationInput {
                    symptoms: vec!["sneezing".into()],
                    ..input()
                },
                "symptoms",
                "unknown_symptom",
            ),
            (
                DeclarationInput {
                    destination_commune_code: "30730".into(),
                    ..input()
                },
                "purpose",
                "purpose_required",
            ),
            (
                DeclarationInput {
                    origin_address: "<script>alert(1)</script>".into(),
                    ..input()
                },
                "origin_address",
                "invalid_character",
            ),
            (
                DeclarationInput {
                    purpose: Some("x".repeat(201)),
                    ..input()
                },
                "purpose",
                "too_long",
            ),
            (
                DeclarationInput {
                    sex: "F".into(),
                    ..input()
                },
                "personal_id",
                "inconsistent",
            ),
        ];
        for (bad, field, code) in cases {
            let err = bad.parse(TODAY).unwrap_err();
            assert_eq!((err.field, err.code), (field, code), "{err}");
        }
        let same_commune = DeclarationInput {
            destination_commune_code: "30730".into(),
            purpose: Some("Đi khám bệnh".into()),
            ..input()
        };
        assert!(same_commune.parse(TODAY).is_ok());
        let walking = DeclarationInput {
            transport: "other".into(),
            vehicle: None,
            ..input()
        };
        assert!(walking.parse(TODAY).is_ok());
    }
}
