//! Any text as a scanned travel pass or venue check-in code: verification must refuse it (a
//! signature cannot be forged), never panic, whether or not the kid names a known key.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../checks/pass_code.rs");

fuzz_target!(|data: &[u8]| check(&String::from_utf8_lossy(data)));
