//! Reading the transform's tables: the rows a snapshot is computed from, and their provenance.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use chrono::NaiveDate;
use outcomes_schemas::tables::{Table, meta};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::error::ReportError;

/// An episode, as far as the snapshot needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRow {
    /// The intake's agency.
    pub agency_id: String,
    /// Intake date.
    pub intake_on: NaiveDate,
    /// Exit date.
    pub exit_on: Option<NaiveDate>,
    /// First service (or assessment, or job start).
    pub first_service_on: Option<NaiveDate>,
    /// First assessment.
    pub first_assessment_on: Option<NaiveDate>,
    /// First job start.
    pub first_placement_on: Option<NaiveDate>,
    /// Days from intake to first service.
    pub days_to_service: Option<i64>,
    /// Days from intake to first job.
    pub days_to_placement: Option<i64>,
}

/// A job, as far as the snapshot needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    /// The placement's agency.
    pub agency_id: String,
    /// The person's pseudonym (for distinct counts only).
    pub person_key: String,
    /// Start date.
    pub start_on: NaiveDate,
    /// Hourly wage.
    pub hourly_wage: f64,
    /// Order within the episode (1 = first job).
    pub job_seq: i64,
    /// Kept 90 days (null: not yet observable).
    pub retained_90d: Option<bool>,
}

/// Monthly wage totals of one agency.
#[derive(Debug, Clone, PartialEq)]
pub struct WageMonthRow {
    /// The job's agency.
    pub agency_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Gross wages reported.
    pub wages_reported: f64,
    /// Distinct persons with wage records in the month.
    pub persons_with_wages: i64,
}

/// The tables of one consortium, read for a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The `as_of` the tables were built for.
    pub as_of: NaiveDate,
    /// The lake watermark the tables were built from (JSON text).
    pub lake_watermark: String,
    /// SHA-256 of each input table file, by file name.
    pub table_hashes: BTreeMap<String, String>,
    /// The wage floor the transform used for this consortium.
    pub wage_floor: f64,
    /// Episodes.
    pub episodes: Vec<EpisodeRow>,
    /// Jobs.
    pub jobs: Vec<JobRow>,
    /// Wage totals by agency (and `ALL`) and month.
    pub wages: Vec<WageMonthRow>,
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();

fn date(days: i32) -> NaiveDate {
    EPOCH + chrono::Duration::days(i64::from(days))
}

struct TableFile {
    path: PathBuf,
    batches: Vec<RecordBatch>,
    metadata: BTreeMap<String, String>,
    hash: String,
}

fn read_table(folder: &Path, table: Table) -> Result<TableFile, ReportError> {
    let path = folder.join(table.file_name());
    let bytes = std::fs::read(&path).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let parquet = |source| ReportError::Parquet {
        path: path.clone(),
        source,
    };
    let file = File::open(&path).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet)?;
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|kv| Some((kv.key.clone(), kv.value.clone()?)))
                .collect()
        })
        .unwrap_or_default();
    let mut batches = Vec::new();
    for batch in builder.build().map_err(parquet)? {
        batches.push(batch.map_err(|source| ReportError::Arrow {
            path: path.clone(),
            source,
        })?);
    }
    Ok(TableFile {
        path,
        batches,
        metadata,
        hash,
    })
}

/// Typed access to one column of a batch, with errors that name the table and column.
struct Columns<'a> {
    path: &'a Path,
    batch: &'a RecordBatch,
}

impl<'a> Columns<'a> {
    fn get(&self, name: &str) -> Result<&'a dyn Array, ReportError> {
        self.batch
            .column_by_name(name)
            .map(|array| array.as_ref())
            .ok_or_else(|| ReportError::Column {
                path: self.path.to_path_buf(),
                column: name.to_owned(),
                problem: "is missing",
            })
    }

    fn typed<T>(
        &self,
        name: &str,
        cast: impl Fn(&'a dyn Array) -> Option<T>,
    ) -> Result<T, ReportError> {
        cast(self.get(name)?).ok_or_else(|| ReportError::Column {
            path: self.path.to_path_buf(),
            column: name.to_owned(),
            problem: "has an unexpected type",
        })
    }

    fn strings(&self, name: &str) -> Result<Vec<Option<String>>, ReportError> {
        let array = self.get(name)?;
        if let Some(a) = array.as_string_opt::<i32>() {
            return Ok(a.iter().map(|v| v.map(str::to_owned)).collect());
        }
        if let Some(a) = array.as_string_view_opt() {
            return Ok(a.iter().map(|v| v.map(str::to_owned)).collect());
        }
        if let Some(a) = array.as_string_opt::<i64>() {
            return Ok(a.iter().map(|v| v.map(str::to_owned)).collect());
        }
        Err(ReportError::Column {
            path: self.path.to_path_buf(),
            column: name.to_owned(),
            problem: "is not text",
        })
    }

    fn dates(&self, name: &str) -> Result<Vec<Option<NaiveDate>>, ReportError> {
        let a = self.typed(name, |a| a.as_primitive_opt::<Date32Type>())?;
        Ok(a.iter().map(|v| v.map(date)).collect())
    }

    fn ints(&self, name: &str) -> Result<Vec<Option<i64>>, ReportError> {
        let a = self.typed(name, |a| a.as_primitive_opt::<Int64Type>())?;
        Ok(a.iter().collect())
    }

    fn floats(&self, name: &str) -> Result<Vec<Option<f64>>, ReportError> {
        let a = self.typed(name, |a| a.as_primitive_opt::<Float64Type>())?;
        Ok(a.iter().collect())
    }

    fn bools(&self, name: &str) -> Result<Vec<Option<bool>>, ReportError> {
        let a = self.typed(name, |a| a.as_boolean_opt())?;
        Ok(a.iter().collect())
    }
}

