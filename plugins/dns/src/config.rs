//! The `dns` plugin's configuration keys, declared once, the checks that take several
//! keys together, and the parsing of its target (a DNS URI, RFC 4501).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use vitals_sdk::dns::RecordType;
use vitals_sdk::serde_json::Value;
use vitals_sdk::{Config, ConfigProblem, ConfigType, ConfigValue, Thresholds};

use crate::values::Expected;

/// Most records the host hands over in one answer.
pub const MAX_RECORDS: u32 = 256;

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// Record type to ask for: A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, CAA or PTR.
    #[config(rename = "type", default = "A")]
    pub kind: Kind,
    /// Values that must all be among the answer's records, e.g. ["192.0.2.1"] or
    /// ["10 mx.example.com"]; names compare without case and trailing dot, TXT exactly.
    pub expect: Vec<String>,
    /// The answer must hold exactly the expect values, no other record of the type.
    #[config(default = false)]
    pub expect_exactly: bool,
    /// Critical when the answer holds fewer records of the type (by default 1 when
    /// expect_rcode is NOERROR, else 0).
    #[config(check = within_answer)]
    pub min_records: Option<u32>,
    /// Critical when the answer holds more records of the type.
    pub max_records: Option<u32>,
    /// The response code the answer must carry, e.g. "NXDOMAIN" for a name that must not exist.
    #[config(default = "NOERROR")]
    pub expect_rcode: Rcode,
    /// Ask over TCP instead of UDP (a truncated UDP answer is asked again over TCP anyway).
    #[config(default = false)]
    pub tcp: bool,
    /// Set the DNSSEC OK bit and require the server to have validated the answer (AD flag).
    #[config(default = false)]
    pub dnssec: bool,
    /// Require an authoritative answer (AA flag).
    #[config(default = false)]
    pub authoritative: bool,
    /// Warn when the answer takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the answer takes longer than this.
    pub crit_time: Option<Duration>,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }

    /// The fewest records of the type the answer may hold.
    pub fn min_records(&self) -> u32 {
        self.min_records.unwrap_or(if self.expect_rcode.is_noerror() { 1 } else { 0 })
    }

    /// The `expect` values parsed for the record type, or the problems with them and
    /// with the keys that only make sense together.
    pub fn expected(&self) -> Result<Vec<Expected>, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut expected: Vec<Expected> = Vec::new();
        for text in &self.expect {
            match Expected::parse(self.kind.0, text) {
                Ok(value) if expected.iter().any(|e| e.same_as(&value)) => {}
                Ok(value) => expected.push(value),
                Err(why) => {
                    problems.push(ConfigProblem::at_key("expect", format!("{why}, as {} records hold", self.kind)))
                }
            }
        }
        if self.expect_exactly && self.expect.is_empty() {
            problems
                .push(ConfigProblem::at_key("expect_exactly", "needs expect, the values the answer must hold exactly"));
        }
        if let (Some(min), Some(max)) = (self.min_records, self.max_records)
            && min > max
        {
            problems.push(ConfigProblem::at_key("min_records", format!("{min} is more than max_records ({max})")));
        }
        if problems.is_empty() { Ok(expected) } else { Err(problems) }
    }
}

fn within_answer(n: &u32) -> Result<(), String> {
    if *n > MAX_RECORDS {
        Err(format!("must be at most {MAX_RECORDS}, the most records the host hands over, found {n}"))
    } else {
        Ok(())
    }
}

/// `type`: a record type the host can ask for, by its mnemonic in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(pub RecordType);

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.mnemonic())
    }
}

impl ConfigValue for Kind {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Kind, String> {
        let text = String::from_json(value)?;
        RecordType::from_mnemonic(&text)
            .map(Kind)
            .ok_or_else(|| format!("unknown record type {text:?} (A, AAAA, CNAME, MX, TXT, NS, SOA, SRV, CAA or PTR)"))
    }
}

/// The response codes `expect_rcode` may name (the host spells any other as `RCODEn`).
const RCODES: [&str; 11] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
    "NOTZONE",
];

/// `expect_rcode`: a response code by its mnemonic (upper case), or `RCODEn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rcode(pub String);

