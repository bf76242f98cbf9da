//! Any text as a chip ID card QR, a personal ID, or a registry CSV row: parsing must report, never
//! panic, and an ID that parses prints back as the digits it was read from.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../checks/registry_text.rs");

fuzz_target!(|data: &[u8]| check(&String::from_utf8_lossy(data)));
