//! Where verification finds DSCs (by kid) and asks about revocation.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::HcertError;
use super::dsc::{Dsc, kid_of};
use super::lists::{TRUST_LIST_FORMAT, open_list};

/// Document Signer Certificates by kid.
pub trait TrustStore {
    /// DER of every trusted DSC with this kid. Several DSCs may share a kid (it is only 8 bytes
    /// of a hash), so verification tries each.
    fn lookup(&self, kid: &[u8]) -> Vec<Cow<'_, [u8]>>;

    /// The same DSCs as [`lookup`](Self::lookup), already parsed, when the store keeps them so:
    /// a [`TrustList`] parses each DSC once, when it is added, instead of on every verification.
    /// `None` (the default) makes verification parse the DER that `lookup` returns.
    #[doc(hidden)]
    fn lookup_prepared(&self, kid: &[u8]) -> Option<&[PreparedDsc]> {
        let _ = kid;
        None
    }
}

/// A trusted DSC with what verification derives from its DER, computed once: the parsed key,
/// validity and key usages (or why it cannot be read), and its fingerprint.
#[derive(Debug, Clone)]
pub struct PreparedDsc {
    der: Vec<u8>,
    dsc: Result<Dsc, String>,
    fingerprint: String,
}

impl PreparedDsc {
    fn new(der: Vec<u8>) -> Self {
        Self {
            dsc: Dsc::parse(&der),
            fingerprint: crate::fingerprint(&der),
            der,
        }
    }

    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }

    /// What [`Dsc::parse`] returned for the DER.
    pub(crate) fn dsc(&self) -> Result<&Dsc, &str> {
        self.dsc.as_ref().map_err(String::as_str)
    }

    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
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

/// One DSC as a trust list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDsc {
    pub kid: Vec<u8>,
    /// ISO 3166-1 alpha-2, when the list says.
    pub country: Option<String>,
    pub der: Vec<u8>,
}

/// The DSCs of a gateway-shaped JSON list.
pub fn parse_gateway_list(json: &str) -> Result<Vec<ListedDsc>, HcertError> {
    let list: GatewayList =
        serde_json::from_str(json).map_err(|e| HcertError::TrustList(e.to_string()))?;
    let mut out = Vec::with_capacity(list.certificates.len());
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
        let kid = match entry.kid {
            Some(kid) => STANDARD.decode(kid.trim()).map_err(|e| {
                HcertError::TrustList(format!("certificates[{i}].kid is not base64: {e}"))
            })?,
            None => kid_of(&der).to_vec(),
        };
        let country = entry
            .country
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()));
        out.push(ListedDsc { kid, country, der });
    }
    Ok(out)
}

/// A trust list as a file holds it: signed (checked against `anchors`) when anchors are given,
/// else the gateway's plain JSON.
pub fn read_trust_list(text: &str, anchors: &[Vec<u8>]) -> Result<Vec<ListedDsc>, HcertError> {
    if anchors.is_empty() {
        if serde_json::from_str::<super::lists::SignedList>(text).is_ok() {
            return Err(HcertError::TrustList(
                "the list is signed: pin the CSCA certificate that signed it".to_owned(),
            ));
        }
        return parse_gateway_list(text);
    }
    let content = open_list(text, TRUST_LIST_FORMAT, anchors)?;
    let content = std::str::from_utf8(&content)
        .map_err(|_| HcertError::TrustList("the content is not UTF-8".to_owned()))?;
    parse_gateway_list(content)
}

/// An in-memory trust list, e.g. the EU gateway's DSC list. Each DSC is parsed when it is added,
/// so verification finds its key ready.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    by_kid: HashMap<Vec<u8>, Vec<PreparedDsc>>,
    len: usize,
}

/// One entry of the gateway's `certificates` array; unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct GatewayEntry {
    kid: Option<String>,
    country: Option<String>,
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
        if !entry.iter().any(|d| d.der == der) {
            entry.push(PreparedDsc::new(der));
            self.len += 1;
        }
    }

    /// Reads the EU gateway's JSON shape:
    /// `{"certificates":[{"kid":"base64","country":"VN","certificate_type":"DSC","raw_data":"base64 DER"}]}`.
    /// Entries whose `certificate_type` is not `DSC` are skipped; without `kid` the kid is computed.
    pub fn from_gateway_json(json: &str) -> Result<Self, HcertError> {
        Ok(Self::from_listed(parse_gateway_list(json)?))
    }

    pub fn from_listed(listed: Vec<ListedDsc>) -> Self {
        let mut trust = Self::new();
        for dsc in listed {
            trust.add_with_kid(dsc.kid, dsc.der);
        }
        trust
    }

    /// Opens a signed trust list (see [`open_list`]); its content has the gateway's shape.
    pub fn from_signed(text: &str, anchors: &[Vec<u8>]) -> Result<Self, HcertError> {
        Ok(Self::from_listed(read_trust_list(text, anchors)?))
    }

    /// The content of a published trust list, in the gateway's shape.
    pub fn gateway_content(dscs: &[ListedDsc], issued_at: &str) -> serde_json::Value {
        let certificates: Vec<_> = dscs
            .iter()
            .map(|d| {
                serde_json::json!({
                    "kid": STANDARD.encode(&d.kid),
                    "country": d.country,
                    "certificate_type": "DSC",
                    "raw_data": STANDARD.encode(&d.der),
                })
            })
            .collect();
        serde_json::json!({ "issued_at": issued_at, "certificates": certificates })
    }

    /// Every `(kid, DSC DER)` entry.
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.by_kid
            .iter()
            .flat_map(|(kid, dscs)| dscs.iter().map(move |d| (kid.as_slice(), d.der())))
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
            .map(|dscs| dscs.iter().map(|d| Cow::Borrowed(d.der())).collect())
            .unwrap_or_default()
    }

    fn lookup_prepared(&self, kid: &[u8]) -> Option<&[PreparedDsc]> {
        Some(self.by_kid.get(kid).map_or(&[], Vec::as_slice))
    }
}
