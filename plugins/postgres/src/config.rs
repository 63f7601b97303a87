//! The `postgres` plugin's configuration keys, declared once, and the parsing of its target.

use std::time::Duration;

use vitals_sdk::serde_json::Value;
use vitals_sdk::{Config, ConfigType, ConfigValue, Range, Thresholds};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// The role to log in as.
    #[config(default = "postgres", check = valid_name)]
    pub user: String,
    /// The role's password, used when the server asks for one (cleartext, MD5 or SCRAM-SHA-256); write it as "${env:PG_PASSWORD}".
    #[config(check = no_nul)]
    pub password: Option<String>,
    /// The database to connect to; left out, the one named as the user (as psql does).
    #[config(check = valid_name)]
    pub database: Option<String>,
    /// The SQL to run, in a session whose transactions are read-only (default_transaction_read_only = on).
    #[config(default = "SELECT 1", check = valid_query)]
    pub query: String,
    /// Text the first column of the first row of the query's result must equal exactly.
    #[config(check = no_nul)]
    pub expect: Option<String>,
    /// "disable" (plain TCP), "prefer" (TLS when the server offers it, its certificate not verified, as libpq's sslmode=prefer) or "require" (TLS or critical, verified unless tls_verify = false).
    #[config(default = "prefer")]
    pub tls: TlsMode,
    /// Verify the server's certificate and name when tls = "require".
    #[config(default = true)]
    pub tls_verify: bool,
    /// Warn when the whole check (connect, TLS, login, queries) takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole check (connect, TLS, login, queries) takes longer than this.
    pub crit_time: Option<Duration>,
    /// Warn when the number of client connections (pg_stat_activity) is outside this range, e.g. "80" or "~:80".
    pub connections_warn: Option<Range>,
    /// Critical when the number of client connections (pg_stat_activity) is outside this range, e.g. "95".
    pub connections_crit: Option<Range>,
    /// Warn when the replication lag is longer than this (a standby's replay delay, or a primary's largest replay_lag).
    pub replication_lag_warn: Option<Duration>,
    /// Critical when the replication lag is longer than this (a standby's replay delay, or a primary's largest replay_lag).
    pub replication_lag_crit: Option<Duration>,
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

    /// `replication_lag_warn` and `replication_lag_crit` as upper limits in seconds.
    pub fn lag_thresholds(&self) -> Thresholds {
        let upper = |d: Option<Duration>| d.map(|d| Range { start: 0.0, end: d.as_secs_f64(), inside: false });
        Thresholds { warn: upper(self.replication_lag_warn), crit: upper(self.replication_lag_crit) }
    }

    /// Whether the number of connections is to be measured.
    pub fn wants_connections(&self) -> bool {
        self.connections_warn.is_some() || self.connections_crit.is_some()
    }

    /// Whether the replication lag is to be measured.
    pub fn wants_replication(&self) -> bool {
        self.replication_lag_warn.is_some() || self.replication_lag_crit.is_some()
    }

    /// The database to connect to.
    pub fn database(&self) -> &str {
        self.database.as_deref().unwrap_or(&self.user)
    }
}

/// `tls`: whether to ask the server for TLS (an SSLRequest) before logging in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP, no SSLRequest.
    Disable,
    /// TLS when the server accepts the SSLRequest, without verifying its certificate;
    /// plain TCP when it declines.
    Prefer,
    /// TLS, verified unless `tls_verify = false`; a server that declines is critical.
    Require,
}

impl ConfigValue for TlsMode {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<TlsMode, String> {
        match String::from_json(value)?.as_str() {
            "disable" => Ok(TlsMode::Disable),
            "prefer" => Ok(TlsMode::Prefer),
            "require" => Ok(TlsMode::Require),
            other => Err(format!("{other:?} is not one of \"disable\", \"prefer\", \"require\"")),
        }
    }
}

/// A role or database name: not empty, and without the NUL byte that ends a string on the wire.
fn valid_name(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".to_string());
    }
    no_nul(text)
}

/// The query: something to run, without a NUL byte.
fn valid_query(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty (the default is \"SELECT 1\")".to_string());
    }
    no_nul(text)
}

/// Texts sent as NUL-terminated strings cannot hold a NUL.
fn no_nul(text: &str) -> Result<(), String> {
    if text.contains('\0') { Err("must not contain a NUL character".to_string()) } else { Ok(()) }
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
        assert_eq!(
            (config.user.as_str(), config.database(), config.query.as_str()),
            ("postgres", "postgres", "SELECT 1")
        );
        assert_eq!(config.tls, TlsMode::Prefer);
        assert!(config.tls_verify && !config.wants_connections() && !config.wants_replication());
        for (json, key) in [
            (r#"{"tls": "verify-full"}"#, "tls"),
            (r#"{"user": ""}"#, "user"),
            (r#"{"database": "a\u0000b"}"#, "database"),
            (r#"{"query": "  "}"#, "query"),
            (r#"{"password": "x\u0000"}"#, "password"),
            (r#"{"connections_warn": "10:5"}"#, "connections_warn"),
            (r#"{"replication_lag_crit": "soon"}"#, "replication_lag_crit"),
        ] {
            match Config::parse(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(error) => {
                    let summary = vitals_sdk::CheckResult::from(error).summary;
                    assert!(summary.starts_with(&format!("invalid config: {key}: ")), "{summary}")
                }
            }
        }
    }

    #[test]
    fn thresholds_in_their_units() {
        let config = match Config::parse(
            r#"{"database": "app", "connections_warn": 80, "replication_lag_warn": "1500ms", "replication_lag_crit": "1m"}"#,
        ) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.database(), "app");
        assert!(config.wants_connections() && config.wants_replication());
        assert_eq!(config.connection_thresholds().warn.map(|r| r.to_string()).as_deref(), Some("80"));
        let lag = config.lag_thresholds();
        assert_eq!(
            (lag.warn.map(|r| r.to_string()), lag.crit.map(|r| r.to_string())),
            (Some("1.5".into()), Some("60".into()))
        );
    }
}
