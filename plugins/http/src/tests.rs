//! Unit tests of how responses are judged (pure logic, no host calls).

use vitals_sdk::{ConfigType, Timings};

use super::*;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn response(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: vec![("content-type".into(), "text/plain".into()), ("x-served-by".into(), "test".into())],
        body: body.as_bytes().to_vec(),
        body_size: body.len() as u64,
        truncated: false,
        final_url: "http://127.0.0.1:8080/".into(),
        redirects: 0,
        remote_addr: "127.0.0.1:8080".into(),
        timings: Timings {
            dns_us: None,
            connect_us: Some(150),
            tls_us: None,
            first_byte_us: Some(2_000),
            total_us: 3_200,
        },
    }
}

fn metric_value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn ok_response() {
    let result = judge(&config("{}"), &response(200, "hello world!"));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.reason, None);
    assert_eq!(result.summary, "200 OK in 3.2 ms, 12 B");
    assert_eq!(metric_value(&result, "time_total"), Some(3.2));
    assert_eq!(metric_value(&result, "time_connect"), Some(0.15));
    assert_eq!(metric_value(&result, "time_first_byte"), Some(2.0));
    assert_eq!(metric_value(&result, "time_dns"), None);
    assert_eq!(metric_value(&result, "status_code"), Some(200.0));
    assert_eq!(metric_value(&result, "body_size"), Some(12.0));
    assert_eq!(metric_value(&result, "redirects"), Some(0.0));
    let details = result.details.unwrap_or_default();
    assert!(details.contains("final URL: http://127.0.0.1:8080/"), "{details}");
    assert!(details.contains("content-type: text/plain"), "{details}");
}

