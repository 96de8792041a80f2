//! Text keys (consortium, person, job) turned into the run's integer codes while the lake is
//! scanned, by a hash map looked up in an expression.
//!
//! A join on the text columns in their place costs Polars a row encoding of every probed
//! row's key and a comparison of those bytes (at 10M events, the person codes of the kept
//! events and the jobs of the wage records were a fifth of `perf`'s samples); a lookup hashes
//! the key's text where it lies in the read buffers and allocates nothing per row.

use std::sync::Arc;

use polars::prelude::*;

/// Codes of composite text keys: each key a fixed list of string columns.
#[derive(Clone)]
pub(super) struct KeyIndex {
    columns: Arc<[PlSmallStr]>,
    codes: Arc<PlHashMap<Box<[u8]>, IdxSize>>,
}

/// The string columns `names` of `frame`, or an error naming the one that is not text.
fn texts<'a>(frame: &'a [Column], names: &[PlSmallStr]) -> PolarsResult<Vec<&'a StringChunked>> {
    frame
        .iter()
        .zip(names)
        .map(|(column, name)| {
            column.str().map_err(|_| {
                PolarsError::ComputeError(format!("key column {name} is not text").into())
            })
        })
        .collect()
}

/// Calls `each` with every row's key as bytes (each part prefixed by its length, so that no
/// two different keys give the same bytes), or `None` when a part is null: a null key
/// matches nothing, as in a join.
fn for_each_key(columns: &[&StringChunked], mut each: impl FnMut(Option<&[u8]>)) {
    let height = columns.first().map_or(0, |column| column.len());
    let mut parts: Vec<_> = columns.iter().map(|column| column.iter()).collect();
    let mut bytes = Vec::new();
    for _ in 0..height {
        bytes.clear();
        let mut complete = true;
        for part in &mut parts {
            match part.next().flatten() {
                Some(text) => {
                    bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
                    bytes.extend_from_slice(text.as_bytes());
                }
                None => complete = false,
            }
        }
        each(complete.then_some(bytes.as_slice()));
    }
}

impl KeyIndex {
    /// The codes of `frame`'s rows: its `columns` as the key, `code` (an index column) as
    /// the value. Keys are expected to be distinct; the last row of a repeated key wins.
    pub(super) fn new(frame: &DataFrame, columns: &[&str], code: &str) -> PolarsResult<Self> {
        let names: Arc<[PlSmallStr]> = columns.iter().map(|name| (*name).into()).collect();
        let key_columns = columns
            .iter()
            .map(|name| frame.column(name).cloned())
            .collect::<PolarsResult<Vec<_>>>()?;
        let keys = texts(&key_columns, &names)?;
        let mut values = frame.column(code)?.idx()?.iter();
        let mut codes = PlHashMap::with_capacity(frame.height());
        for_each_key(&keys, |key| {
            let value = values.next().flatten();
            if let (Some(key), Some(value)) = (key, value) {
                codes.insert(key.into(), value);
            }
        });
        Ok(KeyIndex {
            columns: names,
            codes: Arc::new(codes),
        })
    }

    /// The code of each row's key, named `name`; null where the key is unknown or null.
    pub(super) fn code(&self, name: &str) -> Expr {
        let index = self.clone();
        let mut inputs = self.columns.iter().map(|column| col(column.clone()));
        let first = inputs.next().unwrap_or_else(|| lit(NULL));
        let output = PlSmallStr::from(name);
        first
            .map_many(
                move |frame| index.lookup(frame),
                &inputs.collect::<Vec<_>>(),
                move |_, _| Ok(Field::new(output.clone(), IDX_DTYPE)),
            )
            .alias(name)
    }

    fn lookup(&self, frame: &mut [Column]) -> PolarsResult<Column> {
        let keys = texts(frame, &self.columns)?;
        let mut codes = Vec::with_capacity(frame.first().map_or(0, Column::len));
        for_each_key(&keys, |key| {
            codes.push(key.and_then(|key| self.codes.get(key).copied()));
        });
        Ok(IdxCa::from_iter_options(PlSmallStr::EMPTY, codes.into_iter()).into_column())
    }
}
