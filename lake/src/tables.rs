//! The two Delta tables: opening, committing a batch exactly once, and listing for readers.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use delta_kernel::expressions::Scalar;
use deltalake_core::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake_core::kernel::transaction::{
    CommitBuilder, CommitConflictError, CommitProperties, TransactionError,
};
use deltalake_core::kernel::{Action, LogicalFileView, StructType, Transaction};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, OutputMode, SaveMode};
use deltalake_core::table::state::DeltaTableState;
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError, ensure_table_uri};
use futures::TryStreamExt as _;
use indexmap::IndexMap;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use tracing::debug;

use crate::{LakeError, Location, PARTITION_COLUMN, Positions, Stream, Table};

/// An open event lake: both tables, each at the version this process last read or wrote.
#[derive(Debug, Clone)]
pub struct Lake {
    location: Location,
    events: DeltaTable,
    rejected: DeltaTable,
}

/// What one batch's commits wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Events stored.
    pub events: usize,
    /// Messages rejected and stored.
    pub rejected: usize,
    /// The new version of each table committed to (a table that already held the whole
    /// batch is not committed to).
    pub versions: Vec<(Table, u64)>,
    /// Data files added, relative to their table.
    pub files: Vec<String>,
}

/// The active files of one table at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFiles {
    /// The table version listed.
    pub version: u64,
    /// The newest version whose commit changed the table's rows (compaction and vacuum
    /// commits do not): the version the rows read are those of.
    pub data_version: u64,
    /// The files, in path order.
    pub files: Vec<DataFile>,
}

/// Both tables' active files at their newest versions: what a reader reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The `events` table.
    pub events: TableFiles,
    /// The `rejected` table.
    pub rejected: TableFiles,
}

impl Listing {
    /// Lists the lake at `location`.
    pub async fn read(location: &Location) -> Result<Self, LakeError> {
        let lake = Lake::open_existing(location).await?;
        Ok(Self {
            events: lake.files(Table::Events).await?,
            rejected: lake.files(Table::Rejected).await?,
        })
    }

    /// [`Listing::read`] for a caller without an async runtime.
    pub fn read_blocking(location: &Location) -> Result<Self, LakeError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| LakeError::Io {
                path: location.to_string().into(),
                source,
            })?
            .block_on(Self::read(location))
    }

    /// The tables' data versions as one line of JSON, `{"events":N,"rejected":M}`, for the
    /// provenance of what is computed from them: `DeltaTable(..., version=N)` reads the same
    /// rows again.
    pub fn versions_json(&self) -> String {
        format!(
            r#"{{"{}":{},"{}":{}}}"#,
            Table::Events,
            self.events.data_version,
            Table::Rejected,
            self.rejected.data_version
        )
    }
}

/// One data file of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// Its full location: a local path for a local lake, else a URL.
    pub location: String,
    /// The value of the partition column (the consortium), which the file itself does not
    /// hold: Delta keeps partition values in the log.
    pub consortium: String,
    /// Size in bytes.
    pub size: u64,
    /// Rows, from the statistics the log keeps of each file.
    pub rows: Option<u64>,
}

/// Parquet settings of every data file: zstd, with page statistics for readers' pruning; no
/// dictionary for `event_id`, which is unique in every row (the writer would hash every id into
/// a dictionary only to drop it when it outgrows its page).
pub(crate) fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_column_dictionary_enabled(outcomes_schemas::lake::col::EVENT_ID.into(), false)
        .build()
}

impl Lake {
    /// Opens the lake at `location`, creating either table that does not exist yet (a writer's
    /// way in).
    pub async fn open(location: &Location) -> Result<Self, LakeError> {
        Ok(Self {
            location: location.clone(),
            events: open_or_create(location, Table::Events).await?,
            rejected: open_or_create(location, Table::Rejected).await?,
        })
    }

    /// Opens an existing lake (a reader's way in); an error names a missing table.
    pub async fn open_existing(location: &Location) -> Result<Self, LakeError> {
        Ok(Self {
            location: location.clone(),
            events: open(location, Table::Events).await?,
            rejected: open(location, Table::Rejected).await?,
        })
    }

    /// The lake's location.
    pub fn location(&self) -> &Location {
        &self.location
    }

    pub(crate) fn table(&self, table: Table) -> &DeltaTable {
        match table {
            Table::Events => &self.events,
            Table::Rejected => &self.rejected,
        }
    }

    pub(crate) fn table_mut(&mut self, table: Table) -> &mut DeltaTable {
        match table {
            Table::Events => &mut self.events,
            Table::Rejected => &mut self.rejected,
        }
    }

