//! Plugins written in Python and JavaScript, end to end: the two examples that
//! `scripts/polyglot` builds (componentize-py, componentize-js, on the helper layers of
//! `plugins/python` and `plugins/js`) run in the real sandbox against servers on 127.0.0.1,
//! refuse their own bad config through their `validator` export, replay their `cases.toml`,
//! and a project scaffolded by `vitals plugin new` builds and passes its own cases.
//!
//! The components are tens of MB: the first load compiles each for a while, so they are
//! loaded once (`plugin inspect`) before any test uses them, into the shared test cache.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use support::{Sandbox, root, servers, target_dir, toml_str, vitals};

const PYTHON: &str = "python-json-field";
const JS: &str = "js-status-page";

/// The built example `name` from `target/polyglot/`, after `scripts/polyglot` has run once
/// for this test binary (it rebuilds only what changed, so this is quick when up to date).
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out = Command::new(root().join("scripts/polyglot"))
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .map_err(|e| format!("cannot start scripts/polyglot: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/polyglot failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // Compile each component once, one after the other, so that parallel tests read
        // the cache instead of all compiling the same 20 MB at once.
        for name in [PYTHON, JS] {
            let wasm = target_dir().join("polyglot").join(format!("{name}.wasm"));
            let inspect = vitals().arg("plugin").arg("inspect").arg(&wasm).output().map_err(|e| e.to_string())?;
            if !inspect.status.success() {
                return Err(format!("{} does not load:\n{}", wasm.display(), String::from_utf8_lossy(&inspect.stderr)));
            }
        }
        Ok(())
    });
    if let Err(message) = built {
        panic!(
            "{message}\nthe Python and JavaScript example plugins could not be built into {}: \
             run scripts/test (it runs scripts/polyglot before cargo test), or scripts/polyglot, \
             which needs python3 with venv, node 20+ and npm",
            target_dir().join("polyglot").display()
        );
    }
    target_dir().join("polyglot").join(format!("{name}.wasm"))
}

