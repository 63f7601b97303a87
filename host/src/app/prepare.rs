//! Before anything runs: load the plugin of every check (once per plugin) and check each
//! check's config against what its plugin accepts. Errors point into the config file.

use std::sync::Arc;

use crate::config::validate_config;
use crate::plan::{CheckPlan, Diagnostic, Plan};
use crate::runtime::{LoadError, Runtime};
use crate::schedule::Prepared;

/// Loads the plugins of `checks` and validates their configs; every problem is collected.
pub async fn prepare<'a>(
    runtime: &Runtime,
    plan: &Plan,
    checks: impl IntoIterator<Item = &'a CheckPlan>,
) -> Result<Vec<Prepared>, Vec<Diagnostic>> {
    let mut prepared = Vec::new();
    let mut problems = Vec::new();
    for (index, check) in checks.into_iter().enumerate() {
        match runtime.load(&check.plugin).await {
            Ok(plugin) => {
                let found = validate_config(&plan.source, check, &plugin.description);
                if found.is_empty() {
                    prepared.push(Prepared { check: Arc::new(check.clone()), plugin, index });
                } else {
                    problems.extend(found);
                }
            }
            Err(e) => problems.push(load_problem(plan, check, &e)),
        }
    }
    if problems.is_empty() { Ok(prepared) } else { Err(problems) }
}

fn load_problem(plan: &Plan, check: &CheckPlan, e: &LoadError) -> Diagnostic {
    let help = match e {
        LoadError::UnknownBuiltin { .. } => "`vitals plugin inspect NAME` describes a plugin".to_string(),
        LoadError::Read { .. } => "paths are relative to the directory of the config file".to_string(),
        _ => "`vitals plugin inspect FILE` shows what vitals sees in a plugin".to_string(),
    };
    Diagnostic::new(&plan.source, check.plugin_span.clone(), format!("check `{}`: {e}", check.name)).help(help)
}