    pub(crate) fn delta_error(
        &self,
        table: Table,
    ) -> impl Fn(DeltaTableError) -> LakeError + use<> {
        delta_error(&self.location.to_string(), table)
    }

    /// Reads both tables' newest versions from their logs.
    pub async fn refresh(&mut self) -> Result<(), LakeError> {
        for table in Table::COMMIT_ORDER {
            let delta_error = self.delta_error(table);
            let updated = self.table_mut(table).update_incremental(None).await;
            updated.map_err(delta_error)?;
        }
        Ok(())
    }

    /// How far each table holds `stream`, from the newest versions of the logs: where a
    /// writer taking the source over resumes.
    pub async fn positions(&mut self, stream: &Stream) -> Result<Positions, LakeError> {
        self.refresh().await?;
        Ok(Positions {
            events: self.position(Table::Events, stream).await?,
            rejected: self.position(Table::Rejected, stream).await?,
        })
    }

    /// The source's `txn` version in `table`, at the version this process holds.
    async fn position(&self, table: Table, stream: &Stream) -> Result<Option<i64>, LakeError> {
        source_position(self.table(table), stream)
            .await
            .map_err(self.delta_error(table))
    }

    /// Commits one batch of `stream` ending at position `last`: its rejections to `rejected`,
    /// then its events to `events`, each in one Delta transaction with the source's `txn`
    /// action at `last` (each table is exactly once on its own, whichever lands first). `held` is how far this writer last saw each table hold the source, and is moved to
    /// `last` for each table whose commit lands, so that a call that failed half-way can be
    /// repeated. A table that holds more than `held` says has been written by another worker,
    /// and the batch is refused ([`LakeError::SourceTaken`]). Rows at positions a table
    /// already holds must have been left out by the caller; a table that holds `last` already
    /// is skipped.
    pub async fn commit(
        &mut self,
        stream: &Stream,
        held: &mut Positions,
        last: i64,
        events: &RecordBatch,
        rejected: Option<&RecordBatch>,
    ) -> Result<Committed, LakeError> {
        let rejected = rejected.map(std::slice::from_ref).unwrap_or_default();
        self.commit_batches(stream, held, last, std::slice::from_ref(events), rejected)
            .await
    }

    /// [`Lake::commit`] of rows held in several record batches per table.
    pub(crate) async fn commit_batches(
        &mut self,
        stream: &Stream,
        held: &mut Positions,
        last: i64,
        events: &[RecordBatch],
        rejected: &[RecordBatch],
    ) -> Result<Committed, LakeError> {
        let location = self.location.to_string();
        let expected = *held;
        let side = |delta, table, rows| Side {
            delta,
            table,
            location: &location,
            stream,
            expected: expected.of(table),
            last,
            rows,
        };
        // One after the other: side by side, the two encodings compete for the same cores
        // and memory (measured slower in bench/ingest.sh).
        let mut committed = Committed::default();
        let rejected_done = side(&mut self.rejected, Table::Rejected, rejected)
            .commit()
            .await?;
        if let Some((version, files)) = rejected_done {
            committed.rejected = rejected.iter().map(RecordBatch::num_rows).sum();
            held.rejected = Some(last);
            committed.versions.push((Table::Rejected, version));
            committed.files.extend(files);
        }
        let events_done = side(&mut self.events, Table::Events, events)
            .commit()
            .await?;
        if let Some((version, files)) = events_done {
            committed.events = events.iter().map(RecordBatch::num_rows).sum();
            held.events = Some(last);
            committed.versions.push((Table::Events, version));
            committed.files.extend(files);
        }
        Ok(committed)
    }

    /// The active files of `table` at the version this process holds, for a reader.
    pub async fn files(&self, table: Table) -> Result<TableFiles, LakeError> {
        let delta_error = self.delta_error(table);
        let delta = self.table(table);
        let snapshot = delta.snapshot().map_err(&delta_error)?;
        let root = match &self.location {
            Location::Local(_) => None,
            Location::Url(_) => Some(delta.table_url().clone()),
        };
        let mut files = Vec::new();
        for file in snapshot.log_data().iter() {
            let relative = file.path().into_owned();
            let location = match &root {
                None => local_file(delta, &relative),
                Some(root) => root
                    .join(&relative)
                    .map(String::from)
                    .unwrap_or_else(|_| format!("{root}{relative}")),
            };
            let consortium = consortium_of(&file);
            files.push(DataFile {
                location,
                consortium,
                size: u64::try_from(file.size()).unwrap_or(0),
                rows: file.num_records().map(|rows| rows as u64),
            });
        }
        files.sort_by(|a, b| a.location.cmp(&b.location));
        let version = snapshot.version();
        Ok(TableFiles {
            version,
            data_version: self.data_version(table, version).await?,
            files,
        })
    }