/// Where scripts/polyglot keeps the pinned toolchains, for the scaffolded projects' build.sh.
fn tools_dir() -> PathBuf {
    std::env::var_os("VITALS_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/vitals/tools")))
        .expect("HOME or VITALS_TOOLS is set")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &Output) -> String {
    format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// The line number (1-based) of the first line of `config` that starts with `prefix`.
fn line_of(config: &str, prefix: &str) -> usize {
    config.lines().position(|l| l.starts_with(prefix)).map(|i| i + 1).unwrap_or_else(|| panic!("no {prefix} line"))
}

/// A JSON API with healthy, busy, degraded and broken answers.
fn json_api() -> std::net::SocketAddr {
    const JSON: &str = "application/json";
    servers::routes(&[
        ("/health", "200 OK", JSON, r#"{"data": {"status": "up", "queue": {"depth": 12}}, "version": "2.4.1"}"#),
        ("/busy", "200 OK", JSON, r#"{"data": {"status": "up", "queue": {"depth": 70}}}"#),
        ("/degraded", "200 OK", JSON, r#"{"data": {"status": "degraded"}}"#),
        ("/fail", "503 Service Unavailable", "text/plain", "down\n"),
        ("/html", "200 OK", "text/html", "<html>maintenance</html>"),
    ])
}

/// A Statuspage-style API: one page per indicator.
fn status_pages() -> std::net::SocketAddr {
    const JSON: &str = "application/json";
    servers::routes(&[
        (
            "/fine/api/v2/status.json",
            "200 OK",
            JSON,
            r#"{"status": {"indicator": "none", "description": "All Systems Operational"}}"#,
        ),
        (
            "/minor/api/v2/summary.json",
            "200 OK",
            JSON,
            r#"{"status": {"indicator": "minor", "description": "Minor Service Outage"},
                "components": [{"name": "API", "status": "degraded_performance"},
                               {"name": "Website", "status": "operational"}]}"#,
        ),
        (
            "/major/api/v2/summary.json",
            "200 OK",
            JSON,
            r#"{"status": {"indicator": "major", "description": "Partial System Outage"},
                "components": [{"name": "API", "status": "major_outage"},
                               {"name": "Webhooks", "status": "partial_outage"},
                               {"name": "Website", "status": "operational"}]}"#,
        ),
    ])
}

fn check_block(name: &str, wasm: &Path, target: &str, config: &str) -> String {
    format!(
        "[[check]]\nname = \"{name}\"\nplugin = {}\ntarget = \"{target}\"\nmemory = \"64MiB\"\n[check.config]\n{config}\n",
        toml_str(&wasm.display().to_string())
    )
}

#[test]
fn python_json_field_check_says_ok_warning_critical_with_metrics_and_exit_codes() {
    let wasm = example(PYTHON);
    let api = json_api();
    let closed = servers::closed_port();
    let config = [
        check_block("api-up", &wasm, &format!("http://{api}/health"), "path = \"data.status\"\nequals = \"up\""),
        check_block(
            "api-queue",
            &wasm,
            &format!("http://{api}/busy"),
            "path = \"data.queue.depth\"\nwarn = \"~:50\"\ncrit = \"~:100\"",
        ),
        check_block(
            "api-degraded",
            &wasm,
            &format!("http://{api}/degraded"),
            "path = \"data.status\"\nequals = \"up\"",
        ),
        check_block("api-5xx", &wasm, &format!("http://{api}/fail"), "path = \"data.status\""),
        check_block("api-html", &wasm, &format!("http://{api}/html"), "path = \"data.status\""),
        check_block("api-down", &wasm, &format!("http://127.0.0.1:{closed}/health"), "path = \"data.status\""),
        check_block("api-version", &wasm, &format!("http://{api}/health"), "path = \"version\"\nmatches = '^2\\.'"),
    ]
    .concat();
    let sandbox = Sandbox::new(&config);

    let out = sandbox.vitals(&["check", "api-up", "--no-store"]);
    let line = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(line.starts_with("JSON-FIELD OK - data.status is \"up\" (HTTP 200 in "), "{line}");
    assert!(line.contains("| time_total=") && line.contains("ms;;;0"), "{line}");

    let out = sandbox.vitals(&["check", "api-queue", "--no-store"]);
    let line = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(line.starts_with("JSON-FIELD WARNING - data.queue.depth is 70, outside the warning range ~:50"), "{line}");
    assert!(line.contains(" value=70;~:50;~:100"), "{line}");

    let out = sandbox.vitals(&["check", "api-degraded", "--no-store"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stdout).contains("CRITICAL - data.status is \"degraded\", expected \"up\""), "{}", show(&out));

    let (code, results, stderr) = sandbox.run_json(&[]);
    assert_eq!(code, 2, "{stderr}");
    let expect = [
        ("api-up", "ok", None),
        ("api-queue", "warning", Some("assertion")),
        ("api-degraded", "critical", Some("assertion")),
        ("api-5xx", "critical", Some("http-status")),
        ("api-html", "critical", Some("protocol")),
        ("api-down", "critical", Some("connect")),
        ("api-version", "ok", None),
    ];
    for (name, status, reason) in expect {
        let r = support::result(&results, name);
        assert_eq!(r["status"], status, "{name}: {r:#}");
        assert_eq!(r["reason"].as_str(), reason, "{name}: {r:#}");
    }
    let up = support::result(&results, "api-up");
    let ms = support::metric(up, "time_total").expect("time_total");
    assert!(ms > 0.0 && ms < 5000.0, "{up:#}");
    assert_eq!(support::metric(support::result(&results, "api-queue"), "value"), Some(70.0));
    assert!(
        support::result(&results, "api-down")["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with(&format!("GET http://127.0.0.1:{closed}/health failed: "))),
        "{results:#?}"
    );
}

#[test]
fn js_status_page_check_maps_indicators_and_names_degraded_components() {
    let wasm = example(JS);
    let pages = status_pages();
    let config = [
        check_block("fine", &wasm, &format!("http://{pages}/fine/api/v2/status.json"), ""),
        check_block("minor", &wasm, &format!("http://{pages}/minor/api/v2/summary.json"), ""),
        check_block("major", &wasm, &format!("http://{pages}/major/api/v2/summary.json"), ""),
        check_block(
            "website-only",
            &wasm,
            &format!("http://{pages}/major/api/v2/summary.json"),
            "components = [\"Website\"]",
        ),
        check_block("missing", &wasm, &format!("http://{pages}/nowhere/api/v2/status.json"), ""),
    ]
    .concat();
    let sandbox = Sandbox::new(&config);

    let out = sandbox.vitals(&["check", "fine", "--no-store"]);
    let line = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(line.starts_with("STATUS-PAGE OK - All Systems Operational (HTTP 200 in "), "{line}");
    assert!(line.contains("| time_total="), "{line}");

    let out = sandbox.vitals(&["check", "minor", "--no-store"]);
    let line = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(line.starts_with("STATUS-PAGE WARNING - Minor Service Outage: API (degraded performance) ("), "{line}");
    assert!(line.contains(" components_degraded=1;;;0;2"), "{line}");

    let out = sandbox.vitals(&["check", "major", "--no-store"]);
    let line = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        line.starts_with("STATUS-PAGE CRITICAL - Partial System Outage: API (major outage), Webhooks (partial outage)"),
        "{line}"
    );

    let (code, results, stderr) = sandbox.run_json(&[]);
    assert_eq!(code, 2, "{stderr}");
    for (name, status, reason) in [
        ("fine", "ok", None),
        ("minor", "warning", Some("assertion")),
        ("major", "critical", Some("assertion")),
        ("website-only", "ok", None),
        ("missing", "critical", Some("http-status")),
    ] {
        let r = support::result(&results, name);
        assert_eq!(r["status"], status, "{name}: {r:#}");
        assert_eq!(r["reason"].as_str(), reason, "{name}: {r:#}");
    }
    assert_eq!(support::metric(support::result(&results, "major"), "components_degraded"), Some(2.0));
    assert_eq!(support::metric(support::result(&results, "website-only"), "components_degraded"), Some(0.0));
}

#[test]
fn validate_accepts_the_examples_good_configs() {
    let api = json_api();
    let config = [
        check_block(
            "field",
            &example(PYTHON),
            &format!("http://{api}/health"),
            "path = \"data.status\"\nmatches = \"^u\"",
        ),
        check_block("page", &example(JS), &format!("http://{api}/health"), "warn_time = \"1s\"\ncrit_time = \"2s\""),
    ]
    .concat();
    let out = Sandbox::new(&config).vitals(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

// Needs the host to call the plugin's `validator` export (WIT 0.1.2) when it loads a config.
#[test]
fn validate_refuses_a_bad_path_and_a_bad_regex_through_the_python_plugins_validator() {
    let api = json_api();
    let wasm = example(PYTHON);
    let config = [
        check_block("bad-path", &wasm, &format!("http://{api}/health"), "path = \"data..status\""),
        check_block("bad-regex", &wasm, &format!("http://{api}/health"), "path = \"version\"\nmatches = \"(unclosed\""),
    ]
    .concat();
    let sandbox = Sandbox::new(&config);
    let out = sandbox.vitals(&["validate"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{}", show(&out));
    let path_line = line_of(&config, "path = \"data..status\"");
    let regex_line = line_of(&config, "matches = ");
    // Each problem points at the value of the key the plugin named.
    assert!(stderr.contains(&format!("checks.toml:{path_line}:8")), "no checks.toml:{path_line}:8 in\n{stderr}");
    assert!(stderr.contains("`path` \"data..status\" has an empty part"), "{stderr}");
    assert!(stderr.contains(&format!("checks.toml:{regex_line}:11")), "no checks.toml:{regex_line}:11 in\n{stderr}");
    assert!(stderr.contains("`matches` is not a valid regular expression"), "{stderr}");
}

// Needs the host to call the plugin's `validator` export (WIT 0.1.2) when it loads a config.
#[test]
fn validate_refuses_warn_time_longer_than_crit_time_through_the_js_plugins_validator() {
    let api = json_api();
    let config =
        check_block("page", &example(JS), &format!("http://{api}/health"), "warn_time = \"2s\"\ncrit_time = \"1s\"");
    let out = Sandbox::new(&config).vitals(&["validate"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{}", show(&out));
    let line = line_of(&config, "warn_time = ");
    assert!(stderr.contains(&format!("checks.toml:{line}:1")), "no checks.toml:{line}:1 in\n{stderr}");
    assert!(stderr.contains("`warn_time` (2s) is longer than `crit_time` (1s)"), "{stderr}");
}

#[test]
fn a_bad_config_that_reaches_run_anyway_is_unknown_with_the_plugins_message() {
    // `vitals check` on a host that does not call `validate` still gets the plugin's own
    // refusal, from the helper layer's `run`: unknown / plugin-error, not a crash.
    let api = json_api();
    let config = check_block("bad", &example(PYTHON), &format!("http://{api}/health"), "path = \"data..status\"");
    let sandbox = Sandbox::new(&config);
    let out = sandbox.vitals(&["check", "bad", "--no-store"]);
    if out.status.code() == Some(78) {
        return; // the host refused it first, through the validator: also right
    }
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("UNKNOWN - bad config: `path` \"data..status\" has an empty part"),
        "{}",
        show(&out)
    );
}

// `vitals plugin test`: replays cases.toml in the sandbox.
fn plugin_test(wasm: &Path, cases: &Path) -> Output {
    vitals().arg("plugin").arg("test").arg(wasm).arg("--cases").arg(cases).output().expect("run vitals plugin test")
}

fn assert_all_cases_pass(out: &Output, cases: &Path) {
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", show(out));
    let wanted = std::fs::read_to_string(cases).expect("read cases").matches("[[case]]").count();
    let passed = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(passed, wanted, "{}", show(out));
    assert!(!stdout.contains("not ok"), "{stdout}");
}

#[test]
fn plugin_test_replays_the_python_examples_cases() {
    let cases = root().join("examples/python-json-field/cases.toml");
    assert_all_cases_pass(&plugin_test(&example(PYTHON), &cases), &cases);
}

#[test]
fn plugin_test_replays_the_js_examples_cases() {
    let cases = root().join("examples/js-status-page/cases.toml");
    assert_all_cases_pass(&plugin_test(&example(JS), &cases), &cases);
}

#[test]
fn plugin_test_exits_1_and_says_not_ok_for_a_case_that_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = dir.path().join("cases.toml");
    std::fs::write(
        &cases,
        r#"
[[case]]
name = "passes"
target = "http://api.test/"
config = { path = "status", equals = "up" }
[case.expect]
status = "ok"
[[case.http]]
status = 200
body = '{"status": "up"}'

[[case]]
name = "expects the wrong status"
target = "http://api.test/"
config = { path = "status", equals = "up" }
[case.expect]
status = "critical"
[[case.http]]
status = 200
body = '{"status": "up"}'
"#,
    )
    .expect("write cases");
    let out = plugin_test(&example(PYTHON), &cases);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stdout.contains("ok 1 - passes"), "{stdout}");
    assert!(stdout.contains("not ok 2 - expects the wrong status"), "{stdout}");
}

#[test]
fn plugin_run_prints_the_nagios_line_and_exits_by_status() {
    let api = json_api();
    let wasm = example(PYTHON);
    let run = |path: &str, config: &[&str]| {
        let mut cmd = vitals();
        cmd.arg("plugin").arg("run").arg(&wasm).arg("--target").arg(format!("http://{api}{path}"));
        for c in config {
            cmd.arg("--config").arg(c);
        }
        cmd.output().expect("run vitals plugin run")
    };
    let out = run("/health", &["path=data.status", "equals=up"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stdout).contains("OK - data.status is \"up\""), "{}", show(&out));
    let out = run("/degraded", &["path=data.status", "equals=up"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stdout).contains("CRITICAL - data.status is \"degraded\""), "{}", show(&out));
}

/// `vitals plugin new NAME --lang LANG --dir D`, then the project's own build.sh with the
/// shared tool cache, then `plugin test` on its cases.toml.
fn scaffold_builds_and_passes_its_cases(lang: &str, helper: &str) {
    example(PYTHON); // makes sure scripts/polyglot has filled the tool cache
    let dir = tempfile::tempdir().expect("temp dir");
    let out = vitals()
        .args(["plugin", "new", "demo-check", "--lang", lang, "--dir"])
        .arg(dir.path())
        .output()
        .expect("run vitals plugin new");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let project = dir.path().join("demo-check");
    for file in ["build.sh", "cases.toml", "README.md", helper, "wit/plugin.wit"] {
        assert!(project.join(file).is_file(), "plugin new did not write {file} in {}", project.display());
    }
    for entry in std::fs::read_dir(&project).expect("read project") {
        let path = entry.expect("entry").path();
        if let Ok(content) = std::fs::read_to_string(&path) {
            assert!(
                !content.contains("{{name}}") && !content.contains("{{module}}"),
                "placeholder left in {}",
                path.display()
            );
        }
    }
    let build = Command::new(project.join("build.sh"))
        .current_dir(&project)
        .env("VITALS_TOOLS", tools_dir())
        .output()
        .expect("run the scaffolded build.sh");
    assert!(build.status.success(), "build.sh failed: {}", show(&build));
    let wasm = project.join("demo-check.wasm");
    assert!(wasm.is_file(), "build.sh did not write {}", wasm.display());
    assert_all_cases_pass(&plugin_test(&wasm, &project.join("cases.toml")), &project.join("cases.toml"));
}

#[test]
fn plugin_new_python_scaffold_builds_and_passes_its_cases() {
    scaffold_builds_and_passes_its_cases("python", "vitals_check.py");
}

#[test]
fn plugin_new_js_scaffold_builds_and_passes_its_cases() {
    scaffold_builds_and_passes_its_cases("js", "vitals-check.js");
}
