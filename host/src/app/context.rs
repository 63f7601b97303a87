//! What every command starts from: where the configuration and the store are, and how
//! to get the plan, the runtime, the selected checks, their notifiers and the store.

use std::path::PathBuf;
use std::sync::Arc;

use super::Failure;
use super::notify::{NotifierSpec, Notifiers, NotifyHandle};
use crate::config::{self, ConfigError, validate_entries};
use crate::plan::{Diagnostic, Plan, PostgresSpec};
use crate::runtime::{ComponentCache, Runtime};
use crate::schedule::Prepared;
use crate::store::{self, ResultStore, StoreSpec};

/// Where a command finds its inputs (the global flags of the CLI).
#[derive(Debug, Clone)]
pub struct Context {
    /// The configuration file.
    pub config: PathBuf,
    /// The SQLite result database (`--db`); `None` for the shared store, if one is named,
    /// else `vitals.db` beside the config file.
    pub db: Option<PathBuf>,
    /// The shared PostgreSQL store (`--store`); `None` for `[store] url`, if the file names
    /// one.
    pub store: Option<PostgresSpec>,
    /// Compile plugins instead of using the on-disk cache.
    pub no_cache: bool,
}

impl Context {
    /// Loads the configuration; every error is a configuration error.
    pub fn load_plan(&self) -> Result<Plan, Failure> {
        config::load(&self.config).map_err(|e| match e {
            ConfigError::Read { .. } => Failure::config(format!(
                "{e}\n  = help: pass --config PATH, or run `vitals init` to write a checks.toml for this machine"
            )),
            ConfigError::Invalid(_) => Failure::config(e.to_string()),
        })
    }

    /// The runtime, with the cache the flags ask for.
    pub fn runtime(&self) -> Result<Arc<Runtime>, Failure> {
        let cache = if self.no_cache { ComponentCache::disabled() } else { ComponentCache::user_default() };
        Runtime::new(cache)
            .map(Arc::new)
            .map_err(|e| Failure::internal(format!("cannot start the WebAssembly runtime: {e:#}")))
    }

    /// The store the command opens: `--db` (an SQLite file), else `--store`, else the
    /// configuration's `[store] url`, else `vitals.db` beside the config file.
    pub fn store_spec(&self) -> StoreSpec {
        if let Some(db) = &self.db {
            return StoreSpec::Sqlite(db.clone());
        }
        if let Some(url) = &self.store {
            return StoreSpec::Postgres(url.clone());
        }
        // A file that cannot be read names no store; the command that needs it says why.
        match config::load(&self.config).ok().and_then(|plan| plan.store) {
            Some(url) => StoreSpec::Postgres(url),
            None => StoreSpec::Sqlite(self.db_path()),
        }
    }

    /// The SQLite path: `--db`, else `vitals.db` beside the config file.
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| match self.config.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join("vitals.db"),
            _ => PathBuf::from("vitals.db"),
        })
    }

    /// Opens the result store ([`Context::store_spec`]).
    pub fn open_store(&self) -> Result<Box<dyn ResultStore>, Failure> {
        store::open(self.store_spec()).map_err(|e| Failure::store(e.to_string()))
    }
}

/// Loads the plugins of the checks with one of `tags` (all when empty) and validates
/// their configs; a tag no check has is a usage error.
pub async fn prepare_tagged(runtime: &Runtime, plan: &Plan, tags: &[String]) -> Result<Vec<Prepared>, Failure> {
    let selected = plan.tagged(tags)?;
    Ok(super::prepare(runtime, plan, selected).await?)
}

/// Loads the notifiers of `plan` and validates their configs, ready to start with the
/// targets of `checks` (for the events' `target` field).
pub async fn notifiers(runtime: &Runtime, plan: &Plan, checks: &[Prepared]) -> Result<Option<NotifyHandle>, Failure> {
    Ok(load_notifiers(runtime, plan).await?.map(|specs| start_notifiers(runtime, specs, checks)))
}

/// The notifiers of `plan`, loaded and validated but not started; `None` when it has none.
pub async fn load_notifiers(runtime: &Runtime, plan: &Plan) -> Result<Option<Vec<NotifierSpec>>, Vec<Diagnostic>> {
    if plan.notifiers.is_empty() {
        return Ok(None);
    }
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    for n in &plan.notifiers {
        match runtime.load_notifier(&n.plugin).await {
            Ok(plugin) => {
                let owner = format!("notifier `{}`", n.name);
                let found: Vec<Diagnostic> =
                    validate_entries(&plan.source, &owner, &n.plugin, &n.config, &n.config_span, &plugin.description)
                        .into_iter()
                        .map(|d| d.redacted(&n.secrets))
                        .collect();
                if found.is_empty() {
                    specs.push(NotifierSpec {
                        name: n.name.clone(),
                        plugin,
                        config_json: n.config_json(),
                        grants: Arc::clone(&n.grants),
                        timeout: n.timeout,
                        memory: n.memory,
                        secrets: Arc::clone(&n.secrets),
                    });
                }
                problems.extend(found);
            }
            Err(e) => problems.push(
                Diagnostic::new(&plan.source, n.plugin_span.clone(), format!("notifier `{}`: {e}", n.name))
                    .help("`vitals plugin inspect NAME` describes a plugin"),
            ),
        }
    }
    if problems.is_empty() { Ok(Some(specs)) } else { Err(problems) }
}

/// Starts loaded notifiers, telling them the targets of `checks`.
pub fn start_notifiers(runtime: &Runtime, specs: Vec<NotifierSpec>, checks: &[Prepared]) -> NotifyHandle {
    let targets = checks.iter().map(|p| (p.check.name.clone(), p.check.target_display.clone())).collect();
    Notifiers::new(runtime.engine(), specs).with_targets(targets).start()
}
