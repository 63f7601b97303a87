//! The plain-text start of a STARTTLS connection: the greeting, and the request to start
//! TLS, in SMTP, IMAP, POP3 and PostgreSQL. A server that refuses is `critical` / `tls`
//! with its answer; one that speaks something else is `critical` / `protocol` with what it
//! sent, found out from the first bytes rather than after the check's whole time.

use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{CheckResult, Deadline, NetError, Reason, critical, first_line, net_failure, sanitize};

use crate::config::Starttls;

/// Most bytes read from the server before TLS.
const LIMIT: usize = 64 * 1024;
/// Longest line accepted from the server.
const MAX_LINE: usize = 4096;
/// Most lines of one reply (multi-line SMTP replies, untagged IMAP responses).
const MAX_LINES: usize = 100;
/// How much of what a server sent is quoted in a summary.
const SHOWN: usize = 80;
/// The PostgreSQL SSLRequest: length 8, request code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Runs the `protocol` dialogue on `connection` up to the point where the TLS handshake
/// starts; the failure is the check's result.
pub fn negotiate(
    protocol: Starttls,
    connection: &Connection,
    deadline: Deadline,
    target: &str,
    ehlo: &str,
) -> Result<(), CheckResult> {
    let mut peer = Peer { reader: Reader::new(connection, deadline), protocol, target };
    match protocol {
        Starttls::Smtp => smtp(&mut peer, ehlo),
        Starttls::Imap => imap(&mut peer),
        Starttls::Pop3 => pop3(&mut peer),
        Starttls::Postgres => postgres(&mut peer),
    }?;
    peer.nothing_more()
}

/// SMTP (RFC 3207): `220` greeting, `EHLO` answered `250`, `STARTTLS` answered `220`.
fn smtp(peer: &mut Peer<'_>, ehlo: &str) -> Result<(), CheckResult> {
    let (code, greeting) = peer.smtp_reply("the SMTP greeting (220)")?;
    if code != 220 {
        return Err(peer.refused("the session", &greeting, Reason::Protocol));
    }
    peer.send(format!("EHLO {ehlo}\r\n").as_bytes(), "EHLO")?;
    let (code, answer) = peer.smtp_reply("the answer to EHLO (250)")?;
    if code != 250 {
        return Err(peer.refused(&format!("EHLO {}", sanitize(ehlo, SHOWN)), &answer, Reason::Protocol));
    }
    peer.send(b"STARTTLS\r\n", "STARTTLS")?;
    let (code, answer) = peer.smtp_reply("the answer to STARTTLS (220)")?;
    if code != 220 {
        return Err(peer.refused("STARTTLS", &answer, Reason::Tls));
    }
    Ok(())
}

/// IMAP (RFC 9051): `* OK` greeting, `a1 STARTTLS` answered `a1 OK`.
fn imap(peer: &mut Peer<'_>) -> Result<(), CheckResult> {
    let what = "the IMAP greeting (* OK)";
    let greeting = peer.line(what, |l| plausible(l, &["* "]))?;
    let upper = greeting.to_ascii_uppercase();
    if upper.starts_with(b"* BYE") {
        return Err(peer.refused("the session", &greeting, Reason::Protocol));
    }
    if !upper.starts_with(b"* OK") {
        return Err(peer.garbage(what, &greeting));
    }
    peer.send(b"a1 STARTTLS\r\n", "a1 STARTTLS")?;
    let what = "the answer to a1 STARTTLS (a1 OK)";
    for _ in 0..MAX_LINES {
        let line = peer.line(what, |l| plausible(l, &["* ", "a1 "]))?;
        let upper = line.to_ascii_uppercase();
        if upper.starts_with(b"* ") {
            continue;
        }
        if upper.starts_with(b"A1 OK") {
            return Ok(());
        }
        if upper.starts_with(b"A1 NO") || upper.starts_with(b"A1 BAD") {
            return Err(peer.refused("STARTTLS", &line, Reason::Tls));
        }
        return Err(peer.garbage(what, &line));
    }
    Err(peer.garbage(what, format!("more than {MAX_LINES} untagged responses").as_bytes()))
}

/// POP3 (RFC 2595): `+OK` greeting, `STLS` answered `+OK`.
fn pop3(peer: &mut Peer<'_>) -> Result<(), CheckResult> {
    let what = "the POP3 greeting (+OK)";
    let greeting = peer.line(what, |l| plausible(l, &["+OK", "-ERR"]))?;
    if !greeting.to_ascii_uppercase().starts_with(b"+OK") {
        return Err(peer.refused("the session", &greeting, Reason::Protocol));
    }
    peer.send(b"STLS\r\n", "STLS")?;
    let answer = peer.line("the answer to STLS (+OK)", |l| plausible(l, &["+OK", "-ERR"]))?;
    if !answer.to_ascii_uppercase().starts_with(b"+OK") {
        return Err(peer.refused("STLS", &answer, Reason::Tls));
    }
    Ok(())
}

