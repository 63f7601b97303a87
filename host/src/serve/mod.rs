//! The daemon's HTTP endpoint (`vitals run --listen`): Prometheus metrics at `/metrics`,
//! liveness at `/healthz` and the runner's state as JSON at `/status`.
//!
//! HTTP/1.1 over hyper. The caller binds the listener (tests bind port 0); [`serve`] accepts
//! until the shutdown future resolves, then stops accepting and lets the requests in flight
//! finish before it returns.

pub mod metrics;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

pub use metrics::Telemetry;

/// The closure that gives the runner's state for `GET /status`.
pub type StatusFn = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

/// How long a client may take to send a request's headers before the connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`serve`] waits, after shutdown, for the requests in flight to finish.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed `accept` (such as running out of file descriptors) before retrying.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const APPLICATION_JSON: &str = "application/json";

/// Serves `/metrics`, `/healthz` and `/status` on `listener` until `shutdown` resolves.
///
/// `GET` (and `HEAD`) of `/metrics` answers the Prometheus text format of `telemetry`,
/// `/healthz` answers `ok`, `/status` answers the JSON value of `status`; other paths are
/// 404 and other methods on these paths 405. When `shutdown` resolves the listener is
/// closed, idle connections are closed and the requests in flight finish (for at most
/// [`DRAIN_TIMEOUT`]); then this returns `Ok`. Failed accepts are logged and retried, so
/// one bad connection never stops the endpoint.
pub async fn serve(
    listener: TcpListener,
    telemetry: Arc<Telemetry>,
    status: StatusFn,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accepting an HTTP connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let telemetry = Arc::clone(&telemetry);
        let status = Arc::clone(&status);
        let service = service_fn(move |request: Request<Incoming>| {
            let response = route(&request, &status);
            let telemetry = Arc::clone(&telemetry);
            async move {
                let response = match response {
                    Route::Done(response) => response,
                    // Encoding thousands of checks takes milliseconds: off the runtime's
                    // workers, so that no check's start waits behind a scrape.
                    Route::Metrics => {
                        let body = tokio::task::spawn_blocking(move || telemetry.encode()).await.unwrap_or_default();
                        respond(StatusCode::OK, metrics::CONTENT_TYPE, Bytes::from(body))
                    }
                };
                Ok::<_, Infallible>(response)
            }
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
        });
    }

    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("HTTP connections still open {DRAIN_TIMEOUT:?} after shutdown; leaving them");
    }
    Ok(())
}

/// What a request gets: a response, or the metrics page (encoded off the workers).
enum Route {
    Done(Response<Full<Bytes>>),
    Metrics,
}

/// The response to one request.
fn route(request: &Request<Incoming>, status: &StatusFn) -> Route {
    let known = matches!(request.uri().path(), "/metrics" | "/healthz" | "/status");
    if !known {
        return Route::Done(respond(StatusCode::NOT_FOUND, TEXT_PLAIN, Bytes::from_static(b"not found\n")));
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response =
            respond(StatusCode::METHOD_NOT_ALLOWED, TEXT_PLAIN, Bytes::from_static(b"method not allowed\n"));
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Route::Done(response);
    }
    Route::Done(match request.uri().path() {
        "/metrics" => return Route::Metrics,
        "/healthz" => respond(StatusCode::OK, TEXT_PLAIN, Bytes::from_static(b"ok\n")),
        _ => match serde_json::to_vec_pretty(&status()) {
            Ok(mut body) => {
                body.push(b'\n');
                respond(StatusCode::OK, APPLICATION_JSON, Bytes::from(body))
            }
            Err(error) => {
                tracing::warn!(%error, "serialising /status failed");
                respond(StatusCode::INTERNAL_SERVER_ERROR, TEXT_PLAIN, Bytes::from_static(b"internal error\n"))
            }
        },
    })
}