    /// The newest version at or below `version` whose commit changed rows.
    async fn data_version(&self, table: Table, version: u64) -> Result<u64, LakeError> {
        let delta = self.table(table);
        let mut history = delta.history(None);
        let mut newest = version;
        while let Some(info) = history.try_next().await.map_err(self.delta_error(table))? {
            let maintenance = matches!(
                info.operation.as_deref(),
                Some("OPTIMIZE" | "VACUUM START" | "VACUUM END")
            );
            if !maintenance {
                break;
            }
            newest = newest.saturating_sub(1);
        }
        Ok(newest)
    }
}

/// The source's `txn` version in a table, at the version the handle holds.
async fn source_position(
    delta: &DeltaTable,
    stream: &Stream,
) -> Result<Option<i64>, DeltaTableError> {
    delta
        .snapshot()?
        .transaction_version(delta.log_store().as_ref(), stream.app_id())
        .await
}

/// One table's part of a batch commit.
struct Side<'a> {
    delta: &'a mut DeltaTable,
    table: Table,
    location: &'a str,
    stream: &'a Stream,
    /// The position this writer last saw the table hold.
    expected: Option<i64>,
    last: i64,
    rows: &'a [RecordBatch],
}

impl Side<'_> {
    fn error(&self) -> impl Fn(DeltaTableError) -> LakeError + use<> {
        delta_error(self.location, self.table)
    }

    /// The table's transaction, unless it holds the batch already: the rows as new files, and
    /// the source's `txn` at `last`. Returns the new version and the files added.
    async fn commit(self) -> Result<Option<(u64, Vec<String>)>, LakeError> {
        let expected = self.expected;
        if expected.is_some_and(|held| self.last <= held) {
            return Ok(None);
        }
        let (table, last) = (self.table, self.last);
        let delta_error = self.error();
        let app_id = self.stream.app_id();
        let started = std::time::Instant::now();
        let found = source_position(self.delta, self.stream)
            .await
            .map_err(&delta_error)?;
        let checked = started.elapsed();
        if found != expected {
            return Err(LakeError::SourceTaken {
                app_id,
                table,
                expected,
                found,
            });
        }
        let mut adds = Vec::new();
        if self.rows.iter().any(|rows| rows.num_rows() > 0) {
            let mut writer = RecordBatchWriter::for_table(self.delta)
                .map_err(&delta_error)?
                .with_writer_properties(writer_properties());
            // All of a source's rows are of its consortium: written as that one partition,
            // they are not split (copied) by partition value first.
            let partition = IndexMap::from([(
                PARTITION_COLUMN.to_owned(),
                Scalar::String(self.stream.consortium.as_str().to_owned()),
            )]);
            for batch in self.rows.iter().filter(|rows| rows.num_rows() > 0) {
                writer
                    .write_partition(batch.clone(), &partition, WriteMode::Default)
                    .await
                    .map_err(&delta_error)?;
            }
            adds = writer.flush().await.map_err(&delta_error)?;
        }
        let written = started.elapsed();
        let files: Vec<String> = adds.iter().map(|add| add.path.clone()).collect();
        let operation = DeltaOperation::StreamingUpdate {
            output_mode: OutputMode::Append,
            query_id: app_id.clone(),
            epoch_id: last,
        };
        // The `txn` action makes delta-rs' conflict checker fail this commit if a commit it
        // has not seen carries the same app id: a zombie writer stops here.
        let properties = CommitProperties::default()
            .with_application_transaction(Transaction::new(&app_id, last));
        let snapshot = self.delta.snapshot().map_err(&delta_error)?;
        let finalized = CommitBuilder::from(properties)
            .with_actions(adds.into_iter().map(Action::Add).collect())
            .build(Some(snapshot), self.delta.log_store(), operation)
            .await;
        let finalized = match finalized {
            Ok(finalized) => finalized,
            Err(DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(CommitConflictError::ConcurrentTransaction),
            }) => {
                return Err(LakeError::SourceTaken {
                    app_id,
                    table,
                    expected,
                    found: None,
                });
            }
            // The commit may have landed all the same (a checkpoint after it failed, a put
            // retried after a lost answer): the log says.
            Err(error) => {
                let landed = self.delta.update_incremental(None).await.is_ok()
                    && source_position(self.delta, self.stream)
                        .await
                        .ok()
                        .flatten()
                        == Some(last);
                if landed {
                    return Ok(Some((self.delta.version().unwrap_or_default(), files)));
                }
                return Err(delta_error(error));
            }
        };
        self.delta.state = Some(finalized.snapshot());
        if finalized.metrics.new_checkpoint_created {
            reload(self.delta, finalized.version()).await;
        }
        debug!(
            %table,
            %app_id,
            last,
            version = finalized.version(),
            check_ms = checked.as_millis(),
            write_ms = (written - checked).as_millis(),
            commit_ms = (started.elapsed() - written).as_millis(),
            "committed"
        );
        Ok(Some((finalized.version(), files)))
    }
}

