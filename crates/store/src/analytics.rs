//! Live coverage and supervision counters: the interface, and the bookkeeping both backends share
//! (what a citizen contributed before a change and after it).

use async_trait::async_trait;
use serde::Serialize;
use time::{Date, OffsetDateTime};
use vaxtrace_analytics::counters::{bucket_day, day_bucket};
use vaxtrace_analytics::member::ResidenceBasis;
use vaxtrace_analytics::{Band, Deltas, Member, Resident};

use crate::{StoreError, StoreResult};

/// Which series a sum reads: coverage (registry, people, doses) or supervision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Coverage,
    Supervision,
}

impl Family {
    pub(crate) fn condition(self) -> &'static str {
        match self {
            Self::Coverage => "series NOT LIKE 'sv:%'",
            Self::Supervision => "series LIKE 'sv:%'",
        }
    }
}

/// A series summed for one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesSum {
    pub unit: String,
    pub series: String,
    pub n: i64,
}

/// A series on one day, summed over the units asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySum {
    pub day: Date,
    pub series: String,
    pub n: i64,
}

/// People of one residence unit whose next dose is due by a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueCount {
    pub unit: String,
    /// A dose of the primary series.
    pub due_dose: i64,
    pub due_booster: i64,
}

/// Commune-level movement between two units over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowRows {
    /// (origin, destination, declarations, checkpoint scans of those declarations).
    pub pairs: Vec<(String, String, i64, i64)>,
    /// (travel day, origin, destination, declarations).
    pub days: Vec<(String, String, String, i64)>,
    /// (destination, declarations from outbreak areas).
    pub outbreak_arrivals: Vec<(String, i64)>,
}

#[derive(Debug, Clone)]
pub struct NewCorrectionRequest {
    pub record_id: i64,
    pub message: String,
    pub requested_by: String,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCorrectionRequest {
    pub id: i64,
    pub record_id: i64,
    pub queue_unit: String,
    pub message: String,
    pub requested_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub handled_at: Option<OffsetDateTime>,
    pub handled_by: Option<String>,
}

/// What a recount found, and whether it replaced the live counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecountReport {
    pub citizens: u64,
    pub members: u64,
    pub counters: u64,
    /// Counter rows whose live value differs from the recount (either side missing counts too).
    pub counter_differences: u64,
    pub member_differences: u64,
    pub residence_basis: String,
    pub applied: bool,
}

impl RecountReport {
    pub fn agrees(&self) -> bool {
        self.counter_differences == 0 && self.member_differences == 0
    }
}

/// How the counters are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyticsSettings {
    pub residence: ResidenceBasis,
    /// Off only for a bulk backfill that ends with a recount.
    pub live: bool,
    /// A recount has been applied: the counters hold everything, not only what changed since
    /// the tables were created.
    pub counted: bool,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        Self {
            residence: ResidenceBasis::Permanent,
            live: true,
            counted: false,
        }
    }
}

impl AnalyticsSettings {
    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut s = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "residence" => s.residence = ResidenceBasis::parse(&v).unwrap_or_default(),
                "live" => s.live = v != "off",
                "counted" => s.counted = v == "yes",
                _ => {}
            }
        }
        s
    }

    pub(crate) fn pairs(self) -> [(&'static str, &'static str); 3] {
        [
            ("residence", self.residence.code()),
            ("live", if self.live { "on" } else { "off" }),
            ("counted", if self.counted { "yes" } else { "no" }),
        ]
    }
}

