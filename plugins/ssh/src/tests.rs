//! Unit tests: the key exchange against a server simulated here (both sides' secrets fixed,
//! the server signing with keys made from fixed bytes), signatures from outside (an RSA
//! vector made with OpenSSL, fingerprints printed by ssh-keygen), and how sessions are
//! judged. Then every case of cases.toml, replayed through `Ssh::run`.

use ed25519_dalek::Signer as _;

use std::time::Duration;

use super::*;
use crate::kex::{Reply, ServerKexinit};
use crate::wire::Writer;
use vitals_sdk::Timings;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c).expect("base64 digit") as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

fn default_algorithms() -> Vec<String> {
    kex::HOST_KEY_ALGORITHMS.map(String::from).to_vec()
}

/// A KEXINIT as OpenSSH 9.2 sends it, with the given key exchange and host key lists.
fn server_kexinit(kex: &[&str], host_key: &[&str], guess: bool) -> Vec<u8> {
    let ciphers = ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-gcm@openssh.com"];
    let macs = ["umac-64-etm@openssh.com", "hmac-sha2-256"];
    Writer::message(kex::MSG_KEXINIT)
        .raw(&[0xaa; 16])
        .name_list(kex)
        .name_list(host_key)
        .name_list(&ciphers)
        .name_list(&ciphers)
        .name_list(&macs)
        .name_list(&macs)
        .name_list(&["none", "zlib@openssh.com"])
        .name_list(&["none", "zlib@openssh.com"])
        .name_list::<&str>(&[])
        .name_list::<&str>(&[])
        .byte(u8::from(guess))
        .u32(0)
        .finish()
}

/// A server's host key, made from fixed bytes.
enum ServerKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl ServerKey {
    fn ed25519() -> ServerKey {
        ServerKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]))
    }

    fn p256() -> ServerKey {
        ServerKey::P256(p256::ecdsa::SigningKey::from_slice(&[0x24; 32]).expect("a P-256 scalar"))
    }

    fn algorithm(&self) -> &'static str {
        match self {
            ServerKey::Ed25519(_) => "ssh-ed25519",
            ServerKey::P256(_) => "ecdsa-sha2-nistp256",
        }
    }

    fn blob(&self) -> Vec<u8> {
        match self {
            ServerKey::Ed25519(key) => {
                Writer::default().string(b"ssh-ed25519").string(key.verifying_key().as_bytes()).finish()
            }
            ServerKey::P256(key) => Writer::default()
                .string(b"ecdsa-sha2-nistp256")
                .string(b"nistp256")
                .string(key.verifying_key().to_sec1_point(false).as_bytes())
                .finish(),
        }
    }

    fn sign(&self, h: &[u8; 32]) -> Vec<u8> {
        match self {
            ServerKey::Ed25519(key) => {
                Writer::default().string(b"ssh-ed25519").string(&key.sign(h).to_bytes()).finish()
            }
            ServerKey::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(h);
                let (r, s) = signature.split_bytes();
                let inner = Writer::default().mpint(&r).mpint(&s).finish();
                Writer::default().string(b"ecdsa-sha2-nistp256").string(&inner).finish()
            }
        }
    }
}

/// Both sides of one exchange, as the client computes it.
struct Exchange {
    client_kexinit: Vec<u8>,
    server_kexinit: Vec<u8>,
    q_c: [u8; 32],
    reply: Reply,
    h: [u8; 32],
}

