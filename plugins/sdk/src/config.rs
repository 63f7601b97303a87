//! Reading a check's `[check.config]` table, which the host passes as a JSON object.

use serde::de::DeserializeOwned;

use crate::{CheckResult, Reason, unknown};

/// Deserializes the check's config JSON into `T`.
///
/// The host has validated keys and types against `describe`, but a plugin must not rely
/// on it: on any error this returns an `unknown` result with reason `plugin-error` whose
/// summary names the offending key, e.g.
/// `invalid config: body_regex: regex parse error: unclosed group`.
///
/// Use `#[serde(deny_unknown_fields)]` on `T` and the helpers in [`de`] for durations.
/// A new plugin had better derive [`Config`](derive@crate::Config): it declares the
/// `describe` keys with the parsing, and reports every problem, not the first.
///
/// ```
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Config {
///     #[serde(default)]
///     count: u8,
/// }
///
/// let config = vitals_sdk::parse_config::<Config>(r#"{"count": 3}"#).map_err(|r| r.summary)?;
/// assert_eq!(config.count, 3);
/// let result = vitals_sdk::parse_config::<Config>(r#"{"count": 300}"#).err().ok_or("accepted")?;
/// assert!(result.summary.starts_with("invalid config: count: "));
/// # Ok::<(), String>(())
/// ```
pub fn parse_config<T: DeserializeOwned>(json: &str) -> Result<T, CheckResult> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    let table: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).map_err(|err| {
        let message = strip_position(&err.to_string());
        unknown(format!("invalid config: not a JSON object: {message}"), Reason::PluginError)
    })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(table)).map_err(|err| {
        let path = err.path().to_string();
        let message = strip_position(&err.inner().to_string());
        let summary = if path == "." || path.is_empty() {
            format!("invalid config: {message}")
        } else {
            format!("invalid config: {path}: {message}")
        };
        unknown(summary, Reason::PluginError)
    })
}

/// Drops serde_json's `" at line 1 column 17"` suffix, which means nothing to a person
/// who wrote TOML.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_string(),
        _ => message.to_string(),
    }
}

/// `deserialize_with` helpers for config values written as strings.
///
/// ```
/// use std::time::Duration;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Config {
///     #[serde(deserialize_with = "vitals_sdk::de::duration")]
///     timeout: Duration,
/// }
///
/// let config = vitals_sdk::parse_config::<Config>(r#"{"timeout": "1.5s"}"#).map_err(|r| r.summary)?;
/// assert_eq!(config.timeout, Duration::from_millis(1500));
/// # Ok::<(), String>(())
/// ```
pub mod de {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    use crate::parse_duration;

    /// A duration such as `"250ms"` (see [`crate::parse_duration`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// #[derive(serde::Deserialize)]
    /// struct Config {
    ///     #[serde(deserialize_with = "vitals_sdk::de::duration")]
    ///     wait: Duration,
    /// }
    /// assert!(vitals_sdk::parse_config::<Config>(r#"{"wait": "soon"}"#).is_err());
    /// ```
    pub fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map_err(serde::de::Error::custom)
    }

    /// An optional duration: use it with `#[serde(default, deserialize_with = ...)]`.
    ///
    /// ```
    /// use std::time::Duration;
    /// #[derive(serde::Deserialize)]
    /// struct Config {
    ///     #[serde(default, deserialize_with = "vitals_sdk::de::opt_duration")]
    ///     warn_time: Option<Duration>,
    /// }
    /// let config = vitals_sdk::parse_config::<Config>("{}").map_err(|r| r.summary)?;
    /// assert_eq!(config.warn_time, None);
    /// # Ok::<(), String>(())
    /// ```
    pub fn opt_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => parse_duration(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::Deserialize;

    use super::*;
    use crate::{Range, Status};

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Config {
        #[serde(default)]
        count: u8,
        #[serde(default, deserialize_with = "de::opt_duration")]
        wait: Option<Duration>,
        #[serde(default)]
        warn: Option<Range>,
    }

    fn error_of(json: &str) -> String {
        match parse_config::<Config>(json) {
            Ok(config) => panic!("{json} parsed as {config:?}"),
            Err(result) => {
                assert_eq!(result.status, Status::Unknown);
                assert_eq!(result.reason, Some(Reason::PluginError));
                result.summary
            }
        }
    }

    #[test]
    fn parses_valid_config() {
        let config = match parse_config::<Config>(r#"{"count": 3, "wait": "1.5s", "warn": "~:10"}"#) {
            Ok(config) => config,
            Err(result) => panic!("{}", result.summary),
        };
        assert_eq!(config.count, 3);
        assert_eq!(config.wait, Some(Duration::from_millis(1500)));
        assert_eq!(config.warn.map(|r| r.to_string()).as_deref(), Some("~:10"));
        assert!(parse_config::<Config>("").is_ok());
    }

    #[test]
    fn errors_name_the_key() {
        let summary = error_of(r#"{"wait": "soon"}"#);
        assert!(summary.starts_with("invalid config: wait: ") && summary.contains("'soon'"), "{summary}");
        let summary = error_of(r#"{"count": 300}"#);
        assert!(summary.starts_with("invalid config: count: "), "{summary}");
        assert!(!summary.contains("line 1"), "{summary}");
        let summary = error_of(r#"{"warn": "5:1"}"#);
        assert!(summary.starts_with("invalid config: warn: "), "{summary}");
        let summary = error_of(r#"{"other": 1}"#);
        assert!(summary.contains("unknown field `other`"), "{summary}");
        let summary = error_of(r#"{"count": 1} x"#);
        assert!(summary.starts_with("invalid config: not a JSON object: trailing"), "{summary}");
        let summary = error_of(r#"[1]"#);
        assert!(summary.starts_with("invalid config: "), "{summary}");
    }
}
