//! Unit tests of how servers are judged (pure logic, no host calls), and the cases.

use super::*;
use vitals_sdk::Timings;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

const MASTER: &str = "# Server\r\nredis_version:7.0.15\r\n# Clients\r\nconnected_clients:1\r\n# Memory\r\n\
    used_memory:1048576\r\nmaxmemory:0\r\n# Replication\r\nrole:master\r\n";

fn exchange(info: &str, ping_us: u64) -> Exchange {
    Exchange {
        link: Link {
            target: "127.0.0.1:6379".into(),
            remote: "127.0.0.1:6379".into(),
            timings: Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 },
            tls_us: None,
            elapsed: Duration::from_millis(2),
        },
        ping: Some(Duration::from_micros(ping_us)),
        info: Info::parse(info),
    }
}

fn find<'a>(result: &'a CheckResult, name: &str) -> &'a Metric {
    match result.metrics.iter().find(|m| m.name == name) {
        Some(metric) => metric,
        None => panic!("no metric {name} in {:?}", result.metrics),
    }
}

#[test]
fn a_master_is_ok_with_its_metrics() {
    let result = judge(&config("{}"), &exchange(MASTER, 250));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "Redis 7.0.15 master at 127.0.0.1:6379, PONG in 250 µs, 1 MiB used, 1 client");
    assert_eq!(find(&result, "time_connect").value, 0.3);
    assert_eq!(find(&result, "time_ping").value, 0.25);
    assert_eq!(find(&result, "time_total").value, 2.0);
    let used = find(&result, "used_memory");
    assert_eq!((used.value, used.unit.as_str(), used.max, used.warn.as_deref()), (1048576.0, "B", None, None));
    assert_eq!(find(&result, "connected_clients").value, 1.0);
    assert!(result.metrics.iter().all(|m| m.name != "master_last_io"));
    let details = result.details.unwrap_or_default();
    assert!(details.starts_with("remote address: 127.0.0.1:6379\nredis_version: 7.0.15"), "{details}");
}

#[test]
fn ping_time_thresholds_are_on_the_metric() {
    let cfg = config(r#"{"warn_time": "100us", "crit_time": "1ms"}"#);
    let result = judge(&cfg, &exchange(MASTER, 300));
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(", 1 client: PING slower than warn_time 100 µs"), "{}", result.summary);
    let ping = find(&result, "time_ping");
    assert_eq!((ping.warn.as_deref(), ping.crit.as_deref()), (Some("0.1"), Some("1")));
    assert_eq!(judge(&cfg, &exchange(MASTER, 5_000)).status, Status::Critical);
    assert_eq!(judge(&cfg, &exchange(MASTER, 50)).status, Status::Ok);
}

