//! The `http` plugin's configuration keys, declared once: `describe` announces them and
//! `run` and `validate` parse them, from this one struct.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::time::Duration;

use regex::Regex;
use vitals_sdk::serde_json::Value;
use vitals_sdk::{Config, ConfigType, ConfigValue, StatusCodes, Thresholds};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// HTTP method of the request.
    #[config(default = "GET", check = http_token)]
    pub method: String,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Request body to send.
    pub body: Option<String>,
    /// Accepted status codes: comma-separated codes and ranges, e.g. "200,204,300-399".
    #[config(default = "200-399")]
    pub expect_status: StatusCodes,
    /// Text the response body must contain.
    pub body_contains: Option<String>,
    /// Regular expression the response body must match.
    pub body_regex: Option<BodyRegex>,
    /// Response headers (names case-insensitive) that must have exactly these values.
    pub header_equals: BTreeMap<String, String>,
    /// Warn when the whole exchange takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole exchange takes longer than this.
    pub crit_time: Option<Duration>,
    /// How many redirects to follow (0 checks the redirect response itself).
    #[config(default = 5)]
    pub max_redirects: u8,
    /// Verify the server's certificate and name.
    #[config(default = true)]
    pub tls_verify: bool,
    /// How many bytes of the body to keep for body_contains and body_regex.
    #[config(default = 1_048_576)]
    pub max_body: u32,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds (`"500"` alerts above
    /// 500 ms, as check_http writes them).
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }
}

/// A method is an HTTP token (`GET`, `PROPFIND`, …).
fn http_token(method: &str) -> Result<(), String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if method.is_empty() || !method.chars().all(token) {
        return Err(format!("invalid HTTP method {method:?}"));
    }
    Ok(())
}

/// `body_regex`: a regular expression that compiled.
#[derive(Debug, Clone)]
pub struct BodyRegex(Regex);

impl Deref for BodyRegex {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        &self.0
    }
}

/// A string that compiles as a regular expression, with the one-line reason when it
/// does not.
impl ConfigValue for BodyRegex {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<BodyRegex, String> {
        let pattern = String::from_json(value)?;
        Regex::new(&pattern).map(BodyRegex).map_err(|err| {
            let text = err.to_string();
            let why = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("invalid pattern");
            let why = why.trim().trim_start_matches("error: ");
            format!("invalid regex {pattern:?}: {why}")
        })
    }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::{CheckResult, PluginConfig, Reason, Status};

    use super::*;

    fn parse(json: &str) -> Result<Config, String> {
        Config::parse(json).map_err(|error| {
            let result = CheckResult::from(error);
            assert_eq!(result.status, Status::Unknown);
            assert_eq!(result.reason, Some(Reason::PluginError));
            result.summary
        })
    }

    #[test]
    fn defaults_match_describe() {
        assert_eq!(Config::check_defaults(), []);
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
