//! Sources and how far each table holds them.

use outcomes_schemas::ConsortiumId;
use outcomes_schemas::lake::SourceId;

use crate::Table;

/// A source together with the consortium its messages belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stream {
    /// The consortium named by the topic, or given for the file.
    pub consortium: ConsortiumId,
    /// The source.
    pub source: SourceId,
}

impl Stream {
    /// The source's application id in the tables' `txn` actions: `kafka:<topic>:<partition>`
    /// (the topic names the consortium) or `file:<consortium>/<file name>` (a file name is
    /// only unique within its consortium).
    pub fn app_id(&self) -> String {
        match &self.source {
            SourceId::Kafka { topic, partition } => format!("kafka:{topic}:{partition}"),
            SourceId::File { name } => format!("file:{}/{name}", self.consortium),
        }
    }
}

/// The last position of one source each table holds (`None`: nothing of it yet).
///
/// The two can differ only after a crash between a batch's two commits (rejections first):
/// then `rejected` is ahead, and the positions between are read again with each table
/// dropping what it already holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Positions {
    /// Last position held by the `events` table.
    pub events: Option<i64>,
    /// Last position held by the `rejected` table.
    pub rejected: Option<i64>,
}

impl Positions {
    /// The position both tables hold: a source resumes after it.
    pub fn both(&self) -> Option<i64> {
        self.events.min(self.rejected)
    }

    /// The last position `table` holds.
    pub fn of(&self, table: Table) -> Option<i64> {
        match table {
            Table::Events => self.events,
            Table::Rejected => self.rejected,
        }
    }

    /// Whether `table` already holds `position`: a message there is dropped for that table.
    pub fn holds(&self, table: Table, position: i64) -> bool {
        self.of(table).is_some_and(|last| position <= last)
    }

    /// The positions after a batch ending at `last` is committed to both tables (a table
    /// already past `last` keeps its own).
    pub(crate) fn after(&self, last: i64) -> Positions {
        Positions {
            events: Some(self.events.map_or(last, |held| held.max(last))),
            rejected: Some(self.rejected.map_or(last, |held| held.max(last))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_ahead_keeps_its_rows_and_its_position() {
        // A crash after the rejected commit of a batch ending at 100, before its events commit.
        let held = Positions {
            events: Some(50),
            rejected: Some(100),
        };
        assert_eq!(held.both(), Some(50));
        assert!(held.holds(Table::Rejected, 80) && !held.holds(Table::Events, 80));
        assert_eq!(
            held.after(80),
            Positions {
                events: Some(80),
                rejected: Some(100)
            }
        );
        assert_eq!(Positions::default().both(), None);
        assert_eq!(
            Positions {
                events: Some(3),
                rejected: None
            }
            .both(),
            None
        );
    }

    #[test]
    fn app_ids_name_the_source() {
        let consortium = ConsortiumId::new("north-shore").unwrap();
        let kafka = Stream {
            consortium: consortium.clone(),
            source: SourceId::Kafka {
                topic: "outcomes.north-shore.wage".into(),
                partition: 3,
            },
        };
        assert_eq!(kafka.app_id(), "kafka:outcomes.north-shore.wage:3");
        let file = Stream {
            consortium,
            source: SourceId::File {
                name: "2026-11.ndjson".into(),
            },
        };
        assert_eq!(file.app_id(), "file:north-shore/2026-11.ndjson");
    }
}
