//! The `tcp` plugin's configuration keys, declared once, and the parsing of its target.

use std::ops::Deref;
use std::time::Duration;

use vitals_sdk::serde_json::Value;
use vitals_sdk::{Config, ConfigType, ConfigValue, Thresholds};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// Text to send after connecting; \r, \n, \t and \\ are interpreted.
    pub send: Option<Escaped>,
    /// Text the server must send (e.g. "SSH-" or "220"), looked for in what it sends.
    #[config(check = non_empty)]
    pub expect: Option<String>,
    /// Start TLS right after connecting (implicit TLS).
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when tls is on.
    #[config(default = true)]
    pub tls_verify: bool,
    /// Warn when connecting takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when connecting takes longer than this.
    pub crit_time: Option<Duration>,
    /// How many bytes to read at most while waiting for expect.
    #[config(default = 4096, check = positive)]
    pub max_bytes: u32,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }
}

fn positive(n: &u32) -> Result<(), String> {
    if *n == 0 { Err("must be at least 1".to_string()) } else { Ok(()) }
}

fn non_empty(text: &str) -> Result<(), String> {
    if text.is_empty() { Err("must not be empty".to_string()) } else { Ok(()) }
}

/// `send`: the bytes of a text whose escapes ([`unescape`]) were interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escaped(Vec<u8>);

impl Deref for Escaped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl ConfigValue for Escaped {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Escaped, String> {
        unescape(&String::from_json(value)?).map(Escaped)
    }
}

/// Interprets `\r`, `\n`, `\t` and `\\`; any other backslash sequence is an error.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                return Err(format!("unknown escape \\{other} (use \\r, \\n, \\t or \\\\)"));
            }
            None => return Err("ends with a lone backslash (write \\\\)".to_string()),
        }
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape("QUIT\\r\\n"), Ok(b"QUIT\r\n".to_vec()));
        assert_eq!(unescape("a\\tb\\\\c"), Ok(b"a\tb\\c".to_vec()));
        assert_eq!(unescape("plain"), Ok(b"plain".to_vec()));
        assert!(unescape("bad\\x").is_err());
        assert!(unescape("trailing\\").is_err());
    }

    #[test]
    fn config_defaults_and_errors() {
        assert_eq!(Config::check_defaults(), []);
        let config = match Config::parse("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.max_bytes, 4096);
        assert!(!config.tls);
        assert!(config.tls_verify);
        assert_eq!(config.send, None);
        for (json, key) in [
            (r#"{"send": "x\\q"}"#, "send"),
            (r#"{"expect": ""}"#, "expect"),
            (r#"{"max_bytes": 0}"#, "max_bytes"),
            (r#"{"crit_time": "1 fortnight"}"#, "crit_time"),
        ] {
            match Config::parse(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(error) => {
                    let summary = vitals_sdk::CheckResult::from(error).summary;
                    assert!(summary.starts_with(&format!("invalid config: {key}: ")), "{summary}")
                }
            }
        }
    }
}
