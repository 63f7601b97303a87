//! The SDK for writing Vitals check plugins and notifier plugins in Rust.
//!
//! A Vitals check is a WebAssembly component (`wasm32-wasip2`) that exports the
//! `checker` and `validator` interfaces of the WIT package `vitals:plugin@0.1.3`
//! ([`WIT_VERSION`], world `validating-check`; the file ships in this crate as
//! `wit/plugin.wit`) and may call the host's `http`, `tcp` and `log` interfaces. This
//! crate holds the only copy of the generated bindings, so a plugin crate depends on
//! `vitals-sdk` alone.
//!
//! # A check
//!
//! Declare the `[check.config]` table once, with [`derive@Config`]: the same struct gives
//! `describe` its keys (doc comments become the keys' docs), parses the host's JSON in
//! `run`, and is the whole of `validate`, which the host calls when it loads a config.
//!
//! ```no_run,standalone_crate
//! use vitals_sdk::{Check, CheckRequest, CheckResult, ConfigProblem, Description, PluginConfig};
//!
//! #[derive(vitals_sdk::Config)]
//! struct Config {
//!     /// Greeting to put in the summary.
//!     #[config(default = "hello")]
//!     greeting: String,
//! }
//!
//! struct Hello;
//!
//! impl Check for Hello {
//!     fn describe() -> Description {
//!         vitals_sdk::description("hello", "0.1.0", "Always says OK.", Config::keys())
//!     }
//!     fn validate(config: &str) -> Vec<ConfigProblem> {
//!         vitals_sdk::validate_config::<Config>(config)
//!     }
//!     fn run(request: CheckRequest) -> CheckResult {
//!         match Config::parse(&request.config) {
//!             Ok(config) => vitals_sdk::ok(format!("{} {}", config.greeting, request.target)),
//!             Err(error) => error.into(), // unknown / plugin-error: "invalid config: KEY: message"
//!         }
//!     }
//! }
//!
//! vitals_sdk::register_check!(Hello);
//! ```
//!
//! # Thresholds and ranges
//!
//! Warning and critical thresholds use the Monitoring Plugins range syntax ([`Range`]:
//! `10` alerts outside 0..=10, `~:10` above 10, `10:` below 10, `@10:20` inside). Declare
//! them as `Option<Range>` keys, put them together as [`Thresholds`], let
//! [`Thresholds::evaluate`] say the status of a measured value, and put them on its
//! [`Metric`] with [`Metric::warn_opt`] and [`Metric::crit_opt`], so that perfdata
//! consumers see the same limits:
//!
//! ```
//! use vitals_sdk::{CheckResult, PluginConfig, Range, Reason, Status, Thresholds, metric};
//!
//! #[derive(vitals_sdk::Config)]
//! struct Config {
//!     /// Warn when the queue is longer than this range allows, e.g. "~:100".
//!     warn: Option<Range>,
//!     /// Critical when the queue is longer than this range allows, e.g. "~:500".
//!     crit: Option<Range>,
//! }
//!
//! fn judge(config: &Config, queue_length: f64) -> CheckResult {
//!     let thresholds = Thresholds { warn: config.warn, crit: config.crit };
//!     let summary = format!("{queue_length} messages queued");
//!     let result = match thresholds.evaluate(queue_length) {
//!         Status::Critical => vitals_sdk::critical(summary, Reason::Assertion),
//!         Status::Warning => vitals_sdk::warning(summary, Reason::Assertion),
//!         _ => vitals_sdk::ok(summary),
//!     };
//!     result.with_metric(
//!         metric("queue_length", queue_length, "").warn_opt(thresholds.warn).crit_opt(thresholds.crit).min(0.0),
//!     )
//! }
//!
//! let config = Config::parse(r#"{"warn": "~:100", "crit": "~:500"}"#).map_err(|e| e.to_string())?;
//! let result = judge(&config, 240.0);
//! assert_eq!(result.status, Status::Warning);
//! assert_eq!(result.metrics[0].warn.as_deref(), Some("~:100"));
//! assert_eq!(result.metrics[0].crit.as_deref(), Some("~:500"));
//! assert_eq!(judge(&config, 12.0).status, Status::Ok);
//!
//! // A range that does not parse is a problem `validate` reports with its key.
//! let problems = vitals_sdk::validate_config::<Config>(r#"{"crit": "500:100"}"#);
//! assert_eq!(problems[0].key.as_deref(), Some("crit"));
//! # Ok::<(), String>(())
//! ```
//!
//! Time limits are usually durations rather than ranges: [`Thresholds::time_ms`] turns a
//! `warn_time`/`crit_time` pair of `Option<Duration>` keys into upper limits in
//! milliseconds.
//!
//! # Calling the host
//!
//! [`http::send`] and [`tcp::connect`] go through the host, which checks every call
//! against the check's grants and deadline; a failure is a [`NetError`], and
//! [`net_failure`] makes it the right result. (Natively, as in unit tests, there is no
//! host: keep the judging of a response in functions of their own and test those.)
//!
//! ```no_run
//! use vitals_sdk::http::{self, Request};
//! use vitals_sdk::{CheckRequest, CheckResult, Deadline, format_ms, net_failure, ok, us_to_ms};
//!
//! fn run(request: CheckRequest) -> CheckResult {
//!     let deadline = Deadline::from_ms(request.deadline_ms);
//!     let req = Request {
//!         method: "GET".into(),
//!         url: request.target.clone(),
//!         headers: vec![],
//!         body: None,
//!         timeout_ms: Some(deadline.remaining_ms()),
//!         max_redirects: 5,
//!         tls_verify: true,
//!         max_body_bytes: 65_536,
//!     };
//!     match http::send(&req) {
//!         Ok(response) => ok(format!("{} in {}", response.status, format_ms(us_to_ms(response.timings.total_us)))),
//!         Err(err) => net_failure(&format!("GET {}", request.target), &err),
//!     }
//! }
//!
//! fn banner(host: &str) -> Result<Vec<u8>, vitals_sdk::NetError> {
//!     let (connection, _timings) = vitals_sdk::tcp::connect(host, 22, 2_000)?;
//!     connection.receive(256, 2_000)
//! }
//! # let _ = (run, banner);
//! ```
//!
//! # Everything else
//!
//! Result and metric builders ([`ok`], [`warning`], [`critical`], [`unknown`],
//! [`metric`]), durations and sizes in the one grammar of Vitals ([`parse_duration`],
//! [`format_duration`], [`format_bytes`]), HTTP status-code lists ([`StatusCodes`],
//! [`reason_phrase`]), peer text made safe for a summary ([`sanitize`], [`first_line`])
//! and a deadline clock ([`Deadline`]). Config types of a plugin's own implement
//! [`ConfigValue`]; a serde struct still works with [`parse_config`].
//!
//! # Notifiers
//!
//! A notifier plugin (`vitals:plugin@0.1.1`, world `notify`) delivers the state changes
//! of checks somewhere: it implements [`Notifier`] and registers it with
//! [`register_notifier!`]. It may use [`http`] and [`log`] (not [`tcp`]):
//!
//! ```no_run,standalone_crate
//! use vitals_sdk::{Description, Notifier, StateChange};
//!
//! struct Print;
//!
//! impl Notifier for Print {
//!     fn describe() -> Description {
//!         vitals_sdk::description("print", "0.1.0", "Logs every state change.", vec![])
//!     }
//!     fn notify(event: StateChange, _config: String) -> Result<(), String> {
//!         vitals_sdk::log::info(&format!("{}: {}", event.check, event.summary));
//!         Ok(())
//!     }
//! }
//!
//! vitals_sdk::register_notifier!(Print);
//! ```
//!
//! # Versions
//!
//! The SDK's version is the WIT package's: `vitals-sdk 0.1.3` builds
//! `vitals:plugin@0.1.3` components. Hosts that know 0.1.2 or newer call `validate`; older
//! plugins (world `check`, without `validator`) keep loading in newer hosts.
#![deny(missing_docs)]

