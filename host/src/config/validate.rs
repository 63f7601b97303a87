//! Checks a check's `[check.config]` against what its plugin accepts, before anything
//! runs: unknown keys, missing required keys and values of the wrong type are errors.

use std::sync::Arc;

use crate::plan::describe::{ConfigKind, PluginDescription};
use crate::plan::{Diagnostic, SourceFile, closest};

use crate::plan::{CheckPlan, ConfigEntry, PluginRef};

/// Every problem with `check`'s config against `plugin`, each pointing into the file.
pub fn validate_config(source: &Arc<SourceFile>, check: &CheckPlan, plugin: &PluginDescription) -> Vec<Diagnostic> {
    let owner = format!("check `{}`", check.name);
    validate_entries(source, &owner, &check.plugin, &check.config, &check.config_span, plugin)
}

/// Every problem with config `entries` (of a check or a notifier, named by `owner`)
/// against what `plugin` accepts.
pub fn validate_entries(
    source: &Arc<SourceFile>,
    owner: &str,
    plugin_ref: &PluginRef,
    entries: &[ConfigEntry],
    config_span: &std::ops::Range<usize>,
    plugin: &PluginDescription,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for entry in entries {
        let Some(key) = plugin.key(&entry.key) else {
            let accepted: Vec<&str> = plugin.config.iter().map(|k| k.name.as_str()).collect();
            let help = match closest(&entry.key, accepted.iter().copied()) {
                Some(near) => format!("did you mean `{near}`? `vitals plugin inspect {plugin_ref}` lists every key"),
                None if accepted.is_empty() => format!("plugin `{}` takes no configuration", plugin.name),
                None => format!("plugin `{}` accepts: {}", plugin.name, accepted.join(", ")),
            };
            problems.push(
                Diagnostic::new(
                    source,
                    entry.key_span.clone(),
                    format!("unknown config key `{}` for plugin `{}`", entry.key, plugin.name),
                )
                .help(help),
            );
            continue;
        };
        if let Err(why) = check_kind(key.kind, &entry.value) {
            problems.push(
                Diagnostic::new(
                    source,
                    entry.value_span.clone(),
                    format!("`{}` must be a {}: {why}", entry.key, key.kind.as_str()),
                )
                .help(key.doc.clone()),
            );
        }
    }
    for key in plugin.config.iter().filter(|k| k.required) {
        if !entries.iter().any(|e| e.key == key.name) {
            problems.push(
                Diagnostic::new(
                    source,
                    config_span.clone(),
                    format!("{owner} is missing the required config key `{}`", key.name),
                )
                .help(format!("add `{} = ...` to its config table: {}", key.name, key.doc)),
            );
        }
    }
    problems
}

fn check_kind(kind: ConfigKind, value: &toml::Value) -> Result<(), String> {
    use toml::Value as V;
    let found = value.type_str();
    let wrong = || Err(format!("found {found}"));
    match (kind, value) {
        (ConfigKind::String | ConfigKind::Range, V::String(_)) => Ok(()),
        (ConfigKind::Integer, V::Integer(_)) => Ok(()),
        (ConfigKind::Float, V::Float(_) | V::Integer(_)) => Ok(()),
        (ConfigKind::Boolean, V::Boolean(_)) => Ok(()),
        (ConfigKind::Duration, V::String(s)) => {
            vitals_units::parse_duration(s).map(|_| ()).map_err(|e| format!("\"{s}\": {e}"))
        }
        (ConfigKind::StringList, V::Array(items)) => all(items, |v| v.is_str(), "string"),
        (ConfigKind::IntegerList, V::Array(items)) => all(items, |v| v.is_integer(), "integer"),
        (ConfigKind::StringMap, V::Table(t)) => match t.iter().find(|(_, v)| !v.is_str()) {
            Some((k, v)) => Err(format!("`{k}` is a {}", v.type_str())),
            None => Ok(()),
        },
        _ => wrong(),
    }
}

fn all(items: &[toml::Value], ok: impl Fn(&toml::Value) -> bool, want: &str) -> Result<(), String> {
    match items.iter().position(|v| !ok(v)) {
        Some(i) => Err(format!("item {} is a {}, not a {want}", i + 1, items[i].type_str())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_accept_their_values_and_refuse_others() {
        let v = |s: &str| s.parse::<toml::Table>().unwrap().remove("v").unwrap();
        assert!(check_kind(ConfigKind::Duration, &v("v = \"2s\"")).is_ok());
        assert!(check_kind(ConfigKind::Duration, &v("v = \"2 fortnights\"")).is_err());
        assert!(check_kind(ConfigKind::Integer, &v("v = \"5\"")).unwrap_err().contains("found string"));
        assert!(check_kind(ConfigKind::Float, &v("v = 5")).is_ok());
        assert!(check_kind(ConfigKind::StringList, &v("v = [\"a\", 1]")).unwrap_err().contains("item 2"));
        assert!(check_kind(ConfigKind::StringMap, &v("v = { a = \"b\" }")).is_ok());
    }
}
