//! Replays the fuzz corpora (`fuzz/corpus`, grown by `cargo fuzz`) through the same entry points
//! as the fuzz targets, so every input a fuzzer ever kept, and every crash it found, stays a
//! regression test on stable Rust.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use time::OffsetDateTime;
use vaxtrace_cert::hcert::{
    Outcome, PREFIX, RevocationList, Step, TrustList, base45, read_trust_list, verify_hc1,
};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

fn at() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + time::Duration::days(19_000)
}

#[test]
fn qr_texts_never_panic_and_never_verify_without_trust() {
    let inputs = corpus("hcert_text");
    assert!(
        inputs.len() >= 80,
        "the seeds from the conformance cases are there"
    );
    let mut decoded = 0;
    for data in inputs {
        let v = verify_hc1(&String::from_utf8_lossy(&data), &TrustList::new(), at());
        assert!(!v.is_valid());
        assert_eq!(v.steps.len(), Step::ALL.len());
        decoded += usize::from(v.outcome(Step::Cose) == Some(&Outcome::Passed));
    }
    // The minimised corpus keeps one input per coverage path; a few dozen reach COSE.
    assert!(decoded >= 10, "inputs reach the COSE stage ({decoded})");
}

#[test]
fn inflated_payloads_never_panic() {
    let inputs = corpus("hcert_cose");
    assert!(!inputs.is_empty());
    let mut cwt = 0;
    for data in inputs {
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::fast());
        zlib.write_all(&data).unwrap();
        let text = format!("{PREFIX}{}", base45::encode(&zlib.finish().unwrap()));
        let v = verify_hc1(&text, &TrustList::new(), at());
        assert!(!v.is_valid());
        cwt += usize::from(v.outcome(Step::Cwt) == Some(&Outcome::Passed));
    }
    assert!(cwt >= 20, "the wrapping reaches the CWT claims ({cwt})");
}

#[test]
fn lists_never_panic_and_forged_ones_are_refused() {
    let anchor = [vec![0x30, 0x03, 0x02, 0x01, 0x01]];
    for data in corpus("signed_list") {
        let text = String::from_utf8_lossy(&data);
        let _ = read_trust_list(&text, &[]);
        // No corpus list is signed by this made-up anchor.
        assert!(read_trust_list(&text, &anchor).is_err());
        assert!(RevocationList::from_signed(&text, &anchor).is_err());
    }
}

mod pass_code {
    include!("../../../fuzz/checks/pass_code.rs");

    use time::macros::datetime;
    use vaxtrace_cert::pass::{PassClaims, public_key_of, sign_pass, sign_venue_code};
    use vaxtrace_cert::{CertProfile, KdfParams, SecretPassphrase, SigningKey, create_root, issue};

    #[test]
    fn pass_and_venue_codes_never_verify_unless_genuine() {
        for data in super::corpus("pass_code") {
            check(&String::from_utf8_lossy(&data));
        }
        // A genuine pass and venue code, then every one-character change of them: refused.
        let pass = SecretPassphrase::new("pass signing passphrase")
            .unwrap()
            .with_kdf(KdfParams::insecure_fast());
        let (nb, na) = (
            datetime!(2021-01-01 0:00 UTC),
            datetime!(2031-01-01 0:00 UTC),
        );
        let root = create_root("Gốc", nb, na, &pass).unwrap();
        let signer = issue(
            &root,
            &pass,
            CertProfile::PassSigner,
            "VN",
            "Ký thẻ",
            nb,
            na,
            &pass,
            &|_| None,
        )
        .unwrap();
        let key = SigningKey::unlock(&signer, &pass).unwrap();
        let claims = PassClaims {
            declaration_id: 42,
            subject: [7; 8],
            issued_at: 1_629_000_000,
            expires_at: 1_629_259_200,
        };
        let public = public_key_of(&signer.certificate_der).unwrap();
        let genuine = |_: &[u8; 8]| Some(public.clone());
        for code in [
            sign_pass(&claims, &key).unwrap(),
            sign_venue_code(42, &key).unwrap(),
        ] {
            let accepted =
                verify_pass(&code, &genuine).is_ok() || verify_venue_code(&code, &genuine).is_ok();
            assert!(accepted, "the genuine code verifies with its key");
            for i in 5..code.len() {
                let mut changed = code.clone().into_bytes();
                changed[i] = if changed[i] == b'0' { b'1' } else { b'0' };
                let changed = String::from_utf8(changed).unwrap();
                assert!(
                    verify_pass(&changed, &genuine).is_err()
                        && verify_venue_code(&changed, &genuine).is_err(),
                    "{i}"
                );
                check(&changed);
            }
        }
    }
}
