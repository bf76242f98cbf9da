//! The hierarchy end to end: root → province CA → commune signer, and every way a chain fails.
#![allow(clippy::unwrap_used)] // tests fail loudly

use time::OffsetDateTime;
use time::macros::datetime;
use vaxtrace_cert::{
    CertError, CertProfile, IssuedKey, KdfParams, MAX_CHAIN_LEN, SecretPassphrase, SigningKey,
    certificate_summary, create_root, fingerprint, issue, verify_chain,
};
use x509_parser::prelude::{FromDer, X509Certificate};

const ROOT_PASS: &str = "gốc quốc gia rất bí mật";
const PROVINCE_PASS: &str = "mật khẩu tỉnh Hà Nội";
const COMMUNE_PASS: &str = "phường Trúc Bạch 2021";
const MESSAGE: &[u8] = b"{\"personal_id\":\"001090000001\",\"dose\":1}";

/// A slice of the GSO catalogue: communes do not embed their province code.
fn province_of(commune: &str) -> Option<String> {
    match commune {
        "00004" | "00001" => Some("01".to_owned()),
        "26734" => Some("79".to_owned()),
        _ => None,
    }
}

fn pass(text: &str) -> SecretPassphrase {
    SecretPassphrase::new(text)
        .unwrap()
        .with_kdf(KdfParams::insecure_fast())
}

const NOW: OffsetDateTime = datetime!(2021-09-01 08:00 UTC);

struct Pki {
    root: IssuedKey,
    province: IssuedKey,
    commune: IssuedKey,
}

impl Pki {
    fn chain(&self) -> Vec<Vec<u8>> {
        vec![
            self.commune.certificate_der.clone(),
            self.province.certificate_der.clone(),
        ]
    }

    fn roots(&self) -> Vec<Vec<u8>> {
        vec![self.root.certificate_der.clone()]
    }

    fn signature(&self) -> Vec<u8> {
        SigningKey::unlock(&self.commune, &pass(COMMUNE_PASS))
            .unwrap()
            .sign(MESSAGE)
            .unwrap()
    }
}

fn new_root(cn: &str) -> IssuedKey {
    create_root(
        cn,
        datetime!(2021-01-01 0:00 UTC),
        datetime!(2041-01-01 0:00 UTC),
        &pass(ROOT_PASS),
    )
    .unwrap()
}

fn new_province(root: &IssuedKey, code: &str) -> IssuedKey {
    issue(
        root,
        &pass(ROOT_PASS),
        CertProfile::ProvinceCa,
        code,
        "Sở Y tế Hà Nội",
        datetime!(2021-02-01 0:00 UTC),
        datetime!(2031-02-01 0:00 UTC),
        &pass(PROVINCE_PASS),
        &province_of,
    )
    .unwrap()
}

fn new_commune(province: &IssuedKey, code: &str) -> Result<IssuedKey, CertError> {
    issue(
        province,
        &pass(PROVINCE_PASS),
        CertProfile::CommuneSigner,
        code,
        "Trạm Y tế phường Trúc Bạch",
        datetime!(2021-03-01 0:00 UTC),
        datetime!(2022-03-01 0:00 UTC),
        &pass(COMMUNE_PASS),
        &province_of,
    )
}

fn pki() -> Pki {
    let root = new_root("Bộ Y tế — Gốc quốc gia");
    let province = new_province(&root, "01");
    let commune = new_commune(&province, "00004").unwrap();
    Pki {
        root,
        province,
        commune,
    }
}

