//! The `nagios` check running Debian's Monitoring Plugins (`monitoring-plugins-basic` and
//! `-standard`, in /usr/lib/nagios/plugins) through the host's `exec`: check_disk on `/`
//! at each status, check_load, check_tcp against a listener of the test's own and a closed
//! port, check_http against the HTTP server of tests/support, check_dummy, a program the
//! check is not granted, one that outlives its timeout, and what `vitals validate` says.

use std::net::TcpListener;
use std::path::Path;

use serde_json::Value;

use crate::support::{Sandbox, metric, servers, toml_str};
use crate::{reason, run, status, summary};

/// Where Debian's packages install the plugins.
const PLUGINS: &str = "/usr/lib/nagios/plugins";

/// The path of one of Debian's plugins, which must be installed.
fn plugin(name: &str) -> String {
    let path = format!("{PLUGINS}/{name}");
    assert!(Path::new(&path).exists(), "{path} is missing: install Debian's monitoring-plugins-basic and -standard");
    path
}

/// One run of a `nagios` check against `target` that is granted `program` and runs it
/// with `args`; `more` adds lines to its `[check.config]`.
fn nagios(target: &str, program: &str, args: &[&str], more: &str) -> (i32, Value, String) {
    let allow = format!("allow = [{}]", toml_str(&format!("exec:{program}")));
    run("nagios", target, &allow, &config(program, args, more))
}

/// The `[check.config]` lines running `program` with `args`.
fn config(program: &str, args: &[&str], more: &str) -> String {
    let args: Vec<String> = args.iter().map(|a| toml_str(a)).collect();
    format!("command = {}\nargs = [{}]\n{more}", toml_str(program), args.join(", "))
}

/// The metric object `name` of a result.
fn metric_object<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["metrics"]
        .as_array()
        .and_then(|metrics| metrics.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("no metric {name} in {result:#}"))
}

/// The details of a result, or "".
fn details(result: &Value) -> &str {
    result["details"].as_str().unwrap_or("")
}

/// check_disk on `/` with `-w`/`-c` free-space limits.
fn check_disk(warn: &str, crit: &str) -> (i32, Value, String) {
    nagios("system:disk", &plugin("check_disk"), &["-w", warn, "-c", crit, "-p", "/"], "")
}

#[test]
fn check_disk_with_room_to_spare_is_ok_with_the_root_file_system_in_bytes() {
    // Warn, and be critical, only when less than 1% of `/` is free.
    let (code, result, stderr) = check_disk("1%", "1%");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result:#}\n{stderr}");
    // "DISK OK - " is left out: Vitals prints the status itself.
    assert!(summary(&result).starts_with("free space: / "), "{}", summary(&result));
    let root = metric_object(&result, "root");
    assert_eq!(root["unit"], "B", "{root:#}");
    let (used, size) = (root["value"].as_f64().unwrap_or(-1.0), root["max"].as_f64().unwrap_or(0.0));
    assert!(used > 0.0 && used <= size, "{root:#}");
    assert_eq!(root["min"].as_f64(), Some(0.0), "{root:#}");
    assert!(root["warn"].is_string() && root["crit"].is_string(), "{root:#}");
    assert!(metric(&result, "time_total").is_some_and(|ms| ms > 0.0), "{result:#}");
    let ran = format!("program: {}, exit code 0, after ", plugin("check_disk"));
    assert!(details(&result).starts_with(&ran), "{result:#}");
}

#[test]
fn check_disk_warning_and_critical_come_from_its_exit_code() {
    // Warn when less than 100% is free (a used disk always is), critical below 0% (never).
    let (code, result, _) = check_disk("100%", "0%");
    assert_eq!((code, status(&result), reason(&result)), (1, "warning", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("free space: / "), "{}", summary(&result));
    assert_eq!(metric_object(&result, "root")["warn"], "0", "{result:#}");
    // Critical when less than 100% is free.
    let (code, result, _) = check_disk("100%", "100%");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}");
    assert_eq!(metric_object(&result, "root")["crit"], "0", "{result:#}");
}

#[test]
fn check_load_reports_its_three_averages_with_their_thresholds() {
    let args = ["-w", "1000,1000,1000", "-c", "2000,2000,2000"];
    let (code, result, _) = nagios("system:load", &plugin("check_load"), &args, "");
    assert_eq!((code, status(&result)), (0, "ok"), "{result:#}");
    assert!(summary(&result).starts_with("total load average: "), "{}", summary(&result));
    for name in ["load1", "load5", "load15"] {
        let load = metric_object(&result, name);
        assert!(load["value"].as_f64().is_some_and(|v| v >= 0.0), "{load:#}");
        assert_eq!((&load["unit"], &load["warn"], &load["crit"]), (&"".into(), &"1000".into(), &"2000".into()));
    }
}

#[test]
fn check_tcp_reaches_a_listener_through_the_host_and_port_macros() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a listener");
    let port = listener.local_addr().expect("address").port();
    let args = ["-H", "$HOST$", "-p", "$PORT$"];
    let (code, result, stderr) = nagios(&format!("127.0.0.1:{port}"), &plugin("check_tcp"), &args, "");
    assert_eq!((code, status(&result)), (0, "ok"), "{result:#}\n{stderr}");
    assert!(summary(&result).ends_with(&format!("second response time on 127.0.0.1 port {port}")), "{result:#}");
    let time = metric_object(&result, "time");
    assert_eq!((&time["unit"], time["max"].as_f64()), (&"s".into(), Some(10.0)), "{time:#}");
    drop(listener);
}

