//! Reading the event lake: the active files of each Delta table's current version.

use outcomes_lake::{DataFile, Listing, Location, PARTITION_COLUMN, TableFiles};
use polars::prelude::*;

use crate::error::TransformError;

/// Lists the lake at `location`: every active data file of both tables.
pub(crate) fn list(location: &Location) -> Result<Listing, TransformError> {
    Listing::read_blocking(location).map_err(TransformError::Lake)
}

fn polars_type(data_type: &arrow_schema::DataType) -> DataType {
    use arrow_schema::DataType as Arrow;
    match data_type {
        Arrow::Utf8 => DataType::String,
        Arrow::Date32 => DataType::Date,
        Arrow::Timestamp(_, _) => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
        Arrow::Float64 => DataType::Float64,
        Arrow::Boolean => DataType::Boolean,
        Arrow::Int32 => DataType::Int32,
        Arrow::Int64 => DataType::Int64,
        _ => DataType::Binary,
    }
}

fn polars_schema(schema: &arrow_schema::Schema) -> Schema {
    schema
        .fields()
        .iter()
        .map(|field| Field::new(field.name().as_str().into(), polars_type(field.data_type())))
        .collect()
}

/// One consortium's files of the events table: a lazy scan of them, its rows numbered in
/// `plan::ROW` from `first_row` on.
pub(crate) struct Shard {
    /// The scan, with the consortium column given back.
    pub(crate) frame: LazyFrame,
    /// The row number of its first row.
    pub(crate) first_row: IdxSize,
    /// Its number of rows (visible or not).
    pub(crate) rows: IdxSize,
}

/// Scans a table's files lazily, each consortium's files together: Delta keeps the partition
/// column (the consortium) in the log, not in the files, so each consortium's scan is given it
/// back as a constant.
///
/// With `row_index`, the rows are numbered in that column from 0 in the order of the scans,
/// by the reader itself: a number given after the scan would keep every filter above it from
/// reaching the reader, which then decodes every row of every column it reads. A table without
/// files is one empty shard of `schema`.
pub(crate) fn shards(
    table: &TableFiles,
    schema: &arrow_schema::Schema,
    row_index: Option<&str>,
) -> Result<Vec<Shard>, TransformError> {
    let mut consortia: Vec<(&str, Vec<&DataFile>)> = Vec::new();
    for file in &table.files {
        match consortia.iter_mut().find(|(id, _)| *id == file.consortium) {
            Some((_, files)) => files.push(file),
            None => consortia.push((&file.consortium, vec![file])),
        }
    }
    let mut shards = Vec::with_capacity(consortia.len());
    let mut first_row: IdxSize = 0;
    for (consortium, files) in consortia {
        let paths: Vec<PlRefPath> = files
            .iter()
            .map(|file| PlRefPath::new(file.location.as_str()))
            .collect();
        let args = ScanArgsParquet {
            glob: false,
            row_index: row_index.map(|name| RowIndex {
                name: name.into(),
                offset: first_row,
            }),
            ..ScanArgsParquet::default()
        };
        let rows = if row_index.is_some() {
            rows(&files, &paths)?
        } else {
            0
        };
        let frame = LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
            .map_err(TransformError::Polars)?
            .with_column(lit(consortium).alias(PARTITION_COLUMN));
        shards.push(Shard {
            frame,
            first_row,
            rows,
        });
        first_row = first_row
            .checked_add(rows)
            .ok_or_else(|| polars_err!(ComputeError: "more lake rows than row numbers can count"))
            .map_err(TransformError::Polars)?;
    }
    if shards.is_empty() {
        let empty = DataFrame::empty_with_schema(&polars_schema(schema)).lazy();
        let frame = match row_index {
            Some(name) => empty.with_row_index(name, None),
            None => empty,
        };
        shards.push(Shard {
            frame,
            first_row: 0,
            rows: 0,
        });
    }
    Ok(shards)
}

/// Scans a table's files lazily: all of its [`shards`] in one frame.
pub(crate) fn scan(
    table: &TableFiles,
    schema: &arrow_schema::Schema,
) -> Result<LazyFrame, TransformError> {
    let frames = shards(table, schema, None)?
        .into_iter()
        .map(|shard| shard.frame);
    concat(frames.collect::<Vec<_>>(), UnionArgs::default()).map_err(TransformError::Polars)
}

/// The number of rows in `files` (at `paths`): from the statistics of the Delta log, else
/// from the files' footers.
fn rows(files: &[&DataFile], paths: &[PlRefPath]) -> Result<IdxSize, TransformError> {
    let too_many = || polars_err!(ComputeError: "more lake rows than row numbers can count");
    if let Some(logged) = files.iter().map(|file| file.rows).sum::<Option<u64>>() {
        return IdxSize::try_from(logged)
            .map_err(|_| too_many())
            .map_err(TransformError::Polars);
    }
    let args = ScanArgsParquet {
        glob: false,
        ..ScanArgsParquet::default()
    };
    let counted = LazyFrame::scan_parquet_files(paths.iter().cloned().collect(), args)
        .and_then(|frame| frame.select([len()]).collect())
        .and_then(|counted| Ok(counted.column("len")?.idx()?.get(0).unwrap_or(0)))
        .map_err(TransformError::Polars)?;
    Ok(counted)
}

/// The first active lake file that cannot be read whole, as an error naming it. Reading
/// every file is slow on a large lake; it runs only after a scan has failed.
pub(crate) fn find_damaged(listing: &Listing) -> Option<TransformError> {
    let mut files = listing.events.files.iter().chain(&listing.rejected.files);
    files.find_map(|DataFile { location, .. }| {
        let args = ScanArgsParquet {
            glob: false,
            ..ScanArgsParquet::default()
        };
        let read = LazyFrame::scan_parquet(PlRefPath::new(location.as_str()), args)
            .and_then(LazyFrame::collect);
        read.err().map(|source| TransformError::DamagedLakeFile {
            location: location.clone(),
            source,
        })
    })
}
