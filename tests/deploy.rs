//! The deployment files, end to end, so that they cannot drift from the binary:
//! deploy/vitals.service (its flags exist, `systemd-analyze verify` accepts it, its
//! ExecStart really runs, reloads on ExecReload and stops cleanly on KillSignal) and
//! deploy/crontab (its command, run by `sh -c`, stores results, and a run that finds the
//! lock held is skipped instead of overlapping).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Sandbox, root, servers, target_dir, vitals};

/// Where the deployment files expect the binary.
const INSTALLED: &str = "/usr/local/bin/vitals";

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A systemd unit file: sections in order, each with its `key=value` entries in order
/// (systemd keys may repeat).
struct Unit {
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl Unit {
    /// Parses the INI dialect systemd reads; anything else in the file is a test failure.
    fn parse(text: &str) -> Unit {
        let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            assert!(!line.ends_with('\\'), "line {}: keep every entry on one line: {line}", n + 1);
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                sections.push((name.to_string(), Vec::new()));
                continue;
            }
            let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("line {}: not key=value: {line}", n + 1));
            let key = key.trim();
            assert!(
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()),
                "line {}: bad key `{key}`",
                n + 1
            );
            let (_, entries) =
                sections.last_mut().unwrap_or_else(|| panic!("line {}: entry before any [section]", n + 1));
            entries.push((key.to_string(), value.trim().to_string()));
        }
        Unit { sections }
    }

    fn names(&self) -> Vec<&str> {
        self.sections.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// Every value of `key` in `section`.
    fn all(&self, section: &str, key: &str) -> Vec<&str> {
        self.sections
            .iter()
            .filter(|(name, _)| name == section)
            .flat_map(|(_, entries)| entries.iter())
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The one value of `key` in `section`.
    fn one(&self, section: &str, key: &str) -> &str {
        match self.all(section, key).as_slice() {
            [value] => value,
            other => panic!("[{section}] {key}= should be set exactly once, found {other:?}"),
        }
    }

    /// `Environment=` assignments, in order.
    fn environment(&self) -> Vec<(String, String)> {
        self.all("Service", "Environment")
            .iter()
            .flat_map(|v| v.split_whitespace())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("Environment entry without `=`: {kv}"));
                (k.to_string(), v.to_string())
            })
            .collect()
    }
}

fn unit() -> Unit {
    Unit::parse(&read("deploy/vitals.service"))
}

/// ExecStart, split into words (the unit uses no quoting).
fn exec_start(unit: &Unit) -> Vec<String> {
    let line = unit.one("Service", "ExecStart");
    assert!(!line.contains(['"', '\'', '\\']), "the tests split ExecStart on spaces; do not quote it: {line}");
    line.split_whitespace().map(str::to_string).collect()
}

/// The arguments after the binary in `words`.
fn vitals_args(words: &[String]) -> Vec<String> {
    let at = words.iter().position(|w| w == INSTALLED).unwrap_or_else(|| panic!("{INSTALLED} is not in {words:?}"));
    words[at + 1..].to_vec()
}

/// The crontab: `NAME=value` lines and the one job's command (after 5 time fields and the user).
struct Crontab {
    env: Vec<(String, String)>,
    user: String,
    command: String,
}

fn crontab() -> Crontab {
    let text = read("deploy/crontab");
    let mut env = Vec::new();
    let mut jobs = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let first = line.split_whitespace().next().unwrap_or_default();
        if let Some((k, v)) = first.split_once('=') {
            env.push((k.to_string(), format!("{v}{}", &line[first.len()..])));
            continue;
        }
        let mut rest = line;
        let mut fields = Vec::new();
        for _ in 0..6 {
            rest = rest.trim_start();
            let end =
                rest.find(char::is_whitespace).unwrap_or_else(|| panic!("a cron.d line has 6 fields first: {line}"));
            fields.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        assert_eq!(fields[..5], ["*", "*", "*", "*", "*"], "the job runs every minute");
        jobs.push((fields[5].clone(), rest.trim().to_string()));
    }
    assert_eq!(jobs.len(), 1, "deploy/crontab holds exactly one job: {jobs:?}");
    let (user, command) = jobs.remove(0);
    assert!(!command.contains('%'), "cron turns % into a newline; the command must not contain one");
    Crontab { env, user, command }
}

/// The arguments of the vitals call in the cron command (up to the `;` that ends it).
fn cron_vitals_args(command: &str) -> Vec<String> {
    let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    let mut args = Vec::new();
    for word in vitals_args(&words) {
        if let Some(last) = word.strip_suffix(';') {
            args.push(last.to_string());
            break;
        }
        args.push(word);
    }
    args
}