#[test]
fn check_tcp_on_a_closed_port_is_critical_from_the_program() {
    let port = servers::closed_port();
    let args = ["-H", "$HOST$", "-p", "$PORT$"];
    let (code, result, _) = nagios(&format!("127.0.0.1:{port}"), &plugin("check_tcp"), &args, "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}");
    assert_eq!(summary(&result), format!("connect to address 127.0.0.1 and port {port}: Connection refused"));
}

#[test]
fn check_http_is_ok_on_a_200_and_critical_on_a_500() {
    let addr = servers::http();
    let target = addr.to_string();
    let http = plugin("check_http");
    let (code, result, stderr) = nagios(&target, &http, &["-H", "$HOST$", "-p", "$PORT$", "-u", "/ok"], "");
    assert_eq!((code, status(&result)), (0, "ok"), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("HTTP/1.1 200 OK - "), "{}", summary(&result));
    assert_eq!(metric_object(&result, "time")["unit"], "s", "{result:#}");
    let size = metric_object(&result, "size");
    assert!(size["unit"] == "B" && size["value"].as_f64().is_some_and(|b| b > 0.0), "{size:#}");

    let (code, result, _) = nagios(&target, &http, &["-H", "$HOST$", "-p", "$PORT$", "-u", "/fail"], "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("HTTP/1.1 500 Internal Server Error"), "{}", summary(&result));
}

#[test]
fn exit_code_three_is_unknown_plugin_error() {
    let (code, result, _) = nagios("system:dummy", &plugin("check_dummy"), &["3", "text"], "");
    assert_eq!((code, status(&result), reason(&result)), (3, "unknown", "plugin-error"), "{result:#}");
    assert_eq!(summary(&result), "text");
    // Perfdata that cannot be read is said, never a failure.
    let (code, result, _) = nagios("system:dummy", &plugin("check_dummy"), &["0", "fine|junk"], "");
    assert_eq!((code, status(&result), summary(&result)), (0, "ok", "fine"), "{result:#}");
    assert!(details(&result).contains("perfdata \"junk\" skipped"), "{result:#}");
}

#[test]
fn a_program_the_check_is_not_granted_is_critical_denied() {
    let dummy = plugin("check_dummy");
    let (code, result, _) = run("nagios", "system:dummy", "", &config(&dummy, &["0", "fine"], ""));
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "denied"), "{result:#}");
    assert!(summary(&result).contains(&format!("add \"exec:{dummy}\"")), "{}", summary(&result));
    // A grant names one path exactly: another program of the same directory is refused too.
    let allow = format!("allow = [{}]", toml_str(&format!("exec:{}", plugin("check_load"))));
    let (_, result, _) = run("nagios", "system:dummy", &allow, &config(&dummy, &["0", "fine"], ""));
    assert_eq!((status(&result), reason(&result)), ("critical", "denied"), "{result:#}");
}

#[test]
fn a_program_past_its_timeout_is_ended_critical_timeout() {
    let sleep = "/usr/bin/sleep";
    assert!(Path::new(sleep).exists(), "{sleep} is missing");
    let (code, result, _) = nagios("system:sleep", sleep, &["30"], "timeout = \"500ms\"");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "timeout"), "{result:#}");
    assert!(summary(&result).starts_with("sleep did not finish within its timeout of 500"), "{}", summary(&result));
    assert!(metric(&result, "time_total").is_some_and(|ms| ms >= 500.0), "{result:#}");
    assert!(details(&result).contains("ended with its process group at its time limit"), "{result:#}");
}

#[test]
fn validate_refuses_a_nagios_macro_and_points_at_it() {
    let check_tcp = plugin("check_tcp");
    let toml = format!(
        "[[check]]\nname = \"c\"\nplugin = \"nagios\"\ntarget = \"127.0.0.1:22\"\nallow = [{}]\n[check.config]\n{}",
        toml_str(&format!("exec:{check_tcp}")),
        config(&check_tcp, &["-H", "$HOSTADDRESS$"], "")
    );
    let sandbox = Sandbox::new(&toml);
    let out = sandbox.vitals(&["validate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("the Nagios macro $HOSTADDRESS$ is not expanded by Vitals; write $HOST$"), "{stderr}");
    assert!(stderr.contains("checks.toml:8:"), "{stderr}");
}

#[test]
fn validate_accepts_a_granted_program_and_warns_that_it_runs_outside_the_sandbox() {
    let check_disk = plugin("check_disk");
    let toml = format!(
        "[[check]]\nname = \"c\"\nplugin = \"nagios\"\ntarget = \"system:disk\"\nallow = [{}]\n[check.config]\n{}",
        toml_str(&format!("exec:{check_disk}")),
        config(&check_disk, &["-w", "10%", "-c", "5%", "-p", "/"], "")
    );
    let out = Sandbox::new(&toml).vitals(&["validate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&format!("warning: check `c` may run {check_disk} outside the sandbox")), "{stderr}");
}
