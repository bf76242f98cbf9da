//! Fellegi–Sunter record linkage of vaccination records to registry citizens.
//!
//! Sites send shot records with typing errors: names without diacritics or with one wrong letter,
//! middle and given names swapped, day and month swapped, a year only, an ID with one wrong digit
//! or two digits swapped, or no ID at all. Each field is compared into an outcome (exact, close,
//! partial, disagree, missing); each outcome carries a weight `log2(m/u)`, where `m` is its chance
//! for two records of the same person and `u` its chance for a wrong candidate. The score is the sum
//! of the weights, and [`decide`] turns ranked scores into auto-link, review or unmatched.
//!
//! Pure: callers fetch candidates with [`blocking_keys`] and pass them in.

use serde::Serialize;
use time::{Date, Month};

use crate::name::{comparison_form, fold};
use crate::{BirthDate, Citizen, FullName, PersonalId, Phone, Sex};

/// The fields of one record that linkage compares; borrowed, so building one costs nothing.
#[derive(Debug, Clone, Copy)]
pub struct LinkRecord<'a> {
    pub personal_id: Option<PersonalId>,
    pub name: &'a FullName,
    pub birth: Option<BirthDate>,
    pub sex: Option<Sex>,
    pub phone: Option<&'a Phone>,
    /// A shot record: the one commune it gives. A citizen: permanent, then temporary unit code.
    pub communes: &'a [&'a str],
}

impl<'a> LinkRecord<'a> {
    /// A registry citizen as a linkage record; `communes_buf` holds its residence unit codes.
    pub fn of_citizen(c: &'a Citizen, communes_buf: &'a mut Vec<&'static str>) -> Self {
        communes_buf.clear();
        communes_buf.extend(c.residence_units());
        Self {
            personal_id: Some(c.personal_id),
            name: &c.full_name,
            birth: Some(c.birth_date),
            sex: Some(c.sex),
            phone: c.phone.as_ref(),
            communes: communes_buf,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    Exact,
    Close,
    Partial,
    Disagree,
    Missing,
}

/// How one field compared, and what that outcome weighs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldEvidence {
    pub field: &'static str,
    pub agreement: Agreement,
    /// The comparator's finding, e.g. `day_month_swapped`, `one_edit`, `tokens_reordered`.
    pub detail: &'static str,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Sum of the field weights, in bits: above 0 the fields favour "same person".
    pub score: f64,
    pub fields: Vec<FieldEvidence>,
}

impl Evidence {
    pub fn field(&self, name: &str) -> Option<&FieldEvidence> {
        self.fields.iter().find(|f| f.field == name)
    }
}

/// One agreeing outcome of a field comparator and its Fellegi–Sunter probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub detail: &'static str,
    pub agreement: Agreement,
    /// P(outcome | same person).
    pub m: f64,
    /// P(outcome | a wrong candidate).
    pub u: f64,
}

impl Level {
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

/// A field's agreeing levels. Its disagreement takes the remaining mass on both sides:
/// `log2((1 − Σm) / (1 − Σu))`; a field missing on either side weighs 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldModel {
    pub field: &'static str,
    pub levels: &'static [Level],
}

impl FieldModel {
    pub fn disagreement_weight(&self) -> f64 {
        let m: f64 = self.levels.iter().map(|l| l.m).sum();
        let u: f64 = self.levels.iter().map(|l| l.u).sum();
        ((1.0 - m) / (1.0 - u)).log2()
    }
}

const fn level(detail: &'static str, agreement: Agreement, m: f64, u: f64) -> Level {
    Level {
        detail,
        agreement,
        m,
        u,
    }
}

// The weight table. `m` values are judgement for data typed at vaccination sites (a few per cent
// of records carry each kind of error); `u` values are for a *wrong candidate* drawn from a
// province-sized registry, tempered upwards from pure chance because blocking brings relatives,
// namesakes and ID neighbours forward. Weights (bits) are in the comments.

/// 12 digits typed by hand. `u` of an exact match is not 10⁻⁸: a relative's ID gets entered.
const ID_EXACT: Level = level("exact", Agreement::Exact, 0.95, 1e-5); // +16.5
const ID_ONE_DIGIT: Level = level("one_digit", Agreement::Close, 0.02, 1e-4); // +7.6
const ID_TRANSPOSED: Level = level("digits_transposed", Agreement::Close, 0.01, 2e-5); // +9.0
pub const PERSONAL_ID: FieldModel = FieldModel {
    field: "personal_id",
    levels: &[ID_EXACT, ID_ONE_DIGIT, ID_TRANSPOSED],
}; // disagree −5.6

