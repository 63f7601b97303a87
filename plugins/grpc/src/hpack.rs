//! HPACK (RFC 7541), the header compression of HTTP/2: an encoder that writes every field
//! as a literal without indexing (no Huffman, no dynamic table: nothing for the server to
//! remember), and a decoder for what servers send, with the static table, the dynamic
//! table and its size updates, and Huffman-coded strings.
//!
//! Written here rather than taken from a crate: `hpack` is unmaintained since 2016, and
//! `loona-hpack` (its fork) pulls in `tracing` and builds a 257-entry hash map for every
//! Huffman-coded string, so a hostile server's header block could keep a check busy. This
//! decoder is bounded: by the dynamic table size it announces ([`TABLE_SIZE`]) and by
//! [`MAX_HEADER_LIST`] bytes of decoded fields per block.

use std::collections::VecDeque;

/// The dynamic table size the client allows (SETTINGS_HEADER_TABLE_SIZE, the default).
pub const TABLE_SIZE: usize = 4096;

/// Most bytes of names and values one decoded header block may hold: a header block of
/// a few bytes can name the same 4 KiB table entry thousands of times.
pub const MAX_HEADER_LIST: usize = 64 * 1024;

/// Appends the field `name: value` to `out` as a literal without indexing, new name
/// (`0000 0000`, then both strings uncompressed).
pub fn encode_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(0x00);
    encode_string(out, name);
    encode_string(out, value);
}

/// A string literal without Huffman coding: its length (7-bit prefix) and its bytes.
fn encode_string(out: &mut Vec<u8>, bytes: &[u8]) {
    encode_integer(out, bytes.len(), 7, 0x00);
    out.extend_from_slice(bytes);
}

/// An integer with an `prefix`-bit prefix (RFC 7541 §5.1), the first byte's other bits
/// set to `flags`.
fn encode_integer(out: &mut Vec<u8>, value: usize, prefix: u8, flags: u8) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// Why a header block does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HpackError {
    /// The block ends in the middle of a field.
    Truncated,
    /// An integer longer than any this decoder accepts.
    IntegerTooLarge,
    /// An index that is neither in the static nor in the dynamic table.
    BadIndex(usize),
    /// A Huffman-coded string that is not valid (EOS inside, or bad padding).
    BadHuffman,
    /// A dynamic table size update above the size allowed, or after the first field.
    BadSizeUpdate(usize),
    /// The decoded fields exceed [`MAX_HEADER_LIST`].
    TooLarge,
}

impl std::fmt::Display for HpackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HpackError::Truncated => write!(f, "the header block ends in the middle of a field"),
            HpackError::IntegerTooLarge => write!(f, "an integer is too large"),
            HpackError::BadIndex(i) => write!(f, "index {i} is in neither the static nor the dynamic table"),
            HpackError::BadHuffman => write!(f, "a Huffman-coded string is invalid"),
            HpackError::BadSizeUpdate(n) => {
                write!(f, "a dynamic table size update to {n} where at most {TABLE_SIZE} is allowed at the start")
            }
            HpackError::TooLarge => write!(f, "the headers decode to more than {} KiB", MAX_HEADER_LIST / 1024),
        }
    }
}

/// The decoding side of one HTTP/2 connection: its dynamic table lives as long as the
/// connection, so every header block the server sends must go through the same decoder,
/// in order.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Newest entry first.
    table: VecDeque<(Vec<u8>, Vec<u8>)>,
    /// The table's size as HPACK counts it (each entry: name + value + 32).
    size: usize,
    /// The size the server last set, at most [`TABLE_SIZE`]; `None` until it sets one.
    max_size: Option<usize>,
}

impl Decoder {
    /// A decoder with an empty dynamic table of [`TABLE_SIZE`] bytes.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Decodes one whole header block (HEADERS and its CONTINUATIONs put together),
    /// handing each field to `field` in order.
    pub fn decode(&mut self, block: &[u8], mut field: impl FnMut(&[u8], &[u8])) -> Result<(), HpackError> {
        let mut at = 0;
        let mut decoded = 0usize;
        let mut fields = 0usize;
        while at < block.len() {
            let first = block[at];
            if first & 0x80 != 0 {
                // Indexed field.
                let (index, used) = decode_integer(&block[at..], 7)?;
                at += used;
                let (name, value) = self.entry(index)?;
                decoded += name.len() + value.len();
                check_size(decoded)?;
                field(name, value);
            } else if first & 0xe0 == 0x20 {
                // Dynamic table size update: only before the block's first field.
                let (size, used) = decode_integer(&block[at..], 5)?;
                at += used;
                if fields > 0 || size > TABLE_SIZE {
                    return Err(HpackError::BadSizeUpdate(size));
                }
                self.max_size = Some(size);
                self.evict(0);
                continue;
            } else {
                // A literal: with incremental indexing (01), without (0000) or never (0001).
                let indexing = first & 0x40 != 0;
                let prefix = if indexing { 6 } else { 4 };
                let (index, used) = decode_integer(&block[at..], prefix)?;
                at += used;
                let name = if index == 0 {
                    let (name, used) = decode_string(&block[at..])?;
                    at += used;
                    name
                } else {
                    self.entry(index)?.0.to_vec()
                };
                let (value, used) = decode_string(&block[at..])?;
                at += used;
                decoded += name.len() + value.len();
                check_size(decoded)?;
                field(&name, &value);
                if indexing {
                    self.insert(name, value);
                }
            }
            fields += 1;
        }
        Ok(())
    }