/// Loads a table's state afresh from the checkpoint just written at `version`. delta-rs keeps
/// a table's active files as the record batches of the commits that added them, one more batch
/// with every commit, and replays them all after each commit: a writer that stays up slows
/// with every commit it makes (a load of 2,500 one-file sources, one process, committed three
/// times slower than a new process on the same table). The checkpoint holds them in a few
/// batches again. A failed reload leaves the state as the commit left it.
async fn reload(delta: &mut DeltaTable, version: u64) {
    match DeltaTableState::try_new(delta.log_store().as_ref(), Some(version)).await {
        Ok(state) => delta.state = Some(state),
        Err(error) => debug!(%error, version, "reloading the table from its checkpoint failed"),
    }
}

/// A data file's local path: the table folder joined with the decoded relative path.
fn local_file(delta: &DeltaTable, relative: &str) -> String {
    match delta.table_url().to_file_path() {
        Ok(folder) => folder.join(relative).to_string_lossy().into_owned(),
        Err(()) => relative.to_owned(),
    }
}

/// The error of a delta-rs failure on `table` of the lake at `location`.
fn delta_error(location: &str, table: Table) -> impl Fn(DeltaTableError) -> LakeError + use<> {
    let location = location.to_owned();
    move |source| LakeError::Delta {
        location: location.clone(),
        table,
        source: Box::new(source),
    }
}

/// The consortium a data file belongs to: its partition value, which Delta keeps in the log.
pub(crate) fn consortium_of(file: &LogicalFileView) -> String {
    file.partition_values_map()
        .get(PARTITION_COLUMN)
        .cloned()
        .flatten()
        .unwrap_or_default()
}

fn table_url(location: &Location, table: Table) -> Result<url::Url, LakeError> {
    if let Location::Url(_) = location {
        crate::storage::register();
    }
    ensure_table_uri(location.table_uri(table)).map_err(delta_error(&location.to_string(), table))
}

async fn open(location: &Location, table: Table) -> Result<DeltaTable, LakeError> {
    let delta_error = delta_error(&location.to_string(), table);
    let url = table_url(location, table)?;
    let mut delta = DeltaTableBuilder::from_url(url)
        .map_err(&delta_error)?
        .build()
        .map_err(&delta_error)?;
    let no_lake = || LakeError::NoLake {
        location: location.to_string(),
        table,
    };
    // Asked first: loading a table that is not there logs an error of delta-rs' own.
    if !delta
        .verify_deltatable_existence()
        .await
        .map_err(&delta_error)?
    {
        return Err(no_lake());
    }
    match delta.load().await {
        Ok(()) => Ok(delta),
        Err(DeltaTableError::NotATable(_)) => Err(no_lake()),
        Err(error) => Err(delta_error(error)),
    }
}

/// Table properties: a checkpoint every 100 commits (delta-rs' default, set so that every
/// reader sees it); no `delta.setTransactionRetentionDuration`, so a source's position never
/// expires; file statistics for the time columns only ([`stats_columns`]).
fn configuration(table: Table) -> HashMap<String, Option<String>> {
    HashMap::from([
        (
            "delta.checkpointInterval".to_owned(),
            Some("100".to_owned()),
        ),
        (
            "delta.dataSkippingStatsColumns".to_owned(),
            Some(stats_columns(table).join(",")),
        ),
    ])
}

/// The columns whose minimum, maximum and null count the log keeps for each file: the times a
/// reader filters by (an as-of date is a bound on `recorded_at`). Statistics of every column
/// cost every writer: delta-rs 1.1 parses each active file's statistics again after each
/// commit, so with statistics of all 31 non-binary columns a commit to a table of about 500
/// small files took 77 ms, with these 37 ms (`commit_ms` of `OUTCOMES_LOG=outcomes_lake=debug`,
/// docs/BENCHMARKS.md, "The Delta lake").
fn stats_columns(table: Table) -> &'static [&'static str] {
    use outcomes_schemas::lake::col;
    match table {
        Table::Events => &[col::OCCURRED_ON, col::RECORDED_AT, col::INGESTED_AT],
        Table::Rejected => &[col::INGESTED_AT],
    }
}

