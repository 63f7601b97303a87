//! One HTTP/2 connection carrying one call: the client sends everything at once (the
//! preface, its SETTINGS, the request), then reads frames until the call's stream ends,
//! acknowledging the server's SETTINGS and answering its PINGs on the way. Every read is
//! bounded by the check's deadline, [`MAX_RECEIVED`] bytes in all and [`h2::MAX_FRAME`]
//! bytes a frame.

use vitals_sdk::tcp::Connection;
use vitals_sdk::{Deadline, NetError};

use crate::grpc::MAX_MESSAGE;
use crate::h2::{self, Frame, Head, flag, kind};
use crate::hpack::{self, HpackError};

/// Most bytes taken from the server in one check.
pub const MAX_RECEIVED: usize = 1024 * 1024;

/// How many of the first bytes received are kept, to quote a peer that is not HTTP/2.
const KEPT: usize = 256;

/// Longest header value kept for judging and details.
const MAX_KEPT_VALUE: usize = 1024;

/// What the client was waiting for when the call broke off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The server's connection preface (its first SETTINGS).
    Settings,
    /// The response's headers.
    Headers,
    /// The response's message and trailers.
    Body,
}

impl Phase {
    /// What was awaited, for a summary.
    pub fn awaited(self) -> &'static str {
        match self {
            Phase::Settings => "the server's HTTP/2 SETTINGS",
            Phase::Headers => "the response headers",
            Phase::Body => "the rest of the response",
        }
    }
}

/// Why the call did not come to an end.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Sending failed.
    Send(NetError),
    /// Receiving failed (a timeout, a reset connection).
    Receive(NetError, Phase),
    /// The peer closed the connection.
    Closed(Phase),
    /// The first frame is not SETTINGS: the peer speaks something else.
    NotHttp2,
    /// The server ended the connection with GOAWAY: its error code and debug data.
    GoAway(u32, Vec<u8>),
    /// The server reset the call's stream: its error code.
    Reset(u32),
    /// A header block that does not decode.
    Hpack(HpackError),
    /// Anything else against HTTP/2 or gRPC, said in words.
    Protocol(String),
}

/// A response's header fields that the judging looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// `:status`
    pub status: Option<String>,
    /// `content-type`
    pub content_type: Option<String>,
    /// `grpc-status`
    pub grpc_status: Option<String>,
    /// `grpc-message`, still percent-encoded.
    pub grpc_message: Option<String>,
}

impl Fields {
    fn take(&mut self, name: &[u8], value: &[u8]) {
        let slot = match name {
            b":status" => &mut self.status,
            b"content-type" => &mut self.content_type,
            b"grpc-status" => &mut self.grpc_status,
            b"grpc-message" => &mut self.grpc_message,
            _ => return,
        };
        let kept = &value[..value.len().min(MAX_KEPT_VALUE)];
        *slot = Some(String::from_utf8_lossy(kept).into_owned());
    }
}

/// A whole response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The fields of the headers and of the trailers.
    pub fields: Fields,
    /// Whether the headers ended the stream (a trailers-only response).
    pub trailers_only: bool,
    /// The DATA of the stream: the framed response message.
    pub body: Vec<u8>,
}

/// The connection, its read buffer and its HPACK state.
pub struct Session<'a> {
    connection: &'a Connection,
    deadline: Deadline,
    buffer: Vec<u8>,
    received: usize,
    start: Vec<u8>,
    decoder: hpack::Decoder,
}

