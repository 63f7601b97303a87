//! One conversation with a server over the host's `tcp`: the greeting, TLS, the login
//! (with auth switches), the queries and COM_QUIT, with what was measured on the way.

use std::time::Instant;

use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{Deadline, NetError, format_bytes};

use crate::auth::{self, CACHING_SHA2, NATIVE};
use crate::config::Config;
use crate::protocol::{
    self, CLIENT_DEPRECATE_EOF, CLIENT_PROTOCOL_41, CLIENT_SECURE_CONNECTION, CLIENT_SSL, Cursor, GreetingError,
    Handshake, Reply, Row, ServerError, Short, quote,
};

/// Most bytes read from the server in one run.
const STREAM_LIMIT: usize = 4 * 1024 * 1024;
/// Largest greeting accepted: real ones are about 100 bytes, so a text banner's first bytes,
/// read as a length, are refused at once.
const MAX_GREETING: usize = 1024;
/// Largest other packet accepted.
const MAX_PACKET: usize = 1024 * 1024;
/// Rows of the query's result are read until this many bytes, then the rest is left unread.
const MAX_ROWS_BYTES: usize = 256 * 1024;
/// Most columns a result may have (MySQL's own limit is 4096).
const MAX_COLUMNS: u64 = 4096;
/// Column names kept for the details.
const NAMED_COLUMNS: usize = 16;
/// The statement that makes the session read-only before a configured query.
pub const READ_ONLY: &str = "SET SESSION TRANSACTION READ ONLY";
/// The statement that reads the number of open connections.
pub const THREADS_CONNECTED: &str = "SHOW GLOBAL STATUS LIKE 'Threads_connected'";
/// The query run when none is configured.
pub const DEFAULT_QUERY: &str = "SELECT 1";

/// Where in the conversation the server answered with an ERR packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Instead of the greeting (too many connections, host not allowed).
    Greeting,
    /// In reply to the login.
    Login,
    /// In reply to SHOW GLOBAL STATUS.
    Status,
    /// In reply to SET SESSION TRANSACTION READ ONLY.
    ReadOnly,
    /// In reply to the query.
    Query,
}

/// Why a conversation did not get to the end.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// A host call failed while doing `context`.
    Net {
        /// What was being attempted, e.g. "read the server greeting from db:3306".
        context: String,
        /// The host's error.
        error: NetError,
    },
    /// The peer broke the protocol; the whole summary.
    Protocol(String),
    /// The server answered with an ERR packet.
    Refused(Phase, ServerError),
    /// `tls` is on and the server does not offer TLS.
    NoTls,
    /// caching_sha2_password asks for full authentication, which this check does only over TLS.
    FullAuthNeedsTls,
    /// The server asks for an authentication plugin this check does not speak.
    UnsupportedPlugin(String),
}

/// What the query returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A result set.
    Rows {
        /// The names of the first columns.
        columns: Vec<String>,
        /// The first row, if any.
        first: Option<Row>,
        /// Rows read.
        rows: u64,
        /// Whether reading stopped before the end of the rows.
        cut: bool,
    },
    /// An OK packet: a statement without a result set.
    Done,
}

/// What was learnt and measured on the way, for the result (also when it fails).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session {
    /// The greeting, once read.
    pub handshake: Option<Handshake>,
    /// The authentication plugin the login ended with.
    pub auth_plugin: Option<String>,
    /// TLS handshake time, when TLS was used.
    pub tls_us: Option<u64>,
    /// From the connection being open to the login accepted.
    pub auth_us: Option<u64>,
    /// Threads_connected, when asked for.
    pub connections: Option<f64>,
    /// The query's round trip.
    pub query_us: Option<u64>,
    /// What the query returned.
    pub outcome: Option<Outcome>,
}

