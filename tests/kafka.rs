//! Ingest against a real Kafka broker: every reason code through the dead-letter path, crashes
//! (kill -9) at several points, a broker outage, and two workers of one group with one killed.
//! Each check reads the lake back and asserts that every offset is stored exactly once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use polars::prelude::*;

use crate::common::{outcomes, repo, run, scratch};

/// A broker of the test's own, on its own port and folder, stopped when dropped.
pub(crate) struct Broker {
    folder: tempfile::TempDir,
    pub(crate) bootstrap: String,
}

impl Broker {
    pub(crate) fn start() -> Broker {
        Self::start_with(|_, _| Vec::new())
    }

    /// A broker whose start `setup` adjusts: given the folder and the client port (the next
    /// two ports are free too), it writes files and returns kafka.sh's environment.
    fn start_with(setup: impl FnOnce(&Path, u16) -> Vec<(&'static str, String)>) -> Broker {
        let folder = scratch();
        let port = free_port_block();
        let env = setup(folder.path(), port);
        let output = run(Command::new(repo().join("deploy/kafka/kafka.sh"))
            .arg("start")
            .arg(folder.path().join("broker"))
            .arg(port.to_string())
            .envs(env));
        let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let bootstrap = line
            .strip_prefix("KAFKA_BOOTSTRAP=")
            .unwrap_or(&line)
            .to_owned();
        Broker { folder, bootstrap }
    }

    fn script(&self, action: &str) {
        run(Command::new(repo().join("deploy/kafka/kafka.sh"))
            .arg(action)
            .arg(self.folder.path().join("broker")));
    }

    fn topic(&self, name: &str, partitions: u32, config: &[&str]) {
        topic(&self.bootstrap, name, partitions, config);
    }
}

/// The first of three ports in a row (client, controller, one more listener) that are free
/// now and stay clear of other users while the broker is down.
///
/// Below the kernel's ephemeral range (`ip_local_port_range`, 32768 and up by default): a port
/// from it, as `bind` to port 0 gives, can be taken by any outgoing connection while a test has
/// its broker stopped, and the broker then cannot listen again on its own port (seen in
/// `a_broker_outage_is_waited_out`). Each broker of this process takes its own block, so tests
/// running side by side never probe the same ports.
fn free_port_block() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const FIRST: u16 = 20_000;
    const LAST: u16 = 32_700;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Processes started together (two test runs) begin at different blocks.
    let offset = (std::process::id() % 1_000) as u16 * 3;
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    loop {
        let block = NEXT.fetch_add(3, Ordering::Relaxed);
        assert!(
            block < LAST - FIRST,
            "no block of three free ports below {LAST}"
        );
        let port = FIRST + (offset + block) % (LAST - FIRST);
        if free(port) && free(port + 1) && free(port + 2) {
            return port;
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("deploy/kafka/kafka.sh"))
            .arg("stop")
            .arg(self.folder.path().join("broker"))
            .output();
    }
}

fn topic(bootstrap: &str, name: &str, partitions: u32, config: &[&str]) {
    run(Command::new(repo().join("deploy/kafka/kafka.sh"))
        .args(["topic", bootstrap, name, &partitions.to_string()])
        .args(config));
}

fn shared_broker() -> String {
    std::env::var("KAFKA_BOOTSTRAP")
        .expect("KAFKA_BOOTSTRAP: run the tests through tests/run.sh, which starts a broker")
}

fn worker(bootstrap: &str, lake: &Path, group: &str, pattern: &str, log: &Path) -> Child {
    worker_with(bootstrap, lake, group, pattern, log, &[])
}

fn worker_with(
    bootstrap: &str,
    lake: &Path,
    group: &str,
    pattern: &str,
    log: &Path,
    extra: &[&str],
) -> Child {
    let mut command = worker_command(bootstrap, lake.as_os_str(), group, pattern, log);
    command.args(extra).spawn().unwrap()
}

/// An ingest worker of `group` reading `pattern`, logging to `log` (appended), for the lake
/// at `lake` (a folder or an `s3://` URL); not started yet.
pub(crate) fn worker_command(
    bootstrap: &str,
    lake: &std::ffi::OsStr,
    group: &str,
    pattern: &str,
    log: &Path,
) -> Command {
    let mut command = outcomes();
    command
        .args([
            "ingest",
            "--demo-key",
            "--brokers",
            bootstrap,
            "--group",
            group,
            "--topics",
            pattern,
        ])
        .args(["--batch-messages", "5000", "--batch-seconds", "1"])
        .arg("--lake")
        .arg(lake)
        .env("OUTCOMES_LOG", "info")
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        );
    command
}