#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Every series of `units` summed as of the end of `day` (`None`: now, all time). Registry
    /// population has no date: it is the registry as it stands.
    async fn series_sums(
        &self,
        units: Vec<String>,
        day: Option<Date>,
        family: Family,
    ) -> StoreResult<Vec<SeriesSum>>;

    /// The day buckets of `units` from `from` to `to`, summed over the units.
    async fn day_sums(
        &self,
        units: Vec<String>,
        from: Date,
        to: Date,
        family: Family,
    ) -> StoreResult<Vec<DaySum>>;

    /// Per residence unit (communes and island districts), people due for a dose by `day`.
    async fn due_counts(&self, units: Vec<String>, day: Date) -> StoreResult<Vec<DueCount>>;

    /// Records waiting for review per queue unit.
    async fn waiting_review(&self, units: Vec<String>) -> StoreResult<Vec<(String, i64)>>;
    /// Correction requests not yet handled, per queue unit.
    async fn open_corrections(&self, units: Vec<String>) -> StoreResult<Vec<(String, i64)>>;

    /// Files a citizen's request to correct a record; it is handled by the record's next review.
    async fn request_correction(
        &self,
        request: NewCorrectionRequest,
    ) -> StoreResult<StoredCorrectionRequest>;
    async fn correction_requests(
        &self,
        record_id: i64,
    ) -> StoreResult<Vec<StoredCorrectionRequest>>;

    /// Declarations travelling between `from` and `to` (inclusive), with their checkpoint scans.
    async fn flow_rows(&self, from: Date, to: Date) -> StoreResult<FlowRows>;

    async fn analytics_settings(&self) -> StoreResult<AnalyticsSettings>;

    /// Adds deltas computed elsewhere (a backfill, a benchmark's synthetic data) in one
    /// transaction; a recount tells whether they match the base tables.
    async fn add_counts(&self, deltas: Deltas) -> StoreResult<()>;

    /// Recomputes every counter and contribution from the registry, the signed records and the
    /// correction requests, compares them with the live ones and, with `apply`, replaces them
    /// (with `settings`, e.g. another residence basis). Writers wait meanwhile.
    async fn recount(
        &self,
        apply: bool,
        settings: Option<AnalyticsSettings>,
        at: OffsetDateTime,
    ) -> StoreResult<RecountReport>;
}

/// Until a recount has been applied (after the migration that adds the counters to a database
/// with data, or after one that was interrupted), the counters may miss what came before: count.
pub(crate) async fn count_existing_data(store: &impl crate::Store) -> StoreResult<()> {
    if !store.analytics_settings().await?.counted && store.count_citizens().await? > 0 {
        store
            .recount(true, None, time::OffsetDateTime::now_utc())
            .await?;
    }
    Ok(())
}

/// Registry fields the counters depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
    pub permanent_unit: String,
    pub temporary_unit: Option<String>,
    pub birth_date: String,
    pub sex: String,
    pub status: String,
}

/// The facts of a registry row about to be written.
pub(crate) fn facts_of(c: &vaxtrace_domain::Citizen) -> Facts {
    Facts {
        permanent_unit: c.permanent.unit_code.to_owned(),
        temporary_unit: c.temporary.as_ref().map(|t| t.unit_code.to_owned()),
        birth_date: c.birth_date.to_string(),
        sex: c.sex.code().to_owned(),
        status: c.status.code().to_owned(),
    }
}

impl Facts {
    pub fn resident(&self, basis: ResidenceBasis) -> StoreResult<Resident> {
        let unit = basis.pick(&self.permanent_unit, self.temporary_unit.as_deref());
        Resident::from_fields(unit, &self.birth_date, &self.sex, &self.status)
            .ok_or_else(|| StoreError::Corrupt("citizen: birth date or sex".into()))
    }
}

/// A `coverage_members` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberRow {
    pub unit: String,
    pub band: i64,
    pub sex: String,
    pub alive: bool,
    pub dose1_day: Option<i64>,
    pub full_day: Option<i64>,
    pub booster_day: Option<i64>,
    pub next_due_day: Option<i64>,
    pub doses: String,
}

pub(crate) const MEMBER_COLUMNS: &str =
    "unit, band, sex, alive, dose1_day, full_day, booster_day, next_due_day, doses";

impl MemberRow {
    pub fn of(resident: &Resident, member: &Member) -> Self {
        Self {
            unit: resident.unit.clone(),
            band: resident.band.index() as i64,
            sex: resident.sex.to_string(),
            alive: resident.alive,
            dose1_day: member.dose1_on.map(day_bucket),
            full_day: member.full_on.map(day_bucket),
            booster_day: member.booster_on.map(day_bucket),
            next_due_day: member.next_due_on.map(day_bucket),
            doses: member.encode_doses(),
        }
    }

    pub fn parse(&self) -> StoreResult<(Resident, Member)> {
        let corrupt = || StoreError::Corrupt("coverage member".into());
        let day = |d: Option<i64>| d.map(|d| bucket_day(d).ok_or_else(corrupt)).transpose();
        let resident = Resident {
            unit: self.unit.clone(),
            band: Band::from_index(self.band as usize).ok_or_else(corrupt)?,
            sex: self.sex.chars().next().ok_or_else(corrupt)?,
            alive: self.alive,
        };
        let member = Member {
            dose1_on: day(self.dose1_day)?,
            full_on: day(self.full_day)?,
            booster_on: day(self.booster_day)?,
            next_due_on: day(self.next_due_day)?,
            doses: Member::decode_doses(&self.doses).ok_or_else(corrupt)?,
        };
        Ok((resident, member))
    }
}

/// What to do with a citizen's member row after a change.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MemberWrite {
    Put(MemberRow),
    Delete,
    Keep,
}

