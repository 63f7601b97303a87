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