/// PostgreSQL: the SSLRequest answered `S` (`N` refuses; `E` is an error message).
fn postgres(peer: &mut Peer<'_>) -> Result<(), CheckResult> {
    let what = "the answer to SSLRequest (S or N)";
    peer.send(&SSL_REQUEST, "SSLRequest")?;
    let answer = peer.some(what)?;
    match answer.first() {
        Some(b'S') => {
            // Bytes after the S would be read as TLS from an attacker in the middle.
            peer.reader.pending = answer[1..].to_vec();
            Ok(())
        }
        Some(b'N') => Err(critical(
            format!("the PostgreSQL server at {} does not accept TLS (it answered N to SSLRequest)", peer.target),
            Reason::Tls,
        )),
        Some(b'E') => {
            let message = error_message(&answer).unwrap_or_else(|| first_line(&answer[1..], SHOWN));
            Err(critical(
                format!("the PostgreSQL server at {} answered SSLRequest with an error: \"{message}\"", peer.target),
                Reason::Protocol,
            ))
        }
        _ => Err(peer.garbage(what, &answer)),
    }
}

/// The `M` (message) field of a PostgreSQL ErrorResponse, cleaned.
fn error_message(data: &[u8]) -> Option<String> {
    let fields = data.get(5..)?;
    fields.split(|&b| b == 0).find_map(|field| field.strip_prefix(b"M")).map(|m| first_line(m, SHOWN))
}

/// Whether `line` (possibly only its beginning so far) can start with one of `starts`,
/// ASCII case ignored.
fn plausible(line: &[u8], starts: &[&str]) -> bool {
    starts.iter().any(|start| {
        let n = line.len().min(start.len());
        line[..n].eq_ignore_ascii_case(&start.as_bytes()[..n])
    })
}

/// Whether `line` (or its beginning) can be an SMTP reply line: three digits, then a
/// space, a dash or the end.
fn plausible_smtp(line: &[u8]) -> bool {
    line.iter().enumerate().take(4).all(|(i, &b)| if i < 3 { b.is_ascii_digit() } else { b == b' ' || b == b'-' })
}

/// The server on the other end, and what the check is doing with it.
struct Peer<'a> {
    reader: Reader<'a>,
    protocol: Starttls,
    target: &'a str,
}

impl Peer<'_> {
    /// Sends `data`; `what` names the command for a failure.
    fn send(&self, data: &[u8], what: &str) -> Result<(), CheckResult> {
        self.reader.stream.send(data).map_err(|err| net_failure(&format!("sending {what} to {}", self.target), &err))
    }

    /// The next line, as long as its beginning is `plausible`.
    fn line(&mut self, what: &str, plausible: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>, CheckResult> {
        self.reader.line(plausible).map_err(|err| self.failure(what, err))
    }

    /// Whatever arrives next, at least one byte.
    fn some(&mut self, what: &str) -> Result<Vec<u8>, CheckResult> {
        match self.reader.stream.read_some() {
            Ok(data) if data.is_empty() => Err(self.failure(what, ReadError::Closed(Vec::new()))),
            Ok(data) => Ok(data),
            Err(err) => Err(self.failure(what, ReadError::Net(err))),
        }
    }

    /// One SMTP reply, all its lines: the code and the first line.
    fn smtp_reply(&mut self, what: &str) -> Result<(u16, Vec<u8>), CheckResult> {
        let mut first: Option<(u16, Vec<u8>)> = None;
        for _ in 0..MAX_LINES {
            let line = self.line(what, plausible_smtp)?;
            let code = line
                .get(..3)
                .and_then(|digits| std::str::from_utf8(digits).ok())
                .and_then(|digits| digits.parse::<u16>().ok());
            let Some(code) = code else {
                return Err(self.garbage(what, &line));
            };
            if first.as_ref().is_some_and(|(first_code, _)| *first_code != code) {
                return Err(self.garbage(what, &line));
            }
            let last = line.get(3) != Some(&b'-');
            let (code, text) = first.get_or_insert((code, line));
            if last {
                return Ok((*code, std::mem::take(text)));
            }
        }
        Err(self.garbage(what, format!("a reply of more than {MAX_LINES} lines").as_bytes()))
    }

    /// After the server agreed to start TLS it must wait for the handshake: bytes already
    /// sent would be taken as TLS (an injection, CVE-2011-0411 and kin).
    fn nothing_more(&self) -> Result<(), CheckResult> {
        if self.reader.pending.is_empty() {
            return Ok(());
        }
        Err(critical(
            format!(
                "the {} server at {} sent data after agreeing to start TLS, before the handshake: \"{}\"",
                self.protocol.name(),
                self.target,
                shown(&self.reader.pending)
            ),
            Reason::Protocol,
        ))
    }

    /// The server answered in its protocol, but no.
    fn refused(&self, what: &str, answer: &[u8], reason: Reason) -> CheckResult {
        critical(
            format!("the {} server at {} refused {what}: \"{}\"", self.protocol.name(), self.target, shown(answer)),
            reason,
        )
    }

    /// The server sent something that is not `what`.
    fn garbage(&self, what: &str, got: &[u8]) -> CheckResult {
        critical(format!("expected {what} from {}, got {}", self.target, quoted(got)), Reason::Protocol)
    }

    /// A failed read as the check's result.
    fn failure(&self, what: &str, err: ReadError) -> CheckResult {
        match err {
            ReadError::Net(err) => net_failure(&format!("waiting for {what} from {}", self.target), &err),
            ReadError::Garbage(got) => self.garbage(what, &got),
            ReadError::Closed(got) if got.is_empty() => {
                critical(format!("{} closed the connection instead of sending {what}", self.target), Reason::Protocol)
            }
            ReadError::Closed(got) => critical(
                format!("{} closed the connection in the middle of {what}, after {}", self.target, quoted(&got)),
                Reason::Protocol,
            ),
        }
    }
}

