//! The host's raw TCP connections with optional TLS (`vitals:plugin/tcp`): in a component
//! the WIT import itself, at no cost; in a native build the same API answered by the test
//! kit's replayed case, or failing with an error saying there is no host.

// A wrapper around the import's type would cost the component bytes (111 in `tcp`'s
// .wasm when measured), so a component gets the import's own type and function.
#[cfg(target_arch = "wasm32")]
pub use crate::bindings::vitals::plugin::tcp::{Connection, connect};

#[cfg(not(target_arch = "wasm32"))]
use crate::{NetError, Timings};

/// An open connection (the WIT `connection` resource). Dropping it closes it.
///
/// In a native build it is a connection of the case being replayed: what it receives is
/// the case's script, what it sends is checked against it, and `timeout_ms`,
/// `server_name` and `verify` are left to the real host.
///
/// ```
/// use vitals_sdk::tcp;
///
/// match tcp::connect("mail.test", 25, 2_000) {
///     Ok((connection, _timings)) => {
///         let banner = connection.receive(512, 2_000);
///         println!("{} said {banner:?}", connection.remote_addr());
///     }
///     // Natively, outside a test case, there is no host to answer.
///     Err(err) => assert!(err.message().starts_with("no host: "), "{err:?}"),
/// }
/// ```
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
pub struct Connection {
    /// The connection's number in the replayed case.
    id: usize,
    /// The address the replayed case connected to.
    remote_addr: String,
}

#[cfg(not(target_arch = "wasm32"))]
impl Connection {
    /// Sends all of `data` within `timeout_ms`.
    ///
    /// ```
    /// # fn quit(connection: &vitals_sdk::tcp::Connection) -> Result<(), vitals_sdk::NetError> {
    /// connection.send(b"QUIT\r\n", 1_000)
    /// # }
    /// ```
    pub fn send(&self, data: &[u8], _timeout_ms: u32) -> Result<(), NetError> {
        crate::native::with_host("tcp::Connection::send", |host| host.send(self.id, data))
    }

    /// Waits up to `timeout_ms` for data and returns what arrived, at most `max_bytes`
    /// bytes. An empty answer means the peer closed the connection.
    ///
    /// ```
    /// # fn banner(connection: &vitals_sdk::tcp::Connection) -> Result<bool, vitals_sdk::NetError> {
    /// let chunk = connection.receive(4_096, 1_000)?;
    /// Ok(chunk.starts_with(b"SSH-"))
    /// # }
    /// ```
    pub fn receive(&self, max_bytes: u32, _timeout_ms: u32) -> Result<Vec<u8>, NetError> {
        crate::native::with_host("tcp::Connection::receive", |host| host.receive(self.id, max_bytes))
    }

    /// Upgrades the connection to TLS (after STARTTLS, or at once for implicit TLS) and
    /// returns the handshake time in microseconds. `server_name` defaults to the host
    /// connected to.
    ///
    /// ```
    /// # fn starttls(connection: &vitals_sdk::tcp::Connection) -> Result<u64, vitals_sdk::NetError> {
    /// connection.upgrade_tls(None, true, 2_000)
    /// # }
    /// ```
    pub fn upgrade_tls(&self, _server_name: Option<&str>, _verify: bool, _timeout_ms: u32) -> Result<u64, NetError> {
        crate::native::with_host("tcp::Connection::upgrade_tls", |host| host.upgrade_tls(self.id))
    }

    /// Like [`Connection::upgrade_tls`], offering the application protocols `alpn` (e.g.
    /// `h2`); [`Connection::tls_info`] says which one the server chose (since WIT 0.1.3).
    /// The test kit answers it like `upgrade_tls`.
    pub fn upgrade_tls_alpn(
        &self,
        server_name: Option<&str>,
        verify: bool,
        _alpn: &[String],
        timeout_ms: u32,
    ) -> Result<u64, NetError> {
        self.upgrade_tls(server_name, verify, timeout_ms)
    }

