//! What every command needs: logging, the configuration, the runtime, the store, and
//! failures that carry their exit code.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

use super::{Cli, LogFormat};
use crate::config::{self, ConfigError, Diagnostic};
use crate::exit;
use crate::notify::{NotifierSpec, Notifiers, NotifyHandle};
use crate::plan::{Plan, validate_entries};
use crate::runtime::{ComponentCache, Runtime};
use crate::schedule::{self, Prepared};
use crate::store::{self, ResultStore};

/// Why a command could not do its job, with the exit code that says so.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// A usage error (64).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { code: exit::USAGE, message: message.into() }
    }

    /// A configuration error (78).
    pub fn config(message: impl Into<String>) -> Failure {
        Failure { code: exit::CONFIG, message: message.into() }
    }

    /// An unusable plugin file (65).
    pub fn data(message: impl Into<String>) -> Failure {
        Failure { code: exit::DATA, message: message.into() }
    }

    /// An unavailable resource (69).
    pub fn unavailable(message: impl Into<String>) -> Failure {
        Failure { code: exit::UNAVAILABLE, message: message.into() }
    }

    /// A store error (74).
    pub fn store(message: impl Into<String>) -> Failure {
        Failure { code: exit::IO, message: message.into() }
    }

    /// An internal error (70).
    pub fn internal(message: impl Into<String>) -> Failure {
        Failure { code: exit::SOFTWARE, message: message.into() }
    }

    /// Prints the message on stderr and gives the exit code.
    pub fn report(self) -> ExitCode {
        let text = self.message.trim_end();
        if text.starts_with("error:") {
            eprintln!("{text}");
        } else {
            eprintln!("error: {text}");
        }
        ExitCode::from(self.code)
    }
}

impl From<Vec<Diagnostic>> for Failure {
    fn from(problems: Vec<Diagnostic>) -> Failure {
        Failure::config(ConfigError::Invalid(problems).to_string())
    }
}

/// Logs to stderr, filtered by `VITALS_LOG` (or `RUST_LOG`), `warn` by default.
pub fn init_logging(format: LogFormat) {
    let filter = std::env::var("VITALS_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Loads the configuration; every error is a configuration error.
pub fn load_plan(cli: &Cli) -> Result<Plan, Failure> {
    config::load(&cli.config).map_err(|e| match e {
        ConfigError::Read { .. } => {
            Failure::config(format!("{e}\n  = help: pass --config PATH, or create checks.toml (see README.md)"))
        }
        ConfigError::Invalid(_) => Failure::config(e.to_string()),
    })
}

/// The runtime, with the cache the flags ask for.
pub fn runtime(cli: &Cli) -> Result<Arc<Runtime>, Failure> {
    let cache = if cli.no_cache { ComponentCache::disabled() } else { ComponentCache::user_default() };
    Runtime::new(cache)
        .map(Arc::new)
        .map_err(|e| Failure::internal(format!("cannot start the WebAssembly runtime: {e:#}")))
}

/// Loads the plugins of the selected checks and validates their configs.
pub async fn prepare(runtime: &Runtime, plan: &Plan, tags: &[String]) -> Result<Vec<Prepared>, Failure> {
    let selected: Vec<_> = plan.select(tags).collect();
    if selected.is_empty() {
        return Err(Failure::usage(format!("no check has the tag {}", tags.join(" or "))));
    }
    Ok(schedule::prepare(runtime, plan, selected).await?)
}

/// Loads the notifiers of `plan` and validates their configs, ready to start with the
/// targets of `checks` (for the events' `target` field).
pub async fn notifiers(runtime: &Runtime, plan: &Plan, checks: &[Prepared]) -> Result<Option<NotifyHandle>, Failure> {
    if plan.notifiers.is_empty() {
        return Ok(None);
    }
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    for n in &plan.notifiers {
        match runtime.load_notifier(&n.plugin).await {
            Ok(plugin) => {
                let owner = format!("notifier `{}`", n.name);
                let found =
                    validate_entries(&plan.source, &owner, &n.plugin, &n.config, &n.config_span, &plugin.description);
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
    if !problems.is_empty() {
        return Err(problems.into());
    }
    let targets = checks.iter().map(|p| (p.check.name.clone(), p.check.target_display.clone())).collect();
    Ok(Some(Notifiers::new(runtime.engine(), specs).with_targets(targets).start()))
}

/// The database path: `--db`, else `vitals.db` beside the config file.
pub fn db_path(cli: &Cli) -> PathBuf {
    cli.db.clone().unwrap_or_else(|| match cli.config.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("vitals.db"),
        _ => PathBuf::from("vitals.db"),
    })
}

/// Opens the result store.
pub fn open_store(cli: &Cli) -> Result<Box<dyn ResultStore>, Failure> {
    store::open(&db_path(cli)).map_err(|e| Failure::store(e.to_string()))
}
