//! The cases file format: what a case says, as serde types.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use vitals_units::Range;

use crate::CasesError;

/// Most cases one file may hold, and most answers one case may give: a test file, not a
/// database.
pub const MAX_ITEMS: usize = 10_000;

/// A whole cases file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The cases, in the order written (`[[case]]`).
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
}

impl CaseFile {
    /// Parses a cases file, checking what TOML alone cannot (unique names, sizes).
    ///
    /// ```
    /// let err = vitals_cases::CaseFile::parse("[[case]]\nname = 1\n").unwrap_err();
    /// assert!(err.to_string().contains("line 2"), "{err}");
    /// ```
    pub fn parse(text: &str) -> Result<CaseFile, CasesError> {
        let file: CaseFile = toml::from_str(text).map_err(|e| CasesError::Syntax(e.to_string().trim().to_string()))?;
        if file.cases.len() > MAX_ITEMS {
            return Err(CasesError::Syntax(format!("{} cases; at most {MAX_ITEMS} are read", file.cases.len())));
        }
        let mut seen = std::collections::BTreeSet::new();
        for case in &file.cases {
            if case.name.trim().is_empty() {
                return Err(CasesError::Case { case: case.name.clone(), message: "a case needs a name".into() });
            }
            if !seen.insert(case.name.as_str()) {
                return Err(CasesError::Case {
                    case: case.name.clone(),
                    message: "two cases have this name; names must be unique".into(),
                });
            }
            if case.http.len() > MAX_ITEMS || case.tcp.len() > MAX_ITEMS {
                return Err(CasesError::Case {
                    case: case.name.clone(),
                    message: format!("more than {MAX_ITEMS} answers"),
                });
            }
        }
        Ok(file)
    }
}

/// One case: a check to run, the host's answers, and the expected result.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Shown in the report (TAP, JUnit); unique in the file.
    pub name: String,
    /// The check's target (a URL or `host:port`).
    pub target: String,
    /// The check's `[check.config]` table.
    #[serde(default)]
    pub config: toml::Table,
    /// The hosts and ports the check is granted, as in `checks.toml` (default: the
    /// target's host and port).
    #[serde(default)]
    pub allow: Option<Vec<String>>,
    /// The check's timeout, in the duration grammar (default: the host's).
    #[serde(default)]
    pub timeout: Option<String>,
    /// What the result must be.
    pub expect: Expect,
    /// Answers to the plugin's HTTP requests, in order.
    #[serde(default)]
    pub http: Vec<HttpAnswer>,
    /// Answers to the plugin's TCP connections, in order.
    #[serde(default)]
    pub tcp: Vec<TcpAnswer>,
}

impl Case {
    /// The case's `config` table as the JSON object a plugin's `run` receives in
    /// `check-request.config`, mapped as the host maps `[check.config]`: a datetime becomes
    /// its TOML text, a float JSON cannot hold (NaN, infinity) becomes `null`.
    ///
    /// ```
    /// let file = vitals_cases::CaseFile::parse("[[case]]\nname = \"a\"\ntarget = \"t\"\n\
    ///     config = { expect_status = \"200\", headers = { Accept = \"*/*\" }, max_redirects = 0 }\n\
    ///     expect = { status = \"ok\" }\n").unwrap();
    /// assert_eq!(file.cases[0].config_json(),
    ///     r#"{"expect_status":"200","headers":{"Accept":"*/*"},"max_redirects":0}"#);
    /// ```
    pub fn config_json(&self) -> String {
        serde_json::Value::Object(self.config.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()).to_string()
    }
}

/// A `[check.config]` value as the JSON a plugin receives: the one mapping the host uses
/// for `checks.toml` and both kits use for a case (a datetime becomes its text, a float
/// that JSON cannot hold becomes `null`).
///
/// ```
/// let table: toml::Table = "v = [1, 2.5, \"x\"]".parse().unwrap();
/// assert_eq!(vitals_cases::toml_to_json(&table["v"]).to_string(), "[1,2.5,\"x\"]");
/// ```
pub fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

/// The status of a result, as written in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `ok`
    Ok,
    /// `warning`
    Warning,
    /// `critical`
    Critical,
    /// `unknown`
    Unknown,
}

