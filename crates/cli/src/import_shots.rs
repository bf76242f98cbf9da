//! Streaming import of vaccination records: a parser thread turns CSV rows into checked shots
//! (unusable rows go to the rejects file), the async side matches each batch to the registry and
//! stores it in one transaction. Idempotent on (`source`, `source_record_id`): a re-run after a crash
//! replays what was stored and completes the rest.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use vaxtrace_domain::linkage::Thresholds;
use vaxtrace_domain::{ParseError, Shot, ShotInput};
use vaxtrace_server::linker::{Linked, link, store_linked, unmatched};
use vaxtrace_store::{InsertOutcome, LinkDecision, NewShotRecord, Store};

use crate::commands::cli_audit;
use crate::import::{RowAt, parse_to_batches, peak_rss_kib, progress_bar, row_shape_error};
use crate::synth_shots::SHOT_COLUMNS;

/// Columns a file must have; the others of [`SHOT_COLUMNS`] may be absent.
const REQUIRED: [&str; 7] = [
    "source",
    "source_record_id",
    "full_name",
    "vaccine_code",
    "dose_number",
    "administered_at",
    "site_code",
];

#[derive(Debug, Clone)]
pub struct ShotImportOptions {
    pub batch_size: usize,
    pub rejects: PathBuf,
    pub progress: bool,
    pub thresholds: Thresholds,
    /// Store without matching (benchmark peer only).
    pub skip_matching: bool,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ShotImportReport {
    pub rows: u64,
    pub rejected: u64,
    pub inserted: u64,
    pub replayed: u64,
    /// Same source key, different content: kept aside, not applied.
    pub conflicts: u64,
    pub auto: u64,
    pub review: u64,
    pub unmatched: u64,
    pub duplicate: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub peak_rss_kib: Option<u64>,
}

impl ShotImportReport {
    fn count(&mut self, l: &Linked) {
        match l.outcome {
            InsertOutcome::Inserted { .. } => {
                self.inserted += 1;
                match l.decision {
                    LinkDecision::Auto | LinkDecision::Confirmed => self.auto += 1,
                    LinkDecision::Review => self.review += 1,
                    LinkDecision::Unmatched | LinkDecision::Rejected => self.unmatched += 1,
                    LinkDecision::Duplicate => self.duplicate += 1,
                }
            }
            InsertOutcome::Replayed { .. } => self.replayed += 1,
            InsertOutcome::Conflict { .. } => self.conflicts += 1,
        }
    }
}

fn check_header(header: &csv::StringRecord) -> anyhow::Result<()> {
    let names: Vec<&str> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}'))
        .collect();
    if let Some(unknown) = names.iter().find(|n| !SHOT_COLUMNS.contains(n)) {
        bail!(
            "unknown column '{unknown}' in the header; expected {}",
            SHOT_COLUMNS.join(",")
        );
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !names.contains(r)) {
        bail!("the header lacks the required column '{missing}'");
    }
    Ok(())
}

fn parse_rows(
    path: &Path,
    opts: &ShotImportOptions,
    bytes_read: &AtomicU64,
    batches: &mpsc::Sender<Vec<Shot>>,
) -> anyhow::Result<(u64, u64)> {
    parse_to_batches(
        path,
        &opts.rejects,
        opts.batch_size,
        batches,
        bytes_read,
        |input, each| read_shots(input, OffsetDateTime::now_utc(), each),
    )
}

