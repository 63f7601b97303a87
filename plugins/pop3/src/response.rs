//! POP3 responses (RFC 1939, RFC 2449): `+OK` and `-ERR` status lines, dot-terminated
//! multi-line bodies, the capabilities of CAPA, and the answer to STAT. Pure parsing, apart
//! from the reads.

use vitals_sdk::tcp::Stream;
use vitals_sdk::{NetError, first_line, sanitize};

/// The longest response line accepted (RFC 2449 allows 512 bytes).
const MAX_LINE: usize = 2048;
/// The most lines a multi-line answer (CAPA) may have.
const MAX_LINES: usize = 200;
/// How much of a line that is no response a summary quotes.
const MAX_QUOTED: usize = 80;

/// Why no response could be read.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    /// The host call failed or the stream ended (closed, too long, out of time).
    Net(NetError),
    /// What arrived is not a POP3 response; the text says what, quoting it bounded.
    Garbage(String),
}

impl From<NetError> for ReadError {
    fn from(err: NetError) -> ReadError {
        ReadError::Net(err)
    }
}

/// A status line: `+OK text` or `-ERR text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `+OK` (true) or `-ERR` (false).
    pub ok: bool,
    /// The text after the indicator (lossy UTF-8, not yet cleaned).
    pub text: String,
}

impl Reply {
    /// The reply as a summary quotes it: indicator and text, cleaned and bounded.
    pub fn shown(&self, max_chars: usize) -> String {
        let word = if self.ok { "+OK" } else { "-ERR" };
        sanitize(&format!("{word} {}", self.text), max_chars).trim_end().to_string()
    }

    /// The text alone, cleaned and bounded.
    pub fn message(&self, max_chars: usize) -> String {
        sanitize(&self.text, max_chars).trim_end().to_string()
    }
}

/// A status line, or `None` when the line is none.
pub fn parse_reply(line: &[u8]) -> Option<Reply> {
    let text = String::from_utf8_lossy(line);
    let (word, rest) = text.split_once(' ').unwrap_or((&text, ""));
    let ok = match word.to_ascii_uppercase().as_str() {
        "+OK" => true,
        "-ERR" => false,
        _ => return None,
    };
    Some(Reply { ok, text: rest.to_string() })
}

/// Reads one status line.
pub fn read_reply(stream: &mut Stream) -> Result<Reply, ReadError> {
    let line = stream.read_line(MAX_LINE)?;
    parse_reply(&line).ok_or_else(|| ReadError::Garbage(format!("\"{}\"", quoted(&line))))
}

/// Reads the lines of a multi-line body up to the lone `.`, with dot-stuffing undone.
pub fn read_body(stream: &mut Stream) -> Result<Vec<String>, ReadError> {
    let mut lines = Vec::new();
    loop {
        let line = stream.read_line(MAX_LINE)?;
        if line == b"." {
            return Ok(lines);
        }
        if lines.len() >= MAX_LINES {
            return Err(ReadError::Garbage(format!(
                "an answer of more than {MAX_LINES} lines without its final \".\""
            )));
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        lines.push(String::from_utf8_lossy(line).into_owned());
    }
}

/// A line that is no response, for a summary.
fn quoted(line: &[u8]) -> String {
    // A control character at the end becomes a space that `first_line` leaves there.
    let shown = first_line(line, MAX_QUOTED).trim_end().to_string();
    if shown.is_empty() { "(an empty line)".to_string() } else { shown }
}

/// The capabilities CAPA listed: keyword (upper case) and parameters, one per line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities(pub Vec<(String, Vec<String>)>);

impl Capabilities {
    /// The capabilities of CAPA's lines.
    pub fn parse(lines: &[String]) -> Capabilities {
        Capabilities(
            lines
                .iter()
                .filter_map(|line| {
                    let mut words = line.split_ascii_whitespace();
                    let keyword = words.next()?.to_ascii_uppercase();
                    Some((keyword, words.map(str::to_string).collect()))
                })
                .collect(),
        )
    }

    /// Whether the keyword is listed.
    pub fn has(&self, keyword: &str) -> bool {
        self.0.iter().any(|(k, _)| k == keyword)
    }

    /// The mechanisms of `SASL`, upper case, each once.
    pub fn sasl(&self) -> Vec<String> {
        let mut mechanisms: Vec<String> = Vec::new();
        for (_, params) in self.0.iter().filter(|(k, _)| k == "SASL") {
            for mechanism in params.iter().map(|p| p.to_ascii_uppercase()) {
                if !mechanisms.contains(&mechanism) {
                    mechanisms.push(mechanism);
                }
            }
        }
        mechanisms
    }

    /// Every capability on one line, for the details.
    pub fn listed(&self, max_chars: usize) -> String {
        if self.0.is_empty() {
            return "(none)".to_string();
        }
        let all: Vec<String> = self
            .0
            .iter()
            .map(|(k, params)| if params.is_empty() { k.clone() } else { format!("{k} {}", params.join(" ")) })
            .collect();
        sanitize(&all.join(", "), max_chars)
    }
}

/// The message count and size in bytes of a STAT answer's text: `2 320`.
pub fn parse_stat(text: &str) -> Option<(u64, u64)> {
    let mut words = text.split_ascii_whitespace();
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_reply(b"+OK Dovecot ready."), Some(Reply { ok: true, text: "Dovecot ready.".into() }));
        assert_eq!(parse_reply(b"+OK"), Some(Reply { ok: true, text: String::new() }));
        assert_eq!(
            parse_reply(b"-ERR [AUTH] Authentication failed."),
            Some(Reply { ok: false, text: "[AUTH] Authentication failed.".into() })
        );
        for bad in [&b""[..], b"* OK IMAP4rev1", b"220 mail.test ESMTP", b"+OKAY", b"OK"] {
            assert_eq!(parse_reply(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        let reply = Reply { ok: false, text: "no \u{1b}[31mway\u{7}".into() };
        assert_eq!((reply.shown(80).as_str(), reply.message(80).as_str()), ("-ERR no [31mway", "no [31mway"));
    }

    #[test]
    fn capabilities_of_capa() {
        let lines: Vec<String> =
            ["TOP", "uidl", "SASL PLAIN LOGIN", "STLS", "USER", "SASL plain", "IMPLEMENTATION Dovecot"]
                .map(String::from)
                .to_vec();
        let capabilities = Capabilities::parse(&lines);
        assert!(capabilities.has("STLS") && capabilities.has("UIDL") && !capabilities.has("PIPELINING"));
        assert_eq!(capabilities.sasl(), ["PLAIN", "LOGIN"]);
        assert_eq!(
            capabilities.listed(200),
            "TOP, UIDL, SASL PLAIN LOGIN, STLS, USER, SASL plain, IMPLEMENTATION Dovecot"
        );
        assert_eq!(Capabilities::default().listed(80), "(none)");
    }

    #[test]
    fn stat_answers() {
        assert_eq!(parse_stat("2 320"), Some((2, 320)));
        assert_eq!(parse_stat("0 0 extra"), Some((0, 0)));
        assert_eq!(parse_stat("two 320"), None);
        assert_eq!(parse_stat("2"), None);
    }
}
