//! One vaccination ("shot") as a vaccination site, health department or legacy app reports it.
//!
//! A report is rejected only when it cannot be a shot at all (no source key, unknown vaccine, dose
//! out of range, impossible time). Identity fields that are wrong or missing do not reject it: they
//! are kept as flags, because the record still has to be matched to a citizen and cleaned.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::date::{VIETNAM, vietnam_day};
use crate::vaccine::{MAX_DOSE_NUMBER, Vaccine};
use crate::{BirthDate, FullName, ParseError, PersonalId, Phone, Sex, admin_units, text};

/// The raw fields, as strings, exactly as a CSV row or a JSON body carries them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShotInput {
    pub source: String,
    pub source_record_id: String,
    #[serde(default)]
    pub personal_id: Option<String>,
    pub full_name: String,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub commune_code: Option<String>,
    pub vaccine_code: String,
    pub dose_number: String,
    pub administered_at: String,
    pub site_code: String,
    #[serde(default)]
    pub lot: Option<String>,
}

/// An identity field that was present but unusable; the shot is kept and goes to matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFlag {
    InvalidPersonalId,
    InvalidBirthDate,
    InvalidSex,
    InvalidPhone,
    UnknownCommune,
    /// The personal ID's century/sex digit or birth year contradicts the given birth date or sex.
    InconsistentPersonalId,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shot {
    pub source: String,
    pub source_record_id: String,
    pub personal_id: Option<PersonalId>,
    pub full_name: FullName,
    pub birth_date: Option<BirthDate>,
    pub sex: Option<Sex>,
    pub phone: Option<Phone>,
    pub commune_code: Option<&'static str>,
    #[serde(serialize_with = "vaccine_code")]
    pub vaccine: &'static Vaccine,
    pub dose_number: u8,
    #[serde(with = "time::serde::rfc3339")]
    pub administered_at: OffsetDateTime,
    pub site_code: String,
    pub lot: Option<String>,
    pub flags: Vec<InputFlag>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
fn vaccine_code<S: serde::Serializer>(v: &&'static Vaccine, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.code)
}

const MAX_KEY_CHARS: usize = 128;

impl ShotInput {
    /// Checks the report against the catalogue and the calendar (`now`: the server's clock).
    pub fn parse(&self, now: OffsetDateTime) -> Result<Shot, ParseError> {
        let source = text::free_text("source", &self.source, 64)?;
        let source_record_id =
            text::free_text("source_record_id", &self.source_record_id, MAX_KEY_CHARS)?;
        let full_name = FullName::parse(&self.full_name)?;
        let vaccine = Vaccine::parse(&self.vaccine_code)?;
        let dose_number = parse_dose_number(&self.dose_number)?;
        let administered_at = parse_administered_at(&self.administered_at, now)?;
        if administered_at.date() < vaccine.available_from {
            return Err(ParseError::new(
                "administered_at",
                "before_vaccine_available",
                format!(
                    "Ngày tiêm trước khi vắc xin {} được sử dụng ({})",
                    vaccine.name, vaccine.available_from
                ),
                format!(
                    "Administered before {} was in use ({})",
                    vaccine.name, vaccine.available_from
                ),
            ));
        }
        let site_code = text::free_text("site_code", &self.site_code, 64)?;
        let lot = match text::optional(self.lot.as_deref()) {
            Some(lot) => Some(text::free_text("lot", lot, 64)?),
            None => None,
        };

        let mut flags = Vec::new();
        let personal_id = text::optional(self.personal_id.as_deref()).and_then(|raw| {
            keep(
                &mut flags,
                PersonalId::parse(raw),
                InputFlag::InvalidPersonalId,
            )
        });
        let birth_date = text::optional(self.birth_date.as_deref()).and_then(|raw| {
            keep(
                &mut flags,
                parse_birth_date(raw),
                InputFlag::InvalidBirthDate,
            )
        });
        let sex = text::optional(self.sex.as_deref()).and_then(|raw| {
            keep(
                &mut flags,
                Sex::parse_field("sex", raw),
                InputFlag::InvalidSex,
            )
        });
        let phone = text::optional(self.phone.as_deref())
            .and_then(|raw| keep(&mut flags, Phone::parse(raw), InputFlag::InvalidPhone));
        let commune_code = text::optional(self.commune_code.as_deref()).and_then(|raw| {
            keep(
                &mut flags,
                admin_units().parse_residence_unit("commune_code", raw),
                InputFlag::UnknownCommune,
            )
        });
        if let (Some(id), Some(birth), Some(sex)) = (personal_id, birth_date, sex)
            && id.check_consistency(birth, sex).is_err()
        {
            flags.push(InputFlag::InconsistentPersonalId);
        }
        Ok(Shot {
            source,
            source_record_id,
            personal_id,
            full_name,
            birth_date,
            sex,
            phone,
            commune_code,
            vaccine,
            dose_number,
            administered_at,
            site_code,
            lot,
            flags,
        })
    }
}

impl Shot {
    /// The day of administration in Vietnam's time zone.
    pub fn administered_on(&self) -> Date {
        vietnam_day(self.administered_at)
    }

    /// The clinical content of the report (what must not change silently under one source key):
    /// a stable, field-separated string used for replay detection.
    pub fn content_fingerprint(&self) -> String {
        let opt = |s: Option<String>| s.unwrap_or_default();
        [
            opt(self.personal_id.map(|p| p.to_string())),
            self.full_name.comparison_form(),
            opt(self.birth_date.map(|b| b.to_string())),
            opt(self.sex.map(|s| s.code().to_owned())),
            opt(self.phone.as_ref().map(|p| p.as_str().to_owned())),
            self.commune_code.unwrap_or_default().to_owned(),
            self.vaccine.code.to_owned(),
            self.dose_number.to_string(),
            self.administered_at.unix_timestamp().to_string(),
            self.site_code.clone(),
            opt(self.lot.clone()),
        ]
        .join("\u{1f}")
    }
}

/// The value of a usable field; a flag for an unusable one.
fn keep<T>(
    flags: &mut Vec<InputFlag>,
    result: Result<T, ParseError>,
    flag: InputFlag,
) -> Option<T> {
    result.map_err(|_| flags.push(flag)).ok()
}

/// An administration time (see [`parse_time`]) that is not after `now`.
pub fn parse_administered_at(raw: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ParseError> {
    let t = parse_time("administered_at", raw)?;
    if t > now {
        return Err(ParseError::new(
            "administered_at",
            "future_date",
            "Thời điểm tiêm ở tương lai",
            "Administration time is in the future",
        ));
    }
    Ok(t)
}

/// A dose number of 1 to [`MAX_DOSE_NUMBER`].
pub fn parse_dose_number(raw: &str) -> Result<u8, ParseError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ParseError::missing("dose_number"));
    }
    match raw.parse::<u8>() {
        Ok(n) if (1..=MAX_DOSE_NUMBER).contains(&n) => Ok(n),
        _ => Err(ParseError::new(
            "dose_number",
            "dose_out_of_range",
            format!("Mũi tiêm phải từ 1 đến {MAX_DOSE_NUMBER}"),
            format!("Dose number must be 1 to {MAX_DOSE_NUMBER}"),
        )),
    }
}

