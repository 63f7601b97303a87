//! The built-in `ssh` check plugin of Vitals.
//!
//! It connects to `host:port` through the host's `tcp` interface, reads the server's
//! identification line (`SSH-2.0-OpenSSH_9.2p1 Debian-2`, after any lines RFC 4253 §4.2
//! lets a server send first) and reports the protocol version and software. With a pinned
//! host key fingerprint (or `show_host_key`) it goes on with the key exchange as far as the
//! server's proof of its host key: KEXINIT, curve25519-sha256 with an ephemeral X25519 key,
//! the server's reply, whose signature over the exchange hash is verified for ssh-ed25519,
//! ecdsa-sha2-nistp256 and rsa-sha2-256/512. Then it says goodbye (SSH_MSG_DISCONNECT)
//! before any key is derived or any authentication attempted.

mod config;
mod kex;
mod wire;

use std::time::Instant;

use vitals_sdk::session::{Link, Peer};
use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, Thresholds, critical, description, format_duration, format_ms, metric, net_failure, ok, register_check,
    sanitize, shown_duration, unknown, us_to_ms, warning,
};

use crate::config::Config;
use crate::kex::{BadSignature, NoMatch, Transcript};
use crate::wire::Reader;

/// How long a quoted peer text may get in a summary.
const MAX_SHOWN: usize = 80;
/// Most bytes read from the server in one run: lines before the identification, KEXINIT
/// and the reply are a few KiB; the rest is room for IGNORE and DEBUG messages.
const MAX_RECEIVED: usize = 128 * 1024;
/// Most lines a server may send before its identification.
const MAX_LINES: usize = 32;
/// Longest line before the identification, or identification, accepted (RFC 4253 allows
/// 255 bytes for the identification; other lines have no limit of their own).
const MAX_LINE: usize = 1024;
/// Most IGNORE and DEBUG messages skipped while waiting for one message.
const MAX_SKIPPED: usize = 16;
/// Our identification line, without CR LF (V_C of the exchange hash).
const CLIENT_IDENT: &str = concat!("SSH-2.0-Vitals_", env!("CARGO_PKG_VERSION"));

/// SSH_MSG_DISCONNECT.
const MSG_DISCONNECT: u8 = 1;
/// SSH_MSG_IGNORE.
const MSG_IGNORE: u8 = 2;
/// SSH_MSG_DEBUG.
const MSG_DEBUG: u8 = 4;
/// SSH_DISCONNECT_BY_APPLICATION, the reason our goodbye gives.
const DISCONNECT_BY_APPLICATION: u32 = 11;

/// The `ssh` check.
pub struct Ssh;