fn help(args: &[&str]) -> String {
    let out = vitals().args(args).arg("--help").output().expect("run vitals --help");
    assert!(out.status.success(), "vitals {args:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `help` documents `flag` (as a whole word: `--db` is not `--db-path`).
fn documents(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        let before = help[..at].chars().next_back();
        let after = help[at + flag.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '-')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
    })
}

/// Checks every `--flag` of one vitals command line against the help of the command it
/// belongs to: global flags before `run`, run flags after it.
fn assert_flags_exist(what: &str, args: &[String]) {
    let at = args.iter().position(|a| a == "run").unwrap_or_else(|| panic!("{what}: no `run` in {args:?}"));
    let (global_help, run_help) = (help(&[]), help(&["run"]));
    for (flags, help, scope) in
        [(&args[..at], &global_help, "vitals --help"), (&args[at + 1..], &run_help, "vitals run --help")]
    {
        for flag in flags.iter().filter(|a| a.starts_with('-')) {
            let name = flag.split('=').next().unwrap_or(flag);
            assert!(documents(help, name), "{what} uses {name}, which `{scope}` does not list:\n{help}");
        }
    }
}

/// `30s`, `2min`, `1m 30s` or plain seconds, as systemd reads a time span (the subset we use).
fn systemd_seconds(span: &str) -> u64 {
    span.split_whitespace()
        .map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            let n: u64 = digits.parse().unwrap_or_else(|_| panic!("cannot read time span {span}"));
            match &part[digits.len()..] {
                "" | "s" | "sec" => n,
                "m" | "min" => n * 60,
                other => panic!("unit {other} in {span}: extend systemd_seconds"),
            }
        })
        .sum()
}