impl Status {
    /// The word as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }
}

/// Why a result is not `ok`, as the WIT names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// `dns`
    Dns,
    /// `connect`
    Connect,
    /// `tls`
    Tls,
    /// `timeout`
    Timeout,
    /// `http-status`
    HttpStatus,
    /// `assertion`
    Assertion,
    /// `protocol`
    Protocol,
    /// `denied`
    Denied,
    /// `plugin-error`
    PluginError,
}

impl Reason {
    /// The word as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Dns => "dns",
            Reason::Connect => "connect",
            Reason::Tls => "tls",
            Reason::Timeout => "timeout",
            Reason::HttpStatus => "http-status",
            Reason::Assertion => "assertion",
            Reason::Protocol => "protocol",
            Reason::Denied => "denied",
            Reason::PluginError => "plugin-error",
        }
    }
}

/// What the result of a case must be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The status.
    pub status: Status,
    /// The reason, when given.
    #[serde(default)]
    pub reason: Option<Reason>,
    /// A regular expression the summary must match somewhere.
    #[serde(default)]
    pub summary: Option<Pattern>,
    /// Metrics that must be present, with their value.
    #[serde(default)]
    pub metrics: BTreeMap<String, MetricExpect>,
}

/// A compiled regular expression from a case.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Pattern, D::Error> {
        let text = String::deserialize(deserializer)?;
        regex::Regex::new(&text).map(Pattern).map_err(|e| {
            let why = e.to_string();
            let why = why.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("invalid pattern").trim();
            serde::de::Error::custom(format!(
                "invalid regular expression {text:?}: {}",
                why.trim_start_matches("error: ")
            ))
        })
    }
}

/// The value a metric must have: a number exactly, or a Monitoring Plugins range it must
/// lie inside (`"0:500"`, `"~:10"`, `"@10:20"` for outside 10..20).
#[derive(Debug, Clone, PartialEq)]
pub enum MetricExpect {
    /// Exactly this value.
    Exact(f64),
    /// A value the range does not alert on.
    Within(Range),
}

impl<'de> Deserialize<'de> for MetricExpect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MetricExpect, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Int(n) => Ok(MetricExpect::Exact(n as f64)),
            Raw::Float(x) => Ok(MetricExpect::Exact(x)),
            Raw::Text(text) => Range::parse(&text)
                .map(MetricExpect::Within)
                .map_err(|e| serde::de::Error::custom(format!("metric range {text:?}: {e}"))),
        }
    }
}

/// A host call that failed, as the plugin sees it (a WIT `net-error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetFailure {
    /// Which error.
    pub kind: ErrorKind,
    /// The message the plugin gets.
    #[serde(default)]
    pub message: String,
}

/// The cases of the WIT `net-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// Not granted.
    Denied,
    /// Name resolution failed.
    Dns,
    /// The connection failed.
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// Out of time.
    Timeout,
    /// The peer broke the protocol.
    Protocol,
    /// The request was invalid.
    Invalid,
}

/// Phase timings of an answer, in the duration grammar (`"1.5ms"`, `"250us"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timings {
    /// Name resolution.
    #[serde(default, with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub dns: Option<Duration>,
    /// Connection establishment.
    #[serde(default, with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub connect: Option<Duration>,
    /// TLS handshake.
    #[serde(default, with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub tls: Option<Duration>,
    /// Request sent to first byte of the response.
    #[serde(default, with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub first_byte: Option<Duration>,
    /// The whole exchange (default: the sum of the phases given).
    #[serde(default, with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub total: Option<Duration>,
}

impl Timings {
    /// The whole exchange: `total`, or the sum of the phases.
    pub fn total(&self) -> Duration {
        self.total.unwrap_or_else(|| {
            [self.dns, self.connect, self.tls, self.first_byte].into_iter().flatten().fold(Duration::ZERO, |a, b| a + b)
        })
    }

    /// True when no phase is given.
    pub fn is_empty(&self) -> bool {
        *self == Timings::default()
    }
}

