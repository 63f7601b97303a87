//! Unit tests of how conversations are judged and described (pure logic, no host calls),
//! and every case of cases.toml through `Smtp::run`.

use super::*;
use crate::reply::Extension;
use std::time::Duration;
use vitals_sdk::starttls::Encryption;
use vitals_sdk::{Status, Timings};

fn config(json: &str) -> Config {
    match Config::load(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn ehlo(extensions: &[&str]) -> Ehlo {
    let lines: Vec<String> = std::iter::once("mail.test").chain(extensions.iter().copied()).map(String::from).collect();
    Ehlo::parse(&Reply { code: 250, lines })
}

fn exchange(extensions: &[&str]) -> Exchange {
    let timings = Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 };
    let mut exchange = Exchange::start(Session::new("mail.test:25", "192.0.2.1:25".into(), timings));
    exchange.greeting = Some(Reply { code: 220, lines: vec!["mail.test ESMTP".into()] });
    exchange.session.banner_us = Some(150);
    exchange.ehlo_us = Some(250);
    exchange.ehlo = Some(ehlo(extensions));
    exchange.session.elapsed = Duration::from_millis(2);
    exchange
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn a_plain_conversation_names_starttls_and_auth() {
    let result = exchange(&["STARTTLS", "AUTH PLAIN LOGIN", "SIZE 1000"])
        .judge(&config("{}"))
        .with_metrics(exchange(&["SIZE 1000"]).metrics(&config("{}")));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "SMTP 220 from mail.test:25 in 2.0 ms, EHLO offers STARTTLS, AUTH PLAIN LOGIN");
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_banner"), Some(0.15));
    assert_eq!(value(&result, "time_ehlo"), Some(0.25));
    assert_eq!(value(&result, "time_total"), Some(2.0));
    assert_eq!(value(&result, "size_limit"), Some(1000.0));
    assert_eq!(value(&result, "time_tls"), None);
}

#[test]
fn offers_are_bounded_and_cleaned() {
    let many = ehlo(&["AUTH A B C D E F G H", "AUTH=\u{1b}[31mX"]);
    assert_eq!(offers(&many), "AUTH A B C D E F …");
    assert_eq!(offers(&ehlo(&["AUTH=\u{7}BELL"])), "AUTH BELL");
    assert_eq!(offers(&ehlo(&["PIPELINING"])), "neither STARTTLS nor AUTH");
    assert_eq!(offers(&ehlo(&[])), "no extensions");
    let long = format!("AUTH {}", "X".repeat(200));
    assert!(offers(&ehlo(&[&long])).chars().count() < 40);
}

#[test]
fn tls_is_named_and_timed() {
    let mut implicit = exchange(&["AUTH PLAIN"]);
    implicit.session.encryption = Encryption::Implicit;
    implicit.session.tls_us = Some(4_000);
    let result = implicit.judge(&config(r#"{"tls": true}"#));
    assert_eq!(result.summary, "SMTP 220 from mail.test:25 in 4.3 ms over TLS, EHLO offers AUTH PLAIN");
    assert_eq!(value(&result.with_metrics(implicit.metrics(&config("{}"))), "time_tls"), Some(4.0));

    let mut upgraded = exchange(&["STARTTLS"]);
    upgraded.session.encryption = Encryption::StartTls;
    upgraded.ehlo_tls = Some(ehlo(&["AUTH LOGIN", "SIZE 2048"]));
    let result = upgraded.judge(&config(r#"{"starttls": true}"#));
    assert_eq!(result.summary, "SMTP 220 from mail.test:25 in 2.0 ms, upgraded with STARTTLS, EHLO offers AUTH LOGIN");
    assert_eq!(value(&result.with_metrics(upgraded.metrics(&config("{}"))), "size_limit"), Some(2048.0));
    assert!(upgraded.details().contains("\nEHLO over TLS: mail.test; extensions: AUTH LOGIN, SIZE 2048"));
}

#[test]
fn total_time_thresholds() {
    let cfg = config(r#"{"warn_time": "1ms", "crit_time": "5ms"}"#);
    let result = exchange(&[]).judge(&cfg);
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(": slower than warn_time 1.0 ms"), "{}", result.summary);
    let total = exchange(&[]).metrics(&cfg).into_iter().find(|m| m.name == "time_total");
    assert_eq!(total.as_ref().and_then(|m| m.warn.as_deref()), Some("1"));
    assert_eq!(total.as_ref().and_then(|m| m.crit.as_deref()), Some("5"));

    let mut slow = exchange(&[]);
    slow.session.elapsed = Duration::from_millis(9);
    let result = slow.judge(&cfg);
    assert_eq!(result.status, Status::Critical);
    assert!(result.summary.ends_with(": slower than crit_time 5.0 ms"), "{}", result.summary);
}

#[test]
fn total_time_counts_the_hosts_phases() {
    let mut replayed = exchange(&[]);
    replayed.session.elapsed = Duration::from_micros(10);
    replayed.session.timings.connect_us = Some(7_000);
    replayed.session.tls_us = Some(3_000);
    assert_eq!(replayed.session.total_us(), 10_000);
    replayed.session.timings.connect_us = None;
    assert_eq!(replayed.session.total_us(), 3_350);
}

#[test]
fn details_quote_the_greeting_and_extensions_cleaned() {
    let mut exchange = exchange(&["PIPELINING", "SIZE 10240000"]);
    exchange.greeting = Some(Reply { code: 220, lines: vec!["mail.test ESMTP".into(), "no \u{1b}[31mUCE".into()] });
    assert_eq!(
        exchange.details(),
        "remote address: 192.0.2.1:25\ngreeting: 220-mail.test ESMTP\ngreeting: 220 no [31mUCE\n\
         EHLO: mail.test; extensions: PIPELINING, SIZE 10240000"
    );
    let parsed = Ehlo::parse(&Reply { code: 250, lines: vec!["x".into(), "8bitmime".into()] });
    assert_eq!(parsed.extensions, [Extension { keyword: "8BITMIME".into(), params: vec![] }]);
}

#[test]
fn describe_lists_every_key() {
    let description = Smtp::describe();
    assert_eq!(description.name, "smtp");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        ["helo", "expect_banner", "require_starttls", "starttls", "tls", "tls_verify", "warn_time", "crit_time"]
    );
    for metric in ["time_connect", "time_tls", "time_banner", "time_ehlo", "time_total", "size_limit"] {
        assert!(description.summary.contains(metric), "{metric} is not described");
    }
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Smtp::validate(r#"{"helo": "a b", "expect_banner": "", "tls": true, "starttls": true}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("helo"), Some("expect_banner")]);
    let problems = Smtp::validate(r#"{"tls": true, "starttls": true, "require_starttls": true}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("starttls"), Some("require_starttls")]);
    assert_eq!(Smtp::validate(r#"{"starttls": true, "tls_verify": false, "warn_time": "1s"}"#), []);
}

// Every case of cases.toml, run natively through `Smtp::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Smtp, "cases.toml");