fn required<T>(value: Option<T>, path: &Path, column: &str) -> Result<T, ReportError> {
    value.ok_or_else(|| ReportError::Column {
        path: path.to_path_buf(),
        column: column.to_owned(),
        problem: "has a null where a value is required",
    })
}

impl Inputs {
    /// Reads `episodes`, `placements`, `employment_outcomes` and `wages_monthly` from
    /// `folder` (the transform's `OUT/tables`), keeping `consortium`'s rows.
    pub fn read(folder: &Path, consortium: &str) -> Result<Self, ReportError> {
        let mut table_hashes = BTreeMap::new();
        let episodes_table = read_table(folder, Table::Episodes)?;
        let as_of_text = episodes_table
            .metadata
            .get(meta::AS_OF)
            .cloned()
            .unwrap_or_default();
        let as_of = NaiveDate::parse_from_str(&as_of_text, "%Y-%m-%d").map_err(|_| {
            ReportError::Provenance {
                path: episodes_table.path.clone(),
                what: "the as_of metadata",
            }
        })?;
        let lake_watermark = episodes_table
            .metadata
            .get(meta::LAKE_WATERMARK)
            .cloned()
            .unwrap_or_else(|| "{}".to_owned());

        let mut episodes = Vec::new();
        for batch in &episodes_table.batches {
            let c = Columns {
                path: &episodes_table.path,
                batch,
            };
            let consortia = c.strings("consortium_id")?;
            let agencies = c.strings("agency_id")?;
            let intakes = c.dates("intake_on")?;
            let exits = c.dates("exit_on")?;
            let services = c.dates("first_service_on")?;
            let assessments = c.dates("first_assessment_on")?;
            let placements = c.dates("first_placement_on")?;
            let to_service = c.ints("days_to_service")?;
            let to_placement = c.ints("days_to_placement")?;
            for i in 0..batch.num_rows() {
                if consortia[i].as_deref() != Some(consortium) {
                    continue;
                }
                episodes.push(EpisodeRow {
                    agency_id: required(agencies[i].clone(), &episodes_table.path, "agency_id")?,
                    intake_on: required(intakes[i], &episodes_table.path, "intake_on")?,
                    exit_on: exits[i],
                    first_service_on: services[i],
                    first_assessment_on: assessments[i],
                    first_placement_on: placements[i],
                    days_to_service: to_service[i],
                    days_to_placement: to_placement[i],
                });
            }
        }
        table_hashes.insert(Table::Episodes.file_name(), episodes_table.hash);

        let placements_table = read_table(folder, Table::Placements)?;
        let mut jobs = Vec::new();
        for batch in &placements_table.batches {
            let c = Columns {
                path: &placements_table.path,
                batch,
            };
            let consortia = c.strings("consortium_id")?;
            let agencies = c.strings("agency_id")?;
            let persons = c.strings("person_key")?;
            let starts = c.dates("start_on")?;
            let wages = c.floats("hourly_wage")?;
            let seqs = c.ints("job_seq")?;
            let retained = c.bools("retained_90d")?;
            for i in 0..batch.num_rows() {
                if consortia[i].as_deref() != Some(consortium) {
                    continue;
                }
                let path = &placements_table.path;
                jobs.push(JobRow {
                    agency_id: required(agencies[i].clone(), path, "agency_id")?,
                    person_key: required(persons[i].clone(), path, "person_key")?,
                    start_on: required(starts[i], path, "start_on")?,
                    hourly_wage: required(wages[i], path, "hourly_wage")?,
                    job_seq: required(seqs[i], path, "job_seq")?,
                    retained_90d: retained[i],
                });
            }
        }
        table_hashes.insert(Table::Placements.file_name(), placements_table.hash);

        let outcomes_table = read_table(folder, Table::EmploymentOutcomes)?;
        let mut wage_floor = None;
        for batch in &outcomes_table.batches {
            let c = Columns {
                path: &outcomes_table.path,
                batch,
            };
            let consortia = c.strings("consortium_id")?;
            let floors = c.floats("wage_floor")?;
            wage_floor = wage_floor.or_else(|| {
                (0..batch.num_rows())
                    .find(|&i| consortia[i].as_deref() == Some(consortium))
                    .and_then(|i| floors[i])
            });
        }
        table_hashes.insert(Table::EmploymentOutcomes.file_name(), outcomes_table.hash);

        let wages_table = read_table(folder, Table::WagesMonthly)?;
        let mut wages = Vec::new();
        for batch in &wages_table.batches {
            let c = Columns {
                path: &wages_table.path,
                batch,
            };
            let consortia = c.strings("consortium_id")?;
            let agencies = c.strings("agency_id")?;
            let months = c.strings("month")?;
            let amounts = c.floats("wages_reported")?;
            let persons = c.ints("persons_with_wages")?;
            for i in 0..batch.num_rows() {
                let agency = agencies[i].clone().unwrap_or_default();
                if consortia[i].as_deref() != Some(consortium) {
                    continue;
                }
                wages.push(WageMonthRow {
                    agency_id: agency,
                    month: months[i].clone().unwrap_or_default(),
                    wages_reported: amounts[i].unwrap_or(0.0),
                    persons_with_wages: persons[i].unwrap_or(0),
                });
            }
        }
        table_hashes.insert(Table::WagesMonthly.file_name(), wages_table.hash);

        Ok(Inputs {
            as_of,
            lake_watermark,
            table_hashes,
            wage_floor: wage_floor.unwrap_or(DEFAULT_WAGE_FLOOR),
            episodes,
            jobs,
            wages,
        })
    }
}

/// The floor used when the tables hold no job of the consortium.
pub const DEFAULT_WAGE_FLOOR: f64 = 7.25;
