//! The key exchange as far as a check needs it: our KEXINIT, the server's, the algorithms
//! both accept (RFC 4253 §7), the curve25519-sha256 exchange (RFC 8731, RFC 5656 §4) and
//! the proof that the server holds the private half of its host key: its signature over the
//! exchange hash, verified for ssh-ed25519 (RFC 8709), ecdsa-sha2-nistp256 (RFC 5656) and
//! rsa-sha2-256/512 (RFC 8332). No keys are derived: the check ends before NEWKEYS.

use sha2::{Digest, Sha256, Sha512};

use crate::wire::{Reader, Writer, base64_unpadded};

/// SSH_MSG_KEXINIT.
pub const MSG_KEXINIT: u8 = 20;
/// SSH_MSG_KEX_ECDH_INIT.
pub const MSG_KEX_ECDH_INIT: u8 = 30;
/// SSH_MSG_KEX_ECDH_REPLY.
pub const MSG_KEX_ECDH_REPLY: u8 = 31;

/// The key exchange methods offered, in order: one method under its two names.
pub const KEX_ALGORITHMS: [&str; 2] = ["curve25519-sha256", "curve25519-sha256@libssh.org"];

/// The host key algorithms whose signatures this check verifies, in the default order of
/// preference (ed25519 first: the smallest and fastest proof).
pub const HOST_KEY_ALGORITHMS: [&str; 4] = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"];

/// Ciphers offered in both directions. None is ever used (the check disconnects before
/// NEWKEYS); the lists are OpenSSH's defaults so that a server finds one in common.
const CIPHERS: [&str; 6] = [
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
];

/// MACs offered in both directions, never used either.
const MACS: [&str; 10] = [
    "umac-64-etm@openssh.com",
    "umac-128-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1-etm@openssh.com",
    "umac-64@openssh.com",
    "umac-128@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha1",
];

/// Compression offered in both directions.
const COMPRESSION: [&str; 2] = ["none", "zlib@openssh.com"];

/// Our KEXINIT payload, offering `host_key_algorithms` in that order.
pub fn client_kexinit(cookie: &[u8; 16], host_key_algorithms: &[String]) -> Vec<u8> {
    Writer::message(MSG_KEXINIT)
        .raw(cookie)
        .name_list(&KEX_ALGORITHMS)
        .name_list(host_key_algorithms)
        .name_list(&CIPHERS)
        .name_list(&CIPHERS)
        .name_list(&MACS)
        .name_list(&MACS)
        .name_list(&COMPRESSION)
        .name_list(&COMPRESSION)
        .name_list::<&str>(&[])
        .name_list::<&str>(&[])
        .byte(0)
        .u32(0)
        .finish()
}

/// Our SSH_MSG_KEX_ECDH_INIT payload with the ephemeral public key `q_c`.
pub fn ecdh_init(q_c: &[u8; 32]) -> Vec<u8> {
    Writer::message(MSG_KEX_ECDH_INIT).string(q_c).finish()
}

/// The name-lists of a server's KEXINIT.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerKexinit {
    /// Key exchange methods, the server's preference first.
    pub kex: Vec<String>,
    /// Host key algorithms, the server's preference first.
    pub host_key: Vec<String>,
    /// Ciphers client to server and server to client.
    pub ciphers: [Vec<String>; 2],
    /// MACs client to server and server to client.
    pub macs: [Vec<String>; 2],
    /// Compression client to server and server to client.
    pub compression: [Vec<String>; 2],
    /// Whether the server's guessed key exchange packet follows.
    pub first_kex_packet_follows: bool,
}

/// Reads a server's KEXINIT payload (its message number first).
pub fn parse_kexinit(payload: &[u8]) -> Result<ServerKexinit, String> {
    let mut r = Reader::new(payload);
    r.byte("message number")?;
    r.bytes(16, "cookie")?;
    let kex = r.name_list("key exchange methods")?;
    let host_key = r.name_list("host key algorithms")?;
    let ciphers = [r.name_list("ciphers")?, r.name_list("ciphers")?];
    let macs = [r.name_list("MACs")?, r.name_list("MACs")?];
    let compression = [r.name_list("compression methods")?, r.name_list("compression methods")?];
    r.name_list("languages")?;
    r.name_list("languages")?;
    let first_kex_packet_follows = r.boolean("first_kex_packet_follows")?;
    r.u32("reserved field")?;
    Ok(ServerKexinit { kex, host_key, ciphers, macs, compression, first_kex_packet_follows })
}

