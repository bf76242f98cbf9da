//! Coverage, due doses, supervision of the verification work and movement flows: aggregates of
//! the caller's area, read from the live counters. No personal data leaves these endpoints.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use vaxtrace_analytics::area::{
    Area, CAMPAIGN_START, check_day, level_code, parse_level, report_day,
};
use vaxtrace_analytics::flows::{matrix, roll_up, within};
use vaxtrace_analytics::report::{Basis, Counts, Coverage, Tally, rate};
use vaxtrace_analytics::supervision::Supervision;
use vaxtrace_analytics::{AGE_RULE, age::BandInfo};
use vaxtrace_domain::date::{parse_day, vietnam_day};
use vaxtrace_domain::{Permission, UnitLevel, admin_units};
use vaxtrace_store::{DueCount, Family, SeriesSum, Store, StoreError};

use crate::middleware::Caller;
use crate::{ApiError, AppState};

/// The longest range a time series or flow report covers.
const MAX_RANGE_DAYS: i64 = 1_100;
const MAX_FLOW_DAYS: i64 = 92;

#[derive(Debug, Default, Deserialize)]
pub struct AnalyticsQuery {
    pub area: Option<String>,
    pub level: Option<String>,
    pub date: Option<String>,
    pub basis: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub metric: Option<String>,
    pub limit: Option<u32>,
    pub format: Option<String>,
}

