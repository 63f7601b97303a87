//! Unit tests of how sessions are judged and peer bytes quoted (pure logic, no host calls),
//! and every case of cases.toml through the native test kit.

use super::*;
use vitals_sdk::Timings;

fn config(json: &str) -> Config {
    match Config::load(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn session() -> Session {
    Session {
        link: Link {
            target: "127.0.0.1:1883".into(),
            remote: "127.0.0.1:1883".into(),
            timings: Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 },
            tls_us: None,
            elapsed: Duration::from_millis(4),
        },
        client_id: "vitals-c-00000001".into(),
        topic: "vitals/vitals-c-00000001".into(),
        connack: Some(Duration::from_micros(1_500)),
        session_present: false,
        round_trip: None,
    }
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn an_accepted_connection_is_ok_with_its_times() {
    let result = judge(&config("{}"), &session(), Ok(()));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "127.0.0.1:1883 accepted an anonymous client in 1.5 ms");
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_connack"), Some(1.5));
    assert_eq!(value(&result, "time_total"), Some(4.0));
    assert_eq!(value(&result, "time_round_trip"), None);
    assert_eq!(value(&result, "time_tls"), None);
    let details = result.details.unwrap_or_default();
    assert!(details.contains("client id: vitals-c-00000001"), "{details}");
}

#[test]
fn a_round_trip_and_a_user_are_in_the_summary() {
    let mut done = session();
    done.round_trip = Some(Duration::from_micros(800));
    let result = judge(&config(r#"{"user": "bob", "password": "pw", "round_trip": true}"#), &done, Ok(()));
    assert_eq!(result.summary, "127.0.0.1:1883 accepted user \"bob\" in 1.5 ms, round trip in 800 µs");
    assert_eq!(value(&result, "time_round_trip"), Some(0.8));
    assert!(!result.details.unwrap_or_default().contains("pw"));
}

#[test]
fn connack_thresholds() {
    let cfg = config(r#"{"warn_time": "1ms", "crit_time": "2ms"}"#);
    let result = judge(&cfg, &session(), Ok(()));
    assert_eq!(result.status, Status::Warning);
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(result.summary.ends_with(": CONNACK slower than warn_time 1.0 ms"), "{}", result.summary);
    let connack = result.metrics.iter().find(|m| m.name == "time_connack");
    assert_eq!(connack.and_then(|m| m.warn.clone()).as_deref(), Some("1"));
    assert_eq!(connack.and_then(|m| m.crit.clone()).as_deref(), Some("2"));

    let mut slow = session();
    slow.connack = Some(Duration::from_millis(3));
    let result = judge(&cfg, &slow, Ok(()));
    assert_eq!(result.status, Status::Critical);
    assert!(result.summary.ends_with("slower than crit_time 2.0 ms"), "{}", result.summary);
}

#[test]
fn failures_keep_the_metrics_measured_so_far() {
    let mut early = session();
    early.connack = None;
    let result = judge(&config("{}"), &early, Err(Failure::Protocol("garbage".into())));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Protocol)));
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_connack"), None);
    let result = judge(&config("{}"), &session(), Err(Failure::Refused("refused".into())));
    assert_eq!(result.reason, Some(Reason::Assertion));
    let timeout = Failure::Net("waiting for CONNACK from b:1".into(), NetError::Timeout("no data".into()));
    let result = judge(&config("{}"), &early, Err(timeout));
    assert_eq!(
        (result.reason, result.summary.as_str()),
        (Some(Reason::Timeout), "waiting for CONNACK from b:1 failed: no data")
    );
}

#[test]
fn peer_bytes_are_quoted_as_text_or_hex_and_the_password_never() {
    assert_eq!(quote(b"SSH-2.0-OpenSSH_9.6\r\nmore", None), "\"SSH-2.0-OpenSSH_9.6\"");
    assert_eq!(quote(b"\x00\x01\x02\xff", None), "bytes 00 01 02 ff");
    assert_eq!(quote(&[0u8; 20], None), format!("bytes {}…", ["00"; 16].join(" ")));
    assert_eq!(quote(b"hello secret world", Some("secret")), "\"hello *** world\"");
    let masked = quote(b"\x10\x00secret\x01\x02\x03\x04\x05\x06", Some("secret"));
    assert_eq!(masked, "bytes 10 00 2a 2a 2a 01 02 03 04 05 06");
    assert_eq!(quote(b"\x1b[31mred", None), "\"[31mred\"");
}

#[test]
fn describe_lists_every_key() {
    let description = Mqtt::describe();
    assert_eq!(description.name, "mqtt");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "user",
            "password",
            "client_id",
            "keepalive",
            "round_trip",
            "topic",
            "tls",
            "tls_verify",
            "warn_time",
            "crit_time"
        ]
    );
    assert!(description.summary.contains("time_connack"));
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Mqtt::validate(r#"{"password": "x"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("password")]);
    let problems = Mqtt::validate(r#"{"topic": "a/#", "keepalive": "1d", "password": "x"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("keepalive"), Some("topic"), Some("password")]);
    assert_eq!(Mqtt::validate(r#"{"user": "u", "password": "p", "round_trip": true}"#), []);
}

// Every case of cases.toml, run natively through `Mqtt::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Mqtt, "cases.toml");
