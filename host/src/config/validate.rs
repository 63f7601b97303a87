//! Checks a check's `[check.config]` against what its plugin accepts, before anything
//! runs: unknown keys, missing required keys, values of the wrong type, and durations and
//! ranges that the shared grammar (`vitals-units`) does not read are errors.

use std::sync::Arc;

use std::ops::Range;

use super::hint::{self, Want, Written};
use crate::plan::describe::{ConfigKey, ConfigKind, PluginDescription};
use crate::plan::{Diagnostic, SourceFile, closest};

use crate::plan::{CheckPlan, ConfigEntry, PluginRef};

/// Every problem with `check`'s config against `plugin`, each pointing into the file.
pub fn validate_config(source: &Arc<SourceFile>, check: &CheckPlan, plugin: &PluginDescription) -> Vec<Diagnostic> {
    let owner = format!("check `{}`", check.name);
    let found = validate_entries(source, &owner, &check.plugin, &check.config, &check.config_span, plugin);
    found.into_iter().map(|d| d.redacted(&check.secrets)).collect()
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
        problems.extend(wrong_value(source, key, entry));
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

/// How a value fails its key's kind.
#[derive(Debug, PartialEq)]
enum Wrong {
    /// The value is of another type.
    Type,
    /// A string that the shared grammar (`vitals-units`) does not read: why, in words.
    Text(String),
    /// Item `index` (from 0) of a list is of another type.
    Item(usize),
    /// The value of this key of a table is not a string.
    Entry(String),
}

/// The first way `value` fails `kind`, if it does. Durations and ranges are read with
/// the grammar plugins read them with, so what passes here is what a run accepts.
fn wrong(kind: ConfigKind, value: &toml::Value) -> Option<Wrong> {
    use toml::Value as V;
    let text = |result: Result<(), String>| result.err().map(Wrong::Text);
    match (kind, value) {
        (ConfigKind::String, V::String(_)) => None,
        (ConfigKind::Integer, V::Integer(_)) => None,
        (ConfigKind::Float, V::Float(_) | V::Integer(_)) => None,
        (ConfigKind::Boolean, V::Boolean(_)) => None,
        (ConfigKind::Duration, V::String(s)) => {
            text(vitals_units::parse_duration(s).map(drop).map_err(|e| format!("invalid duration \"{s}\": {e}")))
        }
        (ConfigKind::Range, V::String(s)) => text(vitals_units::Range::parse(s).map(drop).map_err(String::from)),
        (ConfigKind::StringList, V::Array(items)) => items.iter().position(|v| !v.is_str()).map(Wrong::Item),
        (ConfigKind::IntegerList, V::Array(items)) => items.iter().position(|v| !v.is_integer()).map(Wrong::Item),
        (ConfigKind::StringMap, V::Table(t)) => {
            t.iter().find(|(_, v)| !v.is_str()).map(|(k, _)| Wrong::Entry(k.clone()))
        }
        _ => Some(Wrong::Type),
    }
}

/// Why `value` is not a `kind`, in words, without the value's text (which only the file
/// has): [`wrong`] as the unit tests read it; the validator itself builds located errors.
#[cfg(test)]
fn check_kind(kind: ConfigKind, value: &toml::Value) -> Result<(), String> {
    let Some(wrong) = wrong(kind, value) else { return Ok(()) };
    Err(match wrong {
        Wrong::Type => format!("found {}", value.type_str()),
        Wrong::Text(why) => why,
        Wrong::Item(i) => {
            let item = value.as_array().and_then(|items| items.get(i)).map_or("value", |v| v.type_str());
            format!("item {} is a {item}, not {}", i + 1, item_kind(kind))
        }
        Wrong::Entry(k) => {
            let entry = value.get(&k).map_or("value", |v| v.type_str());
            format!("`{k}` is a {entry}, not a string")
        }
    })
}

/// The error for an entry whose value is not of its key's kind, at the value (or at the
/// item of a list or table that is wrong), with the line that fixes it when that is plain.
fn wrong_value(source: &Arc<SourceFile>, key: &ConfigKey, entry: &ConfigEntry) -> Option<Diagnostic> {
    let why = wrong(key.kind, &entry.value)?;
    let name = &entry.key;
    let span = entry.value_span.clone();
    let shown = |value: &toml::Value, span: &Range<usize>| match short(source, span) {
        Some(raw) if !value.is_array() && !value.is_table() => format!("{} {raw}", value.type_str()),
        _ => value.type_str().to_string(),
    };
    let example = format!("write for example `{name} = {}`", example(key));
    let diagnostic = match why {
        Wrong::Type => {
            let want = want(key);
            let help = hint::fix(name, want, Written::of(&entry.value), short(source, &span))
                .map_or(example, |line| format!("write `{line}`"));
            let found = shown(&entry.value, &span);
            Diagnostic::new(source, span, format!("`{name}` must be {}, found {found}", a(key.kind))).help(help)
        }
        Wrong::Text(why) => {
            let help = match key.kind {
                ConfigKind::Duration => hint::DURATION_HELP,
                _ => hint::RANGE_HELP,
            };
            Diagnostic::new(source, span, format!("`{name}`: {why}")).help(help)
        }
        Wrong::Item(i) => {
            let item = entry.value.as_array().and_then(|items| items.get(i))?;
            let at = part_spans(source, &span).and_then(|parts| parts.into_iter().nth(i)).map_or(span, |(_, s)| s);
            let help = item_help(key.kind, item, short(source, &at)).unwrap_or(example);
            let message =
                format!("item {} of `{name}` must be {}, found {}", i + 1, item_kind(key.kind), shown(item, &at));
            Diagnostic::new(source, at, message).help(help)
        }
        Wrong::Entry(k) => {
            let value = entry.value.get(&k)?;
            let at = part_spans(source, &span)
                .and_then(|parts| parts.into_iter().find(|(part, _)| part.as_deref() == Some(k.as_str())))
                .map_or(span, |(_, s)| s);
            let help = item_help(ConfigKind::StringList, value, short(source, &at)).unwrap_or(example);
            let message = format!("`{name}.{k}` must be a string, found {}", shown(value, &at));
            Diagnostic::new(source, at, message).help(help)
        }
    };
    Some(diagnostic)
}

/// The text of a span when it is one short line: what a message may quote.
fn short<'a>(source: &'a SourceFile, span: &Range<usize>) -> Option<&'a str> {
    source.text.get(span.clone()).filter(|raw| raw.len() <= 40 && !raw.contains('\n'))
}

