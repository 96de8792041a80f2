//! The subcommands: argument structs and the glue from them to the stage libraries.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use outcomes_ingest::{BatchLimits, FileIngest, Lake, Line, Location, NdjsonReader, Tally};
use outcomes_report::{Cadence, Inputs, Period};
use outcomes_schemas::{ConsortiumId, KEY_ENV, Origin, Pseudonymizer, Reason, Validator};
use outcomes_synth::Scenario;

use crate::config::{self, Loaded};

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
    /// Produce to Kafka instead (topics `outcomes.<consortium>.<event_type>`), with the
    /// configuration's Kafka settings.
    #[arg(long, conflicts_with = "out")]
    pub brokers: Option<String>,
}

impl GenerateArgs {
    /// Applies the flags that override configuration settings.
    pub fn apply_flags(&self, loaded: &mut Loaded) -> anyhow::Result<()> {
        loaded.flag("kafka.brokers", "--brokers", self.brokers.as_ref())
    }

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

/// Arguments of `outcomes ingest`: a Kafka worker, or a file load (`--from-file`). Settings
/// not given here come from the configuration (`[ingest]`, `[kafka]`, `[metrics]`).
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The event lake: a folder or an `s3://bucket/prefix` URL (created if missing)
    /// [config: ingest.lake].
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// Kafka bootstrap servers: run as a worker until SIGTERM or Ctrl-C [config: kafka.brokers].
    #[arg(long, conflicts_with = "from_file")]
    pub brokers: Option<String>,
    /// Consumer group of the worker [config: ingest.group; default: outcomes-ingest].
    #[arg(long)]
    pub group: Option<String>,
    /// Static membership: this worker's own id in the group (unique per worker, stable across
    /// restarts), so that a restart takes its partitions back at once [config:
    /// ingest.instance_id].
    #[arg(long)]
    pub instance_id: Option<String>,
    /// Topic pattern (regular expression) the worker subscribes to [config: ingest.topics].
    #[arg(long)]
    pub topics: Option<String>,
    /// Serve Prometheus metrics and /healthz on this address, e.g. 127.0.0.1:9464 [config:
    /// metrics.address].
    #[arg(long)]
    pub metrics: Option<std::net::SocketAddr>,
    /// Messages per batch before a flush [config: ingest.batch_messages; default: 100000].
    #[arg(long)]
    pub batch_messages: Option<usize>,
    /// Seconds a message may wait in memory before its batch is flushed [config:
    /// ingest.batch_seconds; default: 60].
    #[arg(long)]
    pub batch_seconds: Option<u64>,
    /// MiB of message values held in open batches before the largest is flushed: the bound on
    /// the worker's memory [config: ingest.buffer_mib; default: 128].
    #[arg(long)]
    pub buffer_mib: Option<usize>,
    /// An NDJSON file, or a folder of `.ndjson`/`.jsonl` files, to load.
    #[arg(long, requires = "consortium")]
    pub from_file: Option<PathBuf>,
    /// The consortium the files belong to.
    #[arg(long)]
    pub consortium: Option<String>,
    /// Use the public demo pseudonymization key instead of the consortium's (demos only).
    #[arg(long)]
    pub demo_key: bool,
}

impl IngestArgs {
    /// Applies the flags that override configuration settings.
    pub fn apply_flags(&self, loaded: &mut Loaded) -> anyhow::Result<()> {
        loaded.flag(
            "ingest.lake",
            "--lake",
            self.lake.as_ref().map(|p| p.display()),
        )?;
        loaded.flag("kafka.brokers", "--brokers", self.brokers.as_ref())?;
        loaded.flag("ingest.group", "--group", self.group.as_ref())?;
        loaded.flag(
            "ingest.instance_id",
            "--instance-id",
            self.instance_id.as_ref(),
        )?;
        loaded.flag("ingest.topics", "--topics", self.topics.as_ref())?;
        loaded.flag("metrics.address", "--metrics", self.metrics)?;
        loaded.flag(
            "ingest.batch_messages",
            "--batch-messages",
            self.batch_messages,
        )?;
        loaded.flag(
            "ingest.batch_seconds",
            "--batch-seconds",
            self.batch_seconds,
        )?;
        loaded.flag("ingest.buffer_mib", "--buffer-mib", self.buffer_mib)
    }
}

