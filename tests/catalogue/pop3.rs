//! The `pop3` check against scripted POP3 servers on 127.0.0.1 (no mail server runs on this
//! machine): one that offers STLS and refuses USER in plain text, one without STLS that
//! refuses every password, one that greets with -ERR; and the shared closed, hanging and
//! garbage peers. The scripted peer is the `smtp` module's.

use std::net::SocketAddr;

use crate::smtp::{Heard, Peer, heard, serve};
use crate::support::metric;
use crate::support::servers::{banner, closed_port, silent};
use crate::{reason, run, run_env, status, summary};

/// The password the scripted servers accept for "alice".
const PASSWORD: &str = "vitals-pop3-test-pw";

/// The scripted POP3 servers.
#[derive(Clone, Copy, PartialEq)]
enum Pop3 {
    /// Offers STLS; USER only over TLS, where alice has 2 messages of 320 bytes.
    StartTls,
    /// No STLS; takes USER and refuses every PASS.
    Refusing,
    /// Greets with -ERR.
    Busy,
}

/// Starts a scripted POP3 server of that kind.
fn pop3(kind: Pop3) -> (SocketAddr, Heard) {
    serve(move |peer, log| converse(kind, peer, log))
}

fn converse(kind: Pop3, mut peer: Peer, log: &Heard) {
    let greeting = match kind {
        Pop3::Busy => "-ERR [SYS/TEMP] too many connections\r\n",
        _ => "+OK vitals-test POP3 ready.\r\n",
    };
    if !peer.say(greeting) || kind == Pop3::Busy {
        return;
    }
    let mut user = false;
    while let Some(line) = peer.line() {
        log.lock().expect("the log").push(line.clone());
        let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
        let answer = match verb.to_ascii_uppercase().as_str() {
            "CAPA" if kind == Pop3::StartTls && !peer.is_tls() => "+OK\r\nTOP\r\nUIDL\r\nSTLS\r\n.\r\n",
            "CAPA" => "+OK\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN\r\n.\r\n",
            "STLS" if kind == Pop3::StartTls && !peer.is_tls() => {
                if !peer.say("+OK Begin TLS negotiation now.\r\n") {
                    return;
                }
                match peer.start_tls() {
                    Some(tls) => peer = tls,
                    None => return,
                }
                continue;
            }
            "USER" if kind == Pop3::StartTls && !peer.is_tls() => {
                "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
            }
            "USER" => {
                user = arg == "alice";
                "+OK\r\n"
            }
            "PASS" if kind == Pop3::StartTls && user && arg == PASSWORD => "+OK Logged in.\r\n",
            "PASS" => "-ERR [AUTH] Authentication failed.\r\n",
            "STAT" => "+OK 2 320\r\n",
            "QUIT" => {
                peer.say("+OK Logging out.\r\n");
                return;
            }
            _ => "-ERR Unknown command.\r\n",
        };
        if !peer.say(answer) {
            return;
        }
    }
}

fn target(addr: SocketAddr) -> String {
    format!("127.0.0.1:{}", addr.port())
}

#[test]
fn a_plain_server_is_ok_with_its_capabilities() {
    let (addr, log) = pop3(Pop3::StartTls);
    let (code, result, stderr) = run("pop3", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result}\n{stderr}");
    let text = summary(&result);
    assert!(text.starts_with(&format!("POP3 +OK from {} in ", target(addr))), "{text}");
    assert!(text.ends_with(", offers STLS"), "{text}");
    assert!(metric(&result, "time_banner").is_some_and(|ms| ms >= 0.0), "{result}");
    assert_eq!(heard(&log), ["CAPA", "QUIT"]);
}

#[test]
fn stls_then_login_with_a_secret_is_ok_with_the_mailbox_size() {
    let (addr, log) = pop3(Pop3::StartTls);
    let config = "starttls = true\ntls_verify = false\nuser = \"alice\"\npassword = \"${env:VITALS_TEST_POP3_PW}\"";
    let (code, result, stderr) = run_env("pop3", &target(addr), "", config, &[("VITALS_TEST_POP3_PW", PASSWORD)]);
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result}\n{stderr}");
    assert!(
        summary(&result)
            .ends_with(", upgraded with STLS, offers SASL PLAIN, USER, logged in as \"alice\" (2 messages, 320 B)"),
        "{result}"
    );
    assert_eq!((metric(&result, "messages"), metric(&result, "mailbox_size")), (Some(2.0), Some(320.0)));
    assert!(metric(&result, "time_tls").is_some() && metric(&result, "time_login").is_some(), "{result}");
    assert!(!result.to_string().contains(PASSWORD) && !stderr.contains(PASSWORD), "{result}\n{stderr}");
    let lines: Vec<String> = heard(&log).into_iter().map(|l| l.replace(PASSWORD, "PASSWORD")).collect();
    assert_eq!(lines, ["CAPA", "STLS", "CAPA", "USER alice", "PASS PASSWORD", "STAT", "QUIT"]);
}

