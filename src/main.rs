//! `outcomes`: the command line of the pipeline. It parses arguments, sets up logging and calls
//! the stage libraries; the work itself lives in `outcomes-ingest`, `outcomes-transform` and
//! `outcomes-report`.

mod commands;
mod demo;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Polars allocates and frees large column buffers all the time; the system allocator hands
/// that memory back and forth to the kernel (page faults and zeroing were a fifth of the
/// transform's time) and fragments across threads, which inflated peak RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Employment outcome indicators for regional consortia: ingest events, build tables, report.
#[derive(Debug, Parser)]
#[command(name = "outcomes", version, about)]
struct Cli {
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
    /// Loads events into the Parquet event lake.
    Ingest(commands::IngestArgs),
    /// Builds the indicator tables from the lake for an as-of date.
    Transform {
        /// The event lake.
        #[arg(long)]
        lake: PathBuf,
        /// Output folder; tables go to OUT/tables/.
        #[arg(long)]
        out: PathBuf,
        /// The knowledge date (YYYY-MM-DD): only events recorded by then count.
        #[arg(long)]
        as_of: NaiveDate,
        /// TOML configuration (wage floors); defaults apply without it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Publishes an indicator snapshot for a consortium and period.
    Report(commands::ReportArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("OUTCOMES_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { out, participants } => demo::run(&out, participants),
        Command::Generate(args) => commands::generate(&args),
        Command::Validate { file, consortium } => commands::validate(&file, &consortium),
        Command::Ingest(args) => commands::ingest(&args),
        Command::Transform {
            lake,
            out,
            as_of,
            config,
        } => commands::transform(lake, out, as_of, config.as_deref()),
        Command::Report(args) => commands::report(&args),
    };
    match result {
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
