//! Reading this hierarchy's certificates: profile, unit path, constraints and key.
//!
//! Subject layout (each attribute once, one attribute per RDN):
//! `C=VN, O=vaxtrace, OU=<profile token>, serialNumber=<unit path>, CN=<common name>`.
//! The unit path lists the units from the root down, `/`-separated: `VN`, `VN/01`,
//! `VN/01/00004`. It makes a certificate name its own unit *and* the units above it, so a
//! verifier can check that a province CA only vouched for units under its own province.

use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ECDSA_WITH_SHA256, OID_X509_SERIALNUMBER,
};
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AlgorithmIdentifier, X509Name};

use crate::{CertError, CertProfile};

pub(crate) const COUNTRY: &str = "VN";
pub(crate) const ORGANIZATION: &str = "vaxtrace";
pub(crate) const PATH_SEPARATOR: &str = "/";
/// X.520 upper bound for a common name.
pub(crate) const MAX_COMMON_NAME_CHARS: usize = 64;

/// Why a certificate was refused while parsing; the caller knows its position.
#[derive(Debug)]
pub(crate) enum Fault {
    Malformed(String),
    Algorithm,
}

impl Fault {
    pub(crate) fn at(self, index: usize) -> CertError {
        match self {
            Self::Malformed(reason) => CertError::MalformedCertificate { index, reason },
            Self::Algorithm => CertError::UnsupportedAlgorithm { index },
        }
    }

    pub(crate) fn at_trusted_root(self, index: usize) -> CertError {
        let reason = match self {
            Self::Malformed(reason) => reason,
            Self::Algorithm => "unsupported algorithm".to_owned(),
        };
        CertError::MalformedTrustedRoot { index, reason }
    }
}

fn malformed(reason: impl Into<String>) -> Fault {
    Fault::Malformed(reason.into())
}

/// A certificate of this hierarchy, with what the rules need already extracted.
#[derive(Debug)]
pub(crate) struct ParsedCert<'a> {
    pub(crate) der: &'a [u8],
    pub(crate) x509: X509Certificate<'a>,
    pub(crate) profile: CertProfile,
    /// Root first; the last element is this certificate's unit code.
    pub(crate) unit_path: Vec<&'a str>,
    pub(crate) common_name: &'a str,
    pub(crate) ca: bool,
    pub(crate) path_len: Option<u32>,
    pub(crate) key_cert_sign: bool,
    pub(crate) digital_signature: bool,
}

pub(crate) fn parse(der: &[u8]) -> Result<ParsedCert<'_>, Fault> {
    let (rest, x509) = X509Certificate::from_der(der).map_err(|e| malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed("trailing data after the certificate"));
    }
    if x509.version().0 != 2 {
        return Err(malformed("not an X.509 v3 certificate"));
    }
    check_algorithms(&x509)?;
    // The parser tolerates some encodings outside the signed part; accept only the one
    // encoding, so that one certificate has one fingerprint.
    if !is_canonical(der, &x509) {
        return Err(malformed("non-canonical encoding outside the signed part"));
    }

    for ext in x509.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::ParseError { .. } => return Err(malformed("unreadable extension")),
            ParsedExtension::BasicConstraints(_)
            | ParsedExtension::KeyUsage(_)
            | ParsedExtension::ExtendedKeyUsage(_) => {}
            // RFC 5280 4.2: a critical extension we do not understand must make us refuse.
            _ if ext.critical => return Err(malformed("unsupported critical extension")),
            _ => {}
        }
    }
    let basic = x509
        .basic_constraints()
        .map_err(|_| malformed("duplicate basicConstraints"))?
        .map(|b| (b.value.ca, b.value.path_len_constraint));
    let usage = x509
        .key_usage()
        .map_err(|_| malformed("duplicate keyUsage"))?
        .map(|k| (k.value.key_cert_sign(), k.value.digital_signature()));

    // The field, not `subject()`: its strings then borrow `der`, not `x509`.
    let subject = &x509.tbs_certificate.subject;
    if subject.iter().any(|rdn| rdn.iter().count() != 1) {
        return Err(malformed("subject RDNs must hold exactly one attribute"));
    }
    let profile = single(subject.iter_organizational_unit(), "OU")?
        .parse::<CertProfile>()
        .map_err(|_| malformed("not a vaxtrace certificate (unknown profile)"))?;
    let unit_path = unit_path(
        profile,
        single(subject.iter_by_oid(&OID_X509_SERIALNUMBER), "serialNumber")?,
    )
    .ok_or_else(|| malformed("unit path does not fit the profile"))?;
    let common_name = single(subject.iter_common_name(), "CN")?;

    let (ca, path_len) = basic.unwrap_or((false, None));
    let (key_cert_sign, digital_signature) = usage.unwrap_or((false, false));
    Ok(ParsedCert {
        der,
        x509,
        profile,
        unit_path,
        common_name,
        ca,
        path_len,
        key_cert_sign,
        digital_signature,
    })
}