#[test]
fn stls_with_verification_refuses_the_self_signed_certificate() {
    let (addr, log) = pop3(Pop3::StartTls);
    let (code, result, stderr) = run("pop3", &target(addr), "", "starttls = true");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "tls"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("STLS with {} failed: ", target(addr))), "{result}");
    assert_eq!(heard(&log), ["CAPA", "STLS"]);
}

#[test]
fn wrong_credentials_are_critical_assertion_with_the_servers_message() {
    let (addr, log) = pop3(Pop3::Refusing);
    let (code, result, stderr) = run("pop3", &target(addr), "", "user = \"alice\"\npassword = \"not-the-password\"");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(summary(&result), "authentication failed for user \"alice\": [AUTH] Authentication failed.");
    assert_eq!(heard(&log), ["CAPA", "USER alice", "PASS not-the-password", "QUIT"]);
}

#[test]
fn user_refused_in_plain_text_is_an_authentication_failure_and_no_password_is_sent() {
    let (addr, log) = pop3(Pop3::StartTls);
    let config = format!("user = \"alice\"\npassword = \"{PASSWORD}\"");
    let (code, result, stderr) = run("pop3", &target(addr), "", &config);
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with("authentication failed for user \"alice\": [AUTH] Plaintext"), "{result}");
    assert_eq!(heard(&log), ["CAPA", "USER alice", "QUIT"]);
}

#[test]
fn stls_required_but_not_offered_is_critical_assertion() {
    let (addr, _log) = pop3(Pop3::Refusing);
    let (code, result, stderr) = run("pop3", &target(addr), "", "require_starttls = true");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(summary(&result), format!("{} does not offer STLS (capabilities: SASL PLAIN, USER)", target(addr)));
}

#[test]
fn a_greeting_without_the_expected_banner_is_critical_assertion() {
    let (addr, log) = pop3(Pop3::StartTls);
    let (code, result, stderr) = run("pop3", &target(addr), "", "expect_banner = \"Dovecot\"");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("the greeting of {}, \"+OK vitals-test POP3 ready.\", does not contain \"Dovecot\"", target(addr))
    );
    assert_eq!(heard(&log), ["QUIT"]);
}

#[test]
fn an_err_greeting_is_critical_assertion() {
    let (addr, _log) = pop3(Pop3::Busy);
    let (code, result, stderr) = run("pop3", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("{} greets with \"-ERR [SYS/TEMP] too many connections\": it refuses the session", target(addr))
    );
}

#[test]
fn a_closed_port_is_critical_connect() {
    let target = format!("127.0.0.1:{}", closed_port());
    let (code, result, stderr) = run("pop3", &target, "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "connect"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("connect to {target} failed: ")), "{result}");
}

#[test]
fn a_server_that_never_greets_is_critical_timeout() {
    let addr = silent();
    let (code, result, stderr) = run("pop3", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "timeout"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("read the greeting from {} failed: ", target(addr))), "{result}");
}

#[test]
fn a_server_that_is_not_pop3_is_critical_protocol_quoting_it() {
    let addr = banner("* OK [CAPABILITY IMAP4rev1] ready\r\n");
    let (code, result, stderr) = run("pop3", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "protocol"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("the greeting from {} is not a POP3 response: got \"* OK [CAPABILITY IMAP4rev1] ready\"", target(addr))
    );
}

#[test]
fn a_zero_warn_time_makes_a_good_server_a_warning() {
    // A threshold of 0 fires on any conversation: the assertion is on the status, not on a time.
    let (addr, _log) = pop3(Pop3::StartTls);
    let (code, result, stderr) = run("pop3", &target(addr), "", "warn_time = \"0ms\"");
    assert_eq!((code, status(&result), reason(&result)), (1, "warning", "assertion"), "{result}\n{stderr}");
    assert!(summary(&result).contains(", offers STLS: slower than warn_time "), "{result}");
}
