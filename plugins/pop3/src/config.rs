//! The `pop3` plugin's configuration keys, declared once, the rules between them, and the
//! parsing of its target.

use std::time::Duration;

use vitals_sdk::starttls::{MailConfig, Options, credentials_problem, non_empty};
use vitals_sdk::{Config, ConfigError, PluginConfig};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// Text the server's +OK greeting must contain (e.g. "Dovecot" or "POP3").
    #[config(check = non_empty)]
    pub expect_banner: Option<String>,
    /// Critical when the server does not offer STLS (POP3's STARTTLS) in its capabilities.
    #[config(default = false)]
    pub require_starttls: bool,
    /// Upgrade with STLS (critical when it is not offered) and ask for the capabilities again over TLS.
    #[config(default = false)]
    pub starttls: bool,
    /// Start TLS right after connecting (implicit TLS, "pop3s" on port 995).
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when TLS is used (tls or starttls).
    #[config(default = true)]
    pub tls_verify: bool,
    /// User to log in as with USER and PASS (then password is needed too); without it no login is tried.
    #[config(check = one_line)]
    pub user: Option<String>,
    /// Password for PASS, e.g. "${env:POP3_PASSWORD}"; sent in clear text unless tls or starttls is on.
    #[config(check = one_line)]
    pub password: Option<String>,
    /// Warn when the whole conversation, connect to the mailbox's STAT, takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole conversation, connect to the mailbox's STAT, takes longer than this.
    pub crit_time: Option<Duration>,
}

impl MailConfig for Config {
    /// Parses the config and checks the rules between keys that one key's check cannot see.
    fn load(json: &str) -> Result<Config, ConfigError> {
        let config = Config::parse(json)?;
        let mut problems = config.options().problems("port 995", "a plain connection with STLS (port 110)", "STLS");
        problems.extend(credentials_problem(config.user.as_deref(), config.password.as_deref()));
        if problems.is_empty() { Ok(config) } else { Err(ConfigError::new(problems)) }
    }

    fn options(&self) -> Options {
        vitals_sdk::starttls_options!(self)
    }
}

impl Config {
    /// The user and password to log in with, when both are given.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        Some((self.user.as_deref()?, self.password.as_deref()?))
    }
}

/// A value USER or PASS can carry: not empty, on one line.
fn one_line(text: &str) -> Result<(), String> {
    non_empty(text)?;
    if text.contains(['\r', '\n', '\0']) {
        return Err("contains a line break or NUL, which a POP3 command cannot carry".to_string());
    }
    Ok(())
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
        assert!(!config.tls && !config.starttls && !config.require_starttls && config.tls_verify);
        assert_eq!(config.credentials(), None);
        for (json, key) in [
            (r#"{"expect_banner": ""}"#, "expect_banner"),
            (r#"{"user": "alice"}"#, "password"),
            (r#"{"password": "x"}"#, "user"),
            (r#"{"user": "alice", "password": "a\r\nDELE 1"}"#, "password"),
            (r#"{"user": "", "password": "x"}"#, "user"),
            (r#"{"tls": true, "starttls": true}"#, "starttls"),
            (r#"{"tls": true, "require_starttls": true}"#, "require_starttls"),
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
