//! Deterministic identifiers: the same citizen or record always gets the same `urn:uuid:`, so a
//! receiver that imports a bundle twice sees the same resources, and nothing depends on a random
//! source.

use std::fmt::Write;

use sha2::{Digest, Sha256};

/// `urn:uuid:` of an RFC 9562 version 8 (custom) UUID from SHA-256 of `kind` and `key`.
///
/// Not a secret: the key (a personal ID, a record's source key) is in the bundle anyway.
pub fn urn_uuid(kind: &str, key: &str) -> String {
    format!("urn:uuid:{}", uuid(kind, key))
}

/// The bare UUID (for `Resource.id`, which may not contain `:`).
pub(crate) fn uuid(kind: &str, key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"vaxtrace-fhir\x1f")
        .chain_update(kind.as_bytes())
        .chain_update(b"\x1f")
        .chain_update(key.as_bytes())
        .finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
    let hex = b.iter().fold(String::with_capacity(32), |mut out, x| {
        let _ = write!(out, "{x:02x}");
        out
    });
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so any source name fits in a
/// FHIR `uri` (which may not contain spaces).
pub(crate) fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The inverse of [`encode_segment`]; text that is not valid percent-encoded UTF-8 is kept as is.
pub(crate) fn decode_segment(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_distinct_and_well_formed() {
        let a = uuid("Patient", "091087123456");
        assert_eq!(a, uuid("Patient", "091087123456"));
        assert_ne!(a, uuid("Patient", "091087123457"));
        assert_ne!(a, uuid("Immunization", "091087123456"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert!(urn_uuid("Patient", "x").starts_with("urn:uuid:"));
    }

    #[test]
    fn segments_round_trip() {
        for s in ["site-app", "Trạm y tế 30730", "a/b%c", "100%"] {
            let enc = encode_segment(s);
            assert!(!enc.contains(' ') && !enc.contains('/'), "{enc}");
            assert_eq!(decode_segment(&enc), s);
        }
        assert_eq!(decode_segment("bad%zz"), "bad%zz");
    }
}
