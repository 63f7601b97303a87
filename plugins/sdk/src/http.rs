//! The host's HTTP/1.1 client (`vitals:plugin/http`): in a component the WIT import
//! itself, at no cost; in a native build the same function answered by the test kit's
//! replayed case, or failing with an error saying there is no host.

pub use crate::bindings::vitals::plugin::http::{Header, Request, Response};
#[cfg(target_arch = "wasm32")]
pub use crate::bindings::vitals::plugin::http::{send, send_tls};

/// Sends a request and reads the response. Every request, and every redirect the host
/// follows, is checked against the check's grants; an error says why the exchange failed
/// (turn it into a result with [`crate::net_failure`]).
///
/// In a native build (`cargo test`) there is no host: with the `testing` feature the
/// answer comes from the case `vitals_sdk::testing` runs, otherwise this returns
/// [`NetError::Invalid`](crate::NetError::Invalid) saying so.
///
/// ```
/// use vitals_sdk::http::{self, Request};
///
/// let request = Request {
///     method: "GET".into(),
///     url: "https://api.test/health".into(),
///     headers: vec![("accept".into(), "application/json".into())],
///     body: None,
///     timeout_ms: Some(5_000),
///     max_redirects: 3,
///     tls_verify: true,
///     max_body_bytes: 65_536,
/// };
/// match http::send(&request) {
///     Ok(response) => println!("{} from {}", response.status, response.remote_addr),
///     // Natively, outside a test case, there is no host to answer.
///     Err(err) => assert!(err.message().starts_with("no host: "), "{err:?}"),
/// }
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn send(request: &Request) -> Result<Response, crate::NetError> {
    crate::native::with_host("http::send", |host| host.http(request))
}

/// Like [`send`], and also says what the TLS handshake of the final exchange established
/// (none for `http://`), whether or not the certificate was verified (since WIT 0.1.3):
/// for a certificate's days to expiry beside the HTTP check.
///
/// In a native build the test kit answers it like [`send`], with no TLS facts (cases carry
/// no certificates).
///
/// ```
/// use vitals_sdk::http::{Request, send_tls};
/// let request = Request {
///     method: "GET".into(),
///     url: "https://example.test/".into(),
///     headers: Vec::new(),
///     body: None,
///     timeout_ms: Some(1_000),
///     max_redirects: 0,
///     tls_verify: true,
///     max_body_bytes: 0,
/// };
/// let err = send_tls(&request).map(|_| ()).unwrap_err();
/// assert!(err.message().starts_with("no host: "), "{err:?}");
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn send_tls(request: &Request) -> Result<(Response, Option<crate::TlsInfo>), crate::NetError> {
    crate::native::with_host("http::send_tls", |host| host.http(request)).map(|response| (response, None))
}