    /// The entry at a 1-based index into the static table and then the dynamic one.
    fn entry(&self, index: usize) -> Result<(&[u8], &[u8]), HpackError> {
        if index == 0 {
            return Err(HpackError::BadIndex(0));
        }
        if let Some((name, value)) = STATIC_TABLE.get(index - 1) {
            return Ok((name.as_bytes(), value.as_bytes()));
        }
        self.table
            .get(index - 1 - STATIC_TABLE.len())
            .map(|(name, value)| (name.as_slice(), value.as_slice()))
            .ok_or(HpackError::BadIndex(index))
    }

    /// Adds an entry, evicting the oldest ones to make room (RFC 7541 §4.4); an entry
    /// larger than the table empties it and is not added.
    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let size = name.len() + value.len() + 32;
        self.evict(size);
        if size <= self.max() {
            self.size += size;
            self.table.push_front((name, value));
        }
    }

    /// Evicts the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max() {
            match self.table.pop_back() {
                Some((name, value)) => self.size -= name.len() + value.len() + 32,
                None => break,
            }
        }
    }

    /// The table's current maximum size.
    fn max(&self) -> usize {
        self.max_size.unwrap_or(TABLE_SIZE)
    }
}

fn check_size(decoded: usize) -> Result<(), HpackError> {
    if decoded > MAX_HEADER_LIST { Err(HpackError::TooLarge) } else { Ok(()) }
}

/// An integer with a `prefix`-bit prefix and how many bytes it took; at most 2^28 (four
/// continuation bytes), far more than a header block of at most 1 MiB can need.
fn decode_integer(bytes: &[u8], prefix: u8) -> Result<(usize, usize), HpackError> {
    let first = *bytes.first().ok_or(HpackError::Truncated)?;
    let max = (1usize << prefix) - 1;
    let mut value = usize::from(first) & max;
    if value < max {
        return Ok((value, 1));
    }
    for (i, &byte) in bytes.iter().enumerate().skip(1) {
        if i > 4 {
            return Err(HpackError::IntegerTooLarge);
        }
        value += usize::from(byte & 0x7f) << (7 * (i - 1));
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(HpackError::Truncated)
}

/// A string literal, Huffman-decoded when its H bit says so, and how many bytes it took.
fn decode_string(bytes: &[u8]) -> Result<(Vec<u8>, usize), HpackError> {
    let huffman = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let (len, used) = decode_integer(bytes, 7)?;
    let raw = bytes.get(used..used + len).ok_or(HpackError::Truncated)?;
    let text = if huffman { huffman_decode(raw)? } else { raw.to_vec() };
    Ok((text, used + len))
}

/// Decodes a Huffman-coded string (RFC 7541 §5.2, Appendix B): the code is canonical, so
/// a code of `len` bits is the `code - FIRST[len]`-th symbol of that length.
pub fn huffman_decode(bytes: &[u8]) -> Result<Vec<u8>, HpackError> {
    let mut out = Vec::with_capacity(bytes.len() * 8 / 5);
    let mut code: u32 = 0;
    let mut len: usize = 0;
    for &byte in bytes {
        for shift in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> shift) & 1);
            len += 1;
            let (first, count, offset) = CANONICAL.by_len[len];
            if count > 0 && code >= first && code - first < count {
                let symbol = CANONICAL.symbols[(offset + code - first) as usize];
                if symbol == EOS {
                    return Err(HpackError::BadHuffman);
                }
                out.push(symbol as u8);
                code = 0;
                len = 0;
            } else if len >= 30 {
                return Err(HpackError::BadHuffman);
            }
        }
    }
    // Padding: fewer than 8 bits, all ones (the most significant bits of EOS).
    if len > 7 || code != (1 << len) - 1 {
        return Err(HpackError::BadHuffman);
    }
    Ok(out)
}

/// The end-of-string symbol, which never appears inside a string.
const EOS: u16 = 256;

/// The Huffman code as a canonical decoding table.
struct Canonical {
    /// For each code length: the first code of that length, how many there are, and
    /// where their symbols start in `symbols`.
    by_len: [(u32, u32, u32); 31],
    /// Every symbol, ordered by code length and then code.
    symbols: [u16; 257],
}

static CANONICAL: Canonical = canonical();

const fn canonical() -> Canonical {
    let mut by_len = [(0u32, 0u32, 0u32); 31];
    let mut symbols = [0u16; 257];
    let mut next = 0usize;
    let mut len = 1;
    while len <= 30 {
        let mut symbol = 0;
        let mut count = 0;
        while symbol < 257 {
            let (code, bits) = HUFFMAN[symbol];
            if bits as usize == len {
                if count == 0 {
                    by_len[len] = (code, 0, next as u32);
                }
                symbols[next] = symbol as u16;
                next += 1;
                count += 1;
            }
            symbol += 1;
        }
        by_len[len].1 = count;
        len += 1;
    }
    Canonical { by_len, symbols }
}

/// The Huffman code of RFC 7541 Appendix B: (code, length in bits) for the bytes 0 to 255
/// and EOS (256).
pub(crate) const HUFFMAN: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28),
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28),
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28),
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28),
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28),
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28),
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28),
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28),
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12),
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11),
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11),
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6),
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8),
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10),
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7),
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7),
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7),
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13),
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6),
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5),
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15),
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28),
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20),
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23),
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23),
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23),
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23),
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23),
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23),
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24),
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22),
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21),
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24),
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23),
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21),
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23),
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22),
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23),
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19),
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25),
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27),
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25),
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27),
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24),
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26),
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27),
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21),
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23),
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25),
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23),
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26),
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27),
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27),
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),
    (0x3fffffff, 30),
];

/// The static table of RFC 7541 Appendix A (index 1 first).
const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

#[cfg(test)]
mod tests;
