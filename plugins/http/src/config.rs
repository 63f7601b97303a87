//! The `http` plugin's configuration keys: their description and their parsing.

use std::collections::BTreeMap;
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Deserializer};
use vitals_sdk::{ConfigKey, ConfigType, StatusCodes, Thresholds, config_key, de};

/// The default of `expect_status`.
pub const DEFAULT_EXPECT_STATUS: (u16, u16) = (200, 399);
/// The default of `max_redirects`.
pub const DEFAULT_MAX_REDIRECTS: u8 = 5;
/// The default of `max_body`.
pub const DEFAULT_MAX_BODY: u32 = 1_048_576;

/// The keys `describe` announces, in the order they are documented.
pub fn keys() -> Vec<ConfigKey> {
    vec![
        config_key("method", ConfigType::String, "HTTP method of the request.").with_default("\"GET\""),
        config_key("headers", ConfigType::StringMap, "Extra request headers."),
        config_key("body", ConfigType::String, "Request body to send."),
        config_key(
            "expect_status",
            ConfigType::String,
            "Accepted status codes: comma-separated codes and ranges, e.g. \"200,204,300-399\".",
        )
        .with_default("\"200-399\""),
        config_key("body_contains", ConfigType::String, "Text the response body must contain."),
        config_key("body_regex", ConfigType::String, "Regular expression the response body must match."),
        config_key(
            "header_equals",
            ConfigType::StringMap,
            "Response headers (names case-insensitive) that must have exactly these values.",
        ),
        config_key("warn_time", ConfigType::Duration, "Warn when the whole exchange takes longer than this."),
        config_key("crit_time", ConfigType::Duration, "Critical when the whole exchange takes longer than this."),
        config_key(
            "max_redirects",
            ConfigType::Integer,
            "How many redirects to follow (0 checks the redirect response itself).",
        )
        .with_default(DEFAULT_MAX_REDIRECTS.to_string()),
        config_key("tls_verify", ConfigType::Boolean, "Verify the server's certificate and name.").with_default("true"),
        config_key(
            "max_body",
            ConfigType::Integer,
            "How many bytes of the body to keep for body_contains and body_regex.",
        )
        .with_default(DEFAULT_MAX_BODY.to_string()),
    ]
}

/// The parsed `[check.config]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP method.
    #[serde(default = "default_method", deserialize_with = "method")]
    pub method: String,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body.
    #[serde(default)]
    pub body: Option<String>,
    /// Accepted status codes.
    #[serde(default = "default_expect_status")]
    pub expect_status: StatusCodes,
    /// Text the body must contain.
    #[serde(default)]
    pub body_contains: Option<String>,
    /// Pattern the body must match.
    #[serde(default, deserialize_with = "opt_regex")]
    pub body_regex: Option<Regex>,
    /// Expected response header values, by header name.
    #[serde(default)]
    pub header_equals: BTreeMap<String, String>,
    /// Warning threshold on the total time.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub warn_time: Option<Duration>,
    /// Critical threshold on the total time.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub crit_time: Option<Duration>,
    /// Redirects to follow.
    #[serde(default = "default_max_redirects")]
    pub max_redirects: u8,
    /// Whether to verify certificates.
    #[serde(default = "default_true")]
    pub tls_verify: bool,
    /// Body bytes to keep for matching.
    #[serde(default = "default_max_body")]
    pub max_body: u32,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds (`"500"` alerts above
    /// 500 ms, as check_http writes them).
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }
}

fn default_method() -> String {
    "GET".to_string()
}

fn default_expect_status() -> StatusCodes {
    StatusCodes::range(DEFAULT_EXPECT_STATUS.0, DEFAULT_EXPECT_STATUS.1)
}

fn default_max_redirects() -> u8 {
    DEFAULT_MAX_REDIRECTS
}

fn default_true() -> bool {
    true
}

fn default_max_body() -> u32 {
    DEFAULT_MAX_BODY
}

/// A method is an HTTP token (`GET`, `PROPFIND`, …).
fn method<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let method = String::deserialize(deserializer)?;
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if method.is_empty() || !method.chars().all(token) {
        return Err(serde::de::Error::custom(format!("invalid HTTP method {method:?}")));
    }
    Ok(method)
}

/// A regular expression, with the one-line reason when it does not compile.
fn opt_regex<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Regex>, D::Error> {
    let Some(pattern) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    Regex::new(&pattern).map(Some).map_err(|err| {
        let text = err.to_string();
        let why = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("invalid pattern");
        let why = why.trim().trim_start_matches("error: ");
        serde::de::Error::custom(format!("invalid regex {pattern:?}: {why}"))
    })
}

#[cfg(test)]
mod tests {
    use vitals_sdk::{Reason, Status, parse_config};

    use super::*;

    fn parse(json: &str) -> Result<Config, String> {
        parse_config::<Config>(json).map_err(|result| {
            assert_eq!(result.status, Status::Unknown);
            assert_eq!(result.reason, Some(Reason::PluginError));
            result.summary
        })
    }

    #[test]
    fn defaults_match_describe() {
        let config = match parse("{}") {
            Ok(config) => config,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(config.method, "GET");
        assert_eq!(config.expect_status.to_string(), "200-399");
        assert_eq!(config.max_redirects, 5);
        assert!(config.tls_verify);
        assert_eq!(config.max_body, 1_048_576);
        assert_eq!(config.time_thresholds(), Thresholds::default());
    }

    #[test]
    fn bad_values_name_the_key() {
        for (json, key) in [
            (r#"{"body_regex": "(abc"}"#, "body_regex"),
            (r#"{"expect_status": "2xx"}"#, "expect_status"),
            (r#"{"warn_time": "fast"}"#, "warn_time"),
            (r#"{"method": "GET /"}"#, "method"),
            (r#"{"max_redirects": 1000}"#, "max_redirects"),
        ] {
            match parse(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(summary) => {
                    assert!(summary.starts_with(&format!("invalid config: {key}: ")), "{summary}");
                    assert!(!summary.contains('\n'), "{summary}");
                }
            }
        }
    }

    #[test]
    fn time_thresholds_in_ms() {
        let config = match parse(r#"{"warn_time": "500ms", "crit_time": "1.5s"}"#) {
            Ok(config) => config,
            Err(e) => panic!("{e}"),
        };
        let thresholds = config.time_thresholds();
        assert_eq!(thresholds.warn.map(|r| r.to_string()).as_deref(), Some("500"));
        assert_eq!(thresholds.crit.map(|r| r.to_string()).as_deref(), Some("1500"));
        assert_eq!(thresholds.evaluate(499.0), Status::Ok);
        assert_eq!(thresholds.evaluate(501.0), Status::Warning);
        assert_eq!(thresholds.evaluate(1500.1), Status::Critical);
    }
}