fn count(db: &Path, sql: &str) -> i64 {
    let Ok(conn) = rusqlite::Connection::open(db) else { return 0 };
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A config with one fast HTTP check against the local test server.
fn local_check() -> Sandbox {
    let addr = servers::http();
    Sandbox::new(&format!(
        "[[check]]\nname = \"local-http\"\nplugin = \"http\"\ntarget = \"http://{addr}/ok\"\ninterval = \"1s\"\ntimeout = \"5s\"\n"
    ))
}

fn path_str(p: &Path) -> String {
    let s = p.to_str().expect("a UTF-8 temp path").to_string();
    assert!(!s.contains(char::is_whitespace), "the tests substitute paths into command lines: {s}");
    s
}

#[test]
fn every_flag_in_the_unit_and_the_crontab_is_one_vitals_has() {
    let unit = unit();
    assert_flags_exist("vitals.service ExecStart", &vitals_args(&exec_start(&unit)));
    let cron = crontab();
    assert_flags_exist("crontab", &cron_vitals_args(&cron.command));

    // The unit's numbers agree with the binary's: the exit codes it will not restart on
    // are documented ones, and systemd waits longer than the default grace.
    let global_help = help(&[]);
    for code in unit.one("Service", "RestartPreventExitStatus").split_whitespace() {
        assert!(documents(&global_help, code), "exit code {code} is not documented in `vitals --help`");
    }
    let run_help = help(&["run"]);
    let grace = run_help
        .split("--grace")
        .nth(1)
        .and_then(|t| t.split("[default: ").nth(1))
        .and_then(|t| t.split(']').next())
        .unwrap_or_else(|| panic!("no --grace default in `vitals run --help`:\n{run_help}"));
    let exec = exec_start(&unit);
    let grace = exec.iter().position(|w| w == "--grace").map_or(grace, |i| exec[i + 1].as_str());
    let stop = systemd_seconds(unit.one("Service", "TimeoutStopSec"));
    assert!(stop > systemd_seconds(grace), "TimeoutStopSec={stop}s must exceed the grace of {grace}");
}

#[test]
fn the_unit_is_a_hardened_service_that_systemd_accepts() {
    let unit = unit();
    assert_eq!(unit.names(), ["Unit", "Service", "Install"]);
    assert!(["exec", "simple"].contains(&unit.one("Service", "Type")));
    for (key, value) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "vitals"),
        ("CacheDirectory", "vitals"),
        ("ConfigurationDirectory", "vitals"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("KillSignal", "SIGTERM"),
        ("Restart", "on-failure"),
        ("RestartPreventExitStatus", "64 65 78"),
        ("UMask", "0077"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectClock", "yes"),
        ("ProtectHostname", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("RestrictNamespaces", "yes"),
        ("RestrictRealtime", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("LockPersonality", "yes"),
        // wasmtime maps compiled plugin code executable; MDWE would refuse every plugin.
        ("MemoryDenyWriteExecute", "no"),
        ("SystemCallArchitectures", "native"),
        ("SystemCallFilter", "@system-service"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert_eq!(unit.one("Service", key), value, "[Service] {key}=");
    }
    assert_eq!(unit.one("Install", "WantedBy"), "multi-user.target");

    // The paths on the command line are the directories systemd creates and opens up.
    let exec = exec_start(&unit);
    assert_eq!(exec[0], INSTALLED);
    let arg = |flag: &str| {
        let i = exec.iter().position(|w| w == flag).unwrap_or_else(|| panic!("ExecStart has no {flag}"));
        exec[i + 1].clone()
    };
    assert!(arg("--config").starts_with(&format!("/etc/{}/", unit.one("Service", "ConfigurationDirectory"))));
    assert!(arg("--db").starts_with(&format!("/var/lib/{}/", unit.one("Service", "StateDirectory"))));
    let env = unit.environment();
    let cache = env.iter().find(|(k, _)| k == "VITALS_CACHE_DIR").map(|(_, v)| v.as_str());
    assert_eq!(cache, Some(format!("/var/cache/{}", unit.one("Service", "CacheDirectory")).as_str()));
    let listen: std::net::SocketAddr = arg("--listen").parse().expect("--listen is an address");
    assert!(listen.ip().is_loopback(), "/metrics stays on localhost; put a proxy in front to expose it");

    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        eprintln!("systemd-analyze is not installed: checked the unit as INI only, not with `systemd-analyze verify`");
        return;
    }
    // `verify` insists that ExecStart's binary exists: check a copy pointing at the test binary.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("vitals.service");
    let binary = path_str(Path::new(env!("CARGO_BIN_EXE_vitals")));
    std::fs::write(&copy, read("deploy/vitals.service").replace(INSTALLED, &binary)).expect("write the unit copy");
    let out = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&copy).output().expect("run verify");
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // Unknown keys and bad values are warnings with status 0; they name the file.
    let about_unit: Vec<&str> = output.lines().filter(|l| l.contains("vitals.service")).collect();
    assert!(out.status.success() && about_unit.is_empty(), "systemd-analyze verify rejected the unit:\n{output}");
}

#[test]
fn the_units_exec_start_runs_reloads_on_exec_reload_and_stops_cleanly_on_kill_signal() {
    let unit = unit();
    let sandbox = local_check();
    let listen = format!("127.0.0.1:{}", servers::closed_port());
    let args: Vec<String> = vitals_args(&exec_start(&unit))
        .into_iter()
        .map(|a| match a.as_str() {
            "/etc/vitals/checks.toml" => path_str(&sandbox.config()),
            "/var/lib/vitals/vitals.db" => path_str(&sandbox.db()),
            "127.0.0.1:9469" => listen.clone(),
            _ => a,
        })
        .collect();
    let mut cmd = vitals();
    for (k, v) in unit.environment().into_iter().filter(|(k, _)| k != "VITALS_CACHE_DIR") {
        cmd.env(k, v);
    }
    let mut child = cmd.args(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start ExecStart");
    let pid = child.id().to_string();
    let addr: std::net::SocketAddr = listen.parse().unwrap();
    let db = sandbox.db();
    wait_until("the first result is stored", Duration::from_secs(30), || {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
            }
            panic!("ExecStart {args:?} exited at once with {status}:\n{stderr}");
        }
        count(&db, "SELECT count(*) FROM results WHERE status = 'ok'") >= 1
    });
    assert_eq!(servers::get(addr, "/healthz").0, 200);
    let (code, metrics) = servers::get(addr, "/metrics");
    assert!(code == 200 && metrics.contains("local-http"), "/metrics: {code}\n{metrics}");

    // ExecReload, as systemd runs it.
    let reload = unit.one("Service", "ExecReload").replace("$MAINPID", &pid);
    let words: Vec<&str> = reload.split_whitespace().collect();
    assert!(Command::new(words[0]).args(&words[1..]).status().expect("run ExecReload").success());
    let before = count(&db, "SELECT count(*) FROM results");
    wait_until("results continue after the reload", Duration::from_secs(30), || {
        count(&db, "SELECT count(*) FROM results") > before
    });
    assert!(child.try_wait().expect("wait").is_none(), "SIGHUP must not stop the daemon");

    // KillSignal, then the process must be gone well within TimeoutStopSec, with status 0
    // so that Restart=on-failure leaves it stopped.
    let signal = unit.one("Service", "KillSignal").trim_start_matches("SIG").to_string();
    assert!(Command::new("kill").arg(format!("-{signal}")).arg(&pid).status().expect("kill").success());
    let limit = Duration::from_secs(systemd_seconds(unit.one("Service", "TimeoutStopSec")));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon outlived TimeoutStopSec ({limit:?}) after {signal}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains('\u{1b}'), "NO_COLOR keeps escape codes out of the journal:\n{stderr}");
}

