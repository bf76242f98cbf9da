//! The areas a report covers: the nation or a unit, and the units of one level within it.

use serde::Serialize;
use time::Date;
use time::macros::date;
use vaxtrace_domain::{Jurisdiction, ParseError, UnitLevel, admin_units};

/// The first day anyone in Vietnam was vaccinated against COVID-19: earlier dates are refused.
pub const CAMPAIGN_START: Date = date!(2021 - 03 - 08);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Area {
    /// `VN` for the nation.
    pub code: &'static str,
    pub name: &'static str,
    /// `None` for the nation.
    #[serde(serialize_with = "level_name")]
    pub level: Option<UnitLevel>,
}

#[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)] // serde passes a reference
fn level_name<S: serde::Serializer>(level: &Option<UnitLevel>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(level.map_or("nation", level_code))
}

pub fn level_code(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::Province => "province",
        UnitLevel::District => "district",
        UnitLevel::Commune => "commune",
    }
}

pub fn parse_level(raw: &str) -> Result<UnitLevel, ParseError> {
    match raw {
        "province" => Ok(UnitLevel::Province),
        "district" => Ok(UnitLevel::District),
        "commune" => Ok(UnitLevel::Commune),
        _ => Err(ParseError::new(
            "level",
            "unknown_level",
            format!("Cấp không hợp lệ: '{raw}' (province, district, commune)"),
            format!("Unknown level '{raw}' (province, district or commune)"),
        )),
    }
}

fn rank(level: Option<UnitLevel>) -> u8 {
    match level {
        None => 0,
        Some(UnitLevel::Province) => 1,
        Some(UnitLevel::District) => 2,
        Some(UnitLevel::Commune) => 3,
    }
}

impl Area {
    pub const NATION: Area = Area {
        code: "VN",
        name: "Việt Nam",
        level: None,
    };

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match Jurisdiction::parse(raw).map_err(|e| ParseError { field: "area", ..e })? {
            Jurisdiction::National => Ok(Self::NATION),
            Jurisdiction::Unit(code) => Ok(Self::of(code)),
        }
    }

    /// The area of a known unit code.
    pub fn of(code: &'static str) -> Self {
        admin_units().get(code).map_or(Self::NATION, |u| Self {
            code: u.code,
            name: u.full_name,
            level: Some(u.level),
        })
    }

    pub fn jurisdiction(self) -> Jurisdiction {
        match self.level {
            None => Jurisdiction::National,
            Some(_) => Jurisdiction::Unit(self.code),
        }
    }

    /// Whether the caller's jurisdiction holds all of this area.
    pub fn within(self, of: Jurisdiction) -> bool {
        match (of, self.level) {
            (Jurisdiction::National, _) => true,
            (Jurisdiction::Unit(_), None) => false,
            (Jurisdiction::Unit(_), Some(_)) => of.contains(self.code),
        }
    }

    /// The level reports break this area down by, unless asked: the one below it (a commune
    /// stands for itself).
    pub fn default_level(self) -> UnitLevel {
        match self.level {
            None => UnitLevel::Province,
            Some(UnitLevel::Province) => UnitLevel::District,
            Some(_) => UnitLevel::Commune,
        }
    }

    pub fn check_level(self, level: UnitLevel) -> Result<(), ParseError> {
        let finest = self.level == Some(UnitLevel::Commune) && level == UnitLevel::Commune;
        if rank(Some(level)) > rank(self.level) || finest {
            return Ok(());
        }
        Err(ParseError::new(
            "level",
            "level_too_coarse",
            format!(
                "Cấp '{}' không nhỏ hơn địa bàn {}",
                level_code(level),
                self.name
            ),
            format!(
                "Level '{}' is not below the area {}",
                level_code(level),
                self.code
            ),
        ))
    }

    /// The level asked for (`None`: the default below the area), checked against the area.
    pub fn level(self, raw: Option<&str>) -> Result<UnitLevel, ParseError> {
        let level = raw.map_or(Ok(self.default_level()), parse_level)?;
        self.check_level(level)?;
        Ok(level)
    }

    /// The units of `level` that make up this area, in code order. At commune level, the island
    /// districts without communes stand in for their communes, so the units still add up to the
    /// area.
    pub fn units_at(self, level: UnitLevel) -> Vec<&'static str> {
        let units = admin_units();
        let mut out = Vec::new();
        let mut frontier: Vec<&'static str> = match self.level {
            None => units.provinces().map(|u| u.code).collect(),
            Some(_) => vec![self.code],
        };
        while let Some(code) = frontier.pop() {
            let Some(unit) = units.get(code) else {
                continue;
            };
            let leaf = units.children(code).next().is_none();
            if unit.level == level || (leaf && rank(Some(unit.level)) < rank(Some(level))) {
                out.push(unit.code);
            } else {
                frontier.extend(units.children(code).map(|u| u.code));
            }
        }
        out.sort_unstable();
        out
    }

    /// The units a citizen can live in within this area: communes and island districts.
    pub fn residence_units(self) -> Vec<&'static str> {
        self.units_at(UnitLevel::Commune)
    }

    /// The units whose counters sum to the whole area: itself, or the 63 provinces.
    pub fn summing_units(self) -> Vec<&'static str> {
        match self.level {
            None => self.units_at(UnitLevel::Province),
            Some(_) => vec![self.code],
        }
    }
}

