//! The Kafka source: a consumer-group worker that commits batches to the lake exactly once.
//!
//! Delivery rule (see `ingest/README.md`): the lake is the record of what is stored. A batch
//! is committed to the lake first (a Delta transaction per table, each with the partition's
//! `txn` at the batch's last offset); only then is its offset committed to Kafka (for lag
//! tools), and its rejections sent to the dead-letter topic. Before the first message of a
//! partition is used, after start or after any assignment, the worker reads the partition's
//! positions from both tables' logs and seeks past what both hold, each table dropping what
//! it holds already, so a crash between any two of those steps neither loses nor doubles
//! anything; a worker that lost the partition fails its commit instead of writing it.
//!
//! Batches are committed by a task of their own ([`crate::committer`]) while the worker reads
//! on; the worker learns of each commit afterwards and only then commits the offset to Kafka.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use chrono::{DateTime, Utc};
use futures::{FutureExt as _, StreamExt as _};
use indexmap::{Equivalent, IndexMap};
use outcomes_schemas::{ConsortiumId, DLQ_TOPIC, Event, Origin, Rejection, Validator, parse_topic};
use rayon::iter::{
    IndexedParallelIterator as _, IntoParallelRefIterator as _, ParallelIterator as _,
};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tracing::{info, warn};

use outcomes_lake::{Lake, Stream};

use crate::batch::{Batch, BatchLimits, Tally};
use crate::client::KafkaClient;
use crate::committer::{Committer, Done};
use crate::error::{IngestError, Refusal};
use crate::metrics::Metrics;
use crate::source::SourceId;

/// How a Kafka worker runs.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// How to reach the cluster: bootstrap servers and librdkafka settings (security).
    pub client: KafkaClient,
    /// Consumer group; workers in one group share the partitions.
    pub group: String,
    /// Topic regular expression (EVENTS.md's pattern by default).
    pub topics: String,
    /// When batches are flushed.
    pub limits: BatchLimits,
    /// Bytes of message values held across all open batches before the largest is flushed:
    /// the bound on the worker's memory whatever the backlog (besides it, at most
    /// four flushed batches wait for or are in their lake commit).
    pub max_buffered_bytes: usize,
    /// How often new topics matching the pattern are discovered.
    pub metadata_refresh: Duration,
    /// How long the group waits for a silent worker before handing its partitions on.
    pub session_timeout: Duration,
    /// Static group membership (`group.instance.id`): a worker restarted with the same id takes
    /// its partitions back at once instead of waiting out the dead member's session. Each
    /// worker of a group needs its own; a second process with the same id fences the first.
    pub instance_id: Option<String>,
}

impl KafkaSettings {
    /// Settings with the contract's topic pattern and default limits.
    pub fn new(client: KafkaClient, group: impl Into<String>) -> Self {
        Self {
            client,
            group: group.into(),
            topics: outcomes_schemas::DEFAULT_TOPIC_PATTERN.to_owned(),
            limits: BatchLimits::default(),
            max_buffered_bytes: DEFAULT_BUFFERED_BYTES,
            metadata_refresh: Duration::from_secs(10),
            session_timeout: Duration::from_secs(10),
            instance_id: None,
        }
    }
}

/// [`KafkaSettings::max_buffered_bytes`] unless set: with librdkafka's prefetch and the batches
/// in their commit, a worker's peak stays near 400 MiB (docs/BENCHMARKS.md).
pub const DEFAULT_BUFFERED_BYTES: usize = 128 << 20;

/// A topic partition, as the worker keys its state.
type PartitionKey = (String, i32);

/// A topic partition as a message names it: looks a [`PartitionKey`] up without copying the
/// topic (every message does), and hashes as one.
#[derive(Hash)]
struct TopicPartition<'a>(&'a str, i32);

impl Equivalent<PartitionKey> for TopicPartition<'_> {
    fn equivalent(&self, key: &PartitionKey) -> bool {
        self.1 == key.1 && self.0 == key.0
    }
}

/// A message's place and value, as the worker adds it to its partition's batch.
struct Incoming<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    value: &'a [u8],
}

/// Whose batch the committer commits: a partition, and which time the worker took it up (a
/// partition revoked and assigned again is a new one), so that the outcome of a batch from
/// before is not taken for the partition's present batches.
type BatchOwner = (PartitionKey, u64);

