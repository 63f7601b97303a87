//! The assertions on a response that arrived: its body as text (`body_contains`,
//! `body_regex`), its headers (`header_equals`, `header_regex`) and its body as JSON
//! (`json`, `json_exists`, `json_range`). Each failure is one line for a person.

use vitals_sdk::http::Response;
use vitals_sdk::serde_json::{self, Number, Value};
use vitals_sdk::{Range, first_line, sanitize};

use crate::config::Config;

/// How long a value, a pattern or a quoted text may get in a failure.
const MAX_SHOWN: usize = 80;
/// How much of a body that is not JSON a failure quotes.
const BODY_QUOTED: usize = 40;

/// What failed, in the order of the keys.
#[derive(Debug, Default)]
pub struct Failures {
    /// One line per failed assertion.
    pub lines: Vec<String>,
    /// Whether an assertion on the body failed (so a truncated body may be the cause).
    pub on_body: bool,
}

/// Every assertion of `config` on `response` that does not hold.
pub fn failures(config: &Config, response: &Response) -> Failures {
    let mut failures = Failures::default();
    let body = String::from_utf8_lossy(&response.body);
    if let Some(needle) = &config.body_contains
        && !body.contains(needle.as_str())
    {
        failures.lines.push(format!("body does not contain \"{}\"", sanitize(needle, MAX_SHOWN)));
    }
    if let Some(regex) = &config.body_regex
        && !regex.is_match(&body)
    {
        failures.lines.push(format!("body does not match /{}/", sanitize(regex.as_str(), MAX_SHOWN)));
    }
    let body_lines = failures.lines.len();
    for (name, expected) in &config.header_equals {
        let wanted = name.to_ascii_lowercase();
        let values = header_values(response, &wanted);
        if values.is_empty() {
            failures.lines.push(format!("header {wanted} is missing"));
        } else if !values.contains(&expected.as_str()) {
            failures.lines.push(format!(
                "header {wanted} is \"{}\", expected \"{}\"",
                sanitize(values[0], MAX_SHOWN),
                sanitize(expected, MAX_SHOWN)
            ));
        }
    }
    for (name, pattern) in &config.header_regex.0 {
        let values = header_values(response, name);
        if values.is_empty() {
            failures.lines.push(format!("header {name} is missing"));
        } else if !values.iter().any(|value| pattern.is_match(value)) {
            failures.lines.push(format!(
                "header {name} is \"{}\", which does not match /{}/",
                sanitize(values[0], MAX_SHOWN),
                sanitize(pattern.as_str(), MAX_SHOWN)
            ));
        }
    }
    let json_lines = failures.lines.len();
    if config.wants_json() {
        json_failures(config, &response.body, &mut failures.lines);
    }
    failures.on_body = body_lines > 0 || failures.lines.len() > json_lines;
    failures
}

/// The values of response header `name` (lower case, as the host gives them).
fn header_values<'a>(response: &'a Response, name: &str) -> Vec<&'a str> {
    response
        .headers
        .iter()
        .filter(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
        .collect()
}

/// The failed `json`, `json_exists` and `json_range` assertions; one failure when the
/// body is not JSON at all.
fn json_failures(config: &Config, body: &[u8], lines: &mut Vec<String>) {
    let document: Value = match serde_json::from_slice(body) {
        Ok(document) => document,
        Err(_) if body.iter().all(u8::is_ascii_whitespace) => {
            lines.push("the body is not JSON: it is empty".to_string());
            return;
        }
        Err(err) => {
            lines.push(format!(
                "the body is not JSON: {}, it starts \"{}\"",
                sanitize(&err.to_string(), MAX_SHOWN),
                first_line(body, BODY_QUOTED)
            ));
            return;
        }
    };
    let missing = |pointer: &str| format!("json {} is missing", shown_pointer(pointer));
    for (pointer, expected) in &config.json.0 {
        match document.pointer(pointer.as_str()) {
            None => lines.push(missing(pointer.as_str())),
            Some(actual) if !equals(expected, actual) => {
                let expected = match actual {
                    Value::String(_) => format!("\"{}\"", sanitize(expected, MAX_SHOWN)),
                    _ => sanitize(expected, MAX_SHOWN),
                };
                lines.push(format!(
                    "json {} is {}, expected {expected}",
                    shown_pointer(pointer.as_str()),
                    shown(actual)
                ));
            }
            Some(_) => {}
        }
    }
    for pointer in &config.json_exists {
        if document.pointer(pointer.as_str()).is_none() {
            lines.push(missing(pointer.as_str()));
        }
    }
    for (pointer, range) in &config.json_range.0 {
        let at = shown_pointer(pointer.as_str());
        match document.pointer(pointer.as_str()) {
            None => lines.push(missing(pointer.as_str())),
            Some(Value::Number(number)) => {
                let value = number.as_f64().unwrap_or(f64::NAN);
                if range.alerts(value) {
                    let side = if range.inside { "inside" } else { "outside" };
                    lines.push(format!("json {at} is {number}, {side} {}", range_text(range)));
                }
            }
            Some(other) => {
                lines.push(format!("json {at} is {}, not a number (json_range {})", shown(other), range_text(range)))
            }
        }
    }
}

