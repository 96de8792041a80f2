//! The Kafka source: a consumer-group worker that commits batches to the lake exactly once.
//!
//! Delivery rule (see `ingest/README.md`): the lake is the record of what is stored. A batch
//! is committed to the lake first; only then is its offset committed to Kafka (for lag tools
//! and for a fast restart), and its rejections sent to the dead-letter topic. Before the first
//! message of a partition is used, after start or after any assignment, the worker reads that
//! partition's watermark from the lake and skips (and seeks past) every offset at or below it,
//! so a crash between the lake commit and the Kafka commit neither loses nor doubles anything.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use chrono::Utc;
use outcomes_schemas::{ConsortiumId, DLQ_TOPIC, Validator, parse_topic};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tracing::{info, warn};

use crate::batch::{Batch, BatchLimits, Flushed, Tally};
use crate::error::IngestError;
use crate::lake::Lake;
use crate::metrics::Metrics;
use crate::source::{SourceId, Stream};

/// How a Kafka worker runs.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// Bootstrap servers, `HOST:PORT[,HOST:PORT]`.
    pub brokers: String,
    /// Consumer group; workers in one group share the partitions.
    pub group: String,
    /// Topic regular expression (EVENTS.md's pattern by default).
    pub topics: String,
    /// When batches are flushed.
    pub limits: BatchLimits,
    /// Bytes of message values held across all open batches before the largest is flushed:
    /// the bound on the worker's memory whatever the backlog.
    pub max_buffered_bytes: usize,
    /// How often new topics matching the pattern are discovered.
    pub metadata_refresh: Duration,
    /// How long the group waits for a silent worker before handing its partitions on.
    pub session_timeout: Duration,
}

impl KafkaSettings {
    /// Settings with the contract's topic pattern and default limits.
    pub fn new(brokers: impl Into<String>, group: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            group: group.into(),
            topics: outcomes_schemas::DEFAULT_TOPIC_PATTERN.to_owned(),
            limits: BatchLimits::default(),
            max_buffered_bytes: 256 << 20,
            metadata_refresh: Duration::from_secs(10),
            session_timeout: Duration::from_secs(10),
        }
    }
}

/// Partitions taken away by a rebalance, handed from librdkafka's thread to the worker loop.
#[derive(Default)]
struct Revocations {
    partitions: Mutex<Vec<(String, i32)>>,
}

struct WorkerContext {
    revoked: Arc<Revocations>,
    metrics: Arc<Metrics>,
}

impl ClientContext for WorkerContext {
    fn stats(&self, statistics: Statistics) {
        let lag = statistics
            .topics
            .values()
            .flat_map(|topic| topic.partitions.values())
            .filter(|partition| partition.partition >= 0 && partition.consumer_lag >= 0)
            .map(|partition| partition.consumer_lag)
            .sum();
        self.metrics.set_lag(lag);
    }
}

impl ConsumerContext for WorkerContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance
            && let Ok(mut revoked) = self.revoked.partitions.lock()
        {
            revoked.extend(
                list.elements()
                    .iter()
                    .map(|e| (e.topic().to_owned(), e.partition())),
            );
        }
    }
}

type WorkerConsumer = StreamConsumer<WorkerContext>;