/// The server's reply to a client whose ephemeral secret is fixed, signed with `key`.
fn exchange(key: &ServerKey) -> Exchange {
    let client = x25519_dalek::StaticSecret::from([0x07; 32]);
    let server = x25519_dalek::StaticSecret::from([0x09; 32]);
    let q_c = x25519_dalek::PublicKey::from(&client).to_bytes();
    let q_s = x25519_dalek::PublicKey::from(&server).to_bytes();
    let client_kexinit = kex::client_kexinit(&[0x01; 16], &default_algorithms());
    let server_kexinit = server_kexinit(&kex::KEX_ALGORITHMS, &[key.algorithm()], false);
    let shared = client.diffie_hellman(&x25519_dalek::PublicKey::from(q_s));
    let server_shared = server.diffie_hellman(&x25519_dalek::PublicKey::from(q_c));
    assert_eq!(shared.as_bytes(), server_shared.as_bytes());
    let host_key = key.blob();
    let h = kex::exchange_hash(&Transcript {
        client_ident: CLIENT_IDENT.as_bytes(),
        server_ident: b"SSH-2.0-OpenSSH_9.2p1 Debian-2",
        client_kexinit: &client_kexinit,
        server_kexinit: &server_kexinit,
        host_key: &host_key,
        q_c: &q_c,
        q_s: &q_s,
        shared_secret: shared.as_bytes(),
    });
    let signature = key.sign(&h);
    Exchange { client_kexinit, server_kexinit, q_c, reply: Reply { host_key, q_s, signature }, h }
}

/// The reply as the server frames it: SSH_MSG_KEX_ECDH_REPLY and its three strings.
fn reply_payload(reply: &Reply) -> Vec<u8> {
    Writer::message(kex::MSG_KEX_ECDH_REPLY)
        .string(&reply.host_key)
        .string(&reply.q_s)
        .string(&reply.signature)
        .finish()
}

#[test]
fn an_ed25519_and_a_p256_exchange_verify_and_a_changed_hash_does_not() {
    for key in [ServerKey::ed25519(), ServerKey::p256()] {
        let ex = exchange(&key);
        let alg = key.algorithm();
        assert_eq!(kex::parse_reply(&reply_payload(&ex.reply)), Ok(ex.reply.clone()));
        assert_eq!(kex::verify(alg, &ex.reply.host_key, &ex.reply.signature, &ex.h), Ok(()), "{alg}");
        let mut other = ex.h;
        other[0] ^= 1;
        assert_eq!(kex::verify(alg, &ex.reply.host_key, &ex.reply.signature, &other), Err(BadSignature::Invalid));
        // The same signature under another algorithm's name is no proof at all.
        let wrong = if alg == "ssh-ed25519" { "ecdsa-sha2-nistp256" } else { "ssh-ed25519" };
        assert!(matches!(
            kex::verify(wrong, &ex.reply.host_key, &ex.reply.signature, &ex.h),
            Err(BadSignature::Malformed(_))
        ));
        // A KEXINIT of ours parses as the server would read it.
        let ours = kex::parse_kexinit(&ex.client_kexinit).expect("our KEXINIT parses");
        assert_eq!(ours.kex, kex::KEX_ALGORITHMS.map(String::from));
        assert_eq!(ours.host_key, default_algorithms());
        assert_eq!(ex.q_c.len(), 32);
        assert!(kex::parse_kexinit(&ex.server_kexinit).is_ok());
    }
}

#[test]
fn rsa_signatures_made_by_openssl_verify() {
    let key = Writer::default().string(b"ssh-rsa").mpint(&[1, 0, 1]).mpint(&hex(RSA_N)).finish();
    let h: [u8; 32] = hex(RSA_H).try_into().expect("32 bytes");
    for (alg, sig) in [("rsa-sha2-256", RSA_SIG_256), ("rsa-sha2-512", RSA_SIG_512)] {
        let blob = Writer::default().string(alg.as_bytes()).string(&hex(sig)).finish();
        assert_eq!(kex::verify(alg, &key, &blob, &h), Ok(()), "{alg}");
        let mut other = h;
        other[31] ^= 0x80;
        assert_eq!(kex::verify(alg, &key, &blob, &other), Err(BadSignature::Invalid), "{alg}");
    }
    // A SHA-256 signature presented as SHA-512 does not verify.
    let blob = Writer::default().string(b"rsa-sha2-512").string(&hex(RSA_SIG_256)).finish();
    assert_eq!(kex::verify("rsa-sha2-512", &key, &blob, &h), Err(BadSignature::Invalid));
    // A toy modulus is refused before any arithmetic.
    let small = Writer::default().string(b"ssh-rsa").mpint(&[3]).mpint(&[0xc5; 64]).finish();
    let blob = Writer::default().string(b"rsa-sha2-256").string(&[1; 64]).finish();
    assert!(matches!(kex::verify("rsa-sha2-256", &small, &blob, &h), Err(BadSignature::Malformed(_))));
}

