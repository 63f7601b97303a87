//! AMQP 0-9-1 as bytes: frames, the methods the check sends and reads, and the field
//! tables it needs (client properties out, server properties in). Decoding is bounded:
//! every length is checked against what is left of the frame it comes in.

/// What a client sends first: "AMQP", protocol id 0, version 0-9-1.
pub const PROTOCOL_HEADER: [u8; 8] = *b"AMQP\x00\x00\x09\x01";
/// A method frame.
pub const FRAME_METHOD: u8 = 1;
/// A content header frame.
pub const FRAME_HEADER: u8 = 2;
/// A content body frame.
pub const FRAME_BODY: u8 = 3;
/// A heartbeat frame.
pub const FRAME_HEARTBEAT: u8 = 8;
/// The byte that ends every frame.
pub const FRAME_END: u8 = 0xCE;
/// The smallest frame_max a peer may set.
pub const FRAME_MIN: u32 = 4096;
/// Bytes of a frame around its payload: type, channel, size, frame end.
pub const FRAME_OVERHEAD: usize = 8;

/// A method's class and method ids.
pub type MethodId = (u16, u16);

/// Connection.Start
pub const CONNECTION_START: MethodId = (10, 10);
/// Connection.StartOk
pub const CONNECTION_START_OK: MethodId = (10, 11);
/// Connection.Tune
pub const CONNECTION_TUNE: MethodId = (10, 30);
/// Connection.TuneOk
pub const CONNECTION_TUNE_OK: MethodId = (10, 31);
/// Connection.Open
pub const CONNECTION_OPEN: MethodId = (10, 40);
/// Connection.OpenOk
pub const CONNECTION_OPEN_OK: MethodId = (10, 41);
/// Connection.Close
pub const CONNECTION_CLOSE: MethodId = (10, 50);
/// Connection.CloseOk
pub const CONNECTION_CLOSE_OK: MethodId = (10, 51);
/// Connection.Blocked (a RabbitMQ extension)
pub const CONNECTION_BLOCKED: MethodId = (10, 60);
/// Connection.Unblocked (a RabbitMQ extension)
pub const CONNECTION_UNBLOCKED: MethodId = (10, 61);
/// Channel.Open
pub const CHANNEL_OPEN: MethodId = (20, 10);
/// Channel.OpenOk
pub const CHANNEL_OPEN_OK: MethodId = (20, 11);
/// Channel.Close
pub const CHANNEL_CLOSE: MethodId = (20, 40);
/// Channel.CloseOk
pub const CHANNEL_CLOSE_OK: MethodId = (20, 41);
/// Queue.Declare
pub const QUEUE_DECLARE: MethodId = (50, 10);
/// Queue.DeclareOk
pub const QUEUE_DECLARE_OK: MethodId = (50, 11);
/// Basic.Consume
pub const BASIC_CONSUME: MethodId = (60, 20);
/// Basic.ConsumeOk
pub const BASIC_CONSUME_OK: MethodId = (60, 21);
/// Basic.Publish
pub const BASIC_PUBLISH: MethodId = (60, 40);
/// Basic.Return
pub const BASIC_RETURN: MethodId = (60, 50);
/// Basic.Deliver
pub const BASIC_DELIVER: MethodId = (60, 60);

/// The name of a method, as the specification writes it.
pub fn method_name(id: MethodId) -> String {
    let name = match id {
        (10, 10) => "Connection.Start",
        (10, 11) => "Connection.StartOk",
        (10, 20) => "Connection.Secure",
        (10, 21) => "Connection.SecureOk",
        (10, 30) => "Connection.Tune",
        (10, 31) => "Connection.TuneOk",
        (10, 40) => "Connection.Open",
        (10, 41) => "Connection.OpenOk",
        (10, 50) => "Connection.Close",
        (10, 51) => "Connection.CloseOk",
        (10, 60) => "Connection.Blocked",
        (10, 61) => "Connection.Unblocked",
        (20, 10) => "Channel.Open",
        (20, 11) => "Channel.OpenOk",
        (20, 20) => "Channel.Flow",
        (20, 40) => "Channel.Close",
        (20, 41) => "Channel.CloseOk",
        (50, 10) => "Queue.Declare",
        (50, 11) => "Queue.DeclareOk",
        (60, 20) => "Basic.Consume",
        (60, 21) => "Basic.ConsumeOk",
        (60, 30) => "Basic.Cancel",
        (60, 40) => "Basic.Publish",
        (60, 50) => "Basic.Return",
        (60, 60) => "Basic.Deliver",
        (class, method) => return format!("method {class}.{method}"),
    };
    name.to_string()
}

