use std::cell::RefCell;
use std::time::Duration;

use vitals_sdk::{ChangeKind, StateChange, Status};

use super::*;

fn config(retries: u32) -> Config {
    config::parse(&format!(r#"{{"url": "http://127.0.0.1:9/hook", "retries": {retries}}}"#)).unwrap()
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
    let c = config::parse(r#"{"url": "https://example.com/"}"#).unwrap();
    assert_eq!((c.timeout, c.retries, c.backoff), (Duration::from_secs(5), 3, Duration::from_millis(500)));
    assert!(config::parse("{}").unwrap_err().contains("url"));
    assert!(config::parse(r#"{"url": "ftp://x"}"#).unwrap_err().contains("url"));
    assert!(config::parse(r#"{"url": "http://x", "backoff": "soon"}"#).unwrap_err().contains("backoff"));
    assert!(config::parse(r#"{"url": "http://x", "nope": 1}"#).unwrap_err().contains("nope"));
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