/// The bindings generated by `wit_bindgen::generate!` from `wit/plugin.wit` (world
/// `validating-check`: the `checker` and `validator` exports and the host's `http`, `tcp`
/// and `log`). Plugins normally use the re-exports at the crate root instead.
///
/// ```
/// // The same types, by their generated path and by the crate root's re-export.
/// let status: vitals_sdk::bindings::vitals::plugin::types::Status = vitals_sdk::Status::Ok;
/// assert_eq!(status, vitals_sdk::Status::Ok);
/// ```
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "validating-check",
        // `wit` is a symlink to the repository's `wit/`, so the published crate carries
        // the contract it was built against.
        path: "wit",
        pub_export_macro: true,
        default_bindings_module: "vitals_sdk::bindings",
        additional_derives: [PartialEq],
    });
}

/// The bindings generated from `wit/plugin.wit` for the world `notify`. The shared
/// interfaces (`types`, `http`, `log`) are those of [`bindings`], so a notifier uses the
/// same types and host functions as a check. Plugins normally use the re-exports at the
/// crate root instead.
///
/// ```
/// // A notifier's `Description` is the check's: one type in both worlds.
/// let d: vitals_sdk::Description = vitals_sdk::description("print", "0.1.0", "Logs changes.", vec![]);
/// let _: &vitals_sdk::bindings::vitals::plugin::types::Description = &d;
/// ```
#[allow(missing_docs, clippy::all)]
pub mod notifier_bindings {
    wit_bindgen::generate!({
        world: "notify",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "export_notifier",
        default_bindings_module: "vitals_sdk::notifier_bindings",
        additional_derives: [PartialEq],
        with: {
            "vitals:plugin/types@0.1.3": crate::bindings::vitals::plugin::types,
            "vitals:plugin/http@0.1.3": crate::bindings::vitals::plugin::http,
            "vitals:plugin/log@0.1.3": crate::bindings::vitals::plugin::log,
        },
    });
}

