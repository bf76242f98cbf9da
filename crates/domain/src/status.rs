//! Vaccination status (green / yellow / none) by explicit, versioned rules.
//!
//! A rule set is data with an effective date; the status names the version that produced it and
//! which doses counted. Irregular histories are flagged, never silently counted: a dose below the
//! minimum interval does not count; a mixed schedule counts but is flagged; a dose numbered 2 with
//! no dose 1 on record counts as the first dose on record and is flagged, so the citizen stays
//! yellow until the missing dose is found.

use serde::Serialize;
use time::{Date, OffsetDateTime, macros::date};

use crate::date::vietnam_day;
use crate::vaccine::Vaccine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Green,
    Yellow,
    None,
}

impl Colour {
    pub fn code(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Green, Self::Yellow, Self::None]
            .into_iter()
            .find(|c| c.code() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleSet {
    pub version: &'static str,
    pub effective_from: Date,
    pub summary_vi: &'static str,
    pub summary_en: &'static str,
    /// Green lapses to yellow this many days after the primary series unless a booster followed.
    pub green_valid_days: Option<u16>,
    /// Minimum gap between completing the primary series and a dose that counts as a booster.
    pub booster_min_days: u16,
}

/// Every rule set ever in force, oldest first. Add a version; never edit one that was in force.
pub const RULE_SETS: &[RuleSet] = &[
    RuleSet {
        version: "VN-2021.1",
        effective_from: date!(2021 - 03 - 08),
        summary_vi: "Xanh: đã tiêm đủ liều cơ bản; vàng: đã tiêm ít nhất một mũi",
        summary_en: "Green: primary series complete; yellow: at least one dose",
        green_valid_days: None,
        booster_min_days: 90,
    },
    RuleSet {
        version: "VN-2022.1",
        effective_from: date!(2022 - 04 - 01),
        summary_vi: "Như VN-2021.1; mũi nhắc lại được tính từ 84 ngày sau liều cơ bản",
        summary_en: "As VN-2021.1; a booster counts from 84 days after the primary series",
        green_valid_days: None,
        booster_min_days: 84,
    },
];

/// The rule set in force on a day (the first one before any took effect).
pub fn rules_at(day: Date) -> &'static RuleSet {
    RULE_SETS
        .iter()
        .rev()
        .find(|r| r.effective_from <= day)
        .unwrap_or(&RULE_SETS[0])
}

/// One signed dose of a citizen's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dose {
    pub record_id: i64,
    pub vaccine: &'static Vaccine,
    pub dose_number: u8,
    pub administered_on: Date,
}

