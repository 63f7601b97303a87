//! A loaded plugin: compiled (see `compile.rs`), its WIT version detected, linked once into
//! an `InstancePre`, and its self-description read.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::{Component, ComponentExportIndex, ComponentType, Lift, Linker};

use super::compile::Compiled;
use super::error::LoadError;
use super::state::{RunGrant, RunState};
use super::wit::{self, Detected, WitVersion, v0_1};
use crate::plan::Grants;
use crate::plan::describe::PluginDescription;

/// Time and memory `describe` gets: it should only return constant data.
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
const DESCRIBE_MEMORY: u64 = 64 << 20;

/// A plugin ready to run any number of checks.
pub struct Plugin {
    /// Built-in name or file path, for messages.
    pub label: String,
    /// What it says about itself.
    pub description: PluginDescription,
    /// The host bindings that run it.
    pub wit: WitVersion,
    /// The exact `vitals:plugin` version it was built against.
    pub wit_version: String,
    /// What it imports.
    pub imports: Vec<String>,
    /// Size of the component in bytes.
    pub size: usize,
    pub(crate) pre: v0_1::CheckPre<RunState>,
    /// The `validator.validate` export (since 0.1.2), when the plugin has one.
    validator: Option<ComponentExportIndex>,
}

/// The interface of the optional validator export; the linker's semver matching finds a
/// later patch (`0.1.3`) under this name too.
const VALIDATOR_INTERFACE: &str = "vitals:plugin/validator@0.1.2";
/// Most problems one `validate` call reports; the rest are counted.
const MAX_PROBLEMS: usize = 50;
/// Longest problem message kept, in bytes.
const MAX_PROBLEM: usize = 300;

/// Why a plugin's validator gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorFailure {
    /// It ran past its deadline (and was stopped).
    #[error("no answer within {}s", DESCRIBE_TIMEOUT.as_secs())]
    TimedOut,
    /// It trapped or failed otherwise; why, for a person.
    #[error("{0}")]
    Failed(String),
}

/// One thing a plugin found wrong with a config (the WIT `validator.config-problem`).
#[derive(Debug, Clone, PartialEq, Eq, ComponentType, Lift)]
#[component(record)]
pub struct ConfigProblem {
    /// The config key at fault; none for the table as a whole.
    pub key: Option<String>,
    /// What is wrong, for a person; cleaned and bounded by [`validate`].
    pub message: String,
}

impl Plugin {
    /// Whether the plugin checks its own config (exports `validator`, since 0.1.2).
    pub fn validates(&self) -> bool {
        self.validator.is_some()
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("label", &self.label).field("wit", &self.wit).finish_non_exhaustive()
    }
}

/// Detects the version of a compiled plugin, links it and reads its description.
pub(crate) async fn load(
    engine: &wasmtime::Engine,
    linker: &Linker<RunState>,
    compiled: Compiled,
) -> Result<Plugin, LoadError> {
    let Compiled { label, size, component } = compiled;
    let label = label.as_str();
    let (version, wit_version) = match wit::detect(engine, &component) {
        Detected::Supported(v, exact) => (v, exact),
        Detected::Unsupported(found) => {
            return Err(LoadError::UnsupportedVersion {
                label: label.into(),
                found,
                supported: wit::SUPPORTED_VERSIONS.iter().map(|v| format!("{v}.x")).collect::<Vec<_>>().join(", "),
            });
        }
        Detected::NotAPlugin(exports) => {
            let exports = if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") };
            return Err(LoadError::NotAPlugin { label: label.into(), exports });
        }
    };
    let pre = link(linker, &component).map_err(|message| LoadError::Link { label: label.into(), message })?;
    let imports = wit::imports(engine, &component);
    let description =
        describe(engine, &pre).await.map_err(|message| LoadError::Describe { label: label.into(), message })?;
    let validator = component
        .get_export_index(None, VALIDATOR_INTERFACE)
        .and_then(|interface| component.get_export_index(Some(&interface), "validate"));
    Ok(Plugin { label: label.into(), description, wit: version, wit_version, imports, size, pre, validator })
}