mod config;
mod config_value;
mod deadline;
mod describe;
mod net;
mod plugin_config;
mod range;
mod result;
mod status_codes;
mod text;
mod wit_version;

/// One thing wrong with a check's config, as [`Check::validate`] returns it: the key at
/// fault (none for the table as a whole) and a one-line message.
///
/// ```
/// let problem = vitals_sdk::ConfigProblem::at_key("expect_status", "invalid status list \"2xx\"");
/// assert_eq!(problem.key.as_deref(), Some("expect_status"));
/// ```
pub use bindings::exports::vitals::plugin::validator::ConfigProblem;
/// One certificate of a TLS peer's chain, as [`TlsInfo::chain`] lists them.
pub use bindings::vitals::plugin::types::Certificate;
/// One check run, as the host hands it to [`Check::run`].
///
/// ```
/// let request = vitals_sdk::CheckRequest {
///     name: "web".into(),
///     target: "https://example.com/".into(),
///     config: r#"{"expect_status": "200"}"#.into(),
///     deadline_ms: 10_000,
/// };
/// assert_eq!(vitals_sdk::Deadline::from_ms(request.deadline_ms).expired(), false);
/// ```
pub use bindings::vitals::plugin::types::CheckRequest;
/// What a check run produced; build it with [`ok`], [`warning`], [`critical`] and
/// [`unknown`].
///
/// ```
/// let result: vitals_sdk::CheckResult = vitals_sdk::ok("connected in 2.6 ms");
/// assert_eq!((result.summary.as_str(), result.details), ("connected in 2.6 ms", None));
/// ```
pub use bindings::vitals::plugin::types::CheckResult;
/// One config key as `describe` announces it; build it with [`config_key`], or derive
/// every key with [`Config`](derive@Config).
///
/// ```
/// let key: vitals_sdk::ConfigKey = vitals_sdk::config_key("tls", vitals_sdk::ConfigType::Boolean, "Use TLS.");
/// assert_eq!(key.name, "tls");
/// ```
pub use bindings::vitals::plugin::types::ConfigKey;
/// The type of a config key, which the host checks a value against before the plugin
/// sees it; a [`ConfigValue`] names its own.
///
/// ```
/// use vitals_sdk::{ConfigType, ConfigValue};
/// assert_eq!(<std::time::Duration as ConfigValue>::KIND, ConfigType::Duration);
/// ```
pub use bindings::vitals::plugin::types::ConfigType;
/// What a plugin says about itself in `describe`; build it with [`description`].
///
/// ```
/// let d: vitals_sdk::Description = vitals_sdk::description("tcp", "0.1.0", "Connects.", vec![]);
/// assert_eq!(d.version, "0.1.0");
/// ```
pub use bindings::vitals::plugin::types::Description;
/// One measured value with its thresholds and bounds (Monitoring Plugins perfdata); build
/// it with [`metric`].
///
/// ```
/// let m: vitals_sdk::Metric = vitals_sdk::metric("time_connect", 2.6, "ms").warn("100");
/// assert_eq!(m.warn.as_deref(), Some("100"));
/// ```
pub use bindings::vitals::plugin::types::Metric;
/// Why a host call failed; [`net_failure`] makes it a result, `message()` and `reason()`
/// take it apart.
///
/// ```
/// use vitals_sdk::{NetError, Reason};
/// let err = NetError::Connect("connection refused".into());
/// assert_eq!((err.message(), err.reason()), ("connection refused", Reason::Connect));
/// ```
pub use bindings::vitals::plugin::types::NetError;
/// Why a check did not end `ok`: a closed set, so that reports can group failures.
///
/// ```
/// let result = vitals_sdk::critical("body does not contain \"pong\"", vitals_sdk::Reason::Assertion);
/// assert_eq!(result.reason, Some(vitals_sdk::Reason::Assertion));
/// ```
pub use bindings::vitals::plugin::types::Reason;
/// The outcome of a check, with the meanings of the Monitoring Plugins guidelines.
///
/// ```
/// use vitals_sdk::{Status, Thresholds};
/// assert_eq!(Thresholds::default().evaluate(1e9), Status::Ok);
/// ```
pub use bindings::vitals::plugin::types::Status;
/// Durations of the phases of a network exchange, in microseconds, as host calls return
/// them.
///
/// ```
/// let t = vitals_sdk::Timings { dns_us: None, connect_us: Some(2_600), tls_us: None, first_byte_us: None, total_us: 2_700 };
/// assert_eq!(t.connect_us.map(vitals_sdk::us_to_ms), Some(2.6));
/// ```
pub use bindings::vitals::plugin::types::Timings;
/// What a completed TLS handshake established (`Connection::tls_info`, since WIT 0.1.3):
/// version, cipher, the peer's chain and whether it verified.
pub use bindings::vitals::plugin::types::TlsInfo;
pub use config::{de, parse_config};
pub use config_value::{ConfigValue, ListItem, OptionalValue};
pub use deadline::Deadline;
pub use describe::{config_key, description};
/// The result of a failed host call: `denied` and `invalid` are `unknown`, every other
/// error is `critical`, each with its reason.
///
/// ```
/// use vitals_sdk::{NetError, Reason, Status, net_failure};
/// let result = net_failure("connect to 127.0.0.1:9", &NetError::Connect("connection refused".into()));
/// assert_eq!(result.summary, "connect to 127.0.0.1:9 failed: connection refused");
/// assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Connect)));
/// let denied = net_failure("GET https://x/", &NetError::Denied("x:443 is not granted".into()));
/// assert_eq!((denied.status, denied.reason), (Status::Unknown, Some(Reason::Denied)));
/// ```
pub use net::net_failure;
/// What happened to a check, in a [`StateChange`].
///
/// ```
/// use vitals_sdk::ChangeKind;
/// let kind = ChangeKind::FlappingStarted;
/// assert_ne!(kind, ChangeKind::HardChange);
/// ```
pub use notifier_bindings::exports::vitals::plugin::notifier::ChangeKind;
/// One state change of one check, as the host hands it to [`Notifier::notify`].
///
/// ```
/// use vitals_sdk::{ChangeKind, StateChange, Status};
/// let event = StateChange {
///     check: "web".into(),
///     kind: ChangeKind::HardChange,
///     old_status: Some(Status::Ok),
///     new_status: Some(Status::Critical),
///     at_ms: 1_714_564_800_000,
///     summary: "500 Internal Server Error".into(),
///     target: "https://example.com/".into(),
///     report_link: None,
/// };
/// assert_eq!(event.new_status, Some(Status::Critical));
/// ```
pub use notifier_bindings::exports::vitals::plugin::notifier::StateChange;
pub use plugin_config::{ConfigError, CrossChecked, PluginConfig, validate_checked, validate_config};
pub use range::{Range, Thresholds};
pub use result::{critical, duration_ms, format_ms, metric, ok, shown_duration, unknown, us_to_ms, warning};
pub use status_codes::{StatusCodes, reason_phrase};
pub use text::{first_line, sanitize};
/// Why a duration, size or range could not be read (from `vitals-units`).
///
/// ```
/// let error: vitals_sdk::UnitError = vitals_sdk::parse_duration("10").err().ok_or("accepted")?;
/// assert!(error.message().contains("unit"));
/// # Ok::<(), &str>(())
/// ```
pub use vitals_units::UnitError;
/// A byte count for a summary, in binary units (from `vitals-units`).
///
/// ```
/// assert_eq!(vitals_sdk::format_bytes(4096), "4 KiB");
/// ```
pub use vitals_units::format_bytes;
/// A duration for a summary, in the compact form of reports (from `vitals-units`).
///
/// ```
/// assert_eq!(vitals_sdk::format_duration(std::time::Duration::from_millis(1500)), "1.5 s");
/// ```
pub use vitals_units::format_duration;
/// Parses a size such as `"16MiB"` or `"512"` (bytes), the grammar the host reads
/// `memory` with (from `vitals-units`).
///
/// ```
/// assert_eq!(vitals_sdk::parse_bytes("16MiB"), Ok(16 * 1024 * 1024));
/// ```
pub use vitals_units::parse_bytes;
/// Parses a duration such as `"250ms"`, `"1.5s"` or `"1h30m"`: the one grammar of
/// durations in Vitals (from `vitals-units`).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(vitals_sdk::parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
/// ```
pub use vitals_units::parse_duration;
pub use wit_version::WIT_VERSION;

