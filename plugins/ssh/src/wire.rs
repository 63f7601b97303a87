//! SSH's data types (RFC 4251 §5) and its binary packets before encryption (RFC 4253 §6):
//! reading them from a peer's bytes with every length checked, and writing our own.

/// Largest `packet_length` accepted from the server: RFC 4253 §6.1 asks every
/// implementation to handle packets of 35000 bytes.
pub const MAX_PACKET: u32 = 35_000;

/// The cipher block size before any cipher is in use: the length of a packet (without its
/// MAC) is a multiple of it.
const BLOCK: usize = 8;

/// A cursor over a message's bytes; every read says what was expected when it runs out.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Reads `data` from its start.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, at: 0 }
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.data.len());
        let Some(end) = end else {
            return Err(format!("it ends inside the {what}"));
        };
        let slice = &self.data[self.at..end];
        self.at = end;
        Ok(slice)
    }

    /// A `byte`.
    pub fn byte(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.bytes(1, what)?[0])
    }

    /// A `boolean`: any non-zero byte is true (RFC 4251 §5).
    pub fn boolean(&mut self, what: &str) -> Result<bool, String> {
        Ok(self.byte(what)? != 0)
    }

    /// A `uint32`, big-endian.
    pub fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A `string`: a `uint32` length and that many bytes.
    pub fn string(&mut self, what: &str) -> Result<&'a [u8], String> {
        let len = self.u32(what)?;
        self.bytes(len as usize, what)
    }

    /// A `name-list`: a string of comma-separated US-ASCII names, none of them empty.
    pub fn name_list(&mut self, what: &str) -> Result<Vec<String>, String> {
        let raw = self.string(what)?;
        if raw.is_empty() {
            return Ok(Vec::new());
        }
        if !raw.iter().all(|b| b.is_ascii_graphic()) {
            return Err(format!("the {what} holds bytes other than printable US-ASCII"));
        }
        let text = String::from_utf8_lossy(raw);
        let names: Vec<String> = text.split(',').map(str::to_string).collect();
        if names.iter().any(String::is_empty) {
            return Err(format!("the {what} has an empty name"));
        }
        Ok(names)
    }

    /// An `mpint` that must be positive: its magnitude, big-endian, without leading zeros.
    pub fn positive_mpint(&mut self, what: &str) -> Result<&'a [u8], String> {
        let raw = self.string(what)?;
        if raw.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(format!("the {what} is negative"));
        }
        let start = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
        if start == raw.len() {
            return Err(format!("the {what} is zero"));
        }
        Ok(&raw[start..])
    }

    /// Fails when bytes are left over after the last field.
    pub fn end(&self, what: &str) -> Result<(), String> {
        match self.data.len() - self.at {
            0 => Ok(()),
            n => Err(format!("{n} bytes follow the {what}")),
        }
    }
}

/// Builds a message field by field.
#[derive(Debug, Default)]
pub struct Writer(Vec<u8>);

impl Writer {
    /// A message starting with its message number.
    pub fn message(number: u8) -> Writer {
        Writer(vec![number])
    }

    /// Appends a `byte`.
    pub fn byte(mut self, b: u8) -> Writer {
        self.0.push(b);
        self
    }

    /// Appends raw bytes (a KEXINIT's cookie).
    pub fn raw(mut self, bytes: &[u8]) -> Writer {
        self.0.extend_from_slice(bytes);
        self
    }

