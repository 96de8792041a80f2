//! How section 1 is executed: reading the lake, parts, hashing, memory tactics and
//! collection. The rules themselves are in [`crate::resolve`] (1 and 2) and [`crate::rules`]
//! (3 to 5); this module decides what to read when, in which order to hand it to them, and
//! how to keep the peak memory of a run bounded.
//!
//! A run reads the visible lake rows narrowly for rules 1 and 2 (only the rows that are
//! duplicate candidates or corrections are read whole), then the kept rows by kind, each
//! with only the columns its rule needs. Rules 3 to 5 stay within one person, so a lake of
//! more than `events_per_part` events is done in parts, one after the other: whole consortia
//! packed together, each part reading only its consortia's files, and a larger consortium
//! split by a hash of the person key ([`plan_parts`]); the part of every row is decided once
//! ([`parts`]).
//! Wage records, the bulk of the lake, are never held: they are streamed onto their jobs and
//! summed per job and month as they are read.

mod keys;
mod parts;
mod walk;

use std::sync::Arc;

use outcomes_schemas::EventType;
use outcomes_schemas::lake::col as event;
use outcomes_schemas::tables::columns as c;
use polars::polars_utils::kahan_sum::KahanSum;
use polars::prelude::*;
use rayon::prelude::*;

use crate::lake::Shard;
use crate::names::{
    AGENCY, CONSORTIUM, EVENT_ID, EVENT_TYPE, ISSUE, ITEMS, PERSON, PERSON_CODE, days, is_type,
    key, kind_code, kind_in, month_index,
};
use crate::resolve::{correct, dedupe};
use crate::rules::wage_status;
use keys::KeyIndex;
use parts::{MAX_PARTS, RowParts};

/// Facts derived from the visible events of a lake for one `as_of`.
///
/// People appear as [`PERSON_CODE`]s, numbers given in (`consortium_id`, `person_key`) order
/// within a part, so that joins, sorts and counts work on integers; `persons` turns them back
/// into keys. Jobs are numbered `_job` likewise.
pub(crate) struct Facts {
    /// `consortium_id, person_key, PERSON_CODE`: every person with an intake or an exit.
    pub(crate) persons: LazyFrame,
    /// One row per episode: keys, owning agency, intake and exit, and the first dates and
    /// counts of its assessments and services (`first_assessment_on`, `_first_activity_on`,
    /// `assessments`, `services`).
    pub(crate) episodes: LazyFrame,
    /// One row per job, with its episode, separation, `job_seq` and wage totals.
    pub(crate) jobs: LazyFrame,
    /// Wage records attached to a job, summed per job and month (`_month`, `year * 12 +
    /// month - 1` of `occurred_on`): `gross_wages`, `hours_worked`, `wage_records`, with the
    /// job's consortium, agency and person.
    pub(crate) wages: LazyFrame,
    /// `data_quality` items: `consortium_id, agency_id, issue, _items` (a count).
    pub(crate) issues: LazyFrame,
}

/// Whether the event type is one of `types`.
fn one_of(types: &[EventType]) -> Expr {
    types
        .iter()
        .map(|t| is_type(*t))
        .reduce(Expr::or)
        .unwrap_or(lit(false))
}

/// Keeps rows visible at `as_of`: recorded on or before D (in UTC) and occurred on or before D.
///
/// `recorded_at` is compared as microseconds since the epoch (the lake stores UTC instants)
/// with the first instant after D, which spares a date conversion per row in every scan.
fn visible(events: LazyFrame, as_of_days: i32) -> LazyFrame {
    const MICROS_PER_DAY: i64 = 86_400_000_000;
    let after_as_of = (i64::from(as_of_days) + 1) * MICROS_PER_DAY;
    events.filter(
        col(event::RECORDED_AT)
            .cast(DataType::Int64)
            .lt(lit(after_as_of))
            .and(days(event::OCCURRED_ON).lt_eq(lit(as_of_days))),
    )
}

/// The rows that rules 3 to 5 read: visible at `as_of`, retractions aside (they take no
/// further part once rule 2 has applied them).
fn kept(events: LazyFrame, as_of_days: i32) -> LazyFrame {
    visible(events, as_of_days).filter(is_type(EventType::Retraction).not())
}

/// The row number a run gives each lake row before any filter: the identity of one copy of
/// an event, which dedupe and corrections use to name the rows they drop.
pub(crate) const ROW: &str = "_row";

/// Seeds of the id hash. Any would do: the hash only nominates candidate duplicates, which
/// dedupe then compares by id.
const HASH_SEEDS: [u64; 4] = [0x6f75_7463, 0x6f6d_6573, 0x6465_6475, 0x7065_2121];

