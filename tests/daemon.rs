//! `vitals run` as a daemon, end to end: state changes against a server that goes down
//! and comes back, SIGTERM during a slow check, SIGHUP with a broken config, and the
//! /metrics, /healthz and /status endpoints.

mod support;

use std::process::{Child, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use support::{Sandbox, servers, vitals};

/// A daemon process with its HTTP endpoint.
struct Daemon {
    child: Child,
    listen: std::net::SocketAddr,
}

impl Daemon {
    fn start(sandbox: &Sandbox) -> Daemon {
        Daemon::start_with(sandbox, &[])
    }

    fn start_with(sandbox: &Sandbox, extra: &[&str]) -> Daemon {
        let port = servers::closed_port();
        let listen: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = vitals()
            .env("VITALS_LOG", "info")
            .arg("--config")
            .arg(sandbox.config())
            .args(["run", "--grace", "10s", "--listen", &listen.to_string()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the daemon");
        let daemon = Daemon { child, listen };
        wait_until("the daemon serves /healthz", Duration::from_secs(30), || {
            std::net::TcpStream::connect(listen).is_ok()
        });
        daemon
    }

    fn signal(&self, name: &str) {
        let status =
            std::process::Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{name}");
    }

    /// Sends SIGTERM and waits for the exit: code and stderr.
    fn stop(mut self) -> (Option<i32>, String) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
                }
                return (status.code(), stderr);
            }
            assert!(Instant::now() < deadline, "the daemon did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let Ok(conn) = rusqlite::Connection::open(db) else { return 0 };
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

fn check(name: &str, url: &str, extra: &str) -> String {
    format!(
        "[[check]]\nname = \"{name}\"\nplugin = \"http\"\ntarget = \"{url}\"\ninterval = \"1s\"\ntimeout = \"2s\"\n{extra}\n"
    )
}

#[test]
fn an_outage_and_its_recovery_are_exactly_one_hard_down_and_one_recovery_event() {
    let (addr, up) = servers::switchable();
    let (hook, received) = servers::receiver();
    let notifier = format!(
        "[[notifier]]\nname = \"ops\"\nplugin = \"webhook\"\ntarget = \"http://{hook}/vitals\"\n\
         [notifier.config]\nurl = \"http://{hook}/vitals\"\n"
    );
    let sandbox =
        Sandbox::new(&(check("site", &format!("http://{addr}/"), "retries = 1\nretry_interval = \"1s\"") + &notifier));
    let db = sandbox.db();
    let daemon = Daemon::start(&sandbox);
    wait_until("a first ok result", Duration::from_secs(20), || {
        count(&db, "SELECT count(*) FROM results WHERE status = 'ok'") >= 2
    });
    up.store(false, Ordering::SeqCst);
    wait_until("a HARD critical state", Duration::from_secs(20), || {
        count(&db, "SELECT count(*) FROM results WHERE status = 'critical' AND state_type = 'hard'") >= 2
    });
    let soft = count(&db, "SELECT count(*) FROM results WHERE status = 'critical' AND state_type = 'soft'");
    assert_eq!(soft, 1, "one SOFT attempt before HARD (retries = 1)");
    up.store(true, Ordering::SeqCst);
    wait_until("the recovery", Duration::from_secs(20), || {
        count(&db, "SELECT count(*) FROM events WHERE to_status = 'ok'") >= 1
    });
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(count(&db, "SELECT count(*) FROM events WHERE from_status = 'ok' AND to_status = 'critical'"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM events WHERE from_status = 'critical' AND to_status = 'ok'"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM events"), 2, "{stderr}");
    assert!(stderr.contains("HARD CRITICAL") && stderr.contains("RECOVERY"), "{stderr}");
    // The webhook notifier got both changes, in order.
    let bodies: Vec<serde_json::Value> =
        received.lock().unwrap().iter().map(|b| serde_json::from_str(b).expect("JSON body")).collect();
    assert_eq!(bodies.len(), 2, "{bodies:#?}");
    assert_eq!(
        (bodies[0]["check"].as_str(), bodies[0]["old_status"].as_str(), bodies[0]["new_status"].as_str()),
        (Some("site"), Some("ok"), Some("critical"))
    );
    assert_eq!((bodies[1]["old_status"].as_str(), bodies[1]["new_status"].as_str()), (Some("critical"), Some("ok")));
    assert_eq!(bodies[0]["kind"], "hard_change");
}

#[test]
fn sigterm_during_a_slow_check_waits_for_it_and_loses_nothing() {
    let web = servers::http();
    let sandbox = Sandbox::new(
        &check("slow", &format!("http://{web}/slow"), "timeout = \"5s\"").replace("timeout = \"2s\"\n", ""),
    );
    let db = sandbox.db();
    let daemon = Daemon::start(&sandbox);
    // The first run starts within the interval and takes 3 s; stop while it is going.
    wait_until("the first run started", Duration::from_secs(5), || {
        let (_, body) = servers::get(daemon.listen, "/metrics");
        body.lines().any(|l| l.starts_with("vitals_runs_in_flight") && !l.ends_with(" 0"))
    });
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(count(&db, "SELECT count(*) FROM results WHERE check_name = 'slow' AND status = 'ok'") >= 1, "{stderr}");
}

#[test]
fn sighup_with_a_broken_config_keeps_the_running_one() {
    let web = servers::http();
    let sandbox = Sandbox::new(&check("home", &format!("http://{web}/ok"), ""));
    let db = sandbox.db();
    let daemon = Daemon::start(&sandbox);
    wait_until("results", Duration::from_secs(10), || count(&db, "SELECT count(*) FROM results") >= 1);
    std::fs::write(sandbox.config(), "[[check]]\nname = \"home\"\nplugin = \"http\"\ntimeout = \"forever\"\n").unwrap();
    daemon.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    let before = count(&db, "SELECT count(*) FROM results");
    wait_until("more results after the failed reload", Duration::from_secs(10), || {
        count(&db, "SELECT count(*) FROM results") > before + 1
    });
    // A good config is then taken: the new check appears.
    std::fs::write(
        sandbox.config(),
        check("home", &format!("http://{web}/ok"), "") + &check("json", &format!("http://{web}/json"), ""),
    )
    .unwrap();
    daemon.signal("HUP");
    wait_until("the added check ran", Duration::from_secs(10), || {
        count(&db, "SELECT count(*) FROM results WHERE check_name = 'json'") >= 1
    });
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0));
    assert!(stderr.contains("configuration not reloaded"), "{stderr}");
    assert!(stderr.contains("missing field `target`"), "the error says why: {stderr}");
}

#[test]
fn metrics_healthz_and_status_describe_the_running_checks() {
    let web = servers::http();
    let sandbox = Sandbox::new(
        &(check("home", &format!("http://{web}/ok"), "") + &check("broken", &format!("http://{web}/fail"), "")),
    );
    // The opt-in series too, so that every metric docs/output.md names is in the scrape.
    let daemon = Daemon::start_with(&sandbox, &["--check-histograms", "--plugin-metrics"]);
    wait_until("both checks ran", Duration::from_secs(10), || {
        let (_, body) = servers::get(daemon.listen, "/metrics");
        body.contains("vitals_check_status{check=\"broken\"") && body.contains("vitals_check_status{check=\"home\"")
    });
    let (status, body) = servers::get(daemon.listen, "/metrics");
    assert_eq!(status, 200);
    let lines = body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the exposition parses");
    let value = |name: &str, check: &str| {
        scrape.samples.iter().find(|s| s.metric == name && s.labels.get("check") == Some(check)).map(|s| {
            match s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            }
        })
    };
    assert_eq!(value("vitals_check_status", "home"), Some(0.0));
    assert_eq!(value("vitals_check_status", "broken"), Some(2.0));
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "vitals_check_metric" && s.labels.get("metric") == Some("time_total"))
    );
    assert!(scrape.samples.iter().any(|s| s.metric.starts_with("vitals_schedule_lateness_seconds")));
    // Nothing was skipped, and the counter says 0 rather than being absent.
    assert_eq!(value("vitals_runs_skipped_total", "home"), Some(0.0), "{body}");
    // Every metric docs/output.md names is in the scrape, and every one in the scrape is
    // documented there.
    let scraped: std::collections::BTreeSet<String> = body
        .lines()
        .filter(|l| l.starts_with("vitals_"))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(|name| {
            ["_bucket", "_sum", "_count", "_created"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|base| body.contains(&format!("# TYPE {base} histogram")))
                .unwrap_or(name)
                .to_string()
        })
        .collect();
    let docs = std::fs::read_to_string(support::root().join("docs/output.md")).expect("docs/output.md");
    let section = docs.split("## `vitals run --listen ADDR`").nth(1).and_then(|s| s.split("\n## ").next());
    let documented: std::collections::BTreeSet<String> = section
        .expect("docs/output.md documents /metrics")
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("vitals_"))
        .map(str::to_string)
        .collect();
    assert_eq!(scraped, documented, "the scrape's metrics and those docs/output.md names differ");
    assert_eq!(servers::get(daemon.listen, "/healthz"), (200, "ok\n".to_string()));
    let (status, body) = servers::get(daemon.listen, "/status");
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).expect("status is JSON");
    assert_eq!(json["checks"]["broken"]["status"], "critical", "{json:#}");
    assert_eq!(json["checks"]["home"]["status"], "ok", "{json:#}");
    let (code, _) = daemon.stop();
    assert_eq!(code, Some(0));
}

