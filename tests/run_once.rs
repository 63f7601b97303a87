//! `vitals run --once` end to end: the built-in http and tcp plugins against servers on
//! 127.0.0.1, every status path of both, exit codes, JSON output and the store.

mod support;

use support::{Sandbox, metric, result, servers};

fn http_check(name: &str, url: &str, extra: &str) -> String {
    let timeout = if extra.contains("timeout =") { "" } else { "timeout = \"2s\"\n" };
    format!("[[check]]\nname = \"{name}\"\nplugin = \"http\"\ntarget = \"{url}\"\n{timeout}{extra}\n")
}

fn tcp_check(name: &str, target: &str, extra: &str) -> String {
    format!("[[check]]\nname = \"{name}\"\nplugin = \"tcp\"\ntarget = \"{target}\"\ntimeout = \"1s\"\n{extra}\n")
}

#[test]
fn http_statuses_assertions_and_timings_each_take_their_path() {
    let web = servers::http();
    let other = servers::http();
    let base = format!("http://{web}");
    let mut config = String::new();
    config += &http_check("ok", &format!("{base}/ok"), "[check.config]\nbody_contains = \"OK\"");
    config += &http_check("server-error", &format!("{base}/fail"), "");
    config += &http_check("expected-500", &format!("{base}/fail"), "[check.config]\nexpect_status = \"500\"");
    config += &http_check("slow", &format!("{base}/slow"), "timeout = \"1s\"");
    config += &http_check("huge", &format!("{base}/huge"), "[check.config]\nmax_body = 1024");
    config += &http_check("redirect-followed", &format!("{base}/redirect-here"), "");
    config += &http_check(
        "redirect-not-followed",
        &format!("{base}/redirect-here"),
        "[check.config]\nmax_redirects = 0\nexpect_status = \"200\"",
    );
    config += &http_check("redirect-denied", &format!("{base}/redirect-away?to={}", other.port()), "");
    config += &http_check("body-missing", &format!("{base}/ok"), "[check.config]\nbody_contains = \"nope\"");
    config += &http_check("regex", &format!("{base}/json"), "[check.config]\nbody_regex = '\"version\":\"1\\.\\d+'");
    config += &http_check("regex-miss", &format!("{base}/json"), "[check.config]\nbody_regex = '\"status\":\"red\"'");
    config += &http_check(
        "header",
        &format!("{base}/json"),
        "[check.config]\nheader_equals = { x-service = \"vitals-test\" }",
    );
    config += &http_check(
        "header-miss",
        &format!("{base}/json"),
        "[check.config]\nheader_equals = { x-service = \"other\" }",
    );
    config += &http_check("slow-warn", &format!("{base}/ok"), "[check.config]\nwarn_time = \"1us\"");
    config +=
        &http_check("slow-crit", &format!("{base}/ok"), "[check.config]\nwarn_time = \"1us\"\ncrit_time = \"2us\"");
    config += &http_check("closed", &format!("http://127.0.0.1:{}/", servers::closed_port()), "");
    let sandbox = Sandbox::new(&config);
    let (code, results, stderr) = sandbox.run_json(&[]);
    assert_eq!(code, 3, "worst status is unknown (the denied redirect): {stderr}");
    let expect = |name: &str, status: &str, reason: Option<&str>| {
        let r = result(&results, name);
        assert_eq!(r["status"], status, "{name}: {r:#}");
        match reason {
            Some(reason) => assert_eq!(r["reason"], reason, "{name}: {r:#}"),
            None => assert!(r["reason"].is_null(), "{name}: {r:#}"),
        }
        r.clone()
    };
    let ok = expect("ok", "ok", None);
    assert!(ok["summary"].as_str().unwrap().contains("200"), "{ok:#}");
    assert!(metric(&ok, "time_total").is_some_and(|t| t > 0.0), "{ok:#}");
    assert!(metric(&ok, "time_connect").is_some(), "{ok:#}");
    assert!(metric(&ok, "time_first_byte").is_some(), "{ok:#}");
    assert_eq!(metric(&ok, "status_code"), Some(200.0));
    assert!(ok["duration_ms"].as_f64().is_some_and(|d| d > 0.0));

    let err = expect("server-error", "critical", Some("http-status"));
    assert!(err["summary"].as_str().unwrap().contains("500"), "{err:#}");
    expect("expected-500", "ok", None);
    let slow = expect("slow", "critical", Some("timeout"));
    assert!(slow["duration_ms"].as_f64().unwrap() < 2500.0, "the deadline cut the slow response: {slow:#}");
    let huge = expect("huge", "ok", None);
    assert_eq!(metric(&huge, "body_size"), Some(servers::HUGE_BODY as f64), "{huge:#}");
    let followed = expect("redirect-followed", "ok", None);
    assert_eq!(metric(&followed, "redirects"), Some(1.0), "{followed:#}");
    expect("redirect-not-followed", "critical", Some("http-status"));
    let denied = expect("redirect-denied", "unknown", Some("denied"));
    assert!(
        denied["summary"].as_str().unwrap().contains(&other.port().to_string()),
        "names the refused hop: {denied:#}"
    );
    expect("body-missing", "critical", Some("assertion"));
    expect("regex", "ok", None);
    expect("regex-miss", "critical", Some("assertion"));
    expect("header", "ok", None);
    expect("header-miss", "critical", Some("assertion"));
    expect("slow-warn", "warning", Some("assertion"));
    expect("slow-crit", "critical", Some("assertion"));
    expect("closed", "critical", Some("connect"));
}

