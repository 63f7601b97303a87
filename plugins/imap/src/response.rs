//! IMAP responses (RFC 9051, RFC 3501): reading a line with the literals it carries,
//! telling untagged, continuation and tagged lines apart, capabilities, and quoting the
//! arguments of LOGIN. Pure parsing, apart from the reads.

use vitals_sdk::tcp::Stream;
use vitals_sdk::{NetError, first_line, sanitize};

/// The longest response line accepted (a CAPABILITY line of a big server is a few hundred bytes).
const MAX_LINE: usize = 8192;
/// The largest literal accepted in a response (none is expected before login).
const MAX_LITERAL: usize = 16 * 1024;
/// The most literals one response line may carry.
const MAX_LITERALS: usize = 16;
/// How much of a line that is no response a summary quotes.
const MAX_QUOTED: usize = 80;

/// Why no response line could be read.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    /// The host call failed or the stream ended (closed, too long, out of time).
    Net(NetError),
    /// What arrived is not an IMAP response; the text says what, quoting it bounded.
    Garbage(String),
}

impl From<NetError> for ReadError {
    fn from(err: NetError) -> ReadError {
        ReadError::Net(err)
    }
}

/// The next response line, with the literals (`{12}` and the 12 bytes after it) it carries
/// put in place.
pub fn read_line(stream: &mut Stream) -> Result<Vec<u8>, ReadError> {
    let mut line = stream.read_line(MAX_LINE)?;
    let mut literals = 0;
    while let Some(size) = literal_at_end(&line) {
        literals += 1;
        if size > MAX_LITERAL || literals > MAX_LITERALS {
            return Err(ReadError::Garbage(format!(
                "a response with a literal of {size} bytes: \"{}\"",
                quoted(&line)
            )));
        }
        let data = stream.read_exact(size)?;
        line.extend_from_slice(&data);
        line.extend_from_slice(&stream.read_line(MAX_LINE)?);
    }
    Ok(line)
}

/// The size of the literal a line ends with (`{12}`, or `{12+}`), if it does.
fn literal_at_end(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// How a tagged response ends a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `OK`: done.
    Ok,
    /// `NO`: refused.
    No,
    /// `BAD`: not understood.
    Bad,
}

/// One response line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `* ...`: the text after the `* `.
    Untagged(String),
    /// `+ ...`: the server waits for the rest of a command (a literal).
    Continue(String),
    /// `a1 OK ...`: the end of the command with that tag.
    Tagged {
        /// The command's tag.
        tag: String,
        /// OK, NO or BAD.
        condition: Condition,
        /// The text after the condition (with any `[CODE]`).
        text: String,
    },
}

/// A response line, or `None` when it is none.
pub fn parse_line(line: &[u8]) -> Option<Line> {
    let text = String::from_utf8_lossy(line);
    if let Some(rest) = text.strip_prefix("* ") {
        return Some(Line::Untagged(rest.to_string()));
    }
    if text == "+" || text.starts_with("+ ") {
        return Some(Line::Continue(text.get(2..).unwrap_or_default().to_string()));
    }
    let (tag, rest) = text.split_once(' ')?;
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return None;
    }
    let (word, text) = rest.split_once(' ').unwrap_or((rest, ""));
    let condition = match word.to_ascii_uppercase().as_str() {
        "OK" => Condition::Ok,
        "NO" => Condition::No,
        "BAD" => Condition::Bad,
        _ => return None,
    };
    Some(Line::Tagged { tag: tag.to_string(), condition, text: text.to_string() })
}

/// A line that is no response, for a summary.
pub fn quoted(line: &[u8]) -> String {
    // A control character at the end becomes a space that `first_line` leaves there.
    let shown = first_line(line, MAX_QUOTED).trim_end().to_string();
    if shown.is_empty() { "(an empty line)".to_string() } else { shown }
}

