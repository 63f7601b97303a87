//! Unit tests of how sessions are judged and peer bytes quoted (pure logic, no host calls),
//! and every case of cases.toml through the native test kit.

use super::*;
use vitals_sdk::Timings;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn start() -> wire::Start {
    wire::Start {
        version: (0, 9),
        properties: vec![
            ("product".into(), "RabbitMQ".into()),
            ("version".into(), "3.12.1".into()),
            ("platform".into(), "Erlang/OTP 25.3".into()),
        ],
        mechanisms: "AMQPLAIN PLAIN".into(),
        locales: "en_US".into(),
    }
}

fn session() -> Session {
    Session {
        link: vitals_sdk::session::Link {
            target: "127.0.0.1:5672".into(),
            remote: "127.0.0.1:5672".into(),
            timings: Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 },
            tls_us: None,
            elapsed: Duration::from_millis(4),
        },
        server: Some(start()),
        tune: Some(Tune { channel_max: 2047, frame_max: 131_072, heartbeat: 60 }),
        open: Some(Duration::from_micros(2_500)),
        queue: None,
        round_trip: None,
        teardown: None,
    }
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn an_open_connection_is_ok_and_names_the_server() {
    let result = judge(&config("{}"), &session(), Ok(()));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "RabbitMQ 3.12.1 at 127.0.0.1:5672: user \"guest\" opened vhost \"/\" in 2.5 ms");
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_open"), Some(2.5));
    assert_eq!(value(&result, "time_total"), Some(4.0));
    assert_eq!(value(&result, "time_round_trip"), None);
    let details = result.details.unwrap_or_default();
    assert!(details.contains("platform: Erlang/OTP 25.3"), "{details}");
    assert!(details.contains("frame_max 131072"), "{details}");
}

#[test]
fn a_round_trip_is_in_the_summary_and_the_password_nowhere() {
    let mut done = session();
    done.round_trip = Some(Duration::from_micros(700));
    done.queue = Some("amq.gen-x".into());
    let result =
        judge(&config(r#"{"user": "mon", "password": "hunter2", "vhost": "prod", "round_trip": true}"#), &done, Ok(()));
    assert_eq!(
        result.summary,
        "RabbitMQ 3.12.1 at 127.0.0.1:5672: user \"mon\" opened vhost \"prod\" in 2.5 ms, round trip in 700 µs"
    );
    assert_eq!(value(&result, "time_round_trip"), Some(0.7));
    let details = result.details.unwrap_or_default();
    assert!(details.contains("round-trip queue: amq.gen-x") && !details.contains("hunter2"), "{details}");
}

#[test]
fn a_server_without_product_is_an_amqp_server() {
    let mut bare = session();
    bare.server = None;
    let result = judge(&config("{}"), &bare, Ok(()));
    assert!(result.summary.starts_with("AMQP server at 127.0.0.1:5672: "), "{}", result.summary);
}

#[test]
fn open_thresholds() {
    let cfg = config(r#"{"warn_time": "2ms", "crit_time": "3ms"}"#);
    let result = judge(&cfg, &session(), Ok(()));
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(": opening slower than warn_time 2.0 ms"), "{}", result.summary);
    let open = result.metrics.iter().find(|m| m.name == "time_open");
    assert_eq!(open.and_then(|m| m.warn.clone()).as_deref(), Some("2"));
    assert_eq!(open.and_then(|m| m.crit.clone()).as_deref(), Some("3"));
    let mut slow = session();
    slow.open = Some(Duration::from_millis(5));
    assert_eq!(judge(&cfg, &slow, Ok(())).status, Status::Critical);
}

#[test]
fn server_closes_are_worded_with_their_reply() {
    let close = |code| Failure::Closed {
        code,
        text: "NOT_FOUND - no queue 'x'".into(),
        channel: true,
        waiting: "Queue.DeclareOk".into(),
    };
    let result = judge(&config("{}"), &session(), Err(close(404)));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(
        result.summary,
        "RabbitMQ 3.12.1 at 127.0.0.1:5672 closed the channel while Queue.DeclareOk was expected: NOT_FOUND - no queue 'x'"
    );
    assert_eq!(judge(&config("{}"), &session(), Err(close(505))).reason, Some(Reason::Protocol));
    assert_eq!(reply(320, ""), "reply code 320");
    assert_eq!(reply(320, "CONNECTION_FORCED\n- x"), "CONNECTION_FORCED - x");
}

#[test]
fn failures_keep_the_metrics_measured_so_far() {
    let mut early = session();
    early.open = None;
    let result = judge(&config("{}"), &early, Err(Failure::Hangup("Connection.Start".into())));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Protocol)));
    assert_eq!(result.summary, "127.0.0.1:5672 closed the connection while Connection.Start was expected");
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_open"), None);
}

#[test]
fn a_teardown_problem_is_a_detail() {
    let mut closed = session();
    closed.teardown = Some("127.0.0.1:5672 closed the connection while Connection.CloseOk was expected".into());
    let result = judge(&config("{}"), &closed, Ok(()));
    assert_eq!(result.status, Status::Ok);
    assert!(result.details.unwrap_or_default().contains("closing: 127.0.0.1:5672 closed"));
}

#[test]
fn peer_bytes_are_quoted_as_text_or_hex_and_the_password_never() {
    assert_eq!(quote(b"HTTP/1.1 400 Bad Request\r\n\r\n", None), "\"HTTP/1.1 400 Bad Request\"");
    assert_eq!(quote(b"\x01\x00\x00\xff", None), "bytes 01 00 00 ff");
    assert_eq!(quote(b"\0guest\0hunter2 echoed back", Some("hunter2")), "\"guest *** echoed back\"");
}

#[test]
fn describe_lists_every_key() {
    let description = Amqp::describe();
    assert_eq!(description.name, "amqp");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["user", "password", "vhost", "round_trip", "tls", "tls_verify", "warn_time", "crit_time"]);
    assert!(description.summary.contains("time_open"));
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Amqp::validate(r#"{"user": "", "vhost": ""}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("user"), Some("vhost")]);
    assert_eq!(Amqp::validate(r#"{"user": "u", "password": "p", "vhost": "prod", "round_trip": true}"#), []);
}

// Every case of cases.toml, run natively through `Amqp::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Amqp, "cases.toml");