/// Parses a vaccination records file, handing every row (parsed, or why not) to `each`; returns
/// the rows read. A broken quote is reported as one row and stops the reading.
pub(crate) fn read_shots<R: std::io::Read>(
    input: R,
    now: OffsetDateTime,
    mut each: impl FnMut(RowAt, Result<Shot, ParseError>) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader.headers().context("cannot read the header")?.clone();
    check_header(&header)?;
    let header: csv::StringRecord = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}'))
        .collect();
    let width = header.len();
    let mut record = csv::StringRecord::new();
    let mut rows = 0u64;
    loop {
        let line = reader.position().line();
        let byte = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                rows += 1;
                let (code, en) = if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    ("not_utf8", "Not valid UTF-8 text".to_owned())
                } else {
                    ("malformed_csv", format!("Malformed CSV: {e}"))
                };
                let stop = code == "malformed_csv";
                each(
                    RowAt { line, byte },
                    Err(ParseError::new("row", code, "Dòng CSV hỏng", en)),
                )?;
                if stop {
                    break;
                }
                continue;
            }
        }
        rows += 1;
        let parsed = if let Some(e) = row_shape_error(record.len(), width, record.as_slice().len())
        {
            Err(e)
        } else {
            record
                .deserialize::<ShotInput>(Some(&header))
                .map_err(|e| {
                    ParseError::new("row", "invalid_row", "Dòng không hợp lệ", e.to_string())
                })
                .and_then(|input| input.parse(now))
        };
        let byte = record.position().map_or(byte, csv::Position::byte);
        each(RowAt { line, byte }, parsed)?;
    }
    Ok(rows)
}

pub async fn import_vaccinations(
    store: Arc<dyn Store>,
    path: &Path,
    opts: &ShotImportOptions,
) -> anyhow::Result<ShotImportReport> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let started = Instant::now();
    let bar = progress_bar(size, opts.progress);
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::channel::<Vec<Shot>>(2);
    let parser = {
        let (path, opts, bytes_read) = (path.to_path_buf(), opts.clone(), Arc::clone(&bytes_read));
        tokio::task::spawn_blocking(move || parse_rows(&path, &opts, &bytes_read, &tx))
    };
    // Matching batch N+1 (registry reads) overlaps writing batch N (the one writer).
    let (linked_tx, mut linked_rx) = mpsc::channel::<Vec<NewShotRecord>>(2);
    let matcher = {
        let (store, thresholds, skip) = (Arc::clone(&store), opts.thresholds, opts.skip_matching);
        tokio::spawn(async move {
            while let Some(batch) = rx.recv().await {
                let now = OffsetDateTime::now_utc();
                let records = if skip {
                    unmatched(batch, now)
                } else {
                    link(store.as_ref(), batch, &thresholds, now).await?
                };
                if linked_tx.send(records).await.is_err() {
                    break;
                }
            }
            Ok::<_, vaxtrace_store::StoreError>(())
        })
    };
    let mut report = ShotImportReport::default();
    let mut write_error = None;
    while let Some(records) = linked_rx.recv().await {
        match store_linked(store.as_ref(), records).await {
            Ok(linked) => linked.iter().for_each(|l| report.count(l)),
            Err(e) => {
                write_error = Some(e);
                break;
            }
        }
        bar.set_position(bytes_read.load(Ordering::Relaxed));
        bar.set_message(format!(
            "tự động/auto {} · chờ duyệt/review {} · không khớp/unmatched {}",
            report.auto, report.review, report.unmatched
        ));
    }
    drop(linked_rx);
    if let Err(e) = matcher.await? {
        write_error.get_or_insert(e);
    }
    let parsed = parser.await?;
    if let Some(e) = write_error {
        bail!("database write failed (committed batches are kept; re-run to complete): {e}");
    }
    let (rows, rejected) = parsed?;
    bar.finish_and_clear();
    report.rows = rows;
    report.rejected = rejected;
    report.seconds = started.elapsed().as_secs_f64();
    report.rows_per_second = rows as f64 / report.seconds.max(1e-9);
    report.peak_rss_kib = peak_rss_kib();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    store
        .append_audit(vec![cli_audit("vaccinations.import", None, "vaccination_record", format!(
                "file={file_name} inserted={} replayed={} conflicts={} rejected={} auto={} review={} unmatched={} duplicate={}",
                report.inserted,
                report.replayed,
                report.conflicts,
                report.rejected,
                report.auto,
                report.review,
                report.unmatched,
                report.duplicate
            ))])
        .await?;
    Ok(report)
}