#[test]
fn fingerprints_are_those_ssh_keygen_prints() {
    // `ssh-keygen -lf` of two public keys made for this test.
    let ed25519 = base64("AAAAC3NzaC1lZDI1NTE5AAAAIF8Kgq2pMkII2uaRqejXwLCrctwuVrQEf7BHZXori8dR");
    assert_eq!(kex::fingerprint(&ed25519), "SHA256:5OfEs39H3K3W7RiMtaQQcQRkTcurKVai4CjlxCOXDxA");
    let ecdsa = base64(
        "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN1GLOT64BAHyQo/T+G0eXa5Zsg3ZH3i+wH4Iu1WsgENBTYBoZv9fYBMJZuAr6kIykHXjx++Iyon6p60DVVSqrs=",
    );
    assert_eq!(kex::fingerprint(&ecdsa), "SHA256:yHhgRFXEE/bcwnW20v2rWHmHoUGVTn31AygesKQK+5M");
    assert_eq!(kex::blob_type(&ecdsa), "ecdsa-sha2-nistp256");
    assert!(config::parse_pins(&kex::fingerprint(&ed25519)).is_ok(), "a fingerprint pins itself");
}

#[test]
fn negotiation_follows_the_clients_order() {
    let server = kex::parse_kexinit(&server_kexinit(
        &["sntrup761x25519-sha512@openssh.com", "curve25519-sha256@libssh.org"],
        &["rsa-sha2-512", "ecdsa-sha2-nistp256", "ssh-ed25519"],
        false,
    ))
    .expect("parses");
    let agreed = kex::negotiate(&default_algorithms(), &server).expect("agrees");
    assert_eq!(agreed.kex, "curve25519-sha256@libssh.org");
    assert_eq!(agreed.host_key, "ssh-ed25519");
    assert!(!agreed.skip_guess);

    let rsa_only = vec!["rsa-sha2-256".to_string()];
    assert_eq!(kex::negotiate(&rsa_only, &server).map(|a| a.host_key), Err(NoMatch::HostKey(server.host_key.clone())));

    let old =
        kex::parse_kexinit(&server_kexinit(&["diffie-hellman-group14-sha1"], &["ssh-rsa"], false)).expect("parses");
    assert!(matches!(kex::negotiate(&default_algorithms(), &old), Err(NoMatch::Kex(_))));

    // A wrong guess means the server's next packet is skipped; a right one does not.
    let guessing = |kex: &[&str]| -> ServerKexinit {
        kex::parse_kexinit(&server_kexinit(kex, &["ssh-ed25519"], true)).expect("parses")
    };
    let wrong = guessing(&["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"]);
    assert!(kex::negotiate(&default_algorithms(), &wrong).expect("agrees").skip_guess);
    let right = guessing(&["curve25519-sha256"]);
    assert!(!kex::negotiate(&default_algorithms(), &right).expect("agrees").skip_guess);

    let mut no_cipher = server.clone();
    no_cipher.ciphers[1] = vec!["3des-cbc".into()];
    assert!(matches!(kex::negotiate(&default_algorithms(), &no_cipher), Err(NoMatch::Other("cipher", _))));
}