    /// The address connected to, `ip:port`.
    ///
    /// ```
    /// # fn show(connection: &vitals_sdk::tcp::Connection) -> String {
    /// format!("connected to {}", connection.remote_addr())
    /// # }
    /// ```
    pub fn remote_addr(&self) -> String {
        self.remote_addr.clone()
    }

    /// What the TLS handshake established (since WIT 0.1.3). The test kit's connections
    /// carry no certificates, so natively this is always none.
    pub fn tls_info(&self) -> Option<crate::TlsInfo> {
        None
    }
}

/// Opens a connection to `host:port` within `timeout_ms`, checked against the check's
/// grants, and says how long resolution and connection took.
///
/// In a native build (`cargo test`) there is no host: with the `testing` feature the
/// answer comes from the case `vitals_sdk::testing` runs, otherwise this returns
/// [`NetError::Invalid`] saying so.
///
/// ```
/// let err = vitals_sdk::tcp::connect("db.test", 5432, 1_000).map(|_| ()).unwrap_err();
/// // Natively, outside a test case, there is no host to answer.
/// assert!(err.message().contains("vitals_sdk::testing"), "{err:?}");
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn connect(host: &str, port: u16, _timeout_ms: u32) -> Result<(Connection, Timings), NetError> {
    let (id, remote_addr, timings) = crate::native::with_host("tcp::connect", |h| h.connect(host, port))?;
    Ok((Connection { id, remote_addr }, timings))
}

/// Splits a check's target, `host:port` or `[v6]:port`, into the host (without brackets)
/// and the port, or says for a person what is wrong with it: what every plugin that
/// connects to its target parses first.
///
/// ```
/// use vitals_sdk::tcp::parse_target;
/// assert_eq!(parse_target("db.test:5432"), Ok(("db.test".to_string(), 5432)));
/// assert_eq!(parse_target("[::1]:22"), Ok(("::1".to_string(), 22)));
/// assert!(parse_target("db.test").unwrap_err().contains("the port is missing"));
/// assert!(parse_target("db.test:0").unwrap_err().contains("invalid port"));
/// ```
pub fn parse_target(target: &str) -> Result<(String, u16), String> {
    let target = target.trim();
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("missing ] after an IPv6 address")?;
        let port = after.strip_prefix(':').ok_or("expected host:port or [v6]:port, the port is missing")?;
        (host, port)
    } else {
        let (host, port) = target.rsplit_once(':').ok_or("expected host:port or [v6]:port, the port is missing")?;
        if host.contains(':') {
            return Err("an IPv6 address needs brackets: [v6]:port".to_string());
        }
        (host, port)
    };
    if host.is_empty() {
        return Err("the host is empty".to_string());
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(format!("invalid host {host:?}"));
    }
    match port.parse::<u16>() {
        // The text must be the number itself: no sign, no leading zeros.
        Ok(number) if number > 0 && number.to_string() == port => Ok((host.to_string(), number)),
        _ => Err(format!("invalid port {port:?} (1-65535)")),
    }
}

/// Largest piece asked of the host per receive by [`Stream`].
const STREAM_CHUNK: u32 = 16 * 1024;

/// A connection with a read buffer, for protocols framed by lines (SMTP, IMAP, Redis,
/// NATS, SSH's greeting) or by lengths (PostgreSQL, MySQL, MQTT, AMQP): every read waits at
/// most until the check's deadline, and a peer that closes early, sends a line that never
/// ends or more than `limit` bytes in all gets a [`NetError::Protocol`] saying so.
///
/// ```
/// # fn greet(connection: &vitals_sdk::tcp::Connection) -> Result<(), vitals_sdk::NetError> {
/// use vitals_sdk::{Deadline, tcp::Stream};
/// let mut stream = Stream::new(connection, Deadline::from_ms(2_000), 64 * 1024);
/// let banner = stream.read_line(512)?;
/// if banner.starts_with(b"220") {
///     stream.send(b"QUIT\r\n")?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Stream<'a> {
    connection: &'a Connection,
    deadline: crate::Deadline,
    buffer: Vec<u8>,
    received: usize,
    limit: usize,
}

