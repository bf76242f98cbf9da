//! Any text as a scanned QR code: verification must report, never panic or over-allocate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vaxtrace_cert::hcert::{TrustList, verify_hc1};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(19_000);
    let v = verify_hc1(&text, &TrustList::new(), at);
    assert!(!v.is_valid(), "nothing verifies against an empty trust list");
});
