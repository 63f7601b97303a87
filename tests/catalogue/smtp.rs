//! The `smtp` check against scripted SMTP servers on 127.0.0.1 (no mail server runs on this
//! machine): one that offers STARTTLS, with rustls and a self-signed certificate behind it,
//! one that does not, one that greets with 554, one on implicit TLS; and the shared
//! closed, hanging and garbage peers. The scripted peer ([`Peer`], [`serve`]) is shared
//! with the `imap` and `pop3` modules.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use crate::support::metric;
use crate::support::servers::{banner, closed_port, silent};
use crate::{reason, run, status, summary};

/// One connection of a scripted server: plain TCP, or TLS once STARTTLS (or implicit TLS)
/// has switched it.
pub(crate) enum Peer {
    /// Plain text.
    Plain(TcpStream),
    /// TLS with the self-signed certificate of [`tls_config`].
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Peer {
    /// The server side of TLS on `stream`; the handshake runs on the first read.
    pub(crate) fn tls(stream: TcpStream) -> Option<Peer> {
        let connection = rustls::ServerConnection::new(tls_config()).ok()?;
        Some(Peer::Tls(Box::new(rustls::StreamOwned::new(connection, stream))))
    }

    /// The same connection over TLS, after the server said yes to STARTTLS.
    pub(crate) fn start_tls(self) -> Option<Peer> {
        match self {
            Peer::Plain(stream) => Peer::tls(stream),
            tls => Some(tls),
        }
    }

    /// Whether the connection is over TLS.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Peer::Tls(_))
    }

    /// The next line without its line end; `None` once the client has gone. Read a byte at
    /// a time, so that nothing after the line is taken: after STARTTLS, the TLS handshake
    /// comes next on the same socket.
    pub(crate) fn line(&mut self) -> Option<String> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match self.read(&mut byte) {
                Ok(1) if byte[0] == b'\n' => break,
                Ok(1) if line.len() < 8192 => line.push(byte[0]),
                _ => return None,
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(String::from_utf8_lossy(&line).into_owned())
    }

    /// Sends `text`; false once the client has gone.
    pub(crate) fn say(&mut self, text: &str) -> bool {
        self.write_all(text.as_bytes()).and_then(|()| self.flush()).is_ok()
    }
}

impl Read for Peer {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Peer::Plain(stream) => stream.read(buf),
            Peer::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Peer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Peer::Plain(stream) => stream.write(buf),
            Peer::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Peer::Plain(stream) => stream.flush(),
            Peer::Tls(stream) => stream.flush(),
        }
    }
}

/// The TLS config of the scripted servers: a self-signed certificate for localhost and
/// 127.0.0.1, made once per test process (the checks use `tls_verify = false`, or expect
/// the handshake to fail).
pub(crate) fn tls_config() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let certified = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .expect("a self-signed certificate");
            let cert = certified.cert.der().clone();
            let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
            let config =
                rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .expect("TLS versions")
                    .with_no_client_auth()
                    .with_single_cert(vec![cert], key)
                    .expect("the certificate and key");
            Arc::new(config)
        })
        .clone()
}

/// What a scripted server heard: each command line, in order, over every connection.
pub(crate) type Heard = Arc<Mutex<Vec<String>>>;

/// A scripted server on a port of its own: each connection goes to `handler` in a thread,
/// with the log of what was heard, which the handler writes before it answers.
pub(crate) fn serve(handler: impl Fn(Peer, &Heard) + Send + Sync + 'static) -> (SocketAddr, Heard) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a scripted server");
    let addr = listener.local_addr().expect("server address");
    let heard: Heard = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&heard);
    let handler = Arc::new(handler);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                handler(Peer::Plain(stream), &log);
            });
        }
    });
    (addr, heard)
}

/// The lines a scripted server heard.
pub(crate) fn heard(log: &Heard) -> Vec<String> {
    log.lock().expect("the log").clone()
}

/// The scripted SMTP servers.
#[derive(Clone, Copy, PartialEq)]
enum Smtp {
    /// Offers STARTTLS in plain text, and AUTH only over TLS (as Postfix is usually set up).
    StartTls,
    /// Offers AUTH in plain text, and no STARTTLS.
    Plain,
    /// Greets with 554 and answers nothing but QUIT.
    Refusing,
    /// Speaks TLS at once (port 465), offering AUTH.
    Implicit,
}