/// One partition's state in the worker.
struct PartitionState {
    batch: Batch,
    /// Offsets at or below this are already in the lake.
    watermark: i64,
}

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
    let context = WorkerContext {
        revoked: Arc::clone(&revoked),
        metrics: Arc::clone(&metrics),
    };
    let consumer: WorkerConsumer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("group.id", &settings.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set(
            "session.timeout.ms",
            settings.session_timeout.as_millis().to_string(),
        )
        .set(
            "topic.metadata.refresh.interval.ms",
            settings.metadata_refresh.as_millis().to_string(),
        )
        .set("statistics.interval.ms", "5000")
        .create_with_context(context)
        .map_err(kafka("creating the consumer"))?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", "300000")
        .create()
        .map_err(kafka("creating the dead-letter producer"))?;
    let pattern = if settings.topics.starts_with('^') {
        settings.topics.clone()
    } else {
        format!("^{}", settings.topics)
    };
    consumer
        .subscribe(&[pattern.as_str()])
        .map_err(kafka("subscribing"))?;
    info!(brokers = %settings.brokers, group = %settings.group, pattern = %pattern, "ingest worker started");

    let mut worker = Worker {
        settings,
        lake,
        validator,
        metrics,
        producer,
        partitions: HashMap::new(),
        tally: Tally::default(),
        broker_trouble: false,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = tick.tick() => {
                worker.drop_revoked(&revoked);
                worker.flush_due(&consumer).await;
            }
            received = consumer.recv() => {
                worker.drop_revoked(&revoked);
                match received {
                    Ok(message) => {
                        let topic = message.topic().to_owned();
                        let partition = message.partition();
                        let offset = message.offset();
                        let value = message.payload().unwrap_or_default().to_vec();
                        drop(message);
                        worker.handle(&consumer, topic, partition, offset, &value).await;
                    }
                    Err(error) => worker.note_trouble(&error),
                }
            }
        }
    }
    info!("shutting down: flushing open batches");
    worker.flush_all(&consumer).await;
    Ok(worker.tally)
}

struct Worker {
    settings: KafkaSettings,
    lake: Lake,
    validator: Validator,
    metrics: Arc<Metrics>,
    producer: FutureProducer,
    partitions: HashMap<(String, i32), PartitionState>,
    tally: Tally,
    broker_trouble: bool,
}

impl Worker {
    fn note_trouble(&mut self, error: &rdkafka::error::KafkaError) {
        if !self.broker_trouble {
            warn!(%error, "Kafka is unavailable or failing; waiting and retrying (nothing is lost)");
            self.broker_trouble = true;
        }
    }

    /// Forgets open batches of revoked partitions: their new owner reads them from the
    /// lake's watermark, and nothing of them was committed here.
    fn drop_revoked(&mut self, revoked: &Revocations) {
        let taken: Vec<(String, i32)> = match revoked.partitions.lock() {
            Ok(mut list) => std::mem::take(&mut *list),
            Err(_) => return,
        };
        for key in taken {
            if self.partitions.remove(&key).is_some() {
                info!(topic = %key.0, partition = key.1, "partition revoked; its open batch is left to the next owner");
            }
        }
    }