/// Arguments of `outcomes transform`.
#[derive(Debug, Args)]
pub struct TransformArgs {
    /// The event lake: a folder or an `s3://bucket/prefix` URL [config: transform.lake].
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// Output folder; tables go to OUT/tables/ [config: transform.out].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The knowledge date (YYYY-MM-DD): only events recorded by then count.
    #[arg(long)]
    pub as_of: NaiveDate,
}

impl TransformArgs {
    /// Applies the flags that override configuration settings.
    pub fn apply_flags(&self, loaded: &mut Loaded) -> anyhow::Result<()> {
        loaded.flag(
            "transform.lake",
            "--lake",
            self.lake.as_ref().map(|p| p.display()),
        )?;
        loaded.flag(
            "transform.out",
            "--out",
            self.out.as_ref().map(|p| p.display()),
        )
    }
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
    /// The transform's table folder (OUT/tables) [config: report.tables].
    #[arg(long)]
    pub tables: Option<PathBuf>,
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
    /// Suppression threshold k [config: report.k; default: 10].
    #[arg(long)]
    pub k: Option<i64>,
    /// Output root; files go to OUT/<consortium>/<period>/as-of-<date>/ [config: report.out].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also send snapshot.json to the Kafka topic outcomes.snapshots, on these brokers or on
    /// kafka.brokers [config: report.publish_kafka].
    #[arg(long, num_args = 0..=1, value_name = "BROKERS")]
    pub publish_kafka: Option<Option<String>>,
}

impl ReportArgs {
    /// Applies the flags that override configuration settings.
    pub fn apply_flags(&self, loaded: &mut Loaded) -> anyhow::Result<()> {
        loaded.flag(
            "report.tables",
            "--tables",
            self.tables.as_ref().map(|p| p.display()),
        )?;
        loaded.flag(
            "report.out",
            "--out",
            self.out.as_ref().map(|p| p.display()),
        )?;
        loaded.flag("report.k", "--k", self.k)?;
        loaded.flag(
            "report.publish_kafka",
            "--publish-kafka",
            self.publish_kafka.as_ref().map(|_| true),
        )?;
        loaded.flag(
            "kafka.brokers",
            "--publish-kafka",
            self.publish_kafka.as_ref().and_then(Option::as_ref),
        )
    }
}