    /// Appends a `uint32`.
    pub fn u32(mut self, n: u32) -> Writer {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Appends a `string`. Every string we write is far shorter than 4 GiB.
    pub fn string(mut self, bytes: &[u8]) -> Writer {
        self.0.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Appends a `name-list`.
    pub fn name_list<S: AsRef<str>>(self, names: &[S]) -> Writer {
        let joined: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        self.string(joined.join(",").as_bytes())
    }

    /// Appends an unsigned big-endian number as an `mpint`: no leading zeros, and a zero
    /// byte first when the top bit is set, so that it stays positive.
    pub fn mpint(self, magnitude: &[u8]) -> Writer {
        let start = magnitude.iter().position(|&b| b != 0).unwrap_or(magnitude.len());
        let digits = &magnitude[start..];
        if digits.first().is_some_and(|b| b & 0x80 != 0) {
            let mut padded = Vec::with_capacity(digits.len() + 1);
            padded.push(0);
            padded.extend_from_slice(digits);
            self.string(&padded)
        } else {
            self.string(digits)
        }
    }

    /// The bytes written.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// A payload framed as an unencrypted binary packet, with the least padding (at least 4
/// bytes) that makes the packet a multiple of the block size. The padding is zeros: before
/// NEWKEYS nothing is encrypted, so random padding would hide nothing.
pub fn packet(payload: &[u8]) -> Vec<u8> {
    let unpadded = 4 + 1 + payload.len();
    let mut padding = BLOCK - unpadded % BLOCK;
    if padding < 4 {
        padding += BLOCK;
    }
    let length = 1 + payload.len() + padding;
    let mut out = Vec::with_capacity(4 + length);
    out.extend_from_slice(&(length as u32).to_be_bytes());
    out.push(padding as u8);
    out.extend_from_slice(payload);
    out.resize(4 + length, 0);
    out
}

/// Checks a received `packet_length` before its bytes are read; the error says what is
/// wrong with the packet.
pub fn check_length(length: u32) -> Result<(), String> {
    if length > MAX_PACKET {
        return Err(format!("its length {length} is more than the {MAX_PACKET} allowed"));
    }
    if (length as usize + 4) < 16 {
        return Err(format!("its length {length} is less than the 12 of the smallest packet"));
    }
    if !(length as usize + 4).is_multiple_of(BLOCK) {
        return Err(format!("its length {length} with its length field is not a multiple of 8"));
    }
    Ok(())
}

/// The payload of a packet's body (`padding_length`, payload, padding), checking the
/// padding rules of RFC 4253 §6: at least 4 bytes, and a payload of at least one byte
/// (its message number) left.
pub fn payload(body: &[u8]) -> Result<&[u8], String> {
    let Some((&padding, rest)) = body.split_first() else {
        return Err("it is empty".to_string());
    };
    let padding = padding as usize;
    if padding < 4 {
        return Err(format!("it has {padding} bytes of padding, fewer than the 4 required"));
    }
    if padding >= rest.len() {
        return Err(format!("its {padding} bytes of padding leave no room for a message"));
    }
    Ok(&rest[..rest.len() - padding])
}

/// Standard base64 without padding, as `ssh-keygen -l` prints a SHA256 fingerprint.
pub fn base64_unpadded(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        let digits = chunk.len() + 1;
        for i in 0..digits {
            out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_padded_to_the_block_size() {
        for len in 1..40 {
            let body = vec![7u8; len];
            let framed = packet(&body);
            assert_eq!(framed.len() % 8, 0, "{len}");
            assert!(framed.len() >= 16, "{len}");
            let length = u32::from_be_bytes([framed[0], framed[1], framed[2], framed[3]]);
            assert_eq!(check_length(length), Ok(()), "{len}");
            assert_eq!(payload(&framed[4..]), Ok(&body[..]), "{len}");
        }
    }

    #[test]
    fn bad_lengths_and_padding_are_refused() {
        assert!(check_length(35_004).is_err());
        assert!(check_length(35_000).is_err(), "35004 is not a multiple of 8");
        assert_eq!(check_length(34_996), Ok(()));
        assert!(check_length(4).is_err());
        assert!(check_length(13).is_err());
        assert!(payload(&[]).is_err());
        assert!(payload(&[3, 20, 0, 0, 0]).is_err(), "3 bytes of padding");
        assert!(payload(&[4, 0, 0, 0, 0]).is_err(), "no room for a message");
        assert_eq!(payload(&[4, 20, 0, 0, 0, 0]), Ok(&[20u8][..]));
    }

    #[test]
    fn fields_round_trip() {
        let bytes = Writer::message(20)
            .u32(7)
            .string(b"abc")
            .name_list(&["a", "b-c@x"])
            .mpint(&[0, 0, 0x80, 1])
            .mpint(&[0x7f])
            .byte(1)
            .finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.byte("n"), Ok(20));
        assert_eq!(r.u32("n"), Ok(7));
        assert_eq!(r.string("s"), Ok(&b"abc"[..]));
        assert_eq!(r.name_list("l"), Ok(vec!["a".to_string(), "b-c@x".to_string()]));
        assert_eq!(r.string("m"), Ok(&[0, 0x80, 1][..]), "a zero byte keeps it positive");
        assert_eq!(r.positive_mpint("m"), Ok(&[0x7f][..]));
        assert_eq!(r.boolean("b"), Ok(true));
        assert_eq!(r.end("message"), Ok(()));
        assert!(r.byte("more").unwrap_err().contains("ends inside the more"));
    }

    #[test]
    fn hostile_fields_are_refused() {
        assert!(Reader::new(&[0, 0, 0, 9, 1]).string("key").is_err());
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff]).string("key").is_err());
        assert!(Reader::new(b"\0\0\0\x03a,,").name_list("list").is_err());
        assert!(Reader::new(b"\0\0\0\x03a\x01b").name_list("list").is_err());
        assert_eq!(Reader::new(b"\0\0\0\0").name_list("list"), Ok(vec![]));
        assert!(Reader::new(&[0, 0, 0, 1, 0x80]).positive_mpint("e").is_err());
        assert!(Reader::new(&[0, 0, 0, 1, 0]).positive_mpint("e").is_err());
        assert!(Reader::new(&[1, 2]).end("message").is_err());
    }

    #[test]
    fn base64_as_ssh_keygen_prints_it() {
        assert_eq!(base64_unpadded(b""), "");
        assert_eq!(base64_unpadded(b"f"), "Zg");
        assert_eq!(base64_unpadded(b"fo"), "Zm8");
        assert_eq!(base64_unpadded(b"foo"), "Zm9v");
        assert_eq!(base64_unpadded(b"foobar!"), "Zm9vYmFyIQ");
        assert_eq!(base64_unpadded(&[0xfb, 0xff]), "+/8");
    }
}