#[test]
fn malformed_replies_are_refused() {
    let ex = exchange(&ServerKey::ed25519());
    let mut short_key = ex.reply.clone();
    let payload =
        Writer::message(31).string(&short_key.host_key).string(&[1; 31]).string(&short_key.signature).finish();
    assert!(kex::parse_reply(&payload).unwrap_err().contains("31 bytes"));
    let mut trailing = reply_payload(&ex.reply);
    trailing.push(0);
    assert!(kex::parse_reply(&trailing).is_err());
    assert!(kex::parse_reply(&[31, 0, 0, 1]).is_err());
    short_key.signature = Writer::default().string(b"ssh-ed25519").string(&[0; 63]).finish();
    assert!(matches!(
        kex::verify("ssh-ed25519", &short_key.host_key, &short_key.signature, &ex.h),
        Err(BadSignature::Malformed(why)) if why.contains("63 bytes")
    ));
}

fn ident(line: &str) -> Ident {
    match parse_ident(line.as_bytes().to_vec(), "ssh.test:22") {
        Ok(ident) => ident,
        Err(failure) => panic!("{:?}", failure.result().summary),
    }
}

#[test]
fn identification_lines() {
    let openssh = ident("SSH-2.0-OpenSSH_9.2p1 Debian-2");
    assert_eq!((openssh.proto.as_str(), openssh.software.as_str()), ("2.0", "OpenSSH_9.2p1 Debian-2"));
    assert!(!openssh.is_version_1());
    assert!(!ident("SSH-1.99-Cisco-1.25").is_version_1(), "1.99 speaks 2.0 as well");
    assert_eq!(ident("SSH-1.99-Cisco-1.25").software, "Cisco-1.25");
    assert!(ident("SSH-1.5-OpenSSH_3.4").is_version_1());
    assert_eq!(ident("SSH-2.0-\x1b[31mevil").software, "[31mevil");
    for bad in ["SSH-", "SSH-2.0", "SSH-x.y-z", "SSH-3.0-future"] {
        let failure = parse_ident(bad.as_bytes().to_vec(), "ssh.test:22").expect_err(bad);
        let result = failure.result();
        assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Protocol)), "{bad}");
    }
}

fn session(line: &str, host_key: Option<HostKey>) -> Session {
    Session {
        link: Link {
            target: "ssh.test:22".into(),
            remote: "192.0.2.1:22".into(),
            timings: Timings { dns_us: None, connect_us: Some(400), tls_us: None, first_byte_us: None, total_us: 450 },
            tls_us: None,
            elapsed: Duration::from_millis(5),
        },
        ident: Some(ident(line)),
        banner_us: Some(1_200),
        kex_us: host_key.as_ref().map(|_| 3_000),
        host_key,
    }
}

const FP: &str = "SHA256:5OfEs39H3K3W7RiMtaQQcQRkTcurKVai4CjlxCOXDxA";
const OTHER: &str = "SHA256:yHhgRFXEE/bcwnW20v2rWHmHoUGVTn31AygesKQK+5M";

fn key(verified: Result<(), BadSignature>) -> HostKey {
    HostKey { kex: "curve25519-sha256".into(), algorithm: "ssh-ed25519".into(), fingerprint: FP.into(), verified }
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn a_banner_is_ok_with_its_version_and_times() {
    let result = judge(&config("{}"), &session("SSH-2.0-OpenSSH_9.2p1 Debian-2", None));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "OpenSSH_9.2p1 Debian-2 (SSH-2.0) on ssh.test:22 in 5.0 ms");
    assert_eq!(value(&result, "time_connect"), Some(0.4));
    assert_eq!(value(&result, "time_banner"), Some(1.2));
    assert_eq!(value(&result, "time_kex"), None);
    assert_eq!(value(&result, "time_total"), Some(5.0));
    assert_eq!(value(&result, "protocol_version"), Some(2.0));
    let details = result.details.unwrap_or_default();
    assert!(details.contains("identification: SSH-2.0-OpenSSH_9.2p1 Debian-2"), "{details}");
}