/// Starts a scripted SMTP server of that kind.
fn smtp(kind: Smtp) -> (SocketAddr, Heard) {
    serve(move |peer, log| {
        let peer = if kind == Smtp::Implicit { peer.start_tls() } else { Some(peer) };
        if let Some(peer) = peer {
            converse(kind, peer, log);
        }
    })
}

fn converse(kind: Smtp, mut peer: Peer, log: &Heard) {
    let greeting = match kind {
        Smtp::Refusing => "554 5.3.2 mail.test has no service for you\r\n",
        _ => "220-mail.test ESMTP vitals-test\r\n220 no UCE\r\n",
    };
    if !peer.say(greeting) {
        return;
    }
    while let Some(line) = peer.line() {
        log.lock().expect("the log").push(line.clone());
        let verb = line.split(' ').next().unwrap_or_default().to_ascii_uppercase();
        let answer = match (verb.as_str(), kind) {
            ("QUIT", _) => {
                peer.say("221 2.0.0 Bye\r\n");
                return;
            }
            (_, Smtp::Refusing) => "503 5.5.1 no service\r\n".to_string(),
            ("EHLO", _) => {
                let mut lines = vec![format!("mail.test Hello {}", line.get(5..).unwrap_or_default())];
                lines.extend(["PIPELINING", "SIZE 10240000"].map(String::from));
                if kind == Smtp::StartTls && !peer.is_tls() {
                    lines.push("STARTTLS".into());
                } else {
                    lines.push("AUTH PLAIN LOGIN".into());
                }
                lines.push("8BITMIME".into());
                let last = lines.len() - 1;
                lines
                    .iter()
                    .enumerate()
                    .map(|(n, l)| format!("250{}{l}\r\n", if n == last { ' ' } else { '-' }))
                    .collect()
            }
            ("STARTTLS", Smtp::StartTls) if !peer.is_tls() => {
                if !peer.say("220 2.0.0 Ready to start TLS\r\n") {
                    return;
                }
                match peer.start_tls() {
                    Some(tls) => peer = tls,
                    None => return,
                }
                continue;
            }
            _ => "502 5.5.2 Error: command not recognized\r\n".to_string(),
        };
        if !peer.say(&answer) {
            return;
        }
    }
}

fn target(addr: SocketAddr) -> String {
    format!("127.0.0.1:{}", addr.port())
}

#[test]
fn a_server_offering_starttls_is_ok_and_hears_ehlo_then_quit() {
    let (addr, log) = smtp(Smtp::StartTls);
    let (code, result, stderr) = run("smtp", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result}\n{stderr}");
    let text = summary(&result);
    assert!(text.starts_with(&format!("SMTP 220 from {} in ", target(addr))), "{text}");
    assert!(text.ends_with(", EHLO offers STARTTLS"), "{text}");
    assert_eq!(metric(&result, "size_limit"), Some(10_240_000.0));
    assert!(metric(&result, "time_ehlo").is_some_and(|ms| ms >= 0.0), "{result}");
    assert_eq!(metric(&result, "time_tls"), None);
    assert!(result["details"].as_str().unwrap_or("").contains("greeting: 220-mail.test ESMTP vitals-test"), "{result}");
    assert_eq!(heard(&log), ["EHLO vitals.invalid", "QUIT"]);
}

#[test]
fn starttls_upgrades_and_ehlo_over_tls_offers_auth() {
    let (addr, log) = smtp(Smtp::StartTls);
    let (code, result, stderr) =
        run("smtp", &target(addr), "", "starttls = true\ntls_verify = false\nhelo = \"probe.vitals.test\"");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result}\n{stderr}");
    assert!(summary(&result).ends_with(", upgraded with STARTTLS, EHLO offers AUTH PLAIN LOGIN"), "{result}");
    assert!(metric(&result, "time_tls").is_some_and(|ms| ms >= 0.0), "{result}");
    assert_eq!(heard(&log), ["EHLO probe.vitals.test", "STARTTLS", "EHLO probe.vitals.test", "QUIT"]);
}

