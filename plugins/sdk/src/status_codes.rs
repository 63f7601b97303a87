//! Lists of HTTP status codes such as `"200,204,300-399"`.

use std::fmt;
use std::str::FromStr;

/// A set of HTTP status codes written as comma-separated codes and inclusive ranges.
///
/// ```
/// let accepted: vitals_sdk::StatusCodes = "200,204,300-399".parse()?;
/// assert!(accepted.contains(301) && !accepted.contains(201));
/// assert_eq!(accepted.to_string(), "200,204,300-399");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCodes {
    ranges: Vec<(u16, u16)>,
}

impl StatusCodes {
    /// Parses a list such as `"200"`, `"200-399"` or `"200,204,300-399"`. Codes are
    /// three-digit numbers (100–999); spaces around items are allowed.
    ///
    /// ```
    /// assert!(vitals_sdk::StatusCodes::parse("200-299").is_ok_and(|c| c.contains(204)));
    /// assert!(vitals_sdk::StatusCodes::parse("2xx").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<StatusCodes, String> {
        let mut ranges = Vec::new();
        for item in text.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!("invalid status list {text:?}: empty item"));
            }
            let (low, high) = match item.split_once('-') {
                Some((low, high)) => (code(low, text)?, code(high, text)?),
                None => {
                    let single = code(item, text)?;
                    (single, single)
                }
            };
            if low > high {
                return Err(format!("invalid status list {text:?}: range {item} is reversed"));
            }
            ranges.push((low, high));
        }
        Ok(StatusCodes { ranges })
    }

    /// The codes `low..=high`, e.g. `StatusCodes::range(200, 399)`.
    ///
    /// ```
    /// assert_eq!(vitals_sdk::StatusCodes::range(200, 399).to_string(), "200-399");
    /// ```
    pub fn range(low: u16, high: u16) -> StatusCodes {
        StatusCodes { ranges: vec![(low.min(high), low.max(high))] }
    }

    /// Whether `status` is in the list.
    ///
    /// ```
    /// assert!(vitals_sdk::StatusCodes::range(200, 299).contains(200));
    /// ```
    pub fn contains(&self, status: u16) -> bool {
        self.ranges.iter().any(|&(low, high)| (low..=high).contains(&status))
    }
}

/// Parses one three-digit code.
fn code(s: &str, whole: &str) -> Result<u16, String> {
    let s = s.trim();
    match s.parse::<u16>() {
        Ok(c) if (100..=999).contains(&c) && s.len() == 3 => Ok(c),
        _ => Err(format!("invalid status list {whole:?}: {s:?} is not a status code (100-999)")),
    }
}

impl fmt::Display for StatusCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(low, high)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if low == high {
                write!(f, "{low}")?;
            } else {
                write!(f, "{low}-{high}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for StatusCodes {
    type Err = String;

    fn from_str(s: &str) -> Result<StatusCodes, String> {
        StatusCodes::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for StatusCodes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        StatusCodes::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The standard reason phrase of an HTTP status code (`404` → `"Not Found"`), if known.
///
/// ```
/// assert_eq!(vitals_sdk::reason_phrase(404), Some("Not Found"));
/// assert_eq!(vitals_sdk::reason_phrase(599), None);
/// ```
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(s: &str) -> StatusCodes {
        match StatusCodes::parse(s) {
            Ok(codes) => codes,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn single_codes_and_ranges() {
        let list = codes("200,204,300-399");
        for ok in [200, 204, 300, 350, 399] {
            assert!(list.contains(ok), "{ok}");
        }
        for bad in [199, 201, 203, 205, 299, 400, 500] {
            assert!(!list.contains(bad), "{bad}");
        }
        assert!(codes("200-399").contains(301));
        assert!(codes(" 404 ").contains(404));
        assert!(codes("200, 500 - 599").contains(503));
        assert_eq!(StatusCodes::range(200, 399), codes("200-399"));
    }

    #[test]
    fn displays_normalised() {
        assert_eq!(codes("200-399").to_string(), "200-399");
        assert_eq!(codes("200, 204,300 - 399").to_string(), "200,204,300-399");
        assert_eq!(codes("200-200").to_string(), "200");
    }

    #[test]
    fn rejects_bad_lists() {
        for bad in ["", ",", "200,", "abc", "2000", "99", "0200", "399-200", "200-", "-200", "2xx", "200;300"] {
            assert!(StatusCodes::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(reason_phrase(200), Some("OK"));
        assert_eq!(reason_phrase(500), Some("Internal Server Error"));
        assert_eq!(reason_phrase(599), None);
    }
}