/// Microseconds since `start`.
fn us_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Runs the whole conversation on an open connection, filling `session` as it goes.
pub fn converse(
    config: &Config,
    connection: &Connection,
    deadline: Deadline,
    target: &str,
    session: &mut Session,
) -> Result<(), Failure> {
    let opened = Instant::now();
    let mut wire = Wire::new(Stream::new(connection, deadline, STREAM_LIMIT), target);
    let greeting = wire.read("the server greeting", MAX_GREETING)?;
    let handshake = match protocol::parse_handshake(&greeting) {
        Ok(handshake) => handshake,
        Err(GreetingError::Refused(error)) => return Err(Failure::Refused(Phase::Greeting, error)),
        Err(GreetingError::Garbage(what)) => {
            return Err(Failure::Protocol(format!(
                "{target} does not speak the MySQL protocol: expected a greeting, got {what}: \"{}\"",
                quote(&greeting)
            )));
        }
    };
    session.handshake = Some(handshake.clone());
    let needed = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
    if handshake.capabilities & needed != needed {
        return Err(Failure::Protocol(format!(
            "{target} speaks a protocol older than MySQL 4.1 (server {}), which this check does not",
            protocol::server_name(&handshake.version)
        )));
    }
    let capabilities = protocol::client_capabilities(handshake.capabilities, config.database.is_some(), config.tls);
    if config.tls {
        if capabilities & CLIENT_SSL == 0 {
            return Err(Failure::NoTls);
        }
        wire.send(&protocol::ssl_request(capabilities), "the SSLRequest")?;
        let us = connection
            .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
            .map_err(|error| Failure::Net { context: format!("TLS handshake with {target}"), error })?;
        session.tls_us = Some(us);
    }
    let plugin = login(&mut wire, config, &handshake, capabilities)?;
    session.auth_plugin = Some(plugin);
    session.auth_us = Some(us_since(opened));
    let deprecate_eof = capabilities & CLIENT_DEPRECATE_EOF != 0;
    if config.wants_connections() {
        session.connections = Some(threads_connected(&mut wire, deprecate_eof)?);
    }
    let sql = match &config.query {
        Some(query) => {
            match query_once(&mut wire, READ_ONLY, deprecate_eof, Phase::ReadOnly, 0)? {
                Outcome::Done => {}
                Outcome::Rows { .. } => {
                    return Err(Failure::Protocol(format!(
                        "{target} answered {READ_ONLY} with a result set instead of OK"
                    )));
                }
            }
            query.as_str()
        }
        None => DEFAULT_QUERY,
    };
    let started = Instant::now();
    let outcome = query_once(&mut wire, sql, deprecate_eof, Phase::Query, MAX_ROWS_BYTES)?;
    session.query_us = Some(us_since(started));
    session.outcome = Some(outcome);
    // Best effort: the server closes the connection either way.
    let _ = wire.command(&protocol::COM_QUIT, "COM_QUIT");
    Ok(())
}

/// Logs in as the configured user, following auth switches; returns the plugin that succeeded.
fn login(wire: &mut Wire<'_>, config: &Config, handshake: &Handshake, capabilities: u32) -> Result<String, Failure> {
    let password = config.password.as_deref().unwrap_or("").as_bytes();
    // Answer the server's default plugin when it is one this check speaks; otherwise offer
    // mysql_native_password and let the server switch to what the account uses.
    let mut plugin = if handshake.auth_plugin == CACHING_SHA2 { CACHING_SHA2 } else { NATIVE }.to_string();
    let scramble = auth::respond(&plugin, password, &handshake.salt).unwrap_or_default();
    let response =
        protocol::handshake_response(capabilities, &config.user, &scramble, config.database.as_deref(), &plugin);
    wire.send(&response, "the login")?;
    let mut switched = false;
    loop {
        let packet = wire.read("the reply to the login", MAX_PACKET)?;
        match packet.first() {
            Some(0x00) => return Ok(plugin),
            Some(0xFF) => return Err(Failure::Refused(Phase::Login, wire.server_error(&packet, "the login")?)),
            Some(0xFE) if !switched => {
                // AuthSwitchRequest: the plugin's name, then its challenge (ending in a NUL).
                switched = true;
                let mut cursor = Cursor::new(&packet[1..]);
                let Ok(name) = cursor.nul_terminated() else {
                    // A bare 0xFE asks for the pre-4.1 password scheme.
                    return Err(Failure::UnsupportedPlugin("mysql_old_password".to_string()));
                };
                plugin = String::from_utf8_lossy(name).into_owned();
                let challenge = cursor.rest();
                let challenge = challenge.strip_suffix(&[0]).unwrap_or(challenge);
                let Some(answer) = auth::respond(&plugin, password, challenge) else {
                    return Err(Failure::UnsupportedPlugin(vitals_sdk::sanitize(&plugin, 64)));
                };
                wire.send(&answer, "the login")?;
            }
            // caching_sha2_password's AuthMoreData: 3 = the fast path worked (OK follows),
            // 4 = the server wants the password itself.
            Some(0x01) if plugin == CACHING_SHA2 && packet.get(1) == Some(&3) => {}
            Some(0x01) if plugin == CACHING_SHA2 && packet.get(1) == Some(&4) => {
                if !config.tls {
                    return Err(Failure::FullAuthNeedsTls);
                }
                let mut clear = password.to_vec();
                clear.push(0);
                wire.send(&clear, "the login")?;
            }
            _ => return Err(wire.garbage("the reply to the login", &packet)),
        }
    }
}

