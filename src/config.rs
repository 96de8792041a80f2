//! One configuration for every stage: ingest, transform, report, metrics, logs and the Kafka
//! clients.
//!
//! A value comes from, highest first: the flag of the command being run, the environment, the
//! TOML file (`--config FILE` or `OUTCOMES_CONFIG`), the built-in default. [`KEYS`] lists every
//! setting with its environment variable and flag; librdkafka settings, an open set, come from
//! `[kafka.settings]` (and `[kafka.consumer]`, `[kafka.producer]`) or from variables named
//! after them (`OUTCOMES_KAFKA_SETTING_SASL_PASSWORD` is `sasl.password`). Secrets (the
//! pseudonymization key, Kafka passwords) come from the environment or from a file named in the
//! configuration (`{ file = "/run/credentials/..." }`), never from a flag, which `ps` would
//! show. `outcomes config show` prints the effective values and where each came from, secrets
//! masked. `deploy/outcomes.toml` is an annotated example.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use outcomes_transform::ConsortiumConfig;
use serde::{Deserialize, Serialize};

/// The whole configuration, as the file spells it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[kafka]`: how every client reaches the cluster.
    pub kafka: KafkaSection,
    /// `[ingest]`: the worker and file loads.
    pub ingest: IngestSection,
    /// `[transform]`: the table build.
    pub transform: TransformSection,
    /// `[report]`: snapshot publication.
    pub report: ReportSection,
    /// `[metrics]`: the worker's Prometheus endpoint.
    pub metrics: MetricsSection,
    /// `[log]`: what is logged, and how.
    pub log: LogSection,
}

/// `[kafka]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaSection {
    /// Bootstrap servers, `HOST:PORT[,HOST:PORT]`.
    pub brokers: Option<String>,
    /// librdkafka settings for every client (`security.protocol`, `sasl.*`, `ssl.*`, ...).
    pub settings: BTreeMap<String, Value>,
    /// librdkafka settings for the ingest consumer only.
    pub consumer: BTreeMap<String, Value>,
    /// librdkafka settings for the producers only (dead letters, snapshots, the generator).
    pub producer: BTreeMap<String, Value>,
}

/// `[ingest]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSection {
    /// The event lake: a folder or an `s3://` URL.
    pub lake: Option<PathBuf>,
    /// The consumer group.
    pub group: String,
    /// Static group membership: this worker's own id in the group.
    pub instance_id: Option<String>,
    /// The topic pattern (a regular expression).
    pub topics: String,
    /// Messages per batch before a flush.
    pub batch_messages: usize,
    /// Seconds a message may wait in memory before its batch is flushed.
    pub batch_seconds: u64,
    /// MiB of message values the worker holds in open batches before it flushes the largest:
    /// the knob on its memory.
    pub buffer_mib: usize,
    /// The consortium's secret pseudonymization key.
    pub pseudonym_key: Option<Value>,
}

impl Default for IngestSection {
    fn default() -> Self {
        let limits = outcomes_ingest::BatchLimits::default();
        Self {
            lake: None,
            group: "outcomes-ingest".to_owned(),
            instance_id: None,
            topics: outcomes_schemas::DEFAULT_TOPIC_PATTERN.to_owned(),
            batch_messages: limits.max_messages,
            batch_seconds: limits.max_age.as_secs(),
            buffer_mib: outcomes_ingest::DEFAULT_BUFFERED_BYTES >> 20,
            pseudonym_key: None,
        }
    }
}

/// `[transform]`: the folders, and the transform library's settings
/// ([`outcomes_transform::Config`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransformSection {
    /// The event lake to read: a folder or an `s3://` URL.
    pub lake: Option<PathBuf>,
    /// The output folder; tables go to OUT/tables.
    pub out: Option<PathBuf>,
    /// The hourly wage floor of consortia not listed in `consortia`.
    pub wage_floor: f64,
    /// Visible events per pass of the per-person steps: the memory knob.
    pub events_per_part: u64,
    /// Per-consortium settings (`[transform.consortia.<id>]`).
    pub consortia: BTreeMap<String, ConsortiumConfig>,
}

