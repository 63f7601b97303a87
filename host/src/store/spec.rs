//! Which store a command opens: an SQLite file (`--db`) or a PostgreSQL database
//! (`--store postgres://...`, `[store] url`), and how its address is shown.

use std::fmt;
use std::path::{Path, PathBuf};

pub use crate::plan::PostgresSpec;

/// The store to open.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// An embedded SQLite file, created if needed.
    Sqlite(PathBuf),
    /// A PostgreSQL database several runners can share.
    Postgres(PostgresSpec),
}

impl StoreSpec {
    /// The store as a person reads it: the file's path, or the URL with its password hidden.
    pub fn shown(&self) -> String {
        match self {
            StoreSpec::Sqlite(path) => path.display().to_string(),
            StoreSpec::Postgres(spec) => spec.shown().to_owned(),
        }
    }
}

impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl From<&Path> for StoreSpec {
    fn from(path: &Path) -> StoreSpec {
        StoreSpec::Sqlite(path.to_owned())
    }
}

impl From<PathBuf> for StoreSpec {
    fn from(path: PathBuf) -> StoreSpec {
        StoreSpec::Sqlite(path)
    }
}

impl From<&PathBuf> for StoreSpec {
    fn from(path: &PathBuf) -> StoreSpec {
        StoreSpec::Sqlite(path.clone())
    }
}

impl From<&StoreSpec> for StoreSpec {
    fn from(spec: &StoreSpec) -> StoreSpec {
        spec.clone()
    }
}
