//! The MySQL client/server protocol as far as a health check needs it, as pure functions
//! over packet payloads: the server's greeting (Handshake v10), the client's SSLRequest
//! and HandshakeResponse41, OK/ERR/EOF packets and the rows of a text result set.

use vitals_sdk::sanitize;

/// `CLIENT_LONG_PASSWORD`: the new (4.1) password scheme; MariaDB clears it to say it is MariaDB.
pub const CLIENT_LONG_PASSWORD: u32 = 1;
/// `CLIENT_LONG_FLAG`: all column flags.
pub const CLIENT_LONG_FLAG: u32 = 1 << 2;
/// `CLIENT_CONNECT_WITH_DB`: a database is named in the handshake response.
pub const CLIENT_CONNECT_WITH_DB: u32 = 1 << 3;
/// `CLIENT_PROTOCOL_41`: the 4.1 protocol (SQLSTATE in errors, the packets parsed here).
pub const CLIENT_PROTOCOL_41: u32 = 1 << 9;
/// `CLIENT_SSL`: TLS after an SSLRequest.
pub const CLIENT_SSL: u32 = 1 << 11;
/// `CLIENT_TRANSACTIONS`: transaction status in OK packets.
pub const CLIENT_TRANSACTIONS: u32 = 1 << 13;
/// `CLIENT_SECURE_CONNECTION`: the 20-byte salt and a length-prefixed auth response.
pub const CLIENT_SECURE_CONNECTION: u32 = 1 << 15;
/// `CLIENT_PLUGIN_AUTH`: authentication plugins and auth switches.
pub const CLIENT_PLUGIN_AUTH: u32 = 1 << 19;
/// `CLIENT_DEPRECATE_EOF`: result sets end with an OK packet instead of EOF packets.
pub const CLIENT_DEPRECATE_EOF: u32 = 1 << 24;

/// Largest payload of one packet; a longer one continues in the next packet.
pub const MAX_PAYLOAD: usize = 0xFF_FFFF;
/// The character set asked for: utf8mb4_general_ci, known to MySQL 5.5.3+ and MariaDB 5.5+.
const CHARSET_UTF8MB4: u8 = 45;
/// The largest packet the client says it accepts.
const MAX_PACKET: u32 = 16 * 1024 * 1024;
/// How many bytes of peer data a summary quotes at most.
const QUOTED: usize = 80;

/// The payload ended before a field it should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short;

/// A cursor over a packet's payload, reading the protocol's little-endian fields.
#[derive(Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Cursor<'a> {
        Cursor { data, pos: 0 }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Short> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.data.len()).ok_or(Short)?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, Short> {
        Ok(self.take(1)?[0])
    }

    /// A 2-byte integer.
    pub fn u16(&mut self) -> Result<u16, Short> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// A 4-byte integer.
    pub fn u32(&mut self) -> Result<u32, Short> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The bytes up to a NUL, which is consumed.
    pub fn nul_terminated(&mut self) -> Result<&'a [u8], Short> {
        let rest = &self.data[self.pos..];
        let at = rest.iter().position(|&b| b == 0).ok_or(Short)?;
        self.pos += at + 1;
        Ok(&rest[..at])
    }

    /// The bytes up to a NUL (consumed) or to the end of the payload.
    pub fn nul_or_rest(&mut self) -> &'a [u8] {
        self.nul_terminated().unwrap_or_else(|Short| self.rest())
    }

    /// A length-encoded integer; `None` for the NULL marker (0xFB).
    pub fn lenenc_int(&mut self) -> Result<Option<u64>, Short> {
        let first = self.u8()?;
        let width = match first {
            0xFB => return Ok(None),
            0xFC => 2,
            0xFD => 3,
            0xFE => 8,
            // 0xFF starts an ERR packet, never a length.
            0xFF => return Err(Short),
            small => return Ok(Some(u64::from(small))),
        };
        let bytes = self.take(width)?;
        Ok(Some(bytes.iter().rev().fold(0u64, |value, &b| (value << 8) | u64::from(b))))
    }

    /// A length-encoded string; `None` for NULL.
    pub fn lenenc_bytes(&mut self) -> Result<Option<&'a [u8]>, Short> {
        match self.lenenc_int()? {
            None => Ok(None),
            Some(len) => self.take(usize::try_from(len).map_err(|_| Short)?).map(Some),
        }
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        self.pos = self.data.len();
        rest
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// What an ERR packet says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// The error number, e.g. 1045.
    pub code: u16,
    /// The SQLSTATE, e.g. "28000", when the packet carries one.
    pub state: Option<String>,
    /// The message, cleaned for a summary.
    pub message: String,
}

