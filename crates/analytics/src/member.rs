//! What one citizen contributes to the counters. The store keeps the last contribution of each
//! vaccinated citizen, so a change is applied as "minus the old, plus the new" and stays exact
//! through corrections, moves and deaths.

use time::Date;
use vaxtrace_domain::admin_units;
use vaxtrace_domain::status::Status;

use crate::age::{AGE_RULE, Band};
use crate::counters::{Deltas, Series, bucket_day, day_bucket};

/// Where and who a citizen is, for counting: the residence unit counted (permanent, or temporary
/// when so configured), cohort band, sex, and whether they are alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub unit: String,
    pub band: Band,
    pub sex: char,
    pub alive: bool,
}

/// Which residence the counters use; changing it takes a recount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResidenceBasis {
    #[default]
    Permanent,
    /// The temporary residence where there is one, else the permanent.
    Temporary,
}

impl ResidenceBasis {
    pub fn code(self) -> &'static str {
        match self {
            Self::Permanent => "permanent",
            Self::Temporary => "temporary",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Permanent, Self::Temporary]
            .into_iter()
            .find(|b| b.code() == raw)
    }

    pub fn pick<'a>(self, permanent: &'a str, temporary: Option<&'a str>) -> &'a str {
        match (self, temporary) {
            (Self::Temporary, Some(t)) if !t.is_empty() => t,
            _ => permanent,
        }
    }
}

impl Resident {
    /// `birth_date` as stored (`YYYY-MM-DD`); `sex` as `M`/`F`; `status` as `alive`/`deceased`.
    pub fn from_fields(unit: &str, birth_date: &str, sex: &str, status: &str) -> Option<Self> {
        let year: i32 = birth_date.get(..4)?.parse().ok()?;
        let sex = match sex {
            "M" => 'M',
            "F" => 'F',
            _ => return None,
        };
        Some(Self {
            unit: unit.to_owned(),
            band: AGE_RULE.band(year),
            sex,
            alive: status == "alive",
        })
    }

    /// Adds (`sign` = 1) or removes (-1) this citizen from the registry population.
    pub fn count_population(&self, deltas: &mut Deltas, sign: i64) {
        if self.alive {
            deltas.add_total(&self.unit, &Series::Population(self.band, self.sex), sign);
        }
    }
}

/// One signed dose of a citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseCell {
    pub day: Date,
    pub dose_number: u8,
    pub vaccine: String,
    /// The unit of the site that gave it, when its code names one.
    pub site_unit: Option<String>,
}

/// The status-derived part of a contribution: event days and signed doses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Member {
    pub dose1_on: Option<Date>,
    pub full_on: Option<Date>,
    pub booster_on: Option<Date>,
    pub next_due_on: Option<Date>,
    pub doses: Vec<DoseCell>,
}

/// The unit a site code ends with (`KG-TYT-30730` → `30730`), if it is a real one.
pub fn site_unit(site_code: &str) -> Option<&'static str> {
    let last = site_code.rsplit('-').next()?;
    admin_units().get(last).map(|u| u.code)
}