#[test]
fn watch_reloads_when_the_config_file_changes() {
    let web = servers::http();
    let sandbox = Sandbox::new(&check("home", &format!("http://{web}/ok"), ""));
    let db = sandbox.db();
    let daemon = Daemon::start_with(&sandbox, &["--watch"]);
    wait_until("results", Duration::from_secs(10), || count(&db, "SELECT count(*) FROM results") >= 1);
    std::fs::write(sandbox.config(), check("renamed", &format!("http://{web}/ok"), "")).unwrap();
    wait_until("the renamed check ran", Duration::from_secs(15), || {
        count(&db, "SELECT count(*) FROM results WHERE check_name = 'renamed'") >= 1
    });
    let home_before = count(&db, "SELECT count(*) FROM results WHERE check_name = 'home'");
    std::thread::sleep(Duration::from_millis(2_500));
    assert_eq!(
        count(&db, "SELECT count(*) FROM results WHERE check_name = 'home'"),
        home_before,
        "removed check stopped"
    );
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("configuration reloaded"), "{stderr}");
}

fn webhook(name: &str, hook: std::net::SocketAddr) -> String {
    format!(
        "[[notifier]]\nname = \"{name}\"\nplugin = \"webhook\"\ntarget = \"http://{hook}/vitals\"\n\
         [notifier.config]\nurl = \"http://{hook}/vitals\"\n"
    )
}

