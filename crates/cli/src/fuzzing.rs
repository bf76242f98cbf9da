//! Entry point of the `import_rows` fuzz target (`fuzz/`): every import's own reading of a file,
//! from bytes, without a database. Not a stable API.

use std::io::Cursor;

use time::OffsetDateTime;
use time::macros::datetime;
use vaxtrace_domain::date::vietnam_day;

use crate::import::read_registry;
use crate::import_insurance::{Row as InsuranceRow, parse_row as parse_insurance};
use crate::import_legacy::{LegacyFormat, records};
use crate::import_shots::read_shots;
use vaxtrace_trace::TestInput;

/// A file format `vaxtrace import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Registry,
    Vaccinations,
    Tests,
    Insurance,
    NcoviJsonl,
    BluezoneCsv,
}

impl ImportFormat {
    pub const ALL: [Self; 6] = [
        Self::Registry,
        Self::Vaccinations,
        Self::Tests,
        Self::Insurance,
        Self::NcoviJsonl,
        Self::BluezoneCsv,
    ];
}

/// What reading a whole file gave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Rows the import would store.
    pub accepted: u64,
    /// Rows it would write to the rejects file.
    pub refused: u64,
    /// The file as a whole was refused (no header, a required column missing, malformed CSV).
    pub file_refused: bool,
}

/// Fixed clock, so a fuzz input means the same thing on every run.
const NOW: OffsetDateTime = datetime!(2021-09-15 08:00 UTC);

/// Reads `bytes` as a whole file of `format` the way its import does, up to storing.
#[must_use]
pub fn read_import(format: ImportFormat, bytes: &[u8]) -> Tally {
    let mut tally = Tally::default();
    let mut count = |ok: bool| {
        if ok {
            tally.accepted += 1;
        } else {
            tally.refused += 1;
        }
        Ok(())
    };
    let input = Cursor::new(bytes.to_vec());
    let read = match format {
        ImportFormat::Registry => read_registry(input, NOW.date(), |_, r| count(r.is_ok())),
        ImportFormat::Vaccinations => read_shots(input, NOW, |_, r| count(r.is_ok())),
        ImportFormat::Tests => {
            read_named::<TestInput>(input, &[], |row| row.parse(NOW).is_ok(), &mut count)
        }
        ImportFormat::Insurance => read_named::<InsuranceRow>(
            input,
            &["personal_id", "card_number"],
            |row| parse_insurance(&row, "fuzz").is_ok(),
            &mut count,
        ),
        ImportFormat::NcoviJsonl | ImportFormat::BluezoneCsv => {
            let legacy = if format == ImportFormat::NcoviJsonl {
                LegacyFormat::NcoviJsonl
            } else {
                LegacyFormat::BluezoneCsv
            };
            for (_, record) in records(legacy, input) {
                let ok = record.is_ok_and(|item| {
                    // The import links an empty ID by phone first; parsing is the same either way.
                    item.input.parse(vietnam_day(item.declared_at)).is_ok()
                });
                let _ = count(ok);
            }
            Ok(0)
        }
    };
    tally.file_refused = read.is_err();
    tally
}

fn read_named<T: serde::de::DeserializeOwned>(
    input: Cursor<Vec<u8>>,
    required: &[&str],
    parse: impl Fn(T) -> bool,
    count: &mut impl FnMut(bool) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut rows = crate::import::NamedRows::new(input, required)?;
    let mut read = 0;
    while let Some((_, row)) = rows.next_row::<T>()? {
        read += 1;
        count(row.is_ok_and(&parse))?;
    }
    Ok(read)
}

/// The demo's key hierarchy (national root, province 91's CA, commune 30730's signer, CSCA, DSC,
/// pass signer) in `store`, so fuzzed requests reach the signing code; returns the passphrase
/// that opens the keys. `dir` keeps the passphrase file.
pub async fn install_demo_keys(
    store: &std::sync::Arc<dyn vaxtrace_store::Store>,
    dir: &std::path::Path,
) -> anyhow::Result<vaxtrace_cert::SecretPassphrase> {
    let text = crate::vaccination_commands::ensure_demo_keys(
        store,
        "91",
        "30730",
        &dir.join("demo-key-passphrase"),
        None,
    )
    .await?;
    Ok(vaxtrace_cert::SecretPassphrase::new(text)?)
}
