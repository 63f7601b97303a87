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
