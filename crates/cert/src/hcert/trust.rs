//! Where verification finds DSCs (by kid) and asks about revocation.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::HcertError;
use super::dsc::kid_of;

/// Document Signer Certificates by kid.
pub trait TrustStore {
    /// DER of every trusted DSC with this kid. Several DSCs may share a kid (it is only 8 bytes
    /// of a hash), so verification tries each.
    fn lookup(&self, kid: &[u8]) -> Vec<Cow<'_, [u8]>>;
}

/// What a revocation list may be keyed on (the EU scheme hashes the UCI, country + UCI, or the
/// signature).
#[derive(Debug, Clone, Copy)]
pub struct RevocationQuery<'a> {
    pub kid: &'a [u8],
    /// DER of the DSC that verified the signature.
    pub dsc: &'a [u8],
    /// CWT `iss`.
    pub issuer: Option<&'a str>,
    /// Unique certificate identifier (`ci`) of the payload's entry.
    pub uci: Option<&'a str>,
    /// Country of the payload's entry (`co`).
    pub country: Option<&'a str>,
    pub signature: &'a [u8],
}

/// A revocation list; verification fails closed on `Err`.
pub trait RevocationCheck {
    /// `Ok(())` when not revoked; `Err(reason)` when revoked or when it cannot tell.
    fn check(&self, query: &RevocationQuery<'_>) -> Result<(), String>;
}

/// An in-memory trust list, e.g. the EU gateway's DSC list.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    by_kid: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    len: usize,
}

/// One entry of the gateway's `certificates` array; unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct GatewayEntry {
    kid: Option<String>,
    certificate_type: Option<String>,
    raw_data: String,
}

#[derive(Debug, Deserialize)]
struct GatewayList {
    certificates: Vec<GatewayEntry>,
}

impl TrustList {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a DSC under its computed kid.
    pub fn add(&mut self, der: Vec<u8>) {
        self.add_with_kid(kid_of(&der).to_vec(), der);
    }

    /// Adds a DSC under a kid given by the list (the gateway's may differ from the computed one).
    pub fn add_with_kid(&mut self, kid: Vec<u8>, der: Vec<u8>) {
        let entry = self.by_kid.entry(kid).or_default();
        if !entry.contains(&der) {
            entry.push(der);
            self.len += 1;
        }
    }

    /// Reads the EU gateway's JSON shape:
    /// `{"certificates":[{"kid":"base64","country":"VN","certificate_type":"DSC","raw_data":"base64 DER"}]}`.
    /// Entries whose `certificate_type` is not `DSC` are skipped; without `kid` the kid is computed.
    pub fn from_gateway_json(json: &str) -> Result<Self, HcertError> {
        let list: GatewayList =
            serde_json::from_str(json).map_err(|e| HcertError::TrustList(e.to_string()))?;
        let mut trust = Self::new();
        for (i, entry) in list.certificates.into_iter().enumerate() {
            if entry
                .certificate_type
                .as_deref()
                .is_some_and(|t| t != "DSC")
            {
                continue;
            }
            let der = STANDARD.decode(entry.raw_data.trim()).map_err(|e| {
                HcertError::TrustList(format!("certificates[{i}].raw_data is not base64: {e}"))
            })?;
            match entry.kid {
                Some(kid) => {
                    let kid = STANDARD.decode(kid.trim()).map_err(|e| {
                        HcertError::TrustList(format!("certificates[{i}].kid is not base64: {e}"))
                    })?;
                    trust.add_with_kid(kid, der);
                }
                None => trust.add(der),
            }
        }
        Ok(trust)
    }

    /// Number of distinct (kid, DSC) entries.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl TrustStore for TrustList {
    fn lookup(&self, kid: &[u8]) -> Vec<Cow<'_, [u8]>> {
        self.by_kid
            .get(kid)
            .map(|ders| ders.iter().map(|d| Cow::Borrowed(d.as_slice())).collect())
            .unwrap_or_default()
    }
}
