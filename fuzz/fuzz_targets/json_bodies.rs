//! Any bytes as the body of any endpoint that takes one, through the whole router as a user the
//! route admits: never a 500, every error the bilingual JSON error. See checks/json_bodies.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../checks/json_bodies.rs");

fuzz_target!(|data: &[u8]| {
    check(data);
});
