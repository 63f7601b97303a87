//! The `grpc` check against gRPC health servers this module starts on 127.0.0.1: tonic with
//! tonic-health (whose generated code ships in the crate, so no protoc is needed), one per
//! test on its own runtime thread, in cleartext (h2c) or over TLS with a leaf of a private
//! CA that rcgen makes (tonic's rustls acceptor, ALPN h2), optionally behind an interceptor
//! that wants a bearer token; a rustls server that agrees to no application protocol; and
//! the usual closed, silent and garbage peers.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::support::{metric, servers};
use crate::{reason, run, run_env, status, summary};

/// The bearer token the guarded server wants.
const TOKEN: &str = "s3cret-grpc-token-4711";

/// A running tonic-health server and the reporter that sets its services' statuses.
struct Health {
    addr: SocketAddr,
    reporter: HealthReporter,
    runtime: tokio::runtime::Handle,
}

impl Health {
    /// Sets `service`'s status, as the server's application would.
    fn set(&self, service: &str, status: ServingStatus) {
        self.runtime.block_on(self.reporter.set_service_status(service, status));
    }

    fn target(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }
}

/// Starts a tonic-health server on 127.0.0.1 (over TLS with `identity`; wanting
/// `authorization: Bearer TOKEN` with `guarded`), which lives as long as the test process.
fn health_server(identity: Option<Identity>, guarded: bool) -> Health {
    let (sender, receiver) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let handle = runtime.handle().clone();
        runtime.block_on(async move {
            let (reporter, service) = tonic_health::server::health_reporter();
            let incoming = TcpIncoming::bind(([127, 0, 0, 1], 0).into()).expect("bind a gRPC test server");
            let addr = incoming.local_addr().expect("server address");
            sender.send((addr, reporter, handle)).expect("hand over the server");
            let mut builder = Server::builder();
            if let Some(identity) = identity {
                builder = builder.tls_config(ServerTlsConfig::new().identity(identity)).expect("TLS config");
            }
            let served = if guarded {
                let guard = InterceptedService::new(service, bearer_token);
                builder.add_service(guard).serve_with_incoming(incoming).await
            } else {
                builder.add_service(service).serve_with_incoming(incoming).await
            };
            served.expect("serve gRPC");
        });
    });
    let (addr, reporter, runtime) = receiver.recv().expect("the gRPC test server started");
    Health { addr, reporter, runtime }
}

/// The guarded server's interceptor.
#[allow(clippy::result_large_err)]
fn bearer_token(request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    let expected = format!("Bearer {TOKEN}");
    match request.metadata().get("authorization").and_then(|v| v.to_str().ok()) {
        Some(given) if given == expected => Ok(request),
        _ => Err(tonic::Status::unauthenticated("invalid token")),
    }
}

/// A private CA and a leaf for 127.0.0.1 and localhost it signed.
struct Pki {
    ca: crate::pki::Ca,
    leaf: crate::pki::Served,
}

impl Pki {
    fn new() -> Pki {
        let ca = crate::pki::Ca::new("Vitals gRPC Test CA");
        let leaf = ca.valid_for(90);
        Pki { ca, leaf }
    }

    /// The leaf and its key for tonic.
    fn identity(&self) -> Identity {
        Identity::from_pem(&self.leaf.cert_pem, &self.leaf.key_pem)
    }

    /// `ca = "…/ca.pem"`, for the [[check]] table.
    fn ca_setting(&self) -> String {
        self.ca.setting()
    }
}

/// A TLS server (rustls, no ALPN configured) that completes the handshake and then only
/// reads: it agrees to no application protocol.
fn tls_server_without_alpn(pki: &Pki) -> SocketAddr {
    let config = Arc::new(pki.leaf.server_config(false));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a TLS test server");
    let addr = listener.local_addr().expect("server address");
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(conn) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut buf = [0u8; 256];
                while tls.read(&mut buf).is_ok_and(|n| n > 0) {}
            });
        }
    });
    addr
}

fn service(name: &str) -> String {
    format!("service = {}", crate::support::toml_str(name))
}

#[test]
fn the_server_as_a_whole_is_serving_over_h2c() {
    let server = health_server(None, false);
    let (code, result, stderr) = run("grpc", &server.target(), "", "");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    let head = format!("gRPC health of \"\" at {}: SERVING in ", server.target());
    assert!(summary(&result).starts_with(&head), "{result:#}");
    assert_eq!(metric(&result, "serving_status"), Some(1.0));
    assert!(metric(&result, "time_rpc").is_some_and(|ms| ms > 0.0), "{result:#}");
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
    assert_eq!(metric(&result, "time_tls"), None);
    let details = result["details"].as_str().unwrap_or_default();
    assert!(details.contains(":status 200, content-type application/grpc"), "{details}");
}

#[test]
fn a_service_set_not_serving_turns_ok_into_critical() {
    let server = health_server(None, false);
    server.set("shop.Cart", ServingStatus::Serving);
    let (_, result, stderr) = run("grpc", &server.target(), "", &service("shop.Cart"));
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("gRPC health of \"shop.Cart\" at "), "{result:#}");

    server.set("shop.Cart", ServingStatus::NotServing);
    let (code, result, stderr) = run("grpc", &server.target(), "", &service("shop.Cart"));
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).ends_with(": NOT_SERVING, expected SERVING"), "{result:#}");
    assert_eq!(metric(&result, "serving_status"), Some(2.0));
}