/// `ER_ACCESS_DENIED_ERROR`: wrong user or password.
pub const ER_ACCESS_DENIED: u16 = 1045;
/// `ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION`: a statement that writes, in a read-only session.
pub const ER_READ_ONLY_TRANSACTION: u16 = 1792;

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.state {
            Some(state) => write!(f, "ERROR {} ({state}): {}", self.code, self.message),
            None => write!(f, "ERROR {}: {}", self.code, self.message),
        }
    }
}

/// Parses an ERR packet (`payload` starts with 0xFF). Before the handshake a server may
/// send one without a SQLSTATE.
pub fn parse_err(payload: &[u8]) -> Result<ServerError, Short> {
    let mut cursor = Cursor::new(payload);
    if cursor.u8()? != 0xFF {
        return Err(Short);
    }
    let code = cursor.u16()?;
    let rest = cursor.rest();
    let (state, message) = match rest {
        [b'#', state @ ..] if state.len() >= 5 => {
            (Some(sanitize(&String::from_utf8_lossy(&state[..5]), 5)), &state[5..])
        }
        _ => (None, rest),
    };
    Ok(ServerError { code, state, message: sanitize(&String::from_utf8_lossy(message), 200) })
}

/// The server's greeting, as far as the check uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The version string as sent (MariaDB prefixes it with "5.5.5-").
    pub version: String,
    /// The connection's id on the server.
    pub connection_id: u32,
    /// The server's capability flags.
    pub capabilities: u32,
    /// The salt (nonce) the password scramble is computed with, usually 20 bytes.
    pub salt: Vec<u8>,
    /// The server's default authentication plugin; empty when it names none.
    pub auth_plugin: String,
}

/// Why a greeting was not a Handshake v10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GreetingError {
    /// The server refused the connection with an ERR packet (too many connections, host not allowed).
    Refused(ServerError),
    /// Something else: what was wrong with it.
    Garbage(String),
}

/// Parses the server's first packet.
pub fn parse_handshake(payload: &[u8]) -> Result<Handshake, GreetingError> {
    match payload.first() {
        Some(0xFF) => {
            return parse_err(payload)
                .map_err(|Short| GreetingError::Garbage("an ERR packet cut short".to_string()))
                .and_then(|error| Err(GreetingError::Refused(error)));
        }
        Some(10) => {}
        Some(other) => {
            return Err(GreetingError::Garbage(format!("protocol version {other}")));
        }
        None => return Err(GreetingError::Garbage("an empty packet".to_string())),
    }
    handshake_fields(&payload[1..]).map_err(|Short| GreetingError::Garbage("a greeting cut short".to_string()))
}

/// The fields of a Handshake v10 after the protocol version.
fn handshake_fields(data: &[u8]) -> Result<Handshake, Short> {
    let mut cursor = Cursor::new(data);
    let version = String::from_utf8_lossy(cursor.nul_terminated()?).into_owned();
    let connection_id = cursor.u32()?;
    let mut salt = cursor.take(8)?.to_vec();
    cursor.u8()?; // filler
    let mut capabilities = u32::from(cursor.u16()?);
    let mut auth_plugin = String::new();
    if !cursor.is_empty() {
        cursor.u8()?; // character set
        cursor.u16()?; // status flags
        capabilities |= u32::from(cursor.u16()?) << 16;
        let data_len = usize::from(cursor.u8()?);
        cursor.take(10)?; // reserved (MariaDB keeps its extended capabilities in the last 4)
        if capabilities & CLIENT_SECURE_CONNECTION != 0 {
            let rest = cursor.rest();
            let mut inner = Cursor::new(rest);
            let want = data_len.saturating_sub(8).max(13).min(rest.len());
            let part2 = inner.take(want)?;
            // The second part ends with a NUL that is not part of the salt.
            salt.extend_from_slice(part2.strip_suffix(&[0]).unwrap_or(part2));
            if capabilities & CLIENT_PLUGIN_AUTH != 0 {
                auth_plugin = String::from_utf8_lossy(inner.nul_or_rest()).into_owned();
            }
        }
    }
    Ok(Handshake { version, connection_id, capabilities, salt, auth_plugin })
}