impl Default for TransformSection {
    fn default() -> Self {
        let rules = outcomes_transform::Config::default();
        Self {
            lake: None,
            out: None,
            wage_floor: rules.wage_floor,
            events_per_part: rules.events_per_part,
            consortia: rules.consortia,
        }
    }
}

impl TransformSection {
    /// The transform library's settings, checked.
    pub fn rules(&self) -> anyhow::Result<outcomes_transform::Config> {
        outcomes_transform::Config {
            wage_floor: self.wage_floor,
            consortia: self.consortia.clone(),
            events_per_part: self.events_per_part,
        }
        .checked()
        .context("[transform]")
    }
}

/// `[report]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSection {
    /// The transform's table folder (OUT/tables).
    pub tables: Option<PathBuf>,
    /// Output root of the published snapshots.
    pub out: Option<PathBuf>,
    /// The suppression threshold k.
    pub k: i64,
    /// Also send each snapshot to the Kafka topic `outcomes.snapshots`.
    pub publish_kafka: bool,
}

impl Default for ReportSection {
    fn default() -> Self {
        Self {
            tables: None,
            out: None,
            k: outcomes_report::DEFAULT_SUPPRESSION_K,
            publish_kafka: false,
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// Serve Prometheus metrics and `/healthz` on this address.
    pub address: Option<SocketAddr>,
}

/// `[log]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// Lines for people, or one JSON object per line for log collectors.
    pub format: LogFormat,
    /// Which events are logged (`tracing` filter syntax: `info`, `outcomes_ingest=debug`).
    pub filter: String,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "warn".to_owned(),
        }
    }
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line per event, for people.
    Text,
    /// One JSON object per line, every field (topic, partition, offsets, files) a key.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        <Self as clap::ValueEnum>::from_str(text, true)
            .map_err(|_| format!("{text:?} is neither text nor json"))
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// A value that may be a secret: written out, or read from a file (a secret the platform
/// mounts, a systemd credential) so that it need not stand in the configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Written out.
    Text(String),
    /// A TOML integer (`"linger.ms" = 5`).
    Integer(i64),
    /// A TOML boolean.
    Boolean(bool),
    /// `{ file = "PATH" }`: the file's content, without its final line break.
    File(FileRef),
}

/// `{ file = "PATH" }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// The file holding the value.
    pub file: PathBuf,
}

