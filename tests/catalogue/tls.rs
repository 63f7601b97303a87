//! The `tls` check against TLS servers this module starts on 127.0.0.1 (rustls, one
//! thread per connection), with certificates rcgen makes for each test into a temp dir: a
//! private CA and leaves signed by it (valid 90 days, expiring in 3 days, expired, for
//! another name), a self-signed leaf, a CA certificate served as the server's own; a
//! TLS-1.2-only server; an SMTP server that hands its socket to rustls after STARTTLS; and
//! the usual closed, silent and garbage peers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::pki::{Ca, DAY, HOUR, Served, When, self_signed};
use crate::support::{metric, servers};
use crate::{reason, run, status, summary};

/// Before the handshake, on the plain socket (a STARTTLS dialogue); an error ends the
/// connection there.
type Prelude = fn(&mut TcpStream) -> std::io::Result<()>;

/// A TLS server on 127.0.0.1 presenting `served`, TLS 1.2 only with `tls12_only`.
fn tls_server(served: Served, tls12_only: bool, prelude: Option<Prelude>) -> SocketAddr {
    let config = served.server_config(tls12_only);
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a TLS test server");
    let addr = listener.local_addr().expect("server address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            thread::spawn(move || {
                let _ = serve_tls(stream, config, prelude);
            });
        }
    });
    addr
}

fn serve_tls(mut tcp: TcpStream, config: Arc<rustls::ServerConfig>, prelude: Option<Prelude>) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    if let Some(prelude) = prelude {
        prelude(&mut tcp)?;
    }
    let mut conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    // Until the check closes the connection.
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut buf = [0u8; 256];
    while tls.read(&mut buf).is_ok_and(|n| n > 0) {}
    Ok(())
}

/// An SMTP server's side of STARTTLS: greeting, EHLO, STARTTLS, 220.
fn smtp_starttls(tcp: &mut TcpStream) -> std::io::Result<()> {
    tcp.write_all(b"220 mx.test ESMTP ready\r\n")?;
    // The client sends nothing after STARTTLS until the 220, so the buffer holds no TLS.
    let mut reader = BufReader::new(tcp.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if !line.starts_with("EHLO ") {
        return Err(std::io::Error::other(format!("expected EHLO, got {line:?}")));
    }
    tcp.write_all(b"250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")?;
    line.clear();
    reader.read_line(&mut line)?;
    if line != "STARTTLS\r\n" {
        return Err(std::io::Error::other(format!("expected STARTTLS, got {line:?}")));
    }
    tcp.write_all(b"220 2.0.0 ready to start TLS\r\n")
}

/// An SMTP server that does not offer TLS.
fn smtp_no_tls(tcp: &mut TcpStream) -> std::io::Result<()> {
    tcp.write_all(b"220 mx.test ESMTP ready\r\n")?;
    let mut reader = BufReader::new(tcp.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    tcp.write_all(b"250 mx.test\r\n")?;
    line.clear();
    reader.read_line(&mut line)?;
    tcp.write_all(b"454 4.7.0 TLS not available due to local problem\r\n")?;
    Err(std::io::Error::other("no TLS here"))
}

fn target(addr: SocketAddr) -> String {
    format!("127.0.0.1:{}", addr.port())
}

#[test]
fn a_leaf_of_a_private_ca_is_ok_when_the_check_trusts_the_ca() {
    let ca = Ca::new("Vitals Test CA");
    let addr = tls_server(ca.valid_for(90), false, None);
    let (code, result, stderr) = run("tls", &target(addr), &ca.setting(), "");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("TLSv1.3 TLS_"), "{}", summary(&result));
    assert!(summary(&result).contains(", certificate for 127.0.0.1 (CN=localhost) valid until "), "{result:#}");
    assert!(summary(&result).ends_with(", 90 days"), "{result:#}");
    assert_eq!(metric(&result, "days_to_expiry"), Some(90.0));
    assert!(metric(&result, "time_to_expiry").is_some_and(|s| s > 90.0 * 86_400.0 && s <= 90.0 * 86_400.0 + 3_600.0));
    assert_eq!(metric(&result, "tls_version"), Some(1.3));
    assert_eq!(metric(&result, "chain_length"), Some(1.0));
    assert!(metric(&result, "time_tls").is_some_and(|ms| ms > 0.0), "{result:#}");
    let days = result["metrics"].as_array().and_then(|m| m.iter().find(|m| m["name"] == "days_to_expiry")).cloned();
    let days = days.unwrap_or_default();
    assert_eq!((days["warn"].as_str(), days["crit"].as_str()), (Some("30:"), Some("7:")), "{days:#}");
    let details = result["details"].as_str().unwrap_or_default();
    assert!(details.contains("certificate 1: subject CN=localhost; issuer CN=Vitals Test CA; valid "), "{details}");
}

#[test]
fn a_leaf_of_a_private_ca_is_critical_without_the_ca() {
    let ca = Ca::new("Vitals Test CA");
    let addr = tls_server(ca.valid_for(90), false, None);
    let (code, result, stderr) = run("tls", &target(addr), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "tls", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).contains("issued by CN=Vitals Test CA, which is not a trusted authority"), "{result:#}");
    // The certificate is still described.
    assert_eq!(metric(&result, "days_to_expiry"), Some(90.0));
}

