//! The built-in `amqp` check plugin of Vitals.
//!
//! It opens an AMQP 0-9-1 connection (RabbitMQ and its kin) to `host:port` through the
//! host's `tcp` interface, optionally over TLS: protocol header, Connection.Start (the
//! server's product and version), a PLAIN login, Tune and Open of a virtual host.
//! Optionally it declares a temporary queue, publishes a message to it and consumes it back
//! (a round trip through the broker), then closes the channel and the connection. The time
//! to open the connection can carry warning and critical thresholds.

mod config;
mod wire;

use std::time::{Duration, Instant};

use vitals_sdk::session::{self, Peer};
use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, critical, description, duration_ms, first_line, format_bytes, format_ms, metric, net_failure, ok,
    register_check, sanitize, shown_duration, us_to_ms, warning,
};

use crate::config::Config;
use crate::wire::{Frame, MethodId, Tune};

/// How long a quoted peer text may get in a summary.
const MAX_SHOWN: usize = 80;
/// How long a server's reply text may get in a summary.
const MAX_REPLY: usize = 200;
/// The largest frame the check accepts, before and after Tune (RabbitMQ's default).
const OUR_FRAME_MAX: u32 = 131_072;
/// Everything a server may send in one run.
const STREAM_LIMIT: usize = 4 << 20;
/// The largest message body read back.
const MAX_BODY: u64 = 1 << 20;
/// The channel of the round trip.
const CHANNEL: u16 = 1;
/// The message of the round trip.
const BODY: &[u8] = b"vitals round trip";

/// The `amqp` check.
pub struct Amqp;

