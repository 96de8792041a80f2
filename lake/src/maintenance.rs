//! Keeping a long-lived lake fast and bounded: compaction and vacuum.
//!
//! A live feed commits a small file per source every flush, and every reader opens every
//! active file. Compaction rewrites a partition's small files into a few large ones in a commit
//! that changes no rows (`dataChange = false`); the old files stay on storage, unreferenced, so
//! readers of older versions (a transform still running) keep working until vacuum removes them
//! after the retention period.

use arrow_array::RecordBatch;
use delta_kernel::expressions::Scalar;
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::kernel::{Action, LogicalFileView, Transaction};
use deltalake_core::operations::vacuum::VacuumMode;
use deltalake_core::protocol::DeltaOperation;
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use indexmap::IndexMap;
use object_store::ObjectStoreExt as _;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use tracing::info;

use crate::tables::{consortium_of, writer_properties};
use crate::{Lake, LakeError, PARTITION_COLUMN, Table};

/// The application id of compaction commits' `txn` action.
const COMPACTOR_APP_ID: &str = "outcomes:compaction";

/// What compaction did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compacted {
    /// The table.
    pub table: Table,
    /// Active files before.
    pub files_before: usize,
    /// Small files rewritten (now unreferenced, removed by a later vacuum).
    pub files_removed: usize,
    /// Large files written in their place.
    pub files_added: usize,
    /// The table version after compaction.
    pub version: u64,
}

/// What vacuum did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacuumed {
    /// The table.
    pub table: Table,
    /// Files deleted from storage (or, in a dry run, that would be).
    pub files_deleted: Vec<String>,
}

impl Lake {
    /// Rewrites, in each consortium partition of each table, runs of files smaller than
    /// `target_size` bytes into files of about that size, one commit per partition. Safe
    /// while ingest runs: ingest only adds files, and a compaction commit only removes files
    /// it read, so the two never conflict; rows keep their content, only their files change.
    pub async fn compact(&mut self, target_size: u64) -> Result<Vec<Compacted>, LakeError> {
        self.refresh().await?;
        let mut summary = Vec::new();
        for table in Table::COMMIT_ORDER {
            summary.push(self.compact_table(table, target_size).await?);
        }
        Ok(summary)
    }

    async fn compact_table(
        &mut self,
        table: Table,
        target_size: u64,
    ) -> Result<Compacted, LakeError> {
        let delta_error = self.delta_error(table);
        let snapshot = self.table(table).snapshot().map_err(&delta_error)?;
        let files_before = snapshot.log_data().num_files();
        let mut partitions: BTreeMap<String, Vec<LogicalFileView>> = BTreeMap::new();
        for file in snapshot.log_data().iter() {
            partitions
                .entry(consortium_of(&file))
                .or_default()
                .push(file);
        }
        let (mut files_removed, mut files_added) = (0, 0);
        for (consortium, mut files) in partitions {
            files.sort_by(|a, b| a.path().cmp(&b.path()));
            let bins = bins(&files, target_size);
            if bins.is_empty() {
                continue;
            }
            let mut actions = Vec::new();
            let delta = self.table(table);
            let mut writer = RecordBatchWriter::for_table(delta)
                .map_err(&delta_error)?
                .with_writer_properties(writer_properties())
                .with_target_file_size(target_size);
            // The files hold no partition column (Delta keeps it in the log): written as
            // the partition they came from.
            let partition = IndexMap::from([(
                PARTITION_COLUMN.to_owned(),
                Scalar::String(consortium.clone()),
            )]);
            for bin in &bins {
                for file in bin {
                    for batch in read_file(self, table, file).await? {
                        writer
                            .write_partition(batch, &partition, WriteMode::Default)
                            .await
                            .map_err(&delta_error)?;
                    }
                    actions.push(Action::Remove(file.remove_action(false)));
                }
                files_removed += bin.len();
            }
            let mut adds = writer.flush().await.map_err(&delta_error)?;
            files_added += adds.len();
            for add in &mut adds {
                add.data_change = false;
            }
            actions.extend(adds.into_iter().map(Action::Add));
            let delta = self.table_mut(table);
            let snapshot = delta.snapshot().map_err(&delta_error)?;
            // Two compactions replacing the same files would both succeed and double their
            // rows: each carries the compactor's `txn`, so the conflict checker fails the
            // second, as it fails a zombie ingest writer.
            let compactions = snapshot
                .transaction_version(delta.log_store().as_ref(), COMPACTOR_APP_ID)
                .await
                .map_err(&delta_error)?
                .unwrap_or(0);
            let properties = CommitProperties::default()
                .with_application_transaction(Transaction::new(COMPACTOR_APP_ID, compactions + 1));
            let finalized = CommitBuilder::from(properties)
                .with_actions(actions)
                .build(
                    Some(snapshot),
                    delta.log_store(),
                    DeltaOperation::Optimize {
                        predicate: None,
                        target_size: i64::try_from(target_size).unwrap_or(i64::MAX),
                    },
                )
                .await
                .map_err(&delta_error)?;
            delta.state = Some(finalized.snapshot());
            info!(%table, consortium, version = finalized.version(), "partition compacted");
        }
        let version = self.table(table).version().unwrap_or_default();
        Ok(Compacted {
            table,
            files_before,
            files_removed,
            files_added,
            version,
        })
    }

