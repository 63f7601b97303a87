//! The kit through its public API, with small checks defined here.

use crate::http::{self, Request};
use crate::tcp;
use crate::testing::{CaseFile, run_case, run_cases};
use crate::{Check, CheckRequest, CheckResult, Description, Reason, critical, description, net_failure, ok, warning};

fn cases(text: &str) -> CaseFile {
    match CaseFile::parse(text) {
        Ok(file) => file,
        Err(err) => panic!("{err}"),
    }
}

/// Says what it was asked: name, target, config and deadline.
struct Echo;

impl Check for Echo {
    fn describe() -> Description {
        description("echo", "0.1.0", "Says its request.", vec![])
    }
    fn run(request: CheckRequest) -> CheckResult {
        // An `ok` with a reason: the host drops the reason, and so does the kit.
        let mut result = ok(format!("{} {} {} {}", request.name, request.target, request.config, request.deadline_ms));
        result.reason = Some(Reason::Assertion);
        result
    }
}

/// One GET of the target; a 200 is ok, a slow one warns.
struct Get;

impl Check for Get {
    fn describe() -> Description {
        description("get", "0.1.0", "GETs the target.", vec![])
    }
    fn run(request: CheckRequest) -> CheckResult {
        let get = Request {
            method: "GET".into(),
            url: request.target.clone(),
            headers: Vec::new(),
            body: None,
            timeout_ms: Some(request.deadline_ms),
            max_redirects: 0,
            tls_verify: true,
            max_body_bytes: 4,
        };
        match http::send(&get) {
            Ok(r) if r.status != 200 => critical(format!("HTTP {}", r.status), Reason::HttpStatus),
            Ok(r) if r.timings.total_us > 1_000_000 => warning("slow", Reason::Assertion),
            Ok(r) => ok(format!("{} {:?} {} {}", r.status, String::from_utf8_lossy(&r.body), r.body_size, r.truncated))
                .with_metric(crate::metric("time_total", crate::us_to_ms(r.timings.total_us), "ms")),
            Err(err) => net_failure(&format!("GET {}", request.target), &err),
        }
    }
}

/// SMTP with STARTTLS: banner, EHLO, STARTTLS, upgrade.
struct Smtp;

impl Check for Smtp {
    fn describe() -> Description {
        description("smtp", "0.1.0", "STARTTLS.", vec![])
    }
    fn run(_: CheckRequest) -> CheckResult {
        let step = || -> Result<String, crate::NetError> {
            let (c, timings) = tcp::connect("mail.test", 25, 1_000)?;
            let banner = c.receive(100, 1_000)?;
            c.send(b"EHLO x\r\n", 1_000)?;
            c.receive(100, 1_000)?;
            let tls = c.upgrade_tls(None, true, 1_000)?;
            Ok(format!(
                "{} via {} connect {:?} tls {tls}",
                String::from_utf8_lossy(&banner).trim(),
                c.remote_addr(),
                timings.connect_us
            ))
        };
        match step() {
            Ok(summary) => ok(summary),
            Err(err) => net_failure("smtp", &err),
        }
    }
}

/// Panics.
struct Panics;

impl Check for Panics {
    fn describe() -> Description {
        description("panics", "0.1.0", "Panics.", vec![])
    }
    fn run(request: CheckRequest) -> CheckResult {
        panic!("no config for {}", request.name)
    }
}

#[test]
fn the_request_carries_name_target_config_and_deadline() {
    let file = cases(
        r#"
[[case]]
name = "default deadline"
target = "t:1"
config = { a = 1 }
expect = { status = "ok", summary = '^default deadline t:1 \{"a":1\} 10000$' }

[[case]]
name = "timeout"
target = "t:1"
timeout = "1.5s"
expect = { status = "ok", summary = '1500$' }
"#,
    );
    for case in &file.cases {
        assert!(run_case::<Echo>(case).is_ok(), "{}: {:?}", case.name, run_case::<Echo>(case));
    }
}

