//! The plugin author's kit, end to end: `vitals plugin run` against local servers,
//! `vitals plugin test` replaying cases in the real sandbox (TAP, JUnit, exit codes,
//! grants enforced on replayed calls) and recording them, and `vitals validate` refusing
//! what a run would refuse, at the line and column.

mod support;

use std::path::Path;

use support::{servers, vitals};

fn text(out: &std::process::Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn write(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn plugin_run_prints_the_nagios_line_and_exits_by_status() {
    let addr = servers::http();
    let ok = vitals().args(["plugin", "run", "http", "--target", &format!("http://{addr}/ok")]).output().unwrap();
    let (stdout, stderr) = text(&ok);
    assert_eq!(ok.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("HTTP OK - 200 OK in "), "{stdout}");
    assert!(stdout.contains("| time_total="), "{stdout}");

    // `--config KEY=VALUE` after `plugin run` is the check's config; values are TOML when
    // they parse as TOML.
    let out = vitals()
        .args(["plugin", "run", "http", "--target", &format!("http://{addr}/json")])
        .args(["--config", "body_contains=\"version\"", "--config", "header_equals={ x-service = \"other\" }"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.starts_with("HTTP CRITICAL - "), "{stdout}");
    assert!(stdout.contains("x-service"), "{stdout}");

    let out = vitals()
        .args(["plugin", "run", "http", "--target", &format!("http://{addr}/fail"), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], "critical");
    assert_eq!(result["reason"], "http-status");
    assert_eq!(support::metric(&result, "status_code"), Some(500.0));

    // A config `vitals validate` would refuse is refused here, with the same words.
    let out = vitals()
        .args(["plugin", "run", "http", "--target", &format!("http://{addr}/ok"), "--config", "max_redirects=\"5\""])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(78), "{stdout}{stderr}");
    assert!(stderr.contains("`max_redirects` must be an integer"), "{stderr}");
    assert!(stderr.contains("write `max_redirects = 5`"), "{stderr}");

    let out = vitals().args(["plugin", "run", "http", "--target", "x", "--config", "oops"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{:?}", text(&out));
    let out = vitals().args(["plugin", "run", "/nonexistent/p.wasm", "--target", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(65), "{:?}", text(&out));
}

const CASES: &str = r#"# cases for the built-in http plugin
[[case]]
name = "healthy"
target = "http://api.test/health"
config = { body_contains = "up", warn_time = "50ms" }
[case.expect]
status = "ok"
summary = "^200 OK in 12"
metrics = { status_code = 200, time_total = "0:50" }
[[case.http]]
method = "GET"
url = "http://api.test/health"
status = 200
body = "all up"
timings = { connect = "1ms", first_byte = "10ms", total = "12ms" }

[[case]]
name = "slow is a warning"
target = "http://api.test/health"
config = { warn_time = "50ms" }
expect = { status = "warning", reason = "assertion", summary = "slower than warn_time" }
[[case.http]]
status = 200
timings = { total = "80ms" }

[[case]]
name = "expects ok but the service is down"
target = "http://api.test/health"
expect = { status = "ok" }
[[case.http]]
status = 503

[[case]]
name = "a refused connection"
target = "https://api.test/"
expect = { status = "critical", reason = "connect" }
[[case.http]]
error = { kind = "connect", message = "connection refused" }
"#;

#[test]
fn plugin_test_replays_cases_in_the_sandbox_as_tap_and_junit() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write(dir.path(), "cases.toml", CASES);
    let out = vitals().args(["plugin", "test", "http", "--cases"]).arg(&cases).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "one case fails on purpose:\n{stdout}{stderr}");
    assert!(stdout.starts_with("TAP version 14\n1..4\n"), "{stdout}");
    assert!(stdout.contains("ok 1 - healthy\n"), "{stdout}");
    assert!(stdout.contains("ok 2 - slow is a warning\n"), "{stdout}");
    assert!(stdout.contains("not ok 3 - expects ok but the service is down\n"), "{stdout}");
    assert!(stdout.contains("message: \"status: expected ok, got critical"), "{stdout}");
    assert!(stdout.contains("ok 4 - a refused connection\n"), "{stdout}");
    assert!(stdout.contains("# 3 passed, 1 failed"), "{stdout}");

    let out = vitals().args(["plugin", "test", "http", "--format", "junit", "--cases"]).arg(&cases).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 4, "{xml}");
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap_or_default())
        .collect();
    assert_eq!(failed, ["expects ok but the service is down"], "{xml}");

    // Only the passing ones: exit 0.
    let out = vitals()
        .args(["plugin", "test", "http", "--filter", "a", "--cases"])
        .arg(dir.path().join("cases.toml"))
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(stdout.contains("1..3"), "{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}

#[test]
fn a_replayed_call_is_refused_without_a_grant_and_mismatches_fail_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = support::hostile_plugin();
    let cases = write(
        dir.path(),
        "cases.toml",
        r#"
[[case]]
name = "not granted"
target = "http://api.test/"
config = { mode = "http", url = "http://elsewhere.test/" }
expect = { status = "unknown", reason = "denied", summary = "not granted" }
[[case.http]]
status = 200

[[case]]
name = "granted by allow"
target = "http://api.test/"
allow = ["elsewhere.test:80"]
config = { mode = "http", url = "http://elsewhere.test/" }
expect = { status = "ok", summary = "got 204" }
[[case.http]]
url = "http://elsewhere.test/"
status = 204
"#,
    );
    let out = vitals().args(["plugin", "test"]).arg(&hostile).arg("--cases").arg(&cases).output().unwrap();
    let (stdout, stderr) = text(&out);
    // The first case's answer is never asked for: that mismatch fails it.
    assert!(stdout.contains("not ok 1 - not granted"), "{stdout}{stderr}");
    assert!(stdout.contains("the plugin sent 0 HTTP request(s); the case answers 1"), "{stdout}");
    assert!(!stdout.contains("status: expected"), "the denial itself was as expected:\n{stdout}");
    assert!(stdout.contains("ok 2 - granted by allow"), "{stdout}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn record_writes_what_the_real_host_answered_and_the_replay_then_passes() {
    let addr = servers::http();
    let dir = tempfile::tempdir().unwrap();
    let cases = write(
        dir.path(),
        "cases.toml",
        &format!(
            "# recorded from the test server\n[[case]]\nname = \"json\" # keep me\ntarget = \"http://{addr}/json\"\n\
             config = {{ body_contains = \"green\" }}\nexpect = {{ status = \"ok\", metrics = {{ status_code = 200 }} }}\n\n\
             [[case]]\nname = \"refused\"\ntarget = \"http://{addr}/json\"\nconfig = {{ max_redirects = \"x\" }}\n\
             expect = {{ status = \"unknown\", reason = \"plugin-error\" }}\n[[case.http]]\nstatus = 418\n"
        ),
    );
    let out = vitals().args(["plugin", "test", "http", "--record", "--cases"]).arg(&cases).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("recorded the answers of 1 case(s)"), "{stderr}");
    let written = std::fs::read_to_string(&cases).unwrap();
    assert!(written.starts_with("# recorded from the test server\n"), "{written}");
    assert!(written.contains("name = \"json\" # keep me"), "{written}");
    assert!(written.contains("[[case.http]]"), "{written}");
    assert!(written.contains(r#"{\"status\":\"green\""#) || written.contains(r#"{"status":"green""#), "{written}");
    assert!(written.contains("x-service = \"vitals-test\""), "{written}");
    // The refused case never ran: its answers are left as they were.
    assert!(written.contains("status = 418"), "{written}");

    // Replayed, with the server gone from the picture: the same result.
    let out = vitals().args(["plugin", "test", "http", "--cases"]).arg(&cases).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}\n{written}");
    assert!(stdout.contains("ok 1 - json"), "{stdout}");
}

#[test]
fn a_bad_cases_file_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let cases =
        write(dir.path(), "cases.toml", "[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"fine\" }\n");
    let out = vitals().args(["plugin", "test", "http", "--cases"]).arg(&cases).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert!(stderr.contains("cases.toml") && stderr.contains("line 4"), "{stderr}");
    let empty = write(dir.path(), "empty.toml", "# nothing yet\n");
    let out = vitals().args(["plugin", "test", "http", "--cases"]).arg(&empty).output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{:?}", text(&out));
}

#[test]
fn the_built_in_plugins_pass_their_own_cases_in_the_real_sandbox() {
    // The same files their crates replay natively with the SDK's kit (`cargo test`).
    for plugin in ["http", "tcp"] {
        let cases = support::root().join(format!("plugins/{plugin}/cases.toml"));
        let out = vitals().args(["plugin", "test", plugin, "--cases"]).arg(&cases).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{plugin}:\n{stdout}{stderr}");
        let count = stdout.lines().filter(|l| l.starts_with("ok ")).count();
        assert!(count >= 15, "{plugin}: only {count} cases:\n{stdout}");
        assert!(!stdout.contains("not ok"), "{stdout}");
    }
}

/// The guide's Rust path, as a newcomer follows it: `plugin new` → the README's build →
/// `cargo test` → `plugin test` → `plugin run`. The times are printed for the record
/// (docs/plugin-guide.md); nothing asserts on them.
#[test]
fn the_guides_rust_path_works_from_plugin_new_to_plugin_run() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = vitals().args(["plugin", "new", "demo", "--lang", "rust", "--dir"]).arg(dir.path()).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let project = dir.path().join("demo");
    for file in ["Cargo.toml", "src/lib.rs", "cases.toml", "README.md", "wit/plugin.wit", "rust-toolchain.toml"] {
        assert!(project.join(file).is_file(), "{file} missing; plugin new said:\n{stdout}");
    }
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    assert!(readme.contains("cargo build --release --target wasm32-wasip2"), "{readme}");
    // A second `plugin new` into the same place is refused, and writes nothing.
    let again = vitals().args(["plugin", "new", "demo", "--dir"]).arg(dir.path()).output().unwrap();
    assert_eq!(again.status.code(), Some(64), "{:?}", text(&again));
    let bad = vitals().args(["plugin", "new", "Demo_1", "--dir"]).arg(dir.path()).output().unwrap();
    assert_eq!(bad.status.code(), Some(64), "{:?}", text(&bad));

    // Shared with later runs (and with CI's cache), so the SDK's dependencies compile once.
    let target_dir = support::target_dir().join("scaffolds");
    let cargo = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO"))
            .current_dir(&project)
            .args(args)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "cargo {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    };
    cargo(&["build", "--release", "--target", "wasm32-wasip2"]);
    let built = std::time::Instant::now();
    let native = cargo(&["test"]);
    assert!(native.contains("test result: ok"), "{native}");
    let wasm = target_dir.join("wasm32-wasip2/release/demo.wasm");
    assert!(wasm.is_file(), "no {}", wasm.display());

    let out =
        vitals().args(["plugin", "test"]).arg(&wasm).arg("--cases").arg(project.join("cases.toml")).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1..5") && stdout.contains("# 5 passed, 0 failed"), "{stdout}");
    let tested = std::time::Instant::now();

    let addr = servers::http();
    let out =
        vitals().args(["plugin", "run"]).arg(&wasm).args(["--target", &format!("http://{addr}/ok")]).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("DEMO OK - HTTP 200 in "), "{stdout}");
    let out = vitals()
        .args(["plugin", "run"])
        .arg(&wasm)
        .args(["--target", &format!("http://{addr}/fail")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    eprintln!(
        "guide path: new+build {:.1?}, cargo test + plugin test {:.1?}, total {:.1?}",
        built - started,
        tested - built,
        started.elapsed()
    );
}

/// Values whose type is right but which the plugin cannot use are refused by
/// `vitals validate` through the plugin's own validator (WIT 0.1.2), at their line and
/// column, before anything runs. (tests/cli.rs covers the host's own type checks: ranges
/// such as "abc" and "10:5", `crit = 500`, durations in the shared grammar.)
#[test]
fn validate_refuses_what_the_http_plugin_would_refuse_at_run_time() {
    let config = "[[check]]\nname = \"api\"\nplugin = \"http\"\ntarget = \"http://127.0.0.1:9/\"\n[check.config]\n\
                  expect_status = \"2xx\"\nbody_regex = \"(unclosed\"\n";
    let sandbox = support::Sandbox::new(config);
    let out = sandbox.vitals(&["validate"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(78), "{stdout}{stderr}");
    assert!(stderr.contains("checks.toml:6:17"), "{stderr}");
    assert!(stderr.contains("`expect_status`: invalid status list \"2xx\""), "{stderr}");
    assert!(stderr.contains("checks.toml:7:14"), "{stderr}");
    assert!(stderr.contains("`body_regex`: invalid regex \"(unclosed\""), "{stderr}");
    assert!(stderr.contains("2 errors"), "{stderr}");
    // `run --once` refuses the same file the same way, and stores nothing.
    let out = sandbox.vitals(&["run", "--once"]);
    assert_eq!(out.status.code(), Some(78), "{:?}", text(&out));
    assert!(!sandbox.db().exists(), "a refused config must not create the store");
}

/// A value from `${env:…}` that fails its declared type is quoted back redacted.
#[test]
fn a_secret_that_fails_its_type_is_not_quoted_back() {
    let config = "[[check]]\nname = \"api\"\nplugin = \"http\"\ntarget = \"http://127.0.0.1:9/\"\n[check.config]\n\
                  warn_time = \"${env:KIT_SECRET}\"\n";
    let sandbox = support::Sandbox::new(config);
    let out = sandbox.vitals_env(&["validate"], &[("KIT_SECRET", "s3cr3t-value-9")]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(78), "{stdout}{stderr}");
    assert!(stderr.contains("warn_time"), "{stderr}");
    assert!(!stderr.contains("s3cr3t-value-9"), "the secret was printed:\n{stderr}");
}

/// `--record` of a TCP exchange (a banner, a command, its echo): the script is written
/// into the case, and the replay then needs no server.
#[test]
fn record_writes_a_tcp_exchange_and_it_replays() {
    let addr = servers::banner("220 kit.test ready\r\n");
    let dir = tempfile::tempdir().unwrap();
    let cases = write(
        dir.path(),
        "cases.toml",
        &format!(
            "[[case]]\nname = \"banner\"\ntarget = \"{addr}\"\nconfig = {{ send = \"PING\\\\r\\\\n\", expect = \"PING\" }}\n\
             expect = {{ status = \"ok\" }}\n"
        ),
    );
    let out = vitals().args(["plugin", "test", "tcp", "--record", "--cases"]).arg(&cases).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let written = std::fs::read_to_string(&cases).unwrap();
    assert!(written.contains("[[case.tcp]]"), "{written}");
    assert!(written.contains("send = \"PING\\r\\n\""), "{written}");
    assert!(written.contains("receive = \"220 kit.test ready"), "{written}");
    let out = vitals().args(["plugin", "test", "tcp", "--cases"]).arg(&cases).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}\n{written}");
}
