//! HTTP/2 framing (RFC 9113), as much as one unary call from a client needs: the
//! connection preface, the frames the client writes, and the parsing of a frame's header
//! and of the payloads it reads.

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The largest frame payload the client accepts (SETTINGS_MAX_FRAME_SIZE, left at its
/// default) and the largest it sends: every server accepts this much.
pub const MAX_FRAME: usize = 16_384;

/// The client's stream window (SETTINGS_INITIAL_WINDOW_SIZE, the default 65,535 written
/// out): a health response is a few bytes, so the client never sends WINDOW_UPDATE.
pub const WINDOW: u32 = 65_535;

/// Frame types.
pub mod kind {
    /// DATA
    pub const DATA: u8 = 0x0;
    /// HEADERS
    pub const HEADERS: u8 = 0x1;
    /// RST_STREAM
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING
    pub const PING: u8 = 0x6;
    /// GOAWAY
    pub const GOAWAY: u8 = 0x7;
    /// CONTINUATION
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flag {
    /// END_STREAM (DATA, HEADERS).
    pub const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING).
    pub const ACK: u8 = 0x1;
    /// END_HEADERS (HEADERS, CONTINUATION).
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED (DATA, HEADERS).
    pub const PADDED: u8 = 0x8;
    /// PRIORITY (HEADERS).
    pub const PRIORITY: u8 = 0x20;
}

/// SETTINGS_ENABLE_PUSH
const ENABLE_PUSH: u16 = 0x2;
/// SETTINGS_INITIAL_WINDOW_SIZE
const INITIAL_WINDOW_SIZE: u16 = 0x4;

/// The stream of the one call.
pub const STREAM: u32 = 1;

/// A frame's 9-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The payload's length.
    pub len: usize,
    /// The frame type.
    pub kind: u8,
    /// The flags.
    pub flags: u8,
    /// The stream identifier (the reserved bit cleared).
    pub stream: u32,
}

impl Head {
    /// Reads a frame header.
    pub fn parse(bytes: [u8; 9]) -> Head {
        let len = usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
        let stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7fff_ffff;
        Head { len, kind: bytes[3], flags: bytes[4], stream }
    }

    /// Whether `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A whole frame: its header and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The header.
    pub head: Head,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Appends one frame to `out`; `payload` is at most [`MAX_FRAME`] bytes.
pub fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX).to_be_bytes();
    out.extend_from_slice(&len[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// Everything the client sends before it reads: the preface, its SETTINGS (no push, the
/// stream window), the request's header block as HEADERS and CONTINUATION frames, and
/// `body` as one DATA frame that ends the stream.
pub fn request(header_block: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    let mut settings = Vec::new();
    for (id, value) in [(ENABLE_PUSH, 0), (INITIAL_WINDOW_SIZE, WINDOW)] {
        settings.extend_from_slice(&id.to_be_bytes());
        settings.extend_from_slice(&value.to_be_bytes());
    }
    frame(&mut out, kind::SETTINGS, 0, 0, &settings);
    // The header block and the body are never empty (pseudo-headers; a 5-byte prefix).
    let pieces: Vec<&[u8]> = header_block.chunks(MAX_FRAME).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let kind = if i == 0 { kind::HEADERS } else { kind::CONTINUATION };
        let flags = if i + 1 == pieces.len() { flag::END_HEADERS } else { 0 };
        frame(&mut out, kind, flags, STREAM, piece);
    }
    let pieces: Vec<&[u8]> = body.chunks(MAX_FRAME).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let flags = if i + 1 == pieces.len() { flag::END_STREAM } else { 0 };
        frame(&mut out, kind::DATA, flags, STREAM, piece);
    }
    out
}

/// The acknowledgement of the server's SETTINGS.
pub fn settings_ack() -> Vec<u8> {
    let mut out = Vec::new();
    frame(&mut out, kind::SETTINGS, flag::ACK, 0, &[]);
    out
}

/// The answer to a PING: the same 8 bytes, with ACK.
pub fn ping_ack(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame(&mut out, kind::PING, flag::ACK, 0, payload);
    out
}