#[test]
fn tcp_connects_banners_and_failures_each_take_their_path() {
    let ssh = servers::banner("SSH-2.0-VitalsTest\r\n");
    let smtp = servers::banner("220 mail.test ESMTP\r\n");
    let silent = servers::silent();
    let mut config = String::new();
    config += &tcp_check("connect", &ssh.to_string(), "");
    config += &tcp_check("ssh-banner", &ssh.to_string(), "[check.config]\nexpect = \"SSH-2.0\"");
    config += &tcp_check(
        "smtp-send",
        &smtp.to_string(),
        "[check.config]\nsend = \"EHLO vitals\\r\\n\"\nexpect = \"EHLO vitals\"",
    );
    config += &tcp_check("wrong-banner", &ssh.to_string(), "[check.config]\nexpect = \"220\"");
    config += &tcp_check("silent", &silent.to_string(), "[check.config]\nexpect = \"SSH-\"");
    config += &tcp_check("closed", &format!("127.0.0.1:{}", servers::closed_port()), "");
    config += &tcp_check("slow-connect", &ssh.to_string(), "[check.config]\nwarn_time = \"1us\"");
    let sandbox = Sandbox::new(&config);
    let (code, results, stderr) = sandbox.run_json(&[]);
    assert_eq!(code, 2, "{stderr}");
    let status = |name: &str| result(&results, name)["status"].as_str().unwrap_or("").to_string();
    let reason = |name: &str| result(&results, name)["reason"].as_str().unwrap_or("").to_string();
    assert_eq!(status("connect"), "ok");
    assert!(metric(result(&results, "connect"), "time_connect").is_some());
    assert_eq!(status("ssh-banner"), "ok");
    assert!(result(&results, "ssh-banner")["summary"].as_str().unwrap().contains("SSH-2.0-VitalsTest"));
    assert_eq!(status("smtp-send"), "ok");
    assert_eq!((status("wrong-banner"), reason("wrong-banner")), ("critical".into(), "assertion".into()));
    assert_eq!((status("silent"), reason("silent")), ("critical".into(), "timeout".into()));
    // Cut off by its 1 s timeout rather than left hanging (a generous bound: a loaded
    // machine, e.g. another test binary's CPU-looping plugins, can delay the result).
    assert!(result(&results, "silent")["duration_ms"].as_f64().unwrap() < 10_000.0);
    assert_eq!((status("closed"), reason("closed")), ("critical".into(), "connect".into()));
    assert_eq!((status("slow-connect"), reason("slow-connect")), ("warning".into(), "assertion".into()));
}

