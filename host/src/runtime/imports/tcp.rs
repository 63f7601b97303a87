//! The `tcp` host import as plain Rust: grant-checked raw TCP connections with bounded
//! send and receive, and an optional TLS upgrade (implicit TLS or after STARTTLS).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

use crate::plan::grants::{Grants, Trust};
use crate::runtime::imports::net::{self, Budget, NetError, Timings, describe_io, human_duration};
use crate::runtime::imports::tls as net_tls;

/// Most bytes one `send` may write.
pub const MAX_SEND_BYTES: usize = 1024 * 1024;
/// Most bytes one `receive` may return.
pub const MAX_RECEIVE_BYTES: usize = 1024 * 1024;

/// The stream under a connection.
enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
    /// A TLS upgrade failed part-way; the connection is gone.
    Broken,
}

/// An open connection of a check (the WIT `tcp.connection` resource). Dropping it closes it.
pub struct TcpConnection {
    stream: Stream,
    host: String,
    remote: SocketAddr,
    /// The name the TLS handshake checked the certificate against, once there was one.
    tls_name: Option<String>,
    /// The check's own CAs, which the TLS facts are verified against too.
    trust: Option<Trust>,
}

impl std::fmt::Debug for TcpConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpConnection")
            .field("host", &self.host)
            .field("remote", &self.remote)
            .field("tls", &self.is_tls())
            .finish()
    }
}

/// A connection as a plugin holds it (the WIT `tcp.connection` resource): the connection,
/// shared with the I/O task that uses it, and the per-host slot it occupies until the
/// plugin drops it; or, when a case answers the run, the number of the case's connection.
pub struct Connection {
    inner: Option<std::sync::Arc<tokio::sync::Mutex<TcpConnection>>>,
    remote: String,
    /// The connection's number in a replay or a recording.
    case_id: Option<usize>,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Connection {
    /// Wraps an open connection with the slot it holds (and its number in a recording).
    pub fn new(
        conn: TcpConnection,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
        case_id: Option<usize>,
    ) -> Connection {
        let remote = conn.remote.to_string();
        Connection { inner: Some(std::sync::Arc::new(tokio::sync::Mutex::new(conn))), remote, case_id, _slot: slot }
    }

    /// A connection a case answers: no socket, only its number in the replay.
    pub fn replayed(case_id: usize, remote: String) -> Connection {
        Connection { inner: None, remote, case_id: Some(case_id), _slot: None }
    }

    /// The connection, for an I/O task; `None` for a replayed one.
    pub fn shared(&self) -> Option<std::sync::Arc<tokio::sync::Mutex<TcpConnection>>> {
        self.inner.as_ref().map(std::sync::Arc::clone)
    }

    /// The connection's number in a replay or a recording.
    pub fn case_id(&self) -> Option<usize> {
        self.case_id
    }

    /// The address connected to.
    pub fn remote_addr(&self) -> &str {
        &self.remote
    }
}

/// Opens a connection to `host:port` within `min(timeout, deadline - now)`, checked
/// against `grants` by name and by resolved address. The timings hold `dns` (for a
/// name), `connect` and `total`.
pub async fn connect(
    grants: &Grants,
    host: &str,
    port: u16,
    timeout: Duration,
    deadline: Instant,
) -> Result<(TcpConnection, Timings), NetError> {
    let limit = Budget::new(deadline).limit(Some(timeout))?;
    let (stream, remote, timings) = net::connect(grants, host, port, limit).await?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_string();
    Ok((TcpConnection { stream: Stream::Plain(stream), host, remote, tls_name: None, trust: None }, timings))
}

impl TcpConnection {
    /// The address connected to.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// Whether the connection has been upgraded to TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    fn broken(&self) -> NetError {
        NetError::Invalid(format!("the connection to {} can no longer be used: its TLS upgrade failed", self.remote))
    }

