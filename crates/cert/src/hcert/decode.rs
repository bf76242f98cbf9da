//! The decoding stages of an HCERT: prefix, zlib, `COSE_Sign1`, CWT claims, DCC payload.
//!
//! Every function takes untrusted bytes and returns a reason string on failure; nothing here
//! panics on any input, and every size is bounded before it is allocated.

use std::cell::RefCell;

use ciborium::value::Value;
use coset::{AsCborValue, CoseSign1, iana};
use serde::Serialize;
use serde_json::{Map, Number, Value as Json};

/// The context identifier of a Digital COVID Certificate QR text.
pub const PREFIX: &str = "HC1:";
/// Longest QR text accepted: a version 40 QR code holds 4296 alphanumeric characters, so this
/// leaves room while refusing absurd input before any work.
pub const MAX_QR_BYTES: usize = 8 * 1024;
/// Most bytes zlib may inflate to: real certificates are under 2 KiB, so this bounds zip bombs.
pub const MAX_INFLATED_BYTES: usize = 64 * 1024;
/// Deepest CBOR/JSON nesting converted; a DCC payload nests 4 levels.
const MAX_DEPTH: usize = 16;

/// CWT claim keys (RFC 8392) and the HCERT claim.
const CLAIM_ISS: i128 = 1;
const CLAIM_EXP: i128 = 4;
const CLAIM_IAT: i128 = 6;
const CLAIM_HCERT: i128 = -260;
/// Key of the EU DCC inside the HCERT claim.
const HCERT_EU_DCC: i128 = 1;
/// CBOR tags that may wrap a `COSE_Sign1`: CWT (RFC 8392) and `COSE_Sign1` (RFC 9052).
const TAG_CWT: u64 = 61;
const TAG_COSE_SIGN1: u64 = 18;

/// Signature algorithms HCERT allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256, 64-byte `r||s` signature.
    Es256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt.
    Ps256,
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Es256 => "ES256",
            Self::Ps256 => "PS256",
        })
    }
}

/// Where the kid was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KidSource {
    Protected,
    Unprotected,
}

/// A `COSE_Sign1` split into what verification needs.
#[derive(Debug, Clone)]
pub(crate) struct CoseParts {
    /// The protected header bstr exactly as received: the `Sig_structure` must use these bytes.
    pub(crate) protected: Vec<u8>,
    /// Why not, when the headers name no algorithm or one HCERT does not allow.
    pub(crate) alg: Result<Algorithm, String>,
    pub(crate) kid: Option<(Vec<u8>, KidSource)>,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

impl CoseParts {
    /// The COSE `Sig_structure` `["Signature1", protected, h'', payload]`, encoded by hand so the
    /// protected bytes go in untouched and without building a CBOR value tree.
    pub(crate) fn to_be_signed(&self) -> Vec<u8> {
        const CONTEXT: &[u8] = b"Signature1";
        let mut out = Vec::with_capacity(self.protected.len() + self.payload.len() + 32);
        out.push(0x84); // array(4)
        push_head(&mut out, 3, CONTEXT.len() as u64);
        out.extend_from_slice(CONTEXT);
        push_head(&mut out, 2, self.protected.len() as u64);
        out.extend_from_slice(&self.protected);
        out.push(0x40); // external_aad = h''
        push_head(&mut out, 2, self.payload.len() as u64);
        out.extend_from_slice(&self.payload);
        out
    }
}

/// Appends a CBOR head (major type and argument) in its shortest form.
pub(crate) fn push_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    if n < 24 {
        out.push(major | n as u8);
    } else if n <= 0xFF {
        out.extend_from_slice(&[major | 0x18, n as u8]);
    } else if n <= 0xFFFF {
        out.push(major | 0x19);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= 0xFFFF_FFFF {
        out.push(major | 0x1A);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(major | 0x1B);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The CWT claims HCERT uses; `iat`/`exp` are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CwtClaims {
    /// Issuing country (ISO 3166-1 alpha-2).
    pub iss: Option<String>,
    pub iat: Option<i64>,
    pub exp: Option<i64>,
}

/// The kind of certificate, from the payload array present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DccType {
    Vaccination,
    Test,
    Recovery,
}

impl std::fmt::Display for KidSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Protected => "protected",
            Self::Unprotected => "unprotected",
        })
    }
}

impl DccType {
    pub(crate) const ALL: [(Self, &'static str); 3] = [
        (Self::Vaccination, "v"),
        (Self::Test, "t"),
        (Self::Recovery, "r"),
    ];
}

impl std::fmt::Display for DccType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Vaccination => "vaccination",
            Self::Test => "test",
            Self::Recovery => "recovery",
        })
    }
}

