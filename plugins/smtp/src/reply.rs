//! SMTP replies (RFC 5321 §4.2): reading a possibly multi-line reply from the stream, and
//! the service extensions an EHLO answer lists. Pure parsing, apart from the reads.

use vitals_sdk::tcp::Stream;
use vitals_sdk::{NetError, first_line, sanitize};

/// The longest reply line accepted (RFC 5321 allows 512 bytes; servers stay well below).
const MAX_LINE: usize = 2048;
/// The most lines a reply may have (an EHLO answer lists a dozen extensions or so).
const MAX_LINES: usize = 100;
/// How much of a line that is no reply a summary quotes.
const MAX_QUOTED: usize = 80;

/// One reply: its code and the text of each line, after the code and its separator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: u16,
    /// The text of each line (lossy UTF-8, not yet cleaned).
    pub lines: Vec<String>,
}

impl Reply {
    /// The first line of the reply as a summary shows it: code and text, cleaned and bounded.
    pub fn shown(&self, max_chars: usize) -> String {
        let text = self.lines.first().map(String::as_str).unwrap_or_default();
        sanitize(&format!("{} {text}", self.code), max_chars).trim_end().to_string()
    }

    /// Every line's text joined by spaces, to look for an expected text in.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

/// Why no reply could be read.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyError {
    /// The host call failed or the stream ended (closed, too long, out of time).
    Net(NetError),
    /// What arrived is not an SMTP reply; the text says what, quoting it bounded.
    Garbage(String),
}

impl From<NetError> for ReplyError {
    fn from(err: NetError) -> ReplyError {
        ReplyError::Net(err)
    }
}

/// Reads one reply: lines `250-text` up to the last one, `250 text` (or a bare `250`).
pub fn read_reply(stream: &mut Stream) -> Result<Reply, ReplyError> {
    let mut code = None;
    let mut lines = Vec::new();
    loop {
        let line = stream.read_line(MAX_LINE)?;
        let Some((this, last, text)) = parse_line(&line) else {
            return Err(ReplyError::Garbage(format!("\"{}\"", quoted(&line))));
        };
        if let Some(code) = code
            && code != this
        {
            return Err(ReplyError::Garbage(format!(
                "a reply whose lines have different codes, {code} then \"{}\"",
                quoted(&line)
            )));
        }
        code = Some(this);
        lines.push(String::from_utf8_lossy(text).into_owned());
        if last {
            return Ok(Reply { code: this, lines });
        }
        if lines.len() >= MAX_LINES {
            return Err(ReplyError::Garbage(format!("a reply of more than {MAX_LINES} lines")));
        }
    }
}

/// A reply line's code, whether it is the last line, and its text; `None` when the line is
/// no reply line.
pub fn parse_line(line: &[u8]) -> Option<(u16, bool, &[u8])> {
    let digits = line.get(..3)?;
    if !(b'2'..=b'5').contains(&digits[0]) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    match line.get(3) {
        None => Some((code, true, &[])),
        Some(b' ') => Some((code, true, &line[4..])),
        Some(b'-') => Some((code, false, &line[4..])),
        Some(_) => None,
    }
}

/// A line that is no reply, for a summary.
fn quoted(line: &[u8]) -> String {
    // A control character at the end becomes a space that `first_line` leaves there.
    let shown = first_line(line, MAX_QUOTED).trim_end().to_string();
    if shown.is_empty() { "(an empty line)".to_string() } else { shown }
}

/// One service extension of an EHLO answer: its keyword (upper case) and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The keyword, e.g. `STARTTLS`, `SIZE`, `AUTH`.
    pub keyword: String,
    /// The parameters as the server wrote them, e.g. `["PLAIN", "LOGIN"]`.
    pub params: Vec<String>,
}

/// What an EHLO answer says: the server's name and its extensions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ehlo {
    /// The first line's text (the server's name and a greeting).
    pub greeting: String,
    /// The extensions, one per further line.
    pub extensions: Vec<Extension>,
}

impl Ehlo {
    /// The extensions of a 250 answer to EHLO.
    pub fn parse(reply: &Reply) -> Ehlo {
        let greeting = reply.lines.first().cloned().unwrap_or_default();
        let extensions = reply
            .lines
            .iter()
            .skip(1)
            .filter_map(|line| {
                let mut words = line.split_ascii_whitespace();
                let keyword = words.next()?.to_ascii_uppercase();
                Some(Extension { keyword, params: words.map(str::to_string).collect() })
            })
            .collect();
        Ehlo { greeting, extensions }
    }

