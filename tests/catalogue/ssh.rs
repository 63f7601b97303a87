//! The `ssh` check against OpenSSH's sshd (Debian's `openssh-server`), which each test
//! starts on a free port of 127.0.0.1 with host keys of its own, and against the small
//! servers of tests/support for peers that hang, babble or speak protocol 1.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{metric, servers};
use crate::{reason, run, status, summary};

/// Debian's sshd.
const SSHD: &str = "/usr/sbin/sshd";

/// An sshd of its own, in a temporary directory with its host keys, config, pid file and
/// log; the process is killed when this is dropped.
struct Sshd {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Sshd {
    /// Starts sshd with one host key of each of `key_types` (ssh-keygen's `-t`) and waits
    /// until its port accepts connections; tries another port when another test took the
    /// free one first.
    fn start(key_types: &[&str]) -> Sshd {
        assert!(Path::new(SSHD).exists(), "{SSHD} is missing: install Debian's openssh-server");
        privsep_dir();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut keys = String::new();
        for kind in key_types {
            let key = dir.path().join(format!("hostkey_{kind}"));
            let made = Command::new("ssh-keygen")
                .args(["-q", "-t", kind, "-N", "", "-f"])
                .arg(&key)
                .stdin(Stdio::null())
                .output()
                .expect("run ssh-keygen");
            assert!(made.status.success(), "ssh-keygen -t {kind}: {}", String::from_utf8_lossy(&made.stderr));
            keys.push_str(&format!("HostKey {}\n", key.display()));
        }
        for _ in 0..3 {
            if let Some((child, port)) = Sshd::listen(dir.path(), &keys) {
                return Sshd { dir, child, port };
            }
        }
        panic!("sshd did not start:\n{}", std::fs::read_to_string(dir.path().join("log")).unwrap_or_default());
    }

    /// One attempt on a free port: the process and its port, or none when sshd exited at
    /// once (the port was taken).
    fn listen(dir: &Path, keys: &str) -> Option<(Child, u16)> {
        let port = servers::closed_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nPidFile {}\nUsePAM no\nStrictModes no\n{keys}",
            dir.join("pid").display()
        );
        let config_path = dir.join("sshd_config");
        std::fs::write(&config_path, config).expect("write sshd_config");
        let log = std::fs::File::create(dir.join("log")).expect("create the sshd log");
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start sshd");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(_)) = child.try_wait() {
                return None;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "sshd did not listen in 10 s:\n{}",
                    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some((child, port))
    }

    /// Waits (up to 5 s) until the sshd log contains `text`: the per-connection process
    /// writes it after the check has returned.
    fn log_shows(&self, text: &str) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if self.log().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// `127.0.0.1:PORT`.
    fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The SHA256 fingerprint of its `kind` host key, as `ssh-keygen -lf` prints it.
    fn fingerprint(&self, kind: &str) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.key_path(kind).with_extension("pub"))
            .output()
            .expect("run ssh-keygen -lf");
        assert!(out.status.success(), "ssh-keygen -lf: {}", String::from_utf8_lossy(&out.stderr));
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        let fingerprint = line.split_whitespace().nth(1).unwrap_or_default().to_string();
        assert!(fingerprint.starts_with("SHA256:"), "ssh-keygen -lf printed {line:?}");
        fingerprint
    }

    fn key_path(&self, kind: &str) -> PathBuf {
        self.dir.path().join(format!("hostkey_{kind}"))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// sshd started as root insists on its privilege separation directory, which Debian's
/// package makes at boot (tmpfiles) and a fresh container lacks: make it as the package would.
fn privsep_dir() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 && !Path::new("/run/sshd").is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        let _ = std::fs::DirBuilder::new().mode(0o755).recursive(true).create("/run/sshd");
    }
}

/// A TOML line pinning `fingerprint`.
fn pin(fingerprint: &str) -> String {
    format!("host_key_fingerprint = \"{fingerprint}\"")
}

#[test]
fn an_openssh_identification_is_ok_with_its_version_and_times() {
    let sshd = Sshd::start(&["ed25519"]);
    let (code, result, stderr) = run("ssh", &sshd.target(), "", "");
    assert_eq!((code, status(&result)), (0, "ok"), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("OpenSSH_"), "{}", summary(&result));
    assert!(summary(&result).contains(&format!("(SSH-2.0) on {}", sshd.target())), "{}", summary(&result));
    assert_eq!(metric(&result, "protocol_version"), Some(2.0));
    assert!(metric(&result, "time_banner").is_some_and(|ms| ms >= 0.0), "{result:#}");
    assert!(metric(&result, "time_total").is_some_and(|ms| ms > 0.0), "{result:#}");
    assert_eq!(metric(&result, "time_kex"), None, "no key exchange without a pin");
    assert!(result["details"].as_str().unwrap_or("").contains("identification: SSH-2.0-OpenSSH_"), "{result:#}");
}

