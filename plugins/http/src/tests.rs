//! Unit tests of how responses are judged (pure logic, no host calls).

use vitals_sdk::Timings;

use super::*;

fn config(json: &str) -> Config {
    match parse_config::<Config>(json) {
        Ok(config) => config,
        Err(result) => panic!("{}", result.summary),
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

// Every case of cases.toml, run natively through `Http::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Http, "cases.toml");