/// What the greeting says about the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Greeting {
    /// `* OK`: log in to go on.
    Ok,
    /// `* PREAUTH`: already logged in.
    Preauth,
    /// `* BYE`: the server refuses the session.
    Bye,
}

/// The kind of an untagged greeting and the text after it (with any `[CODE]`).
pub fn parse_greeting(untagged: &str) -> Option<(Greeting, &str)> {
    let (word, text) = untagged.split_once(' ').unwrap_or((untagged, ""));
    let kind = match word.to_ascii_uppercase().as_str() {
        "OK" => Greeting::Ok,
        "PREAUTH" => Greeting::Preauth,
        "BYE" => Greeting::Bye,
        _ => return None,
    };
    Some((kind, text))
}

/// The capabilities a server announced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities(pub Vec<String>);

impl Capabilities {
    /// The capabilities of a response code at the start of `text`: `[CAPABILITY IMAP4rev1 ...]`.
    pub fn from_code(text: &str) -> Option<Capabilities> {
        let inner = text.strip_prefix('[')?;
        let (inner, _) = inner.split_once(']')?;
        let (word, list) = inner.split_once(' ').unwrap_or((inner, ""));
        word.eq_ignore_ascii_case("CAPABILITY").then(|| Capabilities::from_list(list))
    }

    /// The capabilities of an untagged `CAPABILITY IMAP4rev1 ...` line.
    pub fn from_untagged(untagged: &str) -> Option<Capabilities> {
        let (word, list) = untagged.split_once(' ').unwrap_or((untagged, ""));
        word.eq_ignore_ascii_case("CAPABILITY").then(|| Capabilities::from_list(list))
    }

    fn from_list(list: &str) -> Capabilities {
        Capabilities(list.split_ascii_whitespace().map(str::to_string).collect())
    }

    /// Whether `name` is announced (capabilities are case-insensitive).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|c| c.eq_ignore_ascii_case(name))
    }

    /// The SASL mechanisms of the `AUTH=` capabilities, upper case, each once.
    pub fn auth_mechanisms(&self) -> Vec<String> {
        let mut mechanisms: Vec<String> = Vec::new();
        for capability in &self.0 {
            let upper = capability.to_ascii_uppercase();
            if let Some(mechanism) = upper.strip_prefix("AUTH=")
                && !mechanism.is_empty()
                && !mechanisms.iter().any(|m| m == mechanism)
            {
                mechanisms.push(mechanism.to_string());
            }
        }
        mechanisms
    }

    /// The IMAP versions announced: `IMAP4rev2`, `IMAP4rev1`, as the server spells them.
    pub fn versions(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).filter(|c| c.to_ascii_uppercase().starts_with("IMAP4REV")).collect()
    }

    /// Every capability on one line, for the details.
    pub fn listed(&self, max_chars: usize) -> String {
        if self.0.is_empty() { "(none)".to_string() } else { sanitize(&self.0.join(" "), max_chars) }
    }
}