/// The deltas and member row for a citizen whose signed doses changed: the old contribution out,
/// the new one in.
pub(crate) fn member_changed(
    old: Option<&MemberRow>,
    resident: &Resident,
    member: &Member,
    deltas: &mut Deltas,
) -> StoreResult<MemberWrite> {
    if let Some(old) = old {
        let (was, had) = old.parse()?;
        had.count(&was, deltas, -1);
    }
    if member.is_empty() {
        return Ok(if old.is_some() {
            MemberWrite::Delete
        } else {
            MemberWrite::Keep
        });
    }
    member.count(resident, deltas, 1);
    let row = MemberRow::of(resident, member);
    Ok(if old == Some(&row) {
        MemberWrite::Keep
    } else {
        MemberWrite::Put(row)
    })
}

/// The deltas for a registry row inserted (`old` = None) or updated; returns the new resident
/// when what the counters see of the citizen changed, so their member row moves with them.
pub(crate) fn registry_changed(
    old: Option<&Facts>,
    new: &Facts,
    basis: ResidenceBasis,
    deltas: &mut Deltas,
) -> StoreResult<Option<Resident>> {
    let now = new.resident(basis)?;
    if let Some(old) = old {
        let was = old.resident(basis)?;
        if was == now {
            return Ok(None);
        }
        was.count_population(deltas, -1);
    }
    now.count_population(deltas, 1);
    Ok(old.is_some().then_some(now))
}

/// A member row moved to the citizen's new residence, age band, sex or life status.
pub(crate) fn member_moved(
    row: &MemberRow,
    now: &Resident,
    deltas: &mut Deltas,
) -> StoreResult<MemberRow> {
    let (was, member) = row.parse()?;
    member.count(&was, deltas, -1);
    member.count(now, deltas, 1);
    Ok(MemberRow::of(now, &member))
}

/// A signature made (`sign` = 1) or voided (-1), for supervision: counted on the signing day
/// for the commune that reviews the record.
pub(crate) fn signature_changed(
    deltas: &mut Deltas,
    queue_unit: Option<&str>,
    decision: &str,
    administered_at: i64,
    signed_at: i64,
    sign: i64,
) {
    use vaxtrace_domain::date::vietnam_day;
    if let Some(unit) = queue_unit {
        vaxtrace_analytics::supervision::count_signature(
            deltas,
            unit,
            decision == "auto",
            vietnam_day(crate::from_unix_micros(administered_at)),
            vietnam_day(crate::from_unix_micros(signed_at)),
            sign,
        );
    }
}

/// A review changes the record, which voids its current signature: it no longer counts as
/// verification work done.
pub(crate) fn review_voids_signature(record: &crate::ShotRecord, deltas: &mut Deltas) {
    if let Some(sig) = record.signature.as_ref().filter(|_| record.is_signed()) {
        signature_changed(
            deltas,
            record.queue_unit.as_deref(),
            record.decision.code(),
            crate::unix_micros(record.administered_at),
            crate::unix_micros(sig.signed_at),
            -1,
        );
    }
}

/// SQL placeholders `?1, ?2, …` (SQLite) for an IN list starting at `first`.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(unit: &str, status: &str) -> Facts {
        Facts {
            permanent_unit: unit.into(),
            temporary_unit: Some("30733".into()),
            birth_date: "1987-03-09".into(),
            sex: "M".into(),
            status: status.into(),
        }
    }

    #[test]
    fn a_move_takes_the_population_along_and_a_repeat_changes_nothing() {
        let mut d = Deltas::new();
        let basis = ResidenceBasis::Permanent;
        assert_eq!(
            registry_changed(None, &facts("30730", "alive"), basis, &mut d).unwrap(),
            None
        );
        let same = registry_changed(
            Some(&facts("30730", "alive")),
            &facts("30730", "alive"),
            basis,
            &mut d,
        );
        assert_eq!(same.unwrap(), None);
        let moved = registry_changed(
            Some(&facts("30730", "alive")),
            &facts("00001", "alive"),
            basis,
            &mut d,
        )
        .unwrap()
        .unwrap();
        assert_eq!(moved.unit, "00001");
        let rows = d.into_sorted();
        // Counted once, in the new commune and its ancestors only.
        assert!(
            rows.iter()
                .all(|(k, n)| *n == 1 && ["00001", "001", "01"].contains(&k.unit)),
            "{rows:?}"
        );
        // By temporary residence the same citizen lives in 30733.
        assert_eq!(
            facts("30730", "alive")
                .resident(ResidenceBasis::Temporary)
                .unwrap()
                .unit,
            "30733"
        );
    }
}
