//! A citizen of the population registry and the parsing of one raw record (CSV row, JSON body).

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};
use time::Date;

use crate::{BirthDate, FullName, ParseError, PersonalId, admin_units, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "F")]
    Female,
}

impl Sex {
    /// `M`/`F`, and the Vietnamese words `Nam`/`Nữ` as printed on ID cards.
    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, ParseError> {
        match text::clean(raw).to_lowercase().as_str() {
            "m" | "nam" => Ok(Self::Male),
            "f" | "nữ" => Ok(Self::Female),
            "" => Err(ParseError::missing(field)),
            _ => Err(ParseError::new(
                field,
                "invalid_sex",
                "Giới tính phải là M (nam) hoặc F (nữ)",
                "Sex must be M (male) or F (female)",
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Male => "M",
            Self::Female => "F",
        }
    }
}

/// The legacy identity card number (chứng minh nhân dân): 9 digits, or 12 on the 2012–2016 cards.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LegacyId(String);

impl LegacyId {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if (s.len() == 9 || s.len() == 12) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(
                "legacy_id",
                "invalid_format",
                "Số CMND cũ phải gồm 9 hoặc 12 chữ số",
                "Legacy ID number must be 9 or 12 digits",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Vietnamese phone number, normalised to the national form `0xxxxxxxxx` (`+84` accepted).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        let national = match compact
            .strip_prefix("+84")
            .or_else(|| compact.strip_prefix("84"))
        {
            Some(rest) if compact.len() >= 11 => format!("0{rest}"),
            _ => compact,
        };
        if national.len() == 10
            && national.starts_with('0')
            && national.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(Self(national))
        } else {
            Err(ParseError::new(
                "phone",
                "invalid_phone",
                "Số điện thoại phải có 10 chữ số bắt đầu bằng 0",
                "Phone number must be 10 digits starting with 0",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! masked_debug_and_serialize {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($t), "(***)"))
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    )*};
}
masked_debug_and_serialize!(LegacyId, Phone);

#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Residence {
    /// Commune code (5 digits), or the code of a communeless island district (3 digits).
    pub unit_code: &'static str,
    pub address: String,
}

impl fmt::Debug for Residence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Residence({}, ***)", self.unit_code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeStatus {
    Alive,
    Deceased,
}

impl LifeStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Alive => "alive",
            Self::Deceased => "deceased",
        }
    }
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw.trim() {
            "" | "alive" => Ok(Self::Alive),
            "deceased" => Ok(Self::Deceased),
            _ => Err(ParseError::new(
                "status",
                "invalid_status",
                "Trạng thái không hợp lệ",
                "Invalid status",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citizen {
    pub personal_id: PersonalId,
    pub full_name: FullName,
    pub birth_date: BirthDate,
    pub sex: Sex,
    pub permanent: Residence,
    pub temporary: Option<Residence>,
    pub phone: Option<Phone>,
    pub legacy_id: Option<LegacyId>,
    pub household_id: Option<String>,
    pub status: LifeStatus,
}

impl Citizen {
    /// The claimed identity fields that disagree with this record: `full_name`, `birth_date`,
    /// and `sex` when one is claimed. Names the fields only, never the record's values.
    pub fn identity_mismatches(
        &self,
        name: &FullName,
        birth: BirthDate,
        sex: Option<Sex>,
    ) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.full_name.matches(name) {
            out.push("full_name");
        }
        if !self.birth_date.admits(birth) {
            out.push("birth_date");
        }
        if sex.is_some_and(|s| s != self.sex) {
            out.push("sex");
        }
        out
    }

    /// Codes of every unit the citizen resides in (permanent, then temporary).
    pub fn residence_units(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.permanent.unit_code)
            .chain(self.temporary.as_ref().map(|r| r.unit_code))
    }
}

/// One raw registry record, as read from the import CSV (column names are the CSV header's).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CitizenInput {
    pub personal_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    pub permanent_commune_code: String,
    pub permanent_address: String,
    #[serde(default)]
    pub temporary_commune_code: Option<String>,
    #[serde(default)]
    pub temporary_address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub legacy_id: Option<String>,
    #[serde(default)]
    pub household_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

const MAX_ADDRESS: usize = 200;

fn parse_household(raw: &str) -> Result<String, ParseError> {
    if raw.len() <= 32 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(raw.to_owned())
    } else {
        Err(ParseError::new(
            "household_id",
            "invalid_format",
            "Mã hộ gia đình chỉ gồm chữ, số và '-' (tối đa 32)",
            "Household ID is letters, digits and '-' (at most 32)",
        ))
    }
}

