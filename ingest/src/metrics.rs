//! Prometheus metrics of an ingest worker, served over HTTP on `--metrics HOST:PORT`.
//!
//! The metrics are `prometheus-client` types (atomics: one add per message for `consumed`, the
//! rest per batch or per statistics report) and labels are few (reason codes, assigned
//! partitions), so neither updating nor scraping costs the hot path. The endpoint is hyper's
//! HTTP/1 server: it answers `GET /metrics` (and `/`) in the OpenMetrics text format and
//! `GET /healthz` with a JSON line (partitions held, last commit), 404 elsewhere, 405 to other
//! methods, and drops a client that has not sent its request head within
//! [`HEADER_READ_TIMEOUT`], so a stalled or slow client holds no more than one task for that
//! long.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use outcomes_schemas::Reason;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tracing::{debug, warn};

use crate::batch::Tally;
use crate::error::IngestError;

/// How long a client may take to send its request head before the endpoint drops it.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The media type of the OpenMetrics text format, which Prometheus asks for first.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A rejection reason as a label value: its contract code, as in the dead-letter path.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct ReasonCode(Reason);

impl EncodeLabelValue for ReasonCode {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), fmt::Error> {
        fmt::Write::write_str(encoder, self.0.code())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: ReasonCode,
}

/// A partition of a source topic.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabel {
    topic: String,
    partition: i32,
}