impl Dose {
    /// A dose from a stored record's fields; `None` for a vaccine code not in the catalogue.
    pub fn new(
        record_id: i64,
        vaccine_code: &str,
        dose_number: u8,
        administered_at: OffsetDateTime,
    ) -> Option<Self> {
        Some(Self {
            record_id,
            vaccine: Vaccine::by_code(vaccine_code)?,
            dose_number,
            administered_on: vietnam_day(administered_at),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// Same vaccine on the same day reported twice.
    DuplicateDose,
    BelowMinInterval,
    MixedSchedule,
    /// The dose number on record is higher than the doses on record before it.
    MissingEarlierDose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusFlag {
    pub kind: FlagKind,
    pub record_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub colour: Colour,
    pub rule_version: &'static str,
    /// Record IDs of the doses that counted, in date order.
    pub counted: Vec<i64>,
    pub primary_complete_on: Option<Date>,
    pub boosters: u8,
    /// The day of the first dose that counted.
    pub first_dose_on: Option<Date>,
    pub first_booster_on: Option<Date>,
    /// When the next dose (of the primary series, else the first booster) may be given.
    pub next_dose_due_on: Option<Date>,
    pub flags: Vec<StatusFlag>,
    pub reason_vi: String,
    pub reason_en: String,
}

/// Applies the rule set in force on `today` to a citizen's signed doses (any order).
pub fn evaluate(doses: &[Dose], today: Date) -> Status {
    evaluate_with(rules_at(today), doses, today)
}

pub fn evaluate_with(rules: &'static RuleSet, doses: &[Dose], today: Date) -> Status {
    let mut sorted: Vec<&Dose> = doses.iter().collect();
    sorted.sort_by_key(|d| (d.administered_on, d.dose_number, d.record_id));

    let mut flags = Vec::new();
    let mut counted: Vec<&Dose> = Vec::new();
    let mut missing_earlier = false;
    for dose in sorted {
        let flag = |kind| StatusFlag {
            kind,
            record_id: dose.record_id,
        };
        if let Some(prev) = counted.last() {
            if prev.administered_on == dose.administered_on && prev.vaccine == dose.vaccine {
                flags.push(flag(FlagKind::DuplicateDose));
                continue;
            }
            let gap = (dose.administered_on - prev.administered_on).whole_days();
            if gap < i64::from(prev.vaccine.min_interval_days) {
                flags.push(flag(FlagKind::BelowMinInterval));
                continue;
            }
            if prev.vaccine != dose.vaccine && counted.len() < usize::from(series_length(&counted))
            {
                flags.push(flag(FlagKind::MixedSchedule));
            }
        }
        if usize::from(dose.dose_number) > counted.len() + 1 {
            flags.push(flag(FlagKind::MissingEarlierDose));
            missing_earlier = true;
        }
        counted.push(dose);
    }

    let series = series_length(&counted);
    let primary_complete_on = (!missing_earlier && counted.len() >= usize::from(series))
        .then(|| counted[usize::from(series) - 1].administered_on);
    let booster_days: Vec<Date> = primary_complete_on.map_or_else(Vec::new, |done| {
        counted[usize::from(series)..]
            .iter()
            .filter(|d| {
                (d.administered_on - done).whole_days() >= i64::from(rules.booster_min_days)
            })
            .map(|d| d.administered_on)
            .collect()
    });
    let boosters = booster_days.len() as u8;
    let next_dose_due_on = next_due(rules, primary_complete_on, boosters, counted.last());
    let lapsed = match (primary_complete_on, rules.green_valid_days) {
        (Some(done), Some(days)) => boosters == 0 && (today - done).whole_days() > i64::from(days),
        _ => false,
    };
    let (colour, reason_vi, reason_en) = if counted.is_empty() {
        (
            Colour::None,
            "Chưa có mũi tiêm đã ký".to_owned(),
            "No signed dose".to_owned(),
        )
    } else if primary_complete_on.is_some() && !lapsed {
        (
            Colour::Green,
            format!("Đã tiêm đủ {series} liều cơ bản, {boosters} mũi nhắc lại"),
            format!("Primary series of {series} complete, {boosters} booster(s)"),
        )
    } else if lapsed {
        (
            Colour::Yellow,
            format!(
                "Liều cơ bản đã quá {} ngày, chưa tiêm nhắc lại",
                rules.green_valid_days.unwrap_or(0)
            ),
            format!(
                "Primary series older than {} days and no booster",
                rules.green_valid_days.unwrap_or(0)
            ),
        )
    } else {
        let n = counted.len();
        (
            Colour::Yellow,
            format!("Đã tiêm {n}/{series} liều cơ bản"),
            format!("{n} of {series} primary doses"),
        )
    };
    Status {
        colour,
        rule_version: rules.version,
        counted: counted.iter().map(|d| d.record_id).collect(),
        primary_complete_on,
        boosters,
        first_dose_on: counted.first().map(|d| d.administered_on),
        first_booster_on: booster_days.first().copied(),
        next_dose_due_on,
        flags,
        reason_vi,
        reason_en,
    }
}

/// When the next dose may be given: the rest of the primary series after the last dose's
/// minimum interval, else a first booster after the rules' gap.
fn next_due(
    rules: &RuleSet,
    primary_complete_on: Option<Date>,
    boosters: u8,
    last: Option<&&Dose>,
) -> Option<Date> {
    match (primary_complete_on, last) {
        (Some(done), _) if boosters == 0 => {
            Some(done + time::Duration::days(i64::from(rules.booster_min_days)))
        }
        (None, Some(last)) => Some(
            last.administered_on + time::Duration::days(i64::from(last.vaccine.min_interval_days)),
        ),
        _ => None,
    }
}

/// A primary series is as long as its first vaccine's; later vaccines of a mixed schedule count
/// towards it.
fn series_length(counted: &[&Dose]) -> u8 {
    counted.first().map_or(1, |d| d.vaccine.primary_doses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dose(id: i64, code: &str, n: u8, day: Date) -> Dose {
        Dose {
            record_id: id,
            vaccine: Vaccine::by_code(code).unwrap(),
            dose_number: n,
            administered_on: day,
        }
    }
    const AZ: &str = "EU/1/21/1529";
    const PFIZER: &str = "EU/1/20/1528";
    const TODAY: Date = date!(2021 - 12 - 01);

    #[test]
    fn none_yellow_green() {
        assert_eq!(evaluate(&[], TODAY).colour, Colour::None);
        let one = [dose(1, AZ, 1, date!(2021 - 07 - 01))];
        let s = evaluate(&one, TODAY);
        assert_eq!((s.colour, s.rule_version), (Colour::Yellow, "VN-2021.1"));
        let two = [one[0], dose(2, AZ, 2, date!(2021 - 09 - 01))];
        let s = evaluate(&two, TODAY);
        assert_eq!(s.colour, Colour::Green);
        assert_eq!(s.counted, [1, 2]);
        assert_eq!(s.primary_complete_on, Some(date!(2021 - 09 - 01)));
        assert!(s.flags.is_empty());
    }

    #[test]
    fn janssen_is_one_dose_and_abdala_three() {
        let j = [dose(1, "EU/1/20/1525", 1, date!(2021 - 08 - 01))];
        assert_eq!(evaluate(&j, TODAY).colour, Colour::Green);
        let a = [
            dose(1, "Abdala", 1, date!(2021 - 08 - 01)),
            dose(2, "Abdala", 2, date!(2021 - 08 - 15)),
        ];
        assert_eq!(evaluate(&a, TODAY).colour, Colour::Yellow);
    }

    #[test]
    fn dose_below_minimum_interval_does_not_count() {
        let d = [
            dose(1, PFIZER, 1, date!(2021 - 08 - 01)),
            dose(2, PFIZER, 2, date!(2021 - 08 - 10)),
        ];
        let s = evaluate(&d, TODAY);
        assert_eq!(s.colour, Colour::Yellow);
        assert_eq!(s.counted, [1]);
        assert_eq!(
            s.flags,
            [StatusFlag {
                kind: FlagKind::BelowMinInterval,
                record_id: 2
            }]
        );
    }

    #[test]
    fn mixed_schedule_counts_but_is_flagged() {
        let d = [
            dose(1, AZ, 1, date!(2021 - 07 - 01)),
            dose(2, PFIZER, 2, date!(2021 - 08 - 15)),
        ];
        let s = evaluate(&d, TODAY);
        assert_eq!(s.colour, Colour::Green);
        assert_eq!(
            s.flags,
            [StatusFlag {
                kind: FlagKind::MixedSchedule,
                record_id: 2
            }]
        );
    }

    #[test]
    fn dose_two_without_dose_one_stays_yellow_and_flagged() {
        let d = [dose(7, AZ, 2, date!(2021 - 09 - 01))];
        let s = evaluate(&d, TODAY);
        assert_eq!(s.colour, Colour::Yellow);
        assert_eq!(
            s.flags,
            [StatusFlag {
                kind: FlagKind::MissingEarlierDose,
                record_id: 7
            }]
        );
        // Even a second dose later cannot make the series complete while one is missing.
        let d = [d[0], dose(8, AZ, 3, date!(2021 - 11 - 01))];
        assert_eq!(evaluate(&d, TODAY).colour, Colour::Yellow);
    }

    #[test]
    fn duplicate_reports_count_once() {
        let d = [
            dose(1, AZ, 1, date!(2021 - 07 - 01)),
            dose(2, AZ, 1, date!(2021 - 07 - 01)),
        ];
        let s = evaluate(&d, TODAY);
        assert_eq!(s.counted, [1]);
        assert_eq!(s.flags[0].kind, FlagKind::DuplicateDose);
    }

    /// An EU-style rule set (green lapses after 270 days without a booster), to show that a
    /// validity period is data, not code.
    static LAPSING: RuleSet = RuleSet {
        version: "TEST-LAPSE",
        effective_from: date!(2022 - 02 - 01),
        summary_vi: "",
        summary_en: "",
        green_valid_days: Some(270),
        booster_min_days: 90,
    };

    #[test]
    fn rule_versions_follow_the_date_and_validity_is_data() {
        assert_eq!(rules_at(date!(2020 - 01 - 01)).version, "VN-2021.1");
        assert_eq!(rules_at(date!(2022 - 03 - 31)).version, "VN-2021.1");
        assert_eq!(rules_at(date!(2026 - 11 - 25)).version, "VN-2022.1");
        let primary = [
            dose(1, AZ, 1, date!(2021 - 07 - 01)),
            dose(2, AZ, 2, date!(2021 - 09 - 01)),
        ];
        let later = date!(2022 - 08 - 01);
        assert_eq!(evaluate(&primary, later).colour, Colour::Green);
        let s = evaluate_with(&LAPSING, &primary, later);
        assert_eq!((s.colour, s.rule_version), (Colour::Yellow, "TEST-LAPSE"));
        let boosted = [
            primary[0],
            primary[1],
            dose(3, PFIZER, 3, date!(2022 - 01 - 15)),
        ];
        let s = evaluate_with(&LAPSING, &boosted, later);
        assert_eq!((s.colour, s.boosters), (Colour::Green, 1));
        // 2022-01-15 is 136 days after the series: a booster under VN-2022.1 too.
        assert_eq!(evaluate(&boosted, later).boosters, 1);
    }
}