/// Threads_connected from SHOW GLOBAL STATUS.
fn threads_connected(wire: &mut Wire<'_>, deprecate_eof: bool) -> Result<f64, Failure> {
    let outcome = query_once(wire, THREADS_CONNECTED, deprecate_eof, Phase::Status, MAX_ROWS_BYTES)?;
    let value = match &outcome {
        Outcome::Rows { first: Some(row), .. } => row.get(1).cloned().flatten(),
        _ => None,
    };
    let parsed = value.as_deref().and_then(|v| std::str::from_utf8(v).ok()).and_then(|v| v.trim().parse::<f64>().ok());
    parsed.filter(|n| n.is_finite()).ok_or_else(|| {
        Failure::Protocol(format!(
            "{} did not report Threads_connected in reply to {THREADS_CONNECTED}{}",
            wire.target,
            value.map(|v| format!(" (got \"{}\")", quote(&v))).unwrap_or_default()
        ))
    })
}

/// Runs one statement and reads its result: rows until the end, or until `row_bytes` bytes
/// of rows were read (0: to the end).
fn query_once(
    wire: &mut Wire<'_>,
    sql: &str,
    deprecate_eof: bool,
    phase: Phase,
    row_bytes: usize,
) -> Result<Outcome, Failure> {
    wire.command(&protocol::com_query(sql), "the query")?;
    let head = wire.read("the result of the query", MAX_PACKET)?;
    match head.first() {
        Some(0x00) => return Ok(Outcome::Done),
        Some(0xFF) => return Err(Failure::Refused(phase, wire.server_error(&head, "the query")?)),
        _ => {}
    }
    let count = match Cursor::new(&head).lenenc_int() {
        Ok(Some(count)) if (1..=MAX_COLUMNS).contains(&count) => count,
        _ => return Err(wire.garbage("the result of the query", &head)),
    };
    let mut columns = Vec::new();
    for _ in 0..count {
        let definition = wire.read("a column definition", MAX_PACKET)?;
        if columns.len() < NAMED_COLUMNS {
            let name =
                protocol::column_name(&definition).map_err(|Short| wire.garbage("a column definition", &definition))?;
            columns.push(name);
        }
    }
    let columns_count = usize::try_from(count).unwrap_or(usize::MAX);
    if !deprecate_eof {
        let eof = wire.read("the end of the column definitions", MAX_PACKET)?;
        if protocol::reply(&eof) != Some(Reply::Eof) {
            return Err(wire.garbage("the EOF after the column definitions", &eof));
        }
    }
    let start = wire.stream.received();
    let (mut first, mut rows, mut cut) = (None, 0u64, false);
    loop {
        let packet = wire.read("a row", MAX_PACKET)?;
        if packet.first() == Some(&0xFF) {
            return Err(Failure::Refused(phase, wire.server_error(&packet, "the query")?));
        }
        if protocol::ends_rows(&packet, deprecate_eof) {
            break;
        }
        if first.is_none() {
            first = Some(protocol::parse_row(&packet, columns_count).map_err(|Short| wire.garbage("a row", &packet))?);
        }
        rows += 1;
        if row_bytes > 0 && wire.stream.received() - start > row_bytes {
            cut = true;
            break;
        }
    }
    Ok(Outcome::Rows { columns, first, rows, cut })
}