/// The spans of the items of an inline array, or of the values of an inline table (with
/// their keys), read again from the file: the parsed value no longer has them. `None`
/// when the value is not written inline (a `[check.config.headers]` section).
fn part_spans(source: &SourceFile, span: &Range<usize>) -> Option<Vec<(Option<String>, Range<usize>)>> {
    let text = source.text.get(span.clone())?;
    let parsed = toml::de::DeValue::parse(text).ok()?;
    let shift = |s: Range<usize>| s.start + span.start..s.end + span.start;
    match parsed.get_ref() {
        toml::de::DeValue::Array(items) => Some(items.iter().map(|item| (None, shift(item.span()))).collect()),
        toml::de::DeValue::Table(table) => {
            Some(table.iter().map(|(k, v)| (Some(k.get_ref().to_string()), shift(v.span()))).collect())
        }
        _ => None,
    }
}

/// How to fix one item of a list (or one value of a table of strings) of `kind`.
fn item_help(kind: ConfigKind, item: &toml::Value, raw: Option<&str>) -> Option<String> {
    match (kind, item) {
        (ConfigKind::StringList, toml::Value::Array(_) | toml::Value::Table(_)) => None,
        (ConfigKind::StringList, _) => raw.map(|raw| format!("put it in quotes: \"{raw}\"")),
        (ConfigKind::IntegerList, toml::Value::String(s)) => {
            s.trim().parse::<i64>().ok().map(|n| format!("write it without quotes: {n}"))
        }
        _ => None,
    }
}

/// What one item of a list of `kind` must be.
fn item_kind(kind: ConfigKind) -> &'static str {
    match kind {
        ConfigKind::IntegerList => "an integer",
        _ => "a string",
    }
}

/// The kind with its article, as a message says it: `a range`, `an integer`.
fn a(kind: ConfigKind) -> String {
    match kind {
        ConfigKind::Integer => "an integer".to_string(),
        other => format!("a {}", other.as_str()),
    }
}

