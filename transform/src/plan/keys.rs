//! Text keys (consortium, person, job) turned into the run's integer codes while the lake is
//! scanned, by a hash map looked up in an expression.
//!
//! A join on the text columns in their place costs Polars a row encoding of every probed
//! row's key and a comparison of those bytes (at 10M events, the person codes of the kept
//! events and the jobs of the wage records were a fifth of `perf`'s samples); a lookup hashes
//! the key's text where it lies in the read buffers and allocates nothing per row.
//!
//! The map holds a 128-bit fingerprint of each key, not its text: a lookup is then one probe
//! of a compact table, where comparing the text cost a second cache miss per row into the
//! stored keys (with text keys, `perf` showed the lookups of the 10M run at 11 % of its
//! samples, most of them `memcmp` on the stored keys). Keys of the index that share a
//! fingerprint fail the run; a key outside the index is taken for one inside only if their
//! fingerprints collide, which for 10^7 lookups against 10^6 keys has a chance of about
//! 10^13 / 2^128, or 3 in 10^26: far below that of a memory error on the machine.

use std::sync::Arc;

use polars::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

/// Codes of composite text keys: each key a fixed list of string columns.
#[derive(Clone)]
pub(super) struct KeyIndex {
    columns: Arc<[PlSmallStr]>,
    codes: Arc<PlHashMap<u128, IdxSize>>,
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

/// Calls `each` with the fingerprint of every row's key (xxh3-128 of its parts, each prefixed
/// by its length, so that no two different keys give the same bytes), or `None` when a part
/// is null: a null key matches nothing, as in a join.
///
/// A key equal to the previous row's is not hashed again: half the wage records at 10M events
/// follow a record of the same job in the lake.
fn for_each_key(columns: &[&StringChunked], mut each: impl FnMut(Option<u128>)) {
    let height = columns.first().map_or(0, |column| column.len());
    let mut parts: Vec<_> = columns.iter().map(|column| column.iter()).collect();
    let (mut bytes, mut previous) = (Vec::new(), Vec::new());
    let mut fingerprint = None;
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
        if !complete {
            each(None);
            continue;
        }
        if fingerprint.is_none() || bytes != previous {
            fingerprint = Some(xxh3_128(&bytes));
            std::mem::swap(&mut bytes, &mut previous);
        }
        each(fingerprint);
    }
}

impl KeyIndex {
    /// The codes of `frame`'s rows: its `columns` as the key, `code` (an index column) as
    /// the value. The keys must be distinct.
    pub(super) fn new(frame: &DataFrame, columns: &[&str], code: &str) -> PolarsResult<Self> {
        let names: Arc<[PlSmallStr]> = columns.iter().map(|name| (*name).into()).collect();
        let key_columns = columns
            .iter()
            .map(|name| frame.column(name).cloned())
            .collect::<PolarsResult<Vec<_>>>()?;
        let keys = texts(&key_columns, &names)?;
        let mut values = frame.column(code)?.idx()?.iter();
        let mut codes = PlHashMap::with_capacity(frame.height());
        let mut repeated = 0usize;
        for_each_key(&keys, |key| {
            let value = values.next().flatten();
            if let (Some(key), Some(value)) = (key, value) {
                repeated += usize::from(codes.insert(key, value).is_some());
            }
        });
        if repeated > 0 {
            return Err(PolarsError::ComputeError(
                format!(
                    "{repeated} keys ({}) share a fingerprint with another: repeated keys, \
                     or a 128-bit hash collision",
                    columns.join(", ")
                )
                .into(),
            ));
        }
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
        // The previous row's key and code: runs of one key probe the map once.
        let mut last: Option<(u128, Option<IdxSize>)> = None;
        for_each_key(&keys, |key| {
            let code = key.and_then(|key| match last {
                Some((seen, code)) if seen == key => code,
                _ => {
                    let code = self.codes.get(&key).copied();
                    last = Some((key, code));
                    code
                }
            });
            codes.push(code);
        });
        Ok(IdxCa::from_iter_options(PlSmallStr::EMPTY, codes.into_iter()).into_column())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> PolarsResult<KeyIndex> {
        let keys = df!(
            "consortium" => ["c1", "c1", "c2"],
            "person" => ["p1", "p2", "p1"],
            "code" => [10 as IdxSize, 11, 12],
        )?;
        KeyIndex::new(&keys, &["consortium", "person"], "code")
    }

    #[test]
    fn looks_up_whole_keys_and_nothing_else() -> PolarsResult<()> {
        let probes = df!(
            "consortium" => [Some("c2"), Some("c1"), Some("c1"), None, Some("c1p"), Some("c")],
            "person" => [Some("p1"), Some("p2"), Some("p3"), Some("p1"), Some("1"), Some("1p1")],
        )?;
        let coded = probes.lazy().select([index()?.code("code")]).collect()?;
        let codes: Vec<Option<IdxSize>> = coded.column("code")?.idx()?.iter().collect();
        // c2/p1 and c1/p2 are known; c1/p3 is not; a null part matches nothing; "c1p"+"1"
        // and "c"+"1p1" concatenate to the same text as c1/p1 but are other keys.
        assert_eq!(codes, [Some(12), Some(11), None, None, None, None]);
        Ok(())
    }

    #[test]
    fn refuses_repeated_keys() -> PolarsResult<()> {
        let keys = df!(
            "consortium" => ["c1", "c1"],
            "person" => ["p1", "p1"],
            "code" => [1 as IdxSize, 2],
        )?;
        let error = KeyIndex::new(&keys, &["consortium", "person"], "code")
            .err()
            .map(|error| error.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("consortium, person")),
            "{error:?}"
        );
        Ok(())
    }
}
