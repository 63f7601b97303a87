//! The `http` host import as plain Rust: an HTTP/1.1 client that opens one fresh,
//! grant-checked connection per request (and per redirect hop) and times every phase.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};
use hyper::client::conn::{http1, http2};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use url::Url;

use crate::plan::grants::Grants;
use crate::runtime::imports::net::{self, Budget, NetError, Timings, human_duration};

/// Longest accepted request URL, in bytes.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Most request headers a plugin may send.
pub const MAX_REQUEST_HEADERS: usize = 100;
/// Largest request body a plugin may send.
pub const MAX_REQUEST_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Most body bytes the host keeps for the plugin, whatever it asks for.
pub const MAX_KEPT_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Most body bytes the host reads before it stops (the response is then truncated).
pub const MAX_READ_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Most response headers accepted.
pub const MAX_RESPONSE_HEADERS: usize = 100;
/// Largest response head accepted (status line and headers), in bytes.
pub const MAX_RESPONSE_HEADER_BYTES: usize = 64 * 1024;
/// The `User-Agent` sent unless the request has its own.
pub const USER_AGENT: &str = concat!("vitals/", env!("CARGO_PKG_VERSION"));

/// An HTTP request from a plugin (the WIT `http.request` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method, e.g. `GET`, `HEAD`, `POST` (a token; case is kept).
    pub method: String,
    /// An absolute `http://` or `https://` URL.
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The request body, if any.
    pub body: Option<Vec<u8>>,
    /// Time limit for the whole exchange, redirects included; capped by the check's deadline.
    pub timeout: Option<Duration>,
    /// How many redirects to follow (0: return the redirect response itself).
    pub max_redirects: u8,
    /// Verify the server's certificate and name.
    pub tls_verify: bool,
    /// Keep at most this many body bytes; the rest is read, counted and dropped.
    pub max_body_bytes: u32,
    /// Describe the final exchange's TLS handshake (`HttpResponse::tls`): the chain is
    /// parsed and verified apart, which costs, so only when asked (`send-tls`).
    pub tls_facts: bool,
}

impl HttpRequest {
    #[cfg(test)]
    /// A `GET` of `url` with no headers, no timeout of its own, no redirects, TLS
    /// verification on and up to 1 MiB of body kept.
    pub fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method: "GET".to_string(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: None,
            max_redirects: 0,
            tls_verify: true,
            max_body_bytes: 1024 * 1024,
            tls_facts: false,
        }
    }
}

/// The response to an [`HttpRequest`] (the WIT `http.response` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers in the order received, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, up to the request's `max_body_bytes`.
    pub body: Vec<u8>,
    /// The body's full length in bytes (when reading stopped at the host's limit: the
    /// larger of the bytes read and `Content-Length`).
    pub body_size: u64,
    /// Whether `body` holds less than the whole body.
    pub truncated: bool,
    /// The URL that produced this response, after redirects.
    pub final_url: String,
    /// How many redirects were followed.
    pub redirects: u8,
    /// The address that answered, `ip:port`.
    pub remote_addr: String,
    /// Phase timings of the final exchange; `total` covers every hop.
    pub timings: Timings,
    /// What the final exchange's TLS handshake established, when asked for and https.
    pub tls: Option<crate::runtime::imports::tls::TlsFacts>,
}

/// A request after validation.
struct Prepared {
    url: Url,
    method: Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Bytes>,
}

/// The spawned task driving one HTTP/1.1 connection; aborted when the exchange is over
/// or abandoned.
struct Driver(Option<tokio::task::JoinHandle<Result<(), hyper::Error>>>);