/// Only ECDSA P-256 / SHA-256 anywhere: one algorithm means no downgrade to reason about.
fn check_algorithms(x509: &X509Certificate<'_>) -> Result<(), Fault> {
    let ecdsa_sha256 = |a: &AlgorithmIdentifier<'_>| {
        a.algorithm == OID_SIG_ECDSA_WITH_SHA256 && a.parameters.is_none()
    };
    let spki = x509.public_key();
    let p256 = spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY
        && spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .is_some_and(|oid| oid == OID_EC_P256);
    if ecdsa_sha256(&x509.signature_algorithm)
        && ecdsa_sha256(&x509.tbs_certificate.signature)
        && p256
    {
        Ok(())
    } else {
        Err(Fault::Algorithm)
    }
}

/// DER of `AlgorithmIdentifier { ecdsa-with-SHA256 }` (no parameters, RFC 5758).
const ECDSA_SHA256_ALGID: [u8; 12] = [
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];

/// Half the order of the P-256 group, n / 2 rounded down.
const P256_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// Whether `der` is exactly SEQUENCE { tbs, canonical algorithm, BIT STRING (0 unused bits) }
/// with a low-S signature. ECDSA (r, s) and (r, n - s) both verify; issuers here only make
/// s <= n / 2, so nobody can turn a certificate into a second valid one with another fingerprint.
fn is_canonical(der: &[u8], x509: &X509Certificate<'_>) -> bool {
    let sig = &x509.signature_value;
    if sig.unused_bits != 0 || !is_low_s(&sig.data) {
        return false;
    }
    let mut body = x509.tbs_certificate.as_ref().to_vec();
    body.extend_from_slice(&ECDSA_SHA256_ALGID);
    push_header(&mut body, 0x03, sig.data.len() + 1);
    body.push(0);
    body.extend_from_slice(&sig.data);
    let mut expected = Vec::with_capacity(body.len() + 4);
    push_header(&mut expected, 0x30, body.len());
    expected.extend_from_slice(&body);
    expected == der
}

fn push_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let first = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - first) as u8);
        out.extend_from_slice(&bytes[first..]);
    }
}

/// Whether a DER ECDSA-Sig-Value has s <= n / 2. Lengths are short-form: a P-256 signature is
/// at most 72 bytes; ring checks the integers' strict encoding when verifying.
pub(crate) fn is_low_s(sig: &[u8]) -> bool {
    fn tlv(tag: u8, input: &[u8]) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = input.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let len = usize::from(len);
        (t == tag && len < 0x80 && rest.len() >= len).then(|| rest.split_at(len))
    }
    let Some((body, [])) = tlv(0x30, sig) else {
        return false;
    };
    let Some((_r, rest)) = tlv(0x02, body) else {
        return false;
    };
    let Some((s, [])) = tlv(0x02, rest) else {
        return false;
    };
    let first = s.iter().position(|&b| b != 0).unwrap_or(s.len());
    let s = &s[first..];
    s.len() < 32 || (s.len() == 32 && s <= &P256_HALF_ORDER[..])
}

fn single<'a, 'b>(
    mut attrs: impl Iterator<Item = &'b x509_parser::x509::AttributeTypeAndValue<'a>>,
    what: &str,
) -> Result<&'a str, Fault>
where
    'a: 'b,
{
    let (Some(attr), None) = (attrs.next(), attrs.next()) else {
        return Err(malformed(format!("subject must hold exactly one {what}")));
    };
    attr.as_str()
        .map_err(|_| malformed(format!("subject {what} is not a string")))
}