/// Partitions taken away by a rebalance, handed from librdkafka's callback to the worker loop.
#[derive(Default)]
struct Revocations {
    /// Set with the list, so the loop checks for news with one atomic operation per message
    /// instead of taking the lock.
    pending: AtomicBool,
    partitions: Mutex<Vec<PartitionKey>>,
}

struct WorkerContext {
    revoked: Arc<Revocations>,
    metrics: Arc<Metrics>,
    /// Each partition's high watermark (the offset the next produced message will get), from
    /// librdkafka's statistics: how the worker knows it has reached the end of a backlog.
    high_watermarks: Arc<Mutex<HashMap<PartitionKey, i64>>>,
}

impl ClientContext for WorkerContext {
    fn stats(&self, statistics: Statistics) {
        let partitions = || {
            statistics
                .topics
                .values()
                .flat_map(|topic| topic.partitions.values().map(move |p| (&topic.topic, p)))
                .filter(|(_, partition)| partition.partition >= 0)
        };
        self.metrics.set_lag(
            partitions()
                .filter(|(_, partition)| partition.consumer_lag >= 0)
                .map(|(topic, partition)| {
                    (topic.as_str(), partition.partition, partition.consumer_lag)
                }),
        );
        if let Ok(mut marks) = self.high_watermarks.lock() {
            for (topic, partition) in partitions().filter(|(_, p)| p.hi_offset >= 0) {
                marks.insert((topic.clone(), partition.partition), partition.hi_offset);
            }
        }
    }
}

impl ConsumerContext for WorkerContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => self.metrics.set_assigned(list.count()),
            Rebalance::Revoke(_) => self.metrics.set_assigned(0),
            Rebalance::Error(_) => {}
        }
    }

    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance
            && let Ok(mut revoked) = self.revoked.partitions.lock()
        {
            revoked.extend(
                list.elements()
                    .iter()
                    .map(|e| (e.topic().to_owned(), e.partition())),
            );
            self.revoked.pending.store(true, Ordering::Release);
        }
    }
}

type WorkerConsumer = StreamConsumer<WorkerContext>;

/// One partition's state in the worker.
struct PartitionState {
    /// Which time the worker took the partition up (see [`BatchOwner`]).
    generation: u64,
    batch: Batch,
    /// The offset after the last message received.
    next_offset: i64,
    /// The partition's high watermark when the open batch began (or, if none was known yet,
    /// the first one known after): every message below it was already waiting in Kafka.
    backlog_end: Option<i64>,
}

impl PartitionState {
    /// A batch is due by the batch limits, or when it holds the end of a backlog: everything
    /// in it was already in Kafka when it began, and the worker has read up to the high
    /// watermark. Waiting could then only delay those messages, so a backfill's last batches
    /// are committed as soon as the worker catches up; a live feed's messages arrive after
    /// their batch began and still wait for `max_age`, making one file rather than one per
    /// message. Offsets only: no clock of another machine is trusted.
    fn is_due(&self, limits: &BatchLimits, high_watermark: Option<i64>) -> bool {
        let caught_up = high_watermark.is_some_and(|high| self.next_offset >= high);
        let backlog_only = self.backlog_end.is_some_and(|end| end >= self.next_offset);
        self.batch.is_due(limits) || (!self.batch.is_empty() && caught_up && backlog_only)
    }
}

/// How long shutdown waits for queued dead letters to reach the broker.
const DEAD_LETTER_GRACE: Duration = Duration::from_secs(30);

/// How often librdkafka reports statistics (lag, high watermarks), and so how soon after
/// catching up the end of a backlog is committed.
/// A quarter second keeps a restarted worker's first commit well under a second after it has
/// read its backlog; parsing librdkafka's statistics four times a second costs little.
const STATISTICS_INTERVAL: Duration = Duration::from_millis(250);

/// Bytes librdkafka may prefetch ahead of the worker, and the most one fetch response may
/// bring. librdkafka tops its queue up past the first by up to the second (50 MiB by default:
/// a megabyte from each of 48 partitions), so both bound the worker's memory. 16 MiB each
/// took the 2-million benchmark's peak from 444 to 512 MiB down to 362 to 411 MiB, no slower
/// (docs/BENCHMARKS.md); prefetching 128 MiB was no faster.
const PREFETCH_BYTES: usize = 16 << 20;

