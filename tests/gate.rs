//! `vitals gate` end to end: the real binary runs checks against servers on 127.0.0.1,
//! tests conditions, and answers with its exit code, its text or JSON verdict, JUnit XML,
//! Markdown and GitHub Actions annotations.

mod support;

use std::path::Path;
use std::process::Output;
use std::sync::atomic::Ordering;
use std::time::Duration;

use support::pg::Database;
use support::{Sandbox, servers};

/// A config with one HTTP check `web` on `path` of the test server, plus `extra`.
fn web(path: &str, extra: &str) -> Sandbox {
    web_in(path, extra, None)
}

/// [`web`], its results in the PostgreSQL database `db` (`[store] url`, at the end of the
/// file) or, without one, in the SQLite file.
fn web_in(path: &str, extra: &str, db: Option<&Database>) -> Sandbox {
    let server = servers::http();
    let store = db.map(|db| format!("\n[store]\nurl = \"{}\"\n", db.url())).unwrap_or_default();
    Sandbox::new(&format!(
        "[[check]]\nname = \"web\"\nplugin = \"http\"\ntarget = \"http://{server}{path}\"\nretries = 0\n{extra}{store}"
    ))
}

/// Runs `test` with the SQLite store and with a PostgreSQL database of its own: every
/// gate figure must be the same on both.
fn on_both_stores(test: impl Fn(Option<&Database>)) {
    test(None);
    let db = Database::new();
    test(Some(&db));
}

/// `vitals --config … gate <args>`, with no GitHub job summary unless `summary` names one.
fn gate_with(sandbox: &Sandbox, args: &[&str], summary: Option<&Path>) -> Output {
    let mut cmd = support::vitals();
    cmd.arg("--config").arg(sandbox.config()).arg("gate").args(args).env_remove("GITHUB_STEP_SUMMARY");
    if let Some(path) = summary {
        cmd.env("GITHUB_STEP_SUMMARY", path);
    }
    cmd.output().expect("run vitals gate")
}

