//! Unit tests of how handshakes are judged (pure logic over constructed `TlsInfo` values;
//! natively the host gives no TLS facts), and the connection paths of cases.toml.

use vitals_sdk::{Certificate, Status, Timings, TlsInfo};

use super::*;
use crate::judge::{date, span};

/// 2026-12-02 12:00 UTC, the clock of every judged case.
const NOW: i64 = 1_796_212_800_000;
const DAY: i64 = 86_400_000;
const LEAF_SHA: &str = "3f2a9b1c045de6770000000000000000000000000000000000000000000000ff";

fn config(json: &str) -> Config {
    match Config::load(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn exchange() -> Exchange {
    Exchange {
        target: "localhost:8443".into(),
        server_name: "localhost".into(),
        remote: "127.0.0.1:8443".into(),
        timings: Timings { dns_us: Some(100), connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 450 },
        tls_us: Some(2_100),
        elapsed: Duration::from_millis(3),
    }
}

fn cert(subject: &str, issuer: &str, days_left: i64, is_ca: bool) -> Certificate {
    Certificate {
        subject: subject.into(),
        issuer: issuer.into(),
        names: if is_ca { vec![] } else { vec!["localhost".into(), "127.0.0.1".into()] },
        not_before_ms: NOW - 30 * DAY,
        not_after_ms: NOW + days_left * DAY + 3_600_000,
        is_ca,
        sha256: LEAF_SHA.into(),
        serial: "01ab".into(),
        key: "ECDSA P-256".into(),
    }
}

/// A verified TLS 1.3 handshake whose leaf expires in `days_left` days (and an hour).
fn info(days_left: i64) -> TlsInfo {
    TlsInfo {
        version: "TLSv1.3".into(),
        cipher: "TLS_AES_256_GCM_SHA384".into(),
        alpn: None,
        server_name: "localhost".into(),
        chain: vec![
            cert("CN=localhost", "CN=Vitals Test CA", days_left, false),
            cert("CN=Vitals Test CA", "CN=Vitals Test CA", 3650, true),
        ],
        chain_valid: true,
        name_valid: true,
        problem: None,
    }
}

fn judged(json: &str, info: &TlsInfo) -> CheckResult {
    judge(&config(json), &exchange(), info, NOW)
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

fn ranges(result: &CheckResult, name: &str) -> (Option<String>, Option<String>) {
    let metric = result.metrics.iter().find(|m| m.name == name);
    (metric.and_then(|m| m.warn.clone()), metric.and_then(|m| m.crit.clone()))
}

fn assert_result(result: &CheckResult, status: Status, reason: Option<Reason>, summary: &str) {
    assert_eq!((result.status, result.reason), (status, reason), "{}", result.summary);
    assert_eq!(result.summary, summary);
}

#[test]
fn dates_and_spans() {
    assert_eq!(date(NOW), "2026-12-02");
    assert_eq!(date(0), "1970-01-01");
    assert_eq!(date(951_782_400_000), "2000-02-29");
    assert_eq!(date(-DAY), "1969-12-31");
    assert_eq!(judge::date_time(NOW + 3_660_000), "2026-12-02 13:01 UTC");
    assert_eq!(span(89 * DAY + 5), "89 days");
    assert_eq!(span(DAY), "1 day");
    assert_eq!(span(5 * 3_600_000), "5 hours");
    assert_eq!(span(60_000), "1 minute");
    assert_eq!(span(-5), "less than a minute");
}

#[test]
fn forty_days_left_is_ok_with_everything_reported() {
    let result = judged("{}", &info(40));
    assert_result(
        &result,
        Status::Ok,
        None,
        "TLSv1.3 TLS_AES_256_GCM_SHA384, certificate for localhost (CN=localhost) valid until 2027-01-11, 40 days",
    );
    assert_eq!(value(&result, "days_to_expiry"), Some(40.0));
    assert_eq!(ranges(&result, "days_to_expiry"), (Some("30:".into()), Some("7:".into())));
    assert_eq!(value(&result, "time_to_expiry"), Some((40 * 86_400 + 3600) as f64));
    assert_eq!(ranges(&result, "time_to_expiry"), (Some("2592000:".into()), Some("604800:".into())));
    assert_eq!(value(&result, "tls_version"), Some(1.3));
    assert_eq!(value(&result, "chain_length"), Some(2.0));
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_dns"), Some(0.1));
    assert_eq!(value(&result, "time_tls"), Some(2.1));
    assert_eq!(value(&result, "time_total"), Some(3.0));
    let units: Vec<(&str, &str)> = result.metrics.iter().map(|m| (m.name.as_str(), m.unit.as_str())).collect();
    assert!(units.contains(&("days_to_expiry", "")) && units.contains(&("time_to_expiry", "s")), "{units:?}");
    let details = result.details.unwrap_or_default();
    let lines: Vec<&str> = details.lines().collect();
    assert_eq!(lines.len(), 4, "{details}");
    assert_eq!(lines[0], "remote address 127.0.0.1:8443, server name localhost, TLSv1.3 TLS_AES_256_GCM_SHA384");
    assert_eq!(lines[1], "chain trusted, name valid");
    assert!(lines[2].starts_with("certificate 1: subject CN=localhost; issuer CN=Vitals Test CA; valid 2026-11-02 12:00 UTC to 2027-01-11 13:00 UTC; names localhost, 127.0.0.1; key ECDSA P-256; serial 01ab; sha256 3f2a9b"), "{}", lines[2]);
    assert!(lines[3].starts_with("certificate 2 (CA): subject CN=Vitals Test CA;"), "{}", lines[3]);
}

#[test]
fn tls13_suites_get_their_iana_names() {
    let mut rustls_named = info(40);
    rustls_named.cipher = "TLS13_AES_128_GCM_SHA256".into();
    let result = judged("{}", &rustls_named);
    assert!(result.summary.starts_with("TLSv1.3 TLS_AES_128_GCM_SHA256, "), "{}", result.summary);
    assert!(
        result
            .details
            .unwrap_or_default()
            .starts_with("remote address 127.0.0.1:8443, server name localhost, TLSv1.3 TLS_AES_128_GCM_SHA256")
    );
}

#[test]
fn twenty_days_left_is_a_warning() {
    let result = judged("{}", &info(20));
    assert_result(
        &result,
        Status::Warning,
        Some(Reason::Assertion),
        "certificate for localhost expires in 20 days (2026-12-22), sooner than warn_days 30",
    );
    assert_eq!(value(&result, "days_to_expiry"), Some(20.0));
}

#[test]
fn three_days_left_is_critical() {
    let result = judged("{}", &info(3));
    assert_result(
        &result,
        Status::Critical,
        Some(Reason::Assertion),
        "certificate for localhost expires in 3 days (2026-12-05), sooner than crit_days 7",
    );
    // Thresholds of one's own: 3 days is a warning under warn_days 5, ok under 2.
    let result = judged(r#"{"warn_days": 5, "crit_days": 1}"#, &info(3));
    assert_eq!(result.status, Status::Warning);
    assert!(result.summary.ends_with("sooner than warn_days 5"), "{}", result.summary);
    assert_eq!(ranges(&result, "days_to_expiry"), (Some("5:".into()), Some("1:".into())));
    assert_eq!(judged(r#"{"warn_days": 2, "crit_days": 1}"#, &info(3)).status, Status::Ok);
}

#[test]
fn an_expired_certificate_is_critical_tls_whatever_the_chain_says() {
    let mut expired = info(0);
    expired.chain[0].not_after_ms = NOW - 3 * DAY - 60_000;
    expired.chain_valid = false;
    expired.problem = Some("certificate for localhost expired on 2026-11-29, 3 days ago".into());
    let result = judged("{}", &expired);
    assert_result(
        &result,
        Status::Critical,
        Some(Reason::Tls),
        "certificate for localhost expired on 2026-11-29, 3 days ago",
    );
    assert_eq!(value(&result, "days_to_expiry"), Some(-3.0));
    assert!(value(&result, "time_to_expiry").is_some_and(|s| s < 0.0));
    // verify_chain = false does not make it acceptable.
    assert_eq!(judged(r#"{"verify_chain": false}"#, &expired).status, Status::Critical);
}

#[test]
fn a_certificate_not_yet_valid_is_critical_tls() {
    let mut early = info(90);
    early.chain[0].not_before_ms = NOW + 2 * DAY;
    early.chain_valid = false;
    let result = judged("{}", &early);
    assert_result(
        &result,
        Status::Critical,
        Some(Reason::Tls),
        "certificate for localhost is not valid before 2026-12-04 (in 2 days)",
    );
}

#[test]
fn an_untrusted_chain_is_critical_with_the_hosts_words() {
    let mut untrusted = info(89);
    untrusted.chain_valid = false;
    untrusted.problem = Some(
        "certificate for localhost was issued by CN=Vitals Test CA, which is not a trusted authority (for a \
         private CA, set `ca` on the check)"
            .into(),
    );
    let result = judged("{}", &untrusted);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Tls)));
    assert!(result.summary.contains("which is not a trusted authority"), "{}", result.summary);
    assert!(result.details.unwrap_or_default().contains("chain not trusted, name valid: certificate for localhost"));

    let result = judged(r#"{"verify_chain": false}"#, &untrusted);
    assert_eq!(result.status, Status::Ok);
    assert!(result.summary.ends_with(", 89 days, chain not verified (verify_chain = false)"), "{}", result.summary);

    let mut unsaid = info(89);
    unsaid.chain_valid = false;
    assert_eq!(judged("{}", &unsaid).summary, "the certificate chain for localhost is not trusted");
}

#[test]
fn a_wrong_name_is_critical_unless_not_verified() {
    let mut wrong = info(89);
    wrong.name_valid = false;
    wrong.chain[0].names = (1..=7).map(|i| format!("host{i}.example")).collect();
    let result = judged("{}", &wrong);
    assert_result(
        &result,
        Status::Critical,
        Some(Reason::Tls),
        "certificate is for host1.example, host2.example, host3.example, host4.example, host5.example and 2 more, \
         not localhost",
    );
    let result = judged(r#"{"verify_name": false}"#, &wrong);
    assert_eq!(result.status, Status::Ok);
    assert!(result.summary.ends_with("not valid for localhost (verify_name = false)"), "{}", result.summary);

    wrong.chain[0].names.clear();
    assert_eq!(
        judged("{}", &wrong).summary,
        "certificate (CN=localhost) names no host in subjectAltName, so it is not valid for localhost"
    );
}

#[test]
fn every_problem_is_said_the_worst_first() {
    let mut bad = info(3);
    bad.name_valid = false;
    bad.chain[0].names = vec!["other.example".into()];
    let result = judged("{}", &bad);
    assert_result(
        &result,
        Status::Critical,
        Some(Reason::Tls),
        "certificate is for other.example, not localhost; certificate for localhost expires in 3 days (2026-12-05), \
         sooner than crit_days 7",
    );
    // A critical finding comes before a warning found first.
    let mut slow = exchange();
    slow.tls_us = Some(20_000);
    let result = judge(&config(r#"{"crit_time": "10ms"}"#), &slow, &info(20), NOW);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.starts_with("the TLS handshake took 20.0 ms, slower than crit_time 10.0 ms; certificate"));
}

#[test]
fn min_version() {
    let mut old = info(89);
    old.version = "TLSv1.2".into();
    old.cipher = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".into();
    let result = judged(r#"{"min_version": "TLSv1.3"}"#, &old);
    assert_result(
        &result,
        Status::Critical,
        Some(Reason::Assertion),
        "the server negotiated TLSv1.2, older than min_version TLSv1.3",
    );
    assert_eq!(value(&result, "tls_version"), Some(1.2));
    assert_eq!(judged(r#"{"min_version": "TLSv1.2"}"#, &old).status, Status::Ok);
    assert_eq!(judged(r#"{"min_version": "TLSv1.2"}"#, &info(89)).status, Status::Ok);
    old.version = "SSLv3".into();
    let result = judged(r#"{"min_version": "TLSv1.2"}"#, &old);
    assert_eq!(result.status, Status::Critical);
    assert_eq!(value(&result, "tls_version"), None);
}

#[test]
fn fingerprint_pin() {
    let pinned = format!(r#"{{"fingerprint": "{}"}}"#, LEAF_SHA.to_ascii_uppercase());
    assert_eq!(judged(&pinned, &info(89)).status, Status::Ok);
    let other = format!(r#"{{"fingerprint": "{}"}}"#, "ab".repeat(32));
    let result = judged(&other, &info(89));
    assert_result(
        &result,
        Status::Critical,
        Some(Reason::Assertion),
        "certificate for localhost has SHA-256 fingerprint 3f:2a:9b:1c:04:5d:e6:77…, not the pinned \
         ab:ab:ab:ab:ab:ab:ab:ab…",
    );
}

#[test]
fn handshake_time_thresholds() {
    let result = judged(r#"{"warn_time": "1ms", "crit_time": "10ms"}"#, &info(89));
    assert_result(
        &result,
        Status::Warning,
        Some(Reason::Assertion),
        "the TLS handshake took 2.1 ms, slower than warn_time 1.0 ms",
    );
    assert_eq!(ranges(&result, "time_tls"), (Some("1".into()), Some("10".into())));
}

#[test]
fn a_server_without_a_certificate_is_critical() {
    let mut none = info(89);
    none.chain.clear();
    none.chain_valid = false;
    none.problem = Some("the server sent no certificate".into());
    let result = judged("{}", &none);
    assert_result(&result, Status::Critical, Some(Reason::Tls), "the server sent no certificate");
    assert_eq!(value(&result, "days_to_expiry"), None);
    assert_eq!(value(&result, "chain_length"), Some(0.0));
}

#[test]
fn peer_text_is_cleaned() {
    let mut hostile = info(89);
    hostile.chain[0].subject = "CN=evil\u{1b}[31m\nhost, O=x".into();
    hostile.cipher = "TLS\r\nFAKE".into();
    let result = judged("{}", &hostile);
    assert!(!result.summary.contains('\u{1b}') && !result.summary.contains('\n'), "{}", result.summary);
    assert!(result.summary.contains("(CN=evil [31m host)"), "{}", result.summary);
    let details = result.details.unwrap_or_default();
    assert_eq!(details.lines().count(), 4, "{details}");
}

#[test]
fn describe_lists_every_key() {
    let description = Tls::describe();
    assert_eq!((description.name.as_str(), description.version.as_str()), ("tls", "0.1.0"));
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "server_name",
            "starttls",
            "ehlo",
            "warn_days",
            "crit_days",
            "verify_chain",
            "verify_name",
            "min_version",
            "fingerprint",
            "warn_time",
            "crit_time"
        ]
    );
    assert!(description.config.iter().all(|k| !k.doc.is_empty() && !k.required));
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Tls::validate(r#"{"starttls": "ftp", "min_version": "1.1", "fingerprint": "zz"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("starttls"), Some("min_version"), Some("fingerprint")]);
    assert_eq!(Tls::validate(r#"{"starttls": "imap", "min_version": "TLSv1.2", "warn_days": 14}"#), []);
    let problems = Tls::validate(r#"{"warn_days": 3}"#);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].key.as_deref(), Some("crit_days"));
}

// Every case of cases.toml, run natively through `Tls::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Tls, "cases.toml");

#[test]
fn a_subject_with_non_ascii_parts_is_named_without_slicing_a_character() {
    let mut peer = info(90);
    peer.chain[0].subject = "L=Évry, O=Ärztekammer, CN=localhost".into();
    let result = judged("{}", &peer);
    assert_eq!(result.status, Status::Ok, "{}", result.summary);
    assert!(result.summary.contains("(CN=localhost)"), "{}", result.summary);
    peer.chain[0].subject = "O=Ä, C=É".into();
    assert_eq!(judged("{}", &peer).status, Status::Ok);
}
