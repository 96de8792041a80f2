//! The table contract of `outcomes_schemas::tables`, enforced before a table is written: a
//! table whose columns drifted from their declaration is an error, not a file the report
//! would misread.

use outcomes_schemas::tables::{ColumnType, Table};
use polars::prelude::{DataType, Schema};

use crate::error::TransformError;

/// The Polars type a contract type is written as.
fn polars_type(kind: ColumnType) -> DataType {
    match kind {
        ColumnType::Text => DataType::String,
        ColumnType::Int => DataType::Int64,
        ColumnType::Float => DataType::Float64,
        ColumnType::Date => DataType::Date,
        ColumnType::Bool => DataType::Boolean,
    }
}

/// Checks that `schema` has exactly the contract's columns of `table`, in order and by type.
pub(crate) fn check(table: Table, schema: &Schema) -> Result<(), TransformError> {
    let found: Vec<(String, DataType)> = schema
        .iter()
        .map(|(name, kind)| (name.to_string(), kind.clone()))
        .collect();
    let declared: Vec<(String, DataType)> = table
        .columns()
        .iter()
        .map(|column| (column.name.to_owned(), polars_type(column.kind)))
        .collect();
    if found == declared {
        return Ok(());
    }
    let detail = declared
        .iter()
        .zip(&found)
        .find(|(declared, found)| declared != found)
        .map_or_else(
            || {
                format!(
                    "{} columns declared, {} computed",
                    declared.len(),
                    found.len()
                )
            },
            |((name, kind), (found_name, found_kind))| {
                format!("declared {name}: {kind}, computed {found_name}: {found_kind}")
            },
        );
    Err(TransformError::Contract { table, detail })
}

#[cfg(test)]
mod tests {
    use outcomes_schemas::tables::columns::data_quality;
    use polars::prelude::*;

    use super::*;

    #[test]
    fn drift_is_named() {
        let columns = Table::DataQuality.columns();
        let mut schema: Schema = columns
            .iter()
            .map(|column| Field::new(column.name.into(), polars_type(column.kind)))
            .collect();
        assert!(check(Table::DataQuality, &schema).is_ok());

        schema.set_dtype(data_quality::EVENTS, DataType::Float64);
        let error = check(Table::DataQuality, &schema).unwrap_err().to_string();
        assert!(
            error.contains("declared events: i64, computed events: f64"),
            "{error}"
        );

        let fewer: Schema = schema.iter_fields().take(3).collect();
        let error = check(Table::DataQuality, &fewer).unwrap_err().to_string();
        assert!(error.contains("4 columns declared, 3 computed"), "{error}");
    }
}
