//! The command line as a user meets it: help, exit codes for every kind of failure,
//! configuration errors with their location, `check`, `validate` and `plugin inspect`.

mod support;

use support::{Sandbox, servers, vitals};

fn web_config(web: std::net::SocketAddr, extra: &str) -> String {
    format!("[[check]]\nname = \"home\"\nplugin = \"http\"\ntarget = \"http://{web}/ok\"\n{extra}\n")
}

#[test]
fn help_describes_every_command() {
    let out = vitals().arg("--help").output().unwrap();
    // Help is wrapped to the terminal: compare with whitespace collapsed.
    let text = String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(out.status.code(), Some(0));
    for word in ["run", "check", "validate", "plugin", "Exit codes", "78 configuration error"] {
        assert!(text.contains(word), "missing {word}: {text}");
    }
    let out = vitals().args(["run", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--concurrency"));
}

#[test]
fn usage_errors_exit_64() {
    assert_eq!(vitals().arg("--bogus").output().unwrap().status.code(), Some(64));
    assert_eq!(vitals().args(["run", "--concurrency", "0"]).output().unwrap().status.code(), Some(64));
    let web = servers::http();
    let sandbox = Sandbox::new(&web_config(web, ""));
    let out = sandbox.vitals(&["check", "nope"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no check is called `nope`"));
    let out = sandbox.vitals(&["run", "--once", "--tag", "missing"]);
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn configuration_errors_exit_78_with_file_line_and_a_hint() {
    let web = servers::http();
    let cases = [
        (
            web_config(web, "[check.config]\nexpect_stauts = \"200\""),
            "unknown config key `expect_stauts`",
            "checks.toml:6:1",
            "did you mean `expect_status`?",
        ),
        (
            web_config(web, "[check.config]\nmax_redirects = \"five\""),
            "`max_redirects` must be an integer, found string \"five\"",
            "checks.toml:6:17",
            "",
        ),
        (web_config(web, "interval = \"often\""), "invalid duration \"often\"", "checks.toml:5:12", "help:"),
        (
            web_config(web, "").replace("\"http\"", "\"htp\""),
            "no built-in plugin called `htp`",
            "checks.toml:3:10",
            "plugin inspect",
        ),
    ];
    for (config, message, location, hint) in cases {
        let sandbox = Sandbox::new(&config);
        for command in [&["validate"][..], &["run", "--once"][..]] {
            let out = sandbox.vitals(command);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(78), "{command:?}: {stderr}");
            assert!(stderr.contains(message), "{stderr}");
            assert!(stderr.contains(location), "{stderr}");
            assert!(stderr.contains(hint), "{stderr}");
        }
        assert!(!sandbox.db().exists(), "nothing ran, nothing was stored");
    }
    let out = vitals().args(["--config", "/nonexistent/checks.toml", "validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/checks.toml"));
}

#[test]
fn validate_reads_plugin_config_values_as_a_run_would_and_points_at_each_with_its_fix() {
    // The built-in `http` declares durations, integers, strings and tables of strings; the
    // compat fixture of the oldest released WIT declares ranges (`warn`, `crit`).
    let web = servers::http();
    let oldest = support::released_wit_versions().into_iter().next().expect("a released WIT version");
    let fixture = support::toml_str(&support::compat_plugin(&oldest).display().to_string());
    let config = format!(
        "[[check]]\nname = \"home\"\nplugin = \"http\"\ntarget = \"http://{web}/ok\"\n\
         [check.config]\nwarn_time = 5\nmax_redirects = \"5\"\nheaders = {{ accept = \"*/*\", x-port = 8080 }}\n\
         \n\
         [[check]]\nname = \"legacy\"\nplugin = {fixture}\ntarget = \"http://{web}/ok\"\n\
         [check.config]\nwarn = \"abc\"\ncrit = \"10:5\"\ntimeout = \"2 fortnights\"\n\
         \n\
         [[check]]\nname = \"bare\"\nplugin = {fixture}\ntarget = \"http://{web}/ok\"\n\
         [check.config]\ncrit = 500\n"
    );
    let sandbox = Sandbox::new(&config);
    let out = sandbox.vitals(&["validate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "exit code of an invalid configuration: {stderr}");
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    let expected = [
        ("`warn_time` must be a duration, found integer 5", "checks.toml:6:13", "help: write `warn_time = \"5s\"`"),
        (
            "`max_redirects` must be an integer, found string \"5\"",
            "checks.toml:7:17",
            "help: write `max_redirects = 5`",
        ),
        (
            "`headers.x-port` must be a string, found integer 8080",
            "checks.toml:8:38",
            "help: put it in quotes: \"8080\"",
        ),
        ("`warn`: invalid range \"abc\": \"abc\" is not a number", "checks.toml:15:8", "help: write a range"),
        ("`crit`: invalid range \"10:5\": start 10 is greater than end 5", "checks.toml:16:8", "help: write a range"),
        ("`timeout`: invalid duration \"2 fortnights\"", "checks.toml:17:11", "help: write a number and a unit"),
        ("`crit` must be a range, found integer 500", "checks.toml:24:8", "help: write `crit = \"500\"`"),
    ];
    // Each error is one block: message, location, the line, and its hint.
    let blocks: Vec<&str> = stderr.split("\n\n").collect();
    for (message, location, hint) in expected {
        let block =
            blocks.iter().find(|b| b.contains(message)).unwrap_or_else(|| panic!("no {message:?} in:\n{stderr}"));
        assert!(block.contains(&format!("/{location}\n")), "{message} not at {location}:\n{block}");
        assert!(block.contains(hint), "{message} without {hint:?}:\n{block}");
    }
    assert!(stderr.contains("7 errors in the configuration"), "{stderr}");
    // The same file fixed as the hints say is valid.
    let fixed = config
        .replace("warn_time = 5", "warn_time = \"5s\"")
        .replace("max_redirects = \"5\"", "max_redirects = 5")
        .replace("x-port = 8080", "x-port = \"8080\"")
        .replace("warn = \"abc\"", "warn = \"~:500\"")
        .replace("crit = \"10:5\"", "crit = \"5:10\"")
        .replace("\"2 fortnights\"", "\"2s\"")
        .replace("crit = 500", "crit = \"500\"");
    let out = Sandbox::new(&fixed).vitals(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn validate_reports_every_mistake_of_a_file_in_one_run() {
    // Five mistakes of five kinds in four tables; `tests/golden/five-mistakes.txt` is the
    // whole expected output. `VITALS_UPDATE_GOLDEN=1` rewrites it.
    let golden = support::root().join("tests/golden/five-mistakes.txt");
    let config = std::fs::read_to_string(support::root().join("tests/golden/five-mistakes.toml")).unwrap();
    let sandbox = Sandbox::new(&config);
    let out = vitals().current_dir(sandbox.dir.path()).args(["--config", "checks.toml", "validate"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    if std::env::var_os("VITALS_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &stderr).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(stderr, expected, "the output of `vitals validate` changed; VITALS_UPDATE_GOLDEN=1 accepts it");
    // Hand-checked, so that the golden file is not merely whatever came out.
    for location in
        ["checks.toml:3:1", "checks.toml:9:11", "checks.toml:15:1", "checks.toml:16:10", "checks.toml:22:11"]
    {
        assert!(stderr.contains(&format!("--> {location}\n")), "{location}: {stderr}");
    }
    assert!(stderr.contains("5 errors in the configuration"), "{stderr}");
    assert!(!sandbox.db().exists(), "nothing ran, nothing was stored");
    let docs = std::fs::read_to_string(support::root().join("docs/configuration.md")).unwrap();
    assert!(docs.contains(&expected), "docs/configuration.md (Errors) shows another output than {}", golden.display());
}

#[test]
fn validate_accepts_a_good_config_without_running_anything() {
    let sandbox = Sandbox::new(&web_config(servers::http(), "[check.config]\nexpect_status = \"200\""));
    let out = sandbox.vitals(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 check, 1 plugin (http): valid"));
    assert!(!sandbox.db().exists());
}

#[test]
fn check_prints_the_monitoring_plugins_line_with_its_exit_code() {
    let web = servers::http();
    let config = web_config(web, "")
        + &format!("[[check]]\nname = \"broken\"\nplugin = \"http\"\ntarget = \"http://{web}/fail\"\n");
    let sandbox = Sandbox::new(&config);
    let out = sandbox.vitals(&["check", "home"]);
    let line = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{line}");
    assert!(line.starts_with("HTTP OK - 200"), "{line}");
    assert!(line.contains(" | time_total="), "{line}");
    assert!(line.contains("ms;"), "{line}");
    let out = sandbox.vitals(&["check", "broken"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("HTTP CRITICAL - "));
}

#[test]
fn json_output_has_the_documented_fields() {
    let sandbox = Sandbox::new(&web_config(servers::http(), ""));
    let (code, results, _) = sandbox.run_json(&[]);
    assert_eq!(code, 0);
    let r = &results[0];
    for field in [
        "check",
        "status",
        "summary",
        "reason",
        "duration_ms",
        "metrics",
        "plugin",
        "plugin_version",
        "target",
        "started_at_ms",
    ] {
        assert!(r.get(field).is_some(), "missing {field}: {r:#}");
    }
    assert_eq!(r["status"], "ok");
    let m = &r["metrics"][0];
    assert!(m["name"].is_string() && m["value"].is_number() && m["unit"].is_string(), "{m:#}");
}

#[test]
fn plugin_inspect_shows_keys_version_and_imports() {
    let out = vitals().args(["plugin", "inspect", "http"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for part in ["http 0.1.0", "vitals:plugin@0.1.3", "expect_status", "body_regex", "vitals:plugin/http@0.1.3"] {
        assert!(text.contains(part), "missing {part}: {text}");
    }
    assert!(text.contains("([check.config]; the plugin also checks them itself (validate))"), "{text}");
    let out = vitals().args(["plugin", "inspect", "http", "--format", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["validates_config"], true, "{json:#}");
    // The built-in notifier is described as one, with its [notifier.config] keys.
    let out = vitals().args(["plugin", "inspect", "webhook"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for part in ["webhook 0.1.0 (notifier plugin", "[notifier.config]", "url", "backoff"] {
        assert!(text.contains(part), "missing {part}: {text}");
    }
    let out = vitals().args(["plugin", "inspect", "tcp", "--format", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["name"], "tcp");
    assert!(json["config"].as_array().unwrap().iter().any(|k| k["name"] == "expect"));
    let out = vitals().args(["plugin", "inspect", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn an_unusable_database_exits_74_and_runs_nothing() {
    let sandbox = Sandbox::new(&web_config(servers::http(), ""));
    std::fs::write(sandbox.db(), b"definitely not sqlite, just some bytes to fill a page").unwrap();
    let out = sandbox.vitals(&["run", "--once"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains("not a Vitals database or is corrupt"), "{stderr}");
    assert_eq!(std::fs::read(sandbox.db()).unwrap(), b"definitely not sqlite, just some bytes to fill a page");
}

#[test]
fn a_locked_database_exits_74_with_the_reason() {
    let sandbox = Sandbox::new(&web_config(servers::http(), ""));
    let (code, _, _) = sandbox.run_json(&[]);
    assert_eq!(code, 0);
    let holder = rusqlite::Connection::open(sandbox.db()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let out = sandbox.vitals(&["run", "--once"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains("locked"), "{stderr}");
    holder.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn compiled_plugins_are_cached_by_content_and_no_cache_bypasses_the_cache() {
    let sandbox = Sandbox::new(&web_config(servers::http(), ""));
    let cache = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = vitals()
            .env("VITALS_CACHE_DIR", cache.path())
            .arg("--config")
            .arg(sandbox.config())
            .args(extra)
            .args(["run", "--once"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let cached = || -> Vec<(std::path::PathBuf, std::time::SystemTime)> {
        std::fs::read_dir(cache.path())
            .map(|d| d.flatten().map(|e| (e.path(), e.metadata().unwrap().modified().unwrap())).collect())
            .unwrap_or_default()
    };
    run(&["--no-cache"]);
    assert!(cached().is_empty(), "--no-cache writes nothing");
    run(&[]);
    let first = cached();
    assert_eq!(first.len(), 1, "one compiled plugin: {first:?}");
    let name = first[0].0.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.ends_with(".cwasm") && name.len() > 64, "named by content hash and engine: {name}");
    run(&[]);
    assert_eq!(cached(), first, "the second run loads the cached copy instead of writing a new one");
}

#[test]
fn log_format_json_writes_one_json_object_per_line() {
    let sandbox = Sandbox::new(&web_config(servers::http(), ""));
    let out = vitals()
        .env("VITALS_LOG", "info")
        .arg("--config")
        .arg(sandbox.config())
        .args(["--log-format", "json", "run", "--once"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "info logs were written");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string(), "{v}");
    }
    assert!(stderr.contains("\"check\":\"home\""), "{stderr}");
}

#[test]
fn completions_for_each_shell_name_the_commands_and_bash_accepts_its_script() {
    let run = |shell: &str| {
        let out = support::vitals().args(["completions", shell]).output().expect("runs vitals");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let bash = run("bash");
    for word in ["report", "gate", "--since", "--no-data-as", "completions"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("vitals.bash");
    std::fs::write(&script, &bash).expect("writes");
    if let Ok(status) = std::process::Command::new("bash").arg("-n").arg(&script).status() {
        assert!(status.success(), "bash -n refuses the completion script");
    }
    assert!(run("zsh").starts_with("#compdef vitals"));
    assert!(run("fish").contains("complete -c vitals -n \"__fish_vitals_needs_command\" -f -a \"report\""), "fish");
    let out = support::vitals().args(["completions", "tcsh"]).output().expect("runs vitals");
    assert_eq!(out.status.code(), Some(64), "an unknown shell is a usage error");
}

#[test]
fn the_man_page_is_roff_naming_every_command_and_dir_writes_one_page_each() {
    let out = support::vitals().arg("man").output().expect("runs vitals");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let page = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(page.starts_with(".ie \\n(.g .ds Aq \\(aq") || page.contains("\n.TH vitals 1"), "{page}");
    for command in ["run", "check", "validate", "report", "gate", "completions", "man"] {
        assert!(page.contains(&format!("vitals\\-{command}(1)")), "the page lists {command}: {page}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = support::vitals().args(["man", "--dir"]).arg(dir.path()).output().expect("runs vitals");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for page in ["vitals.1", "vitals-run.1", "vitals-report.1", "vitals-plugin-test.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH "), "{page} is a man page");
    }
}

#[test]
fn version_names_the_plugin_wit_versions_and_wasmtime() {
    let out = support::vitals().arg("--version").output().expect("runs vitals");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("vitals "), "{text}");
    assert!(lines[1].starts_with("plugins: vitals:plugin@0.1.0, 0.1.1, 0.1.2, 0.1.3"), "{text}");
    assert!(lines[2].starts_with("wasmtime 48."), "{text}");
}

#[test]
fn every_checks_toml_in_the_readme_validates() {
    let readme = std::fs::read_to_string(support::root().join("README.md")).expect("README.md");
    let blocks: Vec<&str> = readme.split("```toml\n").skip(1).filter_map(|rest| rest.split("```").next()).collect();
    assert!(!blocks.is_empty(), "README shows a checks.toml");
    for block in blocks {
        let sandbox = Sandbox::new(block);
        let mut command = support::vitals();
        command.args(["--config", sandbox.config().to_str().expect("UTF-8 path"), "validate"]);
        // The secrets it names, as a reader would export them.
        for name in block.split("${env:").skip(1).filter_map(|rest| rest.split('}').next()) {
            command.env(name, "example-secret");
        }
        let out = command.output().expect("runs vitals");
        assert_eq!(out.status.code(), Some(0), "{block}\n{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn an_unknown_check_name_or_tag_exits_64_with_the_nearest_one_and_runs_nothing() {
    let web = servers::http();
    let config = web_config(web, "tags = [\"database\", \"web\"]").replace("\"home\"", "\"api-health\"");
    let sandbox = Sandbox::new(&config);
    let near_check = "did you mean `api-health`? (the checks are `api-health`)";
    let near_tag = "did you mean `database`? (the tags are `database`, `web`)";
    let cases: [(&[&str], &str, &str); 6] = [
        (&["check", "api-heath"], "no check is called `api-heath` in ", near_check),
        (&["report", "--check", "api-heath"], "no check is called `api-heath` in ", near_check),
        (&["run", "--once", "--tag", "databse"], "no check has the tag `databse` in ", near_tag),
        (&["run", "--tag", "web", "--tag", "databse"], "no check has the tag `databse` in ", near_tag),
        (&["report", "--tag", "databse"], "no check has the tag `databse` in ", near_tag),
        (&["run", "--once", "--tag", "zzz"], "no check has the tag `zzz`", "help: the tags are `database`, `web`"),
    ];
    for (args, message, help) in cases {
        let out = sandbox.vitals(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(stderr.contains(help), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
    }
    assert!(!sandbox.db().exists(), "nothing ran, nothing was stored");
    // A known tag still selects its checks.
    let (code, results, _) = sandbox.run_json(&["--tag", "database"]);
    assert_eq!((code, results.len()), (0, 1));
}

/// `vitals init` writes a file that validates and runs, for this machine and for each
/// `--example`; each commented example validates once its `# ` is deleted; an existing file
/// is kept unless `--force`.
#[test]
fn init_writes_a_checks_toml_that_validates_and_runs_with_examples_that_validate_uncommented() {
    for example in [None, Some("web"), Some("db"), Some("all")] {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("checks.toml");
        let mut args = vec!["--config".to_string(), config.display().to_string(), "init".to_string()];
        if let Some(e) = example {
            args.extend(["--example".to_string(), e.to_string()]);
        }
        let out = vitals().args(&args).output().expect("runs vitals");
        assert_eq!(out.status.code(), Some(0), "{example:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("wrote "), "{example:?}");
        let text = std::fs::read_to_string(&config).expect("written");
        let with = |args: &[&str]| {
            let mut command = vitals();
            command.arg("--config").arg(&config).args(args).env("API_TOKEN", "t").env("HOOK_TOKEN", "t");
            command.output().expect("runs vitals")
        };
        let out = with(&["validate"]);
        assert_eq!(out.status.code(), Some(0), "{example:?}:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
        let out = with(&["run", "--once", "--format", "json"]);
        let code = out.status.code().unwrap_or(-1);
        assert!(
            (0..=3).contains(&code),
            "{example:?} runs (a check status, not an error): {code} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Every "# " line turned on: still valid.
        let on: String = text.lines().map(|l| l.strip_prefix("# ").unwrap_or(l)).map(|l| format!("{l}\n")).collect();
        assert!(on.contains("[[maintenance]]") && on.contains("[[notifier]]") && on.contains("slo = \"99.9%\""));
        std::fs::write(&config, &on).expect("rewrites");
        let out = with(&["validate"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{example:?} uncommented:\n{on}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The file exists now: kept unless --force.
        let out = vitals().args(&args).output().expect("runs vitals");
        assert_eq!(out.status.code(), Some(64), "{example:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
        assert_eq!(std::fs::read_to_string(&config).expect("kept"), on);
        args.push("--force".to_string());
        assert_eq!(vitals().args(&args).output().expect("runs vitals").status.code(), Some(0));
        assert_eq!(std::fs::read_to_string(&config).expect("replaced"), text.replace("\r", ""));
    }
    // Without a config, the error points at init.
    let empty = tempfile::tempdir().expect("temp dir");
    let out = vitals().current_dir(empty.path()).args(["run", "--once"]).output().expect("runs vitals");
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("vitals init"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// docs/plugins/ is what `vitals plugin docs --all` writes: a page per built-in and the
/// index, each generated from the plugin's own description. A plugin whose keys or
/// summary changed fails here until the pages are regenerated.
#[test]
fn docs_plugins_are_generated_from_the_builtins_and_up_to_date() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = support::vitals()
        .args(["plugin", "docs", "--all", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run vitals plugin docs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let committed = support::root().join("docs/plugins");
    let names = |d: &std::path::Path| {
        let mut n: Vec<String> =
            std::fs::read_dir(d).expect("read dir").filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&committed), names(dir.path()), "docs/plugins/ must hold exactly the generated pages");
    for name in names(dir.path()) {
        let fresh = std::fs::read_to_string(dir.path().join(&name)).expect("generated page");
        let kept = std::fs::read_to_string(committed.join(&name)).unwrap_or_default();
        assert!(
            fresh == kept,
            "docs/plugins/{name} is out of date: run `vitals plugin docs --all --dir docs/plugins` and commit it"
        );
    }
    let one = support::vitals().args(["plugin", "docs", "redis"]).output().expect("run vitals plugin docs redis");
    assert_eq!(
        String::from_utf8_lossy(&one.stdout),
        std::fs::read_to_string(committed.join("redis.md")).expect("page")
    );
}

/// A check granted a program (`allow = ["exec:PATH"]`) is valid, and `vitals validate`
/// says that the program runs outside the sandbox; an exec entry that is not one absolute
/// path is a configuration error at its line.
#[test]
fn validate_warns_about_programs_run_outside_the_sandbox_and_refuses_a_vague_one() {
    let check = |allow: &str| {
        format!("[[check]]\nname = \"disk\"\nplugin = \"tcp\"\ntarget = \"127.0.0.1:9\"\nallow = [{allow}]\n")
    };
    let sandbox = Sandbox::new(&check("\"exec:/usr/bin/true\", \"system\""));
    let out = sandbox.vitals(&["validate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: check `disk` may run /usr/bin/true outside the sandbox"), "{stderr}");
    for (entry, says) in [("\"exec:true\"", "absolute path"), ("\"exec:/bin/sh -c x\"", "no spaces")] {
        let sandbox = Sandbox::new(&check(entry));
        let out = sandbox.vitals(&["validate"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{entry}: {stderr}");
        assert!(stderr.contains(says) && stderr.contains("checks.toml:5:"), "{entry}: {stderr}");
    }
}