/// The payload of a DATA or HEADERS frame without its padding (and, for HEADERS, without
/// its priority fields).
pub fn unpadded(frame: &Frame) -> Result<&[u8], String> {
    let mut body = frame.payload.as_slice();
    let mut pad = 0;
    if frame.head.has(flag::PADDED) {
        let (&len, rest) = body.split_first().ok_or("a PADDED frame without a pad length")?;
        pad = usize::from(len);
        body = rest;
    }
    if frame.head.kind == kind::HEADERS && frame.head.has(flag::PRIORITY) {
        body = body.get(5..).ok_or("a HEADERS frame too short for its PRIORITY fields")?;
    }
    if pad > body.len() {
        return Err(format!("a frame whose padding ({pad} B) is longer than its payload"));
    }
    Ok(&body[..body.len() - pad])
}

/// A GOAWAY's last stream, error code and debug data.
pub fn goaway(payload: &[u8]) -> Option<(u32, u32, &[u8])> {
    let last = u32::from_be_bytes(payload.get(0..4)?.try_into().ok()?) & 0x7fff_ffff;
    let code = u32::from_be_bytes(payload.get(4..8)?.try_into().ok()?);
    Some((last, code, &payload[8..]))
}

/// A RST_STREAM's error code.
pub fn rst_stream(payload: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(payload.try_into().ok()?))
}

/// The name of an HTTP/2 error code (RFC 9113 §7), or its number in hex.
pub fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    match NAMES.get(code as usize) {
        Some(name) => name.to_string(),
        None => format!("error code {code:#x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_preface_settings_headers_data() {
        let bytes = request(b"\x00\x01a\x01b", b"\x00\x00\x00\x00\x00");
        assert!(bytes.starts_with(PREFACE));
        let rest = &bytes[PREFACE.len()..];
        // SETTINGS: 12 bytes, ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 65535.
        assert_eq!(&rest[..9], &[0, 0, 12, 4, 0, 0, 0, 0, 0]);
        assert_eq!(&rest[9..21], &[0, 2, 0, 0, 0, 0, 0, 4, 0, 0, 0xff, 0xff]);
        // HEADERS on stream 1 with END_HEADERS, then DATA with END_STREAM.
        assert_eq!(&rest[21..30], &[0, 0, 5, 1, 4, 0, 0, 0, 1]);
        assert_eq!(&rest[35..44], &[0, 0, 5, 0, 1, 0, 0, 0, 1]);
        assert_eq!(rest.len(), 49);
    }

    #[test]
    fn a_big_header_block_goes_on_in_continuation_frames() {
        let block = vec![0u8; MAX_FRAME + 10];
        let bytes = request(&block, b"x");
        let rest = &bytes[PREFACE.len() + 21..];
        assert_eq!(Head::parse(rest[..9].try_into().unwrap_or_default()).kind, kind::HEADERS);
        assert_eq!(rest[4], 0, "no END_HEADERS on the first piece");
        let second = &rest[9 + MAX_FRAME..];
        let head = Head::parse(second[..9].try_into().unwrap_or_default());
        assert_eq!((head.len, head.kind, head.flags), (10, kind::CONTINUATION, flag::END_HEADERS));
    }

    #[test]
    fn heads_parse() {
        let head = Head::parse([0x01, 0x00, 0x00, 0x01, 0x25, 0x80, 0, 0, 1]);
        assert_eq!(head, Head { len: 65_536, kind: 1, flags: 0x25, stream: 1 });
        assert!(head.has(flag::END_STREAM) && head.has(flag::END_HEADERS) && !head.has(flag::PADDED));
    }

    #[test]
    fn padding_and_priority_are_stripped() {
        let padded = Frame {
            head: Head { len: 0, kind: kind::HEADERS, flags: flag::PADDED | flag::PRIORITY, stream: 1 },
            payload: [&[2u8][..], &[0, 0, 0, 3, 16], b"hb", &[0, 0]].concat(),
        };
        assert_eq!(unpadded(&padded), Ok(&b"hb"[..]));
        let bad =
            Frame { head: Head { len: 0, kind: kind::DATA, flags: flag::PADDED, stream: 1 }, payload: vec![9, 1] };
        assert!(unpadded(&bad).is_err());
    }

    #[test]
    fn errors_are_named() {
        assert_eq!(error_name(0), "NO_ERROR");
        assert_eq!(error_name(11), "ENHANCE_YOUR_CALM");
        assert_eq!(error_name(0x42), "error code 0x42");
        assert_eq!(goaway(&[0, 0, 0, 1, 0, 0, 0, 2, b'x']), Some((1, 2, &b"x"[..])));
        assert_eq!(rst_stream(&[0, 0, 0, 8]), Some(8));
        assert_eq!(rst_stream(&[0, 0, 8]), None);
    }
}