#[test]
fn an_ok_result_carries_no_reason() {
    let file = cases("[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\", reason = \"assertion\" }\n");
    assert_eq!(run_case::<Echo>(&file.cases[0]).unwrap_err(), ["reason: expected assertion, got none"]);
}

#[test]
fn http_answers_come_from_the_case_converted() {
    let file = cases(
        r#"
[[case]]
name = "truncated"
target = "http://a.test/"
expect = { status = "ok", summary = '^200 "chun" 7 true$', metrics = { time_total = 2.5 } }
http = [{ body = "chunked", timings = { connect = "500us", first_byte = "2ms" } }]

[[case]]
name = "refused"
target = "http://a.test/"
expect = { status = "critical", reason = "connect", summary = "^GET http://a.test/ failed: refused$" }
http = [{ error = { kind = "connect", message = "refused" } }]
"#,
    );
    for case in &file.cases {
        if let Err(misses) = run_case::<Get>(case) {
            panic!("{}: {misses:?}", case.name);
        }
    }
}

#[test]
fn tcp_exchanges_play_out_with_tls() {
    let file = cases(
        r#"
[[case]]
name = "starttls"
target = "mail.test:25"
expect = { status = "ok", summary = '^220 hi via 192\.0\.2\.1:25 connect Some\(300\) tls 2000$' }
[[case.tcp]]
host = "mail.test"
port = 25
timings = { connect = "300us" }
script = [{ receive = "220 hi\r\n" }, { send = "EHLO x\r\n" }, { receive = "250 ok\r\n" }, { tls = "2ms" }]

[[case]]
name = "sends the wrong greeting"
target = "mail.test:25"
expect = { status = "ok" }
[[case.tcp]]
script = [{ receive = "220 hi\r\n" }, { send = "HELO x\r\n" }, { receive = "250 ok\r\n" }, { tls = "2ms" }]
"#,
    );
    assert!(run_case::<Smtp>(&file.cases[0]).is_ok(), "{:?}", run_case::<Smtp>(&file.cases[0]));
    let misses = run_case::<Smtp>(&file.cases[1]).unwrap_err();
    assert_eq!(misses.len(), 1, "{misses:?}");
    assert!(misses[0].starts_with("replay: connection 1: the plugin sent \"EHLO x\\r\\n\""), "{misses:?}");
}

#[test]
fn a_panic_becomes_an_unknown_plugin_error() {
    let file = cases(
        "[[case]]\nname = \"p\"\ntarget = \"t\"\n\
         expect = { status = \"unknown\", reason = \"plugin-error\", summary = \"^plugin panicked: no config for p$\" }\n",
    );
    assert!(run_case::<Panics>(&file.cases[0]).is_ok());
}

#[test]
fn a_case_that_cannot_run_says_why() {
    let file = cases("[[case]]\nname = \"a\"\ntarget = \"t\"\ntimeout = \"soon\"\nexpect = { status = \"ok\" }\n");
    let misses = run_case::<Echo>(&file.cases[0]).unwrap_err();
    assert_eq!(misses.len(), 1);
    assert!(misses[0].starts_with("timeout \"soon\": "), "{misses:?}");
}

#[test]
fn outside_a_case_host_calls_fail_instead_of_aborting() {
    let get = Request {
        method: "GET".into(),
        url: "http://a.test/".into(),
        headers: Vec::new(),
        body: None,
        timeout_ms: None,
        max_redirects: 0,
        tls_verify: true,
        max_body_bytes: 0,
    };
    let err = http::send(&get).unwrap_err();
    assert!(err.message().starts_with("no host: http::send was called outside a test case"), "{err:?}");
    assert_eq!(net_failure("GET", &err).reason, Some(Reason::PluginError));
    assert!(tcp::connect("a.test", 1, 1).is_err());
}

