//! Deterministic synthetic COVID-19 vaccination records for a registry CSV, with the typing errors
//! sites make and a ground-truth file, to measure record linkage.
//!
//! Streams the citizens file (the import format `generate citizens` writes) row by row; memory stays
//! flat whatever its size. Rows come out grouped by citizen, doses in order: a consumer must not
//! rely on that order.

use std::collections::HashMap;
use std::io::{Read, Write};

use anyhow::{Context, bail, ensure};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration, macros::date};
use vaxtrace_domain::name::fold;
use vaxtrace_domain::{Citizen, CitizenInput, LifeStatus, UnitLevel, admin_units};

pub const SHOT_COLUMNS: [&str; 13] = [
    "source",
    "source_record_id",
    "personal_id",
    "full_name",
    "birth_date",
    "sex",
    "phone",
    "commune_code",
    "vaccine_code",
    "dose_number",
    "administered_at",
    "site_code",
    "lot",
];
/// `noise` is empty, or the kinds applied joined by `+` (e.g. `missing_id+name_no_accents`).
pub const TRUTH_COLUMNS: [&str; 4] = ["source", "source_record_id", "personal_id", "noise"];

#[derive(Debug, Clone, PartialEq)]
pub struct ShotGenOptions {
    pub seed: u64,
    /// Fraction of eligible citizens (alive, 12+ on 2021-12-31) with a first dose.
    pub coverage_dose1: f64,
    /// Fraction of eligible citizens (not of dose-1 people) with a second dose.
    pub coverage_dose2: f64,
    /// Fraction of eligible adults (18+) with a booster: under-18s were not boosted before April
    /// 2022.
    pub booster: f64,
    /// Fraction of output rows with at least one error.
    pub noise: f64,
    /// Fraction of shots also reported by a second source.
    pub duplicate_rate: f64,
    /// Every dose on or before this day: the coverage shares are those of that day.
    pub report_day: Option<Date>,
}