#[test]
fn full_chain_signs_and_verifies() {
    let pki = pki();
    let signature = pki.signature();
    assert_eq!(signature.len(), 64, "raw r||s, as COSE ES256 needs");

    let signer = verify_chain(MESSAGE, &signature, &pki.chain(), &pki.roots(), NOW).unwrap();
    assert_eq!(signer.unit_code, "00004");
    assert_eq!(signer.profile, CertProfile::CommuneSigner);
    assert_eq!(signer.fingerprint, pki.commune.fingerprint);
    assert!(
        signer.subject.contains("CN=Trạm Y tế phường Trúc Bạch"),
        "{}",
        signer.subject
    );
    assert!(
        signer.subject.contains("OU=commune_signer"),
        "{}",
        signer.subject
    );

    // The chain may also carry the root itself.
    let mut with_root = pki.chain();
    with_root.push(pki.root.certificate_der.clone());
    assert_eq!(
        verify_chain(MESSAGE, &signature, &with_root, &pki.roots(), NOW).unwrap(),
        signer
    );

    // Validity bounds are inclusive.
    let edge = pki.commune.not_after;
    assert!(verify_chain(MESSAGE, &signature, &pki.chain(), &pki.roots(), edge).is_ok());
}

#[test]
fn issued_keys_describe_their_certificates() {
    let pki = pki();
    for (key, profile, unit) in [
        (&pki.root, CertProfile::NationalRoot, "VN"),
        (&pki.province, CertProfile::ProvinceCa, "01"),
        (&pki.commune, CertProfile::CommuneSigner, "00004"),
    ] {
        assert_eq!(key.profile, profile);
        assert_eq!(key.unit_code, unit);
        assert_eq!(key.fingerprint, fingerprint(&key.certificate_der));
        assert_eq!(key.fingerprint.len(), 64);
        let summary = certificate_summary(&key.certificate_der).unwrap();
        assert_eq!(summary.profile, profile);
        assert_eq!(summary.unit_code, unit);
        assert_eq!(summary.not_before, key.not_before);
        assert_eq!(summary.not_after, key.not_after);
        assert_eq!(summary.fingerprint, key.fingerprint);
        assert_eq!(summary.serial.len(), 32, "16-byte random serial");
    }
    let summary = certificate_summary(&pki.commune.certificate_der).unwrap();
    assert_eq!(summary.common_name, "Trạm Y tế phường Trúc Bạch");
    assert_eq!(summary.unit_path, ["VN", "01", "00004"]);
    assert!(
        summary.issuer.contains("CN=Sở Y tế Hà Nội"),
        "{}",
        summary.issuer
    );
    assert_eq!(
        certificate_summary(&pki.root.certificate_der)
            .unwrap()
            .common_name,
        "Bộ Y tế — Gốc quốc gia"
    );
    assert_eq!(pki.commune.not_before, datetime!(2021-03-01 0:00 UTC));
}

fn parse_x509(der: &[u8]) -> X509Certificate<'_> {
    X509Certificate::from_der(der).unwrap().1
}

#[test]
fn certificates_carry_the_profile_extensions() {
    let pki = pki();

    let root = parse_x509(&pki.root.certificate_der);
    let bc = root.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    assert_eq!(bc.value.path_len_constraint, Some(1));
    let ku = root.key_usage().unwrap().unwrap().value;
    assert!(ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
    assert_eq!(
        root.subject().as_raw(),
        root.issuer().as_raw(),
        "self-signed"
    );

    let province = parse_x509(&pki.province.certificate_der);
    let bc = province.basic_constraints().unwrap().unwrap().value;
    assert!(bc.ca);
    assert_eq!(bc.path_len_constraint, Some(0));
    let ku = province.key_usage().unwrap().unwrap().value;
    assert!(ku.key_cert_sign() && ku.crl_sign());

    let commune = parse_x509(&pki.commune.certificate_der);
    assert!(!commune.basic_constraints().unwrap().unwrap().value.ca);
    let ku = commune.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.non_repudiation() && !ku.key_cert_sign());
    // UTF8String common name, so diacritics survive any reader.
    let cn = commune.subject().iter_common_name().next().unwrap();
    assert_eq!(
        cn.attr_value().tag(),
        x509_parser::der_parser::asn1_rs::Tag::Utf8String
    );
}

#[test]
fn tampered_message_is_refused() {
    let pki = pki();
    let signature = pki.signature();
    let mut message = MESSAGE.to_vec();
    message[20] ^= 1;
    let err = verify_chain(&message, &signature, &pki.chain(), &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::BadSignature), "{err:?}");
}

