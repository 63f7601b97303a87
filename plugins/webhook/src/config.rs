//! The `webhook` notifier's configuration keys: their description and their parsing.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use vitals_sdk::{ConfigKey, ConfigType, config_key, de};

/// The keys `describe` announces, in the order they are documented.
pub fn keys() -> Vec<ConfigKey> {
    vec![
        config_key("url", ConfigType::String, "The http:// or https:// URL to POST every state change to.").required(),
        config_key("headers", ConfigType::StringMap, "Extra request headers (e.g. Authorization)."),
        config_key("timeout", ConfigType::Duration, "Time limit of one attempt.").with_default("\"5s\""),
        config_key("retries", ConfigType::Integer, "Further attempts after a failed one.").with_default("3"),
        config_key(
            "backoff",
            ConfigType::Duration,
            "Wait before the first retry; each next retry waits twice as long.",
        )
        .with_default("\"500ms\""),
    ]
}

/// The parsed `[notifier.config]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to POST.
    pub url: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Time limit of one attempt.
    #[serde(default = "default_timeout", deserialize_with = "de::duration")]
    pub timeout: Duration,
    /// Further attempts after a failed one.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Wait before the first retry.
    #[serde(default = "default_backoff", deserialize_with = "de::duration")]
    pub backoff: Duration,
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_retries() -> u32 {
    3
}

fn default_backoff() -> Duration {
    Duration::from_millis(500)
}

/// Parses the config JSON; the error names the key.
pub fn parse(json: &str) -> Result<Config, String> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde_json's " at line 1 column 17" means nothing to a person who wrote TOML.
        let inner = inner.split(" at line ").next().unwrap_or_default().to_string();
        if path == "." { format!("invalid config: {inner}") } else { format!("invalid config: {path}: {inner}") }
    })?;
    if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
        return Err(format!("invalid config: url: {:?} is not an http:// or https:// URL", config.url));
    }
    Ok(config)
}
