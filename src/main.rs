//! `outcomes`: the command line of the pipeline. It parses arguments, sets up logging and calls
//! the stage libraries; the work itself lives in `outcomes-ingest`, `outcomes-transform` and
//! `outcomes-report`.

mod commands;
mod config;
mod demo;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use config::{Loaded, LogFormat};
use tracing_subscriber::EnvFilter;

/// Polars allocates and frees large column buffers all the time; the system allocator hands
/// that memory back and forth to the kernel (page faults and zeroing were a fifth of the
/// transform's time) and fragments across threads, which inflated peak RSS. Built with
/// `no_thp`: mimalloc would otherwise madvise its segments as huge pages, and on systems that
/// honour that only on request (THP `madvise`) each first touch zeroed 2 MiB that mimalloc
/// later purged, 40 % of a 10M-event transform's samples (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The mimalloc setting ingest runs with: how long freed pages are kept before they go back to
/// the kernel. mimalloc 3 keeps them for a second, which suits the transform (its next step
/// reuses them; mimalloc 2's 10 ms made a 10M-event transform 5 % slower and 40 % larger), but a
/// Kafka worker frees each batch's buffers while the next ones fill, and held 615 MiB at the end
/// of the 2-million-message benchmark, against 486 MiB with 100 ms (docs/BENCHMARKS.md).
const INGEST_PURGE_DELAY: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "100");

/// Runs this command line again with [`INGEST_PURGE_DELAY`] in the environment, unless it is
/// set already (by the user, or by this): mimalloc reads its settings from the environment
/// before `main`. The process stays the same (`exec`); if that fails, ingest goes on with
/// mimalloc's defaults.
fn with_ingest_allocator_settings() {
    use std::os::unix::process::CommandExt as _;
    let (variable, value) = INGEST_PURGE_DELAY;
    if std::env::var_os(variable).is_some() {
        return;
    }
    let Ok(executable) = std::env::current_exe() else {
        return;
    };
    let error = std::process::Command::new(executable)
        .args(std::env::args_os().skip(1))
        .env(variable, value)
        .exec();
    eprintln!("warning: ingest runs with mimalloc's default {variable} ({error})");
}

/// Employment outcome indicators for regional consortia: ingest events, build tables, report.
#[derive(Debug, Parser)]
#[command(name = "outcomes", version, about)]
struct Cli {
    /// The configuration file (TOML) of every stage; flags and the environment override it.
    #[arg(long, global = true, env = "OUTCOMES_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines for people (text) or one JSON object per line (json) [default: text].
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the whole pipeline on a synthetic consortium, from files, without Kafka.
    Demo {
        /// Where to put the feed, lake, tables and reports.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
        /// People per consortium.
        #[arg(long, default_value_t = 3_000)]
        participants: u32,
    },
    /// Writes a synthetic, deterministic event feed as NDJSON files.
    Generate(commands::GenerateArgs),
    /// Checks an NDJSON file against the event contract, line by line.
    Validate {
        /// The NDJSON file.
        file: PathBuf,
        /// The consortium the file belongs to.
        #[arg(long)]
        consortium: String,
    },
    /// Loads events into the Delta event lake.
    Ingest(commands::IngestArgs),
    /// Builds the indicator tables from the lake for an as-of date.
    Transform(commands::TransformArgs),
    /// Publishes an indicator snapshot for a consortium and period.
    Report(commands::ReportArgs),
    /// Looks after the event lake: compaction, retention, migration from version 1.
    #[command(subcommand)]
    Lake(commands::LakeCommand),
    /// Shows the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Prints every setting's effective value and where it came from, secrets masked: as a
    /// command would see it when given after `--` (`outcomes config show -- ingest --group g`).
    Show {
        /// A command line to apply the flags of.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
}

impl Command {
    /// Applies the flags that override configuration settings.
    fn apply_flags(&self, loaded: &mut Loaded) -> anyhow::Result<()> {
        match self {
            Command::Generate(args) => args.apply_flags(loaded),
            Command::Ingest(args) => args.apply_flags(loaded),
            Command::Transform(args) => args.apply_flags(loaded),
            Command::Report(args) => args.apply_flags(loaded),
            Command::Demo { .. }
            | Command::Validate { .. }
            | Command::Lake(_)
            | Command::Config(_) => Ok(()),
        }
    }
}

/// The configuration a command line runs with: file, environment, then its flags.
fn configuration(cli: &Cli) -> anyhow::Result<Loaded> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let mut loaded = Loaded::load(cli.config.as_deref(), &env)?;
    loaded.flag("log.format", "--log-format", cli.log_format)?;
    cli.command.apply_flags(&mut loaded)?;
    Ok(loaded)
}

fn init_logging(log: &config::LogSection) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&log.filter)
        .with_context(|| format!("log.filter {:?} is not a tracing filter", log.filter))?;
    // Colours only for a terminal: a journal or a log file would keep the escape codes.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let installed = match log.format {
        LogFormat::Text => subscriber.try_init(),
        LogFormat::Json => subscriber
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot set up logging: {error}"))
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let loaded = configuration(&cli)?;
    init_logging(&loaded.config.log)?;
    match cli.command {
        Command::Demo { out, participants } => demo::run(&out, participants),
        Command::Generate(args) => commands::generate(&args, &loaded),
        Command::Validate { file, consortium } => commands::validate(&file, &consortium),
        Command::Ingest(args) => commands::ingest(&args, &loaded),
        Command::Transform(args) => commands::transform(&args, &loaded),
        Command::Report(args) => commands::report(&args, &loaded),
        Command::Lake(command) => commands::lake(&command),
        Command::Config(ConfigCommand::Show { command }) => {
            let shown = if command.is_empty() {
                loaded
            } else {
                let inner =
                    Cli::try_parse_from(std::iter::once("outcomes".to_owned()).chain(command))?;
                configuration(&Cli {
                    config: inner.config.or(cli.config),
                    ..inner
                })?
            };
            println!("{}", shown.show().trim_fmt());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Ingest(_) = cli.command {
        with_ingest_allocator_settings();
    }
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