impl<'a> Stream<'a> {
    /// Reads `connection` until `deadline`, taking at most `limit` bytes from the peer.
    pub fn new(connection: &'a Connection, deadline: crate::Deadline, limit: usize) -> Stream<'a> {
        Stream { connection, deadline, buffer: Vec::new(), received: 0, limit }
    }

    /// Sends all of `data` before the deadline.
    pub fn send(&self, data: &[u8]) -> Result<(), crate::NetError> {
        self.connection.send(data, self.remaining()?)
    }

    /// How many bytes the peer has sent so far.
    pub fn received(&self) -> usize {
        self.received
    }

    /// The next line, without its `\n` or `\r\n`; at most `max_len` bytes long.
    pub fn read_line(&mut self, max_len: usize) -> Result<Vec<u8>, crate::NetError> {
        let mut searched = 0;
        loop {
            if let Some(at) = self.buffer[searched..].iter().position(|&b| b == b'\n') {
                let end = searched + at;
                let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            searched = self.buffer.len();
            if searched > max_len {
                return Err(crate::NetError::Protocol(format!(
                    "the peer sent a line longer than {max_len} bytes: {:?}",
                    crate::first_line(&self.buffer, 80)
                )));
            }
            self.fill("a line")?;
        }
    }

    /// Exactly `n` bytes.
    pub fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, crate::NetError> {
        while self.buffer.len() < n {
            self.fill(&format!("{n} bytes"))?;
        }
        Ok(self.buffer.drain(..n).collect())
    }

    /// Whatever has arrived, waiting for at least one byte unless some is buffered; empty
    /// when the peer has closed the connection.
    pub fn read_some(&mut self) -> Result<Vec<u8>, crate::NetError> {
        if self.buffer.is_empty() {
            match self.fill("data") {
                Ok(()) => {}
                Err(crate::NetError::Protocol(_)) if self.buffer.is_empty() => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        }
        Ok(std::mem::take(&mut self.buffer))
    }

    /// The time left, or a timeout error once it has run out.
    fn remaining(&self) -> Result<u32, crate::NetError> {
        match self.deadline.remaining_ms() {
            0 => Err(crate::NetError::Timeout(format!(
                "the check's time ran out after {} from the peer",
                crate::format_bytes(self.received as u64)
            ))),
            ms => Ok(ms),
        }
    }

    /// One receive into the buffer; `wanted` says what was being read, for errors.
    fn fill(&mut self, wanted: &str) -> Result<(), crate::NetError> {
        if self.received >= self.limit {
            return Err(crate::NetError::Protocol(format!(
                "the peer sent more than {} without completing {wanted}",
                crate::format_bytes(self.limit as u64)
            )));
        }
        let ask = STREAM_CHUNK.min(u32::try_from(self.limit - self.received).unwrap_or(u32::MAX)).max(1);
        let chunk = self.connection.receive(ask, self.remaining()?)?;
        if chunk.is_empty() {
            return Err(crate::NetError::Protocol(format!(
                "the peer closed the connection after {} while {wanted} was expected",
                crate::format_bytes(self.received as u64)
            )));
        }
        self.received += chunk.len();
        self.buffer.extend_from_slice(&chunk);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_target;

    #[test]
    fn targets() {
        assert_eq!(parse_target("127.0.0.1:22"), Ok(("127.0.0.1".into(), 22)));
        assert_eq!(parse_target("example.com:443"), Ok(("example.com".into(), 443)));
        assert_eq!(parse_target("[::1]:8080"), Ok(("::1".into(), 8080)));
        for bad in [
            "",
            "host",
            "host:",
            ":22",
            "host:0",
            "host:65536",
            "host:abc",
            "::1:22",
            "[::1]",
            "[::1:22",
            "[::1]22",
            "host:+22",
            "host:022",
            "a b:1",
            "http://x:80",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
