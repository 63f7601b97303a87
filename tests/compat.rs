//! The WIT compatibility promise, tested: plugins built against every released version of
//! `vitals:plugin` (the frozen copies in `wit/released/`, fixtures in
//! `tests/plugins/compat/`) keep loading, describing themselves and running in this host.

mod support;

use std::path::Path;

use support::{Sandbox, compat_dir_name, compat_notifier, compat_plugin, released_wit_versions, servers, toml_str};

/// `vitals plugin inspect FILE --format json`, parsed.
fn inspect(file: &Path) -> serde_json::Value {
    let out = support::vitals()
        .args(["plugin", "inspect"])
        .arg(file)
        .args(["--format", "json"])
        .output()
        .expect("run vitals plugin inspect");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}: {stderr}", file.display());
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("inspect output is not JSON ({e}): {stderr}"))
}

/// A `[[check]]` of the compat plugin of WIT `version` against `target`, with `extra`
/// lines in the check's table and `config` lines in its `[check.config]`.
fn compat_check(name: &str, version: &str, target: &str, extra: &str, config: &str) -> String {
    let plugin = toml_str(&compat_plugin(version).display().to_string());
    format!(
        "[[check]]\nname = \"{name}\"\nplugin = {plugin}\ntarget = \"{target}\"\ntimeout = \"5s\"\n{extra}\n\
         [check.config]\ntimeout = \"2s\"\n{config}\n"
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_released_wit_version_has_a_compat_fixture() {
    let versions = released_wit_versions();
    assert!(versions.iter().any(|v| v == "0.1.0") && versions.iter().any(|v| v == "0.1.1"), "{versions:?}");
    let compat = support::root().join("tests/plugins/compat");
    let workspace = std::fs::read_to_string(compat.join("Cargo.toml")).expect("tests/plugins/compat/Cargo.toml");
    for version in &versions {
        let dir = compat_dir_name(version);
        let lib = compat.join(&dir).join("src/lib.rs");
        let source = std::fs::read_to_string(&lib).unwrap_or_else(|_| {
            panic!(
                "WIT {version} is released (wit/released/{version}) but has no compat fixture: add \
                 tests/plugins/compat/{dir}/ (see tests/plugins/README.md)"
            )
        });
        let bound = format!("world: \"check\", path: \"../../../../wit/released/{version}\"");
        assert!(source.contains(&bound), "{} must be built against the frozen {version}: {bound}", lib.display());
        assert!(workspace.contains(&format!("\"{dir}\"")), "{dir} is not a member of tests/plugins/compat");
    }
}

#[test]
fn plugins_built_against_every_released_wit_load_and_say_so() {
    for version in released_wit_versions() {
        let plugin = inspect(&compat_plugin(&version));
        assert_eq!(plugin["kind"], "check", "{plugin:#}");
        assert_eq!(plugin["wit_version"], version.as_str(), "{plugin:#}");
        assert_eq!(plugin["validates_config"], false, "an old plugin has no validator: {plugin:#}");
        assert_eq!(plugin["name"], format!("compat-{}", compat_dir_name(&version).replace('_', "-")));
        let kind = |key: &str| {
            plugin["config"]
                .as_array()
                .and_then(|keys| keys.iter().find(|k| k["name"] == key))
                .map(|k| k["kind"].clone())
        };
        assert_eq!(kind("timeout"), Some("duration".into()), "{plugin:#}");
        assert_eq!(kind("crit"), Some("range".into()), "{plugin:#}");
        let imports = plugin["imports"].to_string();
        assert!(imports.contains(&format!("vitals:plugin/http@{version}")), "{imports}");
    }
    let notifier = inspect(&compat_notifier("0.1.1"));
    assert_eq!(notifier["kind"], "notifier", "{notifier:#}");
    assert_eq!(notifier["wit_version"], "0.1.1", "{notifier:#}");
}

#[test]
fn old_plugins_check_a_server_ok_with_exit_0_and_a_500_critical_with_exit_2() {
    let web = servers::http();
    for version in released_wit_versions() {
        let config = compat_check("up", &version, &format!("http://{web}/ok"), "", "crit = \"1000\"")
            + &compat_check("down", &version, &format!("http://{web}/fail"), "", "");
        let sandbox = Sandbox::new(&config);
        let label = format!("COMPAT-{}", compat_dir_name(&version).replace('_', "-").to_uppercase());

        let out = sandbox.vitals(&["check", "up", "--no-store"]);
        let line = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{version}: {line}{}", text(&out.stderr));
        assert!(line.starts_with(&format!("{label} OK - HTTP 200 in ")), "{version}: {line}");
        // The `crit` range key reached the plugin, which reports it as the metric's threshold.
        assert!(line.contains(" | time=") && line.contains(";1000;"), "{version}: {line}");

        let out = sandbox.vitals(&["check", "down", "--no-store"]);
        let line = text(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{version}: {line}{}", text(&out.stderr));
        assert!(line.starts_with(&format!("{label} CRITICAL - HTTP 500, expected 200")), "{version}: {line}");

        let (code, results, stderr) = sandbox.run_json(&[]);
        assert_eq!(code, 2, "{version}: worst is critical; {stderr}");
        let up = support::result(&results, "up");
        assert_eq!((up["status"].as_str(), up["reason"].as_str()), (Some("ok"), None), "{version}: {up:#}");
        assert!(support::metric(up, "time").is_some(), "{version}: {up:#}");
        let down = support::result(&results, "down");
        assert_eq!(down["status"], "critical", "{version}: {down:#}");
        assert_eq!(down["reason"], "http-status", "{version}: {down:#}");
    }
}

#[test]
fn a_run_of_only_healthy_old_plugins_prints_ok_lines_and_exits_0() {
    let web = servers::http();
    let config: String = released_wit_versions()
        .iter()
        .map(|v| compat_check(&format!("up-{}", compat_dir_name(v)), v, &format!("http://{web}/ok"), "", ""))
        .collect();
    let sandbox = Sandbox::new(&config);
    let out = sandbox.vitals(&["run", "--once"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for version in released_wit_versions() {
        let name = format!("up-{}", compat_dir_name(&version));
        assert!(stdout.lines().any(|l| l.contains(&name) && l.contains("OK")), "{name} has no OK line: {stdout}");
    }
}

#[test]
fn a_notifier_built_against_0_1_1_delivers_a_state_change() {
    let web = servers::http();
    let (hook, received) = servers::receiver();
    let notifier = toml_str(&compat_notifier("0.1.1").display().to_string());
    // `retries = 0`: the first failure is HARD at once, a change from the assumed `ok`.
    let config = compat_check("down", "0.1.1", &format!("http://{web}/fail"), "retries = 0", "")
        + &format!(
            "[[notifier]]\nname = \"ops\"\nplugin = {notifier}\ntarget = \"http://{hook}/hook\"\n\
             [notifier.config]\nurl = \"http://{hook}/hook\"\n"
        );
    let sandbox = Sandbox::new(&config);
    let out = sandbox.vitals(&["run", "--once"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", text(&out.stdout), text(&out.stderr));
    let bodies = received.lock().map(|b| b.clone()).unwrap_or_default();
    assert!(
        bodies.iter().any(|b| b.starts_with("down hard-change") && b.contains("-> critical: HTTP 500")),
        "{bodies:?}\n{}",
        text(&out.stderr)
    );
}

/// `vitals plugin list` shows the built-ins and the plugins of the config, each with the
/// WIT version it was built against and what uses it; without a config, only the built-ins.
#[test]
fn plugin_list_names_each_plugins_wit_version_and_its_users() {
    let old = compat_plugin("0.1.0");
    let sandbox = Sandbox::new(&format!(
        "[[check]]\nname = \"legacy\"\nplugin = {}\ntarget = \"127.0.0.1:1\"\n\n\
         [[check]]\nname = \"site\"\nplugin = \"http\"\ntarget = \"http://127.0.0.1:1/\"\n",
        toml_str(&old.display().to_string())
    ));
    let out = sandbox.vitals(&["plugin", "list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let entry = |plugin: &str| list.as_array().unwrap().iter().find(|p| p["plugin"] == plugin).cloned();
    let http = entry("http").expect("http listed");
    assert_eq!((http["source"].as_str(), http["kind"].as_str()), (Some("built-in"), Some("check")));
    assert_eq!(http["used_by"], serde_json::json!(["check site"]));
    assert_eq!(entry("webhook").expect("webhook listed")["kind"], "notifier");
    let legacy = list.as_array().unwrap().iter().find(|p| p["source"] == "file").expect("the file plugin");
    assert_eq!(legacy["wit_version"], "0.1.0", "{legacy:#}");
    assert_eq!(legacy["used_by"], serde_json::json!(["check legacy"]));

    let out = sandbox.vitals(&["plugin", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("PLUGIN ") && text.contains("check legacy"), "{text}");
    // No config: the built-ins alone, and no error.
    let empty = tempfile::tempdir().expect("temp dir");
    let out = support::vitals().current_dir(empty.path()).args(["plugin", "list"]).output().expect("runs vitals");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let json = support::vitals()
        .current_dir(empty.path())
        .args(["plugin", "list", "--format", "json"])
        .output()
        .expect("runs vitals");
    let builtins: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON list");
    let builtins = builtins.as_array().expect("a list");
    assert!(builtins.iter().all(|p| p["source"] == "built-in") && builtins.len() >= 3, "{builtins:#?}");
    assert_eq!(text.lines().count(), 1 + builtins.len(), "a header and one line per built-in: {text}");
}
