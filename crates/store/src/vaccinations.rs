//! Vaccination records, their review and signing, signing keys and citizen status: the types and
//! the interface both backends implement.

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;
use vaxtrace_domain::{Citizen, PersonalId, Shot};

use crate::StoreResult;

/// Where a record stands with respect to the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkDecision {
    /// Linked by the matcher above the auto-link threshold.
    Auto,
    /// Waiting for a commune officer.
    Review,
    /// Linked by an officer.
    Confirmed,
    Rejected,
    Unmatched,
    /// Another record reports the same shot.
    Duplicate,
}

impl LinkDecision {
    pub const ALL: [Self; 6] = [
        Self::Auto,
        Self::Review,
        Self::Confirmed,
        Self::Rejected,
        Self::Unmatched,
        Self::Duplicate,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Review => "review",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
            Self::Unmatched => "unmatched",
            Self::Duplicate => "duplicate",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() == raw)
    }

    /// Linked to a citizen and eligible for signing.
    pub fn is_linked(self) -> bool {
        matches!(self, Self::Auto | Self::Confirmed)
    }
}

/// A report ready to be stored, with the matcher's verdict.
#[derive(Debug, Clone)]
pub struct NewShotRecord {
    pub shot: Shot,
    pub decision: LinkDecision,
    pub personal_id: Option<PersonalId>,
    pub score: Option<f64>,
    /// JSON array of candidates with per-field evidence.
    pub evidence: String,
    /// The unit whose officers review and sign it (the citizen's commune, else the reported one).
    pub queue_unit: Option<String>,
    pub received_at: OffsetDateTime,
}

/// What happened to one report handed to [`VaccinationStore::insert_shots`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum InsertOutcome {
    /// `duplicate`: an earlier linked record reports the same dose, so this one was kept as its
    /// duplicate.
    Inserted { id: i64, duplicate: bool },
    /// The same source key with the same content: nothing changed.
    Replayed { id: i64 },
    /// The same source key with different content: kept aside in the conflicts table, not applied.
    Conflict { id: i64 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signature {
    pub version: i64,
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
    pub signing_key_id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    pub signed_by: String,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
}

/// A stored record. Reported fields are kept as stored text: they are the evidence, possibly wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShotRecord {
    pub id: i64,
    pub version: i64,
    pub source: String,
    pub source_record_id: String,
    pub claimed_personal_id: Option<PersonalId>,
    pub full_name: String,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub commune_code: Option<String>,
    pub vaccine_code: String,
    pub dose_number: u8,
    #[serde(with = "time::serde::rfc3339")]
    pub administered_at: OffsetDateTime,
    pub site_code: String,
    pub lot: Option<String>,
    pub input_flags: Vec<String>,
    pub decision: LinkDecision,
    pub personal_id: Option<PersonalId>,
    pub score: Option<f64>,
    #[serde(skip)]
    pub evidence: String,
    pub queue_unit: Option<String>,
    pub duplicate_of: Option<i64>,
    pub signature: Option<Signature>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl ShotRecord {
    /// Signed, and not changed since.
    pub fn is_signed(&self) -> bool {
        self.signature
            .as_ref()
            .is_some_and(|s| s.version == self.version)
    }

    /// The candidate citizens the matcher stored in the evidence, best first.
    pub fn candidate_ids(&self) -> Vec<PersonalId> {
        let evidence: serde_json::Value = serde_json::from_str(&self.evidence).unwrap_or_default();
        evidence["candidates"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| PersonalId::parse(c["personal_id"].as_str()?).ok())
            .collect()
    }

    /// The exact bytes a commune signs: every clinical and linkage field plus the version, so any
    /// later change invalidates the signature.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let fields = [
            "vaxtrace-record-v1".to_owned(),
            self.id.to_string(),
            self.version.to_string(),
            self.source.clone(),
            self.source_record_id.clone(),
            self.personal_id.map(|p| p.to_string()).unwrap_or_default(),
            self.full_name.clone(),
            opt(&self.birth_date),
            self.vaccine_code.clone(),
            self.dose_number.to_string(),
            self.administered_at.unix_timestamp().to_string(),
            self.site_code.clone(),
            opt(&self.lot),
            opt(&self.queue_unit),
            self.decision.code().to_owned(),
        ];
        fields.join("\u{1f}").into_bytes()
    }
}

