//! One session with a server over the host's connection: the TLS negotiation, the login
//! (trust, cleartext, MD5 or SCRAM-SHA-256), simple queries and the Terminate that ends it.
//! Every failure comes back as the check's result, without metrics (the caller adds them).

use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{
    CheckResult, Deadline, NetError, Reason, critical, first_line, format_bytes, net_failure, sanitize, unknown,
};

use crate::auth::{self, SCRAM_SHA_256, Scram};
use crate::protocol::{self, Body, ServerError};

/// Largest backend message body read (a DataRow with a big value, a long error).
const MAX_MESSAGE: usize = 1024 * 1024;
/// Most bytes read from the server in one check: a query should return little.
const MAX_RECEIVED: usize = 4 * 1024 * 1024;
/// How much of what a peer that is not PostgreSQL sent is quoted.
const MAX_QUOTED: usize = 80;

/// The backend message types of protocol 3.0.
const BACKEND_TAGS: &[u8] = b"RKSENZvTDCIAGHWdcn123stV";

/// What the server says about TLS after an SSLRequest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsAnswer {
    /// `S`: it will talk TLS.
    Accepted,
    /// `N`: it will not.
    Declined,
}

/// What the login found out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Login {
    /// How the server authenticated the role: `trust`, `password`, `md5`, `SCRAM-SHA-256`.
    pub method: String,
    /// The server_version parameter, e.g. `15.20 (Debian 15.20-0+deb12u1)`.
    pub server_version: Option<String>,
}

/// What a simple query returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryOutcome {
    /// The columns of the first row (each `None` for NULL); none when no row came back.
    pub first_row: Option<Vec<Option<Vec<u8>>>>,
    /// Rows received in all.
    pub rows: u64,
    /// The first error, if a statement failed.
    pub error: Option<ServerError>,
}

/// A message from the server: its type byte and body.
#[derive(Debug)]
struct Message {
    tag: u8,
    body: Vec<u8>,
}

/// A session on an open connection.
#[derive(Debug)]
pub struct Session<'a> {
    connection: &'a Connection,
    stream: Stream<'a>,
    deadline: Deadline,
    /// Received and not parsed yet.
    buffer: Vec<u8>,
    /// Whether the server has sent anything that parsed as PostgreSQL.
    spoke_postgres: bool,
    /// Whether the login went through, so that a Terminate is due.
    logged_in: bool,
    /// The target as configured, for summaries.
    target: String,
}

