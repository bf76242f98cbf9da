//! Replays the `registry_text` fuzz corpus (`fuzz/corpus`) through the fuzz target's own check, so
//! every input a fuzzer kept stays a regression test on stable Rust.

#![allow(clippy::unwrap_used)]

include!("../../../fuzz/checks/registry_text.rs");

#[test]
fn registry_texts_never_panic_and_ids_print_back() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/registry_text");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        check(&String::from_utf8_lossy(
            &std::fs::read(entry.unwrap().path()).unwrap(),
        ));
        seen += 1;
    }
    assert!(seen >= 5, "{seen} inputs in {}", dir.display());
    // The check is not vacuous: the seeds include a card that parses.
    let card = std::fs::read_to_string(dir.join("chip-card")).unwrap();
    assert!(ChipQr::parse(&card).is_ok());
}
