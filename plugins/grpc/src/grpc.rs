//! The gRPC side of the call (gRPC over HTTP/2, and `grpc.health.v1`): the request's
//! headers and message, the response message, and the names of the codes.

use crate::hpack;

/// The method called.
pub const PATH: &str = "/grpc.health.v1.Health/Check";

/// The user agent sent unless the metadata gives one.
const USER_AGENT: &str = concat!("vitals-grpc/", env!("CARGO_PKG_VERSION"));

/// Largest response message accepted: a HealthCheckResponse is 2 bytes.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The request's header block: the pseudo-headers, the gRPC headers and the metadata, each
/// a literal without indexing.
pub fn header_block(tls: bool, authority: &str, metadata: &[(String, &str)]) -> Vec<u8> {
    let mut block = Vec::new();
    let scheme = if tls { "https" } else { "http" };
    let fields = [
        (":method", "POST"),
        (":scheme", scheme),
        (":path", PATH),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ];
    for (name, value) in fields {
        hpack::encode_literal(&mut block, name.as_bytes(), value.as_bytes());
    }
    if !metadata.iter().any(|(name, _)| name == "user-agent") {
        hpack::encode_literal(&mut block, b"user-agent", USER_AGENT.as_bytes());
    }
    for (name, value) in metadata {
        hpack::encode_literal(&mut block, name.as_bytes(), value.as_bytes());
    }
    block
}

/// The request message, framed: uncompressed (flag 0), its length in 4 bytes big-endian,
/// and `HealthCheckRequest { string service = 1; }` in protobuf (no field for "").
pub fn request_message(service: &str) -> Vec<u8> {
    let mut proto = Vec::new();
    if !service.is_empty() {
        proto.push(0x0a); // field 1, wire type 2 (length-delimited)
        put_varint(&mut proto, service.len() as u64);
        proto.extend_from_slice(service.as_bytes());
    }
    let mut message = vec![0];
    message.extend_from_slice(&u32::try_from(proto.len()).unwrap_or(u32::MAX).to_be_bytes());
    message.extend_from_slice(&proto);
    message
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A varint and how many bytes it took.
fn varint(bytes: &[u8]) -> Result<(u64, usize), String> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err("the HealthCheckResponse holds a broken varint".to_string())
}

/// The serving status in the response body (the DATA of the stream): exactly one
/// uncompressed message holding `HealthCheckResponse { ServingStatus status = 1; }`.
pub fn serving_status(body: &[u8]) -> Result<u64, String> {
    let Some((&flag, rest)) = body.split_first() else {
        return Err("the call succeeded without a response message".to_string());
    };
    let len = rest.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let Some(len) = len else {
        return Err(format!("the response message is cut short ({} B)", body.len()));
    };
    match flag {
        0 => {}
        1 => return Err("the response message is compressed, which the check did not offer".to_string()),
        other => return Err(format!("the response message has the unknown flag {other:#04x}")),
    }
    let proto = &rest[4..];
    if proto.len() < len {
        return Err(format!("the response message says {len} B and holds {}", proto.len()));
    }
    if proto.len() > len {
        return Err("the response holds more than one message".to_string());
    }
    let mut status = 0;
    let mut at = 0;
    while at < proto.len() {
        let (key, used) = varint(&proto[at..])?;
        at += used;
        let (field, wire) = (key >> 3, key & 7);
        let skip = match wire {
            0 => {
                let (value, used) = varint(&proto[at..])?;
                if field == 1 {
                    status = value;
                }
                used
            }
            1 => 8,
            2 => {
                let (n, used) = varint(&proto[at..])?;
                used.saturating_add(usize::try_from(n).unwrap_or(usize::MAX))
            }
            5 => 4,
            _ => return Err(format!("the HealthCheckResponse holds the unknown wire type {wire}")),
        };
        if field == 1 && wire != 0 {
            return Err(format!("the HealthCheckResponse's status has wire type {wire}, not a varint"));
        }
        at = at.saturating_add(skip);
        if at > proto.len() {
            return Err("the HealthCheckResponse is cut short".to_string());
        }
    }
    Ok(status)
}

/// The name of a `ServingStatus`.
pub fn serving_name(status: u64) -> Option<&'static str> {
    ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"].get(usize::try_from(status).ok()?).copied()
}

/// `SERVING`
pub const SERVING: u64 = 1;
/// `SERVICE_UNKNOWN` (what `Watch` sends for an unknown service; `Check` answers NOT_FOUND).
pub const SERVICE_UNKNOWN: u64 = 3;

