//! The built-in `mqtt` check plugin of Vitals.
//!
//! It connects to an MQTT 3.1.1 broker at `host:port` through the host's `tcp` interface
//! (optionally over TLS), sends CONNECT and judges the CONNACK; optionally it subscribes to
//! a topic, publishes a message there and waits for it to come back (a round trip through
//! the broker), then disconnects. The CONNACK time can carry warning and critical
//! thresholds.

mod config;
mod wire;

use std::time::{Duration, Instant};

use vitals_sdk::session::{Link, Peer};
use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, critical, description, duration_ms, first_line, format_bytes, format_ms, metric, net_failure, ok,
    register_check, sanitize, shown_duration, us_to_ms, warning,
};

use crate::config::{Config, default_client_id, random_u32};
use crate::wire::Packet;

/// How long a quoted peer text may get in a summary.
const MAX_SHOWN: usize = 80;
/// Everything a broker may send in one run: a few retained messages of the largest size.
const STREAM_LIMIT: usize = 4 * wire::MAX_PACKET;
/// Other messages on the round-trip topic that are skipped before giving up on ours.
const MAX_SKIPPED: usize = 100;
/// The packet identifier of the one SUBSCRIBE.
const PACKET_ID: u16 = 1;

/// The `mqtt` check.
pub struct Mqtt;