#[test]
fn run_cases_reports_every_failing_case_at_once() {
    let path = std::env::temp_dir().join(format!("vitals-sdk-kit-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        r#"
[[case]]
name = "passes"
target = "http://a.test/"
expect = { status = "ok" }
http = [{}]

[[case]]
name = "wrong status"
target = "http://a.test/"
expect = { status = "ok" }
http = [{ status = 503 }]

[[case]]
name = "never asked"
target = "http://a.test/"
expect = { status = "critical", reason = "http-status" }
http = [{ status = 500 }, { status = 500 }]
"#,
    )
    .unwrap();
    let panic = std::panic::catch_unwind(|| run_cases::<Get>(&path)).unwrap_err();
    std::fs::remove_file(&path).ok();
    let report = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(report.starts_with(&format!("2 of 3 cases in {} failed:", path.display())), "{report}");
    assert!(!report.contains("`passes`"), "{report}");
    assert!(
        report.contains("case `wrong status`:\n  - status: expected ok, got critical (\"HTTP 503\")\n"),
        "{report}"
    );
    assert!(report.contains("  - the result was: critical (http-status) \"HTTP 503\" []\n"), "{report}");
    assert!(
        report.contains("case `never asked`:\n  - replay: the plugin sent 1 HTTP request(s); the case answers 2\n"),
        "{report}"
    );
}

#[test]
fn run_cases_fails_on_a_file_it_cannot_use() {
    let missing = std::panic::catch_unwind(|| run_cases::<Echo>("/nonexistent/cases.toml")).unwrap_err();
    let text = missing.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.starts_with("cannot read the cases file /nonexistent/cases.toml: "), "{text}");

    let path = std::env::temp_dir().join(format!("vitals-sdk-empty-{}.toml", std::process::id()));
    std::fs::write(&path, "# nothing yet\n").unwrap();
    let empty = std::panic::catch_unwind(|| run_cases::<Echo>(&path)).unwrap_err();
    std::fs::remove_file(&path).ok();
    let text = empty.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.ends_with("has no [[case]]: nothing was tested"), "{text}");
}

/// Reads a banner line, then a 4-byte length-prefixed frame, through `tcp::Stream`.
struct Framed;

impl Check for Framed {
    fn describe() -> Description {
        description("framed", "0.1.0", "Lines and frames.", vec![])
    }
    fn run(request: CheckRequest) -> CheckResult {
        let step = || -> Result<String, crate::NetError> {
            let (c, _) = tcp::connect("svc.test", 7, 1_000)?;
            let mut stream = tcp::Stream::new(&c, crate::Deadline::from_ms(request.deadline_ms), 64);
            let banner = stream.read_line(16)?;
            stream.send(b"GO\r\n")?;
            let len = stream.read_exact(1)?[0] as usize;
            let frame = stream.read_exact(len)?;
            Ok(format!(
                "{} {} ({} received)",
                String::from_utf8_lossy(&banner),
                String::from_utf8_lossy(&frame),
                stream.received()
            ))
        };
        match step() {
            Ok(summary) => ok(summary),
            Err(err) => net_failure("svc", &err),
        }
    }
}

#[test]
fn a_stream_joins_pieces_into_lines_and_frames_and_says_when_the_peer_fails_it() {
    let file = cases(
        r#"
        [[case]]
        name = "pieces"
        target = "svc.test:7"
        expect = { status = "ok", summary = '^hello world \(13 received\)$' }
        [[case.tcp]]
        script = [{ receive = "hel" }, { receive = "lo\r\n\u0005wo" }, { send = "GO\r\n" }, { receive = "rld" }]

        [[case]]
        name = "closed early"
        target = "svc.test:7"
        expect = { status = "critical", reason = "protocol", summary = 'closed the connection after 3 B while a line was expected' }
        [[case.tcp]]
        script = [{ receive = "hel" }]

        [[case]]
        name = "endless line"
        target = "svc.test:7"
        expect = { status = "critical", reason = "protocol", summary = 'a line longer than 16 bytes' }
        [[case.tcp]]
        script = [{ receive = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }]
        "#,
    );
    for case in &file.cases {
        let outcome = run_case::<Framed>(case);
        assert!(outcome.is_ok(), "{}: {outcome:?}", case.name);
    }
}