/// Derives [`PluginConfig`] for a struct whose fields are a plugin's config keys: one
/// declaration gives the `describe` keys and the parsing of the host's config JSON.
///
/// Every field is a key named as the field; its doc comment is the key's doc, its type
/// (a [`ConfigValue`]) gives the key's `config-type` and how a value is read. In
/// `#[config(...)]`:
///
/// | attribute | meaning |
/// |---|---|
/// | `default = "GET"`, `default = 5`, `default = true`, `default = 0.5`, `default = ["a"]` | the value when the key is left out, written as in `checks.toml`; `describe` announces it as TOML, and it is read as a given value is ([`PluginConfig::check_defaults`] tests that) |
/// | `required` | the key must be given |
/// | (neither) | the key may be left out: `None` for an `Option`, empty for a list or table ([`OptionalValue`]) |
/// | `rename = "type"` | the key's name, when it is not the field's |
/// | `check = path` | a `fn(&T) -> Result<(), String>` run on a value after it was read (on the `T` of an `Option<T>`) |
///
/// ```
/// use std::collections::BTreeMap;
/// use std::time::Duration;
/// use vitals_sdk::{ConfigType, PluginConfig, StatusCodes};
///
/// #[derive(vitals_sdk::Config)]
/// struct Config {
///     /// HTTP method of the request.
///     #[config(default = "GET")]
///     method: String,
///     /// Extra request headers.
///     headers: BTreeMap<String, String>,
///     /// Accepted status codes.
///     #[config(default = "200-399")]
///     expect_status: StatusCodes,
///     /// Warn when the exchange takes longer than this.
///     warn_time: Option<Duration>,
///     /// The URL to report to.
///     #[config(required, rename = "report-url")]
///     report_url: String,
/// }
///
/// let keys = Config::keys();
/// assert_eq!(keys[2].default.as_deref(), Some("\"200-399\""));
/// assert_eq!((keys[3].kind, keys[4].name.as_str(), keys[4].required), (ConfigType::Duration, "report-url", true));
/// assert!(Config::check_defaults().is_empty());
///
/// let config = Config::parse(r#"{"report-url": "https://x", "warn_time": "500ms"}"#).map_err(|e| e.to_string())?;
/// assert_eq!((config.method.as_str(), config.warn_time), ("GET", Some(Duration::from_millis(500))));
/// assert!(config.expect_status.contains(301) && config.headers.is_empty());
///
/// let error = Config::parse(r#"{"expect_status": "2xx"}"#).err().ok_or("accepted")?;
/// let keys: Vec<_> = error.problems().iter().map(|p| p.key.as_deref()).collect();
/// assert_eq!(keys, [Some("expect_status"), Some("report-url")]);
/// # Ok::<(), String>(())
/// ```
///
/// Misuse is a compile error that says what to do: a key without a doc comment, a
/// `default` on an `Option`, `required` with a `default`, an unknown attribute, or a
/// non-optional type with neither `default` nor `required`:
///
/// ```compile_fail
/// #[derive(vitals_sdk::Config)]
/// struct Config {
///     /// How many bytes to read; left out, it means... nothing: a compile error.
///     max_bytes: u32,
/// }
/// ```
pub use vitals_sdk_derive::Config;