/// Messages taken from librdkafka's queue in one go (validated on both cores, then added to
/// their batches in order) before the loop looks at its timer and the shutdown signal again.
const DRAIN_AT_MOST: usize = 1024;

/// Fewest messages of a chunk that one core validates: below this, handing work to the
/// other core costs more than it saves (a quiet feed's messages come one by one).
const VALIDATE_PER_CORE: usize = 64;

/// A message as librdkafka hands it over, or its error.
type Received<'a> = Result<BorrowedMessage<'a>, KafkaError>;

/// A message's validation done ahead of its turn: `None` for a message of a partition not yet
/// opened (validated in its turn, once its batch exists) or for an error.
type Validated = Option<Result<Event, Rejection>>;

/// Flushed batches that may wait behind the one being committed before the worker waits too.
/// A backlog's batches come due in bursts (its partitions fill at about the same pace): with
/// one waiting, the worker stood still for the writer 1.2 s of a 10 s run, with four 0.3 s;
/// three or four made the 2-million benchmark faster in six of seven pairs, its peak still
/// under 512 MiB (docs/BENCHMARKS.md). Each batch in flight holds at most
/// [`BatchLimits::max_bytes`] of message values.
const COMMIT_QUEUE: usize = 3;

/// Runs a worker until `shutdown` resolves; then flushes, commits and returns the tally.
///
/// Transient trouble (broker down, lake write failing) is logged and retried; the worker
/// exits only on shutdown or on a setting it cannot work with.
pub async fn run(
    settings: KafkaSettings,
    lake: Lake,
    validator: Validator,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) -> Result<Tally, IngestError> {
    let kafka = |context: &str| {
        let context = context.to_owned();
        move |source| IngestError::Kafka { context, source }
    };
    let revoked = Arc::new(Revocations::default());
    let high_watermarks = Arc::new(Mutex::new(HashMap::new()));
    let context = WorkerContext {
        revoked: Arc::clone(&revoked),
        metrics: Arc::clone(&metrics),
        high_watermarks: Arc::clone(&high_watermarks),
    };
    let consumer: WorkerConsumer = consumer_config(&settings)?
        .create_with_context(context)
        .map_err(kafka("creating the consumer"))?;
    let producer: FutureProducer = settings
        .client
        .producer_config(&[
            ("enable.idempotence", "true".to_owned()),
            ("message.timeout.ms", "300000".to_owned()),
        ])?
        .create()
        .map_err(kafka("creating the dead-letter producer"))?;
    // A subscription pattern is a regex only when it starts with `^`.
    let pattern = if settings.topics.starts_with('^') {
        settings.topics.clone()
    } else {
        format!("^{}", settings.topics)
    };
    consumer
        .subscribe(&[pattern.as_str()])
        .map_err(kafka("subscribing"))?;
    info!(brokers = %settings.client.brokers, group = %settings.group, pattern = %pattern, "ingest worker started");

    let mut worker = Worker {
        settings,
        committer: Committer::start(lake, COMMIT_QUEUE),
        validator,
        metrics,
        producer,
        revoked,
        high_watermarks,
        partitions: IndexMap::new(),
        generations: 0,
        buffered: 0,
        tally: Tally::default(),
        broker_trouble: false,
        stopped: None,
    };
    if let Some(error) = worker.consume(&consumer, shutdown).await {
        // Nothing of the open batches is committed anywhere: their messages stay in Kafka for
        // the next run (or the partitions' new owner) to read from the lake's watermark.
        return Err(error);
    }
    worker.shut_down(&consumer).await;
    Ok(worker.tally)
}

