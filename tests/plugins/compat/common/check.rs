// The check of every compat fixture, `include!`d by each one right after its own
// `wit_bindgen::generate!` of a released WIT version: the same plugin, built against each
// frozen contract. It needs `NAME` (what `describe` calls it) from the including crate.
//
// `describe` declares one key of each kind the tests need: `expect_status` (integer),
// `timeout` (duration), `warn` and `crit` (range). `run` GETs the target through the host's
// `http` import: `ok` "HTTP <status> in <ms> ms" with metric `time` (in ms, carrying `warn`
// and `crit` as its thresholds) when the status is `expect_status`, else `critical` with
// reason `http-status`.

use exports::vitals::plugin::checker::Guest;
use vitals::plugin::http;
use vitals::plugin::types::{
    CheckRequest, CheckResult, ConfigKey, ConfigType, Description, Metric, NetError, Reason, Status,
};

/// The `[check.config]` table, as the host hands it over (already validated against
/// `describe`, but a plugin must not trust that).
#[derive(serde::Deserialize)]
struct Config {
    expect_status: Option<u16>,
    timeout: Option<String>,
    warn: Option<String>,
    crit: Option<String>,
}

struct Compat;

impl Guest for Compat {
    fn describe() -> Description {
        let key = |name: &str, kind, default: Option<&str>, doc: &str| ConfigKey {
            name: name.into(),
            kind,
            default: default.map(Into::into),
            required: false,
            doc: doc.into(),
        };
        Description {
            name: NAME.into(),
            version: "0.1.0".into(),
            summary: "A test fixture built against a released WIT version: GETs the target \
                      through the host and expects a status code."
                .into(),
            config: vec![
                key("expect_status", ConfigType::Integer, Some("200"), "The status code that means the service is up."),
                key("timeout", ConfigType::Duration, Some("\"5s\""), "Time limit of the request."),
                key(
                    "warn",
                    ConfigType::Range,
                    None,
                    "Warning range of the response time in ms, reported with the metric.",
                ),
                key(
                    "crit",
                    ConfigType::Range,
                    None,
                    "Critical range of the response time in ms, reported with the metric.",
                ),
            ],
        }
    }

    fn run(request: CheckRequest) -> CheckResult {
        let config: Config = match serde_json::from_str(&request.config) {
            Ok(config) => config,
            Err(e) => return fail(Status::Unknown, Reason::PluginError, format!("bad config: {e}")),
        };
        let timeout_ms = match config.timeout.as_deref().map(millis).transpose() {
            Ok(ms) => ms,
            Err(e) => return fail(Status::Unknown, Reason::PluginError, e),
        };
        let expected = config.expect_status.unwrap_or(200);
        let request = http::Request {
            method: "GET".into(),
            url: request.target,
            headers: Vec::new(),
            body: None,
            timeout_ms,
            max_redirects: 0,
            tls_verify: true,
            max_body_bytes: 1024,
        };
        let response = match http::send(&request) {
            Ok(response) => response,
            Err(e) => return net_failure(e),
        };
        let ms = response.timings.total_us as f64 / 1000.0;
        let time = Metric {
            name: "time".into(),
            value: ms,
            unit: "ms".into(),
            warn: config.warn,
            crit: config.crit,
            min: Some(0.0),
            max: None,
        };
        let (status, reason, summary) = if response.status == expected {
            (Status::Ok, None, format!("HTTP {} in {ms:.1} ms", response.status))
        } else {
            (Status::Critical, Some(Reason::HttpStatus), format!("HTTP {}, expected {expected}", response.status))
        };
        CheckResult { status, summary, metrics: vec![time], details: None, reason }
    }
}

export!(Compat);

/// A duration as the fixture needs it: a whole number of `ms`, `s` or `m`.
fn millis(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let scale = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        _ => return Err(format!("timeout {text:?}: write whole ms, s or m")),
    };
    number
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("timeout {text:?} is not a number of {unit}"))
}

/// A host error as a result: `unknown` for a refused capability, else `critical` with
/// the reason that matches it.
fn net_failure(error: NetError) -> CheckResult {
    let (status, reason, message) = match error {
        NetError::Denied(m) => (Status::Unknown, Reason::Denied, m),
        NetError::Dns(m) => (Status::Critical, Reason::Dns, m),
        NetError::Connect(m) => (Status::Critical, Reason::Connect, m),
        NetError::Timeout(m) => (Status::Critical, Reason::Timeout, m),
        NetError::Tls(m) => (Status::Critical, Reason::Tls, m),
        NetError::Protocol(m) => (Status::Critical, Reason::Protocol, m),
        NetError::Invalid(m) => (Status::Critical, Reason::PluginError, m),
    };
    fail(status, reason, message)
}

/// A failed result with nothing but its summary.
fn fail(status: Status, reason: Reason, summary: String) -> CheckResult {
    CheckResult { status, summary, metrics: Vec::new(), details: None, reason: Some(reason) }
}
