//! The EU DCC conformance cases (`testdata/dcc`) and hostile input to `verify_hc1`.

#![allow(clippy::unwrap_used)] // tests fail loudly

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::macros::datetime;
use vaxtrace_cert::hcert::{
    MAX_QR_BYTES, Outcome, RevocationCheck, RevocationQuery, Step, TrustList, Verdict, run_suite,
    verify_hc1, verify_hc1_with,
};

fn dcc_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dcc")
}

/// A case's QR text, trust list and validation instant.
fn case(name: &str) -> (String, TrustList, OffsetDateTime) {
    let text = std::fs::read_to_string(dcc_dir().join("cases").join(name)).unwrap();
    let case: serde_json::Value = serde_json::from_str(&text).unwrap();
    let der = STANDARD
        .decode(case["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
        .unwrap();
    let mut trust = TrustList::new();
    trust.add(der);
    let prefix = case["PREFIX"].as_str().unwrap().to_owned();
    (prefix, trust, datetime!(2021-05-03 18:00:00 UTC))
}

#[test]
fn conformance_suite_has_no_failures() {
    let report = run_suite(&dcc_dir().join("cases"));
    assert!(report.schema_dir.is_some(), "{:?}", report.schema_problem);
    for case in &report.cases {
        for check in &case.checks {
            match &check.verdict {
                Verdict::Failed { reason } => {
                    println!("FAILED {} {}: {reason}", case.file.display(), check.flag);
                }
                Verdict::Disputed { reason, decision } => println!(
                    "DISPUTED {} {}: {reason} — {decision}",
                    case.file.display(),
                    check.flag
                ),
                _ => {}
            }
        }
        if let Some(e) = &case.error {
            println!("FAILED {}: {e}", case.file.display());
        }
    }
    println!("{}", report.summary());
    assert_eq!(report.cases.len(), 91);
    assert_eq!(report.failed(), 0, "{}", report.summary());
}

#[test]
fn a_valid_certificate_passes_every_step() {
    let (qr, trust, at) = case("common/CO3.json");
    let v = verify_hc1(&qr, &trust, at);
    assert!(v.is_valid(), "{:#?}", v.steps);
    assert_eq!(v.steps.len(), Step::ALL.len());
    assert_eq!(
        v.outcome(Step::Revocation),
        Some(&Outcome::Skipped(
            "no revocation list configured".to_owned()
        ))
    );
    assert!(v.payload.as_ref().unwrap()["nam"]["fnt"].is_string());
}

#[test]
fn revocation_hook_is_asked() {
    struct RevokeAll;
    impl RevocationCheck for RevokeAll {
        fn check(&self, q: &RevocationQuery<'_>) -> Result<(), String> {
            Err(format!("revoked: {}", q.uci.unwrap_or("?")))
        }
    }
    let (qr, trust, at) = case("common/CO3.json");
    let v = verify_hc1_with(&qr, &trust, at, Some(&RevokeAll));
    assert!(!v.is_valid());
    assert_eq!(v.first_failure().unwrap().0, Step::Revocation);
}

#[test]
fn unknown_kid_expired_and_wrong_usage_fail_their_step() {
    let (qr, _, at) = case("common/CO3.json");
    let v = verify_hc1(&qr, &TrustList::new(), at);
    assert_eq!(v.first_failure().unwrap().0, Step::KidLookup);

    let (qr, trust, _) = case("common/CO3.json");
    let v = verify_hc1(&qr, &trust, datetime!(2030-01-01 00:00:00 UTC));
    assert_eq!(v.first_failure().unwrap().0, Step::Expiry);
    let v = verify_hc1(&qr, &trust, datetime!(2000-01-01 00:00:00 UTC));
    assert_eq!(v.first_failure().unwrap().0, Step::Expiry);
}

#[test]
fn wrong_prefix_truncation_and_oversize_fail_without_panicking() {
    let (qr, trust, at) = case("common/CO3.json");
    let rest = qr.strip_prefix("HC1:").unwrap();
    for bad in [
        format!("HC2:{rest}"),
        format!("hc1:{rest}"),
        rest.to_owned(),
        String::new(),
    ] {
        let v = verify_hc1(&bad, &trust, at);
        assert_eq!(v.first_failure().unwrap().0, Step::Prefix, "{bad:.8}");
    }
    for cut in (0..qr.len()).step_by(7).chain([qr.len() - 1]) {
        let v = verify_hc1(&qr[..cut], &trust, at);
        assert!(!v.is_valid(), "truncated at {cut}");
    }
    let huge = format!("{qr}{}", "0".repeat(MAX_QR_BYTES));
    let v = verify_hc1(&huge, &trust, at);
    assert_eq!(v.first_failure().unwrap().0, Step::Prefix);
    assert!(
        v.steps[1..]
            .iter()
            .all(|s| matches!(s.outcome, Outcome::Skipped(_)))
    );
}

#[test]
fn a_zip_bomb_fails_the_zlib_step() {
    use std::io::Write;
    let mut z = flate2_encoder();
    z.write_all(&vec![0u8; 1 << 20]).unwrap();
    let bomb = z.finish().unwrap();
    let qr = format!("HC1:{}", vaxtrace_cert::hcert::base45::encode(&bomb));
    assert!(qr.len() < MAX_QR_BYTES);
    let (_, trust, at) = case("common/CO3.json");
    let v = verify_hc1(&qr, &trust, at);
    let (step, reason) = v.first_failure().unwrap();
    assert_eq!(step, Step::Zlib);
    assert!(reason.contains("more than"), "{reason}");
}

fn flate2_encoder() -> flate2::write::ZlibEncoder<Vec<u8>> {
    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best())
}

#[test]
fn any_flipped_character_is_rejected_without_panicking() {
    let (qr, trust, at) = case("common/CO3.json");
    assert!(verify_hc1(&qr, &trust, at).is_valid());
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut accepted = Vec::new();
    for i in 0..qr.len() {
        let mut bytes = qr.as_bytes().to_vec();
        // A different Base45 character (keeps the text decodable), then an arbitrary byte flip.
        let pos = alphabet.iter().position(|&c| c == bytes[i]).unwrap_or(0);
        bytes[i] = alphabet[(pos + 1 + i % 44) % 45];
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if verify_hc1(&text, &trust, at).is_valid() {
            accepted.push(i);
        }
        bytes[i] ^= 0x80 >> (i % 8);
        let _ = verify_hc1(&String::from_utf8_lossy(&bytes), &trust, at);
    }
    assert!(
        accepted.is_empty(),
        "tampered text accepted at {accepted:?}"
    );
}
