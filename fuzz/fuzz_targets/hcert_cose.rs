//! Any bytes as the inflated content of an `HC1:` text, so the fuzzer works on the COSE, CWT
//! and DCC payload decoding behind the prefix, base45 and zlib layers.
#![no_main]

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use libfuzzer_sys::fuzz_target;
use vaxtrace_cert::hcert::{PREFIX, TrustList, base45, verify_hc1};

fuzz_target!(|data: &[u8]| {
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::fast());
    zlib.write_all(data).unwrap();
    let text = format!("{PREFIX}{}", base45::encode(&zlib.finish().unwrap()));
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(19_000);
    let _ = verify_hc1(&text, &TrustList::new(), at);
});
