//! Creating the root and issuing certificates below it.

use std::fmt;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, PKCS_ECDSA_P256_SHA256, PublicKeyData,
    SerialNumber, SignatureAlgorithm,
};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::parse::{
    self, COUNTRY, MAX_COMMON_NAME_CHARS, ORGANIZATION, PATH_SEPARATOR, ParsedCert,
};
use crate::{CertError, CertProfile, SecretPassphrase, fingerprint, keyfile};

/// A certificate and its encrypted private key: what the store keeps for each unit's key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedKey {
    pub profile: CertProfile,
    /// "VN" for the root, the 2-digit province code, or the 5-digit commune code.
    pub unit_code: String,
    #[serde(with = "hex_bytes")]
    pub certificate_der: Vec<u8>,
    /// `VXK1` blob (see the `keyfile` module); never the clear key.
    #[serde(with = "hex_bytes")]
    pub encrypted_private_key: Vec<u8>,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Hex SHA-256 of `certificate_der`.
    pub fingerprint: String,
}

impl fmt::Debug for IssuedKey {
    // The encrypted key is left out: in a log it would invite offline passphrase guessing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedKey")
            .field("profile", &self.profile)
            .field("unit_code", &self.unit_code)
            .field("fingerprint", &self.fingerprint)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl IssuedKey {
    /// Parses the certificate and checks it says what the stored fields say.
    pub(crate) fn parsed_certificate(&self) -> Result<ParsedCert<'_>, CertError> {
        let cert = parse::parse(&self.certificate_der).map_err(|f| f.at(0))?;
        if cert.profile != self.profile || cert.unit_code() != self.unit_code {
            return Err(CertError::MalformedCertificate {
                index: 0,
                reason: "certificate does not match the stored profile and unit code".to_owned(),
            });
        }
        Ok(cert)
    }
}

/// Creates the self-signed national root CA (unit "VN", pathlen 1).
pub fn create_root(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    passphrase: &SecretPassphrase,
) -> Result<IssuedKey, CertError> {
    create_self_signed(
        CertProfile::NationalRoot,
        common_name,
        not_before,
        not_after,
        passphrase,
    )
}

/// Creates the self-signed EU DCC Country Signing CA (unit "VN", pathlen 0): the anchor other
/// countries import, issuing document signers only.
pub fn create_csca(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    passphrase: &SecretPassphrase,
) -> Result<IssuedKey, CertError> {
    create_self_signed(
        CertProfile::Csca,
        common_name,
        not_before,
        not_after,
        passphrase,
    )
}

fn create_self_signed(
    profile: CertProfile,
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    passphrase: &SecretPassphrase,
) -> Result<IssuedKey, CertError> {
    let (not_before, not_after) = validity(not_before, not_after)?;
    let common_name = checked_common_name(common_name)?;
    let rng = SystemRandom::new();
    let (key, pkcs8) = CertKey::generate(&rng)?;
    let params = certificate_params(profile, COUNTRY, &common_name, not_before, not_after, &rng)?;
    let der = params.self_signed(&key)?.der().to_vec();
    finish(profile, COUNTRY, der, &pkcs8, passphrase, &rng)
}

/// Issues a certificate of `profile` for `unit_code` under `issuer`.
///
/// The root issues province CAs; a province CA issues commune signers. GSO commune codes do not
/// embed their province code, so `province_of` (backed by the caller's administrative-unit
/// catalogue) must name the province of a commune, and it must be the issuer's province. It is
/// consulted only for commune signers. The validity must lie within the issuer's.
#[allow(
    clippy::too_many_arguments,
    reason = "the signature is the API the callers agreed on"
)]
pub fn issue(
    issuer: &IssuedKey,
    issuer_passphrase: &SecretPassphrase,
    profile: CertProfile,
    unit_code: &str,
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    passphrase: &SecretPassphrase,
    province_of: &dyn Fn(&str) -> Option<String>,
) -> Result<IssuedKey, CertError> {
    if !issuer.profile.may_issue(profile) {
        return Err(CertError::ProfileMismatch {
            issuer: issuer.profile,
            subject: profile,
        });
    }
    if !profile.unit_code_is_valid(unit_code) {
        return Err(CertError::InvalidUnitCode {
            profile,
            code: unit_code.to_owned(),
        });
    }
    if profile == CertProfile::CommuneSigner
        && province_of(unit_code).as_deref() != Some(issuer.unit_code.as_str())
    {
        return Err(CertError::UnitOutsideIssuer {
            unit: unit_code.to_owned(),
            issuer_unit: issuer.unit_code.clone(),
        });
    }
    let common_name = checked_common_name(common_name)?;
    let (not_before, not_after) = validity(not_before, not_after)?;
    let issuer_cert = issuer.parsed_certificate()?;
    if not_before < issuer_cert.not_before() || not_after > issuer_cert.not_after() {
        return Err(CertError::InvalidValidity(
            "must lie within the issuer's validity",
        ));
    }
    let path = format!(
        "{}{PATH_SEPARATOR}{unit_code}",
        issuer_cert.unit_path.join(PATH_SEPARATOR)
    );

    let rng = SystemRandom::new();
    let issuer_key = CertKey::unlock(issuer, &issuer_cert, issuer_passphrase)?;
    let (key, pkcs8) = CertKey::generate(&rng)?;
    let params = certificate_params(profile, &path, &common_name, not_before, not_after, &rng)?;
    let der = sign_certificate(&params, &key, issuer, issuer_key)?;
    // The issuer name is copied from the issuer's DER by rcgen; check the result links up.
    let new_cert = parse::parse(&der).map_err(|f| f.at(0))?;
    if !new_cert.is_issued_by(&issuer_cert) {
        return Err(CertError::Generate(
            "issued certificate does not chain to its issuer".into(),
        ));
    }
    finish(profile, unit_code, der, &pkcs8, passphrase, &rng)
}