/// A loopback address with a port nobody listens on.
pub(crate) fn free_local_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// The status line and body of an HTTP GET of `path` at `address`.
fn http_get(address: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

/// The body of an HTTP GET of `/metrics` at `address`, which must answer 200.
fn scrape(address: &str) -> String {
    let (status, body) = http_get(address, "/metrics");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    body
}

/// Opens a connection to `address` that sends nothing and says how long the server took to
/// close it (the endpoint's request-head timeout is 5 s), scraping it meanwhile to show that a
/// stalled client holds nobody else up.
fn stalled_client_dropped_after(address: &str) -> Duration {
    use std::io::Read;
    let mut stalled = std::net::TcpStream::connect(address).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let started = Instant::now();
    scrape(address);
    let mut rest = Vec::new();
    // EOF, or a reset after a 408: either way the server let go.
    let _ = stalled.read_to_end(&mut rest);
    started.elapsed()
}

pub(crate) fn kill_nine(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

pub(crate) fn terminate(child: &mut Child) {
    run(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the worker must exit cleanly on SIGTERM: {status}"
    );
}

/// Both tables' active files.
fn listing(lake: &Path) -> outcomes_lake::Listing {
    outcomes_lake::Listing::read_blocking(&lake.into()).unwrap()
}

/// Every position the lake holds: (topic, partition, offset), one entry per row, from the
/// active files of both tables.
fn positions(lake: &Path) -> Vec<(String, i32, i64)> {
    let files = listing(lake);
    let mut found = Vec::new();
    for file in files.events.files.iter().chain(&files.rejected.files) {
        let frame = ParquetReader::new(std::fs::File::open(&file.location).unwrap())
            .with_columns(Some(vec![
                "topic".into(),
                "partition".into(),
                "offset".into(),
            ]))
            .finish()
            .unwrap();
        let topics = frame.column("topic").unwrap().str().unwrap().clone();
        let partitions = frame.column("partition").unwrap().i32().unwrap().clone();
        let offsets = frame.column("offset").unwrap().i64().unwrap().clone();
        for i in 0..frame.height() {
            found.push((
                topics.get(i).unwrap().to_owned(),
                partitions.get(i).unwrap(),
                offsets.get(i).unwrap(),
            ));
        }
    }
    found
}

/// Waits until the lake holds `expected` rows in all. Polled every 50 ms: a
/// worker that has caught up commits a backlog's tail within a quarter second, so a coarser
/// poll could miss the moment a test means to kill it at.
fn wait_for(lake: &Path, expected: u64, limit: Duration) {
    covered_after(lake, expected, Instant::now(), limit);
}

/// Asserts that every offset 0..n of every partition is in the lake exactly once.
fn assert_exactly_once(lake: &Path, expected: u64) {
    let found = positions(lake);
    let unique: BTreeSet<_> = found.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        found.len(),
        "{} positions are stored more than once",
        found.len() - unique.len()
    );
    assert_eq!(
        found.len() as u64,
        expected,
        "every produced message is stored once"
    );
    // Offsets of each partition are contiguous from 0: nothing skipped.
    let mut by_partition: std::collections::BTreeMap<(String, i32), Vec<i64>> = Default::default();
    for (topic, partition, offset) in unique {
        by_partition
            .entry((topic, partition))
            .or_default()
            .push(offset);
    }
    for (key, offsets) in by_partition {
        assert_eq!(
            *offsets.last().unwrap() + 1,
            offsets.len() as i64,
            "a gap in {key:?}"
        );
    }
}

pub(crate) fn generate_to(bootstrap: &str, participants: u32) -> u64 {
    let output = run(outcomes().args([
        "generate",
        "--brokers",
        bootstrap,
        "--participants",
        &participants.to_string(),
        "--months",
        "24",
        "--seed",
        "11",
    ]));
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

pub(crate) fn create_event_topics(broker: &Broker, consortium: &str, partitions: u32) {
    for event_type in [
        "intake",
        "assessment",
        "service",
        "placement",
        "wage",
        "separation",
        "exit",
        "retraction",
    ] {
        broker.topic(
            &format!("outcomes.{consortium}.{event_type}"),
            partitions,
            &[],
        );
    }
}

#[test]
fn valid_and_invalid_messages_reach_the_lake_and_the_dead_letter_topic() {
    let bootstrap = shared_broker();
    let dir = scratch();
    let lake = dir.path().join("lake");
    // A consortium of this test's own on the shared broker.
    let consortium = format!("dlq-{}", std::process::id());
    let topic_of = |t: &str| format!("outcomes.{consortium}.{t}");
    topic(
        &bootstrap,
        &topic_of("intake"),
        2,
        &["max.message.bytes=4194304"],
    );
    topic(&bootstrap, &topic_of("placement"), 2, &[]);
    let valid = |n: u32, event_type: &str, payload: &str| {
        format!(
            r#"{{"event_id":"00000000-0000-4000-8000-{n:012}","event_type":"{event_type}","schema_version":1,"consortium_id":"{consortium}","agency_id":"vr-east","participant_id":"P{n}","occurred_on":"2026-03-02","recorded_at":"2026-03-02T10:00:00Z","payload":{payload}}}"#
        )
    };
    let mut records: Vec<(String, String, Vec<u8>)> = Vec::new();
    for n in 0..200 {
        records.push((
            topic_of("intake"),
            format!("{consortium}:P{n}"),
            valid(n, "intake", "{}").into_bytes(),
        ));
    }
    let placement =
        r#"{"job_id":"J1","hourly_wage":12.5,"hours_per_week":20,"competitive_integrated":true}"#;
    for n in 200..300 {
        records.push((
            topic_of("placement"),
            format!("{consortium}:P{n}"),
            valid(n, "placement", placement).into_bytes(),
        ));
    }
    // One message per reason code, worked out from EVENTS.md.
    let mut huge = valid(900, "intake", "{}").into_bytes();
    huge.splice(
        1..1,
        format!(r#""pad":"{}","#, "x".repeat(1 << 20)).into_bytes(),
    );
    let invalid: Vec<(&str, String, Vec<u8>)> = vec![
        ("too_large", topic_of("intake"), huge),
        (
            "malformed_json",
            topic_of("intake"),
            b"{\"event_id\": ".to_vec(),
        ),
        (
            "unknown_event_type",
            topic_of("intake"),
            valid(901, "hire", "{}").into_bytes(),
        ),
        (
            "unsupported_schema_version",
            topic_of("intake"),
            valid(902, "intake", "{}")
                .replace("\"schema_version\":1", "\"schema_version\":2")
                .into_bytes(),
        ),
        (
            "schema_violation",
            topic_of("intake"),
            valid(903, "intake", r#"{"colour":"red"}"#).into_bytes(),
        ),
        (
            "out_of_range",
            topic_of("placement"),
            valid(904, "placement", &placement.replace("12.5", "1000.5")).into_bytes(),
        ),
        (
            "occurred_after_recorded",
            topic_of("intake"),
            valid(905, "intake", "{}")
                .replace("2026-03-02\",\"recorded_at", "2026-03-03\",\"recorded_at")
                .into_bytes(),
        ),
        (
            "consortium_mismatch",
            topic_of("intake"),
            valid(906, "intake", "{}")
                .replace(
                    &format!("\"consortium_id\":\"{consortium}\""),
                    "\"consortium_id\":\"elsewhere\"",
                )
                .into_bytes(),
        ),
        (
            "topic_mismatch",
            topic_of("placement"),
            valid(907, "intake", "{}").into_bytes(),
        ),
    ];
    for (_, topic, value) in &invalid {
        records.push((topic.clone(), format!("{consortium}:bad"), value.clone()));
    }
    let expected = records.len() as u64;
    let publisher =
        outcomes_ingest::Publisher::new(&outcomes_ingest::KafkaClient::new(bootstrap.clone()))
            .unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(
            publisher.send_all(
                records
                    .iter()
                    .map(|(t, k, v)| (t.as_str(), k.as_str(), v.as_slice())),
                1000,
            ),
        )
        .unwrap();

    let pattern = format!(r"^outcomes\.{consortium}\.[a-z]+$");
    let metrics_address = free_local_address();
    let mut child = worker_with(
        &bootstrap,
        &lake,
        &format!("g-{consortium}"),
        &pattern,
        &dir.path().join("worker.log"),
        &["--metrics", &metrics_address],
    );
    wait_for(&lake, expected, Duration::from_secs(120));
    // The counters move just after the lake commit that `wait_for` saw.
    let deadline = Instant::now() + Duration::from_secs(10);
    let scraped = loop {
        let scraped = scrape(&metrics_address);
        // Per-partition lag comes with librdkafka's statistics, every second.
        if (scraped.contains("\noutcomes_ingest_events_stored_total 300\n")
            && scraped.contains("\noutcomes_ingest_partition_lag{"))
            || Instant::now() > deadline
        {
            break scraped;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (health_status, health) = http_get(&metrics_address, "/healthz");
    let (not_found, _) = http_get(&metrics_address, "/nothing-here");
    let stalled_for = stalled_client_dropped_after(&metrics_address);
    terminate(&mut child);
    assert_exactly_once(&lake, expected);
    assert!(not_found.starts_with("HTTP/1.1 404"), "{not_found}");
    // /healthz: the worker holds the topics' partitions and has committed (just now).
    assert!(health_status.starts_with("HTTP/1.1 200"), "{health_status}");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["holds_partitions"], true, "{health}");
    assert!(
        health["assigned_partitions"].as_i64() >= Some(1),
        "{health}"
    );
    assert!(health["last_commit"].is_string(), "{health}");
    let since = health["seconds_since_last_commit"].as_f64().unwrap();
    assert!((0.0..120.0).contains(&since), "{health}");
    assert!(
        stalled_for >= Duration::from_secs(4) && stalled_for < Duration::from_secs(15),
        "a client that sent nothing was dropped after {stalled_for:?}, not about 5 s"
    );

    // The Prometheus endpoint counts what the lake holds: 309 read, 300 stored, one per reason.
    let metric = |line_start: &str| -> f64 {
        scraped
            .lines()
            .find_map(|line| line.strip_prefix(line_start)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{line_start} missing from the metrics:\n{scraped}"))
            .parse()
            .unwrap()
    };
    assert_eq!(metric("outcomes_ingest_events_consumed_total"), 309.0);
    assert_eq!(metric("outcomes_ingest_events_stored_total"), 300.0);
    for (reason, _, _) in &invalid {
        assert_eq!(
            metric(&format!(
                "outcomes_ingest_events_rejected_total{{reason=\"{reason}\"}}"
            )),
            1.0,
            "{reason}"
        );
    }
    assert!(metric("outcomes_ingest_files_written_total") >= 2.0);
    assert!(metric("outcomes_ingest_flush_seconds_count") >= 1.0);
    assert!(metric("outcomes_ingest_flush_seconds_bucket{le=\"+Inf\"}") >= 1.0);
    assert!(scraped.contains("# TYPE outcomes_ingest_consumer_lag gauge"));
    // A lag series per assigned partition, at most as many as /healthz says are held; the
    // batch sizes add up to the messages read (each batch's stored and rejected).
    let partition_lags: Vec<&str> = scraped
        .lines()
        .filter(|line| line.starts_with("outcomes_ingest_partition_lag{topic=\"outcomes."))
        .collect();
    // (A partition whose lag librdkafka does not know yet is not listed.)
    let held = health["assigned_partitions"].as_i64().unwrap();
    assert!(
        (1..=held).contains(&(partition_lags.len() as i64)),
        "{held} partitions held:\n{scraped}"
    );
    assert_eq!(metric("outcomes_ingest_batch_messages_sum"), 309.0);
    assert!(metric("outcomes_ingest_assigned_partitions") >= 1.0);
    assert!(
        scraped.ends_with("# EOF\n"),
        "not OpenMetrics text:\n{scraped}"
    );

    // The lake holds exactly the 300 valid ids, and the rejected table exactly the nine reasons.
    let files = listing(&lake);
    let mut ids = BTreeSet::new();
    for file in &files.events.files {
        let frame = ParquetReader::new(std::fs::File::open(&file.location).unwrap())
            .finish()
            .unwrap();
        for id in frame
            .column("event_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
        {
            ids.insert(id.to_owned());
        }
        assert!(
            frame.column("participant_id").is_err(),
            "no raw participant ids in the lake"
        );
    }
    let want: BTreeSet<String> = (0..300)
        .map(|n| format!("00000000-0000-4000-8000-{n:012}"))
        .collect();
    assert_eq!(ids, want);
    let mut reasons = Vec::new();
    for file in &files.rejected.files {
        let frame = ParquetReader::new(std::fs::File::open(&file.location).unwrap())
            .finish()
            .unwrap();
        reasons.extend(
            frame
                .column("reason")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .flatten()
                .map(str::to_owned),
        );
    }
    reasons.sort();
    let mut want: Vec<String> = invalid.iter().map(|(r, _, _)| (*r).to_owned()).collect();
    want.sort();
    assert_eq!(reasons, want);

    // The dead-letter topic has the same nine, with their reasons in headers (read with kcat).
    let consumed = run(Command::new("kcat").args([
        "-C",
        "-b",
        &bootstrap,
        "-t",
        "outcomes.dlq",
        "-e",
        "-q",
        "-f",
        "%h\\n",
    ]));
    let headers = String::from_utf8_lossy(&consumed.stdout);
    let ours: Vec<&str> = headers
        .lines()
        .filter(|h| h.contains(&format!("source_topic=outcomes.{consortium}.")))
        .collect();
    let mut dlq_reasons: Vec<String> = ours
        .iter()
        .filter_map(|h| {
            h.split(',')
                .find_map(|kv| kv.strip_prefix("reason="))
                .map(str::to_owned)
        })
        .collect();
    dlq_reasons.sort();
    assert_eq!(dlq_reasons, want, "dead letters: {ours:?}");
}

/// `--buffer-mib` bounds what the worker holds: past it, the largest open batch is committed.
/// 200 messages of 20,000 bytes (malformed JSON, so stored as rejections with their bytes) in
/// one partition, read as one backlog: the buffer of 1 MiB (1,048,576 bytes) is passed by the
/// 53rd message (1,060,000 bytes; 52 make 1,040,000), so batches of 53, 53 and 53 are committed
/// as the buffer fills and the last 41 at the end of the backlog. With the default buffer the
/// whole backlog (4 MB) would be one batch.
#[test]
fn a_full_buffer_commits_the_largest_batch() {
    let bootstrap = shared_broker();
    let dir = scratch();
    let lake = dir.path().join("lake");
    let consortium = format!("buffer-{}", std::process::id());
    let name = format!("outcomes.{consortium}.intake");
    topic(&bootstrap, &name, 1, &[]);
    let mut value = b"{".to_vec();
    value.resize(20_000, b'x');
    let key = format!("{consortium}:bulky");
    let publisher =
        outcomes_ingest::Publisher::new(&outcomes_ingest::KafkaClient::new(bootstrap.clone()))
            .unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(publisher.send_all(
            (0..200).map(|_| (name.as_str(), key.as_str(), value.as_slice())),
            1000,
        ))
        .unwrap();

    let log = dir.path().join("worker.log");
    let pattern = format!("^outcomes\\.{consortium}\\..*");
    let mut child = worker_with(
        &bootstrap,
        &lake,
        &format!("{consortium}-group"),
        &pattern,
        &log,
        &["--buffer-mib", "1"],
    );
    wait_for(&lake, 200, Duration::from_secs(120));
    terminate(&mut child);
    let mut batches: Vec<u64> = listing(&lake)
        .rejected
        .files
        .iter()
        .map(|file| file.rows.unwrap())
        .collect();
    batches.sort_unstable();
    assert_eq!(batches, [41, 53, 53, 53]);
    assert_exactly_once(&lake, 200);
}

#[test]
fn kill_nine_at_several_points_neither_loses_nor_doubles() {
    let broker = Broker::start();
    let dir = scratch();
    let lake = dir.path().join("lake");
    create_event_topics(&broker, "north-shore", 3);
    let expected = generate_to(&broker.bootstrap, 18_000);
    assert!(
        expected >= 200_000,
        "the run must hold at least 200k events, has {expected}"
    );
    let log = dir.path().join("worker.log");
    let pattern = outcomes_schemas::DEFAULT_TOPIC_PATTERN;
    // Kill the worker at a tenth, a third, a half and three quarters of the way.
    for share in [0.1, 0.33, 0.5, 0.75] {
        let mut child = worker(&broker.bootstrap, &lake, "crashy", pattern, &log);
        wait_for(
            &lake,
            (expected as f64 * share) as u64,
            Duration::from_secs(180),
        );
        kill_nine(&mut child);
    }
    let before = positions(&lake).len() as u64;
    assert!(
        before > 0 && before < expected,
        "the kills must fall mid-run ({before} of {expected} stored)"
    );
    let mut child = worker(&broker.bootstrap, &lake, "crashy", pattern, &log);
    wait_for(&lake, expected, Duration::from_secs(300));
    terminate(&mut child);
    assert_exactly_once(&lake, expected);
}

/// A worker of a new consumer group starts at the partition's first offset, finds the lake
/// holding the first 300 messages, and seeks past them. By then it has taken up to 1,024
/// messages from librdkafka's queue to validate them together; those beyond 300 come again
/// after the seek, and each is stored once.
#[test]
fn a_new_group_on_a_lake_holding_the_start_seeks_past_it_and_stores_nothing_twice() {
    let bootstrap = shared_broker();
    let dir = scratch();
    let lake = dir.path().join("lake");
    let consortium = format!("reread-{}", std::process::id());
    let topic_name = format!("outcomes.{consortium}.intake");
    topic(&bootstrap, &topic_name, 1, &[]);
    let publisher =
        outcomes_ingest::Publisher::new(&outcomes_ingest::KafkaClient::new(bootstrap.clone()))
            .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let send = |numbers: std::ops::Range<u32>| {
        let records: Vec<(String, Vec<u8>)> = numbers
            .map(|n| {
                let value = format!(
                    r#"{{"event_id":"00000000-0000-4000-8000-{n:012}","event_type":"intake","schema_version":1,"consortium_id":"{consortium}","agency_id":"vr-east","participant_id":"P{n}","occurred_on":"2026-03-02","recorded_at":"2026-03-02T10:00:00Z","payload":{{}}}}"#
                );
                (format!("{consortium}:P{n}"), value.into_bytes())
            })
            .collect();
        runtime
            .block_on(
                publisher.send_all(
                    records
                        .iter()
                        .map(|(key, value)| (topic_name.as_str(), key.as_str(), value.as_slice())),
                    1000,
                ),
            )
            .unwrap();
    };
    let pattern = format!(r"^outcomes\.{consortium}\.[a-z]+$");
    let log = dir.path().join("worker.log");

    send(0..300);
    let mut first = worker(
        &bootstrap,
        &lake,
        &format!("{consortium}-a"),
        &pattern,
        &log,
    );
    wait_for(&lake, 300, Duration::from_secs(60));
    terminate(&mut first);
    send(300..3_000);
    let mut second = worker(
        &bootstrap,
        &lake,
        &format!("{consortium}-b"),
        &pattern,
        &log,
    );
    wait_for(&lake, 3_000, Duration::from_secs(60));
    terminate(&mut second);
    assert_exactly_once(&lake, 3_000);
}

/// How long after `since` the lake holds `expected` rows in all, by the row counts its logs
/// keep (polled every 50 ms; `assert_exactly_once` then checks the rows themselves).
fn covered_after(lake: &Path, expected: u64, since: Instant, limit: Duration) -> Duration {
    loop {
        let covered: u64 = outcomes_lake::Listing::read_blocking(&lake.into())
            .map(|files| {
                files
                    .events
                    .files
                    .iter()
                    .chain(&files.rejected.files)
                    .filter_map(|file| file.rows)
                    .sum()
            })
            .unwrap_or(0);
        if covered >= expected {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < limit,
            "only {covered} of {expected} offsets reached the lake in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Static group membership: a worker killed with -9 and started again with its
/// `--instance-id` takes its partitions back at once (the broker knows the id and does not wait
/// out the dead member's 10 s session): it commits again within 2 s of starting, and has
/// committed every message produced while it was down within 5 s, half the session a dynamic
/// member waits for (its 16 partitions' batches are committed one after another, so the last
/// lands about a second after the first on a busy machine; docs/RELIABILITY.md). Three kills;
/// nothing lost or doubled.
#[test]
fn a_restarted_static_member_commits_again_within_two_seconds() {
    let broker = Broker::start();
    let dir = scratch();
    let lake = dir.path().join("lake");
    create_event_topics(&broker, "north-shore", 2);
    let log = dir.path().join("worker.log");
    let start = || {
        worker_with(
            &broker.bootstrap,
            &lake,
            "static",
            outcomes_schemas::DEFAULT_TOPIC_PATTERN,
            &log,
            &["--instance-id", "worker-1"],
        )
    };
    let mut expected = generate_to(&broker.bootstrap, 200);
    let mut child = start();
    wait_for(&lake, expected, Duration::from_secs(120));
    let (mut first_commits, mut caught_up) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        kill_nine(&mut child);
        let stored = expected;
        expected += generate_to(&broker.bootstrap, 200);
        let started = Instant::now();
        child = start();
        let limit = Duration::from_secs(60);
        first_commits.push(covered_after(&lake, stored + 1, started, limit));
        caught_up.push(covered_after(&lake, expected, started, limit));
    }
    terminate(&mut child);
    assert_exactly_once(&lake, expected);
    println!("restart to first commit: {first_commits:?}; to every message: {caught_up:?}");
    assert!(
        first_commits
            .iter()
            .all(|took| *took < Duration::from_secs(2)),
        "restart to first commit took {first_commits:?}"
    );
    assert!(
        caught_up.iter().all(|took| *took < Duration::from_secs(5)),
        "restart to every message committed took {caught_up:?}"
    );
}

#[test]
fn a_broker_outage_is_waited_out() {
    let broker = Broker::start();
    let dir = scratch();
    let lake = dir.path().join("lake");
    create_event_topics(&broker, "north-shore", 2);
    let expected = generate_to(&broker.bootstrap, 1_500);
    let log = dir.path().join("worker.log");
    let mut child = worker(
        &broker.bootstrap,
        &lake,
        "outage",
        outcomes_schemas::DEFAULT_TOPIC_PATTERN,
        &log,
    );
    wait_for(&lake, expected / 10, Duration::from_secs(120));
    broker.script("stop");
    std::thread::sleep(Duration::from_secs(8));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the worker must wait for the broker, not exit"
    );
    broker.script("resume");
    wait_for(&lake, expected, Duration::from_secs(240));
    terminate(&mut child);
    assert_exactly_once(&lake, expected);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Kafka is unavailable") || text.contains("resuming"),
        "a clear log line about the outage:\n{text}"
    );
}

#[test]
fn two_workers_share_partitions_and_one_survives_the_other() {
    let broker = Broker::start();
    let dir = scratch();
    let lake = dir.path().join("lake");
    create_event_topics(&broker, "north-shore", 4);
    let expected = generate_to(&broker.bootstrap, 2_500);
    let pattern = outcomes_schemas::DEFAULT_TOPIC_PATTERN;
    let mut first = worker(
        &broker.bootstrap,
        &lake,
        "pair",
        pattern,
        &dir.path().join("first.log"),
    );
    let mut second = worker(
        &broker.bootstrap,
        &lake,
        "pair",
        pattern,
        &dir.path().join("second.log"),
    );
    wait_for(&lake, expected / 5, Duration::from_secs(120));
    kill_nine(&mut first);
    wait_for(&lake, expected, Duration::from_secs(240));
    terminate(&mut second);
    assert_exactly_once(&lake, expected);
}

#[test]
fn a_report_is_published_to_the_snapshot_topic() {
    let bootstrap = shared_broker();
    let dir = scratch();
    let out = dir.path().join("demo");
    run(outcomes()
        .args(["demo", "--participants", "300", "--out"])
        .arg(&out));
    let reports = dir.path().join("reports");
    run(outcomes()
        .args([
            "report",
            "--consortium",
            "south-bay",
            "--period",
            "2026-08",
            "--as-of",
            "2026-10-31",
            "--tables",
        ])
        .arg(out.join("tables"))
        .arg("--out")
        .arg(&reports)
        .args(["--publish-kafka", &bootstrap]));
    let published =
        std::fs::read_to_string(reports.join("south-bay/2026-08/as-of-2026-10-31/snapshot.json"))
            .unwrap();

    let consumed = run(Command::new("kcat").args([
        "-C",
        "-b",
        &bootstrap,
        "-t",
        "outcomes.snapshots",
        "-e",
        "-q",
        "-J",
    ]));
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&consumed.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ours = records
        .iter()
        .rev()
        .find(|r| r["key"] == "south-bay:2026-08:2026-10-31")
        .unwrap_or_else(|| panic!("no snapshot keyed south-bay:2026-08:2026-10-31 in {records:?}"));
    assert_eq!(ours["payload"].as_str().unwrap(), published);
}

#[test]
fn kafka_and_files_give_the_same_report() {
    let broker = Broker::start();
    let dir = scratch();
    create_event_topics(&broker, "north-shore", 3);
    // The same generated feed, once to Kafka and once to files.
    let produced = generate_to(&broker.bootstrap, 1_200);
    run(outcomes()
        .args([
            "generate",
            "--participants",
            "1200",
            "--months",
            "24",
            "--seed",
            "11",
            "--out",
        ])
        .arg(dir.path().join("feed")));

    let kafka_lake = dir.path().join("kafka-lake");
    let mut child = worker(
        &broker.bootstrap,
        &kafka_lake,
        "e2e",
        outcomes_schemas::DEFAULT_TOPIC_PATTERN,
        &dir.path().join("worker.log"),
    );
    wait_for(&kafka_lake, produced, Duration::from_secs(180));
    terminate(&mut child);
    let file_lake = dir.path().join("file-lake");
    run(outcomes()
        .args([
            "ingest",
            "--demo-key",
            "--consortium",
            "north-shore",
            "--lake",
        ])
        .arg(&file_lake)
        .arg("--from-file")
        .arg(dir.path().join("feed/north-shore")));

    let mut snapshots = Vec::new();
    for (name, lake) in [("kafka", &kafka_lake), ("file", &file_lake)] {
        let out = dir.path().join(format!("{name}-out"));
        run(outcomes()
            .args(["transform", "--as-of", "2026-10-31", "--lake"])
            .arg(lake)
            .arg("--out")
            .arg(&out));
        run(outcomes()
            .args([
                "report",
                "--consortium",
                "north-shore",
                "--period",
                "2026Q3",
                "--as-of",
                "2026-10-31",
                "--tables",
            ])
            .arg(out.join("tables"))
            .arg("--out")
            .arg(dir.path().join(format!("{name}-reports"))));
        let json = std::fs::read(dir.path().join(format!(
            "{name}-reports/north-shore/2026Q3/as-of-2026-10-31/snapshot.json"
        )))
        .unwrap();
        snapshots.push(serde_json::from_slice::<serde_json::Value>(&json).unwrap());
    }
    // Everything but provenance (which names the sources) is the same.
    for part in [
        "rows",
        "withheld",
        "history",
        "wage_floor",
        "period",
        "as_of",
    ] {
        assert_eq!(
            snapshots[0][part], snapshots[1][part],
            "{part} differs between the Kafka and the file path"
        );
    }
    assert!(snapshots[0]["rows"].as_array().unwrap().len() > 2);
}

/// A broker with a second listener that takes SASL over TLS only, as managed clusters do: its
/// certificate is signed by a CA made here with openssl, `producer` is a PLAIN user and
/// `ingest` a SCRAM-SHA-512 user (created by Kafka's storage tool when the broker is formatted).
struct SecureBroker {
    broker: Broker,
    /// `127.0.0.1:PORT` of the SASL_SSL listener.
    address: String,
}

const INGEST_PASSWORD: &str = "ingest-secret";
const PRODUCER_PASSWORD: &str = "producer-secret";

fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

/// A self-signed CA in `dir`: `NAME.key` and `NAME.pem`.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

impl SecureBroker {
    fn start() -> SecureBroker {
        let mut address = String::new();
        let broker = Broker::start_with(|dir, port| {
            make_ca(dir, "ca");
            openssl(
                dir,
                &[
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-keyout",
                    "broker.key",
                    "-out",
                    "broker.csr",
                ],
            );
            std::fs::write(dir.join("san.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
            openssl(
                dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    "broker.csr",
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-extfile",
                    "san.cnf",
                    "-out",
                    "broker.pem",
                ],
            );
            openssl(
                dir,
                &[
                    "pkcs12",
                    "-export",
                    "-in",
                    "broker.pem",
                    "-inkey",
                    "broker.key",
                    "-name",
                    "broker",
                    "-passout",
                    "pass:changeit",
                    "-out",
                    "broker.p12",
                ],
            );
            let (plain, controller, secure) = (port, port + 1, port + 2);
            address = format!("127.0.0.1:{secure}");
            let extra = dir.join("secure.properties");
            std::fs::write(
                &extra,
                format!(
                    "listeners=PLAINTEXT://127.0.0.1:{plain},CONTROLLER://127.0.0.1:{controller},SASL_SSL://{address}\n\
                     advertised.listeners=PLAINTEXT://127.0.0.1:{plain},CONTROLLER://127.0.0.1:{controller},SASL_SSL://{address}\n\
                     listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL\n\
                     sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512\n\
                     listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_producer=\"{PRODUCER_PASSWORD}\";\n\
                     listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;\n\
                     ssl.keystore.type=PKCS12\n\
                     ssl.keystore.location={}\n\
                     ssl.keystore.password=changeit\n\
                     ssl.key.password=changeit\n",
                    dir.join("broker.p12").display()
                ),
            )
            .unwrap();
            vec![
                ("KAFKA_EXTRA_CONFIG", extra.display().to_string()),
                (
                    "KAFKA_FORMAT_ARGS",
                    format!("--add-scram SCRAM-SHA-512=[name=ingest,password={INGEST_PASSWORD}]"),
                ),
            ]
        });
        SecureBroker { broker, address }
    }

    /// A file in the broker's folder (certificates).
    fn file(&self, name: &str) -> std::path::PathBuf {
        self.broker.folder.path().join(name)
    }
}

/// A configuration file for clients of the secure listener.
fn secure_client_config(
    path: &Path,
    address: &str,
    ca: &Path,
    mechanism: &str,
    user: &str,
    password_line: &str,
) {
    std::fs::write(
        path,
        format!(
            "[kafka]\nbrokers = \"{address}\"\n\n[kafka.settings]\n\
             \"security.protocol\" = \"SASL_SSL\"\n\
             \"ssl.ca.location\" = {ca:?}\n\
             \"sasl.mechanism\" = \"{mechanism}\"\n\
             \"sasl.username\" = \"{user}\"\n{password_line}",
            ca = ca.display().to_string()
        ),
    )
    .unwrap();
}

/// A secured worker's process, its SCRAM password from the environment.
fn secure_worker(config: &Path, lake: &Path, password: &str, log: &Path) -> Child {
    outcomes()
        .arg("--config")
        .arg(config)
        .args([
            "ingest",
            "--demo-key",
            "--group",
            "secure",
            "--batch-seconds",
            "1",
        ])
        .arg("--lake")
        .arg(lake)
        .env("OUTCOMES_KAFKA_SETTING_SASL_PASSWORD", password)
        .env("OUTCOMES_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Waits up to 30 s for a worker that must give up; returns how long it took.
fn exits_within_30_s(child: &mut Child, log: &Path) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(
                status.code(),
                Some(2),
                "{}",
                std::fs::read_to_string(log).unwrap()
            );
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    kill_nine(child);
    panic!(
        "the worker kept retrying for 30 s:\n{}",
        std::fs::read_to_string(log).unwrap()
    );
}

#[test]
fn a_secured_cluster_admits_the_right_credentials_and_refuses_wrong_ones() {
    let broker = SecureBroker::start();
    let dir = scratch();
    let ca = broker.file("ca.pem");

    // The generator produces as the PLAIN user, its password read from a file.
    let password_file = dir.path().join("producer-password");
    std::fs::write(&password_file, format!("{PRODUCER_PASSWORD}\n")).unwrap();
    let producer = dir.path().join("producer.toml");
    secure_client_config(
        &producer,
        &broker.address,
        &ca,
        "PLAIN",
        "producer",
        &format!(
            "\"sasl.password\" = {{ file = {:?} }}\n",
            password_file.display().to_string()
        ),
    );
    let output = run(outcomes()
        .arg("--config")
        .arg(&producer)
        .args([
            "generate",
            "--brokers",
            &broker.address,
            "--participants",
            "30",
        ])
        .args(["--months", "12", "--seed", "5"]));
    let text = String::from_utf8_lossy(&output.stdout);
    let expected: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));

    // The SCRAM user ingests all of it, its password from the environment.
    let worker = dir.path().join("worker.toml");
    secure_client_config(&worker, &broker.address, &ca, "SCRAM-SHA-512", "ingest", "");
    let lake = dir.path().join("lake");
    let log = dir.path().join("worker.log");
    let mut child = secure_worker(&worker, &lake, INGEST_PASSWORD, &log);
    wait_for(&lake, expected, Duration::from_secs(120));
    terminate(&mut child);
    assert_exactly_once(&lake, expected);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains(INGEST_PASSWORD),
        "the password is never logged:\n{text}"
    );

    // A wrong password: the worker stops within 30 s and says so.
    let wrong = dir.path().join("wrong-password.log");
    let mut child = secure_worker(
        &worker,
        &dir.path().join("lake-2"),
        "not-the-password",
        &wrong,
    );
    let took = exits_within_30_s(&mut child, &wrong);
    let text = std::fs::read_to_string(&wrong).unwrap();
    assert!(text.contains("SASL authentication failed"), "{text}");
    println!("wrong password: stopped after {took:?}");

    // A CA that did not sign the broker's certificate: the same, naming the TLS handshake.
    make_ca(dir.path(), "other-ca");
    let untrusting = dir.path().join("untrusting.toml");
    secure_client_config(
        &untrusting,
        &broker.address,
        &dir.path().join("other-ca.pem"),
        "SCRAM-SHA-512",
        "ingest",
        "",
    );
    let untrusted = dir.path().join("untrusted.log");
    let mut child = secure_worker(
        &untrusting,
        &dir.path().join("lake-3"),
        INGEST_PASSWORD,
        &untrusted,
    );
    let took = exits_within_30_s(&mut child, &untrusted);
    let text = std::fs::read_to_string(&untrusted).unwrap();
    assert!(text.contains("TLS handshake failed"), "{text}");
    println!("untrusted certificate: stopped after {took:?}");
}

#[test]
fn a_worker_fenced_by_a_second_one_with_its_instance_id_stops_and_says_why() {
    let bootstrap = shared_broker();
    let dir = scratch();
    let lake = dir.path().join("lake");
    topic(&bootstrap, "outcomes.twins.intake", 1, &[]);
    let pattern = r"^outcomes\.twins\..*";
    let first_log = dir.path().join("first.log");
    let metrics = free_local_address();
    let mut first = worker_with(
        &bootstrap,
        &lake,
        "twins",
        pattern,
        &first_log,
        &["--instance-id", "twin", "--metrics", &metrics],
    );
    // The first holds the partition before the second starts.
    let started = Instant::now();
    let holds = || {
        std::net::TcpStream::connect(&metrics).is_ok() && {
            let health: serde_json::Value =
                serde_json::from_str(&http_get(&metrics, "/healthz").1).unwrap();
            health["holds_partitions"] == true
        }
    };
    while !holds() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}",
            std::fs::read_to_string(&first_log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let second_log = dir.path().join("second.log");
    let mut second = worker_with(
        &bootstrap,
        &lake,
        "twins",
        pattern,
        &second_log,
        &["--instance-id", "twin"],
    );
    let took = exits_within_30_s(&mut first, &first_log);
    let text = std::fs::read_to_string(&first_log).unwrap();
    assert!(text.contains("instance id"), "{text}");
    println!("fenced worker stopped after {took:?}");
    assert!(
        second.try_wait().unwrap().is_none(),
        "the second keeps running"
    );
    terminate(&mut second);
}
