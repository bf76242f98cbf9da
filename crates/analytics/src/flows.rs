//! Origin → destination flows rolled up from communes to districts or provinces.

use std::collections::BTreeMap;

use vaxtrace_domain::{UnitLevel, admin_units};

/// The ancestor of `unit` at `level` (a unit above that level maps to nothing).
pub fn roll_up(unit: &str, level: UnitLevel) -> Option<&'static str> {
    admin_units()
        .lineage(unit)
        .into_iter()
        .find(|u| u.level == level)
        .map(|u| u.code)
}

/// Whether `unit` lies within `area` (`VN` is the nation).
pub fn within(unit: &str, area: &str) -> bool {
    area == "VN" || admin_units().lineage(unit).iter().any(|u| u.code == area)
}

/// Declarations and scans between two units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow {
    pub declarations: i64,
    pub scans: i64,
}

/// Sums commune-level (origin, destination, declarations, scans) rows at `level`, keeping the
/// pairs with an end inside `area`.
pub fn matrix(
    rows: impl IntoIterator<Item = (String, String, i64, i64)>,
    level: UnitLevel,
    area: &str,
) -> BTreeMap<(&'static str, &'static str), Flow> {
    let mut out: BTreeMap<(&'static str, &'static str), Flow> = BTreeMap::new();
    for (origin, destination, declarations, scans) in rows {
        if !within(&origin, area) && !within(&destination, area) {
            continue;
        }
        let (Some(o), Some(d)) = (roll_up(&origin, level), roll_up(&destination, level)) else {
            continue;
        };
        let f = out.entry((o, d)).or_default();
        f.declarations += declarations;
        f.scans += scans;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communes_roll_up_and_outside_pairs_drop() {
        let rows = vec![
            ("30730".to_owned(), "00001".to_owned(), 3, 1),
            ("30733".to_owned(), "00004".to_owned(), 2, 0),
            ("00001".to_owned(), "00004".to_owned(), 7, 7),
        ];
        let m = matrix(rows.clone(), UnitLevel::Province, "91");
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[&("91", "01")],
            Flow {
                declarations: 5,
                scans: 1
            }
        );
        let all = matrix(rows, UnitLevel::Province, "VN");
        assert_eq!(all[&("01", "01")].declarations, 7);
        assert!(within("30730", "91") && !within("30730", "01"));
    }
}