impl Check for Ssh {
    fn describe() -> Description {
        description(
            "ssh",
            env!("CARGO_PKG_VERSION"),
            "Connects to an SSH server at host:port and reads its identification line, \
             reporting the protocol version and software; expect_banner checks that line. \
             With host_key_fingerprint (or show_host_key) it also runs the key exchange \
             (curve25519-sha256) up to the server's signature over the exchange hash, \
             verifies that signature (ssh-ed25519, ecdsa-sha2-nistp256, rsa-sha2-256/512) \
             and compares the host key's SHA256 fingerprint with the pinned ones; it never \
             authenticates. Reports time_connect, time_banner (connected to identification), \
             time_kex (identification sent to verified reply) and time_total in ms, with \
             warn_time and crit_time on time_total, and protocol_version.",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        vitals_sdk::validate_config::<Config>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        let deadline = Deadline::from_ms(request.deadline_ms);
        let config = match Config::parse(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let Peer { connection, link, .. } = match Peer::open(&request, &deadline) {
            Ok(peer) => peer,
            Err(result) => return result,
        };
        let mut session = Session { link, ident: None, banner_us: None, kex_us: None, host_key: None };
        let outcome = converse(&config, &connection, &deadline, &mut session);
        drop(connection);
        session.link.elapsed = deadline.elapsed();
        match outcome {
            Ok(()) => judge(&config, &session),
            Err(failure) => {
                failure.result().with_metrics(metrics(&config, &session)).with_details(details(&config, &session))
            }
        }
    }
}

register_check!(Ssh);

/// What the server said and proved, for judging it.
#[derive(Debug)]
struct Session {
    /// The target, the address connected to and the phase times.
    link: Link,
    /// The server's identification, once read.
    ident: Option<Ident>,
    /// Microseconds from connected to the identification.
    banner_us: Option<u64>,
    /// Microseconds from our identification sent to the server's key exchange reply checked.
    kex_us: Option<u64>,
    /// The host key, after a key exchange.
    host_key: Option<HostKey>,
}

/// The server's identification line, `SSH-protoversion-softwareversion SP comments`.
#[derive(Debug, Clone, PartialEq)]
struct Ident {
    /// The line as received, without CR LF (V_S of the exchange hash).
    raw: Vec<u8>,
    /// `protoversion`, e.g. `2.0` or `1.99`.
    proto: String,
    /// `softwareversion` and the comments, e.g. `OpenSSH_9.2p1 Debian-2`, cleaned.
    software: String,
}

impl Ident {
    /// Whether the server speaks only the obsolete protocol 1 (`1.99` means 2 and 1).
    fn is_version_1(&self) -> bool {
        self.proto.starts_with("1.") && self.proto != "1.99"
    }

    /// The line for a summary, cleaned and bounded.
    fn shown(&self) -> String {
        clean(&self.raw, MAX_SHOWN)
    }
}

/// The host key a server proved (or failed to prove) it holds.
#[derive(Debug, Clone, PartialEq)]
struct HostKey {
    /// The key exchange method agreed on.
    kex: String,
    /// The host key algorithm agreed on.
    algorithm: String,
    /// The fingerprint of the key blob, `SHA256:...`.
    fingerprint: String,
    /// Whether its signature over the exchange hash verified.
    verified: Result<(), BadSignature>,
}

/// Why a run ended before it could be judged.
#[derive(Debug)]
enum Failure {
    /// A host call failed: what was being attempted, and the error.
    Net(String, NetError),
    /// A failure found by the plugin: its reason and summary.
    Critical(Reason, String),
    /// The server ended the connection with SSH_MSG_DISCONNECT: the summary.
    Disconnected(String),
    /// The plugin cannot go on (no randomness): the summary.
    Unknown(String),
}

impl Failure {
    /// The result it becomes.
    fn result(self) -> CheckResult {
        match self {
            Failure::Net(context, err) => net_failure(&context, &err),
            Failure::Critical(reason, summary) => critical(summary, reason),
            Failure::Disconnected(summary) => critical(summary, Reason::Protocol),
            Failure::Unknown(summary) => unknown(summary, Reason::PluginError),
        }
    }
}

/// A peer that breaks the protocol.
fn protocol(summary: String) -> Failure {
    Failure::Critical(Reason::Protocol, summary)
}

/// Reads the identification, sends ours and, when the config asks for it, runs the key
/// exchange; then says goodbye unless the connection is already gone.
fn converse(
    config: &Config,
    connection: &Connection,
    deadline: &Deadline,
    session: &mut Session,
) -> Result<(), Failure> {
    let mut stream = Stream::new(connection, *deadline, MAX_RECEIVED);
    let connected = Instant::now();
    let ident = read_ident(&mut stream, &session.link.target, deadline)?;
    session.banner_us = Some(micros(connected));
    let version_1 = ident.is_version_1();
    session.ident = Some(ident);
    if version_1 {
        // Nothing to say to it: judge reports the version.
        return Ok(());
    }
    let sent = Instant::now();
    stream
        .send(format!("{CLIENT_IDENT}\r\n").as_bytes())
        .map_err(|err| Failure::Net(format!("send the identification to {}", session.link.target), err))?;
    let outcome =
        if config.wants_key_exchange() { key_exchange(config, &mut stream, session, deadline) } else { Ok(()) };
    if outcome.is_ok() && config.wants_key_exchange() {
        session.kex_us = Some(micros(sent));
    }
    // A goodbye the server may log, unless it has gone or hangs; a failed send changes nothing.
    if matches!(&outcome, Ok(()) | Err(Failure::Critical(Reason::Protocol | Reason::Assertion, _))) {
        let _ = stream.send(&disconnect_packet());
    }
    outcome
}

/// Peer bytes for a summary: UTF-8 (invalid bytes replaced), every control character a
/// space, then [`sanitize`]d, so that none is left at either end.
fn clean(bytes: &[u8], max_chars: usize) -> String {
    let text: String = String::from_utf8_lossy(bytes).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    sanitize(&text, max_chars)
}

/// Microseconds since `start`.
fn micros(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Our SSH_MSG_DISCONNECT, framed: reason "by application", description "check done".
fn disconnect_packet() -> Vec<u8> {
    let payload =
        wire::Writer::message(MSG_DISCONNECT).u32(DISCONNECT_BY_APPLICATION).string(b"check done").string(b"").finish();
    wire::packet(&payload)
}

/// The server's identification line, skipping the other lines a server may send first.
fn read_ident(stream: &mut Stream, target: &str, deadline: &Deadline) -> Result<Ident, Failure> {
    let mut first_other: Option<String> = None;
    let after = |first: &Option<String>| first.as_ref().map(|l| format!(" after \"{l}\"")).unwrap_or_default();
    for _ in 0..=MAX_LINES {
        let line = match stream.read_line(MAX_LINE) {
            Ok(line) => line,
            Err(NetError::Timeout(_)) => {
                let waited = format_duration(deadline.elapsed());
                return Err(match &first_other {
                    None => Failure::Critical(
                        Reason::Timeout,
                        format!("no SSH identification from {target} within {waited}"),
                    ),
                    Some(line) => {
                        protocol(format!("no SSH identification from {target} within {waited}; it sent \"{line}\""))
                    }
                });
            }
            Err(NetError::Protocol(why)) => {
                return Err(protocol(format!("{target} sent no SSH identification{}: {why}", after(&first_other))));
            }
            Err(err) => return Err(Failure::Net(format!("receive from {target}"), err)),
        };
        if line.starts_with(b"SSH-") {
            return parse_ident(line, target);
        }
        if line.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            let shown = clean(&line, MAX_SHOWN);
            return Err(protocol(format!("{target} does not speak SSH: it sent \"{shown}\"")));
        }
        if first_other.is_none() {
            first_other = Some(clean(&line, MAX_SHOWN));
        }
    }
    Err(protocol(format!(
        "{target} sent more than {MAX_LINES} lines without an SSH identification, the first \"{}\"",
        first_other.unwrap_or_default()
    )))
}

/// Splits an identification line (starting with `SSH-`) into its parts.
fn parse_ident(raw: Vec<u8>, target: &str) -> Result<Ident, Failure> {
    let text = String::from_utf8_lossy(&raw).into_owned();
    let shown = clean(&raw, MAX_SHOWN);
    let rest = text.get(4..).unwrap_or_default();
    let Some((proto, software)) = rest.split_once('-') else {
        return Err(protocol(format!("{target} sent a malformed SSH identification \"{shown}\"")));
    };
    let numeric = !proto.is_empty() && proto.chars().all(|c| c.is_ascii_digit() || c == '.');
    let ident = Ident { proto: sanitize(proto, 16), software: clean(software.as_bytes(), MAX_SHOWN), raw };
    if !numeric {
        return Err(protocol(format!("{target} sent a malformed SSH identification \"{shown}\"")));
    }
    if ident.proto != "2.0" && !ident.proto.starts_with("1.") {
        return Err(protocol(format!("{target} speaks SSH protocol version {} (\"{shown}\"), not 2.0", ident.proto)));
    }
    Ok(ident)
}

/// The key exchange up to the server's verified reply (our identification is sent).
fn key_exchange(
    config: &Config,
    stream: &mut Stream,
    session: &mut Session,
    deadline: &Deadline,
) -> Result<(), Failure> {
    let target = session.link.target.clone();
    let server_kexinit = expect_message(stream, kex::MSG_KEXINIT, "KEXINIT", &target, deadline)?;
    let server = kex::parse_kexinit(&server_kexinit)
        .map_err(|why| protocol(format!("{target} sent a malformed KEXINIT: {why}")))?;
    let agreed = kex::negotiate(&config.host_key_algorithms, &server).map_err(|no| no_match(&target, config, no))?;

    let mut cookie = [0u8; 16];
    let mut secret = [0u8; 32];
    if let Err(err) = getrandom::fill(&mut cookie).and_then(|()| getrandom::fill(&mut secret)) {
        return Err(Failure::Unknown(format!("no random numbers for the key exchange: {err}")));
    }
    let secret = x25519_dalek::StaticSecret::from(secret);
    let q_c = x25519_dalek::PublicKey::from(&secret).to_bytes();
    let client_kexinit = kex::client_kexinit(&cookie, &config.host_key_algorithms);
    let mut out = wire::packet(&client_kexinit);
    out.extend_from_slice(&wire::packet(&kex::ecdh_init(&q_c)));
    stream.send(&out).map_err(|err| Failure::Net(format!("send KEXINIT to {target}"), err))?;

    if agreed.skip_guess {
        // The server guessed the methods wrong; its guessed packet is to be ignored.
        read_packet(stream, "key exchange reply", &target, deadline)?;
    }
    let payload = expect_message(stream, kex::MSG_KEX_ECDH_REPLY, "key exchange reply", &target, deadline)?;
    let reply = kex::parse_reply(&payload)
        .map_err(|why| protocol(format!("{target} sent a malformed key exchange reply: {why}")))?;
    let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(reply.q_s));
    if !shared.was_contributory() {
        return Err(protocol(format!("{target} sent an ephemeral X25519 key of small order")));
    }
    let h = kex::exchange_hash(&Transcript {
        client_ident: CLIENT_IDENT.as_bytes(),
        server_ident: session.ident.as_ref().map(|i| i.raw.as_slice()).unwrap_or_default(),
        client_kexinit: &client_kexinit,
        server_kexinit: &server_kexinit,
        host_key: &reply.host_key,
        q_c: &q_c,
        q_s: &reply.q_s,
        shared_secret: shared.as_bytes(),
    });
    session.host_key = Some(HostKey {
        verified: kex::verify(&agreed.host_key, &reply.host_key, &reply.signature, &h),
        fingerprint: kex::fingerprint(&reply.host_key),
        kex: agreed.kex,
        algorithm: agreed.host_key,
    });
    Ok(())
}

/// The failure for algorithms the server and the check do not share.
fn no_match(target: &str, config: &Config, no: NoMatch) -> Failure {
    let list = |names: &[String]| sanitize(&names.join(","), 200);
    match no {
        NoMatch::Kex(theirs) => protocol(format!(
            "{target} offers no key exchange method this check speaks ({}): it offers {}",
            kex::KEX_ALGORITHMS[0],
            list(&theirs)
        )),
        NoMatch::HostKey(theirs) => Failure::Critical(
            Reason::Assertion,
            format!(
                "{target} offers host keys of types {}, none of host_key_algorithms {}",
                list(&theirs),
                config.host_key_algorithms.join(",")
            ),
        ),
        NoMatch::Other(what, theirs) => protocol(format!(
            "{target} offers no {what} in common with OpenSSH's defaults: it offers {}",
            list(&theirs)
        )),
    }
}

/// The next message numbered `wanted`, skipping IGNORE and DEBUG; a DISCONNECT or any
/// other message ends the run.
fn expect_message(
    stream: &mut Stream,
    wanted: u8,
    what: &str,
    target: &str,
    deadline: &Deadline,
) -> Result<Vec<u8>, Failure> {
    for _ in 0..=MAX_SKIPPED {
        let payload = read_packet(stream, what, target, deadline)?;
        match payload[0] {
            n if n == wanted => return Ok(payload),
            MSG_IGNORE | MSG_DEBUG => continue,
            MSG_DISCONNECT => return Err(Failure::Disconnected(disconnected(&payload, target))),
            n => return Err(protocol(format!("{target} sent message {n} where its {what} was expected"))),
        }
    }
    Err(protocol(format!("{target} sent more than {MAX_SKIPPED} IGNORE or DEBUG messages before its {what}")))
}

/// The summary of a server's SSH_MSG_DISCONNECT.
fn disconnected(payload: &[u8], target: &str) -> String {
    let mut r = Reader::new(payload);
    let _ = r.byte("message number");
    let code = r.u32("reason code");
    let text = r.string("description").map(|d| clean(d, MAX_SHOWN));
    match (code, text) {
        (Ok(code), Ok(text)) => format!("{target} disconnected during the key exchange: \"{text}\" (reason {code})"),
        _ => format!("{target} disconnected during the key exchange"),
    }
}

/// One unencrypted binary packet's payload (at least its message number).
fn read_packet(stream: &mut Stream, what: &str, target: &str, deadline: &Deadline) -> Result<Vec<u8>, Failure> {
    let read_failure = |err: NetError| match err {
        NetError::Timeout(_) => Failure::Critical(
            Reason::Timeout,
            format!("no {what} from {target} within {}", format_duration(deadline.elapsed())),
        ),
        NetError::Protocol(why) => protocol(format!("{target} sent no {what}: {why}")),
        err => Failure::Net(format!("receive from {target}"), err),
    };
    let head = stream.read_exact(4).map_err(read_failure)?;
    let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if let Err(why) = wire::check_length(length) {
        if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            // Text, such as a server's complaint about our identification: quote its line.
            let mut text = head;
            text.extend(stream.read_line(2 * MAX_SHOWN).unwrap_or_default());
            let shown = clean(text.split(|&b| b == b'\n').next().unwrap_or_default(), MAX_SHOWN);
            return Err(protocol(format!("{target} sent text where its {what} was expected: \"{shown}\"")));
        }
        return Err(protocol(format!("{target} sent a malformed packet where its {what} was expected: {why}")));
    }
    let body = stream.read_exact(length as usize).map_err(read_failure)?;
    let payload = wire::payload(&body)
        .map_err(|why| protocol(format!("{target} sent a malformed packet where its {what} was expected: {why}")))?;
    Ok(payload.to_vec())
}

