//! The little of RESP (the Redis serialization protocol) a health check needs: commands
//! written as arrays of bulk strings, and the replies they get (simple strings, errors
//! and bulk strings).

use vitals_sdk::NetError;
use vitals_sdk::tcp::Stream;

/// Longest reply line read (a simple string, an error, a bulk length).
pub const MAX_LINE: usize = 4096;

/// Largest bulk string accepted (INFO is a few KiB).
pub const MAX_BULK: usize = 512 * 1024;

/// One reply from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`, `+PONG`: the text after the `+`.
    Simple(String),
    /// `-ERR ...`, `-NOAUTH ...`: the text after the `-`, its first word being the code.
    Error(String),
    /// `$<n>\r\n<n bytes>\r\n`.
    Bulk(Vec<u8>),
    /// Anything else (an integer, an array, a null, a line that is not RESP): the raw first
    /// line, for quoting.
    Unexpected(Vec<u8>),
}

/// `args` as a RESP command: an array of bulk strings, so that any byte (a space in a
/// password) goes through as it is.
pub fn command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads the next reply.
pub fn read(stream: &mut Stream<'_>) -> Result<Reply, NetError> {
    let line = stream.read_line(MAX_LINE)?;
    let text = || String::from_utf8_lossy(&line[1..]).into_owned();
    match line.first() {
        Some(b'+') => Ok(Reply::Simple(text())),
        Some(b'-') => Ok(Reply::Error(text())),
        Some(b'$') => {
            let Some(length) = std::str::from_utf8(&line[1..]).ok().and_then(|n| n.parse::<usize>().ok()) else {
                // `$-1` (a null) or no number at all.
                return Ok(Reply::Unexpected(line));
            };
            if length > MAX_BULK {
                return Err(NetError::Protocol(format!(
                    "the server announced a reply of {length} bytes, more than the {MAX_BULK} read"
                )));
            }
            let mut data = stream.read_exact(length + 2)?;
            if !data.ends_with(b"\r\n") {
                return Err(NetError::Protocol(format!("a reply of {length} bytes does not end with CRLF")));
            }
            data.truncate(length);
            Ok(Reply::Bulk(data))
        }
        _ => Ok(Reply::Unexpected(line)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(command(&["PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(command(&["AUTH", "app", "p w"]), b"*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$3\r\np w\r\n");
        assert_eq!(command(&["AUTH", "ünï"]), "*2\r\n$4\r\nAUTH\r\n$5\r\nünï\r\n".as_bytes());
    }
}
