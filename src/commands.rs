//! The subcommands: argument structs and the glue from them to the stage libraries.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use outcomes_ingest::{BatchLimits, FileIngest, Lake, Line, NdjsonReader, Tally};
use outcomes_report::{Cadence, DEFAULT_SUPPRESSION_K, Inputs, Period};
use outcomes_schemas::{ConsortiumId, KEY_ENV, Origin, Pseudonymizer, Reason, Validator};
use outcomes_synth::Scenario;

/// Arguments of `outcomes generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many consortia.
    #[arg(long, default_value_t = 1)]
    pub consortia: u32,
    /// People per consortium.
    #[arg(long, default_value_t = 2_000)]
    pub participants: u32,
    /// Months of history.
    #[arg(long, default_value_t = 24)]
    pub months: u32,
    /// Random seed; the same seed gives the same feed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The extraction date (last day of the feed).
    #[arg(long, default_value = "2026-10-31")]
    pub end: NaiveDate,
    /// Output folder: one subfolder per consortium, one NDJSON file per recorded month.
    #[arg(long, required_unless_present = "brokers")]
    pub out: Option<PathBuf>,
    /// Produce to Kafka instead (topics `outcomes.<consortium>.<event_type>`).
    #[arg(long, conflicts_with = "out")]
    pub brokers: Option<String>,
}

impl GenerateArgs {
    fn scenario(&self) -> Scenario {
        Scenario {
            consortia: self.consortia,
            participants: self.participants,
            months: self.months,
            seed: self.seed,
            end: self.end,
            ..Scenario::default()
        }
    }
}

/// Arguments of `outcomes ingest`: a Kafka worker (`--brokers`) or a file load (`--from-file`).
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The event lake folder (created if missing).
    #[arg(long)]
    pub lake: PathBuf,
    /// Kafka bootstrap servers: run as a worker until SIGTERM or Ctrl-C.
    #[arg(
        long,
        required_unless_present = "from_file",
        conflicts_with = "from_file"
    )]
    pub brokers: Option<String>,
    /// Consumer group of the worker.
    #[arg(long, default_value = "outcomes-ingest")]
    pub group: String,
    /// Static membership: this worker's own id in the group (unique per worker, stable across
    /// restarts), so that a restart takes its partitions back at once.
    #[arg(long, env = "OUTCOMES_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// Topic pattern (regular expression) the worker subscribes to.
    #[arg(long, default_value = outcomes_schemas::DEFAULT_TOPIC_PATTERN)]
    pub topics: String,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9464).
    #[arg(long)]
    pub metrics: Option<std::net::SocketAddr>,
    /// Messages per batch before a flush.
    #[arg(long, default_value_t = BatchLimits::default().max_messages)]
    pub batch_messages: usize,
    /// Seconds a message may wait in memory before its batch is flushed.
    #[arg(long, default_value_t = BatchLimits::default().max_age.as_secs())]
    pub batch_seconds: u64,
    /// An NDJSON file, or a folder of `.ndjson`/`.jsonl` files, to load.
    #[arg(long, requires = "consortium")]
    pub from_file: Option<PathBuf>,
    /// The consortium the files belong to.
    #[arg(long)]
    pub consortium: Option<String>,
    /// Use the public demo pseudonymization key instead of OUTCOMES_PSEUDONYM_KEY (demos only).
    #[arg(long)]
    pub demo_key: bool,
}

/// When to report: a fixed period, or the last complete one.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Schedule {
    /// The last complete month.
    Monthly,
    /// The last complete quarter.
    Quarterly,
}

/// Arguments of `outcomes report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The transform's table folder (OUT/tables).
    #[arg(long)]
    pub tables: PathBuf,
    /// The consortium to report on.
    #[arg(long)]
    pub consortium: String,
    /// The period: a month (2026-08) or a quarter (2026Q3).
    #[arg(
        long,
        required_unless_present = "schedule",
        conflicts_with = "schedule"
    )]
    pub period: Option<Period>,
    /// Report the last complete month or quarter (for scheduled runs).
    #[arg(long)]
    pub schedule: Option<Schedule>,
    /// The knowledge date; defaults to the period's last day.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Suppression threshold k.
    #[arg(long, default_value_t = DEFAULT_SUPPRESSION_K)]
    pub k: i64,
    /// Output root; files go to OUT/<consortium>/<period>/as-of-<date>/.
    #[arg(long)]
    pub out: PathBuf,
    /// Also send snapshot.json to the Kafka topic outcomes.snapshots on these brokers.
    #[arg(long)]
    pub publish_kafka: Option<String>,
}

/// The pseudonymizer from the environment, or the demo key when asked for (announced loudly).
pub fn pseudonymizer(demo_key: bool) -> anyhow::Result<Pseudonymizer> {
    if demo_key {
        eprintln!(
            "WARNING: using the public DEMO pseudonymization key. Person and employer keys in this \
             lake can be recomputed by anyone; never use demo mode with real data."
        );
        return Ok(Pseudonymizer::demo());
    }
    match std::env::var(KEY_ENV) {
        Ok(secret) => Pseudonymizer::new(secret.as_bytes())
            .with_context(|| format!("{KEY_ENV} is set but empty")),
        Err(_) => bail!(
            "{KEY_ENV} is not set: ingest will not store events without the consortium's secret \
             pseudonymization key (set it, or pass --demo-key for a demonstration)"
        ),
    }
}