/// The pseudonymizer of the configured key (`ingest.pseudonym_key`, from the environment or a
/// file), or of the demo key when asked for (announced loudly).
pub fn pseudonymizer(demo_key: bool, key: Option<&config::Value>) -> anyhow::Result<Pseudonymizer> {
    if demo_key {
        eprintln!(
            "WARNING: using the public DEMO pseudonymization key. Person and employer keys in this \
             lake can be recomputed by anyone; never use demo mode with real data."
        );
        return Ok(Pseudonymizer::demo());
    }
    match key {
        Some(key) => {
            let secret = key.resolve("ingest.pseudonym_key")?;
            Pseudonymizer::new(secret.as_bytes())
                .context("the pseudonymization key (ingest.pseudonym_key) is empty")
        }
        None => bail!(
            "no pseudonymization key: ingest will not store events without the consortium's \
             secret key (set {KEY_ENV}, or ingest.pseudonym_key = {{ file = \"PATH\" }} in the \
             configuration file, or pass --demo-key for a demonstration)"
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

/// A lake location from a path setting: a folder, or an `s3://` URL (its connection from the
/// `AWS_*` environment variables, docs/LAKE.md).
pub fn location(lake: &Path) -> anyhow::Result<Location> {
    let text = lake
        .to_str()
        .with_context(|| format!("the lake location {} is not UTF-8", lake.display()))?;
    Ok(text.parse()?)
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
pub fn generate(args: &GenerateArgs, loaded: &Loaded) -> anyhow::Result<ExitCode> {
    if args.brokers.is_some() {
        let client = loaded.kafka_client()?;
        let mut messages = Vec::new();
        outcomes_synth::generate(&args.scenario(), &mut |m| {
            messages.push((
                format!("outcomes.{}.{}", m.consortium, m.event_type),
                m.key.clone(),
                m.value.clone(),
            ));
        });
        let publisher = outcomes_ingest::Publisher::new(&client)?;
        let sent = runtime()?.block_on(
            publisher.send_all(
                messages
                    .iter()
                    .map(|(t, k, v)| (t.as_str(), k.as_str(), v.as_bytes())),
                50_000,
            ),
        )?;
        println!("produced {sent} messages to {}", client.brokers);
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
    if let Some(what) = reader
        .not_text()
        .with_context(|| format!("cannot read {}", file.display()))?
    {
        bail!(
            "{} is not an NDJSON text file: it holds {what}",
            file.display()
        );
    }
    let mut incomplete = 0u64;
    let mut counts = [0u64; Reason::ALL.len()];
    let mut valid = 0u64;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    while let Some((number, line)) = reader
        .next_line()
        .with_context(|| format!("cannot read {}", file.display()))?
    {
        let value = match line {
            Line::Blank => continue,
            Line::Message(value) => value,
            Line::Incomplete(_) => {
                incomplete += 1;
                writeln!(
                    out,
                    "line {number}: incomplete: the file ends inside this message (cut off, or \
                     still being written); ingest leaves it for a later load"
                )?;
                continue;
            }
        };
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
    if incomplete > 0 {
        writeln!(out, "  and an incomplete last line")?;
    }
    for (reason, n) in Reason::ALL.iter().zip(counts) {
        if n > 0 {
            writeln!(out, "  {reason}: {n}")?;
        }
    }
    out.flush()?;
    Ok(if rejected + incomplete > 0 {
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
    let runtime = runtime()?;
    let lake = runtime.block_on(Lake::open(&location(lake)?))?;
    let mut loader = FileIngest::new(
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
        let loaded = runtime
            .block_on(loader.load(&file, &mut |bytes| bar.set_position(done + bytes)))
            .with_context(|| format!("loading {}", file.display()))?;
        done += size;
        tally.add(&loaded);
    }
    bar.finish_and_clear();
    Ok(tally)
}

/// `outcomes ingest`.
pub fn ingest(args: &IngestArgs, loaded: &Loaded) -> anyhow::Result<ExitCode> {
    let config = &loaded.config;
    let Some(lake) = &config.ingest.lake else {
        bail!("no lake: give --lake, set OUTCOMES_INGEST_LAKE or ingest.lake in the configuration")
    };
    let pseudonymizer = pseudonymizer(args.demo_key, config.ingest.pseudonym_key.as_ref())?;
    let tally = match (&args.from_file, &args.consortium) {
        (Some(path), Some(consortium)) => load_files(lake, path, consortium, pseudonymizer)?,
        (Some(_), None) => bail!("--from-file needs --consortium"),
        (None, _) => {
            let mut settings =
                outcomes_ingest::KafkaSettings::new(loaded.kafka_client()?, &config.ingest.group);
            settings.topics.clone_from(&config.ingest.topics);
            settings.instance_id.clone_from(&config.ingest.instance_id);
            if config.ingest.buffer_mib == 0 {
                bail!("ingest.buffer_mib (--buffer-mib) must be at least 1");
            }
            settings.max_buffered_bytes = config.ingest.buffer_mib.saturating_mul(1 << 20);
            settings.limits = BatchLimits {
                max_messages: config.ingest.batch_messages,
                max_age: std::time::Duration::from_secs(config.ingest.batch_seconds),
                ..BatchLimits::default()
            };
            let runtime = runtime()?;
            let lake = runtime.block_on(Lake::open(&location(lake)?))?;
            let metrics = std::sync::Arc::new(outcomes_ingest::Metrics::default());
            if let Some(address) = config.metrics.address {
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
    if tally.incomplete > 0 {
        println!(
            "  {} file(s) end inside their last line (still being written, or cut off): that \
             line is left for the next load",
            tally.incomplete
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `outcomes transform`.
pub fn transform(args: &TransformArgs, loaded: &Loaded) -> anyhow::Result<ExitCode> {
    let section = &loaded.config.transform;
    let (Some(lake), Some(out)) = (&section.lake, &section.out) else {
        bail!(
            "give --lake and --out (or transform.lake and transform.out in the configuration, \
             or OUTCOMES_TRANSFORM_LAKE and OUTCOMES_TRANSFORM_OUT)"
        )
    };
    let summary = outcomes_transform::run(&outcomes_transform::TransformSettings {
        lake: location(lake)?,
        out: out.clone(),
        as_of: args.as_of,
        config: section.rules()?,
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

/// `outcomes lake`: maintenance of the Delta event lake.
#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Rewrites each consortium's small files into large ones, changing no rows (safe while
    /// ingest runs; the replaced files stay until `lake vacuum`).
    Compact {
        /// The lake: a folder or an `s3://` URL.
        #[arg(long)]
        lake: PathBuf,
        /// The size of the files to write, and below which a file counts as small.
        #[arg(long, default_value_t = 128)]
        target_mib: u64,
    },
    /// Deletes the files no table version of the retention period references: those
    /// compaction replaced, and the leftovers of writes that never committed.
    Vacuum {
        /// The lake: a folder or an `s3://` URL.
        #[arg(long)]
        lake: PathBuf,
        /// How long replaced files stay readable: longer than the longest transform, and
        /// than any reader of an older version needs.
        #[arg(long, default_value_t = 168)]
        retention_hours: u32,
        /// Lists what would be deleted, deleting nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copies a version-1 lake (the layout before Delta) into a Delta lake, every event,
    /// rejection and source position kept, so that ingest resumes where the old lake ended.
    Convert {
        /// The version-1 lake's folder.
        #[arg(long)]
        from: PathBuf,
        /// The new lake: a folder or an `s3://` URL.
        #[arg(long)]
        to: PathBuf,
    },
}

/// `outcomes lake …`.
pub fn lake(command: &LakeCommand) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    match command {
        LakeCommand::Compact { lake, target_mib } => {
            let mut lake = runtime.block_on(Lake::open_existing(&location(lake)?))?;
            for table in runtime.block_on(lake.compact(target_mib << 20))? {
                println!(
                    "{}: {} files, {} small ones rewritten into {}; now at version {}",
                    table.table,
                    table.files_before,
                    table.files_removed,
                    table.files_added,
                    table.version
                );
            }
        }
        LakeCommand::Vacuum {
            lake,
            retention_hours,
            dry_run,
        } => {
            let mut lake = runtime.block_on(Lake::open_existing(&location(lake)?))?;
            let retention = chrono::Duration::hours(i64::from(*retention_hours));
            for table in runtime.block_on(lake.vacuum(retention, *dry_run))? {
                let verb = if *dry_run { "would delete" } else { "deleted" };
                println!(
                    "{}: {verb} {} files",
                    table.table,
                    table.files_deleted.len()
                );
            }
        }
        LakeCommand::Convert { from, to } => {
            let converted = runtime.block_on(outcomes_lake::v1::convert(from, &location(to)?))?;
            println!(
                "converted {} sources ({} files): {} events, {} rejections",
                converted.sources, converted.files, converted.events, converted.rejected
            );
        }
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
pub fn report(args: &ReportArgs, loaded: &Loaded) -> anyhow::Result<ExitCode> {
    let section = &loaded.config.report;
    let (Some(tables), Some(out)) = (&section.tables, &section.out) else {
        bail!(
            "give --tables and --out (or report.tables and report.out in the configuration, or \
             OUTCOMES_REPORT_TABLES and OUTCOMES_REPORT_OUT)"
        )
    };
    let today = Utc::now().date_naive();
    let period = match (args.period, args.schedule) {
        (Some(period), _) => period,
        (None, Some(Schedule::Monthly)) => Period::last_complete(today, Cadence::Monthly),
        (None, Some(Schedule::Quarterly)) => Period::last_complete(today, Cadence::Quarterly),
        (None, None) => bail!("give --period or --schedule"),
    };
    let as_of = args.as_of.unwrap_or(period.end());
    let (snapshot, published) =
        publish_report(tables, &args.consortium, period, as_of, section.k, out)?;
    if section.publish_kafka {
        let client = loaded.kafka_client()?;
        let publisher = outcomes_ingest::Publisher::new(&client)?;
        let key = format!("{}:{period}:{as_of}", snapshot.consortium_id);
        let value = outcomes_report::render::json(&snapshot);
        runtime()?.block_on(publisher.send(outcomes_schemas::SNAPSHOT_TOPIC, &key, &value))?;
        println!(
            "sent to {} on {}, key {key}",
            outcomes_schemas::SNAPSHOT_TOPIC,
            client.brokers
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
