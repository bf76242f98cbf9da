//! What each kind of certificate in the hierarchy is allowed to be and do.
//!
//! Every rule that differs by profile lives in a method here, so a new profile (an EU DCC CSCA, a
//! document signer with extended key usages) is a new variant plus one arm per method.

use std::fmt;
use std::str::FromStr;

use rcgen::KeyUsagePurpose;
use serde::{Deserialize, Serialize};

/// The kind of a certificate. Written into the certificate (subject OU) by [`Self::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CertProfile {
    /// The self-signed national trust anchor; issues province CAs only.
    NationalRoot,
    /// One per province; issues commune signers of its own province only.
    ProvinceCa,
    /// One per commune; signs vaccination records, issues nothing.
    CommuneSigner,
    /// EU DCC Country Signing CA: self-signed, issues document signers only. Kept apart from the
    /// national root so that the DCC trust chain (shared with other countries) cannot vouch for
    /// record signers, and the record chain cannot vouch for certificates.
    Csca,
    /// EU DCC Document Signer (DSC): signs HCERTs, issued by the CSCA, issues nothing.
    DocumentSigner,
    /// Signs the 72-hour travel passes; issued by the national root, issues nothing. Apart from
    /// the DCC keys, so a pass key can never sign a certificate other countries trust.
    PassSigner,
}

impl CertProfile {
    pub const ALL: [Self; 6] = [
        Self::NationalRoot,
        Self::ProvinceCa,
        Self::CommuneSigner,
        Self::Csca,
        Self::DocumentSigner,
        Self::PassSigner,
    ];

    /// Stable token stored in certificates and databases; never change an existing one.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NationalRoot => "national_root",
            Self::ProvinceCa => "province_ca",
            Self::CommuneSigner => "commune_signer",
            Self::Csca => "csca",
            Self::DocumentSigner => "document_signer",
            Self::PassSigner => "pass_signer",
        }
    }

    /// The profile of the certificate that issues this one; `None` for self-signed roots.
    pub const fn issuer(self) -> Option<Self> {
        match self {
            Self::NationalRoot | Self::Csca => None,
            Self::ProvinceCa | Self::PassSigner => Some(Self::NationalRoot),
            Self::CommuneSigner => Some(Self::ProvinceCa),
            Self::DocumentSigner => Some(Self::Csca),
        }
    }

    /// Whether a certificate of this profile may issue one of `subject`.
    pub fn may_issue(self, subject: Self) -> bool {
        subject.issuer() == Some(self)
    }

    pub const fn is_ca(self) -> bool {
        match self {
            Self::NationalRoot | Self::ProvinceCa | Self::Csca => true,
            Self::CommuneSigner | Self::DocumentSigner | Self::PassSigner => false,
        }
    }

    /// Whether a leaf of this profile may sign records.
    pub const fn signs_records(self) -> bool {
        matches!(self, Self::CommuneSigner)
    }

    /// basicConstraints pathLenConstraint of a CA profile: how many CAs may sit below it.
    pub(crate) const fn path_len(self) -> Option<u8> {
        match self {
            Self::NationalRoot => Some(1),
            Self::ProvinceCa | Self::Csca => Some(0),
            Self::CommuneSigner | Self::DocumentSigner | Self::PassSigner => None,
        }
    }

    pub(crate) fn key_usages(self) -> Vec<KeyUsagePurpose> {
        match self {
            Self::NationalRoot | Self::ProvinceCa | Self::Csca => {
                vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign]
            }
            Self::CommuneSigner => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ],
            Self::DocumentSigner | Self::PassSigner => vec![KeyUsagePurpose::DigitalSignature],
        }
    }

    /// Extended key usage OIDs (as arcs). A DSC names the DCC types it may sign, so verifiers
    /// can refuse e.g. a test certificate from a key meant for vaccinations.
    pub(crate) fn extended_key_usages(self) -> Vec<Vec<u64>> {
        match self {
            Self::DocumentSigner => (1..=3)
                .map(|kind| vec![1, 3, 6, 1, 4, 1, 1847, 2021, 1, kind])
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `code` has the shape of this profile's unit: "VN", a 2-digit GSO province code,
    /// a 5-digit GSO commune code. Existence in the catalogue is the caller's business.
    pub fn unit_code_is_valid(self, code: &str) -> bool {
        let digits = |n: usize| code.len() == n && code.bytes().all(|b| b.is_ascii_digit());
        match self {
            // The DCC keys are national: one CSCA, and DSCs rotated under the same unit.
            Self::NationalRoot | Self::Csca | Self::DocumentSigner | Self::PassSigner => {
                code == "VN"
            }
            Self::ProvinceCa => digits(2),
            Self::CommuneSigner => digits(5),
        }
    }
}

impl fmt::Display for CertProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NationalRoot => "national root CA",
            Self::ProvinceCa => "province CA",
            Self::CommuneSigner => "commune signer",
            Self::Csca => "DCC country signing CA",
            Self::DocumentSigner => "DCC document signer",
            Self::PassSigner => "travel pass signer",
        })
    }
}

/// The token is not a known profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown certificate profile")]
pub struct UnknownProfile;

impl FromStr for CertProfile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownProfile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_match_serde() {
        for p in CertProfile::ALL {
            assert_eq!(p.as_str().parse::<CertProfile>(), Ok(p));
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.as_str())
            );
        }
        assert_eq!("root".parse::<CertProfile>(), Err(UnknownProfile));
    }

    #[test]
    fn hierarchy_rules() {
        use CertProfile::{CommuneSigner, NationalRoot, ProvinceCa};
        assert!(NationalRoot.may_issue(ProvinceCa));
        assert!(!NationalRoot.may_issue(CommuneSigner));
        assert!(ProvinceCa.may_issue(CommuneSigner));
        assert!(!CommuneSigner.may_issue(CommuneSigner));
        assert!(ProvinceCa.unit_code_is_valid("01"));
        assert!(!ProvinceCa.unit_code_is_valid("1"));
        assert!(CommuneSigner.unit_code_is_valid("00001"));
        assert!(!CommuneSigner.unit_code_is_valid("0000a"));
        assert!(!NationalRoot.unit_code_is_valid("vn"));
    }

    #[test]
    fn dcc_profiles_stay_apart_from_the_record_hierarchy() {
        use CertProfile::{CommuneSigner, Csca, DocumentSigner, NationalRoot, ProvinceCa};
        assert!(Csca.may_issue(DocumentSigner));
        assert!(!Csca.may_issue(CommuneSigner));
        assert!(!Csca.may_issue(ProvinceCa));
        assert!(!NationalRoot.may_issue(DocumentSigner));
        assert!(!ProvinceCa.may_issue(DocumentSigner));
        assert!(!DocumentSigner.signs_records());
        assert!(Csca.is_ca() && !DocumentSigner.is_ca());
        assert_eq!(DocumentSigner.extended_key_usages().len(), 3);
        assert!(CommuneSigner.extended_key_usages().is_empty());
    }
}
