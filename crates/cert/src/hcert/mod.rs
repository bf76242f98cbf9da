//! EU Digital COVID Certificates (HCERT): decoding and verifying the QR text
//! `HC1:` + `base45(zlib(COSE_Sign1(CWT claims with the DCC payload)))`, and a runner for the
//! `dgc-testdata` conformance cases.
//!
//! [`verify_hc1`] never panics and never stops at the first problem it can report around: it
//! returns every [`Step`] with its [`Outcome`], so a person sees all of what is wrong.

pub mod base45;
mod decode;
mod dsc;
mod issue;
mod lists;
mod picture;
mod schema;
mod suite;
mod trust;
mod verify;

pub use base45::Base45Error;
pub use decode::{
    Algorithm, CwtClaims, DccType, KidSource, MAX_INFLATED_BYTES, MAX_QR_BYTES, PREFIX,
};
pub use dsc::{KID_LEN, kid_of};
pub use issue::{
    CERTIFICATE_ISSUER, COVID_19, DCC_SCHEMA_VERSION, DccName, ISSUER_COUNTRY, RecoveryDcc,
    TEST_DETECTED, TEST_NOT_DETECTED, TEST_TYPE_NAAT, TEST_TYPE_RAT, TestDcc, VaccinationDcc,
    icao_transliterate, issue_hcert, issue_hcert_signed, new_uvci, split_name, uvci, uvci_checksum,
    uvci_checksum_is_valid,
};
pub use lists::{
    HashType, REVOCATION_HASH_LEN, REVOCATION_LIST_FORMAT, RevocationBatch, RevocationContent,
    RevocationEntry, RevocationList, SignedList, TRUST_LIST_FORMAT, open_list, revocation_hash,
    sign_list,
};
pub use picture::decode_png_qr;
pub use schema::{SchemaError, SchemaSet};
pub use suite::{
    CaseReport, Check, Flag, SuiteReport, Verdict, parse_instant, run_suite, run_suite_with,
};
pub use trust::{
    ListedDsc, RevocationCheck, RevocationQuery, TrustList, TrustStore, parse_gateway_list,
    read_trust_list,
};
pub use verify::{
    BareSignature, Outcome, Step, StepResult, Verification, verify_hc1, verify_hc1_with,
};

/// Errors of this layer that are not verification results: trust lists and schema files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HcertError {
    /// The trust list is not the expected JSON, or an entry is malformed.
    #[error("invalid trust list: {0}")]
    TrustList(String),
    /// A DCC JSON schema folder or file could not be read or used.
    #[error("invalid DCC schema: {0}")]
    Schema(String),
    /// A signed trust or revocation list that is malformed, forged or signed by an unpinned key.
    #[error("invalid signed list: {0}")]
    SignedList(String),
}