#[test]
fn tampered_signature_is_refused() {
    let pki = pki();
    let mut signature = pki.signature();
    signature[10] ^= 0x80;
    let err = verify_chain(MESSAGE, &signature, &pki.chain(), &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::BadSignature), "{err:?}");
    let err = verify_chain(MESSAGE, &signature[..63], &pki.chain(), &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::BadSignature), "{err:?}");
    let err = verify_chain(MESSAGE, &[], &pki.chain(), &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::BadSignature), "{err:?}");
}

#[test]
fn chain_without_the_province_ca_is_incomplete() {
    let pki = pki();
    let signature = pki.signature();
    let leaf_only = vec![pki.commune.certificate_der.clone()];
    let err = verify_chain(MESSAGE, &signature, &leaf_only, &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::IncompleteChain), "{err:?}");

    let leaf_and_root = vec![
        pki.commune.certificate_der.clone(),
        pki.root.certificate_der.clone(),
    ];
    let err = verify_chain(MESSAGE, &signature, &leaf_and_root, &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::IncompleteChain), "{err:?}");
}

#[test]
fn untrusted_root_is_refused() {
    let pki = pki();
    let signature = pki.signature();
    // Same name, different key: only the signature tells them apart.
    let impostor = new_root("Bộ Y tế — Gốc quốc gia");
    let err = verify_chain(
        MESSAGE,
        &signature,
        &pki.chain(),
        std::slice::from_ref(&impostor.certificate_der),
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, CertError::UntrustedRoot), "{err:?}");

    // A chain that brings its own root must bring a trusted one.
    let mut with_root = pki.chain();
    with_root.push(pki.root.certificate_der.clone());
    let err = verify_chain(
        MESSAGE,
        &signature,
        &with_root,
        &[impostor.certificate_der],
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, CertError::UntrustedRoot), "{err:?}");

    let err = verify_chain(MESSAGE, &signature, &pki.chain(), &[], NOW).unwrap_err();
    assert!(matches!(err, CertError::UntrustedRoot), "{err:?}");
}

#[test]
fn signer_outside_its_validity_is_refused() {
    let pki = pki();
    let signature = pki.signature();
    for at in [
        datetime!(2022-03-01 0:00:01 UTC),
        datetime!(2021-02-28 23:59 UTC),
    ] {
        let err = verify_chain(MESSAGE, &signature, &pki.chain(), &pki.roots(), at).unwrap_err();
        assert!(
            matches!(err, CertError::NotValidAt { index: 0 }),
            "{at}: {err:?}"
        );
    }
}

#[test]
fn commune_of_another_province_cannot_be_issued() {
    let pki = pki();
    // 26734 (Tân Định) is in Hồ Chí Minh City (79), not Hà Nội (01).
    let err = new_commune(&pki.province, "26734").unwrap_err();
    assert!(
        matches!(&err, CertError::UnitOutsideIssuer { unit, issuer_unit } if unit == "26734" && issuer_unit == "01"),
        "{err:?}"
    );
    // A commune the catalogue does not know is refused the same way.
    let err = new_commune(&pki.province, "99999").unwrap_err();
    assert!(
        matches!(err, CertError::UnitOutsideIssuer { .. }),
        "{err:?}"
    );

    let hcm = new_province(&pki.root, "79");
    assert_eq!(new_commune(&hcm, "26734").unwrap().unit_code, "26734");
}

#[test]
fn ca_used_as_leaf_is_refused() {
    let pki = pki();
    let ca_key = SigningKey::unlock(&pki.province, &pass(PROVINCE_PASS)).unwrap();
    let signature = ca_key.sign(MESSAGE).unwrap();
    let chain = vec![pki.province.certificate_der.clone()];
    let err = verify_chain(MESSAGE, &signature, &chain, &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::NotASigner), "{err:?}");

    let root_key = SigningKey::unlock(&pki.root, &pass(ROOT_PASS)).unwrap();
    let signature = root_key.sign(MESSAGE).unwrap();
    let chain = vec![pki.root.certificate_der.clone()];
    let err = verify_chain(MESSAGE, &signature, &chain, &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::NotASigner), "{err:?}");
}