/// The first line of what a server sent, cleaned and bounded.
fn shown(data: &[u8]) -> String {
    first_line(data, SHOWN)
}

/// What a server sent, quoted: its first line, or the first bytes in hex when they are
/// not text (control characters, invalid UTF-8).
fn quoted(data: &[u8]) -> String {
    let text = shown(data);
    if !text.is_empty() && is_text(&data[..data.len().min(64)]) {
        return format!("\"{text}\"");
    }
    let hex: Vec<String> = data.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let more = if data.len() > 16 { " …" } else { "" };
    format!("{} bytes of binary data ({}{more})", data.len(), hex.join(" "))
}

/// Whether `data` is text: UTF-8 (perhaps cut in a character at the end) without control
/// characters other than tabs and line ends.
fn is_text(data: &[u8]) -> bool {
    let valid = match std::str::from_utf8(data) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
        Err(_) => return false,
    };
    !valid.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
}

/// Why a line could not be read.
enum ReadError {
    /// The host call failed (timeout, reset).
    Net(NetError),
    /// The server sent something that cannot be the line expected.
    Garbage(Vec<u8>),
    /// The server closed the connection, after sending these bytes of a line.
    Closed(Vec<u8>),
}

/// Lines from the server, judged as they arrive: a beginning that cannot be right is
/// garbage at once, without waiting for a line end that may never come.
struct Reader<'a> {
    stream: Stream<'a>,
    /// Received and not yet taken.
    pending: Vec<u8>,
}

impl<'a> Reader<'a> {
    fn new(connection: &'a Connection, deadline: Deadline) -> Reader<'a> {
        Reader { stream: Stream::new(connection, deadline, LIMIT), pending: Vec::new() }
    }

    /// The next line without its `\r\n`, if every byte of it so far was `plausible`.
    fn line(&mut self, plausible: impl Fn(&[u8]) -> bool) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(at) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=at).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return if plausible(&line) { Ok(line) } else { Err(ReadError::Garbage(line)) };
            }
            if !plausible(&self.pending) || self.pending.len() > MAX_LINE {
                return Err(ReadError::Garbage(std::mem::take(&mut self.pending)));
            }
            let chunk = self.stream.read_some().map_err(ReadError::Net)?;
            if chunk.is_empty() {
                return Err(ReadError::Closed(std::mem::take(&mut self.pending)));
            }
            self.pending.extend_from_slice(&chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_beginnings() {
        assert!(plausible_smtp(b""));
        assert!(plausible_smtp(b"22"));
        assert!(plausible_smtp(b"220 mail ESMTP"));
        assert!(plausible_smtp(b"250-STARTTLS"));
        assert!(!plausible_smtp(b"SSH-2.0"));
        assert!(!plausible_smtp(b"2200"));
        assert!(plausible(b"* o", &["* "]));
        assert!(plausible(b"+o", &["+OK", "-ERR"]));
        assert!(plausible(b"-ERR no", &["+OK", "-ERR"]));
        assert!(!plausible(b"HTTP/1.1", &["+OK", "-ERR"]));
    }

    #[test]
    fn quoting_what_a_server_sent() {
        assert_eq!(quoted(b"SSH-2.0-OpenSSH_9.6\r\nmore"), "\"SSH-2.0-OpenSSH_9.6\"");
        assert_eq!(quoted(b"\x16\x03\x01\x00"), "4 bytes of binary data (16 03 01 00)");
        assert_eq!(quoted(&[0u8; 20]).matches("00").count(), 16);
        assert_eq!(quoted(b"caf\xc3\xa9 \xc3"), "\"caf\u{e9} \u{fffd}\"");
        assert_eq!(quoted(b"ok\x1b[31m"), "7 bytes of binary data (6f 6b 1b 5b 33 31 6d)");
    }

    #[test]
    fn postgres_error_message() {
        let mut data = b"E\0\0\0\x20SFATAL\0C0A000\0Munsupported frontend protocol\0\0".to_vec();
        assert_eq!(error_message(&data).as_deref(), Some("unsupported frontend protocol"));
        data.truncate(3);
        assert_eq!(error_message(&data), None);
    }
}