/// Strips `HC1:`; any other or missing context identifier is refused.
pub(crate) fn unprefix(qr: &str) -> Result<&str, String> {
    if let Some(rest) = qr.strip_prefix(PREFIX) {
        return Ok(rest);
    }
    // Name what was there, but only a short, printable head of it.
    let head: String = qr.chars().take(4).filter(|c| !c.is_control()).collect();
    Err(format!(
        "the text does not start with {PREFIX} (starts with {head:?})"
    ))
}

/// Inflates a zlib stream, refusing to produce more than `limit` bytes (zip bombs) and refusing
/// data that is not one complete zlib stream. Trailing bytes after the stream are ignored.
pub(crate) fn inflate(compressed: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    use flate2::Decompress;

    thread_local! {
        /// The inflater's state (about 40 KiB) is reset, not reallocated, for each certificate.
        static INFLATER: RefCell<Decompress> = RefCell::new(Decompress::new(true));
    }

    // Checked up front because some issuers emit raw COSE, which must not pass for a stream:
    // CM = 8 (deflate) and the header checksum.
    match compressed {
        [cmf, flg, ..] if cmf & 0x0F == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 => {
        }
        _ => return Err("the data is not a zlib stream (no zlib header)".to_owned()),
    }
    INFLATER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut inflater) => {
            inflater.reset(true);
            inflate_with(&mut inflater, compressed, limit)
        }
        // Not reachable (nothing here re-enters), but a fresh state is always correct.
        Err(_) => inflate_with(&mut Decompress::new(true), compressed, limit),
    })
}

/// [`inflate`] with a fresh or freshly reset zlib state.
fn inflate_with(
    inflater: &mut flate2::Decompress,
    compressed: &[u8],
    limit: usize,
) -> Result<Vec<u8>, String> {
    use flate2::{FlushDecompress, Status};

    // Real certificates inflate about 1.5x; the buffer grows (bounded) only when needed.
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(2).max(256).min(limit + 1));
    loop {
        if out.len() == out.capacity() {
            if out.len() > limit {
                return Err(format!(
                    "the zlib stream inflates to more than {limit} bytes"
                ));
            }
            // Doubling, but never past one byte over the limit (which proves the bomb).
            out.reserve_exact(out.len().max(256).min(limit + 1 - out.len()));
        }
        let (in_before, out_before) = (inflater.total_in(), out.len());
        let input = compressed.get(in_before as usize..).unwrap_or_default();
        let status = inflater
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| format!("broken zlib stream: {e}"))?;
        if out.len() > limit {
            return Err(format!(
                "the zlib stream inflates to more than {limit} bytes"
            ));
        }
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => {
                let stalled = inflater.total_in() == in_before && out.len() == out_before;
                if stalled && out.len() < out.capacity() {
                    return Err("truncated zlib stream".to_owned());
                }
            }
        }
    }
}

/// Decodes one CBOR item filling all of `bytes`.
pub(crate) fn cbor(bytes: &[u8]) -> Result<Value, String> {
    let mut reader = bytes;
    let value: Value =
        ciborium::de::from_reader(&mut reader).map_err(|e| format!("not CBOR: {e}"))?;
    if !reader.is_empty() {
        return Err(format!(
            "{} bytes of trailing data after the CBOR item",
            reader.len()
        ));
    }
    Ok(value)
}

/// Parses a `COSE_Sign1`, optionally tagged 18 and optionally wrapped in the CWT tag 61.
pub(crate) fn cose(bytes: &[u8]) -> Result<CoseParts, String> {
    if let Some(parts) = FastReader::new(bytes).cose() {
        return Ok(parts);
    }
    cose_general(bytes)
}

/// [`cose`] through a CBOR value tree and `coset`: decides every input the fast reader gives up
/// on, and words every error.
fn cose_general(bytes: &[u8]) -> Result<CoseParts, String> {
    let mut value = cbor(bytes)?;
    if let Value::Tag(TAG_CWT, inner) = value {
        value = *inner;
    }
    match value {
        Value::Tag(TAG_COSE_SIGN1, inner) => value = *inner,
        Value::Tag(tag, _) => return Err(format!("CBOR tag {tag} is not COSE_Sign1 (18)")),
        _ => {}
    }
    let sign1 = CoseSign1::from_cbor_value(value)
        .map_err(|e| format!("not a COSE_Sign1 structure: {e}"))?;
    let protected = sign1
        .protected
        .original_data
        .ok_or("the protected header has no bytes")?;
    let payload = sign1
        .payload
        .ok_or("the COSE_Sign1 has a detached (nil) payload")?;
    let (prot, unprot) = (&sign1.protected.header, &sign1.unprotected);
    // HCERT puts alg in the protected header; the unprotected one is the fallback some issuers use.
    let alg = match prot.alg.as_ref().or(unprot.alg.as_ref()) {
        Some(coset::Algorithm::Assigned(iana::Algorithm::ES256)) => Ok(Algorithm::Es256),
        Some(coset::Algorithm::Assigned(iana::Algorithm::PS256)) => Ok(Algorithm::Ps256),
        Some(other) => Err(format!(
            "signature algorithm {other:?} is not ES256 or PS256"
        )),
        None => Err("no signature algorithm (alg) in the COSE headers".to_owned()),
    };
    // The protected kid wins; the unprotected one counts only when there is none.
    let kid = if prot.key_id.is_empty() {
        (!unprot.key_id.is_empty()).then(|| (unprot.key_id.clone(), KidSource::Unprotected))
    } else {
        Some((prot.key_id.clone(), KidSource::Protected))
    };
    Ok(CoseParts {
        protected,
        alg,
        kid,
        payload,
        signature: sign1.signature,
    })
}