/// Splits and checks a unit path against the profiles from the root down to `profile`.
fn unit_path(profile: CertProfile, text: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = text.split(PATH_SEPARATOR).collect();
    let levels: Vec<CertProfile> = std::iter::successors(Some(profile), |p| p.issuer()).collect();
    let fits = parts.len() == levels.len()
        && parts
            .iter()
            .zip(levels.iter().rev())
            .all(|(code, p)| p.unit_code_is_valid(code));
    fits.then_some(parts)
}

impl ParsedCert<'_> {
    pub(crate) fn unit_code(&self) -> &str {
        self.unit_path.last().copied().unwrap_or_default()
    }

    /// The uncompressed P-256 point.
    pub(crate) fn public_key(&self) -> &[u8] {
        &self.x509.public_key().subject_public_key.data
    }

    pub(crate) fn subject(&self) -> &X509Name<'_> {
        self.x509.subject()
    }

    pub(crate) fn not_before(&self) -> OffsetDateTime {
        self.x509.validity().not_before.to_datetime()
    }

    pub(crate) fn not_after(&self) -> OffsetDateTime {
        self.x509.validity().not_after.to_datetime()
    }

    pub(crate) fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    pub(crate) fn can_sign_certificates(&self) -> bool {
        self.ca && self.key_cert_sign
    }

    pub(crate) fn can_sign_records(&self) -> bool {
        self.profile.signs_records() && !self.ca && self.digital_signature
    }

    /// Whether `issuer` names and signs this certificate.
    pub(crate) fn is_issued_by(&self, issuer: &ParsedCert<'_>) -> bool {
        self.x509.issuer().as_raw() == issuer.subject().as_raw()
            && UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, issuer.public_key())
                .verify(
                    self.x509.tbs_certificate.as_ref(),
                    &self.x509.signature_value.data,
                )
                .is_ok()
    }

    pub(crate) fn serial_hex(&self) -> String {
        hex::encode(self.x509.raw_serial())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig_with_s(s: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, 1, 0x01, 0x02, s.len() as u8];
        body.extend_from_slice(s);
        let mut sig = vec![0x30, body.len() as u8];
        sig.extend_from_slice(&body);
        sig
    }

    #[test]
    fn low_s_is_s_at_most_half_the_order() {
        let half = P256_HALF_ORDER;
        assert!(is_low_s(&sig_with_s(&half)));
        assert!(is_low_s(&sig_with_s(&[0x01])));
        let mut above = half;
        above[31] += 1;
        assert!(!is_low_s(&sig_with_s(&above)));
        // DER adds a zero byte before a high bit.
        let mut high = vec![0x00, 0x80];
        high.extend_from_slice(&[0; 31]);
        assert!(!is_low_s(&sig_with_s(&high)));
        assert!(!is_low_s(&[]));
        assert!(!is_low_s(&[0x30, 0x00]));
        let mut trailing = sig_with_s(&[0x01]);
        trailing.push(0);
        assert!(!is_low_s(&trailing));
    }

    #[test]
    fn foreign_certificates_are_refused() {
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let cert = rcgen::CertificateParams::default()
            .self_signed(&ed)
            .unwrap();
        assert!(matches!(parse(cert.der()).unwrap_err(), Fault::Algorithm));
        assert!(matches!(
            Fault::Algorithm.at(1),
            CertError::UnsupportedAlgorithm { index: 1 }
        ));

        // Right algorithm, but not this hierarchy's subject layout.
        let p256 = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::default()
            .self_signed(&p256)
            .unwrap();
        assert!(matches!(
            parse(cert.der()).unwrap_err(),
            Fault::Malformed(_)
        ));
    }

    #[test]
    fn der_lengths() {
        let header = |len| {
            let mut out = Vec::new();
            push_header(&mut out, 0x30, len);
            out
        };
        assert_eq!(header(0x7f), [0x30, 0x7f]);
        assert_eq!(header(0x80), [0x30, 0x81, 0x80]);
        assert_eq!(header(0x0245), [0x30, 0x82, 0x02, 0x45]);
    }
}
