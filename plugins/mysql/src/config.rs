//! The `mysql` plugin's configuration keys, declared once, and the parsing of its target.

use std::time::Duration;

use vitals_sdk::{Config, Range, Thresholds};

/// Longest `query` accepted: one packet, and far more than a health query needs.
const MAX_QUERY: usize = 64 * 1024;

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// User to log in as.
    #[config(default = "root", check = name_like)]
    pub user: String,
    /// The user's password (a secret: write it as "${env:NAME}"); left out, an empty password is sent.
    pub password: Option<String>,
    /// Database to select at login; the login fails when it does not exist or the user may not use it.
    #[config(check = name_like)]
    pub database: Option<String>,
    /// One read-only SQL statement to run instead of SELECT 1 (the session is set to READ ONLY first).
    #[config(check = statement)]
    pub query: Option<String>,
    /// Text the first column of the first row of the query's result must equal.
    pub expect: Option<String>,
    /// Ask the server for TLS before logging in (SSLRequest), and fail when it does not offer it.
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when tls is on.
    #[config(default = true)]
    pub tls_verify: bool,
    /// Warn when the whole check (connect, login, query) takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole check (connect, login, query) takes longer than this.
    pub crit_time: Option<Duration>,
    /// Warn when Threads_connected is outside this range, e.g. "~:150" (queried only when a connections threshold is set).
    pub connections_warn: Option<Range>,
    /// Critical when Threads_connected is outside this range, e.g. "~:190".
    pub connections_crit: Option<Range>,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }

    /// `connections_warn` and `connections_crit`.
    pub fn connection_thresholds(&self) -> Thresholds {
        Thresholds { warn: self.connections_warn, crit: self.connections_crit }
    }

    /// Whether Threads_connected is to be queried.
    pub fn wants_connections(&self) -> bool {
        self.connections_warn.is_some() || self.connections_crit.is_some()
    }
}

/// A user or database name: sent NUL-terminated, so neither empty nor holding a NUL.
fn name_like(text: &str) -> Result<(), String> {
    if text.is_empty() {
        Err("must not be empty".to_string())
    } else if text.contains('\0') {
        Err("must not contain a NUL character".to_string())
    } else {
        Ok(())
    }
}

/// A query: not blank, and small enough for one packet.
fn statement(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        Err("must not be empty".to_string())
    } else if text.len() > MAX_QUERY {
        Err(format!("is longer than {} bytes", MAX_QUERY))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    #[test]
    fn config_defaults_and_errors() {
        assert_eq!(Config::check_defaults(), []);
        let config = match Config::parse("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.user, "root");
        assert!(!config.tls && config.tls_verify && !config.wants_connections());
        assert_eq!((config.password, config.database, config.query, config.expect), (None, None, None, None));
        for (json, key) in [
            (r#"{"user": ""}"#, "user"),
            (r#"{"user": "a\u0000b"}"#, "user"),
            (r#"{"database": ""}"#, "database"),
            (r#"{"query": "  "}"#, "query"),
            (r#"{"connections_warn": "10:5"}"#, "connections_warn"),
            (r#"{"warn_time": "soon"}"#, "warn_time"),
        ] {
            match Config::parse(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(error) => {
                    let summary = vitals_sdk::CheckResult::from(error).summary;
                    assert!(summary.starts_with(&format!("invalid config: {key}: ")), "{summary}")
                }
            }
        }
        let long = format!(r#"{{"query": "SELECT '{}'"}}"#, "x".repeat(MAX_QUERY));
        assert!(Config::parse(&long).is_err());
        let config = match Config::parse(r#"{"connections_crit": "~:100"}"#) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert!(config.wants_connections());
    }
}