/// The CWT claims and the DCC payload (as JSON) of a COSE payload.
pub(crate) fn claims(payload: &[u8]) -> Result<(CwtClaims, Json), String> {
    if let Some(found) = FastReader::new(payload).claims() {
        return Ok(found);
    }
    claims_general(payload)
}

/// [`claims`] through a CBOR value tree: decides every input the fast reader gives up on, and
/// words every error.
fn claims_general(payload: &[u8]) -> Result<(CwtClaims, Json), String> {
    let Value::Map(entries) = cbor(payload)? else {
        return Err("the CWT claims are not a CBOR map".to_owned());
    };
    let mut claims = CwtClaims {
        iss: None,
        iat: None,
        exp: None,
    };
    let mut dcc = None;
    let mut seen = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let Some(key) = key.as_integer().map(i128::from) else {
            continue; // text-keyed private claims are allowed and ignored
        };
        if seen.contains(&key) {
            return Err(format!("CWT claim {key} appears twice"));
        }
        seen.push(key);
        match key {
            CLAIM_ISS => match value {
                Value::Text(s) => claims.iss = Some(s),
                _ => return Err("CWT claim iss (1) is not a text string".to_owned()),
            },
            CLAIM_EXP => claims.exp = Some(numeric_date(&value, "exp (4)")?),
            CLAIM_IAT => claims.iat = Some(numeric_date(&value, "iat (6)")?),
            CLAIM_HCERT => dcc = Some(hcert_payload(value)?),
            _ => {}
        }
    }
    let dcc = dcc.ok_or("no HCERT claim (-260) in the CWT")?;
    Ok((claims, dcc))
}

/// A CWT `NumericDate`: an integer or (as some issuers send) a float, in seconds.
fn numeric_date(value: &Value, name: &str) -> Result<i64, String> {
    let bad = || format!("CWT claim {name} is not a date in seconds");
    match value {
        Value::Integer(i) => i64::try_from(i128::from(*i)).map_err(|_| bad()),
        // Whole seconds: a fraction of a second does not change any check at 1 s resolution.
        Value::Float(f) if f.is_finite() && f.abs() < 1e15 => Ok(f.floor() as i64),
        _ => Err(bad()),
    }
}

/// `-260 → {1: DCC}`: the EU DCC map as JSON.
fn hcert_payload(value: Value) -> Result<Json, String> {
    let Value::Map(entries) = value else {
        return Err("the HCERT claim (-260) is not a map".to_owned());
    };
    let mut found = None;
    for (key, value) in entries {
        if key.as_integer().map(i128::from) == Some(HCERT_EU_DCC) {
            if found.is_some() {
                return Err("the HCERT claim holds key 1 twice".to_owned());
            }
            found = Some(value);
        }
    }
    let dcc = found.ok_or("the HCERT claim (-260) has no EU DCC (key 1)")?;
    if !dcc.is_map() {
        return Err("the EU DCC (-260 → 1) is not a map".to_owned());
    }
    to_json(dcc, 0)
}

/// The DCC payload of a bare `CBOR` test field: either the DCC map itself or a whole CWT claims
/// map (then its `-260 → 1`).
pub(crate) fn payload_from_cbor(bytes: &[u8]) -> Result<Json, String> {
    let value = cbor(bytes)?;
    let Value::Map(entries) = &value else {
        return Err("the CBOR is not a map".to_owned());
    };
    let is_claims = entries
        .iter()
        .any(|(k, _)| k.as_integer().map(i128::from) == Some(CLAIM_HCERT));
    if is_claims {
        let (_, dcc) = claims(bytes)?;
        return Ok(dcc);
    }
    to_json(value, 0)
}

