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
pub(crate) fn scan(
    table: &TableFiles,
    schema: &arrow_schema::Schema,
) -> Result<LazyFrame, TransformError> {
    let mut consortia: Vec<(&str, Vec<PlRefPath>)> = Vec::new();
    for file in &table.files {
        let path = PlRefPath::new(file.location.as_str());
        match consortia.iter_mut().find(|(id, _)| *id == file.consortium) {
            Some((_, paths)) => paths.push(path),
            None => consortia.push((&file.consortium, vec![path])),
        }
    }
    let args = ScanArgsParquet {
        glob: false,
        ..ScanArgsParquet::default()
    };
    let frames = consortia
        .into_iter()
        .map(|(consortium, paths)| {
            LazyFrame::scan_parquet_files(paths.into_iter().collect(), args.clone())
                .map(|frame| frame.with_column(lit(consortium).alias(PARTITION_COLUMN)))
        })
        .collect::<PolarsResult<Vec<_>>>()
        .map_err(TransformError::Polars)?;
    let mut frames = frames;
    match frames.len() {
        0 => Ok(DataFrame::empty_with_schema(&polars_schema(schema)).lazy()),
        1 => Ok(frames.remove(0)),
        _ => concat(frames, UnionArgs::default()).map_err(TransformError::Polars),
    }
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
