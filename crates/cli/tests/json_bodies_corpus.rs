//! Replays the `json_bodies` fuzz corpus (`fuzz/corpus`) through the fuzz target's own check, so
//! every body a fuzzer kept stays a regression test on stable Rust.

#![allow(clippy::unwrap_used)]

include!("../../../fuzz/checks/json_bodies.rs");

#[test]
fn bodies_never_get_a_500_and_errors_are_bilingual() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/json_bodies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let routes = Harness::get().routes().len();
    let mut reached = vec![false; routes];
    let mut accepted = 0;
    for path in &files {
        let input = std::fs::read(path).unwrap();
        if let Some(status) = check(&input) {
            reached[usize::from(input[0]) % routes] = true;
            accepted += usize::from((200..300).contains(&status));
        }
    }
    // Not vacuous: every route with a body is in the corpus, and seeds get through to storage.
    let missing: Vec<_> = reached
        .iter()
        .zip(Harness::get().routes())
        .filter(|(r, _)| !**r)
        .map(|(_, route)| route.path)
        .collect();
    assert!(
        missing.is_empty(),
        "no input for {missing:?}; run fuzz/seed.py"
    );
    assert!(
        accepted >= 10,
        "only {accepted} of {} inputs accepted",
        files.len()
    );
}
