//! The `tcp` plugin's configuration keys and the parsing of its target.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use vitals_sdk::{ConfigKey, ConfigType, Thresholds, config_key, de};

/// The default of `max_bytes`.
pub const DEFAULT_MAX_BYTES: u32 = 4096;

/// The keys `describe` announces.
pub fn keys() -> Vec<ConfigKey> {
    vec![
        config_key(
            "send",
            ConfigType::String,
            "Text to send after connecting; \\r, \\n, \\t and \\\\ are interpreted.",
        ),
        config_key(
            "expect",
            ConfigType::String,
            "Text the server must send (e.g. \"SSH-\" or \"220\"), looked for in what it sends.",
        ),
        config_key("tls", ConfigType::Boolean, "Start TLS right after connecting (implicit TLS).")
            .with_default("false"),
        config_key("tls_verify", ConfigType::Boolean, "Verify the server's certificate and name when tls is on.")
            .with_default("true"),
        config_key("warn_time", ConfigType::Duration, "Warn when connecting takes longer than this."),
        config_key("crit_time", ConfigType::Duration, "Critical when connecting takes longer than this."),
        config_key("max_bytes", ConfigType::Integer, "How many bytes to read at most while waiting for expect.")
            .with_default(DEFAULT_MAX_BYTES.to_string()),
    ]
}

/// The parsed `[check.config]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Bytes to send, escapes already interpreted.
    #[serde(default, deserialize_with = "opt_escaped")]
    pub send: Option<Vec<u8>>,
    /// Text expected from the server.
    #[serde(default, deserialize_with = "opt_non_empty")]
    pub expect: Option<String>,
    /// Implicit TLS.
    #[serde(default)]
    pub tls: bool,
    /// Certificate verification.
    #[serde(default = "default_true")]
    pub tls_verify: bool,
    /// Warning threshold on the connect time.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub warn_time: Option<Duration>,
    /// Critical threshold on the connect time.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub crit_time: Option<Duration>,
    /// Read limit while waiting for `expect`.
    #[serde(default = "default_max_bytes", deserialize_with = "positive")]
    pub max_bytes: u32,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }
}

fn default_true() -> bool {
    true
}

fn default_max_bytes() -> u32 {
    DEFAULT_MAX_BYTES
}

fn positive<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    match u32::deserialize(deserializer)? {
        0 => Err(serde::de::Error::custom("must be at least 1")),
        n => Ok(n),
    }
}

fn opt_non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) if text.is_empty() => Err(serde::de::Error::custom("must not be empty")),
        other => Ok(other),
    }
}

fn opt_escaped<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) => unescape(&text).map(Some).map_err(serde::de::Error::custom),
        None => Ok(None),
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

/// Splits a target `host:port` or `[v6]:port` into the host (without brackets) and port.
pub fn parse_target(target: &str) -> Result<(String, u16), String> {
    let target = target.trim();
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("missing ] after an IPv6 address")?;
        let port = after.strip_prefix(':').ok_or("expected host:port or [v6]:port, the port is missing")?;
        (host, port)
    } else {
        let (host, port) = target.rsplit_once(':').ok_or("expected host:port or [v6]:port, the port is missing")?;
        if host.contains(':') {
            return Err("an IPv6 address needs brackets: [v6]:port".to_string());
        }
        (host, port)
    };
    if host.is_empty() {
        return Err("the host is empty".to_string());
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(format!("invalid host {host:?}"));
    }
    match port.parse::<u16>() {
        // The text must be the number itself: no sign, no leading zeros.
        Ok(number) if number > 0 && number.to_string() == port => Ok((host.to_string(), number)),
        _ => Err(format!("invalid port {port:?} (1-65535)")),
    }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::parse_config;

    use super::*;

    #[test]
    fn targets() {
        assert_eq!(parse_target("127.0.0.1:22"), Ok(("127.0.0.1".into(), 22)));
        assert_eq!(parse_target("example.com:443"), Ok(("example.com".into(), 443)));
        assert_eq!(parse_target("[::1]:8080"), Ok(("::1".into(), 8080)));
        for bad in [
            "",
            "host",
            "host:",
            ":22",
            "host:0",
            "host:65536",
            "host:abc",
            "::1:22",
            "[::1]",
            "[::1:22",
            "[::1]22",
            "host:+22",
            "host:022",
            "a b:1",
            "http://x:80",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be rejected");
        }
    }

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
        let config = match parse_config::<Config>("{}") {
            Ok(config) => config,
            Err(result) => panic!("{}", result.summary),
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
            match parse_config::<Config>(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(result) => {
                    assert!(result.summary.starts_with(&format!("invalid config: {key}: ")), "{}", result.summary)
                }
            }
        }
    }
}
