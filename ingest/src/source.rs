//! Where messages come from, and how a position in a source is named in the lake.

use std::fmt;

use outcomes_schemas::ConsortiumId;

/// One ordered stream of messages: a Kafka partition, or an NDJSON file of a consortium.
///
/// Positions (offsets, line numbers) are only comparable within one source, and the lake keeps
/// a watermark per source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceId {
    /// A Kafka topic partition.
    Kafka {
        /// Topic name.
        topic: String,
        /// Partition number.
        partition: i32,
    },
    /// An NDJSON file, identified by its file name within its consortium.
    File {
        /// The file name, without folders: the same name dropped again is the same source.
        name: String,
    },
}

impl SourceId {
    /// The name used in lake file names: `kafka.<topic>.<partition>` or `file.<name>`, with
    /// characters outside `[A-Za-z0-9._-]` percent-encoded.
    pub fn file_stem(&self) -> String {
        match self {
            SourceId::Kafka { topic, partition } => {
                format!("kafka.{}.{partition}", percent_encode(topic))
            }
            SourceId::File { name } => format!("file.{}", percent_encode(name)),
        }
    }

    /// Reads back a name written by [`SourceId::file_stem`].
    pub fn from_file_stem(stem: &str) -> Option<Self> {
        if let Some(rest) = stem.strip_prefix("kafka.") {
            let (topic, partition) = rest.rsplit_once('.')?;
            Some(SourceId::Kafka {
                topic: percent_decode(topic)?,
                partition: partition.parse().ok()?,
            })
        } else {
            let name = percent_decode(stem.strip_prefix("file.")?)?;
            Some(SourceId::File { name })
        }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::Kafka { topic, partition } => write!(f, "{topic}[{partition}]"),
            SourceId::File { name } => write!(f, "file {name}"),
        }
    }
}

/// A source together with the consortium its messages belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stream {
    /// The consortium named by the topic, or given for the file.
    pub consortium: ConsortiumId,
    /// The source.
    pub source: SourceId,
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_round_trip() {
        let sources = [
            SourceId::Kafka {
                topic: "outcomes.north-shore.intake".into(),
                partition: 7,
            },
            SourceId::File {
                name: "2026-11 intake+exits.ndjson".into(),
            },
            SourceId::File {
                name: "é+%.json".into(),
            },
        ];
        for source in sources {
            let stem = source.file_stem();
            assert!(!stem.contains('+') && !stem.contains('/'), "{stem}");
            assert_eq!(SourceId::from_file_stem(&stem), Some(source));
        }
    }
}
