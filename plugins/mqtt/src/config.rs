//! The `mqtt` plugin's configuration keys, declared once, and the parsing of its target.

use std::time::Duration;

use vitals_sdk::serde_json;
use vitals_sdk::{Config, ConfigError, ConfigProblem, PluginConfig, Thresholds};

/// Longest string MQTT can carry (a two-byte length).
pub const MAX_STRING: usize = 65_535;

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// User name sent in CONNECT; left out, the client connects anonymously.
    #[config(check = user_name)]
    pub user: Option<String>,
    /// Password sent in CONNECT (needs user); write it as "${env:NAME}".
    #[config(check = password)]
    pub password: Option<String>,
    /// Client identifier; default "vitals-<check name>-<8 random hex digits>".
    #[config(check = client_id)]
    pub client_id: Option<String>,
    /// Keep-alive interval announced in CONNECT, in whole seconds (0 turns it off).
    #[config(default = "60s", check = keepalive)]
    pub keepalive: Duration,
    /// Also subscribe to topic, publish a message to it and wait until it comes back.
    #[config(default = false)]
    pub round_trip: bool,
    /// Topic of the round trip, without wildcards; default "vitals/<client id>".
    #[config(check = topic)]
    pub topic: Option<String>,
    /// Start TLS right after connecting (MQTT over TLS, usually port 8883).
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when tls is on.
    #[config(default = true)]
    pub tls_verify: bool,
    /// Warn when the broker takes longer than this to answer CONNECT with CONNACK.
    pub warn_time: Option<Duration>,
    /// Critical when the broker takes longer than this to answer CONNECT with CONNACK.
    pub crit_time: Option<Duration>,
}

impl Config {
    /// Parses the config JSON and checks what no single key can say on its own.
    pub fn load(json: &str) -> Result<Config, ConfigError> {
        let config = Config::parse(json)?;
        match across_keys(json) {
            problems if problems.is_empty() => Ok(config),
            problems => Err(ConfigError::new(problems)),
        }
    }

    /// Every problem of the config JSON, of single keys and across them (for `validate`).
    pub fn problems(json: &str) -> Vec<ConfigProblem> {
        let mut problems = vitals_sdk::validate_config::<Config>(json);
        problems.extend(across_keys(json));
        problems
    }

    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }

    /// The keep-alive interval in seconds, as CONNECT carries it.
    pub fn keepalive_secs(&self) -> u16 {
        u16::try_from(self.keepalive.as_secs()).unwrap_or(u16::MAX)
    }
}

/// What no single key can say on its own, read from the JSON so that it is found even
/// when another key is wrong: a password needs a user name.
fn across_keys(json: &str) -> Vec<ConfigProblem> {
    let table: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    if table.contains_key("password") && !table.contains_key("user") {
        return vec![ConfigProblem::at_key("password", "MQTT 3.1.1 sends a password only with a user name: set user")];
    }
    Vec::new()
}

fn user_name(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty (leave user out to connect anonymously)".to_string());
    }
    short_enough(text)
}

fn password(text: &str) -> Result<(), String> {
    // Never echo the value: it is a secret.
    if text.len() > MAX_STRING { Err(format!("is longer than {MAX_STRING} bytes")) } else { Ok(()) }
}

fn client_id(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty (leave it out for vitals-<check name>-<random>)".to_string());
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".to_string());
    }
    short_enough(text)
}

fn keepalive(d: &Duration) -> Result<(), String> {
    if d.as_secs() > u64::from(u16::MAX) { Err("must be at most 65535 s (18h12m15s)".to_string()) } else { Ok(()) }
}

fn topic(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".to_string());
    }
    if text.contains(['+', '#']) {
        return Err(format!("{text:?} contains a wildcard (+ or #); the round trip publishes to it"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".to_string());
    }
    short_enough(text)
}

fn short_enough(text: &str) -> Result<(), String> {
    if text.len() > MAX_STRING { Err(format!("is longer than {MAX_STRING} bytes")) } else { Ok(()) }
}

/// The client identifier to use when none is configured: `vitals-`, the check's name
/// reduced to `[A-Za-z0-9_-]` and at most 24 characters, and a random suffix, so that two
/// monitors checking one broker under the same check name do not take over each other's
/// session.
pub fn default_client_id(check_name: &str, random: u32) -> String {
    let name: String = check_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .take(24)
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() { format!("vitals-{random:08x}") } else { format!("vitals-{name}-{random:08x}") }
}

/// A random number from the standard library's hasher keys (the OS's randomness, which
/// WASI provides) and the clock.
pub fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    hasher.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem_key(json: &str) -> Option<String> {
        match Config::load(json) {
            Ok(_) => None,
            Err(error) => error.problems().first().and_then(|p| p.key.clone()),
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(Config::check_defaults(), []);
        let config = match Config::load("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.keepalive_secs(), 60);
        assert!(!config.round_trip && !config.tls && config.tls_verify);
        assert_eq!((config.user, config.password, config.client_id, config.topic), (None, None, None, None));
    }

    #[test]
    fn bad_values_name_their_key() {
        for (json, key) in [
            (r#"{"user": ""}"#, "user"),
            (r#"{"password": "x"}"#, "password"),
            (r#"{"client_id": ""}"#, "client_id"),
            (r#"{"client_id": "a\nb"}"#, "client_id"),
            (r#"{"keepalive": "19h"}"#, "keepalive"),
            (r#"{"topic": "a/#"}"#, "topic"),
            (r#"{"topic": "a/+/b"}"#, "topic"),
            (r#"{"topic": ""}"#, "topic"),
        ] {
            assert_eq!(problem_key(json).as_deref(), Some(key), "{json}");
        }
        assert_eq!(problem_key(r#"{"user": "u", "password": "p", "keepalive": "0s"}"#), None);
    }

    #[test]
    fn a_password_problem_never_shows_the_password() {
        let long = "s".repeat(MAX_STRING + 1);
        let json = format!(r#"{{"user": "u", "password": "{long}"}}"#);
        let error = Config::load(&json).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.starts_with("invalid config: password: is longer"), "{error}");
        assert!(!error.contains("sss"), "{error}");
    }

    #[test]
    fn default_client_ids() {
        assert_eq!(default_client_id("broker", 0x1a2b3c4d), "vitals-broker-1a2b3c4d");
        assert_eq!(default_client_id("my broker/eu 1", 7), "vitals-my-broker-eu-1-00000007");
        assert_eq!(default_client_id("€€", 7), "vitals-00000007");
        assert_eq!(default_client_id(&"x".repeat(100), 7).len(), "vitals-".len() + 24 + 9);
    }
}