/// `u` of the exact level is replaced by a name-frequency estimate, see [`name_frequency`].
const NAME_EXACT: Level = level("exact", Agreement::Exact, 0.78, 1e-3); // +8.7 … +12.9
const NAME_ACCENTS: Level = level("accents_differ", Agreement::Close, 0.10, 2e-3); // +5.6
/// Both sides accented, differently: a tone typo, or two names (`Hùng`, `Hưng`).
const NAME_ACCENTS_CONFLICT: Level = level("accents_conflict", Agreement::Close, 0.02, 4e-3); // +2.3
const NAME_REORDERED: Level = level("tokens_reordered", Agreement::Close, 0.03, 1e-3); // +4.9
/// One edit inside a word of at least four letters.
const NAME_ONE_EDIT: Level = level("one_edit", Agreement::Close, 0.03, 3e-3); // +3.3
/// One edit in a short word (`An`/`Anh` are two names) or in the spacing.
const NAME_ONE_EDIT_SHORT: Level = level("one_edit", Agreement::Partial, 0.02, 8e-3); // +1.3
const NAME_SIMILAR: Level = level("similar", Agreement::Partial, 0.01, 5e-3); // +1.0
pub const FULL_NAME: FieldModel = FieldModel {
    field: "full_name",
    levels: &[
        NAME_EXACT,
        NAME_ACCENTS,
        NAME_ACCENTS_CONFLICT,
        NAME_REORDERED,
        NAME_ONE_EDIT,
        NAME_ONE_EDIT_SHORT,
        NAME_SIMILAR,
    ],
}; // disagree −6.6

/// `u` of an exact date: ~1/(365·70), raised for the heaping of registry dates on 1 January.
const BIRTH_EXACT: Level = level("exact", Agreement::Exact, 0.88, 1e-4); // +13.1
const BIRTH_SWAPPED: Level = level("day_month_swapped", Agreement::Close, 0.02, 1e-4); // +7.6
const BIRTH_SAME_MONTH: Level = level("same_month", Agreement::Partial, 0.03, 1.5e-3); // +4.3
/// Same year, month unknown on one side (older citizens' registry dates, or a year-only record).
const BIRTH_YEAR_ONLY: Level = level("year_only", Agreement::Partial, 0.05, 1.5e-2); // +1.7
pub const BIRTH_DATE: FieldModel = FieldModel {
    field: "birth_date",
    levels: &[
        BIRTH_EXACT,
        BIRTH_SWAPPED,
        BIRTH_SAME_MONTH,
        BIRTH_YEAR_ONLY,
    ],
}; // disagree −5.6

const SEX_SAME: Level = level("exact", Agreement::Exact, 0.98, 0.5); // +1.0
pub const SEX: FieldModel = FieldModel {
    field: "sex",
    levels: &[SEX_SAME],
}; // disagree −4.6

/// Numbers change hands and households share one: a weak `m`, and `u` above chance.
const PHONE_SAME: Level = level("exact", Agreement::Exact, 0.60, 2e-3); // +8.2
pub const PHONE: FieldModel = FieldModel {
    field: "phone",
    levels: &[PHONE_SAME],
}; // disagree −1.3

/// Most people get their shot where they live; ~1/100 of a province's communes by chance.
const COMMUNE_SAME: Level = level("exact", Agreement::Exact, 0.85, 1e-2); // +6.4
pub const COMMUNE: FieldModel = FieldModel {
    field: "commune",
    levels: &[COMMUNE_SAME],
}; // disagree −2.7

/// Every field model, in the order [`compare`] reports them.
pub const MODELS: [FieldModel; 6] = [PERSONAL_ID, FULL_NAME, BIRTH_DATE, SEX, PHONE, COMMUNE];

/// Shares of family names (folded) in Vietnam; others are taken as 0.4 %.
const FAMILY_SHARES: &[(&str, f64)] = &[
    ("nguyen", 0.38),
    ("tran", 0.11),
    ("le", 0.095),
    ("pham", 0.071),
    ("hoang", 0.031),
    ("phan", 0.045),
    ("huynh", 0.02),
    ("vu", 0.02),
    ("vo", 0.019),
    ("dang", 0.021),
    ("bui", 0.02),
    ("do", 0.014),
    ("ho", 0.013),
    ("ngo", 0.013),
    ("duong", 0.01),
];
const OTHER_FAMILY_SHARE: f64 = 0.004;
/// `Văn` and `Thị` are the middle names of about half of men and of women.
const COMMON_MIDDLE_SHARE: f64 = 0.25;
const OTHER_MIDDLE_SHARE: f64 = 0.05;
const GIVEN_SHARE: f64 = 0.02;
const NAME_U_RANGE: (f64, f64) = (1e-4, 3e-3);