/// Birth dates as ISO (`YYYY-MM-DD`, `YYYY-MM`, `YYYY`) or the Vietnamese `dd/mm/yyyy`.
pub fn parse_birth_date(raw: &str) -> Result<BirthDate, ParseError> {
    let raw = raw.trim();
    let parts: Vec<&str> = raw.split('/').collect();
    if let [d, m, y] = parts.as_slice() {
        let iso = format!("{y:0>4}-{m:0>2}-{d:0>2}");
        return BirthDate::parse(&iso);
    }
    BirthDate::parse(raw)
}

/// RFC 3339; or a local `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DD`, taken as Vietnam time (UTC+7).
pub fn parse_time(field: &'static str, raw: &str) -> Result<OffsetDateTime, ParseError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ParseError::missing(field));
    }
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(t);
    }
    let local = raw.replace('T', " ");
    let with_seconds = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let minutes = format_description!("[year]-[month]-[day] [hour]:[minute]");
    let day_only = format_description!("[year]-[month]-[day]");
    PrimitiveDateTime::parse(&local, with_seconds)
        .or_else(|_| PrimitiveDateTime::parse(&local, minutes))
        .or_else(|_| Date::parse(&local, day_only).map(Date::midnight))
        .map(|t| t.assume_offset(VIETNAM))
        .map_err(|_| {
            ParseError::new(
                field,
                "invalid_time",
                format!("Thời gian không hợp lệ '{raw}' (dạng RFC 3339 hoặc YYYY-MM-DD HH:MM)"),
                format!("Invalid time '{raw}' (expected RFC 3339 or YYYY-MM-DD HH:MM)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2021-11-23 12:00 +7);

    pub(crate) fn sample() -> ShotInput {
        ShotInput {
            source: "site-app".into(),
            source_record_id: "A-1".into(),
            personal_id: Some("091085000123".into()),
            full_name: "Nguyễn Văn An".into(),
            birth_date: Some("1985-03-04".into()),
            sex: Some("M".into()),
            phone: Some("0912345678".into()),
            commune_code: Some("30730".into()),
            vaccine_code: "EU/1/21/1529".into(),
            dose_number: "1".into(),
            administered_at: "2021-08-02T09:30:00+07:00".into(),
            site_code: "KG-TYT-30730".into(),
            lot: Some("ABV1234".into()),
        }
    }

    #[test]
    fn parses_a_clean_report() {
        let shot = sample().parse(NOW).unwrap();
        assert_eq!(shot.vaccine.code, "EU/1/21/1529");
        assert_eq!(shot.dose_number, 1);
        assert!(shot.flags.is_empty(), "{:?}", shot.flags);
        assert_eq!(shot.administered_on().to_string(), "2021-08-02");
    }

    #[test]
    fn rejects_what_cannot_be_a_shot() {
        type Edit = fn(&mut ShotInput);
        let cases: [(Edit, &str, &str); 7] = [
            (
                |s| s.vaccine_code = "XYZ".into(),
                "vaccine_code",
                "unknown_vaccine",
            ),
            (
                |s| s.dose_number = "0".into(),
                "dose_number",
                "dose_out_of_range",
            ),
            (
                |s| s.dose_number = "9".into(),
                "dose_number",
                "dose_out_of_range",
            ),
            (
                |s| s.administered_at = "2021-12-01 08:00".into(),
                "administered_at",
                "future_date",
            ),
            (
                |s| s.administered_at = "2020-06-01".into(),
                "administered_at",
                "before_vaccine_available",
            ),
            (
                |s| s.administered_at = "hôm qua".into(),
                "administered_at",
                "invalid_time",
            ),
            (
                |s| s.source_record_id = " ".into(),
                "source_record_id",
                "missing",
            ),
        ];
        for (edit, field, code) in cases {
            let mut input = sample();
            edit(&mut input);
            let err = input.parse(NOW).unwrap_err();
            assert_eq!((err.field, err.code), (field, code));
        }
    }

    #[test]
    fn bad_identity_fields_are_flagged_not_rejected() {
        let mut input = sample();
        input.personal_id = Some("12345".into());
        input.birth_date = Some("1985-13-40".into());
        input.phone = Some("12".into());
        input.commune_code = Some("99999".into());
        let shot = input.parse(NOW).unwrap();
        assert_eq!(shot.personal_id, None);
        assert_eq!(
            shot.flags,
            [
                InputFlag::InvalidPersonalId,
                InputFlag::InvalidBirthDate,
                InputFlag::InvalidPhone,
                InputFlag::UnknownCommune
            ]
        );
    }

    #[test]
    fn flags_an_id_that_contradicts_birth_date() {
        let mut input = sample();
        input.birth_date = Some("1990-03-04".into());
        let shot = input.parse(NOW).unwrap();
        assert_eq!(shot.flags, [InputFlag::InconsistentPersonalId]);
    }

    #[test]
    fn accepts_local_times_and_vietnamese_dates() {
        let mut input = sample();
        input.administered_at = "2021-08-02 09:30".into();
        input.birth_date = Some("4/3/1985".into());
        let shot = input.parse(NOW).unwrap();
        assert_eq!(shot.administered_at, datetime!(2021-08-02 09:30 +7));
        assert_eq!(
            shot.birth_date,
            Some(BirthDate::parse("1985-03-04").unwrap())
        );
    }

    #[test]
    fn fingerprint_changes_with_clinical_content_only() {
        let a = sample().parse(NOW).unwrap();
        let mut spaced = sample();
        spaced.full_name = "  NGUYỄN  văn an ".into();
        assert_eq!(
            a.content_fingerprint(),
            spaced.parse(NOW).unwrap().content_fingerprint()
        );
        let mut other = sample();
        other.lot = Some("OTHER".into());
        assert_ne!(
            a.content_fingerprint(),
            other.parse(NOW).unwrap().content_fingerprint()
        );
    }
}