/// What the fix of a value of the wrong type for `key` aims at. A range is a string
/// (`crit = "500"`); a bare number for a duration gets the unit of the key's default.
fn want(key: &ConfigKey) -> Want {
    match key.kind {
        ConfigKind::String | ConfigKind::Range => Want::Text,
        ConfigKind::Duration => Want::Duration(default_unit(key)),
        ConfigKind::Integer => Want::Integer,
        ConfigKind::Float => Want::Number,
        ConfigKind::Boolean => Want::Boolean,
        ConfigKind::StringList => Want::Strings,
        ConfigKind::IntegerList => Want::Integers,
        ConfigKind::StringMap => Want::Text,
    }
}

/// A value of `key`'s kind, as it would be written after `key = `: its default when the
/// plugin declared a valid one.
fn example(key: &ConfigKey) -> String {
    let valid = |d: &&String| toml_value(d).is_some_and(|v| wrong(key.kind, &v).is_none());
    if let Some(default) = key.default.as_ref().filter(valid) {
        return default.clone();
    }
    match key.kind {
        ConfigKind::String => "\"...\"".into(),
        ConfigKind::Integer => "3".into(),
        ConfigKind::Float => "2.5".into(),
        ConfigKind::Boolean => "true".into(),
        ConfigKind::Duration => format!("\"10{}\"", default_unit(key)),
        ConfigKind::Range => "\"10:20\"".into(),
        ConfigKind::StringList => "[\"a\", \"b\"]".into(),
        ConfigKind::IntegerList => "[200, 204]".into(),
        ConfigKind::StringMap => "{ name = \"value\" }".into(),
    }
}

/// The unit of a duration key's default (`"250ms"` gives `ms`), which is what a bare
/// number for it most likely meant; seconds when the default says nothing.
fn default_unit(key: &ConfigKey) -> &'static str {
    let default = key.default.as_deref().and_then(toml_value);
    let text = default.as_ref().and_then(|v| v.as_str()).unwrap_or("");
    let unit = text.trim().trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    ["ms", "us", "m", "h", "d"].into_iter().find(|u| *u == unit).unwrap_or("s")
}