#[test]
fn memory_limits_become_byte_ranges_with_maxmemory_as_max() {
    let info = MASTER.replace("maxmemory:0", "maxmemory:2097152");
    let cfg = config(r#"{"memory_warn": "40%", "memory_crit": "1536KiB"}"#);
    let result = judge(&cfg, &exchange(&info, 100));
    assert_eq!(result.status, Status::Warning);
    assert!(result.summary.contains(", 1 MiB of 2 MiB used (50.0%), "), "{}", result.summary);
    assert!(result.summary.ends_with(": used memory 50.0% of maxmemory, above memory_warn 40%"), "{}", result.summary);
    let used = find(&result, "used_memory");
    assert_eq!((used.warn.as_deref(), used.crit.as_deref()), (Some("838861"), Some("1572864")));
    assert_eq!(used.max, Some(2097152.0));

    // Without maxmemory a percentage cannot be judged, and it has no range on the metric.
    let result = judge(&config(r#"{"memory_warn": "40%", "memory_crit": "512KiB"}"#), &exchange(MASTER, 100));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(": used memory above memory_crit 512 KiB; memory_warn 40% is a share of maxmemory, which is not set; give a size such as \"512MiB\""), "{}", result.summary);
    let used = find(&result, "used_memory");
    assert_eq!((used.warn.as_deref(), used.crit.as_deref()), (None, Some("524288")));
}

#[test]
fn a_replica_reports_its_master_link() {
    let info = MASTER.replace(
        "role:master",
        "role:slave\r\nmaster_host:10.0.0.5\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:3",
    );
    let result = judge(&config(r#"{"role": "replica"}"#), &exchange(&info, 100));
    assert_eq!(result.status, Status::Ok);
    assert!(result.summary.starts_with("Redis 7.0.15 replica at 127.0.0.1:6379 (master 10.0.0.5:6379, link up), "));
    let io = find(&result, "master_last_io");
    assert_eq!((io.value, io.unit.as_str()), (3.0, "s"));

    let down = info.replace("master_link_status:up", "master_link_status:down").replace(":3", ":-1");
    let result = judge(&config("{}"), &exchange(&down, 100));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(": link to master 10.0.0.5:6379 is down"), "{}", result.summary);
    assert!(result.metrics.iter().all(|m| m.name != "master_last_io"));
}

#[test]
fn an_unknown_role_is_shown_cleaned() {
    let info = MASTER.replace("role:master", "role:\x1b[2Jsentinel");
    let result = judge(&config(r#"{"role": "master"}"#), &exchange(&info, 100));
    assert_eq!(result.status, Status::Critical);
    assert!(result.summary.starts_with("Redis 7.0.15 [2Jsentinel at "), "{}", result.summary);
    assert!(result.summary.ends_with(": role is [2Jsentinel, expected master"), "{}", result.summary);
}

#[test]
fn refusals_name_the_user_and_never_the_password() {
    let wrong = Reply::Error("WRONGPASS invalid username-password pair or user is disabled.".into());
    let result = refused(wrong, "AUTH", "+OK", "127.0.0.1:6379", "app", true);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(
        result.summary,
        "authentication failed for user \"app\": WRONGPASS invalid username-password pair or user is disabled."
    );
    let noauth =
        refused(Reply::Error("NOAUTH Authentication required.".into()), "PING", "+PONG", "t:1", "default", false);
    assert_eq!(
        noauth.summary,
        "authentication failed for user \"default\" (no password configured): NOAUTH Authentication required."
    );
    let other = refused(Reply::Error("ERR unknown command 'PING'".into()), "PING", "+PONG", "t:1", "default", false);
    assert_eq!(
        (other.reason, other.summary.as_str()),
        (Some(Reason::Protocol), "PING to t:1 failed: server error \"ERR unknown command 'PING'\"")
    );
    let garbage = refused(Reply::Unexpected(vec![b'x'; 1000]), "PING", "+PONG", "t:1", "default", false);
    assert_eq!(garbage.reason, Some(Reason::Protocol));
    assert!(garbage.summary.chars().count() < 260, "{}", garbage.summary);
}

#[test]
fn describe_lists_every_key() {
    let description = Redis::describe();
    assert_eq!((description.name.as_str(), description.version.as_str()), ("redis", "0.1.0"));
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        ["user", "password", "tls", "tls_verify", "role", "memory_warn", "memory_crit", "warn_time", "crit_time"]
    );
    for metric in ["time_connect", "time_ping", "time_total", "used_memory", "connected_clients", "master_last_io"] {
        assert!(description.summary.contains(metric), "describe does not mention {metric}");
    }
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Redis::validate(r#"{"role": "primary", "memory_warn": "lots"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("role"), Some("memory_warn")]);
    let problems = Redis::validate(r#"{"user": "app"}"#);
    assert_eq!(problems, [ConfigProblem::at_key("user", "needs password (AUTH user password)")]);
    assert_eq!(Redis::validate(r#"{"user": "app", "password": "x", "role": "replica", "memory_crit": "90%"}"#), []);
}

// Every case of cases.toml, run natively through `Redis::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Redis, "cases.toml");
