//! Shared network plumbing for the `http` and `tcp` host imports: errors, phase timings,
//! time budgets, grant-checked resolution and connection, and the TLS client configuration.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use crate::plan::grants::Trust;
use tokio_rustls::client::TlsStream;

use crate::plan::grants::Grants;

/// Why a network host call failed; each case carries a message for a person. The cases
/// are those of the WIT `net-error` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The check was not granted the host or port (or a resolved address of it).
    #[error("{0}")]
    Denied(String),
    /// The name could not be resolved.
    #[error("{0}")]
    Dns(String),
    /// The connection could not be established.
    #[error("{0}")]
    Connect(String),
    /// The TLS handshake failed.
    #[error("{0}")]
    Tls(String),
    /// The call, or the check's deadline, ran out of time.
    #[error("{0}")]
    Timeout(String),
    /// The peer broke the protocol (malformed HTTP, connection closed early).
    #[error("{0}")]
    Protocol(String),
    /// The request itself is invalid (bad URL, bad header, closed connection handle).
    #[error("{0}")]
    Invalid(String),
}

/// Durations of the phases of one network exchange; a phase that did not happen (no TLS,
/// no DNS for an IP literal) is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Name resolution.
    pub dns: Option<Duration>,
    /// TCP connection establishment (every address tried).
    pub connect: Option<Duration>,
    /// TLS handshake.
    pub tls: Option<Duration>,
    /// From sending the request to receiving the response head.
    pub first_byte: Option<Duration>,
    /// The whole exchange.
    pub total: Duration,
}

/// The time a check has left: its deadline, against which every host call's own
/// timeout is capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    deadline: Instant,
}

impl Budget {
    /// A budget that ends at `deadline`.
    pub fn new(deadline: Instant) -> Budget {
        Budget { deadline }
    }

    /// Time left before the deadline (zero once it has passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The time one call may take: `min(requested, time left)`, or the time left when no
    /// timeout was requested. A `Timeout` error when the deadline has already passed.
    pub fn limit(&self, requested: Option<Duration>) -> Result<Duration, NetError> {
        let left = self.remaining();
        if left.is_zero() {
            return Err(NetError::Timeout(
                "the check's deadline has passed; no time is left for this call".to_string(),
            ));
        }
        Ok(requested.map_or(left, |r| r.min(left)))
    }
}

/// A duration for a person: `2s`, `1.5s`, `250ms`, `800us`.
pub fn human_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        let ms = d.as_millis();
        if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            let s = format!("{:.3}", d.as_secs_f64());
            format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
        }
    } else if d >= Duration::from_millis(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}us", d.as_micros())
    }
}

/// `host:port`, with brackets around an IPv6 literal.
pub fn host_port(host: &str, port: u16) -> String {
    let bare = strip_brackets(host);
    if bare.contains(':') { format!("[{bare}]:{port}") } else { format!("{bare}:{port}") }
}

fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

/// An I/O error in a person's words (`connection refused`), without the OS error number.
pub fn describe_io(error: &io::Error) -> String {
    use io::ErrorKind as K;
    match error.kind() {
        K::ConnectionRefused => "connection refused".to_string(),
        K::ConnectionReset => "connection reset by peer".to_string(),
        K::ConnectionAborted => "connection aborted".to_string(),
        K::HostUnreachable => "host unreachable".to_string(),
        K::NetworkUnreachable => "network unreachable".to_string(),
        K::NetworkDown => "network down".to_string(),
        K::AddrNotAvailable => "address not available".to_string(),
        K::TimedOut => "timed out".to_string(),
        K::BrokenPipe => "connection closed by peer (broken pipe)".to_string(),
        K::UnexpectedEof => "connection closed by peer".to_string(),
        _ => error.to_string(),
    }
}

/// The message used when a grant check by name fails.
pub fn denied_message(grants: &Grants, host: &str, port: u16) -> String {
    format!(
        "{} is not granted to this check (granted: {grants}); add it to the check's allow list",
        host_port(host, port)
    )
}

/// Checks `host:port` against the grants by name, resolves it (unless it is an IP
/// literal), drops resolved addresses the grants refuse, and connects to the first
/// address that answers, all within `limit`. Returns the stream, the address connected
/// to, and the `dns`, `connect` and `total` timings.
pub async fn connect(
    grants: &Grants,
    host: &str,
    port: u16,
    limit: Duration,
) -> Result<(TcpStream, SocketAddr, Timings), NetError> {
    connect_until(grants, host, port, Instant::now() + limit, limit).await
}