#[test]
fn starttls_with_verification_refuses_the_self_signed_certificate() {
    let (addr, log) = smtp(Smtp::StartTls);
    let (code, result, stderr) = run("smtp", &target(addr), "", "starttls = true");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "tls"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("STARTTLS with {} failed: ", target(addr))), "{result}");
    assert_eq!(heard(&log), ["EHLO vitals.invalid", "STARTTLS"]);
}

#[test]
fn implicit_tls_greets_over_tls() {
    let (addr, log) = smtp(Smtp::Implicit);
    let (code, result, stderr) = run("smtp", &target(addr), "", "tls = true\ntls_verify = false");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result}\n{stderr}");
    assert!(summary(&result).ends_with(" over TLS, EHLO offers AUTH PLAIN LOGIN"), "{result}");
    assert!(metric(&result, "time_tls").is_some(), "{result}");
    assert_eq!(heard(&log), ["EHLO vitals.invalid", "QUIT"]);
}

#[test]
fn a_greeting_without_the_expected_banner_is_critical_assertion() {
    let (addr, log) = smtp(Smtp::StartTls);
    let (code, result, stderr) = run("smtp", &target(addr), "", "expect_banner = \"Postfix\"");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("the greeting of {}, \"220 mail.test ESMTP vitals-test\", does not contain \"Postfix\"", target(addr))
    );
    assert_eq!(heard(&log), ["QUIT"]);
}

#[test]
fn starttls_required_but_not_offered_is_critical_assertion() {
    let (addr, _log) = smtp(Smtp::Plain);
    let (code, result, stderr) = run("smtp", &target(addr), "", "require_starttls = true");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(summary(&result), format!("{} does not offer STARTTLS (EHLO offers AUTH PLAIN LOGIN)", target(addr)));
}

#[test]
fn a_554_greeting_is_critical_assertion_and_the_plugin_still_says_quit() {
    let (addr, log) = smtp(Smtp::Refusing);
    let (code, result, stderr) = run("smtp", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("{} greets with \"554 5.3.2 mail.test has no service for you\", not 220", target(addr))
    );
    assert!(metric(&result, "time_banner").is_some(), "{result}");
    assert_eq!(heard(&log), ["QUIT"]);
}

#[test]
fn a_closed_port_is_critical_connect() {
    let target = format!("127.0.0.1:{}", closed_port());
    let (code, result, stderr) = run("smtp", &target, "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "connect"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("connect to {target} failed: ")), "{result}");
}

#[test]
fn a_server_that_never_greets_is_critical_timeout() {
    let addr = silent();
    let (code, result, stderr) = run("smtp", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "timeout"), "{result}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("read the greeting from {} failed: ", target(addr))), "{result}");
    assert!(metric(&result, "time_connect").is_some(), "{result}");
}

#[test]
fn a_server_that_is_not_smtp_is_critical_protocol_quoting_it() {
    let addr = banner("SSH-2.0-OpenSSH_9.6\r\n");
    let (code, result, stderr) = run("smtp", &target(addr), "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "protocol"), "{result}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("the greeting from {} is not an SMTP reply: got \"SSH-2.0-OpenSSH_9.6\"", target(addr))
    );
}

#[test]
fn a_zero_warn_time_makes_a_good_server_a_warning() {
    // A threshold of 0 fires on any conversation: the assertion is on the status, not on a time.
    let (addr, _log) = smtp(Smtp::StartTls);
    let (code, result, stderr) = run("smtp", &target(addr), "", "warn_time = \"0ms\"\ncrit_time = \"1h\"");
    assert_eq!((code, status(&result), reason(&result)), (1, "warning", "assertion"), "{result}\n{stderr}");
    assert!(summary(&result).contains(", EHLO offers STARTTLS: slower than warn_time "), "{result}");
    let total = result["metrics"].as_array().and_then(|m| m.iter().find(|m| m["name"] == "time_total")).cloned();
    assert_eq!(total.as_ref().map(|m| m["warn"].clone()), Some(serde_json::json!("0")), "{result}");
}