impl Check for Amqp {
    fn describe() -> Description {
        description(
            "amqp",
            env!("CARGO_PKG_VERSION"),
            "Opens an AMQP 0-9-1 connection (RabbitMQ) to host:port, optionally over TLS: \
             protocol header, Connection.Start (the server's product and version, named in the \
             summary), a PLAIN login as user, Tune and Open of vhost; a refused login is \
             critical. With round_trip, it also declares a temporary queue, publishes a message \
             to it and consumes it back, then closes the channel and the connection. Reports \
             time_connect, time_tls (with TLS), time_open (protocol header to \
             Connection.OpenOk, judged against warn_time and crit_time), time_round_trip \
             (Basic.Publish to Basic.Deliver) and time_total, all in ms.",
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
        let mut session =
            Session { link, server: None, tune: None, open: None, queue: None, round_trip: None, teardown: None };
        let outcome = converse(&config, &connection, &deadline, &mut session);
        drop(connection);
        session.link.elapsed = deadline.elapsed();
        judge(&config, &session, outcome)
    }
}

register_check!(Amqp);

/// What happened on the connection, for judging it.
#[derive(Debug)]
struct Session {
    /// The target, the address connected to and the phase times.
    link: session::Link,
    /// Connection.Start, once read.
    server: Option<wire::Start>,
    /// The limits agreed: channel_max, frame_max, and the server's heartbeat.
    tune: Option<Tune>,
    /// Protocol header sent to Connection.OpenOk read, once it was.
    open: Option<Duration>,
    /// The round trip's server-named queue.
    queue: Option<String>,
    /// Basic.Publish sent to Basic.Deliver read, once it was.
    round_trip: Option<Duration>,
    /// What went wrong closing the channel and connection after a good check.
    teardown: Option<String>,
}

/// Why a conversation did not end well.
#[derive(Debug, PartialEq)]
enum Failure {
    /// A host call failed while doing what the text says.
    Net(String, NetError),
    /// The peer does not speak AMQP 0-9-1 or broke it: the summary.
    Protocol(String),
    /// The server speaks AMQP but refused (a login, a vhost, a message): the summary.
    Refused(String),
    /// The server closed the connection (or the channel) with a reply code.
    Closed {
        /// The reply code.
        code: u16,
        /// The reply text, cleaned.
        text: String,
        /// Whether it was the channel, not the connection.
        channel: bool,
        /// What was awaited.
        waiting: String,
    },
    /// The server closed the socket while `.0` was awaited.
    Hangup(String),
}

/// The header, Start/StartOk, Tune/TuneOk, Open/OpenOk, the optional round trip, Close.
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
    let mut link = Link::new(Stream::new(connection, *deadline, STREAM_LIMIT), &config.password, &target);
    let started = Instant::now();
    link.send(&wire::PROTOCOL_HEADER, "the protocol header")?;
    let (_, args) = link.expect(0, &[wire::CONNECTION_START])?;
    let start = wire::parse_start(&args).map_err(|why| link.malformed("Connection.Start", &why))?;
    if start.version != (0, 9) {
        return Err(Failure::Protocol(format!(
            "{target} speaks AMQP {}-{}, not 0-9-1",
            start.version.0, start.version.1
        )));
    }
    let offers_plain = start.offers_plain();
    let mechanisms = sanitize(&start.mechanisms, MAX_SHOWN);
    session.server = Some(start);
    if !offers_plain {
        return Err(Failure::Refused(format!("{target} offers no PLAIN login (mechanisms: {mechanisms})")));
    }
    let user = sanitize(&config.user, MAX_SHOWN);
    link.send(&wire::start_ok(&config.user, &config.password), "Connection.StartOk")?;
    let tune = match link.expect(0, &[wire::CONNECTION_TUNE]) {
        Ok((_, args)) => wire::parse_tune(&args).map_err(|why| link.malformed("Connection.Tune", &why))?,
        Err(Failure::Closed { code: 403, text, channel: false, .. }) => {
            return Err(Failure::Refused(format!("authentication failed for user \"{user}\": {text}")));
        }
        // What the specification asks of a server that refuses a login, and what RabbitMQ
        // does for clients that do not announce authentication_failure_close.
        Err(Failure::Hangup(_)) => {
            return Err(Failure::Refused(format!(
                "authentication failed for user \"{user}\": the server closed the connection after Connection.StartOk"
            )));
        }
        Err(other) => return Err(other),
    };
    let frame_max = match tune.frame_max {
        0 => OUR_FRAME_MAX,
        n => n.min(OUR_FRAME_MAX),
    };
    if frame_max < wire::FRAME_MIN {
        return Err(Failure::Protocol(format!(
            "{target} proposed a frame_max of {frame_max} bytes, below the minimum of {}",
            wire::FRAME_MIN
        )));
    }
    session.tune = Some(Tune { channel_max: tune.channel_max, frame_max, heartbeat: tune.heartbeat });
    link.max_payload = frame_max as usize - wire::FRAME_OVERHEAD;
    let mut tune_open = wire::tune_ok(tune.channel_max, frame_max);
    tune_open.extend_from_slice(&wire::open(&config.vhost));
    link.send(&tune_open, "Connection.TuneOk and Connection.Open")?;
    match link.expect(0, &[wire::CONNECTION_OPEN_OK]) {
        Ok(_) => {}
        Err(Failure::Closed { code: 403 | 530, text, channel: false, .. }) => {
            let vhost = sanitize(&config.vhost, MAX_SHOWN);
            return Err(Failure::Refused(format!("virtual host \"{vhost}\" refused for user \"{user}\": {text}")));
        }
        Err(other) => return Err(other),
    }
    session.open = Some(started.elapsed());
    if config.round_trip {
        round_trip(&mut link, session)?;
    }
    // The answer is in: a failure to close only goes into the details.
    if let Err(failure) = close(&mut link) {
        session.teardown = Some(result_of(failure, &target).summary);
    }
    Ok(())
}