impl Rcode {
    /// Whether it is `NOERROR`.
    pub fn is_noerror(&self) -> bool {
        self.0 == "NOERROR"
    }
}

impl ConfigValue for Rcode {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Rcode, String> {
        let text = String::from_json(value)?.trim().to_ascii_uppercase();
        let numbered = text.strip_prefix("RCODE").is_some_and(|n| n.parse::<u16>().is_ok_and(|n| n < 4096));
        if RCODES.contains(&text.as_str()) || numbered {
            Ok(Rcode(text))
        } else {
            Err(format!("unknown response code {text:?} (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ... or RCODEn)"))
        }
    }
}

/// What the target asks: a name, of a given name server or of the system's resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The name server as `ip:port` (`[v6]:port`); none for the system's resolver.
    pub server: Option<String>,
    /// The name to look up, as written (a trailing dot kept).
    pub name: String,
}

impl Target {
    /// The name without its trailing dot, for summaries.
    pub fn shown_name(&self) -> &str {
        self.name.strip_suffix('.').unwrap_or(&self.name)
    }

    /// Whom the question goes to, for summaries.
    pub fn shown_server(&self) -> &str {
        self.server.as_deref().unwrap_or("the system's resolver")
    }
}

const HOW: &str = "write dns://SERVER[:PORT]/NAME (ask that name server) or dns:NAME (ask the system's resolver)";

/// Reads a DNS URI: `dns://SERVER[:PORT]/NAME` (the server an IP address, port 53 unless
/// given) or `dns:NAME`.
pub fn parse_target(target: &str) -> Result<Target, String> {
    let target = target.trim();
    let rest = target.strip_prefix("dns:").ok_or_else(|| format!("not a DNS URI; {HOW}"))?;
    let (server, name) = match rest.strip_prefix("//") {
        Some(authority) => {
            let (server, name) =
                authority.split_once('/').ok_or_else(|| format!("the DNS URI names nothing to look up; {HOW}"))?;
            if server.is_empty() {
                return Err(format!("the DNS URI names no server; {HOW}"));
            }
            (Some(parse_server(server)?), name)
        }
        None => (None, rest),
    };
    if name.contains('?') {
        return Err("a query part (?type=...) is not read; set the record type with the `type` key".to_string());
    }
    if name.contains('%') {
        return Err("percent-escapes in the name are not read; write the name as it is".to_string());
    }
    if name.is_empty() || name == "." {
        return Err(format!("the DNS URI names nothing to look up; {HOW}"));
    }
    if let Some(bad) = name.chars().find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '#' | ':' | '@'))
    {
        return Err(format!("the name {name:?} contains {bad:?}"));
    }
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.len() > 253 {
        return Err("the name is longer than 253 characters".to_string());
    }
    if let Some(label) = bare.split('.').find(|label| label.is_empty() || label.len() > 63) {
        let why = if label.is_empty() {
            "an empty label (two dots in a row, or a leading dot)"
        } else {
            "a label longer than 63 characters"
        };
        return Err(format!("the name {name:?} has {why}"));
    }
    Ok(Target { server, name: name.to_string() })
}

