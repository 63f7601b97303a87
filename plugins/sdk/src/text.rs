//! Making peer-supplied text safe to show in a one-line summary.

/// `text` on one line: control characters (including newlines) become spaces, runs of
/// whitespace collapse, and the result is cut to `max_chars` characters with a trailing
/// `…` when it was longer.
///
/// ```
/// assert_eq!(vitals_sdk::sanitize("220 ready\r\n\x1b[31m", 80), "220 ready [31m");
/// assert_eq!(vitals_sdk::sanitize("a long banner", 6), "a long…");
/// assert_eq!(vitals_sdk::sanitize("\x1b[31mx\x07", 80), "[31mx");
/// ```
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    // Starts as if after a space, so that a leading control character leaves no space.
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if count == max_chars {
            out.truncate(out.trim_end().len());
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    // A trailing control character (a bell, an escape) leaves no space either.
    out.truncate(out.trim_end().len());
    out
}

/// The first non-empty line of `data` (decoded as UTF-8, invalid bytes replaced),
/// sanitised and cut to `max_chars` characters; empty when there is no such line.
///
/// ```
/// assert_eq!(vitals_sdk::first_line(b"\r\nSSH-2.0-OpenSSH_9.6\r\nmore", 80), "SSH-2.0-OpenSSH_9.6");
/// ```
pub fn first_line(data: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(data);
    text.split(['\n', '\r'])
        .find(|line| !line.trim().is_empty())
        .map(|line| sanitize(line, max_chars))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_and_truncates() {
        assert_eq!(sanitize("a\tb\x07c", 80), "a b c");
        assert_eq!(sanitize("  lots   of space ", 80), "lots of space");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("ab cdef", 3), "ab…");
        assert_eq!(sanitize("abc", 3), "abc");
        assert_eq!(sanitize("äöü", 2), "äö…");
    }

    #[test]
    fn first_line_of_banner() {
        assert_eq!(first_line(b"SSH-2.0-OpenSSH_9.6\r\nmore", 80), "SSH-2.0-OpenSSH_9.6");
        assert_eq!(first_line(b"\r\n\r\n220 ready\r\n", 80), "220 ready");
        assert_eq!(first_line(b"\xff\xfeok", 80), "\u{fffd}\u{fffd}ok");
        assert_eq!(first_line(b"", 80), "");
        assert_eq!(first_line(&[b'x'; 200], 80).chars().count(), 81);
    }
}