/// Converts a CBOR value to JSON: text-keyed maps only, tags unwrapped (tag 0/1004 dates become
/// their string), no byte strings, bounded depth.
pub(crate) fn to_json(value: Value, depth: usize) -> Result<Json, String> {
    if depth > MAX_DEPTH {
        return Err("the payload nests too deeply".to_owned());
    }
    Ok(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(b),
        Value::Text(s) => Json::String(s),
        Value::Integer(i) => {
            let i = i128::from(i);
            if let Ok(n) = i64::try_from(i) {
                Json::Number(n.into())
            } else if let Ok(n) = u64::try_from(i) {
                Json::Number(n.into())
            } else {
                return Err("an integer in the payload is out of range".to_owned());
            }
        }
        Value::Float(f) => {
            Json::Number(Number::from_f64(f).ok_or("the payload holds a non-finite number")?)
        }
        Value::Tag(_, inner) => to_json(*inner, depth + 1)?,
        Value::Array(items) => Json::Array(
            items
                .into_iter()
                .map(|v| to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let Value::Text(key) = key else {
                    return Err("a payload map has a key that is not a text string".to_owned());
                };
                if map.contains_key(&key) {
                    return Err(format!("payload key {key:?} appears twice"));
                }
                let value = to_json(value, depth + 1)?;
                map.insert(key, value);
            }
            Json::Object(map)
        }
        Value::Bytes(_) => return Err("the payload holds a byte string".to_owned()),
        _ => return Err("the payload holds an unsupported CBOR value".to_owned()),
    })
}

/// A CBOR reader for the common, well-formed shape of CWT claims, straight to JSON without a
/// value tree. It accepts a strict subset of what [`claims_general`] accepts (definite lengths,
/// no tags, no byte strings in the payload, no simple values but false/true/null, no half
/// floats) and returns `None` at the first thing it does not take, or any error, so that the
/// general path decides: for any input, [`claims`] returns what [`claims_general`] would.
struct FastReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// A map key as [`FastReader`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MapKey {
    Integer(i128),
    /// Any other item, which CWT claims and the HCERT claim ignore.
    Other,
}

/// CBOR major types.
const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_NEGATIVE: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;
const MAJOR_SIMPLE: u8 = 7;
/// COSE header labels and algorithm values (RFC 9052, IANA) the fast reader takes.
const HEADER_ALG: i128 = 1;
const HEADER_KID: i128 = 4;
const ALG_ES256: i128 = -7;
const ALG_PS256: i128 = -37;
/// Additional information of major type 7.
const SIMPLE_FALSE: u8 = 20;
const SIMPLE_TRUE: u8 = 21;
const SIMPLE_NULL: u8 = 22;
const FLOAT_32: u8 = 26;
const FLOAT_64: u8 = 27;