impl Member {
    pub fn from_status(status: &Status, mut doses: Vec<DoseCell>) -> Self {
        doses.sort_by(|a, b| {
            (a.day, a.dose_number, &a.vaccine).cmp(&(b.day, b.dose_number, &b.vaccine))
        });
        Self {
            dose1_on: status.first_dose_on,
            full_on: status.primary_complete_on,
            booster_on: status.first_booster_on,
            next_due_on: status.next_dose_due_on,
            doses,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.doses.is_empty()
    }

    /// Adds (`sign` = 1) or removes (-1) what this member contributes while living as `resident`.
    pub fn count(&self, resident: &Resident, deltas: &mut Deltas, sign: i64) {
        if !resident.alive {
            return;
        }
        let (unit, band, sex) = (resident.unit.as_str(), resident.band, resident.sex);
        for (day, series) in [
            (self.dose1_on, Series::Dose1(band, sex)),
            (self.full_on, Series::Full(band, sex)),
            (self.booster_on, Series::Booster(band, sex)),
        ] {
            if let Some(day) = day {
                deltas.add_on(unit, &series, day, sign);
            }
        }
        for d in &self.doses {
            let residence = Series::DoseByResidence(d.dose_number, d.vaccine.clone());
            deltas.add_on(unit, &residence, d.day, sign);
            let site = Series::DoseBySite(d.dose_number, d.vaccine.clone());
            deltas.add_on(d.site_unit.as_deref().unwrap_or(unit), &site, d.day, sign);
        }
    }

    /// The doses as stored: `yyyymmdd,dose,site unit,vaccine` joined by `;`.
    pub fn encode_doses(&self) -> String {
        self.doses
            .iter()
            .map(|d| {
                format!(
                    "{},{},{},{}",
                    day_bucket(d.day),
                    d.dose_number,
                    d.site_unit.as_deref().unwrap_or(""),
                    d.vaccine
                )
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    pub fn decode_doses(text: &str) -> Option<Vec<DoseCell>> {
        text.split(';')
            .filter(|s| !s.is_empty())
            .map(|item| {
                let mut parts = item.splitn(4, ',');
                let day = bucket_day(parts.next()?.parse().ok()?)?;
                let dose_number = parts.next()?.parse().ok()?;
                let site = parts.next()?;
                let vaccine = parts.next()?.to_owned();
                Some(DoseCell {
                    day,
                    dose_number,
                    vaccine,
                    site_unit: (!site.is_empty()).then(|| site.to_owned()),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;
    use vaxtrace_domain::status::{Dose, evaluate};

    use super::*;
    use crate::counters::Grain;

    const AZ: &str = "EU/1/21/1529";

    fn member() -> Member {
        let doses = [
            Dose::new(1, AZ, 1, date!(2021 - 07 - 01).midnight().assume_utc()).unwrap(),
            Dose::new(2, AZ, 2, date!(2021 - 09 - 01).midnight().assume_utc()).unwrap(),
        ];
        let status = evaluate(&doses, date!(2021 - 12 - 01));
        let cells = doses
            .iter()
            .map(|d| DoseCell {
                day: d.administered_on,
                dose_number: d.dose_number,
                vaccine: AZ.into(),
                site_unit: site_unit("KG-TYT-30733").map(str::to_owned),
            })
            .collect();
        Member::from_status(&status, cells)
    }

    #[test]
    fn a_green_member_counts_dose1_full_and_doses_at_home_and_site() {
        let m = member();
        assert_eq!(m.dose1_on, Some(date!(2021 - 07 - 01)));
        assert_eq!(m.full_on, Some(date!(2021 - 09 - 01)));
        assert_eq!(m.booster_on, None);
        assert_eq!(m.next_due_on, Some(date!(2021 - 11 - 30)));
        let who = Resident::from_fields("30730", "1987-03-09", "M", "alive").unwrap();
        let mut d = Deltas::new();
        m.count(&who, &mut d, 1);
        let rows = d.into_sorted();
        let total = |unit: &str, series: &str| {
            rows.iter()
                .filter(|(k, _)| k.unit == unit && k.grain == Grain::Total && k.series == series)
                .map(|(_, n)| *n)
                .sum::<i64>()
        };
        assert_eq!(total("30730", "dose1:2M"), 1);
        assert_eq!(total("91", "full:2M"), 1);
        assert_eq!(total("30730", &format!("dose:r:2:{AZ}")), 1);
        assert_eq!(total("30730", &format!("dose:s:2:{AZ}")), 0);
        assert_eq!(total("30733", &format!("dose:s:2:{AZ}")), 1);
    }

    #[test]
    fn the_dead_count_nowhere_and_doses_round_trip() {
        let m = member();
        let who = Resident::from_fields("30730", "1987-03-09", "M", "deceased").unwrap();
        let mut d = Deltas::new();
        m.count(&who, &mut d, 1);
        who.count_population(&mut d, 1);
        assert!(d.is_empty());
        assert_eq!(
            Member::decode_doses(&m.encode_doses()),
            Some(m.doses.clone())
        );
        assert_eq!(Member::decode_doses(""), Some(vec![]));
        assert_eq!(Member::decode_doses("2021,1"), None);
    }
}
