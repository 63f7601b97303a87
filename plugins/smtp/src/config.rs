//! The `smtp` plugin's configuration keys, declared once, the rules between them, and the
//! parsing of its target.

use std::time::Duration;

use vitals_sdk::starttls::{MailConfig, Options, non_empty};
use vitals_sdk::{Config, ConfigError, PluginConfig};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// The name the check gives in EHLO (a domain, or an address literal such as "[192.0.2.1]").
    #[config(default = "vitals.invalid", check = valid_helo)]
    pub helo: String,
    /// Text the server's 220 greeting must contain (e.g. "ESMTP" or the server's name).
    #[config(check = non_empty)]
    pub expect_banner: Option<String>,
    /// Critical when the server does not offer STARTTLS in its EHLO answer.
    #[config(default = false)]
    pub require_starttls: bool,
    /// Upgrade with STARTTLS (critical when it is not offered) and send EHLO again over TLS.
    #[config(default = false)]
    pub starttls: bool,
    /// Start TLS right after connecting (implicit TLS, "submissions" on port 465).
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when TLS is used (tls or starttls).
    #[config(default = true)]
    pub tls_verify: bool,
    /// Warn when the whole conversation, connect to the last EHLO answer, takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole conversation, connect to the last EHLO answer, takes longer than this.
    pub crit_time: Option<Duration>,
}

impl MailConfig for Config {
    /// Parses the config and checks the rules between keys that one key's check cannot see.
    fn load(json: &str) -> Result<Config, ConfigError> {
        let config = Config::parse(json)?;
        let problems = config.options().problems("port 465", "a plain connection (ports 25 and 587)", "STARTTLS");
        if problems.is_empty() { Ok(config) } else { Err(ConfigError::new(problems)) }
    }

    fn options(&self) -> Options {
        vitals_sdk::starttls_options!(self)
    }
}

/// A name EHLO can carry: one word of printable ASCII.
fn valid_helo(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_string());
    }
    if name.len() > 255 {
        return Err("is longer than 255 characters".to_string());
    }
    match name.chars().find(|c| !c.is_ascii_graphic()) {
        Some(bad) => Err(format!("contains {bad:?}; write one word, a domain or an address literal like [192.0.2.1]")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_key_errors() {
        assert_eq!(Config::check_defaults(), []);
        let config = match Config::load("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.helo, "vitals.invalid");
        assert!(!config.tls && !config.starttls && !config.require_starttls && config.tls_verify);
        assert!(!config.options().needs_starttls());
        for (json, key) in [
            (r#"{"helo": ""}"#, "helo"),
            (r#"{"helo": "two words"}"#, "helo"),
            (r#"{"helo": "bad\r\nMAIL FROM:<x>"}"#, "helo"),
            (r#"{"expect_banner": ""}"#, "expect_banner"),
            (r#"{"tls": true, "starttls": true}"#, "starttls"),
            (r#"{"tls": true, "require_starttls": true}"#, "require_starttls"),
            (r#"{"warn_time": "soon"}"#, "warn_time"),
        ] {
            match Config::load(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(error) => {
                    let keys: Vec<_> = error.problems().iter().map(|p| p.key.as_deref()).collect();
                    assert_eq!(keys, [Some(key)], "{json}");
                }
            }
        }
    }
}
