//! Unit tests of how answers are judged (pure logic: natively there is no host to ask).

use vitals_sdk::dns::RecordType;

use super::*;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn record(kind: RecordType, ttl: u32, data: &str) -> AnswerRecord {
    AnswerRecord { name: "www.example.test.".into(), kind, ttl, data: data.into() }
}

fn answer(rcode: &str, records: Vec<AnswerRecord>) -> Answer {
    Answer {
        rcode: rcode.into(),
        records,
        authenticated: false,
        authoritative: true,
        server: "127.0.0.1:5353".into(),
        time_us: 1_200,
    }
}

fn target() -> Target {
    Target { server: Some("127.0.0.1:5353".into()), name: "www.example.test".into() }
}

/// Judges `answer` with the config `json`, as `run` does after the query.
fn judged(json: &str, answer: &Answer) -> CheckResult {
    let config = config(json);
    let expected = match config.expected() {
        Ok(expected) => expected,
        Err(problems) => panic!("{problems:?}"),
    };
    judge(&config, &expected, &target(), answer)
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

fn addresses() -> Answer {
    answer("NOERROR", vec![record(RecordType::A, 300, "192.0.2.1"), record(RecordType::A, 60, "192.0.2.2")])
}

#[test]
fn an_answer_with_the_expected_addresses_is_ok() {
    let result = judged(r#"{"expect": ["192.0.2.2"]}"#, &addresses());
    assert_eq!(result.status, Status::Ok, "{}", result.summary);
    assert_eq!(result.summary, "A www.example.test from 127.0.0.1:5353: 192.0.2.1, 192.0.2.2 in 1.2 ms");
    assert_eq!(value(&result, "time_query"), Some(1.2));
    assert_eq!(value(&result, "records"), Some(2.0));
    assert_eq!(value(&result, "ttl_min"), Some(60.0));
    assert_eq!(value(&result, "dnssec_authenticated"), None);
    let details = result.details.unwrap_or_default();
    assert!(
        details.starts_with("NOERROR from 127.0.0.1:5353, flags: aa, 2 records in the answer section\n"),
        "{details}"
    );
    assert!(details.contains("www.example.test. 60 A 192.0.2.2"), "{details}");
}

#[test]
fn every_record_type_matches_its_expected_values() {
    let cases = [
        (RecordType::A, "192.0.2.1", "192.0.2.1"),
        (RecordType::Aaaa, "2001:db8::1", "2001:DB8:0:0::1"),
        (RecordType::Cname, "www.example.test.", "WWW.example.test"),
        (RecordType::Mx, "10 mx1.example.test.", "10 mx1.example.test"),
        (RecordType::Mx, "10 mx1.example.test.", "mx1.example.test."),
        (RecordType::Mx, "0 .", "0 ."),
        (RecordType::Txt, "v=spf1 -all", "v=spf1 -all"),
        (RecordType::Txt, "v=spf1 -all", "\"v=spf1 -all\""),
        (RecordType::Ns, "ns1.example.test.", "ns1.example.test"),
        (
            RecordType::Soa,
            "ns1.example.test. hostmaster.example.test. 2024010101 3600 600 86400 300",
            "ns1.example.test hostmaster.example.test 2024010101 3600 600 86400 300",
        ),
        (
            RecordType::Soa,
            "ns1.example.test. hostmaster.example.test. 2024010101 3600 600 86400 300",
            "ns1.example.test.",
        ),
        (RecordType::Srv, "10 5 80 www.example.test.", "10  5 80 www.example.test"),
        (RecordType::Caa, "0 issue \"letsencrypt.org\"", "0 issue \"letsencrypt.org\""),
        (RecordType::Caa, "0 issue \"letsencrypt.org\"", "issue letsencrypt.org"),
        (RecordType::Caa, "0 issue \"letsencrypt.org\"", "0 ISSUE \"LetsEncrypt.org\""),
        (RecordType::Ptr, "www.example.test.", "www.example.test"),
    ];
    for (kind, data, expect) in cases {
        let json =
            format!(r#"{{"type": "{}", "expect": [{}], "expect_exactly": true}}"#, kind.mnemonic(), quoted(expect));
        let result = judged(&json, &answer("NOERROR", vec![record(kind, 3600, data)]));
        assert_eq!(result.status, Status::Ok, "{json} against {data:?}: {}", result.summary);
        assert!(
            result.summary.starts_with(&format!("{} www.example.test from ", kind.mnemonic())),
            "{}",
            result.summary
        );
    }
}

/// `text` as a JSON string.
fn quoted(text: &str) -> String {
    vitals_sdk::serde_json::Value::String(text.into()).to_string()
}

#[test]
fn values_that_differ_do_not_match() {
    let cases = [
        (RecordType::A, "192.0.2.1", "192.0.2.10"),
        (RecordType::Aaaa, "2001:db8::1", "2001:db8::2"),
        (RecordType::Cname, "www.example.test.", "www.example.test.evil"),
        (RecordType::Mx, "10 mx1.example.test.", "20 mx1.example.test"),
        (RecordType::Txt, "v=spf1 -all", "V=SPF1 -ALL"),
        (
            RecordType::Soa,
            "ns1.example.test. hostmaster.example.test. 2024010101 3600 600 86400 300",
            "ns1.example.test h.test 1",
        ),
        (RecordType::Srv, "10 5 80 www.example.test.", "10 5 443 www.example.test"),
        (RecordType::Caa, "0 issue \"letsencrypt.org\"", "128 issue letsencrypt.org"),
        (RecordType::Caa, "0 issue \"letsencrypt.org\"", "issuewild letsencrypt.org"),
    ];
    for (kind, data, expect) in cases {
        let json = format!(r#"{{"type": "{}", "expect": [{}]}}"#, kind.mnemonic(), quoted(expect));
        let result = judged(&json, &answer("NOERROR", vec![record(kind, 3600, data)]));
        assert_eq!(result.status, Status::Critical, "{json} against {data:?}");
        assert_eq!(result.reason, Some(Reason::Assertion));
    }
}

#[test]
fn a_missing_value_is_critical_assertion() {
    let result = judged(r#"{"expect": ["192.0.2.1", "192.0.2.9", "192.0.2.8"]}"#, &addresses());
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(
        result.summary,
        "A www.example.test from 127.0.0.1:5353: 192.0.2.1, 192.0.2.2 in 1.2 ms: 192.0.2.9, 192.0.2.8 not in the answer"
    );
    assert_eq!(value(&result, "records"), Some(2.0));
}

#[test]
fn expect_exactly_refuses_other_records() {
    let result = judged(r#"{"expect": ["192.0.2.1"], "expect_exactly": true}"#, &addresses());
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(" in 1.2 ms: 192.0.2.2 not expected"), "{}", result.summary);
    let result =
        judged(r#"{"expect": ["192.0.2.2", "192.0.2.1", " 192.0.2.1"], "expect_exactly": true}"#, &addresses());
    assert_eq!(result.status, Status::Ok, "{}", result.summary);
    // The same value written twice is looked for once.
    let result = judged(r#"{"type": "MX", "expect": ["mx.example.test", "MX.example.test."]}"#, &addresses());
    assert!(result.summary.ends_with("; mx.example.test not in the answer"), "{}", result.summary);
}

#[test]
fn an_unexpected_rcode_is_critical_dns() {
    let result = judged("{}", &answer("SERVFAIL", vec![]));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Dns)));
    assert_eq!(result.summary, "A www.example.test from 127.0.0.1:5353: SERVFAIL (expected NOERROR) in 1.2 ms");
    assert_eq!(value(&result, "records"), Some(0.0));
    assert_eq!(value(&result, "ttl_min"), None);

    let result = judged("{}", &answer("NXDOMAIN", vec![]));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Dns)));
    assert!(result.summary.ends_with(": NXDOMAIN (expected NOERROR) in 1.2 ms"), "{}", result.summary);

    let result = judged(r#"{"expect_rcode": "NXDOMAIN"}"#, &addresses());
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Dns)));
    assert!(
        result.summary.ends_with(": 192.0.2.1, 192.0.2.2 (NOERROR, expected NXDOMAIN) in 1.2 ms"),
        "{}",
        result.summary
    );
}