/// The pieces of a LOGIN command: each but the last ends with a synchronizing literal's
/// `{n}\r\n`, after which the server must answer `+` before the next piece is sent.
///
/// A value of printable 7-bit ASCII goes as a quoted string (`"` and `\` escaped); any
/// other (UTF-8, control characters) as a literal, which carries every byte but NUL.
pub fn login_command(tag: &str, user: &str, password: &str) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut current = format!("{tag} LOGIN ").into_bytes();
    for (n, value) in [user, password].into_iter().enumerate() {
        if n > 0 {
            current.push(b' ');
        }
        if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            current.push(b'"');
            for b in value.bytes() {
                if b == b'"' || b == b'\\' {
                    current.push(b'\\');
                }
                current.push(b);
            }
            current.push(b'"');
        } else {
            current.extend_from_slice(format!("{{{}}}\r\n", value.len()).as_bytes());
            pieces.push(std::mem::take(&mut current));
            current.extend_from_slice(value.as_bytes());
        }
    }
    current.extend_from_slice(b"\r\n");
    pieces.push(current);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_lines() {
        assert_eq!(parse_line(b"* OK ready"), Some(Line::Untagged("OK ready".into())));
        assert_eq!(parse_line(b"+ go ahead"), Some(Line::Continue("go ahead".into())));
        assert_eq!(parse_line(b"+"), Some(Line::Continue(String::new())));
        assert_eq!(
            parse_line(b"a3 no [AUTHENTICATIONFAILED] Invalid credentials"),
            Some(Line::Tagged {
                tag: "a3".into(),
                condition: Condition::No,
                text: "[AUTHENTICATIONFAILED] Invalid credentials".into()
            })
        );
        assert_eq!(
            parse_line(b"a1 OK"),
            Some(Line::Tagged { tag: "a1".into(), condition: Condition::Ok, text: String::new() })
        );
        for bad in [&b""[..], b"SSH-2.0-OpenSSH_9.6", b"HTTP/1.1 400 Bad Request", b"*OK", b"a1 MAYBE x", b"+OK POP3"] {
            assert_eq!(parse_line(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn literals_at_the_end_of_a_line() {
        assert_eq!(literal_at_end(b"* LIST () \"/\" {12}"), Some(12));
        assert_eq!(literal_at_end(b"* X {3+}"), Some(3));
        for none in [&b"* OK ready"[..], b"* OK {}", b"* OK {x}", b"* OK {12} more", b"* OK {1234567890}"] {
            assert_eq!(literal_at_end(none), None, "{:?}", String::from_utf8_lossy(none));
        }
    }

    #[test]
    fn greetings_and_capabilities() {
        let greeting = "OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN auth=login AUTH=PLAIN] Dovecot ready.";
        let (kind, text) = parse_greeting(greeting).unwrap_or((Greeting::Bye, ""));
        assert_eq!(kind, Greeting::Ok);
        let caps = Capabilities::from_code(text).unwrap_or_default();
        assert!(caps.has("starttls") && caps.has("IMAP4REV1") && !caps.has("LOGINDISABLED"));
        assert_eq!(caps.auth_mechanisms(), ["PLAIN", "LOGIN"]);
        assert_eq!(caps.versions(), ["IMAP4rev1"]);
        assert_eq!(parse_greeting("PREAUTH logged in").map(|g| g.0), Some(Greeting::Preauth));
        assert_eq!(parse_greeting("bye go away").map(|g| g.0), Some(Greeting::Bye));
        assert_eq!(parse_greeting("CAPABILITY IMAP4rev1"), None);
        assert_eq!(Capabilities::from_code("[ALERT] hi"), None);
        assert_eq!(Capabilities::from_code("no code"), None);
        let untagged = Capabilities::from_untagged("CAPABILITY IMAP4rev2 IMAP4rev1 LOGINDISABLED");
        assert_eq!(untagged.as_ref().map(Capabilities::versions), Some(vec!["IMAP4rev2", "IMAP4rev1"]));
        assert_eq!(Capabilities::from_untagged("OK fine"), None);
        assert_eq!(Capabilities::default().listed(80), "(none)");
    }

    #[test]
    fn login_quotes_or_sends_literals() {
        assert_eq!(login_command("a3", "alice", "s3cret"), [b"a3 LOGIN \"alice\" \"s3cret\"\r\n".to_vec()]);
        assert_eq!(login_command("a3", "a\"b", "c\\d"), [b"a3 LOGIN \"a\\\"b\" \"c\\\\d\"\r\n".to_vec()]);
        assert_eq!(
            login_command("a2", "alice", "pässword"),
            [b"a2 LOGIN \"alice\" {9}\r\n".to_vec(), "pässword\r\n".as_bytes().to_vec()]
        );
        assert_eq!(login_command("a2", "us\ter", "x"), [b"a2 LOGIN {5}\r\n".to_vec(), b"us\ter \"x\"\r\n".to_vec()]);
    }
}
