//! The `nats` plugin against the local nats-server (JetStream, no auth) on 127.0.0.1:4222,
//! and against servers the tests start: a scripted NATS server for what the shared one
//! does not do (refuse credentials, run without JetStream), and the support servers for
//! peers that fail.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use crate::support::{metric, servers};
use crate::{reason, run, run_env, status, summary};

/// The shared local nats-server.
const NATS: &str = "127.0.0.1:4222";

/// The environment variable the credential tests pass the password through.
const PASSWORD_VAR: &str = "VITALS_TEST_NATS_PASSWORD";

/// What the scripted server does with a CONNECT.
#[derive(Clone, Copy)]
enum Answer {
    /// `-ERR 'Authorization Violation'`, then it closes the connection.
    Refuse,
    /// `+OK`, then `PONG` to every `PING`.
    Accept,
}

/// A NATS server that greets with `INFO {info}`, answers CONNECT as `answer` says, and
/// hands every CONNECT line it receives to the returned receiver.
fn scripted_nats(info: &'static str, answer: Answer) -> (SocketAddr, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a scripted NATS server");
    let addr = listener.local_addr().expect("scripted NATS address");
    let (connects, received) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let connects = connects.clone();
            thread::spawn(move || -> std::io::Result<()> {
                stream.set_read_timeout(Some(Duration::from_secs(10)))?;
                let mut writer = stream.try_clone()?;
                let mut reader = BufReader::new(stream);
                writer.write_all(format!("INFO {info}\r\n").as_bytes())?;
                let mut connect = String::new();
                reader.read_line(&mut connect)?;
                let _ = connects.send(connect.trim_end().to_string());
                if let Answer::Refuse = answer {
                    return writer.write_all(b"-ERR 'Authorization Violation'\r\n");
                }
                writer.write_all(b"+OK\r\n")?;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line.trim().eq_ignore_ascii_case("PING") {
                        writer.write_all(b"PONG\r\n")?;
                    }
                }
            });
        }
    });
    (addr, received)
}

const AUTH_INFO: &str = r#"{"server_id":"NSCRIPTEDAUTH","server_name":"scripted","version":"2.10.99","proto":1,"max_payload":1048576,"auth_required":true,"client_id":1}"#;

const PLAIN_INFO: &str = r#"{"server_id":"NSCRIPTEDPLAIN","server_name":"scripted","version":"2.10.98","proto":1,"max_payload":1048576,"client_id":1}"#;

#[test]
fn the_local_server_answers_connect_and_ping() {
    let (code, result, stderr) = run("nats", NATS, "", "");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    let text = summary(&result);
    assert!(text.starts_with("NATS "), "{text}");
    assert!(text.contains(" at 127.0.0.1:4222 (JetStream), PONG in "), "{text}");
    for name in ["time_connect", "time_ping", "time_total"] {
        assert!(metric(&result, name).is_some_and(|ms| ms >= 0.0), "no {name}: {result:#}");
    }
    assert_eq!(metric(&result, "time_round_trip"), None);
    assert!(result["details"].as_str().unwrap_or("").contains("jetstream: true"), "{result:#}");
}

#[test]
fn a_message_to_the_checks_inbox_comes_back_the_round_trip() {
    let (code, result, stderr) = run("nats", NATS, "", "round_trip = true\nrequire_jetstream = true");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).contains(", message round trip in "), "{result:#}");
    assert!(metric(&result, "time_round_trip").is_some_and(|ms| ms > 0.0), "{result:#}");
}

#[test]
fn a_ping_slower_than_warn_time_is_a_warning_and_than_crit_time_critical() {
    // Any PING over a real connection takes more than a microsecond.
    let (code, result, _) = run("nats", NATS, "", "warn_time = \"1us\"");
    assert_eq!((status(&result), reason(&result), code), ("warning", "assertion", 1), "{result:#}");
    assert!(summary(&result).ends_with(": PING slower than warn_time 1 µs"), "{result:#}");

    let (code, result, _) = run("nats", NATS, "", "warn_time = \"1us\"\ncrit_time = \"1us\"");
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}");
    assert!(summary(&result).ends_with(": PING slower than crit_time 1 µs"), "{result:#}");
}

#[test]
fn require_jetstream_on_a_server_without_it_is_critical() {
    let (addr, _) = scripted_nats(PLAIN_INFO, Answer::Accept);
    let (_, result, _) = run("nats", &addr.to_string(), "", "require_jetstream = true");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    let expected = format!("NATS 2.10.98 at {addr}, PONG in ");
    assert!(summary(&result).starts_with(&expected), "{result:#}");
    assert!(summary(&result).ends_with(": JetStream is not enabled (require_jetstream)"), "{result:#}");
}

#[test]
fn refused_credentials_are_critical_authentication_failed() {
    let (addr, connects) = scripted_nats(AUTH_INFO, Answer::Refuse);
    let config = format!("user = \"app\"\npassword = \"${{env:{PASSWORD_VAR}}}\"");
    let (code, result, stderr) = run_env("nats", &addr.to_string(), "", &config, &[(PASSWORD_VAR, "pw-wrong")]);
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}");
    assert_eq!(summary(&result), "authentication failed for user \"app\": 'Authorization Violation'");
    assert!(!result.to_string().contains("pw-wrong") && !stderr.contains("pw-wrong"), "the password leaked");
    // The password reached the server, from the environment, in CONNECT.
    let connect = connects.recv_timeout(Duration::from_secs(5)).expect("a CONNECT");
    assert!(connect.starts_with("CONNECT {\"verbose\":true,\"pedantic\":false,"), "{connect}");
    assert!(connect.contains(r#""user":"app","pass":"pw-wrong""#), "{connect}");
}

#[test]
fn no_credentials_for_a_server_that_requires_them_is_critical_authentication_failed() {
    let (addr, _) = scripted_nats(AUTH_INFO, Answer::Refuse);
    let (_, result, _) = run("nats", &addr.to_string(), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert_eq!(summary(&result), "authentication failed (no user or token configured): 'Authorization Violation'");
}

#[test]
fn a_closed_port_is_critical_connect() {
    let target = format!("127.0.0.1:{}", servers::closed_port());
    let (_, result, _) = run("nats", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "connect"), "{result:#}");
    assert!(summary(&result).starts_with(&format!("connect to {target} failed: ")), "{result:#}");
}

#[test]
fn a_server_that_never_sends_info_is_critical_timeout() {
    let target = servers::silent().to_string();
    let (_, result, _) = run("nats", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "timeout"), "{result:#}");
    assert!(summary(&result).starts_with(&format!("INFO from {target} failed: ")), "{result:#}");
}

#[test]
fn a_server_that_is_not_nats_is_critical_protocol_quoting_it() {
    let target = servers::banner("SSH-2.0-OpenSSH_9.6\r\n").to_string();
    let (_, result, _) = run("nats", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}");
    assert_eq!(summary(&result), format!("{target} is not a NATS server: expected INFO, got \"SSH-2.0-OpenSSH_9.6\""));
}