/// The server as a summary names it: MariaDB's version without its "5.5.5-" prefix (it
/// names itself), any other prefixed with "MySQL"; cleaned and bounded.
pub fn server_name(version: &str) -> String {
    let version = sanitize(version, 60);
    if version.to_ascii_lowercase().contains("mariadb") {
        version.strip_prefix("5.5.5-").map(str::to_string).unwrap_or(version)
    } else {
        format!("MySQL {version}")
    }
}

/// The capabilities the client asks for: what it needs and the server offers.
pub fn client_capabilities(server: u32, database: bool, tls: bool) -> u32 {
    let mut wanted = CLIENT_LONG_PASSWORD
        | CLIENT_LONG_FLAG
        | CLIENT_PROTOCOL_41
        | CLIENT_TRANSACTIONS
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH
        | CLIENT_DEPRECATE_EOF;
    if database {
        wanted |= CLIENT_CONNECT_WITH_DB;
    }
    if tls {
        wanted |= CLIENT_SSL;
    }
    wanted & server
}

/// The fixed head of both the SSLRequest and the HandshakeResponse41.
fn response_head(capabilities: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&capabilities.to_le_bytes());
    out.extend_from_slice(&MAX_PACKET.to_le_bytes());
    out.push(CHARSET_UTF8MB4);
    out.extend_from_slice(&[0; 23]);
    out
}

/// The SSLRequest: the head of a handshake response with `CLIENT_SSL`, after which TLS starts.
pub fn ssl_request(capabilities: u32) -> Vec<u8> {
    response_head(capabilities)
}

/// A HandshakeResponse41 logging in as `user` with the scramble `auth`, for `plugin`.
pub fn handshake_response(capabilities: u32, user: &str, auth: &[u8], database: Option<&str>, plugin: &str) -> Vec<u8> {
    let mut out = response_head(capabilities);
    out.extend_from_slice(user.as_bytes());
    out.push(0);
    // Scrambles are 20 or 32 bytes; the length byte cannot overflow.
    out.push(u8::try_from(auth.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&auth[..auth.len().min(255)]);
    if let Some(database) = database.filter(|_| capabilities & CLIENT_CONNECT_WITH_DB != 0) {
        out.extend_from_slice(database.as_bytes());
        out.push(0);
    }
    if capabilities & CLIENT_PLUGIN_AUTH != 0 {
        out.extend_from_slice(plugin.as_bytes());
        out.push(0);
    }
    out
}

/// `COM_QUERY` with `sql`.
pub fn com_query(sql: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(sql.len() + 1);
    out.push(0x03);
    out.extend_from_slice(sql.as_bytes());
    out
}

/// `COM_QUIT`.
pub const COM_QUIT: [u8; 1] = [0x01];

/// A packet on the wire: 3-byte length, sequence id, payload (at most [`MAX_PAYLOAD`] bytes;
/// the check never sends more).
pub fn frame(seq: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len().min(MAX_PAYLOAD);
    let mut out = Vec::with_capacity(len + 4);
    out.extend_from_slice(&u32::try_from(len).unwrap_or(0).to_le_bytes()[..3]);
    out.push(seq);
    out.extend_from_slice(&payload[..len]);
    out
}

/// The payload length and sequence id of a packet header.
pub fn header(bytes: &[u8]) -> Option<(usize, u8)> {
    match bytes {
        [a, b, c, seq, ..] => Some((usize::from(*a) | usize::from(*b) << 8 | usize::from(*c) << 16, *seq)),
        _ => None,
    }
}

/// A reply the server sends to a command or the login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An OK packet (0x00, or 0xFE ending a result set with `CLIENT_DEPRECATE_EOF`).
    Ok,
    /// An ERR packet.
    Err(ServerError),
    /// An EOF packet (0xFE, shorter than 9 bytes).
    Eof,
}