/// The worker's counters and gauges, and the registry that names them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    consumed: Counter,
    stored: Counter,
    rejected: Family<ReasonLabel, Counter>,
    files: Counter,
    flush_seconds: Histogram,
    batch_messages: Histogram,
    lag: Gauge,
    partition_lag: Family<PartitionLabel, Gauge>,
    assigned: Gauge,
    /// When the last batch was committed, in microseconds since 1970 (0: never).
    last_commit_micros: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("outcomes_ingest");
        let consumed = Counter::default();
        registry.register(
            "events_consumed",
            "Messages read from sources",
            consumed.clone(),
        );
        let stored = Counter::default();
        registry.register(
            "events_stored",
            "Valid events committed to the lake",
            stored.clone(),
        );
        let rejected = Family::<ReasonLabel, Counter>::default();
        // Every reason from the start, so a dashboard sees a zero rather than no series.
        for reason in Reason::ALL {
            drop(rejected.get_or_create(&ReasonLabel {
                reason: ReasonCode(reason),
            }));
        }
        registry.register(
            "events_rejected",
            "Messages rejected, by reason",
            rejected.clone(),
        );
        let files = Counter::default();
        registry.register("files_written", "Lake files written", files.clone());
        // 1 ms to about 33 s: a batch commit is a Parquet write and a rename or two.
        let flush_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "flush_seconds",
            "Commit latency: time to write and commit a batch",
            flush_seconds.clone(),
        );
        // 1 to about 1M messages, the default batch limit being 100,000.
        let batch_messages = Histogram::new(exponential_buckets(1.0, 4.0, 11));
        registry.register(
            "batch_messages",
            "Messages in each committed batch, stored and rejected",
            batch_messages.clone(),
        );
        let lag = Gauge::default();
        registry.register(
            "consumer_lag",
            "Messages behind the end of the assigned partitions",
            lag.clone(),
        );
        let partition_lag = Family::<PartitionLabel, Gauge>::default();
        registry.register(
            "partition_lag",
            "Messages behind the end of each assigned partition",
            partition_lag.clone(),
        );
        let assigned = Gauge::default();
        registry.register(
            "assigned_partitions",
            "Partitions this worker holds",
            assigned.clone(),
        );
        Self {
            registry,
            consumed,
            stored,
            rejected,
            files,
            flush_seconds,
            batch_messages,
            lag,
            partition_lag,
            assigned,
            last_commit_micros: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    /// Counts a message read from a source.
    pub(crate) fn record_consumed(&self) {
        self.consumed.inc();
    }

    /// Adds a committed batch.
    pub(crate) fn record_flush(&self, tally: &Tally, elapsed: Duration) {
        self.stored.inc_by(tally.stored);
        for (&reason, &n) in Reason::ALL.iter().zip(&tally.rejected) {
            self.rejected
                .get_or_create(&ReasonLabel {
                    reason: ReasonCode(reason),
                })
                .inc_by(n);
        }
        self.files.inc_by(tally.files);
        self.flush_seconds.observe(elapsed.as_secs_f64());
        self.batch_messages
            .observe((tally.stored + tally.rejected_total()) as f64);
        self.last_commit_micros
            .store(Utc::now().timestamp_micros(), Ordering::Relaxed);
    }

    /// Sets each assigned partition's consumer lag (messages behind its end) and their sum;
    /// partitions not listed are no longer reported.
    pub(crate) fn set_lag<'a>(&self, partitions: impl IntoIterator<Item = (&'a str, i32, i64)>) {
        self.partition_lag.clear();
        let mut total = 0;
        for (topic, partition, lag) in partitions {
            self.partition_lag
                .get_or_create(&PartitionLabel {
                    topic: topic.to_owned(),
                    partition,
                })
                .set(lag);
            total += lag;
        }
        self.lag.set(total);
    }

    /// Sets how many partitions the worker holds (after each rebalance).
    pub(crate) fn set_assigned(&self, partitions: usize) {
        self.assigned
            .set(i64::try_from(partitions).unwrap_or(i64::MAX));
    }

    /// `/healthz`: whether the worker holds partitions and when it last committed, as JSON.
    fn health(&self) -> String {
        let micros = self.last_commit_micros.load(Ordering::Relaxed);
        let last_commit = (micros > 0)
            .then(|| DateTime::<Utc>::from_timestamp_micros(micros))
            .flatten();
        let assigned = self.assigned.get();
        serde_json::json!({
            "holds_partitions": assigned > 0,
            "assigned_partitions": assigned,
            "last_commit": last_commit.map(|at| at.to_rfc3339()),
            "seconds_since_last_commit": last_commit
                .map(|at| (Utc::now() - at).num_milliseconds() as f64 / 1000.0),
        })
        .to_string()
            + "\n"
    }

    /// The metrics in the OpenMetrics text format.
    fn render(&self) -> Result<String, fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// The endpoint's answer to one request.
    fn respond(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        let (status, content_type, body) = match (request.method(), request.uri().path()) {
            (&Method::GET | &Method::HEAD, "/metrics" | "/") => match self.render() {
                Ok(text) => (StatusCode::OK, OPENMETRICS, text),
                Err(error) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    format!("encoding the metrics failed: {error}\n"),
                ),
            },
            (&Method::GET | &Method::HEAD, "/healthz") => {
                (StatusCode::OK, "application/json", self.health())
            }
            (&Method::GET | &Method::HEAD, _) => (
                StatusCode::NOT_FOUND,
                "text/plain",
                "not found: the metrics are at /metrics, the health at /healthz\n".to_owned(),
            ),
            _ => (
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "only GET and HEAD\n".to_owned(),
            ),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(content_type),
        );
        if status == StatusCode::METHOD_NOT_ALLOWED {
            headers.insert(ALLOW, hyper::header::HeaderValue::from_static("GET, HEAD"));
        }
        response
    }
}

/// The metrics endpoint, bound to its address before the worker starts, so that an address in
/// use stops the worker at once instead of leaving it running unobserved.
#[derive(Debug)]
pub struct MetricsEndpoint {
    listener: TcpListener,
}

impl MetricsEndpoint {
    /// Binds `address`.
    pub async fn bind(address: SocketAddr) -> Result<Self, IngestError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| IngestError::MetricsBind { address, source })?;
        Ok(Self { listener })
    }

    /// Serves `metrics` until the task is dropped, each connection on a task of its own.
    pub async fn serve(self, metrics: Arc<Metrics>) {
        loop {
            let (stream, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    warn!(%error, "accepting a metrics connection failed");
                    continue;
                }
            };
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let response = metrics.respond(&request);
                    async move { Ok::<_, Infallible>(response) }
                });
                let served = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                if let Err(error) = served {
                    debug!(%error, %peer, "metrics connection ended");
                }
            });
        }
    }
}