#[test]
fn unexpected_status() {
    let result = judge(&config("{}"), &response(500, ""));
    assert_eq!(result.status, Status::Critical);
    assert_eq!(result.reason, Some(Reason::HttpStatus));
    assert_eq!(result.summary, "500 Internal Server Error (expected 200-399) in 3.2 ms");
    assert_eq!(metric_value(&result, "status_code"), Some(500.0));

    let custom = config(r#"{"expect_status": "404,500-503"}"#);
    assert_eq!(judge(&custom, &response(503, "")).status, Status::Ok);
    assert_eq!(judge(&custom, &response(200, "")).status, Status::Critical);
}

#[test]
fn body_assertions() {
    let result = judge(&config(r#"{"body_contains": "pong"}"#), &response(200, "ping"));
    assert_eq!(result.status, Status::Critical);
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert_eq!(result.summary, "body does not contain \"pong\" (200 OK in 3.2 ms, 4 B)");

    let regex = config(r#"{"body_regex": "^v\\d+\\.\\d+$"}"#);
    assert_eq!(judge(&regex, &response(200, "v1.2")).status, Status::Ok);
    let result = judge(&regex, &response(200, "version one"));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(result.summary.starts_with("body does not match /^v\\d+\\.\\d+$/"));

    let mut truncated = response(200, "abc");
    truncated.truncated = true;
    truncated.body_size = 5_000;
    let result = judge(&config(r#"{"body_contains": "xyz"}"#), &truncated);
    assert!(result.summary.contains("only the first 3 B of the body were checked"), "{}", result.summary);
}

#[test]
fn header_assertions() {
    let matching = config(r#"{"header_equals": {"Content-Type": "text/plain"}}"#);
    assert_eq!(judge(&matching, &response(200, "")).status, Status::Ok);

    let wrong = config(r#"{"header_equals": {"Content-Type": "application/json"}}"#);
    let result = judge(&wrong, &response(200, ""));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(
        result.summary.starts_with("header content-type is \"text/plain\", expected \"application/json\""),
        "{}",
        result.summary
    );

    let missing = config(r#"{"header_equals": {"X-Missing": "1"}}"#);
    let result = judge(&missing, &response(200, ""));
    assert!(result.summary.starts_with("header x-missing is missing"));
}

#[test]
fn time_thresholds() {
    let mut slow = response(200, "");
    slow.timings.total_us = 750_000;
    let result = judge(&config(r#"{"warn_time": "500ms", "crit_time": "1s"}"#), &slow);
    assert_eq!(result.status, Status::Warning);
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert_eq!(result.summary, "200 OK in 750.0 ms, 0 B: slower than warn_time 500.0 ms");
    let total = result.metrics.iter().find(|m| m.name == "time_total");
    assert_eq!(total.and_then(|m| m.warn.clone()).as_deref(), Some("500"));
    assert_eq!(total.and_then(|m| m.crit.clone()).as_deref(), Some("1000"));

    slow.timings.total_us = 1_200_000;
    let result = judge(&config(r#"{"warn_time": "500ms", "crit_time": "1s"}"#), &slow);
    assert_eq!(result.status, Status::Critical);
    assert_eq!(result.summary, "200 OK in 1.2 s, 0 B: slower than crit_time 1.0 s");
}

#[test]
fn describe_lists_every_key() {
    let description = Http::describe();
    assert_eq!(description.name, "http");
    assert_eq!(description.version, "0.1.0");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "method",
            "headers",
            "body",
            "expect_status",
            "body_contains",
            "body_regex",
            "header_equals",
            "warn_time",
            "crit_time",
            "max_redirects",
            "tls_verify",
            "max_body"
        ]
    );
}

/// What `vitals plugin inspect http` shows of the keys, as it was before the keys were
/// derived from the config struct: names, kinds, defaults (TOML), required, docs.
#[test]
fn describe_keys_are_unchanged() {
    let keys: Vec<(String, ConfigType, Option<String>, bool, String)> =
        Http::describe().config.into_iter().map(|k| (k.name, k.kind, k.default, k.required, k.doc)).collect();
    let expected = [
        ("method", ConfigType::String, Some("\"GET\""), "HTTP method of the request."),
        ("headers", ConfigType::StringMap, None, "Extra request headers."),
        ("body", ConfigType::String, None, "Request body to send."),
        (
            "expect_status",
            ConfigType::String,
            Some("\"200-399\""),
            "Accepted status codes: comma-separated codes and ranges, e.g. \"200,204,300-399\".",
        ),
        ("body_contains", ConfigType::String, None, "Text the response body must contain."),
        ("body_regex", ConfigType::String, None, "Regular expression the response body must match."),
        (
            "header_equals",
            ConfigType::StringMap,
            None,
            "Response headers (names case-insensitive) that must have exactly these values.",
        ),
        ("warn_time", ConfigType::Duration, None, "Warn when the whole exchange takes longer than this."),
        ("crit_time", ConfigType::Duration, None, "Critical when the whole exchange takes longer than this."),
        (
            "max_redirects",
            ConfigType::Integer,
            Some("5"),
            "How many redirects to follow (0 checks the redirect response itself).",
        ),
        ("tls_verify", ConfigType::Boolean, Some("true"), "Verify the server's certificate and name."),
        (
            "max_body",
            ConfigType::Integer,
            Some("1048576"),
            "How many bytes of the body to keep for body_contains and body_regex.",
        ),
    ]
    .map(|(name, kind, default, doc)| (name.to_string(), kind, default.map(str::to_string), false, doc.to_string()));
    assert_eq!(keys, expected);
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Http::validate(r#"{"expect_status": "2xx", "body_regex": "(unclosed"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("expect_status"), Some("body_regex")]);
    assert!(problems[0].message.contains("\"2xx\""), "{}", problems[0].message);
    assert!(problems[1].message.starts_with("invalid regex \"(unclosed\": "), "{}", problems[1].message);
    assert!(problems.iter().all(|p| !p.message.contains('\n')), "{problems:?}");
}

#[test]
fn validate_accepts_a_good_config() {
    let good = r#"{"method": "HEAD", "expect_status": "200,204", "body_regex": "^ok$", "warn_time": "500ms",
        "headers": {"Accept": "text/plain"}, "max_redirects": 0, "tls_verify": false, "max_body": 4096}"#;
    assert_eq!(Http::validate(good), []);
    assert_eq!(Http::validate("{}"), []);
}

// Every case of cases.toml, run natively through `Http::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Http, "cases.toml");
