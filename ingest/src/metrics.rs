//! Prometheus metrics of an ingest worker, served over HTTP on `--metrics HOST:PORT`.
//!
//! The metrics are `prometheus-client` types (atomics: one add per message for `consumed`, the
//! rest per batch) and labels are few (reason codes only), so neither updating nor scraping
//! costs the hot path. The endpoint is hyper's HTTP/1 server: it answers `GET /metrics` (and
//! `/`) in the OpenMetrics text format, 404 elsewhere, 405 to other methods, and drops a client
//! that has not sent its request head within [`HEADER_READ_TIMEOUT`], so a stalled or slow
//! client holds no more than one task for that long.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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

/// The worker's counters and gauges, and the registry that names them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    consumed: Counter,
    stored: Counter,
    rejected: Family<ReasonLabel, Counter>,
    files: Counter,
    flush_seconds: Histogram,
    lag: Gauge,
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
            "Time to write and commit a batch",
            flush_seconds.clone(),
        );
        let lag = Gauge::default();
        registry.register(
            "consumer_lag",
            "Messages behind the end of the assigned partitions",
            lag.clone(),
        );
        Self {
            registry,
            consumed,
            stored,
            rejected,
            files,
            flush_seconds,
            lag,
        }
    }
}

impl Metrics {
    /// Counts a message read from a source.
    pub fn record_consumed(&self) {
        self.consumed.inc();
    }

    /// Adds a committed batch.
    pub fn record_flush(&self, tally: &Tally, elapsed: Duration) {
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
    }

    /// Sets the consumer lag (messages behind the partitions' ends, summed).
    pub fn set_lag(&self, lag: i64) {
        self.lag.set(lag);
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
            (&Method::GET | &Method::HEAD, _) => (
                StatusCode::NOT_FOUND,
                "text/plain",
                "not found: the metrics are at /metrics\n".to_owned(),
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
