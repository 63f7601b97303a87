//! Several `vitals run` daemons sharing one PostgreSQL store (the real server on
//! 127.0.0.1:5432, a database of each test's own): 300 checks shared by three runners, one
//! of them killed; two locations under a quorum; the store cut off and back.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::pg::Database;
use support::{Sandbox, servers, vitals};

/// One daemon sharing the store.
struct Runner {
    child: Child,
    id: String,
}

impl Runner {
    /// Starts runner `id` on `config` with the shared store `url`, its buffer in `dir`.
    fn start(config: &Path, url: &str, id: &str, extra: &[&str], env: &[(&str, &str)]) -> Runner {
        let dir = config.parent().expect("config dir");
        let mut cmd = vitals();
        cmd.env("VITALS_LOG", "info")
            .arg("--config")
            .arg(config)
            .arg("--store")
            .arg(url)
            .args(["run", "--heartbeat", "300ms", "--heartbeat-timeout", "1s", "--runner-id", id, "--buffer"])
            .arg(dir.join(format!("{id}-buffer.db")))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(dir.join(format!("{id}.log"))).expect("log file")));
        for (k, v) in env {
            cmd.env(k, v);
        }
        Runner { child: cmd.spawn().expect("start a runner"), id: id.to_owned() }
    }

    fn signal(&self, name: &str) {
        let status =
            std::process::Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{name} {}", self.id);
    }

    /// SIGTERM, then the exit code.
    fn stop(mut self) -> Option<i32> {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "{} did not stop within 30 s of SIGTERM", self.id);
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// `vitals runners --format json` against `url`: the live runners' ids and checks owned.
fn live_runners(sandbox: &Sandbox, url: &str) -> BTreeMap<String, u64> {
    let out = sandbox.vitals(&["--store", url, "runners", "--format", "json", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["runners"]
        .as_array()
        .expect("runners")
        .iter()
        .filter(|r| r["live"] == true)
        .map(|r| (r["id"].as_str().unwrap_or("").to_owned(), r["checks"].as_u64().unwrap_or(0)))
        .collect()
}

/// The start times of every stored result, by check.
fn starts(db: &Database) -> HashMap<String, Vec<i64>> {
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for line in db.sql("SELECT check_name || ' ' || started_at_ms FROM results ORDER BY started_at_ms").lines() {
        let (name, at) = line.split_once(' ').expect("two columns");
        out.entry(name.to_owned()).or_default().push(at.parse().expect("ms"));
    }
    out
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Counts each check's runs per interval slot (the runs nearest `phase + k·every`) with its
/// slot's nominal time in `[from, to)`, the phase read off its first run (runs start at
/// their phase, a few ms late at most).
fn runs_per_slot(starts: &[i64], every: i64, from: i64, to: i64) -> Vec<(i64, usize)> {
    let phase = starts[0].rem_euclid(every);
    let mut slots: BTreeMap<i64, usize> = BTreeMap::new();
    let first = (from - phase).div_euclid(every) + 1;
    let last = (to - phase).div_euclid(every) - 1;
    for k in first..=last {
        slots.insert(phase + k * every, 0);
    }
    for at in starts {
        // Rounded, not floored: each runner's clock reads the same due time a few ms apart.
        let k = (at - phase + every / 2).div_euclid(every);
        if let Some(n) = slots.get_mut(&(phase + k * every)) {
            *n += 1;
        }
    }
    slots.into_iter().collect()
}

#[test]
fn three_runners_share_300_checks_and_take_over_from_one_killed() {
    let db = Database::new();
    let url = db.url();
    let target = servers::banner("hello\n");
    let mut config = String::from("[defaults]\ninterval = \"4s\"\ntimeout = \"2s\"\nmax_per_host = 64\n\n");
    for i in 0..300 {
        config.push_str(&format!("[[check]]\nname = \"c{i:03}\"\nplugin = \"tcp\"\ntarget = \"{target}\"\n\n"));
    }
    let sandbox = Sandbox::new(&config);
    let mut runners: Vec<Runner> =
        ["r1", "r2", "r3"].iter().map(|id| Runner::start(&sandbox.config(), &url, id, &[], &[])).collect();
    wait_until("three runners share the checks", Duration::from_secs(60), || {
        let live = live_runners(&sandbox, &url);
        live.len() == 3 && live.values().sum::<u64>() == 300 && live.values().all(|n| *n > 0)
    });
    // Two heartbeats more: every runner has seen the others.
    thread::sleep(Duration::from_millis(700));
    let shared_from = now_ms();
    thread::sleep(Duration::from_secs(9));
    let killed = runners.remove(1);
    let kill_at = now_ms();
    let _ = std::process::Command::new("kill").arg("-KILL").arg(killed.child.id().to_string()).status();
    drop(killed);
    wait_until("two runners hold the 300 checks", Duration::from_secs(20), || {
        let live = live_runners(&sandbox, &url);
        live.len() == 2 && live.values().sum::<u64>() == 300
    });
    thread::sleep(Duration::from_secs(9));
    let until = now_ms();
    for runner in runners {
        assert_eq!(runner.stop(), Some(0));
    }
    // The hand-over window: from the last batch the killed runner may not have written
    // (its writer gathers for 250 ms) to the survivors' takeover (heartbeat timeout plus a
    // heartbeat), with a margin for the machine's noise.
    let (window_from, window_to) = (kill_at - 1_000, kill_at + 1_000 + 300 + 1_500);
    let all = starts(&db);
    assert_eq!(all.len(), 300, "every check has results");
    let mut problems = Vec::new();
    for (name, at) in &all {
        for (slot, runs) in runs_per_slot(at, 4_000, shared_from, until) {
            let in_window = slot + 4_000 > window_from && slot < window_to;
            if runs > 1 || (runs == 0 && !in_window) {
                problems.push(format!("{name}: {runs} runs in the interval at {slot}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems (shared from {shared_from}, killed at {kill_at}, until {until}; statuses {}):\n{}",
        problems.len(),
        db.sql(
            "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT status, count(*) n FROM results GROUP BY status) s"
        ),
        problems[..problems.len().min(20)].join("\n")
    );
    let total: usize = db.sql("SELECT count(*) FROM results").parse().expect("count");
    let distinct: usize = db
        .sql("SELECT count(*) FROM (SELECT DISTINCT check_name, started_at_ms FROM results) d")
        .parse()
        .expect("count");
    assert_eq!(total, distinct, "no result is stored twice");
    // The killed runner is still registered, expired; the others left when they stopped.
    let out = sandbox.vitals(&["--store", &url, "runners", "--timeout", "1s"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("r2") && text.contains("expired"), "{text}");
    assert!(!text.contains("r1") && !text.contains("r3"), "{text}");
}

#[test]
fn a_quorum_of_two_locations_makes_one_hard_down_only_when_both_see_it() {
    let db = Database::new();
    let url = db.url();
    let always_down = servers::http();
    let (switch, up) = servers::switchable();
    let sandbox = Sandbox::new(
        "[[check]]\nname = \"web\"\nplugin = \"http\"\ntarget = \"${env:TARGET}\"\ninterval = \"2s\"\ntimeout = \"1s\"\n\
         retries = 0\nlocations = [\"eu\", \"us\"]\nquorum = 2\n",
    );
    let eu_target = format!("http://{always_down}/fail");
    let us_target = format!("http://{switch}/");
    let listen = || format!("127.0.0.1:{}", servers::closed_port());
    let (eu_listen, us_listen) = (listen(), listen());
    let eu = Runner::start(
        &sandbox.config(),
        &url,
        "eu-1",
        &["--location", "eu", "--listen", &eu_listen],
        &[("TARGET", &eu_target)],
    );
    let us = Runner::start(
        &sandbox.config(),
        &url,
        "us-1",
        &["--location", "us", "--listen", &us_listen],
        &[("TARGET", &us_target)],
    );
    let combined = |status: &str| -> usize {
        db.count(&format!("SELECT count(*) FROM results WHERE check_name = 'web' AND status = '{status}'"))
    };
    // eu sees it down, us up: the combined check stays up, and no HARD problem is raised.
    wait_until("three combined results while only eu sees it down", Duration::from_secs(60), || combined("ok") >= 3);
    let eu_down: usize =
        db.sql("SELECT count(*) FROM results WHERE check_name = 'web@eu' AND status = 'critical'").parse().unwrap_or(0);
    assert!(eu_down >= 2, "eu's own runs are stored as web@eu: {eu_down}");
    let summary = db.sql("SELECT summary FROM results WHERE check_name = 'web' ORDER BY started_at_ms DESC LIMIT 1");
    assert!(summary.contains("eu critical") && summary.contains("us ok"), "{summary}");
    let hard_downs = || -> usize {
        db.sql(
            "SELECT count(*) FROM events WHERE check_name = 'web' AND kind = 'hard_change' AND to_status = 'critical'",
        )
        .parse()
        .unwrap_or(0)
    };
    assert_eq!(hard_downs(), 0, "one location down is no HARD down under quorum 2");
    // Now both see it down: one HARD down event, once, for the check.
    up.store(false, Ordering::SeqCst);
    wait_until("the combined check is HARD down", Duration::from_secs(30), || hard_downs() >= 1);
    thread::sleep(Duration::from_secs(5));
    assert_eq!(hard_downs(), 1, "one HARD down event for the check");
    let locations: String = db.sql("SELECT string_agg(location, ',' ORDER BY location) FROM runners");
    assert_eq!(locations, "eu,us");
    // /status and /metrics say where each series ran from: eu's own runs at eu, the
    // combined check (on whichever runner owns it) at `all`.
    let status = |addr: &str| -> serde_json::Value {
        let (code, body) = servers::get(addr.parse().expect("addr"), "/status");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    };
    let (eu_status, us_status) = (status(&eu_listen), status(&us_listen));
    assert_eq!(eu_status["location"], "eu", "{eu_status:#}");
    assert_eq!(eu_status["checks"]["web@eu"]["check"], "web", "{eu_status:#}");
    assert_eq!(eu_status["checks"]["web@eu"]["location"], "eu", "{eu_status:#}");
    assert_eq!(us_status["checks"]["web@us"]["location"], "us", "{us_status:#}");
    let combined: Vec<&serde_json::Value> =
        [&eu_status, &us_status].into_iter().filter_map(|s| s["checks"].get("web")).collect();
    assert_eq!(combined.len(), 1, "one runner combines: {eu_status:#} {us_status:#}");
    assert_eq!(combined[0]["location"], "all");
    let (_, metrics) = servers::get(eu_listen.parse().expect("addr"), "/metrics");
    assert!(metrics.contains("vitals_check_status{check=\"web\",location=\"eu\",plugin=\"http\"} 2"), "{metrics}");
    assert_eq!(eu.stop(), Some(0));
    assert_eq!(us.stop(), Some(0));
    // The report has the combined check, then each location's figures beside it.
    let out = sandbox
        .vitals_env(&["--store", &url, "report", "--since", "1h", "--format", "json"], &[("TARGET", &eu_target)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let names: Vec<&str> =
        report["checks"].as_array().expect("checks").iter().filter_map(|c| c["check"].as_str()).collect();
    assert_eq!(names, ["web", "web@eu", "web@us"], "{report:#}");
}

/// A TCP proxy to PostgreSQL that the test can cut (every connection closed, new ones
/// refused) and restore.
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("addr").port();
        let open = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (flag, kept) = (Arc::clone(&open), Arc::clone(&conns));
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !flag.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect("127.0.0.1:5432") else { continue };
                if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
                    kept.lock().expect("lock").extend([c, s]);
                }
                pipe(client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                pipe(server, client);
            }
        });
        Proxy { port, open, conns }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for c in self.conns.lock().expect("lock").drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

#[test]
fn a_runner_cut_off_from_the_store_buffers_and_loses_nothing() {
    let db = Database::new();
    let proxy = Proxy::start();
    let url = db.url_via(proxy.port);
    let target = servers::banner("hello\n");
    let mut config = String::from("[defaults]\ninterval = \"1s\"\ntimeout = \"500ms\"\nmax_per_host = 32\n\n");
    for i in 0..20 {
        config.push_str(&format!("[[check]]\nname = \"c{i:02}\"\nplugin = \"tcp\"\ntarget = \"{target}\"\n\n"));
    }
    let sandbox = Sandbox::new(&config);
    let runner = Runner::start(&sandbox.config(), &url, "solo", &[], &[]);
    wait_until("the runner writes results", Duration::from_secs(60), || db.count("SELECT count(*) FROM results") >= 40);
    let from = now_ms();
    thread::sleep(Duration::from_secs(2));
    proxy.cut();
    let stored_at_cut: usize = db.sql("SELECT count(*) FROM results").parse().expect("count");
    thread::sleep(Duration::from_secs(5));
    let stored_while_cut: usize = db.sql("SELECT count(*) FROM results").parse().expect("count");
    assert!(stored_while_cut <= stored_at_cut + 20, "nothing reaches the store while it is cut off");
    proxy.restore();
    // The runner tries again within its backoff (at most 4 s after 5 s away) and hands the
    // buffer on.
    thread::sleep(Duration::from_secs(8));
    let until = now_ms() - 1_000;
    assert_eq!(runner.stop(), Some(0));
    let all = starts(&db);
    assert_eq!(all.len(), 20);
    let mut problems = Vec::new();
    for (name, at) in &all {
        for (slot, runs) in runs_per_slot(at, 1_000, from, until) {
            if runs != 1 {
                problems.push(format!("{name}: {runs} runs stored for the interval at {slot}"));
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems[..problems.len().min(20)].join("\n"));
    let log = std::fs::read_to_string(sandbox.dir.path().join("solo.log")).expect("log");
    assert!(log.contains("buffered on local disk"), "{log}");
    assert!(log.contains("the buffered results are stored"), "{log}");
}

#[test]
fn store_urls_and_stores_that_cannot_share_are_refused_clearly() {
    let target = servers::banner("hello\n");
    let sandbox = Sandbox::new(&format!("[[check]]\nname = \"c\"\nplugin = \"tcp\"\ntarget = \"{target}\"\n"));
    // A URL that is not PostgreSQL's: a usage error that never repeats the password.
    let out = sandbox.vitals(&["--store", "mysql://u:hunter2@db/x", "run", "--once"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("scheme is `mysql`") && !stderr.contains("hunter2"), "{stderr}");
    // A server nobody listens on: the store is unavailable (74), the password hidden.
    let url = format!("postgres://root:hunter2@127.0.0.1:{}/x", servers::closed_port());
    let out = sandbox.vitals(&["--store", &url, "run", "--once"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains("cannot reach the database server") && stderr.contains("***"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    // A heartbeat that would hammer the shared store.
    let out = sandbox.vitals(&["--store", "postgres://root@127.0.0.1/x", "run", "--heartbeat", "0s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("from 100ms to 1h"), "{stderr}");
    // `vitals runners` on the SQLite file: it keeps no membership, and says what does.
    let out = sandbox.vitals(&["runners"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains("not shared by runners") && stderr.contains("--store postgres://"), "{stderr}");
}