/// The result of a run that got the identification (and the reply, when asked for).
fn judge(config: &Config, session: &Session) -> CheckResult {
    let result = verdict(config, session);
    result.with_metrics(metrics(config, session)).with_details(details(config, session))
}

/// Status, reason and summary.
fn verdict(config: &Config, session: &Session) -> CheckResult {
    let target = &session.link.target;
    let Some(ident) = &session.ident else {
        return unknown(format!("no identification was read from {target}"), Reason::PluginError);
    };
    if ident.is_version_1() {
        return critical(
            format!(
                "{target} speaks SSH protocol version 1 only (\"{}\"), which is obsolete and insecure",
                ident.shown()
            ),
            Reason::Protocol,
        );
    }
    let total_ms = us_to_ms(total_us(session));
    let mut headline = format!("{} (SSH-{}) on {target} in {}", ident.software, ident.proto, format_ms(total_ms));
    if let Some(key) = &session.host_key {
        let fp = &key.fingerprint;
        match &key.verified {
            Ok(()) => {}
            Err(BadSignature::Invalid) => {
                return critical(
                    format!(
                        "{target} presented host key {fp} ({}) but its signature over the key exchange does not verify",
                        key.algorithm
                    ),
                    Reason::Protocol,
                );
            }
            Err(BadSignature::Malformed(why)) => {
                return critical(
                    format!("{target} sent a key exchange reply that does not hold: {why}"),
                    Reason::Protocol,
                );
            }
        }
        match &config.host_key_fingerprint {
            Some(pins) if !pins.contains(fp) => {
                return critical(
                    format!("host key {fp} does not match the pinned {}", pins.shown()),
                    Reason::Assertion,
                );
            }
            Some(_) => headline.push_str(&format!(", host key {fp} ({}) as pinned", key.algorithm)),
            None => headline.push_str(&format!(", host key {fp} ({})", key.algorithm)),
        }
    }
    if let Some(expect) = &config.expect_banner
        && !String::from_utf8_lossy(&ident.raw).contains(expect.as_str())
    {
        return critical(
            format!(
                "the identification \"{}\" of {target} does not contain \"{}\"",
                ident.shown(),
                sanitize(expect, MAX_SHOWN)
            ),
            Reason::Assertion,
        );
    }
    match config.time_thresholds().evaluate(total_ms) {
        Status::Critical => critical(
            format!("{headline}: slower than crit_time {}", shown_duration(config.crit_time)),
            Reason::Assertion,
        ),
        Status::Warning => warning(
            format!("{headline}: slower than warn_time {}", shown_duration(config.warn_time)),
            Reason::Assertion,
        ),
        _ => ok(headline),
    }
}