/// A change to the reported content, by an officer. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Correction {
    pub full_name: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub commune_code: Option<String>,
    pub vaccine_code: Option<String>,
    pub dose_number: Option<u8>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub administered_at: Option<OffsetDateTime>,
    pub lot: Option<String>,
}

/// What a commune officer decides about one record. Values are validated by the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewAction {
    /// Link to this citizen (the matcher's candidate or another one).
    Link {
        personal_id: PersonalId,
        queue_unit: String,
    },
    Reject,
    Duplicate {
        of: i64,
    },
    Correct(Correction),
}

impl ReviewAction {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Link { .. } => "link",
            Self::Reject => "reject",
            Self::Duplicate { .. } => "duplicate",
            Self::Correct(_) => "correct",
        }
    }
}

/// Who acts, and why; every change is recorded with it.
#[derive(Debug, Clone)]
pub struct Change {
    pub actor: String,
    pub reason: String,
    /// The version the actor saw; a record changed since is refused (no lost updates).
    pub expected_version: i64,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct VersionEntry {
    pub version: i64,
    pub changed_at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub reason: String,
    /// JSON of the record before the change.
    pub before: String,
}

/// A signature over one record version, to store.
#[derive(Debug, Clone)]
pub struct NewSignature {
    pub record_id: i64,
    pub version: i64,
    pub signature: Vec<u8>,
    pub signing_key_id: i64,
}

/// Filters of the review queue and the signing list.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Units whose records to list (a commune code, or a district/province prefix matched by
    /// the caller); `None` = everywhere.
    pub units: Option<Vec<String>>,
    pub decisions: Vec<LinkDecision>,
    /// Only linked records not yet signed in their current version.
    pub unsigned_only: bool,
    pub after_id: i64,
    pub limit: u32,
}

/// The blocking keys of one record: every citizen matching any of them is a candidate.
#[derive(Debug, Clone, Default)]
pub struct CandidateQuery {
    pub ids: Vec<PersonalId>,
    pub name_key: Option<String>,
    pub birth_year: Option<i32>,
    pub unit_birth: Option<(String, String)>,
    pub phone: Option<String>,
}

/// A certificate and its encrypted key, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub id: i64,
    pub profile: String,
    pub unit_code: String,
    pub fingerprint: String,
    pub certificate: Vec<u8>,
    pub encrypted_private_key: Vec<u8>,
    pub issuer_id: Option<i64>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub profile: String,
    pub unit_code: String,
    pub fingerprint: String,
    pub certificate: Vec<u8>,
    pub encrypted_private_key: Vec<u8>,
    pub issuer_id: Option<i64>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// A citizen's stored status, as last derived from their signed records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredStatus {
    pub colour: String,
    pub rule_version: String,
    /// JSON of the domain `Status`.
    #[serde(skip)]
    pub detail: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Counts per unit for the signing and review overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueCount {
    pub unit: Option<String>,
    pub decision: LinkDecision,
    pub unsigned: u64,
    pub total: u64,
}

#[async_trait]
pub trait VaccinationStore: Send + Sync {
    /// Candidate citizens for each query, in query order (any citizen matching any key, each once).
    async fn candidates(&self, queries: Vec<CandidateQuery>) -> StoreResult<Vec<Vec<Citizen>>>;

    /// Stores reports in one transaction, idempotent on (`source`, `source_record_id`).
    async fn insert_shots(&self, records: Vec<NewShotRecord>) -> StoreResult<Vec<InsertOutcome>>;

