//! Coverage rows from summed series.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::age::Band;
use crate::counters::Series;

/// Counts per band and sex, as stored.
type Cells = [[i64; 2]; 4];

fn sex_index(sex: char) -> usize {
    usize::from(sex == 'F')
}

/// The summed series of one unit (or of several, added together).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub population: Cells,
    pub dose1: Cells,
    pub full: Cells,
    pub booster: Cells,
    /// (dose number, vaccine) → doses, by residence and by site.
    pub doses_residence: BTreeMap<(u8, String), i64>,
    pub doses_site: BTreeMap<(u8, String), i64>,
    pub supervision: BTreeMap<String, i64>,
}

impl Tally {
    /// Adds one summed series; unknown names are ignored (a newer server's series).
    pub fn add(&mut self, series: &str, n: i64) {
        let Some(parsed) = Series::parse(series) else {
            return;
        };
        let cell = |cells: &mut Cells, b: Band, s: char| cells[b.index()][sex_index(s)] += n;
        match parsed {
            Series::Population(b, s) => cell(&mut self.population, b, s),
            Series::Dose1(b, s) => cell(&mut self.dose1, b, s),
            Series::Full(b, s) => cell(&mut self.full, b, s),
            Series::Booster(b, s) => cell(&mut self.booster, b, s),
            Series::DoseByResidence(d, v) => *self.doses_residence.entry((d, v)).or_insert(0) += n,
            Series::DoseBySite(d, v) => *self.doses_site.entry((d, v)).or_insert(0) += n,
            other => *self.supervision.entry(other.name()).or_insert(0) += n,
        }
    }

    pub fn merge(&mut self, o: &Tally) {
        for (mine, theirs) in [
            (&mut self.population, &o.population),
            (&mut self.dose1, &o.dose1),
            (&mut self.full, &o.full),
            (&mut self.booster, &o.booster),
        ] {
            for b in 0..4 {
                for s in 0..2 {
                    mine[b][s] += theirs[b][s];
                }
            }
        }
        for (k, n) in &o.doses_residence {
            *self.doses_residence.entry(k.clone()).or_insert(0) += n;
        }
        for (k, n) in &o.doses_site {
            *self.doses_site.entry(k.clone()).or_insert(0) += n;
        }
        for (k, n) in &o.supervision {
            *self.supervision.entry(k.clone()).or_insert(0) += n;
        }
    }

    pub fn sv(&self, series: &Series) -> i64 {
        self.supervision.get(&series.name()).copied().unwrap_or(0)
    }
}

/// Counts in the bands the reports show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub all: i64,
    pub under_12: i64,
    pub age_12_17: i64,
    pub adults: i64,
    pub age_65_plus: i64,
    pub male: i64,
    pub female: i64,
}

impl Counts {
    pub fn of(cells: &Cells) -> Self {
        let band = |b: Band| cells[b.index()][0] + cells[b.index()][1];
        let sex = |s: usize| cells.iter().map(|c| c[s]).sum::<i64>();
        Self {
            all: sex(0) + sex(1),
            under_12: band(Band::Under12),
            age_12_17: band(Band::Age12To17),
            adults: band(Band::Age18To64) + band(Band::Age65Plus),
            age_65_plus: band(Band::Age65Plus),
            male: sex(0),
            female: sex(1),
        }
    }

    pub fn get(&self, band: &str) -> Option<i64> {
        Some(match band {
            "all" => self.all,
            "under_12" => self.under_12,
            "age_12_17" => self.age_12_17,
            "adults" => self.adults,
            "age_65_plus" => self.age_65_plus,
            "male" => self.male,
            "female" => self.female,
            _ => return None,
        })
    }
}

/// Shares of a population; `None` where the population is zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rates {
    pub all: Option<f64>,
    pub under_12: Option<f64>,
    pub age_12_17: Option<f64>,
    pub adults: Option<f64>,
    pub age_65_plus: Option<f64>,
    pub male: Option<f64>,
    pub female: Option<f64>,
}