/// Asks the plugin to check `config` (its `[check.config]` as JSON), without grants and
/// under `describe`'s deadline and memory cap. No problems when the plugin has no
/// validator. Every message is cleaned, redacted of `secrets` and bounded; past
/// [`MAX_PROBLEMS`] the rest are counted in one more.
pub(crate) async fn validate(
    engine: &wasmtime::Engine,
    plugin: &Plugin,
    config: &str,
    secrets: &[String],
) -> Result<Vec<ConfigProblem>, ValidatorFailure> {
    let Some(index) = plugin.validator else {
        return Ok(Vec::new());
    };
    let (mut store, deadline) = describe_store(engine);
    let call = async {
        let instance = plugin.pre.instance_pre().instantiate_async(&mut store).await?;
        let func = instance.get_typed_func::<(&str,), (Vec<ConfigProblem>,)>(&mut store, index)?;
        let (problems,) = func.call_async(&mut store, (config,)).await?;
        Ok::<_, wasmtime::Error>(problems)
    };
    let problems = match tokio::time::timeout_at(deadline, call).await {
        Ok(Ok(problems)) => problems,
        Ok(Err(e)) => {
            return Err(match e.downcast_ref::<wasmtime::Trap>() {
                Some(wasmtime::Trap::Interrupt) => ValidatorFailure::TimedOut,
                Some(wasmtime::Trap::UnreachableCodeReached) => {
                    ValidatorFailure::Failed("it trapped (a panic or an uncaught exception)".into())
                }
                Some(trap) => ValidatorFailure::Failed(format!("it trapped: {trap}")),
                None => ValidatorFailure::Failed(super::output::one_line(&format!("{}", e.root_cause()), MAX_PROBLEM)),
            });
        }
        Err(_) => return Err(ValidatorFailure::TimedOut),
    };
    let total = problems.len();
    let mut kept: Vec<ConfigProblem> = problems
        .into_iter()
        .take(MAX_PROBLEMS)
        .map(|p| ConfigProblem {
            key: p.key.map(|k| super::output::line(&k, MAX_LABEL_KEY, secrets)),
            message: super::output::line(&p.message, MAX_PROBLEM, secrets),
        })
        .collect();
    if total > MAX_PROBLEMS {
        kept.push(ConfigProblem { key: None, message: format!("and {} more problems", total - MAX_PROBLEMS) });
    }
    Ok(kept)
}

/// Longest config key name kept from a problem, in bytes.
const MAX_LABEL_KEY: usize = 64;

fn link(linker: &Linker<RunState>, component: &Component) -> Result<v0_1::CheckPre<RunState>, String> {
    let pre = linker.instantiate_pre(component).map_err(|e| format!("{e:#}"))?;
    v0_1::CheckPre::new(pre).map_err(|e| format!("{e:#}"))
}

async fn describe(engine: &wasmtime::Engine, pre: &v0_1::CheckPre<RunState>) -> Result<PluginDescription, String> {
    let (mut store, deadline) = describe_store(engine);
    let call = async {
        let instance = pre.instantiate_async(&mut store).await?;
        instance.vitals_plugin_checker().call_describe(&mut store).await
    };
    finish_describe(deadline, call).await
}

/// A store for `describe`, of check and notifier plugins alike: no grants, a short
/// deadline, a modest memory cap.
pub(crate) fn describe_store(engine: &wasmtime::Engine) -> (Store<RunState>, tokio::time::Instant) {
    let deadline = tokio::time::Instant::now() + DESCRIBE_TIMEOUT;
    let grant = RunGrant {
        check: Arc::from("(describe)"),
        grants: Arc::new(Grants::none()),
        secrets: Arc::new(Vec::new()),
        deadline,
        memory: DESCRIBE_MEMORY,
        budget: super::state::NetBudget::DEFAULT,
        lanes: None,
        answers: Default::default(),
    };
    let mut store = Store::new(engine, RunState::new(grant));
    super::sandbox::arm(&mut store, deadline);
    (store, deadline)
}

/// Awaits a `describe` call under its deadline, in host types.
pub(crate) async fn finish_describe(
    deadline: tokio::time::Instant,
    call: impl std::future::Future<Output = wasmtime::Result<v0_1::types::Description>>,
) -> Result<PluginDescription, String> {
    match tokio::time::timeout_at(deadline, call).await {
        Ok(Ok(d)) => Ok(v0_1::description(d)),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Err(format!("no answer within {}s", DESCRIBE_TIMEOUT.as_secs())),
    }
}