    async fn handle(
        &mut self,
        consumer: &WorkerConsumer,
        topic: String,
        partition: i32,
        offset: i64,
        value: &[u8],
    ) {
        if self.broker_trouble {
            info!("Kafka is reachable again; resuming");
            self.broker_trouble = false;
        }
        let key = (topic.clone(), partition);
        if !self.partitions.contains_key(&key) {
            let consortium = parse_topic(&topic)
                .map(|(consortium, _)| consortium)
                .unwrap_or_else(ConsortiumId::unknown);
            let stream = Stream {
                consortium,
                source: SourceId::Kafka {
                    topic: topic.clone(),
                    partition,
                },
            };
            let watermark = loop {
                match self.lake.watermarks() {
                    Ok(marks) => break marks.get(&stream).copied().unwrap_or(-1),
                    Err(error) => {
                        warn!(error = %error, "cannot read the lake's watermark; retrying");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            };
            if offset <= watermark {
                info!(%topic, partition, watermark, "resuming after the lake's watermark");
                if let Err(error) = consumer.seek(
                    &topic,
                    partition,
                    Offset::Offset(watermark + 1),
                    Duration::from_secs(5),
                ) {
                    warn!(%error, %topic, partition, "seek failed; skipping stored offsets instead");
                }
            }
            self.partitions.insert(
                key.clone(),
                PartitionState {
                    batch: Batch::new(stream),
                    watermark,
                },
            );
        }
        let Some(state) = self.partitions.get_mut(&key) else {
            return;
        };
        if offset <= state.watermark {
            self.tally.already_stored += 1;
            return;
        }
        state.batch.push(&self.validator, value, offset, Utc::now());
        if state.batch.is_full(&self.settings.limits) {
            self.flush(consumer, &key).await;
        }
        if self.buffered() > self.settings.max_buffered_bytes
            && let Some(largest) = self
                .partitions
                .iter()
                .max_by_key(|(_, s)| s.batch.bytes())
                .map(|(k, _)| k.clone())
        {
            self.flush(consumer, &largest).await;
        }
    }

    fn buffered(&self) -> usize {
        self.partitions.values().map(|s| s.batch.bytes()).sum()
    }

    async fn flush_due(&mut self, consumer: &WorkerConsumer) {
        let due: Vec<_> = self
            .partitions
            .iter()
            .filter(|(_, s)| s.batch.is_due(&self.settings.limits))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            self.flush(consumer, &key).await;
        }
    }

    async fn flush_all(&mut self, consumer: &WorkerConsumer) {
        let keys: Vec<_> = self.partitions.keys().cloned().collect();
        for key in keys {
            self.flush(consumer, &key).await;
        }
    }

    /// Commits one partition's batch to the lake (retrying until it succeeds), then its offset
    /// to Kafka, then its rejections to the dead-letter topic.
    async fn flush(&mut self, consumer: &WorkerConsumer, key: &(String, i32)) {
        let Some(state) = self.partitions.get_mut(key) else {
            return;
        };
        if state.batch.is_empty() {
            return;
        }
        let started = Instant::now();
        let flushed: Flushed = loop {
            match state.batch.commit(&self.lake, Utc::now()) {
                Ok(flushed) => break flushed,
                Err(error) => {
                    warn!(error = %error, source = %state.batch.stream().source, "lake commit failed; retrying in 5 s");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        };
        state.watermark = flushed.last;
        self.metrics.record_flush(
            &flushed.tally,
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        );
        self.tally.add(&flushed.tally);

        let mut offsets = TopicPartitionList::new();
        if offsets
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

    async fn send_dead_letters(&self, rejected: &RecordBatch) {
        let (Some(reason), Some(detail), Some(raw), Some(topic), Some(partition), Some(offset)) = (
            rejected
                .column_by_name("reason")
                .and_then(|a| a.as_string_opt::<i32>()),
            rejected
                .column_by_name("detail")
                .and_then(|a| a.as_string_opt::<i32>()),
            rejected
                .column_by_name("raw")
                .and_then(|a| a.as_binary_opt::<i32>()),
            rejected
                .column_by_name("topic")
                .and_then(|a| a.as_string_opt::<i32>()),
            rejected
                .column_by_name("partition")
                .and_then(|a| a.as_primitive_opt::<Int32Type>()),
            rejected
                .column_by_name("offset")
                .and_then(|a| a.as_primitive_opt::<Int64Type>()),
        ) else {
            return;
        };
        let rows = 0..rejected.num_rows();
        let positions: Vec<(String, String)> = rows
            .clone()
            .map(|row| {
                (
                    partition.value(row).to_string(),
                    offset.value(row).to_string(),
                )
            })
            .collect();
        let keys: Vec<String> = rows
            .clone()
            .map(|row| {
                format!(
                    "{}:{}:{}",
                    topic.value(row),
                    positions[row].0,
                    positions[row].1
                )
            })
            .collect();
        let mut pending = Vec::with_capacity(rejected.num_rows());
        for row in rows {
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "reason",
                    value: Some(reason.value(row)),
                })
                .insert(Header {
                    key: "detail",
                    value: Some(detail.value(row)),
                })
                .insert(Header {
                    key: "source_topic",
                    value: Some(topic.value(row)),
                })
                .insert(Header {
                    key: "source_partition",
                    value: Some(&positions[row].0),
                })
                .insert(Header {
                    key: "source_offset",
                    value: Some(&positions[row].1),
                });
            let record = FutureRecord::to(DLQ_TOPIC)
                .key(&keys[row])
                .payload(raw.value(row))
                .headers(headers);
            pending.push(self.producer.send(record, Duration::from_secs(60)));
        }
        for delivery in pending {
            if let Err((error, _)) = delivery.await {
                warn!(%error, "a dead letter was not delivered to {DLQ_TOPIC}; it stays in the lake's rejected table");
            }
        }
    }
}
