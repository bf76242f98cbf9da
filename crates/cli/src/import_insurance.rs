//! `vaxtrace import insurance`: health-insurance cards from the social-insurance agency's CSV, with
//! the header `personal_id,card_number,valid_from,valid_to` (dates `YYYY-MM-DD`, either may be
//! empty). Streamed in batches, so memory stays flat on any file; a bad row or an ID the registry
//! does not hold goes to the rejects file with its reason, and a re-run replaces, never duplicates.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;
use time::OffsetDateTime;
use vaxtrace_domain::date::parse_day;
use vaxtrace_domain::{InsuranceNumber, ParseError, PersonalId};
use vaxtrace_store::{InsuranceCard, Store};

use crate::Db;
use crate::commands::open_store;
use crate::import::{NamedRows, progress_bar};

#[derive(Debug, Args)]
pub struct ImportInsuranceArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub db: Db,
    /// Names the delivery in the stored cards (e.g. `bhxh-2021-11`). Default: the file name.
    #[arg(long)]
    pub source: Option<String>,
    /// Rows that were not stored: line, field, reason. Default: FILE.rejects.csv.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Rows per transaction.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Row {
    personal_id: String,
    card_number: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_to: String,
}

pub(crate) fn parse_row(row: &Row, source: &str) -> Result<InsuranceCard, ParseError> {
    let personal_id = PersonalId::parse(&row.personal_id)?;
    let card = InsuranceNumber::parse(&row.card_number)?;
    let day = |field, raw: &str| {
        let raw = raw.trim();
        (!raw.is_empty()).then(|| parse_day(field, raw)).transpose()
    };
    let (from, to) = (
        day("valid_from", &row.valid_from)?,
        day("valid_to", &row.valid_to)?,
    );
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(ParseError::new(
            "valid_to",
            "invalid_period",
            "Hạn thẻ kết thúc trước ngày bắt đầu",
            "The card's validity ends before it begins",
        ));
    }
    Ok(InsuranceCard {
        personal_id,
        card_number: card.as_str().to_owned(),
        valid_from: from.map(|d| d.to_string()),
        valid_to: to.map(|d| d.to_string()),
        source: source.to_owned(),
    })
}

/// Counts of one run.
#[derive(Debug, Default)]
struct Tally {
    stored: u64,
    refused: u64,
}

pub async fn run(args: ImportInsuranceArgs) -> anyhow::Result<()> {
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let total = file.metadata().map_or(0, |m| m.len());
    let source = args.source.clone().unwrap_or_else(|| {
        args.file
            .file_name()
            .map_or_else(|| "insurance".into(), |n| n.to_string_lossy().into_owned())
    });
    let (rejects_path, mut rejects) =
        crate::import::reasons_csv(&args.file, args.rejects.as_ref(), ".rejects.csv")?;
    let store = open_store(&args.db).await?;
    let bar = progress_bar(total, !args.no_progress);
    let mut rows = NamedRows::new(file, &["personal_id", "card_number"])?;
    let mut tally = Tally::default();
    let mut batch: Vec<(u64, InsuranceCard)> = Vec::new();
    while let Some((line, row)) = rows.next_row::<Row>()? {
        bar.set_position(rows.byte().min(total));
        let parsed = row
            .map_err(|e| ("", e))
            .and_then(|row| parse_row(&row, &source).map_err(|e| (e.field, e.message_en)));
        match parsed {
            Ok(card) => batch.push((line, card)),
            Err((field, reason)) => {
                tally.refused += 1;
                rejects.write_record([line.to_string().as_str(), field, &reason])?;
            }
        }
        if batch.len() as u64 >= args.batch_size {
            store_batch(
                store.as_ref(),
                std::mem::take(&mut batch),
                &mut rejects,
                &mut tally,
            )
            .await?;
        }
    }
    store_batch(store.as_ref(), batch, &mut rejects, &mut tally).await?;
    bar.finish_and_clear();
    rejects.flush()?;
    let Tally { stored, refused } = tally;
    store
        .append_audit(vec![crate::commands::cli_audit(
            "insurance.import",
            None,
            "health_insurance",
            format!(
                "{}: {stored} stored, {refused} refused",
                args.file.display()
            ),
        )])
        .await?;
    println!(
        "stored {stored}, refused {refused} (see {})",
        rejects_path.display()
    );
    if stored == 0 && refused > 0 {
        bail!("no card could be stored");
    }
    Ok(())
}

/// Cards of people the registry holds are stored in one transaction; the others are refused.
async fn store_batch(
    store: &dyn Store,
    batch: Vec<(u64, InsuranceCard)>,
    rejects: &mut csv::Writer<File>,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let ids = batch.iter().map(|(_, c)| c.personal_id).collect();
    let known: std::collections::HashSet<_> =
        store.known_citizens(ids).await?.into_iter().collect();
    let mut cards = Vec::with_capacity(batch.len());
    for (line, card) in batch {
        if known.contains(&card.personal_id) {
            cards.push(card);
        } else {
            tally.refused += 1;
            rejects.write_record([
                line.to_string().as_str(),
                "personal_id",
                "Not in the population registry",
            ])?;
        }
    }
    tally.stored += store
        .upsert_insurance_cards(cards, OffsetDateTime::now_utc())
        .await?;
    Ok(())
}
