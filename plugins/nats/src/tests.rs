//! Unit tests of how servers are judged (pure logic, no host calls), and the cases.

use super::*;
use vitals_sdk::Timings;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn info(json: &str) -> ServerInfo {
    match ServerInfo::parse(json.as_bytes()) {
        Ok(info) => info,
        Err(error) => panic!("{error}"),
    }
}

fn exchange(ping_us: u64, round_trip_us: Option<u64>) -> Exchange {
    Exchange {
        link: Link {
            target: "127.0.0.1:4222".into(),
            remote: "127.0.0.1:4222".into(),
            timings: Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 },
            tls_us: None,
            elapsed: Duration::from_millis(2),
        },
        info: Some(info(r#"{"server_id":"NABC","version":"2.10.12","jetstream":true,"client_id":3}"#)),
        ping: Some(Duration::from_micros(ping_us)),
        round_trip: round_trip_us.map(Duration::from_micros),
    }
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn a_server_that_answers_is_ok_with_its_times() {
    let result = judge(&config("{}"), &exchange(250, Some(400)));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(
        result.summary,
        "NATS 2.10.12 at 127.0.0.1:4222 (JetStream), PONG in 250 µs, message round trip in 400 µs"
    );
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_ping"), Some(0.25));
    assert_eq!(value(&result, "time_round_trip"), Some(0.4));
    assert_eq!(value(&result, "time_total"), Some(2.0));
    let details = result.details.unwrap_or_default();
    assert!(details.starts_with("remote address: 127.0.0.1:4222\nserver_id: NABC\nversion: 2.10.12"), "{details}");

    let result = judge(&config("{}"), &exchange(250, None));
    assert_eq!(value(&result, "time_round_trip"), None);
}

#[test]
fn ping_time_thresholds_are_on_the_metric() {
    let cfg = config(r#"{"warn_time": "100us", "crit_time": "1ms"}"#);
    let result = judge(&cfg, &exchange(300, None));
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(", PONG in 300 µs: PING slower than warn_time 100 µs"), "{}", result.summary);
    let ping = result.metrics.iter().find(|m| m.name == "time_ping");
    assert_eq!(ping.and_then(|m| m.warn.clone()).as_deref(), Some("0.1"));
    assert_eq!(ping.and_then(|m| m.crit.clone()).as_deref(), Some("1"));
    assert_eq!(judge(&cfg, &exchange(5_000, None)).status, Status::Critical);
    assert_eq!(judge(&cfg, &exchange(50, None)).status, Status::Ok);
}

#[test]
fn jetstream_can_be_required() {
    let mut without = exchange(100, None);
    without.info = Some(info(r#"{"server_id":"NABC","version":"2.10.12"}"#));
    assert_eq!(judge(&config("{}"), &without).status, Status::Ok);
    let result = judge(&config(r#"{"require_jetstream": true, "warn_time": "1us"}"#), &without);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(
        result.summary.ends_with(": JetStream is not enabled (require_jetstream); PING slower than warn_time 1 µs"),
        "{}",
        result.summary
    );
}

#[test]
fn operations_are_recognised_by_name() {
    assert_eq!(strip_op(b"INFO {}", "INFO"), Some(&b"{}"[..]));
    assert_eq!(strip_op(b"info\t{}", "INFO"), Some(&b"{}"[..]));
    assert_eq!(strip_op(b"INFO", "INFO"), None);
    assert_eq!(strip_op(b"INFOX {}", "INFO"), None);
    assert_eq!(strip_op("ÄNFO {}".as_bytes(), "INFO"), None);
}

#[test]
fn describe_lists_every_key() {
    let description = Nats::describe();
    assert_eq!((description.name.as_str(), description.version.as_str()), ("nats", "0.1.0"));
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        ["user", "password", "token", "tls", "tls_verify", "round_trip", "require_jetstream", "warn_time", "crit_time"]
    );
    for metric in ["time_connect", "time_ping", "time_round_trip", "time_total"] {
        assert!(description.summary.contains(metric), "describe does not mention {metric}");
    }
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Nats::validate(r#"{"user": "", "round_trip": "yes"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("user"), Some("round_trip")]);
    assert_eq!(Nats::validate(r#"{"password": "x"}"#), [ConfigProblem::at_key("password", "needs user")]);
    assert_eq!(Nats::validate(r#"{"user": "app", "password": "x", "round_trip": true, "tls": true}"#), []);
}

// Every case of cases.toml, run natively through `Nats::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Nats, "cases.toml");
