//! Unit tests of how conversations are judged and described (pure logic, no host calls),
//! and every case of cases.toml through `Pop3::run`.

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

fn capabilities(lines: &[&str]) -> Capabilities {
    Capabilities::parse(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
}

fn exchange(lines: &[&str]) -> Exchange {
    let timings = Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 };
    let mut exchange = Exchange::start(Session::new("pop.test:110", "192.0.2.1:110".into(), timings));
    exchange.greeting = Some(Reply { ok: true, text: "Dovecot ready.".into() });
    exchange.session.banner_us = Some(150);
    exchange.capabilities = Some(capabilities(lines));
    exchange.session.elapsed = Duration::from_millis(2);
    exchange
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn a_plain_session_names_what_is_offered() {
    let exchange = exchange(&["TOP", "STLS", "SASL PLAIN", "USER"]);
    let result = exchange.judge(&config("{}")).with_metrics(exchange.metrics(&config("{}")));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "POP3 +OK from pop.test:110 in 2.0 ms, offers STLS, SASL PLAIN, USER");
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_banner"), Some(0.15));
    assert_eq!(value(&result, "time_total"), Some(2.0));
    assert_eq!((value(&result, "messages"), value(&result, "time_login")), (None, None));
    assert_eq!(
        exchange.details(),
        "remote address: 192.0.2.1:110\ngreeting: +OK Dovecot ready.\ncapabilities: TOP, STLS, SASL PLAIN, USER"
    );
}

#[test]
fn offers_are_bounded_and_cleaned() {
    assert_eq!(offers(Some(&capabilities(&["SASL A B C D E F G"]))), "SASL A B C D E F …");
    assert_eq!(offers(Some(&capabilities(&["SASL \u{7}BELL"]))), "SASL BELL");
    assert_eq!(offers(Some(&capabilities(&["TOP", "UIDL"]))), "neither STLS nor SASL nor USER");
    assert_eq!(offers(None), "no CAPA");
}

#[test]
fn login_and_mailbox_size_are_reported() {
    let mut logged = exchange(&["USER"]);
    logged.session.encryption = Encryption::StartTls;
    logged.session.tls_us = Some(4_000);
    logged.capabilities_tls = Some(capabilities(&["USER", "SASL PLAIN"]));
    logged.logged_in = Some("alice".into());
    logged.login_us = Some(1_200);
    logged.stat = Some((3, 4096));
    let cfg = config(r#"{"starttls": true, "user": "alice", "password": "s3cret"}"#);
    let result = logged.judge(&cfg).with_metrics(logged.metrics(&cfg));
    assert_eq!(
        result.summary,
        "POP3 +OK from pop.test:110 in 4.3 ms, upgraded with STLS, offers SASL PLAIN, USER, logged in as \"alice\" \
         (3 messages, 4 KiB)"
    );
    assert_eq!((value(&result, "messages"), value(&result, "mailbox_size")), (Some(3.0), Some(4096.0)));
    assert_eq!((value(&result, "time_tls"), value(&result, "time_login")), (Some(4.0), Some(1.2)));
    assert!(!format!("{result:?}").contains("s3cret"));
}

#[test]
fn total_time_thresholds() {
    let cfg = config(r#"{"warn_time": "1ms", "crit_time": "5ms"}"#);
    let result = exchange(&[]).judge(&cfg);
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(": slower than warn_time 1.0 ms"), "{}", result.summary);
    let mut slow = exchange(&[]);
    slow.session.elapsed = Duration::from_micros(10);
    slow.session.timings.connect_us = Some(7_000);
    assert_eq!(slow.session.total_us(), 7_000);
    assert_eq!(slow.judge(&cfg).status, Status::Critical);
}

#[test]
fn describe_lists_every_key() {
    let description = Pop3::describe();
    assert_eq!(description.name, "pop3");
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
    for metric in ["time_connect", "time_tls", "time_banner", "time_login", "time_total", "messages", "mailbox_size"] {
        assert!(description.summary.contains(metric), "{metric} is not described");
    }
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Pop3::validate(r#"{"tls": true, "starttls": true, "user": "alice"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("starttls"), Some("password")]);
    assert_eq!(Pop3::validate(r#"{"starttls": true, "user": "a", "password": "${env:X}"}"#), []);
}

// Every case of cases.toml, run natively through `Pop3::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Pop3, "cases.toml");