/// Channel.Open, Queue.Declare, Basic.Consume, then Basic.Publish and wait for the delivery.
fn round_trip(link: &mut Link, session: &mut Session) -> Result<(), Failure> {
    let target = session.link.target.clone();
    link.send(&wire::channel_open(CHANNEL), "Channel.Open")?;
    link.expect(CHANNEL, &[wire::CHANNEL_OPEN_OK])?;
    link.send(&wire::queue_declare(CHANNEL), "Queue.Declare")?;
    let (_, args) = link.expect(CHANNEL, &[wire::QUEUE_DECLARE_OK])?;
    let queue = wire::parse_declare_ok(&args).map_err(|why| link.malformed("Queue.DeclareOk", &why))?;
    if queue.is_empty() {
        return Err(Failure::Protocol(format!("{target} declared a queue without a name")));
    }
    session.queue = Some(String::from_utf8_lossy(&queue).into_owned());
    link.send(&wire::basic_consume(CHANNEL, &queue), "Basic.Consume")?;
    link.expect(CHANNEL, &[wire::BASIC_CONSUME_OK])?;
    let sent = Instant::now();
    link.send(&wire::basic_publish(CHANNEL, &queue, BODY), "Basic.Publish")?;
    let (id, args) = link.expect(CHANNEL, &[wire::BASIC_DELIVER, wire::BASIC_RETURN])?;
    let body = link.content(CHANNEL)?;
    if id == wire::BASIC_RETURN {
        let why = wire::parse_close(&args).map_err(|why| link.malformed("Basic.Return", &why))?;
        return Err(Failure::Refused(format!(
            "{target} returned the message published to its queue: {}",
            reply(why.code, &why.text)
        )));
    }
    if body != BODY {
        return Err(Failure::Refused(format!(
            "{target} delivered another message than the one published, got {}",
            quote(&body, None)
        )));
    }
    session.round_trip = Some(sent.elapsed());
    link.send(&wire::close(CHANNEL), "Channel.Close")?;
    link.expect(CHANNEL, &[wire::CHANNEL_CLOSE_OK])?;
    Ok(())
}

/// Connection.Close and its CloseOk.
fn close(link: &mut Link) -> Result<(), Failure> {
    link.send(&wire::close(0), "Connection.Close")?;
    link.expect(0, &[wire::CONNECTION_CLOSE_OK])?;
    Ok(())
}

/// A reply code and text for a summary: the text (RabbitMQ starts it with the code's
/// name), or the code alone when there is none.
fn reply(code: u16, text: &str) -> String {
    let text = sanitize(text, MAX_REPLY);
    if text.is_empty() { format!("reply code {code}") } else { text }
}

/// Why a frame could not be read.
#[derive(Debug)]
enum ReadError {
    /// The host call failed.
    Net(NetError),
    /// The peer closed the connection.
    Closed,
    /// A first byte that is no frame type.
    Unexpected,
    /// A frame that does not end with the frame-end byte: what was found.
    BadEnd(u8),
    /// A frame announced larger than the frame_max in force.
    TooBig(usize),
    /// More than [`STREAM_LIMIT`] from the peer in all.
    Flood,
}

/// Frames from the server, read through the SDK's deadline- and size-bounded stream.
struct Link<'a> {
    stream: Stream<'a>,
    /// Bytes received and not yet taken as frames.
    buffer: Vec<u8>,
    /// The configured password, never to be quoted back even if a peer echoes it.
    secret: &'a str,
    /// The target, for summaries.
    target: String,
    /// The largest frame payload accepted: ours until Tune, then the one agreed.
    max_payload: usize,
    /// Whether no frame has been read yet: anything odd then means the peer is not AMQP.
    first: bool,
}

