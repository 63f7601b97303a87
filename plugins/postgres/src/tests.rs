//! Unit tests of how sessions are judged (pure logic, no host calls), of `describe`, and
//! the replayed cases.

use super::*;
use vitals_sdk::Timings;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn exchange(value: Option<&str>) -> Exchange {
    let mut exchange = Exchange::new(Link::new(
        "db.test:5432",
        "192.0.2.1:5432".into(),
        Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 },
    ));
    exchange.auth_us = Some(1_200);
    exchange.auth_method = Some("trust".into());
    exchange.server_version = Some("15.20 (Debian 15.20-0+deb12u1)".into());
    exchange.query_us = Some(400);
    exchange.query = Some(QueryOutcome {
        first_row: value.map(|v| vec![Some(v.as_bytes().to_vec())]),
        rows: u64::from(value.is_some()),
        error: None,
    });
    exchange.link.elapsed = Duration::from_millis(3);
    exchange
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

fn metric_of<'a>(result: &'a CheckResult, name: &str) -> &'a Metric {
    match result.metrics.iter().find(|m| m.name == name) {
        Some(metric) => metric,
        None => panic!("no metric {name} in {:?}", result.metrics),
    }
}

#[test]
fn a_plain_select_is_ok_with_its_times() {
    let cfg = config("{}");
    let ex = exchange(Some("1"));
    let result = judge(&cfg, &ex).with_metrics(metrics(&cfg, &ex));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "PostgreSQL 15.20 on db.test:5432: SELECT 1 returned \"1\" in 400 µs, 3.0 ms in all");
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_auth"), Some(1.2));
    assert_eq!(value(&result, "time_query"), Some(0.4));
    assert_eq!(value(&result, "time_total"), Some(3.0));
    assert_eq!(value(&result, "time_tls"), None);
    assert_eq!(value(&result, "connections"), None);
}

#[test]
fn tls_shows_in_the_summary_and_details() {
    let mut ex = exchange(Some("1"));
    ex.tls = Tls::Used { verified: false };
    ex.link.tls_us = Some(2_000);
    let cfg = config("{}");
    let result = judge(&cfg, &ex);
    assert!(result.summary.starts_with("PostgreSQL 15.20 on db.test:5432 over TLS: "), "{}", result.summary);
    let text = details(&cfg, &ex);
    assert!(text.contains("TLS: yes, certificate not verified") && text.contains("authentication: trust"), "{text}");
    assert_eq!(metrics(&cfg, &ex).iter().find(|m| m.name == "time_tls").map(|m| m.value), Some(2.0));
}