impl<'a> Session<'a> {
    /// A session on `connection` that gives up at `deadline`.
    pub fn new(connection: &'a Connection, deadline: Deadline) -> Session<'a> {
        Session {
            connection,
            deadline,
            buffer: Vec::new(),
            received: 0,
            start: Vec::new(),
            decoder: hpack::Decoder::new(),
        }
    }

    /// How many bytes the server has sent.
    pub fn received(&self) -> usize {
        self.received
    }

    /// The first bytes the server sent, to quote a peer that is not HTTP/2.
    pub fn start(&self) -> &[u8] {
        &self.start
    }

    /// Sends `request` (see [`h2::request`]) and reads until the call's stream ends.
    pub fn call(&mut self, request: &[u8]) -> Result<Response, Failure> {
        self.send(request)?;
        let first = self.head(Phase::Settings)?;
        // A server that refuses the connection at once may send GOAWAY before SETTINGS.
        if first.kind == kind::GOAWAY && first.stream == 0 && (8..=h2::MAX_FRAME).contains(&first.len) {
            let frame = self.payload(first, Phase::Settings)?;
            if let Some((_, code, debug)) = h2::goaway(&frame.payload) {
                return Err(Failure::GoAway(code, debug.to_vec()));
            }
        }
        if first.kind != kind::SETTINGS || first.stream != 0 || first.has(flag::ACK) {
            return Err(Failure::NotHttp2);
        }
        let first = self.payload(first, Phase::Settings)?;
        self.on_settings(&first)?;
        let mut phase = Phase::Headers;
        let mut response = Response::default();
        let mut headers_seen = false;
        loop {
            let frame = self.frame(phase)?;
            let head = frame.head;
            let on_call = head.stream == h2::STREAM;
            match head.kind {
                kind::SETTINGS => self.on_settings(&frame)?,
                kind::PING => {
                    if head.len != 8 || head.stream != 0 {
                        return Err(Failure::Protocol("the server sent a malformed PING".to_string()));
                    }
                    if !head.has(flag::ACK) {
                        self.send(&h2::ping_ack(&frame.payload))?;
                    }
                }
                kind::GOAWAY => {
                    let (last, code, debug) = h2::goaway(&frame.payload)
                        .ok_or_else(|| Failure::Protocol("the server sent a malformed GOAWAY".to_string()))?;
                    // A graceful shutdown that still serves the call: go on reading.
                    if code != 0 || last < h2::STREAM {
                        return Err(Failure::GoAway(code, debug.to_vec()));
                    }
                }
                kind::RST_STREAM if on_call => {
                    let code = h2::rst_stream(&frame.payload)
                        .ok_or_else(|| Failure::Protocol("the server sent a malformed RST_STREAM".to_string()))?;
                    return Err(Failure::Reset(code));
                }
                kind::HEADERS if on_call => {
                    let block = self.header_block(&frame, phase)?;
                    let fields = &mut response.fields;
                    self.decoder.decode(&block, |name, value| fields.take(name, value)).map_err(Failure::Hpack)?;
                    let end = head.has(flag::END_STREAM);
                    if !headers_seen {
                        headers_seen = true;
                        response.trailers_only = end;
                        phase = Phase::Body;
                    } else if !end {
                        return Err(Failure::Protocol(
                            "the server sent a third header block, or trailers that do not end the stream".to_string(),
                        ));
                    }
                    if end {
                        return Ok(response);
                    }
                }
                kind::DATA if on_call => {
                    if !headers_seen {
                        return Err(Failure::Protocol("the server sent DATA before the response headers".to_string()));
                    }
                    let data = h2::unpadded(&frame).map_err(Failure::Protocol)?;
                    if response.body.len() + data.len() > MAX_MESSAGE {
                        return Err(Failure::Protocol(format!(
                            "the response message is larger than {} KiB",
                            MAX_MESSAGE / 1024
                        )));
                    }
                    response.body.extend_from_slice(data);
                    if head.has(flag::END_STREAM) {
                        return Ok(response);
                    }
                }
                kind::PUSH_PROMISE => {
                    return Err(Failure::Protocol("the server sent PUSH_PROMISE although push is off".to_string()));
                }
                kind::HEADERS | kind::DATA | kind::RST_STREAM => {
                    return Err(Failure::Protocol(format!(
                        "the server sent a frame of type {} on stream {}, which the client never opened",
                        head.kind, head.stream
                    )));
                }
                kind::CONTINUATION => {
                    return Err(Failure::Protocol("the server sent CONTINUATION after END_HEADERS".to_string()));
                }
                // WINDOW_UPDATE, PRIORITY and frame types of extensions: nothing to do
                // (RFC 9113 §4.1 says to ignore unknown types).
                _ => {}
            }
        }
    }

    /// A SETTINGS frame: checked and acknowledged; an ACK of the client's own is dropped.
    fn on_settings(&mut self, frame: &Frame) -> Result<(), Failure> {
        if frame.head.stream != 0 {
            return Err(Failure::Protocol("the server sent SETTINGS on a stream".to_string()));
        }
        if frame.head.has(flag::ACK) {
            return Ok(());
        }
        if !frame.payload.len().is_multiple_of(6) {
            return Err(Failure::Protocol(format!(
                "the server sent a SETTINGS frame of {} bytes, not a multiple of 6",
                frame.payload.len()
            )));
        }
        self.send(&h2::settings_ack())
    }

    /// The whole header block of a HEADERS frame: its fragment and those of the
    /// CONTINUATION frames that must follow until END_HEADERS.
    fn header_block(&mut self, headers: &Frame, phase: Phase) -> Result<Vec<u8>, Failure> {
        let mut block = h2::unpadded(headers).map_err(Failure::Protocol)?.to_vec();
        let mut done = headers.head.has(flag::END_HEADERS);
        while !done {
            let next = self.frame(phase)?;
            if next.head.kind != kind::CONTINUATION || next.head.stream != headers.head.stream {
                return Err(Failure::Protocol(format!(
                    "the server sent a frame of type {} where a CONTINUATION of the headers belongs",
                    next.head.kind
                )));
            }
            block.extend_from_slice(&next.payload);
            done = next.head.has(flag::END_HEADERS);
        }
        Ok(block)
    }

    /// The next frame, its length checked before its payload is read.
    fn frame(&mut self, phase: Phase) -> Result<Frame, Failure> {
        let head = self.head(phase)?;
        self.payload(head, phase)
    }

    fn head(&mut self, phase: Phase) -> Result<Head, Failure> {
        let bytes = self.read_exact(9, phase)?;
        let mut head = [0u8; 9];
        head.copy_from_slice(&bytes);
        Ok(Head::parse(head))
    }

    fn payload(&mut self, head: Head, phase: Phase) -> Result<Frame, Failure> {
        if head.len > h2::MAX_FRAME {
            return Err(Failure::Protocol(format!(
                "the server sent a frame of {} bytes, more than the {} an HTTP/2 client allows by default",
                head.len,
                h2::MAX_FRAME
            )));
        }
        let payload = self.read_exact(head.len, phase)?;
        Ok(Frame { head, payload })
    }

    fn read_exact(&mut self, n: usize, phase: Phase) -> Result<Vec<u8>, Failure> {
        while self.buffer.len() < n {
            self.fill(phase)?;
        }
        Ok(self.buffer.drain(..n).collect())
    }

    /// One receive into the buffer.
    fn fill(&mut self, phase: Phase) -> Result<(), Failure> {
        if self.received >= MAX_RECEIVED {
            return Err(Failure::Protocol(format!(
                "the server sent more than {} without finishing the call",
                vitals_sdk::format_bytes(MAX_RECEIVED as u64)
            )));
        }
        let room = u32::try_from(MAX_RECEIVED - self.received).unwrap_or(u32::MAX).min(64 * 1024);
        let chunk = self
            .remaining()
            .and_then(|timeout| self.connection.receive(room, timeout))
            .map_err(|err| Failure::Receive(err, phase))?;
        if chunk.is_empty() {
            return Err(Failure::Closed(phase));
        }
        self.received += chunk.len();
        let keep = KEPT.saturating_sub(self.start.len()).min(chunk.len());
        self.start.extend_from_slice(&chunk[..keep]);
        self.buffer.extend_from_slice(&chunk);
        Ok(())
    }

    fn send(&mut self, data: &[u8]) -> Result<(), Failure> {
        self.remaining().and_then(|timeout| self.connection.send(data, timeout)).map_err(Failure::Send)
    }

    /// The time left for a host call, or a timeout once it has run out.
    fn remaining(&self) -> Result<u32, NetError> {
        match self.deadline.remaining_ms() {
            0 => Err(NetError::Timeout(format!(
                "the check's time ran out after {}",
                vitals_sdk::format_duration(self.deadline.elapsed())
            ))),
            ms => Ok(ms),
        }
    }
}