impl<'a> Link<'a> {
    fn new(stream: Stream<'a>, secret: &'a str, target: &str) -> Link<'a> {
        Link {
            stream,
            buffer: Vec::new(),
            secret,
            target: target.to_string(),
            max_payload: OUR_FRAME_MAX as usize - wire::FRAME_OVERHEAD,
            first: true,
        }
    }

    /// Sends `data`, which is `what`.
    fn send(&self, data: &[u8], what: &str) -> Result<(), Failure> {
        self.stream.send(data).map_err(|err| Failure::Net(format!("send {what} to {}", self.target), err))
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

    /// The next frame: its type is checked on the first byte and its size on the header,
    /// before waiting for the rest.
    fn frame(&mut self) -> Result<Frame, ReadError> {
        while self.buffer.is_empty() {
            self.fill()?;
        }
        let kind = self.buffer[0];
        if ![wire::FRAME_METHOD, wire::FRAME_HEADER, wire::FRAME_BODY, wire::FRAME_HEARTBEAT].contains(&kind) {
            return Err(ReadError::Unexpected);
        }
        while self.buffer.len() < 7 {
            self.fill()?;
        }
        let channel = u16::from_be_bytes([self.buffer[1], self.buffer[2]]);
        let size = u32::from_be_bytes([self.buffer[3], self.buffer[4], self.buffer[5], self.buffer[6]]) as usize;
        if size > self.max_payload {
            return Err(ReadError::TooBig(size));
        }
        let end = 7 + size;
        while self.buffer.len() <= end {
            self.fill()?;
        }
        if self.buffer[end] != wire::FRAME_END {
            return Err(ReadError::BadEnd(self.buffer[end]));
        }
        let frame = Frame { kind, channel, payload: self.buffer[7..end].to_vec() };
        self.buffer.drain(..=end);
        self.first = false;
        Ok(frame)
    }

    /// The failure for `error` while `what` was awaited.
    fn read_failure(&self, error: ReadError, what: &str) -> Failure {
        let target = &self.target;
        let got = quote(&self.buffer, Some(self.secret));
        let not_amqp = format!("{target} does not speak AMQP 0-9-1");
        match error {
            ReadError::Net(err) => Failure::Net(format!("waiting for {what} from {target}"), err),
            ReadError::Closed if self.buffer.is_empty() => Failure::Hangup(what.to_string()),
            ReadError::Closed if self.first && self.buffer.starts_with(b"AMQP") => {
                header_failure(&not_amqp, &self.buffer)
            }
            ReadError::Closed => {
                Failure::Protocol(format!("{target} closed the connection in the middle of a frame, after {got}"))
            }
            ReadError::Unexpected if self.first && self.buffer.starts_with(b"AMQP") => {
                header_failure(&not_amqp, &self.buffer)
            }
            ReadError::Unexpected if self.first => Failure::Protocol(format!("{not_amqp}: expected {what}, got {got}")),
            ReadError::Unexpected => Failure::Protocol(format!(
                "{target} sent a frame of unknown type {} while {what} was expected",
                self.buffer.first().copied().unwrap_or_default()
            )),
            ReadError::BadEnd(byte) if self.first => {
                Failure::Protocol(format!("{not_amqp}: a frame ends with 0x{byte:02x}, not 0xce, got {got}"))
            }
            ReadError::BadEnd(byte) => {
                Failure::Protocol(format!("{target} sent a frame that ends with 0x{byte:02x}, not 0xce"))
            }
            ReadError::TooBig(size) if self.first => Failure::Protocol(format!(
                "{not_amqp}: a frame of {} announced (at most {}), got {got}",
                format_bytes(size as u64),
                format_bytes(self.max_payload as u64)
            )),
            ReadError::TooBig(size) => Failure::Protocol(format!(
                "{target} announced a frame of {}, more than the frame_max of {}",
                format_bytes(size as u64),
                format_bytes((self.max_payload + wire::FRAME_OVERHEAD) as u64)
            )),
            ReadError::Flood => Failure::Protocol(format!(
                "{target} sent more than {} without {what}",
                format_bytes(STREAM_LIMIT as u64)
            )),
        }
    }

    /// A method that does not decode.
    fn malformed(&self, what: &str, why: &str) -> Failure {
        Failure::Protocol(format!("{} sent a malformed {what}: {why}", self.target))
    }

    /// The next method on `channel` that is one of `wanted`, with its arguments. Heartbeats
    /// and Connection.Unblocked are skipped; the server's Close is answered with CloseOk and
    /// becomes [`Failure::Closed`].
    fn expect(&mut self, channel: u16, wanted: &[MethodId]) -> Result<(MethodId, Vec<u8>), Failure> {
        let what = wanted.iter().map(|&id| wire::method_name(id)).collect::<Vec<_>>().join(" or ");
        loop {
            let frame = self.frame().map_err(|error| self.read_failure(error, &what))?;
            match frame.kind {
                wire::FRAME_HEARTBEAT => continue,
                wire::FRAME_METHOD => {}
                _ => {
                    return Err(Failure::Protocol(format!(
                        "{} sent a content frame while {what} was expected",
                        self.target
                    )));
                }
            }
            let (id, args) = wire::parse_method(&frame.payload).map_err(|why| self.malformed("method frame", &why))?;
            if frame.channel == channel && wanted.contains(&id) {
                return Ok((id, args.to_vec()));
            }
            match id {
                wire::CONNECTION_CLOSE | wire::CHANNEL_CLOSE => {
                    let close = wire::parse_close(args).map_err(|why| self.malformed(&wire::method_name(id), &why))?;
                    // Answered as the protocol asks; the outcome is already decided.
                    let _ = self.stream.send(&wire::close_ok(frame.channel));
                    return Err(Failure::Closed {
                        code: close.code,
                        text: reply(close.code, &close.text),
                        channel: id == wire::CHANNEL_CLOSE,
                        waiting: what,
                    });
                }
                wire::CONNECTION_BLOCKED => {
                    let why = sanitize(&wire::parse_blocked(args), MAX_SHOWN);
                    return Err(Failure::Refused(format!("{} blocks publishing: {why}", self.target)));
                }
                wire::CONNECTION_UNBLOCKED => continue,
                _ => {
                    return Err(Failure::Protocol(format!(
                        "{} sent {} on channel {} while {what} was expected",
                        self.target,
                        wire::method_name(id),
                        frame.channel
                    )));
                }
            }
        }
    }

    /// A message's content on `channel`: the header frame, then body frames up to its size.
    fn content(&mut self, channel: u16) -> Result<Vec<u8>, Failure> {
        let target = self.target.clone();
        let mut size = None;
        let mut body = Vec::new();
        loop {
            let what = if size.is_none() { "a content header" } else { "a content body" };
            let frame = self.frame().map_err(|error| self.read_failure(error, what))?;
            if frame.kind == wire::FRAME_HEARTBEAT {
                continue;
            }
            match (size, frame.kind) {
                (None, wire::FRAME_HEADER) if frame.channel == channel => {
                    let announced = wire::parse_content_header(&frame.payload)
                        .map_err(|why| self.malformed("content header", &why))?;
                    if announced > MAX_BODY {
                        return Err(Failure::Protocol(format!(
                            "{target} announced a message of {}, more than the {} read",
                            format_bytes(announced),
                            format_bytes(MAX_BODY)
                        )));
                    }
                    size = Some(announced);
                }
                (Some(_), wire::FRAME_BODY) if frame.channel == channel => body.extend_from_slice(&frame.payload),
                _ => {
                    return Err(Failure::Protocol(format!(
                        "{target} sent a frame of type {} on channel {} while {what} was expected",
                        frame.kind, frame.channel
                    )));
                }
            }
            match size {
                Some(size) if body.len() as u64 == size => return Ok(body),
                Some(size) if body.len() as u64 > size => {
                    return Err(Failure::Protocol(format!(
                        "{target} sent a message body longer than the {size} bytes announced"
                    )));
                }
                _ => {}
            }
        }
    }
}