/// The algorithms chosen: the first of the client's lists that the server also has.
#[derive(Debug, Clone, PartialEq)]
pub struct Negotiated {
    /// The key exchange method.
    pub kex: String,
    /// The host key algorithm.
    pub host_key: String,
    /// Whether the server's guessed packet, if it sends one, must be skipped.
    pub skip_guess: bool,
}

/// Why no algorithm was agreed on.
#[derive(Debug, Clone, PartialEq)]
pub enum NoMatch {
    /// No key exchange method in common: the server's.
    Kex(Vec<String>),
    /// No host key algorithm in common: the server's.
    HostKey(Vec<String>),
    /// No cipher, MAC or compression in common: which, and the server's.
    Other(&'static str, Vec<String>),
}

/// The first of `ours` that is also in `theirs`.
fn pick<'a>(ours: &[&'a str], theirs: &[String]) -> Option<&'a str> {
    ours.iter().find(|a| theirs.iter().any(|t| t == *a)).copied()
}

/// Picks the algorithms (RFC 4253 §7.1: the client's first choice the server supports).
pub fn negotiate(host_key_algorithms: &[String], server: &ServerKexinit) -> Result<Negotiated, NoMatch> {
    let kex = pick(&KEX_ALGORITHMS, &server.kex).ok_or_else(|| NoMatch::Kex(server.kex.clone()))?;
    let ours: Vec<&str> = host_key_algorithms.iter().map(String::as_str).collect();
    let host_key = pick(&ours, &server.host_key).ok_or_else(|| NoMatch::HostKey(server.host_key.clone()))?;
    for (what, ours, theirs) in [
        ("cipher", &CIPHERS[..], &server.ciphers),
        ("MAC", &MACS[..], &server.macs),
        ("compression method", &COMPRESSION[..], &server.compression),
    ] {
        for list in theirs {
            if pick(ours, list).is_none() {
                return Err(NoMatch::Other(what, list.clone()));
            }
        }
    }
    // A guess is right only when both first choices are the agreed ones (RFC 4253 §7).
    let guessed_right =
        server.kex.first().is_some_and(|k| k == kex) && server.host_key.first().is_some_and(|h| h == host_key);
    Ok(Negotiated {
        kex: kex.to_string(),
        host_key: host_key.to_string(),
        skip_guess: server.first_kex_packet_follows && !guessed_right,
    })
}

/// The server's SSH_MSG_KEX_ECDH_REPLY.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// K_S, the host key blob.
    pub host_key: Vec<u8>,
    /// Q_S, the server's ephemeral X25519 key.
    pub q_s: [u8; 32],
    /// The signature blob over the exchange hash.
    pub signature: Vec<u8>,
}

/// Reads an SSH_MSG_KEX_ECDH_REPLY payload (its message number first).
pub fn parse_reply(payload: &[u8]) -> Result<Reply, String> {
    let mut r = Reader::new(payload);
    r.byte("message number")?;
    let host_key = r.string("host key")?.to_vec();
    let q_s = r.string("ephemeral key")?;
    let q_s: [u8; 32] =
        q_s.try_into().map_err(|_| format!("its ephemeral key has {} bytes, X25519 keys have 32", q_s.len()))?;
    let signature = r.string("signature")?.to_vec();
    r.end("signature")?;
    Ok(Reply { host_key, q_s, signature })
}

/// What the exchange hash H covers (RFC 5656 §4), every part as sent on the wire.
#[derive(Debug)]
pub struct Transcript<'a> {
    /// V_C: our identification line, without CR LF.
    pub client_ident: &'a [u8],
    /// V_S: the server's identification line, without CR LF.
    pub server_ident: &'a [u8],
    /// I_C: our KEXINIT payload.
    pub client_kexinit: &'a [u8],
    /// I_S: the server's KEXINIT payload.
    pub server_kexinit: &'a [u8],
    /// K_S: the host key blob.
    pub host_key: &'a [u8],
    /// Q_C: our ephemeral public key.
    pub q_c: &'a [u8; 32],
    /// Q_S: the server's ephemeral public key.
    pub q_s: &'a [u8; 32],
    /// K: the X25519 shared secret, read as a big-endian number (RFC 8731 §3.1).
    pub shared_secret: &'a [u8; 32],
}