impl Driver {
    /// The connection's own error, when it failed: more telling than the "canceled" the
    /// request side sees when the peer sends garbage or hangs up.
    async fn failure(&mut self) -> Option<hyper::Error> {
        let handle = self.0.take()?;
        match tokio::time::timeout(Duration::from_millis(500), handle).await {
            Ok(Ok(Err(e))) => Some(e),
            _ => None,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

/// The end of the whole call and the limit named in timeout messages.
#[derive(Clone, Copy)]
struct Clock {
    end: Instant,
    limit: Duration,
}

impl Clock {
    fn timeout(&self, phase: &str) -> NetError {
        NetError::Timeout(format!("timed out after {} {phase}", human_duration(self.limit)))
    }
}

/// Sends `request` and reads the response, following redirects up to
/// `request.max_redirects`. Every hop opens a fresh connection checked against `grants`
/// (by name, then by resolved address). A redirect to another origin drops the headers
/// meant for the first one only (see [`first_origin_only`]), among them every header whose
/// value holds one of the run's `secrets`. The whole call is bounded by
/// `min(request.timeout, deadline - now)`.
pub async fn send(
    grants: &Grants,
    secrets: &[String],
    request: HttpRequest,
    deadline: Instant,
) -> Result<HttpResponse, NetError> {
    let start = Instant::now();
    let limit = Budget::new(deadline).limit(request.timeout)?;
    let clock = Clock { end: start + limit, limit };
    let Prepared { mut url, mut method, mut headers, mut body } = validate(&request)?;
    let keep = (request.max_body_bytes as usize).min(MAX_KEPT_BODY_BYTES);
    let mut redirects: u8 = 0;
    loop {
        let hop = Hop { tls_verify: request.tls_verify, tls_facts: request.tls_facts };
        let (response, remote, mut timings, driver, tls) =
            exchange(grants, &url, &method, &headers, body.clone(), hop, clock).await?;
        let status = response.status().as_u16();
        if redirects < request.max_redirects
            && matches!(status, 301 | 302 | 303 | 307 | 308)
            && let Some(location) = response.headers().get(header::LOCATION)
        {
            let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
            let next = url.join(&location).map_err(|e| {
                NetError::Protocol(format!("{url} redirected ({status}) to an invalid Location {location:?}: {e}"))
            })?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(NetError::Protocol(format!(
                    "{url} redirected ({status}) to {next}, which is not an http:// or https:// URL"
                )));
            }
            drop(response);
            drop(driver);
            if status == 303 && method != Method::HEAD {
                method = Method::GET;
                body = None;
                headers.retain(|(name, _)| name != header::CONTENT_TYPE);
            }
            if next.origin() != url.origin() {
                headers.retain(|(name, value)| !first_origin_only(name, value, secrets));
            }
            tracing::debug!(from = %url, to = %next, status, "following redirect");
            url = next;
            redirects += 1;
            continue;
        }

        let (parts, incoming) = response.into_parts();
        let content_length = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let (body_bytes, body_size, truncated) = read_body(incoming, keep, content_length, &remote, clock).await?;
        drop(driver);
        timings.total = start.elapsed();
        return Ok(HttpResponse {
            status,
            headers: response_headers(&parts.headers),
            body: body_bytes,
            body_size,
            truncated,
            final_url: url.to_string(),
            redirects,
            remote_addr: remote.to_string(),
            timings,
            tls,
        });
    }
}

/// How one hop handles TLS.
#[derive(Debug, Clone, Copy)]
struct Hop {
    /// Verify the certificate.
    tls_verify: bool,
    /// Describe the handshake.
    tls_facts: bool,
}

/// Whether a request header was meant for the request's first origin only, and so is not
/// sent on after a redirect to another one: credentials, a Host override, and any header
/// whose value holds one of the run's secrets (`X-Api-Key = "${env:KEY}"` in the check's
/// config comes back from the plugin as a header of its own name).
fn first_origin_only(name: &HeaderName, value: &HeaderValue, secrets: &[String]) -> bool {
    let credentials = [header::AUTHORIZATION, header::PROXY_AUTHORIZATION, header::COOKIE, header::HOST];
    credentials.contains(name)
        || secrets
            .iter()
            .filter(|s| !s.is_empty())
            .any(|secret| value.as_bytes().windows(secret.len()).any(|window| window == secret.as_bytes()))
}

/// Checks the request's method, URL, headers and body, returning them in hyper's types.
fn validate(request: &HttpRequest) -> Result<Prepared, NetError> {
    let invalid = |m: String| NetError::Invalid(m);
    if request.method.is_empty() {
        return Err(invalid("the HTTP method is empty; write GET, HEAD, POST, ...".into()));
    }
    let method = Method::from_bytes(request.method.as_bytes()).map_err(|_| {
        invalid(format!("{:?} is not a valid HTTP method (letters, digits and !#$%&'*+-.^_`|~ only)", request.method))
    })?;
    if request.url.len() > MAX_URL_BYTES {
        return Err(invalid(format!(
            "the URL is {} bytes long; at most {MAX_URL_BYTES} are allowed",
            request.url.len()
        )));
    }
    let url = Url::parse(&request.url).map_err(|e| invalid(format!("invalid URL {:?}: {e}", request.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "unsupported scheme {:?} in {:?}; only http:// and https:// URLs can be requested",
            url.scheme(),
            request.url
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("the URL {:?} has no host", request.url)));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials in the URL are not supported; send an Authorization header instead".into()));
    }
    if request.headers.len() > MAX_REQUEST_HEADERS {
        return Err(invalid(format!(
            "{} request headers given; at most {MAX_REQUEST_HEADERS} are allowed",
            request.headers.len()
        )));
    }
    let mut headers = Vec::with_capacity(request.headers.len());
    for (name, value) in &request.headers {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("{name:?} is not a valid header name")))?;
        let header_value = HeaderValue::from_bytes(value.as_bytes())
            .map_err(|_| invalid(format!("the value of header {name:?} contains a line break or control character")))?;
        if header_name == header::TRANSFER_ENCODING {
            return Err(invalid("the Transfer-Encoding header cannot be set; the host frames the body itself".into()));
        }
        if header_name == header::CONTENT_LENGTH {
            // The host sets Content-Length from the body it sends.
            continue;
        }
        headers.push((header_name, header_value));
    }
    let body = match &request.body {
        Some(body) if body.len() > MAX_REQUEST_BODY_BYTES => {
            return Err(invalid(format!(
                "the request body is {} bytes; at most {MAX_REQUEST_BODY_BYTES} are allowed",
                body.len()
            )));
        }
        Some(body) => Some(Bytes::copy_from_slice(body)),
        None => None,
    };
    Ok(Prepared { url, method, headers, body })
}

