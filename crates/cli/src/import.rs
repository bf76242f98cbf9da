//! Streaming registry import: a parser thread turns CSV rows into validated citizens (bad rows go to
//! the rejects file), the async side upserts them batch by batch, one transaction each. Memory is
//! bounded by two batches in flight whatever the file size; a re-run after a crash completes the job.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use tokio::sync::mpsc;
use vaxtrace_domain::{Citizen, CitizenInput, ParseError};
use vaxtrace_store::{Store, UpsertCounts};

use crate::commands::cli_audit;

pub const REQUIRED: [&str; 6] = [
    "personal_id",
    "full_name",
    "birth_date",
    "sex",
    "permanent_commune_code",
    "permanent_address",
];
/// The last one, `status`, is read but not written by the generator.
pub const OPTIONAL: [&str; 6] = [
    "temporary_commune_code",
    "temporary_address",
    "phone",
    "legacy_id",
    "household_id",
    "status",
];
const MAX_ROW_BYTES: usize = 4096;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub batch_size: usize,
    pub rejects: PathBuf,
    pub progress: bool,
    /// Parse and validate only: nothing is written to the database.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// Whether secondary indexes were dropped and rebuilt (first load into an empty registry).
    pub bulk_load: bool,
    /// Part of `seconds` spent after parsing: the bulk merge and building the secondary indexes.
    pub index_seconds: f64,
    pub peak_rss_kib: Option<u64>,
}

/// Column positions of the file's header.
#[derive(Debug)]
struct Columns([Option<usize>; 12]);

impl Columns {
    fn from_header(header: &csv::ByteRecord) -> anyhow::Result<Self> {
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let s = String::from_utf8_lossy(f);
                let s = if i == 0 {
                    s.trim_start_matches('\u{feff}')
                } else {
                    &s
                };
                s.trim().to_owned()
            })
            .collect();
        if let Some(unknown) = names
            .iter()
            .find(|n| !REQUIRED.contains(&n.as_str()) && !OPTIONAL.contains(&n.as_str()))
        {
            bail!(
                "unknown column '{unknown}' in the header; expected {}",
                [&REQUIRED[..], &OPTIONAL[..]].concat().join(",")
            );
        }
        let mut positions = [None; 12];
        for (slot, name) in REQUIRED.iter().chain(&OPTIONAL).enumerate() {
            positions[slot] = names.iter().position(|n| n == name);
        }
        if let Some(missing) = REQUIRED.iter().zip(&positions).find(|(_, p)| p.is_none()) {
            bail!("the header lacks the required column '{}'", missing.0);
        }
        Ok(Self(positions))
    }

    fn input(&self, row: &csv::ByteRecord) -> Result<CitizenInput, ParseError> {
        let names = REQUIRED.iter().chain(&OPTIONAL);
        let mut fields: [Option<String>; 12] = Default::default();
        for ((slot, pos), name) in fields.iter_mut().zip(self.0).zip(names) {
            if let Some(bytes) = pos.and_then(|p| row.get(p)) {
                let text = std::str::from_utf8(bytes).map_err(|_| {
                    ParseError::new(
                        name,
                        "not_utf8",
                        "Không phải văn bản UTF-8",
                        "Not valid UTF-8 text",
                    )
                })?;
                *slot = Some(text.to_owned());
            }
        }
        let [
            personal_id,
            full_name,
            birth_date,
            sex,
            permanent_commune_code,
            permanent_address,
            temporary_commune_code,
            temporary_address,
            phone,
            legacy_id,
            household_id,
            status,
        ] = fields;
        Ok(CitizenInput {
            personal_id: personal_id.unwrap_or_default(),
            full_name: full_name.unwrap_or_default(),
            birth_date: birth_date.unwrap_or_default(),
            sex: sex.unwrap_or_default(),
            permanent_commune_code: permanent_commune_code.unwrap_or_default(),
            permanent_address: permanent_address.unwrap_or_default(),
            temporary_commune_code,
            temporary_address,
            phone,
            legacy_id,
            household_id,
            status,
        })
    }
}