#[test]
fn a_certificate_expiring_in_three_days_is_critical_by_default_and_a_warning_with_lower_thresholds() {
    let ca = Ca::new("Vitals Test CA");
    let addr = tls_server(ca.valid_for(3), false, None);
    let (_, result, stderr) = run("tls", &target(addr), &ca.setting(), "");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("certificate for 127.0.0.1 expires in 3 days ("), "{result:#}");
    assert!(summary(&result).ends_with("), sooner than crit_days 7"), "{result:#}");
    assert_eq!(metric(&result, "days_to_expiry"), Some(3.0));

    let (_, result, _) = run("tls", &target(addr), &ca.setting(), "warn_days = 5\ncrit_days = 1");
    assert_eq!((status(&result), reason(&result)), ("warning", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with("sooner than warn_days 5"), "{result:#}");

    let (_, result, _) = run("tls", &target(addr), &ca.setting(), "warn_days = 2\ncrit_days = 1");
    assert_eq!(status(&result), "ok", "{result:#}");
}

#[test]
fn an_expired_certificate_is_critical_tls() {
    let ca = Ca::new("Vitals Test CA");
    let expired = ca.leaf(&["127.0.0.1"], When::Ago(30 * DAY), When::Ago(3 * DAY + HOUR));
    let addr = tls_server(expired, false, None);
    let (_, result, stderr) = run("tls", &target(addr), &ca.setting(), "");
    assert_eq!((status(&result), reason(&result)), ("critical", "tls"), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("certificate for 127.0.0.1 expired on "), "{result:#}");
    assert!(summary(&result).ends_with(", 3 days ago"), "{result:#}");
    assert_eq!(metric(&result, "days_to_expiry"), Some(-3.0));
}

#[test]
fn a_certificate_for_another_name_is_critical_unless_the_name_is_not_verified() {
    let ca = Ca::new("Vitals Test CA");
    let addr = tls_server(ca.leaf(&["other.example"], When::Ago(DAY), When::In(90 * DAY + HOUR)), false, None);
    let (_, result, stderr) = run("tls", &target(addr), &ca.setting(), "");
    assert_eq!((status(&result), reason(&result)), ("critical", "tls"), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), "certificate is for other.example, not 127.0.0.1");

    let (_, result, _) = run("tls", &target(addr), &ca.setting(), "verify_name = false");
    assert_eq!(status(&result), "ok", "{result:#}");
    assert!(summary(&result).ends_with("not valid for 127.0.0.1 (verify_name = false)"), "{result:#}");

    // The name asked for in SNI is the one judged.
    let (_, result, _) = run("tls", &target(addr), &ca.setting(), "server_name = \"other.example\"");
    assert_eq!(status(&result), "ok", "{result:#}");
    assert!(summary(&result).contains("certificate for other.example (CN=localhost) valid until"), "{result:#}");
}