#[test]
fn a_pinned_key_that_matches_is_ok_and_one_that_does_not_is_critical() {
    let pinned = config(&format!(r#"{{"host_key_fingerprint": "{OTHER}, {FP}"}}"#));
    let result = judge(&pinned, &session("SSH-2.0-OpenSSH_9.2p1", Some(key(Ok(())))));
    assert_eq!(result.status, Status::Ok);
    assert!(result.summary.ends_with(&format!(", host key {FP} (ssh-ed25519) as pinned")), "{}", result.summary);
    assert_eq!(value(&result, "time_kex"), Some(3.0));

    let wrong = config(&format!(r#"{{"host_key_fingerprint": "{OTHER}"}}"#));
    let result = judge(&wrong, &session("SSH-2.0-OpenSSH_9.2p1", Some(key(Ok(())))));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, format!("host key {FP} does not match the pinned {OTHER}"));
    assert!(result.details.unwrap_or_default().contains("put its algorithm first in host_key_algorithms"));

    let shown = judge(&config(r#"{"show_host_key": true}"#), &session("SSH-2.0-OpenSSH_9.2p1", Some(key(Ok(())))));
    assert_eq!(shown.status, Status::Ok);
    assert!(shown.summary.ends_with(&format!(", host key {FP} (ssh-ed25519)")), "{}", shown.summary);
}

#[test]
fn a_signature_that_does_not_verify_is_critical_protocol_even_when_pinned() {
    let pinned = config(&format!(r#"{{"host_key_fingerprint": "{FP}"}}"#));
    let result = judge(&pinned, &session("SSH-2.0-OpenSSH_9.2p1", Some(key(Err(BadSignature::Invalid)))));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Protocol)));
    assert!(result.summary.contains("signature over the key exchange does not verify"), "{}", result.summary);
    assert!(result.details.unwrap_or_default().contains("NOT verified"));

    let malformed = key(Err(BadSignature::Malformed("its ed25519 signature has 63 bytes, not 64".into())));
    let result = judge(&pinned, &session("SSH-2.0-OpenSSH_9.2p1", Some(malformed)));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Protocol)));
    assert!(result.summary.ends_with("63 bytes, not 64"), "{}", result.summary);
}

#[test]
fn expect_banner_and_protocol_1() {
    let cfg = config(r#"{"expect_banner": "OpenSSH_10"}"#);
    let result = judge(&cfg, &session("SSH-2.0-OpenSSH_9.2p1 Debian-2", None));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(
        result.summary,
        "the identification \"SSH-2.0-OpenSSH_9.2p1 Debian-2\" of ssh.test:22 does not contain \"OpenSSH_10\""
    );
    assert_eq!(
        judge(&config(r#"{"expect_banner": "Debian"}"#), &session("SSH-2.0-OpenSSH_9.2p1 Debian-2", None)).status,
        Status::Ok
    );

    let result = judge(&config("{}"), &session("SSH-1.5-OpenSSH_2.9", None));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Protocol)));
    assert!(result.summary.contains("protocol version 1"), "{}", result.summary);
    assert_eq!(value(&result, "protocol_version"), Some(1.5));
}

#[test]
fn total_time_thresholds() {
    let cfg = config(r#"{"warn_time": "2ms", "crit_time": "10ms"}"#);
    let result = judge(&cfg, &session("SSH-2.0-OpenSSH_9.2p1", None));
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert!(result.summary.ends_with(": slower than warn_time 2.0 ms"), "{}", result.summary);
    let total = result.metrics.iter().find(|m| m.name == "time_total");
    assert_eq!(total.and_then(|m| m.warn.clone()).as_deref(), Some("2"));
    assert_eq!(total.and_then(|m| m.crit.clone()).as_deref(), Some("10"));
    let mut slow = session("SSH-2.0-OpenSSH_9.2p1", None);
    slow.link.elapsed = Duration::from_millis(12);
    assert_eq!(judge(&cfg, &slow).status, Status::Critical);
}

#[test]
fn our_disconnect_is_a_well_formed_packet() {
    let packet = disconnect_packet();
    let length = u32::from_be_bytes([packet[0], packet[1], packet[2], packet[3]]);
    assert_eq!(wire::check_length(length), Ok(()));
    let payload = wire::payload(&packet[4..]).expect("padding");
    assert_eq!(disconnected(payload, "me"), "me disconnected during the key exchange: \"check done\" (reason 11)");
}

#[test]
fn describe_lists_every_key() {
    let description = Ssh::describe();
    assert_eq!(description.name, "ssh");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        ["expect_banner", "host_key_fingerprint", "show_host_key", "host_key_algorithms", "warn_time", "crit_time"]
    );
    assert!(Config::check_defaults().is_empty());
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Ssh::validate(r#"{"host_key_fingerprint": "MD5:ab", "host_key_algorithms": ["ssh-dss"]}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("host_key_fingerprint"), Some("host_key_algorithms")]);
    assert_eq!(Ssh::validate(&format!(r#"{{"host_key_fingerprint": "{FP}", "expect_banner": "OpenSSH"}}"#)), []);
}

/// `printf 'vitals exchange hash test vector' | sha256sum`, standing for an exchange hash.
const RSA_H: &str = "e4b5774006a3b04637f68070d6c3ebde1b63afab2a1de323ed55d61ef462adcc";
/// The modulus of a 2048-bit key made with `openssl genrsa 2048` (exponent 65537).
const RSA_N: &str = "ba8cb953385c14102884f595e536a7a43eb52eaef9be32c249c497f18a14a3a2410a8200fbf31ddcc1fdb7e70a3167d9f599a65becfd353ce4358172823fa20253edb009d48bb94375d72d18aa454cd7556bb89ad546af3ee9a1c75386cdf04145f13aa70f500029577f80d7b3e5a43e58d0400674baa779b521a9fa5c66e5606fa5ac875348e9d7c3e91b70576d61a82e6467b6410c3c15050de85c9c823b869965e0c3c08a004647bd2416005a6d19b76dcc8e75d522f1e7ce2bd14ed2368bfb7866d74f0d8a8051fdcc5a65f5cc8279151bffa887c1d7d3d697276cb5ce779c435347d21d416a375f8e0a3001adabcb3ab0cbcaeb50a75a713fafef9670db";
/// `openssl dgst -sha256 -sign` of RSA_H's bytes.
const RSA_SIG_256: &str = "a428d78274227cea53c07c84de05929004e59a70621971bb2c59e14ad827f25e620abb4aa26d84c1e0953cbbf80ec561ff5c425b2bfbfd3ceaee966630916b5b9e5a2937452bbcd42cda413c8059169823f5bfd1343fba2582faf823932cbf5bf01a3d8fb6a8ccde7bcbee0f75cee95d7a397eb12d7dcd4fac9a6f00e7449cb9d4a0ebfd18db63c81396a3e992981e428cd45486b8d8290e5199e32479c75b7883114d9958d4f4b2e145c8b5cbf1a099df1f3f53f3e2d1ea65a506b7edf7564cca2ca309b4125cfdcd48ae21223ebcead82072b29850ad2c7b0f6c011e77ea4f6a2784308b9896dc404f9484199cf7013a84ff841cbdee8db2871cdf96597273";
/// `openssl dgst -sha512 -sign` of RSA_H's bytes.
const RSA_SIG_512: &str = "83c53d506ef1f989db205229803a757e87175ee25ae4c5a986157deb905e778800a870a008de316be2f894e32986182b0e438fe4c984edd5609eaa619081695cbc2d8c06364afc02b51892d92e75803b4d11fae630976d2759994fe4778fe136b1be99fd9a904305a73bdf4d36f0c6b4c348675b6fd0cc37ada1ea25896ff8164828108e1652b013f13d25fc0397e62918dffd2db060be7084dd1e1a7af085188beb480196f6972cb39045fab23a5ebdb170a38f17e646a7441ad98578900c67d97f604263621dcf89e076405f67236d70a122c3e689069922b8d711a61eb1e0383c8c3f58f57792650401b76ad2dae4a58edddd62d4c94538ecf607bf380327";

// Every case of cases.toml, run natively through `Ssh::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Ssh, "cases.toml");
