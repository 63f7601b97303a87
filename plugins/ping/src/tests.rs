//! Unit tests of how a series of echo replies is judged (pure logic on the values the
//! host's `ping` interface returns; natively there is no host to ask).

use vitals_sdk::NetError;

use super::*;

fn config(json: &str) -> Config {
    match Config::load(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

/// `sent` requests to 127.0.0.1, answered in these microseconds each.
fn stats(sent: u32, rtts_us: &[u64]) -> PingStats {
    PingStats {
        address: "127.0.0.1".into(),
        sent,
        received: u32::try_from(rtts_us.len()).unwrap_or(u32::MAX),
        rtts_us: rtts_us.to_vec(),
    }
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

fn metric_of<'a>(result: &'a CheckResult, name: &str) -> &'a Metric {
    match result.metrics.iter().find(|m| m.name == name) {
        Some(m) => m,
        None => panic!("no metric {name}"),
    }
}

fn problems(json: &str) -> Vec<(Option<String>, String)> {
    Ping::validate(json).into_iter().map(|p| (p.key, p.message)).collect()
}

#[test]
fn every_reply_is_ok_with_check_ping_metrics() {
    let result = judge(&config("{}"), "127.0.0.1", &stats(5, &[40, 50, 60, 50, 50]));
    assert_eq!((result.status, result.reason), (Status::Ok, None));
    assert_eq!(result.summary, "PING 127.0.0.1: 5/5 replies, rta 50 µs, loss 0%");
    assert_eq!(value(&result, "rta"), Some(0.05));
    assert_eq!(value(&result, "rtt_min"), Some(0.04));
    assert_eq!(value(&result, "rtt_max"), Some(0.06));
    assert_eq!((value(&result, "sent"), value(&result, "received")), (Some(5.0), Some(5.0)));
    let pl = metric_of(&result, "pl");
    assert_eq!(
        (pl.value, pl.unit.as_str(), pl.warn.as_deref(), pl.crit.as_deref(), pl.min, pl.max),
        (0.0, "%", Some("20"), Some("60"), Some(0.0), Some(100.0))
    );
    let rta = metric_of(&result, "rta");
    assert_eq!((rta.unit.as_str(), rta.warn.clone(), rta.crit.clone()), ("ms", None, None));
    let details = result.details.unwrap_or_default();
    assert!(details.contains("rtt min/avg/max: 40 µs / 50 µs / 60 µs"), "{details}");
}

#[test]
fn loss_above_its_thresholds_warns_then_is_critical() {
    let cfg = config("{}");
    // One lost of five is 20%: not above the default 20%.
    assert_eq!(judge(&cfg, "127.0.0.1", &stats(5, &[50, 50, 50, 50])).status, Status::Ok);
    let result = judge(&cfg, "127.0.0.1", &stats(5, &[50, 50, 50]));
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert_eq!(result.summary, "PING 127.0.0.1: 3/5 replies, rta 50 µs, loss 40%: loss above loss_warn 20%");
    let result = judge(&config(r#"{"count": 3}"#), "127.0.0.1", &stats(3, &[50]));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, "PING 127.0.0.1: 1/3 replies, rta 50 µs, loss 66.7%: loss above loss_crit 60%");
    assert_eq!(value(&result, "pl"), Some(66.667));
}

#[test]
fn no_reply_at_all_is_critical_timeout_without_round_trips() {
    let result = judge(&config("{}"), "192.0.2.1", &PingStats { address: "192.0.2.1".into(), ..stats(5, &[]) });
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Timeout)));
    assert_eq!(result.summary, "PING 192.0.2.1: 0/5 replies, loss 100%");
    assert_eq!((value(&result, "pl"), value(&result, "received")), (Some(100.0), Some(0.0)));
    assert_eq!(value(&result, "rta"), None);
    assert_eq!(result.details.as_deref(), Some("address 192.0.2.1: 5 sent, 0 received"));
}