impl Value {
    /// The value itself; `what` names it in the error when its file cannot be read.
    pub fn resolve(&self, what: &str) -> anyhow::Result<String> {
        Ok(match self {
            Value::Text(text) => text.clone(),
            Value::Integer(n) => n.to_string(),
            Value::Boolean(b) => b.to_string(),
            Value::File(FileRef { file }) => std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {what} from {}", file.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        })
    }

    /// How `config show` prints it.
    fn show(&self, secret: bool) -> String {
        match (self, secret) {
            (Value::File(FileRef { file }), true) => {
                format!("******** (read from {})", file.display())
            }
            (Value::File(FileRef { file }), false) => format!("(read from {})", file.display()),
            (_, true) => "********".to_owned(),
            (Value::Text(text), false) => text.clone(),
            (Value::Integer(n), false) => n.to_string(),
            (Value::Boolean(b), false) => b.to_string(),
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Nobody set it.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A flag of the command.
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Env(name) => write!(f, "environment {name}"),
            Origin::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

/// A setting's place in [`Config`], set from text (the environment, a flag) and shown.
trait Slot {
    fn parse(&mut self, text: &str) -> Result<(), String>;
    fn show(&self) -> Option<String>;
}

macro_rules! slots {
    ($($kind:ty),*) => {$(
        impl Slot for $kind {
            fn parse(&mut self, text: &str) -> Result<(), String> {
                *self = text.parse().map_err(|error| format!("{error}"))?;
                Ok(())
            }
            fn show(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
        impl Slot for Option<$kind> {
            fn parse(&mut self, text: &str) -> Result<(), String> {
                *self = Some(text.parse().map_err(|error| format!("{error}"))?);
                Ok(())
            }
            fn show(&self) -> Option<String> {
                self.as_ref().map(ToString::to_string)
            }
        }
    )*};
}

slots!(String, usize, u64, i64, f64, bool, SocketAddr, LogFormat);

impl Slot for Option<PathBuf> {
    fn parse(&mut self, text: &str) -> Result<(), String> {
        *self = Some(PathBuf::from(text));
        Ok(())
    }
    fn show(&self) -> Option<String> {
        self.as_ref().map(|path| path.display().to_string())
    }
}

impl Slot for Option<Value> {
    fn parse(&mut self, text: &str) -> Result<(), String> {
        *self = Some(Value::Text(text.to_owned()));
        Ok(())
    }
    fn show(&self) -> Option<String> {
        self.as_ref().map(|value| value.show(true))
    }
}

/// One setting: its key in the file, its environment variable, and where it lives.
struct Key {
    name: &'static str,
    env: &'static str,
    slot: fn(&mut Config) -> &mut dyn Slot,
}

/// Every setting but the open librdkafka sets and the per-consortium wage floors (which only
/// the file holds: consortium ids do not make portable variable names).
const KEYS: &[Key] = &[
    Key {
        name: "kafka.brokers",
        env: "OUTCOMES_KAFKA_BROKERS",
        slot: |c| &mut c.kafka.brokers,
    },
    Key {
        name: "ingest.lake",
        env: "OUTCOMES_INGEST_LAKE",
        slot: |c| &mut c.ingest.lake,
    },
    Key {
        name: "ingest.group",
        env: "OUTCOMES_INGEST_GROUP",
        slot: |c| &mut c.ingest.group,
    },
    Key {
        name: "ingest.instance_id",
        env: "OUTCOMES_INSTANCE_ID",
        slot: |c| &mut c.ingest.instance_id,
    },
    Key {
        name: "ingest.topics",
        env: "OUTCOMES_INGEST_TOPICS",
        slot: |c| &mut c.ingest.topics,
    },
    Key {
        name: "ingest.batch_messages",
        env: "OUTCOMES_INGEST_BATCH_MESSAGES",
        slot: |c| &mut c.ingest.batch_messages,
    },
    Key {
        name: "ingest.batch_seconds",
        env: "OUTCOMES_INGEST_BATCH_SECONDS",
        slot: |c| &mut c.ingest.batch_seconds,
    },
    Key {
        name: "ingest.buffer_mib",
        env: "OUTCOMES_INGEST_BUFFER_MIB",
        slot: |c| &mut c.ingest.buffer_mib,
    },
    Key {
        name: "ingest.pseudonym_key",
        env: outcomes_schemas::KEY_ENV,
        slot: |c| &mut c.ingest.pseudonym_key,
    },
    Key {
        name: "transform.lake",
        env: "OUTCOMES_TRANSFORM_LAKE",
        slot: |c| &mut c.transform.lake,
    },
    Key {
        name: "transform.out",
        env: "OUTCOMES_TRANSFORM_OUT",
        slot: |c| &mut c.transform.out,
    },
    Key {
        name: "transform.wage_floor",
        env: "OUTCOMES_TRANSFORM_WAGE_FLOOR",
        slot: |c| &mut c.transform.wage_floor,
    },
    Key {
        name: "transform.events_per_part",
        env: "OUTCOMES_TRANSFORM_EVENTS_PER_PART",
        slot: |c| &mut c.transform.events_per_part,
    },
    Key {
        name: "report.tables",
        env: "OUTCOMES_REPORT_TABLES",
        slot: |c| &mut c.report.tables,
    },
    Key {
        name: "report.out",
        env: "OUTCOMES_REPORT_OUT",
        slot: |c| &mut c.report.out,
    },
    Key {
        name: "report.k",
        env: "OUTCOMES_REPORT_K",
        slot: |c| &mut c.report.k,
    },
    Key {
        name: "report.publish_kafka",
        env: "OUTCOMES_REPORT_PUBLISH_KAFKA",
        slot: |c| &mut c.report.publish_kafka,
    },
    Key {
        name: "metrics.address",
        env: "OUTCOMES_METRICS_ADDRESS",
        slot: |c| &mut c.metrics.address,
    },
    Key {
        name: "log.format",
        env: "OUTCOMES_LOG_FORMAT",
        slot: |c| &mut c.log.format,
    },
    Key {
        name: "log.filter",
        env: "OUTCOMES_LOG",
        slot: |c| &mut c.log.filter,
    },
];

/// The librdkafka sets: their table in the file and the prefix of their variables.
const KAFKA_SETS: [(&str, &str); 3] = [
    ("kafka.settings", "OUTCOMES_KAFKA_SETTING_"),
    ("kafka.consumer", "OUTCOMES_KAFKA_CONSUMER_"),
    ("kafka.producer", "OUTCOMES_KAFKA_PRODUCER_"),
];

fn kafka_set<'a>(config: &'a mut Config, table: &str) -> &'a mut BTreeMap<String, Value> {
    match table {
        "kafka.consumer" => &mut config.kafka.consumer,
        "kafka.producer" => &mut config.kafka.producer,
        _ => &mut config.kafka.settings,
    }
}

/// A librdkafka setting's name from its variable's tail: `SASL_PASSWORD` is `sasl.password`
/// (librdkafka's names are lowercase words joined by dots).
fn setting_name(tail: &str) -> String {
    tail.to_ascii_lowercase().replace('_', ".")
}

/// The effective configuration and each value's origin.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The values.
    pub config: Config,
    /// Keys set by something other than the default.
    origins: BTreeMap<String, Origin>,
}

impl Loaded {
    /// The defaults, then `file` if given, then the variables of `env` (the process's
    /// environment in use; a map in tests).
    pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let mut loaded = Loaded {
            config: Config::default(),
            origins: BTreeMap::new(),
        };
        if let Some(path) = file {
            loaded.read_file(path)?;
        }
        loaded.read_env(env)?;
        Ok(loaded)
    }

    fn read_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        // The typed parse names an unknown or mistyped key with its line; the table gives
        // the keys the file sets.
        self.config = toml::from_str(&text)
            .with_context(|| format!("in the configuration file {}", path.display()))?;
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("in the configuration file {}", path.display()))?;
        let mut keys = Vec::new();
        leaf_keys(&table, "", &mut keys);
        for key in keys {
            self.origins.insert(key, Origin::File(path.to_path_buf()));
        }
        Ok(())
    }

    fn read_env(&mut self, env: &BTreeMap<String, String>) -> anyhow::Result<()> {
        for key in KEYS {
            if let Some(text) = env.get(key.env) {
                (key.slot)(&mut self.config).parse(text).map_err(|error| {
                    anyhow::anyhow!("environment variable {}: {error}", key.env)
                })?;
                self.origins
                    .insert(key.name.to_owned(), Origin::Env(key.env.to_owned()));
            }
        }
        for (table, prefix) in KAFKA_SETS {
            for (variable, text) in env.range(prefix.to_owned()..) {
                let Some(tail) = variable.strip_prefix(prefix) else {
                    break;
                };
                let name = setting_name(tail);
                self.origins.insert(
                    format!("{table}.{}", quoted(&name)),
                    Origin::Env(variable.clone()),
                );
                kafka_set(&mut self.config, table).insert(name, Value::Text(text.clone()));
            }
        }
        Ok(())
    }

    /// Sets `key` from `flag` when the flag was given.
    pub fn flag(
        &mut self,
        key: &str,
        flag: &'static str,
        value: Option<impl fmt::Display>,
    ) -> anyhow::Result<()> {
        let Some(value) = value else { return Ok(()) };
        let Some(entry) = KEYS.iter().find(|k| k.name == key) else {
            bail!("no setting {key} for {flag}")
        };
        (entry.slot)(&mut self.config)
            .parse(&value.to_string())
            .map_err(|error| anyhow::anyhow!("{flag}: {error}"))?;
        self.origins.insert(key.to_owned(), Origin::Flag(flag));
        Ok(())
    }

    fn origin(&self, key: &str) -> &Origin {
        self.origins.get(key).unwrap_or(&Origin::Default)
    }

    /// The Kafka clients' settings, with files read. `brokers` is required from here on.
    pub fn kafka_client(&self) -> anyhow::Result<outcomes_ingest::KafkaClient> {
        let kafka = &self.config.kafka;
        let Some(brokers) = &kafka.brokers else {
            bail!(
                "no Kafka brokers: give --brokers, set OUTCOMES_KAFKA_BROKERS or kafka.brokers \
                 in the configuration file"
            )
        };
        let resolve = |table: &str, set: &BTreeMap<String, Value>| {
            set.iter()
                .map(|(name, value)| Ok((name.clone(), value.resolve(&format!("{table}.{name}"))?)))
                .collect::<anyhow::Result<BTreeMap<_, _>>>()
        };
        Ok(outcomes_ingest::KafkaClient {
            brokers: brokers.clone(),
            settings: resolve("kafka.settings", &kafka.settings)?,
            consumer: resolve("kafka.consumer", &kafka.consumer)?,
            producer: resolve("kafka.producer", &kafka.producer)?,
        })
    }

    /// Every setting, its value (secrets masked), where it came from and its variable.
    pub fn show(&self) -> comfy_table::Table {
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::NOTHING);
        table.set_header(["setting", "value", "from", "environment variable"]);
        let mut config = self.config.clone();
        for key in KEYS {
            let value = (key.slot)(&mut config)
                .show()
                .unwrap_or_else(|| "(not set)".to_owned());
            table.add_row([
                key.name.to_owned(),
                value,
                self.origin(key.name).to_string(),
                key.env.to_owned(),
            ]);
        }
        for (set, prefix) in KAFKA_SETS {
            for (name, value) in kafka_set(&mut config, set).iter() {
                let key = format!("{set}.{}", quoted(name));
                let variable = format!("{prefix}{}", name.to_ascii_uppercase().replace('.', "_"));
                table.add_row([
                    key.clone(),
                    value.show(outcomes_ingest::is_secret(name)),
                    self.origin(&key).to_string(),
                    variable,
                ]);
            }
        }
        for (id, consortium) in &config.transform.consortia {
            let key = format!("transform.consortia.{}.wage_floor", quoted(id));
            table.add_row([
                key.clone(),
                consortium.wage_floor.to_string(),
                self.origin(&key).to_string(),
                "(file only)".to_owned(),
            ]);
        }
        table
    }
}