impl<'a> FastReader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The whole input as CWT claims, as [`claims_general`] reads it.
    fn claims(mut self) -> Option<(CwtClaims, Json)> {
        let (major, _, entries) = self.head()?;
        if major != MAJOR_MAP {
            return None;
        }
        let mut claims = CwtClaims {
            iss: None,
            iat: None,
            exp: None,
        };
        let mut dcc = None;
        let mut seen: Vec<i128> = Vec::new();
        for _ in 0..entries {
            let MapKey::Integer(key) = self.integer_key()? else {
                self.skip(0)?;
                continue;
            };
            if seen.contains(&key) {
                return None;
            }
            seen.push(key);
            match key {
                CLAIM_ISS => {
                    let (major, _, len) = self.head()?;
                    if major != MAJOR_TEXT {
                        return None;
                    }
                    claims.iss = Some(self.text(len)?.to_owned());
                }
                CLAIM_EXP => claims.exp = Some(self.numeric_date()?),
                CLAIM_IAT => claims.iat = Some(self.numeric_date()?),
                CLAIM_HCERT => dcc = Some(self.hcert()?),
                _ => self.skip(0)?,
            }
        }
        (self.pos == self.bytes.len()).then_some(())?;
        Some((claims, dcc?))
    }

    /// The whole input as a `COSE_Sign1` whose headers hold only `alg` (ES256 or PS256) and
    /// `kid`, as [`cose_general`] reads it.
    fn cose(mut self) -> Option<CoseParts> {
        let (mut major, _, mut n) = self.head()?;
        if major == MAJOR_TAG && n == TAG_CWT {
            (major, _, n) = self.head()?;
        }
        if major == MAJOR_TAG && n == TAG_COSE_SIGN1 {
            (major, _, n) = self.head()?;
        }
        if major != MAJOR_ARRAY || n != 4 {
            return None;
        }
        let protected = self.bytes_item()?;
        if protected.is_empty() {
            return None;
        }
        let mut inner = FastReader::new(protected);
        let (prot_alg, prot_kid) = inner.cose_header()?;
        (inner.pos == protected.len()).then_some(())?;
        let (unprot_alg, unprot_kid) = self.cose_header()?;
        let payload = self.bytes_item()?.to_vec();
        let signature = self.bytes_item()?.to_vec();
        (self.pos == self.bytes.len()).then_some(())?;
        let alg = match prot_alg.or(unprot_alg)? {
            ALG_ES256 => Algorithm::Es256,
            ALG_PS256 => Algorithm::Ps256,
            _ => return None,
        };
        let kid = match (prot_kid, unprot_kid) {
            (Some(kid), _) => Some((kid.to_vec(), KidSource::Protected)),
            (None, Some(kid)) => Some((kid.to_vec(), KidSource::Unprotected)),
            (None, None) => None,
        };
        Some(CoseParts {
            protected: protected.to_vec(),
            alg: Ok(alg),
            kid,
            payload,
            signature,
        })
    }

    /// A COSE header map with no labels but `alg` (an integer) and `kid` (a non-empty byte
    /// string), each at most once.
    fn cose_header(&mut self) -> Option<(Option<i128>, Option<&'a [u8]>)> {
        let (major, _, entries) = self.head()?;
        if major != MAJOR_MAP {
            return None;
        }
        let (mut alg, mut kid) = (None, None);
        for _ in 0..entries {
            match self.integer_key()? {
                MapKey::Integer(HEADER_ALG) if alg.is_none() => {
                    let (major, _, n) = self.head()?;
                    alg = Some(match major {
                        MAJOR_UNSIGNED => i128::from(n),
                        MAJOR_NEGATIVE => -1 - i128::from(n),
                        _ => return None,
                    });
                }
                MapKey::Integer(HEADER_KID) if kid.is_none() => {
                    let id = self.bytes_item()?;
                    if id.is_empty() {
                        return None;
                    }
                    kid = Some(id);
                }
                _ => return None,
            }
        }
        Some((alg, kid))
    }

    /// A definite-length byte string.
    fn bytes_item(&mut self) -> Option<&'a [u8]> {
        let (major, _, len) = self.head()?;
        if major != MAJOR_BYTES {
            return None;
        }
        self.take(len)
    }

    /// `-260 → {1: DCC}`, as [`hcert_payload`] reads it.
    fn hcert(&mut self) -> Option<Json> {
        let (major, _, entries) = self.head()?;
        if major != MAJOR_MAP {
            return None;
        }
        let mut found = None;
        for _ in 0..entries {
            if self.integer_key()? == MapKey::Integer(HCERT_EU_DCC) {
                if found.is_some() || self.peek_major()? != MAJOR_MAP {
                    return None;
                }
                found = Some(self.json(0)?);
            } else {
                self.skip(0)?;
            }
        }
        found
    }

    /// As [`numeric_date`].
    fn numeric_date(&mut self) -> Option<i64> {
        let (major, info, n) = self.head()?;
        match major {
            MAJOR_UNSIGNED => i64::try_from(n).ok(),
            MAJOR_NEGATIVE => i64::try_from(-1 - i128::from(n)).ok(),
            MAJOR_SIMPLE => {
                let f = float(info, n)?;
                (f.is_finite() && f.abs() < 1e15).then(|| f.floor() as i64)
            }
            _ => None,
        }
    }

    /// A map key; any item but an integer is read past.
    fn integer_key(&mut self) -> Option<MapKey> {
        let start = self.pos;
        let (major, _, n) = self.head()?;
        match major {
            MAJOR_UNSIGNED => Some(MapKey::Integer(i128::from(n))),
            MAJOR_NEGATIVE => Some(MapKey::Integer(-1 - i128::from(n))),
            _ => {
                self.pos = start;
                self.skip(0)?;
                Some(MapKey::Other)
            }
        }
    }

    /// One item as JSON, as [`to_json`] converts it.
    fn json(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (major, info, n) = self.head()?;
        Some(match major {
            MAJOR_UNSIGNED => Json::Number(n.into()),
            MAJOR_NEGATIVE => Json::Number(i64::try_from(-1 - i128::from(n)).ok()?.into()),
            MAJOR_TEXT => Json::String(self.text(n)?.to_owned()),
            MAJOR_ARRAY => {
                let mut items = Vec::with_capacity(self.bounded(n));
                for _ in 0..n {
                    items.push(self.json(depth + 1)?);
                }
                Json::Array(items)
            }
            MAJOR_MAP => {
                let mut map = Map::new();
                for _ in 0..n {
                    let (major, _, len) = self.head()?;
                    if major != MAJOR_TEXT {
                        return None;
                    }
                    let key = self.text(len)?;
                    if map.contains_key(key) {
                        return None;
                    }
                    let key = key.to_owned();
                    let value = self.json(depth + 1)?;
                    map.insert(key, value);
                }
                Json::Object(map)
            }
            MAJOR_SIMPLE => match info {
                SIMPLE_FALSE => Json::Bool(false),
                SIMPLE_TRUE => Json::Bool(true),
                SIMPLE_NULL => Json::Null,
                _ => Json::Number(Number::from_f64(float(info, n)?)?),
            },
            _ => return None,
        })
    }

    /// Reads past one well-formed item of the accepted subset (byte strings included).
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (major, info, n) = self.head()?;
        match major {
            MAJOR_UNSIGNED | MAJOR_NEGATIVE => {}
            MAJOR_BYTES => {
                self.take(n)?;
            }
            MAJOR_TEXT => {
                self.text(n)?;
            }
            MAJOR_ARRAY => {
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
            }
            MAJOR_MAP => {
                for _ in 0..n {
                    self.skip(depth + 1)?;
                    self.skip(depth + 1)?;
                }
            }
            MAJOR_SIMPLE
                if matches!(
                    info,
                    SIMPLE_FALSE | SIMPLE_TRUE | SIMPLE_NULL | FLOAT_32 | FLOAT_64
                ) => {}
            _ => return None,
        }
        Some(())
    }

    /// Major type, additional information and argument of the next item; definite lengths only.
    fn head(&mut self) -> Option<(u8, u8, u64)> {
        let first = *self.bytes.get(self.pos)?;
        self.pos += 1;
        let (major, info) = (first >> 5, first & 0x1F);
        let n = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
            _ => return None,
        };
        Some((major, info, n))
    }

    fn peek_major(&self) -> Option<u8> {
        self.bytes.get(self.pos).map(|b| b >> 5)
    }

    fn take(&mut self, len: u64) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(usize::try_from(len).ok()?)?;
        let bytes = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    fn text(&mut self, len: u64) -> Option<&'a str> {
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// A capacity for `n` items that the remaining input could hold (each takes a byte or more).
    fn bounded(&self, n: u64) -> usize {
        usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len() - self.pos)
    }
}