/// The JSON crate the config traits speak ([`ConfigValue::from_json`] takes a
/// [`serde_json::Value`]), so that a plugin implementing them needs no dependency of its own.
///
/// ```
/// let value: vitals_sdk::serde_json::Value = "GET".into();
/// assert_eq!(value.as_str(), Some("GET"));
/// ```
pub use serde_json;

#[doc(hidden)]
#[path = "derive_support.rs"]
pub mod __private;

// The derive's code names the SDK `::vitals_sdk`, which this makes work inside the SDK too.
extern crate self as vitals_sdk;

pub mod calendar;
pub mod dns;
pub mod exec;
pub mod http;
pub mod log;
pub mod ping;
pub mod session;
pub mod starttls;
pub mod system;
pub mod tcp;
#[cfg(feature = "testing")]
pub mod testing;
// Where host calls go in a native build (`cargo test`), where wit-bindgen's stubs abort.
#[cfg(not(target_arch = "wasm32"))]
mod native;

/// A check plugin: what [`register_check!`] turns into the component's `checker` and
/// `validator` exports.
///
/// ```
/// use vitals_sdk::{Check, CheckRequest, CheckResult, ConfigProblem, Description};
///
/// struct Hello;
///
/// impl Check for Hello {
///     fn describe() -> Description {
///         vitals_sdk::description("hello", "0.1.0", "Always says OK.", vec![])
///     }
///     fn run(request: CheckRequest) -> CheckResult {
///         vitals_sdk::ok(format!("hello {}", request.target))
///     }
/// }
///
/// assert!(Hello::validate("{}").is_empty());
/// ```
pub trait Check {
    /// Says what the plugin is and which configuration keys it accepts. Called once when
    /// the plugin is loaded, without grants: it must not use the network.
    fn describe() -> Description;

