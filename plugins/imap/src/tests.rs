//! Unit tests of how conversations are judged and described (pure logic, no host calls),
//! and every case of cases.toml through `Imap::run`.

use super::*;
use std::time::Duration;
use vitals_sdk::starttls::Encryption;
use vitals_sdk::{Status, Timings};

fn config(json: &str) -> Config {
    match Config::load(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn capabilities(list: &str) -> Capabilities {
    Capabilities(list.split_whitespace().map(String::from).collect())
}

fn exchange(list: &str) -> Exchange {
    let timings = Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 };
    let mut exchange = Exchange::start(Session::new("imap.test:143", "192.0.2.1:143".into(), timings));
    exchange.greeting = Some((Greeting::Ok, "OK Dovecot ready.".into()));
    exchange.session.banner_us = Some(150);
    exchange.capabilities = Some(capabilities(list));
    exchange.session.elapsed = Duration::from_millis(2);
    exchange
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn a_plain_session_names_what_is_offered() {
    let exchange = exchange("IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN AUTH=LOGIN");
    let result = exchange.judge(&config("{}")).with_metrics(exchange.metrics(&config("{}")));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(
        result.summary,
        "IMAP OK from imap.test:143 in 2.0 ms, offers IMAP4rev1, STARTTLS, AUTH=PLAIN AUTH=LOGIN"
    );
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_banner"), Some(0.15));
    assert_eq!(value(&result, "time_total"), Some(2.0));
    assert_eq!(value(&result, "time_login"), None);
    assert_eq!(value(&result, "time_tls"), None);
}

#[test]
fn offers_are_bounded_and_cleaned() {
    assert_eq!(
        offers(&capabilities("AUTH=A AUTH=B AUTH=C AUTH=D AUTH=E AUTH=F AUTH=G")),
        "AUTH=A AUTH=B AUTH=C AUTH=D AUTH=E AUTH=F …"
    );
    assert_eq!(offers(&capabilities("AUTH=\u{7}BELL")), "AUTH=BELL");
    assert_eq!(offers(&capabilities("IDLE NAMESPACE")), "none known");
    let long = format!("IMAP4rev{}", "9".repeat(200));
    assert!(offers(&capabilities(&long)).chars().count() < 30);
}

#[test]
fn login_tls_and_preauth_are_named() {
    let mut logged = exchange("IMAP4rev1");
    logged.session.encryption = Encryption::StartTls;
    logged.session.tls_us = Some(4_000);
    logged.capabilities_tls = Some(capabilities("IMAP4rev1 AUTH=PLAIN"));
    logged.logged_in = Some("alice".into());
    logged.login_us = Some(1_200);
    let cfg = config(r#"{"starttls": true, "user": "alice", "password": "s3cret"}"#);
    let result = logged.judge(&cfg).with_metrics(logged.metrics(&cfg));
    assert_eq!(
        result.summary,
        "IMAP OK from imap.test:143 in 4.3 ms, upgraded with STARTTLS, offers IMAP4rev1, AUTH=PLAIN, logged in as \"alice\""
    );
    assert_eq!(value(&result, "time_tls"), Some(4.0));
    assert_eq!(value(&result, "time_login"), Some(1.2));
    assert!(!format!("{result:?}").contains("s3cret"));
    assert!(logged.details().ends_with("\ncapabilities over TLS: IMAP4rev1 AUTH=PLAIN\nlogged in as \"alice\""));

    let mut implicit = exchange("IMAP4rev1");
    implicit.session.encryption = Encryption::Implicit;
    assert!(implicit.judge(&config(r#"{"tls": true}"#)).summary.contains(" in 2.0 ms over TLS, offers"));

    let mut preauth = exchange("IMAP4rev1");
    preauth.greeting = Some((Greeting::Preauth, "PREAUTH hi".into()));
    let result = preauth.judge(&config(r#"{"user": "a", "password": "b"}"#));
    assert!(result.summary.starts_with("IMAP PREAUTH from imap.test:143"), "{}", result.summary);
    assert!(result.summary.ends_with(", already logged in (no LOGIN)"), "{}", result.summary);
}

#[test]
fn total_time_thresholds() {
    let cfg = config(r#"{"warn_time": "1ms", "crit_time": "5ms"}"#);
    let result = exchange("IMAP4rev1").judge(&cfg);
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(": slower than warn_time 1.0 ms"), "{}", result.summary);
    let total = exchange("").metrics(&cfg).into_iter().find(|m| m.name == "time_total");
    assert_eq!(total.as_ref().and_then(|m| m.warn.as_deref()), Some("1"));
    assert_eq!(total.as_ref().and_then(|m| m.crit.as_deref()), Some("5"));

    let mut slow = exchange("");
    slow.session.elapsed = Duration::from_millis(9);
    assert_eq!(slow.judge(&cfg).status, Status::Critical);

    slow.session.elapsed = Duration::from_micros(10);
    slow.session.timings.connect_us = Some(7_000);
    slow.session.tls_us = Some(3_000);
    assert_eq!(slow.session.total_us(), 10_000);
}

#[test]
fn tags_count_up() {
    let mut exchange = exchange("");
    assert_eq!((exchange.next_tag(), exchange.next_tag()), ("a1".to_string(), "a2".to_string()));
}

#[test]
fn describe_lists_every_key() {
    let description = Imap::describe();
    assert_eq!(description.name, "imap");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "expect_banner",
            "require_starttls",
            "starttls",
            "tls",
            "tls_verify",
            "user",
            "password",
            "warn_time",
            "crit_time"
        ]
    );
    for metric in ["time_connect", "time_tls", "time_banner", "time_login", "time_total"] {
        assert!(description.summary.contains(metric), "{metric} is not described");
    }
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Imap::validate(r#"{"expect_banner": "", "user": "alice"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("expect_banner")]);
    let problems = Imap::validate(r#"{"tls": true, "starttls": true, "user": "alice"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("starttls"), Some("password")]);
    assert_eq!(Imap::validate(r#"{"starttls": true, "user": "a", "password": "${env:X}", "tls_verify": false}"#), []);
}

// Every case of cases.toml, run natively through `Imap::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Imap, "cases.toml");