/// The source position columns: dedupe's last tie-break.
const POSITION: [&str; 6] = [
    event::SOURCE_KIND,
    event::TOPIC,
    event::PARTITION,
    event::OFFSET,
    event::FILE_NAME,
    event::LINE,
];

/// Steps 1 and 2 decided: the rows that dedupe and corrections drop (besides retractions,
/// which take no further part), and the data-quality items they yield.
pub(crate) struct Resolution {
    /// [`ROW`] numbers of discarded copies and of removed events.
    pub(crate) dropped: Series,
    /// `consortium_id, agency_id, issue, _items` rows.
    pub(crate) issues: DataFrame,
}

/// Whether `test` holds for each row's [`ROW`]: how the scans select rows by number (the
/// nominated rows, [`RowSet`]; each part's rows, [`RowParts`]).
///
/// Neither `is_in` with a literal list nor a semi-join: `perf` showed Polars copying such a
/// list and building a hash set from it for every batch it filters (a fifth of the samples of
/// a 10M run), and a join holds the rows it probes; a lookup by row number is one load per
/// test.
fn by_row(test: impl Fn(IdxSize) -> bool + Send + Sync + 'static) -> Expr {
    col(ROW).map(
        move |rows| {
            let held: BooleanChunked = rows
                .idx()?
                .iter()
                .map(|row| row.is_some_and(&test))
                .collect();
            Ok(held.with_name(rows.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// A set of [`ROW`] numbers, as one bit per lake row (1.2 MB at 10M rows): the rows that
/// rules 1 and 2 read whole.
#[derive(Clone)]
struct RowSet(Arc<[u64]>);

impl RowSet {
    fn new(rows: &[IdxSize]) -> Self {
        let words = rows.iter().max().map_or(0, |&last| last as usize / 64 + 1);
        let mut bits = vec![0u64; words];
        for &row in rows {
            bits[row as usize / 64] |= 1 << (row % 64);
        }
        RowSet(bits.into())
    }

    fn contains(&self, row: IdxSize) -> bool {
        self.0
            .get(row as usize / 64)
            .is_some_and(|word| word & (1 << (row % 64)) != 0)
    }

    /// Whether each row's [`ROW`] is in the set.
    fn holds(&self) -> Expr {
        let set = self.clone();
        by_row(move |row| set.contains(row))
    }
}

/// The rows of `frame` whose `on` columns occur in `values`, in `frame`'s order.
fn matching(frame: LazyFrame, values: LazyFrame, on: &[&str]) -> LazyFrame {
    let args = JoinArgs {
        maintain_order: MaintainOrderJoin::Left,
        ..JoinArgs::new(JoinType::Semi)
    };
    frame.join(values, key(on), key(on), args)
}

/// The 64-bit hash of an id column, which nominates candidates: rows are then compared by id.
fn id_hash(name: &str) -> Expr {
    let [hash0, hash1, hash2, hash3] = HASH_SEEDS;
    col(name).hash(hash0, hash1, hash2, hash3)
}

/// Rules 1 and 2 over the visible rows, without holding them all: both rules only concern
/// ids that occur more than once or that a correction names. So the lake is read narrowly
/// for the hash of every row's id and for the corrections (one pass), and once more for the
/// few rows either nominates, with their content; a hash collision only adds a candidate.
/// Returns the resolution and the visible rows (all in part 0).
fn resolve(visible: LazyFrame, content: &[&str]) -> PolarsResult<(Resolution, RowParts)> {
    let (hashes, links) = read_hashes_and_links(visible.clone())?;
    let parts = RowParts::one(hashes.column(ROW)?.idx()?);
    let named = named_ids(&links)?;
    let (copies, nominated) = nominate(&hashes, &named)?;
    drop(hashes); // 12 bytes per visible row, no longer needed while the lake is read again
    let candidates = read_rows(visible, content, &nominated)?;

    let copies = matching(candidates.clone(), copies.lazy(), &[ROW]);
    let (discarded, duplicate_issues) = dedupe(copies, content)?;
    let [discarded, duplicate_issues] = collect_together([discarded, duplicate_issues])?;
    let not_discarded = |frame: LazyFrame| {
        frame.join(
            discarded.clone().lazy(),
            [col(ROW)],
            [col(ROW)],
            JoinArgs::new(JoinType::Anti),
        )
    };
    let links = not_discarded(links.lazy());
    let targets = not_discarded(
        candidates
            .join(
                named.clone().lazy().select([col("_id")]),
                [col(EVENT_ID)],
                [col("_id")],
                JoinArgs::new(JoinType::Semi),
            )
            .select([col(ROW), col(CONSORTIUM), col(EVENT_ID), col(EVENT_TYPE)]),
    );
    let (removed, correction_issues) = correct(links, targets)?;
    let [removed, correction_issues] = collect_together([removed, correction_issues])?;
    let mut dropped = discarded.column(ROW)?.as_materialized_series().clone();
    dropped.append(removed.column(ROW)?.as_materialized_series())?;
    let issues = duplicate_issues.vstack(&correction_issues)?;
    Ok((Resolution { dropped, issues }, parts))
}

/// One narrow pass over the visible rows: every row's [`ROW`] and id hash, and the corrections
/// (retractions and superseding events) with their links.
fn read_hashes_and_links(visible: LazyFrame) -> PolarsResult<(DataFrame, DataFrame)> {
    let hashes = visible
        .clone()
        .select([col(ROW), id_hash(EVENT_ID).alias("_hash")]);
    let links = visible
        .filter(is_type(EventType::Retraction).or(col(event::SUPERSEDES).is_not_null()))
        .select([
            col(ROW),
            col(CONSORTIUM),
            col(AGENCY),
            col(EVENT_ID),
            col(EVENT_TYPE),
            col(event::SUPERSEDES),
            col(event::RETRACTED_EVENT_ID),
        ]);
    let [hashes, links] = collect_together_streaming([hashes, links])?;
    Ok((hashes, compact_strings(links)?))
}

/// The ids that corrections name (`_id`), with their hashes.
fn named_ids(links: &DataFrame) -> PolarsResult<DataFrame> {
    let named = |column: &str| links.clone().lazy().select([col(column).alias("_id")]);
    concat(
        [named(event::SUPERSEDES), named(event::RETRACTED_EVENT_ID)],
        UnionArgs::default(),
    )?
    .drop_nulls(None)
    .unique(None, UniqueKeepStrategy::Any)
    .with_column(id_hash("_id").alias("_hash"))
    .collect()
}

/// The [`ROW`]s of the candidate copies (an id hash seen more than once), and those of every
/// candidate row: the copies and the rows whose id hash a correction names.
///
/// Plain Rust on purpose: sorting the (hash, row) pairs and walking runs of equal hashes
/// took a quarter of the time of Polars' hash aggregation and joins at 10M rows here. The
/// pairs are sorted in buckets by the hash's top byte, so that equal hashes share a bucket:
/// the buckets fit in the processor's caches and sort on both cores.
fn nominate(hashes: &DataFrame, named: &DataFrame) -> PolarsResult<(DataFrame, RowSet)> {
    const BUCKETS: usize = 256;
    let mut buckets: Vec<Vec<(u64, IdxSize)>> = vec![Vec::new(); BUCKETS];
    let pairs = hashes
        .column("_hash")?
        .u64()?
        .into_no_null_iter()
        .zip(hashes.column(ROW)?.idx()?.into_no_null_iter());
    for (hash, row) in pairs {
        buckets[(hash >> 56) as usize].push((hash, row));
    }
    buckets
        .par_iter_mut()
        .for_each(|bucket| bucket.sort_unstable());
    let mut named: Vec<u64> = named.column("_hash")?.u64()?.into_no_null_iter().collect();
    named.sort_unstable();
    let (mut copies, mut nominated) = (Vec::new(), Vec::new());
    for run in buckets
        .iter()
        .flat_map(|bucket| bucket.chunk_by(|a, b| a.0 == b.0))
    {
        let rows = run.iter().map(|&(_, row)| row);
        if run.len() > 1 {
            copies.extend(rows.clone());
            nominated.extend(rows);
        } else if named.binary_search(&run[0].0).is_ok() {
            nominated.extend(rows);
        }
    }
    let copies = DataFrame::new(
        copies.len(),
        vec![IdxCa::from_vec(ROW.into(), copies).into_column()],
    )?;
    Ok((copies, RowSet::new(&nominated)))
}

/// Reads the nominated rows with their content and positions.
fn read_rows(visible: LazyFrame, content: &[&str], nominated: &RowSet) -> PolarsResult<LazyFrame> {
    let mut columns: Vec<Expr> = content.iter().map(|name| col(*name)).collect();
    columns.extend(POSITION.iter().map(|name| col(*name)));
    columns.push(col(ROW));
    let rows = visible.filter(nominated.holds());
    Ok(collect_compact(rows.select(columns))?.lazy())
}

/// Collects a plan with the streaming engine, which reads the lake in batches instead of
/// loading whole columns first.
fn collect_streaming(frame: LazyFrame) -> PolarsResult<DataFrame> {
    LazyFrame::collect_all_with_engine(
        vec![frame.logical_plan],
        Engine::Streaming,
        OptFlags::default(),
    )?
    .pop()
    .ok_or_else(|| PolarsError::ComputeError("collect_all returned no frame".into()))
}

/// Collects a read of some of the lake's rows with the streaming engine and copies its text
/// out of the read buffers (see [`compact_strings`]).
fn collect_compact(frame: LazyFrame) -> PolarsResult<DataFrame> {
    compact_strings(collect_streaming(frame)?)
}

/// Collects several plans that share a lake scan in one execution of the streaming engine.
fn collect_together_streaming<const N: usize>(
    frames: [LazyFrame; N],
) -> PolarsResult<[DataFrame; N]> {
    let plans = frames.into_iter().map(|frame| frame.logical_plan).collect();
    LazyFrame::collect_all_with_engine(plans, Engine::Streaming, OptFlags::default())?
        .try_into()
        .map_err(|_| {
            PolarsError::ComputeError("collect_all returned another number of frames".into())
        })
}

/// Collects several plans in one execution.
fn collect_together<const N: usize>(frames: [LazyFrame; N]) -> PolarsResult<[DataFrame; N]> {
    let plans = frames.into_iter().map(|frame| frame.logical_plan).collect();
    LazyFrame::collect_all_with_engine(plans, Engine::Auto, OptFlags::default())?
        .try_into()
        .map_err(|_| {
            PolarsError::ComputeError("collect_all returned another number of frames".into())
        })
}

/// The kept events by kind, each read from the lake once with only the columns its rule
/// needs, people coded.
struct Kept {
    persons: DataFrame,
    tokens: DataFrame,
    activities: DataFrame,
    separations: DataFrame,
    /// The wage records' lake scan, read by [`wages`] once the jobs are known.
    wages: LazyFrame,
}

/// Reads the kept events (`kept` is a lake scan) by kind, each kind with only its own
/// columns, numbering people from `first_code`. The person codes come from the intakes and
/// exits, since only people with an intake have episodes: everyone else's events are ignored
/// (`outside_episode`, `unknown_job`) whatever their key.
///
/// The activities and separations are read from the lake at once, people coded as they are
/// read, and then split: a read decompresses every page of each column it reads (the person
/// keys and ids above all) whatever share of the rows its filter keeps, so a read per kind
/// decompressed them once more. (A single read of the intakes and exits too, which the codes
/// come from, would hold every person key of the part until the split.)
fn read_kept(kept: LazyFrame, first_code: IdxSize) -> PolarsResult<Kept> {
    let with_keys = |columns: &[&str]| {
        let mut columns = key(columns);
        columns.extend([col(CONSORTIUM), col(AGENCY), col(PERSON)]);
        columns
    };
    let walked = [EVENT_ID, event::OCCURRED_ON, event::RECORDED_AT];
    let with_kind = |columns: &[&str]| {
        let mut columns = with_keys(columns);
        columns.push(kind_code());
        columns
    };
    let tokens = collect_compact(
        kept.clone()
            .filter(one_of(&[EventType::Intake, EventType::Exit]))
            .select(with_kind(&[&walked[..], &[event::EXIT_OUTCOME]].concat())),
    )?;
    let persons = person_codes(&tokens, first_code)?;
    let codes = KeyIndex::new(&persons, &[CONSORTIUM, PERSON], PERSON_CODE)?;
    let tokens = with_person_code(tokens.lazy(), &codes).collect()?;
    let placement = [
        event::JOB_ID,
        event::EMPLOYER_KEY,
        event::HOURLY_WAGE,
        event::HOURS_PER_WEEK,
        event::COMPETITIVE_INTEGRATED,
    ];
    let activity_types = [
        EventType::Assessment,
        EventType::Service,
        EventType::Placement,
    ];
    let both = collect_compact(with_person_code(
        kept.clone()
            .filter(one_of(
                &[&activity_types[..], &[EventType::Separation]].concat(),
            ))
            .select(with_kind(
                &[&walked[..], &placement[..], &[event::SEPARATION_REASON]].concat(),
            )),
        &codes,
    ))?;
    let [activities, separations] = collect_together([
        both.clone()
            .lazy()
            .filter(kind_in(&activity_types))
            .drop(cols([event::SEPARATION_REASON])),
        both.lazy()
            .filter(kind_in(&[EventType::Separation]))
            .select(key(&[
                &walked[..],
                &[
                    event::JOB_ID,
                    event::SEPARATION_REASON,
                    CONSORTIUM,
                    AGENCY,
                    PERSON_CODE,
                ],
            ]
            .concat())),
    ])?;
    let wages = kept.filter(is_type(EventType::Wage)).select(with_keys(&[
        event::OCCURRED_ON,
        event::JOB_ID,
        event::PERIOD_END,
        event::GROSS_WAGES,
        event::HOURS_WORKED,
    ]));
    Ok(Kept {
        persons,
        tokens,
        activities,
        separations,
        wages,
    })
}

/// A code per person of `tokens`, from `first_code` in (consortium, person key) order.
///
/// Plain Rust: Polars' `unique` and `sort` on the two text columns took 0.9 s at 10M events,
/// most of it waiting on memory for the text of the keys compared. Here each key is sorted
/// by its consortium's rank and its first eight bytes, held in place, and its text is read
/// only to break ties of those: a fifth of the time, in the same order.
fn person_codes(tokens: &DataFrame, first_code: IdxSize) -> PolarsResult<DataFrame> {
    let consortia = tokens.column(CONSORTIUM)?.str()?;
    let people = tokens.column(PERSON)?.str()?;
    let mut names: Vec<Option<&str>> = consortia.iter().collect();
    names.sort_unstable();
    names.dedup();
    let rank = |consortium: Option<&str>| names.binary_search(&consortium).unwrap_or(0);
    let prefix = |person: Option<&str>| {
        person.map(|text| {
            let mut bytes = [0u8; 8];
            let head = &text.as_bytes()[..text.len().min(8)];
            bytes[..head.len()].copy_from_slice(head);
            u64::from_be_bytes(bytes)
        })
    };
    let mut keys: Vec<(usize, Option<u64>, Option<&str>)> = consortia
        .iter()
        .zip(people.iter())
        .map(|(consortium, person)| (rank(consortium), prefix(person), person))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let count = IdxSize::try_from(keys.len())
        .ok()
        .and_then(|count| count.checked_add(first_code))
        .ok_or_else(|| polars_err!(ComputeError: "more people than row numbers can count"))?;
    let consortium: StringChunked = keys.iter().map(|key| names[key.0]).collect();
    let person: StringChunked = keys.iter().map(|key| key.2).collect();
    DataFrame::new(
        keys.len(),
        vec![
            consortium.with_name(CONSORTIUM.into()).into_column(),
            person.with_name(PERSON.into()).into_column(),
            IdxCa::from_vec(PERSON_CODE.into(), (first_code..count).collect()).into_column(),
        ],
    )
}

/// `frame` with its person key replaced by the person's code (null for people without one).
fn with_person_code(frame: LazyFrame, persons: &KeyIndex) -> LazyFrame {
    frame
        .with_column(persons.code(PERSON_CODE))
        .drop(cols([PERSON]))
}

/// Copies the text of a frame's string columns into buffers of their own.
///
/// A string column read from the lake and then filtered still points into the buffers of
/// every row it was read with (Arrow string views share them), so the few intakes of a
/// part would hold on to the person keys and ids of every event read. Without this, each
/// part kept 700 MB at 10M events, and 100M events ran out of memory.
fn compact_strings(frame: DataFrame) -> PolarsResult<DataFrame> {
    let height = frame.height();
    let columns = frame
        .columns()
        .iter()
        .map(|column| match column.dtype() {
            DataType::String => {
                let text = column.str()?;
                let copied = StringChunked::from_chunk_iter(
                    text.name().clone(),
                    text.downcast_iter().map(|array| array.clone().gc()),
                );
                Ok(copied.into_column())
            }
            _ => Ok(column.clone()),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, columns)
}

/// `retained_Nd`: false when the job ended within N days, true when N days have passed by
/// `as_of`, else not yet observable (null).
fn retained(n: i32, as_of_days: i32) -> Expr {
    let tenure = days(c::placements::END_ON) - days(c::placements::START_ON);
    when(
        col(c::placements::END_ON)
            .is_not_null()
            .and(tenure.lt(lit(n))),
    )
    .then(lit(false))
    .when((days(c::placements::START_ON) + lit(n)).lt_eq(lit(as_of_days)))
    .then(lit(true))
    .otherwise(lit(NULL).cast(DataType::Boolean))
    .alias(format!("retained_{n}d"))
}

/// Rule 5 for the wage records ([`wage_status`]), streamed from the lake onto the jobs of a
/// part: returns the attached records summed per job and month (`_job, _month, gross_wages,
/// hours_worked, wage_records`, sorted) and the items.
///
/// Only four numbers per attached record are held, never its text. The sums are taken in
/// memory over records in lake order ([`sums_by_job_month`]), so that float sums come out the
/// same in every run.
fn wages(wages: LazyFrame, jobs: &DataFrame, persons: &DataFrame) -> PolarsResult<[DataFrame; 2]> {
    let job_key = [CONSORTIUM, PERSON, event::JOB_ID];
    let keyed = jobs
        .clone()
        .lazy()
        .select([col(PERSON_CODE), col(event::JOB_ID), col("_job")])
        .join(
            persons.clone().lazy(),
            [col(PERSON_CODE)],
            [col(PERSON_CODE)],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()?;
    let job_of = KeyIndex::new(&keyed, &job_key, "_job")?;
    let joined = wages
        .with_column(job_of.code("_job"))
        .with_column(start_of_job(jobs)?)
        .with_column(wage_status().alias(ISSUE));
    let attached = joined.clone().filter(col(ISSUE).is_null()).select([
        col("_job"),
        month_index(event::OCCURRED_ON).alias("_month"),
        col(event::GROSS_WAGES),
        col(event::HOURS_WORKED),
    ]);
    let items = joined
        .filter(col(ISSUE).is_not_null())
        .group_by([col(CONSORTIUM), col(AGENCY), col(ISSUE)])
        .agg([len().cast(DataType::Int64).alias(ITEMS)]);
    let [attached, items] = collect_together_streaming([attached, items])?;
    Ok([sums_by_job_month(&attached)?, items])
}

/// The attached wage records (`_job, _month, gross_wages, hours_worked`, in lake order)
/// summed per job and month: `_job, _month, gross_wages, hours_worked, wage_records`, sorted
/// by job and month.
///
/// Plain Rust: most job-months have one record, so Polars' hash grouping built nearly one
/// group per record (6.3M at 10M events) and then sorted the groups. Here the records' (job,
/// month) keys are sorted with their row numbers, which keeps each run of one key in lake
/// order, and each run is summed: 0.95 s against 1.2 s. A sum is Kahan's over the run's
/// non-null values in that order (`polars_utils::kahan_sum`, as Polars' group sums are), so
/// the totals are the same to the bit. (Counting the records into job order instead,
/// directly or in cache-sized batches, was slower: each record moved is a cache miss or a
/// page first touched.)
fn sums_by_job_month(attached: &DataFrame) -> PolarsResult<DataFrame> {
    let missing = || polars_err!(ComputeError: "an attached wage record without a job or month");
    let jobs = attached.column("_job")?.idx()?;
    let months = attached.column("_month")?.i32()?;
    let mut keyed: Vec<(u64, IdxSize)> = Vec::with_capacity(attached.height());
    for (row, (job, month)) in (0..).zip(jobs.iter().zip(months.iter())) {
        let (Some(job), Some(month)) = (job, month) else {
            return Err(missing());
        };
        // Sorts as (job, month): the month offset into the unsigned range.
        let month = u64::from(month.wrapping_sub(i32::MIN) as u32);
        keyed.push(((u64::from(job) << 32) | month, row));
    }
    keyed.sort_unstable();
    let values = |name: &str| -> PolarsResult<Vec<Option<f64>>> {
        Ok(attached.column(name)?.f64()?.iter().collect())
    };
    let (gross, hours) = (values(event::GROSS_WAGES)?, values(event::HOURS_WORKED)?);
    // Polars' own compensated sum, so that each total is the one its group sum gives.
    let sum = |values: &[Option<f64>], rows: &[(u64, IdxSize)]| {
        let values = rows.iter().filter_map(|&(_, row)| values[row as usize]);
        values
            .fold(KahanSum::default(), |sum, value| sum + value)
            .sum()
    };
    let runs: Vec<&[(u64, IdxSize)]> = keyed.chunk_by(|a, b| a.0 == b.0).collect();
    let job = runs.iter().map(|run| (run[0].0 >> 32) as IdxSize).collect();
    let month = (runs.iter())
        .map(|run| (run[0].0 as u32 as i32).wrapping_add(i32::MIN))
        .collect();
    let gross_sums = runs.iter().map(|run| sum(&gross, run)).collect();
    let hours_sums = runs.iter().map(|run| sum(&hours, run)).collect();
    let records = runs.iter().map(|run| run.len() as i64).collect();
    DataFrame::new(
        runs.len(),
        vec![
            IdxCa::from_vec("_job".into(), job).into_column(),
            Int32Chunked::from_vec("_month".into(), month).into_column(),
            Float64Chunked::from_vec(event::GROSS_WAGES.into(), gross_sums).into_column(),
            Float64Chunked::from_vec(event::HOURS_WORKED.into(), hours_sums).into_column(),
            Int64Chunked::from_vec(c::placements::WAGE_RECORDS.into(), records).into_column(),
        ],
    )
}

/// The `start_on` of each row's job (`_job`), null without one: a lookup in the jobs of the
/// part, which are numbered consecutively, instead of a join of every wage record.
fn start_of_job(jobs: &DataFrame) -> PolarsResult<Expr> {
    let numbers = jobs.column("_job")?.idx()?;
    let first = numbers.min().unwrap_or(0);
    let days = jobs
        .column(c::placements::START_ON)?
        .cast(&DataType::Int32)?;
    let mut starts = vec![None; jobs.height()];
    for (job, start) in numbers.into_no_null_iter().zip(days.i32()?.iter()) {
        if let Some(slot) = starts.get_mut((job - first) as usize) {
            *slot = start;
        }
    }
    let starts: Arc<[Option<i32>]> = starts.into();
    Ok(col("_job")
        .map(
            move |jobs| {
                let days: Int32Chunked = jobs
                    .idx()?
                    .iter()
                    .map(|job| {
                        let slot = job?.checked_sub(first)? as usize;
                        starts.get(slot).copied().flatten()
                    })
                    .collect();
                days.into_date().into_column().cast(&DataType::Date)
            },
            |_, field| Ok(Field::new(field.name().clone(), DataType::Date)),
        )
        .alias(c::placements::START_ON))
}

/// Each job's wage totals and the `placements` columns derived from the job alone.
fn finish_jobs(jobs: DataFrame, sums: &DataFrame, as_of_days: i32) -> PolarsResult<DataFrame> {
    let totals = sums.clone().lazy().group_by([col("_job")]).agg([
        col(event::GROSS_WAGES)
            .sum()
            .alias(c::placements::WAGES_TOTAL),
        col(event::HOURS_WORKED)
            .sum()
            .alias(c::placements::HOURS_TOTAL),
        col(c::placements::WAGE_RECORDS).sum(),
    ]);
    jobs.lazy()
        .join(
            totals,
            [col("_job")],
            [col("_job")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            (col(event::HOURLY_WAGE) * col(event::HOURS_PER_WEEK))
                .alias(c::placements::WEEKLY_EARNINGS),
            (when(col(c::placements::END_ON).is_null())
                .then(lit(as_of_days))
                .otherwise(days(c::placements::END_ON))
                - days(c::placements::START_ON))
            .cast(DataType::Int64)
            .alias(c::placements::DAYS_EMPLOYED),
            retained(30, as_of_days),
            retained(90, as_of_days),
            retained(180, as_of_days),
            col(c::placements::WAGES_TOTAL).fill_null(lit(0.0)),
            col(c::placements::HOURS_TOTAL).fill_null(lit(0.0)),
            col(c::placements::WAGE_RECORDS).fill_null(lit(0i64)),
        ])
        .collect()
}

/// The wage sums with their job's consortium, agency and person.
fn wage_facts(sums: DataFrame, jobs: &DataFrame) -> PolarsResult<DataFrame> {
    sums.lazy()
        .join(
            jobs.clone().lazy().select([
                col("_job"),
                col(CONSORTIUM),
                col(AGENCY),
                col(PERSON_CODE),
            ]),
            [col("_job")],
            [col("_job")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()
}

/// Runs `step`, logging how long it took (`OUTCOMES_LOG=debug` shows where a run's time goes).
fn timed<T>(what: &str, step: impl FnOnce() -> PolarsResult<T>) -> PolarsResult<T> {
    let started = std::time::Instant::now();
    let result = step();
    tracing::debug!(
        step = what,
        seconds = started.elapsed().as_secs_f64(),
        "transform step"
    );
    result
}

/// Rules 3 to 5 for the people of one part (`rows`, kept lake rows), coded from `people` on,
/// their jobs numbered from `jobs` on: persons, episodes, jobs, wage sums and items, in the
/// order of [`Facts`]' fields.
fn part_facts(
    rows: LazyFrame,
    people: IdxSize,
    jobs: IdxSize,
    as_of_days: i32,
) -> PolarsResult<[DataFrame; 5]> {
    let kept = timed("read kept events", || read_kept(rows, people))?;
    let persons = kept.persons.height();
    let walked = timed("episodes, attribution, jobs", || {
        walk::walk(
            kept.tokens,
            kept.activities,
            kept.separations,
            people,
            persons,
            jobs,
        )
    })?;
    let [sums, wage_items] = timed("wages", || wages(kept.wages, &walked.jobs, &kept.persons))?;
    let jobs = finish_jobs(walked.jobs, &sums, as_of_days)?;
    let wages = wage_facts(sums, &jobs)?;
    let mut issues = walked.issues;
    issues.vstack_mut(&wage_items.select([CONSORTIUM, AGENCY, ISSUE, ITEMS])?)?;
    Ok([kept.persons, walked.episodes, jobs, wages, issues])
}

/// Moves each kept row of `shard` to one of the `count` parts from `first` on, by a hash of its
/// person key, in one narrow pass over the shard.
fn split(
    row_parts: &mut RowParts,
    shard: &Shard,
    as_of_days: i32,
    first: u16,
    count: u16,
) -> PolarsResult<()> {
    let [hash0, hash1, hash2, hash3] = HASH_SEEDS;
    let part = col(PERSON).hash(hash0, hash1, hash2, hash3) % lit(u64::from(count))
        + lit(u64::from(first));
    let assigned = collect_streaming(
        kept(shard.frame.clone(), as_of_days)
            .select([col(ROW), part.cast(DataType::UInt32).alias("_part")]),
    )?;
    row_parts.split(
        assigned.column(ROW)?.idx()?,
        assigned.column("_part")?.u32()?,
    );
    Ok(())
}

/// Which shards (consortia) each part reads: whole consortia packed in lake order into parts
/// of at most `per_part` rows, and a consortium of more rows alone in parts of its own, its
/// people split between them by [`split`]. Rules 3 to 5 stay within one person, and a person
/// within one consortium, so a part reads only its own consortia's files.
fn plan_parts(shards: &[Shard], per_part: u64) -> PolarsResult<Vec<PartPlan>> {
    let per_part = per_part.max(1);
    let mut parts: Vec<PartPlan> = Vec::new();
    let mut open: Option<(usize, u64)> = None; // a part of whole shards and its rows
    for (index, shard) in shards.iter().enumerate() {
        let rows = u64::from(shard.rows);
        if rows > per_part {
            let count = rows.div_ceil(per_part);
            for slice in 0..count {
                parts.push(PartPlan {
                    shards: vec![index],
                    slice: Some((slice, count)),
                });
            }
            continue;
        }
        match open {
            Some((at, filled)) if filled + rows <= per_part => {
                parts[at].shards.push(index);
                open = Some((at, filled + rows));
            }
            _ => {
                parts.push(PartPlan {
                    shards: vec![index],
                    slice: None,
                });
                open = Some((parts.len() - 1, rows));
            }
        }
    }
    if parts.len() > usize::from(MAX_PARTS) {
        return Err(polars_err!(ComputeError:
            "{} parts of at most {per_part} events would be more than {MAX_PARTS}: raise events_per_part",
            parts.len()
        ));
    }
    Ok(parts)
}

/// The shards a part reads, and for a consortium split by person its slice (`(n, of)`).
struct PartPlan {
    shards: Vec<usize>,
    slice: Option<(u64, u64)>,
}

/// Runs rules 1 to 5 over the events of `shards` (lake rows numbered by [`ROW`]) visible at
/// `as_of_days`.
///
/// Rules 1 and 2 look at the whole lake (a correction may name anyone's event); rules 3 to 5
/// read the kept rows from the lake by kind, part by part (see [`plan_parts`]).
pub(crate) fn derive(
    shards: &[Shard],
    content: &[&str],
    as_of_days: i32,
    events_per_part: u64,
) -> PolarsResult<Facts> {
    let frames = |indices: &[usize]| -> PolarsResult<LazyFrame> {
        let frames: Vec<LazyFrame> = indices.iter().map(|&at| shards[at].frame.clone()).collect();
        concat(frames, UnionArgs::default())
    };
    let all: Vec<usize> = (0..shards.len()).collect();
    let visible_events = visible(frames(&all)?, as_of_days);
    let (resolution, mut row_parts) = timed("dedupe and corrections", || {
        resolve(visible_events.clone(), content)
    })?;
    let plans = plan_parts(shards, events_per_part)?;
    for (number, plan) in plans.iter().enumerate() {
        let number = u16::try_from(number).unwrap_or(MAX_PARTS);
        for &at in &plan.shards {
            let shard = &shards[at];
            match plan.slice {
                None => row_parts.assign(shard.first_row..shard.first_row + shard.rows, number),
                Some((0, count)) => timed("split into parts", || {
                    let count = u16::try_from(count).unwrap_or(MAX_PARTS);
                    split(&mut row_parts, shard, as_of_days, number, count)
                })?,
                Some(_) => {}
            }
        }
    }
    // The dropped rows leave every part: a filter on row numbers, as an anti-join in its
    // place measured slower at 10M (docs/BENCHMARKS.md) and would hold the wage records to
    // keep their order.
    row_parts.remove(resolution.dropped.idx()?);
    let mut facts = Vec::new();
    let (mut people, mut jobs): (IdxSize, IdxSize) = (0, 0);
    for (part, plan) in (0..).zip(&plans) {
        let rows = kept(frames(&plan.shards)?, as_of_days).filter(row_parts.holds(part));
        let part = part_facts(rows, people, jobs, as_of_days)?;
        let count = |frame: &DataFrame| {
            IdxSize::try_from(frame.height()).map_err(|_| {
                PolarsError::ComputeError("more rows than row numbers can count".into())
            })
        };
        people += count(&part[0])?;
        jobs += count(&part[2])?;
        facts.push(part);
    }
    let stacked = |field: usize| -> PolarsResult<LazyFrame> {
        concat(
            facts
                .iter()
                .map(|part| part[field].clone().lazy())
                .collect::<Vec<_>>(),
            UnionArgs::default(),
        )
    };
    Ok(Facts {
        persons: stacked(0)?,
        episodes: stacked(1)?,
        jobs: stacked(2)?,
        wages: stacked(3)?,
        issues: concat(
            [resolution.issues.lazy(), stacked(4)?],
            UnionArgs::default(),
        )?,
    })
}
