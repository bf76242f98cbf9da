//! Flat tables of the analytics reports as CSV and Parquet downloads.

use std::sync::Arc;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use vaxtrace_analytics::report::Counts;

use crate::ApiError;
use crate::analytics::{CoverageReport, CoverageRow, FlowReport};
use crate::routes::declarations::{csv_download, push_csv_row};

/// One column of a table.
#[derive(Debug)]
pub enum Column {
    Text(Vec<String>),
    Int(Vec<i64>),
    /// Nulls where there is none (a day that has not come).
    OptInt(Vec<Option<i64>>),
    /// Nulls where there is no value (a rate over no one).
    Float(Vec<Option<f64>>),
}

#[derive(Debug, Default)]
pub struct Table {
    pub columns: Vec<(&'static str, Column)>,
}

impl Table {
    fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| match c {
            Column::Text(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::OptInt(v) => v.len(),
            Column::Float(v) => v.len(),
        })
    }

    pub fn csv(&self) -> String {
        let mut out = String::new();
        let names: Vec<String> = self.columns.iter().map(|(n, _)| (*n).to_owned()).collect();
        push_csv_row(&mut out, &names);
        for i in 0..self.rows() {
            let fields: Vec<String> = self
                .columns
                .iter()
                .map(|(_, c)| match c {
                    Column::Text(v) => v[i].clone(),
                    Column::Int(v) => v[i].to_string(),
                    Column::OptInt(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
                    Column::Float(v) => v[i].map(|x| format!("{x:.6}")).unwrap_or_default(),
                })
                .collect();
            push_csv_row(&mut out, &fields);
        }
        out
    }

    pub fn parquet(&self) -> Result<Vec<u8>, parquet::errors::ParquetError> {
        let mut buf = Vec::new();
        let mut writer = ParquetWriter::new(&mut buf, self)?;
        writer.write(self)?;
        writer.close()?;
        Ok(buf)
    }
}

/// A Parquet file written a row group (one [`Table`] of the same columns) at a time, so large
/// exports stream.
pub struct ParquetWriter<W: std::io::Write + Send> {
    inner: SerializedFileWriter<W>,
}

impl<W: std::io::Write + Send> std::fmt::Debug for ParquetWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParquetWriter")
    }
}