/// The `line,field,reason` file beside `file` (`FILE<suffix>`) or at `given`, header written.
pub(crate) fn reasons_csv(
    file: &std::path::Path,
    given: Option<&std::path::PathBuf>,
    suffix: &str,
) -> anyhow::Result<(std::path::PathBuf, csv::Writer<std::fs::File>)> {
    let path = given.cloned().unwrap_or_else(|| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    });
    let mut writer = csv::Writer::from_path(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writer.write_record(["line", "field", "reason"])?;
    Ok((path, writer))
}

pub(crate) struct Rejects {
    pub(crate) out: csv::Writer<BufWriter<File>>,
    pub(crate) count: u64,
}

impl Rejects {
    pub(crate) fn create(path: &Path) -> anyhow::Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot create rejects file {}", path.display()))?;
        let mut out = csv::Writer::from_writer(BufWriter::new(file));
        out.write_record(["line", "column", "code", "reason_en", "reason_vi"])?;
        Ok(Self { out, count: 0 })
    }

    pub(crate) fn add(&mut self, line: u64, e: &ParseError) -> anyhow::Result<()> {
        self.count += 1;
        self.out.write_record([
            &line.to_string(),
            e.field,
            e.code,
            &e.message_en,
            &e.message_vi,
        ])?;
        Ok(())
    }
}

struct ParserOutcome {
    rows: u64,
    rejected: u64,
}

/// Groups parsed rows into batches and hands each full one to the database writer.
pub(crate) struct Batcher<'a, T> {
    size: usize,
    batch: Vec<T>,
    writer: &'a mpsc::Sender<Vec<T>>,
}

impl<'a, T> Batcher<'a, T> {
    pub(crate) fn new(size: usize, writer: &'a mpsc::Sender<Vec<T>>) -> Self {
        Self {
            size,
            batch: Vec::with_capacity(size),
            writer,
        }
    }

    pub(crate) fn push(&mut self, row: T) -> anyhow::Result<()> {
        self.batch.push(row);
        if self.batch.len() == self.size {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(self.size));
            self.send(full)?;
        }
        Ok(())
    }

    /// Hands over the last, partial batch.
    pub(crate) fn finish(mut self) -> anyhow::Result<()> {
        let rest = std::mem::take(&mut self.batch);
        if rest.is_empty() {
            return Ok(());
        }
        self.send(rest)
    }

    fn send(&self, batch: Vec<T>) -> anyhow::Result<()> {
        if self.writer.blocking_send(batch).is_err() {
            bail!("the database writer stopped");
        }
        Ok(())
    }
}

/// A row with the wrong number of fields, or too long to be a real record.
pub(crate) fn row_shape_error(fields: usize, width: usize, bytes: usize) -> Option<ParseError> {
    if fields != width {
        Some(ParseError::new(
            "row",
            "field_count",
            format!("Có {fields} trường, tiêu đề có {width}"),
            format!("{fields} fields where the header has {width}"),
        ))
    } else if bytes > MAX_ROW_BYTES {
        Some(ParseError::new(
            "row",
            "row_too_long",
            "Dòng quá dài",
            format!("Row longer than {MAX_ROW_BYTES} bytes"),
        ))
    } else {
        None
    }
}

fn check_header(path: &Path) -> anyhow::Result<()> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(BufReader::new(file));
    let mut header = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .context("cannot read the header")?
    {
        bail!("the file is empty: a header row is required");
    }
    Columns::from_header(&header).map(drop)
}

/// Reads, parses and validates rows on the calling (blocking) thread.
fn parse_rows(
    path: &Path,
    batch_size: usize,
    rejects_path: &Path,
    today: Date,
    bytes_read: &AtomicU64,
    batches: &mpsc::Sender<Vec<Citizen>>,
) -> anyhow::Result<ParserOutcome> {
    let (rows, rejected) = parse_to_batches(
        path,
        rejects_path,
        batch_size,
        batches,
        bytes_read,
        |input, each| read_registry(input, today, each),
    )?;
    Ok(ParserOutcome { rows, rejected })
}