#[test]
fn a_service_the_server_does_not_know_is_critical_with_tonics_not_found() {
    // tonic-health answers Check for an unregistered service with grpc-status NOT_FOUND
    // (as the protocol says), not with the SERVICE_UNKNOWN that Watch sends.
    let server = health_server(None, false);
    let (_, result, stderr) = run("grpc", &server.target(), "", &service("no.Such"));
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert!(
        summary(&result)
            .ends_with(": service \"no.Such\" is unknown to the server (NOT_FOUND: \"service not registered\")"),
        "{result:#}"
    );
    assert_eq!(metric(&result, "serving_status"), None);
}

#[test]
fn tls_without_verification_is_ok_over_h2() {
    let pki = Pki::new();
    let server = health_server(Some(pki.identity()), false);
    let (code, result, stderr) = run("grpc", &server.target(), "", "tls = true\ntls_verify = false");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    let head = format!("gRPC health of \"\" at {} over TLS: SERVING in ", server.target());
    assert!(summary(&result).starts_with(&head), "{result:#}");
    assert!(metric(&result, "time_tls").is_some_and(|ms| ms > 0.0), "{result:#}");
    let details = result["details"].as_str().unwrap_or_default();
    assert!(details.contains(", ALPN h2, certificate not verified"), "{details}");
}

#[test]
fn tls_with_verification_refuses_a_private_ca_and_accepts_it_when_trusted() {
    let pki = Pki::new();
    let server = health_server(Some(pki.identity()), false);
    let (code, result, stderr) = run("grpc", &server.target(), "", "tls = true");
    assert_eq!((status(&result), reason(&result), code), ("critical", "tls", 2), "{result:#}\n{stderr}");
    let head = format!("TLS handshake with {} failed: ", server.target());
    assert!(summary(&result).starts_with(&head), "{result:#}");
    assert!(!summary(&result)[head.len()..].starts_with("TLS handshake"), "said twice: {result:#}");

    let (_, result, stderr) = run("grpc", &server.target(), &pki.ca_setting(), "tls = true");
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");
    let details = result["details"].as_str().unwrap_or_default();
    assert!(details.contains(", ALPN h2, certificate verified"), "{details}");
}

#[test]
fn a_tls_server_that_agrees_to_no_application_protocol_is_critical_protocol() {
    let pki = Pki::new();
    let addr = tls_server_without_alpn(&pki);
    let target = format!("127.0.0.1:{}", addr.port());
    let (_, result, stderr) = run("grpc", &target, &pki.ca_setting(), "tls = true");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}\n{stderr}");
    assert!(
        summary(&result)
            .ends_with(": the server did not agree to HTTP/2 (it chose no application protocol, h2 was offered)"),
        "{result:#}"
    );
    assert!(metric(&result, "time_tls").is_some(), "{result:#}");
}

#[test]
fn cleartext_to_a_tls_server_is_critical_protocol_with_a_hint() {
    let pki = Pki::new();
    let server = health_server(Some(pki.identity()), false);
    let (_, result, stderr) = run("grpc", &server.target(), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}\n{stderr}");
    assert!(
        summary(&result).ends_with(": the server answered with TLS, not cleartext HTTP/2 (set tls = true)"),
        "{result:#}"
    );
}

#[test]
fn metadata_carries_a_secret_token_that_never_shows() {
    let server = health_server(None, true);
    let config = "metadata = { authorization = \"Bearer ${env:VITALS_TEST_GRPC_TOKEN}\" }";
    let (code, result, stderr) = run_env("grpc", &server.target(), "", config, &[("VITALS_TEST_GRPC_TOKEN", TOKEN)]);
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(!result.to_string().contains(TOKEN) && !stderr.contains(TOKEN), "the token leaked: {result:#}\n{stderr}");

    let (_, result, stderr) =
        run_env("grpc", &server.target(), "", config, &[("VITALS_TEST_GRPC_TOKEN", "not-the-token-0815")]);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert!(summary(&result).ends_with(": authentication failed: \"invalid token\" (UNAUTHENTICATED)"), "{result:#}");
    assert!(!result.to_string().contains("not-the-token-0815"), "the token leaked: {result:#}");
}

#[test]
fn without_metadata_the_guarded_server_refuses_the_call() {
    let server = health_server(None, true);
    let (_, result, stderr) = run("grpc", &server.target(), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert!(summary(&result).contains("authentication failed"), "{result:#}");
}

#[test]
fn a_closed_port_is_critical_connect() {
    let port = servers::closed_port();
    let target = format!("127.0.0.1:{port}");
    let (code, result, stderr) = run("grpc", &target, "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "connect", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("connect to {target} failed: ")), "{result:#}");
}

#[test]
fn a_silent_server_is_critical_timeout() {
    let addr = servers::silent();
    let (_, result, stderr) = run("grpc", &format!("127.0.0.1:{}", addr.port()), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "timeout"), "{result:#}\n{stderr}");
    assert!(summary(&result).ends_with("(waiting for the server's HTTP/2 SETTINGS)"), "{result:#}");
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
}

#[test]
fn an_http1_server_is_critical_protocol_quoting_it() {
    let addr = servers::banner("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let (_, result, stderr) = run("grpc", &format!("127.0.0.1:{}", addr.port()), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}\n{stderr}");
    assert!(
        summary(&result).ends_with(": the server does not speak HTTP/2: it sent \"HTTP/1.1 400 Bad Request\""),
        "{result:#}"
    );
}