#[test]
fn exit_code_is_the_worst_status_and_tags_select_checks() {
    let web = servers::http();
    let config = http_check("good", &format!("http://{web}/ok"), "tags = [\"good\"]")
        + &http_check("warn", &format!("http://{web}/ok"), "tags = [\"warn\"]\n[check.config]\nwarn_time = \"1us\"");
    let sandbox = Sandbox::new(&config);
    let (code, results, _) = sandbox.run_json(&["--tag", "good"]);
    assert_eq!((code, results.len()), (0, 1));
    let (code, results, _) = sandbox.run_json(&["--tag", "warn"]);
    assert_eq!((code, results.len()), (1, 1));
    let (code, results, _) = sandbox.run_json(&[]);
    assert_eq!((code, results.len()), (1, 2));
}

#[test]
fn every_result_is_stored_with_its_metrics_in_one_run() {
    let web = servers::http();
    let config = http_check("a", &format!("http://{web}/ok"), "") + &http_check("b", &format!("http://{web}/fail"), "");
    let sandbox = Sandbox::new(&config);
    sandbox.run_json(&[]);
    sandbox.run_json(&[]);
    let db = rusqlite::Connection::open(sandbox.db()).unwrap();
    let runs: i64 = db.query_row("SELECT count(*) FROM runs", [], |r| r.get(0)).unwrap();
    let results: i64 = db.query_row("SELECT count(*) FROM results", [], |r| r.get(0)).unwrap();
    let (status, reason, plugin): (String, String, String) = db
        .query_row("SELECT status, reason, plugin FROM results WHERE check_name = 'b' LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let metrics: i64 = db
        .query_row("SELECT sum(json_array_length(metrics)) FROM results WHERE check_name = 'a'", [], |r| r.get(0))
        .unwrap();
    assert_eq!((runs, results), (2, 4));
    assert_eq!((status.as_str(), reason.as_str(), plugin.as_str()), ("critical", "http-status", "http"));
    assert!(metrics >= 8, "two runs of a with at least 4 metrics each, got {metrics}");
}

#[test]
fn the_table_shows_every_check_and_a_count() {
    let web = servers::http();
    let sandbox = Sandbox::new(&http_check("home", &format!("http://{web}/ok"), ""));
    let out = sandbox.vitals(&["run", "--once"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("STATUS"), "{text}");
    assert!(text.contains("OK") && text.contains("home"), "{text}");
    assert!(text.contains("1 check: 1 ok"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour codes when stdout is not a terminal: {text:?}");
}

/// The host validates a plugin's duration keys with the same grammar the plugin parses
/// them with (vitals-units), so what `validate` accepts runs; before, "1h30m" passed
/// validate and every run was UNKNOWN.
#[test]
fn compound_and_day_durations_pass_validate_and_run_as_written() {
    let web = servers::http();
    let base = format!("http://{web}");
    let mut config = String::new();
    for (name, warn) in [("hour-and-a-half", "1h30m"), ("a-day", "1d"), ("two-and-a-half-minutes", "2m30s")] {
        config += &http_check(name, &format!("{base}/ok"), &format!("[check.config]\nwarn_time = \"{warn}\""));
    }
    // Over the threshold, written compound: the plugin must read "1us500ns" as 1.5 µs.
    config += &http_check("over", &format!("{base}/ok"), "[check.config]\nwarn_time = \"1us500ns\"");
    let sandbox = Sandbox::new(&config);
    let validate = sandbox.vitals(&["validate"]);
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stderr));
    let (code, results, stderr) = sandbox.run_json(&[]);
    assert_eq!(code, 1, "the worst is the warning of `over`: {stderr}");
    for name in ["hour-and-a-half", "a-day", "two-and-a-half-minutes"] {
        let r = result(&results, name);
        assert_eq!(r["status"], "ok", "{name}: {r:#}");
    }
    let over = result(&results, "over");
    assert_eq!(over["status"], "warning", "{over:#}");
    assert!(over["summary"].as_str().unwrap_or_default().contains("slower than warn_time"), "{over:#}");
}

/// A duration no grammar reads is refused by `validate` at its line and column, before
/// any run, instead of making every run UNKNOWN.
#[test]
fn a_duration_the_plugin_cannot_read_is_a_config_error_with_its_position() {
    let web = servers::http();
    let config = http_check("web", &format!("http://{web}/ok"), "[check.config]\nwarn_time = \"1h30\"");
    let sandbox = Sandbox::new(&config);
    let out = sandbox.vitals(&["validate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("checks.toml:7:13"), "{stderr}");
    assert!(stderr.contains("'30' has no unit"), "{stderr}");
}

/// stdout as a pipe whose reader is already gone: every write fails with EPIPE.
fn closed_pipe() -> std::process::Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe fills two descriptors; the read end is closed at once and the write
    // end is handed to the child, which owns it from then on.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe");
        libc::close(fds[0]);
        std::os::fd::FromRawFd::from_raw_fd(fds[1])
    }
}

/// `vitals check web | head -1` and the like: a reader that goes away ends every command
/// quietly with the exit code it would have had, never a panic (exit 101).
#[test]
fn a_closed_stdout_ends_each_command_quietly_with_its_own_exit_code() {
    let web = servers::http();
    let config = http_check("web", &format!("http://{web}/ok"), "")
        + &http_check("down", &format!("http://127.0.0.1:{}/", servers::closed_port()), "");
    let sandbox = Sandbox::new(&config);
    let cases: [(&[&str], i32); 6] = [
        (&["check", "web"], 0),
        (&["check", "down"], 2),
        (&["validate"], 0),
        (&["plugin", "inspect", "http"], 0),
        (&["run", "--once"], 2),
        (&["report", "--since", "1h"], 0),
    ];
    for (args, code) in cases {
        let out = support::vitals()
            .arg("--config")
            .arg(sandbox.config())
            .args(args)
            .stdout(closed_pipe())
            .output()
            .expect("run vitals");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("failed printing"), "{args:?}: {stderr}");
    }
}

#[test]
fn store_check_says_ok_for_a_sound_database_and_exits_74_naming_a_damaged_one() {
    let web = servers::http();
    let mut config = String::new();
    for i in 0..40 {
        config += &http_check(&format!("web{i}"), &format!("http://{web}/ok"), "");
    }
    let sandbox = Sandbox::new(&config);
    for _ in 0..3 {
        let (code, _, stderr) = sandbox.run_json(&[]);
        assert_eq!(code, 0, "{stderr}");
    }
    let sound = sandbox.vitals(&["store", "check"]);
    assert_eq!(sound.status.code(), Some(0), "{}", String::from_utf8_lossy(&sound.stderr));
    assert!(String::from_utf8_lossy(&sound.stdout).ends_with(": ok\n"));
    // Fold the WAL in, then scribble over the pages after the schema's.
    let conn = rusqlite::Connection::open(sandbox.db()).expect("db");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").expect("checkpoint");
    drop(conn);
    let mut bytes = std::fs::read(sandbox.db()).expect("read db");
    let page = 16 * 1024;
    assert!(bytes.len() > 4 * page, "the database has pages to damage: {}", bytes.len());
    let end = bytes.len() - 100;
    bytes[2 * page + 100..end].fill(0x5a);
    std::fs::write(sandbox.db(), bytes).expect("write db");
    let damaged = sandbox.vitals(&["store", "check"]);
    let stderr = String::from_utf8_lossy(&damaged.stderr);
    assert_eq!(damaged.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains(&sandbox.db().display().to_string()), "names the file: {stderr}");
}
