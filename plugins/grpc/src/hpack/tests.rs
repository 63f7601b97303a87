//! The decoder against the examples of RFC 7541 Appendix C, and the encoder against the
//! decoder.

use super::*;

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("00"), 16).unwrap_or(0))
        .collect()
}

fn decode(decoder: &mut Decoder, block: &[u8]) -> Result<Vec<(String, String)>, HpackError> {
    let mut fields = Vec::new();
    decoder.decode(block, |name, value| {
        fields.push((String::from_utf8_lossy(name).into_owned(), String::from_utf8_lossy(value).into_owned()))
    })?;
    Ok(fields)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// RFC 7541 C.4: three requests with Huffman coding, sharing one dynamic table.
#[test]
fn rfc_requests_with_huffman() {
    let mut decoder = Decoder::new();
    let first = decode(&mut decoder, &hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
    assert_eq!(
        first,
        Ok(pairs(&[(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]))
    );
    assert_eq!(decoder.size, 57);
    let second = decode(&mut decoder, &hex("8286 84be 5886 a8eb 1064 9cbf"));
    assert_eq!(
        second,
        Ok(pairs(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
            ("cache-control", "no-cache"),
        ]))
    );
    assert_eq!(decoder.size, 110);
    let third = decode(&mut decoder, &hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"));
    assert_eq!(
        third,
        Ok(pairs(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ]))
    );
    assert_eq!(decoder.size, 164);
}

/// RFC 7541 C.6: three responses with Huffman coding in a 256-byte table, so that entries
/// are evicted.
#[test]
fn rfc_responses_with_huffman_and_eviction() {
    let mut decoder = Decoder::new();
    decoder.max_size = Some(256);
    let date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
    let first = decode(
        &mut decoder,
        &hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
              2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"),
    );
    assert_eq!(
        first,
        Ok(pairs(&[
            (":status", "302"),
            ("cache-control", "private"),
            ("date", date1),
            ("location", "https://www.example.com"),
        ]))
    );
    assert_eq!(decoder.size, 222);
    let second = decode(&mut decoder, &hex("4883 640e ffc1 c0bf"));
    assert_eq!(
        second,
        Ok(pairs(&[
            (":status", "307"),
            ("cache-control", "private"),
            ("date", date1),
            ("location", "https://www.example.com"),
        ]))
    );
    assert_eq!(decoder.size, 222);
    let third = decode(
        &mut decoder,
        &hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
              77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
              9587 3160 65c0 03ed 4ee5 b106 3d50 07"),
    );
    assert_eq!(
        third,
        Ok(pairs(&[
            (":status", "200"),
            ("cache-control", "private"),
            ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
            ("location", "https://www.example.com"),
            ("content-encoding", "gzip"),
            ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
        ]))
    );
    assert_eq!(decoder.size, 215);
    assert_eq!(decoder.table.len(), 3);
}

/// A Huffman encoder built from the same table, for the round trip below.
fn huffman_encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u64, 0u32);
    for &b in bytes {
        let (code, len) = HUFFMAN[usize::from(b)];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) as u8);
    }
    out
}

#[test]
fn every_byte_survives_huffman() {
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(huffman_decode(&huffman_encode(&all)), Ok(all));
    assert_eq!(huffman_decode(&huffman_encode(b"application/grpc")), Ok(b"application/grpc".to_vec()));
    assert_eq!(huffman_decode(b""), Ok(Vec::new()));
}

#[test]
fn bad_huffman_is_refused() {
    // Padding of zeros instead of ones (RFC 7541 §5.2).
    assert_eq!(huffman_decode(&hex("f1e3 c2e5 f23a 6ba0 ab90 f4fe")), Err(HpackError::BadHuffman));
    // More than 7 bits of padding.
    assert_eq!(huffman_decode(&[0xff]), Err(HpackError::BadHuffman));
    // EOS itself (30 ones), padded.
    assert_eq!(huffman_decode(&[0xff, 0xff, 0xff, 0xff]), Err(HpackError::BadHuffman));
}

#[test]
fn the_encoder_writes_literals_the_decoder_reads() {
    let mut block = Vec::new();
    encode_literal(&mut block, b":path", b"/grpc.health.v1.Health/Check");
    let long = "x".repeat(300);
    encode_literal(&mut block, b"authorization", long.as_bytes());
    assert_eq!(block[0], 0x00);
    assert_eq!(&block[1..7], b"\x05:path");
    let mut decoder = Decoder::new();
    let fields = decode(&mut decoder, &block);
    assert_eq!(fields, Ok(pairs(&[(":path", "/grpc.health.v1.Health/Check"), ("authorization", &long)])));
    // Nothing was indexed.
    assert_eq!(decoder.size, 0);
}

#[test]
fn integers_use_their_prefix_and_continuation_bytes() {
    // RFC 7541 C.1: 10 and 1337 with a 5-bit prefix, 42 with 8 bits.
    assert_eq!(decode_integer(&[0x0a], 5), Ok((10, 1)));
    assert_eq!(decode_integer(&[0x1f, 0x9a, 0x0a], 5), Ok((1337, 3)));
    assert_eq!(decode_integer(&[0x2a], 8), Ok((42, 1)));
    let mut out = Vec::new();
    encode_integer(&mut out, 1337, 5, 0);
    assert_eq!(out, [0x1f, 0x9a, 0x0a]);
    assert_eq!(decode_integer(&[0x1f, 0x9a], 5), Err(HpackError::Truncated));
    assert_eq!(decode_integer(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x01], 5), Err(HpackError::IntegerTooLarge));
}

#[test]
fn bad_blocks_are_refused() {
    let mut decoder = Decoder::new();
    assert_eq!(decode(&mut decoder, &[0x80]), Err(HpackError::BadIndex(0)));
    assert_eq!(decode(&mut decoder, &[0xbe]), Err(HpackError::BadIndex(62)));
    assert_eq!(decode(&mut decoder, &[0x00, 0x05, b'a']), Err(HpackError::Truncated));
    // A size update above the announced 4096, and one after a field.
    assert_eq!(decode(&mut decoder, &[0x3f, 0xe2, 0x1f]), Err(HpackError::BadSizeUpdate(4097)));
    assert_eq!(decode(&mut decoder, &[0x88, 0x20]), Err(HpackError::BadSizeUpdate(0)));
}

#[test]
fn size_updates_evict() {
    let mut decoder = Decoder::new();
    let mut block = vec![0x40, 0x01, b'a', 0x01, b'b'];
    assert_eq!(decode(&mut decoder, &block), Ok(pairs(&[("a", "b")])));
    assert_eq!(decoder.size, 34);
    // Index 62 is the new entry; a size update to 0 empties the table.
    assert_eq!(decode(&mut decoder, &[0xbe]), Ok(pairs(&[("a", "b")])));
    assert_eq!(decode(&mut decoder, &[0x20, 0xbe]), Err(HpackError::BadIndex(62)));
    assert_eq!(decoder.size, 0);
    // While the table's size is 0, nothing is added.
    block[0] = 0x40;
    assert_eq!(decode(&mut decoder, &block), Ok(pairs(&[("a", "b")])));
    assert!(decoder.table.is_empty());
}

#[test]
fn a_block_that_repeats_a_big_entry_is_bounded() {
    let mut decoder = Decoder::new();
    let mut block = vec![0x40, 0x01, b'a'];
    encode_string(&mut block, &[b'v'; 4000]);
    block.extend(std::iter::repeat_n(0xbe, 100));
    assert_eq!(decode(&mut decoder, &block), Err(HpackError::TooLarge));
}