/// A single- or double-precision float of major type 7.
fn float(info: u8, bits: u64) -> Option<f64> {
    match info {
        FLOAT_32 => Some(f64::from(f32::from_bits(bits as u32))),
        FLOAT_64 => Some(f64::from_bits(bits)),
        _ => None,
    }
}

/// The certificate type: exactly one of `v`, `t`, `r` must be present.
pub(crate) fn dcc_type(payload: &Json) -> Result<DccType, String> {
    let Some(object) = payload.as_object() else {
        return Err("the DCC payload is not an object".to_owned());
    };
    let present: Vec<_> = DccType::ALL
        .iter()
        .filter(|(_, key)| object.contains_key(*key))
        .collect();
    match present.as_slice() {
        [(kind, _)] => Ok(*kind),
        [] => Err("the DCC holds none of v, t, r".to_owned()),
        _ => Err("the DCC holds more than one of v, t, r".to_owned()),
    }
}

/// The basic shape every DCC schema version agrees on; the full per-version schemas are
/// checked by `SchemaSet` where the files are at hand.
pub(crate) fn basic_shape(payload: &Json) -> Result<DccType, String> {
    let kind = dcc_type(payload)?;
    let Some(object) = payload.as_object() else {
        return Err("the DCC payload is not an object".to_owned());
    };
    // The context of a message (e.g. `v[0].`) is formatted only when there is an error.
    let text =
        |parent: &Map<String, Json>, key: &str, ctx: &dyn Fn() -> String| match parent.get(key) {
            Some(Json::String(_)) => Ok(()),
            Some(_) => Err(format!("{}{key} is not a string", ctx())),
            None => Err(format!("{}{key} is missing", ctx())),
        };
    text(object, "ver", &String::new)?;
    text(object, "dob", &String::new)?;
    let Some(Json::Object(nam)) = object.get("nam") else {
        return Err("nam is missing or not an object".to_owned());
    };
    text(nam, "fnt", &|| "nam.".to_owned())?;
    for key in ["fn", "gn", "gnt"] {
        if nam.get(key).is_some_and(|v| !v.is_string()) {
            return Err(format!("nam.{key} is not a string"));
        }
    }
    let key = DccType::ALL
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("v", |(_, key)| key);
    let entries = match object.get(key) {
        Some(Json::Array(entries)) if !entries.is_empty() => entries,
        _ => return Err(format!("{key} is not a non-empty array")),
    };
    for (i, entry) in entries.iter().enumerate() {
        let Json::Object(entry) = entry else {
            return Err(format!("{key}[{i}] is not an object"));
        };
        for field in ["tg", "co", "is", "ci"] {
            text(entry, field, &|| format!("{key}[{i}]."))?;
        }
    }
    Ok(kind)
}