/// The consumer's settings: offsets committed by the worker only, after the lake commit.
fn consumer_config(settings: &KafkaSettings) -> Result<ClientConfig, IngestError> {
    let tuned = [
        ("auto.offset.reset", "earliest".to_owned()),
        (
            "session.timeout.ms",
            settings.session_timeout.as_millis().to_string(),
        ),
        (
            "topic.metadata.refresh.interval.ms",
            settings.metadata_refresh.as_millis().to_string(),
        ),
        // librdkafka prefetches up to this much (all partitions together), overshooting by at
        // most one fetch response; it counts towards the worker's memory beside
        // `max_buffered_bytes`.
        (
            "queued.max.messages.kbytes",
            (PREFETCH_BYTES >> 10).to_string(),
        ),
        ("fetch.max.bytes", PREFETCH_BYTES.to_string()),
        // With a full prefetch queue, librdkafka by default waits a whole second before
        // fetching again: a backlog would then be read in bursts with the worker idle between.
        ("fetch.queue.backoff.ms", "20".to_owned()),
        (
            "statistics.interval.ms",
            STATISTICS_INTERVAL.as_millis().to_string(),
        ),
    ];
    let mut config = settings.client.consumer_config(&tuned)?;
    config
        .set("group.id", &settings.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    if let Some(id) = &settings.instance_id {
        config.set("group.instance.id", id);
    }
    Ok(config)
}

struct Worker {
    settings: KafkaSettings,
    committer: Committer<BatchOwner>,
    validator: Validator,
    metrics: Arc<Metrics>,
    producer: FutureProducer,
    revoked: Arc<Revocations>,
    high_watermarks: Arc<Mutex<HashMap<PartitionKey, i64>>>,
    partitions: IndexMap<PartitionKey, PartitionState>,
    /// Partitions taken up so far (the next [`PartitionState::generation`]).
    generations: u64,
    /// Bytes of message values in all open batches.
    buffered: usize,
    tally: Tally,
    broker_trouble: bool,
    /// Set when the worker cannot go on (the cluster refuses it for good, a batch cannot be
    /// assembled, the lake writer stopped); the loop then stops.
    stopped: Option<IngestError>,
}

/// Whether an error means the cluster will not take this worker whatever it retries: wrong
/// credentials, an untrusted certificate, a fenced instance id or another fatal error. Other
/// errors (a broker down, a leader moving) pass as the cluster recovers. A fatal error's event
/// carries only `_FATAL`; the client holds the original code and reason.
fn refusal(consumer: &WorkerConsumer, error: &KafkaError) -> Option<(Refusal, RDKafkaErrorCode)> {
    match error {
        KafkaError::MessageConsumptionFatal(code) => Some(match consumer.client().fatal_error() {
            Some((RDKafkaErrorCode::FencedInstanceId, _)) => {
                (Refusal::Fenced, RDKafkaErrorCode::FencedInstanceId)
            }
            Some((code, reason)) => (Refusal::Fatal(reason), code),
            None => (Refusal::Fatal(error.to_string()), *code),
        }),
        KafkaError::MessageConsumption(
            code @ (RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed),
        ) => Some((Refusal::Credentials, *code)),
        KafkaError::MessageConsumption(code @ RDKafkaErrorCode::SSL) => {
            Some((Refusal::Certificate, *code))
        }
        _ => None,
    }
}

impl Worker {
    /// Reads messages, flushes batches that come due and follows up their commits, until
    /// `shutdown` resolves or the worker cannot go on (returned).
    async fn consume(
        &mut self,
        consumer: &WorkerConsumer,
        shutdown: impl Future<Output = ()>,
    ) -> Option<IngestError> {
        let mut tick = tokio::time::interval(STATISTICS_INTERVAL / 2);
        let mut messages = consumer.stream();
        tokio::pin!(shutdown);
        loop {
            if let Some(error) = self.stopped.take() {
                return Some(error);
            }
            tokio::select! {
                () = &mut shutdown => return None,
                Some(done) = self.committer.next() => self.committed(consumer, done).await,
                _ = tick.tick() => {
                    self.drop_revoked();
                    self.flush_due().await;
                }
                Some(received) = messages.next() => {
                    // One reading of the clock for the messages taken in one go: their rows'
                    // `ingested_at` (milliseconds apart at most).
                    let now = Utc::now();
                    // A revocation noticed while taking the first message drops its
                    // partitions' open batches before the chunk is added.
                    self.drop_revoked();
                    let mut chunk = Vec::with_capacity(DRAIN_AT_MOST);
                    chunk.push(received);
                    // Take what librdkafka already holds without a trip through the select,
                    // but not past a revocation: the messages taken before it must be added
                    // (and then dropped with their batches) as if it came after them.
                    while chunk.len() < DRAIN_AT_MOST && !self.revoked.pending.load(Ordering::Relaxed) {
                        match messages.next().now_or_never() {
                            Some(Some(received)) => chunk.push(received),
                            _ => break,
                        }
                    }
                    let validated = self.validate_ahead(&chunk);
                    for (received, validated) in chunk.into_iter().zip(validated) {
                        self.receive(consumer, received, validated, now).await;
                    }
                }
            }
        }
    }

    /// Commits every open batch and gives the dead-letter producer a grace period.
    async fn shut_down(&mut self, consumer: &WorkerConsumer) {
        info!("shutting down: flushing open batches");
        self.flush_all().await;
        while let Some(done) = self.committer.next().await {
            self.committed(consumer, done).await;
        }
        let producer = self.producer.clone();
        let delivered =
            tokio::task::spawn_blocking(move || producer.flush(DEAD_LETTER_GRACE)).await;
        if !matches!(delivered, Ok(Ok(()))) {
            warn!(
                "some dead letters were not delivered to {DLQ_TOPIC} before exit; they stay in the lake's rejected table"
            );
        }
    }

    fn note_trouble(&mut self, consumer: &WorkerConsumer, error: &KafkaError) {
        if let Some((refusal, code)) = refusal(consumer, error) {
            self.stopped = Some(IngestError::Refused { refusal, code });
            return;
        }
        if !self.broker_trouble {
            warn!(%error, "Kafka is unavailable or failing; waiting and retrying (nothing is lost)");
            self.broker_trouble = true;
        }
    }

    /// Forgets open batches of revoked partitions: their new owner reads them from the
    /// lake's watermark, and nothing of them was committed here.
    fn drop_revoked(&mut self) {
        if !self.revoked.pending.swap(false, Ordering::Acquire) {
            return;
        }
        let taken: Vec<PartitionKey> = match self.revoked.partitions.lock() {
            Ok(mut list) => std::mem::take(&mut *list),
            Err(_) => return,
        };
        for key in taken {
            if let Some(state) = self.partitions.swap_remove(&key) {
                self.buffered -= state.batch.bytes();
                info!(topic = %key.0, partition = key.1, "partition revoked; its open batch is left to the next owner");
            }
        }
    }

    /// Validates a chunk's messages of open partitions on both cores (the consumer thread
    /// alone was the worker's limit: parsing, checking and pseudonymizing is most of its
    /// work). Validation depends only on a message and its partition's origin, so doing it
    /// ahead changes nothing of what is stored.
    fn validate_ahead(&self, chunk: &[Received<'_>]) -> Vec<Validated> {
        let work: Vec<_> = chunk
            .iter()
            .map(|received| {
                let message = received.as_ref().ok()?;
                let state = self
                    .partitions
                    .get(&TopicPartition(message.topic(), message.partition()))?;
                Some((state.batch.origin(), message.payload().unwrap_or_default()))
            })
            .collect();
        let validate = |work: &Option<(Origin<'_>, &[u8])>| {
            work.as_ref()
                .map(|(origin, value)| self.validator.validate(value, origin))
        };
        if work.len() < 2 * VALIDATE_PER_CORE {
            return work.iter().map(validate).collect();
        }
        work.par_iter()
            .with_min_len(VALIDATE_PER_CORE)
            .map(validate)
            .collect()
    }

    async fn receive(
        &mut self,
        consumer: &WorkerConsumer,
        received: Received<'_>,
        validated: Validated,
        now: DateTime<Utc>,
    ) {
        match received {
            Ok(message) => {
                let message = Incoming {
                    topic: message.topic(),
                    partition: message.partition(),
                    offset: message.offset(),
                    value: message.payload().unwrap_or_default(),
                };
                self.handle(consumer, message, validated, now).await;
            }
            Err(error) => self.note_trouble(consumer, &error),
        }
    }

    async fn handle(
        &mut self,
        consumer: &WorkerConsumer,
        Incoming {
            topic,
            partition,
            offset,
            value,
        }: Incoming<'_>,
        validated: Validated,
        now: DateTime<Utc>,
    ) {
        self.metrics.record_consumed();
        if self.broker_trouble {
            info!("Kafka is reachable again; resuming");
            self.broker_trouble = false;
        }
        let index = match self
            .partitions
            .get_index_of(&TopicPartition(topic, partition))
        {
            Some(index) => index,
            None => {
                let Some(state) = self
                    .open_partition(consumer, topic, partition, offset)
                    .await
                else {
                    self.stopped = Some(IngestError::CommitterStopped);
                    return;
                };
                self.partitions
                    .insert_full((topic.to_owned(), partition), state)
                    .0
            }
        };
        let Some((key, state)) = self.partitions.get_index_mut(index) else {
            return;
        };
        if state.batch.held().both().is_some_and(|both| offset <= both) {
            self.tally.already_stored += 1;
            return;
        }
        // Offsets of a partition only go up within its state's life, except that the messages
        // of a chunk read before the partition's seek (step 4 of ingest/README.md) come again
        // after it: each offset is added once.
        if offset < state.next_offset {
            return;
        }
        state.next_offset = offset + 1;
        if state.batch.is_empty() {
            state.backlog_end = self
                .high_watermarks
                .lock()
                .ok()
                .and_then(|marks| marks.get(key).copied());
        }
        match validated {
            Some(validated) => state.batch.push_validated(validated, value, offset, now),
            None => state.batch.push(&self.validator, value, offset, now),
        }
        self.buffered += value.len();
        if state.batch.is_full(&self.settings.limits) {
            let key = key.clone();
            self.flush(&key).await;
        }
        if self.buffered > self.settings.max_buffered_bytes
            && let Some(largest) = self
                .partitions
                .iter()
                .max_by_key(|(_, s)| s.batch.bytes())
                .map(|(k, _)| k.clone())
        {
            self.flush(&largest).await;
        }
    }

    /// The state of a partition first seen at `offset`: its positions read from the lake
    /// (retried until the lake answers), and the consumer moved past what both tables hold
    /// when `offset` is already stored. `None` if the lake writer has stopped.
    async fn open_partition(
        &mut self,
        consumer: &WorkerConsumer,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Option<PartitionState> {
        let consortium = parse_topic(topic)
            .map(|(consortium, _)| consortium)
            .unwrap_or_else(ConsortiumId::unknown);
        let stream = Stream {
            consortium,
            source: SourceId::Kafka {
                topic: topic.to_owned(),
                partition,
            },
        };
        let held = self.committer.positions(stream.clone()).await?;
        let watermark = held.both().unwrap_or(-1);
        if offset <= watermark {
            info!(%topic, partition, watermark, "resuming after the lake's watermark");
            if let Err(error) = consumer.seek(
                topic,
                partition,
                Offset::Offset(watermark + 1),
                Duration::from_secs(5),
            ) {
                warn!(%error, %topic, partition, "seek failed; skipping stored offsets instead");
            }
        }
        self.generations += 1;
        Some(PartitionState {
            generation: self.generations,
            batch: Batch::new(stream, held),
            next_offset: watermark + 1,
            backlog_end: None,
        })
    }

    async fn flush_due(&mut self) {
        let due: Vec<_> = {
            let high_watermarks = self.high_watermarks.lock().ok();
            self.partitions
                .iter_mut()
                .filter_map(|(key, state)| {
                    let high = high_watermarks
                        .as_ref()
                        .and_then(|marks| marks.get(key).copied());
                    if !state.batch.is_empty() && state.backlog_end.is_none() {
                        state.backlog_end = high;
                    }
                    state
                        .is_due(&self.settings.limits, high)
                        .then(|| key.clone())
                })
                .collect()
        };
        for key in due {
            self.flush(&key).await;
        }
    }

    async fn flush_all(&mut self) {
        let keys: Vec<_> = self.partitions.keys().cloned().collect();
        for key in keys {
            self.flush(&key).await;
        }
    }

    /// Hands one partition's open batch to the committer (waiting while it has
    /// [`COMMIT_QUEUE`] batches waiting already); [`Worker::committed`] follows up.
    async fn flush(&mut self, key: &PartitionKey) {
        let Some(state) = self.partitions.get_mut(key) else {
            return;
        };
        if state.batch.is_empty() {
            return;
        }
        self.buffered -= state.batch.bytes();
        let owner = (key.clone(), state.generation);
        match state.batch.seal() {
            Ok(sealed) => self.committer.commit(owner, sealed).await,
            // Nothing of the batch is committed: its messages stay in Kafka for the next run.
            Err(error) => self.stopped = Some(error),
        }
    }

    /// Follows up a batch the committer is done with: once it is in the lake, its offset is
    /// committed to Kafka and its rejections go to the dead-letter topic. A partition another
    /// worker has written meanwhile (this one lost it in a rebalance it has not seen yet) is
    /// dropped instead, open batch and all: its new owner reads it from the lake.
    async fn committed(&mut self, consumer: &WorkerConsumer, done: Done<BatchOwner>) {
        let (key, generation) = done.key;
        let current = self
            .partitions
            .get(&key)
            .is_some_and(|state| state.generation == generation);
        let flushed = match done.outcome {
            Ok(flushed) => flushed,
            Err(error) => {
                warn!(%error, topic = %key.0, partition = key.1, "partition written by another worker; its open batch is dropped");
                if current && let Some(state) = self.partitions.swap_remove(&key) {
                    self.buffered -= state.batch.bytes();
                }
                return;
            }
        };
        self.metrics.record_flush(&flushed.tally, done.elapsed);
        self.tally.add(&flushed.tally);

        let mut offsets = TopicPartitionList::new();
        if current
            && offsets
                .add_partition_offset(&key.0, key.1, Offset::Offset(flushed.last + 1))
                .is_ok()
            && let Err(error) = consumer.commit(&offsets, CommitMode::Async)
        {
            // The lake holds the truth; a failed Kafka commit only delays lag reporting.
            warn!(%error, topic = %key.0, partition = key.1, "offset commit to Kafka failed");
        }
        if let Some(rejected) = &flushed.rejected {
            self.send_dead_letters(rejected).await;
        }
    }

    /// Queues the rejected rows for the dead-letter topic without waiting for delivery.
    async fn send_dead_letters(&self, rejected: &RecordBatch) {
        let letters = dead_letters(rejected);
        let mut deliveries = Vec::with_capacity(letters.len());
        for letter in &letters {
            let mut record = FutureRecord::to(DLQ_TOPIC)
                .key(&letter.key)
                .payload(letter.raw)
                .headers(letter.headers());
            loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((error, _)) => {
                        warn!(%error, "a dead letter could not be queued for {DLQ_TOPIC}; it stays in the lake's rejected table");
                        break;
                    }
                }
            }
        }
        // Deliveries are awaited off the consumer loop: waiting for the broker's
        // acknowledgements here would stall consumption once per batch.
        tokio::spawn(async move {
            for delivery in deliveries {
                if !matches!(delivery.await, Ok(Ok(_))) {
                    warn!(
                        "a dead letter was not delivered to {DLQ_TOPIC}; it stays in the lake's rejected table"
                    );
                }
            }
        });
    }
}

/// One rejected message as the dead-letter topic carries it: its original bytes, keyed by its
/// source position, with the reason and the position in headers.
struct DeadLetter<'a> {
    key: String,
    raw: &'a [u8],
    reason: &'a str,
    detail: &'a str,
    topic: &'a str,
    partition: String,
    offset: String,
}

