//! A loaded notifier plugin (`vitals:plugin@0.1.1`, world `notify`): compiled like a
//! check plugin, detected by its `vitals:plugin/notifier` export, linked with the same
//! linker (the same host API), described once, and called in a fresh sandbox per
//! delivery with the limits and deadline machinery of check runs.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use wasmtime::component::{Component, Linker};
use wasmtime::{Store, Trap};

use super::compile::Compiled;
use super::error::LoadError;
use super::state::NetBudget;
use super::state::{RunGrant, RunState};
use super::wit as wit_versions;
use super::wit::notifier_v0_1::{self as wit, NotifyPre};
use crate::plan::Grants;
use crate::plan::describe::PluginDescription;
use crate::result::EventRecord;
use crate::result::state::Event;
use crate::runtime::output;
use vitals_units::{format_bytes, format_duration};

/// The interface every notifier plugin exports, without its version.
pub const NOTIFIER_INTERFACE: &str = "vitals:plugin/notifier";

/// One state change to deliver: a scheduler event with what a person needs to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyEvent {
    /// The check's name.
    pub check: String,
    /// What changed.
    pub event: Event,
    /// The summary of the result that caused it.
    pub summary: String,
    /// What the check is about (its target as shown), or empty when unknown.
    pub target: String,
    /// A link to a report about the check, when there is one.
    pub report_link: Option<String>,
}

impl NotifyEvent {
    /// The event of a stored record, for a check about `target`.
    pub fn new(record: &EventRecord, target: impl Into<String>) -> NotifyEvent {
        NotifyEvent {
            check: record.check.clone(),
            event: record.event,
            summary: record.summary.clone(),
            target: target.into(),
            report_link: None,
        }
    }
}

impl From<EventRecord> for NotifyEvent {
    fn from(record: EventRecord) -> NotifyEvent {
        NotifyEvent {
            check: record.check,
            event: record.event,
            summary: record.summary,
            target: String::new(),
            report_link: None,
        }
    }
}

/// A notifier plugin ready to deliver any number of events.
pub struct NotifierPlugin {
    /// Built-in name or file path, for messages.
    pub label: String,
    /// What it says about itself (its keys are those of `[notifier.config]`).
    pub description: PluginDescription,
    /// The exact `vitals:plugin` version it was built against.
    pub wit_version: String,
    /// What it imports.
    pub imports: Vec<String>,
    /// Size of the component in bytes.
    pub size: usize,
    pre: NotifyPre<RunState>,
}

impl std::fmt::Debug for NotifierPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifierPlugin").field("label", &self.label).finish_non_exhaustive()
    }
}

/// What a component's exports say: the notifier version it implements, if any.
enum Detected {
    Supported(String),
    Unsupported(String),
    /// A check plugin: the exact checker export.
    Check(String),
    NotAPlugin(Vec<String>),
}

/// Whether a component exports `vitals:plugin/notifier` (of any version), from the names
/// of its exports (`LoadError::NotAPlugin` lists them).
pub fn exports_notifier<'a>(exports: impl IntoIterator<Item = &'a str>) -> bool {
    exports
        .into_iter()
        .any(|name| name.starts_with(NOTIFIER_INTERFACE) && name[NOTIFIER_INTERFACE.len()..].starts_with('@'))
}

fn detect(engine: &wasmtime::Engine, component: &Component) -> Detected {
    let exports: Vec<String> = component.component_type().exports(engine).map(|(name, _)| name.to_string()).collect();
    for name in &exports {
        if let Some(version) = name.strip_prefix(NOTIFIER_INTERFACE).and_then(|v| v.strip_prefix('@')) {
            return match version.split('.').take(2).collect::<Vec<_>>().as_slice() {
                ["0", "1"] => Detected::Supported(version.to_string()),
                _ => Detected::Unsupported(version.to_string()),
            };
        }
    }
    match exports.iter().find(|n| n.starts_with(wit_versions::CHECKER_INTERFACE)) {
        Some(checker) => Detected::Check(checker.clone()),
        None => Detected::NotAPlugin(exports),
    }
}