/// What a packet that may be OK, ERR or EOF is; `None` for anything else.
pub fn reply(payload: &[u8]) -> Option<Reply> {
    match payload.first()? {
        0x00 => Some(Reply::Ok),
        0xFF => parse_err(payload).ok().map(Reply::Err),
        0xFE if payload.len() < 9 => Some(Reply::Eof),
        _ => None,
    }
}

/// Whether `payload` ends the rows of a result set: an EOF packet, or with
/// `CLIENT_DEPRECATE_EOF` an OK packet with the 0xFE header (a row never starts with 0xFE
/// unless its first value is 16 MiB long, which the check does not read).
pub fn ends_rows(payload: &[u8], deprecate_eof: bool) -> bool {
    payload.first() == Some(&0xFE) && (deprecate_eof || payload.len() < 9)
}

/// A row of a text result set: each value's bytes, `None` for NULL.
pub type Row = Vec<Option<Vec<u8>>>;

/// Parses a text-protocol row of `columns` values.
pub fn parse_row(payload: &[u8], columns: usize) -> Result<Row, Short> {
    let mut cursor = Cursor::new(payload);
    (0..columns).map(|_| cursor.lenenc_bytes().map(|value| value.map(<[u8]>::to_vec))).collect()
}

/// The name of a column from its definition packet (Protocol::ColumnDefinition41).
pub fn column_name(payload: &[u8]) -> Result<String, Short> {
    let mut cursor = Cursor::new(payload);
    for _ in 0..4 {
        cursor.lenenc_bytes()?; // catalog, schema, table, original table
    }
    Ok(sanitize(&String::from_utf8_lossy(cursor.lenenc_bytes()?.unwrap_or_default()), 64))
}