/// A key as TOML writes it: bare, or quoted when it holds anything but `A-Za-z0-9_-`.
fn quoted(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// The dotted keys of a table's values (not of its sub-tables).
fn leaf_keys(table: &toml::Table, prefix: &str, keys: &mut Vec<String>) {
    for (name, value) in table {
        let key = format!("{prefix}{}", quoted(name));
        match value {
            // `{ file = ... }` is one value.
            toml::Value::Table(inner) if !inner.contains_key("file") => {
                leaf_keys(inner, &format!("{key}."), keys);
            }
            _ => keys.push(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn flag_over_environment_over_file_over_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("outcomes.toml");
        std::fs::write(
            &file,
            "[ingest]\ngroup = \"from-file\"\nbatch_messages = 7\nbatch_seconds = 3\n\
             [kafka.settings]\n\"sasl.username\" = \"ingest\"\n",
        )
        .unwrap();
        let vars = env(&[
            ("OUTCOMES_INGEST_BATCH_MESSAGES", "9"),
            ("OUTCOMES_INGEST_BATCH_SECONDS", "4"),
            ("OUTCOMES_KAFKA_SETTING_SASL_MECHANISM", "SCRAM-SHA-512"),
            ("OUTCOMES_PYTHON", "not ours"),
        ]);
        let mut loaded = Loaded::load(Some(&file), &vars).unwrap();
        loaded
            .flag("ingest.batch_messages", "--batch-messages", Some(11))
            .unwrap();
        loaded
            .flag("ingest.group", "--group", None::<String>)
            .unwrap();
        let ingest = &loaded.config.ingest;
        // 11 from the flag beats 9 from the environment and 7 from the file; 4 from the
        // environment beats 3 from the file; the group is the file's; topics the default.
        assert_eq!(ingest.batch_messages, 11);
        assert_eq!(ingest.batch_seconds, 4);
        assert_eq!(ingest.group, "from-file");
        assert_eq!(ingest.topics, outcomes_schemas::DEFAULT_TOPIC_PATTERN);
        assert_eq!(
            loaded.origin("ingest.batch_messages"),
            &Origin::Flag("--batch-messages")
        );
        assert_eq!(
            loaded.origin("ingest.batch_seconds"),
            &Origin::Env("OUTCOMES_INGEST_BATCH_SECONDS".into())
        );
        assert_eq!(loaded.origin("ingest.group"), &Origin::File(file.clone()));
        assert_eq!(loaded.origin("ingest.topics"), &Origin::Default);
        let settings = &loaded.config.kafka.settings;
        assert_eq!(
            settings["sasl.mechanism"].resolve("x").unwrap(),
            "SCRAM-SHA-512"
        );
        assert_eq!(settings["sasl.username"].resolve("x").unwrap(), "ingest");
        assert_eq!(
            loaded.origin("kafka.settings.\"sasl.username\""),
            &Origin::File(file)
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("outcomes.toml");
        std::fs::write(&file, "[ingest]\nbach_messages = 5\n").unwrap();
        let error = Loaded::load(Some(&file), &BTreeMap::new()).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("bach_messages"), "{message}");
        assert!(message.contains(&file.display().to_string()), "{message}");
    }

    #[test]
    fn a_mistyped_variable_is_named() {
        let vars = env(&[("OUTCOMES_REPORT_K", "eleven")]);
        let message = format!("{:#}", Loaded::load(None, &vars).unwrap_err());
        assert!(message.contains("OUTCOMES_REPORT_K"), "{message}");
    }

    #[test]
    fn secrets_are_read_from_files_and_masked_when_shown() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("kafka-password");
        std::fs::write(&secret, "hunter2\n").unwrap();
        let file = dir.path().join("outcomes.toml");
        std::fs::write(
            &file,
            format!(
                "[kafka]\nbrokers = \"b:9093\"\n[kafka.settings]\n\"sasl.password\" = {{ file = {:?} }}\n",
                secret.display().to_string()
            ),
        )
        .unwrap();
        let vars = env(&[(outcomes_schemas::KEY_ENV, "a long random key")]);
        let loaded = Loaded::load(Some(&file), &vars).unwrap();
        let client = loaded.kafka_client().unwrap();
        assert_eq!(client.settings["sasl.password"], "hunter2");
        let shown = loaded.show().to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("a long random key"), "{shown}");
        assert!(shown.contains("kafka-password"), "{shown}");
    }

    #[test]
    fn librdkafka_names_come_back_from_variable_names() {
        assert_eq!(setting_name("SASL_PASSWORD"), "sasl.password");
        assert_eq!(
            setting_name("SSL_ENDPOINT_IDENTIFICATION_ALGORITHM"),
            "ssl.endpoint.identification.algorithm"
        );
    }
}