#[test]
fn a_self_signed_certificate_is_critical_and_ok_when_pinned_without_the_chain() {
    let served = self_signed(false);
    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(served.chain[0].as_ref()))
    };
    let addr = tls_server(served, false, None);
    let (_, result, stderr) = run("tls", &target(addr), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "tls"), "{result:#}\n{stderr}");
    assert!(summary(&result).contains("is self-signed"), "{result:#}");

    let colons: Vec<String> =
        fingerprint.as_bytes().chunks(2).map(|p| String::from_utf8_lossy(p).to_uppercase()).collect();
    let pinned = format!("verify_chain = false\nfingerprint = \"{}\"", colons.join(":"));
    let (_, result, _) = run("tls", &target(addr), "", &pinned);
    assert_eq!(status(&result), "ok", "{result:#}");
    assert!(summary(&result).ends_with("chain not verified (verify_chain = false)"), "{result:#}");

    let wrong = format!("verify_chain = false\nfingerprint = \"{}\"", "ab".repeat(32));
    let (_, result, _) = run("tls", &target(addr), "", &wrong);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(", not the pinned ab:ab:ab:ab:ab:ab:ab:ab…"), "{result:#}");
}

#[test]
fn a_ca_certificate_as_the_server_certificate_is_critical() {
    let addr = tls_server(self_signed(true), false, None);
    let (_, result, stderr) = run("tls", &target(addr), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "tls"), "{result:#}\n{stderr}");
    assert!(summary(&result).contains("is a CA certificate"), "{result:#}");
    assert!(result["details"].as_str().unwrap_or_default().contains("certificate 1 (CA): "), "{result:#}");
}

#[test]
fn starttls_smtp_then_the_certificate() {
    let ca = Ca::new("Vitals Test CA");
    let addr = tls_server(ca.valid_for(90), false, Some(smtp_starttls));
    let (_, result, stderr) = run("tls", &target(addr), &ca.setting(), "starttls = \"smtp\"");
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");
    assert!(summary(&result).contains(", certificate for 127.0.0.1 (CN=localhost) valid until "), "{result:#}");
    assert!(summary(&result).ends_with(", 90 days"), "{result:#}");
    assert_eq!(metric(&result, "days_to_expiry"), Some(90.0));
}

#[test]
fn starttls_refused_by_the_smtp_server_is_critical_tls() {
    let ca = Ca::new("Vitals Test CA");
    let addr = tls_server(ca.valid_for(90), false, Some(smtp_no_tls));
    let (_, result, stderr) = run("tls", &target(addr), &ca.setting(), "starttls = \"smtp\"");
    assert_eq!((status(&result), reason(&result)), ("critical", "tls"), "{result:#}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!(
            "the SMTP server at {} refused STARTTLS: \"454 4.7.0 TLS not available due to local problem\"",
            target(addr)
        )
    );
}

#[test]
fn min_version_tls13_against_a_tls12_server_is_critical() {
    let ca = Ca::new("Vitals Test CA");
    let addr = tls_server(ca.valid_for(90), true, None);
    let (_, result, stderr) = run("tls", &target(addr), &ca.setting(), "min_version = \"TLSv1.3\"");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), "the server negotiated TLSv1.2, older than min_version TLSv1.3");
    assert_eq!(metric(&result, "tls_version"), Some(1.2));

    let (_, result, _) = run("tls", &target(addr), &ca.setting(), "min_version = \"TLSv1.2\"");
    assert_eq!(status(&result), "ok", "{result:#}");
    assert!(summary(&result).starts_with("TLSv1.2 TLS_ECDHE_ECDSA_WITH_"), "{result:#}");
}

#[test]
fn a_closed_port_is_critical_connect() {
    let port = servers::closed_port();
    let (_, result, stderr) = run("tls", &format!("127.0.0.1:{port}"), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "connect"), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("connect to 127.0.0.1:{port} failed: ")), "{result:#}");
}

#[test]
fn a_silent_server_is_critical_timeout() {
    let addr = servers::silent();
    let (_, result, stderr) = run("tls", &target(addr), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "timeout"), "{result:#}\n{stderr}");
    assert!(summary(&result).contains("TLS handshake"), "{result:#}");
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
}

#[test]
fn a_garbage_server_is_critical_protocol_quoted_with_starttls_and_tls_without() {
    let addr = servers::banner("SSH-2.0-OpenSSH_9.6\r\n");
    let (_, result, stderr) = run("tls", &target(addr), "", "starttls = \"smtp\"");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("expected the SMTP greeting (220) from {}, got \"SSH-2.0-OpenSSH_9.6\"", target(addr))
    );

    let (_, result, _) = run("tls", &target(addr), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "tls"), "{result:#}");
    assert!(summary(&result).starts_with("TLS handshake with 127.0.0.1 failed: "), "{result:#}");
}
