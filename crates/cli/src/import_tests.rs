//! `vaxtrace import tests`: laboratory results as CSV with the header
//! `personal_id,kind,sampled_at,result,lab,lab_ref` (`kind` `pcr` or `rapid_antigen`, `result`
//! `positive`, `negative` or `invalid`, `sampled_at` RFC 3339). Rows are streamed and stored one
//! by one: a bad row is written to the rejects file with its reason and never stops the others,
//! and a re-run stores nothing twice (a lab's `lab_ref` is its sample number).

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use time::OffsetDateTime;
use vaxtrace_server::{AppState, ServerConfig};
use vaxtrace_trace::TestInput;

use crate::Db;
use crate::commands::open_store;
use crate::import::{NamedRows, progress_bar};

#[derive(Debug, Args)]
pub struct ImportTestsArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub db: Db,
    /// Rows that were not stored: line, field, reason. Default: FILE.rejects.csv.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    #[arg(long)]
    pub no_progress: bool,
}

pub async fn run(args: ImportTestsArgs) -> anyhow::Result<()> {
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let total = file.metadata().map_or(0, |m| m.len());
    let (rejects_path, mut rejects) =
        crate::import::reasons_csv(&args.file, args.rejects.as_ref(), ".rejects.csv")?;
    let store = open_store(&args.db).await?;
    let state = AppState::new(store, ServerConfig::default());
    let bar = progress_bar(total, !args.no_progress);
    let mut rows = NamedRows::new(file, &[])?;
    let (mut stored, mut repeated, mut refused) = (0u64, 0u64, 0u64);
    while let Some((line, row)) = rows.next_row::<TestInput>()? {
        bar.set_position(rows.byte().min(total));
        let outcome = match row {
            Err(e) => Err(("", e)),
            Ok(input) => match input.parse(OffsetDateTime::now_utc()) {
                Err(e) => Err((e.field, e.message_en)),
                Ok(result) => {
                    match vaxtrace_server::cases::store_test(&state, "import", result).await {
                        Ok(receipt) => Ok(receipt),
                        Err(e) if e.code == "unknown_citizen" => Err(("personal_id", e.message_en)),
                        // A database failure is not the row's fault: stop, a re-run resumes.
                        Err(e) => bail!("line {line}: {}", e.message_en),
                    }
                }
            },
        };
        match outcome {
            Ok(receipt) if receipt.created => stored += 1,
            Ok(_) => repeated += 1,
            Err((field, reason)) => {
                refused += 1;
                rejects.write_record([line.to_string().as_str(), field, &reason])?;
            }
        }
    }
    bar.finish_and_clear();
    rejects.flush()?;
    state
        .store
        .append_audit(vec![crate::commands::cli_audit(
            "test.import",
            None,
            "contact_tracing",
            format!(
                "{}: {stored} stored, {repeated} already, {refused} refused",
                args.file.display()
            ),
        )])
        .await?;
    println!(
        "stored {stored}, already stored {repeated}, refused {refused} (see {})",
        rejects_path.display()
    );
    if stored + repeated == 0 && refused > 0 {
        bail!("no result could be stored");
    }
    Ok(())
}
