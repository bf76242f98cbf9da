//! The decoding stages of an HCERT: prefix, zlib, `COSE_Sign1`, CWT claims, DCC payload.
//!
//! Every function takes untrusted bytes and returns a reason string on failure; nothing here
//! panics on any input, and every size is bounded before it is allocated.

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
fn push_head(out: &mut Vec<u8>, major: u8, n: u64) {
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
    use flate2::{Decompress, FlushDecompress, Status};

    // Checked up front because some issuers emit raw COSE, which must not pass for a stream:
    // CM = 8 (deflate) and the header checksum.
    match compressed {
        [cmf, flg, ..] if cmf & 0x0F == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 => {
        }
        _ => return Err("the data is not a zlib stream (no zlib header)".to_owned()),
    }
    let mut inflater = Decompress::new(true);
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
    let text = |parent: &Map<String, Json>, key: &str, ctx: &str| -> Result<(), String> {
        match parent.get(key) {
            Some(Json::String(_)) => Ok(()),
            Some(_) => Err(format!("{ctx}{key} is not a string")),
            None => Err(format!("{ctx}{key} is missing")),
        }
    };
    text(object, "ver", "")?;
    text(object, "dob", "")?;
    let Some(Json::Object(nam)) = object.get("nam") else {
        return Err("nam is missing or not an object".to_owned());
    };
    text(nam, "fnt", "nam.")?;
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
            text(entry, field, &format!("{key}[{i}]."))?;
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