/// One hop: connect (grant-checked), TLS if https, HTTP/1.1 handshake, send the request
/// and wait for the response head.
async fn exchange(
    grants: &Grants,
    url: &Url,
    method: &Method,
    headers: &[(HeaderName, HeaderValue)],
    body: Option<Bytes>,
    hop: Hop,
    clock: Clock,
) -> Result<(Response<Incoming>, SocketAddr, Timings, Driver, Option<crate::runtime::imports::tls::TlsFacts>), NetError>
{
    let host = url.host_str().ok_or_else(|| NetError::Invalid(format!("the URL {url} has no host")))?;
    let port = url.port_or_known_default().ok_or_else(|| NetError::Invalid(format!("the URL {url} has no port")))?;
    let (stream, remote, mut timings) = net::connect_until(grants, host, port, clock.end, clock.limit).await?;

    let mut facts = None;
    let (mut sender, mut driver) = if url.scheme() == "https" {
        let connector = net::http_tls_connector(hop.tls_verify, grants.trust());
        let (tls, took) = net::tls_handshake(&connector, stream, host, clock.end, clock.limit).await?;
        timings.tls = Some(took);
        if hop.tls_facts {
            let roots = net::roots(grants.trust());
            facts = Some(crate::runtime::imports::tls::facts(tls.get_ref().1, host, roots));
        }
        // HTTP/2 when the server chose it by ALPN (the client offers h2, then http/1.1).
        if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
            start_http2(tls, clock).await?
        } else {
            start_http1(tls, clock).await?
        }
    } else {
        start_http1(stream, clock).await?
    };

    let request = build_request(url, method, headers, body, sender.is_http2())?;
    let sent = Instant::now();
    let response = match tokio::time::timeout_at(clock.end, sender.send_request(request)).await {
        Err(_) => return Err(clock.timeout("waiting for the first byte")),
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            let cause = driver.failure().await.unwrap_or(e);
            return Err(describe_hyper(&cause, &net::host_port(host, port)));
        }
    };
    timings.first_byte = Some(sent.elapsed());
    Ok((response, remote, timings, driver, facts))
}

/// The request side of a connection, HTTP/1.1 or HTTP/2.
enum Sender {
    /// HTTP/1.1.
    Http1(http1::SendRequest<Full<Bytes>>),
    /// HTTP/2, chosen by ALPN.
    Http2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn is_http2(&self) -> bool {
        matches!(self, Sender::Http2(_))
    }

    async fn send_request(&mut self, request: Request<Full<Bytes>>) -> Result<Response<Incoming>, hyper::Error> {
        match self {
            Sender::Http1(s) => s.send_request(request).await,
            Sender::Http2(s) => s.send_request(request).await,
        }
    }
}

/// The HTTP/2 handshake over `io` (after ALPN chose h2), with the connection driven by a
/// spawned task; the same bounds on the response head as HTTP/1.1.
async fn start_http2<T>(io: T, clock: Clock) -> Result<(Sender, Driver), NetError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handshake = http2::Builder::new(TokioExecutor::new())
        .max_header_list_size(u32::try_from(MAX_RESPONSE_HEADER_BYTES).unwrap_or(u32::MAX))
        .handshake::<_, Full<Bytes>>(TokioIo::new(io));
    let (sender, connection) = tokio::time::timeout_at(clock.end, handshake)
        .await
        .map_err(|_| clock.timeout("starting the HTTP/2 exchange"))?
        .map_err(|e| NetError::Protocol(format!("HTTP/2 handshake failed: {e}")))?;
    let task = tokio::spawn(async move {
        let result = connection.await;
        if let Err(e) = &result {
            tracing::debug!(error = %e, "HTTP/2 connection ended with an error");
        }
        result
    });
    Ok((Sender::Http2(sender), Driver(Some(task))))
}