impl DeadLetter<'_> {
    fn headers(&self) -> OwnedHeaders {
        [
            ("reason", self.reason),
            ("detail", self.detail),
            ("source_topic", self.topic),
            ("source_partition", self.partition.as_str()),
            ("source_offset", self.offset.as_str()),
        ]
        .into_iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        })
    }
}

/// The dead letters of a batch's rejected rows (none if the batch lacks a column, which the
/// lake schema rules out).
fn dead_letters(rejected: &RecordBatch) -> Vec<DeadLetter<'_>> {
    let strings = |name| {
        rejected
            .column_by_name(name)
            .and_then(|a| a.as_string_opt::<i32>())
    };
    let (Some(reason), Some(detail), Some(topic), Some(raw), Some(partition), Some(offset)) = (
        strings("reason"),
        strings("detail"),
        strings("topic"),
        rejected
            .column_by_name("raw")
            .and_then(|a| a.as_binary_opt::<i32>()),
        rejected
            .column_by_name("partition")
            .and_then(|a| a.as_primitive_opt::<Int32Type>()),
        rejected
            .column_by_name("offset")
            .and_then(|a| a.as_primitive_opt::<Int64Type>()),
    ) else {
        return Vec::new();
    };
    (0..rejected.num_rows())
        .map(|row| {
            let (partition, offset) = (partition.value(row), offset.value(row));
            DeadLetter {
                key: format!("{}:{partition}:{offset}", topic.value(row)),
                raw: raw.value(row),
                reason: reason.value(row),
                detail: detail.value(row),
                topic: topic.value(row),
                partition: partition.to_string(),
                offset: offset.to_string(),
            }
        })
        .collect()
}
