//! Reading the transform's tables: the rows a snapshot is computed from, and their provenance.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use chrono::NaiveDate;
use outcomes_schemas::tables::columns::measures;
use outcomes_schemas::tables::{ColumnType, Measure, Table, meta};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::ALL;
use crate::error::ReportError;
use crate::period::Period;
use crate::snapshot::{RawRow, Value};

/// The `measures` rows of one consortium, read for a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The `as_of` the tables were built for.
    pub as_of: NaiveDate,
    /// The lake table versions the tables were built from (JSON text).
    pub(crate) lake_versions: String,
    /// SHA-256 of each input table file, by file name.
    pub(crate) table_hashes: BTreeMap<String, String>,
    /// The wage floor the transform used for this consortium.
    pub(crate) wage_floor: f64,
    /// Exact values by period: a row per agency, then `ALL`.
    pub(crate) periods: BTreeMap<Period, Vec<RawRow>>,
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
    /// Reads `measures` from `folder` (the transform's `OUT/tables`), keeping `consortium`'s
    /// rows; a consortium the table does not hold is an error that lists those it does.
    pub fn read(folder: &Path, consortium: &str) -> Result<Self, ReportError> {
        let table = read_table(folder, Table::Measures)?;
        let provenance = |key: &str, what: &'static str| {
            table
                .metadata
                .get(key)
                .cloned()
                .ok_or_else(|| ReportError::Provenance {
                    path: table.path.clone(),
                    what,
                })
        };
        let as_of_text = provenance(meta::AS_OF, "the as_of metadata")?;
        let as_of = NaiveDate::parse_from_str(&as_of_text, "%Y-%m-%d").map_err(|_| {
            ReportError::Provenance {
                path: table.path.clone(),
                what: "the as_of metadata",
            }
        })?;
        let lake_versions = provenance(meta::LAKE_VERSIONS, "lake versions metadata")?;
        let mut periods: BTreeMap<Period, Vec<RawRow>> = BTreeMap::new();
        let mut consortia = BTreeSet::new();
        let mut wage_floor = None;
        for batch in &table.batches {
            let c = Columns {
                path: &table.path,
                batch,
            };
            for row in measure_rows(&c, consortium, &mut consortia, &mut wage_floor)? {
                periods.entry(row.0).or_default().push(row.1);
            }
        }
        let Some(wage_floor) = wage_floor else {
            return Err(ReportError::UnknownConsortium {
                consortium: consortium.to_owned(),
                known: consortia.into_iter().collect(),
            });
        };
        for rows in periods.values_mut() {
            // Agencies in order, then ALL, as the snapshot lists them.
            rows.sort_by(|a, b| {
                (a.agency_id == ALL, &a.agency_id).cmp(&(b.agency_id == ALL, &b.agency_id))
            });
        }
        Ok(Inputs {
            as_of,
            lake_versions,
            table_hashes: BTreeMap::from([(Table::Measures.file_name(), table.hash)]),
            wage_floor,
            periods,
        })
    }
}

/// One measure's column of a batch.
enum Cells {
    Counts(Vec<Option<i64>>),
    Numbers(Vec<Option<f64>>),
    Flags(Vec<Option<bool>>),
}

/// A measure's column and, for a statistic, its item counts' column (name and values).
type MeasureColumn = (Measure, Cells, Option<(&'static str, Vec<Option<i64>>)>);

/// Every measure's columns of a batch, read by the types the contract gives them.
fn measure_columns(c: &Columns<'_>) -> Result<Vec<MeasureColumn>, ReportError> {
    Measure::ALL
        .into_iter()
        .map(|measure| {
            let name = measure.name();
            let cells = match measure.kind() {
                ColumnType::Int => Cells::Counts(c.ints(name)?),
                ColumnType::Bool => Cells::Flags(c.bools(name)?),
                _ => Cells::Numbers(c.floats(name)?),
            };
            let items = measure
                .items_column()
                .map(|name| Ok((name, c.ints(name)?)))
                .transpose()?;
            Ok((measure, cells, items))
        })
        .collect()
}

/// The rows of `consortium` in one batch as `(period, exact row)`; notes every consortium
/// seen and the consortium's wage floor.
fn measure_rows(
    c: &Columns<'_>,
    consortium: &str,
    consortia: &mut BTreeSet<String>,
    wage_floor: &mut Option<f64>,
) -> Result<Vec<(Period, RawRow)>, ReportError> {
    let ids = c.strings(measures::CONSORTIUM_ID)?;
    let agencies = c.strings(measures::AGENCY_ID)?;
    let labels = c.strings(measures::PERIOD)?;
    let floors = c.floats(measures::WAGE_FLOOR)?;
    let columns = measure_columns(c)?;
    let mut rows = Vec::new();
    for i in 0..ids.len() {
        let id = required(ids[i].clone(), c.path, measures::CONSORTIUM_ID)?;
        if id != consortium {
            consortia.insert(id);
            continue;
        }
        *wage_floor = Some(required(floors[i], c.path, measures::WAGE_FLOOR)?);
        let label = required(labels[i].clone(), c.path, measures::PERIOD)?;
        let period: Period = label.parse().map_err(|_| ReportError::Column {
            path: c.path.to_path_buf(),
            column: measures::PERIOD.to_owned(),
            problem: "holds a label that is not a month or a quarter",
        })?;
        rows.push((
            period,
            RawRow {
                agency_id: required(agencies[i].clone(), c.path, measures::AGENCY_ID)?,
                values: columns
                    .iter()
                    .map(|(measure, cells, items)| {
                        let value = match cells {
                            Cells::Counts(n) => {
                                Value::Count(required(n[i], c.path, measure.name())?)
                            }
                            Cells::Numbers(x) => Value::Number(x[i]),
                            Cells::Flags(b) => Value::Flag(b[i]),
                        };
                        let items = match items {
                            Some((name, n)) => required(n[i], c.path, name)?,
                            None => 0,
                        };
                        Ok((*measure, value, items))
                    })
                    .collect::<Result<_, ReportError>>()?,
            },
        ));
    }
    Ok(rows)
}
