//! The `tls` plugin's configuration keys, declared once, the checks across keys, and the
//! parsing of its target.

use std::fmt;
use std::time::Duration;

use vitals_sdk::serde_json::Value;
use vitals_sdk::{Config, ConfigError, ConfigProblem, ConfigType, ConfigValue, PluginConfig, Thresholds};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// The name sent in SNI and that the certificate must be valid for (default: the target's host).
    #[config(check = host_name)]
    pub server_name: Option<String>,
    /// Speak this protocol before the handshake and ask it to start TLS: "smtp", "imap", "pop3" or
    /// "postgres" (default: TLS at once).
    pub starttls: Option<Starttls>,
    /// The name to greet an SMTP server with (EHLO) when starttls = "smtp".
    #[config(default = "localhost", check = host_name)]
    pub ehlo: String,
    /// Warn when the certificate expires in fewer days than this.
    #[config(default = 30)]
    pub warn_days: u32,
    /// Critical when the certificate expires in fewer days than this.
    #[config(default = 7)]
    pub crit_days: u32,
    /// Critical when the chain does not lead to a trusted root (the system's, or the check's `ca`).
    #[config(default = true)]
    pub verify_chain: bool,
    /// Critical when the certificate is not valid for server_name.
    #[config(default = true)]
    pub verify_name: bool,
    /// Critical when the server negotiates an older protocol: "TLSv1.2" or "TLSv1.3".
    pub min_version: Option<TlsVersion>,
    /// The SHA-256 fingerprint the server's own certificate must have, in hex (colons allowed).
    pub fingerprint: Option<Fingerprint>,
    /// Warn when the TLS handshake takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the TLS handshake takes longer than this.
    pub crit_time: Option<Duration>,
}

impl Config {
    /// Parses the config JSON and checks the keys against each other.
    pub fn load(json: &str) -> Result<Config, ConfigError> {
        let config = Config::parse(json)?;
        match config.problems() {
            problems if problems.is_empty() => Ok(config),
            problems => Err(ConfigError::new(problems)),
        }
    }

    /// What is wrong across keys (each key on its own parsed).
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.crit_days > self.warn_days {
            problems.push(ConfigProblem::at_key(
                "crit_days",
                format!("must not be more than warn_days ({}), found {}", self.warn_days, self.crit_days),
            ));
        }
        problems
    }

    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }
}

/// The problems of a config JSON: those of each key, else those across keys.
pub fn validate(json: &str) -> Vec<ConfigProblem> {
    match Config::parse(json) {
        Ok(config) => config.problems(),
        Err(error) => error.into_problems(),
    }
}

/// A host name or address: not empty, no spaces, control characters or slashes.
fn host_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_string());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(format!("invalid host name {name:?}"));
    }
    Ok(())
}

/// A protocol that upgrades a plain connection to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starttls {
    /// SMTP: greeting, `EHLO`, `STARTTLS` answered `220` (RFC 3207).
    Smtp,
    /// IMAP: greeting, `a1 STARTTLS` answered `a1 OK` (RFC 9051).
    Imap,
    /// POP3: greeting, `STLS` answered `+OK` (RFC 2595).
    Pop3,
    /// PostgreSQL: the SSLRequest message answered `S`.
    Postgres,
}

impl Starttls {
    /// How the protocol is written in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Starttls::Smtp => "SMTP",
            Starttls::Imap => "IMAP",
            Starttls::Pop3 => "POP3",
            Starttls::Postgres => "PostgreSQL",
        }
    }
}

impl ConfigValue for Starttls {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Starttls, String> {
        match String::from_json(value)?.to_ascii_lowercase().as_str() {
            "smtp" => Ok(Starttls::Smtp),
            "imap" => Ok(Starttls::Imap),
            "pop3" => Ok(Starttls::Pop3),
            "postgres" | "postgresql" => Ok(Starttls::Postgres),
            other => Err(format!("unknown protocol {other:?} (use \"smtp\", \"imap\", \"pop3\" or \"postgres\")")),
        }
    }
}

/// A TLS protocol version the host can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2.
    V1_2,
    /// TLS 1.3.
    V1_3,
}

impl TlsVersion {
    /// The version as the host names it (`TLSv1.3`); none for a name it is not.
    pub fn from_name(name: &str) -> Option<TlsVersion> {
        match name.trim().to_ascii_lowercase().replace(' ', "").as_str() {
            "tlsv1.2" | "tls1.2" | "1.2" => Some(TlsVersion::V1_2),
            "tlsv1.3" | "tls1.3" | "1.3" => Some(TlsVersion::V1_3),
            _ => None,
        }
    }

    /// The version as a number, for the `tls_version` metric.
    pub fn number(self) -> f64 {
        match self {
            TlsVersion::V1_2 => 1.2,
            TlsVersion::V1_3 => 1.3,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::V1_2 => "TLSv1.2",
            TlsVersion::V1_3 => "TLSv1.3",
        })
    }
}

impl ConfigValue for TlsVersion {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<TlsVersion, String> {
        let text = String::from_json(value)?;
        TlsVersion::from_name(&text)
            .ok_or_else(|| format!("unknown TLS version {text:?} (use \"TLSv1.2\" or \"TLSv1.3\")"))
    }
}