    /// Runs one check. Failures are results with a status and a reason, never panics.
    fn run(request: CheckRequest) -> CheckResult;

    /// Checks a `[check.config]` table (a JSON object whose keys and types the host has
    /// already checked against [`Check::describe`]) and returns every problem found; none
    /// means the config is good. The host calls it when it loads a config, without grants
    /// and under a short deadline: it must not use the network.
    ///
    /// The default finds no problems. With a config derived by
    /// [`Config`](derive@crate::Config) it is one line (see [`validate_config`]):
    /// `vitals_sdk::validate_config::<Config>(config)`.
    fn validate(config: &str) -> Vec<ConfigProblem> {
        let _ = config;
        Vec::new()
    }
}

/// Exports a type implementing [`Check`] as the component's `vitals:plugin/checker` and
/// `vitals:plugin/validator` (world `validating-check`).
///
/// Use it once per plugin crate (a `cdylib`), with a type name defined in that crate:
///
/// ```no_run,standalone_crate
/// struct MyCheck;
///
/// impl vitals_sdk::Check for MyCheck {
///     fn describe() -> vitals_sdk::Description {
///         vitals_sdk::description("mine", "0.1.0", "Says OK.", vec![])
///     }
///     fn run(_request: vitals_sdk::CheckRequest) -> vitals_sdk::CheckResult {
///         vitals_sdk::ok("fine")
///     }
/// }
///
/// vitals_sdk::register_check!(MyCheck);
/// ```
#[macro_export]
macro_rules! register_check {
    ($t:ident) => {
        impl $crate::bindings::exports::vitals::plugin::checker::Guest for $t {
            fn describe() -> $crate::Description {
                <$t as $crate::Check>::describe()
            }

            fn run(request: $crate::CheckRequest) -> $crate::CheckResult {
                <$t as $crate::Check>::run(request)
            }
        }

        impl $crate::bindings::exports::vitals::plugin::validator::Guest for $t {
            fn validate(config: ::std::string::String) -> ::std::vec::Vec<$crate::ConfigProblem> {
                <$t as $crate::Check>::validate(&config)
            }
        }

        $crate::bindings::export!($t with_types_in $crate::bindings);
    };
}