impl Default for ShotGenOptions {
    /// Vietnam at the end of 2021, roughly.
    fn default() -> Self {
        Self {
            seed: 1,
            coverage_dose1: 0.97,
            coverage_dose2: 0.63,
            booster: 0.1,
            noise: 0.05,
            duplicate_rate: 0.02,
            report_day: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShotGenStats {
    /// Rows read from the citizens file.
    pub citizens: u64,
    /// Citizens old enough and alive.
    pub eligible: u64,
    /// Doses administered (each reported once, or more with duplicates).
    pub shots: u64,
    /// Rows with at least one error, duplicates included.
    pub noisy: u64,
    /// Extra rows from second sources.
    pub duplicates: u64,
    /// Rows that do not validate as a registry citizen; they get no shots.
    pub skipped: u64,
}

/// Youngest eligible birth year: 12 years old on 2021-12-31.
const LAST_ELIGIBLE_YEAR: i32 = 2009;
/// Born from this year on: under 18 in late 2021, so Pfizer/Moderna from mid-October, no booster.
const FIRST_TEEN_YEAR: i32 = 2004;
/// Bounds birth dates when validating rows; eligibility is checked separately.
const PARSE_TODAY: Date = date!(2399 - 12 - 31);
const CAMPAIGN_START: Date = date!(2021 - 03 - 08);
const DOSE1_END: Date = date!(2021 - 11 - 30);
const TEEN_START: Date = date!(2021 - 10 - 15);
const BOOSTER_START: Date = date!(2021 - 12 - 01);
const BOOSTER_END: Date = date!(2022 - 03 - 31);
/// Vietnam's minimum gap between the primary series and a booster, from December 2021.
const BOOSTER_GAP_DAYS: i64 = 84;
/// Dose 2 comes after the vaccine's interval plus up to eight weeks.
const MAX_SLACK_DAYS: i64 = 56;
/// Draws of a history before giving up and dropping the doses after the report day.
const REPORT_DAY_TRIES: usize = 200;

#[derive(Debug)]
struct VaccineSpec {
    code: &'static str,
    doses: u8,
    interval_days: i64,
    /// First use in Vietnam.
    from: Date,
    /// Share of first doses in 2021, per mille.
    weight: u32,
    lot_prefix: &'static str,
}

const AZ: usize = 0;
const PFIZER: usize = 1;
const MODERNA: usize = 2;
const ABDALA: usize = 5;
const JANSSEN: usize = 7;
const VACCINES: [VaccineSpec; 8] = [
    vaccine("EU/1/21/1529", 2, 28, date!(2021 - 03 - 08), 330, "ABV"),
    vaccine("EU/1/20/1528", 2, 21, date!(2021 - 07 - 10), 230, "FG"),
    vaccine("EU/1/20/1507", 2, 28, date!(2021 - 07 - 01), 90, "MD"),
    vaccine("BBIBP-CorV", 2, 21, date!(2021 - 06 - 20), 300, "2021"),
    vaccine("Sputnik-V", 2, 21, date!(2021 - 07 - 20), 10, "SP"),
    vaccine("Abdala", 3, 14, date!(2021 - 09 - 20), 25, "AB"),
    vaccine("Hayat-Vax", 2, 21, date!(2021 - 09 - 01), 5, "HV"),
    vaccine("EU/1/20/1525", 1, 0, date!(2021 - 10 - 01), 10, "XD"),
];

const fn vaccine(
    code: &'static str,
    doses: u8,
    interval_days: i64,
    from: Date,
    weight: u32,
    lot_prefix: &'static str,
) -> VaccineSpec {
    VaccineSpec {
        code,
        doses,
        interval_days,
        from,
        weight,
        lot_prefix,
    }
}

/// First doses by month, March … November 2021 (the campaign peaked August–October).
const MONTHS: [u32; 9] = [10, 10, 20, 30, 90, 200, 250, 220, 170];
/// Single-dose people mostly started late and had no time for dose 2.
const MONTHS_SINGLE: [u32; 9] = [2, 2, 3, 5, 10, 30, 80, 250, 400];
/// Boosted people started by September: early groups (health workers, elderly) were boosted first,
/// and it leaves room for the gap before March 2022.
const MONTHS_BOOSTED: [u32; 9] = [40, 40, 60, 80, 150, 300, 330, 0, 0];
const BOOSTERS: [(usize, u32); 3] = [(PFIZER, 55), (MODERNA, 30), (AZ, 15)];
/// AZ shortages in August–October 2021 led to mixed schedules.
const AZ_SECOND: [(usize, u32); 3] = [(AZ, 89), (PFIZER, 8), (MODERNA, 3)];
const TEEN_VACCINES: [(usize, u32); 2] = [(PFIZER, 85), (MODERNA, 15)];

/// (name, share of reports, noise multiplier, record-ID prefix). Paper notebooks typed in later
/// carry most errors.
const SOURCES: [(&str, u32, f64, &str); 3] = [
    ("site-app", 70, 0.6, "SA"),
    ("provincial-hdx", 20, 1.0, "HDX-"),
    ("legacy-so-tay", 10, 3.0, "ST-"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Noise {
    MissingId,
    IdDigit,
    IdTransposed,
    NameReordered,
    NameNoAccents,
    NameTypo,
    DmySwap,
    YearOnly,
    PhoneMissing,
}

/// Relative frequency of each kind among errors.
const NOISE_KINDS: [(Noise, u32); 9] = [
    (Noise::MissingId, 25),
    (Noise::IdDigit, 10),
    (Noise::IdTransposed, 5),
    (Noise::NameReordered, 4),
    (Noise::NameNoAccents, 20),
    (Noise::NameTypo, 12),
    (Noise::DmySwap, 6),
    (Noise::YearOnly, 6),
    (Noise::PhoneMissing, 12),
];

impl Noise {
    fn code(self) -> &'static str {
        match self {
            Self::MissingId => "missing_id",
            Self::IdDigit => "id_digit",
            Self::IdTransposed => "id_transposed",
            Self::NameReordered => "name_reordered",
            Self::NameNoAccents => "name_no_accents",
            Self::NameTypo => "name_typo",
            Self::DmySwap => "dmy_swap",
            Self::YearOnly => "year_only",
            Self::PhoneMissing => "phone_missing",
        }
    }

    /// Kinds that would overwrite each other.
    fn group(self) -> u8 {
        match self {
            Self::MissingId | Self::IdDigit | Self::IdTransposed => 0,
            Self::DmySwap | Self::YearOnly => 1,
            _ => 2 + self as u8,
        }
    }
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> Option<T> {
    let total: u32 = items.iter().map(|i| i.1).sum();
    if total == 0 {
        return None;
    }
    let mut r = rng.random_range(0..total);
    for &(item, w) in items {
        if r < w {
            return Some(item);
        }
        r -= w;
    }
    None
}

fn uniform_day(rng: &mut ChaCha8Rng, from: Date, to: Date) -> Option<Date> {
    let span = (to - from).whole_days();
    (span >= 0).then(|| from + Duration::days(rng.random_range(0..=span)))
}

/// One row's fields as a site would type them.
#[derive(Debug, Clone)]
struct Fields {
    personal_id: String,
    full_name: String,
    birth_date: String,
    phone: String,
}

impl Fields {
    fn applies(&self, kind: Noise) -> bool {
        let id = self.personal_id.as_bytes();
        match kind {
            Noise::MissingId | Noise::IdDigit => !id.is_empty(),
            Noise::IdTransposed => id.windows(2).any(|w| w[0] != w[1]),
            Noise::NameReordered => {
                let t: Vec<&str> = self.full_name.split(' ').collect();
                t.len() >= 3 && t[t.len() - 1] != t[t.len() - 2]
            }
            Noise::NameNoAccents => !self.full_name.is_ascii(),
            Noise::NameTypo => self.full_name.split(' ').any(|t| t.chars().count() >= 3),
            Noise::DmySwap => {
                let b = self.birth_date.as_bytes();
                b.len() == 10 && &b[8..10] <= b"12".as_slice() && b[8..10] != b[5..7]
            }
            Noise::YearOnly => self.birth_date.len() > 4,
            Noise::PhoneMissing => !self.phone.is_empty(),
        }
    }

    fn apply(&mut self, kind: Noise, rng: &mut ChaCha8Rng) {
        match kind {
            Noise::MissingId => self.personal_id.clear(),
            Noise::IdDigit => {
                let mut digits = std::mem::take(&mut self.personal_id).into_bytes();
                let i = rng.random_range(0..digits.len());
                let shift = rng.random_range(1..10u8);
                digits[i] = b'0' + (digits[i] - b'0' + shift) % 10;
                self.personal_id = String::from_utf8_lossy(&digits).into_owned();
            }
            Noise::IdTransposed => {
                let mut digits = std::mem::take(&mut self.personal_id).into_bytes();
                let pairs: Vec<usize> = (1..digits.len())
                    .filter(|&i| digits[i] != digits[i - 1])
                    .collect();
                let i = pairs[rng.random_range(0..pairs.len())];
                digits.swap(i, i - 1);
                self.personal_id = String::from_utf8_lossy(&digits).into_owned();
            }
            Noise::NameReordered => {
                let mut tokens: Vec<&str> = self.full_name.split(' ').collect();
                let n = tokens.len();
                tokens.swap(n - 1, n - 2);
                self.full_name = tokens.join(" ");
            }
            Noise::NameNoAccents => self.full_name = strip_accents(&self.full_name),
            Noise::NameTypo => self.full_name = typo(&self.full_name, rng),
            Noise::DmySwap => {
                let b = &self.birth_date;
                self.birth_date = format!("{}-{}-{}", &b[0..4], &b[8..10], &b[5..7]);
            }
            Noise::YearOnly => self.birth_date.truncate(4),
            Noise::PhoneMissing => self.phone.clear(),
        }
    }
}

/// `Nguyễn Thị Đào` → `Nguyen Thi Dao`, keeping letter case.
fn strip_accents(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut buf = [0u8; 4];
    for c in name.chars() {
        if c.is_ascii() || !c.is_alphabetic() {
            out.push(c);
            continue;
        }
        let plain = fold(c.encode_utf8(&mut buf));
        if c.is_uppercase() {
            out.extend(plain.chars().flat_map(char::to_uppercase));
        } else {
            out.push_str(&plain);
        }
    }
    out
}

/// Drops or replaces one letter (never the first of a word) of a word of three letters or more:
/// one edit once accents are folded away.
fn typo(name: &str, rng: &mut ChaCha8Rng) -> String {
    let mut tokens: Vec<Vec<char>> = name.split(' ').map(|t| t.chars().collect()).collect();
    let long: Vec<usize> = (0..tokens.len())
        .filter(|&i| tokens[i].len() >= 3)
        .collect();
    if long.is_empty() {
        return name.to_owned();
    }
    let token = &mut tokens[long[rng.random_range(0..long.len())]];
    let at = rng.random_range(1..token.len());
    if rng.random_bool(0.5) {
        token.remove(at);
    } else {
        let mut buf = [0u8; 4];
        let old = fold(token[at].encode_utf8(&mut buf));
        let replacement = loop {
            let c = char::from(b'a' + rng.random_range(0..26u8));
            if !old.starts_with(c) {
                break c;
            }
        };
        token[at] = replacement;
    }
    tokens
        .iter()
        .map(|t| t.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One administered dose.
#[derive(Debug, Clone, Copy)]
struct Dose {
    vaccine: usize,
    number: u8,
    date: Date,
    site: Site,
}

#[derive(Debug, Clone, Copy)]
enum Site {
    /// Commune health station (trạm y tế).
    Commune,
    /// District health centre (trung tâm y tế).
    District,
    Hospital,
}

struct Generator {
    rng: ChaCha8Rng,
    opts: ShotGenOptions,
    /// Noise probability per source, scaled so the mix averages `opts.noise`.
    source_noise: [f64; SOURCES.len()],
    next_record: [u64; SOURCES.len()],
    /// Province code → site-code prefix (`91` → `KG`).
    abbreviations: HashMap<&'static str, String>,
    stats: ShotGenStats,
}

impl Generator {
    fn new(opts: &ShotGenOptions) -> Self {
        let total: u32 = SOURCES.iter().map(|s| s.1).sum();
        let mean: f64 = SOURCES
            .iter()
            .map(|s| f64::from(s.1) / f64::from(total) * s.2)
            .sum();
        Self {
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            opts: opts.clone(),
            source_noise: SOURCES.map(|s| (opts.noise * s.2 / mean).clamp(0.0, 1.0)),
            next_record: [0; SOURCES.len()],
            abbreviations: HashMap::new(),
            stats: ShotGenStats::default(),
        }
    }

    fn months(&mut self, weights: &[u32; 9]) -> Date {
        let items: Vec<(usize, u32)> = weights.iter().copied().enumerate().collect();
        let month = pick(&mut self.rng, &items).unwrap_or(0);
        let first = date!(2021 - 03 - 01).replace_month(time::Month::March.nth_next(month as u8));
        let first = first.unwrap_or(CAMPAIGN_START).max(CAMPAIGN_START);
        let last = first
            .replace_day(time::util::days_in_month(first.month(), 2021))
            .unwrap_or(first)
            .min(DOSE1_END);
        uniform_day(&mut self.rng, first, last).unwrap_or(first)
    }

    fn site(&mut self) -> Site {
        pick(
            &mut self.rng,
            &[
                (Site::Commune, 70),
                (Site::District, 20),
                (Site::Hospital, 10),
            ],
        )
        .unwrap_or(Site::Commune)
    }

    fn slack(&mut self) -> Duration {
        // The smaller of two draws: most come back on time, a few weeks late.
        let a = self.rng.random_range(0..=MAX_SLACK_DAYS);
        let b = self.rng.random_range(0..=MAX_SLACK_DAYS);
        Duration::days(a.min(b))
    }

    /// The doses of one eligible citizen, in order. With a report day, every dose falls on or
    /// before it (dates drawn again, a bounded number of times, then late doses dropped), so the
    /// shares asked for are the coverage on that day.
    fn doses(&mut self, c: &Citizen) -> Vec<Dose> {
        let u: f64 = self.rng.random();
        if u >= self.opts.coverage_dose1 {
            return Vec::new();
        }
        let Some(day) = self.opts.report_day else {
            return self.draw_doses(c, u);
        };
        for _ in 0..REPORT_DAY_TRIES {
            let doses = self.draw_doses(c, u);
            if doses.iter().all(|d| d.date <= day) {
                return doses;
            }
        }
        let mut doses = self.draw_doses(c, u);
        doses.retain(|d| d.date <= day);
        doses
    }

    fn draw_doses(&mut self, c: &Citizen, u: f64) -> Vec<Dose> {
        let o = &self.opts;
        let (c2, boost) = (o.coverage_dose2, o.booster);
        let teen = c.birth_date.year() >= FIRST_TEEN_YEAR;
        let complete = u < c2;
        let boosted = u < boost && !teen;
        let (first_date, first) = if teen {
            let d = uniform_day(&mut self.rng, TEEN_START, DOSE1_END).unwrap_or(TEEN_START);
            (d, pick(&mut self.rng, &TEEN_VACCINES).unwrap_or(PFIZER))
        } else {
            let months = if boosted {
                &MONTHS_BOOSTED
            } else if complete {
                &MONTHS
            } else {
                &MONTHS_SINGLE
            };
            let d = self.months(months);
            // Janssen is a one-dose series: only for people who take one dose.
            let offered: Vec<(usize, u32)> = VACCINES
                .iter()
                .enumerate()
                .filter(|(i, v)| {
                    v.from <= d && (*i != JANSSEN || !complete) && !(boosted && *i == ABDALA)
                })
                .map(|(i, v)| (i, v.weight))
                .collect();
            (d, pick(&mut self.rng, &offered).unwrap_or(AZ))
        };
        let site = self.site();
        let mut doses = vec![Dose {
            vaccine: first,
            number: 1,
            date: first_date,
            site,
        }];
        if complete {
            let spec = &VACCINES[first];
            let mut last = first_date;
            for number in 2..=spec.doses {
                let vaccine = if first == AZ {
                    pick(&mut self.rng, &AZ_SECOND).unwrap_or(AZ)
                } else {
                    first
                };
                last = last + Duration::days(spec.interval_days) + self.slack();
                let site = if self.rng.random_bool(0.85) {
                    site
                } else {
                    self.site()
                };
                doses.push(Dose {
                    vaccine,
                    number,
                    date: last,
                    site,
                });
            }
            let earliest = (last + Duration::days(BOOSTER_GAP_DAYS)).max(BOOSTER_START);
            if boosted
                && spec.doses == 2
                && let Some(date) = uniform_day(&mut self.rng, earliest, BOOSTER_END)
            {
                let vaccine = pick(&mut self.rng, &BOOSTERS).unwrap_or(PFIZER);
                let site = self.site();
                doses.push(Dose {
                    vaccine,
                    number: 3,
                    date,
                    site,
                });
            }
        }
        doses
    }

    fn site_code(&mut self, site: Site, commune: &'static str) -> String {
        let units = admin_units();
        let lineage = units.lineage(commune);
        let province = lineage.last().map_or("00", |u| u.code);
        let district = lineage
            .iter()
            .find(|u| u.level == UnitLevel::District)
            .map_or(province, |u| u.code);
        let abbr = self.abbreviations.entry(province).or_insert_with(|| {
            let name = units.get(province).map_or("", |u| u.name);
            fold(name)
                .split([' ', '-'])
                .filter_map(|w| w.chars().next())
                .flat_map(char::to_uppercase)
                .collect()
        });
        let island = lineage
            .first()
            .is_some_and(|u| u.level == UnitLevel::District);
        match site {
            Site::Commune if !island => format!("{abbr}-TYT-{commune}"),
            Site::Commune | Site::District => format!("{abbr}-TTYT-{district}"),
            Site::Hospital => format!("{abbr}-BV-{district}"),
        }
    }

    fn lot(&mut self, dose: &Dose) -> String {
        // A few lots per vaccine and month, as deliveries came.
        let spec = &VACCINES[dose.vaccine];
        let month = dose.date.year() * 12 + i32::from(dose.date.month() as u8);
        let batch = self.rng.random_range(0..6);
        let n = (month * 7_919 + batch * 104_729 + dose.vaccine as i32 * 1_009) % 10_000;
        format!("{}{n:04}", spec.lot_prefix)
    }

    fn record_id(&mut self, source: usize) -> String {
        self.next_record[source] += 1;
        let n = self.next_record[source];
        match source {
            0 => format!("{}{n:010}", SOURCES[0].3),
            1 => format!("{}{n:08}", SOURCES[1].3),
            _ => format!("{}2021-{n:07}", SOURCES[2].3),
        }
    }

    /// Applies errors with the source's probability; returns the kinds, in a fixed order.
    fn noise(&mut self, fields: &mut Fields, source: usize) -> Vec<Noise> {
        if !self.rng.random_bool(self.source_noise[source]) {
            return Vec::new();
        }
        let count = pick(&mut self.rng, &[(1usize, 80), (2, 17), (3, 3)]).unwrap_or(1);
        let mut kinds: Vec<Noise> = Vec::with_capacity(count);
        for _ in 0..count {
            let open: Vec<(Noise, u32)> = NOISE_KINDS
                .iter()
                .copied()
                .filter(|(k, _)| fields.applies(*k) && kinds.iter().all(|c| c.group() != k.group()))
                .collect();
            match pick(&mut self.rng, &open) {
                Some(kind) => kinds.push(kind),
                None => break,
            }
        }
        kinds.sort_unstable();
        for &kind in &kinds {
            fields.apply(kind, &mut self.rng);
        }
        kinds
    }
}

fn check(opts: &ShotGenOptions) -> anyhow::Result<()> {
    for (name, v) in [
        ("coverage-dose1", opts.coverage_dose1),
        ("coverage-dose2", opts.coverage_dose2),
        ("booster", opts.booster),
        ("noise", opts.noise),
        ("duplicate-rate", opts.duplicate_rate),
    ] {
        ensure!(
            (0.0..=1.0).contains(&v),
            "--{name} must be within 0 and 1, got {v}"
        );
    }
    ensure!(
        opts.coverage_dose2 <= opts.coverage_dose1,
        "--coverage-dose2 cannot exceed --coverage-dose1: both are fractions of the population"
    );
    ensure!(
        opts.booster <= opts.coverage_dose2,
        "--booster cannot exceed --coverage-dose2: a booster follows a complete series"
    );
    Ok(())
}

/// Reads a header row and returns it cleaned (BOM, spaces), checking the required columns.
fn read_header<R: Read>(reader: &mut csv::Reader<R>) -> anyhow::Result<csv::StringRecord> {
    let mut raw = csv::StringRecord::new();
    if !reader
        .read_record(&mut raw)
        .context("cannot read the citizens header")?
    {
        bail!("the citizens file is empty: a header row is required");
    }
    let header: csv::StringRecord = raw
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 {
                f.trim_start_matches('\u{feff}')
            } else {
                f
            };
            f.trim()
        })
        .collect();
    for required in crate::import::REQUIRED {
        ensure!(
            header.iter().any(|h| h == required),
            "the citizens header lacks the required column '{required}'"
        );
    }
    Ok(header)
}

/// Writes shot reports for the citizens in `citizens_csv`, and for each report its true citizen.
/// `on_citizen` gets the running count of citizen rows read, after each row.
pub fn generate_vaccinations(
    opts: &ShotGenOptions,
    citizens_csv: impl Read,
    shots: impl Write,
    truth: impl Write,
    mut on_citizen: impl FnMut(u64),
) -> anyhow::Result<ShotGenStats> {
    check(opts)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(citizens_csv);
    let header = read_header(&mut reader)?;
    let mut shots = csv::Writer::from_writer(shots);
    let mut truth = csv::Writer::from_writer(truth);
    shots.write_record(SHOT_COLUMNS)?;
    truth.write_record(TRUTH_COLUMNS)?;
    let mut g = Generator::new(opts);
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                g.stats.citizens += 1;
                g.stats.skipped += 1;
                on_citizen(g.stats.citizens);
                continue;
            }
            Err(e) => return Err(e).context("cannot read the citizens file"),
        }
        g.stats.citizens += 1;
        let citizen = row
            .deserialize::<CitizenInput>(Some(&header))
            .ok()
            .and_then(|input| input.parse(PARSE_TODAY).ok());
        match citizen {
            None => g.stats.skipped += 1,
            Some(c) => {
                if c.status == LifeStatus::Alive && c.birth_date.year() <= LAST_ELIGIBLE_YEAR {
                    g.stats.eligible += 1;
                    write_citizen(&mut g, &c, &mut shots, &mut truth)?;
                }
            }
        }
        on_citizen(g.stats.citizens);
    }
    shots.flush().context("cannot write the shots file")?;
    truth.flush().context("cannot write the truth file")?;
    Ok(g.stats)
}

fn write_citizen<S: Write, T: Write>(
    generator: &mut Generator,
    citizen: &Citizen,
    shots: &mut csv::Writer<S>,
    truth: &mut csv::Writer<T>,
) -> anyhow::Result<()> {
    let doses = generator.doses(citizen);
    if doses.is_empty() {
        return Ok(());
    }
    // People declare where they live now: the temporary residence when they have one.
    let commune = match &citizen.temporary {
        Some(t) if generator.rng.random_bool(0.8) => t.unit_code,
        _ => citizen.permanent.unit_code,
    };
    let clean = Fields {
        personal_id: citizen.personal_id.to_string(),
        full_name: citizen.full_name.as_str().to_owned(),
        birth_date: citizen.birth_date.to_string(),
        phone: citizen
            .phone
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
    };
    let true_id = clean.personal_id.clone();
    let sources: Vec<(usize, u32)> = SOURCES.iter().map(|s| s.1).enumerate().collect();
    for dose in doses {
        generator.stats.shots += 1;
        let site_code = generator.site_code(dose.site, commune);
        let lot = generator.lot(&dose);
        let (hour, minute) = opening_time(&mut generator.rng);
        let day = dose.date;
        let administered_at = format!(
            "{:04}-{:02}-{:02}T{hour:02}:{minute:02}:00+07:00",
            day.year(),
            day.month() as u8,
            day.day()
        );
        let primary = pick(&mut generator.rng, &sources).unwrap_or(0);
        let mut reporters = vec![primary];
        if generator.rng.random_bool(generator.opts.duplicate_rate) {
            let others: Vec<(usize, u32)> =
                sources.iter().copied().filter(|s| s.0 != primary).collect();
            if let Some(second) = pick(&mut generator.rng, &others) {
                reporters.push(second);
                generator.stats.duplicates += 1;
            }
        }
        for source in reporters {
            let mut fields = clean.clone();
            let kinds = generator.noise(&mut fields, source);
            if !kinds.is_empty() {
                generator.stats.noisy += 1;
            }
            let record_id = generator.record_id(source);
            let dose_number = dose.number.to_string();
            shots.write_record([
                SOURCES[source].0,
                &record_id,
                &fields.personal_id,
                &fields.full_name,
                &fields.birth_date,
                citizen.sex.code(),
                &fields.phone,
                commune,
                VACCINES[dose.vaccine].code,
                &dose_number,
                &administered_at,
                &site_code,
                &lot,
            ])?;
            let noise = kinds.iter().map(|k| k.code()).collect::<Vec<_>>().join("+");
            truth.write_record([SOURCES[source].0, &record_id, &true_id, &noise])?;
        }
    }
    Ok(())
}

/// A time within opening hours: 07:30–11:30 and 13:30–17:00.
fn opening_time(rng: &mut ChaCha8Rng) -> (u32, u32) {
    let minute = rng.random_range(0..450u32);
    let from_midnight = if minute < 240 {
        7 * 60 + 30 + minute
    } else {
        13 * 60 + 30 + minute - 240
    };
    (from_midnight / 60, from_midnight % 60)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::synth::{Population, csv_record};
    use std::collections::{HashMap, HashSet};
    use vaxtrace_domain::PersonalId;

    fn citizens_csv(count: u64, seed: u64) -> Vec<u8> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(
            crate::import::REQUIRED
                .iter()
                .chain(&crate::import::OPTIONAL[..5]),
        )
        .unwrap();
        for c in Population::new("91", count, seed).unwrap() {
            out.write_record(csv_record(&c)).unwrap();
        }
        out.into_inner().unwrap()
    }

    struct Output {
        stats: ShotGenStats,
        shots: Vec<csv::StringRecord>,
        truth: Vec<csv::StringRecord>,
        shots_bytes: Vec<u8>,
    }

    fn run(opts: &ShotGenOptions, input: &[u8]) -> Output {
        let (mut shots, mut truth) = (Vec::new(), Vec::new());
        let mut seen = 0;
        let stats =
            generate_vaccinations(opts, input, &mut shots, &mut truth, |n| seen = n).unwrap();
        assert_eq!(seen, stats.citizens);
        let rows = |bytes: &[u8]| -> Vec<csv::StringRecord> {
            csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(bytes)
                .records()
                .map(Result::unwrap)
                .collect()
        };
        Output {
            stats,
            shots: rows(&shots),
            truth: rows(&truth),
            shots_bytes: shots,
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let input = citizens_csv(800, 3);
        let opts = ShotGenOptions::default();
        let a = run(&opts, &input);
        let b = run(&opts, &input);
        assert_eq!(a.shots_bytes, b.shots_bytes);
        assert_eq!(a.truth, b.truth);
        let other = run(
            &ShotGenOptions {
                seed: 2,
                ..opts.clone()
            },
            &input,
        );
        assert_ne!(a.shots_bytes, other.shots_bytes);
    }

    #[test]
    fn coverage_noise_and_shape_match_the_options() {
        let input = citizens_csv(5_000, 11);
        let opts = ShotGenOptions::default();
        let out = run(&opts, &input);
        let s = out.stats;
        assert_eq!(s.citizens, 5_000);
        assert_eq!(s.skipped, 0);
        assert_eq!(out.shots.len(), out.truth.len());
        assert_eq!(out.shots.len() as u64, s.shots + s.duplicates);

        // Eligible citizens and adults, from the same input.
        let citizens: Vec<Citizen> = Population::new("91", 5_000, 11)
            .unwrap()
            .map(|c| c.parse(PARSE_TODAY).unwrap())
            .collect();
        let eligible: HashMap<PersonalId, &Citizen> = citizens
            .iter()
            .filter(|c| c.birth_date.year() <= LAST_ELIGIBLE_YEAR)
            .map(|c| (c.personal_id, c))
            .collect();
        assert_eq!(eligible.len() as u64, s.eligible);
        let adults = eligible
            .values()
            .filter(|c| c.birth_date.year() < FIRST_TEEN_YEAR)
            .count();

        let mut with_dose: [HashSet<PersonalId>; 3] = Default::default();
        let mut keys = HashSet::new();
        let mut noisy_rows = 0;
        for (shot, truth) in out.shots.iter().zip(&out.truth) {
            assert_eq!(shot.len(), 13, "{shot:?}");
            assert_eq!(truth.len(), 4);
            assert_eq!((&shot[0], &shot[1]), (&truth[0], &truth[1]));
            assert!(keys.insert((shot[0].to_owned(), shot[1].to_owned())));
            let id = PersonalId::parse(&truth[2]).unwrap();
            let citizen = eligible[&id];
            if truth[3].is_empty() {
                assert_eq!(&shot[2], &truth[2]);
                assert_eq!(&shot[3], citizen.full_name.as_str());
                assert_eq!(&shot[4], citizen.birth_date.to_string());
            } else {
                noisy_rows += 1;
            }
            let dose: usize = shot[9].parse().unwrap();
            let vaccine = VACCINES.iter().position(|v| v.code == &shot[8]).unwrap();
            if dose == 3 && vaccine != ABDALA {
                with_dose[2].insert(id);
            } else if dose <= 2 {
                with_dose[dose - 1].insert(id);
            }
            let at = time::OffsetDateTime::parse(
                &shot[10],
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            assert_eq!(at.offset().whole_hours(), 7);
            let minutes = u32::from(at.hour()) * 60 + u32::from(at.minute());
            assert!((450..=690).contains(&minutes) || (810..=1020).contains(&minutes));
            assert!(shot[12].bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(shot[11].starts_with("KG-"), "{}", &shot[11]);
        }
        let share = |n: usize, of: usize| n as f64 / of as f64;
        let n = eligible.len();
        let dose1 = share(with_dose[0].len(), n);
        let dose2 = share(with_dose[1].len(), n);
        let booster = share(with_dose[2].len(), adults);
        assert!((dose1 - opts.coverage_dose1).abs() < 0.02, "dose 1 {dose1}");
        assert!((dose2 - opts.coverage_dose2).abs() < 0.02, "dose 2 {dose2}");
        assert!((booster - opts.booster).abs() < 0.02, "booster {booster}");
        let noise_share = share(noisy_rows, out.truth.len());
        assert_eq!(noisy_rows as u64, s.noisy);
        assert!(
            (noise_share - opts.noise).abs() < 0.015,
            "noise {noise_share}"
        );
        let dup = s.duplicates as f64 / s.shots as f64;
        assert!((dup - opts.duplicate_rate).abs() < 0.01, "duplicates {dup}");
    }

    #[test]
    fn schedules_respect_intervals_and_windows() {
        let out = run(&ShotGenOptions::default(), &citizens_csv(2_000, 5));
        let mut by_person: HashMap<(String, u8), (Date, String)> = HashMap::new();
        for (shot, truth) in out.shots.iter().zip(&out.truth) {
            let date = Date::parse(
                &shot[10][..10],
                &time::macros::format_description!("[year]-[month]-[day]"),
            )
            .unwrap();
            let dose: u8 = shot[9].parse().unwrap();
            by_person.insert((truth[2].to_owned(), dose), (date, shot[8].to_owned()));
        }
        let mut mixed = 0;
        for ((id, dose), (date, code)) in &by_person {
            let v = VACCINES.iter().find(|v| v.code == code).unwrap();
            if *dose == 1 {
                assert!((CAMPAIGN_START..=DOSE1_END).contains(date));
                assert!(*date >= v.from, "{code} before it arrived");
            } else {
                let (before, first) = &by_person[&(id.clone(), dose - 1)];
                let spec = VACCINES.iter().find(|v| v.code == first).unwrap();
                let gap = (*date - *before).whole_days();
                if *dose == 3 && spec.doses == 2 {
                    assert!((BOOSTER_START..=BOOSTER_END).contains(date));
                    assert!(gap >= BOOSTER_GAP_DAYS);
                } else {
                    assert!(gap >= spec.interval_days, "{first}: {gap} days");
                    assert!(gap <= spec.interval_days + MAX_SLACK_DAYS);
                    mixed += usize::from(code != first);
                }
            }
        }
        assert!(mixed > 0, "some AstraZeneca series end with an mRNA dose");
    }

    #[test]
    fn noise_kinds_do_what_they_say() {
        let opts = ShotGenOptions {
            noise: 0.5,
            ..ShotGenOptions::default()
        };
        let out = run(&opts, &citizens_csv(1_500, 9));
        let mut seen = HashSet::new();
        for (shot, truth) in out.shots.iter().zip(&out.truth) {
            for kind in truth[3].split('+').filter(|k| !k.is_empty()) {
                seen.insert(kind.to_owned());
                let (id, true_id) = (&shot[2], &truth[2]);
                match kind {
                    "missing_id" => assert!(id.is_empty()),
                    "id_digit" => {
                        let diff = id.bytes().zip(true_id.bytes()).filter(|(a, b)| a != b);
                        assert_eq!(diff.count(), 1);
                    }
                    "id_transposed" => {
                        let mut a: Vec<u8> = id.bytes().collect();
                        let mut b: Vec<u8> = true_id.bytes().collect();
                        assert_ne!(a, b);
                        a.sort_unstable();
                        b.sort_unstable();
                        assert_eq!(a, b);
                    }
                    "name_no_accents" | "name_typo" | "name_reordered" => {
                        assert!(vaxtrace_domain::FullName::parse(&shot[3]).is_ok(), "{kind}");
                        if kind == "name_no_accents" {
                            assert!(shot[3].is_ascii());
                        }
                    }
                    "dmy_swap" | "year_only" => {
                        assert!(
                            vaxtrace_domain::BirthDate::parse(&shot[4]).is_ok(),
                            "{kind}"
                        );
                    }
                    "phone_missing" => assert!(shot[6].is_empty()),
                    other => panic!("unknown noise kind {other}"),
                }
            }
        }
        assert_eq!(seen.len(), NOISE_KINDS.len(), "{seen:?}");
    }

    #[test]
    fn only_living_citizens_aged_12_get_shots_and_bad_rows_are_skipped() {
        let header = "personal_id,full_name,birth_date,sex,permanent_commune_code,\
                      permanent_address,phone,status\n";
        let rows = [
            "091087123456,Nguyễn Văn An,1987-03-09,M,30730,12 Trần Phú,0912345678,",
            "091187123456,Lê Thị Hoa,1987-03-09,F,30730,12 Trần Phú,,deceased",
            "091210123456,Trần Văn Bình,2010-01-01,M,30730,12 Trần Phú,,",
            "091209123456,Phạm Văn Nam,2009-12-31,M,30730,12 Trần Phú,,",
            "12345,Bad Row,1987,M,30730,x,,",
        ];
        let input = format!("\u{feff}{header}{}\n", rows.join("\n"));
        let opts = ShotGenOptions {
            coverage_dose1: 1.0,
            ..ShotGenOptions::default()
        };
        let out = run(&opts, input.as_bytes());
        assert_eq!(
            (out.stats.citizens, out.stats.eligible, out.stats.skipped),
            (5, 2, 1)
        );
        let people: HashSet<&str> = out.truth.iter().map(|t| &t[2]).collect();
        assert_eq!(people, HashSet::from(["091087123456", "091209123456"]));
    }

    #[test]
    fn bad_options_and_headers_are_errors() {
        let run = |opts: &ShotGenOptions, input: &[u8]| {
            generate_vaccinations(opts, input, Vec::new(), Vec::new(), |_| {})
        };
        let ok = citizens_csv(10, 1);
        let d = ShotGenOptions::default();
        for bad in [
            ShotGenOptions {
                coverage_dose2: 0.99,
                ..d.clone()
            },
            ShotGenOptions {
                noise: f64::NAN,
                ..d.clone()
            },
            ShotGenOptions {
                booster: 0.7,
                ..d.clone()
            },
        ] {
            assert!(run(&bad, &ok).is_err());
        }
        assert!(run(&d, b"").is_err());
        assert!(run(&d, b"personal_id,full_name\n").is_err());
    }

    /// Links every generated report back through the domain's linkage, with in-memory blocking on
    /// the keys a store would index: the noise this module makes is noise linkage survives.
    #[test]
    fn linkage_recovers_the_true_citizen() {
        use vaxtrace_domain::linkage::{self, Decision, LinkRecord, Thresholds};
        use vaxtrace_domain::{BirthDate, FullName, Phone, Sex};

        let input = citizens_csv(3_000, 21);
        let opts = ShotGenOptions {
            noise: 0.3,
            duplicate_rate: 0.0,
            ..ShotGenOptions::default()
        };
        let out = run(&opts, &input);
        let registry: Vec<Citizen> = Population::new("91", 3_000, 21)
            .unwrap()
            .map(|c| c.parse(PARSE_TODAY).unwrap())
            .collect();
        let mut by_id = HashMap::new();
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in registry.iter().enumerate() {
            by_id.insert(c.personal_id, i);
            let mut keys = vec![c.full_name.folded_key()];
            for unit in c.residence_units() {
                keys.push(format!("{unit}|{}", c.birth_date));
            }
            keys.extend(c.phone.as_ref().map(|p| p.as_str().to_owned()));
            for key in keys {
                by_key.entry(key).or_default().push(i);
            }
        }
        let thresholds = Thresholds::default();
        // [clean, noisy] × [auto right, auto wrong, review, unmatched]
        let mut tally = [[0u32; 4]; 2];
        let mut absent = [0u32; 2];
        for (shot, truth) in out.shots.iter().zip(&out.truth) {
            let name = FullName::parse(&shot[3]).unwrap();
            let phone = Phone::parse(&shot[6]).ok();
            let communes = [&shot[7]];
            let record = LinkRecord {
                personal_id: PersonalId::parse(&shot[2]).ok(),
                name: &name,
                birth: BirthDate::parse(&shot[4]).ok(),
                sex: Sex::parse_field("sex", &shot[5]).ok(),
                phone: phone.as_ref(),
                communes: &communes,
            };
            let keys = linkage::blocking_keys(&record);
            let mut found: Vec<usize> = keys
                .id_variants
                .iter()
                .filter_map(|id| by_id.get(id).copied())
                .collect();
            let lookups = [
                Some(keys.name_key),
                keys.commune_birth.map(|(u, b)| format!("{u}|{b}")),
                keys.phone,
            ];
            for key in lookups.iter().flatten() {
                found.extend(by_key.get(key).into_iter().flatten());
            }
            let candidates: Vec<Citizen> = found.iter().map(|&i| registry[i].clone()).collect();
            let ranked = linkage::rank(&record, &candidates);
            let right = ranked
                .first()
                .is_some_and(|(id, _)| id.to_string() == truth[2]);
            let outcome = match linkage::decide(&ranked, &thresholds) {
                Decision::Auto if right => 0,
                Decision::Auto => 1,
                Decision::Review => 2,
                Decision::Unmatched => 3,
            };
            tally[usize::from(!truth[3].is_empty())][outcome] += 1;
            // The same report for someone missing from the registry must not land on another.
            let others: Vec<_> = ranked
                .into_iter()
                .filter(|(id, _)| id.to_string() != truth[2])
                .collect();
            absent[usize::from(linkage::decide(&others, &thresholds) != Decision::Auto)] += 1;
        }
        eprintln!("true citizen absent [auto, not auto]: {absent:?}");
        assert_eq!(absent[0], 0, "nobody else is auto-linked");
        eprintln!(
            "linkage [auto right, auto wrong, review, unmatched]: clean {:?}, noisy {:?}",
            tally[0], tally[1]
        );
        let [clean, noisy] = tally;
        assert_eq!(clean[1] + noisy[1], 0, "no wrong auto-link");
        assert_eq!(clean[3] + noisy[3], 0, "every report finds its citizen");
        let share = |t: [u32; 4]| f64::from(t[0]) / f64::from(t.iter().sum::<u32>());
        assert!(share(clean) > 0.99, "clean reports auto-link: {clean:?}");
        assert!(
            share(noisy) > 0.8,
            "most noisy reports auto-link: {noisy:?}"
        );
    }

    /// One substitution or one deletion.
    fn one_edit(a: &str, b: &str) -> bool {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        if a.len() == b.len() {
            return a.iter().zip(&b).filter(|(x, y)| x != y).count() == 1;
        }
        a.len() == b.len() + 1 && (0..a.len()).any(|i| [&a[..i], &a[i + 1..]].concat() == b)
    }

    #[test]
    fn typos_are_one_folded_edit() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let name = "Nguyễn Thị Đào";
            let t = typo(name, &mut rng);
            assert!(one_edit(&fold(name), &fold(&t)), "{t}");
        }
        assert_eq!(strip_accents("Đặng Văn Ơn"), "Dang Van On");
    }
}