fn given(raw: Option<&String>) -> Option<&str> {
    raw.map(String::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl AnalyticsQuery {
    /// The area asked for (default: the caller's jurisdiction), which must lie within it.
    pub fn area(&self, caller: &Caller) -> Result<Area, ApiError> {
        let area = match given(self.area.as_ref()) {
            None => match caller.user.jurisdiction {
                vaxtrace_domain::Jurisdiction::National => Area::NATION,
                vaxtrace_domain::Jurisdiction::Unit(code) => Area::of(code),
            },
            Some(raw) => Area::parse(raw)?,
        };
        if !area.within(caller.user.jurisdiction) {
            return Err(ApiError::outside_area(
                "Địa bàn nằm ngoài phạm vi quản lý của bạn",
                "The area is outside your jurisdiction",
            ));
        }
        Ok(area)
    }

    fn level(&self, area: Area) -> Result<UnitLevel, ApiError> {
        Ok(area.level(given(self.level.as_ref()))?)
    }

    fn day(field: &'static str, raw: Option<&String>, default: Date) -> Result<Date, ApiError> {
        Ok(report_day(field, given(raw), default, today())?)
    }

    fn basis(&self) -> Result<Basis, ApiError> {
        match given(self.basis.as_ref()) {
            None => Ok(Basis::Residence),
            Some(raw) => Basis::parse(raw).ok_or_else(|| {
                ApiError::invalid_field(
                    "basis",
                    "unknown_basis",
                    "Cách tính không hợp lệ (residence: nơi cư trú, site: nơi tiêm)",
                    "Unknown basis (residence or site)",
                )
            }),
        }
    }

    /// `from`..=`to`, with defaults, in order and at most `max_days` long.
    fn range(&self, default_days: i64, max_days: i64) -> Result<(Date, Date), ApiError> {
        let to = Self::day("to", self.to.as_ref(), today())?;
        let earliest = (to - Duration::days(default_days - 1)).max(CAMPAIGN_START);
        let from = Self::day("from", self.from.as_ref(), earliest)?;
        if from > to {
            return Err(ApiError::invalid_field(
                "from",
                "from_after_to",
                "Ngày bắt đầu sau ngày kết thúc",
                "from is after to",
            ));
        }
        if (to - from).whole_days() >= max_days {
            return Err(ApiError::invalid_field(
                "from",
                "range_too_long",
                &format!("Khoảng thời gian tối đa {max_days} ngày"),
                &format!("At most {max_days} days at a time"),
            ));
        }
        Ok((from, to))
    }
}

fn today() -> Date {
    vietnam_day(OffsetDateTime::now_utc())
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub level: &'static str,
}

impl UnitInfo {
    pub fn of(code: &str) -> Self {
        let area = admin_units()
            .get(code)
            .map_or(Area::NATION, |u| Area::of(u.code));
        Self {
            code: area.code,
            name: area.name,
            level: area.level.map_or("nation", level_code),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    #[serde(flatten)]
    pub unit: UnitInfo,
    #[serde(flatten)]
    pub coverage: Coverage,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgeRuleInfo {
    pub version: &'static str,
    pub bands: Vec<BandInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    pub area: Area,
    pub level: &'static str,
    pub date: String,
    pub basis: Basis,
    pub age_rule: AgeRuleInfo,
    pub total: CoverageRow,
    pub units: Vec<CoverageRow>,
}

fn tallies(sums: Vec<SeriesSum>) -> HashMap<String, Tally> {
    let mut out: HashMap<String, Tally> = HashMap::new();
    for s in sums {
        out.entry(s.unit).or_default().add(&s.series, s.n);
    }
    out
}

/// The counters of `units` as of `day` (today reads the all-time totals).
async fn tally_units(
    store: &dyn Store,
    units: &[&'static str],
    day: Date,
    family: Family,
) -> Result<HashMap<String, Tally>, StoreError> {
    let as_of = (day < today()).then_some(day);
    let codes = units.iter().map(|u| (*u).to_owned()).collect();
    Ok(tallies(store.series_sums(codes, as_of, family).await?))
}

/// `GET /api/v1/coverage`.
pub async fn coverage(
    state: &AppState,
    caller: &Caller,
    q: &AnalyticsQuery,
) -> Result<CoverageReport, ApiError> {
    caller.require(Permission::ReadAnalytics)?;
    let area = q.area(caller)?;
    let level = q.level(area)?;
    let day = AnalyticsQuery::day("date", q.date.as_ref(), today())?;
    let basis = q.basis()?;
    Ok(coverage_report(state.reader(), area, level, day, basis).await?)
}

/// The coverage of `area` by the units of `level`, as of the end of `day`.
pub async fn coverage_report(
    store: &dyn Store,
    area: Area,
    level: UnitLevel,
    day: Date,
    basis: Basis,
) -> Result<CoverageReport, StoreError> {
    let units = area.units_at(level);
    let mut by_unit = tally_units(store, &units, day, Family::Coverage).await?;
    // The area's own counters: doses of district-level sites are on no commune's row.
    let mut total = Tally::default();
    for t in tally_units(store, &area.summing_units(), day, Family::Coverage)
        .await?
        .values()
    {
        total.merge(t);
    }
    let rows = units
        .iter()
        .map(|code| {
            let tally = by_unit.remove(*code).unwrap_or_default();
            CoverageRow {
                unit: UnitInfo::of(code),
                coverage: Coverage::of(&tally, basis),
            }
        })
        .collect();
    Ok(CoverageReport {
        total: CoverageRow {
            unit: UnitInfo::of(area.code),
            coverage: Coverage::of(&total, basis),
        },
        area,
        level: level_code(level),
        date: day.to_string(),
        basis,
        age_rule: AgeRuleInfo {
            version: AGE_RULE.version,
            bands: AGE_RULE.reported_bands(),
        },
        units: rows,
    })
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DayRow {
    pub date: String,
    pub doses: i64,
    pub dose1: i64,
    pub full: i64,
    pub booster: i64,
    pub cum_doses: i64,
    pub cum_dose1: i64,
    pub cum_full: i64,
    pub cum_booster: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesReport {
    pub area: Area,
    pub from: String,
    pub to: String,
    pub basis: Basis,
    pub population: Option<Counts>,
    pub days: Vec<DayRow>,
}

/// (doses, dose 1, full, booster) of a tally under a basis.
fn headline(t: &Tally, basis: Basis) -> [i64; 4] {
    let c = Coverage::of(t, basis);
    let all = |c: Option<Counts>| c.map_or(0, |c| c.all);
    [c.doses.total, all(c.dose1), all(c.full), all(c.booster)]
}

/// `GET /api/v1/coverage/series`: doses and people per day, and cumulative.
pub async fn series(
    state: &AppState,
    caller: &Caller,
    q: &AnalyticsQuery,
) -> Result<SeriesReport, ApiError> {
    caller.require(Permission::ReadAnalytics)?;
    let area = q.area(caller)?;
    let basis = q.basis()?;
    let (from, to) = q.range(120, MAX_RANGE_DAYS)?;
    let units = area.summing_units();
    let codes: Vec<String> = units.iter().map(|u| (*u).to_owned()).collect();
    // As of the day before the range (or nothing, before the campaign).
    let store = state.reader();
    let mut base = Tally::default();
    for s in store
        .series_sums(
            codes.clone(),
            Some(from - Duration::days(1)),
            Family::Coverage,
        )
        .await?
    {
        base.add(&s.series, s.n);
    }
    let mut per_day: BTreeMap<Date, Tally> = BTreeMap::new();
    for s in store.day_sums(codes, from, to, Family::Coverage).await? {
        per_day.entry(s.day).or_default().add(&s.series, s.n);
    }
    let [mut cd, mut c1, mut cf, mut cb] = headline(&base, basis);
    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        let [d, d1, f, b] = per_day.get(&day).map_or([0; 4], |t| headline(t, basis));
        (cd, c1, cf, cb) = (cd + d, c1 + d1, cf + f, cb + b);
        days.push(DayRow {
            date: day.to_string(),
            doses: d,
            dose1: d1,
            full: f,
            booster: b,
            cum_doses: cd,
            cum_dose1: c1,
            cum_full: cf,
            cum_booster: cb,
        });
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    Ok(SeriesReport {
        area,
        from: from.to_string(),
        to: to.to_string(),
        basis,
        population: Coverage::of(&base, basis).population,
        days,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct LowRow {
    pub code: &'static str,
    pub name: &'static str,
    pub district: Option<UnitInfo>,
    pub population: i64,
    pub count: i64,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LowestReport {
    pub area: Area,
    pub date: String,
    pub metric: &'static str,
    pub units: Vec<LowRow>,
}

/// `GET /api/v1/coverage/lowest`: the communes with the lowest adult coverage, where to send
/// mobile teams.
pub async fn lowest(
    state: &AppState,
    caller: &Caller,
    q: &AnalyticsQuery,
) -> Result<LowestReport, ApiError> {
    caller.require(Permission::ReadAnalytics)?;
    let area = q.area(caller)?;
    let day = AnalyticsQuery::day("date", q.date.as_ref(), today())?;
    let metric = match given(q.metric.as_ref()).unwrap_or("dose1") {
        "dose1" => "dose1",
        "full" => "full",
        _ => {
            return Err(ApiError::invalid_field(
                "metric",
                "unknown_metric",
                "Chỉ số không hợp lệ (dose1, full)",
                "Unknown metric (dose1 or full)",
            ));
        }
    };
    let limit = q.limit.unwrap_or(10).clamp(1, 100) as usize;
    let units = area.residence_units();
    let mut by_unit = tally_units(state.reader(), &units, day, Family::Coverage).await?;
    let mut rows: Vec<LowRow> = units
        .iter()
        .map(|code| {
            let t = by_unit.remove(*code).unwrap_or_default();
            let c = Coverage::of(&t, Basis::Residence);
            let population = c.population.map_or(0, |p| p.adults);
            let people = if metric == "full" { c.full } else { c.dose1 };
            let count = people.map_or(0, |p| p.adults);
            let info = UnitInfo::of(code);
            LowRow {
                code: info.code,
                name: info.name,
                district: roll_up(code, UnitLevel::District)
                    .filter(|d| d != code)
                    .map(UnitInfo::of),
                population,
                count,
                rate: rate(count, population),
            }
        })
        .filter(|r| r.population > 0)
        .collect();
    rows.sort_by(|a, b| {
        a.rate
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.rate.unwrap_or(f64::INFINITY))
            .then(a.code.cmp(b.code))
    });
    rows.truncate(limit);
    Ok(LowestReport {
        area,
        date: day.to_string(),
        metric,
        units: rows,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct DueRow {
    pub code: &'static str,
    pub name: &'static str,
    pub due_dose: i64,
    pub due_booster: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DueReport {
    pub area: Area,
    pub date: String,
    pub total: DueCount,
    pub units: Vec<DueRow>,
}

/// `GET /api/v1/coverage/due`: per commune, people whose next dose is due by the day (today, or
/// a day ahead to plan a campaign).
pub async fn due(
    state: &AppState,
    caller: &Caller,
    q: &AnalyticsQuery,
) -> Result<DueReport, ApiError> {
    caller.require(Permission::ReadAnalytics)?;
    let area = q.area(caller)?;
    let day = match given(q.date.as_ref()) {
        None => today(),
        Some(raw) => {
            let d = parse_day("date", raw)?;
            // Planning ahead is allowed, up to a year.
            check_day("date", d, today() + Duration::days(366))?
        }
    };
    let units: Vec<String> = area
        .residence_units()
        .iter()
        .map(|u| (*u).to_owned())
        .collect();
    let mut counts = state.reader().due_counts(units, day).await?;
    counts.sort_by(|a, b| {
        (b.due_dose + b.due_booster)
            .cmp(&(a.due_dose + a.due_booster))
            .then(a.unit.cmp(&b.unit))
    });
    let total = DueCount {
        unit: area.code.to_owned(),
        due_dose: counts.iter().map(|c| c.due_dose).sum(),
        due_booster: counts.iter().map(|c| c.due_booster).sum(),
    };
    let units = counts
        .into_iter()
        .map(|c| {
            let info = UnitInfo::of(&c.unit);
            DueRow {
                code: info.code,
                name: info.name,
                due_dose: c.due_dose,
                due_booster: c.due_booster,
            }
        })
        .collect();
    Ok(DueReport {
        area,
        date: day.to_string(),
        total,
        units,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct SupervisionRow {
    #[serde(flatten)]
    pub unit: UnitInfo,
    pub rank: usize,
    #[serde(flatten)]
    pub work: Supervision,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignedDay {
    pub date: String,
    pub signed: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SupervisionReport {
    pub area: Area,
    pub level: &'static str,
    pub from: String,
    pub to: String,
    pub total: SupervisionRow,
    pub units: Vec<SupervisionRow>,
    pub days: Vec<SignedDay>,
}

/// Sums per-commune queue counts into the report's units.
fn roll_counts(rows: Vec<(String, i64)>, level: UnitLevel) -> HashMap<&'static str, i64> {
    let mut out = HashMap::new();
    for (unit, n) in rows {
        if let Some(u) = roll_up(&unit, level).or_else(|| admin_units().get(&unit).map(|u| u.code))
        {
            *out.entry(u).or_insert(0) += n;
        }
    }
    out
}

/// `GET /api/v1/analytics/supervision`: the verification work per unit over a period, ranked
/// worst first.
pub async fn supervision(
    state: &AppState,
    caller: &Caller,
    q: &AnalyticsQuery,
) -> Result<SupervisionReport, ApiError> {
    caller.require(Permission::ReadAnalytics)?;
    let area = q.area(caller)?;
    let level = q.level(area)?;
    let (from, to) = q.range(30, MAX_RANGE_DAYS)?;
    let units = area.units_at(level);
    let codes: Vec<String> = units.iter().map(|u| (*u).to_owned()).collect();
    // One database for the whole report: a standby and the primary may differ by the lag.
    let store = state.reader();
    let until = tally_units(store, &units, to, Family::Supervision).await?;
    let before = tallies(
        store
            .series_sums(
                codes.clone(),
                Some(from - Duration::days(1)),
                Family::Supervision,
            )
            .await?,
    );
    let leaves: Vec<String> = area
        .residence_units()
        .iter()
        .map(|u| (*u).to_owned())
        .collect();
    let waiting = roll_counts(store.waiting_review(leaves.clone()).await?, level);
    let open = roll_counts(store.open_corrections(leaves).await?, level);
    let mut total_period = Tally::default();
    let mut rows: Vec<SupervisionRow> = units
        .iter()
        .map(|code| {
            let mut period = until.get(*code).cloned().unwrap_or_default();
            if let Some(b) = before.get(*code) {
                for (k, n) in &b.supervision {
                    *period.supervision.entry(k.clone()).or_insert(0) -= n;
                }
            }
            total_period.merge(&period);
            SupervisionRow {
                unit: UnitInfo::of(code),
                rank: 0,
                work: Supervision::of(
                    &period,
                    waiting.get(code).copied().unwrap_or(0),
                    open.get(code).copied().unwrap_or(0),
                ),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.work
            .lag_score
            .total_cmp(&a.work.lag_score)
            .then(b.work.waiting_review.cmp(&a.work.waiting_review))
            .then(a.unit.code.cmp(b.unit.code))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    let mut per_day: BTreeMap<Date, i64> = BTreeMap::new();
    let summing: Vec<String> = area
        .summing_units()
        .iter()
        .map(|u| (*u).to_owned())
        .collect();
    for s in store
        .day_sums(summing, from, to, Family::Supervision)
        .await?
    {
        if s.series == "sv:signed" {
            *per_day.entry(s.day).or_insert(0) += s.n;
        }
    }
    let total = SupervisionRow {
        unit: UnitInfo::of(area.code),
        rank: 0,
        work: Supervision::of(&total_period, waiting.values().sum(), open.values().sum()),
    };
    Ok(SupervisionReport {
        area,
        level: level_code(level),
        from: from.to_string(),
        to: to.to_string(),
        total,
        units: rows,
        days: per_day
            .into_iter()
            .map(|(d, signed)| SignedDay {
                date: d.to_string(),
                signed,
            })
            .collect(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowRow {
    pub origin: UnitInfo,
    pub destination: UnitInfo,
    pub declarations: i64,
    pub scans: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeclarationDay {
    pub date: String,
    pub declarations: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Arrivals {
    pub code: &'static str,
    pub name: &'static str,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    pub area: Area,
    pub level: &'static str,
    pub from: String,
    pub to: String,
    pub flows: Vec<FlowRow>,
    pub days: Vec<DeclarationDay>,
    pub outbreak_arrivals: Vec<Arrivals>,
}

/// `GET /api/v1/analytics/flows`: origin → destination between provinces or districts, from
/// travel declarations and the checkpoint scans of those declarations.
pub async fn flows(
    state: &AppState,
    caller: &Caller,
    q: &AnalyticsQuery,
) -> Result<FlowReport, ApiError> {
    caller.require(Permission::ReadMovementCounts)?;
    let area = q.area(caller)?;
    let level = match given(q.level.as_ref()) {
        None if area.level.is_none() => UnitLevel::Province,
        None => UnitLevel::District,
        Some(raw) => parse_level(raw)?,
    };
    if level == UnitLevel::Commune {
        return Err(ApiError::invalid_field(
            "level",
            "unknown_level",
            "Luồng di chuyển theo tỉnh hoặc huyện",
            "Flows are by province or district",
        ));
    }
    let (from, to) = q.range(7, MAX_FLOW_DAYS)?;
    let rows = state.reader().flow_rows(from, to).await?;
    let flows = matrix(rows.pairs, level, area.code)
        .into_iter()
        .map(|((o, d), f)| FlowRow {
            origin: UnitInfo::of(o),
            destination: UnitInfo::of(d),
            declarations: f.declarations,
            scans: f.scans,
        })
        .collect();
    let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
    for (day, o, d, n) in rows.days {
        if within(&o, area.code) || within(&d, area.code) {
            *per_day.entry(day).or_insert(0) += n;
        }
    }
    let mut arrivals: Vec<Arrivals> = rows
        .outbreak_arrivals
        .into_iter()
        .filter(|(dest, _)| within(dest, area.code))
        .map(|(dest, count)| {
            let info = UnitInfo::of(&dest);
            Arrivals {
                code: info.code,
                name: info.name,
                count,
            }
        })
        .collect();
    arrivals.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
    Ok(FlowReport {
        area,
        level: level_code(level),
        from: from.to_string(),
        to: to.to_string(),
        flows,
        days: per_day
            .into_iter()
            .map(|(date, declarations)| DeclarationDay { date, declarations })
            .collect(),
        outbreak_arrivals: arrivals,
    })
}