/// The chance that a wrong candidate carries exactly this (folded) name: family × middle × given
/// shares, bounded. Makes `Nguyễn Văn An` weaker evidence than `Thạch Kim Yến`.
pub fn name_frequency(folded_tokens: &[&str]) -> f64 {
    let family = folded_tokens.first().map_or(OTHER_FAMILY_SHARE, |f| {
        FAMILY_SHARES
            .iter()
            .find(|(n, _)| n == f)
            .map_or(OTHER_FAMILY_SHARE, |s| s.1)
    });
    let middle = match folded_tokens {
        [_, middle, _, ..] if matches!(*middle, "van" | "thi") => COMMON_MIDDLE_SHARE,
        [_, _, _, ..] => OTHER_MIDDLE_SHARE,
        _ => 1.0,
    };
    (family * middle * GIVEN_SHARE).clamp(NAME_U_RANGE.0, NAME_U_RANGE.1)
}

/// Name forms computed once per record.
#[derive(Debug)]
struct NameForms {
    comparison: String,
    folded: String,
    /// (comparison token, folded token), aligned.
    tokens: Vec<(String, String)>,
}

impl NameForms {
    fn new(name: &FullName) -> Self {
        let comparison = comparison_form(name.as_str());
        let tokens: Vec<(String, String)> = comparison
            .split(' ')
            .map(|t| (t.to_owned(), fold(t)))
            .collect();
        let folded = tokens
            .iter()
            .map(|t| t.1.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            comparison,
            folded,
            tokens,
        }
    }

