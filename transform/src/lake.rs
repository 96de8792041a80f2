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

/// Scans a table's files lazily, or an empty frame of `schema` when there are none. Delta
/// keeps the partition column (the consortium) in the log, not in the files: each
/// consortium's files are scanned together and given it back as a constant.
///
/// With `row_index`, the rows are numbered in that column from 0 in the order of the scan, by
/// the reader itself: a number given after the scan would keep every filter above it from
/// reaching the reader, which then decodes every row of every column it reads.
pub(crate) fn scan(
    table: &TableFiles,
    schema: &arrow_schema::Schema,
    row_index: Option<&str>,
) -> Result<LazyFrame, TransformError> {
    let mut consortia: Vec<(&str, Vec<&DataFile>)> = Vec::new();
    for file in &table.files {
        match consortia.iter_mut().find(|(id, _)| *id == file.consortium) {
            Some((_, files)) => files.push(file),
            None => consortia.push((&file.consortium, vec![file])),
        }
    }
    let mut frames = Vec::with_capacity(consortia.len());
    let mut offset: IdxSize = 0;
    for (consortium, files) in consortia {
        let paths: Vec<PlRefPath> = files
            .iter()
            .map(|file| PlRefPath::new(file.location.as_str()))
            .collect();
        let args = ScanArgsParquet {
            glob: false,
            row_index: row_index.map(|name| RowIndex {
                name: name.into(),
                offset,
            }),
            ..ScanArgsParquet::default()
        };
        if row_index.is_some() {
            offset = rows(&files, &paths)?
                .checked_add(offset)
                .ok_or_else(
                    || polars_err!(ComputeError: "more lake rows than row numbers can count"),
                )
                .map_err(TransformError::Polars)?;
        }
        let frame = LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
            .map_err(TransformError::Polars)?;
        frames.push(frame.with_column(lit(consortium).alias(PARTITION_COLUMN)));
    }
    match frames.len() {
        0 => {
            let empty = DataFrame::empty_with_schema(&polars_schema(schema)).lazy();
            Ok(match row_index {
                Some(name) => empty.with_row_index(name, None),
                None => empty,
            })
        }
        1 => Ok(frames.remove(0)),
        _ => concat(frames, UnionArgs::default()).map_err(TransformError::Polars),
    }
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
