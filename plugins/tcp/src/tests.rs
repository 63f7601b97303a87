//! Unit tests of how exchanges are judged (pure logic, no host calls).

use std::time::Duration;

use super::*;
use vitals_sdk::Timings;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn exchange(received: &[u8], wait: Option<Wait>) -> Exchange {
    Exchange {
        link: Link {
            target: "127.0.0.1:22".into(),
            remote: "127.0.0.1:22".into(),
            timings: Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 },
            tls_us: None,
            elapsed: Duration::from_millis(2),
        },
        received: received.to_vec(),
        wait,
    }
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn plain_connect() {
    let result = judge(&config("{}"), &exchange(b"", None));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "connected to 127.0.0.1:22 in 300 µs");
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_total"), Some(2.0));
    assert_eq!(value(&result, "bytes_received"), Some(0.0));
    assert_eq!(value(&result, "time_dns"), None);
    assert_eq!(value(&result, "time_tls"), None);
}

#[test]
fn banner_found() {
    let cfg = config(r#"{"expect": "SSH-"}"#);
    let result = judge(&cfg, &exchange(b"SSH-2.0-OpenSSH_9.6\r\n", Some(Wait::Found)));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "connected to 127.0.0.1:22 in 300 µs, banner \"SSH-2.0-OpenSSH_9.6\"");
    assert_eq!(value(&result, "bytes_received"), Some(21.0));
}

#[test]
fn banner_missing() {
    let cfg = config(r#"{"expect": "SSH-"}"#);
    let result = judge(&cfg, &exchange(b"220 smtp ready\r\n", Some(Wait::Closed)));
    assert_eq!(result.status, Status::Critical);
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(result.summary.contains("got \"220 smtp ready\""), "{}", result.summary);

    let result = judge(&cfg, &exchange(b"", Some(Wait::TimedOut)));
    assert_eq!(result.reason, Some(Reason::Timeout));
    assert_eq!(result.summary, "no data from 127.0.0.1:22 within 2.0 ms (expected \"SSH-\")");

    let result = judge(&cfg, &exchange(b"HELLO\x07\x1b[31m", Some(Wait::TimedOut)));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(!result.summary.contains('\x1b'), "{}", result.summary);

    let result = judge(&cfg, &exchange(&[b'x'; 4096], Some(Wait::Full)));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(result.summary.contains("first 4 KiB"), "{}", result.summary);

    let result = judge(&cfg, &exchange(b"", Some(Wait::Closed)));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(result.summary.contains("without sending anything"));
}

#[test]
fn connect_time_thresholds() {
    let cfg = config(r#"{"warn_time": "100us", "crit_time": "1ms"}"#);
    let result = judge(&cfg, &exchange(b"", None));
    assert_eq!(result.status, Status::Warning);
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert_eq!(result.summary, "connected to 127.0.0.1:22 in 300 µs: slower than warn_time 100 µs");
    let connect = result.metrics.iter().find(|m| m.name == "time_connect");
    assert_eq!(connect.and_then(|m| m.warn.clone()).as_deref(), Some("0.1"));
    assert_eq!(connect.and_then(|m| m.crit.clone()).as_deref(), Some("1"));

    let mut slow = exchange(b"", None);
    slow.link.timings.connect_us = Some(5_000);
    assert_eq!(judge(&cfg, &slow).status, Status::Critical);
}

#[test]
fn tls_and_remote_in_summary() {
    let mut tls = exchange(b"", None);
    tls.link.target = "localhost:443".into();
    tls.link.remote = "127.0.0.1:443".into();
    tls.link.tls_us = Some(2_100);
    let result = judge(&config(r#"{"tls": true}"#), &tls);
    assert_eq!(result.summary, "connected to localhost:443 (127.0.0.1:443) in 300 µs, TLS in 2.1 ms");
    assert_eq!(value(&result, "time_tls"), Some(2.1));
}

#[test]
fn substring_search() {
    assert!(contains(b"abc220 ok", b"220"));
    assert!(!contains(b"22", b"220"));
    assert!(contains(b"", b""));
}

#[test]
fn describe_lists_every_key() {
    let description = Tcp::describe();
    assert_eq!(description.name, "tcp");
    assert_eq!(description.version, "0.1.0");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["send", "expect", "tls", "tls_verify", "warn_time", "crit_time", "max_bytes"]);
}

/// What `vitals plugin inspect tcp` shows of the keys, as it was before the keys were
/// derived from the config struct.
#[test]
fn describe_keys_are_unchanged() {
    use vitals_sdk::ConfigType;

    let keys: Vec<(String, ConfigType, Option<String>, bool, String)> =
        Tcp::describe().config.into_iter().map(|k| (k.name, k.kind, k.default, k.required, k.doc)).collect();
    let expected = [
        ("send", ConfigType::String, None, "Text to send after connecting; \\r, \\n, \\t and \\\\ are interpreted."),
        (
            "expect",
            ConfigType::String,
            None,
            "Text the server must send (e.g. \"SSH-\" or \"220\"), looked for in what it sends.",
        ),
        ("tls", ConfigType::Boolean, Some("false"), "Start TLS right after connecting (implicit TLS)."),
        ("tls_verify", ConfigType::Boolean, Some("true"), "Verify the server's certificate and name when tls is on."),
        ("warn_time", ConfigType::Duration, None, "Warn when connecting takes longer than this."),
        ("crit_time", ConfigType::Duration, None, "Critical when connecting takes longer than this."),
        ("max_bytes", ConfigType::Integer, Some("4096"), "How many bytes to read at most while waiting for expect."),
    ]
    .map(|(name, kind, default, doc)| (name.to_string(), kind, default.map(str::to_string), false, doc.to_string()));
    assert_eq!(keys, expected);
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Tcp::validate(r#"{"send": "QUIT\\q", "max_bytes": 0, "warn_time": "1s"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("send"), Some("max_bytes")]);
    assert_eq!(Tcp::validate(r#"{"send": "QUIT\\r\\n", "expect": "220", "tls": true}"#), []);
}

// Every case of cases.toml, run natively through `Tcp::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Tcp, "cases.toml");