impl<W: std::io::Write + Send> ParquetWriter<W> {
    /// A file whose schema is that of `like`'s columns.
    pub fn new(out: W, like: &Table) -> Result<Self, parquet::errors::ParquetError> {
        use parquet::basic::{LogicalType, Repetition, Type as Physical};
        let fields = like
            .columns
            .iter()
            .map(|(name, c)| {
                let (physical, repetition, logical) = match c {
                    Column::Text(_) => (
                        Physical::BYTE_ARRAY,
                        Repetition::REQUIRED,
                        Some(LogicalType::String),
                    ),
                    Column::Int(_) => (Physical::INT64, Repetition::REQUIRED, None),
                    Column::OptInt(_) => (Physical::INT64, Repetition::OPTIONAL, None),
                    Column::Float(_) => (Physical::DOUBLE, Repetition::OPTIONAL, None),
                };
                Type::primitive_type_builder(name, physical)
                    .with_repetition(repetition)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Arc::new(
            Type::group_type_builder("table")
                .with_fields(fields)
                .build()?,
        );
        let props = Arc::new(WriterProperties::builder().build());
        Ok(Self {
            inner: SerializedFileWriter::new(out, schema, props)?,
        })
    }

    /// Writes `table` (same columns, in order) as one row group.
    pub fn write(&mut self, table: &Table) -> Result<(), parquet::errors::ParquetError> {
        let mut group = self.inner.next_row_group()?;
        let mut columns = table.columns.iter();
        while let Some(mut out) = group.next_column()? {
            let Some((_, column)) = columns.next() else {
                break;
            };
            match column {
                Column::Text(v) => {
                    let values: Vec<ByteArray> =
                        v.iter().map(|s| ByteArray::from(s.as_str())).collect();
                    out.typed::<ByteArrayType>()
                        .write_batch(&values, None, None)?;
                }
                Column::Int(v) => {
                    out.typed::<Int64Type>().write_batch(v, None, None)?;
                }
                Column::OptInt(v) => {
                    let values: Vec<i64> = v.iter().flatten().copied().collect();
                    let levels: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                    out.typed::<Int64Type>()
                        .write_batch(&values, Some(&levels), None)?;
                }
                Column::Float(v) => {
                    let values: Vec<f64> = v.iter().flatten().copied().collect();
                    let levels: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                    out.typed::<DoubleType>()
                        .write_batch(&values, Some(&levels), None)?;
                }
            }
            out.close()?;
        }
        group.close().map(|_| ())
    }

    pub fn close(self) -> Result<(), parquet::errors::ParquetError> {
        self.inner.close().map(|_| ())
    }
}

/// The coverage report, one row per unit then the area's total.
pub fn coverage_table(report: &CoverageReport) -> Table {
    let rows: Vec<&CoverageRow> = report.units.iter().chain([&report.total]).collect();
    let text =
        |f: &dyn Fn(&CoverageRow) -> String| Column::Text(rows.iter().map(|r| f(r)).collect());
    let int = |f: &dyn Fn(&CoverageRow) -> i64| Column::Int(rows.iter().map(|r| f(r)).collect());
    let rate = |f: &dyn Fn(&CoverageRow) -> Option<f64>| {
        Column::Float(rows.iter().map(|r| f(r)).collect())
    };
    let counts = |c: Option<Counts>| c.unwrap_or_default();
    Table {
        columns: vec![
            ("date", text(&|_| report.date.clone())),
            (
                "basis",
                text(&|_| format!("{:?}", report.basis).to_lowercase()),
            ),
            ("code", text(&|r| r.unit.code.to_owned())),
            ("name", text(&|r| r.unit.name.to_owned())),
            ("level", text(&|r| r.unit.level.to_owned())),
            ("population", int(&|r| counts(r.coverage.population).all)),
            (
                "population_adults",
                int(&|r| counts(r.coverage.population).adults),
            ),
            (
                "population_12_17",
                int(&|r| counts(r.coverage.population).age_12_17),
            ),
            (
                "population_65_plus",
                int(&|r| counts(r.coverage.population).age_65_plus),
            ),
            ("dose1", int(&|r| counts(r.coverage.dose1).all)),
            ("dose1_adults", int(&|r| counts(r.coverage.dose1).adults)),
            (
                "rate_dose1_adults",
                rate(&|r| r.coverage.rate_dose1.and_then(|x| x.adults)),
            ),
            ("full", int(&|r| counts(r.coverage.full).all)),
            ("full_adults", int(&|r| counts(r.coverage.full).adults)),
            (
                "rate_full_adults",
                rate(&|r| r.coverage.rate_full.and_then(|x| x.adults)),
            ),
            ("booster", int(&|r| counts(r.coverage.booster).all)),
            ("doses", int(&|r| r.coverage.doses.total)),
        ],
    }
}

pub fn flows_table(report: &FlowReport) -> Table {
    let f = &report.flows;
    Table {
        columns: vec![
            (
                "from",
                Column::Text(f.iter().map(|_| report.from.clone()).collect()),
            ),
            (
                "to",
                Column::Text(f.iter().map(|_| report.to.clone()).collect()),
            ),
            (
                "origin_code",
                Column::Text(f.iter().map(|r| r.origin.code.to_owned()).collect()),
            ),
            (
                "origin_name",
                Column::Text(f.iter().map(|r| r.origin.name.to_owned()).collect()),
            ),
            (
                "destination_code",
                Column::Text(f.iter().map(|r| r.destination.code.to_owned()).collect()),
            ),
            (
                "destination_name",
                Column::Text(f.iter().map(|r| r.destination.name.to_owned()).collect()),
            ),
            (
                "declarations",
                Column::Int(f.iter().map(|r| r.declarations).collect()),
            ),
            ("scans", Column::Int(f.iter().map(|r| r.scans).collect())),
        ],
    }
}

/// The table as JSON's alternative named by `?format=`: `csv` or `parquet`.
pub fn download(table: &Table, format: &str, stem: &str) -> Result<Response, ApiError> {
    match format {
        "csv" => Ok(csv_download(&format!("{stem}.csv"), table.csv())),
        "parquet" => {
            let body = table.parquet().map_err(|e| {
                tracing::error!(error = %e, "parquet export failed");
                ApiError::internal()
            })?;
            let disposition = format!("attachment; filename=\"{stem}.parquet\"");
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.apache.parquet".to_owned(),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                body,
            )
                .into_response())
        }
        _ => Err(ApiError::invalid_field(
            "format",
            "unknown_format",
            "Định dạng không hợp lệ (json, csv, parquet)",
            "Unknown format (json, csv or parquet)",
        )),
    }
}
