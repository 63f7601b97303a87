//! Unit tests of how conversations are judged (pure logic, no host calls), and the cases.

use super::*;
use vitals_sdk::NetError;

use crate::protocol::{Handshake, ServerError};

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn run() -> Run {
    Run {
        target: "db.test:3306".into(),
        remote: "192.0.2.1:3306".into(),
        timings: Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 },
        total_us: 2_000,
    }
}

fn session(first: Option<Option<&str>>) -> Session {
    Session {
        handshake: Some(Handshake {
            version: "5.5.5-10.11.19-MariaDB-0+deb12u1".into(),
            connection_id: 7,
            capabilities: 0,
            salt: vec![],
            auth_plugin: "mysql_native_password".into(),
        }),
        auth_plugin: Some("mysql_native_password".into()),
        tls_us: None,
        auth_us: Some(800),
        connections: None,
        query_us: Some(250),
        outcome: Some(Outcome::Rows {
            columns: vec!["1".into()],
            first: first.map(|value| vec![value.map(|v| v.as_bytes().to_vec())]),
            rows: u64::from(first.is_some()),
            cut: false,
        }),
    }
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

fn refused(code: u16, state: &str, message: &str) -> ServerError {
    ServerError { code, state: Some(state.into()), message: message.into() }
}

#[test]
fn select_one_is_ok_with_every_phase() {
    let result = judge(&config("{}"), &run(), &session(Some(Some("1"))), Ok(()));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(
        result.summary,
        "10.11.19-MariaDB-0+deb12u1 on db.test:3306: \"root\" logged in, SELECT 1 returned \"1\" in 250 µs, total 2.0 ms"
    );
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_auth"), Some(0.8));
    assert_eq!(value(&result, "time_query"), Some(0.25));
    assert_eq!(value(&result, "time_total"), Some(2.0));
    assert_eq!(value(&result, "connections"), None);
    let details = result.details.unwrap_or_default();
    assert!(details.contains("server version: 5.5.5-10.11.19-MariaDB-0+deb12u1 (connection id 7)"), "{details}");
    assert!(details.contains("rows: 1"), "{details}");
}

#[test]
fn expected_values() {
    let cfg = config(r#"{"query": "SELECT @@version_comment", "expect": "Debian 12"}"#);
    let result = judge(&cfg, &run(), &session(Some(Some("Debian 12"))), Ok(()));
    assert_eq!(result.status, Status::Ok);
    assert!(result.summary.contains("query returned \"Debian 12\" in 250 µs"), "{}", result.summary);

    let result = judge(&cfg, &run(), &session(Some(Some("MariaDB Server"))), Ok(()));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(
        result.summary,
        "10.11.19-MariaDB-0+deb12u1 on db.test:3306: query returned \"MariaDB Server\", expected \"Debian 12\""
    );
    let result = judge(&cfg, &run(), &session(Some(None)), Ok(()));
    assert!(result.summary.ends_with("query returned NULL, expected \"Debian 12\""), "{}", result.summary);
    let result = judge(&cfg, &run(), &session(None), Ok(()));
    assert!(result.summary.ends_with("query returned no rows, expected \"Debian 12\""), "{}", result.summary);
    let mut done = session(None);
    done.outcome = Some(Outcome::Done);
    let result = judge(&cfg, &run(), &done, Ok(()));
    assert!(result.summary.ends_with("query returned no result set, expected \"Debian 12\""), "{}", result.summary);
    let result = judge(&config(r#"{"query": "DO 1"}"#), &run(), &done, Ok(()));
    assert_eq!(result.status, Status::Ok);
    assert!(result.summary.contains("query ran in 250 µs"), "{}", result.summary);
    // A value from the server is cleaned and bounded.
    let result = judge(&cfg, &run(), &session(Some(Some("a\x1b[31m\nb"))), Ok(()));
    assert!(result.summary.contains("returned \"a [31m b\""), "{}", result.summary);
}

#[test]
fn time_thresholds() {
    let cfg = config(r#"{"warn_time": "1ms", "crit_time": "5ms"}"#);
    let result = judge(&cfg, &run(), &session(Some(Some("1"))), Ok(()));
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with("total 2.0 ms: slower than warn_time 1.0 ms"), "{}", result.summary);
    let total = result.metrics.iter().find(|m| m.name == "time_total");
    assert_eq!(total.and_then(|m| m.warn.clone()).as_deref(), Some("1"));
    assert_eq!(total.and_then(|m| m.crit.clone()).as_deref(), Some("5"));
    let mut slow = run();
    slow.total_us = 9_000;
    assert_eq!(judge(&cfg, &slow, &session(Some(Some("1"))), Ok(())).status, Status::Critical);
}

#[test]
fn connection_thresholds() {
    let cfg = config(r#"{"connections_warn": "~:10", "connections_crit": "~:20"}"#);
    let mut busy = session(Some(Some("1")));
    busy.connections = Some(4.0);
    let result = judge(&cfg, &run(), &busy, Ok(()));
    assert_eq!(result.status, Status::Ok);
    assert!(result.summary.contains(", Threads_connected 4, total"), "{}", result.summary);
    let connections = result.metrics.iter().find(|m| m.name == "connections");
    assert_eq!(connections.map(|m| (m.value, m.unit.as_str())), Some((4.0, "")));
    assert_eq!(connections.and_then(|m| m.crit.clone()).as_deref(), Some("~:20"));
    busy.connections = Some(15.0);
    let result = judge(&cfg, &run(), &busy, Ok(()));
    assert_eq!(result.status, Status::Warning);
    assert!(result.summary.ends_with(": Threads_connected 15 outside connections_warn \"~:10\""), "{}", result.summary);
    busy.connections = Some(25.0);
    let slow = config(r#"{"connections_crit": "~:20", "warn_time": "1ms"}"#);
    let result = judge(&slow, &run(), &busy, Ok(()));
    assert_eq!(result.status, Status::Critical);
    assert!(
        result
            .summary
            .ends_with(": slower than warn_time 1.0 ms; Threads_connected 25 outside connections_crit \"~:20\""),
        "{}",
        result.summary
    );
}

#[test]
fn server_errors() {
    let cfg = config(r#"{"user": "app", "database": "shop"}"#);
    let login = |error| judge(&cfg, &run(), &session(None), Err(Failure::Refused(Phase::Login, error)));
    let result = login(refused(1045, "28000", "Access denied for user 'app'@'192.0.2.9' (using password: YES)"));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(
        result.summary,
        "authentication failed for user \"app\": Access denied for user 'app'@'192.0.2.9' (using password: YES)"
    );
    let result = login(refused(1049, "42000", "Unknown database 'shop'"));
    assert_eq!(
        result.summary,
        "10.11.19-MariaDB-0+deb12u1 on db.test:3306 refused the login of \"app\": ERROR 1049 (42000): Unknown database 'shop'"
    );
    let mut before = session(None);
    before.handshake = None;
    let error = ServerError { code: 1040, state: None, message: "Too many connections".into() };
    let result = judge(&cfg, &run(), &before, Err(Failure::Refused(Phase::Greeting, error)));
    assert_eq!(result.summary, "db.test:3306 refused the connection: ERROR 1040: Too many connections");
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert_eq!(value(&result, "time_connect"), Some(0.3));

    let query = |error| judge(&cfg, &run(), &session(None), Err(Failure::Refused(Phase::Query, error)));
    let result = query(refused(1146, "42S02", "Table 'shop.nope' doesn't exist"));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(": the query failed: ERROR 1146 (42S02): Table 'shop.nope' doesn't exist"));
    let result = query(refused(1792, "25006", "Cannot execute statement in a READ ONLY transaction"));
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert!(result.summary.contains("the query is not read-only, so it was not run"), "{}", result.summary);
}

#[test]
fn failures_that_are_not_server_errors() {
    let cfg = config(r#"{"tls": true}"#);
    let result = judge(&cfg, &run(), &session(None), Err(Failure::NoTls));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Tls)));
    assert_eq!(result.summary, "10.11.19-MariaDB-0+deb12u1 on db.test:3306 does not offer TLS, and tls is on");
    let result = judge(&config("{}"), &run(), &session(None), Err(Failure::FullAuthNeedsTls));
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert!(result.summary.contains("needs TLS: set tls = true"), "{}", result.summary);
    let result = judge(&config("{}"), &run(), &session(None), Err(Failure::UnsupportedPlugin("client_ed25519".into())));
    assert_eq!(result.status, Status::Unknown);
    assert!(result.summary.contains("\"client_ed25519\""), "{}", result.summary);
    let timeout = Failure::Net {
        context: "read the server greeting from db.test:3306".into(),
        error: NetError::Timeout("no data within 5 s".into()),
    };
    let result = judge(&config("{}"), &run(), &Session::default(), Err(timeout));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Timeout)));
    assert_eq!(result.summary, "read the server greeting from db.test:3306 failed: no data within 5 s");
    let result = judge(&config("{}"), &run(), &Session::default(), Err(Failure::Protocol("garbage".into())));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Protocol)));
}

#[test]
fn the_password_is_never_shown() {
    let cfg = config(r#"{"user": "app", "password": "hunter2"}"#);
    let failure = Failure::Refused(Phase::Login, refused(1045, "28000", "Access denied"));
    for outcome in [Ok(()), Err(failure)] {
        let result = judge(&cfg, &run(), &session(Some(Some("1"))), outcome);
        assert!(!result.summary.contains("hunter2") && !result.details.unwrap_or_default().contains("hunter2"));
    }
}

#[test]
fn describe_lists_every_key() {
    let description = Mysql::describe();
    assert_eq!(description.name, "mysql");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "user",
            "password",
            "database",
            "query",
            "expect",
            "tls",
            "tls_verify",
            "warn_time",
            "crit_time",
            "connections_warn",
            "connections_crit"
        ]
    );
    assert!(description.config.iter().all(|k| !k.doc.is_empty() && !k.required));
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Mysql::validate(r#"{"user": "", "query": " ", "warn_time": "1s"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("user"), Some("query")]);
    assert_eq!(Mysql::validate(r#"{"user": "app", "query": "SELECT 1", "expect": "1", "tls": true}"#), []);
}

// Every case of cases.toml, run natively through `Mysql::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Mysql, "cases.toml");