    async fn shot_record(&self, id: i64) -> StoreResult<Option<ShotRecord>>;
    async fn records_for_citizen(&self, id: PersonalId) -> StoreResult<Vec<ShotRecord>>;
    async fn list_records(&self, filter: RecordFilter) -> StoreResult<Vec<ShotRecord>>;
    async fn queue_counts(&self, units: Option<Vec<String>>) -> StoreResult<Vec<QueueCount>>;
    async fn record_versions(&self, id: i64) -> StoreResult<Vec<VersionEntry>>;

    /// Applies an officer's decision: history row, version bump (which voids a signature), and
    /// the status of every citizen affected, in one transaction. Refuses a stale version.
    async fn review_record(
        &self,
        id: i64,
        action: ReviewAction,
        change: Change,
    ) -> StoreResult<ShotRecord>;

    /// Stores signatures for records still at the signed version and refreshes the status of
    /// their citizens, in one transaction. Returns the IDs it signed (others changed meanwhile).
    async fn sign_records(
        &self,
        signatures: Vec<NewSignature>,
        signed_by: &str,
        at: OffsetDateTime,
    ) -> StoreResult<Vec<i64>>;

    async fn citizen_status(&self, id: PersonalId) -> StoreResult<Option<StoredStatus>>;

    /// Every record's link decision, in ID order, a page at a time (for exports).
    async fn link_page(&self, after_id: i64, limit: u32) -> StoreResult<Vec<ShotRecord>>;

    async fn insert_key(&self, key: NewKey) -> StoreResult<i64>;
    async fn keys(&self) -> StoreResult<Vec<StoredKey>>;
    async fn key(&self, id: i64) -> StoreResult<Option<StoredKey>>;
    /// Marks every other key of the unit and profile inactive.
    async fn activate_key(&self, id: i64) -> StoreResult<()>;
}

/// Columns of `vaccination_records` in the order every SELECT of a [`ShotRecord`] uses.
pub(crate) const RECORD_COLUMNS: &str = "id, version, source, source_record_id, \
    claimed_personal_id, full_name, birth_date, sex, phone, commune_code, vaccine_code, dose_number, \
    administered_at, site_code, lot, input_flags, decision, personal_id, score, evidence, queue_unit, \
    duplicate_of, signed_version, signature, signing_key_id, signed_at, signed_by, received_at, updated_at";

/// A `vaccination_records` row as both backends read it, in [`RECORD_COLUMNS`] order.
#[derive(Debug)]
pub(crate) struct RecordRow {
    pub id: i64,
    pub version: i64,
    pub source: String,
    pub source_record_id: String,
    pub claimed_personal_id: Option<i64>,
    pub full_name: String,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub commune_code: Option<String>,
    pub vaccine_code: String,
    pub dose_number: i64,
    pub administered_at: i64,
    pub site_code: String,
    pub lot: Option<String>,
    pub input_flags: String,
    pub decision: String,
    pub personal_id: Option<i64>,
    pub score: Option<f64>,
    pub evidence: String,
    pub queue_unit: Option<String>,
    pub duplicate_of: Option<i64>,
    pub signed_version: Option<i64>,
    pub signature: Option<Vec<u8>>,
    pub signing_key_id: Option<i64>,
    pub signed_at: Option<i64>,
    pub signed_by: Option<String>,
    pub received_at: i64,
    pub updated_at: i64,
}

