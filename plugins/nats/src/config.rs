//! The `nats` plugin's configuration keys, declared once, and the parsing of the target.

use std::time::Duration;

use vitals_sdk::{Config, ConfigProblem, CrossChecked, Thresholds};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// User to authenticate as (CONNECT user/pass); needs password.
    #[config(check = non_empty)]
    pub user: Option<String>,
    /// Password of user; write it as "${env:NAME}".
    pub password: Option<String>,
    /// Token to authenticate with (CONNECT auth_token) instead of user and password; write
    /// it as "${env:NAME}".
    #[config(check = non_empty)]
    pub token: Option<String>,
    /// Upgrade to TLS after the server's INFO (as NATS clients do); needed when the server
    /// requires TLS.
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when tls is on.
    #[config(default = true)]
    pub tls_verify: bool,
    /// Also publish a message to an inbox of the check's own and wait for it to come back
    /// (time_round_trip).
    #[config(default = false)]
    pub round_trip: bool,
    /// Critical when the server does not have JetStream enabled.
    #[config(default = false)]
    pub require_jetstream: bool,
    /// Warn when PING takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when PING takes longer than this.
    pub crit_time: Option<Duration>,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }
}

fn non_empty(text: &str) -> Result<(), String> {
    if text.is_empty() { Err("must not be empty".to_string()) } else { Ok(()) }
}

impl CrossChecked for Config {
    fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        match (&self.user, &self.password) {
            (Some(_), None) => problems.push(ConfigProblem::at_key("user", "needs password")),
            (None, Some(_)) => problems.push(ConfigProblem::at_key("password", "needs user")),
            _ => {}
        }
        if self.token.is_some() && self.user.is_some() {
            problems.push(ConfigProblem::at_key("token", "give token or user and password, not both"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    #[test]
    fn defaults_and_problems() {
        assert_eq!(Config::check_defaults(), []);
        let config = match Config::parse("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert!(!config.tls && config.tls_verify && !config.round_trip && !config.require_jetstream);
        let keys = |json: &str| match Config::parse(json) {
            Ok(config) => config.problems().into_iter().map(|p| p.key.unwrap_or_default()).collect::<Vec<_>>(),
            Err(error) => panic!("{error}"),
        };
        assert_eq!(keys(r#"{"user": "a"}"#), ["user"]);
        assert_eq!(keys(r#"{"password": "a"}"#), ["password"]);
        assert_eq!(keys(r#"{"user": "a", "password": "b", "token": "t"}"#), ["token"]);
        assert!(keys(r#"{"user": "a", "password": "b"}"#).is_empty());
        assert!(keys(r#"{"token": "t"}"#).is_empty());
        assert!(Config::parse(r#"{"token": ""}"#).is_err());
    }
}
