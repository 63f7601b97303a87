//! The `imap` plugin's configuration keys, declared once, the rules between them, and the
//! parsing of its target.

use std::time::Duration;

use vitals_sdk::starttls::{MailConfig, Options, credentials_problem, non_empty};
use vitals_sdk::{Config, ConfigError, ConfigProblem, PluginConfig};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// Text the server's greeting must contain (e.g. "Dovecot" or "IMAP4rev1").
    #[config(check = non_empty)]
    pub expect_banner: Option<String>,
    /// Critical when the server does not offer STARTTLS in its capabilities.
    #[config(default = false)]
    pub require_starttls: bool,
    /// Upgrade with STARTTLS (critical when it is not offered) and ask for the capabilities again over TLS.
    #[config(default = false)]
    pub starttls: bool,
    /// Start TLS right after connecting (implicit TLS, "imaps" on port 993).
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when TLS is used (tls or starttls).
    #[config(default = true)]
    pub tls_verify: bool,
    /// User to log in as with LOGIN (then password is needed too); without it no login is tried.
    #[config(check = non_empty)]
    pub user: Option<String>,
    /// Password for LOGIN, e.g. "${env:IMAP_PASSWORD}"; sent in clear text unless tls or starttls is on.
    pub password: Option<String>,
    /// Warn when the whole conversation, connect to login, takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole conversation, connect to login, takes longer than this.
    pub crit_time: Option<Duration>,
}

impl MailConfig for Config {
    /// Parses the config and checks the rules between keys that one key's check cannot see.
    fn load(json: &str) -> Result<Config, ConfigError> {
        let config = Config::parse(json)?;
        let mut problems = config.options().problems("port 993", "a plain connection (port 143)", "STARTTLS");
        problems.extend(credentials_problem(config.user.as_deref(), config.password.as_deref()));
        for (key, value) in [("user", &config.user), ("password", &config.password)] {
            if value.as_deref().is_some_and(|v| v.contains('\0')) {
                problems.push(ConfigProblem::at_key(key, "contains a NUL character, which IMAP cannot carry"));
            }
        }
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
        let config = match Config::load(r#"{"user": "alice", "password": "s3cret"}"#) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.credentials(), Some(("alice", "s3cret")));
        for (json, key) in [
            (r#"{"expect_banner": ""}"#, "expect_banner"),
            (r#"{"user": "", "password": "x"}"#, "user"),
            (r#"{"user": "alice"}"#, "password"),
            (r#"{"password": "x"}"#, "user"),
            (r#"{"user": "alice", "password": "a\u0000b"}"#, "password"),
            (r#"{"tls": true, "starttls": true}"#, "starttls"),
            (r#"{"tls": true, "require_starttls": true}"#, "require_starttls"),
            (r#"{"crit_time": "soon"}"#, "crit_time"),
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