fn progress(total: u64, message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{msg:>12} [{bar:40}] {bytes}/{total_bytes} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message.to_owned());
    bar
}

/// Writes the scenario's feed under `out`; returns the folders written, per consortium.
pub fn write_feed(
    scenario: &Scenario,
    out: &Path,
) -> anyhow::Result<(u64, BTreeMap<String, PathBuf>)> {
    let mut writers: HashMap<(String, String), BufWriter<File>> = HashMap::new();
    let mut folders = BTreeMap::new();
    let mut count = 0u64;
    let mut failure = None;
    outcomes_synth::generate(scenario, &mut |message| {
        if failure.is_some() {
            return;
        }
        let key = (message.consortium.clone(), message.recorded_month.clone());
        let writer = match writers.entry(key) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let folder = out.join(&message.consortium);
                folders.insert(message.consortium.clone(), folder.clone());
                let path = folder.join(format!("events-{}.ndjson", message.recorded_month));
                match fs::create_dir_all(&folder).and_then(|()| File::create(&path)) {
                    Ok(file) => entry.insert(BufWriter::new(file)),
                    Err(error) => {
                        failure = Some(
                            anyhow::Error::new(error)
                                .context(format!("cannot create {}", path.display())),
                        );
                        return;
                    }
                }
            }
        };
        if let Err(error) = writeln!(writer, "{}", message.value) {
            failure = Some(anyhow::Error::new(error).context("cannot write the feed"));
        }
        count += 1;
    });
    if let Some(error) = failure {
        return Err(error);
    }
    for (_, mut writer) in writers {
        writer.flush().context("cannot write the feed")?;
    }
    Ok((count, folders))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// `outcomes generate`.
