//! `vaxtrace import legacy`: declarations exported by earlier apps, in two formats.
//!
//! - `ncovi-jsonl`: one JSON object a line, keyed by phone number, the personal ID optional:
//!   `{"app_id", "phone", "personal_id"?, "full_name", "birth_date", "sex", "declared_at",
//!   "symptoms": [..], "contact_with_case", "contact_with_suspected", "visited_outbreak_area",
//!   "from": {"commune_code", "address"}, "to": {"commune_code", "address"}, "travel_date",
//!   "transport", "vehicle", "purpose"}`.
//! - `bluezone-csv`: CSV keyed by personal ID, with the header
//!   `record_id,personal_id,full_name,birth_date,sex,phone,declared_at,symptoms,contact_with_case,`
//!   `origin_commune_code,origin_address,destination_commune_code,destination_address,`
//!   `travel_date,transport,vehicle,purpose` (`symptoms` separated by `;`, booleans `0`/`1`).
//!
//! `declared_at` is RFC 3339. Records are streamed; each is linked and stored on its own, so a
//! bad one never stops the others, and a re-run skips what was imported.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vaxtrace_domain::{DeclarationInput, ParseError};
use vaxtrace_server::legacy::{LegacyDeclaration, LegacyOutcome, import_one};

use crate::Db;
use crate::commands::open_store;
use crate::import::progress_bar;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LegacyFormat {
    /// JSON lines keyed by phone number (personal ID optional), as the NCOVI app exported.
    NcoviJsonl,
    /// CSV keyed by personal ID, as the Bluezone export.
    BluezoneCsv,
}