/// One answer to an HTTP request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpAnswer {
    /// The method the request must use (any when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL the request must be for (any when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The status code of the response (200 when left out and there is no `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Response headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body as base64, for bytes that are not text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// Phase timings.
    #[serde(default, skip_serializing_if = "Timings::is_empty")]
    pub timings: Timings,
    /// The address that answered (default `192.0.2.1:<port>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_addr: Option<String>,
    /// The URL after redirects (default: the request's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// Redirects followed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redirects: u8,
    /// The call fails instead of answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<NetFailure>,
}

impl HttpAnswer {
    /// The body's bytes.
    pub fn body_bytes(&self) -> Result<Vec<u8>, String> {
        match (&self.body, &self.body_base64) {
            (Some(_), Some(_)) => Err("give `body` or `body_base64`, not both".into()),
            (Some(text), None) => Ok(text.as_bytes().to_vec()),
            (None, Some(b64)) => {
                base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|e| format!("body_base64: {e}"))
            }
            (None, None) => Ok(Vec::new()),
        }
    }

    /// Sets the body from bytes: text when they are UTF-8, base64 otherwise.
    pub fn set_body(&mut self, bytes: &[u8]) {
        (self.body, self.body_base64) = match std::str::from_utf8(bytes) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (None, Some(base64::engine::general_purpose::STANDARD.encode(bytes))),
        };
        if bytes.is_empty() {
            self.body = None;
        }
    }
}

/// One answer to a TCP connection: how the connect went, then the exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpAnswer {
    /// The host the plugin must connect to (any when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The port the plugin must connect to (any when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Phase timings of the connect.
    #[serde(default, skip_serializing_if = "Timings::is_empty")]
    pub timings: Timings,
    /// The address connected to (default `192.0.2.1:<port>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_addr: Option<String>,
    /// The connect fails instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<NetFailure>,
    /// What happens on the connection, in order; past the end the peer has closed it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub script: Vec<Step>,
}

