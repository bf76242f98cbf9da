//! Replays the `import_rows` fuzz corpus (`fuzz/corpus`) through the fuzz target's own check, so
//! every file a fuzzer kept stays a regression test on stable Rust.

#![allow(clippy::unwrap_used)]

include!("../../../fuzz/checks/import_rows.rs");

#[test]
fn import_files_never_panic() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/import_rows");
    let mut accepted = [0u64; ImportFormat::ALL.len()];
    for entry in std::fs::read_dir(&dir).unwrap() {
        let input = std::fs::read(entry.unwrap().path()).unwrap();
        check(&input);
        if let Some((&selector, file)) = input.split_first() {
            let slot = usize::from(selector) % ImportFormat::ALL.len();
            accepted[slot] += read_import(ImportFormat::ALL[slot], file).accepted;
        }
    }
    // Not vacuous: for every format the seeds hold a file with rows its import accepts.
    for (format, n) in ImportFormat::ALL.iter().zip(accepted) {
        assert!(n > 0, "no {format:?} row accepted; run fuzz/seed.py");
    }
}