/// A SHA-256 fingerprint: 64 hex digits, stored lower-case without separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Reads `AB:CD:…`, `ab cd …` or `abcd…`; `sha256:` or `SHA256=` in front is allowed.
    pub fn parse(text: &str) -> Result<Fingerprint, String> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        let bare = lower.strip_prefix("sha256:").or_else(|| lower.strip_prefix("sha256=")).unwrap_or(&lower);
        let hex: String = bare.chars().filter(|c| !matches!(c, ':' | ' ' | '-')).collect();
        if let Some(bad) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!("{bad:?} is not a hex digit; write the SHA-256 fingerprint as 64 hex digits"));
        }
        if hex.len() != 64 {
            return Err(format!("a SHA-256 fingerprint has 64 hex digits, found {}", hex.len()));
        }
        Ok(Fingerprint(hex))
    }

    /// The 64 lower-case hex digits.
    pub fn hex(&self) -> &str {
        &self.0
    }

    /// Whether a certificate's fingerprint (hex, any case or separators) is this one.
    pub fn matches(&self, sha256: &str) -> bool {
        Fingerprint::parse(sha256).is_ok_and(|other| other == *self)
    }
}

impl ConfigValue for Fingerprint {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Fingerprint, String> {
        Fingerprint::parse(&String::from_json(value)?)
    }
}

/// Splits a target `host:port`, `[v6]:port` or `https://host[:port][/path]` into the host
/// (without brackets) and port.
pub fn parse_target(target: &str) -> Result<(String, u16), String> {
    let target = target.trim();
    if let Some((scheme, rest)) = target.split_once("://") {
        if !scheme.eq_ignore_ascii_case("https") {
            return Err(format!("only https:// URLs are understood, not {scheme}://; or write host:port"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, after)| after);
        let has_port = match authority.strip_prefix('[') {
            Some(v6) => v6.split_once(']').is_some_and(|(_, after)| after.starts_with(':')),
            None => authority.contains(':'),
        };
        return if has_port { host_port(authority) } else { host_port(&format!("{authority}:443")) };
    }
    host_port(target)
}

/// `host:port` or `[v6]:port`.
fn host_port(target: &str) -> Result<(String, u16), String> {
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
    host_name(host)?;
    match port.parse::<u16>() {
        // The text must be the number itself: no sign, no leading zeros.
        Ok(number) if number > 0 && number.to_string() == port => Ok((host.to_string(), number)),
        _ => Err(format!("invalid port {port:?} (1-65535)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(json: &str) -> Config {
        match Config::load(json) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn targets() {
        assert_eq!(parse_target("127.0.0.1:443"), Ok(("127.0.0.1".into(), 443)));
        assert_eq!(parse_target("mail.example:587"), Ok(("mail.example".into(), 587)));
        assert_eq!(parse_target("[::1]:8443"), Ok(("::1".into(), 8443)));
        assert_eq!(parse_target("https://example.com/"), Ok(("example.com".into(), 443)));
        assert_eq!(parse_target("https://example.com:8443/health?x=1"), Ok(("example.com".into(), 8443)));
        assert_eq!(parse_target("HTTPS://[::1]/"), Ok(("::1".into(), 443)));
        assert_eq!(parse_target("https://[::1]:9443"), Ok(("::1".into(), 9443)));
        for bad in ["", "host", "host:", ":443", "host:0", "host:99999", "::1:443", "a b:1", "http://x/", "https:///"] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn fingerprints() {
        let hex = "3F2A".repeat(16);
        let colons: Vec<String> = hex.as_bytes().chunks(2).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
        let with_colons = colons.join(":");
        let fingerprint = Fingerprint::parse(&with_colons).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fingerprint.hex(), "3f2a".repeat(16));
        assert_eq!(Fingerprint::parse(&format!("SHA256:{hex}")), Ok(fingerprint.clone()));
        assert!(fingerprint.matches(&"3f2a".repeat(16)));
        assert!(!fingerprint.matches(&"3f2b".repeat(16)));
        assert!(Fingerprint::parse("3f2a").is_err_and(|e| e.contains("found 4")));
        assert!(Fingerprint::parse(&"zz".repeat(32)).is_err_and(|e| e.contains("'z'")));
    }

    #[test]
    fn versions() {
        assert_eq!(TlsVersion::from_name("TLSv1.3"), Some(TlsVersion::V1_3));
        assert_eq!(TlsVersion::from_name("tls 1.2"), Some(TlsVersion::V1_2));
        assert_eq!(TlsVersion::from_name("SSLv3"), None);
        assert!(TlsVersion::V1_2 < TlsVersion::V1_3);
        assert_eq!(TlsVersion::V1_2.to_string(), "TLSv1.2");
    }

    #[test]
    fn config_defaults_and_errors() {
        assert_eq!(Config::check_defaults(), []);
        let config = parsed("{}");
        assert_eq!((config.warn_days, config.crit_days), (30, 7));
        assert!(config.verify_chain && config.verify_name);
        assert_eq!((config.starttls, config.min_version, config.ehlo.as_str()), (None, None, "localhost"));
        let config = parsed(r#"{"starttls": "SMTP", "min_version": "TLSv1.3", "warn_days": 5, "crit_days": 5}"#);
        assert_eq!((config.starttls, config.min_version), (Some(Starttls::Smtp), Some(TlsVersion::V1_3)));
        for (json, key) in [
            (r#"{"starttls": "ftp"}"#, "starttls"),
            (r#"{"min_version": "SSLv3"}"#, "min_version"),
            (r#"{"fingerprint": "abc"}"#, "fingerprint"),
            (r#"{"server_name": ""}"#, "server_name"),
            (r#"{"server_name": "a b"}"#, "server_name"),
            (r#"{"warn_days": 5, "crit_days": 10}"#, "crit_days"),
        ] {
            match Config::load(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(error) => {
                    let summary = vitals_sdk::CheckResult::from(error).summary;
                    assert!(summary.starts_with(&format!("invalid config: {key}: ")), "{summary}")
                }
            }
        }
        let problems = validate(r#"{"warn_days": 5, "crit_days": 10}"#);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key.as_deref(), Some("crit_days"));
        assert_eq!(problems[0].message, "must not be more than warn_days (5), found 10");
    }
}