#[test]
fn sighup_applies_the_whole_new_config_notifiers_included_or_refuses_it_whole() {
    let (addr, up) = servers::switchable();
    let (first_hook, first) = servers::receiver();
    let (second_hook, second) = servers::receiver();
    let site = check("site", &format!("http://{addr}/"), "retries = 0");
    let sandbox = Sandbox::new(&(site.clone() + &webhook("first", first_hook)));
    let db = sandbox.db();
    let daemon = Daemon::start(&sandbox);
    wait_until("a first result", Duration::from_secs(20), || count(&db, "SELECT count(*) FROM results") >= 1);

    // A new check with a notifier whose config its plugin refuses: nothing of the file is
    // taken, not even the check that is fine on its own.
    let broken = site.clone()
        + &check("extra", &format!("http://{addr}/"), "")
        + &webhook("second", second_hook).replace("[notifier.config]\n", "[notifier.config]\nno_such_key = 1\n");
    std::fs::write(sandbox.config(), broken).unwrap();
    daemon.signal("HUP");
    std::thread::sleep(Duration::from_millis(2_500));
    assert_eq!(count(&db, "SELECT count(*) FROM results WHERE check_name = 'extra'"), 0, "refused whole");

    // The same file with the notifier fixed, and a new retention: all of it applies.
    std::fs::write(sandbox.config(), site + &webhook("second", second_hook) + "[store]\nretention = \"3d\"\n").unwrap();
    daemon.signal("HUP");
    // The daemon's stderr is read at the end: give the reload time, then watch its effect
    // (the next state change must reach the second receiver).
    std::thread::sleep(Duration::from_millis(1_500));
    up.store(false, Ordering::SeqCst);
    wait_until("the second notifier got the outage", Duration::from_secs(20), || !second.lock().unwrap().is_empty());
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("configuration not reloaded"), "{stderr}");
    assert!(stderr.contains("no_such_key"), "the refusal says why: {stderr}");
    assert!(stderr.contains("configuration reloaded") && stderr.contains("retention_s=259200"), "{stderr}");
    assert!(first.lock().unwrap().is_empty(), "the replaced notifier got nothing after the reload");
    assert!(!stderr.contains('\x1b'), "no colour codes in logs written to a pipe: {stderr}");
    let body: serde_json::Value = serde_json::from_str(&second.lock().unwrap()[0]).expect("JSON body");
    assert_eq!((body["check"].as_str(), body["new_status"].as_str()), (Some("site"), Some("critical")));
}

#[test]
fn cpu_looping_plugins_do_not_make_the_daemons_healthy_checks_fail() {
    let wasm = support::toml_str(&support::hostile_plugin().display().to_string());
    let web = servers::http();
    let mut config = check("good", &format!("http://{web}/ok"), "").replace("timeout = \"2s\"", "timeout = \"1s\"");
    for name in ["loop1", "loop2"] {
        config += &format!(
            "[[check]]\nname = \"{name}\"\nplugin = {wasm}\ntarget = \"http://{web}/ok\"\ninterval = \"2s\"\n\
             timeout = \"1500ms\"\n[check.config]\nmode = \"loop\"\n"
        );
    }
    let sandbox = Sandbox::new(&config);
    let db = sandbox.db();
    let daemon = Daemon::start(&sandbox);
    wait_until("five results of the healthy check", Duration::from_secs(30), || {
        count(&db, "SELECT count(*) FROM results WHERE check_name = 'good'") >= 5
    });
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let failed = count(&db, "SELECT count(*) FROM results WHERE check_name = 'good' AND status != 'ok'");
    assert_eq!(failed, 0, "every run of the healthy check is ok: {stderr}");
    assert!(count(&db, "SELECT count(*) FROM results WHERE check_name LIKE 'loop%' AND status = 'critical'") >= 2);
}