/// The HTTP/1.1 handshake over `io`, with the connection driven by a spawned task.
async fn start_http1<T>(io: T, clock: Clock) -> Result<(Sender, Driver), NetError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handshake = hyper::client::conn::http1::Builder::new()
        .max_headers(MAX_RESPONSE_HEADERS)
        .max_header_size(MAX_RESPONSE_HEADER_BYTES)
        .handshake::<_, Full<Bytes>>(TokioIo::new(io));
    let (sender, connection) = tokio::time::timeout_at(clock.end, handshake)
        .await
        .map_err(|_| clock.timeout("starting the HTTP exchange"))?
        .map_err(|e| NetError::Protocol(format!("HTTP/1.1 handshake failed: {e}")))?;
    let task = tokio::spawn(async move {
        let result = connection.await;
        if let Err(e) = &result {
            tracing::debug!(error = %e, "HTTP connection ended with an error");
        }
        result
    });
    Ok((Sender::Http1(sender), Driver(Some(task))))
}

/// The request with Host, User-Agent and Content-Length added: in origin form for
/// HTTP/1.1; for HTTP/2 in absolute form, the Host (the plugin's own, else the URL's)
/// becoming the `:authority`.
fn build_request(
    url: &Url,
    method: &Method,
    headers: &[(HeaderName, HeaderValue)],
    body: Option<Bytes>,
    http2: bool,
) -> Result<Request<Full<Bytes>>, NetError> {
    let mut target = url.path().to_string();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let given_host = headers.iter().find(|(name, _)| name == header::HOST).map(|(_, v)| v.clone());
    let host = match given_host {
        Some(value) => value,
        None => {
            let host = url.host_str().unwrap_or_default();
            let value = match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_string(),
            };
            HeaderValue::from_str(&value)
                .map_err(|_| NetError::Invalid(format!("{value:?} is not a valid Host header")))?
        }
    };
    if http2 {
        let authority = host.to_str().map_err(|_| NetError::Invalid("the Host header is not ASCII".into()))?;
        target = format!("{}://{authority}{target}", url.scheme());
    }
    let mut request = Request::builder()
        .method(method.clone())
        .uri(&target)
        .body(Full::new(body.clone().unwrap_or_default()))
        .map_err(|e| NetError::Invalid(format!("cannot send a request for {url}: {e}")))?;
    let map = request.headers_mut();
    for (name, value) in headers {
        map.append(name.clone(), value.clone());
    }
    if http2 {
        map.remove(header::HOST);
    } else {
        map.insert(header::HOST, host);
    }
    if !map.contains_key(header::USER_AGENT) {
        map.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    }
    let length = match &body {
        Some(body) => Some(body.len()),
        None if matches!(*method, Method::POST | Method::PUT | Method::PATCH) => Some(0),
        None => None,
    };
    if let Some(length) = length {
        map.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(request)
}