fn gate(sandbox: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let out = gate_with(sandbox, args, None);
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn passing_gate_exits_0_prints_each_value_and_stores_its_runs() {
    on_both_stores(|db| {
        let sandbox = web_in("/ok", "", db);
        let (code, stdout, stderr) = gate(
            &sandbox,
            &["--condition", "status(web) == ok", "--condition", "p95(web) < 1m", "--runs", "3", "--spacing", "10ms"],
        );
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        assert!(stdout.contains("PASS  status(web) == ok  web    ok"), "{stdout}");
        assert!(
            stdout.lines().any(|l| l.starts_with("PASS  p95(web) < 1m") && (l.ends_with(" ms") || l.ends_with(" µs"))),
            "{stdout}"
        );
        assert!(stdout.contains("gate passed: 2 of 2 conditions hold"), "{stdout}");
        // The runs are stored like `run --once` stores them, so history accumulates.
        let out = sandbox.vitals(&["report", "--since", "1h", "--format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        assert_eq!(report["checks"][0]["availability"]["raw_total"], 3, "{report:#}");
    });
}

#[test]
fn failing_condition_exits_1_with_the_measured_value() {
    on_both_stores(|db| {
        let sandbox = web_in("/fail", "", db);
        let (code, stdout, _) = gate(&sandbox, &["--condition", "status(web) <= warning"]);
        assert_eq!(code, 1, "{stdout}");
        assert!(stdout.contains("FAIL  status(web) <= warning  web    critical"), "{stdout}");
        assert!(stdout.contains("gate failed: 1 of 1 conditions failed"), "{stdout}");
    });
}

#[test]
fn config_conditions_and_windowed_history_work_together() {
    on_both_stores(|db| {
        let sandbox = web_in("/ok", "\n[gate]\nconditions = [\"status(web) == ok\", \"max(web) < 1m\"]\n", db);
        let (code, stdout, stderr) = gate(&sandbox, &[]);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        // Now the store has a result: a windowed condition reads it without running anything new.
        let (code, stdout, stderr) =
            gate(&sandbox, &["--condition", "availability(web, 1h) >= 99.9%", "--format", "json"]);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        let verdict: serde_json::Value = serde_json::from_str(&stdout).expect("JSON verdict");
        assert_eq!(verdict["schema_version"], 1);
        assert_eq!(verdict["passed"], true);
        let conditions = verdict["conditions"].as_array().expect("conditions");
        assert_eq!(conditions.len(), 3);
        assert_eq!(conditions[0]["source"], format!("{}:8:15", sandbox.config().display()));
        assert_eq!(conditions[2]["source"], "--condition");
        assert_eq!(conditions[2]["checks"][0]["measured"]["kind"], "percentage");
        assert_eq!(conditions[2]["checks"][0]["measured"]["value"], 100.0);
    });
}

#[test]
fn a_metric_no_run_reported_fails_the_condition_and_says_so() {
    let sandbox = web("/ok", "");
    let (code, stdout, _) = gate(&sandbox, &["--condition", "metric(web, replication_lag) < 5s"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("no run of `web` reported metric `replication_lag`"), "{stdout}");
}

#[test]
fn error_budget_of_a_failing_check_with_an_slo_fails() {
    on_both_stores(|db| {
        let sandbox = web_in("/fail", "slo = \"99%\"\n", db);
        let (code, stdout, _) =
            gate(&sandbox, &["--condition", "error_budget(web) > 10%", "--runs", "2", "--spacing", "0s"]);
        assert_eq!(code, 1, "{stdout}");
        assert!(stdout.contains("FAIL  error_budget(web) > 10%"), "{stdout}");
    });
}

#[test]
fn wait_for_healthy_passes_once_the_service_comes_up() {
    let (addr, up) = servers::switchable();
    up.store(false, Ordering::SeqCst);
    let sandbox = Sandbox::new(&format!(
        "[[check]]\nname = \"web\"\nplugin = \"http\"\ntarget = \"http://{addr}/\"\nretries = 0\n"
    ));
    let flag = std::sync::Arc::clone(&up);
    let switch = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        flag.store(true, Ordering::SeqCst);
    });
    let (code, stdout, stderr) =
        gate(&sandbox, &["--condition", "status(web) == ok", "--wait-for-healthy", "--timeout", "2m"]);
    switch.join().expect("switch thread");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("PASS  status(web) == ok"), "{stdout}");
}

#[test]
fn wait_for_healthy_gives_up_at_the_timeout_listing_what_still_fails() {
    let sandbox = web("/fail", "");
    let (code, stdout, stderr) = gate(
        &sandbox,
        &["--condition", "status(web) == ok", "--condition", "p95(web) < 1m", "--wait-for-healthy", "--timeout", "2s"],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains("FAIL  status(web) == ok  web    critical"), "{stdout}");
    assert!(stdout.contains("PASS  p95(web) < 1m"), "{stdout}");
    assert!(stderr.contains("still failing after --timeout 2.0 s"), "{stderr}");
    assert!(stderr.contains("attempt 1: 1 of 2 conditions failed (`status(web) == ok` failed on web"), "{stderr}");
}

#[test]
fn junit_has_a_suite_per_check_and_failures_carry_the_measured_value() {
    let server = servers::http();
    let sandbox = Sandbox::new(&format!(
        "[[check]]\nname = \"up\"\nplugin = \"http\"\ntarget = \"http://{server}/ok\"\n\n\
         [[check]]\nname = \"down\"\nplugin = \"http\"\ntarget = \"http://{server}/fail\"\nretries = 0\n"
    ));
    let junit = sandbox.dir.path().join("gate.xml");
    let markdown = sandbox.dir.path().join("gate.md");
    let junit_arg = junit.to_string_lossy().to_string();
    let markdown_arg = markdown.to_string_lossy().to_string();
    let (code, stdout, stderr) = gate(
        &sandbox,
        &[
            "--condition",
            "status(*) == ok",
            "--condition",
            "p95(up) < 1m",
            "--junit",
            &junit_arg,
            "--markdown",
            &markdown_arg,
        ],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let xml = std::fs::read_to_string(&junit).expect("JUnit file");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!((root.attribute("tests"), root.attribute("failures")), (Some("3"), Some("1")));
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    let names: Vec<_> = suites.iter().map(|s| s.attribute("name").unwrap_or("")).collect();
    assert_eq!(names, ["up", "down"]);
    let cases = |suite: &roxmltree::Node| suite.children().filter(|n| n.has_tag_name("testcase")).count();
    assert_eq!((cases(&suites[0]), cases(&suites[1])), (2, 1));
    assert_eq!(suites[1].attribute("failures"), Some("1"));
    let failure =
        suites[1].descendants().find(|n| n.has_tag_name("failure")).expect("a failure element in the suite of `down`");
    let message = failure.attribute("message").unwrap_or("");
    assert_eq!(message, "`status(*) == ok` failed on down: measured critical");
    assert!(suites[0].descendants().all(|n| !n.has_tag_name("failure")), "{xml}");

    let md = std::fs::read_to_string(&markdown).expect("Markdown file");
    assert!(md.contains("| ❌ | `status(*) == ok` | down | critical |"), "{md}");
}

#[test]
fn github_job_summary_is_appended_and_failures_are_annotated() {
    let sandbox = web("/fail", "");
    let summary = sandbox.dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").expect("summary file");
    let out =
        gate_with(&sandbox, &["--condition", "status(web) == ok", "--condition", "max(web) < 1m"], Some(&summary));
    assert_eq!(out.status.code(), Some(1));
    let written = std::fs::read_to_string(&summary).expect("summary");
    assert!(written.starts_with("earlier step\n## Vitals gate: failed"), "{written}");
    assert!(written.contains("| ❌ | `status(web) == ok` | web | critical |"), "{written}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(
        annotations,
        ["::error title=Vitals gate%3A status(web) == ok (web)::`status(web) == ok` failed on web: measured critical"]
    );
}

#[test]
fn usage_errors_exit_64_and_point_at_the_column() {
    let sandbox = web("/ok", "");
    let (code, _, stderr) = gate(&sandbox, &["--condition", "p95(web) = 300ms"]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("error: `=` is not an operator\n --> --condition, column 10"), "{stderr}");
    assert!(stderr.contains("  | p95(web) = 300ms\n  |          ^\n"), "{stderr}");
    let (code, _, stderr) = gate(&sandbox, &["--condition", "status(nope) == ok"]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("no check is called `nope`") && stderr.contains("column 8"), "{stderr}");
    let (code, _, stderr) = gate(&sandbox, &[]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("no gate conditions"), "{stderr}");
    let (code, _, _) = gate(&sandbox, &["--condition", "status(web) == ok", "--timeout", "1s"]);
    assert_eq!(code, 64, "--timeout needs --wait-for-healthy");
    let (code, _, _) = gate(&sandbox, &["--condition", "status(web) == ok", "--runs", "0"]);
    assert_eq!(code, 64);
}

#[test]
fn a_window_past_366_days_exits_64_at_once_pointing_at_it() {
    let sandbox = web("/ok", "");
    let started = std::time::Instant::now();
    let (code, _, stderr) = gate(&sandbox, &["--condition", "mean(web, 99999999999d) < 1s"]);
    // Refused while parsing: nothing runs, nothing of the window is read or allocated.
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("error: this window is too long: at most 366d\n --> --condition, column 11"), "{stderr}");
    assert!(stderr.contains("  | mean(web, 99999999999d) < 1s\n  |           ^^^^^^^^^^^^\n"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

#[test]
fn a_bad_condition_in_checks_toml_exits_78_with_file_line_and_column() {
    let sandbox = web("/ok", "\n[gate]\nconditions = [\n  \"status(web) == ok\",\n  \"p95(web) < 99%\",\n]\n");
    let (code, _, stderr) = gate(&sandbox, &["--condition", "status(web) == ok"]);
    assert_eq!(code, 78, "{stderr}");
    let place = format!("--> {}:10:15", sandbox.config().display());
    assert!(stderr.contains(&place), "{place} in:\n{stderr}");
    assert!(stderr.contains("`p95(web)` is a duration; it cannot be compared with a percentage"), "{stderr}");
    // `vitals validate` refuses it too, before a pipeline runs the gate.
    let out = sandbox.vitals(&["validate"]);
    assert_eq!(out.status.code(), Some(78));

    let sandbox = web("/ok", "\n[gate]\nconditions = [\"error_budget(web) > 10%\"]\n");
    let (code, _, stderr) = gate(&sandbox, &[]);
    assert_eq!(code, 78, "{stderr}");
    assert!(stderr.contains("check `web` has no slo; `error_budget` needs one"), "{stderr}");
}