    /// Sends all of `data` (at most 1 MiB) within `min(timeout, deadline - now)`.
    pub async fn send(&mut self, data: &[u8], timeout: Duration, deadline: Instant) -> Result<(), NetError> {
        if data.len() > MAX_SEND_BYTES {
            return Err(NetError::Invalid(format!(
                "cannot send {} bytes at once; at most {MAX_SEND_BYTES} are allowed",
                data.len()
            )));
        }
        let limit = Budget::new(deadline).limit(Some(timeout))?;
        let remote = self.remote;
        let written = match &mut self.stream {
            Stream::Plain(s) => tokio::time::timeout(limit, write_all(s, data)).await,
            Stream::Tls(s) => tokio::time::timeout(limit, write_all(s.as_mut(), data)).await,
            Stream::Broken => return Err(self.broken()),
        };
        match written {
            Err(_) => Err(NetError::Timeout(format!(
                "timed out after {} sending {} bytes to {remote}",
                human_duration(limit),
                data.len()
            ))),
            Ok(Err(e)) => Err(NetError::Protocol(format!("{remote}: sending failed: {}", describe_io(&e)))),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Waits up to `min(timeout, deadline - now)` for data and returns what one read
    /// yields, at most `min(max_bytes, 1 MiB)` bytes. An empty vector means the peer
    /// closed the connection.
    pub async fn receive(&mut self, max_bytes: u32, timeout: Duration, deadline: Instant) -> Result<Vec<u8>, NetError> {
        if max_bytes == 0 {
            return Err(NetError::Invalid("max-bytes is 0; ask for at least 1 byte".to_string()));
        }
        let limit = Budget::new(deadline).limit(Some(timeout))?;
        let remote = self.remote;
        let mut buf = vec![0u8; (max_bytes as usize).min(MAX_RECEIVE_BYTES)];
        let read = match &mut self.stream {
            Stream::Plain(s) => tokio::time::timeout(limit, s.read(&mut buf)).await,
            Stream::Tls(s) => tokio::time::timeout(limit, s.read(&mut buf)).await,
            Stream::Broken => return Err(self.broken()),
        };
        match read {
            Err(_) => Err(NetError::Timeout(format!(
                "timed out after {}: nothing received from {remote}",
                human_duration(limit)
            ))),
            // A TLS peer that closes without close_notify: still a close.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(Vec::new()),
            Ok(Err(e)) => Err(NetError::Protocol(format!("{remote}: receiving failed: {}", describe_io(&e)))),
            Ok(Ok(n)) => {
                buf.truncate(n);
                Ok(buf)
            }
        }
    }

    /// Upgrades the connection to TLS within `min(timeout, deadline - now)` and returns the
    /// handshake time. `server_name` (SNI and the name the certificate must carry)
    /// defaults to the host connected to. On failure the connection cannot be used again.
    pub async fn upgrade_tls(
        &mut self,
        server_name: Option<&str>,
        verify: bool,
        trust: Option<&Trust>,
        alpn: &[String],
        timeout: Duration,
        deadline: Instant,
    ) -> Result<Duration, NetError> {
        match self.stream {
            Stream::Tls(_) => {
                return Err(NetError::Invalid(format!("the connection to {} already uses TLS", self.remote)));
            }
            Stream::Broken => return Err(self.broken()),
            Stream::Plain(_) => {}
        }
        let limit = Budget::new(deadline).limit(Some(timeout))?;
        let name = server_name.unwrap_or(&self.host).to_string();
        let Stream::Plain(plain) = std::mem::replace(&mut self.stream, Stream::Broken) else {
            return Err(self.broken());
        };
        let connector =
            if alpn.is_empty() { net::tls_connector(verify, trust) } else { net::alpn_connector(verify, trust, alpn)? };
        let (tls, took) = net::tls_handshake(&connector, plain, &name, Instant::now() + limit, limit).await?;
        self.tls_name = Some(name);
        self.trust = trust.cloned();
        self.stream = Stream::Tls(Box::new(tls));
        Ok(took)
    }

    /// What the TLS handshake established (worked out when asked: the chain is verified
    /// then); none before a successful upgrade.
    pub fn tls_facts(&self) -> Option<net_tls::TlsFacts> {
        match (&self.stream, &self.tls_name) {
            (Stream::Tls(tls), Some(name)) => {
                Some(net_tls::facts(tls.get_ref().1, name, net::roots(self.trust.as_ref())))
            }
            _ => None,
        }
    }
}

async fn write_all<S: tokio::io::AsyncWrite + Unpin>(s: &mut S, data: &[u8]) -> std::io::Result<()> {
    s.write_all(data).await?;
    s.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::imports::net::tests::{closed_port, grants, listener, silent_server, tls_acceptor};
    use std::sync::atomic::Ordering;

    const T: Duration = Duration::from_secs(5);

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[tokio::test]
    async fn banner_is_read() {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"SSH-2.0-Test\r\n").await.unwrap();
        });
        let g = grants(&addr.to_string(), &[]);
        let (mut c, timings) = connect(&g, "127.0.0.1", addr.port(), T, soon()).await.unwrap();
        assert!(timings.connect.is_some());
        assert!(timings.dns.is_none());
        assert_eq!(c.remote(), addr);
        assert_eq!(c.receive(1024, T, soon()).await.unwrap(), b"SSH-2.0-Test\r\n");
        assert_eq!(c.receive(1024, T, soon()).await.unwrap(), b"", "peer closed");
    }

    #[tokio::test]
    async fn send_and_receive_echo() {
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => s.write_all(&buf[..n]).await.unwrap(),
                }
            }
        });
        let g = grants(&format!("localhost:{}", addr.port()), &[]);
        let (mut c, timings) = connect(&g, "localhost", addr.port(), T, soon()).await.unwrap();
        assert!(timings.dns.is_some());
        c.send(b"ping", T, soon()).await.unwrap();
        assert_eq!(c.receive(4, T, soon()).await.unwrap(), b"ping");
        c.send(b"abcdef", T, soon()).await.unwrap();
        let mut got = Vec::new();
        while got.len() < 6 {
            let part = c.receive(2, T, soon()).await.unwrap();
            assert!(!part.is_empty() && part.len() <= 2);
            got.extend(part);
        }
        assert_eq!(got, b"abcdef");
    }

    #[tokio::test]
    async fn receive_times_out_when_nothing_arrives() {
        let (addr, _) = silent_server().await;
        let g = grants(&addr.to_string(), &[]);
        let (mut c, _) = connect(&g, "127.0.0.1", addr.port(), T, soon()).await.unwrap();
        let started = std::time::Instant::now();
        let err = c.receive(10, Duration::from_millis(300), soon()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(1300));
        assert!(matches!(err, NetError::Timeout(ref m) if m.contains("nothing received")), "{err:?}");
        let err = c.receive(10, T, Instant::now() + Duration::from_millis(200)).await.unwrap_err();
        assert!(matches!(err, NetError::Timeout(_)), "{err:?}");
        assert!(matches!(c.receive(0, T, soon()).await, Err(NetError::Invalid(_))));
        let big = vec![0u8; MAX_SEND_BYTES + 1];
        assert!(matches!(c.send(&big, T, soon()).await, Err(NetError::Invalid(_))));
    }

    #[tokio::test]
    async fn upgrade_tls_after_starttls() {
        let (listener, addr) = listener().await;
        let acceptor = tls_acceptor();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    s.write_all(b"220 ready\r\n").await.unwrap();
                    let mut line = [0u8; 10];
                    s.read_exact(&mut line).await.unwrap();
                    assert_eq!(&line, b"STARTTLS\r\n");
                    s.write_all(b"220 go\r\n").await.unwrap();
                    let Ok(mut tls) = acceptor.accept(s).await else {
                        return;
                    };
                    let mut buf = [0u8; 4];
                    tls.read_exact(&mut buf).await.unwrap();
                    tls.write_all(&buf).await.unwrap();
                    tls.shutdown().await.unwrap();
                });
            }
        });
        let g = grants(&format!("localhost:{}", addr.port()), &[]);

        // Verified: the self-signed certificate is refused, and the connection is spent.
        let (mut c, _) = connect(&g, "localhost", addr.port(), T, soon()).await.unwrap();
        assert_eq!(c.receive(100, T, soon()).await.unwrap(), b"220 ready\r\n");
        c.send(b"STARTTLS\r\n", T, soon()).await.unwrap();
        assert_eq!(c.receive(100, T, soon()).await.unwrap(), b"220 go\r\n");
        let err = c.upgrade_tls(None, true, None, &[], T, soon()).await.unwrap_err();
        assert!(
            matches!(err, NetError::Tls(ref m) if m.contains("certificate for localhost was issued by an authority that is not trusted")),
            "{err:?}"
        );
        assert!(matches!(c.send(b"x", T, soon()).await, Err(NetError::Invalid(_))));

        // Unverified: the handshake completes and data flows over TLS.
        let (mut c, _) = connect(&g, "localhost", addr.port(), T, soon()).await.unwrap();
        assert_eq!(c.receive(100, T, soon()).await.unwrap(), b"220 ready\r\n");
        c.send(b"STARTTLS\r\n", T, soon()).await.unwrap();
        assert_eq!(c.receive(100, T, soon()).await.unwrap(), b"220 go\r\n");
        let took = c.upgrade_tls(Some("localhost"), false, None, &[], T, soon()).await.unwrap();
        assert!(took > Duration::ZERO);
        assert!(c.is_tls());
        // The facts are there although nothing was verified, and say what is wrong.
        let facts = c.tls_facts().expect("facts after a handshake");
        assert_eq!((facts.version.as_str(), facts.server_name.as_str()), ("TLSv1.3", "localhost"));
        assert_eq!(facts.chain.len(), 1);
        assert_eq!(facts.chain[0].names, ["localhost", "127.0.0.1"]);
        assert!(facts.chain[0].not_after_ms > facts.chain[0].not_before_ms);
        assert_eq!(facts.chain[0].sha256.len(), 64);
        assert!(!facts.chain_valid && facts.name_valid, "{facts:?}");
        let problem = facts.problem.unwrap_or_default();
        assert!(problem.starts_with("certificate for localhost is self-signed"), "{problem}");
        c.send(b"ping", T, soon()).await.unwrap();
        assert_eq!(c.receive(100, T, soon()).await.unwrap(), b"ping");
        assert_eq!(c.receive(100, T, soon()).await.unwrap(), b"");
        let again = c.upgrade_tls(None, false, None, &[], T, soon()).await.unwrap_err();
        assert!(matches!(again, NetError::Invalid(ref m) if m.contains("already uses TLS")));
    }

    #[tokio::test]
    async fn not_granted_port_is_denied_without_connecting() {
        let (addr, accepted) = silent_server().await;
        let g = grants("127.0.0.1:1", &["localhost:*"]);
        let err = connect(&g, "127.0.0.1", addr.port(), T, soon()).await.unwrap_err();
        assert!(matches!(err, NetError::Denied(ref m) if m.contains(&addr.to_string())), "{err:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn connection_and_futures_are_send() {
        fn is_send_sync<T: Send + Sync + 'static>() {}
        fn is_send<T: Send>(_: &T) {}
        is_send_sync::<TcpConnection>();
        let g = Grants::none();
        is_send(&connect(&g, "127.0.0.1", 1, T, Instant::now()));
    }

    #[tokio::test]
    async fn closed_port_is_connect_error() {
        let port = closed_port().await;
        let g = grants(&format!("127.0.0.1:{port}"), &[]);
        let err = connect(&g, "127.0.0.1", port, T, soon()).await.unwrap_err();
        assert_eq!(err, NetError::Connect(format!("127.0.0.1:{port}: connection refused")));
    }
}
