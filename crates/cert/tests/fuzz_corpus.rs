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
