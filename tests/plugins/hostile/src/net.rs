//! Modes that use the host's network API, or try to get around it.

use crate::vitals::plugin::types::NetError;
use crate::vitals::plugin::{http, tcp};
use crate::{CheckResult, Reason, Status, fail, ok};

/// `http`: a GET of `url` through the host. Tests grants, timeouts and error mapping.
pub fn http(url: Option<String>) -> CheckResult {
    let Some(url) = url else {
        return fail(
            Status::Unknown,
            Reason::PluginError,
            "mode 'http' needs `url`".into(),
        );
    };
    let request = http::Request {
        method: "GET".into(),
        url,
        headers: Vec::new(),
        body: None,
        timeout_ms: None,
        max_redirects: 0,
        tls_verify: true,
        max_body_bytes: 1024,
    };
    match http::send(&request) {
        Ok(response) => ok(format!("got {}", response.status)),
        Err(e) => net_failure(e),
    }
}

/// `tcp`: connects to `host:port`, then waits 60 s for 100 bytes. Tests that the check's
/// deadline cuts a host call that waits longer than the check may run.
pub fn tcp(host: Option<String>, port: Option<u16>) -> CheckResult {
    let (Some(host), Some(port)) = (host, port) else {
        return fail(
            Status::Unknown,
            Reason::PluginError,
            "mode 'tcp' needs `host` and `port`".into(),
        );
    };
    let connection = match tcp::connect(&host, port, 5000) {
        Ok((connection, _timings)) => connection,
        Err(e) => return net_failure(e),
    };
    match connection.receive(100, 60_000) {
        Ok(data) => ok(format!("got {} bytes", data.len())),
        Err(e) => net_failure(e),
    }
}

/// Turns a host error into a result: `unknown` for a refused capability, else
/// `critical`, with the reason matching the error and the summary `"<case>: <message>"`.
fn net_failure(error: NetError) -> CheckResult {
    let (status, reason, case, message) = match error {
        NetError::Denied(m) => (Status::Unknown, Reason::Denied, "denied", m),
        NetError::Dns(m) => (Status::Critical, Reason::Dns, "dns", m),
        NetError::Connect(m) => (Status::Critical, Reason::Connect, "connect", m),
        NetError::Timeout(m) => (Status::Critical, Reason::Timeout, "timeout", m),
        NetError::Tls(m) => (Status::Critical, Reason::Tls, "tls", m),
        NetError::Protocol(m) => (Status::Critical, Reason::Protocol, "protocol", m),
        NetError::Invalid(m) => (Status::Critical, Reason::PluginError, "invalid", m),
    };
    fail(status, reason, format!("{case}: {message}"))
}

/// `escape`: tries to reach the environment, the filesystem and the network through
/// WASI instead of the host API. `critical`/`denied` if any attempt got through.
pub fn escape(port: Option<u16>) -> CheckResult {
    let mut reached = Vec::new();
    let mut details = Vec::new();

    let vars = std::env::vars().count();
    details.push(format!("env: {vars} variables"));
    if vars > 0 {
        reached.push(format!("{vars} environment variables"));
    }
    for dir in ["/", "."] {
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                details.push(format!(
                    "read_dir {dir}: listed {} entries",
                    entries.count()
                ));
                reached.push(format!("directory {dir}"));
            }
            Err(e) => details.push(format!("read_dir {dir}: {e}")),
        }
    }
    match std::fs::read("/etc/passwd") {
        Ok(bytes) => {
            details.push(format!("read /etc/passwd: {} bytes", bytes.len()));
            reached.push("file /etc/passwd".into());
        }
        Err(e) => details.push(format!("read /etc/passwd: {e}")),
    }
    let addr = format!("127.0.0.1:{}", port.unwrap_or(80));
    match std::net::TcpStream::connect(&addr) {
        Ok(_) => {
            details.push(format!("connect {addr}: connected"));
            reached.push(format!("socket {addr}"));
        }
        Err(e) => details.push(format!("connect {addr}: {e}")),
    }

    let mut result = if reached.is_empty() {
        ok("sandbox held: env empty, no files, no sockets".into())
    } else {
        fail(
            Status::Critical,
            Reason::Denied,
            format!("sandbox escaped: reached {}", reached.join(", ")),
        )
    };
    result.details = Some(details.join("\n"));
    result
}

/// `refusal-flood`: asks for `count` (default 100,000) URLs on hosts it was not granted,
/// each host name about 250 characters long. Tests that refused calls cost the host a
/// counter, not memory, and end the run at the refusals budget.
pub fn refusal_flood(count: Option<u64>) -> CheckResult {
    let label = "a".repeat(60);
    for i in 0..count.unwrap_or(100_000) {
        let host = format!("{label}.{label}.{label}.{i}.invalid");
        let request = http::Request {
            method: "GET".into(),
            url: format!("http://{host}/"),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            max_redirects: 0,
            tls_verify: true,
            max_body_bytes: 16,
        };
        let _ = http::send(&request);
    }
    ok("the flood ended without the host stopping it".into())
}

/// `connect-flood`: connects to `host:port` (granted, but closed) `count` times (default
/// 100,000). Tests the connection-attempts budget.
pub fn connect_flood(host: Option<String>, port: Option<u16>, count: Option<u64>) -> CheckResult {
    let (host, port) = (host.unwrap_or_else(|| "127.0.0.1".into()), port.unwrap_or(1));
    for _ in 0..count.unwrap_or(100_000) {
        let _ = tcp::connect(&host, port, 1000);
    }
    ok("the flood ended without the host stopping it".into())
}
