//! MQTT 3.1.1 packets as bytes: the few the check sends (CONNECT, SUBSCRIBE, PUBLISH,
//! DISCONNECT), the ones it reads (CONNACK, SUBACK, PUBLISH), and the variable-length
//! "remaining length" of the fixed header, bounded so that a peer cannot announce more
//! than the check will read.

/// Largest packet the check accepts from a broker (its remaining length).
pub const MAX_PACKET: usize = 1 << 20;

/// CONNACK's packet type.
pub const CONNACK: u8 = 2;
/// PUBLISH's packet type.
pub const PUBLISH: u8 = 3;
/// SUBACK's packet type.
pub const SUBACK: u8 = 9;
/// PINGRESP's packet type.
pub const PINGRESP: u8 = 13;

/// DISCONNECT, whole.
pub const DISCONNECT: [u8; 2] = [0xE0, 0x00];

/// The name of a packet type (the high nibble of the first byte).
pub fn type_name(kind: u8) -> &'static str {
    match kind {
        1 => "CONNECT",
        2 => "CONNACK",
        3 => "PUBLISH",
        4 => "PUBACK",
        5 => "PUBREC",
        6 => "PUBREL",
        7 => "PUBCOMP",
        8 => "SUBSCRIBE",
        9 => "SUBACK",
        10 => "UNSUBSCRIBE",
        11 => "UNSUBACK",
        12 => "PINGREQ",
        13 => "PINGRESP",
        14 => "DISCONNECT",
        _ => "a reserved packet type",
    }
}

/// A packet as read: its type, the flags of the fixed header and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet type (1-15).
    pub kind: u8,
    /// The low nibble of the first byte.
    pub flags: u8,
    /// The variable header and payload.
    pub body: Vec<u8>,
}

/// Appends the remaining length `n` (at most 268,435,455) in MQTT's base-128 encoding.
pub fn encode_length(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            break;
        }
    }
}

/// Reads a remaining length from the start of `bytes`: the value and how many bytes it
/// took, `None` while more bytes are needed, an error when a fifth byte would be needed.
pub fn decode_length(bytes: &[u8]) -> Result<Option<(usize, usize)>, String> {
    let mut value = 0usize;
    let mut multiplier = 1usize;
    for (at, &byte) in bytes.iter().take(4).enumerate() {
        value += usize::from(byte & 0x7F) * multiplier;
        if byte & 0x80 == 0 {
            return Ok(Some((value, at + 1)));
        }
        multiplier *= 128;
    }
    if bytes.len() >= 4 { Err("a remaining length longer than 4 bytes".to_string()) } else { Ok(None) }
}

/// A whole packet: the first byte, the remaining length and `body`.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(first);
    encode_length(body.len(), &mut out);
    out.extend_from_slice(body);
    out
}

/// Appends a string or binary field: a two-byte length, then the bytes (cut at 65,535,
/// which the config checks never let through).
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let bytes = &bytes[..bytes.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// CONNECT with a clean session, protocol level 4 (3.1.1).
pub fn connect(client_id: &str, keepalive_secs: u16, user: Option<&str>, password: Option<&str>) -> Vec<u8> {
    let mut flags = 0x02; // clean session
    if user.is_some() {
        flags |= 0x80;
    }
    if user.is_some() && password.is_some() {
        flags |= 0x40;
    }
    let mut body = Vec::with_capacity(64);
    put_bytes(&mut body, b"MQTT");
    body.push(4);
    body.push(flags);
    body.extend_from_slice(&keepalive_secs.to_be_bytes());
    put_bytes(&mut body, client_id.as_bytes());
    if let Some(user) = user {
        put_bytes(&mut body, user.as_bytes());
        if let Some(password) = password {
            put_bytes(&mut body, password.as_bytes());
        }
    }
    packet(0x10, &body)
}

/// SUBSCRIBE to one topic filter at QoS 0.
pub fn subscribe(packet_id: u16, topic: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(topic.len() + 5);
    body.extend_from_slice(&packet_id.to_be_bytes());
    put_bytes(&mut body, topic.as_bytes());
    body.push(0);
    packet(0x82, &body)
}

/// PUBLISH at QoS 0, not retained.
pub fn publish(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(topic.len() + payload.len() + 2);
    put_bytes(&mut body, topic.as_bytes());
    body.extend_from_slice(payload);
    packet(0x30, &body)
}

/// What a CONNACK says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connack {
    /// The broker kept a session for this client id (never, with a clean session).
    pub session_present: bool,
    /// The return code: 0 accepted, 1-5 refused ([`connack_text`]).
    pub code: u8,
}