#[test]
fn a_slow_average_round_trip_crosses_the_rtt_thresholds() {
    let cfg = config(r#"{"count": 2, "rtt_warn": "1us", "rtt_crit": "2us"}"#);
    let result = judge(&cfg, "127.0.0.1", &stats(2, &[40, 60]));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, "PING 127.0.0.1: 2/2 replies, rta 50 µs, loss 0%: rta above rtt_crit 2 µs");
    let rta = metric_of(&result, "rta");
    assert_eq!((rta.warn.as_deref(), rta.crit.as_deref()), (Some("0.001"), Some("0.002")));

    let cfg = config(r#"{"count": 2, "rtt_warn": "10us", "rtt_crit": "1s"}"#);
    let result = judge(&cfg, "127.0.0.1", &stats(2, &[40, 60]));
    assert_eq!(result.status, Status::Warning);
    assert!(result.summary.ends_with(": rta above rtt_warn 10 µs"), "{}", result.summary);
}

#[test]
fn both_crossings_at_the_worst_level_are_named() {
    let cfg = config(r#"{"rtt_crit": "1us"}"#);
    let result = judge(&cfg, "127.0.0.1", &stats(5, &[900]));
    assert_eq!(result.status, Status::Critical);
    assert!(result.summary.ends_with(": loss above loss_crit 60%, rta above rtt_crit 1 µs"), "{}", result.summary);
}

#[test]
fn a_name_is_shown_with_its_address_and_a_short_series_says_so() {
    let mut s = stats(3, &[1_500, 2_500, 2_000]);
    s.address = "::1".into();
    let result = judge(&config(r#"{"count": 5}"#), "localhost", &s);
    assert_eq!(
        result.summary,
        "PING localhost (::1): 3/3 replies, rta 2.0 ms, loss 0% (3 of 5 sent before the deadline)"
    );
    s.address = "::1".into();
    assert!(judge(&config("{}"), "[::1]", &s).summary.starts_with("PING [::1]: "));
}

#[test]
fn host_failures_carry_the_hosts_message() {
    let socket = NetError::Connect(
        "cannot open an ICMP socket (Operation not permitted); allow unprivileged ICMP with `sysctl -w \
         net.ipv4.ping_group_range=\"0 2147483647\"`, or give vitals CAP_NET_RAW"
            .into(),
    );
    let result = net_failure("ping 127.0.0.1", &socket);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Connect)));
    assert!(result.summary.starts_with("ping 127.0.0.1 failed: cannot open an ICMP socket"), "{}", result.summary);
    assert!(result.summary.contains("ping_group_range"));
}

#[test]
fn a_native_run_says_there_is_no_host() {
    let request = |target: &str, config: &str| CheckRequest {
        name: "c".into(),
        target: target.into(),
        config: config.into(),
        deadline_ms: 5_000,
    };
    let result = Ping::run(request("127.0.0.1:7", "{}"));
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert!(result.summary.starts_with("ping 127.0.0.1 failed: no host: "), "{}", result.summary);
    let result = Ping::run(request("ping:db.test", "{}"));
    assert!(result.summary.starts_with("ping db.test failed: no host: "), "{}", result.summary);
    let result = Ping::run(request("db.test", "{}"));
    assert_eq!(result.summary, "invalid target \"db.test\": expected ping:HOST, HOST:PORT or [v6]:PORT");
    let result = Ping::run(request("127.0.0.1:7", r#"{"count": 0}"#));
    assert!(result.summary.starts_with("invalid config: count: "), "{}", result.summary);
}

#[test]
fn targets_name_a_host_with_or_without_an_ignored_port() {
    assert_eq!(parse_target("ping:192.0.2.1"), Ok("192.0.2.1".into()));
    assert_eq!(parse_target(" ping:gw.example "), Ok("gw.example".into()));
    assert_eq!(parse_target("ping:::1"), Ok("::1".into()));
    assert_eq!(parse_target("ping:[fe80::1]"), Ok("fe80::1".into()));
    assert_eq!(parse_target("127.0.0.1:7"), Ok("127.0.0.1".into()));
    assert_eq!(parse_target("[::1]:22"), Ok("::1".into()));
    for bad in ["", "ping:", "host", "host:0", "host:x", "::1", "[::1]", "[::1:22", "a b:1", "http://x:80", "ping:a/b"]
    {
        assert!(parse_target(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn the_host_gets_the_series_and_a_last_wait_of_a_second() {
    assert_eq!(config("{}").series_ms(), 4 * 200 + 1_000);
    assert_eq!(config(r#"{"count": 1, "interval": "2s"}"#).series_ms(), 2_000);
}

#[test]
fn bad_values_are_refused_by_key() {
    let m = |key: &str, message: &str| (Some(key.to_string()), message.to_string());
    assert_eq!(problems(r#"{"count": 0}"#), [m("count", "must be from 1 to 20")]);
    assert_eq!(problems(r#"{"count": 21}"#), [m("count", "must be from 1 to 20")]);
    assert_eq!(problems(r#"{"interval": "50ms"}"#), [m("interval", "must be from 100ms to 10s")]);
    assert_eq!(problems(r#"{"size": 2000}"#), [m("size", "must be at most 1024 bytes")]);
    assert_eq!(
        problems(r#"{"loss_warn": "abc"}"#),
        [m("loss_warn", "expected a percentage such as \"20%\", found \"abc\"")]
    );
    assert_eq!(problems(r#"{"loss_crit": "150%"}"#), [m("loss_crit", "\"150%\" is not between 0% and 100%")]);
    assert_eq!(
        problems(r#"{"loss_warn": "70%"}"#),
        [m("loss_warn", "70% is above loss_crit (60%): a warning comes before the critical level")]
    );
    assert_eq!(
        problems(r#"{"rtt_warn": "2s", "rtt_crit": "1s"}"#),
        [m("rtt_warn", "is above rtt_crit: a warning comes before the critical level")]
    );
    assert_eq!(problems(r#"{"count": 3, "interval": "1s", "size": 0, "loss_crit": "100%", "rtt_crit": "5ms"}"#), []);
}

#[test]
fn defaults_and_describe() {
    assert_eq!(Config::check_defaults(), []);
    let cfg = config("");
    assert_eq!((cfg.count, cfg.interval.as_millis(), cfg.size), (5, 200, 56));
    assert_eq!((cfg.loss_warn.0, cfg.loss_crit.0, cfg.rtt_warn, cfg.rtt_crit), (20.0, 60.0, None, None));
    let description = Ping::describe();
    assert_eq!((description.name.as_str(), description.version.as_str()), ("ping", "0.1.0"));
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["count", "interval", "size", "loss_warn", "loss_crit", "rtt_warn", "rtt_crit"]);
    assert!(description.summary.contains("pl (packet loss, %)"));
}

// The config and target refusals of cases.toml, run natively through `Ping::run`; the
// cases format cannot answer `ping` calls, so the judging is tested above on plain values.
vitals_sdk::test_cases!(Ping, "cases.toml");
