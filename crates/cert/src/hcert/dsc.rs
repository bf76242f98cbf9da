//! Document Signer Certificates (DSCs): the key, validity and DCC key usages of a foreign
//! issuer's certificate, and COSE signature checks with that key.
//!
//! DSCs come from other countries' PKIs, so this reads them leniently (only what HCERT needs)
//! instead of with the strict profile of this hierarchy's own certificates.

use ring::signature::{ECDSA_P256_SHA256_FIXED, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION, OID_PKCS1_RSASSAPSS,
    OID_X509_EXT_EXTENDED_KEY_USAGE,
};
use x509_parser::prelude::FromDer;

use super::decode::{Algorithm, CoseParts, DccType};

/// Bytes of a kid: the first 8 bytes of the DSC's SHA-256.
pub const KID_LEN: usize = 8;

/// The kid of a DSC: the first 8 bytes of SHA-256 over its DER.
pub fn kid_of(der: &[u8]) -> [u8; KID_LEN] {
    let digest = Sha256::digest(der);
    let mut kid = [0; KID_LEN];
    kid.copy_from_slice(&digest[..KID_LEN]);
    kid
}

/// The DCC extended key usage OIDs under both arcs issuers use,
/// `1.3.6.1.4.1.1847.2021.1.x` and `1.3.6.1.4.1.0.1847.2021.1.x`, without the final arc
/// (1 test, 2 vaccination, 3 recovery).
const DCC_EKU_ARCS: [&[u8]; 2] = [
    &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x8E, 0x37, 0x8F, 0x65, 0x01],
    &[
        0x2B, 0x06, 0x01, 0x04, 0x01, 0x00, 0x8E, 0x37, 0x8F, 0x65, 0x01,
    ],
];

#[derive(Debug, Clone)]
enum Key {
    /// Uncompressed P-256 point.
    P256(Vec<u8>),
    /// DER `RSAPublicKey`.
    Rsa(Vec<u8>),
    Unsupported(String),
}

/// What HCERT verification needs of a DSC.
#[derive(Debug, Clone)]
pub(crate) struct Dsc {
    key: Key,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    /// DCC types the extended key usage allows; `None` = no DCC OID, so any type.
    pub(crate) usages: Option<Vec<DccType>>,
}