/// Whether the JSON value `actual` is the config's `expected` text: a string equals it,
/// a number has its value, anything else equals it read as JSON.
pub fn equals(expected: &str, actual: &Value) -> bool {
    match actual {
        Value::String(text) => text == expected,
        Value::Number(number) => same_number(expected, number),
        other => serde_json::from_str::<Value>(expected).is_ok_and(|value| &value == other),
    }
}

/// `"42"` is 42, `"1.50"` is 1.5 and `"1"` is 1.0; two whole numbers compare exactly
/// (no float rounding for large ones).
fn same_number(expected: &str, number: &Number) -> bool {
    if number.to_string() == expected {
        return true;
    }
    let whole = |text: &str| text.parse::<i128>().ok();
    let actual_whole = number.as_i64().map(i128::from).or_else(|| number.as_u64().map(i128::from));
    match (whole(expected), actual_whole) {
        (Some(e), Some(a)) => e == a,
        _ => match (expected.parse::<f64>(), number.as_f64()) {
            (Ok(e), Some(a)) => e.is_finite() && e == a,
            _ => false,
        },
    }
}

/// A range with both ends written out (`0:100`, `~:5`, `@10:20`, `7:`): the short
/// form `100` would read as a value, not as a range.
fn range_text(range: &Range) -> String {
    let at = if range.inside { "@" } else { "" };
    let start = if range.start == f64::NEG_INFINITY { "~".to_string() } else { range.start.to_string() };
    let end = if range.end.is_finite() { range.end.to_string() } else { String::new() };
    format!("{at}{start}:{end}")
}

/// A JSON value as its compact text, on one line and bounded.
fn shown(value: &Value) -> String {
    sanitize(&value.to_string(), MAX_SHOWN)
}

/// A pointer as the config wrote it, or `""` for the whole document.
fn shown_pointer(pointer: &str) -> String {
    if pointer.is_empty() { "\"\" (the whole document)".to_string() } else { sanitize(pointer, MAX_SHOWN) }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::serde_json::json;

    use super::*;

    #[test]
    fn strings_equal_their_text_and_scalars_their_json_text() {
        assert!(equals("green", &json!("green")));
        assert!(!equals("\"green\"", &json!("green")));
        assert!(equals("42", &json!("42")));
        assert!(!equals("42", &json!("042")));
        assert!(equals("true", &json!(true)));
        assert!(!equals("True", &json!(true)));
        assert!(equals("null", &json!(null)));
        assert!(!equals("", &json!(null)));
        assert!(equals("[1,2]", &json!([1, 2])));
        assert!(equals("[1, 2]", &json!([1, 2])));
        assert!(equals(r#"{"b":1,"a":2}"#, &json!({"a": 2, "b": 1})));
        assert!(!equals("[1]", &json!([1, 2])));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(equals("42", &json!(42)));
        assert!(equals("-7", &json!(-7)));
        assert!(equals("1", &json!(1.0)));
        assert!(equals("1.0", &json!(1)));
        assert!(equals("1.50", &json!(1.5)));
        assert!(equals("1e3", &json!(1000)));
        assert!(!equals("43", &json!(42)));
        assert!(!equals("forty-two", &json!(42)));
        assert!(!equals("inf", &json!(1e308)));
        // Whole numbers beyond f64's precision are compared exactly.
        assert!(equals("18446744073709551615", &json!(u64::MAX)));
        assert!(!equals("9007199254740993", &json!(9_007_199_254_740_992_u64)));
    }
}
