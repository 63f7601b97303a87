//! The `system` check against this machine itself: its real file systems, memory and load
//! (judged with thresholds that cannot or must be crossed), a process and a listening port
//! the tests start themselves, a check without `allow = ["system"]`, and `vitals validate`.

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};

use crate::support::{Sandbox, metric, servers};
use crate::{reason, run, status, summary};

/// The grant every check of this plugin needs.
const ALLOW: &str = r#"allow = ["system"]"#;

/// A field of metric `name` of a result (`"crit"`, `"unit"`, ...).
fn metric_field<'a>(result: &'a serde_json::Value, name: &str, field: &str) -> &'a serde_json::Value {
    result["metrics"]
        .as_array()
        .and_then(|metrics| metrics.iter().find(|m| m["name"] == name))
        .map_or(&serde_json::Value::Null, |m| &m[field])
}

/// `sleep 30` started under a name of its own (its argv[0], which the host matches as
/// `ps -C` does), killed when dropped.
struct NamedSleep {
    child: Child,
    name: String,
}

impl NamedSleep {
    fn start() -> NamedSleep {
        let name = format!("vitals-sl-{}", std::process::id());
        let child = Command::new("sleep").arg0(&name).arg("30").stdin(Stdio::null()).spawn().expect("start sleep");
        // The kernel shows the new argv[0] once exec has happened.
        let cmdline = format!("/proc/{}/cmdline", child.id());
        for _ in 0..200 {
            if std::fs::read(&cmdline).is_ok_and(|c| c.starts_with(name.as_bytes())) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        NamedSleep { child, name }
    }
}

impl Drop for NamedSleep {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn generous_thresholds_on_the_real_machine_are_ok_with_its_metrics() {
    let config = r#"disk_crit = "100%"
inode_crit = "100%"
memory_crit = "100%"
swap_crit = "100%"
load_crit = 1000000"#;
    let (code, result, stderr) = run("system", "system:all", ALLOW, config);
    assert_eq!((status(&result), reason(&result)), ("ok", ""), "{result:#}\n{stderr}");
    assert_eq!(code, 0, "{stderr}");
    let text = summary(&result);
    assert!(text.starts_with("disk ") && text.contains(", memory ") && text.contains(" per core"), "{text}");
    let root = metric(&result, "disk_used_pct.root").expect("the root file system has a metric");
    assert!((0.0..=100.0).contains(&root), "{root}");
    assert_eq!(metric_field(&result, "disk_used_pct.root", "unit"), "%");
    assert_eq!(metric_field(&result, "disk_used_pct.root", "crit"), "100");
    assert!(metric(&result, "disk_free.root").is_some_and(|free| free >= 0.0));
    assert!(metric(&result, "memory_used_pct").is_some_and(|used| (0.0..=100.0).contains(&used)));
    assert!(metric(&result, "memory_available").is_some_and(|bytes| bytes > 0.0));
    assert!(metric(&result, "swap_used_pct").is_some_and(|used| (0.0..=100.0).contains(&used)));
    assert!(metric(&result, "load_per_core").is_some_and(|load| load >= 0.0));
    for name in ["load1", "load5", "load15"] {
        assert!(metric(&result, name).is_some(), "no {name} in {result:#}");
    }
}

#[test]
fn a_zero_percent_disk_threshold_is_critical_and_names_the_root_file_system() {
    let (code, result, stderr) = run("system", "system:disk", ALLOW, r#"disk_crit = "0%""#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert_eq!(code, 2);
    assert!(summary(&result).contains("disk / ") && summary(&result).contains("(critical > 0%)"), "{result:#}");
    assert_eq!(metric_field(&result, "disk_used_pct.root", "crit"), "0");
}

#[test]
fn a_zero_percent_memory_threshold_is_a_warning() {
    let (code, result, stderr) = run("system", "system:memory", ALLOW, r#"memory_warn = "0%""#);
    assert_eq!((status(&result), reason(&result)), ("warning", "assertion"), "{result:#}\n{stderr}");
    assert_eq!(code, 1);
    assert!(summary(&result).starts_with("memory ") && summary(&result).ends_with("used (warning > 0%)"), "{result:#}");
    assert!(metric(&result, "memory_used_pct").is_some_and(|used| used > 0.0 && used <= 100.0));
}

#[test]
fn a_process_the_test_started_is_counted() {
    let sleep = NamedSleep::start();
    let config = format!("process = \"{}\"\nprocess_min = 1\nprocess_max = 1", sleep.name);
    let (_, result, stderr) = run("system", "system:procs", ALLOW, &config);
    assert_eq!((status(&result), reason(&result)), ("ok", ""), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), format!("1 process named {}", sleep.name));
    assert_eq!(metric(&result, "processes"), Some(1.0));
    assert_eq!(metric_field(&result, "processes", "crit"), "1:1");
}

#[test]
fn a_process_that_does_not_run_is_critical() {
    let (_, result, stderr) = run("system", "system:procs", ALLOW, r#"process = "no-such-proc-vitals""#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), "0 processes named no-such-proc-vitals (critical, expected at least 1)");
    assert_eq!(metric(&result, "processes"), Some(0.0));
}

#[test]
fn a_port_the_test_listens_on_is_found_and_a_closed_one_is_critical() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (_, result, stderr) = run("system", "system:ports", ALLOW, &format!("listening = [{port}]"));
    assert_eq!((status(&result), reason(&result)), ("ok", ""), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), format!("port {port} listening"));
    assert_eq!(metric(&result, &format!("listening.{port}")), Some(1.0));

    let closed = servers::closed_port();
    let (_, result, stderr) = run("system", "system:ports", ALLOW, &format!("listening = [{port}, {closed}]"));
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), format!("port {closed} not listening (critical), port {port} listening"));
    assert_eq!(metric(&result, &format!("listening.{closed}")), Some(0.0));
    drop(listener);
}

/// The host refuses the facts of the machine to a check that was not granted them, and
/// the result says how to grant them (unknown, reason denied, as every refused host call).
#[test]
fn a_check_without_the_system_grant_is_refused_with_the_hosts_message() {
    let (code, result, stderr) = run("system", "system:disk", "", r#"disk_warn = "80%""#);
    assert_eq!((status(&result), reason(&result)), ("unknown", "denied"), "{result:#}\n{stderr}");
    assert_eq!(code, 3);
    assert_eq!(
        summary(&result),
        "reading the mounted file systems failed: the facts of this machine are not granted to this check; add \
         \"system\" to its allow list"
    );
}

#[test]
fn validate_refuses_a_threshold_that_is_no_percentage_and_names_the_key() {
    let sandbox = Sandbox::new(
        "[[check]]\nname = \"c\"\nplugin = \"system\"\ntarget = \"system:disk\"\nallow = [\"system\"]\n\
         [check.config]\ndisk_warn = \"abc\"\n",
    );
    let out = sandbox.vitals(&["validate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("`disk_warn`: expected a percentage such as \"80%\", found \"abc\""), "{stderr}");
    assert!(stderr.contains("checks.toml:7:13"), "{stderr}");
}
