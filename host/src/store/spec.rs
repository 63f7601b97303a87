//! Which store a command opens: an SQLite file (`--db`) or a PostgreSQL database
//! (`--store postgres://...`, `[store] url`), and how its address is shown.

use std::fmt;
use std::path::{Path, PathBuf};

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

/// A PostgreSQL connection URL (`postgres://user:password@host:port/database?options`),
/// checked when it is parsed. The password, if any, is only in [`PostgresSpec::url`]: every
/// message shows [`PostgresSpec::shown`].
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresSpec {
    url: String,
    shown: String,
}

impl PostgresSpec {
    /// Parses `url`. It must be a `postgres://` or `postgresql://` URL naming a host and a
    /// database that the PostgreSQL client accepts; the error says what is wrong without
    /// repeating the password.
    pub fn parse(url: &str) -> Result<PostgresSpec, String> {
        let parsed =
            url::Url::parse(url).map_err(|e| format!("not a URL ({e}); write postgres://USER@HOST/DATABASE"))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "the URL's scheme is `{}`, not `postgres` (write postgres://USER@HOST/DATABASE)",
                parsed.scheme()
            ));
        }
        let mut hidden = parsed.clone();
        if parsed.password().is_some() {
            // Cannot fail: the URL has a host, or it would have no password.
            let _ = hidden.set_password(Some("***"));
        }
        let shown = hidden.to_string();
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(format!("{shown} names no host (write postgres://USER@HOST/DATABASE)"));
        }
        if parsed.path().trim_start_matches('/').is_empty() {
            return Err(format!("{shown} names no database (write postgres://USER@HOST/DATABASE)"));
        }
        url.parse::<postgres::Config>().map_err(|e| format!("{shown}: {e}"))?;
        Ok(PostgresSpec { url: url.to_owned(), shown })
    }

    /// The URL as given, password included: only for connecting.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with its password hidden (`***`).
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl fmt::Debug for PostgresSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_its_password() {
        let spec = PostgresSpec::parse("postgres://vitals:s3cret@db.example:5433/vitals?sslmode=disable").unwrap();
        assert_eq!(spec.shown(), "postgres://vitals:***@db.example:5433/vitals?sslmode=disable");
        assert!(spec.url().contains("s3cret"));
        assert!(!format!("{spec:?}").contains("s3cret"));
        assert!(!format!("{:?}", StoreSpec::Postgres(spec)).contains("s3cret"));
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_the_password() {
        for (url, says) in [
            ("mysql://u:pw@h/db", "scheme is `mysql`"),
            ("postgres://u:pw@h/", "names no database"),
            ("postgres://u:pw@h:99999/db", "not a URL"),
            ("nothing", "not a URL"),
        ] {
            let e = PostgresSpec::parse(url).unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
            assert!(!e.contains("pw"), "{url}: {e}");
        }
    }
}
