//! Any text as a downloaded trust list or revocation list, signed or gateway JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vaxtrace_cert::hcert::{RevocationList, read_trust_list};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let anchor = vec![vec![0x30, 0x03, 0x02, 0x01, 0x01]];
    let _ = read_trust_list(&text, &[]);
    let _ = read_trust_list(&text, &anchor);
    let _ = RevocationList::from_signed(&text, &anchor);
});