fn sign_certificate(
    params: &CertificateParams,
    subject_key: &CertKey,
    issuer: &IssuedKey,
    issuer_key: CertKey,
) -> Result<Vec<u8>, CertError> {
    let issuer = Issuer::from_ca_cert_der(&issuer.certificate_der.as_slice().into(), issuer_key)?;
    Ok(params.signed_by(subject_key, &issuer)?.der().to_vec())
}

fn finish(
    profile: CertProfile,
    unit_code: &str,
    certificate_der: Vec<u8>,
    pkcs8: &[u8],
    passphrase: &SecretPassphrase,
    rng: &SystemRandom,
) -> Result<IssuedKey, CertError> {
    let cert = parse::parse(&certificate_der).map_err(|f| f.at(0))?;
    let (not_before, not_after) = (cert.not_before(), cert.not_after());
    Ok(IssuedKey {
        profile,
        unit_code: unit_code.to_owned(),
        fingerprint: fingerprint(&certificate_der),
        encrypted_private_key: keyfile::seal(pkcs8, passphrase, rng)?,
        certificate_der,
        not_before,
        not_after,
    })
}

/// Whole seconds in UTC (what X.509 stores), in order, within X.509's years.
fn validity(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), CertError> {
    let whole = |t: OffsetDateTime| {
        t.checked_to_offset(time::UtcOffset::UTC)?
            .replace_nanosecond(0)
            .ok()
    };
    let (Some(nb), Some(na)) = (whole(not_before), whole(not_after)) else {
        return Err(CertError::InvalidValidity("unrepresentable time"));
    };
    if nb >= na {
        return Err(CertError::InvalidValidity(
            "not_before must be before not_after",
        ));
    }
    if nb.year() < 1950 || na.year() > 9999 {
        return Err(CertError::InvalidValidity("years must lie in 1950..=9999"));
    }
    Ok((nb, na))
}

fn checked_common_name(raw: &str) -> Result<String, CertError> {
    let name: String = raw.trim().nfc().collect();
    if name.is_empty() {
        return Err(CertError::InvalidName("empty"));
    }
    if name.chars().count() > MAX_COMMON_NAME_CHARS {
        return Err(CertError::InvalidName("longer than 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(CertError::InvalidName("control characters"));
    }
    Ok(name)
}

/// Everything in the certificate except the keys and issuer; `unit_path` per [`crate::parse`].
pub(crate) fn certificate_params(
    profile: CertProfile,
    unit_path: &str,
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    rng: &SystemRandom,
) -> Result<CertificateParams, CertError> {
    let printable =
        |s: &str| -> Result<DnValue, CertError> { Ok(DnValue::PrintableString(s.try_into()?)) };
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, printable(COUNTRY)?);
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::OrganizationalUnitName, profile.as_str());
    dn.push(
        DnType::CustomDnType(vec![2, 5, 4, 5]),
        printable(unit_path)?,
    );
    // UTF8String, so Vietnamese diacritics survive.
    dn.push(
        DnType::CommonName,
        DnValue::Utf8String(common_name.to_owned()),
    );

    // 16 random bytes, positive and of fixed length: unpredictable serials (CA/B practice).
    let mut serial = [0u8; 16];
    rng.fill(&mut serial)?;
    serial[0] = (serial[0] & 0x7f) | 0x40;

    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.is_ca = if profile.is_ca() {
        IsCa::Ca(profile.path_len().map_or(
            BasicConstraints::Unconstrained,
            BasicConstraints::Constrained,
        ))
    } else {
        IsCa::ExplicitNoCa
    };
    params.key_usages = profile.key_usages();
    params.extended_key_usages = profile
        .extended_key_usages()
        .into_iter()
        .map(ExtendedKeyUsagePurpose::Other)
        .collect();
    params.use_authority_key_identifier_extension = profile.issuer().is_some();
    params.key_identifier_method = KeyIdMethod::Sha256;
    Ok(params)
}