fn respond(code: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = code;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CheckResult, Status};
    use http_body_util::{BodyExt, Empty};
    use hyper::HeaderMap;
    use std::net::SocketAddr;
    use tokio::net::TcpStream;
    use tokio::sync::{Notify, oneshot};
    use tokio::task::JoinHandle;

    struct Server {
        addr: SocketAddr,
        stop: oneshot::Sender<()>,
        task: JoinHandle<std::io::Result<()>>,
    }

    async fn start(telemetry: Arc<Telemetry>, status: StatusFn) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(listener, telemetry, status, shutdown));
        Server { addr, stop, task }
    }

    async fn request(addr: SocketAddr, method: Method, path: &str) -> (StatusCode, HeaderMap, Bytes) {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, addr.to_string())
            .body(Empty::<Bytes>::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, body)
    }

    fn content_type(headers: &HeaderMap) -> &str {
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    async fn stop(server: Server) {
        server.stop.send(()).expect("serve still running");
        let outcome = tokio::time::timeout(Duration::from_secs(5), server.task).await.expect("serve returns");
        outcome.expect("serve did not panic").expect("serve returns Ok");
    }

    #[tokio::test]
    async fn serves_metrics_health_and_status() {
        let telemetry = Arc::new(Telemetry::new());
        telemetry.record_result(
            &CheckResult {
                check: "web".to_owned(),
                plugin: "http".to_owned(),
                plugin_version: "1.0.0".to_owned(),
                target: "https://example.test/".to_owned(),
                started_at_ms: 1_700_000_000_000,
                duration: Duration::from_millis(42),
                status: Status::Critical,
                summary: "down".to_owned(),
                reason: None,
                metrics: Vec::new(),
                details: None,
                state: None,
            },
            true,
            false,
        );
        let state = serde_json::json!({"checks": [{"name": "web", "status": "critical"}], "uptime_s": 12});
        let expected = state.clone();
        let server = start(Arc::clone(&telemetry), Arc::new(move || state.clone())).await;

        let (code, headers, body) = request(server.addr, Method::GET, "/metrics").await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(content_type(&headers), "text/plain; version=0.0.4; charset=utf-8");
        let text = std::str::from_utf8(&body).expect("UTF-8");
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses");
        let status = scrape
            .samples
            .iter()
            .find(|s| s.metric == "vitals_check_status" && s.labels.get("check") == Some("web"))
            .expect("status series");
        assert_eq!(status.value, prometheus_parse::Value::Gauge(2.0));

        let (code, headers, body) = request(server.addr, Method::GET, "/healthz").await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(content_type(&headers), "text/plain; charset=utf-8");
        assert_eq!(&body[..], b"ok\n");

        let (code, headers, body) = request(server.addr, Method::GET, "/status").await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(content_type(&headers), "application/json");
        let got: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(got, expected);

        let (code, _, _) = request(server.addr, Method::GET, "/metrics?format=x").await;
        assert_eq!(code, StatusCode::OK);
        let (code, headers, body) = request(server.addr, Method::HEAD, "/healthz").await;
        assert_eq!((code, content_type(&headers), body.len()), (StatusCode::OK, "text/plain; charset=utf-8", 0));
        let (code, _, _) = request(server.addr, Method::GET, "/nope").await;
        assert_eq!(code, StatusCode::NOT_FOUND);
        let (code, _, _) = request(server.addr, Method::POST, "/nope").await;
        assert_eq!(code, StatusCode::NOT_FOUND);
        let (code, headers, _) = request(server.addr, Method::POST, "/metrics").await;
        assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers.get(header::ALLOW).and_then(|v| v.to_str().ok()), Some("GET, HEAD"));
        let (code, _, _) = request(server.addr, Method::DELETE, "/status").await;
        assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);

        let addr = server.addr;
        stop(server).await;
        assert!(TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_lets_the_request_in_flight_finish() {
        let entered = Arc::new(Notify::new());
        let status: StatusFn = {
            let entered = Arc::clone(&entered);
            Arc::new(move || {
                entered.notify_one();
                // A slow status: the shutdown arrives while this request is being answered.
                std::thread::sleep(Duration::from_millis(300));
                serde_json::json!({"slow": true})
            })
        };
        let server = start(Arc::new(Telemetry::new()), status).await;
        // An idle keep-alive connection must not hold the shutdown up.
        let idle = TcpStream::connect(server.addr).await.expect("connect");

        let addr = server.addr;
        let in_flight = tokio::spawn(async move { request(addr, Method::GET, "/status").await });
        entered.notified().await;
        stop(server).await;

        let (code, _, body) = in_flight.await.expect("request task");
        assert_eq!(code, StatusCode::OK);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).expect("JSON"),
            serde_json::json!({"slow": true})
        );
        assert!(TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
        drop(idle);
    }
}