/// Detects the version of a compiled notifier plugin, links it and reads its description.
pub(crate) async fn load(
    engine: &wasmtime::Engine,
    linker: &Linker<RunState>,
    compiled: Compiled,
) -> Result<NotifierPlugin, LoadError> {
    let Compiled { label, size, component } = compiled;
    let label = label.as_str();
    let wit_version = match detect(engine, &component) {
        Detected::Supported(v) => v,
        Detected::Unsupported(found) => {
            return Err(LoadError::UnsupportedVersion {
                label: label.into(),
                found,
                supported: wit_versions::SUPPORTED_VERSIONS
                    .iter()
                    .map(|v| format!("{v}.x"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Detected::Check(checker) => {
            return Err(LoadError::Link {
                label: label.into(),
                message: format!(
                    "it is a check plugin (it exports `{checker}`), not a notifier plugin (which exports `{NOTIFIER_INTERFACE}`); use it in a [[check]] table"
                ),
            });
        }
        Detected::NotAPlugin(exports) => {
            let exports = if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") };
            return Err(LoadError::Link {
                label: label.into(),
                message: format!(
                    "it is not a Vitals notifier plugin: it does not export `{NOTIFIER_INTERFACE}` (it exports: {exports})"
                ),
            });
        }
    };
    let pre = linker
        .instantiate_pre(&component)
        .and_then(NotifyPre::new)
        .map_err(|e| LoadError::Link { label: label.into(), message: format!("{e:#}") })?;
    let imports = wit_versions::imports(engine, &component);
    let description =
        describe(engine, &pre).await.map_err(|message| LoadError::Describe { label: label.into(), message })?;
    Ok(NotifierPlugin { label: label.into(), description, wit_version, imports, size, pre })
}

async fn describe(engine: &wasmtime::Engine, pre: &NotifyPre<RunState>) -> Result<PluginDescription, String> {
    let (mut store, deadline) = super::plugin::describe_store(engine);
    let call = async {
        let instance = pre.instantiate_async(&mut store).await?;
        instance.vitals_plugin_notifier().call_describe(&mut store).await
    };
    super::plugin::finish_describe(deadline, call).await
}

impl NotifierPlugin {
    /// Delivers `event` in a fresh sandbox holding `grants`, within `timeout` and `memory`.
    /// Every failure (the plugin's error, a trap, a timeout, a limit breach) is the error,
    /// with `secrets` redacted from it and from the plugin's log lines.
    #[allow(clippy::too_many_arguments)]
    pub async fn notify(
        &self,
        engine: &super::Engine,
        event: &NotifyEvent,
        config_json: &str,
        grants: Arc<Grants>,
        timeout: Duration,
        memory: u64,
        secrets: Arc<Vec<String>>,
    ) -> Result<(), String> {
        // The plugin's code runs in the guest lane, as a check's does: a notifier in a CPU
        // loop must not hold the thread that drives every check's I/O.
        let delivery = Delivery {
            engine: engine.clone(),
            pre: self.pre.clone(),
            label: self.label.clone(),
            name: self.description.name.clone(),
            event: event.clone(),
            config_json: config_json.to_string(),
        };
        let label = self.label.clone();
        match engine.lanes().guest(delivery.run(grants, timeout, memory, secrets)).await {
            Some(outcome) => outcome,
            None => Err(format!("{label}: vitals failed while delivering (see the log)")),
        }
    }
}

/// One delivery, owned, so that it can run on a guest thread.
struct Delivery {
    engine: super::Engine,
    pre: NotifyPre<RunState>,
    label: String,
    name: String,
    event: NotifyEvent,
    config_json: String,
}

impl Delivery {
    async fn run(
        self,
        grants: Arc<Grants>,
        timeout: Duration,
        memory: u64,
        secrets: Arc<Vec<String>>,
    ) -> Result<(), String> {
        let Delivery { engine, pre, label, name, event, config_json } = self;
        let (engine, config_json) = (&engine, config_json.as_str());
        let deadline = Instant::now() + timeout;
        let grant = RunGrant {
            check: Arc::from(format!("{} (notifier {})", event.check, name)),
            grants,
            secrets: Arc::clone(&secrets),
            deadline,
            memory,
            budget: NetBudget::DEFAULT,
            lanes: Some(engine.lanes().clone()),
            answers: Default::default(),
        };
        let mut store = Store::new(engine.wasmtime(), RunState::new(grant));
        super::sandbox::arm(&mut store, deadline);
        let change =
            wit::state_change(&event.check, &event.event, &event.summary, &event.target, event.report_link.as_deref());
        let call = async {
            let instance = pre.instantiate_async(&mut store).await?;
            instance.vitals_plugin_notifier().call_notify(&mut store, &change, config_json).await
        };
        // Epochs stop guest code; this stops time spent blocked in a host call.
        let outcome = tokio::time::timeout_at(deadline, call).await;
        let state = store.data();
        let timed_out = || format!("{} timed out after {}", label, format_duration(timeout));
        let error = match outcome {
            Ok(Ok(Ok(()))) => return Ok(()),
            Ok(Ok(Err(message))) => format!("{}: {message}", label),
            Ok(Err(_)) if state.limiter.exceeded() => {
                format!("{} exceeded its memory limit of {}", label, format_bytes(state.limiter.cap()))
            }
            Ok(Err(e)) if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) => timed_out(),
            Ok(Err(e)) => {
                let stderr = String::from_utf8_lossy(&state.stderr.contents()).into_owned();
                match stderr.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
                    Some(line) => format!("{} failed: {e:#} ({line})", label),
                    None => format!("{} failed: {e:#}", label),
                }
            }
            Err(_) => timed_out(),
        };
        let error = match state.denials.note() {
            None => error,
            Some(note) => format!("{error} ({note})"),
        };
        Err(output::line(&error, 2000, &secrets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::notify::receiver;
    use crate::plan::PluginRef;
    use crate::result::Status;
    use crate::runtime::{ComponentCache, Runtime};

    fn event() -> NotifyEvent {
        NotifyEvent {
            check: "web".into(),
            event: Event::HardChange { from: Status::Ok, to: Status::Critical, at_ms: 1_714_564_800_123 },
            summary: "HTTP 500 in 12 ms".into(),
            target: "https://example.com/health".into(),
            report_link: Some("https://vitals.example.com/checks/web".into()),
        }
    }

    async fn webhook(runtime: &Runtime) -> Arc<NotifierPlugin> {
        runtime.load_notifier(&PluginRef::Builtin("webhook".into())).await.unwrap()
    }

    async fn notify(runtime: &Runtime, url: &str, grant: &str, config: serde_json::Value) -> Result<(), String> {
        let mut config = config;
        config["url"] = url.into();
        let grants = Arc::new(Grants::for_check(grant, &[]).unwrap());
        let plugin = webhook(runtime).await;
        plugin
            .notify(
                runtime.engine(),
                &event(),
                &config.to_string(),
                grants,
                Duration::from_secs(10),
                64 << 20,
                Arc::default(),
            )
            .await
    }

    #[tokio::test]
    async fn the_webhook_describes_itself_as_a_notifier() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let plugin = webhook(&runtime).await;
        assert_eq!(plugin.description.name, "webhook");
        assert!(plugin.wit_version.starts_with("0.1."));
        let keys: Vec<&str> = plugin.description.config.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(keys, ["url", "headers", "timeout", "retries", "backoff"]);
        // Loaded as a check plugin it is refused, and the error lists the notifier export.
        let err = runtime.load(&PluginRef::Builtin("webhook".into())).await.unwrap_err();
        assert!(
            matches!(&err, LoadError::NotAPlugin { exports, .. } if exports_notifier(exports.split(", "))),
            "{err}"
        );
        // And a check plugin is not a notifier.
        let err = runtime.load_notifier(&PluginRef::Builtin("http".into())).await.unwrap_err();
        assert!(err.to_string().contains("is a check plugin"), "{err}");
    }

    #[tokio::test]
    async fn the_webhook_posts_the_event_as_json() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let receiver = receiver::start(0);
        let config = serde_json::json!({"headers": {"Authorization": "Bearer t0ken"}});
        notify(&runtime, &receiver.url(), &receiver.url(), config).await.unwrap();
        let got = receiver.received();
        assert_eq!(got.len(), 1);
        let head = got[0].head.to_ascii_lowercase();
        assert!(head.starts_with("post /hook http/1.1"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(head.contains("authorization: bearer t0ken"), "{head}");
        let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "check": "web",
                "kind": "hard_change",
                "old_status": "ok",
                "new_status": "critical",
                "at": "2024-05-01T12:00:00.123Z",
                "summary": "HTTP 500 in 12 ms",
                "target": "https://example.com/health",
                "report_link": "https://vitals.example.com/checks/web",
            })
        );
    }

    #[tokio::test]
    async fn a_receiver_failing_twice_gets_three_posts() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let receiver = receiver::start(2);
        let config = serde_json::json!({"backoff": "10ms"});
        notify(&runtime, &receiver.url(), &receiver.url(), config).await.unwrap();
        assert_eq!(receiver.received().len(), 3);
    }

    #[tokio::test]
    async fn a_receiver_that_always_fails_yields_the_error_after_the_retries() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let receiver = receiver::start(usize::MAX);
        let config = serde_json::json!({"backoff": "10ms"});
        let err = notify(&runtime, &receiver.url(), &receiver.url(), config).await.unwrap_err();
        assert_eq!(err, format!("webhook: webhook {} answered 500 after 4 attempts", receiver.url()));
        assert_eq!(receiver.received().len(), 4);
    }

    #[tokio::test]
    async fn a_url_that_is_not_granted_is_denied() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let receiver = receiver::start(0);
        let other = receiver::start(0);
        let err = notify(&runtime, &receiver.url(), &other.url(), serde_json::json!({})).await.unwrap_err();
        assert!(err.contains("not granted") || err.contains("denied"), "{err}");
        assert!(err.contains("sandbox refused"), "{err}");
        assert!(receiver.received().is_empty());
    }

    #[tokio::test]
    async fn the_deadline_stops_a_slow_delivery() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let receiver = receiver::start(usize::MAX);
        let plugin = webhook(&runtime).await;
        let config = serde_json::json!({"url": receiver.url(), "retries": 100, "backoff": "100ms"}).to_string();
        let grants = Arc::new(Grants::for_check(&receiver.url(), &[]).unwrap());
        let t0 = std::time::Instant::now();
        let err = plugin
            .notify(runtime.engine(), &event(), &config, grants, Duration::from_millis(500), 64 << 20, Arc::default())
            .await
            .unwrap_err();
        assert!(err.contains("timed out after"), "{err}");
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    }
}