impl Check for Mqtt {
    fn describe() -> Description {
        description(
            "mqtt",
            env!("CARGO_PKG_VERSION"),
            "Connects to an MQTT 3.1.1 broker at host:port (optionally over TLS), sends \
             CONNECT with a clean session (anonymous, or with user and password) and checks \
             that the broker accepts it; a refused login is critical. With round_trip, it \
             also subscribes to a topic, publishes a message there and waits until the broker \
             delivers it back, then disconnects. Reports time_connect, time_tls (with TLS), \
             time_connack (CONNECT to CONNACK, judged against warn_time and crit_time), \
             time_round_trip (PUBLISH to its delivery back) and time_total, all in ms.",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        Config::problems(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        let deadline = Deadline::from_ms(request.deadline_ms);
        let config = match Config::load(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let client_id = config.client_id.clone().unwrap_or_else(|| default_client_id(&request.name, random_u32()));
        let topic = config.topic.clone().unwrap_or_else(|| format!("vitals/{client_id}"));
        let Peer { connection, link, .. } = match Peer::open(&request, &deadline) {
            Ok(peer) => peer,
            Err(result) => return result,
        };
        let mut session = Session { link, client_id, topic, connack: None, session_present: false, round_trip: None };
        let outcome = converse(&config, &connection, &deadline, &mut session);
        drop(connection);
        session.link.elapsed = deadline.elapsed();
        judge(&config, &session, outcome)
    }
}

register_check!(Mqtt);

/// What happened on the connection, for judging it.
#[derive(Debug)]
struct Session {
    /// The target, the address connected to and the phase times.
    link: Link,
    /// The client identifier sent in CONNECT.
    client_id: String,
    /// The round trip's topic.
    topic: String,
    /// CONNECT sent to CONNACK read, once it was.
    connack: Option<Duration>,
    /// What the CONNACK said of the session.
    session_present: bool,
    /// PUBLISH sent to its delivery back, once it came.
    round_trip: Option<Duration>,
}

/// Why a conversation did not end well.
#[derive(Debug, PartialEq)]
enum Failure {
    /// A host call failed while doing what the text says.
    Net(String, NetError),
    /// The peer does not speak MQTT or broke it: the summary.
    Protocol(String),
    /// The broker speaks MQTT but refused (a login, a subscription): the summary.
    Refused(String),
}

/// TLS, CONNECT/CONNACK, the optional round trip, DISCONNECT.
fn converse(
    config: &Config,
    connection: &Connection,
    deadline: &Deadline,
    session: &mut Session,
) -> Result<(), Failure> {
    let target = session.link.target.clone();
    if config.tls {
        let us = connection
            .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
            .map_err(|err| Failure::Net(format!("TLS handshake with {target}"), err))?;
        session.link.tls_us = Some(us);
    }
    let mut reader = Reader::new(Stream::new(connection, *deadline, STREAM_LIMIT), config.password.as_deref());
    let connect =
        wire::connect(&session.client_id, config.keepalive_secs(), config.user.as_deref(), config.password.as_deref());
    let sent = Instant::now();
    reader.send(&connect).map_err(|err| Failure::Net(format!("send CONNECT to {target}"), err))?;
    let packet = reader.next(&[wire::CONNACK]).map_err(|e| e.into_failure(&reader, &target, "CONNACK", true))?;
    session.connack = Some(sent.elapsed());
    let ack = wire::parse_connack(&packet.body)
        .map_err(|why| Failure::Protocol(format!("{target} sent a malformed CONNACK: {why}")))?;
    session.session_present = ack.session_present;
    let text = wire::connack_text(ack.code);
    match ack.code {
        0 => {}
        4 | 5 => {
            let who = match &config.user {
                Some(user) => format!("for user \"{}\"", sanitize(user, MAX_SHOWN)),
                None => "without a user name".to_string(),
            };
            return Err(Failure::Refused(format!("authentication failed {who}: {text} (CONNACK {})", ack.code)));
        }
        1 => return Err(Failure::Protocol(format!("{target} refused the connection: {text} (CONNACK 1)"))),
        code => return Err(Failure::Refused(format!("{target} refused the connection: {text} (CONNACK {code})"))),
    }
    if config.round_trip {
        round_trip(&mut reader, session)?;
    }
    // The answer is in; a broker that has gone by now changes nothing.
    let _ = reader.send(&wire::DISCONNECT);
    Ok(())
}

/// SUBSCRIBE/SUBACK, then PUBLISH and wait for the message to come back.
fn round_trip(reader: &mut Reader, session: &mut Session) -> Result<(), Failure> {
    let target = session.link.target.clone();
    let topic = session.topic.clone();
    let shown_topic = sanitize(&topic, MAX_SHOWN);
    reader
        .send(&wire::subscribe(PACKET_ID, &topic))
        .map_err(|err| Failure::Net(format!("send SUBSCRIBE to {target}"), err))?;
    // A retained message or a PINGRESP may come first; the SUBACK is the one awaited.
    let codes = loop {
        let packet = reader
            .next(&[wire::SUBACK, wire::PUBLISH, wire::PINGRESP])
            .map_err(|e| e.into_failure(reader, &target, "SUBACK", false))?;
        if packet.kind != wire::SUBACK {
            continue;
        }
        let (id, codes) = wire::parse_suback(&packet.body)
            .map_err(|why| Failure::Protocol(format!("{target} sent a malformed SUBACK: {why}")))?;
        if id != PACKET_ID {
            return Err(Failure::Protocol(format!("{target} sent a SUBACK for packet {id}, not {PACKET_ID}")));
        }
        break codes;
    };
    match codes.as_slice() {
        [0..=2] => {}
        [0x80] => {
            return Err(Failure::Refused(format!(
                "{target} refused the subscription to \"{shown_topic}\" (SUBACK 0x80, not authorized?)"
            )));
        }
        _ => return Err(Failure::Protocol(format!("{target} sent a SUBACK with return codes {codes:02x?}"))),
    }
    let payload = format!("vitals round trip {}", session.client_id).into_bytes();
    let sent = Instant::now();
    reader
        .send(&wire::publish(&topic, &payload))
        .map_err(|err| Failure::Net(format!("send PUBLISH to {target}"), err))?;
    let mut skipped = 0;
    loop {
        let what = format!("the message on \"{shown_topic}\" back");
        let packet =
            reader.next(&[wire::PUBLISH, wire::PINGRESP]).map_err(|e| e.into_failure(reader, &target, &what, false))?;
        if packet.kind != wire::PUBLISH {
            continue;
        }
        let (got_topic, got_payload) = wire::parse_publish(packet.flags, &packet.body)
            .map_err(|why| Failure::Protocol(format!("{target} sent a malformed PUBLISH: {why}")))?;
        if got_topic == topic.as_bytes() && got_payload == payload {
            session.round_trip = Some(sent.elapsed());
            return Ok(());
        }
        skipped += 1;
        if skipped >= MAX_SKIPPED {
            return Err(Failure::Refused(format!(
                "{target} delivered {skipped} other messages on \"{shown_topic}\" but not the one published"
            )));
        }
    }
}

/// Why a packet could not be read.
#[derive(Debug)]
enum ReadError {
    /// The host call failed.
    Net(NetError),
    /// The peer closed the connection.
    Closed,
    /// A packet of a type that does not belong here.
    Unexpected(u8),
    /// A remaining length that does not decode.
    Malformed(String),
    /// A packet announced larger than [`wire::MAX_PACKET`].
    TooBig(usize),
    /// More than [`STREAM_LIMIT`] from the peer in all.
    Flood,
}

impl ReadError {
    /// The failure, worded for `target` while `what` was awaited; `first` when no packet
    /// has been read yet, where anything unexpected means the peer is not a broker.
    fn into_failure(self, reader: &Reader, target: &str, what: &str, first: bool) -> Failure {
        let got = reader.quote_buffer();
        match self {
            ReadError::Net(err) => Failure::Net(format!("waiting for {what} from {target}"), err),
            ReadError::Closed if reader.pending() == 0 => {
                Failure::Protocol(format!("{target} closed the connection before sending {what}"))
            }
            ReadError::Closed => {
                Failure::Protocol(format!("{target} closed the connection in the middle of a packet, after {got}"))
            }
            ReadError::Unexpected(_) if first => {
                Failure::Protocol(format!("{target} does not speak MQTT: expected {what}, got {got}"))
            }
            ReadError::Unexpected(kind) => {
                Failure::Protocol(format!("{target} sent {} while {what} was expected", wire::type_name(kind)))
            }
            ReadError::Malformed(why) if first => {
                Failure::Protocol(format!("{target} does not speak MQTT: {why}, got {got}"))
            }
            ReadError::Malformed(why) => Failure::Protocol(format!("{target} sent {why}")),
            ReadError::TooBig(n) if first => Failure::Protocol(format!(
                "{target} does not speak MQTT: a packet of {} announced (at most {}), got {got}",
                format_bytes(n as u64),
                format_bytes(wire::MAX_PACKET as u64)
            )),
            ReadError::TooBig(n) => Failure::Protocol(format!(
                "{target} announced a packet of {} (at most {} is read)",
                format_bytes(n as u64),
                format_bytes(wire::MAX_PACKET as u64)
            )),
            ReadError::Flood => Failure::Protocol(format!(
                "{target} sent more than {} without {what}",
                format_bytes(STREAM_LIMIT as u64)
            )),
        }
    }
}

/// Packets from the broker, read through the SDK's deadline- and size-bounded stream.
struct Reader<'a> {
    stream: Stream<'a>,
    /// Bytes received and not yet taken as packets.
    buffer: Vec<u8>,
    /// The configured password, never to be quoted back even if a peer echoes it.
    secret: Option<&'a str>,
}

impl<'a> Reader<'a> {
    fn new(stream: Stream<'a>, secret: Option<&'a str>) -> Reader<'a> {
        Reader { stream, buffer: Vec::new(), secret }
    }

    fn send(&self, data: &[u8]) -> Result<(), NetError> {
        self.stream.send(data)
    }

    /// Bytes waiting in the buffer.
    fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// The buffer quoted for a summary (the password, should it be there, masked).
    fn quote_buffer(&self) -> String {
        quote(&self.buffer, self.secret)
    }

    /// One more piece from the peer.
    fn fill(&mut self) -> Result<(), ReadError> {
        if self.stream.received() >= STREAM_LIMIT {
            return Err(ReadError::Flood);
        }
        let chunk = self.stream.read_some().map_err(ReadError::Net)?;
        if chunk.is_empty() {
            return Err(ReadError::Closed);
        }
        self.buffer.extend_from_slice(&chunk);
        Ok(())
    }

    /// The next packet, which must be of one of the `allowed` types: that is checked on its
    /// first byte, before waiting for the rest.
    fn next(&mut self, allowed: &[u8]) -> Result<Packet, ReadError> {
        while self.buffer.is_empty() {
            self.fill()?;
        }
        let kind = self.buffer[0] >> 4;
        if !allowed.contains(&kind) {
            return Err(ReadError::Unexpected(kind));
        }
        let (length, used) = loop {
            match wire::decode_length(&self.buffer[1..]) {
                Ok(Some(decoded)) => break decoded,
                Ok(None) => self.fill()?,
                Err(why) => return Err(ReadError::Malformed(why)),
            }
        };
        if length > wire::MAX_PACKET {
            return Err(ReadError::TooBig(length));
        }
        let end = 1 + used + length;
        while self.buffer.len() < end {
            self.fill()?;
        }
        let packet = Packet { kind, flags: self.buffer[0] & 0x0F, body: self.buffer[1 + used..end].to_vec() };
        self.buffer.drain(..end);
        Ok(packet)
    }
}

/// Peer bytes for a summary: text in quotes when they read as text, else the first bytes in
/// hex; `secret` masked either way.
fn quote(bytes: &[u8], secret: Option<&str>) -> String {
    let mut bytes = bytes.to_vec();
    if let Some(secret) = secret.map(str::as_bytes).filter(|s| !s.is_empty()) {
        while let Some(at) = bytes.windows(secret.len()).position(|w| w == secret) {
            bytes.splice(at..at + secret.len(), b"***".iter().copied());
        }
    }
    let head = &bytes[..bytes.len().min(MAX_SHOWN)];
    let texty = head.iter().filter(|&&b| b.is_ascii_graphic() || b" \t\r\n".contains(&b)).count();
    if !head.is_empty() && texty * 4 >= head.len() * 3 {
        return format!("\"{}\"", first_line(head, MAX_SHOWN).trim());
    }
    let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 16 { "…" } else { "" };
    format!("bytes {}{more}", hex.join(" "))
}

/// The result of a conversation.
fn judge(config: &Config, session: &Session, outcome: Result<(), Failure>) -> CheckResult {
    let result = match outcome {
        Err(Failure::Net(context, err)) => net_failure(&context, &err),
        Err(Failure::Protocol(summary)) => critical(summary, Reason::Protocol),
        Err(Failure::Refused(summary)) => critical(summary, Reason::Assertion),
        Ok(()) => {
            let connack = session.connack.map(duration_ms).unwrap_or_default();
            let who = match &config.user {
                Some(user) => format!("user \"{}\"", sanitize(user, MAX_SHOWN)),
                None => "an anonymous client".to_string(),
            };
            let mut headline = format!("{} accepted {who} in {}", session.link.target, format_ms(connack));
            if let Some(round_trip) = session.round_trip {
                headline.push_str(&format!(", round trip in {}", format_ms(duration_ms(round_trip))));
            }
            match config.time_thresholds().evaluate(connack) {
                Status::Critical => critical(
                    format!("{headline}: CONNACK slower than crit_time {}", shown_duration(config.crit_time)),
                    Reason::Assertion,
                ),
                Status::Warning => warning(
                    format!("{headline}: CONNACK slower than warn_time {}", shown_duration(config.warn_time)),
                    Reason::Assertion,
                ),
                _ => ok(headline),
            }
        }
    };
    let mut details =
        vec![format!("remote address: {}", session.link.remote), format!("client id: {}", session.client_id)];
    if session.connack.is_some() {
        details.push(format!("session present: {}", if session.session_present { "yes" } else { "no" }));
    }
    if config.round_trip {
        details.push(format!("round-trip topic: {}", session.topic));
    }
    result.with_metrics(metrics(config, session)).with_details(details.join("\n"))
}

/// Connect, TLS, CONNACK, round-trip and total times: those that were measured.
fn metrics(config: &Config, session: &Session) -> Vec<Metric> {
    let thresholds = config.time_thresholds();
    let mut metrics = vec![metric("time_connect", us_to_ms(session.link.timings.connect_time_us()), "ms").min(0.0)];
    if let Some(us) = session.link.tls_us {
        metrics.push(metric("time_tls", us_to_ms(us), "ms").min(0.0));
    }
    if let Some(connack) = session.connack {
        metrics.push(
            metric("time_connack", duration_ms(connack), "ms")
                .warn_opt(thresholds.warn)
                .crit_opt(thresholds.crit)
                .min(0.0),
        );
    }
    if let Some(round_trip) = session.round_trip {
        metrics.push(metric("time_round_trip", duration_ms(round_trip), "ms").min(0.0));
    }
    metrics.push(metric("time_total", duration_ms(session.link.elapsed), "ms").min(0.0));
    metrics
}

#[cfg(test)]
mod tests;
