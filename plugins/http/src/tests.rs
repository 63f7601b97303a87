//! Unit tests of how responses are judged (pure logic, no host calls).

use vitals_sdk::{Certificate, ConfigType, Timings};

use super::*;

/// The time the unit tests judge at: 2026-12-01 00:00 UTC.
const NOW_MS: i64 = 1_796_083_200_000;
const DAY_MS: i64 = 86_400_000;

/// `judge` for a plain http response.
fn judge_http(config: &Config, response: &Response) -> CheckResult {
    judge(config, response, None, NOW_MS)
}

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
    let result = judge_http(&config("{}"), &response(200, "hello world!"));
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
    let result = judge_http(&config("{}"), &response(500, ""));
    assert_eq!(result.status, Status::Critical);
    assert_eq!(result.reason, Some(Reason::HttpStatus));
    assert_eq!(result.summary, "500 Internal Server Error (expected 200-399) in 3.2 ms");
    assert_eq!(metric_value(&result, "status_code"), Some(500.0));

    let custom = config(r#"{"expect_status": "404,500-503"}"#);
    assert_eq!(judge_http(&custom, &response(503, "")).status, Status::Ok);
    assert_eq!(judge_http(&custom, &response(200, "")).status, Status::Critical);
}

#[test]
fn body_assertions() {
    let result = judge_http(&config(r#"{"body_contains": "pong"}"#), &response(200, "ping"));
    assert_eq!(result.status, Status::Critical);
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert_eq!(result.summary, "body does not contain \"pong\" (200 OK in 3.2 ms, 4 B)");

    let regex = config(r#"{"body_regex": "^v\\d+\\.\\d+$"}"#);
    assert_eq!(judge_http(&regex, &response(200, "v1.2")).status, Status::Ok);
    let result = judge_http(&regex, &response(200, "version one"));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(result.summary.starts_with("body does not match /^v\\d+\\.\\d+$/"));

    let mut truncated = response(200, "abc");
    truncated.truncated = true;
    truncated.body_size = 5_000;
    let result = judge_http(&config(r#"{"body_contains": "xyz"}"#), &truncated);
    assert!(result.summary.contains("only the first 3 B of the body were checked"), "{}", result.summary);
}

#[test]
fn header_assertions() {
    let matching = config(r#"{"header_equals": {"Content-Type": "text/plain"}}"#);
    assert_eq!(judge_http(&matching, &response(200, "")).status, Status::Ok);

    let wrong = config(r#"{"header_equals": {"Content-Type": "application/json"}}"#);
    let result = judge_http(&wrong, &response(200, ""));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(
        result.summary.starts_with("header content-type is \"text/plain\", expected \"application/json\""),
        "{}",
        result.summary
    );

    let missing = config(r#"{"header_equals": {"X-Missing": "1"}}"#);
    let result = judge_http(&missing, &response(200, ""));
    assert!(result.summary.starts_with("header x-missing is missing"));
}

#[test]
fn time_thresholds() {
    let mut slow = response(200, "");
    slow.timings.total_us = 750_000;
    let result = judge_http(&config(r#"{"warn_time": "500ms", "crit_time": "1s"}"#), &slow);
    assert_eq!(result.status, Status::Warning);
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert_eq!(result.summary, "200 OK in 750.0 ms, 0 B: slower than warn_time 500.0 ms");
    let total = result.metrics.iter().find(|m| m.name == "time_total");
    assert_eq!(total.and_then(|m| m.warn.clone()).as_deref(), Some("500"));
    assert_eq!(total.and_then(|m| m.crit.clone()).as_deref(), Some("1000"));

    slow.timings.total_us = 1_200_000;
    let result = judge_http(&config(r#"{"warn_time": "500ms", "crit_time": "1s"}"#), &slow);
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
            "content_type",
            "basic_user",
            "basic_password",
            "bearer_token",
            "expect_status",
            "body_contains",
            "body_regex",
            "header_equals",
            "header_regex",
            "json",
            "json_exists",
            "json_range",
            "warn_time",
            "crit_time",
            "cert_warn_days",
            "cert_crit_days",
            "max_redirects",
            "tls_verify",
            "max_body"
        ]
    );
    for part in ["JSON Pointers", "days_to_expiry", "tls_version", "Basic or bearer", "(ms)", "(B)"] {
        assert!(description.summary.contains(part), "{part}: {}", description.summary);
    }
}

/// What `vitals plugin inspect http` shows of the keys that were there before JSON, auth
/// and certificates: names, kinds, defaults (TOML), required, docs. Only `method` changed
/// (its default now depends on `body`), and the docs of `body` and `max_body` say more.
#[test]
fn describe_keys_are_unchanged() {
    let keys: Vec<(String, ConfigType, Option<String>, bool, String)> =
        Http::describe().config.into_iter().map(|k| (k.name, k.kind, k.default, k.required, k.doc)).collect();
    let old = [
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
        "max_body",
    ];
    let keys: Vec<_> = keys.into_iter().filter(|k| old.contains(&k.0.as_str())).collect();
    let expected = [
        ("method", ConfigType::String, None, "HTTP method of the request (GET, or POST when body is set)."),
        ("headers", ConfigType::StringMap, None, "Extra request headers."),
        (
            "body",
            ConfigType::String,
            None,
            "Request body to send; the method is then POST unless method says otherwise.",
        ),
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
            "How many bytes of the body to keep for body_contains, body_regex and the json keys.",
        ),
    ]
    .map(|(name, kind, default, doc)| (name.to_string(), kind, default.map(str::to_string), false, doc.to_string()));
    assert_eq!(keys, expected);
}

#[test]
fn new_keys_have_their_kinds() {
    let kinds: Vec<(String, ConfigType, Option<String>)> =
        Http::describe().config.into_iter().map(|k| (k.name, k.kind, k.default)).collect();
    for (name, kind) in [
        ("content_type", ConfigType::String),
        ("basic_user", ConfigType::String),
        ("basic_password", ConfigType::String),
        ("bearer_token", ConfigType::String),
        ("header_regex", ConfigType::StringMap),
        ("json", ConfigType::StringMap),
        ("json_exists", ConfigType::StringList),
        ("json_range", ConfigType::StringMap),
        ("cert_warn_days", ConfigType::Integer),
        ("cert_crit_days", ConfigType::Integer),
    ] {
        assert!(kinds.contains(&(name.to_string(), kind, None)), "{name}: {kinds:?}");
    }
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
fn validate_refuses_keys_that_exclude_each_other_and_bad_patterns() {
    let problems = Http::validate(
        r#"{"basic_user": "probe", "basic_password": "pw", "bearer_token": "t",
            "headers": {"Authorization": "Basic eA=="}, "header_regex": {"X-Version": "v(\\d"}}"#,
    );
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("header_regex")], "{problems:?}");
    assert!(problems[0].message.starts_with("\"X-Version\": invalid regex \"v(\\\\d\": "), "{}", problems[0].message);

    let problems = Http::validate(
        r#"{"basic_user": "probe", "basic_password": "pw", "bearer_token": "t", "headers": {"Authorization": "x"}}"#,
    );
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("bearer_token"), Some("headers")], "{problems:?}");
    assert!(problems.iter().all(|p| !p.message.contains("pw")), "{problems:?}");

    let problems = Http::validate(r#"{"json": {"status": "up"}, "json_range": {"/load": "9:1"}}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("json"), Some("json_range")], "{problems:?}");
    assert!(problems[0].message.contains("it starts with \"/\""), "{}", problems[0].message);
}

#[test]
fn validate_accepts_a_good_config() {
    let good = r#"{"method": "HEAD", "expect_status": "200,204", "body_regex": "^ok$", "warn_time": "500ms",
        "headers": {"Accept": "text/plain"}, "max_redirects": 0, "tls_verify": false, "max_body": 4096}"#;
    assert_eq!(Http::validate(good), []);
    assert_eq!(Http::validate("{}"), []);
    let more = r#"{"body": "{}", "content_type": "application/json", "basic_user": "u", "basic_password": "p",
        "header_regex": {"ETag": "^\"[0-9a-f]+\"$"}, "json": {"/status": "up", "/a~1b": "1"},
        "json_exists": ["/items/0/id", ""], "json_range": {"/load": "0:100", "/errors": "@1:"},
        "cert_warn_days": 30, "cert_crit_days": 7}"#;
    assert_eq!(Http::validate(more), []);
}

fn json_response(body: &str) -> Response {
    let mut response = response(200, body);
    response.headers[0].1 = "application/json".into();
    response
}

const API: &str = r#"{"status": "green", "version": "1.2.3", "count": 3, "ratio": 0.25, "up": true,
    "gone": null, "items": [{"id": 7}, {"id": 9}], "a/b": "slash", "m~n": "tilde", "latency_ms": 250,
    "labels": ["x", "y"], "load": "high"}"#;

#[test]
fn json_values_that_hold_are_ok() {
    let config = config(
        r#"{"json": {"/status": "green", "/count": "3", "/ratio": "0.25", "/up": "true", "/gone": "null",
            "/items/1/id": "9", "/a~1b": "slash", "/m~0n": "tilde", "/labels": "[\"x\", \"y\"]"},
            "json_exists": ["/items/0", "/gone", ""], "json_range": {"/latency_ms": "0:300", "/count": "@10:20"}}"#,
    );
    let result = judge_http(&config, &json_response(API));
    assert_eq!((result.status, result.reason), (Status::Ok, None), "{}", result.summary);
}

#[test]
fn a_json_value_that_differs_is_critical_and_named() {
    let result = judge_http(&config(r#"{"json": {"/status": "red"}}"#), &json_response(API));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(
        result.summary.starts_with("json /status is \"green\", expected \"red\" (200 OK in "),
        "{}",
        result.summary
    );

    let result = judge_http(&config(r#"{"json": {"/count": "4"}}"#), &json_response(API));
    assert!(result.summary.starts_with("json /count is 3, expected 4 ("), "{}", result.summary);
    let result = judge_http(&config(r#"{"json": {"/up": "yes"}}"#), &json_response(API));
    assert!(result.summary.starts_with("json /up is true, expected yes ("), "{}", result.summary);
}

#[test]
fn a_missing_pointer_is_critical_and_named() {
    let result = judge_http(&config(r#"{"json": {"/items/5/id": "1"}}"#), &json_response(API));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.starts_with("json /items/5/id is missing ("), "{}", result.summary);
    let result = judge_http(&config(r#"{"json_exists": ["/a/b"]}"#), &json_response(API));
    assert!(result.summary.starts_with("json /a/b is missing ("), "{}", result.summary);
    let result = judge_http(&config(r#"{"json_range": {"/nope": "0:1"}}"#), &json_response(API));
    assert!(result.summary.starts_with("json /nope is missing ("), "{}", result.summary);
}

#[test]
fn a_body_that_is_not_json_is_critical_once() {
    let config = config(r#"{"json": {"/status": "green", "/version": "1"}, "json_exists": ["/x"]}"#);
    let result = judge_http(&config, &response(200, "<html><body>Bad gateway</body></html>"));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(
        result.summary.starts_with(
            "the body is not JSON: expected value at line 1 column 1, it starts \"<html><body>Bad gateway</body></html>\" ("
        ),
        "{}",
        result.summary
    );
    let result = judge_http(&config, &response(204, ""));
    assert!(result.summary.starts_with("the body is not JSON: it is empty ("), "{}", result.summary);

    let mut cut = json_response(r#"{"status": "gre"#);
    cut.truncated = true;
    cut.body_size = 4_000;
    let result = judge_http(&config, &cut);
    assert!(result.summary.contains("; only the first 15 B of the body were checked (max_body)"), "{}", result.summary);
}

#[test]
fn json_ranges_judge_numbers_only() {
    let result = judge_http(&config(r#"{"json_range": {"/latency_ms": "0:100"}}"#), &json_response(API));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.starts_with("json /latency_ms is 250, outside 0:100 ("), "{}", result.summary);

    let result = judge_http(&config(r#"{"json_range": {"/count": "@1:5"}}"#), &json_response(API));
    assert!(result.summary.starts_with("json /count is 3, inside @1:5 ("), "{}", result.summary);

    let result = judge_http(&config(r#"{"json_range": {"/load": "~:5"}}"#), &json_response(API));
    assert!(
        result.summary.starts_with("json /load is \"high\", not a number (json_range ~:5) ("),
        "{}",
        result.summary
    );
    assert_eq!(judge_http(&config(r#"{"json_range": {"/ratio": "1"}}"#), &json_response(API)).status, Status::Ok);
    let result = judge_http(&config(r#"{"json_range": {"/count": "10"}}"#), &json_response(API));
    assert_eq!(result.status, Status::Ok);
    let result = judge_http(&config(r#"{"json_range": {"/count": "5:"}}"#), &json_response(API));
    assert!(result.summary.starts_with("json /count is 3, outside 5: ("), "{}", result.summary);
}

#[test]
fn the_summary_names_the_first_failure_and_the_details_list_them_all() {
    let config = config(
        r#"{"body_contains": "ok", "header_regex": {"X-Served-By": "^prod-"}, "json": {"/status": "red"},
            "json_exists": ["/x"]}"#,
    );
    let result = judge_http(&config, &json_response(API));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(
        result.summary.starts_with("body does not contain \"ok\", and 3 more failed assertions (200 OK in "),
        "{}",
        result.summary
    );
    let details = result.details.unwrap_or_default();
    assert!(
        details.starts_with(
            "failed assertions:\n  body does not contain \"ok\"\n  header x-served-by is \"test\", which does not \
             match /^prod-/\n  json /status is \"green\", expected \"red\"\n  json /x is missing\nfinal URL: "
        ),
        "{details}"
    );
}

#[test]
fn header_regex_matches_any_value_of_the_header() {
    let matching = config(r#"{"header_regex": {"Content-Type": "^text/(plain|html)"}}"#);
    assert_eq!(judge_http(&matching, &response(200, "")).status, Status::Ok);
    let mut twice = response(200, "");
    twice.headers.push(("x-served-by".into(), "prod-3".into()));
    assert_eq!(judge_http(&config(r#"{"header_regex": {"x-served-by": "^prod-\\d$"}}"#), &twice).status, Status::Ok);

    let result = judge_http(&config(r#"{"header_regex": {"Content-Type": "json"}}"#), &response(200, ""));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(
        result.summary.starts_with("header content-type is \"text/plain\", which does not match /json/ ("),
        "{}",
        result.summary
    );
    let result = judge_http(&config(r#"{"header_regex": {"ETag": "."}}"#), &response(200, ""));
    assert!(result.summary.starts_with("header etag is missing ("), "{}", result.summary);
}

/// A certificate that expires `ms` after [`NOW_MS`].
fn tls(ms: i64, problem: Option<&str>) -> TlsInfo {
    TlsInfo {
        version: "TLSv1.3".into(),
        cipher: "TLS13_AES_256_GCM_SHA384".into(),
        alpn: Some("http/1.1".into()),
        server_name: "api.test".into(),
        chain: vec![Certificate {
            subject: "CN=api.test".into(),
            issuer: "CN=Test CA".into(),
            names: vec!["api.test".into()],
            not_before_ms: NOW_MS - 30 * DAY_MS,
            not_after_ms: NOW_MS + ms,
            is_ca: false,
            sha256: "ab".repeat(32),
            serial: "01".into(),
            key: "ECDSA P-256".into(),
        }],
        chain_valid: problem.is_none(),
        name_valid: true,
        problem: problem.map(str::to_string),
    }
}

fn metric_of<'a>(result: &'a CheckResult, name: &str) -> Option<&'a Metric> {
    result.metrics.iter().find(|m| m.name == name)
}

#[test]
fn an_https_answer_reports_days_to_expiry_and_the_tls_version() {
    let info = tls(90 * DAY_MS + 3_600_000, None);
    let result = judge(&config("{}"), &response(200, "up"), Some(&info), NOW_MS);
    assert_eq!((result.status, result.summary.as_str()), (Status::Ok, "200 OK in 3.2 ms, 2 B"));
    let days = metric_of(&result, "days_to_expiry");
    assert_eq!(days.map(|m| (m.value, m.unit.as_str(), m.warn.clone(), m.crit.clone())), Some((90.0, "", None, None)));
    assert_eq!(metric_value(&result, "tls_version"), Some(1.3));
    let details = result.details.unwrap_or_default();
    assert!(
        details.contains(
            "TLS: TLSv1.3 TLS13_AES_256_GCM_SHA384, certificate CN=api.test (issuer CN=Test CA), valid until \
             2027-03-01 01:00 UTC, 90 days"
        ),
        "{details}"
    );
    // Without TLS facts there are no such metrics.
    let result = judge_http(&config("{}"), &response(200, "up"));
    assert_eq!((metric_value(&result, "days_to_expiry"), metric_value(&result, "tls_version")), (None, None));
}

#[test]
fn a_certificate_under_cert_crit_days_is_critical_and_under_cert_warn_days_a_warning() {
    let thresholds = config(r#"{"cert_warn_days": 30, "cert_crit_days": 7}"#);
    let soon = tls(3 * DAY_MS + 3_600_000, None);
    let result = judge(&thresholds, &response(200, "up"), Some(&soon), NOW_MS);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(
        result.summary,
        "certificate expires in 3 days, on 2026-12-04, sooner than cert_crit_days 7 (200 OK in 3.2 ms, 2 B)"
    );
    let days = metric_of(&result, "days_to_expiry");
    assert_eq!(
        days.map(|m| (m.value, m.warn.clone(), m.crit.clone())),
        Some((3.0, Some("30:".to_string()), Some("7:".to_string())))
    );

    let month = tls(20 * DAY_MS, None);
    let result = judge(&thresholds, &response(200, "up"), Some(&month), NOW_MS);
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(
        result.summary.starts_with("certificate expires in 20 days, on 2026-12-21, sooner than cert_warn_days 30 (")
    );

    let hours = tls(5 * 3_600_000, None);
    let result = judge(&thresholds, &response(200, "up"), Some(&hours), NOW_MS);
    assert!(result.summary.starts_with("certificate expires in 5 hours, on 2026-12-01, "), "{}", result.summary);

    let fine = tls(30 * DAY_MS, None);
    assert_eq!(judge(&thresholds, &response(200, "up"), Some(&fine), NOW_MS).status, Status::Ok);
    // No thresholds, no alert, however close.
    assert_eq!(judge(&config("{}"), &response(200, "up"), Some(&soon), NOW_MS).status, Status::Ok);
}

#[test]
fn an_expired_certificate_accepted_with_tls_verify_off_is_judged_by_the_thresholds() {
    let expired = tls(-(3 * DAY_MS + 3_600_000), Some("certificate for api.test expired on 2026-11-27, 3 days ago"));
    let config = config(r#"{"tls_verify": false, "cert_crit_days": 7}"#);
    let result = judge(&config, &response(200, "up"), Some(&expired), NOW_MS);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, "certificate expired on 2026-11-27, 3 days ago (200 OK in 3.2 ms, 2 B)");
    assert_eq!(metric_value(&result, "days_to_expiry"), Some(-3.0));
    let details = result.details.unwrap_or_default();
    assert!(
        details.contains("certificate not accepted (tls_verify = false): certificate for api.test expired on"),
        "{details}"
    );
    assert!(
        details.contains(", certificate CN=api.test (issuer CN=Test CA), expired on 2026-11-27 23:00 UTC, 3 days ago")
    );
}

#[test]
fn the_certificate_ranks_between_assertions_and_time() {
    let mut slow = response(200, "up");
    slow.timings.total_us = 2_000_000;
    let soon = tls(3 * DAY_MS, None);
    let month = tls(20 * DAY_MS, None);
    let both = config(r#"{"cert_warn_days": 30, "cert_crit_days": 7, "warn_time": "1s", "crit_time": "1.5s"}"#);
    // A failed assertion first, then a critical certificate, then a critical time.
    let failing = config(r#"{"body_contains": "down", "cert_crit_days": 7}"#);
    assert!(judge(&failing, &slow, Some(&soon), NOW_MS).summary.starts_with("body does not contain"));
    assert!(judge(&both, &slow, Some(&soon), NOW_MS).summary.starts_with("certificate expires in 3 days"));
    let result = judge(&both, &slow, Some(&month), NOW_MS);
    assert_eq!(result.status, Status::Critical);
    assert!(result.summary.ends_with("slower than crit_time 1.5 s"), "{}", result.summary);
    slow.timings.total_us = 1_200_000;
    let result = judge(&both, &slow, Some(&month), NOW_MS);
    assert_eq!(result.status, Status::Warning);
    assert!(result.summary.starts_with("certificate expires in 20 days"), "{}", result.summary);
}

#[test]
fn thresholds_without_tls_say_so_in_the_details() {
    let result = judge_http(&config(r#"{"cert_crit_days": 7}"#), &response(200, "up"));
    assert_eq!(result.status, Status::Ok);
    let details = result.details.unwrap_or_default();
    assert!(details.contains("no TLS on the final exchange: cert_warn_days and cert_crit_days were not judged"));
}

// Every case of cases.toml, run natively through `Http::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Http, "cases.toml");
