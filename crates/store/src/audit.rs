//! The audit log's hash chain, the same on every backend: `hash = SHA-256(prev_hash ‖ seq ‖ fields)`,
//! so changing, inserting or removing any entry breaks every link after it.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// What happened: who, in which role, did what to whose data, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: OffsetDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    /// The personal ID (or other subject) whose data was touched.
    pub subject: Option<String>,
    pub purpose: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAudit {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub subject: Option<String>,
    pub purpose: String,
    pub detail: Option<String>,
    #[serde(skip)]
    pub prev_hash: Vec<u8>,
    #[serde(skip)]
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub entries: u64,
    /// Sequence number of the first entry whose link does not verify.
    pub first_broken: Option<i64>,
    /// Hex of the last verified hash.
    pub head: Option<String>,
}

impl AuditVerification {
    pub fn intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

pub(crate) const GENESIS: [u8; 32] = [0; 32];

pub(crate) fn chain_hash(prev: &[u8], seq: i64, at_micros: i64, e: &AuditFields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at_micros.to_be_bytes());
    for field in [
        Some(e.actor),
        Some(e.role),
        Some(e.action),
        e.subject,
        Some(e.purpose),
        e.detail,
    ] {
        // Length-prefixed, with a distinct marker for NULL, so no two field lists hash alike.
        match field {
            Some(s) => {
                h.update([1]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
            None => h.update([0]),
        }
    }
    h.finalize().into()
}

pub(crate) struct AuditFields<'a> {
    pub actor: &'a str,
    pub role: &'a str,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub purpose: &'a str,
    pub detail: Option<&'a str>,
}

impl<'a> From<&'a AuditEntry> for AuditFields<'a> {
    fn from(e: &'a AuditEntry) -> Self {
        Self {
            actor: &e.actor,
            role: &e.role,
            action: &e.action,
            subject: e.subject.as_deref(),
            purpose: &e.purpose,
            detail: e.detail.as_deref(),
        }
    }
}

impl<'a> From<&'a StoredAudit> for AuditFields<'a> {
    fn from(e: &'a StoredAudit) -> Self {
        Self {
            actor: &e.actor,
            role: &e.role,
            action: &e.action,
            subject: e.subject.as_deref(),
            purpose: &e.purpose,
            detail: e.detail.as_deref(),
        }
    }
}

/// Walks stored entries in sequence order and finds the first broken link.
pub(crate) struct ChainVerifier {
    expected_prev: Vec<u8>,
    expected_seq: i64,
    pub result: AuditVerification,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self {
            expected_prev: GENESIS.to_vec(),
            expected_seq: 1,
            result: AuditVerification {
                entries: 0,
                first_broken: None,
                head: None,
            },
        }
    }

    /// Feeds the next entry; returns false once the chain is broken (callers may stop reading).
    pub fn push(&mut self, e: &StoredAudit) -> bool {
        if self.result.first_broken.is_some() {
            return false;
        }
        self.result.entries += 1;
        let recomputed = chain_hash(&e.prev_hash, e.seq, crate::unix_micros(e.at), &e.into());
        if e.seq != self.expected_seq
            || e.prev_hash != self.expected_prev
            || recomputed[..] != e.hash[..]
        {
            self.result.first_broken = Some(e.seq);
            return false;
        }
        self.expected_prev.clone_from(&e.hash);
        self.expected_seq += 1;
        self.result.head = Some(hex::encode(&e.hash));
        true
    }
}