#[test]
fn wrong_passphrase_is_refused() {
    let pki = pki();
    let err = SigningKey::unlock(&pki.commune, &pass("not the right one")).unwrap_err();
    assert!(matches!(err, CertError::WrongPassphrase), "{err:?}");

    let err = issue(
        &pki.province,
        &pass(ROOT_PASS),
        CertProfile::CommuneSigner,
        "00001",
        "Trạm Y tế phường Phúc Xá",
        datetime!(2021-03-01 0:00 UTC),
        datetime!(2022-03-01 0:00 UTC),
        &pass(COMMUNE_PASS),
        &province_of,
    )
    .unwrap_err();
    assert!(matches!(err, CertError::WrongPassphrase), "{err:?}");
}

#[test]
fn garbage_der_is_refused_without_panicking() {
    let pki = pki();
    let signature = pki.signature();
    let leaf = &pki.commune.certificate_der;
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        b"not a certificate".to_vec(),
        vec![0x30, 0x82, 0xff, 0xff, 0x00],
        leaf[..leaf.len() / 2].to_vec(),
        [leaf.as_slice(), &[0u8]].concat(),
    ];
    for der in &garbage {
        let chain = vec![der.clone(), pki.province.certificate_der.clone()];
        let err = verify_chain(MESSAGE, &signature, &chain, &pki.roots(), NOW).unwrap_err();
        assert!(
            matches!(err, CertError::MalformedCertificate { index: 0, .. }),
            "{err:?}"
        );
        let err = certificate_summary(der).unwrap_err();
        assert!(
            matches!(err, CertError::MalformedCertificate { index: 0, .. }),
            "{err:?}"
        );
        let err = verify_chain(
            MESSAGE,
            &signature,
            &pki.chain(),
            std::slice::from_ref(der),
            NOW,
        )
        .unwrap_err();
        assert!(
            matches!(err, CertError::MalformedTrustedRoot { index: 0, .. }),
            "{err:?}"
        );
    }
    // Every single-byte corruption of the leaf is refused, one way or another.
    for i in 0..leaf.len() {
        let mut bad = leaf.clone();
        bad[i] ^= 0x01;
        let chain = vec![bad, pki.province.certificate_der.clone()];
        assert!(
            verify_chain(MESSAGE, &signature, &chain, &pki.roots(), NOW).is_err(),
            "byte {i}"
        );
    }
}

#[test]
fn chain_length_is_bounded() {
    let pki = pki();
    let signature = pki.signature();
    let err = verify_chain(MESSAGE, &signature, &[], &pki.roots(), NOW).unwrap_err();
    assert!(
        matches!(err, CertError::ChainLength { len: 0, .. }),
        "{err:?}"
    );
    let long = vec![pki.commune.certificate_der.clone(); MAX_CHAIN_LEN + 1];
    let err = verify_chain(MESSAGE, &signature, &long, &pki.roots(), NOW).unwrap_err();
    assert!(
        matches!(err, CertError::ChainLength { len: 5, max: 4 }),
        "{err:?}"
    );
}

#[test]
fn certificate_from_another_ca_of_the_same_name_breaks_the_chain() {
    let pki = pki();
    let signature = pki.signature();
    let twin = new_province(&pki.root, "01"); // same subject, other key
    let chain = vec![pki.commune.certificate_der.clone(), twin.certificate_der];
    let err = verify_chain(MESSAGE, &signature, &chain, &pki.roots(), NOW).unwrap_err();
    assert!(
        matches!(err, CertError::BrokenChain { index: 0 }),
        "{err:?}"
    );

    let wrong_order = vec![
        pki.province.certificate_der.clone(),
        pki.commune.certificate_der.clone(),
    ];
    let err = verify_chain(MESSAGE, &signature, &wrong_order, &pki.roots(), NOW).unwrap_err();
    assert!(matches!(err, CertError::NotASigner), "{err:?}");

    let doubled = vec![
        pki.commune.certificate_der.clone(),
        pki.commune.certificate_der.clone(),
        pki.province.certificate_der.clone(),
    ];
    let err = verify_chain(MESSAGE, &signature, &doubled, &pki.roots(), NOW).unwrap_err();
    assert!(
        matches!(
            err,
            CertError::ProfileMismatch {
                issuer: CertProfile::CommuneSigner,
                subject: CertProfile::CommuneSigner
            }
        ),
        "{err:?}"
    );
}