    /// Whether the keyword is offered.
    pub fn offers(&self, keyword: &str) -> bool {
        self.extensions.iter().any(|e| e.keyword == keyword)
    }

    /// The SASL mechanisms of `AUTH` (and of the old `AUTH=` form), upper case, each once.
    pub fn auth_mechanisms(&self) -> Vec<String> {
        let mut mechanisms: Vec<String> = Vec::new();
        for extension in &self.extensions {
            let words: Vec<&str> = match extension.keyword.strip_prefix("AUTH=") {
                Some(first) => std::iter::once(first).chain(extension.params.iter().map(String::as_str)).collect(),
                None if extension.keyword == "AUTH" => extension.params.iter().map(String::as_str).collect(),
                None => continue,
            };
            for word in words {
                let word = word.to_ascii_uppercase();
                if !word.is_empty() && !mechanisms.contains(&word) {
                    mechanisms.push(word);
                }
            }
        }
        mechanisms
    }

    /// The message size limit of `SIZE` in bytes, when the server states one (0 means none).
    pub fn size_limit(&self) -> Option<u64> {
        let size = self.extensions.iter().find(|e| e.keyword == "SIZE")?;
        size.params.first()?.parse().ok().filter(|&n| n > 0)
    }

    /// The extensions as one line for the details: `PIPELINING, SIZE 10240000, STARTTLS`.
    pub fn listed(&self, max_chars: usize) -> String {
        if self.extensions.is_empty() {
            return "(none)".to_string();
        }
        let all: Vec<String> =
            self.extensions
                .iter()
                .map(|e| {
                    if e.params.is_empty() {
                        e.keyword.clone()
                    } else {
                        format!("{} {}", e.keyword, e.params.join(" "))
                    }
                })
                .collect();
        sanitize(&all.join(", "), max_chars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, lines: &[&str]) -> Reply {
        Reply { code, lines: lines.iter().map(|l| l.to_string()).collect() }
    }

    #[test]
    fn reply_lines() {
        assert_eq!(parse_line(b"220 mail.test ESMTP"), Some((220, true, &b"mail.test ESMTP"[..])));
        assert_eq!(parse_line(b"250-PIPELINING"), Some((250, false, &b"PIPELINING"[..])));
        assert_eq!(parse_line(b"250"), Some((250, true, &b""[..])));
        assert_eq!(parse_line(b"554 "), Some((554, true, &b""[..])));
        for bad in [&b""[..], b"22", b"SSH-2.0-OpenSSH", b"HTTP/1.1 400", b"2200 x", b"120 x", b"650 x", b"2x0 x"] {
            assert_eq!(parse_line(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn extensions_of_an_ehlo_answer() {
        let ehlo = Ehlo::parse(&reply(
            250,
            &["mail.test Hello", "PIPELINING", "SIZE 10240000", "starttls", "AUTH PLAIN LOGIN", "AUTH=LOGIN CRAM-MD5"],
        ));
        assert_eq!(ehlo.greeting, "mail.test Hello");
        assert!(ehlo.offers("STARTTLS") && ehlo.offers("PIPELINING") && !ehlo.offers("8BITMIME"));
        assert_eq!(ehlo.auth_mechanisms(), ["PLAIN", "LOGIN", "CRAM-MD5"]);
        assert_eq!(ehlo.size_limit(), Some(10_240_000));
        assert_eq!(ehlo.listed(200), "PIPELINING, SIZE 10240000, STARTTLS, AUTH PLAIN LOGIN, AUTH=LOGIN CRAM-MD5");
        assert_eq!(ehlo.listed(10), "PIPELINING…");

        let bare = Ehlo::parse(&reply(250, &["mail.test"]));
        assert!(bare.extensions.is_empty() && bare.auth_mechanisms().is_empty());
        assert_eq!(bare.listed(80), "(none)");
        assert_eq!(Ehlo::parse(&reply(250, &["x", "SIZE 0"])).size_limit(), None);
        assert_eq!(Ehlo::parse(&reply(250, &["x", "SIZE"])).size_limit(), None);
    }

    #[test]
    fn replies_as_shown() {
        let greeting = reply(220, &["mail.test ESMTP\x1b[31m ready", "second line"]);
        assert_eq!(greeting.shown(80), "220 mail.test ESMTP [31m ready");
        assert_eq!(greeting.text(), "mail.test ESMTP\x1b[31m ready second line");
        assert_eq!(reply(554, &[""]).shown(80), "554");
    }
}
