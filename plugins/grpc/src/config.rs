//! The `grpc` plugin's configuration keys, declared once, and the parsing of its target.

use std::collections::BTreeMap;
use std::time::Duration;

use vitals_sdk::{Config, Thresholds};

/// Longest `service` name accepted: its request must fit in one small DATA frame.
const MAX_SERVICE: usize = 1024;
/// Longest metadata value accepted (names and values together stay far below 64 KiB).
const MAX_VALUE: usize = 8192;
/// Most metadata entries accepted.
const MAX_ENTRIES: usize = 32;

/// Request headers the check sets itself, or that HTTP/2 forbids (RFC 9113 §8.2.2).
const RESERVED: [&str; 9] = [
    "content-type",
    "te",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "grpc-timeout",
];

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// The service whose health to ask for, e.g. "helloworld.Greeter"; "" (the default) asks about the server as a whole.
    #[config(default = "", check = service_name)]
    pub service: String,
    /// Speak gRPC over TLS, HTTP/2 agreed by ALPN; without it, cleartext HTTP/2 (h2c with prior knowledge).
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when tls is on.
    #[config(default = true)]
    pub tls_verify: bool,
    /// The name to send in SNI and to check the certificate against (default: the target's host).
    #[config(check = host_name)]
    pub server_name: Option<String>,
    /// Metadata to send with the call, as request headers, e.g. { authorization = "Bearer ${env:TOKEN}" }; names of letters, digits, "-", "_" and ".", sent in lower case; a name ending in -bin takes a base64 value.
    #[config(check = metadata)]
    pub metadata: BTreeMap<String, String>,
    /// Warn when the health call takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the health call takes longer than this.
    pub crit_time: Option<Duration>,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }

    /// The metadata as the header fields to send: names in lower case.
    pub fn metadata_fields(&self) -> Vec<(String, &str)> {
        self.metadata.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.as_str())).collect()
    }
}

fn service_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_SERVICE {
        return Err(format!("is {} bytes long; at most {MAX_SERVICE} are allowed", name.len()));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".to_string());
    }
    Ok(())
}

fn host_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_string());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(format!("{name:?} is not a host name"));
    }
    Ok(())
}

/// gRPC's rules for metadata (its HTTP/2 transport spec): names of `0-9 a-z _ - .`, values
/// of printable ASCII, or base64 for a name ending in `-bin`.
fn metadata(map: &BTreeMap<String, String>) -> Result<(), String> {
    if map.len() > MAX_ENTRIES {
        return Err(format!("has {} entries; at most {MAX_ENTRIES} are allowed", map.len()));
    }
    for (name, value) in map {
        let lower = name.to_ascii_lowercase();
        if lower.is_empty()
            || !lower.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b"-_.".contains(&b))
        {
            return Err(format!("{name:?}: a metadata name is made of letters, digits, \"-\", \"_\" and \".\""));
        }
        if lower.starts_with("grpc-") || RESERVED.contains(&lower.as_str()) {
            return Err(format!("{name:?}: this header is set by the check or reserved by gRPC and HTTP/2"));
        }
        if value.len() > MAX_VALUE {
            return Err(format!("{name:?}: the value is {} bytes long; at most {MAX_VALUE} are allowed", value.len()));
        }
        if lower.ends_with("-bin") {
            if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)) {
                return Err(format!("{name:?}: a -bin value is written in base64"));
            }
        } else if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(format!("{name:?}: a metadata value is printable ASCII (use a -bin name for bytes)"));
        }
    }
    Ok(())
}

/// The `:authority` of the call: the target's host and port, an IPv6 address in brackets.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let config = match Config::parse("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.service, "");
        assert!(!config.tls);
        assert!(config.tls_verify);
        assert!(config.metadata.is_empty());
        for (json, key) in [
            (r#"{"service": "a\u0007b"}"#, "service"),
            (r#"{"server_name": ""}"#, "server_name"),
            (r#"{"metadata": {"te": "x"}}"#, "metadata"),
            (r#"{"metadata": {"grpc-foo": "x"}}"#, "metadata"),
            (r#"{"metadata": {"a b": "x"}}"#, "metadata"),
            (r#"{"metadata": {"x-token": "é"}}"#, "metadata"),
            (r#"{"metadata": {"x-token": "a\nb"}}"#, "metadata"),
            (r#"{"metadata": {"trace-bin": "not base64!"}}"#, "metadata"),
        ] {
            match Config::parse(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(error) => {
                    let summary = vitals_sdk::CheckResult::from(error).summary;
                    assert!(summary.starts_with(&format!("invalid config: {key}: ")), "{summary}")
                }
            }
        }
        let config = match Config::parse(r#"{"metadata": {"Authorization": "Bearer x", "trace-bin": "AAEC"}}"#) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(
            config.metadata_fields(),
            [("authorization".to_string(), "Bearer x"), ("trace-bin".to_string(), "AAEC")]
        );
    }
}