/// A frame as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame type ([`FRAME_METHOD`], [`FRAME_HEADER`], ...).
    pub kind: u8,
    /// The channel (0 for the connection).
    pub channel: u16,
    /// The payload, without the frame end.
    pub payload: Vec<u8>,
}

/// A whole frame around `payload`.
pub fn frame(kind: u8, channel: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + FRAME_OVERHEAD);
    out.push(kind);
    out.extend_from_slice(&channel.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out.push(FRAME_END);
    out
}

/// A method frame: the ids, then `args` (built with [`Args`]).
pub fn method(channel: u16, id: MethodId, args: Args) -> Vec<u8> {
    let mut payload = Vec::with_capacity(args.0.len() + 4);
    payload.extend_from_slice(&id.0.to_be_bytes());
    payload.extend_from_slice(&id.1.to_be_bytes());
    payload.extend_from_slice(&args.0);
    frame(FRAME_METHOD, channel, &payload)
}

/// The arguments of a method (or a field table), being written.
#[derive(Debug, Default)]
pub struct Args(pub Vec<u8>);

impl Args {
    /// Nothing yet.
    pub fn new() -> Args {
        Args(Vec::new())
    }

    /// An octet (also a set of packed bits).
    pub fn octet(mut self, value: u8) -> Args {
        self.0.push(value);
        self
    }

    /// A short (16-bit) integer.
    pub fn short(mut self, value: u16) -> Args {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A long (32-bit) integer.
    pub fn long(mut self, value: u32) -> Args {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A long long (64-bit) integer.
    pub fn longlong(mut self, value: u64) -> Args {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A short string (cut at 255 bytes, which the callers never pass).
    pub fn shortstr(mut self, text: &[u8]) -> Args {
        let text = &text[..text.len().min(255)];
        self.0.push(text.len() as u8);
        self.0.extend_from_slice(text);
        self
    }

    /// A long string.
    pub fn longstr(mut self, bytes: &[u8]) -> Args {
        self.0.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// A field table of the given entries.
    pub fn table(self, entries: &[(&str, Field)]) -> Args {
        let mut body = Args::new();
        for (name, value) in entries {
            body = body.shortstr(name.as_bytes());
            body = match value {
                Field::Bool(on) => body.octet(b't').octet(u8::from(*on)),
                Field::Text(text) => body.octet(b'S').longstr(text.as_bytes()),
                Field::Table(inner) => {
                    let inner = Args::new().table(inner);
                    let mut body = body.octet(b'F');
                    body.0.extend_from_slice(&inner.0);
                    body
                }
            };
        }
        self.long(body.0.len() as u32).raw(&body.0)
    }

    fn raw(mut self, bytes: &[u8]) -> Args {
        self.0.extend_from_slice(bytes);
        self
    }
}

/// A value in a field table the check writes.
#[derive(Debug, Clone)]
pub enum Field<'a> {
    /// `t`: a boolean.
    Bool(bool),
    /// `S`: a long string.
    Text(&'a str),
    /// `F`: a nested table.
    Table(Vec<(&'a str, Field<'a>)>),
}

/// Reads the fields of a frame's payload, every length checked against what is left.
#[derive(Debug)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// From the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, at: 0 }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!("{what} of {n} bytes runs past the end of the frame"));
        };
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    /// An octet.
    pub fn octet(&mut self) -> Result<u8, String> {
        Ok(self.take(1, "an octet")?[0])
    }

    /// A short integer.
    pub fn short(&mut self) -> Result<u16, String> {
        let b = self.take(2, "a short")?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A long integer.
    pub fn long(&mut self) -> Result<u32, String> {
        let b = self.take(4, "a long")?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A long long integer.
    pub fn longlong(&mut self) -> Result<u64, String> {
        let b = self.take(8, "a long long")?;
        let mut eight = [0u8; 8];
        eight.copy_from_slice(b);
        Ok(u64::from_be_bytes(eight))
    }

    /// A short string's bytes.
    pub fn shortstr(&mut self) -> Result<&'a [u8], String> {
        let n = usize::from(self.octet()?);
        self.take(n, "a short string")
    }

    /// A long string's bytes (also a field table's or an array's).
    pub fn longstr(&mut self) -> Result<&'a [u8], String> {
        let n = self.long()? as usize;
        self.take(n, "a long string")
    }

    /// Skips one field value of type `tag`; false for a type the check does not know.
    fn skip_value(&mut self, tag: u8) -> Result<bool, String> {
        let size = match tag {
            b'V' => 0,
            b't' | b'b' | b'B' => 1,
            b's' | b'u' | b'U' => 2,
            b'I' | b'i' | b'f' => 4,
            b'D' => 5,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'S' | b'x' | b'A' | b'F' => {
                self.longstr()?;
                return Ok(true);
            }
            _ => return Ok(false),
        };
        self.take(size, "a field value")?;
        Ok(true)
    }
}

/// The text entries of a field table (server properties: product, version, ...), read as
/// far as the check knows the value types; the rest of the table is left out.
pub fn table_strings(table: &[u8]) -> Vec<(String, String)> {
    let mut cursor = Cursor::new(table);
    let mut found = Vec::new();
    while cursor.at < table.len() {
        let Ok(name) = cursor.shortstr() else { break };
        let Ok(tag) = cursor.octet() else { break };
        if tag == b'S' {
            let Ok(value) = cursor.longstr() else { break };
            found.push((String::from_utf8_lossy(name).into_owned(), String::from_utf8_lossy(value).into_owned()));
        } else if !matches!(cursor.skip_value(tag), Ok(true)) {
            break;
        }
    }
    found
}

/// A method frame's payload split into its ids and arguments.
pub fn parse_method(payload: &[u8]) -> Result<(MethodId, &[u8]), String> {
    match payload {
        [c1, c2, m1, m2, args @ ..] => Ok(((u16::from_be_bytes([*c1, *c2]), u16::from_be_bytes([*m1, *m2])), args)),
        _ => Err(format!("a method frame of {} bytes (at least 4)", payload.len())),
    }
}

/// Connection.Start, as far as the check reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The protocol version the server speaks (0, 9).
    pub version: (u8, u8),
    /// The text entries of the server properties.
    pub properties: Vec<(String, String)>,
    /// The SASL mechanisms offered, space-separated.
    pub mechanisms: String,
    /// The message locales offered, space-separated.
    pub locales: String,
}

impl Start {
    /// A server property's text, when it was given.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Whether PLAIN is among the mechanisms.
    pub fn offers_plain(&self) -> bool {
        self.mechanisms.split_whitespace().any(|m| m == "PLAIN")
    }
}

/// Reads Connection.Start's arguments.
pub fn parse_start(args: &[u8]) -> Result<Start, String> {
    let mut cursor = Cursor::new(args);
    let version = (cursor.octet()?, cursor.octet()?);
    let properties = table_strings(cursor.longstr()?);
    let mechanisms = String::from_utf8_lossy(cursor.longstr()?).into_owned();
    let locales = String::from_utf8_lossy(cursor.longstr()?).into_owned();
    Ok(Start { version, properties, mechanisms, locales })
}

/// Connection.Tune's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tune {
    /// Highest channel number (0: no limit).
    pub channel_max: u16,
    /// Largest frame in bytes (0: no limit).
    pub frame_max: u32,
    /// Heartbeat interval in seconds (0: none).
    pub heartbeat: u16,
}