#[test]
fn expect_compares_the_first_value_exactly() {
    let cfg = config(r#"{"query": "SELECT state FROM t", "expect": "up"}"#);
    assert_eq!(judge(&cfg, &exchange(Some("up"))).status, Status::Ok);
    for (found, shown) in [(Some("up "), "\"up \""), (Some("UP"), "\"UP\""), (None, "no rows")] {
        let result = judge(&cfg, &exchange(found));
        assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
        assert!(
            result.summary.contains(&format!("\"SELECT state FROM t\" returned {shown} in ")),
            "{}",
            result.summary
        );
        assert!(result.summary.ends_with(": expected \"up\""), "{}", result.summary);
    }
    let mut null = exchange(None);
    null.query = Some(QueryOutcome { first_row: Some(vec![None]), rows: 1, error: None });
    let result = judge(&cfg, &null);
    assert!(result.summary.contains("returned NULL"), "{}", result.summary);
    assert_eq!(result.status, Status::Critical);
}

#[test]
fn values_from_the_server_are_cleaned_and_bounded() {
    let long = format!("evil\x1b[31m\n{}", "x".repeat(500));
    let result = judge(&config("{}"), &exchange(Some(&long)));
    assert!(!result.summary.contains('\x1b') && !result.summary.contains('\n'), "{}", result.summary);
    assert!(result.summary.chars().count() < 250, "{}", result.summary);
}

#[test]
fn the_total_time_has_the_thresholds() {
    let cfg = config(r#"{"warn_time": "2ms", "crit_time": "10ms"}"#);
    let result = judge(&cfg, &exchange(Some("1"))).with_metrics(metrics(&cfg, &exchange(Some("1"))));
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(" in all: slower than warn_time 2.0 ms"), "{}", result.summary);
    let total = metric_of(&result, "time_total");
    assert_eq!((total.warn.as_deref(), total.crit.as_deref()), (Some("2"), Some("10")));
    let mut slow = exchange(Some("1"));
    slow.link.elapsed = Duration::from_millis(20);
    assert_eq!(judge(&cfg, &slow).status, Status::Critical);
}

#[test]
fn connections_have_ranges_and_the_server_limit() {
    let cfg = config(r#"{"connections_warn": "5", "connections_crit": "~:90"}"#);
    let mut ex = exchange(Some("1"));
    ex.connections = Some((7, Some(100)));
    let result = judge(&cfg, &ex).with_metrics(metrics(&cfg, &ex));
    assert_eq!(result.status, Status::Warning);
    assert!(
        result.summary.ends_with(", 7 of 100 connections: 7 connections crossed connections_warn \"5\""),
        "{}",
        result.summary
    );
    let connections = metric_of(&result, "connections");
    assert_eq!((connections.value, connections.max, connections.unit.as_str()), (7.0, Some(100.0), ""));
    assert_eq!((connections.warn.as_deref(), connections.crit.as_deref()), (Some("5"), Some("~:90")));
    ex.connections = Some((95, None));
    let result = judge(&cfg, &ex);
    assert_eq!(result.status, Status::Critical);
    assert!(
        result.summary.contains(", 95 connections: 95 connections crossed connections_crit \"~:90\""),
        "{}",
        result.summary
    );
}

#[test]
fn replication_lag_on_a_standby_and_a_primary() {
    let cfg = config(r#"{"replication_lag_warn": "10s", "replication_lag_crit": "1m"}"#);
    let mut ex = exchange(Some("1"));
    ex.replication = Some(Replication::Standby { lag_s: Some(12.0) });
    let result = judge(&cfg, &ex).with_metrics(metrics(&cfg, &ex));
    assert_eq!(result.status, Status::Warning);
    assert!(
        result
            .summary
            .ends_with(", replication lag 12.0 s (standby): replication lag over replication_lag_warn 10.0 s"),
        "{}",
        result.summary
    );
    let lag = metric_of(&result, "replication_lag");
    assert_eq!(
        (lag.value, lag.unit.as_str(), lag.warn.as_deref(), lag.crit.as_deref()),
        (12.0, "s", Some("10"), Some("60"))
    );

    ex.replication = Some(Replication::Primary { lag_s: 0.0, standbys: 0 });
    let result = judge(&cfg, &ex);
    assert_eq!(result.status, Status::Ok);
    assert!(result.summary.contains("(primary without standbys)"), "{}", result.summary);
    assert!(details(&cfg, &ex).contains("role: primary"));

    ex.replication = Some(Replication::Standby { lag_s: None });
    let result = judge(&cfg, &ex).with_metrics(metrics(&cfg, &ex));
    assert_eq!(result.status, Status::Warning);
    assert_eq!(value(&result, "replication_lag"), None);
}

#[test]
fn the_worst_problem_decides_and_all_are_listed() {
    let cfg = config(r#"{"expect": "1", "warn_time": "1ms", "connections_warn": "5"}"#);
    let mut ex = exchange(Some("2"));
    ex.connections = Some((7, Some(100)));
    let result = judge(&cfg, &ex);
    assert_eq!(result.status, Status::Critical);
    assert!(
        result
            .summary
            .ends_with(": expected \"1\"; slower than warn_time 1.0 ms; 7 connections crossed connections_warn \"5\""),
        "{}",
        result.summary
    );
}

#[test]
fn describe_lists_every_key() {
    let description = Postgres::describe();
    assert_eq!((description.name.as_str(), description.version.as_str()), ("postgres", "0.1.0"));
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
            "connections_crit",
            "replication_lag_warn",
            "replication_lag_crit"
        ]
    );
    for unit in ["time_connect", "time_query", "time_total", "connections", "replication_lag", " ms", " s."] {
        assert!(description.summary.contains(unit), "{unit} not in the summary");
    }
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Postgres::validate(r#"{"tls": "always", "user": "", "connections_warn": "9:1"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("user"), Some("tls"), Some("connections_warn")]);
    assert_eq!(Postgres::validate(r#"{"user": "app", "password": "x", "tls": "require", "expect": "1"}"#), []);
}

// Every case of cases.toml, run natively through `Postgres::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Postgres, "cases.toml");

/// The SCRAM-SHA-256 exchanges, which only a native build can replay (the nonce).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_scram_case_passes() {
    vitals_sdk::testing::run_cases::<Postgres>(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scram-cases.toml"),
    );
}