#[test]
fn a_pinned_ed25519_key_that_matches_is_ok() {
    let sshd = Sshd::start(&["ed25519"]);
    let fingerprint = sshd.fingerprint("ed25519");
    let (code, result, stderr) = run("ssh", &sshd.target(), "", &pin(&fingerprint));
    assert_eq!((code, status(&result)), (0, "ok"), "{result:#}\n{stderr}\nsshd:\n{}", sshd.log());
    assert!(summary(&result).ends_with(&format!("host key {fingerprint} (ssh-ed25519) as pinned")), "{result:#}");
    assert!(metric(&result, "time_kex").is_some_and(|ms| ms > 0.0), "{result:#}");
    let details = result["details"].as_str().unwrap_or("");
    assert!(details.contains("signature over the exchange hash: verified"), "{details}");
    // The check said goodbye rather than dropping the connection.
    assert!(sshd.log_shows("check done"), "sshd log:\n{}", sshd.log());
}

#[test]
fn pinned_ecdsa_and_rsa_keys_verify_when_their_algorithm_comes_first() {
    let sshd = Sshd::start(&["ed25519", "ecdsa", "rsa"]);
    for (kind, algorithm) in [("ecdsa", "ecdsa-sha2-nistp256"), ("rsa", "rsa-sha2-512"), ("rsa", "rsa-sha2-256")] {
        let fingerprint = sshd.fingerprint(kind);
        let config = format!("{}\nhost_key_algorithms = [\"{algorithm}\"]", pin(&fingerprint));
        let (code, result, stderr) = run("ssh", &sshd.target(), "", &config);
        assert_eq!((code, status(&result)), (0, "ok"), "{algorithm}: {result:#}\n{stderr}");
        assert!(summary(&result).ends_with(&format!("host key {fingerprint} ({algorithm}) as pinned")), "{result:#}");
    }
}

#[test]
fn a_wrong_pinned_fingerprint_is_critical_assertion() {
    let sshd = Sshd::start(&["ed25519", "rsa"]);
    let actual = sshd.fingerprint("ed25519");
    // The server's own RSA key, pinned while ed25519 is preferred: not the key it presents.
    let pinned = sshd.fingerprint("rsa");
    let (code, result, _) = run("ssh", &sshd.target(), "", &pin(&pinned));
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}");
    assert_eq!(summary(&result), format!("host key {actual} does not match the pinned {pinned}"));
    assert!(result["details"].as_str().unwrap_or("").contains("host_key_algorithms"), "{result:#}");
}

#[test]
fn show_host_key_reports_the_fingerprint_without_a_pin() {
    let sshd = Sshd::start(&["ed25519"]);
    let fingerprint = sshd.fingerprint("ed25519");
    let (code, result, _) = run("ssh", &sshd.target(), "", "show_host_key = true");
    assert_eq!((code, status(&result)), (0, "ok"), "{result:#}");
    assert!(summary(&result).ends_with(&format!("host key {fingerprint} (ssh-ed25519)")), "{result:#}");
}

#[test]
fn expect_banner_not_found_is_critical_assertion() {
    let sshd = Sshd::start(&["ed25519"]);
    let (code, result, _) = run("ssh", &sshd.target(), "", "expect_banner = \"dropbear\"");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("the identification \"SSH-2.0-OpenSSH_"), "{}", summary(&result));
    assert!(summary(&result).ends_with("does not contain \"dropbear\""), "{}", summary(&result));
    let (_, found, _) = run("ssh", &sshd.target(), "", "expect_banner = \"OpenSSH\"");
    assert_eq!(status(&found), "ok", "{found:#}");
}

#[test]
fn a_closed_port_is_critical_connect() {
    let port = servers::closed_port();
    let (code, result, _) = run("ssh", &format!("127.0.0.1:{port}"), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "connect"), "{result:#}");
    assert!(summary(&result).starts_with(&format!("connect to 127.0.0.1:{port} failed")), "{}", summary(&result));
}

#[test]
fn a_silent_server_is_critical_timeout() {
    let addr = servers::silent();
    let (code, result, _) = run("ssh", &addr.to_string(), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "timeout"), "{result:#}");
    assert!(summary(&result).starts_with(&format!("no SSH identification from {addr} within")), "{result:#}");
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
}

#[test]
fn a_garbage_server_is_critical_protocol_quoted_and_cleaned() {
    let addr = servers::banner("\u{1}\u{2}garbage\u{7f}\u{1b}[31m\r\n");
    let (code, result, _) = run("ssh", &addr.to_string(), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "protocol"), "{result:#}");
    assert_eq!(summary(&result), format!("{addr} does not speak SSH: it sent \"garbage [31m\""));
}

#[test]
fn a_protocol_1_server_is_critical() {
    let addr = servers::banner("SSH-1.5-OpenSSH_2.9p2\r\n");
    let (code, result, _) = run("ssh", &addr.to_string(), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "protocol"), "{result:#}");
    assert!(summary(&result).contains("protocol version 1"), "{}", summary(&result));
    assert!(summary(&result).contains("\"SSH-1.5-OpenSSH_2.9p2\""), "{}", summary(&result));
    assert_eq!(metric(&result, "protocol_version"), Some(1.5));
}