/// gRPC status codes the judging looks at.
pub mod code {
    /// OK
    pub const OK: u32 = 0;
    /// NOT_FOUND: `Check`'s answer for a service the server does not know.
    pub const NOT_FOUND: u32 = 5;
    /// PERMISSION_DENIED
    pub const PERMISSION_DENIED: u32 = 7;
    /// UNIMPLEMENTED: no `grpc.health.v1.Health` on this server.
    pub const UNIMPLEMENTED: u32 = 12;
    /// UNAUTHENTICATED
    pub const UNAUTHENTICATED: u32 = 16;
}

/// The name of a gRPC status code.
pub fn code_name(code: u32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.get(code as usize).copied().unwrap_or("an unknown code")
}

/// A `grpc-message` as sent (percent-encoded UTF-8), decoded; bad escapes stay as they are.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_messages() {
        assert_eq!(request_message(""), [0, 0, 0, 0, 0]);
        assert_eq!(request_message("a.B"), [0, 0, 0, 0, 5, 0x0a, 3, b'a', b'.', b'B']);
        let long = "s".repeat(200);
        let message = request_message(&long);
        assert_eq!(&message[..8], &[0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01]);
    }

    #[test]
    fn responses() {
        assert_eq!(serving_status(&[0, 0, 0, 0, 2, 0x08, 1]), Ok(1));
        assert_eq!(serving_status(&[0, 0, 0, 0, 2, 0x08, 2]), Ok(2));
        // proto3 leaves a zero value out: UNKNOWN.
        assert_eq!(serving_status(&[0, 0, 0, 0, 0]), Ok(0));
        // Unknown fields are skipped, the last status wins.
        assert_eq!(
            serving_status(&[0, 0, 0, 0, 9, 0x08, 2, 0x12, 2, b'h', b'i', 0x08, 1, 0x18]),
            Err("the HealthCheckResponse holds a broken varint".to_string())
        );
        assert_eq!(serving_status(&[0, 0, 0, 0, 10, 0x08, 2, 0x12, 2, b'h', b'i', 0x08, 1, 0x18, 5]), Ok(1));
        for (body, why) in [
            (&[][..], "without a response message"),
            (&[0, 0, 0], "cut short"),
            (&[1, 0, 0, 0, 2, 0x08, 1], "compressed"),
            (&[0, 0, 0, 0, 3, 0x08, 1], "says 3 B and holds 2"),
            (&[0, 0, 0, 0, 2, 0x08, 1, 0], "more than one message"),
            (&[0, 0, 0, 0, 2, 0x0a, 1], "wire type 2"),
            (&[0, 0, 0, 0, 2, 0x12, 5], "cut short"),
            (&[0, 0, 0, 0, 1, 0x0b], "unknown wire type 3"),
        ] {
            match serving_status(body) {
                Ok(status) => panic!("{body:?} gave {status}"),
                Err(error) => assert!(error.contains(why), "{body:?}: {error}"),
            }
        }
    }

    #[test]
    fn names() {
        assert_eq!(serving_name(1), Some("SERVING"));
        assert_eq!(serving_name(3), Some("SERVICE_UNKNOWN"));
        assert_eq!(serving_name(4), None);
        assert_eq!(code_name(12), "UNIMPLEMENTED");
        assert_eq!(code_name(16), "UNAUTHENTICATED");
        assert_eq!(code_name(17), "an unknown code");
    }

    #[test]
    fn messages_are_percent_decoded() {
        assert_eq!(percent_decode("service%20not%20registered"), "service not registered");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%C3%A9t%C3%A9"), "été");
    }

    #[test]
    fn the_header_block_has_the_pseudo_headers_first() {
        let metadata = [("authorization".to_string(), "Bearer t")];
        let block = header_block(true, "grpc.test:443", &metadata);
        let mut fields = Vec::new();
        let decoded = hpack::Decoder::new().decode(&block, |n, v| {
            fields.push(format!("{}: {}", String::from_utf8_lossy(n), String::from_utf8_lossy(v)))
        });
        assert_eq!(decoded, Ok(()));
        assert_eq!(
            fields,
            [
                ":method: POST",
                ":scheme: https",
                ":path: /grpc.health.v1.Health/Check",
                ":authority: grpc.test:443",
                "content-type: application/grpc",
                "te: trailers",
                "user-agent: vitals-grpc/0.1.0",
                "authorization: Bearer t",
            ]
        );
        let own_agent = [("user-agent".to_string(), "probe/1")];
        let block = header_block(false, "a:1", &own_agent);
        assert_eq!(block.windows(10).filter(|w| w == b"user-agent").count(), 1);
    }
}
