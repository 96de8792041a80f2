//! Which part of a run reads each lake row: rules 3 to 5 stay within one person, so a large
//! lake is done in parts, people split between them by a hash of their key.
//!
//! The split is decided once, in one narrow pass over the lake, and kept as a part number per
//! lake row; each part's scans then test a row's number instead of hashing its person key
//! again. Hashing the key in every scan of every part made each part's reads nearly as slow as
//! a whole run at a third of the size (30M events in two parts, docs/BENCHMARKS.md).

use std::sync::Arc;

use polars::prelude::*;

use super::by_row;

/// The part of a row that no part reads: not visible, or dropped by rules 1 and 2.
const NONE: u16 = u16::MAX;

/// The most parts a run can have (one part number per row, `u16`, [`NONE`] aside).
pub(super) const MAX_PARTS: u16 = NONE;

/// The part of each lake row that rules 3 to 5 read, by [`ROW`](super::ROW): two bytes per lake row,
/// 20 MB at 10M rows.
#[derive(Clone)]
pub(super) struct RowParts(Arc<Vec<u16>>);

impl RowParts {
    /// Every row of `visible` (row numbers) in part 0, every other row in none.
    pub(super) fn one(visible: &IdxCa) -> Self {
        let rows = visible.max().map_or(0, |last| last as usize + 1);
        let mut parts = vec![NONE; rows];
        for row in visible.into_no_null_iter() {
            parts[row as usize] = 0;
        }
        RowParts(Arc::new(parts))
    }

    /// Moves each row of `rows` (row numbers) to its part in `parts` (part numbers below
    /// [`MAX_PARTS`]).
    pub(super) fn split(&mut self, rows: &IdxCa, parts: &UInt32Chunked) {
        let own = Arc::make_mut(&mut self.0);
        for (row, part) in rows.into_no_null_iter().zip(parts.into_no_null_iter()) {
            if let Some(slot) = own.get_mut(row as usize) {
                *slot = u16::try_from(part).unwrap_or(NONE);
            }
        }
    }

    /// Moves every row of `rows` (a range of row numbers) that some part reads to `part`.
    pub(super) fn assign(&mut self, rows: std::ops::Range<IdxSize>, part: u16) {
        let own = Arc::make_mut(&mut self.0);
        let end = (rows.end as usize).min(own.len());
        let start = (rows.start as usize).min(end);
        for slot in &mut own[start..end] {
            if *slot != NONE {
                *slot = part;
            }
        }
    }

    /// Takes the rows of `rows` (row numbers) out of every part.
    pub(super) fn remove(&mut self, rows: &IdxCa) {
        let own = Arc::make_mut(&mut self.0);
        for row in rows.into_no_null_iter() {
            if let Some(slot) = own.get_mut(row as usize) {
                *slot = NONE;
            }
        }
    }

    /// Whether each row (its [`ROW`](super::ROW)) is read by `part`.
    pub(super) fn holds(&self, part: u16) -> Expr {
        let parts = Arc::clone(&self.0);
        by_row(move |row| parts.get(row as usize) == Some(&part))
    }
}