/// Reads Connection.Tune's arguments.
pub fn parse_tune(args: &[u8]) -> Result<Tune, String> {
    let mut cursor = Cursor::new(args);
    Ok(Tune { channel_max: cursor.short()?, frame_max: cursor.long()?, heartbeat: cursor.short()? })
}

/// Connection.Close or Channel.Close: why the server ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The reply code (403 ACCESS_REFUSED, 530 NOT_ALLOWED, ...).
    pub code: u16,
    /// The reply text, raw (RabbitMQ starts it with the code's name).
    pub text: String,
}

/// Reads a Close's arguments (the failing method's ids that follow are not needed).
pub fn parse_close(args: &[u8]) -> Result<Close, String> {
    let mut cursor = Cursor::new(args);
    let code = cursor.short()?;
    let text = String::from_utf8_lossy(cursor.shortstr()?).into_owned();
    Ok(Close { code, text })
}

/// Reads Queue.DeclareOk's queue name.
pub fn parse_declare_ok(args: &[u8]) -> Result<Vec<u8>, String> {
    Ok(Cursor::new(args).shortstr()?.to_vec())
}

/// Reads Connection.Blocked's reason.
pub fn parse_blocked(args: &[u8]) -> String {
    Cursor::new(args).shortstr().map(|r| String::from_utf8_lossy(r).into_owned()).unwrap_or_default()
}

/// Reads a content header's body size (class, weight, size; the properties are not needed).
pub fn parse_content_header(payload: &[u8]) -> Result<u64, String> {
    let mut cursor = Cursor::new(payload);
    let _class = cursor.short()?;
    let _weight = cursor.short()?;
    cursor.longlong()
}

