//! Supervision of the verification work: delay histograms (so medians stay exact at their
//! resolution and additive) and the ranking of units that lag behind.

use serde::Serialize;
use time::Date;

use crate::counters::{Deltas, Series};
use crate::report::{Tally, rate};

/// Adds (`sign` = 1) or removes (-1) a record's current signature: counted on the signing day
/// for the commune that reviews the record.
pub fn count_signature(
    deltas: &mut Deltas,
    unit: &str,
    auto_linked: bool,
    shot_day: Date,
    signed_day: Date,
    sign: i64,
) {
    let how = if auto_linked {
        Series::SignedAuto
    } else {
        Series::SignedManual
    };
    let delay = sign_delay_bucket((signed_day - shot_day).whole_days());
    for series in [Series::Signed, how, Series::SignDelayDays(delay)] {
        deltas.add_on(unit, &series, signed_day, sign);
    }
}

/// A citizen's correction request: counted when made, and when handled with its handling time.
pub fn count_correction(
    deltas: &mut Deltas,
    unit: &str,
    requested_at: time::OffsetDateTime,
    handled_at: Option<time::OffsetDateTime>,
    sign: i64,
) {
    use vaxtrace_domain::date::vietnam_day;
    deltas.add_on(
        unit,
        &Series::CorrectionRequested,
        vietnam_day(requested_at),
        sign,
    );
    if let Some(done) = handled_at {
        let hours = handle_bucket((done - requested_at).whole_hours());
        let day = vietnam_day(done);
        deltas.add_on(unit, &Series::CorrectionHandled, day, sign);
        deltas.add_on(unit, &Series::CorrectionDelayHours(hours), day, sign);
    }
}

/// Signing delays are counted per day up to this many; longer ones share the last bucket.
pub const SIGN_DELAY_CAP_DAYS: u16 = 60;
/// Handling times: per hour for the first two days, then per day up to 31 days.
pub const HANDLE_CAP_HOURS: u16 = 31 * 24;

pub fn sign_delay_bucket(days: i64) -> u16 {
    days.clamp(0, i64::from(SIGN_DELAY_CAP_DAYS)) as u16
}

pub fn handle_bucket(hours: i64) -> u16 {
    let h = hours.clamp(0, i64::from(HANDLE_CAP_HOURS));
    if h < 48 {
        h as u16
    } else {
        (h / 24 * 24) as u16
    }
}

/// The lower bound of the bucket holding the median, from (bucket, count) pairs.
pub fn median_bucket(mut histogram: Vec<(u16, i64)>) -> Option<u16> {
    histogram.retain(|(_, n)| *n > 0);
    histogram.sort_unstable();
    let total: i64 = histogram.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    // The lower median for an even count.
    let target = (total + 1) / 2;
    let mut seen = 0;
    for (bucket, n) in histogram {
        seen += n;
        if seen >= target {
            return Some(bucket);
        }
    }
    None
}

/// One unit's verification work over a period. `lag_score` is the share of its records still
/// waiting for review among those waiting and those signed in the period: 0 is up to date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Supervision {
    pub waiting_review: i64,
    pub signed: i64,
    pub signed_auto: i64,
    pub signed_manual: i64,
    pub auto_share: Option<f64>,
    pub median_days_to_sign: Option<u16>,
    pub corrections_requested: i64,
    pub corrections_handled: i64,
    /// Open now (not limited to the period).
    pub corrections_open: i64,
    pub median_hours_to_handle: Option<u16>,
    pub lag_score: f64,
}

impl Supervision {
    /// From the period's tally (period sums of the supervision series) and live queue counts.
    pub fn of(period: &Tally, waiting_review: i64, corrections_open: i64) -> Self {
        let histogram = |prefix: &str| -> Vec<(u16, i64)> {
            period
                .supervision
                .iter()
                .filter_map(|(name, n)| Some((name.strip_prefix(prefix)?.parse().ok()?, *n)))
                .collect()
        };
        let signed = period.sv(&Series::Signed);
        let signed_auto = period.sv(&Series::SignedAuto);
        Self {
            waiting_review,
            signed,
            signed_auto,
            signed_manual: period.sv(&Series::SignedManual),
            auto_share: rate(signed_auto, signed),
            median_days_to_sign: median_bucket(histogram("sv:sign_delay:")),
            corrections_requested: period.sv(&Series::CorrectionRequested),
            corrections_handled: period.sv(&Series::CorrectionHandled),
            corrections_open,
            median_hours_to_handle: median_bucket(histogram("sv:corr_delay:")),
            lag_score: rate(
                waiting_review + corrections_open,
                waiting_review + corrections_open + signed,
            )
            .unwrap_or(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_from_histograms() {
        assert_eq!(median_bucket(vec![]), None);
        assert_eq!(median_bucket(vec![(3, 1)]), Some(3));
        assert_eq!(median_bucket(vec![(1, 2), (5, 2)]), Some(1));
        assert_eq!(median_bucket(vec![(9, 1), (1, 1), (5, 1)]), Some(5));
        assert_eq!(median_bucket(vec![(1, 0), (7, 4)]), Some(7));
        assert_eq!(sign_delay_bucket(-3), 0);
        assert_eq!(sign_delay_bucket(400), SIGN_DELAY_CAP_DAYS);
        assert_eq!(handle_bucket(47), 47);
        assert_eq!(handle_bucket(50), 48);
        assert_eq!(handle_bucket(10_000), HANDLE_CAP_HOURS);
    }

    #[test]
    fn a_unit_with_a_backlog_lags() {
        let mut t = Tally::default();
        t.add("sv:signed", 8);
        t.add("sv:auto", 6);
        t.add("sv:manual", 2);
        t.add("sv:sign_delay:2", 5);
        t.add("sv:sign_delay:10", 3);
        let s = Supervision::of(&t, 2, 0);
        assert_eq!(s.auto_share, Some(0.75));
        assert_eq!(s.median_days_to_sign, Some(2));
        assert!((s.lag_score - 0.2).abs() < 1e-12);
        assert!(Supervision::of(&Tally::default(), 0, 0).lag_score.abs() < f64::EPSILON);
    }
}
