//! Additive counters: keys, time buckets, series names, and a batch of deltas.

use std::collections::HashMap;

use time::Date;
use vaxtrace_domain::admin_units;

use crate::age::Band;

/// The time resolution of a counter row. `Total` rows hold all time (and the population).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    Total = 0,
    Year = 1,
    Month = 2,
    Day = 3,
}

impl Grain {
    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<Self> {
        [Self::Total, Self::Year, Self::Month, Self::Day]
            .into_iter()
            .find(|g| g.code() == code)
    }
}

/// `yyyymmdd` of a day.
pub fn day_bucket(day: Date) -> i64 {
    i64::from(day.year()) * 10_000 + i64::from(day.month() as u8) * 100 + i64::from(day.day())
}

pub fn month_bucket(day: Date) -> i64 {
    day_bucket(day) / 100 * 100
}

pub fn year_bucket(day: Date) -> i64 {
    day_bucket(day) / 10_000 * 10_000
}

/// The day of a `yyyymmdd` bucket.
pub fn bucket_day(bucket: i64) -> Option<Date> {
    let month = time::Month::try_from(u8::try_from(bucket / 100 % 100).ok()?).ok()?;
    Date::from_calendar_date(
        i32::try_from(bucket / 10_000).ok()?,
        month,
        u8::try_from(bucket % 100).ok()?,
    )
    .ok()
}

/// The bucket ranges whose sum is the value as of the end of `day`: years before its year, months
/// of its year before its month, days of its month up to it. Each is (grain, from, to) inclusive.
pub fn as_of_ranges(day: Date) -> [(Grain, i64, i64); 3] {
    let (y, m, d) = (year_bucket(day), month_bucket(day), day_bucket(day));
    [
        (Grain::Year, 0, y - 1),
        (Grain::Month, y, m - 1),
        (Grain::Day, m, d),
    ]
}

/// What a counter counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Series {
    /// Registry population (alive) by band and sex.
    Population(Band, char),
    /// People whose first dose counted, by band and sex.
    Dose1(Band, char),
    /// People with a complete primary series.
    Full(Band, char),
    /// People with at least one booster.
    Booster(Band, char),
    /// Signed doses by dose number and vaccine, counted where the citizen lives.
    DoseByResidence(u8, String),
    /// The same doses, counted where they were given.
    DoseBySite(u8, String),
    /// Supervision: records signed, and how they were linked.
    Signed,
    SignedAuto,
    SignedManual,
    /// Records signed this many days (capped) after the shot.
    SignDelayDays(u16),
    CorrectionRequested,
    CorrectionHandled,
    /// Corrections handled after this many hours (bucketed, see `supervision`).
    CorrectionDelayHours(u16),
}

impl Series {
    pub fn name(&self) -> String {
        let bs = |p: &str, b: &Band, s: &char| format!("{p}:{}{s}", b.index());
        match self {
            Self::Population(b, s) => bs("pop", b, s),
            Self::Dose1(b, s) => bs("dose1", b, s),
            Self::Full(b, s) => bs("full", b, s),
            Self::Booster(b, s) => bs("booster", b, s),
            Self::DoseByResidence(n, v) => format!("dose:r:{n}:{v}"),
            Self::DoseBySite(n, v) => format!("dose:s:{n}:{v}"),
            Self::Signed => "sv:signed".into(),
            Self::SignedAuto => "sv:auto".into(),
            Self::SignedManual => "sv:manual".into(),
            Self::SignDelayDays(d) => format!("sv:sign_delay:{d}"),
            Self::CorrectionRequested => "sv:corr_req".into(),
            Self::CorrectionHandled => "sv:corr_done".into(),
            Self::CorrectionDelayHours(h) => format!("sv:corr_delay:{h}"),
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        let band_sex = |rest: &str| -> Option<(Band, char)> {
            let mut chars = rest.chars();
            let band = Band::from_index(chars.next()?.to_digit(10)? as usize)?;
            let sex = chars.next().filter(|c| matches!(c, 'M' | 'F'))?;
            chars.next().is_none().then_some((band, sex))
        };
        let (kind, rest) = name.split_once(':')?;
        Some(match kind {
            "pop" => band_sex(rest).map(|(b, s)| Self::Population(b, s))?,
            "dose1" => band_sex(rest).map(|(b, s)| Self::Dose1(b, s))?,
            "full" => band_sex(rest).map(|(b, s)| Self::Full(b, s))?,
            "booster" => band_sex(rest).map(|(b, s)| Self::Booster(b, s))?,
            "dose" => {
                let mut parts = rest.splitn(3, ':');
                let (basis, n, vaccine) = (parts.next()?, parts.next()?, parts.next()?);
                let n = n.parse().ok()?;
                match basis {
                    "r" => Self::DoseByResidence(n, vaccine.to_owned()),
                    "s" => Self::DoseBySite(n, vaccine.to_owned()),
                    _ => return None,
                }
            }
            "sv" => match rest.split_once(':') {
                None => match rest {
                    "signed" => Self::Signed,
                    "auto" => Self::SignedAuto,
                    "manual" => Self::SignedManual,
                    "corr_req" => Self::CorrectionRequested,
                    "corr_done" => Self::CorrectionHandled,
                    _ => return None,
                },
                Some(("sign_delay", d)) => Self::SignDelayDays(d.parse().ok()?),
                Some(("corr_delay", h)) => Self::CorrectionDelayHours(h.parse().ok()?),
                Some(_) => return None,
            },
            _ => return None,
        })
    }
}

/// One counter row's key. `unit` is a commune, district or province code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub unit: &'static str,
    pub grain: Grain,
    pub bucket: i64,
    pub series: String,
}