pub fn rate(n: i64, of: i64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

impl Rates {
    pub fn of(n: &Counts, pop: &Counts) -> Self {
        Self {
            all: rate(n.all, pop.all),
            under_12: rate(n.under_12, pop.under_12),
            age_12_17: rate(n.age_12_17, pop.age_12_17),
            adults: rate(n.adults, pop.adults),
            age_65_plus: rate(n.age_65_plus, pop.age_65_plus),
            male: rate(n.male, pop.male),
            female: rate(n.female, pop.female),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DoseTotals {
    pub total: i64,
    pub by_dose: BTreeMap<String, i64>,
    pub by_vaccine: BTreeMap<String, i64>,
}

impl DoseTotals {
    pub fn of(doses: &BTreeMap<(u8, String), i64>) -> Self {
        let mut t = Self::default();
        for ((dose, vaccine), n) in doses {
            t.total += n;
            *t.by_dose.entry(dose.to_string()).or_insert(0) += n;
            *t.by_vaccine.entry(vaccine.clone()).or_insert(0) += n;
        }
        t
    }
}

/// Counting by where people live, or by where doses were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Residence,
    Site,
}

impl Basis {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "residence" => Some(Self::Residence),
            "site" => Some(Self::Site),
            _ => None,
        }
    }
}

/// The numbers of one unit. People and rates only by residence: the place of vaccination has
/// doses, not residents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub population: Option<Counts>,
    pub dose1: Option<Counts>,
    pub full: Option<Counts>,
    pub booster: Option<Counts>,
    pub rate_dose1: Option<Rates>,
    pub rate_full: Option<Rates>,
    pub rate_booster: Option<Rates>,
    pub doses: DoseTotals,
}

impl Coverage {
    pub fn of(t: &Tally, basis: Basis) -> Self {
        match basis {
            Basis::Site => Self {
                population: None,
                dose1: None,
                full: None,
                booster: None,
                rate_dose1: None,
                rate_full: None,
                rate_booster: None,
                doses: DoseTotals::of(&t.doses_site),
            },
            Basis::Residence => {
                let pop = Counts::of(&t.population);
                let (d1, full, boost) = (
                    Counts::of(&t.dose1),
                    Counts::of(&t.full),
                    Counts::of(&t.booster),
                );
                Self {
                    population: Some(pop),
                    dose1: Some(d1),
                    full: Some(full),
                    booster: Some(boost),
                    rate_dose1: Some(Rates::of(&d1, &pop)),
                    rate_full: Some(Rates::of(&full, &pop)),
                    rate_booster: Some(Rates::of(&boost, &pop)),
                    doses: DoseTotals::of(&t.doses_residence),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_add_up_and_rates_divide() {
        let mut t = Tally::default();
        t.add("pop:0M", 10);
        t.add("pop:1F", 20);
        t.add("pop:2M", 60);
        t.add("pop:3F", 10);
        t.add("dose1:2M", 45);
        t.add("dose1:3F", 10);
        t.add("dose:r:1:AZ", 55);
        t.add("dose:r:2:AZ", 5);
        t.add("unknown:series", 99);
        let c = Coverage::of(&t, Basis::Residence);
        let pop = c.population.unwrap();
        assert_eq!(
            (pop.all, pop.adults, pop.age_65_plus, pop.male, pop.female),
            (100, 70, 10, 70, 30)
        );
        let r = c.rate_dose1.unwrap();
        assert_eq!(r.adults, Some(55.0 / 70.0));
        assert_eq!(r.under_12, Some(0.0));
        assert_eq!(c.doses.total, 60);
        assert_eq!(c.doses.by_dose["2"], 5);
        let site = Coverage::of(&t, Basis::Site);
        assert!(site.population.is_none());
        assert_eq!(site.doses.total, 0);
        assert_eq!(Rates::of(&Counts::default(), &Counts::default()).all, None);
    }
}
