//! The `ssh` plugin's configuration keys, declared once, the pinned fingerprints and the
//! parsing of its target.

use std::time::Duration;

use vitals_sdk::serde_json::Value;
use vitals_sdk::{Config, ConfigType, ConfigValue, Thresholds};

use crate::kex::HOST_KEY_ALGORITHMS;

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// Text the server's identification line must contain, e.g. "OpenSSH_9".
    #[config(check = non_empty)]
    pub expect_banner: Option<String>,
    /// The host key's fingerprint as `ssh-keygen -lf` prints it ("SHA256:" and base64), or several separated by commas; the server must prove it holds one of them. Setting it makes the check do a key exchange.
    pub host_key_fingerprint: Option<Pins>,
    /// Do the key exchange and show the host key's fingerprint even when none is pinned.
    #[config(default = false)]
    pub show_host_key: bool,
    /// Host key algorithms to accept, the preferred first; to pin a key of another type than the server's first choice, put its algorithm first.
    #[config(default = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"], check = known_algorithms)]
    pub host_key_algorithms: Vec<String>,
    /// Warn when the whole check (connect, identification, key exchange) takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole check takes longer than this.
    pub crit_time: Option<Duration>,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }

    /// Whether the run goes on to the key exchange.
    pub fn wants_key_exchange(&self) -> bool {
        self.host_key_fingerprint.is_some() || self.show_host_key
    }
}

fn non_empty(text: &str) -> Result<(), String> {
    if text.is_empty() { Err("must not be empty".to_string()) } else { Ok(()) }
}

fn known_algorithms(names: &[String]) -> Result<(), String> {
    if names.is_empty() {
        return Err(format!("must name at least one of {}", HOST_KEY_ALGORITHMS.join(", ")));
    }
    for (i, name) in names.iter().enumerate() {
        if !HOST_KEY_ALGORITHMS.contains(&name.as_str()) {
            return Err(format!(
                "{name:?} is not a host key algorithm this check verifies ({})",
                HOST_KEY_ALGORITHMS.join(", ")
            ));
        }
        if names[..i].contains(name) {
            return Err(format!("{name:?} is listed twice"));
        }
    }
    Ok(())
}

/// `host_key_fingerprint`: one or more SHA256 fingerprints, each `SHA256:` and the 43
/// characters of a 32-byte digest in base64 (padding allowed and dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins(pub Vec<String>);

impl Pins {
    /// Whether `fingerprint` (as [`crate::kex::fingerprint`] writes it) is pinned.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.0.iter().any(|pin| pin == fingerprint)
    }

    /// The pins for a summary: `SHA256:a` or `SHA256:a, SHA256:b`.
    pub fn shown(&self) -> String {
        self.0.join(", ")
    }
}

impl ConfigValue for Pins {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Pins, String> {
        parse_pins(&String::from_json(value)?).map(Pins)
    }
}

/// Reads a comma-separated list of fingerprints.
pub fn parse_pins(text: &str) -> Result<Vec<String>, String> {
    let pins: Vec<String> =
        text.split(',').map(str::trim).filter(|p| !p.is_empty()).map(parse_pin).collect::<Result<_, _>>()?;
    if pins.is_empty() {
        return Err("give a fingerprint such as \"SHA256:…\" as `ssh-keygen -lf` prints it".to_string());
    }
    Ok(pins)
}

/// One fingerprint, checked and without base64 padding.
fn parse_pin(text: &str) -> Result<String, String> {
    let Some(digest) = text.strip_prefix("SHA256:") else {
        let shown = vitals_sdk::sanitize(text, 60);
        return Err(if text.starts_with("MD5:") || (text.contains(':') && text.len() == 47) {
            format!("{shown:?} is an MD5 fingerprint; give the SHA256 one (`ssh-keygen -lf KEY`)")
        } else {
            format!("{shown:?} is not a SHA256 fingerprint (\"SHA256:\" and base64, as `ssh-keygen -lf` prints it)")
        });
    };
    let digest = digest.trim_end_matches('=');
    let base64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    // 32 bytes are 43 base64 digits, the last of which carries 4 bits: its low 2 bits are 0.
    let last_ok = digest.chars().last().and_then(digit_value).is_some_and(|v| v & 3 == 0);
    if digest.len() != 43 || !digest.chars().all(base64) || !last_ok {
        let shown = vitals_sdk::sanitize(text, 60);
        return Err(format!("{shown:?} is not a SHA256 fingerprint: after \"SHA256:\" come 43 base64 characters"));
    }
    Ok(format!("SHA256:{digest}"))
}

/// The value of a base64 digit.
fn digit_value(c: char) -> Option<u8> {
    let v = match c {
        'A'..='Z' => c as u8 - b'A',
        'a'..='z' => c as u8 - b'a' + 26,
        '0'..='9' => c as u8 - b'0' + 52,
        '+' => 62,
        '/' => 63,
        _ => return None,
    };
    Some(v)
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    const PIN: &str = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8";

    #[test]
    fn fingerprints_as_ssh_keygen_prints_them() {
        assert_eq!(parse_pins(PIN), Ok(vec![PIN.to_string()]));
        assert_eq!(parse_pins(&format!("{PIN}=")), Ok(vec![PIN.to_string()]), "padding is dropped");
        let two = format!(" {PIN} ,SHA256:{}", "A".repeat(43));
        assert_eq!(parse_pins(&two).map(|p| p.len()), Ok(2));
        for bad in [
            "",
            ",",
            "nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
            "SHA256:short",
            "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY9",
            "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5S-8",
            "sha256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
        ] {
            assert!(parse_pins(bad).is_err(), "{bad:?} should be rejected");
        }
        let md5 = parse_pins("MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48").unwrap_err();
        assert!(md5.contains("MD5 fingerprint"), "{md5}");
    }

    #[test]
    fn config_defaults_and_errors() {
        let config = match Config::parse("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.host_key_algorithms, HOST_KEY_ALGORITHMS.map(String::from));
        assert!(!config.wants_key_exchange());
        assert!(Config::check_defaults().is_empty());
        for (json, key) in [
            (r#"{"expect_banner": ""}"#, "expect_banner"),
            (r#"{"host_key_fingerprint": "MD5:aa"}"#, "host_key_fingerprint"),
            (r#"{"host_key_algorithms": []}"#, "host_key_algorithms"),
            (r#"{"host_key_algorithms": ["ssh-dss"]}"#, "host_key_algorithms"),
            (r#"{"host_key_algorithms": ["ssh-ed25519", "ssh-ed25519"]}"#, "host_key_algorithms"),
        ] {
            match Config::parse(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(error) => {
                    let summary = vitals_sdk::CheckResult::from(error).summary;
                    assert!(summary.starts_with(&format!("invalid config: {key}: ")), "{summary}")
                }
            }
        }
        let pinned = Config::parse(&format!(r#"{{"host_key_fingerprint": "{PIN}"}}"#));
        assert!(pinned.is_ok_and(|c| c.wants_key_exchange()));
    }
}