/// A notifier plugin: what [`register_notifier!`] turns into the component's `notifier`
/// export (`vitals:plugin@0.1.1`).
///
/// ```
/// use vitals_sdk::{ChangeKind, Description, Notifier, PluginConfig, StateChange, Status};
///
/// /// The `[notifier.config]` table.
/// #[derive(vitals_sdk::Config)]
/// struct Config {
///     /// Prefix of every line.
///     #[config(default = "vitals")]
///     prefix: String,
/// }
///
/// struct Print;
///
/// impl Notifier for Print {
///     fn describe() -> Description {
///         vitals_sdk::description("print", "0.1.0", "Formats every state change.", Config::keys())
///     }
///     fn notify(event: StateChange, config: String) -> Result<(), String> {
///         let config = Config::parse(&config).map_err(|e| e.to_string())?;
///         let line = format!("{}: {} is {:?}", config.prefix, event.check, event.new_status);
///         if line.is_empty() { Err("nothing to say".into()) } else { Ok(()) }
///     }
/// }
///
/// let event = StateChange {
///     check: "web".into(),
///     kind: ChangeKind::HardChange,
///     old_status: Some(Status::Ok),
///     new_status: Some(Status::Critical),
///     at_ms: 0,
///     summary: "500".into(),
///     target: "https://example.com/".into(),
///     report_link: None,
/// };
/// assert_eq!(Print::notify(event.clone(), "{}".into()), Ok(()));
/// let refused = Print::notify(event, r#"{"prefx": "x"}"#.into());
/// assert_eq!(refused, Err("invalid config: prefx: unknown key (did you mean `prefix`?)".to_string()));
/// ```
pub trait Notifier {
    /// Says what the plugin is and which configuration keys it accepts in its
    /// `[notifier.config]` table. Called once when the plugin is loaded, without grants: it
    /// must not use the network.
    fn describe() -> Description;

    /// Delivers one state change; `config` is the `[notifier.config]` table as a JSON
    /// object (parse it with [`parse_config`]). An error says why the change could not be
    /// delivered; the host logs it and calls again later.
    fn notify(event: StateChange, config: String) -> Result<(), String>;
}

/// Exports a type implementing [`Notifier`] as the component's `vitals:plugin/notifier`.
///
/// Use it once per plugin crate (a `cdylib`), with a type name defined in that crate:
///
/// ```no_run,standalone_crate
/// struct MyNotifier;
///
/// impl vitals_sdk::Notifier for MyNotifier {
///     fn describe() -> vitals_sdk::Description {
///         vitals_sdk::description("mine", "0.1.0", "Logs every change.", vec![])
///     }
///     fn notify(event: vitals_sdk::StateChange, _config: String) -> Result<(), String> {
///         vitals_sdk::log::info(&event.summary);
///         Ok(())
///     }
/// }
///
/// vitals_sdk::register_notifier!(MyNotifier);
/// ```
#[macro_export]
macro_rules! register_notifier {
    ($t:ident) => {
        impl $crate::notifier_bindings::exports::vitals::plugin::notifier::Guest for $t {
            fn describe() -> $crate::Description {
                <$t as $crate::Notifier>::describe()
            }

            fn notify(event: $crate::StateChange, config: ::std::string::String) -> ::core::result::Result<(), ::std::string::String> {
                <$t as $crate::Notifier>::notify(event, config)
            }
        }

        $crate::notifier_bindings::export_notifier!($t with_types_in $crate::notifier_bindings);
    };
}