async fn open_or_create(location: &Location, table: Table) -> Result<DeltaTable, LakeError> {
    match open(location, table).await {
        Err(LakeError::NoLake { .. }) => {}
        opened => return opened,
    }
    let delta_error = delta_error(&location.to_string(), table);
    let schema: StructType = table
        .schema()
        .as_ref()
        .try_into_kernel()
        .map_err(|error| delta_error(DeltaTableError::from(error)))?;
    let created = CreateBuilder::new()
        .with_location(table_url(location, table)?.to_string())
        .with_table_name(table.name())
        .with_columns(schema.fields().cloned())
        .with_partition_columns([PARTITION_COLUMN])
        .with_save_mode(SaveMode::Ignore)
        // No retry at version 1: a worker that loses the race to create the table opens the
        // winner's instead of adding a second creation to its log.
        .with_commit_properties(CommitProperties::default().with_max_retries(0))
        .with_configuration(configuration(table))
        .await;
    match created {
        Ok(delta) => Ok(delta),
        // Another worker may have created it in the same moment.
        Err(error) => open(location, table).await.map_err(|_| delta_error(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outcomes_schemas::ConsortiumId;
    use outcomes_schemas::lake::SourceId;

    fn stream() -> Stream {
        Stream {
            consortium: ConsortiumId::new("north-shore").unwrap(),
            source: SourceId::Kafka {
                topic: "outcomes.north-shore.intake".into(),
                partition: 0,
            },
        }
    }

    fn empty() -> RecordBatch {
        RecordBatch::new_empty(Table::Events.schema())
    }

    /// A worker that lost its partition and commits from the snapshot it had (it has not seen
    /// the new owner's commit) is stopped by the conflict checker; once it has read the log, by
    /// its own check of the position.
    #[tokio::test]
    async fn a_zombie_writer_cannot_commit_its_lost_source() {
        let root = tempfile::tempdir().unwrap();
        let location = Location::from(root.path());
        let mut zombie = Lake::open(&location).await.unwrap();
        let held = zombie.positions(&stream()).await.unwrap();
        assert_eq!(held, Positions::default());

        let mut owner = Lake::open(&location).await.unwrap();
        let mut owner_held = owner.positions(&stream()).await.unwrap();
        owner
            .commit(&stream(), &mut owner_held, 10, &empty(), None)
            .await
            .unwrap();
        assert_eq!(owner_held.both(), Some(10));

        let mut stale = held;
        let refused = zombie
            .commit(&stream(), &mut stale, 5, &empty(), None)
            .await;
        assert!(
            matches!(refused, Err(LakeError::SourceTaken { found: None, .. })),
            "{refused:?}"
        );
        zombie.refresh().await.unwrap();
        let mut stale = held;
        let refused = zombie
            .commit(&stream(), &mut stale, 5, &empty(), None)
            .await;
        assert!(
            matches!(
                refused,
                Err(LakeError::SourceTaken {
                    found: Some(10),
                    ..
                })
            ),
            "{refused:?}"
        );
        assert_eq!(
            owner.positions(&stream()).await.unwrap(),
            Positions {
                events: Some(10),
                rejected: Some(10)
            }
        );
    }

    #[test]
    fn statistics_are_kept_of_columns_the_tables_have() {
        for table in Table::COMMIT_ORDER {
            for column in stats_columns(table) {
                assert!(
                    table.schema().field_with_name(column).is_ok(),
                    "{table}: {column}"
                );
            }
        }
    }

    /// A batch whose first commit landed and second failed is retried with the positions the
    /// first commit moved: the table already holding the batch is skipped.
    #[tokio::test]
    async fn a_half_committed_batch_is_finished_not_repeated() {
        let root = tempfile::tempdir().unwrap();
        let mut lake = Lake::open(&Location::from(root.path())).await.unwrap();
        let side = Side {
            delta: &mut lake.rejected,
            table: Table::Rejected,
            location: "test",
            stream: &stream(),
            expected: None,
            last: 7,
            rows: &[],
        };
        let (version, _) = side.commit().await.unwrap().unwrap();
        let mut held = lake.positions(&stream()).await.unwrap();
        assert_eq!((held.events, held.rejected), (None, Some(7)));
        let committed = lake
            .commit(&stream(), &mut held, 7, &empty(), None)
            .await
            .unwrap();
        assert_eq!(committed.versions.len(), 1);
        assert_eq!(committed.versions[0].0, Table::Events);
        assert_eq!(lake.files(Table::Rejected).await.unwrap().version, version);
        assert_eq!(held.both(), Some(7));
    }
}