impl RecordRow {
    pub fn into_record(self) -> StoreResult<ShotRecord> {
        let corrupt =
            |what: &str| crate::StoreError::Corrupt(format!("vaccination record: {what}"));
        let pid = |n: Option<i64>| {
            n.map(|n| PersonalId::from_number(n as u64).map_err(|_| corrupt("personal_id")))
                .transpose()
        };
        let signature = match (
            self.signed_version,
            self.signature,
            self.signing_key_id,
            self.signed_at,
            self.signed_by,
        ) {
            (Some(version), Some(signature), Some(signing_key_id), Some(at), Some(signed_by)) => {
                Some(Signature {
                    version,
                    signature,
                    signing_key_id,
                    signed_at: crate::from_unix_micros(at),
                    signed_by,
                })
            }
            _ => None,
        };
        Ok(ShotRecord {
            id: self.id,
            version: self.version,
            source: self.source,
            source_record_id: self.source_record_id,
            claimed_personal_id: pid(self.claimed_personal_id)?,
            full_name: self.full_name,
            birth_date: self.birth_date,
            sex: self.sex,
            phone: self.phone,
            commune_code: self.commune_code,
            vaccine_code: self.vaccine_code,
            dose_number: u8::try_from(self.dose_number).map_err(|_| corrupt("dose_number"))?,
            administered_at: crate::from_unix_micros(self.administered_at),
            site_code: self.site_code,
            lot: self.lot,
            input_flags: self
                .input_flags
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
            decision: LinkDecision::parse(&self.decision).ok_or_else(|| corrupt("decision"))?,
            personal_id: pid(self.personal_id)?,
            score: self.score,
            evidence: self.evidence,
            queue_unit: self.queue_unit,
            duplicate_of: self.duplicate_of,
            signature,
            received_at: crate::from_unix_micros(self.received_at),
            updated_at: crate::from_unix_micros(self.updated_at),
        })
    }
}

/// Input flags as stored: snake-case codes joined by commas.
pub(crate) fn flags_text(shot: &Shot) -> String {
    shot.flags
        .iter()
        .filter_map(|f| serde_json::to_value(f).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join(",")
}

/// One signed dose as read for a status refresh.
pub(crate) struct DoseRow {
    pub id: i64,
    pub vaccine_code: String,
    pub dose_number: i64,
    pub administered_at: i64,
    pub site_code: String,
}

/// Columns of a [`DoseRow`], in order.
pub(crate) const DOSE_COLUMNS: &str = "id, vaccine_code, dose_number, administered_at, site_code";

/// A citizen's status derived from their signed doses, and what it contributes to the counters.
pub(crate) struct Derived {
    pub colour: &'static str,
    pub rule_version: &'static str,
    /// JSON of the domain status.
    pub detail: String,
    pub member: vaxtrace_analytics::Member,
}

/// Applies the status rules in force `at` to a citizen's signed doses.
pub(crate) fn derive_status(doses: &[DoseRow], at: OffsetDateTime) -> StoreResult<Derived> {
    use vaxtrace_domain::date::vietnam_day;
    use vaxtrace_domain::status::{Dose, RULE_SETS, evaluate, evaluate_with};
    let rows = doses;
    let doses = rows
        .iter()
        .map(|d| {
            Dose::new(
                d.id,
                &d.vaccine_code,
                u8::try_from(d.dose_number).unwrap_or(u8::MAX),
                crate::from_unix_micros(d.administered_at),
            )
            .ok_or_else(|| crate::StoreError::Corrupt("vaccination record: vaccine_code".into()))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let status = evaluate(&doses, vietnam_day(at));
    // The counters take event days from the newest rules, whatever the day of the change, so a
    // recount agrees with them; a new rule set takes a recount.
    let latest = RULE_SETS.last().map_or_else(
        || status.clone(),
        |r| evaluate_with(r, &doses, vietnam_day(at)),
    );
    let detail = serde_json::to_string(&status)
        .map_err(|e| crate::StoreError::Database(format!("status encoding: {e}")))?;
    let cells = doses
        .iter()
        .zip(rows)
        .map(|(d, row)| vaxtrace_analytics::DoseCell {
            day: d.administered_on,
            dose_number: d.dose_number,
            vaccine: d.vaccine.code.to_owned(),
            site_unit: vaxtrace_analytics::member::site_unit(&row.site_code).map(str::to_owned),
        })
        .collect();
    Ok(Derived {
        colour: status.colour.code(),
        rule_version: status.rule_version,
        member: vaxtrace_analytics::Member::from_status(&latest, cells),
        detail,
    })
}