/// The failure for a server that answers the protocol header with its own.
fn header_failure(not_amqp: &str, buffer: &[u8]) -> Failure {
    let version: Vec<String> = buffer.iter().skip(4).take(4).map(u8::to_string).collect();
    Failure::Protocol(format!("{not_amqp}: it answered with the protocol header of AMQP {}", version.join(".")))
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

/// The result a failure stands for, without metrics; `server` names the peer in the
/// summaries that do not already.
fn result_of(failure: Failure, server: &str) -> CheckResult {
    match failure {
        Failure::Net(context, err) => net_failure(&context, &err),
        Failure::Protocol(summary) => critical(summary, Reason::Protocol),
        Failure::Refused(summary) => critical(summary, Reason::Assertion),
        Failure::Hangup(what) => {
            critical(format!("{server} closed the connection while {what} was expected"), Reason::Protocol)
        }
        Failure::Closed { code, text, channel, waiting } => {
            let what = if channel { "channel" } else { "connection" };
            // 501-505 and 540: the server says the client broke the protocol.
            let reason = if matches!(code, 501..=505 | 540) { Reason::Protocol } else { Reason::Assertion };
            critical(format!("{server} closed the {what} while {waiting} was expected: {text}"), reason)
        }
    }
}

/// The result of a conversation.
fn judge(config: &Config, session: &Session, outcome: Result<(), Failure>) -> CheckResult {
    let target = &session.link.target;
    let product = session.server.as_ref().and_then(|s| s.property("product")).map(|p| sanitize(p, 40));
    let version = session.server.as_ref().and_then(|s| s.property("version")).map(|v| sanitize(v, 40));
    let server = match (product, version) {
        (Some(product), Some(version)) => format!("{product} {version}"),
        (Some(product), None) => product,
        _ => "AMQP server".to_string(),
    };
    let result = match outcome {
        Err(failure @ Failure::Closed { .. }) => result_of(failure, &format!("{server} at {target}")),
        Err(failure) => result_of(failure, target),
        Ok(()) => {
            let open = session.open.map(duration_ms).unwrap_or_default();
            let user = sanitize(&config.user, MAX_SHOWN);
            let vhost = sanitize(&config.vhost, MAX_SHOWN);
            let mut headline =
                format!("{server} at {target}: user \"{user}\" opened vhost \"{vhost}\" in {}", format_ms(open));
            if let Some(round_trip) = session.round_trip {
                headline.push_str(&format!(", round trip in {}", format_ms(duration_ms(round_trip))));
            }
            match config.time_thresholds().evaluate(open) {
                Status::Critical => critical(
                    format!("{headline}: opening slower than crit_time {}", shown_duration(config.crit_time)),
                    Reason::Assertion,
                ),
                Status::Warning => warning(
                    format!("{headline}: opening slower than warn_time {}", shown_duration(config.warn_time)),
                    Reason::Assertion,
                ),
                _ => ok(headline),
            }
        }
    };
    result.with_metrics(metrics(config, session)).with_details(details(session))
}

/// The server's properties, the limits agreed and what else is worth knowing.
fn details(session: &Session) -> String {
    let mut lines = vec![format!("remote address: {}", session.link.remote)];
    if let Some(start) = &session.server {
        for key in ["product", "version", "platform", "cluster_name"] {
            if let Some(value) = start.property(key) {
                lines.push(format!("{}: {}", key.replace('_', " "), sanitize(value, MAX_REPLY)));
            }
        }
        lines.push(format!("mechanisms: {}", sanitize(&start.mechanisms, MAX_REPLY)));
    }
    if let Some(tune) = &session.tune {
        lines.push(format!(
            "channel_max {}, frame_max {}, server heartbeat {} s (off for the check)",
            tune.channel_max, tune.frame_max, tune.heartbeat
        ));
    }
    if let Some(queue) = &session.queue {
        lines.push(format!("round-trip queue: {}", sanitize(queue, MAX_REPLY)));
    }
    if let Some(teardown) = &session.teardown {
        lines.push(format!("closing: {teardown}"));
    }
    lines.join("\n")
}

/// Connect, TLS, open, round-trip and total times: those that were measured.
fn metrics(config: &Config, session: &Session) -> Vec<Metric> {
    let thresholds = config.time_thresholds();
    let mut metrics = vec![metric("time_connect", us_to_ms(session.link.timings.connect_time_us()), "ms").min(0.0)];
    if let Some(us) = session.link.tls_us {
        metrics.push(metric("time_tls", us_to_ms(us), "ms").min(0.0));
    }
    if let Some(open) = session.open {
        metrics.push(
            metric("time_open", duration_ms(open), "ms").warn_opt(thresholds.warn).crit_opt(thresholds.crit).min(0.0),
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
