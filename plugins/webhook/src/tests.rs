use std::cell::RefCell;
use std::time::Duration;

use vitals_sdk::{ChangeKind, ConfigType, PluginConfig, StateChange, Status};

use super::*;

fn config(retries: u32) -> Config {
    Config::parse(&format!(r#"{{"url": "http://127.0.0.1:9/hook", "retries": {retries}}}"#)).unwrap()
}

#[test]
fn times_are_rfc3339_utc_with_milliseconds() {
    assert_eq!(body::rfc3339(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(body::rfc3339(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
    assert_eq!(body::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(body::rfc3339(-1), "1969-12-31T23:59:59.999Z");
}

#[test]
fn the_body_has_every_field() {
    let event = StateChange {
        check: "web".into(),
        kind: ChangeKind::HardChange,
        old_status: Some(Status::Ok),
        new_status: Some(Status::Critical),
        at_ms: 0,
        summary: "HTTP 500".into(),
        target: "https://example.com/".into(),
        report_link: None,
    };
    let v: serde_json::Value = serde_json::from_slice(&body::json(&event)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"check": "web", "kind": "hard_change", "old_status": "ok", "new_status": "critical",
            "at": "1970-01-01T00:00:00.000Z", "summary": "HTTP 500", "target": "https://example.com/",
            "report_link": null})
    );
}

#[test]
fn defaults_and_bad_configs() {
    assert_eq!(Config::check_defaults(), []);
    let c = Config::parse(r#"{"url": "https://example.com/"}"#).unwrap();
    assert_eq!((c.timeout, c.retries, c.backoff), (Duration::from_secs(5), 3, Duration::from_millis(500)));
    let error = |json: &str| Config::parse(json).unwrap_err().to_string();
    assert_eq!(error("{}"), "invalid config: url: missing: this key is required");
    assert_eq!(error(r#"{"url": "ftp://x"}"#), "invalid config: url: \"ftp://x\" is not an http:// or https:// URL");
    assert!(error(r#"{"url": "http://x", "backoff": "soon"}"#).starts_with("invalid config: backoff: "));
    assert!(error(r#"{"url": "http://x", "nope": 1}"#).starts_with("invalid config: nope: unknown key"));
}

#[test]
fn failures_are_retried_with_doubling_backoff() {
    let answers = RefCell::new(vec![Attempt::Status(200), Attempt::Failed("refused".into()), Attempt::Status(500)]);
    let mut waits = Vec::new();
    let r = deliver(&config(3), b"{}", |_, _| answers.borrow_mut().pop().unwrap(), |d| waits.push(d));
    assert_eq!(r, Ok(()));
    assert_eq!(waits, [Duration::from_millis(500), Duration::from_millis(1000)]);
}

#[test]
fn the_error_says_what_the_last_attempt_got() {
    let mut calls = 0;
    let r = deliver(
        &config(3),
        b"{}",
        |_, _| {
            calls += 1;
            Attempt::Status(500)
        },
        |_| (),
    );
    assert_eq!(r, Err("webhook http://127.0.0.1:9/hook answered 500 after 4 attempts".to_string()));
    assert_eq!(calls, 4);
    let r = deliver(&config(0), b"{}", |_, _| Attempt::Failed("connection refused".into()), |_| ());
    assert_eq!(r, Err("webhook http://127.0.0.1:9/hook failed after 1 attempt: connection refused".to_string()));
}

#[test]
fn denials_are_not_retried() {
    let mut calls = 0;
    let r = deliver(
        &config(3),
        b"{}",
        |_, _| {
            calls += 1;
            Attempt::Fatal("not granted".into())
        },
        |_| (),
    );
    assert_eq!(calls, 1);
    assert!(r.unwrap_err().contains("not granted"));
}

/// What `vitals plugin inspect webhook` shows of the keys, as it was before the keys were
/// derived from the config struct.
#[test]
fn describe_keys_are_unchanged() {
    let keys: Vec<(String, ConfigType, Option<String>, bool, String)> =
        Webhook::describe().config.into_iter().map(|k| (k.name, k.kind, k.default, k.required, k.doc)).collect();
    let expected = [
        ("url", ConfigType::String, None, true, "The http:// or https:// URL to POST every state change to."),
        ("headers", ConfigType::StringMap, None, false, "Extra request headers (e.g. Authorization)."),
        ("timeout", ConfigType::Duration, Some("\"5s\""), false, "Time limit of one attempt."),
        ("retries", ConfigType::Integer, Some("3"), false, "Further attempts after a failed one."),
        (
            "backoff",
            ConfigType::Duration,
            Some("\"500ms\""),
            false,
            "Wait before the first retry; each next retry waits twice as long.",
        ),
    ]
    .map(|(name, kind, default, required, doc)| {
        (name.to_string(), kind, default.map(str::to_string), required, doc.to_string())
    });
    assert_eq!(keys, expected);
}