pub fn generate(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    if let Some(brokers) = &args.brokers {
        let mut messages = Vec::new();
        outcomes_synth::generate(&args.scenario(), &mut |m| {
            messages.push((
                format!("outcomes.{}.{}", m.consortium, m.event_type),
                m.key.clone(),
                m.value.clone(),
            ));
        });
        let publisher = outcomes_ingest::Publisher::new(brokers)?;
        let sent = runtime()?.block_on(
            publisher.send_all(
                messages
                    .iter()
                    .map(|(t, k, v)| (t.as_str(), k.as_str(), v.as_bytes())),
                50_000,
            ),
        )?;
        println!("produced {sent} messages to {brokers}");
        return Ok(ExitCode::SUCCESS);
    }
    let Some(out) = &args.out else {
        bail!("give --out or --brokers")
    };
    let (count, folders) = write_feed(&args.scenario(), out)?;
    println!("wrote {count} messages");
    for (consortium, folder) in folders {
        println!("  {consortium}: {}", folder.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `outcomes validate`: OK or the reason per line, a summary, exit 1 when anything is rejected.
pub fn validate(file: &Path, consortium: &str) -> anyhow::Result<ExitCode> {
    let consortium = ConsortiumId::new(consortium).context("--consortium")?;
    // Validation needs no secret: the keys it computes are never shown or stored.
    let validator = Validator::new(Pseudonymizer::demo());
    let origin = Origin {
        consortium: &consortium,
        topic_event_type: None,
    };
    let handle = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut reader = NdjsonReader::new(BufReader::new(handle));
    let mut counts = [0u64; Reason::ALL.len()];
    let mut valid = 0u64;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    while let Some((number, line)) = reader
        .next_line()
        .with_context(|| format!("cannot read {}", file.display()))?
    {
        let Line::Message(value) = line else { continue };
        match validator.validate(value, &origin) {
            Ok(_) => {
                valid += 1;
                writeln!(out, "line {number}: OK")?;
            }
            Err(rejection) => {
                counts[rejection.reason as usize] += 1;
                writeln!(
                    out,
                    "line {number}: {} {}",
                    rejection.reason, rejection.detail
                )?;
            }
        }
    }
    let rejected: u64 = counts.iter().sum();
    writeln!(out, "\n{valid} valid, {rejected} rejected")?;
    for (reason, n) in Reason::ALL.iter().zip(counts) {
        if n > 0 {
            writeln!(out, "  {reason}: {n}")?;
        }
    }
    out.flush()?;
    Ok(if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads a file or folder into the lake, with a progress bar on a terminal.
pub fn load_files(
    lake: &Path,
    path: &Path,
    consortium: &str,
    pseudonymizer: Pseudonymizer,
) -> anyhow::Result<Tally> {
    let consortium = ConsortiumId::new(consortium).context("--consortium")?;
    let lake = Lake::open(lake)?;
    let loader = FileIngest::new(
        lake,
        Validator::new(pseudonymizer),
        consortium,
        BatchLimits::default(),
    );
    let files = FileIngest::files(path)?;
    if files.is_empty() {
        bail!("{} holds no .ndjson or .jsonl files", path.display());
    }
    let total: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let bar = progress(total, "ingest");
    let mut tally = Tally::default();
    let mut done = 0;
    for file in files {
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let loaded = loader
            .load(&file, &mut |bytes| bar.set_position(done + bytes))
            .with_context(|| format!("loading {}", file.display()))?;
        done += size;
        tally.add(&loaded);
    }
    bar.finish_and_clear();
    Ok(tally)
}

/// `outcomes ingest`.
pub fn ingest(args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let pseudonymizer = pseudonymizer(args.demo_key)?;
    let limits = BatchLimits {
        max_messages: args.batch_messages,
        max_age: std::time::Duration::from_secs(args.batch_seconds),
        ..BatchLimits::default()
    };
    let tally = match (&args.brokers, &args.from_file, &args.consortium) {
        (Some(brokers), _, _) => {
            let mut settings =
                outcomes_ingest::KafkaSettings::new(brokers.clone(), args.group.clone());
            settings.topics = args.topics.clone();
            settings.instance_id = args.instance_id.clone();
            settings.limits = limits;
            let lake = Lake::open(&args.lake)?;
            let metrics = std::sync::Arc::new(outcomes_ingest::Metrics::default());
            let runtime = runtime()?;
            if let Some(address) = args.metrics {
                let endpoint = runtime.block_on(outcomes_ingest::MetricsEndpoint::bind(address))?;
                runtime.spawn(endpoint.serve(std::sync::Arc::clone(&metrics)));
            }
            runtime.block_on(outcomes_ingest::run_kafka(
                settings,
                lake,
                Validator::new(pseudonymizer),
                metrics,
                shutdown_signal(),
            ))?
        }
        (None, Some(path), Some(consortium)) => {
            load_files(&args.lake, path, consortium, pseudonymizer)?
        }
        _ => bail!("give --brokers, or --from-file with --consortium"),
    };
    println!(
        "{} messages: {} stored, {} rejected, {} already in the lake; {} files written",
        tally.messages,
        tally.stored,
        tally.rejected_total(),
        tally.already_stored,
        tally.files
    );
    for (reason, n) in Reason::ALL.iter().zip(tally.rejected) {
        if n > 0 {
            println!("  rejected {reason}: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `outcomes transform`.
pub fn transform(
    lake: PathBuf,
    out: PathBuf,
    as_of: NaiveDate,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let config = match config {
        Some(path) => outcomes_transform::load_config(path)?,
        None => outcomes_transform::Config::default(),
    };
    let summary = outcomes_transform::run(&outcomes_transform::TransformSettings {
        lake,
        out,
        as_of,
        config,
    })?;
    println!("read {} lake files", summary.lake_files);
    for table in summary.tables {
        println!(
            "  {:<20} {:>9} rows  {}",
            table.table,
            table.rows,
            table.path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Computes and publishes one snapshot; returns its folder.
pub fn publish_report(
    tables: &Path,
    consortium: &str,
    period: Period,
    as_of: NaiveDate,
    k: i64,
    out: &Path,
) -> anyhow::Result<(outcomes_report::Snapshot, outcomes_report::Published)> {
    let inputs = Inputs::read(tables, consortium)?;
    let snapshot = outcomes_report::build_snapshot(&inputs, consortium, period, as_of, k)?;
    let published = outcomes_report::publish(&snapshot, out)?;
    Ok((snapshot, published))
}

/// `outcomes report`.
pub fn report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let today = Utc::now().date_naive();
    let period = match (args.period, args.schedule) {
        (Some(period), _) => period,
        (None, Some(Schedule::Monthly)) => Period::last_complete(today, Cadence::Monthly),
        (None, Some(Schedule::Quarterly)) => Period::last_complete(today, Cadence::Quarterly),
        (None, None) => bail!("give --period or --schedule"),
    };
    let as_of = args.as_of.unwrap_or(period.end());
    let (snapshot, published) = publish_report(
        &args.tables,
        &args.consortium,
        period,
        as_of,
        args.k,
        &args.out,
    )?;
    if let Some(brokers) = &args.publish_kafka {
        let publisher = outcomes_ingest::Publisher::new(brokers)?;
        let key = format!("{}:{period}:{as_of}", snapshot.consortium_id);
        let value = outcomes_report::render::json(&snapshot);
        runtime()?.block_on(publisher.send(outcomes_schemas::SNAPSHOT_TOPIC, &key, &value))?;
        println!(
            "sent to {} on {brokers}, key {key}",
            outcomes_schemas::SNAPSHOT_TOPIC
        );
    }
    if published.written {
        println!("published {period} as of {as_of}:");
    } else {
        println!("{period} as of {as_of} was already published with the same content:");
    }
    for file in published.files {
        println!("  {}", file.display());
    }
    Ok(ExitCode::SUCCESS)
}