/// A bounded, cleaned prefix of bytes from the peer, for a summary.
pub fn quote(bytes: &[u8]) -> String {
    // Control characters become spaces, which sanitize trims only before it replaces them.
    sanitize(&String::from_utf8_lossy(&bytes[..bytes.len().min(QUOTED * 2)]), QUOTED).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The greeting of MariaDB 10.11 on this machine, without its 4-byte header.
    const MARIADB_GREETING: &[u8] = b"\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x0e\x00\x00\x007T~Af^(I\x00\xfe\xf7-\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00t27^Sg,BI).L\x00mysql_native_password\x00";

    fn greeting() -> Handshake {
        match parse_handshake(MARIADB_GREETING) {
            Ok(handshake) => handshake,
            Err(error) => panic!("{error:?}"),
        }
    }

    #[test]
    fn mariadb_greeting() {
        let handshake = greeting();
        assert_eq!(handshake.version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
        assert_eq!(handshake.connection_id, 14);
        assert_eq!(handshake.salt, b"7T~Af^(It27^Sg,BI).L");
        assert_eq!(handshake.auth_plugin, "mysql_native_password");
        assert_eq!(handshake.capabilities & CLIENT_SSL, 0, "this server has TLS off");
        assert_ne!(handshake.capabilities & CLIENT_DEPRECATE_EOF, 0);
        assert_eq!(server_name(&handshake.version), "10.11.19-MariaDB-0+deb12u1");
        assert_eq!(server_name("8.0.36"), "MySQL 8.0.36");
    }

    #[test]
    fn greetings_that_are_not() {
        let refused = b"\xff\x10\x04Too many connections";
        assert_eq!(
            parse_handshake(refused),
            Err(GreetingError::Refused(ServerError {
                code: 1040,
                state: None,
                message: "Too many connections".into()
            }))
        );
        let with_state = b"\xff\x6a\x04#HY000Host 'x' is not allowed to connect";
        match parse_handshake(with_state) {
            Err(GreetingError::Refused(error)) => {
                assert_eq!(error.to_string(), "ERROR 1130 (HY000): Host 'x' is not allowed to connect")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_handshake(b"SSH-2.0"), Err(GreetingError::Garbage(_))));
        assert!(matches!(parse_handshake(b""), Err(GreetingError::Garbage(_))));
        for cut in [2, 20, 40, 50] {
            assert!(matches!(parse_handshake(&MARIADB_GREETING[..cut]), Err(GreetingError::Garbage(_))), "{cut}");
        }
        // A 4.0-style greeting, without the extended part, still parses.
        let old = b"\n4.0.1\x00\x01\x00\x00\x0012345678\x00\x00\x02";
        assert!(parse_handshake(old).is_ok_and(|h| h.salt == b"12345678" && h.auth_plugin.is_empty()));
    }

    #[test]
    fn response_packets() {
        let caps = client_capabilities(greeting().capabilities, true, false);
        assert_eq!(caps & CLIENT_CONNECT_WITH_DB, CLIENT_CONNECT_WITH_DB);
        assert_eq!(caps & (CLIENT_SSL | CLIENT_LONG_PASSWORD), 0);
        let response = handshake_response(caps, "app", &[1, 2, 3], Some("test"), "mysql_native_password");
        assert_eq!(&response[..4], &caps.to_le_bytes());
        assert_eq!(response[8], 45);
        assert_eq!(&response[32..], b"app\x00\x03\x01\x02\x03test\x00mysql_native_password\x00");
        let without_db = handshake_response(caps & !CLIENT_CONNECT_WITH_DB, "app", &[], Some("test"), "x");
        assert_eq!(&without_db[32..], b"app\x00\x00x\x00");
        assert_eq!(ssl_request(caps | CLIENT_SSL).len(), 32);
        assert_eq!(frame(3, b"ab"), b"\x02\x00\x00\x03ab");
        assert_eq!(header(b"\x02\x00\x01\x03"), Some((0x10002, 3)));
        assert_eq!(header(b"\x02\x00"), None);
        assert_eq!(com_query("SELECT 1"), b"\x03SELECT 1");
    }

    #[test]
    fn replies_and_rows() {
        assert_eq!(reply(b"\x00\x00\x00\x02\x00\x00\x00"), Some(Reply::Ok));
        assert_eq!(reply(b"\xfe\x00\x00\x02\x00"), Some(Reply::Eof));
        assert_eq!(reply(b"\x01"), None);
        match reply(b"\xff\x15\x04#28000Access denied for user 'x'@'127.0.0.1' (using password: YES)") {
            Some(Reply::Err(error)) => {
                assert_eq!((error.code, error.state.as_deref()), (ER_ACCESS_DENIED, Some("28000")));
                assert!(error.message.starts_with("Access denied"));
            }
            other => panic!("{other:?}"),
        }
        assert!(ends_rows(b"\xfe\x00\x00\x02\x00", false));
        assert!(ends_rows(b"\xfe\x00\x00\x02\x00\x00\x00\x00\x00\x00", true));
        assert!(!ends_rows(b"\x011", true));
        assert_eq!(parse_row(b"\x0242\xfb\x00", 3), Ok(vec![Some(b"42".to_vec()), None, Some(vec![])]));
        assert_eq!(parse_row(b"\x0542", 1), Err(Short));
        let long = [&[0xFC, 0x2C, 0x01][..], &[b'x'; 300]].concat();
        assert_eq!(parse_row(&long, 1).map(|row| row[0].as_ref().map(Vec::len)), Ok(Some(300)));
        let column = b"\x03def\x00\x00\x00\x011\x00\x0c\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00\x00\x00";
        assert_eq!(column_name(column), Ok("1".to_string()));
    }

    #[test]
    fn quotes_are_bounded_and_clean() {
        assert_eq!(quote(b"SSH-2.0-OpenSSH_9.6\r\n"), "SSH-2.0-OpenSSH_9.6");
        assert_eq!(quote(&[b'x'; 1000]).chars().count(), QUOTED + 1);
        assert_eq!(quote(b"\x1b[31mred\x00"), "[31mred");
    }
}
