//! The `imap` check against scripted IMAP servers on 127.0.0.1 (no mail server runs on this
//! machine): one that offers STARTTLS and disables LOGIN in plain text, one without
//! STARTTLS that refuses every login, one that greets with BYE, one on implicit TLS that
//! puts its capabilities in the greeting; and the shared closed, hanging and garbage
//! peers. The scripted peer is the `smtp` module's.

use std::net::SocketAddr;

use crate::smtp::{Heard, Peer, heard, serve};
use crate::support::metric;
use crate::support::servers::{banner, closed_port, silent};
use crate::{reason, run, run_env, status, summary};

/// The password the scripted servers accept for "alice".
const PASSWORD: &str = "vitals-imap-test-pw";

/// The scripted IMAP servers.
#[derive(Clone, Copy, PartialEq)]
enum Imap {
    /// Offers STARTTLS and LOGINDISABLED in plain text; over TLS, AUTH=PLAIN and LOGIN.
    StartTls,
    /// No STARTTLS; refuses every LOGIN with NO.
    Refusing,
    /// Greets with BYE and closes.
    Bye,
    /// Speaks TLS at once (port 993), with the capabilities in the greeting.
    Implicit,
}

/// Starts a scripted IMAP server of that kind.
fn imap(kind: Imap) -> (SocketAddr, Heard) {
    serve(move |peer, log| {
        let peer = if kind == Imap::Implicit { peer.start_tls() } else { Some(peer) };
        if let Some(peer) = peer {
            converse(kind, peer, log);
        }
    })
}

fn capabilities(kind: Imap, tls: bool) -> &'static str {
    match (kind, tls) {
        (Imap::StartTls, false) => "IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED",
        (Imap::Refusing, _) => "IMAP4rev1 AUTH=PLAIN",
        _ => "IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN",
    }
}

fn converse(kind: Imap, mut peer: Peer, log: &Heard) {
    let greeting = match kind {
        Imap::Bye => "* BYE Too many connections from your address\r\n".to_string(),
        Imap::Implicit => format!("* OK [CAPABILITY {}] vitals-test IMAP ready\r\n", capabilities(kind, true)),
        _ => "* OK vitals-test IMAP ready\r\n".to_string(),
    };
    if !peer.say(&greeting) || kind == Imap::Bye {
        return;
    }
    while let Some(line) = peer.line() {
        log.lock().expect("the log").push(line.clone());
        let mut words = line.splitn(3, ' ');
        let tag = words.next().unwrap_or_default().to_string();
        let verb = words.next().unwrap_or_default().to_ascii_uppercase();
        let args = words.next().unwrap_or_default();
        let answer = match verb.as_str() {
            "CAPABILITY" => {
                format!("* CAPABILITY {}\r\n{tag} OK Capability completed.\r\n", capabilities(kind, peer.is_tls()))
            }
            "STARTTLS" if kind == Imap::StartTls && !peer.is_tls() => {
                if !peer.say(&format!("{tag} OK Begin TLS negotiation now.\r\n")) {
                    return;
                }
                match peer.start_tls() {
                    Some(tls) => peer = tls,
                    None => return,
                }
                continue;
            }
            "LOGIN" if kind != Imap::Refusing && args == format!("\"alice\" \"{PASSWORD}\"") => {
                format!("{tag} OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n")
            }
            "LOGIN" => format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
            "LOGOUT" => {
                peer.say(&format!("* BYE Logging out\r\n{tag} OK Logout completed.\r\n"));
                return;
            }
            _ => format!("{tag} BAD Error in IMAP command received by server.\r\n"),
        };
        if !peer.say(&answer) {
            return;
        }
    }
}

fn target(addr: SocketAddr) -> String {
    format!("127.0.0.1:{}", addr.port())
}

/// The log with the password of a LOGIN line blanked, for assertions that show it.
fn heard_without_password(log: &Heard) -> Vec<String> {
    heard(log).into_iter().map(|line| line.replace(PASSWORD, "PASSWORD")).collect()
}

#[test]
fn a_plain_server_is_ok_with_its_capabilities() {
    let (addr, log) = imap(Imap::StartTls);
    let (code, result, stderr) = run("imap", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result}\n{stderr}");
    let text = summary(&result);
    assert!(text.starts_with(&format!("IMAP OK from {} in ", target(addr))), "{text}");
    assert!(text.ends_with(", offers IMAP4rev1, STARTTLS, LOGINDISABLED"), "{text}");
    assert!(metric(&result, "time_banner").is_some_and(|ms| ms >= 0.0), "{result}");
    assert_eq!(metric(&result, "time_login"), None);
    assert_eq!(heard(&log), ["a1 CAPABILITY", "a2 LOGOUT"]);
}

#[test]
fn starttls_then_login_with_a_secret_is_ok_and_never_shows_the_password() {
    let (addr, log) = imap(Imap::StartTls);
    let config = "starttls = true\ntls_verify = false\nuser = \"alice\"\npassword = \"${env:VITALS_TEST_IMAP_PW}\"";
    let (code, result, stderr) = run_env("imap", &target(addr), "", config, &[("VITALS_TEST_IMAP_PW", PASSWORD)]);
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result}\n{stderr}");
    assert!(
        summary(&result)
            .ends_with(", upgraded with STARTTLS, offers IMAP4rev1, AUTH=PLAIN AUTH=LOGIN, logged in as \"alice\""),
        "{result}"
    );
    assert!(metric(&result, "time_tls").is_some(), "{result}");
    assert!(metric(&result, "time_login").is_some_and(|ms| ms >= 0.0), "{result}");
    assert!(!result.to_string().contains(PASSWORD) && !stderr.contains(PASSWORD), "{result}\n{stderr}");
    assert_eq!(
        heard_without_password(&log),
        ["a1 CAPABILITY", "a2 STARTTLS", "a3 CAPABILITY", "a4 LOGIN \"alice\" \"PASSWORD\"", "a5 LOGOUT"]
    );
}