/// Reads a CONNACK's body (exactly two bytes).
pub fn parse_connack(body: &[u8]) -> Result<Connack, String> {
    match body {
        [flags, code] => Ok(Connack { session_present: flags & 0x01 != 0, code: *code }),
        _ => Err(format!("a CONNACK of {} bytes (it has 2)", body.len())),
    }
}

/// The meaning of a CONNACK return code, as the specification words it.
pub fn connack_text(code: u8) -> &'static str {
    match code {
        0 => "connection accepted",
        1 => "unacceptable protocol version",
        2 => "identifier rejected",
        3 => "server unavailable",
        4 => "bad user name or password",
        5 => "not authorized",
        _ => "an unknown return code",
    }
}

/// Reads a SUBACK's body: the packet identifier and the return code of each filter.
pub fn parse_suback(body: &[u8]) -> Result<(u16, Vec<u8>), String> {
    match body {
        [high, low, codes @ ..] if !codes.is_empty() => Ok((u16::from_be_bytes([*high, *low]), codes.to_vec())),
        _ => Err(format!("a SUBACK of {} bytes (it has at least 3)", body.len())),
    }
}

/// Reads a PUBLISH: its topic and payload (a packet identifier at QoS 1 or 2 is skipped).
pub fn parse_publish(flags: u8, body: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let qos = (flags >> 1) & 0x03;
    if qos == 3 {
        return Err("a PUBLISH with QoS 3".to_string());
    }
    let [high, low, rest @ ..] = body else {
        return Err("a PUBLISH without a topic".to_string());
    };
    let length = usize::from(u16::from_be_bytes([*high, *low]));
    let skip = if qos > 0 { 2 } else { 0 };
    if rest.len() < length + skip {
        return Err(format!("a PUBLISH whose topic of {length} bytes does not fit in it"));
    }
    Ok((rest[..length].to_vec(), rest[length + skip..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_lengths_round_trip_at_every_width() {
        for n in [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455] {
            let mut out = Vec::new();
            encode_length(n, &mut out);
            assert_eq!(decode_length(&out), Ok(Some((n, out.len()))), "{n}");
        }
        let mut out = Vec::new();
        encode_length(321, &mut out);
        assert_eq!(out, [0xC1, 0x02]);
    }

    #[test]
    fn remaining_lengths_incomplete_or_too_long() {
        assert_eq!(decode_length(&[]), Ok(None));
        assert_eq!(decode_length(&[0x80, 0x80]), Ok(None));
        assert!(decode_length(&[0x80, 0x80, 0x80, 0x80]).is_err());
        assert!(decode_length(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01]).is_err());
    }

    #[test]
    fn connect_packets() {
        let anonymous = connect("vitals-a", 60, None, None);
        assert_eq!(anonymous, b"\x10\x14\x00\x04MQTT\x04\x02\x00\x3c\x00\x08vitals-a");
        let login = connect("c", 0, Some("bob"), Some("pw"));
        assert_eq!(login, b"\x10\x16\x00\x04MQTT\x04\xc2\x00\x00\x00\x01c\x00\x03bob\x00\x02pw");
        let user_only = connect("c", 5, Some("bob"), None);
        assert_eq!(user_only[9], 0x82);
    }

    #[test]
    fn subscribe_publish_disconnect() {
        assert_eq!(subscribe(1, "a/b"), b"\x82\x08\x00\x01\x00\x03a/b\x00");
        assert_eq!(publish("a/b", b"hi"), b"\x30\x07\x00\x03a/bhi");
        assert_eq!(DISCONNECT, [0xE0, 0]);
    }

    #[test]
    fn acks_and_publishes_are_read() {
        assert_eq!(parse_connack(&[0, 0]), Ok(Connack { session_present: false, code: 0 }));
        assert_eq!(parse_connack(&[1, 5]), Ok(Connack { session_present: true, code: 5 }));
        assert!(parse_connack(&[0]).is_err());
        assert_eq!(parse_suback(&[0, 1, 0]), Ok((1, vec![0])));
        assert!(parse_suback(&[0, 1]).is_err());
        assert_eq!(parse_publish(0, b"\x00\x03a/bhi"), Ok((b"a/b".to_vec(), b"hi".to_vec())));
        assert_eq!(parse_publish(0x02, b"\x00\x03a/b\x00\x07hi"), Ok((b"a/b".to_vec(), b"hi".to_vec())));
        assert!(parse_publish(0x06, b"\x00\x01a").is_err());
        assert!(parse_publish(0, b"\x00\x09a/b").is_err());
        assert!(parse_publish(0, b"\x00").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(type_name(CONNACK), "CONNACK");
        assert_eq!(type_name(0), "a reserved packet type");
        assert_eq!(connack_text(4), "bad user name or password");
        assert_eq!(connack_text(9), "an unknown return code");
    }
}