/// Connection.StartOk: PLAIN with `user` and `password`, and client properties that ask
/// RabbitMQ to say why a login was refused and when publishing is blocked.
pub fn start_ok(user: &str, password: &str) -> Vec<u8> {
    let mut response = Vec::with_capacity(user.len() + password.len() + 2);
    response.push(0);
    response.extend_from_slice(user.as_bytes());
    response.push(0);
    response.extend_from_slice(password.as_bytes());
    let properties = [
        ("product", Field::Text("Vitals")),
        ("version", Field::Text(env!("CARGO_PKG_VERSION"))),
        ("information", Field::Text("health check")),
        (
            "capabilities",
            Field::Table(vec![
                ("authentication_failure_close", Field::Bool(true)),
                ("connection.blocked", Field::Bool(true)),
            ]),
        ),
    ];
    let args = Args::new().table(&properties).shortstr(b"PLAIN").longstr(&response).shortstr(b"en_US");
    method(0, CONNECTION_START_OK, args)
}

/// Connection.TuneOk with the limits chosen, no heartbeats.
pub fn tune_ok(channel_max: u16, frame_max: u32) -> Vec<u8> {
    method(0, CONNECTION_TUNE_OK, Args::new().short(channel_max).long(frame_max).short(0))
}

/// Connection.Open of `vhost`.
pub fn open(vhost: &str) -> Vec<u8> {
    method(0, CONNECTION_OPEN, Args::new().shortstr(vhost.as_bytes()).shortstr(b"").octet(0))
}

/// Connection.Close (200, normal) or Channel.Close on `channel`.
pub fn close(channel: u16) -> Vec<u8> {
    let id = if channel == 0 { CONNECTION_CLOSE } else { CHANNEL_CLOSE };
    method(channel, id, Args::new().short(200).shortstr(b"").short(0).short(0))
}

/// Connection.CloseOk or Channel.CloseOk on `channel`, the answer to the server's Close.
pub fn close_ok(channel: u16) -> Vec<u8> {
    let id = if channel == 0 { CONNECTION_CLOSE_OK } else { CHANNEL_CLOSE_OK };
    method(channel, id, Args::new())
}

/// Channel.Open.
pub fn channel_open(channel: u16) -> Vec<u8> {
    method(channel, CHANNEL_OPEN, Args::new().shortstr(b""))
}

/// Queue.Declare of a server-named, exclusive, auto-delete queue.
pub fn queue_declare(channel: u16) -> Vec<u8> {
    // Bits: passive 1, durable 2, exclusive 4, auto-delete 8, no-wait 16.
    method(channel, QUEUE_DECLARE, Args::new().short(0).shortstr(b"").octet(0x04 | 0x08).table(&[]))
}

/// Basic.Consume from `queue` without acknowledgements.
pub fn basic_consume(channel: u16, queue: &[u8]) -> Vec<u8> {
    // Bits: no-local 1, no-ack 2, exclusive 4, no-wait 8.
    method(channel, BASIC_CONSUME, Args::new().short(0).shortstr(queue).shortstr(b"").octet(0x02).table(&[]))
}