/// Semantic equality of two payloads: numbers by value (CBOR may give 1.0 for JSON's 1).
pub(crate) fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;

    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflate_refuses_zip_bombs() {
        // 10 MiB of zeros compress to about 10 KiB.
        let bomb = zlib(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 20 * 1024);
        let err = inflate(&bomb, MAX_INFLATED_BYTES).unwrap_err();
        assert!(err.contains("more than 65536"), "{err}");
        // Exactly at the limit is fine.
        let edge = zlib(&vec![7u8; MAX_INFLATED_BYTES]);
        assert_eq!(
            inflate(&edge, MAX_INFLATED_BYTES).unwrap().len(),
            MAX_INFLATED_BYTES
        );
    }

    #[test]
    fn inflate_refuses_truncated_and_raw_data() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let z = zlib(&data);
        assert_eq!(inflate(&z, MAX_INFLATED_BYTES).unwrap(), data);
        for cut in [0, 1, 2, 3, z.len() / 2, z.len() - 4, z.len() - 1] {
            assert!(
                inflate(&z[..cut], MAX_INFLATED_BYTES).is_err(),
                "cut at {cut}"
            );
        }
        // Raw COSE (tag 18) is not a zlib stream.
        assert!(inflate(&[0xD2, 0x84, 0x43, 0xA1], MAX_INFLATED_BYTES).is_err());
    }

    #[test]
    fn sig_structure_heads_use_shortest_form() {
        for (n, head) in [
            (0u64, vec![0x40]),
            (23, vec![0x57]),
            (24, vec![0x58, 24]),
            (256, vec![0x59, 1, 0]),
            (65_536, vec![0x5A, 0, 1, 0, 0]),
        ] {
            let mut out = Vec::new();
            push_head(&mut out, 2, n);
            assert_eq!(out, head, "{n}");
        }
    }

    /// The COSE payloads (CWT claims) of the conformance cases that decode that far.
    fn case_payloads() -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dcc/cases");
        let mut out = Vec::new();
        for country in std::fs::read_dir(dir).unwrap() {
            for case in std::fs::read_dir(country.unwrap().path()).unwrap() {
                let path = case.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let Ok(case) = serde_json::from_str::<Json>(&text) else {
                    continue;
                };
                let Some(qr) = case["PREFIX"].as_str() else {
                    continue;
                };
                let payload = unprefix(qr)
                    .ok()
                    .and_then(|t| crate::hcert::base45::decode(t).ok())
                    .and_then(|z| inflate(&z, MAX_INFLATED_BYTES).ok())
                    .and_then(|raw| cose(&raw).ok())
                    .map(|c| c.payload);
                if let Some(payload) = payload {
                    out.push((path.display().to_string(), payload));
                }
            }
        }
        out
    }

    /// Whenever the fast reader answers, the general path gives the same claims.
    fn assert_agrees(bytes: &[u8], what: &str) -> bool {
        let Some(fast) = FastReader::new(bytes).claims() else {
            return false;
        };
        assert_eq!(
            claims_general(bytes).as_ref(),
            Ok(&fast),
            "{what}: the fast reader accepted what the general path reads otherwise"
        );
        true
    }

    #[test]
    fn fast_claims_reader_agrees_with_the_general_path() {
        let payloads = case_payloads();
        assert!(payloads.len() > 60, "{} cases decoded", payloads.len());
        let mut fast = 0;
        for (name, payload) in &payloads {
            if claims_general(payload).is_ok() && assert_agrees(payload, name) {
                fast += 1;
            }
        }
        // Most issuers' payloads take the fast path (the rest use tags, half floats, …).
        assert!(
            fast * 10 >= payloads.len() * 7,
            "{fast} of {}",
            payloads.len()
        );
        // Hostile variants: every byte flipped a few ways, every truncation, trailing data.
        for (name, payload) in payloads.iter().take(12) {
            for i in 0..payload.len() {
                for mask in [0x01, 0x20, 0x80, 0xFF] {
                    let mut bad = payload.clone();
                    bad[i] ^= mask;
                    assert_agrees(&bad, &format!("{name} byte {i} ^ {mask:#x}"));
                }
                assert_agrees(&payload[..i], &format!("{name} cut at {i}"));
            }
            let mut longer = payload.clone();
            longer.push(0);
            assert!(!assert_agrees(&longer, name));
        }
    }

    /// Whenever the fast reader answers, the general path gives the same `COSE_Sign1` parts.
    fn assert_cose_agrees(bytes: &[u8], what: &str) -> bool {
        let Some(fast) = FastReader::new(bytes).cose() else {
            return false;
        };
        let general = cose_general(bytes)
            .unwrap_or_else(|e| panic!("{what}: the fast reader accepted what fails: {e}"));
        let parts = |c: &CoseParts| {
            (
                c.protected.clone(),
                c.alg.clone(),
                c.kid.clone(),
                c.payload.clone(),
                c.signature.clone(),
            )
        };
        assert_eq!(parts(&fast), parts(&general), "{what}");
        true
    }

    /// The inflated `COSE_Sign1` of every conformance case that gets that far.
    fn case_coses() -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dcc/cases");
        let mut out = Vec::new();
        for country in std::fs::read_dir(dir).unwrap() {
            for case in std::fs::read_dir(country.unwrap().path()).unwrap() {
                let path = case.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let Ok(case) = serde_json::from_str::<Json>(&text) else {
                    continue;
                };
                let raw = case["PREFIX"]
                    .as_str()
                    .and_then(|qr| unprefix(qr).ok())
                    .and_then(|t| crate::hcert::base45::decode(t).ok())
                    .and_then(|z| inflate(&z, MAX_INFLATED_BYTES).ok());
                if let Some(raw) = raw {
                    out.push((path.display().to_string(), raw));
                }
            }
        }
        out
    }

    #[test]
    fn fast_cose_reader_agrees_with_coset() {
        let coses = case_coses();
        assert!(coses.len() > 60, "{} cases inflated", coses.len());
        let fast = coses
            .iter()
            .filter(|(name, raw)| assert_cose_agrees(raw, name))
            .count();
        assert!(fast * 10 >= coses.len() * 6, "{fast} of {}", coses.len());
        for (name, raw) in coses.iter().take(8) {
            // The headers and the heads of payload and signature are in the first ~40 bytes;
            // every byte there, and a sample of the rest.
            for i in (0..raw.len()).filter(|i| *i < 64 || i % 17 == 0) {
                for mask in [0x01, 0x04, 0x20, 0x80, 0xFF] {
                    let mut bad = raw.clone();
                    bad[i] ^= mask;
                    assert_cose_agrees(&bad, &format!("{name} byte {i} ^ {mask:#x}"));
                }
                assert_cose_agrees(&raw[..i], &format!("{name} cut at {i}"));
            }
            let mut longer = raw.clone();
            longer.push(0);
            assert!(!assert_cose_agrees(&longer, name));
        }
    }

    #[test]
    fn fast_cose_reader_gives_up_on_other_headers() {
        // 18([h'A20126044801020304050607 08' {…}, h'A0', h'00'×64]) with unprotected headers:
        // none, kid, a content type (label 3), a duplicate kid; then an empty protected kid.
        let sig = format!("5840{}", "00".repeat(64));
        let prot = "4da201260448010203040506070 8".replace(' ', "");
        for (unprot, fast) in [
            ("a0", true),
            ("a1044101", true),
            ("a10300", false),
            ("a20441010441 02".replace(' ', "").as_str(), false),
        ] {
            let hex = format!("d284{prot}{unprot}41a0{sig}");
            let bytes = hex::decode(&hex).unwrap();
            assert_eq!(assert_cose_agrees(&bytes, &hex), fast, "{hex}");
        }
        let empty_kid = format!("d28445a2012604 40a041a0{sig}").replace(' ', "");
        let bytes = hex::decode(&empty_kid).unwrap();
        assert!(FastReader::new(&bytes).cose().is_none());
        assert!(cose(&bytes).is_err(), "coset refuses an empty kid");
    }

    #[test]
    fn fast_claims_reader_gives_up_on_what_it_does_not_take() {
        // {1: "VN", 4: 1, 6: 1, -260: {1: {"a": X}}} with X a byte string, a tag, undefined,
        // a half float, an indefinite-length array; then duplicate keys and an iss number.
        for x in ["4100", "c06161", "f7", "f93c00", "9fff"] {
            let hex = format!("a4016256 4e0401 0601 390103a101a16161{x}").replace(' ', "");
            let bytes = hex::decode(&hex).unwrap();
            assert!(FastReader::new(&bytes).claims().is_none(), "{hex}");
        }
        for hex in ["a2010101 01".replace(' ', ""), "a10101".to_owned()] {
            let bytes = hex::decode(&hex).unwrap();
            assert!(FastReader::new(&bytes).claims().is_none(), "{hex}");
            assert!(claims(&bytes).is_err(), "{hex}");
        }
        let ok =
            hex::decode("a4016256 4e04fb41d0000000000000 0601 390103a101a16161f5".replace(' ', ""))
                .unwrap();
        let (claims, dcc) = FastReader::new(&ok).claims().unwrap();
        assert_eq!(
            (claims.iss.as_deref(), claims.exp, claims.iat),
            (Some("VN"), Some(1_073_741_824), Some(1))
        );
        assert_eq!(dcc, serde_json::json!({"a": true}));
    }

    #[test]
    fn wrong_cbor_types_are_errors() {
        // Claims that are an array; iss that is a number; exp that is text; -260 without 1.
        for hex_claims in [
            "80",
            "a10101",
            "a104614a",
            "a1390103a0",
            "a1390103a101a161764101",
        ] {
            let bytes = hex::decode(hex_claims).unwrap();
            assert!(claims(&bytes).is_err(), "{hex_claims}");
        }
        assert!(cose(&hex::decode("d28440a0").unwrap()).is_err());
        assert!(cose(&[]).is_err());
    }
}