/// A TOML value written on its own (`"250ms"`), as a key's default is.
fn toml_value(text: &str) -> Option<toml::Value> {
    format!("v = {text}").parse::<toml::Table>().ok()?.remove("v")
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

    /// The rendered errors of one `[check.config]` line against a plugin that declares its
    /// key with `kind` (and `default`).
    fn errors(kind: ConfigKind, default: Option<&str>, line: &str) -> String {
        let head = "[[check]]\nname = \"c\"\n[check.config]\n";
        let source = SourceFile::new("checks.toml", format!("{head}{line}\n"));
        let (key, value) = line.split_once(" = ").expect("key = value");
        let at = head.len();
        let entry = ConfigEntry {
            key: key.into(),
            key_span: at..at + key.len(),
            value: toml_value(value).expect("a TOML value"),
            value_span: at + key.len() + 3..at + line.len(),
        };
        let plugin = PluginDescription {
            name: "fixture".into(),
            version: "0.1.0".into(),
            summary: String::new(),
            config: vec![ConfigKey {
                name: key.into(),
                kind,
                default: default.map(Into::into),
                required: false,
                doc: "What it does.".into(),
            }],
        };
        let plugin_ref = PluginRef::Builtin("fixture".into());
        let found = validate_entries(&source, "check `c`", &plugin_ref, &[entry], &(0..0), &plugin);
        found.iter().map(|d| format!("{d}\n")).collect()
    }

    fn assert_has(text: &str, parts: &[&str]) {
        for part in parts {
            assert!(text.contains(part), "missing {part:?} in:\n{text}");
        }
    }

    #[test]
    fn ranges_are_read_with_the_shared_grammar_and_say_why_they_fail() {
        for good in ["crit = \"10\"", "crit = \"10:\"", "crit = \"~:10\"", "crit = \"@10:20\"", "crit = \"-1.5:2.5\""] {
            assert_eq!(errors(ConfigKind::Range, None, good), "", "{good}");
        }
        let text = errors(ConfigKind::Range, None, "crit = \"abc\"");
        assert_has(
            &text,
            &["`crit`: invalid range \"abc\": \"abc\" is not a number", "checks.toml:4:8", "help: write a range"],
        );
        let text = errors(ConfigKind::Range, None, "warn = \"10:5\"");
        assert_has(&text, &["`warn`: invalid range \"10:5\": start 10 is greater than end 5", "checks.toml:4:8"]);
    }

    #[test]
    fn a_bare_number_for_a_range_or_a_string_gets_its_quoted_form() {
        let text = errors(ConfigKind::Range, None, "crit = 500");
        assert_has(
            &text,
            &["`crit` must be a range, found integer 500", "checks.toml:4:8", "help: write `crit = \"500\"`"],
        );
        let text = errors(ConfigKind::String, None, "method = 5");
        assert_has(&text, &["`method` must be a string, found integer 5", "help: write `method = \"5\"`"]);
    }

    #[test]
    fn a_bare_number_for_a_duration_gets_the_unit_of_the_keys_default() {
        let text = errors(ConfigKind::Duration, Some("\"250ms\""), "warn_time = 200");
        assert_has(
            &text,
            &["`warn_time` must be a duration, found integer 200", "help: write `warn_time = \"200ms\"`"],
        );
        let text = errors(ConfigKind::Duration, None, "timeout = 5");
        assert_has(&text, &["help: write `timeout = \"5s\"`"]);
        let text = errors(ConfigKind::Duration, None, "timeout = \"5 parsecs\"");
        assert_has(&text, &["`timeout`: invalid duration \"5 parsecs\"", "help: write a number and a unit"]);
    }

    #[test]
    fn a_quoted_number_or_boolean_loses_its_quotes() {
        let text = errors(ConfigKind::Integer, None, "max_redirects = \"5\"");
        assert_has(
            &text,
            &["`max_redirects` must be an integer, found string \"5\"", "help: write `max_redirects = 5`"],
        );
        let text = errors(ConfigKind::Integer, None, "max_redirects = \"five\"");
        assert_has(&text, &["help: write for example `max_redirects = 3`"]);
        let text = errors(ConfigKind::Integer, Some("5"), "max_redirects = [1]");
        assert_has(&text, &["help: write for example `max_redirects = 5`"]);
        let text = errors(ConfigKind::Float, None, "ratio = \"0.5\"");
        assert_has(&text, &["`ratio` must be a float, found string \"0.5\"", "help: write `ratio = 0.5`"]);
        let text = errors(ConfigKind::Boolean, None, "insecure = \"true\"");
        assert_has(&text, &["help: write `insecure = true`"]);
        assert_eq!(errors(ConfigKind::Float, None, "ratio = 1"), "", "a whole number is a float");
    }

    #[test]
    fn list_items_are_checked_one_by_one_and_the_wrong_one_is_pointed_at() {
        assert_eq!(errors(ConfigKind::IntegerList, None, "expect = [200, 204]"), "");
        let text = errors(ConfigKind::IntegerList, None, "expect = [200, \"204\"]");
        assert_has(&text, &["item 2 of `expect` must be an integer, found string \"204\"", "checks.toml:4:16"]);
        assert_has(&text, &["help: write it without quotes: 204"]);
        let text = errors(ConfigKind::IntegerList, None, "expect = 200");
        assert_has(&text, &["`expect` must be a list of integers, found integer 200", "help: write `expect = [200]`"]);
        let text = errors(ConfigKind::StringList, None, "tags = [\"a\", 1]");
        assert_has(&text, &["item 2 of `tags` must be a string, found integer 1", "checks.toml:4:14"]);
        assert_has(&text, &["help: put it in quotes: \"1\""]);
        let text = errors(ConfigKind::StringList, None, "tags = \"a\"");
        assert_has(&text, &["help: write `tags = [\"a\"]`"]);
    }

    #[test]
    fn string_maps_are_checked_value_by_value() {
        assert_eq!(errors(ConfigKind::StringMap, None, "headers = { accept = \"text/plain\" }"), "");
        let text = errors(ConfigKind::StringMap, None, "headers = { accept = \"*/*\", x-port = 8080 }");
        assert_has(&text, &["`headers.x-port` must be a string, found integer 8080", "checks.toml:4:38"]);
        assert_has(&text, &["help: put it in quotes: \"8080\""]);
        let text = errors(ConfigKind::StringMap, None, "headers = \"accept: */*\"");
        assert_has(
            &text,
            &["`headers` must be a table of strings, found string", "help: write for example `headers = {"],
        );
    }
}
