//! The lake on object storage: a real S3-compatible server on 127.0.0.1 (gofakes3, built by
//! `tests/run.sh` from the Go module proxy; it has the conditional put delta-rs commits with),
//! written by several worker processes at once, compacted, vacuumed and transformed, and read
//! back by the `deltalake` Python package and the DuckDB reference.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{compare_with_reference_on, outcomes, python, run, scratch};
use crate::kafka::{
    Broker, create_event_topics, free_local_address, generate_to, kill_nine, terminate,
    worker_command,
};

/// An S3-compatible server of the test's own, in memory, with one bucket `lake`; stopped
/// when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl S3Server {
    fn start() -> S3Server {
        let binary = std::env::var("OUTCOMES_GOFAKES3").unwrap_or_else(|_| "gofakes3".into());
        let address = free_local_address();
        let child = Command::new(&binary)
            .args(["-backend", "memory", "-initialbucket", "lake", "-quiet"])
            .args(["-host", &address])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary} (tests/run.sh builds it): {e}"));
        let started = Instant::now();
        while TcpStream::connect(&address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{binary} did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        S3Server {
            child,
            endpoint: format!("http://{address}"),
        }
    }

    /// The connection every tool reads from its environment: object_store (ours and
    /// Polars'), and the `deltalake` Python package.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "outcomes-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "outcomes-test".into()),
        ]
    }

    /// `command` with this server's connection.
    fn with<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command.envs(self.env())
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the `deltalake` Python package reads of a lake: rows of both tables, distinct Kafka
/// positions, positions missing below each partition's highest, and active files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counted {
    rows: u64,
    distinct: u64,
    gaps: u64,
    files: u64,
}

fn counted(s3: &S3Server, lake: &str) -> Counted {
    let script = r#"
import sys
import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError
lake = sys.argv[1]
cols = ["topic", "partition", "offset"]
try:
    tables = [DeltaTable(f"{lake}/{name}") for name in ("events", "rejected")]
except TableNotFoundError:
    print(0, 0, 0, 0)
    sys.exit(0)
rows = pa.concat_tables([t.to_pyarrow_table(columns=cols) for t in tables])
distinct = rows.group_by(cols).aggregate([]).num_rows
per = rows.group_by(["topic", "partition"]).aggregate([("offset", "max"), ("offset", "count_distinct")])
gaps = sum(m + 1 - c for m, c in zip(per["offset_max"].to_pylist(), per["offset_count_distinct"].to_pylist()))
print(rows.num_rows, distinct, gaps, sum(len(t.file_uris()) for t in tables))
"#;
    let output = run(s3.with(python().args(["-c", script]).arg(lake)));
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u64> = text
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    Counted {
        rows: numbers[0],
        distinct: numbers[1],
        gaps: numbers[2],
        files: numbers[3],
    }
}

fn wait_for(s3: &S3Server, lake: &str, rows: u64, limit: Duration) -> Counted {
    let started = Instant::now();
    loop {
        let now = counted(s3, lake);
        if now.rows >= rows {
            return now;
        }
        assert!(
            started.elapsed() < limit,
            "only {} of {rows} rows in {limit:?}",
            now.rows
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Three workers of one group, each its own process, commit to the same two tables on S3 at
/// once; one is killed with -9 while they consume a second production, and compaction runs
/// while the other two take over its partitions. Every produced message is stored once, with
/// no gap. Compaction and vacuum change no row, and the transform read from S3 equals the
/// reference read from S3 cell by cell.
#[test]
fn an_s3_lake_takes_concurrent_workers_compaction_and_the_transform() {
    let s3 = S3Server::start();
    let broker = Broker::start();
    let dir = scratch();
    create_event_topics(&broker, "north-shore", 4);
    let lake = "s3://lake/outcomes";
    let mut workers: Vec<Child> = (0..3)
        .map(|n| {
            let log = dir.path().join(format!("worker-{n}.log"));
            let mut command = worker_command(
                &broker.bootstrap,
                lake.as_ref(),
                "s3-group",
                outcomes_schemas::DEFAULT_TOPIC_PATTERN,
                &log,
            );
            s3.with(&mut command).spawn().unwrap()
        })
        .collect();
    let first = generate_to(&broker.bootstrap, 2_500);
    wait_for(&s3, lake, first, Duration::from_secs(180));
    // The same feed again (a resend: the same events at new offsets, which the lake stores and
    // the transform's dedupe drops), with a worker killed while the three consume it.
    let expected = first + generate_to(&broker.bootstrap, 2_500);
    kill_nine(&mut workers[0]);
    let compact = |target_mib: &str| {
        run(s3.with(
            outcomes()
                .args(["lake", "compact", "--target-mib", target_mib, "--lake"])
                .arg(lake),
        ))
    };
    compact("1");
    wait_for(&s3, lake, expected, Duration::from_secs(300));
    for worker in &mut workers[1..] {
        terminate(worker);
    }
    // The workers did commit to the same tables at once: commits found a table moved on since
    // their snapshot and were checked for conflicts before taking the next version (two that
    // reach the same version are told apart by the server's conditional put).
    let raced = (0..3)
        .map(|n| std::fs::read_to_string(dir.path().join(format!("worker-{n}.log"))).unwrap())
        .filter(|log| log.contains("checking for conflicts"))
        .count();
    assert!(raced > 0, "no commit of the three workers met another's");
    let stored = counted(&s3, lake);
    assert_eq!(
        (stored.rows, stored.distinct, stored.gaps),
        (expected, expected, 0),
        "every produced message once, none skipped"
    );

    compact("128");
    let compacted = counted(&s3, lake);
    assert!(compacted.files < stored.files, "{stored:?} → {compacted:?}");
    assert_eq!(compacted.rows, expected);

    let out = dir.path().join("out");
    run(s3.with(
        outcomes()
            .args([
                "transform",
                "--as-of",
                "2026-10-31",
                "--lake",
                lake,
                "--out",
            ])
            .arg(&out),
    ));
    compare_with_reference_on(lake.as_ref(), &s3.env(), &out, "2026-10-31", dir.path());

    let vacuumed = run(s3.with(
        outcomes()
            .args(["lake", "vacuum", "--retention-hours", "0", "--lake"])
            .arg(lake),
    ));
    let text = String::from_utf8_lossy(&vacuumed.stdout);
    assert!(!text.contains("events: deleted 0 files"), "{text}");
    assert_eq!(counted(&s3, lake), compacted);
}