/// A report day given as `YYYY-MM-DD` (`None`: `default`), checked like [`check_day`].
pub fn report_day(
    field: &'static str,
    raw: Option<&str>,
    default: Date,
    today: Date,
) -> Result<Date, ParseError> {
    let day = raw.map_or(Ok(default), |raw| {
        vaxtrace_domain::date::parse_day(field, raw)
    })?;
    check_day(field, day, today)
}

/// A report day: not before the campaign, not after today.
pub fn check_day(field: &'static str, day: Date, today: Date) -> Result<Date, ParseError> {
    if day < CAMPAIGN_START {
        return Err(ParseError::new(
            field,
            "before_campaign",
            format!("Ngày {day} trước khi bắt đầu tiêm chủng ({CAMPAIGN_START})"),
            format!("{day} is before the vaccination campaign began ({CAMPAIGN_START})"),
        ));
    }
    if day > today {
        return Err(ParseError::new(
            field,
            "future_date",
            format!("Ngày {day} ở tương lai"),
            format!("{day} is in the future"),
        ));
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_partition_the_area() {
        let kg = Area::parse("91").unwrap();
        assert_eq!(kg.default_level(), UnitLevel::District);
        let districts = kg.units_at(UnitLevel::District);
        assert_eq!(districts.len(), admin_units().children("91").count());
        let communes = kg.units_at(UnitLevel::Commune);
        assert_eq!(communes, kg.residence_units());
        assert!(communes.contains(&"30730"));
        assert_eq!(Area::NATION.units_at(UnitLevel::Province).len(), 63);
        // Every commune and island district of the nation, once.
        let all = Area::NATION.residence_units();
        let leaves = admin_units().count(UnitLevel::Commune);
        assert!(
            all.len() > leaves && all.len() < leaves + 10,
            "{}",
            all.len()
        );
        assert_eq!(
            Area::parse("30730").unwrap().units_at(UnitLevel::Commune),
            ["30730"]
        );
    }

    #[test]
    fn bad_areas_levels_and_days_are_refused() {
        assert_eq!(Area::parse("99").unwrap_err().field, "area");
        let kg = Area::parse("91").unwrap();
        assert_eq!(
            kg.check_level(UnitLevel::Province).unwrap_err().code,
            "level_too_coarse"
        );
        assert!(kg.check_level(UnitLevel::Commune).is_ok());
        assert!(
            Area::parse("30730")
                .unwrap()
                .check_level(UnitLevel::Commune)
                .is_ok()
        );
        assert!(kg.within(Jurisdiction::National));
        assert!(!kg.within(Jurisdiction::Unit("01")));
        assert!(!Area::NATION.within(Jurisdiction::Unit("91")));
        let today = date!(2021 - 11 - 23);
        assert_eq!(
            check_day("date", date!(2021 - 01 - 01), today)
                .unwrap_err()
                .code,
            "before_campaign"
        );
        assert_eq!(
            check_day("date", date!(2021 - 11 - 24), today)
                .unwrap_err()
                .code,
            "future_date"
        );
        assert!(check_day("date", today, today).is_ok());
    }
}