/// Basic.Publish of `body` to the default exchange with routing key `queue`, mandatory (an
/// unroutable message comes back as Basic.Return), with its content header and one body
/// frame (the body is far smaller than any frame_max).
pub fn basic_publish(channel: u16, queue: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = method(channel, BASIC_PUBLISH, Args::new().short(0).shortstr(b"").shortstr(queue).octet(0x01));
    let header = Args::new().short(BASIC_PUBLISH.0).short(0).longlong(body.len() as u64).short(0);
    out.extend_from_slice(&frame(FRAME_HEADER, channel, &header.0));
    out.extend_from_slice(&frame(FRAME_BODY, channel, body));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connection.Start as RabbitMQ 3.12 sends it, cut down.
    fn start_args() -> Vec<u8> {
        let properties = Args::new()
            .shortstr(b"capabilities")
            .octet(b'F')
            .raw(&Args::new().table(&[("publisher_confirms", Field::Bool(true))]).0)
            .shortstr(b"cluster_name")
            .octet(b'S')
            .longstr(b"rabbit@host")
            .shortstr(b"channel_max_hint")
            .octet(b'I')
            .long(2047)
            .shortstr(b"product")
            .octet(b'S')
            .longstr(b"RabbitMQ")
            .shortstr(b"version")
            .octet(b'S')
            .longstr(b"3.12.1");
        Args::new().octet(0).octet(9).longstr(&properties.0).longstr(b"AMQPLAIN PLAIN").longstr(b"en_US").0
    }

    #[test]
    fn connection_start_is_read() {
        let start = match parse_start(&start_args()) {
            Ok(start) => start,
            Err(why) => panic!("{why}"),
        };
        assert_eq!(start.version, (0, 9));
        assert_eq!(start.property("product"), Some("RabbitMQ"));
        assert_eq!(start.property("version"), Some("3.12.1"));
        assert_eq!(start.property("cluster_name"), Some("rabbit@host"));
        assert!(start.offers_plain());
        assert_eq!(start.locales, "en_US");
    }

    #[test]
    fn an_unknown_field_type_ends_the_scan_not_the_start() {
        let table = Args::new()
            .shortstr(b"product")
            .octet(b'S')
            .longstr(b"X")
            .shortstr(b"odd")
            .octet(b'?')
            .octet(1)
            .shortstr(b"version")
            .octet(b'S')
            .longstr(b"1");
        assert_eq!(table_strings(&table.0), [("product".to_string(), "X".to_string())]);
        // A length that runs past the table is not followed.
        let bad = Args::new().shortstr(b"product").octet(b'S').long(1_000_000).raw(b"X");
        assert_eq!(table_strings(&bad.0), []);
    }

    #[test]
    fn truncated_arguments_are_errors() {
        let args = start_args();
        for cut in [0, 1, 2, 5, args.len() - 1] {
            assert!(parse_start(&args[..cut]).is_err(), "cut at {cut}");
        }
        assert!(parse_tune(&[0, 1, 0]).is_err());
        assert!(parse_method(&[0, 10, 0]).is_err());
        assert!(Cursor::new(&[0xFF, 0xFF, 0xFF, 0xFF]).longstr().is_err());
    }

    #[test]
    fn frames_and_methods_are_laid_out() {
        assert_eq!(frame(FRAME_HEARTBEAT, 0, &[]), [8, 0, 0, 0, 0, 0, 0, 0xCE]);
        assert_eq!(tune_ok(2047, 131_072), [1, 0, 0, 0, 0, 0, 12, 0, 10, 0, 31, 0x07, 0xFF, 0, 2, 0, 0, 0, 0, 0xCE]);
        assert_eq!(open("/"), [1, 0, 0, 0, 0, 0, 8, 0, 10, 0, 40, 1, b'/', 0, 0, 0xCE]);
        assert_eq!(close(0)[7..11], [0, 10, 0, 50]);
        assert_eq!(close(1)[1..3], [0, 1]);
        assert_eq!(close_ok(1)[7..11], [0, 20, 0, 41]);
    }

    #[test]
    fn start_ok_carries_plain_credentials() {
        let frame = start_ok("guest", "pw");
        assert!(frame.windows(10).any(|w| w == b"\0\0\0\x09\0guest"), "{frame:?}");
        assert!(frame.windows(9).any(|w| w == b"\0guest\0pw"));
        assert!(frame.windows(6).any(|w| w == b"\x05PLAIN"));
        assert_eq!(frame.last(), Some(&FRAME_END));
        let (id, _) = match parse_method(&frame[7..frame.len() - 1]) {
            Ok(parsed) => parsed,
            Err(why) => panic!("{why}"),
        };
        assert_eq!(id, CONNECTION_START_OK);
    }

    #[test]
    fn a_publish_is_three_frames() {
        let out = basic_publish(1, b"amq.gen-x", b"hi");
        let method_len = 7 + (4 + 2 + 1 + 10 + 1) + 1;
        assert_eq!(out[method_len], FRAME_HEADER);
        assert_eq!(out[method_len + 7 + 14], FRAME_END);
        assert_eq!(&out[out.len() - 10..], [FRAME_BODY, 0, 1, 0, 0, 0, 2, b'h', b'i', FRAME_END]);
        assert_eq!(parse_content_header(&[0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]), Ok(2));
    }

    #[test]
    fn closes_and_names() {
        let args = Args::new().short(403).shortstr(b"ACCESS_REFUSED - Login was refused").short(0).short(0);
        assert_eq!(parse_close(&args.0), Ok(Close { code: 403, text: "ACCESS_REFUSED - Login was refused".into() }));
        assert_eq!(method_name(CONNECTION_OPEN_OK), "Connection.OpenOk");
        assert_eq!(method_name((99, 1)), "method 99.1");
        assert_eq!(parse_blocked(&Args::new().shortstr(b"low on memory").0), "low on memory");
        assert_eq!(parse_declare_ok(&Args::new().shortstr(b"amq.gen-1").long(0).long(0).0), Ok(b"amq.gen-1".to_vec()));
    }
}
