//! What the code `#[derive(Config)]` generates calls: not a public API, and it may change
//! in any release.

use serde_json::{Map, Value};

use crate::{ConfigKey, ConfigProblem, ConfigType, ConfigValue, config_key};

pub use serde_json;

/// One key for `describe`.
pub fn key(name: &str, kind: ConfigType, default: Option<&str>, required: bool, doc: &str) -> ConfigKey {
    let key = config_key(name, kind, doc);
    let key = match default {
        Some(toml) => key.with_default(toml),
        None => key,
    };
    if required { key.required() } else { key }
}

/// A problem for each key of `table` that is not one of `known`, with the likely one.
pub fn unknown_keys(table: &Map<String, Value>, known: &[&str], problems: &mut Vec<ConfigProblem>) {
    for key in table.keys().filter(|key| !known.contains(&key.as_str())) {
        let message = if known.is_empty() {
            "unknown key (this plugin takes no config keys)".to_string()
        } else if let Some(near) = closest(key, known) {
            format!("unknown key (did you mean `{near}`?)")
        } else {
            let all: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            format!("unknown key (the keys are {})", all.join(", "))
        };
        problems.push(ConfigProblem::at_key(key.as_str(), message));
    }
}

/// The known key `key` is most likely a misspelling of: at most one edit away (two for
/// longer keys), a swap of neighbours counting as one.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let limit = if key.chars().count() >= 4 { 2 } else { 1 };
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The optimal-string-alignment distance: insertions, deletions, substitutions and swaps
/// of neighbouring characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * width + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best =
                    (d[(i - 1) * width + j] + 1).min(d[i * width + j - 1] + 1).min(d[(i - 1) * width + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * width + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * width + b.len()]
}

/// A given key's value, or none with its problem.
pub fn given_value<T: ConfigValue>(
    key: &str,
    json: &Value,
    check: impl Fn(&T) -> Result<(), String>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<T> {
    match T::from_json(json).and_then(|value| check(&value).map(|()| value)) {
        Ok(value) => Some(value),
        Err(message) => {
            problems.push(ConfigProblem::at_key(key, message));
            None
        }
    }
}

/// A left-out key's default, read as a given value is; a default that does not read is
/// the plugin's bug, and said so.
pub fn default_value<T: ConfigValue>(
    key: &str,
    json: Value,
    check: impl Fn(&T) -> Result<(), String>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<T> {
    match T::from_json(&json).and_then(|value| check(&value).map(|()| value)) {
        Ok(value) => Some(value),
        Err(message) => {
            problems.push(ConfigProblem::at_key(
                key,
                format!("the plugin's default {json} is invalid (a bug in the plugin): {message}"),
            ));
            None
        }
    }
}

/// The problem of a required key that was left out.
pub fn missing<T>(key: &str, problems: &mut Vec<ConfigProblem>) -> Option<T> {
    problems.push(ConfigProblem::at_key(key, "missing: this key is required"));
    None
}

/// `problems`, or one that says none was recorded (which the generated code never does).
pub fn at_least_one(mut problems: Vec<ConfigProblem>) -> Vec<ConfigProblem> {
    if problems.is_empty() {
        problems.push(ConfigProblem::table("the config could not be read (no problem was recorded)"));
    }
    problems
}

/// A default string.
pub fn json_string(text: &str) -> Value {
    Value::String(text.to_string())
}

/// A default integer that fits `i64`.
pub fn json_i64(n: i64) -> Value {
    Value::from(n)
}

/// A default integer above `i64::MAX`.
pub fn json_u64(n: u64) -> Value {
    Value::from(n)
}

/// A default float (always finite: it was a literal).
pub fn json_f64(n: f64) -> Value {
    Value::from(n)
}

/// A default boolean.
pub fn json_bool(b: bool) -> Value {
    Value::Bool(b)
}

/// A default array.
pub fn json_array(items: Vec<Value>) -> Value {
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested() {
        let known = ["url", "headers", "timeout", "retries", "backoff"];
        assert_eq!(closest("ulr", &known), Some("url"));
        assert_eq!(closest("header", &known), Some("headers"));
        assert_eq!(closest("timeuot", &known), Some("timeout"));
        assert_eq!(closest("retry", &known), None);
        assert_eq!(closest("x", &known), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }
}