/// One step of a TCP exchange, written as a table with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The peer sends these bytes (`receive = "220 ready\r\n"` or `receive_base64`).
    Receive(Vec<u8>),
    /// The plugin must send these bytes (`send = "EHLO x\r\n"` or `send_base64`), in one
    /// call or several.
    Send(Vec<u8>),
    /// The plugin upgrades to TLS, which takes this long (`tls = "3ms"`).
    Tls(Duration),
    /// The next call fails (`error = { kind = "timeout", message = "..." }`).
    Error(NetFailure),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receive: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receive_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    send: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    send_base64: Option<String>,
    #[serde(default, with = "opt_duration", skip_serializing_if = "Option::is_none")]
    tls: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<NetFailure>,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Step, D::Error> {
        use serde::de::Error;
        let raw = RawStep::deserialize(deserializer)?;
        let decode = |b64: String| {
            base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|e| D::Error::custom(e.to_string()))
        };
        let mut steps = Vec::new();
        if let Some(text) = raw.receive {
            steps.push(Step::Receive(text.into_bytes()));
        }
        if let Some(b64) = raw.receive_base64 {
            steps.push(Step::Receive(decode(b64)?));
        }
        if let Some(text) = raw.send {
            steps.push(Step::Send(text.into_bytes()));
        }
        if let Some(b64) = raw.send_base64 {
            steps.push(Step::Send(decode(b64)?));
        }
        if let Some(d) = raw.tls {
            steps.push(Step::Tls(d));
        }
        if let Some(e) = raw.error {
            steps.push(Step::Error(e));
        }
        match steps.len() {
            1 => Ok(steps.remove(0)),
            0 => Err(D::Error::custom("a step needs one of receive, send, tls or error")),
            _ => Err(D::Error::custom("a step has exactly one of receive, send, tls or error; split it in two")),
        }
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut raw =
            RawStep { receive: None, receive_base64: None, send: None, send_base64: None, tls: None, error: None };
        let as_text = |bytes: &[u8]| std::str::from_utf8(bytes).ok().map(str::to_string);
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        match self {
            Step::Receive(bytes) => match as_text(bytes) {
                Some(text) => raw.receive = Some(text),
                None => raw.receive_base64 = Some(b64(bytes)),
            },
            Step::Send(bytes) => match as_text(bytes) {
                Some(text) => raw.send = Some(text),
                None => raw.send_base64 = Some(b64(bytes)),
            },
            Step::Tls(d) => raw.tls = Some(*d),
            Step::Error(e) => raw.error = Some(e.clone()),
        }
        raw.serialize(serializer)
    }
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// Durations in the shared grammar; written back exactly, in microseconds.
mod opt_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => vitals_units::parse_duration(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }

    pub fn serialize<S: Serializer>(value: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_str(&format!("{}us", d.as_micros())),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_case() {
        let file = CaseFile::parse(
            r#"
[[case]]
name = "smtp"
target = "mail.test:25"
config = { expect = "220" }
allow = ["mail.test:25"]
timeout = "5s"
[case.expect]
status = "critical"
reason = "protocol"
summary = "^bad"
metrics = { time_connect = "0:10", bytes = 12 }
[[case.tcp]]
host = "mail.test"
port = 25
timings = { dns = "1ms", connect = "250us" }
script = [ { receive = "220 hi\r\n" }, { send = "QUIT\r\n" }, { tls = "2ms" }, { error = { kind = "timeout", message = "slow" } } ]
"#,
        )
        .unwrap();
        let case = &file.cases[0];
        assert_eq!(case.expect.status, Status::Critical);
        assert_eq!(case.expect.reason, Some(Reason::Protocol));
        assert_eq!(case.expect.metrics["bytes"], MetricExpect::Exact(12.0));
        assert_eq!(case.tcp[0].timings.total(), Duration::from_micros(1250));
        assert_eq!(case.tcp[0].script.len(), 4);
        assert_eq!(case.tcp[0].script[2], Step::Tls(Duration::from_millis(2)));
    }

    #[test]
    fn mistakes_say_where_and_why() {
        for (text, needle) in [
            ("[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"fine\" }\n", "line 4"),
            (
                "[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\", summary = \"(\" }\n",
                "invalid regular",
            ),
            (
                "[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\", metrics = { m = \"10:5\" } }\n",
                "metric range",
            ),
            (
                "[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\" }\n[[case.tcp]]\nscript = [{ send = \"a\", receive = \"b\" }]\n",
                "exactly one",
            ),
            (
                "[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\" }\nhttp = [{ timings = { total = \"soon\" } }]\n",
                "soon",
            ),
            (
                "[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\" }\n[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\" }\n",
                "unique",
            ),
            ("[[case]]\nname = \"a\"\ntarget = \"t\"\nexpected = { status = \"ok\" }\n", "unknown field"),
        ] {
            let err = CaseFile::parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
    }

    #[test]
    fn config_becomes_the_json_a_plugin_receives() {
        let file = CaseFile::parse(
            "[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\" }\n\
             [case.config]\nsend = \"QUIT\\\\r\\\\n\"\nratio = 0.5\nnan = nan\non = true\nwhen = 1979-05-27T07:32:00Z\n\
             codes = [200, 204]\n",
        )
        .unwrap();
        let json: serde_json::Value = serde_json::from_str(&file.cases[0].config_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "send": "QUIT\\r\\n", "ratio": 0.5, "nan": null, "on": true,
                "when": "1979-05-27T07:32:00Z", "codes": [200, 204]
            })
        );
        let empty = CaseFile::parse("[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\" }\n").unwrap();
        assert_eq!(empty.cases[0].config_json(), "{}");
    }

    #[test]
    fn steps_and_bodies_round_trip() {
        let mut answer = HttpAnswer::default();
        answer.set_body(&[0xff, 0, 1]);
        assert!(answer.body.is_none());
        assert_eq!(answer.body_bytes().unwrap(), vec![0xff, 0, 1]);
        let tcp = TcpAnswer {
            script: vec![
                Step::Receive(b"220\r\n".to_vec()),
                Step::Send(vec![0xff]),
                Step::Tls(Duration::from_micros(7)),
            ],
            timings: Timings { connect: Some(Duration::from_micros(1500)), ..Timings::default() },
            ..TcpAnswer::default()
        };
        let text = toml::to_string(&TcpWrap { tcp: vec![tcp.clone()] }).unwrap();
        let back: TcpWrap = toml::from_str(&text).unwrap();
        assert_eq!(back.tcp[0], tcp, "{text}");
    }

    #[derive(Serialize, Deserialize)]
    struct TcpWrap {
        tcp: Vec<TcpAnswer>,
    }
}
