//! Round-trip properties of the certificate codecs over generated inputs: Base45 against the
//! `base45` crate, and any Vietnamese name, birth date and dose issued as an HCERT decodes to the
//! payload that was signed.

#![allow(clippy::unwrap_used)]

use std::sync::LazyLock;

use proptest::prelude::*;
use time::macros::datetime;
use time::{Date, Month};
use vaxtrace_cert::hcert::{
    TrustList, VaccinationDcc, base45, icao_transliterate, issue_hcert, new_uvci, split_name,
    verify_hc1,
};
use vaxtrace_cert::{
    CertProfile, IssuedKey, KdfParams, SecretPassphrase, SigningKey, create_csca, issue,
};

fn pass() -> SecretPassphrase {
    SecretPassphrase::new("dcc property passphrase")
        .unwrap()
        .with_kdf(KdfParams::insecure_fast())
}

/// One document signer for every case: key generation is the slow part.
static DSC: LazyLock<IssuedKey> = LazyLock::new(|| {
    let (nb, na) = (
        datetime!(2021-01-01 0:00 UTC),
        datetime!(2031-01-01 0:00 UTC),
    );
    let csca = create_csca("CSCA thử nghiệm", nb, na, &pass()).unwrap();
    issue(
        &csca,
        &pass(),
        CertProfile::DocumentSigner,
        "VN",
        "DSC thử nghiệm",
        nb,
        na,
        &pass(),
        &|_| None,
    )
    .unwrap()
});

/// Words of Vietnamese letters (precomposed, with every tone), as on an ID card.
fn vietnamese_name() -> impl Strategy<Value = String> {
    let word =
        "[A-ZĐÂĂÊÔƠƯ][a-zđàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]{0,7}";
    prop::collection::vec(word, 1..5).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn base45_round_trips_and_agrees_with_the_base45_crate(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let ours = base45::encode(&bytes);
        prop_assert_eq!(&ours, &::base45::encode(&bytes));
        prop_assert_eq!(base45::decode(&ours).unwrap(), bytes);
    }

    /// Whatever we accept, the crate decodes the same way. We also refuse what it lets through: a
    /// final pair above 255 or a triple above 65535 (RFC 9285 §4), e.g. `A*` (10 + 39·45 = 1765).
    #[test]
    fn base45_decoding_never_panics_and_is_no_laxer_than_the_base45_crate(text in "[0-9A-Z $%*+./:-]{0,90}|\\PC{0,40}") {
        if let Ok(ours) = base45::decode(&text) {
            prop_assert_eq!(Some(ours), ::base45::decode(&text).ok());
        }
    }

    #[test]
    fn out_of_range_groups_are_refused(first in 0u32..45, second in 0u32..45) {
        const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let pair = format!("{}{}", ALPHABET[first as usize] as char, ALPHABET[second as usize] as char);
        prop_assert_eq!(base45::decode(&pair).is_ok(), first + 45 * second <= 255);
    }

    #[test]
    fn icao_transliteration_is_uppercase_ascii_and_stable(name in vietnamese_name()) {
        let icao = icao_transliterate(&name);
        prop_assert!(icao.bytes().all(|b| b.is_ascii_uppercase() || b == b'<'), "{}", icao);
        prop_assert!(!icao.starts_with('<') && !icao.contains("<<"), "{}", icao);
        // Transliterating the result again changes nothing but the fillers read as spaces.
        prop_assert_eq!(icao_transliterate(&icao.replace('<', " ")), icao);
    }
}

proptest! {
    // Each case signs with ECDSA and verifies every step.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_issued_certificate_verifies_to_the_signed_payload(
        name in vietnamese_name(),
        (year, month, day) in (1920i32..2021, 1u8..=12, 1u8..=28),
        dose in 1u8..=3,
        days in 0i64..400,
    ) {
        let split = split_name(&name).unwrap();
        prop_assert!(!split.family_icao.is_empty());
        let vaccinated_on = Date::from_calendar_date(2021, Month::March, 1).unwrap()
            + time::Duration::days(days);
        let dcc = VaccinationDcc {
            full_name: name,
            date_of_birth: format!("{year:04}-{month:02}-{day:02}"),
            prophylaxis: "1119349007".to_owned(),
            product: "EU/1/20/1528".to_owned(),
            manufacturer: "ORG-100030215".to_owned(),
            dose_number: dose,
            series_doses: 2.max(dose),
            vaccinated_on,
            uvci: new_uvci().unwrap(),
        };
        let payload = dcc.payload().unwrap();
        let key = SigningKey::unlock(&DSC, &pass()).unwrap();
        let iat = datetime!(2022-06-01 0:00 UTC).unix_timestamp();
        let qr = issue_hcert(&payload, &key, iat, iat + 365 * 86_400).unwrap();
        let mut trust = TrustList::new();
        trust.add(DSC.certificate_der.clone());
        let verdict = verify_hc1(&qr, &trust, datetime!(2022-07-01 0:00 UTC));
        prop_assert!(verdict.is_valid(), "{:?}", verdict.steps);
        prop_assert_eq!(verdict.payload.as_ref(), Some(&payload));
    }
}
