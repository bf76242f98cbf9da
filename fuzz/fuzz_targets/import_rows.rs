//! Any bytes as a file of any import, read the way `vaxtrace import` reads it: every row accepted
//! or refused with a reason, never a panic. See checks/import_rows.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../checks/import_rows.rs");

fuzz_target!(|data: &[u8]| check(data));
