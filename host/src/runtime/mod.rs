//! The sandbox: one wasmtime engine, plugins compiled once (cached on disk) and
//! pre-linked, and a fresh store per check run holding that check's grants and limits.

mod answers;
mod cache;
mod compile;
mod engine;
mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod imports;
mod lanes;
mod limits;
mod notifier;
pub(crate) mod output;
mod plugin;
mod registry;
mod sandbox;
mod state;
mod wit;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use wasmtime::component::Linker;

pub use answers::Answers;
pub use cache::ComponentCache;
pub use compile::COMPILE_TIMEOUT;
pub use engine::{Engine, POOL_INSTANCES};
pub use error::LoadError;
pub use notifier::{NotifierPlugin, NotifyEvent, exports_notifier};
pub use output::{Draft, MAX_RESULT_BYTES, Sealed, UNITS, seal};
pub use plugin::{ConfigProblem, Plugin, ValidatorFailure};
pub use registry::{MAX_COMPONENT_BYTES, builtin_names};
pub use state::NetBudget;

use crate::plan::{CheckPlan, PluginRef};
use crate::result::CheckResult;
use state::RunState;

/// Loaded plugins by reference, with the stamp (size and time) of the file they came
/// from: a rebuilt file is loaded anew, an unchanged one is not even read again.
type Loaded = HashMap<PluginRef, (Option<registry::Stamp>, Arc<Plugin>)>;

/// Loads plugins and runs checks; one per process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<RunState>,
    compiler: compile::Compiler,
    loaded: Mutex<Loaded>,
}

impl Runtime {
    /// An engine with WASI (empty) and the host API linked.
    pub fn new(cache: ComponentCache) -> anyhow::Result<Runtime> {
        let engine = Engine::new()?;
        let mut linker = Linker::new(engine.wasmtime());
        // Guest toolchains import WASI even for pure plugins; it is linked with nothing
        // in it (see `state::RunState::new`).
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| anyhow::anyhow!("{e:#}"))?;
        wit::v0_1::add_to_linker(&mut linker).map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let compiler = compile::Compiler::new(engine.wasmtime(), cache);
        Ok(Runtime { engine, linker, compiler, loaded: Mutex::new(HashMap::new()) })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The plugin `plugin` names, loaded once and shared by every check that uses it. Its
    /// file is read and compiled on a thread of its own (see [`COMPILE_TIMEOUT`] and
    /// [`MAX_COMPONENT_BYTES`]).
    pub async fn load(&self, plugin: &PluginRef) -> Result<Arc<Plugin>, LoadError> {
        let stamp = registry::stamp(plugin)?;
        let mut loaded = self.loaded.lock().await;
        if let Some((seen, p)) = loaded.get(plugin)
            && *seen == stamp
        {
            return Ok(Arc::clone(p));
        }
        let compiled = self.compiler.compile(plugin).await?;
        let p = Arc::new(plugin::load(self.engine.wasmtime(), &self.linker, compiled).await?);
        loaded.insert(plugin.clone(), (stamp, Arc::clone(&p)));
        Ok(p)
    }

    /// The notifier plugin `plugin` names (a built-in such as `webhook`, or a file),
    /// loaded anew on each call: notifiers are loaded once, when the daemon starts.
    pub async fn load_notifier(&self, plugin: &PluginRef) -> Result<Arc<notifier::NotifierPlugin>, LoadError> {
        let compiled = self.compiler.compile(plugin).await?;
        let loaded = notifier::load(self.engine.wasmtime(), &self.linker, compiled).await?;
        Ok(Arc::new(loaded))
    }

    /// Asks `plugin` to check a config (`[check.config]` as JSON) beyond its declared
    /// types, on the guest threads, without grants. No problems when it cannot (built
    /// before 0.1.2); an error when its validator fails.
    pub async fn validate(
        &self,
        plugin: &Arc<Plugin>,
        config: String,
        secrets: Arc<Vec<String>>,
    ) -> Result<Vec<ConfigProblem>, ValidatorFailure> {
        if !plugin.validates() {
            return Ok(Vec::new());
        }
        let (engine, p) = (self.engine.clone(), Arc::clone(plugin));
        let call = async move { plugin::validate(engine.wasmtime(), &p, &config, &secrets).await };
        let finished = self.engine.lanes().guest(call).await;
        finished.unwrap_or_else(|| Err(ValidatorFailure::Failed("the plugin's validator did not finish".into())))
    }

    /// Runs one check in a fresh sandbox, on the guest threads (its host I/O on the I/O
    /// lane); every failure becomes the result.
    pub async fn run(&self, plugin: &Arc<Plugin>, check: &Arc<CheckPlan>) -> CheckResult {
        self.run_with(plugin, check, Answers::Network).await
    }

    /// Runs one check like [`Runtime::run`], its host calls answered by `answers` (a
    /// test case's recorded answers, or the network recorded).
    pub async fn run_with(&self, plugin: &Arc<Plugin>, check: &Arc<CheckPlan>, answers: Answers) -> CheckResult {
        let (engine, p, c) = (self.engine.clone(), Arc::clone(plugin), Arc::clone(check));
        let run = async move { sandbox::run(&engine, &p, &c, answers).await };
        match self.engine.lanes().guest(run).await {
            Some(result) => result,
            None => CheckResult::host_failure(
                &check.name,
                &plugin.label,
                &plugin.description.version,
                &check.target_display,
            ),
        }
    }
}
