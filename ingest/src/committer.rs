//! The Kafka worker's lake writer: a task of its own, so that one batch's Parquet encoding
//! and Delta commits run on one core while the worker reads and validates the next messages
//! on the other (committing in the consumer loop left the loop idle for a third of a
//! backlog's time, docs/BENCHMARKS.md).
//!
//! Jobs are done one at a time in the order they were sent: a partition's batches land in
//! offset order, and a position read comes after every commit sent before it. Exactly once
//! does not rest on this order: each commit checks that its table holds the source where the
//! batch began ([`LakeError::SourceTaken`] otherwise).

use std::time::{Duration, Instant};

use outcomes_lake::{Lake, LakeError, Positions, Stream};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use crate::batch::{Flushed, Sealed};

/// How long a failed lake commit waits before it is tried again.
const RETRY_COMMIT: Duration = Duration::from_secs(5);
/// How long a failed position read waits before it is tried again.
const RETRY_POSITIONS: Duration = Duration::from_secs(2);

/// Work for the committer.
pub(crate) enum Job<K> {
    /// Commit a sealed batch, retrying until it lands or its source is taken.
    Commit(K, Box<Sealed>),
    /// Read a source's positions from both tables' logs (retried until the lake answers).
    Positions(Stream, oneshot::Sender<Positions>),
}

/// A batch the committer is done with.
pub(crate) struct Done<K> {
    /// Whose batch it was.
    pub(crate) key: K,
    /// What the commit did, or [`LakeError::SourceTaken`]: another worker writes the source
    /// now, and the batch was not committed.
    pub(crate) outcome: Result<Flushed, LakeError>,
    /// From the job's start to its end, retries included.
    pub(crate) elapsed: Duration,
}

/// The worker's side of the committer: jobs out, finished batches back.
pub(crate) struct Committer<K> {
    jobs: mpsc::Sender<Job<K>>,
    done: mpsc::UnboundedReceiver<Done<K>>,
    /// Batches sent and not yet reported back.
    in_flight: usize,
}

impl<K: Send + 'static> Committer<K> {
    /// Starts the committer task on `lake`; at most `queue` batches wait behind the one
    /// being committed before [`Committer::commit`] waits.
    pub(crate) fn start(lake: Lake, queue: usize) -> Self {
        let (jobs, receiver) = mpsc::channel(queue);
        let (reports, done) = mpsc::unbounded_channel();
        tokio::spawn(work(lake, receiver, reports));
        Self {
            jobs,
            done,
            in_flight: 0,
        }
    }

    /// Sends a sealed batch to be committed; its [`Done`] comes back from [`Committer::next`].
    pub(crate) async fn commit(&mut self, key: K, sealed: Sealed) {
        if self
            .jobs
            .send(Job::Commit(key, Box::new(sealed)))
            .await
            .is_ok()
        {
            self.in_flight += 1;
        }
    }

    /// The positions of `stream` in both tables, read after every commit sent before.
    pub(crate) async fn positions(&self, stream: Stream) -> Option<Positions> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Positions(stream, reply)).await.ok()?;
        answer.await.ok()
    }

    /// The next finished batch; waits for one (`None` once nothing is in flight).
    pub(crate) async fn next(&mut self) -> Option<Done<K>> {
        if self.in_flight == 0 {
            return None;
        }
        let done = self.done.recv().await;
        if done.is_some() {
            self.in_flight -= 1;
        }
        done
    }
}

/// The committer task: does the jobs in order until the worker drops its sender.
async fn work<K>(
    mut lake: Lake,
    mut jobs: mpsc::Receiver<Job<K>>,
    reports: mpsc::UnboundedSender<Done<K>>,
) {
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Commit(key, mut sealed) => {
                let started = Instant::now();
                let outcome = commit(&mut lake, &mut sealed).await;
                let done = Done {
                    key,
                    outcome,
                    elapsed: started.elapsed(),
                };
                if reports.send(done).is_err() {
                    return;
                }
            }
            Job::Positions(stream, reply) => {
                let held = loop {
                    match lake.positions(&stream).await {
                        Ok(held) => break held,
                        Err(error) => {
                            warn!(%error, source = %stream.source, "cannot read the source's position from the lake; retrying");
                            tokio::time::sleep(RETRY_POSITIONS).await;
                        }
                    }
                };
                // The worker may have stopped waiting (shutdown); nothing to do then.
                let _ = reply.send(held);
            }
        }
    }
}

/// Commits one batch, retrying every [`RETRY_COMMIT`] until it lands, unless another writer
/// has taken its source.
async fn commit(lake: &mut Lake, sealed: &mut Sealed) -> Result<Flushed, LakeError> {
    loop {
        match sealed.commit(lake).await {
            Err(error @ LakeError::SourceTaken { .. }) => return Err(error),
            Err(error) => {
                warn!(%error, source = %sealed.stream().source, "lake commit failed; retrying in 5 s");
                tokio::time::sleep(RETRY_COMMIT).await;
            }
            done => return done,
        }
    }
}