#[test]
fn profile_rules_are_enforced_when_issuing() {
    use CertProfile::{CommuneSigner, NationalRoot, ProvinceCa};
    let pki = pki();
    let attempt = |issuer: &IssuedKey, issuer_pass: &str, profile, unit: &str| {
        issue(
            issuer,
            &pass(issuer_pass),
            profile,
            unit,
            "x",
            datetime!(2021-03-01 0:00 UTC),
            datetime!(2022-03-01 0:00 UTC),
            &pass(COMMUNE_PASS),
            &province_of,
        )
    };
    let cases = [
        (&pki.root, ROOT_PASS, CommuneSigner, "00004", NationalRoot),
        (&pki.root, ROOT_PASS, NationalRoot, "VN", NationalRoot),
        (&pki.province, PROVINCE_PASS, ProvinceCa, "02", ProvinceCa),
        (
            &pki.commune,
            COMMUNE_PASS,
            CommuneSigner,
            "00001",
            CommuneSigner,
        ),
    ];
    for (issuer, issuer_pass, profile, unit, issuer_profile) in cases {
        let err = attempt(issuer, issuer_pass, profile, unit).unwrap_err();
        assert!(
            matches!(err, CertError::ProfileMismatch { issuer, subject } if issuer == issuer_profile && subject == profile),
            "{err:?}"
        );
    }
    let err = attempt(&pki.root, ROOT_PASS, ProvinceCa, "1").unwrap_err();
    assert!(matches!(err, CertError::InvalidUnitCode { .. }), "{err:?}");
    let err = attempt(&pki.province, PROVINCE_PASS, CommuneSigner, "4").unwrap_err();
    assert!(matches!(err, CertError::InvalidUnitCode { .. }), "{err:?}");
}

#[test]
fn names_and_validity_are_checked_when_issuing() {
    let pki = pki();
    let attempt = |cn: &str, not_before, not_after| {
        issue(
            &pki.province,
            &pass(PROVINCE_PASS),
            CertProfile::CommuneSigner,
            "00001",
            cn,
            not_before,
            not_after,
            &pass(COMMUNE_PASS),
            &province_of,
        )
    };
    let (nb, na) = (
        datetime!(2021-03-01 0:00 UTC),
        datetime!(2022-03-01 0:00 UTC),
    );
    assert!(matches!(
        attempt("  ", nb, na),
        Err(CertError::InvalidName(_))
    ));
    assert!(matches!(
        attempt(&"ạ".repeat(65), nb, na),
        Err(CertError::InvalidName(_))
    ));
    assert!(matches!(
        attempt("a\nb", nb, na),
        Err(CertError::InvalidName(_))
    ));
    assert!(matches!(
        attempt("Phúc Xá", na, nb),
        Err(CertError::InvalidValidity(_))
    ));
    // Outside the province CA's 2021-02-01..2031-02-01.
    let late = datetime!(2032-01-01 0:00 UTC);
    assert!(matches!(
        attempt("Phúc Xá", nb, late),
        Err(CertError::InvalidValidity(_))
    ));
    // Sub-second parts and offsets are normalised to what X.509 stores.
    let key = attempt(
        "Phúc Xá",
        datetime!(2021-03-01 07:00:00.75 +07:00),
        datetime!(2022-03-01 0:00 UTC),
    )
    .unwrap();
    assert_eq!(key.not_before, datetime!(2021-03-01 0:00 UTC));
}

