//! The `amqp` plugin's configuration keys, declared once, and the parsing of its target.

use std::time::Duration;

use vitals_sdk::{Config, Thresholds};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// User to log in as (SASL PLAIN).
    #[config(default = "guest", check = user_name)]
    pub user: String,
    /// Password of user; write it as "${env:NAME}".
    #[config(default = "guest", check = password)]
    pub password: String,
    /// Virtual host to open.
    #[config(default = "/", check = vhost)]
    pub vhost: String,
    /// Also declare a temporary queue, publish a message to it and consume it back.
    #[config(default = false)]
    pub round_trip: bool,
    /// Start TLS right after connecting (AMQPS, usually port 5671).
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when tls is on.
    #[config(default = true)]
    pub tls_verify: bool,
    /// Warn when opening the connection (protocol header to Connection.OpenOk) takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when opening the connection (protocol header to Connection.OpenOk) takes longer than this.
    pub crit_time: Option<Duration>,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }
}

/// Longest user name or password sent (PLAIN puts both in one long string).
const MAX_CREDENTIAL: usize = 4096;

fn user_name(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".to_string());
    }
    if text.contains('\0') {
        return Err("must not contain a NUL character (PLAIN separates fields with it)".to_string());
    }
    if text.len() > MAX_CREDENTIAL { Err(format!("is longer than {MAX_CREDENTIAL} bytes")) } else { Ok(()) }
}

fn password(text: &str) -> Result<(), String> {
    // Never echo the value: it is a secret.
    if text.contains('\0') {
        return Err("must not contain a NUL character (PLAIN separates fields with it)".to_string());
    }
    if text.len() > MAX_CREDENTIAL { Err(format!("is longer than {MAX_CREDENTIAL} bytes")) } else { Ok(()) }
}

fn vhost(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty (the default virtual host is \"/\")".to_string());
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".to_string());
    }
    if text.len() > 255 { Err("is longer than 255 bytes".to_string()) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    fn problem_key(json: &str) -> Option<String> {
        match Config::parse(json) {
            Ok(_) => None,
            Err(error) => error.problems().first().and_then(|p| p.key.clone()),
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(Config::check_defaults(), []);
        let config = match Config::parse("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!((config.user.as_str(), config.password.as_str(), config.vhost.as_str()), ("guest", "guest", "/"));
        assert!(!config.round_trip && !config.tls && config.tls_verify);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (json, key) in [
            (r#"{"user": ""}"#, "user"),
            (r#"{"user": "a\u0000b"}"#, "user"),
            (r#"{"password": "a\u0000b"}"#, "password"),
            (r#"{"vhost": ""}"#, "vhost"),
            (r#"{"vhost": "a\nb"}"#, "vhost"),
        ] {
            assert_eq!(problem_key(json).as_deref(), Some(key), "{json}");
        }
        let long = format!(r#"{{"vhost": "{}"}}"#, "v".repeat(256));
        assert_eq!(problem_key(&long).as_deref(), Some("vhost"));
        assert_eq!(problem_key(r#"{"user": "u", "password": "", "vhost": "prod"}"#), None);
    }

    #[test]
    fn a_password_problem_never_shows_the_password() {
        let error = Config::parse(r#"{"password": "hunter2\u0000"}"#).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.starts_with("invalid config: password: must not contain a NUL"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}