/// The details of a run: where it went and what the server showed.
fn details(config: &Config, session: &Session) -> String {
    let mut lines = vec![format!("remote address: {}", session.link.remote)];
    if let Some(ident) = &session.ident {
        lines.push(format!("identification: {}", clean(&ident.raw, 255)));
    }
    if let Some(key) = &session.host_key {
        lines.push(format!("key exchange: {}, host key algorithm {}", key.kex, key.algorithm));
        lines.push(format!("host key: {}", key.fingerprint));
        lines.push(
            match &key.verified {
                Ok(()) => "signature over the exchange hash: verified",
                Err(_) => "signature over the exchange hash: NOT verified",
            }
            .to_string(),
        );
        if config.host_key_fingerprint.as_ref().is_some_and(|pins| !pins.contains(&key.fingerprint)) {
            lines.push(format!(
                "to pin a key of another type than {}, put its algorithm first in host_key_algorithms",
                key.algorithm
            ));
        }
    }
    lines.join("\n")
}

/// The whole run.
fn total_us(session: &Session) -> u64 {
    u64::try_from(session.link.elapsed.as_micros()).unwrap_or(u64::MAX)
}

/// Connect, DNS, identification, key exchange and total times, and the protocol version.
fn metrics(config: &Config, session: &Session) -> Vec<Metric> {
    let mut metrics = session.link.timings.phase_metrics(None, Thresholds::default());
    if let Some(us) = session.banner_us {
        metrics.push(metric("time_banner", us_to_ms(us), "ms").min(0.0));
    }
    if let Some(us) = session.kex_us {
        metrics.push(metric("time_kex", us_to_ms(us), "ms").min(0.0));
    }
    let thresholds = config.time_thresholds();
    metrics.push(
        metric("time_total", us_to_ms(total_us(session)), "ms")
            .warn_opt(thresholds.warn)
            .crit_opt(thresholds.crit)
            .min(0.0),
    );
    if let Some(version) = session.ident.as_ref().and_then(|i| i.proto.parse::<f64>().ok()) {
        metrics.push(metric("protocol_version", version, "").min(0.0));
    }
    metrics
}

#[cfg(test)]
mod tests;
