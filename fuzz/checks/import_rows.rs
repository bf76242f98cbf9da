// Any bytes as a file of any import (registry, vaccination records, test results, insurance
// cards, NCOVI and Bluezone exports), read the way `vaxtrace import` reads it up to storing:
// every row is accepted or refused with a reason, never a panic; the same bytes give the same
// answer. The first byte picks the format.
// Included by fuzz/fuzz_targets/import_rows.rs and by the replay test of the corpus.

use vaxtrace_cli::fuzzing::{ImportFormat, read_import};

/// The property of every input; shared by the fuzz target and the replay test.
pub fn check(data: &[u8]) {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let format = ImportFormat::ALL[usize::from(selector) % ImportFormat::ALL.len()];
    let tally = read_import(format, file);
    assert_eq!(
        tally,
        read_import(format, file),
        "{format:?} is not deterministic"
    );
}