/// The crontab's command with its paths moved into `sandbox`, and a `logger` on PATH that
/// appends to `syslog` what it would have sent.
struct CronJob {
    command: String,
    path: String,
    syslog: PathBuf,
    lock: PathBuf,
    shell: String,
}

impl CronJob {
    fn new(sandbox: &Sandbox) -> CronJob {
        let cron = crontab();
        assert_eq!(cron.user, "vitals", "the job runs as the vitals system user");
        let dir = sandbox.dir.path();
        let bin = dir.join("bin");
        std::fs::create_dir(&bin).expect("bin dir");
        let syslog = dir.join("syslog");
        let logger = bin.join("logger");
        std::fs::write(&logger, format!("#!/bin/sh\necho \"logger $*\" >> {0}\ncat >> {0}\n", path_str(&syslog)))
            .expect("write the logger stand-in");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&logger, std::fs::Permissions::from_mode(0o755)).expect("chmod logger");
        let lock = dir.join("cron.lock");
        let command = cron
            .command
            .replace(INSTALLED, &path_str(Path::new(env!("CARGO_BIN_EXE_vitals"))))
            .replace("/etc/vitals/checks.toml", &path_str(&sandbox.config()))
            .replace("/var/lib/vitals/vitals.db", &path_str(&sandbox.db()))
            .replace("/var/lib/vitals/cron.lock", &path_str(&lock));
        assert!(!command.contains("/var/lib/vitals") && !command.contains("/etc/vitals"), "unsubstituted: {command}");
        let env = |name: &str| cron.env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let path = format!("{}:{}", path_str(&bin), env("PATH").expect("the crontab sets PATH"));
        let shell = env("SHELL").unwrap_or_else(|| "/bin/sh".into());
        CronJob { command, path, syslog, lock, shell }
    }

    /// Runs the job as cron would (`$SHELL -c`, the crontab's PATH); returns its exit
    /// status and what it logged.
    fn run(&self) -> (i32, String) {
        let _ = std::fs::remove_file(&self.syslog);
        let status = Command::new(&self.shell)
            .arg("-c")
            .arg(&self.command)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", target_dir())
            .env("VITALS_CACHE_DIR", target_dir().join("test-plugin-cache"))
            .status()
            .expect("run the cron command");
        (status.code().unwrap_or(-1), std::fs::read_to_string(&self.syslog).unwrap_or_default())
    }
}

#[test]
fn the_cron_job_stores_results_logs_the_exit_status_and_skips_while_a_run_holds_the_lock() {
    let sandbox = local_check();
    let db = sandbox.db();
    let job = CronJob::new(&sandbox);
    let results = || count(&db, "SELECT count(*) FROM results WHERE check_name = 'local-http' AND status = 'ok'");

    let (code, log) = job.run();
    assert_eq!(code, 0, "log:\n{log}");
    assert!(log.starts_with("logger -t vitals"), "output goes to syslog with tag vitals:\n{log}");
    assert!(log.contains("local-http") && log.contains("vitals exit status 0"), "log:\n{log}");
    assert_eq!(results(), 1);

    // A run still in progress holds the lock (flock(2), as flock(1) takes it).
    let held = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&job.lock).expect("lock file");
    held.lock().expect("hold the lock");
    let (code, log) = job.run();
    assert_eq!(code, 0, "log:\n{log}");
    assert!(log.contains("vitals exit status 75"), "a skipped run logs 75:\n{log}");
    assert!(!log.contains("local-http"), "vitals must not have run:\n{log}");
    assert_eq!(results(), 1, "no second run overlapped the first");
    // Why -E 75: plain `flock -n` exits 1 on a held lock, the same as a WARNING.
    let plain = Command::new("flock").arg("-n").arg(&job.lock).arg("true").status().expect("flock");
    assert_eq!(plain.code(), Some(1));
    held.unlock().expect("release the lock");

    let (code, log) = job.run();
    assert_eq!(code, 0);
    assert!(log.contains("vitals exit status 0"), "log:\n{log}");
    assert_eq!(results(), 2);
}