#[test]
fn stored_key_must_match_its_certificate() {
    let pki = pki();
    let other = new_commune(&pki.province, "00001").unwrap();
    let mut swapped = pki.commune.clone();
    swapped.encrypted_private_key = other.encrypted_private_key;
    let err = SigningKey::unlock(&swapped, &pass(COMMUNE_PASS)).unwrap_err();
    assert!(matches!(err, CertError::KeyMismatch), "{err:?}");

    let mut relabelled = pki.commune.clone();
    relabelled.unit_code = "00001".to_owned();
    let err = SigningKey::unlock(&relabelled, &pass(COMMUNE_PASS)).unwrap_err();
    assert!(
        matches!(err, CertError::MalformedCertificate { index: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn issued_key_serialises_without_clear_key_and_debug_hides_secrets() {
    let pki = pki();
    let json = serde_json::to_string(&pki.commune).unwrap();
    assert!(json.contains("\"profile\":\"commune_signer\""), "{json}");
    assert!(
        json.contains("\"not_before\":\"2021-03-01T00:00:00Z\""),
        "{json}"
    );
    let back: IssuedKey = serde_json::from_str(&json).unwrap();
    assert_eq!(back, pki.commune);
    assert_eq!(&back.encrypted_private_key[..4], b"VXK1");

    let debug = format!("{:?}", pki.commune);
    assert!(
        !debug.contains(&hex::encode(&pki.commune.encrypted_private_key[..8])),
        "{debug}"
    );
    let key = SigningKey::unlock(&pki.commune, &pass(COMMUNE_PASS)).unwrap();
    let debug = format!("{key:?}");
    assert!(debug.contains("***") && debug.contains("00004"), "{debug}");
    assert_eq!(
        key.certificate_der(),
        pki.commune.certificate_der.as_slice()
    );
}

#[test]
fn production_kdf_cost_round_trips() {
    let strong = SecretPassphrase::new(ROOT_PASS).unwrap();
    assert_eq!(strong.kdf(), KdfParams::production());
    let root = create_root(
        "Gốc thử nghiệm",
        datetime!(2021-01-01 0:00 UTC),
        datetime!(2022-01-01 0:00 UTC),
        &strong,
    )
    .unwrap();
    // The cost travels with the key: a passphrase set up with another cost still opens it.
    assert!(SigningKey::unlock(&root, &pass(ROOT_PASS)).is_ok());
}

/// The order of the P-256 group.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n @ 0..0x80 => out.push(n as u8),
        n @ 0x80..0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

fn der_uint(be: &[u8]) -> Vec<u8> {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len() - 1);
    let mut v = be[start..].to_vec();
    if v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    der(0x02, &v)
}

#[test]
fn certificate_with_re_encoded_signature_is_refused() {
    use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

    let pki = pki();
    let leaf = X509Certificate::from_der(&pki.commune.certificate_der)
        .unwrap()
        .1;
    let sig = &leaf.signature_value.data;
    let r_len = usize::from(sig[3]);
    let r = &sig[4..4 + r_len];
    let s = &sig[4 + r_len + 2..];
    let mut s32 = [0u8; 32];
    let s = &s[s.len().saturating_sub(32)..];
    s32[32 - s.len()..].copy_from_slice(s);
    // n - s, byte by byte with borrow.
    let mut minus_s = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(P256_ORDER[i]) - i16::from(s32[i]) - borrow;
        borrow = i16::from(d < 0);
        minus_s[i] = (d + 256 * borrow) as u8;
    }
    let twin_sig = der(0x30, &[der_uint(r), der_uint(&minus_s)].concat());

    // The twin signature is valid ECDSA: only the low-S rule tells the encodings apart.
    let province = X509Certificate::from_der(&pki.province.certificate_der)
        .unwrap()
        .1;
    UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_ASN1,
        &province.public_key().subject_public_key.data,
    )
    .verify(leaf.tbs_certificate.as_ref(), &twin_sig)
    .unwrap();

    let algid = [
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
    ];
    let bits = der(0x03, &[&[0u8][..], &twin_sig].concat());
    let twin = der(
        0x30,
        &[leaf.tbs_certificate.as_ref(), &algid, &bits].concat(),
    );
    assert_ne!(fingerprint(&twin), pki.commune.fingerprint);

    let chain = vec![twin, pki.province.certificate_der.clone()];
    let err = verify_chain(MESSAGE, &pki.signature(), &chain, &pki.roots(), NOW).unwrap_err();
    assert!(
        matches!(err, CertError::MalformedCertificate { index: 0, .. }),
        "{err:?}"
    );
}
