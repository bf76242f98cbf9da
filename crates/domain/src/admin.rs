//! Vietnam's administrative units of 2021 (63 provinces, 705 districts, 10,599 communes), embedded
//! from the vendored GSO catalogue in `data/admin-units/` (see its NOTICE.md for the source).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;

use crate::ParseError;

const PROVINCES_CSV: &str = include_str!("../data/admin-units/provinces.csv");
const DISTRICTS_CSV: &str = include_str!("../data/admin-units/districts.csv");
const COMMUNES_CSV: &str = include_str!("../data/admin-units/communes.csv");
const POPULATION_CSV: &str = include_str!("../data/admin-units/population-2019.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Province,
    District,
    Commune,
}

impl UnitLevel {
    /// GSO codes have 2, 3 and 5 digits by level.
    pub fn of_code(code: &str) -> Option<Self> {
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match code.len() {
            2 => Some(Self::Province),
            3 => Some(Self::District),
            5 => Some(Self::Commune),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub code: &'static str,
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub full_name: &'static str,
    /// Parent's code: empty for provinces.
    pub parent: &'static str,
    pub level: UnitLevel,
}

#[derive(Debug)]
pub struct AdminUnits {
    units: HashMap<&'static str, Unit>,
    provinces: Vec<&'static str>,
    children: HashMap<&'static str, Vec<&'static str>>,
    population_2019: HashMap<&'static str, u64>,
}

/// The embedded catalogue, parsed once.
pub fn admin_units() -> &'static AdminUnits {
    static UNITS: LazyLock<AdminUnits> = LazyLock::new(AdminUnits::load);
    &UNITS
}

fn rows(csv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    // The vendored files need no quoting (checked by a test), so a plain split is exact.
    csv.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
}

impl AdminUnits {
    fn load() -> Self {
        let mut units = HashMap::new();
        let mut provinces = Vec::new();
        let mut children: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for (csv, level) in [
            (PROVINCES_CSV, UnitLevel::Province),
            (DISTRICTS_CSV, UnitLevel::District),
            (COMMUNES_CSV, UnitLevel::Commune),
        ] {
            for r in rows(csv) {
                let parent = if level == UnitLevel::Province {
                    ""
                } else {
                    r[4]
                };
                let unit = Unit {
                    code: r[0],
                    name: r[1],
                    kind: r[2],
                    full_name: r[3],
                    parent,
                    level,
                };
                if level == UnitLevel::Province {
                    provinces.push(unit.code);
                } else {
                    children.entry(parent).or_default().push(unit.code);
                }
                units.insert(unit.code, unit);
            }
        }
        let population_2019 = rows(POPULATION_CSV)
            .filter_map(|r| Some((r[0], r[1].parse().ok()?)))
            .collect();
        Self {
            units,
            provinces,
            children,
            population_2019,
        }
    }

    pub fn get(&self, code: &str) -> Option<&Unit> {
        self.units.get(code)
    }

    pub fn provinces(&self) -> impl Iterator<Item = &Unit> {
        self.provinces.iter().filter_map(|c| self.units.get(c))
    }

    pub fn children(&self, code: &str) -> impl Iterator<Item = &Unit> {
        self.children
            .get(code)
            .into_iter()
            .flatten()
            .filter_map(|c| self.units.get(c))
    }

    pub fn count(&self, level: UnitLevel) -> usize {
        self.units.values().filter(|u| u.level == level).count()
    }

    pub fn population_2019(&self, province: &str) -> Option<u64> {
        self.population_2019.get(province).copied()
    }

    /// The unit and its ancestors, from itself up to the province.
    pub fn lineage(&self, code: &str) -> Vec<&Unit> {
        let mut out = Vec::with_capacity(3);
        let mut next = self.units.get(code);
        while let Some(unit) = next {
            out.push(unit);
            next = self.units.get(unit.parent);
        }
        out
    }

    /// The communes of a province, in code order.
    pub fn communes_of_province(&self, province: &str) -> Vec<&Unit> {
        self.children(province)
            .flat_map(|d| self.children(d.code))
            .collect()
    }

    /// A residence unit: a commune, or one of the five island districts that have no communes.
    pub fn parse_residence_unit(
        &self,
        field: &'static str,
        raw: &str,
    ) -> Result<&'static str, ParseError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ParseError::missing(field));
        }
        let unit = self.units.get(raw).filter(|u| match u.level {
            UnitLevel::Commune => true,
            UnitLevel::District => !self.children.contains_key(u.code),
            UnitLevel::Province => false,
        });
        unit.map(|u| u.code).ok_or_else(|| {
            ParseError::new(
                field,
                "unknown_commune",
                format!("Mã xã/phường không tồn tại: '{raw}'"),
                format!("Unknown commune code '{raw}'"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_the_2021_counts() {
        let units = admin_units();
        assert_eq!(units.count(UnitLevel::Province), 63);
        assert_eq!(units.count(UnitLevel::District), 705);
        assert_eq!(units.count(UnitLevel::Commune), 10_599);
        let total: u64 = units
            .provinces()
            .filter_map(|p| units.population_2019(p.code))
            .sum();
        assert_eq!(total, 96_208_984);
    }

    #[test]
    fn vendored_files_need_no_csv_quoting() {
        for csv in [PROVINCES_CSV, DISTRICTS_CSV, COMMUNES_CSV] {
            assert!(!csv.contains('"'));
            let width = csv.lines().next().unwrap().split(',').count();
            assert!(csv.lines().all(|l| l.split(',').count() == width));
        }
    }

    #[test]
    fn lineage_walks_up_to_the_province() {
        let codes: Vec<_> = admin_units()
            .lineage("00001")
            .iter()
            .map(|u| u.code)
            .collect();
        assert_eq!(codes, ["00001", "001", "01"]);
        assert_eq!(
            admin_units().get("00001").unwrap().full_name,
            "Phường Phúc Xá"
        );
    }

    #[test]
    fn residence_units_are_communes_or_communeless_islands() {
        let units = admin_units();
        assert_eq!(units.parse_residence_unit("c", "00001").unwrap(), "00001");
        assert_eq!(units.parse_residence_unit("c", "755").unwrap(), "755"); // Côn Đảo
        assert_eq!(
            units.parse_residence_unit("c", "001").unwrap_err().code,
            "unknown_commune"
        );
        assert_eq!(
            units.parse_residence_unit("c", "99999").unwrap_err().code,
            "unknown_commune"
        );
        assert_eq!(
            units.parse_residence_unit("c", "").unwrap_err().code,
            "missing"
        );
        assert!(units.communes_of_province("91").len() > 100);
    }
}
