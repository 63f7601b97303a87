//! The PostgreSQL frontend/backend protocol 3.0, as much of it as a check speaks: the
//! frontend messages it sends and the parsing of the backend messages it reads.
//!
//! Every backend message is a type byte, a big-endian length that counts itself, and a body;
//! the startup messages (SSLRequest, StartupMessage) have no type byte.

use vitals_sdk::sanitize;

/// The protocol version of the StartupMessage: 3.0.
const PROTOCOL_3_0: u32 = 3 << 16;
/// The code of an SSLRequest, sent where a protocol version would be.
const SSL_REQUEST_CODE: u32 = 80_877_103;

/// How long a server's text may get in a summary.
pub const MAX_SHOWN: usize = 200;

/// The SSLRequest: asks the server whether it will talk TLS on this connection.
pub fn ssl_request() -> Vec<u8> {
    let mut out = 8u32.to_be_bytes().to_vec();
    out.extend_from_slice(&SSL_REQUEST_CODE.to_be_bytes());
    out
}

/// The StartupMessage for `user` on `database`, naming the application `vitals` (what
/// `pg_stat_activity.application_name` shows).
pub fn startup(user: &str, database: &str) -> Vec<u8> {
    let mut body = PROTOCOL_3_0.to_be_bytes().to_vec();
    for (name, value) in [("user", user), ("database", database), ("application_name", "vitals")] {
        put_cstr(&mut body, name);
        put_cstr(&mut body, value);
    }
    body.push(0);
    let mut out = u32::try_from(body.len() + 4).unwrap_or(u32::MAX).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// A typed frontend message: the type byte, the length and the body.
pub fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(tag);
    out.extend_from_slice(&u32::try_from(body.len() + 4).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A Query (simple query protocol) of `sql`.
pub fn query(sql: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(sql.len() + 1);
    put_cstr(&mut body, sql);
    message(b'Q', &body)
}

/// A PasswordMessage: a cleartext or MD5-hashed password, NUL-terminated.
pub fn password(text: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(text.len() + 1);
    put_cstr(&mut body, text);
    message(b'p', &body)
}

/// A SASLInitialResponse: the chosen mechanism and the client's first message.
pub fn sasl_initial(mechanism: &str, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(mechanism.len() + data.len() + 5);
    put_cstr(&mut body, mechanism);
    body.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    body.extend_from_slice(data);
    message(b'p', &body)
}

/// A SASLResponse: the client's next message.
pub fn sasl_response(data: &[u8]) -> Vec<u8> {
    message(b'p', data)
}

/// A CopyFail, the answer to a query that wants COPY data from the client.
pub fn copy_fail(reason: &str) -> Vec<u8> {
    let mut body = Vec::new();
    put_cstr(&mut body, reason);
    message(b'f', &body)
}

/// The Terminate message that ends a session cleanly.
pub fn terminate() -> Vec<u8> {
    message(b'X', &[])
}

fn put_cstr(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
    out.push(0);
}

/// Reads the parts of a message body in order; every read says what was malformed.
#[derive(Debug)]
pub struct Body<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Body<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Body<'a> {
        Body { data, at: 0 }
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.data.len()).ok_or("the message ends early")?;
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// A big-endian 32-bit integer.
    pub fn i32(&mut self) -> Result<i32, String> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A big-endian 16-bit integer.
    pub fn i16(&mut self) -> Result<i16, String> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.bytes(1)?[0])
    }

    /// A NUL-terminated string (invalid UTF-8 replaced).
    pub fn cstr(&mut self) -> Result<String, String> {
        let rest = &self.data[self.at.min(self.data.len())..];
        let len = rest.iter().position(|&b| b == 0).ok_or("a string is not terminated")?;
        self.at += len + 1;
        Ok(String::from_utf8_lossy(&rest[..len]).into_owned())
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.at.min(self.data.len())..];
        self.at = self.data.len();
        out
    }
}

/// An ErrorResponse: the fields a summary shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerError {
    /// `ERROR`, `FATAL` or `PANIC` (the non-localized `V` field when the server sends it).
    pub severity: String,
    /// The SQLSTATE, e.g. `28P01`.
    pub code: String,
    /// The primary message.
    pub message: String,
    /// The optional detail.
    pub detail: Option<String>,
    /// The optional hint.
    pub hint: Option<String>,
}