impl Dsc {
    pub(crate) fn parse(der: &[u8]) -> Result<Self, String> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| format!("unreadable DSC: {e}"))?;
        let spki = cert.public_key();
        let algorithm = &spki.algorithm;
        let key_bytes = spki.subject_public_key.data.to_vec();
        let key = if algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
            let curve = algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
            if curve.as_ref() == Some(&OID_EC_P256) {
                Key::P256(key_bytes)
            } else {
                Key::Unsupported("an EC key on a curve other than P-256".to_owned())
            }
        } else if algorithm.algorithm == OID_PKCS1_RSAENCRYPTION
            || algorithm.algorithm == OID_PKCS1_RSASSAPSS
        {
            Key::Rsa(key_bytes)
        } else {
            Key::Unsupported(format!("a key of type {}", algorithm.algorithm))
        };
        let mut usages = None;
        for ext in cert.extensions() {
            if ext.oid == OID_X509_EXT_EXTENDED_KEY_USAGE {
                if usages.is_some() {
                    return Err("the DSC has two extended key usage extensions".to_owned());
                }
                usages = Some(dcc_usages(ext.value)?);
            }
        }
        let validity = cert.validity();
        Ok(Self {
            key,
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
            usages: usages.filter(|u: &Vec<DccType>| !u.is_empty()),
        })
    }

    /// Checks the COSE signature with this DSC's key.
    pub(crate) fn verify(&self, cose: &CoseParts) -> Result<(), String> {
        let alg = cose.alg.clone()?;
        let message = cose.to_be_signed();
        let (key, algorithm): (&[u8], &'static dyn ring::signature::VerificationAlgorithm) =
            match (&self.key, alg) {
                (Key::P256(key), Algorithm::Es256) => (key, &ECDSA_P256_SHA256_FIXED),
                (Key::Rsa(key), Algorithm::Ps256) => (key, &RSA_PSS_2048_8192_SHA256),
                (Key::Unsupported(what), _) => {
                    return Err(format!("the DSC has {what}, which HCERT does not use"));
                }
                (Key::P256(_), alg) => return Err(format!("{alg} signature but an EC DSC key")),
                (Key::Rsa(_), alg) => return Err(format!("{alg} signature but an RSA DSC key")),
            };
        if alg == Algorithm::Es256 && cose.signature.len() != 64 {
            return Err(format!(
                "an ES256 signature has 64 bytes, this one {}",
                cose.signature.len()
            ));
        }
        UnparsedPublicKey::new(algorithm, key)
            .verify(&message, &cose.signature)
            .map_err(|_| format!("the {alg} signature does not match the DSC key"))
    }

    /// The uncompressed P-256 point, when the DSC has an EC P-256 key.
    pub(crate) fn p256_key(&self) -> Option<&[u8]> {
        match &self.key {
            Key::P256(key) => Some(key),
            _ => None,
        }
    }

    /// Whether the extended key usage allows `kind`.
    pub(crate) fn allows(&self, kind: DccType) -> Result<(), String> {
        match &self.usages {
            None => Ok(()),
            Some(allowed) if allowed.contains(&kind) => Ok(()),
            Some(allowed) => {
                let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
                Err(format!(
                    "the DSC may sign {} certificates only, not {kind}",
                    names.join("/")
                ))
            }
        }
    }

    pub(crate) fn valid_at(&self, at: OffsetDateTime) -> Result<(), String> {
        if at < self.not_before {
            Err(format!("the DSC is not valid before {}", self.not_before))
        } else if at > self.not_after {
            Err(format!("the DSC expired at {}", self.not_after))
        } else {
            Ok(())
        }
    }
}

/// The DCC types in an `ExtendedKeyUsage` value (`SEQUENCE OF OBJECT IDENTIFIER`); other OIDs
/// are ignored. Read by hand: the parser refuses the empty sequence some issuers emit.
fn dcc_usages(der: &[u8]) -> Result<Vec<DccType>, String> {
    let bad = || "unreadable extended key usage extension".to_owned();
    let (tag, mut body, rest) = der_item(der).ok_or_else(bad)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad());
    }
    let mut found = Vec::new();
    while !body.is_empty() {
        let (tag, oid, rest) = der_item(body).ok_or_else(bad)?;
        if tag != 0x06 {
            return Err(bad());
        }
        body = rest;
        for arc in DCC_EKU_ARCS {
            let kind = match oid.strip_prefix(arc) {
                Some([1]) => DccType::Test,
                Some([2]) => DccType::Vaccination,
                Some([3]) => DccType::Recovery,
                _ => continue,
            };
            if !found.contains(&kind) {
                found.push(kind);
            }
        }
    }
    Ok(found)
}

/// Splits one DER item off `der`: (tag, contents, rest). Definite lengths up to 4 bytes.
fn der_item(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn eku_reading() {
        // SEQUENCE { 1.3.6.1.4.1.0.1847.2021.1.1, 1.3.6.1.4.1.1847.2021.1.3, serverAuth }
        let eku = hex::decode(
            "3025060c2b0601040100 8e378f650101 060b2b06010401 8e378f650103 06082b06010505070301"
                .replace(' ', ""),
        )
        .unwrap();
        assert_eq!(
            dcc_usages(&eku).unwrap(),
            [DccType::Test, DccType::Recovery]
        );
        assert_eq!(dcc_usages(&[0x30, 0x00]).unwrap(), []);
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x06],
            &[0x31, 0x00],
            &[0x30, 0x02, 0x04, 0x00],
        ] {
            assert!(dcc_usages(bad).is_err(), "{bad:?}");
        }
    }
}