    /// Deletes from storage the files no version newer than `retention` ago references: the
    /// files compaction replaced, and the leftovers of commits that never happened (a crash
    /// after a file was written). With `dry_run`, only lists them.
    pub async fn vacuum(
        &mut self,
        retention: chrono::Duration,
        dry_run: bool,
    ) -> Result<Vec<Vacuumed>, LakeError> {
        self.refresh().await?;
        let mut summary = Vec::new();
        for table in Table::COMMIT_ORDER {
            let delta_error = self.delta_error(table);
            let (delta, metrics) = self
                .table(table)
                .clone()
                .vacuum()
                .with_retention_period(retention)
                // The retention is the user's choice (`--retention-hours`); the table's
                // default of 7 days is the default of that option.
                .with_enforce_retention_duration(false)
                .with_mode(VacuumMode::Full)
                .with_dry_run(dry_run)
                .await
                .map_err(delta_error)?;
            *self.table_mut(table) = delta;
            summary.push(Vacuumed {
                table,
                files_deleted: metrics.files_deleted,
            });
        }
        Ok(summary)
    }
}

/// Runs of consecutive small files whose sizes add up to at most `target_size` (a run holds at
/// least two files: a lone small file is left as it is).
fn bins(files: &[LogicalFileView], target_size: u64) -> Vec<Vec<LogicalFileView>> {
    let mut bins = Vec::new();
    let mut bin: Vec<LogicalFileView> = Vec::new();
    let mut bin_size = 0u64;
    let size = |file: &LogicalFileView| u64::try_from(file.size()).unwrap_or(u64::MAX);
    for file in files.iter().filter(|file| size(file) < target_size) {
        if bin_size + size(file) > target_size && !bin.is_empty() {
            bins.push(std::mem::take(&mut bin));
            bin_size = 0;
        }
        bin_size += size(file);
        bin.push(file.clone());
    }
    bins.push(bin);
    bins.retain(|bin| bin.len() > 1);
    bins
}

/// Every row of one data file. Only small files are compacted (below the target size), so
/// each is read whole into memory.
async fn read_file(
    lake: &Lake,
    table: Table,
    file: &LogicalFileView,
) -> Result<Vec<RecordBatch>, LakeError> {
    let path = file.object_store_path();
    let parquet = |source| LakeError::Parquet {
        path: path.to_string(),
        source,
    };
    let storage = |source: object_store::Error| {
        parquet(parquet::errors::ParquetError::External(Box::new(source)))
    };
    let found = lake
        .table(table)
        .object_store()
        .get(&path)
        .await
        .map_err(storage)?;
    let bytes = found.bytes().await.map_err(storage)?;
    ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(parquet)?
        .build()
        .map_err(parquet)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| LakeError::Arrow {
            what: path.to_string(),
            source,
        })
}