impl ServerError {
    /// Parses an ErrorResponse body: fields of a code byte and a string, ended by a 0.
    pub fn parse(body: &[u8]) -> Result<ServerError, String> {
        let mut body = Body::new(body);
        let mut error = ServerError::default();
        let mut localized = String::new();
        loop {
            let field = body.u8()?;
            if field == 0 {
                break;
            }
            let value = body.cstr()?;
            match field {
                b'S' => localized = value,
                b'V' => error.severity = value,
                b'C' => error.code = value,
                b'M' => error.message = value,
                b'D' => error.detail = Some(value),
                b'H' => error.hint = Some(value),
                _ => {}
            }
        }
        if error.severity.is_empty() {
            error.severity = localized;
        }
        Ok(error)
    }

    /// Whether the server refused the login itself (SQLSTATE class 28: a wrong password,
    /// an unknown role, no pg_hba.conf entry).
    pub fn is_authentication(&self) -> bool {
        matches!(self.code.as_str(), "28P01" | "28000")
    }

    /// Whether a statement was cancelled for running longer than statement_timeout.
    pub fn is_statement_timeout(&self) -> bool {
        self.code == "57014"
    }

    /// `FATAL 28P01: password authentication failed for user "x"`, cleaned and bounded.
    pub fn shown(&self) -> String {
        let head = [self.severity.as_str(), self.code.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let message = sanitize(&self.message, MAX_SHOWN);
        match (head.is_empty(), message.is_empty()) {
            (true, _) => message,
            (false, true) => sanitize(&head, 40),
            (false, false) => format!("{}: {message}", sanitize(&head, 40)),
        }
    }

    /// The detail and hint, one cleaned line each, for a result's details.
    pub fn details(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(detail) = &self.detail {
            lines.push(format!("server detail: {}", sanitize(detail, 2 * MAX_SHOWN)));
        }
        if let Some(hint) = &self.hint {
            lines.push(format!("server hint: {}", sanitize(hint, 2 * MAX_SHOWN)));
        }
        lines
    }
}

/// The columns of a DataRow: each a text value, or `None` for NULL.
pub fn data_row(body: &[u8]) -> Result<Vec<Option<Vec<u8>>>, String> {
    let mut body = Body::new(body);
    let count = body.i16()?;
    let mut columns = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(64));
    for _ in 0..count {
        let len = body.i32()?;
        columns.push(match usize::try_from(len) {
            Ok(len) => Some(body.bytes(len)?.to_vec()),
            Err(_) => None,
        });
    }
    Ok(columns)
}

/// The name of an authentication method the server may ask for, by its code.
pub fn auth_method_name(code: i32) -> String {
    match code {
        2 => "Kerberos V5".to_string(),
        6 => "SCM credentials".to_string(),
        7 | 8 => "GSSAPI".to_string(),
        9 => "SSPI".to_string(),
        other => format!("method {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontend_messages() {
        assert_eq!(ssl_request(), [0, 0, 0, 8, 4, 210, 22, 47]);
        assert_eq!(terminate(), b"X\0\0\0\x04");
        assert_eq!(query("SELECT 1"), b"Q\0\0\0\x0dSELECT 1\0");
        assert_eq!(password("pw"), b"p\0\0\0\x07pw\0");
        let startup = startup("u", "d");
        assert_eq!(&startup[..8], [0, 0, 0, 51, 0, 3, 0, 0]);
        assert_eq!(&startup[8..], b"user\0u\0database\0d\0application_name\0vitals\0\0");
        assert_eq!(sasl_initial("M", b"ab"), b"p\0\0\0\x0cM\0\0\0\0\x02ab");
    }

    #[test]
    fn error_fields() {
        let body = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user \"x\"\0Rauth_failed\0\0";
        let error = match ServerError::parse(body) {
            Ok(error) => error,
            Err(why) => panic!("{why}"),
        };
        assert!(error.is_authentication());
        assert_eq!(error.shown(), "FATAL 28P01: password authentication failed for user \"x\"");
        // A localized severity only (servers before 9.6), control characters cleaned.
        let old = ServerError::parse(b"SFEHLER\0C3D000\0MDatenbank \x1b[31m\"x\"\nexistiert nicht\0\0");
        assert_eq!(old.map(|e| e.shown()), Ok("FEHLER 3D000: Datenbank [31m\"x\" existiert nicht".to_string()));
        assert!(ServerError::parse(b"SERROR\0Mno end").is_err());
        assert!(ServerError::parse(b"SERROR").is_err());
    }

    #[test]
    fn data_rows() {
        assert_eq!(data_row(b"\0\x02\0\0\0\x01x\xff\xff\xff\xff"), Ok(vec![Some(b"x".to_vec()), None]));
        assert!(data_row(b"\0\x01\0\0\0\x09x").is_err());
        assert!(data_row(b"\0").is_err());
    }
}