/// A P-256 key that signs certificates (DER signatures, as X.509 wants).
pub(crate) struct CertKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl CertKey {
    /// A fresh key and its PKCS#8 document (to be sealed, then wiped).
    fn generate(rng: &SystemRandom) -> Result<(Self, Zeroizing<Vec<u8>>), CertError> {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, rng)?;
        let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, rng)
            .map_err(|_| CertError::Crypto)?;
        Ok((
            Self {
                pair,
                rng: rng.clone(),
            },
            pkcs8,
        ))
    }

    fn unlock(
        key: &IssuedKey,
        cert: &ParsedCert<'_>,
        passphrase: &SecretPassphrase,
    ) -> Result<Self, CertError> {
        let rng = SystemRandom::new();
        let pair = unlock_pair(key, cert, passphrase, &ECDSA_P256_SHA256_ASN1_SIGNING, &rng)?;
        Ok(Self { pair, rng })
    }
}

/// Decrypts a stored key and checks it belongs to the certificate.
pub(crate) fn unlock_pair(
    key: &IssuedKey,
    cert: &ParsedCert<'_>,
    passphrase: &SecretPassphrase,
    alg: &'static ring::signature::EcdsaSigningAlgorithm,
    rng: &SystemRandom,
) -> Result<EcdsaKeyPair, CertError> {
    let pkcs8 = keyfile::open(&key.encrypted_private_key, passphrase)?;
    let pair = EcdsaKeyPair::from_pkcs8(alg, &pkcs8, rng)
        .map_err(|_| CertError::CorruptKey("not a P-256 PKCS#8 key"))?;
    if pair.public_key().as_ref() != cert.public_key() {
        return Err(CertError::KeyMismatch);
    }
    Ok(pair)
}

impl PublicKeyData for CertKey {
    fn der_bytes(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for CertKey {
    /// Signs certificates with low-S signatures only (see `parse::is_low_s`). ECDSA nonces are
    /// random, so each try is low-S with probability 1/2.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        for _ in 0..128 {
            let sig = self
                .pair
                .sign(&self.rng, msg)
                .map_err(|_| rcgen::Error::RingUnspecified)?;
            if parse::is_low_s(sig.as_ref()) {
                return Ok(sig.as_ref().to_vec());
            }
        }
        Err(rcgen::Error::RingUnspecified)
    }
}

impl fmt::Debug for CertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CertKey(***)")
    }
}

/// Byte strings as lowercase hex in serialised forms (JSON exports stay readable and compact).
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        hex::decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::{KdfParams, SigningKey, verify_chain};

    #[test]
    fn verifier_refuses_a_unit_path_outside_its_issuer() {
        // A commune signer of province 79 signed by province 01's CA, bypassing issue()'s check:
        // what a buggy or compromised issuing tool could produce.
        let pass = SecretPassphrase::new("forged path passphrase")
            .unwrap()
            .with_kdf(KdfParams::insecure_fast());
        let (nb, na) = (
            datetime!(2021-01-01 0:00 UTC),
            datetime!(2030-01-01 0:00 UTC),
        );
        let root = create_root("Gốc", nb, na, &pass).unwrap();
        let province = issue(
            &root,
            &pass,
            CertProfile::ProvinceCa,
            "01",
            "Hà Nội",
            nb,
            na,
            &pass,
            &|_| None,
        )
        .unwrap();

        let rng = SystemRandom::new();
        let (key, pkcs8) = CertKey::generate(&rng).unwrap();
        let params = certificate_params(
            CertProfile::CommuneSigner,
            "VN/79/26734",
            "Tân Định",
            nb,
            na,
            &rng,
        )
        .unwrap();
        let issuer_cert = province.parsed_certificate().unwrap();
        let issuer_key = CertKey::unlock(&province, &issuer_cert, &pass).unwrap();
        let der = sign_certificate(&params, &key, &province, issuer_key).unwrap();
        let forged = finish(
            CertProfile::CommuneSigner,
            "26734",
            der,
            &pkcs8,
            &pass,
            &rng,
        )
        .unwrap();

        let signature = SigningKey::unlock(&forged, &pass)
            .unwrap()
            .sign(b"record")
            .unwrap();
        let chain = [forged.certificate_der, province.certificate_der.clone()];
        let err =
            verify_chain(b"record", &signature, &chain, &[root.certificate_der], nb).unwrap_err();
        assert!(
            matches!(&err, CertError::UnitOutsideIssuer { unit, issuer_unit } if unit == "26734" && issuer_unit == "01"),
            "{err:?}"
        );
    }
}