/// What an import's row reader calls for every row, parsed or not.
pub(crate) type EachRow<'a, T> = dyn FnMut(RowAt, Result<T, ParseError>) -> anyhow::Result<()> + 'a;

/// Reads a file with one import's row reader: parsed rows go to `batches` in groups of
/// `batch_size`, the others to the rejects file, and `bytes_read` follows for the progress bar.
/// Returns the rows read and the rows rejected.
pub(crate) fn parse_to_batches<T>(
    path: &Path,
    rejects_path: &Path,
    batch_size: usize,
    batches: &mpsc::Sender<Vec<T>>,
    bytes_read: &AtomicU64,
    read: impl FnOnce(BufReader<File>, &mut EachRow<'_, T>) -> anyhow::Result<u64>,
) -> anyhow::Result<(u64, u64)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut rejects = Rejects::create(rejects_path)?;
    let mut batch = Batcher::new(batch_size, batches);
    let rows = read(
        BufReader::with_capacity(1 << 20, file),
        &mut |row, parsed| {
            bytes_read.store(row.byte, Ordering::Relaxed);
            match parsed {
                Ok(item) => batch.push(item),
                Err(e) => rejects.add(row.line, &e),
            }
        },
    )?;
    batch.finish()?;
    rejects.out.flush()?;
    Ok((rows, rejects.count))
}

/// Where a row sits in its file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowAt {
    pub(crate) line: u64,
    pub(crate) byte: u64,
}

/// Parses a registry file, handing every row (parsed, or why not) to `each`; returns the rows read.
/// A broken quote can swallow the rest of the file: it is reported as one row and reading stops.
pub(crate) fn read_registry<R: std::io::Read>(
    input: R,
    today: Date,
    mut each: impl FnMut(RowAt, Result<Citizen, ParseError>) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut record)
        .context("cannot read the header")?
    {
        bail!("the file is empty: a header row is required");
    }
    let columns = Columns::from_header(&record)?;
    let width = record.len();
    let mut rows = 0u64;
    loop {
        let line = reader.position().line();
        let byte = reader.position().byte();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                rows += 1;
                let err = ParseError::new(
                    "row",
                    "malformed_csv",
                    "Dòng CSV hỏng",
                    format!("Malformed CSV: {e}"),
                );
                each(RowAt { line, byte }, Err(err))?;
                break;
            }
        }
        rows += 1;
        let parsed = match row_shape_error(record.len(), width, record.as_slice().len()) {
            Some(e) => Err(e),
            None => columns.input(&record).and_then(|input| input.parse(today)),
        };
        let byte = record.position().map_or(byte, csv::Position::byte);
        each(RowAt { line, byte }, parsed)?;
    }
    Ok(rows)
}

