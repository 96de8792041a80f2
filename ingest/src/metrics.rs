//! Prometheus metrics of an ingest worker, served as text on `--metrics HOST:PORT`.
//!
//! Counters are relaxed atomics (one add per message for `consumed`, the rest per batch), and
//! labels are few (reason codes only), so neither updating nor scraping costs the hot path.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use outcomes_schemas::Reason;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::warn;

use crate::batch::Tally;
use crate::error::IngestError;

/// The worker's counters and gauges.
#[derive(Debug, Default)]
pub struct Metrics {
    consumed: AtomicU64,
    stored: AtomicU64,
    rejected: [AtomicU64; Reason::ALL.len()],
    files: AtomicU64,
    flushes: AtomicU64,
    flush_micros: AtomicU64,
    lag: AtomicI64,
}

impl Metrics {
    /// Counts a message read from a source.
    pub fn record_consumed(&self) {
        self.consumed.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds a committed batch.
    pub fn record_flush(&self, tally: &Tally, micros: u64) {
        self.stored.fetch_add(tally.stored, Ordering::Relaxed);
        for (counter, n) in self.rejected.iter().zip(tally.rejected) {
            counter.fetch_add(n, Ordering::Relaxed);
        }
        self.files.fetch_add(tally.files, Ordering::Relaxed);
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.flush_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Sets the consumer lag (messages behind the partitions' ends, summed).
    pub fn set_lag(&self, lag: i64) {
        self.lag.store(lag, Ordering::Relaxed);
    }

    /// The metrics in Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            &mut out,
            "outcomes_ingest_events_consumed_total",
            "Messages read from sources.",
            self.consumed.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "outcomes_ingest_events_stored_total",
            "Valid events committed to the lake.",
            self.stored.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP outcomes_ingest_events_rejected_total Messages rejected, by reason.\n# TYPE outcomes_ingest_events_rejected_total counter"
        );
        for (reason, count) in Reason::ALL.iter().zip(&self.rejected) {
            let _ = writeln!(
                out,
                "outcomes_ingest_events_rejected_total{{reason=\"{reason}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        counter(
            &mut out,
            "outcomes_ingest_files_written_total",
            "Lake files written.",
            self.files.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP outcomes_ingest_flush_seconds Time to write and commit batches.\n# TYPE outcomes_ingest_flush_seconds summary\noutcomes_ingest_flush_seconds_sum {}\noutcomes_ingest_flush_seconds_count {}",
            self.flush_micros.load(Ordering::Relaxed) as f64 / 1e6,
            self.flushes.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP outcomes_ingest_consumer_lag Messages behind the end of the assigned partitions.\n# TYPE outcomes_ingest_consumer_lag gauge\noutcomes_ingest_consumer_lag {}",
            self.lag.load(Ordering::Relaxed)
        );
        out
    }
}

/// Serves `metrics` over HTTP on `address` until the task is dropped.
pub async fn serve(address: SocketAddr, metrics: Arc<Metrics>) -> Result<(), IngestError> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| IngestError::Io {
            path: address.to_string().into(),
            source,
        })?;
    loop {
        let (mut socket, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "metrics connection failed");
                continue;
            }
        };
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let body = metrics.render();
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}