/// [`connect`] with an absolute end; `shown_limit` is the limit named in timeout messages
/// (the whole call's limit, when connecting is only part of it).
pub(crate) async fn connect_until(
    grants: &Grants,
    host: &str,
    port: u16,
    end: Instant,
    shown_limit: Duration,
) -> Result<(TcpStream, SocketAddr, Timings), NetError> {
    let start = Instant::now();
    let host = strip_brackets(host);
    if host.is_empty() {
        return Err(NetError::Invalid("the host is empty".to_string()));
    }
    if port == 0 {
        return Err(NetError::Invalid(format!("{}: port 0 cannot be connected to", host_port(host, port))));
    }
    if !grants.allows(host, port) {
        return Err(NetError::Denied(denied_message(grants, host, port)));
    }
    let target = host_port(host, port);
    let timed_out =
        |phase: String| NetError::Timeout(format!("timed out after {} {phase}", human_duration(shown_limit)));

    let mut timings = Timings::default();
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let resolved = tokio::time::timeout_at(end, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| timed_out(format!("resolving {host}")))?
                .map_err(|e| NetError::Dns(format!("{host}: could not resolve: {e}")))?;
            timings.dns = Some(start.elapsed());
            let mut addrs: Vec<SocketAddr> = Vec::new();
            for addr in resolved {
                if !addrs.contains(&addr) {
                    addrs.push(addr);
                }
            }
            if addrs.is_empty() {
                return Err(NetError::Dns(format!("{host}: the name has no addresses")));
            }
            addrs
        }
    };

    let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
        addrs.into_iter().partition(|addr| grants.allows_addr(host, *addr));
    if allowed.is_empty() {
        let list: Vec<String> = refused.iter().map(SocketAddr::to_string).collect();
        let example = refused.first().map_or_else(|| "169.254.169.254:80".to_string(), SocketAddr::to_string);
        let what = if timings.dns.is_none() {
            format!("{target} is a link-local or unspecified address")
        } else {
            format!("{target} resolves to {}", list.join(", "))
        };
        return Err(NetError::Denied(format!(
            "{what}, which this check may reach only when the address or its range is \
             granted explicitly (e.g. \"{example}\" in the check's allow list)"
        )));
    }
    for addr in &refused {
        tracing::debug!(%target, %addr, "skipping a resolved address the check is not granted");
    }

    let connect_start = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    for addr in &allowed {
        match tokio::time::timeout_at(end, TcpStream::connect(addr)).await {
            Err(_) => {
                let mut phase = format!("connecting to {target}");
                if host.parse::<IpAddr>().is_err() {
                    phase.push_str(&format!(" ({addr})"));
                }
                return Err(timed_out(phase));
            }
            Ok(Err(e)) => failures.push(format!("{addr}: {}", describe_io(&e))),
            Ok(Ok(stream)) => {
                // Not fatal: a health check works without it.
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(%addr, error = %e, "could not set TCP_NODELAY");
                }
                timings.connect = Some(connect_start.elapsed());
                timings.total = start.elapsed();
                return Ok((stream, *addr, timings));
            }
        }
    }
    let message = if failures.len() == 1 {
        failures.remove(0)
    } else {
        format!("{target}: no address answered ({})", failures.join("; "))
    };
    Err(NetError::Connect(message))
}

/// Performs the TLS client handshake on `stream` with SNI and certificate name
/// `server_name`, within `end`; returns the TLS stream and the handshake duration.
/// `shown_limit` is the limit named in the timeout message.
pub async fn tls_handshake(
    connector: &TlsConnector,
    stream: TcpStream,
    server_name: &str,
    end: Instant,
    shown_limit: Duration,
) -> Result<(TlsStream<TcpStream>, Duration), NetError> {
    let bare = strip_brackets(server_name);
    let name = ServerName::try_from(bare.to_string())
        .map_err(|_| NetError::Invalid(format!("{server_name:?} is not a valid TLS server name")))?;
    let start = Instant::now();
    match tokio::time::timeout_at(end, connector.connect(name, stream)).await {
        Err(_) => Err(NetError::Timeout(format!(
            "timed out after {} in the TLS handshake with {bare}",
            human_duration(shown_limit)
        ))),
        Ok(Err(e)) => Err(NetError::Tls(format!("TLS handshake with {bare} failed: {}", describe_tls(&e, bare)))),
        Ok(Ok(tls)) => Ok((tls, start.elapsed())),
    }
}

/// The rustls reason behind a failed handshake, or the I/O error.
fn describe_tls(error: &io::Error, server_name: &str) -> String {
    if let Some(inner) = error.get_ref()
        && let Some(tls) = inner.downcast_ref::<rustls::Error>()
    {
        return super::tls::handshake_problem(tls, server_name);
    }
    match error.kind() {
        io::ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
        _ => describe_io(error),
    }
}

/// The process's crypto provider (ring), built once.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

