//! Where a shared store lives: a PostgreSQL URL (`--store`, `[store] url`), checked when
//! the configuration is read and shown with its password hidden.

use std::fmt;

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
        PostgresSpec::parse_written(url, url)
    }

    /// Parses `url`, the URL with its `${env:…}` references expanded, shown as `written`
    /// (references kept, password hidden), so that no value from the environment is ever
    /// shown. Errors show the URL as written, with its password hidden.
    pub fn parse_written(written: &str, url: &str) -> Result<PostgresSpec, String> {
        let shown = match url::Url::parse(written) {
            Ok(w) => hide_password(w),
            Err(_) => "the store URL".to_owned(),
        };
        let parsed =
            url::Url::parse(url).map_err(|e| format!("not a URL ({e}); write postgres://USER@HOST/DATABASE"))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "the URL's scheme is `{}`, not `postgres` (write postgres://USER@HOST/DATABASE)",
                parsed.scheme()
            ));
        }
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

/// `url` as text, its password (if any) replaced by `***`.
fn hide_password(mut url: url::Url) -> String {
    if url.password().is_some() {
        // Cannot fail: the URL has a host, or it would have no password.
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
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
    }

    #[test]
    fn a_url_from_the_environment_is_shown_as_written() {
        let spec =
            PostgresSpec::parse_written("postgres://vitals:${env:PW}@db/vitals", "postgres://vitals:pw@db/vitals")
                .unwrap();
        assert_eq!(spec.url(), "postgres://vitals:pw@db/vitals");
        assert!(!spec.shown().contains("pw@"), "{}", spec.shown());
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
