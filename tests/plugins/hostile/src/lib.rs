//! `hostile`: a check plugin that misbehaves on purpose, so that the host's tests can
//! check that the sandbox, the limits and the deadlines hold.
//!
//! It is built directly on `wit-bindgen` (not the SDK) so that it depends on nothing
//! but the WIT contract. `run` picks a behaviour from the `mode` config key; each mode
//! is one small function below (sandbox abuse in [`abuse`], host API use in [`net`]).

mod abuse;
mod net;

wit_bindgen::generate!({ world: "validating-check", path: "../../../wit" });

use exports::vitals::plugin::checker::Guest;
use vitals::plugin::types::{
    CheckRequest, CheckResult, ConfigKey, ConfigType, Description, Metric, Reason, Status,
};

/// The `[check.config]` table. Every key but `mode` is optional; each mode reads the
/// ones it needs.
#[derive(serde::Deserialize)]
struct Config {
    mode: String,
    url: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    secret: Option<String>,
    bytes: Option<u64>,
}

struct Hostile;

impl Guest for Hostile {
    fn describe() -> Description {
        let key = |name: &str, kind, required, doc: &str| ConfigKey {
            name: name.into(),
            kind,
            default: None,
            required,
            doc: doc.into(),
        };
        Description {
            name: "hostile".into(),
            version: "0.1.0".into(),
            summary: "A test fixture that misbehaves on purpose (loops, exhausts memory or \
                      stack, panics, floods output, probes the sandbox) to test the host."
                .into(),
            config: vec![
                key(
                    "mode",
                    ConfigType::String,
                    true,
                    "Which misbehaviour to perform.",
                ),
                key(
                    "url",
                    ConfigType::String,
                    false,
                    "URL fetched by the `http` mode.",
                ),
                key(
                    "host",
                    ConfigType::String,
                    false,
                    "Host the `tcp` mode connects to.",
                ),
                key(
                    "port",
                    ConfigType::Integer,
                    false,
                    "Port for the `tcp` and `escape` modes.",
                ),
                key(
                    "secret",
                    ConfigType::String,
                    false,
                    "Secret echoed by `echo-secret`.",
                ),
                key(
                    "bytes",
                    ConfigType::Integer,
                    false,
                    "Size for `huge-summary`, ms for `sleep`, calls for the floods.",
                ),
            ],
        }
    }

    fn run(request: CheckRequest) -> CheckResult {
        let config: Config = match serde_json::from_str(&request.config) {
            Ok(config) => config,
            Err(e) => {
                return fail(
                    Status::Unknown,
                    Reason::PluginError,
                    format!("bad config: {e}"),
                );
            }
        };
        match config.mode.as_str() {
            "ok" => ok_mode(),
            "loop" => abuse::spin(),
            "membomb" => abuse::membomb(),
            "stack" => abuse::stack(),
            "panic" => abuse::panic(),
            "trap" => abuse::trap(),
            "http" => net::http(config.url),
            "tcp" => net::tcp(config.host, config.port),
            "huge-summary" => abuse::huge_summary(config.bytes),
            "log-flood" => abuse::log_flood(),
            "echo-secret" => abuse::echo_secret(config.secret),
            "escape" => net::escape(config.port),
            "sleep" => abuse::sleep(config.bytes),
            "disguised-secret" => abuse::disguised_secret(config.secret),
            "forged-output" => abuse::forged_output(),
            "refusal-flood" => net::refusal_flood(config.bytes),
            "connect-flood" => net::connect_flood(config.host, config.port, config.bytes),
            other => fail(
                Status::Unknown,
                Reason::PluginError,
                format!("unknown mode '{other}'"),
            ),
        }
    }
}

/// The validator (WIT 0.1.2) misbehaves too: `validate-loop` never returns,
/// `validate-flood` returns 1000 huge problems with escapes and the `secret`,
/// `validate-panic` panics; every other mode has nothing to say.
impl exports::vitals::plugin::validator::Guest for Hostile {
    fn validate(config: String) -> Vec<exports::vitals::plugin::validator::ConfigProblem> {
        use exports::vitals::plugin::validator::ConfigProblem;
        let value: serde_json::Value = serde_json::from_str(&config).unwrap_or_default();
        let secret = value["secret"].as_str().unwrap_or("").to_string();
        match value["mode"].as_str().unwrap_or("") {
            "validate-loop" => {
                let _never = abuse::spin();
                Vec::new()
            }
            "validate-panic" => panic!("hostile validator panicked on purpose"),
            "validate-flood" => (0..1000)
                .map(|i| ConfigProblem {
                    key: Some(if i % 2 == 0 { "mode".into() } else { "k".repeat(10_000) }),
                    message: format!("\u{1b}[31m{secret} {}\n second line", "x".repeat(10_000)),
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

export!(Hostile);

/// `ok`: a well-behaved run, the baseline the other modes are compared with.
fn ok_mode() -> CheckResult {
    let mut result = ok("fine".into());
    result.metrics.push(metric("answer", 42.0));
    result
}

/// An `ok` result with `summary` and nothing else.
fn ok(summary: String) -> CheckResult {
    CheckResult {
        status: Status::Ok,
        summary,
        metrics: Vec::new(),
        details: None,
        reason: None,
    }
}

/// A failed result.
fn fail(status: Status, reason: Reason, summary: String) -> CheckResult {
    CheckResult {
        status,
        summary,
        metrics: Vec::new(),
        details: None,
        reason: Some(reason),
    }
}

/// A unitless metric without thresholds or bounds.
fn metric(name: &str, value: f64) -> Metric {
    Metric {
        name: name.into(),
        value,
        unit: String::new(),
        warn: None,
        crit: None,
        min: None,
        max: None,
    }
}