    fn folded_tokens(&self) -> Vec<&str> {
        self.tokens.iter().map(|t| t.1.as_str()).collect()
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Agree(&'static Level),
    Disagree(&'static str),
    Missing,
}

fn evidence(model: &FieldModel, outcome: Outcome, u_override: Option<f64>) -> FieldEvidence {
    let (agreement, detail, weight) = match outcome {
        Outcome::Agree(level) => {
            let u = u_override.unwrap_or(level.u);
            (level.agreement, level.detail, (level.m / u).log2())
        }
        Outcome::Disagree(detail) => (Agreement::Disagree, detail, model.disagreement_weight()),
        Outcome::Missing => (Agreement::Missing, "missing", 0.0),
    };
    FieldEvidence {
        field: model.field,
        agreement,
        detail,
        weight,
    }
}

fn id_digits(id: PersonalId) -> [u8; 12] {
    let mut n = id.as_number();
    let mut out = [0u8; 12];
    for d in out.iter_mut().rev() {
        *d = (n % 10) as u8;
        n /= 10;
    }
    out
}

fn id_outcome(record: PersonalId, candidate: PersonalId) -> Outcome {
    if record == candidate {
        return Outcome::Agree(&ID_EXACT);
    }
    let (x, y) = (id_digits(record), id_digits(candidate));
    let mut differing = (0..12).filter(|&i| x[i] != y[i]);
    match (differing.next(), differing.next(), differing.next()) {
        (Some(_), None, None) => Outcome::Agree(&ID_ONE_DIGIT),
        (Some(i), Some(j), None) if j == i + 1 && x[i] == y[j] && x[j] == y[i] => {
            Outcome::Agree(&ID_TRANSPOSED)
        }
        _ => Outcome::Disagree("different"),
    }
}

fn name_outcome(a: &NameForms, b: &NameForms) -> Outcome {
    if a.comparison == b.comparison {
        return Outcome::Agree(&NAME_EXACT);
    }
    if a.folded == b.folded {
        // Lost accents (one side plain) are a keyboard habit; conflicting ones may be two names.
        let lost = a
            .tokens
            .iter()
            .zip(&b.tokens)
            .all(|(x, y)| x.0 == y.0 || x.0 == x.1 || y.0 == y.1);
        return Outcome::Agree(if lost {
            &NAME_ACCENTS
        } else {
            &NAME_ACCENTS_CONFLICT
        });
    }
    let (ta, tb) = (a.folded_tokens(), b.folded_tokens());
    let (mut sa, mut sb) = (ta.clone(), tb.clone());
    sa.sort_unstable();
    sb.sort_unstable();
    if sa == sb {
        return Outcome::Agree(&NAME_REORDERED);
    }
    if ta.len() == tb.len() {
        let mut differing = ta.iter().zip(&tb).filter(|(x, y)| x != y);
        if let (Some((x, y)), None) = (differing.next(), differing.next())
            && strsim::osa_distance(x, y) == 1
        {
            let short = x.chars().count().min(y.chars().count()) < 4;
            return Outcome::Agree(if short {
                &NAME_ONE_EDIT_SHORT
            } else {
                &NAME_ONE_EDIT
            });
        }
    }
    if strsim::osa_distance(&a.folded, &b.folded) == 1 {
        return Outcome::Agree(&NAME_ONE_EDIT_SHORT);
    }
    // Given names decide: siblings share the rest, so the whole string alone is not enough.
    let given_similar = match (ta.last(), tb.last()) {
        (Some(x), Some(y)) => strsim::jaro_winkler(x, y) >= 0.85,
        _ => false,
    };
    if given_similar && strsim::jaro_winkler(&a.folded, &b.folded) >= 0.92 {
        return Outcome::Agree(&NAME_SIMILAR);
    }
    Outcome::Disagree("different")
}

fn month_of(d: BirthDate) -> Option<Month> {
    match d {
        BirthDate::Year(_) => None,
        BirthDate::YearMonth(_, m) => Some(m),
        BirthDate::Full(d) => Some(d.month()),
    }
}

fn swapped(x: Date, y: Date) -> bool {
    x.year() == y.year() && x.day() == y.month() as u8 && y.day() == x.month() as u8
}

fn birth_outcome(a: BirthDate, b: BirthDate) -> Outcome {
    if let (BirthDate::Full(x), BirthDate::Full(y)) = (a, b) {
        if x == y {
            return Outcome::Agree(&BIRTH_EXACT);
        }
        if swapped(x, y) {
            return Outcome::Agree(&BIRTH_SWAPPED);
        }
    }
    if a.year() != b.year() {
        return Outcome::Disagree("different");
    }
    match (month_of(a), month_of(b)) {
        (Some(x), Some(y)) if x == y => Outcome::Agree(&BIRTH_SAME_MONTH),
        (Some(_), Some(_)) => Outcome::Disagree("different"),
        _ => Outcome::Agree(&BIRTH_YEAR_ONLY),
    }
}

fn compare_with(record: &LinkRecord, forms: &NameForms, candidate: &LinkRecord) -> Evidence {
    let outcome = |o: Option<Outcome>| o.unwrap_or(Outcome::Missing);
    let id = record
        .personal_id
        .zip(candidate.personal_id)
        .map(|(a, b)| id_outcome(a, b));
    // Identical names (both NFC) need none of the derived forms: the common case, kept cheap.
    let name = if record.name == candidate.name {
        Outcome::Agree(&NAME_EXACT)
    } else {
        name_outcome(forms, &NameForms::new(candidate.name))
    };
    let name_u = matches!(name, Outcome::Agree(l) if l == &NAME_EXACT)
        .then(|| name_frequency(&forms.folded_tokens()));
    let birth = record
        .birth
        .zip(candidate.birth)
        .map(|(a, b)| birth_outcome(a, b));
    let sex = record.sex.zip(candidate.sex).map(|(a, b)| {
        if a == b {
            Outcome::Agree(&SEX_SAME)
        } else {
            Outcome::Disagree("different")
        }
    });
    let phone = record.phone.zip(candidate.phone).map(|(a, b)| {
        if a == b {
            Outcome::Agree(&PHONE_SAME)
        } else {
            Outcome::Disagree("different")
        }
    });
    let commune = (!record.communes.is_empty() && !candidate.communes.is_empty()).then(|| {
        if record
            .communes
            .iter()
            .any(|c| candidate.communes.contains(c))
        {
            Outcome::Agree(&COMMUNE_SAME)
        } else {
            Outcome::Disagree("different")
        }
    });
    let fields = vec![
        evidence(&PERSONAL_ID, outcome(id), None),
        evidence(&FULL_NAME, name, name_u),
        evidence(&BIRTH_DATE, outcome(birth), None),
        evidence(&SEX, outcome(sex), None),
        evidence(&PHONE, outcome(phone), None),
        evidence(&COMMUNE, outcome(commune), None),
    ];
    Evidence {
        score: fields.iter().map(|f| f.weight).sum(),
        fields,
    }
}

/// Compares a record with one candidate, field by field.
pub fn compare(record: &LinkRecord, candidate: &LinkRecord) -> Evidence {
    compare_with(record, &NameForms::new(record.name), candidate)
}

/// Scores every distinct candidate (by personal ID), best first; ties in ID order.
pub fn rank(record: &LinkRecord, candidates: &[Citizen]) -> Vec<(PersonalId, Evidence)> {
    let forms = NameForms::new(record.name);
    let mut seen = std::collections::HashSet::with_capacity(candidates.len());
    let mut buf = Vec::with_capacity(2);
    let mut ranked: Vec<(PersonalId, Evidence)> = candidates
        .iter()
        .filter(|c| seen.insert(c.personal_id))
        .map(|c| {
            let candidate = LinkRecord::of_citizen(c, &mut buf);
            (c.personal_id, compare_with(record, &forms, &candidate))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    ranked
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Link without a person looking.
    Auto,
    /// Plausible, but a person must confirm.
    Review,
    Unmatched,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Best score at or above which a link may be made without review.
    pub auto: f64,
    /// Best score at or above which the record goes to review rather than unmatched.
    pub review: f64,
    /// Lead the best must have over the runner-up to auto-link (twins, namesakes).
    pub margin: f64,
}

impl Default for Thresholds {
    /// Auto at 25 bits: exact name, birth date, sex and commune without an ID (≈ 29) pass; one
    /// noisy field without an ID, or an ID whose name and birth date disagree (a relative's), go
    /// to review. Review at 12 bits: a namesake born the same year elsewhere (≈ 1) stays out.
    fn default() -> Self {
        Self {
            auto: 25.0,
            review: 12.0,
            margin: 5.0,
        }
    }
}

/// Decides on candidates ranked best first, as [`rank`] returns them.
pub fn decide(ranked: &[(PersonalId, Evidence)], t: &Thresholds) -> Decision {
    let Some((_, best)) = ranked.first() else {
        return Decision::Unmatched;
    };
    let lead = ranked
        .get(1)
        .map_or(f64::INFINITY, |(_, second)| best.score - second.score);
    if best.score >= t.auto && lead >= t.margin {
        Decision::Auto
    } else if best.score >= t.review {
        Decision::Review
    } else {
        Decision::Unmatched
    }
}

/// Keys a store can use to fetch candidates for a record; each is an indexed lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingKeys {
    /// [`FullName::folded_key`], the registry's indexed `name_key` column.
    pub name_key: String,
    pub birth_year: Option<i32>,
    /// The record's first commune code and its birth date as the registry stores it
    /// (`YYYY-MM-DD`, or `YYYY-MM` / `YYYY` when that is all the record gives).
    pub commune_birth: Option<(String, String)>,
    pub phone: Option<String>,
    /// The given ID first, then every valid ID one digit substitution or one adjacent
    /// transposition away: at most [`MAX_ID_VARIANTS`], for a primary-key `IN` lookup.
    pub id_variants: Vec<PersonalId>,
}

/// 1 + 12 × 9 substitutions + 11 transpositions: every variant fits.
pub const MAX_ID_VARIANTS: usize = 120;

pub fn blocking_keys(record: &LinkRecord) -> BlockingKeys {
    BlockingKeys {
        name_key: record.name.folded_key(),
        birth_year: record.birth.map(BirthDate::year),
        commune_birth: record
            .communes
            .first()
            .zip(record.birth)
            .map(|(c, b)| ((*c).to_owned(), b.to_string())),
        phone: record.phone.map(|p| p.as_str().to_owned()),
        id_variants: record.personal_id.map(id_variants).unwrap_or_default(),
    }
}

fn from_digits(d: &[u8; 12]) -> Option<PersonalId> {
    let n = d.iter().fold(0u64, |acc, &x| acc * 10 + u64::from(x));
    PersonalId::from_number(n).ok()
}

/// The given ID first, then the valid IDs one substitution or adjacent transposition away.
/// Typos in the random last six digits come first: they are likelier than in the structured
/// prefix, so a smaller cap would keep the likely ones.
pub fn id_variants(id: PersonalId) -> Vec<PersonalId> {
    let digits = id_digits(id);
    let mut out = Vec::with_capacity(MAX_ID_VARIANTS);
    out.push(id);
    for i in (0..12).rev() {
        for v in 0..10 {
            if v == digits[i] {
                continue;
            }
            let mut d = digits;
            d[i] = v;
            out.extend(from_digits(&d));
        }
        if i > 0 && digits[i] != digits[i - 1] {
            let mut d = digits;
            d.swap(i, i - 1);
            out.extend(from_digits(&d));
        }
    }
    out.truncate(MAX_ID_VARIANTS);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::CitizenInput;
    use time::macros::date;

    const TODAY: Date = date!(2021 - 08 - 01);

    fn citizen(id: &str, name: &str, birth: &str, sex: &str, commune: &str) -> Citizen {
        CitizenInput {
            personal_id: id.into(),
            full_name: name.into(),
            birth_date: birth.into(),
            sex: sex.into(),
            permanent_commune_code: commune.into(),
            permanent_address: "12 Trần Phú".into(),
            phone: Some("0912345678".into()),
            ..CitizenInput::default()
        }
        .parse(TODAY)
        .unwrap()
    }

    fn subject() -> Citizen {
        citizen(
            "091087123456",
            "Nguyễn Văn Thắng",
            "1987-03-09",
            "M",
            "30730",
        )
    }

    /// A shot record as a site would send it, built from owned parts.
    struct Shot {
        id: Option<PersonalId>,
        name: FullName,
        birth: Option<BirthDate>,
        sex: Option<Sex>,
        phone: Option<Phone>,
        commune: &'static str,
    }

    impl Shot {
        fn of(c: &Citizen) -> Self {
            Self {
                id: Some(c.personal_id),
                name: c.full_name.clone(),
                birth: Some(c.birth_date),
                sex: Some(c.sex),
                phone: c.phone.clone(),
                commune: c.permanent.unit_code,
            }
        }

        fn score_against(&self, c: &Citizen) -> Evidence {
            let communes = [self.commune];
            let record = self.record(&communes);
            let mut buf = Vec::new();
            compare(&record, &LinkRecord::of_citizen(c, &mut buf))
        }

        fn record<'a>(&'a self, communes: &'a [&'a str]) -> LinkRecord<'a> {
            LinkRecord {
                personal_id: self.id,
                name: &self.name,
                birth: self.birth,
                sex: self.sex,
                phone: self.phone.as_ref(),
                communes,
            }
        }
    }

    fn name(s: &str) -> FullName {
        FullName::parse(s).unwrap()
    }

    fn birth(s: &str) -> BirthDate {
        BirthDate::parse(s).unwrap()
    }

    fn id(s: &str) -> PersonalId {
        PersonalId::parse(s).unwrap()
    }

    type Noise = (&'static str, fn(&mut Shot), &'static str, Agreement);

    const NOISE: [Noise; 9] = [
        (
            "missing_id",
            |s| s.id = None,
            "personal_id",
            Agreement::Missing,
        ),
        (
            "id_digit",
            |s| s.id = Some(id("091087123486")),
            "personal_id",
            Agreement::Close,
        ),
        (
            "id_transposed",
            |s| s.id = Some(id("091087124356")),
            "personal_id",
            Agreement::Close,
        ),
        (
            "name_typo",
            |s| s.name = name("Nguyễn Văn Thắg"),
            "full_name",
            Agreement::Close,
        ),
        (
            "name_no_accents",
            |s| s.name = name("Nguyen Van Thang"),
            "full_name",
            Agreement::Close,
        ),
        (
            "name_reordered",
            |s| s.name = name("Nguyễn Thắng Văn"),
            "full_name",
            Agreement::Close,
        ),
        (
            "dmy_swap",
            |s| s.birth = Some(birth("1987-09-03")),
            "birth_date",
            Agreement::Close,
        ),
        (
            "year_only",
            |s| s.birth = Some(birth("1987")),
            "birth_date",
            Agreement::Partial,
        ),
        (
            "phone_missing",
            |s| s.phone = None,
            "phone",
            Agreement::Missing,
        ),
    ];

    #[test]
    fn an_exact_record_auto_links() {
        let c = subject();
        let e = Shot::of(&c).score_against(&c);
        assert!(e.score >= Thresholds::default().auto, "{e:?}");
        assert!(e.fields.iter().all(|f| f.agreement == Agreement::Exact));
        assert_eq!(e.fields.len(), MODELS.len());
    }

    #[test]
    fn each_single_noise_kind_still_reaches_review_with_or_without_the_id() {
        let c = subject();
        let review = Thresholds::default().review;
        for (kind, noise, field, agreement) in NOISE {
            for drop_id in [false, true] {
                let mut shot = Shot::of(&c);
                noise(&mut shot);
                if drop_id {
                    shot.id = None;
                }
                let e = shot.score_against(&c);
                assert!(e.score >= review, "{kind} (no id: {drop_id}): {e:?}");
                if !drop_id {
                    assert_eq!(e.field(field).unwrap().agreement, agreement, "{kind}");
                }
            }
        }
    }

    #[test]
    fn comparators_name_what_they_found() {
        let c = subject();
        let detail = |noise: fn(&mut Shot), field: &str| {
            let mut shot = Shot::of(&c);
            noise(&mut shot);
            shot.score_against(&c).field(field).unwrap().detail
        };
        assert_eq!(detail(NOISE[1].1, "personal_id"), "one_digit");
        assert_eq!(detail(NOISE[2].1, "personal_id"), "digits_transposed");
        assert_eq!(detail(NOISE[3].1, "full_name"), "one_edit");
        assert_eq!(detail(NOISE[4].1, "full_name"), "accents_differ");
        assert_eq!(detail(NOISE[5].1, "full_name"), "tokens_reordered");
        assert_eq!(detail(NOISE[6].1, "birth_date"), "day_month_swapped");
        assert_eq!(
            detail(|s| s.name = name("nguyễn  văn THẮNG"), "full_name"),
            "exact"
        );
        assert_eq!(
            detail(|s| s.name = name("Nguyễn Văn Thẳng"), "full_name"),
            "accents_conflict"
        );
        assert_eq!(
            detail(|s| s.birth = Some(birth("1987-03-10")), "birth_date"),
            "same_month"
        );
        assert_eq!(
            detail(|s| s.birth = Some(birth("1988-03-09")), "birth_date"),
            "different"
        );
    }

    #[test]
    fn a_namesake_born_the_same_year_elsewhere_stays_below_review() {
        let c = subject();
        let other_commune = crate::admin_units()
            .communes_of_province("91")
            .into_iter()
            .map(|u| u.code)
            .find(|&code| code != "30730")
            .unwrap();
        let mut namesake = citizen(
            "091087654321",
            "Nguyễn Văn Thắng",
            "1987-07-21",
            "M",
            other_commune,
        );
        namesake.phone = Some(Phone::parse("0987654321").unwrap());
        let review = Thresholds::default().review;
        let shot = Shot::of(&c);
        let e = shot.score_against(&namesake);
        assert!(e.score < review, "{e:?}");
        // Also when the site sent neither ID nor phone.
        let mut bare = Shot::of(&c);
        bare.id = None;
        bare.phone = None;
        assert!(bare.score_against(&namesake).score < review);
    }

    #[test]
    fn common_names_weigh_less_than_rare_ones() {
        let common = name_frequency(&["nguyen", "van", "an"]);
        let rare = name_frequency(&["thach", "kim", "yen"]);
        assert!(common > rare);
        let c = subject();
        let rare_c = citizen(
            "091087123456",
            "Thạch Kim Thắng",
            "1987-03-09",
            "M",
            "30730",
        );
        let w = |c: &Citizen| {
            Shot::of(c)
                .score_against(c)
                .field("full_name")
                .unwrap()
                .weight
        };
        assert!(w(&rare_c) > w(&c) + 2.0);
    }

    #[test]
    fn twins_do_not_auto_link_to_each_other() {
        let twin_a = citizen("091087123456", "Nguyễn Văn An", "1987-03-09", "M", "30730");
        let twin_b = citizen(
            "091087123457",
            "Nguyễn Văn Bình",
            "1987-03-09",
            "M",
            "30730",
        );
        let th = Thresholds::default();
        // Twin A's record without an ID, with the household's phone, against twin B.
        let mut shot = Shot::of(&twin_a);
        shot.id = None;
        let ev = shot.score_against(&twin_b);
        assert!(ev.score < th.auto, "{ev:?}");
        let communes = [shot.commune];
        let record = shot.record(&communes);
        assert_ne!(
            decide(&rank(&record, std::slice::from_ref(&twin_b)), &th),
            Decision::Auto
        );
        // With both twins in the registry, A wins clearly.
        let ranked = rank(&record, &[twin_b.clone(), twin_a.clone(), twin_b]);
        assert_eq!(ranked.len(), 2, "candidates are deduplicated");
        assert_eq!(ranked[0].0, twin_a.personal_id);
        assert_eq!(decide(&ranked, &th), Decision::Auto);
        // Twins whose given names differ by one letter, with no name on record to split them,
        // are near-equal: review.
        let twin_c = citizen("091087123458", "Nguyễn Văn Anh", "1987-03-09", "M", "30730");
        let mut vague = Shot::of(&twin_a);
        vague.id = None;
        vague.name = name("Nguyen Van An");
        let record = vague.record(&communes);
        let ranked = rank(&record, &[twin_a, twin_c]);
        assert!(ranked[0].1.score - ranked[1].1.score < th.margin);
        assert_eq!(decide(&ranked, &th), Decision::Review);
    }

    fn evidence_of(score: f64) -> Evidence {
        Evidence {
            score,
            fields: Vec::new(),
        }
    }

    #[test]
    fn decide_honours_thresholds_and_margin() {
        let t = Thresholds::default();
        let ids = [
            PersonalId::parse("091087123456").unwrap(),
            PersonalId::parse("091087123457").unwrap(),
        ];
        let ranked = |scores: &[f64]| -> Vec<(PersonalId, Evidence)> {
            scores
                .iter()
                .zip(ids)
                .map(|(&s, id)| (id, evidence_of(s)))
                .collect()
        };
        assert_eq!(decide(&[], &t), Decision::Unmatched);
        assert_eq!(decide(&ranked(&[40.0]), &t), Decision::Auto);
        assert_eq!(decide(&ranked(&[40.0, 30.0]), &t), Decision::Auto);
        assert_eq!(decide(&ranked(&[40.0, 36.0]), &t), Decision::Review);
        assert_eq!(decide(&ranked(&[t.auto - 0.1]), &t), Decision::Review);
        assert_eq!(decide(&ranked(&[t.review - 0.1]), &t), Decision::Unmatched);
    }

    #[test]
    fn id_variants_cover_one_typo_and_are_all_valid() {
        let truth = PersonalId::parse("091087123456").unwrap();
        for typo in [
            "091087123486",
            "091087124356",
            "091078123456",
            "091087123465",
        ] {
            let communes = [];
            let typed = id(typo);
            let n = name("Nguyễn Văn Thắng");
            let record = LinkRecord {
                personal_id: Some(typed),
                name: &n,
                birth: None,
                sex: None,
                phone: None,
                communes: &communes,
            };
            let keys = blocking_keys(&record);
            assert_eq!(keys.id_variants[0], typed);
            assert!(keys.id_variants.contains(&truth), "{typo}");
            assert!(keys.id_variants.len() <= MAX_ID_VARIANTS);
            for v in &keys.id_variants {
                assert_eq!(PersonalId::parse(&v.to_string()).unwrap(), *v);
            }
            let unique: std::collections::HashSet<_> = keys.id_variants.iter().collect();
            assert_eq!(unique.len(), keys.id_variants.len());
        }
        // Province codes that do not exist ("1xx", "003"…) are never proposed.
        let keys = id_variants(truth);
        assert!(keys.iter().all(|v| v.to_string().starts_with('0')));
        assert!(keys.len() < 1 + 12 * 9 + 11);
    }

    #[test]
    fn blocking_keys_are_accent_folded() {
        let c = subject();
        let shot = Shot::of(&c);
        let communes = ["30730"];
        let keys = blocking_keys(&shot.record(&communes));
        assert_eq!(keys.name_key, "nguyen van thang");
        assert_eq!(keys.birth_year, Some(1987));
        assert_eq!(
            keys.commune_birth,
            Some(("30730".to_owned(), "1987-03-09".to_owned()))
        );
        assert_eq!(keys.phone.as_deref(), Some("0912345678"));
        let plain = name("NGUYEN VAN THANG");
        let record = LinkRecord {
            name: &plain,
            ..shot.record(&communes)
        };
        assert_eq!(blocking_keys(&record).name_key, keys.name_key);
    }

    #[test]
    fn evidence_serialises_in_snake_case() {
        let c = subject();
        let json = serde_json::to_string(&Shot::of(&c).score_against(&c)).unwrap();
        assert!(json.contains(r#""agreement":"exact""#), "{json}");
        assert_eq!(
            serde_json::to_string(&Decision::Unmatched).unwrap(),
            r#""unmatched""#
        );
        for m in MODELS {
            assert!(m.disagreement_weight() < 0.0, "{}", m.field);
            let mass: f64 = m.levels.iter().map(|l| l.m).sum();
            assert!(mass < 1.0 && m.levels.iter().all(|l| l.weight() > 0.0));
        }
    }
}