pub(crate) fn progress_bar(total: u64, enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub async fn import_citizens(
    store: Arc<dyn Store>,
    path: &Path,
    opts: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    check_header(path)?;
    let started = Instant::now();
    let bulk_load = !opts.dry_run && store.begin_bulk_load().await?;
    let bar = progress_bar(size, opts.progress);
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::channel::<Vec<Citizen>>(2);
    let parser = {
        let (path, rejects, bytes_read) = (
            path.to_path_buf(),
            opts.rejects.clone(),
            Arc::clone(&bytes_read),
        );
        let batch_size = opts.batch_size.max(1);
        let today = OffsetDateTime::now_utc().date();
        tokio::task::spawn_blocking(move || {
            parse_rows(&path, batch_size, &rejects, today, &bytes_read, &tx)
        })
    };
    let mut counts = UpsertCounts::default();
    let mut write_error = None;
    while let Some(batch) = rx.recv().await {
        if opts.dry_run {
            counts.unchanged += batch.len() as u64;
            continue;
        }
        match write_batch(store.as_ref(), bulk_load, batch).await {
            Ok(c) => counts += c,
            Err(e) => {
                write_error = Some(e);
                break;
            }
        }
        bar.set_position(bytes_read.load(Ordering::Relaxed));
        bar.set_message(format!(
            "mới/new {} · cập nhật/updated {}",
            counts.inserted, counts.updated
        ));
    }
    drop(rx);
    let parsed = parser.await?;
    let index_started = Instant::now();
    if bulk_load {
        bar.set_message("đang sắp xếp và tạo chỉ mục / sorting and indexing");
        if write_error.is_none() && parsed.is_ok() {
            counts += store.finish_bulk_load().await?;
        } else {
            // The registry must never be left without its indexes; the stage is rebuilt on re-run.
            store.migrate().await?;
        }
    }
    let index_seconds = index_started.elapsed().as_secs_f64();
    if let Some(e) = write_error {
        bail!("database write failed (committed batches are kept; re-run to complete): {e}");
    }
    let parsed = parsed?;
    bar.set_position(size);
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    store
        .append_audit(vec![cli_audit(
            "citizens.import",
            None,
            "registry_maintenance",
            format!(
                "file={file_name} inserted={} updated={} unchanged={} rejected={}",
                counts.inserted, counts.updated, counts.unchanged, parsed.rejected
            ),
        )])
        .await?;
    let index_seconds = if bulk_load { index_seconds } else { 0.0 };
    Ok(report(&parsed, counts, seconds, bulk_load, index_seconds))
}

fn report(
    parsed: &ParserOutcome,
    counts: UpsertCounts,
    seconds: f64,
    bulk_load: bool,
    index_seconds: f64,
) -> ImportReport {
    ImportReport {
        rows: parsed.rows,
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.unchanged,
        rejected: parsed.rejected,
        seconds,
        rows_per_second: parsed.rows as f64 / seconds.max(1e-9),
        bulk_load,
        index_seconds,
        peak_rss_kib: peak_rss_kib(),
    }
}

/// Writes one batch: appended to the stage during a bulk load, upserted otherwise.
pub async fn write_batch(
    store: &dyn Store,
    bulk_load: bool,
    batch: Vec<Citizen>,
) -> anyhow::Result<UpsertCounts> {
    if bulk_load {
        Ok(store.stage_citizens(batch).await?)
    } else {
        Ok(store.upsert_citizens(batch).await?)
    }
}

/// Peak resident memory of this process (Linux), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn write_csv(
    path: &Path,
    rows: impl Iterator<Item = CitizenInput>,
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
    out.write_record(REQUIRED.iter().chain(&OPTIONAL[..5]))?;
    let mut n = 0u64;
    for row in rows {
        out.write_record(crate::synth::csv_record(&row))?;
        n += 1;
        if n.is_multiple_of(65_536) {
            bar.set_position(n);
        }
    }
    out.flush()?;
    bar.set_position(n);
    Ok(n)
}

/// A CSV file of named, trimmed columns read row by row with line numbers: the shape of the
/// smaller imports (test results, insurance cards).
pub(crate) struct NamedRows<R> {
    reader: csv::Reader<R>,
    headers: csv::StringRecord,
    record: csv::StringRecord,
    line: u64,
}

impl<R: std::io::Read> NamedRows<R> {
    pub(crate) fn new(input: R, required: &[&str]) -> anyhow::Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers = reader
            .headers()
            .context("cannot read the header row")?
            .clone();
        if let Some(needed) = required.iter().find(|n| !headers.iter().any(|h| h == **n)) {
            bail!("the header row has no `{needed}` column");
        }
        Ok(Self {
            reader,
            headers,
            record: csv::StringRecord::new(),
            line: 1,
        })
    }

    /// The next row as `T` (or why it is unreadable) with its line; `None` at the end. Malformed
    /// CSV stops the file: a re-run after fixing it resumes.
    pub(crate) fn next_row<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> anyhow::Result<Option<(u64, Result<T, String>)>> {
        let more = self
            .reader
            .read_record(&mut self.record)
            .with_context(|| format!("line {}: unreadable CSV", self.line + 1))?;
        if !more {
            return Ok(None);
        }
        self.line += 1;
        let row = self
            .record
            .deserialize::<T>(Some(&self.headers))
            .map_err(|e| format!("unreadable row: {e}"));
        Ok(Some((self.line, row)))
    }

    /// Bytes read so far, for the progress bar.
    pub(crate) fn byte(&self) -> u64 {
        self.reader.position().byte()
    }
}