/// `ip`, `ip:port` or `[v6]:port` as `ip:port`; a name is refused, since asking the
/// resolver where the resolver is would need a resolver.
fn parse_server(text: &str) -> Result<String, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        if addr.port() == 0 {
            return Err(format!("the name server {text:?} has port 0; write a port from 1 to 65535"));
        }
        return Ok(addr.to_string());
    }
    let bare = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    match bare.parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 53).to_string()),
        Err(_) => Err(format!(
            "the name server {text:?} must be an IP address with an optional port (192.0.2.53, \
             192.0.2.53:5353, [2001:db8::53]:53); {HOW}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    fn target(server: Option<&str>, name: &str) -> Result<Target, String> {
        Ok(Target { server: server.map(str::to_string), name: name.to_string() })
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("dns://127.0.0.1:5353/www.example.test"),
            target(Some("127.0.0.1:5353"), "www.example.test")
        );
        assert_eq!(parse_target("dns://192.0.2.53/example.test."), target(Some("192.0.2.53:53"), "example.test."));
        assert_eq!(parse_target("dns://[::1]:53/a.test"), target(Some("[::1]:53"), "a.test"));
        assert_eq!(parse_target("dns://[2001:db8::53]/a.test"), target(Some("[2001:db8::53]:53"), "a.test"));
        assert_eq!(parse_target(" dns:www.example.test "), target(None, "www.example.test"));
        assert_eq!(parse_target("dns:_http._tcp.example.test"), target(None, "_http._tcp.example.test"));
        for bad in [
            "",
            "www.example.test",
            "www.example.test:53",
            "dns:",
            "dns:.",
            "dns://127.0.0.1",
            "dns://127.0.0.1/",
            "dns:///www.example.test",
            "dns://ns.example.test/www.example.test",
            "dns://127.0.0.1:0/a.test",
            "dns://127.0.0.1:99999/a.test",
            "dns:www.example.test?type=MX",
            "dns:www%2Eexample.test",
            "dns:a b.test",
            "dns:a..test",
            "dns:.a.test",
            "dns:a/b",
            "dns:www.example.test:53",
            "http://www.example.test/",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be refused");
        }
        let message = parse_target("www.example.test").err().unwrap_or_default();
        assert!(message.contains("dns://SERVER[:PORT]/NAME"), "{message}");
    }

    #[test]
    fn config_defaults() {
        assert_eq!(Config::check_defaults(), []);
        let config = match Config::parse("{}") {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.kind, Kind(RecordType::A));
        assert_eq!(config.expect_rcode, Rcode("NOERROR".into()));
        assert_eq!(config.min_records(), 1);
        assert!(config.expect.is_empty() && !config.expect_exactly && !config.tcp && !config.dnssec);
        assert_eq!(config.expected(), Ok(vec![]));
    }

    #[test]
    fn types_and_rcodes_in_any_case() {
        let config = match Config::parse(r#"{"type": "mx", "expect_rcode": "nxdomain"}"#) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.kind, Kind(RecordType::Mx));
        assert_eq!(config.expect_rcode, Rcode("NXDOMAIN".into()));
        assert_eq!(config.min_records(), 0);
        assert!(Rcode::from_json(&"RCODE23".into()).is_ok());
        assert!(Rcode::from_json(&"RCODE".into()).is_err());
        assert!(Rcode::from_json(&"OK".into()).is_err());
    }

    #[test]
    fn bad_values_name_their_key() {
        for (json, key) in [
            (r#"{"type": "BOGUS"}"#, "type"),
            (r#"{"type": 5}"#, "type"),
            (r#"{"expect_rcode": "FINE"}"#, "expect_rcode"),
            (r#"{"min_records": 300}"#, "min_records"),
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

    #[test]
    fn keys_that_go_together() {
        let problems = |json: &str| match Config::parse(json) {
            Ok(config) => config.expected().err().unwrap_or_default(),
            Err(error) => panic!("{error}"),
        };
        let keys = |json: &str| problems(json).into_iter().map(|p| p.key.unwrap_or_default()).collect::<Vec<_>>();
        assert_eq!(keys(r#"{"expect_exactly": true}"#), ["expect_exactly"]);
        assert_eq!(keys(r#"{"min_records": 3, "max_records": 2}"#), ["min_records"]);
        assert_eq!(keys(r#"{"expect": ["192.0.2.1", "www.example.test"]}"#), ["expect"]);
        assert_eq!(keys(r#"{"type": "AAAA", "expect": ["192.0.2.1"]}"#), ["expect"]);
        assert_eq!(keys(r#"{"type": "MX", "expect": ["ten mx.example.test"]}"#), ["expect"]);
        assert_eq!(keys(r#"{"type": "SRV", "expect": ["10 5 www.example.test"]}"#), ["expect"]);
        assert_eq!(keys(r#"{"expect": [""]}"#), ["expect"]);
        let message = problems(r#"{"expect": ["www.example.test"]}"#).remove(0).message;
        assert_eq!(message, "\"www.example.test\" is not an IPv4 address (192.0.2.1), as A records hold");
        assert_eq!(
            keys(r#"{"type": "MX", "expect": ["10 mx.example.test", "mx.example.test"]}"#),
            Vec::<String>::new()
        );
    }
}