/// Packets over a [`Stream`]: framing, sequence ids, and errors that name the target.
struct Wire<'a> {
    stream: Stream<'a>,
    /// Bytes received and not yet taken as packets.
    buffer: Vec<u8>,
    /// The sequence id of the next packet, either way.
    seq: u8,
    target: &'a str,
}

impl<'a> Wire<'a> {
    fn new(stream: Stream<'a>, target: &'a str) -> Wire<'a> {
        Wire { stream, buffer: Vec::new(), seq: 0, target }
    }

    /// The next packet's payload; `what` names it in errors, `max_len` bounds it.
    fn read(&mut self, what: &str, max_len: usize) -> Result<Vec<u8>, Failure> {
        while self.buffer.len() < 4 {
            self.fill(what)?;
        }
        let Some((len, seq)) = protocol::header(&self.buffer) else {
            return Err(self.garbage(what, &[]));
        };
        if len > max_len || seq != self.seq {
            let got = std::mem::take(&mut self.buffer);
            return Err(if what == "the server greeting" {
                Failure::Protocol(format!(
                    "{} does not speak the MySQL protocol: expected a greeting, got \"{}\"",
                    self.target,
                    quote(&got)
                ))
            } else if len > max_len {
                Failure::Protocol(format!(
                    "{} sent a packet of {} where {what} was expected, more than this check reads: \"{}\"",
                    self.target,
                    format_bytes(len as u64),
                    quote(&got[4..])
                ))
            } else {
                Failure::Protocol(format!(
                    "{} sent packet number {seq} where {what} (number {}) was expected: \"{}\"",
                    self.target,
                    self.seq,
                    quote(&got[4..])
                ))
            });
        }
        while self.buffer.len() < 4 + len {
            self.fill(what)?;
        }
        self.seq = seq.wrapping_add(1);
        let payload = self.buffer[4..4 + len].to_vec();
        self.buffer.drain(..4 + len);
        Ok(payload)
    }

    /// One more piece from the peer into the buffer.
    fn fill(&mut self, what: &str) -> Result<(), Failure> {
        let chunk = self
            .stream
            .read_some()
            .map_err(|error| Failure::Net { context: format!("read {what} from {}", self.target), error })?;
        if !chunk.is_empty() {
            self.buffer.extend_from_slice(&chunk);
            return Ok(());
        }
        let target = self.target;
        Err(Failure::Protocol(if self.stream.received() >= STREAM_LIMIT {
            format!("{target} sent more than {} without completing {what}", format_bytes(STREAM_LIMIT as u64))
        } else if self.buffer.is_empty() {
            format!("{target} closed the connection where {what} was expected")
        } else {
            format!("{target} closed the connection in the middle of {what}, after \"{}\"", quote(&self.buffer))
        }))
    }

    /// Sends one packet with the next sequence id.
    fn send(&mut self, payload: &[u8], what: &str) -> Result<(), Failure> {
        let packet = protocol::frame(self.seq, payload);
        self.seq = self.seq.wrapping_add(1);
        self.stream
            .send(&packet)
            .map_err(|error| Failure::Net { context: format!("send {what} to {}", self.target), error })
    }

    /// Starts a command: sequence ids begin again at 0.
    fn command(&mut self, payload: &[u8], what: &str) -> Result<(), Failure> {
        self.seq = 0;
        self.send(payload, what)
    }

    /// An ERR packet's contents, or a protocol failure when it is cut short.
    fn server_error(&self, packet: &[u8], what: &str) -> Result<ServerError, Failure> {
        protocol::parse_err(packet).map_err(|Short| self.garbage(&format!("an error in reply to {what}"), packet))
    }

    /// A packet that is not what was expected.
    fn garbage(&self, what: &str, packet: &[u8]) -> Failure {
        Failure::Protocol(format!("{} sent something other than {what}: \"{}\"", self.target, quote(packet)))
    }
}