/// Trust anchors from the operating system's store, loaded once. Unreadable
/// certificates are logged and skipped.
pub(crate) fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let loaded = rustls_native_certs::load_native_certs();
            for error in &loaded.errors {
                tracing::warn!(%error, "could not read a system certificate; continuing without it");
            }
            let mut roots = RootCertStore::empty();
            let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
            if ignored > 0 {
                tracing::warn!(ignored, "some system certificates could not be parsed");
            }
            if added == 0 {
                tracing::warn!("no system root certificates found: verified TLS will fail");
            }
            Arc::new(roots)
        })
        .clone()
}

fn build_config(verify: bool, alpn_http1: bool, roots: Option<Arc<RootCertStore>>) -> Arc<ClientConfig> {
    let provider = provider();
    // The ring provider supports rustls's default protocol versions, so this cannot fail.
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default TLS versions");
    let mut config = if verify {
        builder.with_root_certificates(roots.unwrap_or_else(system_roots)).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
            .with_no_client_auth()
    };
    if alpn_http1 {
        // HTTP/2 when the server offers it, else HTTP/1.1.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    }
    Arc::new(config)
}

/// The roots a check verifies against: its `ca` file's, else the system's.
pub fn roots(trust: Option<&Trust>) -> Arc<RootCertStore> {
    trust.map(Trust::roots).unwrap_or_else(system_roots)
}

/// A TLS client for raw TCP connections (no ALPN). With the system's roots it is built
/// once per `verify` flag; a check's own `ca` gets one of its own.
///
/// `verify = true` checks the server's certificate chain against the roots and its
/// name; `verify = false` accepts any certificate for any name (see
/// [`AcceptAnyCertificate`]), still completing the handshake.
pub fn tls_connector(verify: bool, trust: Option<&Trust>) -> TlsConnector {
    static VERIFIED: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    static UNVERIFIED: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let (true, Some(trust)) = (verify, trust) {
        return TlsConnector::from(build_config(true, false, Some(trust.roots())));
    }
    let cell = if verify { &VERIFIED } else { &UNVERIFIED };
    TlsConnector::from(cell.get_or_init(|| build_config(verify, false, None)).clone())
}

/// Most ALPN protocols one upgrade may offer.
pub const MAX_ALPN: usize = 8;

/// Like [`tls_connector`], offering the application protocols `alpn` (built per call).
pub fn alpn_connector(verify: bool, trust: Option<&Trust>, alpn: &[String]) -> Result<TlsConnector, NetError> {
    if alpn.len() > MAX_ALPN || alpn.iter().any(|p| p.is_empty() || p.len() > 255) {
        return Err(NetError::Invalid(format!("ALPN takes 1 to {MAX_ALPN} protocol names of 1 to 255 bytes")));
    }
    let roots = if verify { Some(roots(trust)) } else { None };
    let mut config = (*build_config(verify, false, roots)).clone();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Like [`tls_connector`], offering ALPN `h2` then `http/1.1`, for the HTTP client.
pub fn http_tls_connector(verify: bool, trust: Option<&Trust>) -> TlsConnector {
    static VERIFIED: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    static UNVERIFIED: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let (true, Some(trust)) = (verify, trust) {
        return TlsConnector::from(build_config(true, true, Some(trust.roots())));
    }
    let cell = if verify { &VERIFIED } else { &UNVERIFIED };
    TlsConnector::from(cell.get_or_init(|| build_config(verify, true, None)).clone())
}

/// A certificate verifier that accepts every certificate, for any name, expired or not:
/// used only when a check turns `tls-verify` off. The handshake still completes normally
/// and the server must still prove it holds the key of the certificate it sent
/// (handshake signatures are checked), but nothing about who it is is verified.
#[derive(Debug)]
pub struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_rustls::TlsAcceptor;

    /// Grants for `target` plus `allow`, panicking on a test typo.
    pub(crate) fn grants(target: &str, allow: &[&str]) -> Grants {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        Grants::for_check(target, &allow).unwrap()
    }

    /// A listener on an ephemeral 127.0.0.1 port.
    pub(crate) async fn listener() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    /// A 127.0.0.1 port with nothing listening on it.
    pub(crate) async fn closed_port() -> u16 {
        let (listener, addr) = listener().await;
        drop(listener);
        addr.port()
    }

    /// A listener that counts the connections it accepts and never answers them.
    pub(crate) async fn silent_server() -> (SocketAddr, Arc<AtomicUsize>) {
        let (listener, addr) = listener().await;
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        (addr, accepted)
    }

    /// A self-signed certificate for `localhost` and 127.0.0.1, as a TLS acceptor.
    pub(crate) fn tls_acceptor() -> TlsAcceptor {
        tls_acceptor_alpn(&[b"http/1.1"])
    }

    /// A self-signed localhost acceptor that offers `alpn`.
    pub(crate) fn tls_acceptor_alpn(alpn: &[&[u8]]) -> TlsAcceptor {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        let cert = certified.cert.der().clone();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        TlsAcceptor::from(Arc::new(config))
    }

    #[test]
    fn budget_limit_is_min_of_request_and_time_left() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let budget = Budget::new(Instant::now() + Duration::from_secs(10));
            let l = budget.limit(Some(Duration::from_secs(2))).unwrap();
            assert_eq!(l, Duration::from_secs(2));
            let l = budget.limit(None).unwrap();
            assert!(l > Duration::from_secs(9) && l <= Duration::from_secs(10));
            let l = budget.limit(Some(Duration::from_secs(60))).unwrap();
            assert!(l <= Duration::from_secs(10));
            let past = Budget::new(Instant::now() - Duration::from_millis(1));
            assert!(matches!(past.limit(Some(Duration::from_secs(1))), Err(NetError::Timeout(_))));
        });
    }

    #[test]
    fn human_durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(2)), "2s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human_duration(Duration::from_micros(1_999_600)), "2s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(human_duration(Duration::from_micros(800)), "800us");
        assert_eq!(host_port("::1", 22), "[::1]:22");
        assert_eq!(host_port("[::1]", 22), "[::1]:22");
        assert_eq!(host_port("example.com", 80), "example.com:80");
    }

    #[tokio::test]
    async fn connect_to_ip_literal_times_connect_without_dns() {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"hi").await.unwrap();
        });
        let g = grants(&addr.to_string(), &[]);
        let (mut stream, remote, timings) =
            connect(&g, "127.0.0.1", addr.port(), Duration::from_secs(5)).await.unwrap();
        assert_eq!(remote, addr);
        assert!(timings.dns.is_none());
        assert!(timings.connect.is_some());
        let mut buf = [0u8; 2];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
    }

    #[tokio::test]
    async fn connect_to_localhost_resolves_with_dns_timing() {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            let _ = listener.accept().await;
        });
        let g = grants(&format!("localhost:{}", addr.port()), &[]);
        let (_stream, remote, timings) = connect(&g, "localhost", addr.port(), Duration::from_secs(5)).await.unwrap();
        assert_eq!(remote, addr);
        assert!(timings.dns.is_some());
        assert!(timings.connect.is_some());
    }

    #[tokio::test]
    async fn connect_to_closed_port_is_connect_error() {
        let port = closed_port().await;
        let g = grants(&format!("127.0.0.1:{port}"), &[]);
        let err = connect(&g, "127.0.0.1", port, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(err, NetError::Connect(format!("127.0.0.1:{port}: connection refused")));
    }

    #[tokio::test]
    async fn connect_not_granted_is_denied_without_connecting() {
        let (addr, accepted) = silent_server().await;
        let g = grants("127.0.0.1:1", &[]);
        let err = connect(&g, "127.0.0.1", addr.port(), Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(
            err,
            NetError::Denied(format!(
                "127.0.0.1:{} is not granted to this check (granted: 127.0.0.1:1); add it to the check's allow list",
                addr.port()
            ))
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn unspecified_address_is_denied_even_under_star_grant() {
        // 0.0.0.0 reaches local services; only an explicit IP grant may use it.
        let g = grants("db.local:5432", &["*:*"]);
        let err = connect(&g, "0.0.0.0", 5432, Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(err, NetError::Denied(ref m) if m.contains("0.0.0.0:5432")), "{err:?}");
    }

    #[tokio::test]
    async fn tls_verify_on_rejects_self_signed_and_off_accepts_it() {
        let (listener, addr) = listener().await;
        let acceptor = tls_acceptor();
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(s).await {
                        let _ = tls.write_all(b"ok").await;
                        let _ = tls.shutdown().await;
                    }
                });
            }
        });
        let g = grants(&addr.to_string(), &[]);
        let end = Instant::now() + Duration::from_secs(5);
        let (s, _, _) = connect(&g, "127.0.0.1", addr.port(), Duration::from_secs(5)).await.unwrap();
        let err =
            tls_handshake(&tls_connector(true, None), s, "localhost", end, Duration::from_secs(5)).await.unwrap_err();
        assert!(
            matches!(err, NetError::Tls(ref m) if m.contains("certificate for localhost was issued by an authority that is not trusted")),
            "{err:?}"
        );

        let (s, _, _) = connect(&g, "127.0.0.1", addr.port(), Duration::from_secs(5)).await.unwrap();
        let (mut tls, took) =
            tls_handshake(&tls_connector(false, None), s, "localhost", end, Duration::from_secs(5)).await.unwrap();
        assert!(took > Duration::ZERO);
        let mut buf = [0u8; 2];
        tls.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    }
}