impl<'a> Session<'a> {
    /// A session on `connection`, every read and send bounded by `deadline`.
    pub fn new(connection: &'a Connection, deadline: Deadline, target: &str) -> Session<'a> {
        Session {
            connection,
            stream: Stream::new(connection, deadline, MAX_RECEIVED),
            deadline,
            buffer: Vec::new(),
            spoke_postgres: false,
            logged_in: false,
            target: target.to_string(),
        }
    }

    /// Sends an SSLRequest and reads the one-byte answer.
    pub fn request_tls(&mut self) -> Result<TlsAnswer, CheckResult> {
        const PHASE: &str = "TLS negotiation with";
        self.send(&protocol::ssl_request(), PHASE)?;
        self.fill(1, PHASE)?;
        // A server sends nothing after its answer until the handshake: more bytes are
        // either another protocol's banner or an attempt to inject plaintext.
        let answer = match self.buffer.as_slice() {
            [b'S'] => TlsAnswer::Accepted,
            [b'N'] => TlsAnswer::Declined,
            _ => return Err(self.not_postgres()),
        };
        self.buffer.clear();
        self.spoke_postgres = true;
        Ok(answer)
    }

    /// The TLS handshake after an accepted SSLRequest; its time in microseconds.
    pub fn upgrade_tls(&mut self, verify: bool) -> Result<u64, CheckResult> {
        self.connection.upgrade_tls(None, verify, self.deadline.remaining_ms()).map_err(|err| {
            // The host's message names the handshake already: keep only why it failed.
            let err = match err {
                NetError::Tls(message) => NetError::Tls(match message.split_once(" failed: ") {
                    Some((head, why)) if head.starts_with("TLS handshake") => why.to_string(),
                    _ => message,
                }),
                other => other,
            };
            net_failure(&format!("TLS handshake with {}", self.target), &err)
        })
    }

    /// The StartupMessage and authentication, until the server is ready for queries.
    pub fn login(&mut self, user: &str, database: &str, password: Option<&str>) -> Result<Login, CheckResult> {
        const PHASE: &str = "login to";
        self.send(&protocol::startup(user, database), PHASE)?;
        let mut login = Login { method: "trust".to_string(), server_version: None };
        let mut scram: Option<Scram> = None;
        let mut scram_verified = false;
        loop {
            let message = self.message(PHASE)?;
            let mut body = Body::new(&message.body);
            match message.tag {
                b'R' => {
                    let code = body.i32().map_err(|why| self.malformed("authentication request", &why))?;
                    match code {
                        0 if scram.is_some() && !scram_verified => {
                            return Err(critical(
                                format!(
                                    "{} accepted the login without proving it knows the password (no SCRAM signature)",
                                    self.target
                                ),
                                Reason::Protocol,
                            ));
                        }
                        0 => {}
                        3 => {
                            let password = self.password(user, password, "a cleartext password")?;
                            login.method = "password".to_string();
                            self.send(&protocol::password(password), PHASE)?;
                        }
                        5 => {
                            let salt = body.bytes(4).map_err(|why| self.malformed("MD5 request", &why))?;
                            let password = self.password(user, password, "an MD5 password")?;
                            login.method = "md5".to_string();
                            self.send(&protocol::password(&auth::md5_password(user, password, salt)), PHASE)?;
                        }
                        10 => {
                            let mut mechanisms = Vec::new();
                            while let Ok(name) = body.cstr() {
                                if name.is_empty() {
                                    break;
                                }
                                mechanisms.push(name);
                            }
                            if !mechanisms.iter().any(|m| m == SCRAM_SHA_256) {
                                let offered = sanitize(&mechanisms.join(", "), 80);
                                return Err(unknown(
                                    format!(
                                        "{} offers only SASL mechanisms this check does not speak: {offered}",
                                        self.target
                                    ),
                                    Reason::PluginError,
                                ));
                            }
                            self.password(user, password, "a SCRAM-SHA-256 password")?;
                            let nonce = auth::client_nonce().map_err(|why| unknown(why, Reason::PluginError))?;
                            // PostgreSQL takes the user from the StartupMessage: the SCRAM one stays empty, as libpq sends it.
                            let exchange = Scram::new("", &nonce);
                            login.method = SCRAM_SHA_256.to_string();
                            self.send(
                                &protocol::sasl_initial(SCRAM_SHA_256, exchange.client_first().as_bytes()),
                                PHASE,
                            )?;
                            scram = Some(exchange);
                        }
                        11 | 12 => {
                            let Some(exchange) = scram.as_mut() else {
                                return Err(self.malformed("SASL message", "it came before the SASL request"));
                            };
                            let text = String::from_utf8_lossy(body.rest()).into_owned();
                            let scram_failure = |why: String| {
                                critical(format!("SCRAM-SHA-256 with {} failed: {why}", self.target), Reason::Protocol)
                            };
                            if code == 11 {
                                let password = password.unwrap_or_default();
                                let reply = exchange.client_final(password, &text).map_err(scram_failure)?;
                                self.send(&protocol::sasl_response(reply.as_bytes()), PHASE)?;
                            } else {
                                exchange.verify_server(&text).map_err(scram_failure)?;
                                scram_verified = true;
                            }
                        }
                        other => {
                            return Err(unknown(
                                format!(
                                    "{} asks for {} authentication, which this check does not support \
                                     (it speaks trust, password, md5 and scram-sha-256)",
                                    self.target,
                                    protocol::auth_method_name(other)
                                ),
                                Reason::PluginError,
                            ));
                        }
                    }
                }
                b'E' => {
                    let error = ServerError::parse(&message.body).map_err(|why| self.malformed("error", &why))?;
                    let user = sanitize(user, 64);
                    let summary = if error.is_authentication() {
                        format!("authentication failed for user \"{user}\": {}", error.shown())
                    } else {
                        format!(
                            "login to database \"{}\" as \"{user}\" failed: {}",
                            sanitize(database, 64),
                            error.shown()
                        )
                    };
                    return Err(with_server_details(critical(summary, Reason::Assertion), &error));
                }
                b'S' => {
                    let name = body.cstr().map_err(|why| self.malformed("parameter", &why))?;
                    let value = body.cstr().map_err(|why| self.malformed("parameter", &why))?;
                    if name == "server_version" {
                        login.server_version = Some(value);
                    }
                }
                b'K' | b'N' | b'v' => {}
                b'Z' => {
                    self.logged_in = true;
                    return Ok(login);
                }
                other => return Err(self.unexpected(other, "the login")),
            }
        }
    }

    /// Runs `sql` with the simple query protocol, reading every result until the server is
    /// ready again.
    pub fn query(&mut self, sql: &str) -> Result<QueryOutcome, CheckResult> {
        const PHASE: &str = "query on";
        self.send(&protocol::query(sql), PHASE)?;
        let mut outcome = QueryOutcome::default();
        loop {
            let message = self.message(PHASE)?;
            match message.tag {
                b'D' => {
                    outcome.rows += 1;
                    if outcome.first_row.is_none() {
                        outcome.first_row =
                            Some(protocol::data_row(&message.body).map_err(|why| self.malformed("data row", &why))?);
                    }
                }
                b'E' => {
                    let error = ServerError::parse(&message.body).map_err(|why| self.malformed("error", &why))?;
                    outcome.error.get_or_insert(error);
                }
                // A COPY FROM STDIN waits for data this check does not have.
                b'G' => self.send(&protocol::copy_fail("vitals sends no COPY data"), PHASE)?,
                b'T' | b'C' | b'I' | b'N' | b'S' | b'A' | b'H' | b'd' | b'c' => {}
                b'Z' => return Ok(outcome),
                other => return Err(self.unexpected(other, "a query")),
            }
        }
    }

    /// Ends a logged-in session with a Terminate, once; the server closes its side
    /// without answering.
    pub fn terminate(&mut self) {
        if std::mem::take(&mut self.logged_in) {
            // Best effort: the result is known already, and a server gone by now changes nothing.
            let _ = self.stream.send(&protocol::terminate());
        }
    }

    /// How many bytes the server has sent.
    pub fn received(&self) -> usize {
        self.stream.received()
    }

    /// The configured password, or an `unknown` result saying the server wants one.
    fn password<'p>(&self, user: &str, password: Option<&'p str>, what: &str) -> Result<&'p str, CheckResult> {
        password.ok_or_else(|| {
            unknown(
                format!(
                    "{} asks for {what} for user \"{}\" and the check has none: set password",
                    self.target,
                    sanitize(user, 64)
                ),
                Reason::PluginError,
            )
        })
    }

    fn send(&self, data: &[u8], phase: &str) -> Result<(), CheckResult> {
        self.stream.send(data).map_err(|err| net_failure(&format!("{phase} {}", self.target), &err))
    }

    /// The next whole message.
    fn message(&mut self, phase: &str) -> Result<Message, CheckResult> {
        self.fill(5, phase)?;
        let tag = self.buffer[0];
        let len = u32::from_be_bytes([self.buffer[1], self.buffer[2], self.buffer[3], self.buffer[4]]) as usize;
        if !BACKEND_TAGS.contains(&tag) || !(4..=MAX_MESSAGE + 4).contains(&len) {
            if !self.spoke_postgres {
                return Err(self.not_postgres());
            }
            let why = if BACKEND_TAGS.contains(&tag) {
                format!("a {} message", format_bytes(len as u64))
            } else {
                format!("a message of unknown type {:?}", char::from(tag))
            };
            return Err(critical(
                format!("{} sent {why}, a PostgreSQL server does not", self.target),
                Reason::Protocol,
            ));
        }
        self.fill(1 + len, phase)?;
        self.spoke_postgres = true;
        let body = self.buffer[5..1 + len].to_vec();
        self.buffer.drain(..1 + len);
        Ok(Message { tag, body })
    }

    /// Reads until `n` bytes are buffered.
    fn fill(&mut self, n: usize, phase: &str) -> Result<(), CheckResult> {
        while self.buffer.len() < n {
            let failure = match self.stream.read_some() {
                Ok(chunk) if !chunk.is_empty() => {
                    self.buffer.extend_from_slice(&chunk);
                    continue;
                }
                Ok(_) if self.stream.received() >= MAX_RECEIVED => NetError::Protocol(format!(
                    "the server sent more than {} (does the query return too many rows?)",
                    format_bytes(MAX_RECEIVED as u64)
                )),
                Ok(_) => NetError::Protocol(format!(
                    "the server closed the connection after {}",
                    format_bytes(self.stream.received() as u64)
                )),
                Err(err) => err,
            };
            // Bytes that never made a message are evidence the peer speaks something else.
            if !self.spoke_postgres && !self.buffer.is_empty() {
                return Err(self.not_postgres());
            }
            return Err(net_failure(&format!("{phase} {}", self.target), &failure));
        }
        Ok(())
    }

    /// What a peer that does not speak the protocol sent, quoted.
    fn not_postgres(&self) -> CheckResult {
        let shown = first_line(&self.buffer[..self.buffer.len().min(4 * MAX_QUOTED)], MAX_QUOTED);
        critical(
            format!("{} does not speak the PostgreSQL protocol: it sent \"{shown}\"", self.target),
            Reason::Protocol,
        )
    }

    fn malformed(&self, what: &str, why: &str) -> CheckResult {
        critical(format!("{} sent a malformed {what} message: {why}", self.target), Reason::Protocol)
    }

    fn unexpected(&self, tag: u8, during: &str) -> CheckResult {
        critical(
            format!("{} sent an unexpected message of type {:?} during {during}", self.target, char::from(tag)),
            Reason::Protocol,
        )
    }
}

/// `result` with the server's detail and hint lines added to its details.
pub fn with_server_details(result: CheckResult, error: &ServerError) -> CheckResult {
    let lines = error.details();
    if lines.is_empty() {
        return result;
    }
    let details = match &result.details {
        Some(existing) => format!("{existing}\n{}", lines.join("\n")),
        None => lines.join("\n"),
    };
    result.with_details(details)
}