/// Deltas to add to counters, summed per key; applied in the same transaction as the change.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Deltas {
    map: HashMap<Key, i64>,
}

impl Deltas {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn add_key(&mut self, key: Key, n: i64) {
        *self.map.entry(key).or_insert(0) += n;
    }

    /// Adds `n` to a timeless series of `unit` and each of its ancestors.
    pub fn add_total(&mut self, unit: &str, series: &Series, n: i64) {
        let name = series.name();
        for u in admin_units().lineage(unit) {
            self.add_key(
                Key {
                    unit: u.code,
                    grain: Grain::Total,
                    bucket: 0,
                    series: name.clone(),
                },
                n,
            );
        }
    }

    /// Adds `n` to a series on `day`: the all-time total and the year, month and day buckets of
    /// `unit` and each of its ancestors.
    pub fn add_on(&mut self, unit: &str, series: &Series, day: Date, n: i64) {
        let name = series.name();
        let buckets = [
            (Grain::Total, 0),
            (Grain::Year, year_bucket(day)),
            (Grain::Month, month_bucket(day)),
            (Grain::Day, day_bucket(day)),
        ];
        for u in admin_units().lineage(unit) {
            for (grain, bucket) in buckets {
                self.add_key(
                    Key {
                        unit: u.code,
                        grain,
                        bucket,
                        series: name.clone(),
                    },
                    n,
                );
            }
        }
    }

    pub fn merge(&mut self, other: Deltas) {
        for (k, n) in other.map {
            self.add_key(k, n);
        }
    }

    /// The non-zero deltas in key order (a fixed lock order for concurrent writers).
    pub fn into_sorted(self) -> Vec<(Key, i64)> {
        let mut v: Vec<_> = self.map.into_iter().filter(|(_, n)| *n != 0).collect();
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn series_names_round_trip() {
        let all = [
            Series::Population(Band::Age18To64, 'F'),
            Series::Dose1(Band::Under12, 'M'),
            Series::Full(Band::Age65Plus, 'F'),
            Series::Booster(Band::Age12To17, 'M'),
            Series::DoseByResidence(2, "EU/1/21/1529".into()),
            Series::DoseBySite(1, "BBIBP-CorV".into()),
            Series::Signed,
            Series::SignedAuto,
            Series::SignedManual,
            Series::SignDelayDays(12),
            Series::CorrectionRequested,
            Series::CorrectionHandled,
            Series::CorrectionDelayHours(48),
        ];
        for s in all {
            assert_eq!(Series::parse(&s.name()), Some(s.clone()), "{}", s.name());
        }
        for bad in [
            "pop:4F",
            "pop:2X",
            "dose:x:1:AZ",
            "sv:nope",
            "nothing",
            "dose1:2FF",
        ] {
            assert_eq!(Series::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn as_of_ranges_cover_every_earlier_day_once() {
        let day = date!(2021 - 11 - 23);
        let ranges = as_of_ranges(day);
        let covered = |d: Date| {
            let keys = [
                (Grain::Year, year_bucket(d)),
                (Grain::Month, month_bucket(d)),
                (Grain::Day, day_bucket(d)),
            ];
            // A day contributes to one bucket per grain; exactly one of them must be summed.
            keys.iter()
                .filter(|(g, b)| {
                    ranges
                        .iter()
                        .any(|(rg, lo, hi)| rg == g && lo <= b && b <= hi)
                })
                .count()
        };
        for d in [
            date!(2020 - 12 - 31),
            date!(2021 - 01 - 01),
            date!(2021 - 10 - 31),
            date!(2021 - 11 - 01),
            day,
        ] {
            assert_eq!(covered(d), 1, "{d}");
        }
        for d in [
            date!(2021 - 11 - 24),
            date!(2021 - 12 - 01),
            date!(2022 - 01 - 01),
        ] {
            assert_eq!(covered(d), 0, "{d}");
        }
        assert_eq!(bucket_day(day_bucket(day)), Some(day));
    }

    #[test]
    fn deltas_fan_out_to_ancestors_and_cancel() {
        let mut d = Deltas::new();
        let s = Series::Dose1(Band::Age18To64, 'M');
        d.add_on("30730", &s, date!(2021 - 07 - 01), 1);
        // Commune, district, province × four grains.
        assert_eq!(d.len(), 12);
        d.add_on("30730", &s, date!(2021 - 07 - 01), -1);
        assert!(d.into_sorted().is_empty());
    }
}