#[test]
fn starttls_with_verification_refuses_the_self_signed_certificate() {
    let (addr, log) = imap(Imap::StartTls);
    let (code, result, stderr) = run("imap", &target(addr), "", "starttls = true");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "tls"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("STARTTLS with {} failed: ", target(addr))), "{result}");
    assert_eq!(heard(&log), ["a1 CAPABILITY", "a2 STARTTLS"]);
}

#[test]
fn login_disabled_in_plain_text_is_critical_and_sends_no_password() {
    let (addr, log) = imap(Imap::StartTls);
    let config = format!("user = \"alice\"\npassword = \"{PASSWORD}\"");
    let (code, result, stderr) = run("imap", &target(addr), "", &config);
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert!(summary(&result).contains("disables LOGIN on this connection (LOGINDISABLED)"), "{result}");
    assert_eq!(heard(&log), ["a1 CAPABILITY", "a2 LOGOUT"]);
}

#[test]
fn wrong_credentials_are_critical_assertion_with_the_servers_message() {
    let (addr, log) = imap(Imap::Refusing);
    let config = "user = \"alice\"\npassword = \"not-the-password\"";
    let (code, result, stderr) = run("imap", &target(addr), "", config);
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        "authentication failed for user \"alice\": [AUTHENTICATIONFAILED] Authentication failed."
    );
    assert!(metric(&result, "time_login").is_some(), "{result}");
    assert_eq!(heard(&log), ["a1 CAPABILITY", "a2 LOGIN \"alice\" \"not-the-password\"", "a3 LOGOUT"]);
}

#[test]
fn implicit_tls_reads_the_capabilities_from_the_greeting() {
    let (addr, log) = imap(Imap::Implicit);
    let (code, result, stderr) = run("imap", &target(addr), "", "tls = true\ntls_verify = false");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result}\n{stderr}");
    assert!(summary(&result).ends_with(" over TLS, offers IMAP4rev1, AUTH=PLAIN AUTH=LOGIN"), "{result}");
    assert!(metric(&result, "time_tls").is_some(), "{result}");
    assert_eq!(heard(&log), ["a1 LOGOUT"]);
}

#[test]
fn a_greeting_without_the_expected_banner_is_critical_assertion() {
    let (addr, log) = imap(Imap::StartTls);
    let (code, result, stderr) = run("imap", &target(addr), "", "expect_banner = \"Dovecot\"");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("the greeting of {}, \"* OK vitals-test IMAP ready\", does not contain \"Dovecot\"", target(addr))
    );
    assert_eq!(heard(&log), ["a1 LOGOUT"]);
}

#[test]
fn starttls_required_but_not_offered_is_critical_assertion() {
    let (addr, _log) = imap(Imap::Refusing);
    let (code, result, stderr) = run("imap", &target(addr), "", "require_starttls = true");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("{} does not offer STARTTLS (capabilities: IMAP4rev1, AUTH=PLAIN)", target(addr))
    );
}

#[test]
fn a_bye_greeting_is_critical_assertion() {
    let (addr, log) = imap(Imap::Bye);
    let (code, result, stderr) = run("imap", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!(
            "{} greets with \"* BYE Too many connections from your address\": it refuses the session",
            target(addr)
        )
    );
    assert!(heard(&log).is_empty());
}

#[test]
fn a_closed_port_is_critical_connect() {
    let target = format!("127.0.0.1:{}", closed_port());
    let (code, result, stderr) = run("imap", &target, "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "connect"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("connect to {target} failed: ")), "{result}");
}

#[test]
fn a_server_that_never_greets_is_critical_timeout() {
    let addr = silent();
    let (code, result, stderr) = run("imap", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "timeout"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("read the greeting from {} failed: ", target(addr))), "{result}");
    assert!(metric(&result, "time_connect").is_some(), "{result}");
}

#[test]
fn a_server_that_is_not_imap_is_critical_protocol_quoting_it() {
    let addr = banner("220 mail.test ESMTP Postfix\r\n");
    let (code, result, stderr) = run("imap", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "protocol"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("the greeting from {} is not an IMAP response: got \"220 mail.test ESMTP Postfix\"", target(addr))
    );
}

#[test]
fn a_zero_warn_time_makes_a_good_server_a_warning() {
    // A threshold of 0 fires on any conversation: the assertion is on the status, not on a time.
    let (addr, _log) = imap(Imap::StartTls);
    let (code, result, stderr) = run("imap", &target(addr), "", "warn_time = \"0ms\"");
    assert_eq!((code, status(&result), reason(&result)), (1, "warning", "assertion"), "{result}\n{stderr}");
    assert!(
        summary(&result).contains(", offers IMAP4rev1, STARTTLS, LOGINDISABLED: slower than warn_time "),
        "{result}"
    );
}