#[derive(Debug, Args)]
pub struct ImportLegacyArgs {
    pub file: PathBuf,
    #[arg(long, value_enum)]
    pub format: LegacyFormat,
    #[command(flatten)]
    pub db: Db,
    /// Records that could not be linked or read: line, reason. Default: FILE.unlinked.csv.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Deserialize)]
struct Place {
    commune_code: String,
    address: String,
}

#[derive(Debug, Deserialize)]
struct NcoviRecord {
    app_id: String,
    phone: Option<String>,
    personal_id: Option<String>,
    full_name: String,
    birth_date: String,
    sex: String,
    declared_at: String,
    #[serde(default)]
    symptoms: Vec<String>,
    #[serde(default)]
    contact_with_case: bool,
    #[serde(default)]
    contact_with_suspected: bool,
    #[serde(default)]
    visited_outbreak_area: bool,
    from: Place,
    to: Place,
    travel_date: String,
    transport: String,
    vehicle: Option<String>,
    purpose: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BluezoneRecord {
    record_id: String,
    personal_id: String,
    full_name: String,
    birth_date: String,
    sex: String,
    phone: Option<String>,
    declared_at: String,
    symptoms: Option<String>,
    contact_with_case: Option<String>,
    origin_commune_code: String,
    origin_address: String,
    destination_commune_code: String,
    destination_address: String,
    travel_date: String,
    transport: String,
    vehicle: Option<String>,
    purpose: Option<String>,
}

fn declared_at(raw: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(raw.trim(), &Rfc3339)
        .map_err(|_| format!("declared_at {raw:?} is not RFC 3339"))
}

impl NcoviRecord {
    fn into_legacy(self) -> Result<LegacyDeclaration, String> {
        Ok(LegacyDeclaration {
            source: "ncovi",
            declared_at: declared_at(&self.declared_at)?,
            source_ref: self.app_id,
            input: DeclarationInput {
                personal_id: self.personal_id.unwrap_or_default(),
                full_name: self.full_name,
                birth_date: self.birth_date,
                sex: self.sex,
                phone: self.phone,
                permanent_commune_code: None,
                symptoms: self.symptoms,
                contact_with_case: self.contact_with_case,
                contact_with_suspected: self.contact_with_suspected,
                visited_outbreak_area: self.visited_outbreak_area,
                origin_commune_code: self.from.commune_code,
                origin_address: self.from.address,
                destination_commune_code: self.to.commune_code,
                destination_address: self.to.address,
                travel_date: self.travel_date,
                transport: self.transport,
                vehicle: self.vehicle,
                purpose: self.purpose,
            },
        })
    }
}

impl BluezoneRecord {
    fn into_legacy(self) -> Result<LegacyDeclaration, String> {
        let flag = |v: Option<&str>| matches!(v.map(str::trim), Some("1" | "true" | "yes"));
        Ok(LegacyDeclaration {
            source: "bluezone",
            declared_at: declared_at(&self.declared_at)?,
            source_ref: self.record_id,
            input: DeclarationInput {
                personal_id: self.personal_id,
                full_name: self.full_name,
                birth_date: self.birth_date,
                sex: self.sex,
                phone: self.phone,
                permanent_commune_code: None,
                symptoms: self
                    .symptoms
                    .unwrap_or_default()
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                contact_with_case: flag(self.contact_with_case.as_deref()),
                contact_with_suspected: false,
                visited_outbreak_area: false,
                origin_commune_code: self.origin_commune_code,
                origin_address: self.origin_address,
                destination_commune_code: self.destination_commune_code,
                destination_address: self.destination_address,
                travel_date: self.travel_date,
                transport: self.transport,
                vehicle: self.vehicle,
                purpose: self.purpose,
            },
        })
    }
}

#[derive(Debug, Default)]
struct Counts {
    imported: u64,
    already: u64,
    unlinked: u64,
    invalid: u64,
}

/// Longest record line read; an export line is a few hundred bytes.
const MAX_LINE: usize = 64 * 1024;

/// The file's records with their line numbers (CSV: the header is line 1).
pub(crate) fn records(format: LegacyFormat, input: impl Read + 'static) -> Records {
    match format {
        LegacyFormat::NcoviJsonl => Box::new(BufReader::new(input).lines().enumerate().filter_map(
            |(i, line)| {
                let record = match line {
                    Err(e) => Err(format!("unreadable line: {e}")),
                    Ok(l) if l.trim().is_empty() => return None,
                    Ok(l) if l.len() > MAX_LINE => Err("line too long".to_owned()),
                    Ok(l) => serde_json::from_str::<NcoviRecord>(&l)
                        .map_err(|e| e.to_string())
                        .and_then(NcoviRecord::into_legacy),
                };
                Some((i as u64 + 1, record))
            },
        )),
        LegacyFormat::BluezoneCsv => {
            let reader = csv::Reader::from_reader(BufReader::new(input));
            Box::new(
                reader
                    .into_deserialize::<BluezoneRecord>()
                    .enumerate()
                    .map(|(i, r)| {
                        (
                            i as u64 + 2,
                            r.map_err(|e| e.to_string())
                                .and_then(BluezoneRecord::into_legacy),
                        )
                    }),
            )
        }
    }
}

type Records = Box<dyn Iterator<Item = (u64, Result<LegacyDeclaration, String>)>>;

pub async fn run(args: ImportLegacyArgs) -> anyhow::Result<()> {
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let total = file.metadata().map_or(0, |m| m.len());
    let (rejects_path, mut rejects) =
        crate::import::reasons_csv(&args.file, args.rejects.as_ref(), ".unlinked.csv")?;
    let store = open_store(&args.db).await?;
    let bar = progress_bar(total, !args.no_progress);
    let mut counts = Counts::default();
    let mut reject = |line: u64, field: &str, reason: &str| {
        rejects.write_record([line.to_string().as_str(), field, reason])
    };
    let records = records(args.format, file);
    for (line, record) in records {
        bar.set_position(line.saturating_mul(200).min(total));
        match record {
            Err(reason) => {
                counts.invalid += 1;
                reject(line, "", &reason)?;
            }
            Ok(item) => match import_one(store.as_ref(), item, "import").await? {
                LegacyOutcome::Imported { .. } => counts.imported += 1,
                LegacyOutcome::AlreadyImported => counts.already += 1,
                LegacyOutcome::Unlinked(reason) => {
                    counts.unlinked += 1;
                    reject(line, "personal_id", &reason)?;
                }
                LegacyOutcome::Invalid(ParseError {
                    field, message_en, ..
                }) => {
                    counts.invalid += 1;
                    reject(line, field, &message_en)?;
                }
            },
        }
    }
    bar.finish_and_clear();
    rejects.flush()?;
    store
        .append_audit(vec![crate::commands::cli_audit(
            "declaration.import_legacy",
            None,
            "movement_control",
            format!(
                "{}: {} imported, {} already, {} unlinked, {} invalid",
                args.file.display(),
                counts.imported,
                counts.already,
                counts.unlinked,
                counts.invalid
            ),
        )])
        .await?;
    println!(
        "imported {}, already imported {}, not linked {}, unreadable {} (see {})",
        counts.imported,
        counts.already,
        counts.unlinked,
        counts.invalid,
        rejects_path.display()
    );
    if counts.imported + counts.already == 0 && counts.unlinked + counts.invalid > 0 {
        bail!("nothing could be imported");
    }
    Ok(())
}