/// Reads the body, keeping `keep` bytes and counting all, stopping past
/// [`MAX_READ_BODY_BYTES`]. Returns (kept bytes, body size, truncated).
async fn read_body(
    mut incoming: Incoming,
    keep: usize,
    content_length: Option<u64>,
    remote: &SocketAddr,
    clock: Clock,
) -> Result<(Vec<u8>, u64, bool), NetError> {
    let mut kept: Vec<u8> = Vec::with_capacity(keep.min(64 * 1024));
    let mut size: u64 = 0;
    let mut stopped = false;
    loop {
        let frame = match tokio::time::timeout_at(clock.end, incoming.frame()).await {
            Err(_) => return Err(clock.timeout("reading the response body")),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(describe_hyper(&e, &remote.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        size += data.len() as u64;
        let room = keep - kept.len();
        kept.extend_from_slice(&data[..room.min(data.len())]);
        if size >= MAX_READ_BODY_BYTES && !incoming.is_end_stream() {
            stopped = true;
            break;
        }
    }
    let body_size = if stopped { size.max(content_length.unwrap_or(0)) } else { size };
    let truncated = stopped || (kept.len() as u64) < size;
    Ok((kept, body_size, truncated))
}

/// Response headers with lower-case names, at most [`MAX_RESPONSE_HEADERS`] of them and
/// [`MAX_RESPONSE_HEADER_BYTES`] in all.
fn response_headers(map: &hyper::HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for (name, value) in map {
        bytes += name.as_str().len() + value.len();
        if out.len() >= MAX_RESPONSE_HEADERS || bytes > MAX_RESPONSE_HEADER_BYTES {
            break;
        }
        out.push((name.as_str().to_ascii_lowercase(), String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    out
}

/// A hyper error as a `Protocol` error in a person's words, with its underlying cause.
fn describe_hyper(error: &hyper::Error, peer: &str) -> NetError {
    // `is_parse_too_large` exists only with hyper's server feature: match the text.
    let what = if error.is_parse() && error.to_string().contains("too large") {
        format!(
            "the response head is too large (more than {MAX_RESPONSE_HEADERS} headers or {} KiB)",
            MAX_RESPONSE_HEADER_BYTES / 1024
        )
    } else if error.is_incomplete_message() {
        "the server closed the connection before the response was complete".to_string()
    } else if error.is_parse() || error.is_parse_status() {
        format!("the response is not valid HTTP/1.1 ({error})")
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(": ");
            match cause.downcast_ref::<std::io::Error>() {
                Some(io) => text.push_str(&net::describe_io(io)),
                None => text.push_str(&cause.to_string()),
            }
            source = cause.source();
        }
        text
    };
    NetError::Protocol(format!("{peer}: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::imports::net::tests::{closed_port, grants, listener, silent_server, tls_acceptor};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// What the test server hands its handler: the request head as text, and the body.
    struct Seen {
        head: String,
        body: Vec<u8>,
    }

    impl Seen {
        fn path(&self) -> &str {
            self.head.split(' ').nth(1).unwrap_or("")
        }
    }

    type Handler = Arc<dyn Fn(&Seen) -> Vec<u8> + Send + Sync>;

    fn respond(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
        for (n, v) in headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("\r\n");
        let mut out = out.into_bytes();
        out.extend_from_slice(body);
        out
    }

    async fn serve_one<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut s: S, handler: Handler) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + length {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let seen = Seen { head, body: buf[head_end..head_end + length].to_vec() };
        let _ = s.write_all(&handler(&seen)).await;
        let _ = s.shutdown().await;
    }

    /// A tiny HTTP/1.1 server on 127.0.0.1: one request per connection.
    async fn http_server(handler: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static) -> SocketAddr {
        let handler: Handler = Arc::new(handler);
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve_one(s, handler.clone()));
            }
        });
        addr
    }

    /// The same server behind TLS with a self-signed certificate.
    async fn https_server(handler: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static) -> SocketAddr {
        let handler: Handler = Arc::new(handler);
        let acceptor = tls_acceptor();
        let (listener, addr) = listener().await;
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let handler = handler.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(s).await {
                        serve_one(tls, handler).await;
                    }
                });
            }
        });
        addr
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[tokio::test]
    async fn get_returns_200_with_body_and_timings() {
        let addr = http_server(|_| respond("200 OK", &[("Content-Type", "text/plain")], b"hello")).await;
        let url = format!("http://{addr}/health");
        let g = grants(&url, &[]);
        let r = send(&g, &[], HttpRequest::get(&url), soon()).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"hello");
        assert_eq!(r.body_size, 5);
        assert!(!r.truncated);
        assert!(r.headers.contains(&("content-type".to_string(), "text/plain".to_string())));
        assert_eq!(r.final_url, url);
        assert_eq!(r.redirects, 0);
        assert_eq!(r.remote_addr, addr.to_string());
        assert!(r.timings.dns.is_none());
        assert!(r.timings.connect.is_some());
        assert!(r.timings.tls.is_none());
        assert!(r.timings.first_byte.is_some());
        assert!(r.timings.total >= r.timings.first_byte.unwrap());
    }

    #[tokio::test]
    async fn request_carries_host_user_agent_content_length_and_body() {
        let addr = http_server(|seen| {
            let mut echo = seen.head.clone().into_bytes();
            echo.extend_from_slice(&seen.body);
            respond("200 OK", &[], &echo)
        })
        .await;
        let url = format!("http://{addr}/submit?x=1#frag");
        let g = grants(&url, &[]);
        let mut req = HttpRequest::get(&url);
        req.method = "POST".into();
        req.headers = vec![("X-Test".into(), "yes".into()), ("Content-Length".into(), "999".into())];
        req.body = Some(b"payload".to_vec());
        let r = send(&g, &[], req, soon()).await.unwrap();
        let echo = String::from_utf8(r.body).unwrap().to_ascii_lowercase();
        assert!(echo.starts_with("post /submit?x=1 http/1.1\r\n"), "{echo}");
        assert!(echo.contains(&format!("host: {addr}\r\n")), "{echo}");
        assert!(echo.contains(&format!("user-agent: {}\r\n", USER_AGENT)), "{echo}");
        assert!(echo.contains("content-length: 7\r\n"), "{echo}");
        assert!(echo.contains("x-test: yes\r\n"), "{echo}");
        assert!(echo.ends_with("\r\n\r\npayload"), "{echo}");
    }

    #[tokio::test]
    async fn localhost_target_resolves_with_dns_timing() {
        let addr = http_server(|_| respond("204 No Content", &[], b"")).await;
        let url = format!("http://localhost:{}/", addr.port());
        let g = grants(&url, &[]);
        let r = send(&g, &[], HttpRequest::get(&url), soon()).await.unwrap();
        assert_eq!(r.status, 204);
        assert!(r.timings.dns.is_some());
        assert!(r.timings.connect.is_some());
    }

    #[tokio::test]
    async fn closed_port_is_connect_error() {
        let port = closed_port().await;
        let url = format!("http://127.0.0.1:{port}/");
        let g = grants(&url, &[]);
        let err = send(&g, &[], HttpRequest::get(&url), soon()).await.unwrap_err();
        assert_eq!(err, NetError::Connect(format!("127.0.0.1:{port}: connection refused")));
    }

    #[tokio::test]
    async fn silent_server_times_out_waiting_for_first_byte_within_limit() {
        let (addr, accepted) = silent_server().await;
        let url = format!("http://{addr}/");
        let g = grants(&url, &[]);
        let mut req = HttpRequest::get(&url);
        req.timeout = Some(Duration::from_secs(1));
        let started = std::time::Instant::now();
        let err = send(&g, &[], req, soon()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(err, NetError::Timeout("timed out after 1s waiting for the first byte".into()));
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn deadline_caps_the_request_timeout() {
        let (addr, _) = silent_server().await;
        let url = format!("http://{addr}/");
        let g = grants(&url, &[]);
        let mut req = HttpRequest::get(&url);
        req.timeout = Some(Duration::from_secs(30));
        let started = std::time::Instant::now();
        let err = send(&g, &[], req, Instant::now() + Duration::from_millis(500)).await.unwrap_err();
        assert!(matches!(err, NetError::Timeout(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_millis(1500));
        let past = send(&g, &[], HttpRequest::get(&url), Instant::now()).await.unwrap_err();
        assert!(matches!(past, NetError::Timeout(_)), "{past:?}");
    }

    #[tokio::test]
    async fn huge_body_is_truncated_but_counted() {
        const SIZE: usize = 5 * 1024 * 1024;
        let addr = http_server(|_| respond("200 OK", &[], &vec![b'x'; SIZE])).await;
        let url = format!("http://{addr}/big");
        let g = grants(&url, &[]);
        let mut req = HttpRequest::get(&url);
        req.max_body_bytes = 1000;
        let r = send(&g, &[], req, soon()).await.unwrap();
        assert!(r.truncated);
        assert_eq!(r.body.len(), 1000);
        assert_eq!(r.body_size, SIZE as u64);
    }

    #[tokio::test]
    async fn redirect_to_granted_path_is_followed() {
        let addr = http_server(|seen| match seen.path() {
            "/old" => respond("302 Found", &[("Location", "/new?q=1")], b""),
            "/new?q=1" => respond("200 OK", &[], b"new place"),
            _ => respond("404 Not Found", &[], b""),
        })
        .await;
        let url = format!("http://{addr}/old");
        let g = grants(&url, &[]);
        let mut req = HttpRequest::get(&url);
        req.max_redirects = 5;
        let r = send(&g, &[], req, soon()).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"new place");
        assert_eq!(r.redirects, 1);
        assert_eq!(r.final_url, format!("http://{addr}/new?q=1"));
    }

    #[tokio::test]
    async fn redirect_to_non_granted_host_port_is_denied_naming_it() {
        let (other, accepted) = silent_server().await;
        let addr = http_server(move |seen| match seen.path() {
            "/name" => respond("301 Moved", &[("Location", "http://evil.example/steal")], b""),
            _ => respond("307 Temporary", &[("Location", &format!("http://{other}/x"))], b""),
        })
        .await;
        let url = format!("http://{addr}/port");
        let g = grants(&url, &[]);
        let mut req = HttpRequest::get(&url);
        req.max_redirects = 3;
        let err = send(&g, &[], req.clone(), soon()).await.unwrap_err();
        assert!(matches!(err, NetError::Denied(ref m) if m.starts_with(&format!("{other} is not granted"))), "{err:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 0);

        req.url = format!("http://{addr}/name");
        let err = send(&g, &[], req, soon()).await.unwrap_err();
        assert_eq!(
            err,
            NetError::Denied(format!(
                "evil.example:80 is not granted to this check (granted: {addr}); add it to the check's allow list"
            ))
        );
    }

    /// A server that keeps the head of every request it gets (lower-cased) and answers
    /// with `answer`.
    async fn recording_server(
        answer: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static,
    ) -> (SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = Arc::clone(&heads);
        let addr = http_server(move |seen| {
            kept.lock().unwrap().push(seen.head.to_ascii_lowercase());
            answer(seen)
        })
        .await;
        (addr, heads)
    }

    #[tokio::test]
    async fn a_redirect_to_another_origin_drops_credentials_and_every_header_holding_a_secret() {
        let (second, second_heads) = recording_server(|_| respond("200 OK", &[], b"landed")).await;
        let (first, first_heads) = recording_server(move |seen| match seen.path() {
            "/start" => respond("302 Found", &[("Location", "/again")], b""),
            _ => respond("307 Temporary Redirect", &[("Location", &format!("http://{second}/landed"))], b""),
        })
        .await;
        let url = format!("http://{first}/start");
        let g = grants(&url, &[&second.to_string()]);
        let mut req = HttpRequest::get(&url);
        req.max_redirects = 2;
        req.headers = [
            ("X-Api-Key", "s3cr3t-key"),
            ("X-Signature", "v1;key=s3cr3t-key;t=1"),
            ("Authorization", "Bearer not-a-configured-secret"),
            ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
            ("Cookie", "session=1"),
            ("X-Trace", "visible"),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .to_vec();
        // An empty secret (an unset `${env:…}`) must not match every header.
        let secrets = ["s3cr3t-key".to_string(), String::new()];
        let r = send(&g, &secrets, req, soon()).await.unwrap();
        assert_eq!((r.status, r.body.as_slice(), r.redirects), (200, b"landed".as_slice(), 2));

        // Within the first origin everything is sent again.
        let first_heads = first_heads.lock().unwrap().clone();
        assert_eq!(first_heads.len(), 2, "{first_heads:?}");
        for header in ["x-api-key: s3cr3t-key", "x-signature: ", "authorization: ", "cookie: ", "x-trace: visible"] {
            assert!(first_heads[1].contains(header), "{header} missing from\n{}", first_heads[1]);
        }
        // The other origin gets none of the credentials and none of the secret.
        let second_heads = second_heads.lock().unwrap().clone();
        assert_eq!(second_heads.len(), 1, "{second_heads:?}");
        let head = &second_heads[0];
        assert!(head.starts_with("get /landed http/1.1\r\n"), "{head}");
        assert!(head.contains("x-trace: visible\r\n"), "{head}");
        assert!(head.contains(&format!("host: {second}\r\n")), "{head}");
        for gone in ["x-api-key", "x-signature", "authorization", "proxy-authorization", "cookie", "s3cr3t"] {
            assert!(!head.contains(gone), "{gone} reached the other origin:\n{head}");
        }
    }

    #[tokio::test]
    async fn max_redirects_zero_returns_the_redirect_itself() {
        let addr = http_server(|_| respond("302 Found", &[("Location", "/elsewhere")], b"moved")).await;
        let url = format!("http://{addr}/");
        let g = grants(&url, &[]);
        let r = send(&g, &[], HttpRequest::get(&url), soon()).await.unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.redirects, 0);
        assert_eq!(r.body, b"moved");
        assert!(r.headers.contains(&("location".to_string(), "/elsewhere".to_string())));
    }

    #[tokio::test]
    async fn see_other_turns_post_into_get_without_body() {
        let addr = http_server(|seen| match seen.path() {
            "/form" => respond("303 See Other", &[("Location", "/done")], b""),
            _ => {
                let echo = format!("{} {}", seen.head.split(' ').next().unwrap_or(""), seen.body.len());
                respond("200 OK", &[], echo.as_bytes())
            }
        })
        .await;
        let url = format!("http://{addr}/form");
        let g = grants(&url, &[]);
        let mut req = HttpRequest::get(&url);
        req.method = "POST".into();
        req.body = Some(b"a=1".to_vec());
        req.max_redirects = 1;
        let r = send(&g, &[], req, soon()).await.unwrap();
        assert_eq!(r.body, b"GET 0");
        assert_eq!(r.redirects, 1);
    }

    #[tokio::test]
    async fn a_server_that_offers_h2_is_spoken_to_in_http2_and_one_that_does_not_in_http1() {
        use crate::runtime::imports::net::tests::tls_acceptor_alpn;
        for (alpn, expected) in
            [(&[&b"h2"[..], b"http/1.1"][..], "HTTP/2.0 localhost"), (&[&b"http/1.1"[..]][..], "HTTP/1.1 localhost")]
        {
            let acceptor = tls_acceptor_alpn(alpn);
            let (listener, addr) = listener().await;
            tokio::spawn(async move {
                while let Ok((s, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(s).await else { return };
                        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                        let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
                            // The version and the authority the request came with, HTTP/2's
                            // :authority or HTTP/1.1's Host.
                            let authority = req
                                .uri()
                                .host()
                                .map(str::to_string)
                                .or_else(|| {
                                    req.headers()
                                        .get(header::HOST)
                                        .and_then(|h| h.to_str().ok())
                                        .map(|h| h.split(':').next().unwrap_or("").to_string())
                                })
                                .unwrap_or_default();
                            let text = format!("{:?} {authority}", req.version());
                            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(text))))
                        });
                        let io = TokioIo::new(tls);
                        if h2 {
                            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                                .serve_connection(io, service)
                                .await;
                        } else {
                            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                        }
                    });
                }
            });
            let url = format!("https://localhost:{}/v", addr.port());
            let g = grants(&url, &[]);
            let mut req = HttpRequest::get(&url);
            req.tls_verify = false;
            req.tls_facts = true;
            let r = send(&g, &[], req, soon()).await.unwrap();
            assert_eq!((r.status, String::from_utf8_lossy(&r.body).as_ref()), (200, expected));
            let chosen = r.tls.and_then(|t| t.alpn);
            assert_eq!(chosen.as_deref(), Some(if expected.starts_with("HTTP/2") { "h2" } else { "http/1.1" }));
        }
    }

    #[tokio::test]
    async fn https_self_signed_fails_verified_and_succeeds_unverified() {
        let addr = https_server(|_| respond("200 OK", &[], b"secure")).await;
        let url = format!("https://localhost:{}/", addr.port());
        let g = grants(&url, &[]);
        let err = send(&g, &[], HttpRequest::get(&url), soon()).await.unwrap_err();
        assert!(
            matches!(err, NetError::Tls(ref m) if m.ends_with("certificate for localhost was issued by an authority that is not trusted")),
            "{err:?}"
        );
        let mut req = HttpRequest::get(&url);
        req.tls_verify = false;
        let r = send(&g, &[], req.clone(), soon()).await.unwrap();
        assert_eq!(r.status, 200);
        assert!(r.tls.is_none(), "facts only when asked");
        req.tls_facts = true;
        let r = send(&g, &[], req, soon()).await.unwrap();
        let facts = r.tls.expect("the handshake's facts");
        assert_eq!((facts.chain.len(), facts.chain_valid, facts.name_valid), (1, false, true), "{facts:?}");
        assert_eq!(facts.alpn.as_deref(), Some("http/1.1"));
        assert_eq!(r.body, b"secure");
        assert!(r.timings.tls.is_some());
        assert!(r.timings.dns.is_some());
    }

    #[tokio::test]
    async fn not_granted_is_denied_without_connecting() {
        let (addr, accepted) = silent_server().await;
        let g = grants("http://127.0.0.1:1/", &[]);
        let err = send(&g, &[], HttpRequest::get(format!("http://{addr}/")), soon()).await.unwrap_err();
        assert!(matches!(err, NetError::Denied(_)), "{err:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn invalid_requests_are_refused_before_connecting() {
        let g = grants("http://127.0.0.1:1/", &["*:*"]);
        let base = HttpRequest::get("http://127.0.0.1:1/");
        let cases: Vec<(HttpRequest, &str)> = vec![
            (HttpRequest { url: "ftp://127.0.0.1/".into(), ..base.clone() }, "unsupported scheme"),
            (HttpRequest { url: "not a url".into(), ..base.clone() }, "invalid URL"),
            (HttpRequest { url: format!("http://127.0.0.1:1/{}", "a".repeat(9000)), ..base.clone() }, "at most 8192"),
            (HttpRequest { url: "http://u:p@127.0.0.1:1/".into(), ..base.clone() }, "credentials"),
            (HttpRequest { method: "GE T".into(), ..base.clone() }, "not a valid HTTP method"),
            (HttpRequest { method: "".into(), ..base.clone() }, "method is empty"),
            (HttpRequest { headers: vec![("bad name".into(), "v".into())], ..base.clone() }, "not a valid header name"),
            (HttpRequest { headers: vec![("x".into(), "a\r\nb".into())], ..base.clone() }, "line break"),
            (HttpRequest { headers: vec![("x".into(), "v".into()); 101], ..base.clone() }, "at most 100"),
            (
                HttpRequest { headers: vec![("transfer-encoding".into(), "chunked".into())], ..base.clone() },
                "Transfer-Encoding",
            ),
            (HttpRequest { body: Some(vec![0; MAX_REQUEST_BODY_BYTES + 1]), ..base.clone() }, "request body"),
        ];
        for (req, expected) in cases {
            let err = send(&g, &[], req, soon()).await.unwrap_err();
            assert!(matches!(err, NetError::Invalid(ref m) if m.contains(expected)), "{expected}: {err:?}");
        }
    }

    #[tokio::test]
    async fn too_many_response_headers_is_protocol_error() {
        let addr = http_server(|_| {
            let many: Vec<(String, String)> = (0..150).map(|i| (format!("x-h{i}"), "v".to_string())).collect();
            let refs: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            respond("200 OK", &refs, b"")
        })
        .await;
        let url = format!("http://{addr}/");
        let g = grants(&url, &[]);
        let err = send(&g, &[], HttpRequest::get(&url), soon()).await.unwrap_err();
        assert!(matches!(err, NetError::Protocol(ref m) if m.contains("too large")), "{err:?}");
    }

    #[test]
    fn send_future_is_send() {
        fn is_send<T: Send>(_: &T) {}
        let g = Grants::none();
        let fut = send(&g, &[], HttpRequest::get("http://127.0.0.1:1/"), Instant::now());
        is_send(&fut);
    }

    #[tokio::test]
    async fn garbage_response_is_protocol_error() {
        let addr = http_server(|_| b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()).await;
        let url = format!("http://{addr}/");
        let g = grants(&url, &[]);
        let err = send(&g, &[], HttpRequest::get(&url), soon()).await.unwrap_err();
        assert!(matches!(err, NetError::Protocol(_)), "{err:?}");
    }
}
