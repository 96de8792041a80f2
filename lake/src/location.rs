//! Where a lake lives: a local (or mounted) folder, or an S3 URL (`crate::storage`).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{LakeError, Table};

/// A lake's root: a folder path, or a URL such as `s3://bucket/lake`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A folder on a local or mounted file system.
    Local(PathBuf),
    /// An S3 URL (`s3://bucket/prefix`, or `s3a://`), without a trailing slash.
    Url(String),
}

impl Location {
    /// The location of one of the lake's tables, as delta-rs takes it.
    pub(crate) fn table_uri(&self, table: Table) -> String {
        match self {
            Location::Local(root) => root.join(table.name()).to_string_lossy().into_owned(),
            Location::Url(root) => format!("{root}/{}", table.name()),
        }
    }
}

impl FromStr for Location {
    type Err = LakeError;

    /// `s3://` and `s3a://` URLs are URLs, `file://` URLs become paths, other schemes are
    /// refused; the rest is a path.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || LakeError::Location {
            location: text.to_owned(),
        };
        match text.split_once("://") {
            None if text.is_empty() => Err(invalid()),
            None => Ok(Location::Local(PathBuf::from(text))),
            Some(("file", path)) if !path.is_empty() => Ok(Location::Local(PathBuf::from(path))),
            Some(("s3" | "s3a", rest)) if !rest.trim_matches('/').is_empty() => {
                Ok(Location::Url(text.trim_end_matches('/').to_owned()))
            }
            Some(_) => Err(invalid()),
        }
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Location::Local(path)
    }
}

impl From<&std::path::Path> for Location {
    fn from(path: &std::path::Path) -> Self {
        Location::Local(path.to_path_buf())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(root) => write!(f, "{}", root.display()),
            Location::Url(root) => f.write_str(root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_are_told_apart() {
        let local: Location = "lake".parse().unwrap();
        assert_eq!(local.table_uri(Table::Events), "lake/events");
        let file: Location = "file:///srv/lake".parse().unwrap();
        assert_eq!(file, Location::Local("/srv/lake".into()));
        let s3: Location = "s3://bucket/lake/".parse().unwrap();
        assert_eq!(s3.table_uri(Table::Rejected), "s3://bucket/lake/rejected");
        assert!("".parse::<Location>().is_err());
        assert!("s3://".parse::<Location>().is_err());
        assert!("gs://bucket/lake".parse::<Location>().is_err());
    }
}
