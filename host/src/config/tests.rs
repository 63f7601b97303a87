//! Configuration errors are located (file, line, column), shown with their line and
//! explained; valid files resolve into the plan the rest of Vitals expects.

use std::time::Duration;

use super::*;
use crate::plan::PluginRef;
use crate::plan::Status;

fn env(name: &str) -> Option<String> {
    (name == "API_TOKEN").then(|| "tok-123".to_string())
}

fn parse_text(text: &str) -> Result<Plan, ConfigError> {
    parse(SourceFile::new("/etc/vitals/checks.toml", text), &env)
}

fn error_text(text: &str) -> String {
    match parse_text(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const MINIMAL: &str = r#"
[[check]]
name = "web"
plugin = "http"
target = "http://127.0.0.1:8080/health"
"#;

#[test]
fn a_minimal_check_gets_the_documented_defaults() {
    let plan = parse_text(MINIMAL).unwrap();
    let c = &plan.checks[0];
    assert_eq!(c.name, "web");
    assert_eq!(c.plugin, PluginRef::Builtin("http".into()));
    assert_eq!(c.timeout, Duration::from_secs(10));
    assert_eq!(c.timing.interval, Duration::from_secs(60));
    assert_eq!(c.timing.policy.retries, 2);
    assert_eq!(c.timing.retry_interval, Duration::from_secs(10));
    assert_eq!(plan.max_per_host, 4);
    assert_eq!(c.memory, 64 << 20);
    assert_eq!(c.timeout_status, Status::Critical);
    assert!(c.grants.allows("127.0.0.1", 8080));
    assert!(!c.grants.allows("127.0.0.1", 8081));
}

#[test]
fn defaults_apply_and_checks_override_them() {
    let plan = parse_text(
        r#"
[defaults]
timeout = "2s"
memory = "16MiB"
tags = ["prod"]
timeout_status = "unknown"

[[check]]
name = "a"
plugin = "tcp"
target = "127.0.0.1:22"

[[check]]
name = "b"
plugin = "tcp"
target = "127.0.0.1:25"
timeout = "500ms"
tags = ["mail"]
allow = ["127.0.0.1:587"]
"#,
    )
    .unwrap();
    let (a, b) = (&plan.checks[0], &plan.checks[1]);
    assert_eq!(a.timeout, Duration::from_secs(2));
    assert_eq!(a.memory, 16 << 20);
    assert_eq!(a.timeout_status, Status::Unknown);
    assert_eq!(b.timeout, Duration::from_millis(500));
    assert_eq!(b.tags, vec!["prod".to_string(), "mail".to_string()]);
    assert!(b.grants.allows("127.0.0.1", 587));
    assert_eq!(plan.select(&["mail".to_string()]).count(), 1);
}

#[test]
fn plugin_paths_are_relative_to_the_config_file() {
    let plan = parse_text(&MINIMAL.replace("plugin = \"http\"", "plugin = \"plugins/mine.wasm\"")).unwrap();
    assert_eq!(plan.checks[0].plugin, PluginRef::File("/etc/vitals/plugins/mine.wasm".into()));
}

#[test]
fn an_unknown_key_names_file_line_and_column() {
    let text = error_text(&format!("{MINIMAL}intervall = \"5s\"\n"));
    assert!(text.contains("unknown field `intervall`"), "{text}");
    assert!(text.contains("--> /etc/vitals/checks.toml:6:1"), "{text}");
    assert!(text.contains("6 | intervall = \"5s\""), "{text}");
}

#[test]
fn a_bad_duration_points_at_its_value_and_says_how_to_write_one() {
    let text = error_text(&format!("{MINIMAL}timeout = \"5 parsecs\"\n"));
    assert!(text.contains("invalid duration \"5 parsecs\": unknown unit 'parsecs'"), "{text}");
    assert!(text.contains("checks.toml:6:11"), "{text}");
    assert!(text.contains("help: write a number and a unit"), "{text}");
}

#[test]
fn a_toml_syntax_error_is_located() {
    let text = error_text("[[check]]\nname = \"web\nplugin = \"http\"\n");
    assert!(text.contains("checks.toml:2:"), "{text}");
}

#[test]
fn duplicate_names_point_at_the_second_one() {
    let text = error_text(&format!("{MINIMAL}{MINIMAL}"));
    assert!(text.contains("duplicate check name `web`"), "{text}");
    assert!(text.contains("checks.toml:8:8"), "{text}");
}

#[test]
fn missing_required_fields_are_named() {
    let text = error_text("[[check]]\nname = \"web\"\nplugin = \"http\"\n");
    assert!(text.contains("missing field `target`"), "{text}");
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let text = error_text(&format!("{MINIMAL}timeout = \"x\"\nmemory = \"lots\"\n"));
    assert!(text.contains("invalid duration"), "{text}");
    assert!(text.contains("invalid size"), "{text}");
    assert!(text.contains("2 errors in the configuration"), "{text}");
}

#[test]
fn memory_out_of_range_is_refused() {
    let text = error_text(&format!("{MINIMAL}memory = \"64GiB\"\n"));
    assert!(text.contains("memory 64 GiB is out of range"), "{text}");
}

#[test]
fn env_references_expand_and_are_remembered_as_secrets() {
    let plan = parse_text(&format!(
        "{MINIMAL}[check.config]\nheaders = {{ Authorization = \"Bearer ${{env:API_TOKEN}}\" }}\n"
    ))
    .unwrap();
    let c = &plan.checks[0];
    assert!(c.config_json().contains("Bearer tok-123"));
    assert_eq!(c.secrets.as_slice(), ["tok-123".to_string()]);
}

#[test]
fn a_target_with_a_secret_is_displayed_as_written() {
    let plan = parse_text(&MINIMAL.replace("/health", "/health?token=${env:API_TOKEN}")).unwrap();
    let c = &plan.checks[0];
    assert!(c.target.ends_with("token=tok-123"));
    assert!(c.target_display.ends_with("token=${env:API_TOKEN}"));
}

#[test]
fn a_missing_environment_variable_is_an_error_at_the_reference() {
    let text = error_text(&format!("{MINIMAL}[check.config]\nbody = \"x ${{env:NOT_SET}}\"\n"));
    assert!(text.contains("environment variable `NOT_SET` is not set"), "{text}");
    assert!(text.contains("checks.toml:7:"), "{text}");
    assert!(!text.contains("tok-123"));
}

#[test]
fn an_invalid_target_is_refused_at_the_target() {
    let text = error_text(&MINIMAL.replace("http://127.0.0.1:8080/health", "not a target"));
    assert!(text.contains("check target \"not a target\": no port given"), "{text}");
    assert!(text.contains("checks.toml:5:10"), "{text}");
}

#[test]
fn a_bare_star_allow_entry_teaches_the_explicit_spelling() {
    let text = error_text(&format!("{MINIMAL}allow = [\"*\"]\n"));
    assert!(text.contains("*:*"), "{text}");
    assert!(text.contains("checks.toml:6:10"), "{text}");
}

#[test]
fn an_empty_file_says_what_to_add() {
    let text = error_text("# nothing yet\n");
    assert!(text.contains("no checks defined"), "{text}");
}

#[test]
fn cron_with_a_time_zone_and_retry_settings_resolve() {
    let plan = parse_text(&format!(
        "{MINIMAL}cron = \"*/5 * * * *\"\ntimezone = \"Europe/Paris\"\nretries = 3\nretry_interval = \"20s\"\nrecover_after = 2\n"
    ))
    .unwrap();
    let t = &plan.checks[0].timing;
    assert_eq!(t.schedule.describe(), "cron */5 * * * * (Europe/Paris)");
    assert_eq!(t.interval, Duration::from_secs(300));
    assert_eq!((t.policy.retries, t.policy.recover_after), (3, 2));
    assert_eq!(t.retry_interval, Duration::from_secs(20));
}

#[test]
fn a_check_may_choose_cron_over_a_default_interval_but_not_both() {
    let plan = parse_text(&format!("[defaults]\ninterval = \"30s\"\n{MINIMAL}cron = \"0 * * * *\"\n")).unwrap();
    assert!(plan.checks[0].timing.schedule.describe().starts_with("cron 0 * * * *"));
    let text = error_text(&format!("{MINIMAL}interval = \"30s\"\ncron = \"0 * * * *\"\n"));
    assert!(text.contains("check sets both interval (30s) and cron (0 * * * *)"), "{text}");
    assert!(text.contains("checks.toml:7:8"), "{text}");
}

#[test]
fn bad_cron_time_zone_and_retries_point_at_their_values() {
    let text = error_text(&format!("{MINIMAL}cron = \"*/5 * * *\"\n"));
    assert!(text.contains("has 4 fields"), "{text}");
    assert!(text.contains("checks.toml:6:8"), "{text}");
    let text = error_text(&format!("{MINIMAL}cron = \"0 * * * *\"\ntimezone = \"Europe/Pariss\"\n"));
    assert!(text.contains("unknown time zone \"Europe/Pariss\""), "{text}");
    assert!(text.contains("checks.toml:7:12"), "{text}");
    let text = error_text(&format!("{MINIMAL}retries = 99\n"));
    assert!(text.contains("retries = 99 is out of range"), "{text}");
    let text = error_text(&format!("{MINIMAL}flap_low = 40.0\nflap_high = 30.0\n"));
    assert!(text.contains("flapping thresholds"), "{text}");
    let text = error_text(&format!("{MINIMAL}jitter = \"2m\"\n"));
    assert!(text.contains("jitter"), "{text}");
}

#[test]
fn slo_is_a_percentage_with_a_window_and_bad_ones_are_refused() {
    let plan = parse_text(&format!("[defaults]\nslo = \"99.9%\"\n{MINIMAL}slo_window = \"7d\"\n")).unwrap();
    let slo = plan.checks[0].timing.slo.as_ref().unwrap();
    assert!((slo.target - 0.999).abs() < 1e-12);
    assert_eq!(slo.window, Duration::from_secs(7 * 86_400));
    let text = error_text(&format!("{MINIMAL}slo = \"100.5%\"\n"));
    assert!(text.contains("invalid slo \"100.5%\""), "{text}");
    assert!(text.contains("checks.toml:6:7"), "{text}");
}

/// Five mistakes of five kinds, each in another table (also run through `vitals validate`
/// by `tests/cli.rs`).
const FIVE_MISTAKES: &str = include_str!("../../../tests/golden/five-mistakes.toml");

/// The `--> file:line:col` locations of an error text, in order.
fn locations(text: &str) -> Vec<String> {
    text.lines().filter_map(|l| l.trim_start().strip_prefix("--> /etc/vitals/checks.toml:")).map(String::from).collect()
}

#[test]
fn five_mistakes_in_five_tables_give_five_located_errors_in_file_order() {
    let text = error_text(FIVE_MISTAKES);
    assert_eq!(locations(&text), ["3:1", "9:11", "15:1", "16:10", "22:11"], "{text}");
    for part in [
        "unknown field `retrys` in [defaults]",
        "help: did you mean `retries`?",
        "`timeout` must be a duration string, found integer 5",
        "help: write `timeout = \"5s\"`",
        "unknown field `intervall` in [[check]]",
        "help: did you mean `interval`?",
        "not a URL; write \"auth.example.com:8443\"",
        "hour 25 is out of range 0-23",
        "5 errors in the configuration",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
}

#[test]
fn a_bare_number_where_a_string_is_expected_gets_the_line_to_write() {
    let cases = [
        ("timeout = 5", "write `timeout = \"5s\"`"),
        ("interval = 30", "write `interval = \"30s\"`"),
        ("retry_interval = 20", "write `retry_interval = \"20s\"`"),
        ("jitter = 2.5", "write `jitter = \"2.5s\"`"),
        ("slo_window = 7", "write `slo_window = \"7d\"`"),
        ("memory = 64", "write `memory = \"64MiB\"`"),
        ("memory = 16777216", "write `memory = \"16MiB\"`"),
        ("slo = 99.9", "write `slo = \"99.9%\"`"),
        ("retries = \"3\"", "write `retries = 3`"),
        ("recover_after = 2.0", "write `recover_after = 2`"),
        ("flap_high = \"30\"", "write `flap_high = 30`"),
        ("tags = \"prod\"", "write `tags = [\"prod\"]`"),
        ("timezone = 1", "write `timezone = \"1\"`"),
    ];
    for (line, help) in cases {
        let text = error_text(&format!("{MINIMAL}{line}\n"));
        assert!(text.contains(help), "{line}: {text}");
        assert!(text.contains("--> /etc/vitals/checks.toml:6:"), "{line}: {text}");
    }
}

#[test]
fn a_wrong_type_says_what_was_expected_and_what_was_found() {
    let text = error_text(&format!("{MINIMAL}timeout_status = true\ntags = [\"a\", 2, [\"b\"]]\nretries = [1]\n"));
    assert!(text.contains("`timeout_status` must be a string, found boolean true"), "{text}");
    assert!(text.contains("item 2 of `tags` must be a string, found integer 2"), "{text}");
    assert!(text.contains("help: put it in quotes: \"2\""), "{text}");
    assert!(text.contains("item 3 of `tags` must be a string, found array"), "{text}");
    assert!(text.contains("`retries` must be a whole number, found array"), "{text}");
    assert!(text.contains("help: write for example `retries = 3`"), "{text}");
    assert_eq!(locations(&text), ["6:18", "7:14", "7:17", "8:11"], "{text}");
}

#[test]
fn every_mistake_of_one_table_is_reported() {
    let text = error_text(&format!("{MINIMAL}timeout = 5\nmemory = 64\nintervall = \"5s\"\ncolour = \"red\"\n"));
    assert_eq!(locations(&text), ["6:11", "7:10", "8:1", "9:1"], "{text}");
    assert!(text.contains("unknown field `colour` in [[check]]"), "{text}");
    assert!(text.contains("plugin settings go under [check.config]"), "{text}");
}

#[test]
fn misspelt_keys_get_the_nearest_key_of_their_table() {
    let cases = [
        (format!("[defaults]\ntimout = \"5s\"\n{MINIMAL}"), "unknown field `timout` in [defaults]", "`timeout`"),
        (
            format!(
                "{MINIMAL}\n[[notifier]]\nname = \"n\"\nplugn = \"webhook\"\nplugin = \"webhook\"\ntarget = \"http://127.0.0.1:9/\"\n"
            ),
            "unknown field `plugn` in [[notifier]]",
            "`plugin`",
        ),
        (
            format!(
                "{MINIMAL}\n[[maintenance]]\nstart = \"2026-11-29T22:00:00Z\"\nduration = \"2h\"\nchecsk = [\"web\"]\n"
            ),
            "unknown field `checsk` in [[maintenance]]",
            "`checks`",
        ),
        (format!("{MINIMAL}\n[store]\nretension = \"30d\"\n"), "unknown field `retension` in [store]", "`retention`"),
        (format!("{MINIMAL}\n[gate]\ncondition = []\n"), "unknown field `condition` in [gate]", "`conditions`"),
        (MINIMAL.replace("[[check]]", "[[checks]]"), "unknown table [[checks]]", "[[check]]"),
        (format!("[default]\ntimeout = \"5s\"\n{MINIMAL}"), "unknown table [default]", "[defaults]"),
    ];
    for (config, message, near) in cases {
        let text = error_text(&config);
        assert!(text.contains(message), "{text}");
        assert!(text.contains(&format!("help: did you mean {near}?")), "{text}");
    }
}

#[test]
fn a_key_far_from_every_known_one_gets_the_list_of_keys() {
    let text = error_text(&format!("{MINIMAL}\n[store]\nzzz = 1\n"));
    assert!(text.contains("help: [store] takes `retention`"), "{text}");
    let text = error_text(&format!("verbose = true\n{MINIMAL}"));
    assert!(text.contains("unknown field `verbose` outside any table"), "{text}");
    assert!(text.contains("settings shared by every check go under [defaults]"), "{text}");
}

#[test]
fn a_table_written_with_the_wrong_brackets_says_which_to_write() {
    let text = error_text(&MINIMAL.replace("[[check]]", "[check]"));
    assert!(text.contains("`check` must be an array of tables, found table"), "{text}");
    assert!(text.contains("write [[check]], with two brackets, before each one"), "{text}");
    let text = error_text(&format!("[[defaults]]\ntimeout = \"5s\"\n{MINIMAL}"));
    assert!(text.contains("`defaults` must be a table, found array"), "{text}");
    assert!(text.contains("write [defaults], with one bracket, once"), "{text}");
}

#[test]
fn a_check_with_a_missing_field_hides_no_other_mistake() {
    let text = error_text(&format!("[[check]]\nname = \"a\"\nplugin = \"http\"\n{MINIMAL}timeout = \"x\"\n"));
    assert!(text.contains("missing field `target` in [[check]]"), "{text}");
    assert!(text.contains("help: add `target = \"...\"` to this [[check]]"), "{text}");
    assert!(text.contains("invalid duration \"x\""), "{text}");
    assert_eq!(locations(&text), ["1:1", "9:11"], "{text}");
}

#[test]
fn every_scheduling_mistake_of_a_check_is_reported() {
    let text = error_text(&format!("{MINIMAL}jitter = \"soon\"\nretries = 99\nrecover_after = 0\nslo = \"101%\"\n"));
    assert_eq!(locations(&text), ["6:10", "7:11", "8:17", "9:7"], "{text}");
}

#[test]
fn a_cron_number_out_of_range_is_named_and_pointed_at() {
    let text = error_text(&format!("{MINIMAL}cron = \"0 25 * * *\"\n"));
    assert!(text.contains("cron expression \"0 25 * * *\": hour 25 is out of range 0-23"), "{text}");
    assert!(text.contains("checks.toml:6:11"), "{text}");
    assert!(text.contains("help: the five fields are minute hour day-of-month month day-of-week"), "{text}");
    let text = error_text(&format!("{MINIMAL}cron = '15 0 9 * * 8'\n"));
    assert!(text.contains("day of week 8 is out of range 0-7"), "{text}");
    assert!(text.contains("checks.toml:6:20"), "{text}");
    let text = error_text(&format!("{MINIMAL}cron = \"@hourlyy\"\n"));
    assert!(text.contains("(did you mean \"@hourly\"?)"), "{text}");
    assert!(text.contains("@yearly, @annually, @monthly, @weekly, @daily, @hourly"), "{text}");
}

#[test]
fn a_maintenance_cron_out_of_range_is_pointed_at_too() {
    let text = error_text(&format!("{MINIMAL}\n[[maintenance]]\ncron = \"0 3 * 13 *\"\nduration = \"1h\"\n"));
    assert!(text.contains("invalid maintenance schedule: cron expression \"0 3 * 13 *\": month 13"), "{text}");
    assert!(text.contains("checks.toml:8:15"), "{text}");
}

#[test]
fn every_bad_allow_entry_of_a_check_is_reported() {
    let text = error_text(&format!(
        "{MINIMAL}allow = [\"http://a.example\", \"ok.example:80\", \"https://b.example:8443/x\", \"*\"]\n"
    ));
    assert!(
        text.contains("allow entry \"http://a.example\": an entry is host:port, not a URL; write \"a.example:80\""),
        "{text}"
    );
    assert!(text.contains("write \"b.example:8443\""), "{text}");
    assert!(text.contains("\"*:*\""), "{text}");
    assert_eq!(locations(&text), ["6:10", "6:47", "6:75"], "{text}");
}

#[test]
fn a_bad_defaults_entry_is_reported_once_where_it_is_written() {
    let two = format!("{MINIMAL}{}", MINIMAL.replace("\"web\"", "\"api\""));
    let text = error_text(&format!("[defaults]\nallow = [\"http://x.example\"]\ncron = \"61 * * * *\"\n{two}"));
    assert_eq!(locations(&text), ["2:10", "3:9"], "{text}");
    assert!(text.contains("write \"x.example:80\""), "{text}");
    assert!(text.contains("minute 61 is out of range 0-59"), "{text}");
}

#[test]
fn maintenance_may_name_a_check_that_has_a_mistake_of_its_own() {
    let text = error_text(&format!(
        "{MINIMAL}timeout = \"x\"\ntags = [\"edge\"]\n\n[[maintenance]]\nstart = \"2026-11-29T22:00:00Z\"\nduration = \"2h\"\nchecks = [\"web\"]\ntags = [\"edge\"]\n"
    ));
    assert!(text.contains("invalid duration \"x\""), "{text}");
    assert!(!text.contains("no check"), "{text}");
}

#[test]
fn an_unquoted_date_gets_its_quotes() {
    let text = error_text(&format!("{MINIMAL}\n[[maintenance]]\nstart = 2026-11-29T22:00:00Z\nduration = \"2h\"\n"));
    assert!(text.contains("`start` must be a string, found datetime 2026-11-29T22:00:00Z"), "{text}");
    assert!(text.contains("write `start = \"2026-11-29T22:00:00Z\"`"), "{text}");
    assert!(!text.contains("needs start or cron"), "{text}");
    let text = error_text(&format!("{MINIMAL}\n[[maintenance]]\ncron = \"@daily\"\nduration = 120\n"));
    assert!(text.contains("write `duration = \"120m\"`"), "{text}");
    assert!(!text.contains("missing field"), "{text}");
    let text = error_text(&format!("{MINIMAL}\n[[maintenance]]\ncron = \"@daily\"\ntags = [\"x\"]\n"));
    assert!(text.contains("missing field `duration` in [[maintenance]]"), "{text}");
    assert!(!text.contains("unknown field"), "{text}");
}

#[test]
fn plugin_config_keeps_its_values_and_their_places() {
    let plan =
        parse_text(&format!("{MINIMAL}[check.config]\nexpect_status = 200\nheaders = {{ a = \"b\" }}\n")).unwrap();
    let c = &plan.checks[0];
    assert_eq!(c.config.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["expect_status", "headers"]);
    assert_eq!(c.config[0].value, toml::Value::Integer(200));
    assert_eq!(plan.source.line_col(c.config[0].value_span.start), (7, 17));
    assert_eq!(plan.source.line_col(c.config_span.start), (6, 1));
    let text = error_text(&format!("{MINIMAL}[check.config]\nbig = 99999999999999999999\n"));
    assert!(text.contains("`big` cannot be read"), "{text}");
    assert!(text.contains("help: TOML integers have 64 bits"), "{text}");
}

#[test]
fn network_budgets_come_from_the_check_then_defaults_then_the_documented_defaults() {
    let plan = parse_text(&format!("[defaults]\nrefusals_per_run = 3\n\n{MINIMAL}connections_per_run = 7\n")).unwrap();
    assert_eq!(plan.checks[0].budget, crate::plan::NetBudget { connections: 7, refusals: 3 });
    let plan = parse_text(MINIMAL).unwrap();
    assert_eq!(plan.checks[0].budget, crate::plan::NetBudget::DEFAULT);
    let text = error_text(&format!("{MINIMAL}connections_per_run = 0\n"));
    assert!(text.contains("connections_per_run = 0 is out of range"), "{text}");
}

#[test]
fn a_check_ca_is_read_when_the_config_is_and_a_bad_one_points_at_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = rcgen::generate_simple_self_signed(vec!["ca.test".to_string()]).expect("certificate");
    std::fs::write(dir.path().join("ca.pem"), cert.cert.pem()).expect("write ca");
    std::fs::write(dir.path().join("empty.pem"), "not a certificate\n").expect("write");
    let text = |ca: &str| {
        format!("[[check]]\nname = \"web\"\nplugin = \"http\"\ntarget = \"https://127.0.0.1:8443/\"\nca = \"{ca}\"\n")
    };
    let source = |ca: &str| SourceFile::new(dir.path().join("checks.toml").display().to_string(), text(ca));
    let plan = match parse(source("ca.pem"), &env) {
        Ok(plan) => plan,
        Err(e) => panic!("{e}"),
    };
    let trust = plan.checks[0].grants.trust().expect("the check trusts its ca");
    assert_eq!(trust.path(), dir.path().join("ca.pem"));
    assert_eq!(trust.roots().len(), 1);
    for (file, says) in [("missing.pem", "cannot read"), ("empty.pem", "holds no PEM certificate")] {
        let err = match parse(source(file), &env) {
            Ok(_) => panic!("{file} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(says) && err.contains("checks.toml:5:6"), "{file}: {err}");
    }
}

#[test]
fn exec_in_defaults_allow_is_refused_since_every_check_would_get_the_program() {
    let err = error_text(
        "[defaults]\nallow = [\"exec:/usr/bin/id\"]\n\n[[check]]\nname = \"a\"\nplugin = \"tcp\"\ntarget = \"127.0.0.1:9\"\n",
    );
    assert!(err.contains("would let every check run that program") && err.contains("checks.toml:2:10"), "{err}");
}

#[test]
fn locations_and_quorum_are_read_and_checked() {
    let plan = parse_text(&format!("{MINIMAL}locations = [\"eu\", \"us\"]\nquorum = 2\n")).expect("valid");
    assert_eq!(plan.checks[0].locations, ["eu", "us"]);
    assert_eq!(plan.checks[0].quorum, 2);
    let plain = parse_text(MINIMAL).expect("valid");
    assert!(plain.checks[0].locations.is_empty());
    assert_eq!(plain.checks[0].quorum, 1);
    for (extra, says) in [
        ("locations = [\"eu\", \"eu\"]\n", "location `eu` is listed twice"),
        ("locations = [\"e u\"]\n", "`e u` is not a location name"),
        ("locations = [\"all\"]\n", "`all` is not a location name"),
        ("locations = [\"eu\"]\nquorum = 2\n", "quorum 2 is out of range"),
        ("quorum = 1\n", "quorum needs locations"),
        ("locations = []\n", "locations list is empty"),
    ] {
        let text = error_text(&format!("{MINIMAL}{extra}"));
        assert!(text.contains(says), "{extra}: {text}");
        assert!(text.contains("checks.toml:"), "{extra}: {text}");
    }
    let text = error_text("[[check]]\nname = \"web@eu\"\nplugin = \"http\"\ntarget = \"http://127.0.0.1/\"\n");
    assert!(text.contains("has a `@`"), "{text}");
}

#[test]
fn the_store_url_is_checked_and_shown_without_the_environment() {
    let plan =
        parse_text(&format!("[store]\nurl = \"postgres://vitals:${{env:API_TOKEN}}@db.internal/vitals\"\n\n{MINIMAL}"))
            .expect("valid");
    let store = plan.store.expect("a store");
    assert_eq!(store.url(), "postgres://vitals:tok-123@db.internal/vitals");
    assert!(!store.shown().contains("tok-123") && store.shown().contains("***"), "{}", store.shown());
    let text = error_text(&format!("[store]\nurl = \"mysql://db/vitals\"\n\n{MINIMAL}"));
    assert!(text.contains("invalid store url") && text.contains("checks.toml:2:7"), "{text}");
}