/// H = SHA256(V_C, V_S, I_C, I_S, K_S, Q_C, Q_S as strings, K as an mpint).
pub fn exchange_hash(t: &Transcript) -> [u8; 32] {
    let encoded = Writer::default()
        .string(t.client_ident)
        .string(t.server_ident)
        .string(t.client_kexinit)
        .string(t.server_kexinit)
        .string(t.host_key)
        .string(t.q_c)
        .string(t.q_s)
        .mpint(t.shared_secret)
        .finish();
    Sha256::digest(&encoded).into()
}

/// A host key blob's fingerprint as `ssh-keygen -l` prints it: `SHA256:` and the digest in
/// base64 without padding.
pub fn fingerprint(host_key: &[u8]) -> String {
    format!("SHA256:{}", base64_unpadded(&Sha256::digest(host_key)))
}

/// The key type a host key algorithm's blobs carry (`rsa-sha2-*` sign with `ssh-rsa` keys).
pub fn key_type(algorithm: &str) -> &str {
    if algorithm.starts_with("rsa-sha2-") { "ssh-rsa" } else { algorithm }
}

/// The type named at the start of a host key blob, cleaned for a message.
pub fn blob_type(host_key: &[u8]) -> String {
    Reader::new(host_key)
        .string("key type")
        .map(|name| vitals_sdk::sanitize(&String::from_utf8_lossy(name), 40))
        .unwrap_or_default()
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum BadSignature {
    /// The blobs do not parse, or name another algorithm than the agreed one: the message.
    Malformed(String),
    /// The signature is well formed and wrong.
    Invalid,
}

/// Verifies the server's `signature` blob over the exchange hash `h` with its `host_key`
/// blob, for the agreed host key `algorithm`.
pub fn verify(algorithm: &str, host_key: &[u8], signature: &[u8], h: &[u8; 32]) -> Result<(), BadSignature> {
    let malformed = BadSignature::Malformed;
    let mut key = Reader::new(host_key);
    let key_name = key.string("host key type").map_err(malformed)?;
    if key_name != key_type(algorithm).as_bytes() {
        return Err(malformed(format!(
            "its host key is of type \"{}\", the agreed algorithm {algorithm} needs {}",
            blob_type(host_key),
            key_type(algorithm)
        )));
    }
    let mut sig = Reader::new(signature);
    let sig_name = sig.string("signature type").map_err(malformed)?;
    if sig_name != algorithm.as_bytes() {
        let shown = vitals_sdk::sanitize(&String::from_utf8_lossy(sig_name), 40);
        return Err(malformed(format!("its signature is of type \"{shown}\", not the agreed {algorithm}")));
    }
    let sig_bytes = sig.string("signature").map_err(malformed)?;
    sig.end("signature").map_err(malformed)?;
    match algorithm {
        "ssh-ed25519" => verify_ed25519(&mut key, sig_bytes, h),
        "ecdsa-sha2-nistp256" => verify_p256(&mut key, sig_bytes, h),
        "rsa-sha2-256" => verify_rsa(&mut key, sig_bytes, &Sha256::digest(h), rsa::Pkcs1v15Sign::new::<Sha256>()),
        "rsa-sha2-512" => verify_rsa(&mut key, sig_bytes, &Sha512::digest(h), rsa::Pkcs1v15Sign::new::<Sha512>()),
        other => Err(malformed(format!("the host key algorithm {other} is not one this check verifies"))),
    }
}

/// Ed25519 over H itself (RFC 8709 §6), with the strict checks (no small-order keys,
/// canonical signatures).
fn verify_ed25519(key: &mut Reader, sig: &[u8], h: &[u8; 32]) -> Result<(), BadSignature> {
    let point = key.string("ed25519 key").map_err(BadSignature::Malformed)?;
    key.end("ed25519 key").map_err(BadSignature::Malformed)?;
    let point: &[u8; 32] = point
        .try_into()
        .map_err(|_| BadSignature::Malformed(format!("its ed25519 key has {} bytes, not 32", point.len())))?;
    let sig: &[u8; 64] = sig
        .try_into()
        .map_err(|_| BadSignature::Malformed(format!("its ed25519 signature has {} bytes, not 64", sig.len())))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(point)
        .map_err(|_| BadSignature::Malformed("its ed25519 key is not a valid curve point".to_string()))?;
    key.verify_strict(h, &ed25519_dalek::Signature::from_bytes(sig)).map_err(|_| BadSignature::Invalid)
}

/// ECDSA on P-256 over SHA256(H) (RFC 5656 §3.1.2); the signature is the mpints r and s.
fn verify_p256(key: &mut Reader, sig: &[u8], h: &[u8; 32]) -> Result<(), BadSignature> {
    use p256::ecdsa::signature::Verifier;

    let malformed = BadSignature::Malformed;
    let curve = key.string("curve name").map_err(malformed)?;
    if curve != b"nistp256" {
        return Err(malformed("its ecdsa-sha2-nistp256 key names another curve".to_string()));
    }
    let point = key.string("ecdsa key").map_err(malformed)?;
    key.end("ecdsa key").map_err(malformed)?;
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
        .map_err(|_| malformed("its ecdsa key is not a valid P-256 point".to_string()))?;
    let mut parts = Reader::new(sig);
    let r = scalar(parts.positive_mpint("ecdsa r").map_err(malformed)?)?;
    let s = scalar(parts.positive_mpint("ecdsa s").map_err(malformed)?)?;
    parts.end("ecdsa signature").map_err(malformed)?;
    let sig = p256::ecdsa::Signature::from_scalars(r, s)
        .map_err(|_| malformed("its ecdsa signature is out of range".to_string()))?;
    key.verify(h, &sig).map_err(|_| BadSignature::Invalid)
}

/// A P-256 scalar from an mpint's magnitude, as 32 big-endian bytes.
fn scalar(magnitude: &[u8]) -> Result<[u8; 32], BadSignature> {
    if magnitude.len() > 32 {
        return Err(BadSignature::Malformed("its ecdsa signature is out of range".to_string()));
    }
    let mut out = [0u8; 32];
    out[32 - magnitude.len()..].copy_from_slice(magnitude);
    Ok(out)
}

/// RSASSA-PKCS1-v1_5 over the digest of H (RFC 8332 §3), for moduli of 1024 to 16384 bits.
fn verify_rsa(key: &mut Reader, sig: &[u8], hashed: &[u8], scheme: rsa::Pkcs1v15Sign) -> Result<(), BadSignature> {
    let malformed = BadSignature::Malformed;
    let e = key.positive_mpint("rsa exponent").map_err(malformed)?;
    let n = key.positive_mpint("rsa modulus").map_err(malformed)?;
    key.end("rsa key").map_err(malformed)?;
    let bits = |bytes: &[u8]| u32::try_from(bytes.len().div_ceil(8) * 64).unwrap_or(u32::MAX);
    let too_big = || malformed("its rsa key is larger than 16384 bits".to_string());
    if n.len() > 2048 || e.len() > n.len() {
        return Err(too_big());
    }
    let n_int = rsa::BoxedUint::from_be_slice(n, bits(n)).map_err(|_| too_big())?;
    let e_int = rsa::BoxedUint::from_be_slice(e, bits(e)).map_err(|_| too_big())?;
    let public = rsa::PublicKey::new_with_size_limits(n_int, e_int, 1024..=16384)
        .map_err(|err| malformed(format!("its rsa key is not usable: {err}")))?;
    // Some servers drop the signature's leading zero bytes; OpenSSH accepts that too.
    let mut padded = sig.to_vec();
    if padded.len() < n.len() {
        padded.splice(0..0, std::iter::repeat_n(0, n.len() - sig.len()));
    }
    public.verify(scheme, hashed, &padded).map_err(|_| BadSignature::Invalid)
}