/// Who a record is about, parsed: the ID must agree with the birth date and sex, and the birth
/// date may not lie after `today`. Shared by registry rows and declarations.
pub fn parse_identity(
    personal_id: &str,
    full_name: &str,
    birth_date: &str,
    sex: &str,
    today: Date,
) -> Result<(PersonalId, FullName, BirthDate, Sex), ParseError> {
    let personal_id = PersonalId::parse(personal_id)?;
    let full_name = FullName::parse(full_name)?;
    let birth_date = BirthDate::parse(birth_date)?.check_not_future("birth_date", today)?;
    let sex = Sex::parse_field("sex", sex)?;
    personal_id.check_consistency(birth_date, sex)?;
    Ok((personal_id, full_name, birth_date, sex))
}

impl CitizenInput {
    /// Parses every field and checks the ID against birth date and sex. `today` bounds birth dates.
    pub fn parse(&self, today: Date) -> Result<Citizen, ParseError> {
        let units = admin_units();
        let (personal_id, full_name, birth_date, sex) = parse_identity(
            &self.personal_id,
            &self.full_name,
            &self.birth_date,
            &self.sex,
            today,
        )?;
        let permanent = Residence {
            unit_code: units
                .parse_residence_unit("permanent_commune_code", &self.permanent_commune_code)?,
            address: text::free_text("permanent_address", &self.permanent_address, MAX_ADDRESS)?,
        };
        let temporary = match text::optional(self.temporary_commune_code.as_deref()) {
            None => {
                if text::optional(self.temporary_address.as_deref()).is_some() {
                    return Err(ParseError::missing("temporary_commune_code"));
                }
                None
            }
            Some(code) => Some(Residence {
                unit_code: units.parse_residence_unit("temporary_commune_code", code)?,
                address: text::free_text(
                    "temporary_address",
                    self.temporary_address.as_deref().unwrap_or_default(),
                    MAX_ADDRESS,
                )?,
            }),
        };
        Ok(Citizen {
            personal_id,
            full_name,
            birth_date,
            sex,
            permanent,
            temporary,
            phone: text::optional(self.phone.as_deref())
                .map(Phone::parse)
                .transpose()?,
            legacy_id: text::optional(self.legacy_id.as_deref())
                .map(LegacyId::parse)
                .transpose()?,
            household_id: text::optional(self.household_id.as_deref())
                .map(parse_household)
                .transpose()?,
            status: LifeStatus::parse(self.status.as_deref().unwrap_or_default())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) fn sample() -> CitizenInput {
        CitizenInput {
            personal_id: "091087123456".into(),
            full_name: "Nguyễn Văn An".into(),
            birth_date: "1987-03-09".into(),
            sex: "M".into(),
            permanent_commune_code: "30730".into(),
            permanent_address: "12 Trần Phú".into(),
            ..CitizenInput::default()
        }
    }

    const TODAY: Date = date!(2021 - 08 - 01);

    #[test]
    fn parses_a_complete_record() {
        let mut input = sample();
        input.temporary_commune_code = Some("00001".into());
        input.temporary_address = Some("5 Phúc Xá".into());
        input.phone = Some("+84 912 345 678".into());
        input.legacy_id = Some("371234567".into());
        input.household_id = Some("HH-91-0001".into());
        let c = input.parse(TODAY).unwrap();
        assert_eq!(c.phone.as_ref().unwrap().as_str(), "0912345678");
        assert_eq!(c.residence_units().collect::<Vec<_>>(), ["30730", "00001"]);
        assert_eq!(c.status, LifeStatus::Alive);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Case = (fn(&mut CitizenInput), &'static str, &'static str);
        let cases: [Case; 8] = [
            (
                |i| i.personal_id = "12345".into(),
                "personal_id",
                "invalid_format",
            ),
            (
                |i| i.birth_date = "1987-02-30".into(),
                "birth_date",
                "invalid_date",
            ),
            (
                |i| i.birth_date = "1988-01-01".into(),
                "personal_id",
                "inconsistent",
            ),
            (|i| i.sex = "X".into(), "sex", "invalid_sex"),
            (
                |i| i.permanent_commune_code = "99999".into(),
                "permanent_commune_code",
                "unknown_commune",
            ),
            (
                |i| i.permanent_address = "<img src=x onerror=alert(1)>".into(),
                "permanent_address",
                "invalid_character",
            ),
            (
                |i| i.temporary_address = Some("somewhere".into()),
                "temporary_commune_code",
                "missing",
            ),
            (|i| i.phone = Some("12345".into()), "phone", "invalid_phone"),
        ];
        for (mutate, field, code) in cases {
            let mut input = sample();
            mutate(&mut input);
            let err = input.parse(TODAY).unwrap_err();
            assert_eq!((err.field, err.code), (field, code));
        }
    }

    #[test]
    fn future_birth_dates_are_rejected() {
        let mut input = sample();
        input.personal_id = "091221123456".into();
        input.birth_date = "2021-12-01".into();
        assert_eq!(input.parse(TODAY).unwrap_err().code, "future_date");
    }
}
