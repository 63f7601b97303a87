//! Before anything runs: load the plugin of every check (once per plugin) and check each
//! check's config against what its plugin accepts. Errors point into the config file.

use std::collections::HashSet;
use std::sync::Arc;

use crate::config::validate_config;
use crate::plan::{CheckPlan, Diagnostic, Plan};
use crate::runtime::{LoadError, Plugin, Runtime, ValidatorFailure};
use crate::schedule::Prepared;

/// Loads the plugins of `checks` and validates their configs; every problem is collected.
pub async fn prepare<'a>(
    runtime: &Runtime,
    plan: &Plan,
    checks: impl IntoIterator<Item = &'a CheckPlan>,
) -> Result<Vec<Prepared>, Vec<Diagnostic>> {
    let mut prepared = Vec::new();
    let mut problems = Vec::new();
    // Plugins whose validator ran out of time: not asked again, so a hostile or broken
    // validator costs one deadline per load, not one per check.
    let mut stalled: HashSet<String> = HashSet::new();
    for (index, check) in checks.into_iter().enumerate() {
        match runtime.load(&check.plugin).await {
            Ok(plugin) => {
                let mut found = validate_config(&plan.source, check, &plugin.description);
                // The plugin's own check sees only configs whose declared types are right.
                if found.is_empty() {
                    found = plugin_problems(runtime, plan, check, &plugin, &mut stalled).await;
                }
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

/// What the plugin itself finds wrong with `check`'s config (its `validate` export, since
/// WIT 0.1.2), each pointing at the key's value, or at the table.
async fn plugin_problems(
    runtime: &Runtime,
    plan: &Plan,
    check: &CheckPlan,
    plugin: &Arc<Plugin>,
    stalled: &mut HashSet<String>,
) -> Vec<Diagnostic> {
    let name = &plugin.description.name;
    let outcome = if stalled.contains(&plugin.label) {
        Err(ValidatorFailure::TimedOut)
    } else {
        runtime.validate(plugin, check.config_json(), Arc::clone(&check.secrets)).await
    };
    if outcome == Err(ValidatorFailure::TimedOut) {
        stalled.insert(plugin.label.clone());
    }
    match outcome {
        Ok(problems) => problems
            .into_iter()
            .map(|p| {
                let entry = p.key.as_deref().and_then(|k| check.config.iter().find(|e| e.key == k));
                let span = entry.map_or_else(|| check.config_span.clone(), |e| e.value_span.clone());
                let message = match &p.key {
                    Some(key) => format!("check `{}`: `{key}`: {}", check.name, p.message),
                    None => format!("check `{}`: {}", check.name, p.message),
                };
                let doc = p.key.as_deref().and_then(|k| plugin.description.key(k)).map(|k| k.doc.clone());
                let help = doc.unwrap_or_else(|| format!("`vitals plugin inspect {}` lists the keys", check.plugin));
                Diagnostic::new(&plan.source, span, message).help(format!("plugin `{name}` says so; {help}"))
            })
            .collect(),
        Err(why) => vec![
            Diagnostic::new(
                &plan.source,
                check.config_span.clone(),
                format!("check `{}`: plugin `{name}` failed while checking this config: {why}", check.name),
            )
            .help("this is a fault of the plugin's validator; its author can reproduce it with `vitals validate`"),
        ],
    }
}

fn load_problem(plan: &Plan, check: &CheckPlan, e: &LoadError) -> Diagnostic {
    let help = match e {
        LoadError::UnknownBuiltin { .. } => "`vitals plugin inspect NAME` describes a plugin".to_string(),
        LoadError::Read { .. } => "paths are relative to the directory of the config file".to_string(),
        _ => "`vitals plugin inspect FILE` shows what vitals sees in a plugin".to_string(),
    };
    Diagnostic::new(&plan.source, check.plugin_span.clone(), format!("check `{}`: {e}", check.name)).help(help)
}