#[test]
fn an_expected_nxdomain_is_ok() {
    let result = judged(r#"{"expect_rcode": "nxdomain"}"#, &answer("NXDOMAIN", vec![]));
    assert_eq!(result.status, Status::Ok, "{}", result.summary);
    assert_eq!(result.summary, "A www.example.test from 127.0.0.1:5353: NXDOMAIN in 1.2 ms");
    assert_eq!(value(&result, "records"), Some(0.0));
}

#[test]
fn an_empty_answer_is_critical_unless_allowed() {
    let result = judged(r#"{"type": "AAAA"}"#, &answer("NOERROR", vec![]));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(
        result.summary,
        "AAAA www.example.test from 127.0.0.1:5353: no AAAA records in 1.2 ms: expected at least 1"
    );
    let records = result.metrics.iter().find(|m| m.name == "records");
    assert_eq!(records.and_then(|m| m.crit.clone()).as_deref(), Some("1:"));

    let result = judged(r#"{"type": "AAAA", "min_records": 0}"#, &answer("NOERROR", vec![]));
    assert_eq!(result.status, Status::Ok, "{}", result.summary);
    assert!(result.summary.ends_with(": no AAAA records in 1.2 ms"), "{}", result.summary);
}

#[test]
fn record_counts_have_bounds() {
    let result = judged(r#"{"min_records": 3}"#, &addresses());
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(" in 1.2 ms: 2 records, expected at least 3"), "{}", result.summary);

    let result = judged(r#"{"max_records": 1}"#, &addresses());
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(" in 1.2 ms: 2 records, expected at most 1"), "{}", result.summary);
    let records = result.metrics.iter().find(|m| m.name == "records");
    assert_eq!(records.and_then(|m| m.crit.clone()).as_deref(), Some("1:1"));

    let result = judged(r#"{"min_records": 0, "max_records": 4}"#, &addresses());
    assert_eq!(result.status, Status::Ok);
    let records = result.metrics.iter().find(|m| m.name == "records");
    assert_eq!(records.and_then(|m| m.crit.clone()).as_deref(), Some("4"));
}

#[test]
fn only_records_of_the_type_count() {
    let chain = answer(
        "NOERROR",
        vec![
            AnswerRecord {
                name: "alias.example.test.".into(),
                kind: RecordType::Cname,
                ttl: 30,
                data: "www.example.test.".into(),
            },
            record(RecordType::A, 300, "192.0.2.1"),
        ],
    );
    let result = judged(r#"{"expect": ["192.0.2.1"], "expect_exactly": true}"#, &chain);
    assert_eq!(result.status, Status::Ok, "{}", result.summary);
    assert!(result.summary.ends_with(": 192.0.2.1 in 1.2 ms"), "{}", result.summary);
    assert_eq!(value(&result, "records"), Some(1.0));
    assert_eq!(value(&result, "ttl_min"), Some(300.0));
    assert!(result.details.unwrap_or_default().contains("alias.example.test. 30 CNAME www.example.test."));
}

#[test]
fn dnssec_requires_the_ad_flag() {
    let result = judged(r#"{"dnssec": true}"#, &addresses());
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(" in 1.2 ms: not authenticated by DNSSEC (no AD flag)"), "{}", result.summary);
    assert_eq!(value(&result, "dnssec_authenticated"), Some(0.0));

    let mut signed = addresses();
    signed.authenticated = true;
    let result = judged(r#"{"dnssec": true}"#, &signed);
    assert_eq!(result.status, Status::Ok, "{}", result.summary);
    assert_eq!(value(&result, "dnssec_authenticated"), Some(1.0));
    assert!(result.details.unwrap_or_default().contains("flags: aa ad"));
}

#[test]
fn authoritative_requires_the_aa_flag() {
    let mut cached = addresses();
    cached.authoritative = false;
    let result = judged(r#"{"authoritative": true}"#, &cached);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(" in 1.2 ms: not authoritative (no AA flag)"), "{}", result.summary);
    assert!(result.details.unwrap_or_default().contains("flags: none"));
    assert_eq!(judged(r#"{"authoritative": true}"#, &addresses()).status, Status::Ok);
    assert_eq!(judged("{}", &cached).status, Status::Ok);
}

#[test]
fn several_problems_are_all_named() {
    let mut cached = addresses();
    cached.authoritative = false;
    let result = judged(r#"{"authoritative": true, "expect": ["192.0.2.9"], "max_records": 1}"#, &cached);
    assert!(
        result
            .summary
            .ends_with(": not authoritative (no AA flag); 2 records, expected at most 1; 192.0.2.9 not in the answer"),
        "{}",
        result.summary
    );
}

#[test]
fn response_time_thresholds() {
    let cfg = r#"{"warn_time": "1ms", "crit_time": "10ms"}"#;
    let result = judged(cfg, &addresses());
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(" in 1.2 ms: slower than warn_time 1.0 ms"), "{}", result.summary);
    let time = result.metrics.iter().find(|m| m.name == "time_query");
    assert_eq!(time.and_then(|m| m.warn.clone()).as_deref(), Some("1"));
    assert_eq!(time.and_then(|m| m.crit.clone()).as_deref(), Some("10"));

    let mut slow = addresses();
    slow.time_us = 12_000;
    let result = judged(cfg, &slow);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(" in 12.0 ms: slower than crit_time 10.0 ms"), "{}", result.summary);

    let mut fast = addresses();
    fast.time_us = 300;
    assert_eq!(judged(cfg, &fast).status, Status::Ok);
}

#[test]
fn long_answers_are_bounded_and_cleaned() {
    let many = (1..=20).map(|i| record(RecordType::A, 60, &format!("192.0.2.{i}"))).collect();
    let result = judged("{}", &answer("NOERROR", many));
    assert!(
        result.summary.ends_with(": 192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5 and 15 more in 1.2 ms"),
        "{}",
        result.summary
    );
    assert_eq!(value(&result, "records"), Some(20.0));

    let hostile = answer("NOERROR", vec![record(RecordType::Txt, 60, &format!("a\x1b[31m\nb{}", "x".repeat(500)))]);
    let result = judged(r#"{"type": "TXT"}"#, &hostile);
    assert!(!result.summary.contains(['\x1b', '\n']), "{}", result.summary);
    assert!(result.summary.chars().count() < 200, "{}", result.summary);
    let mut odd = answer("NOERROR\u{7}", vec![]);
    odd.server = "127.0.0.1:5353\n\x1b".into();
    let result = judged("{}", &odd);
    assert!(!result.summary.contains(['\x1b', '\n', '\u{7}']), "{}", result.summary);
}

#[test]
fn the_system_resolver_is_named_by_the_server_that_answered() {
    let config = config("{}");
    let system = Target { server: None, name: "www.example.test.".into() };
    let mut answered = addresses();
    answered.server = "127.0.0.53:53".into();
    let result = judge(&config, &[], &system, &answered);
    assert_eq!(result.summary, "A www.example.test from 127.0.0.53:53: 192.0.2.1, 192.0.2.2 in 1.2 ms");
}

#[test]
fn run_refuses_a_bad_target_or_config_before_asking() {
    let run = |target: &str, config: &str| {
        Dns::run(CheckRequest { name: "c".into(), target: target.into(), config: config.into(), deadline_ms: 5_000 })
    };
    let result = run("www.example.test:53", "{}");
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert!(result.summary.starts_with("invalid target \"www.example.test:53\": not a DNS URI"), "{}", result.summary);
    let result = run("dns:www.example.test", r#"{"expect_exactly": true}"#);
    assert_eq!(result.summary, "invalid config: expect_exactly: needs expect, the values the answer must hold exactly");
    // A good check reaches the host, which a native build does not have.
    let result = run("dns://127.0.0.1:5353/www.example.test", r#"{"type": "MX"}"#);
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert!(
        result.summary.starts_with("DNS query MX www.example.test to 127.0.0.1:5353 failed: no host: "),
        "{}",
        result.summary
    );
    let result = run("dns:www.example.test", "{}");
    assert!(
        result.summary.starts_with("DNS query A www.example.test to the system's resolver failed: "),
        "{}",
        result.summary
    );
}

#[test]
fn describe_lists_every_key() {
    let description = Dns::describe();
    assert_eq!(description.name, "dns");
    assert_eq!(description.version, "0.1.0");
    let keys: Vec<(&str, Option<&str>)> =
        description.config.iter().map(|k| (k.name.as_str(), k.default.as_deref())).collect();
    assert_eq!(
        keys,
        [
            ("type", Some("\"A\"")),
            ("expect", None),
            ("expect_exactly", Some("false")),
            ("min_records", None),
            ("max_records", None),
            ("expect_rcode", Some("\"NOERROR\"")),
            ("tcp", Some("false")),
            ("dnssec", Some("false")),
            ("authoritative", Some("false")),
            ("warn_time", None),
            ("crit_time", None),
        ]
    );
    assert!(description.config.iter().all(|k| !k.doc.is_empty() && !k.required));
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Dns::validate(r#"{"type": "BOGUS", "expect_rcode": "FINE"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("type"), Some("expect_rcode")]);
    let problems =
        Dns::validate(r#"{"type": "MX", "expect": ["ten mx.example.test"], "min_records": 2, "max_records": 1}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("expect"), Some("min_records")]);
    assert_eq!(Dns::validate(r#"{"type": "MX", "expect": ["10 mx.example.test"], "expect_exactly": true}"#), []);
}

// The refusals of cases.toml, run natively through `Dns::run`; `vitals plugin test`
// replays the same file in the real sandbox. (Answers cannot be replayed: the case
// format has no DNS, so the judging of answers is tested above on plain values.)
vitals_sdk::test_cases!(Dns, "cases.toml");
