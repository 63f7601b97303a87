//! The `http` check's JSON, header, authentication, request-body and certificate keys
//! against servers this module starts on 127.0.0.1: fixed JSON routes
//! (`support::servers::routes`), the shared HTTP server's `/json`, servers of its own that
//! check the Authorization header or echo the request they got, and rustls HTTPS servers
//! presenting certificates rcgen makes for each test (a private CA's leaves valid 90
//! days, 3 days, or expired 3 days ago), trusted through the check's `ca`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::pki::{Ca, DAY, HOUR, LOCAL, Served, When};
use crate::support::{metric, servers};
use crate::{reason, run, run_env, status, summary};

/// The user and password the Basic server accepts, and that header as it must arrive.
const BASIC_USER: &str = "probe";
const BASIC_PASSWORD: &str = "Vitals-e2e-S3cret";
/// `Basic ` and base64 of `probe:Vitals-e2e-S3cret`.
const BASIC_HEADER: &str = "Basic cHJvYmU6Vml0YWxzLWUyZS1TM2NyZXQ=";
/// The token the bearer server accepts.
const BEARER_TOKEN: &str = "vitals-e2e-token-5f3a9c";

/// A JSON API's answer.
const API: &str = r#"{"status":"green","version":"1.2.3","count":3,"healthy":true,"maintenance":null,
"items":[{"id":7},{"id":9}],"a/b":"slash","m~n":"tilde","latency_ms":250,"load":"high"}"#;

/// `/api` answers [`API`], `/html` a gateway's error page, `/empty` nothing.
fn api() -> SocketAddr {
    servers::routes(&[
        ("/api", "200 OK", "application/json", API),
        ("/html", "200 OK", "text/html", "<html><h1>502 Bad Gateway</h1></html>"),
        ("/empty", "200 OK", "application/json", ""),
    ])
}

/// The request a test server got: method, headers (names lower case) and body.
struct Received {
    method: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A test server's answer: the status line, content type and body.
type Reply = (&'static str, &'static str, String);

/// What a test server answers to the request it got.
type Handler = fn(&Received) -> Reply;

/// Reads one request from `stream` (head, then a Content-Length body) and writes the
/// handler's answer.
fn exchange(stream: impl Read + Write, handler: Handler) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let method = request_line.split_whitespace().next().unwrap_or_default().to_string();
    let received = Received { method, headers, body: String::from_utf8_lossy(&body).to_string() };
    let (status, kind, body) = handler(&received);
    let stream = reader.get_mut();
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// A plain HTTP server on 127.0.0.1 answering every request with `handler`.
fn http_server(handler: Handler) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test server");
    let addr = listener.local_addr().expect("server address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = exchange(stream, handler);
            });
        }
    });
    addr
}

/// 200 with the Basic credentials above, else 401.
fn basic_auth(request: &Received) -> Reply {
    match request.header("authorization") {
        Some(BASIC_HEADER) => ("200 OK", "text/plain", "welcome\n".into()),
        _ => ("401 Unauthorized", "text/plain", "who are you?\n".into()),
    }
}

/// 200 with the bearer token above, else 401.
fn bearer_auth(request: &Received) -> Reply {
    let expected = format!("Bearer {BEARER_TOKEN}");
    if request.header("authorization") == Some(expected.as_str()) {
        ("200 OK", "text/plain", "welcome\n".into())
    } else {
        ("401 Unauthorized", "text/plain", "who are you?\n".into())
    }
}

/// The request as JSON: its method, Content-Type and body.
fn echo(request: &Received) -> Reply {
    let echoed = serde_json::json!({
        "method": request.method,
        "content_type": request.header("content-type"),
        "body": request.body,
    });
    ("200 OK", "application/json", echoed.to_string())
}

/// An HTTPS server on 127.0.0.1 presenting `served`, answering `up` to every request.
fn https_server(served: Served) -> SocketAddr {
    let config = served.server_config(false);
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an HTTPS test server");
    let addr = listener.local_addr().expect("server address");
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(conn) = rustls::ServerConnection::new(config) else { return };
                // The handshake happens on the first read; a client that rejects the
                // certificate ends it there.
                let _ = exchange(rustls::StreamOwned::new(conn, tcp), |_| ("200 OK", "text/plain", "up\n".into()));
            });
        }
    });
    addr
}

/// `https://127.0.0.1:PORT/`.
fn https_url(addr: SocketAddr) -> String {
    format!("https://127.0.0.1:{}/", addr.port())
}

/// The `warn` and `crit` ranges of metric `name`.
fn metric_ranges(result: &serde_json::Value, name: &str) -> (Option<String>, Option<String>) {
    let found = result["metrics"].as_array().and_then(|m| m.iter().find(|m| m["name"] == name)).cloned();
    let found = found.unwrap_or_default();
    (found["warn"].as_str().map(str::to_string), found["crit"].as_str().map(str::to_string))
}

#[test]
fn json_values_pointers_and_ranges_that_hold_are_ok() {
    let addr = api();
    let config = r#"json = { "/status" = "green", "/count" = "3", "/healthy" = "true", "/maintenance" = "null", "/items/1/id" = "9", "/a~1b" = "slash", "/m~0n" = "tilde" }
json_exists = ["/version", "/items/0"]
json_range = { "/latency_ms" = "0:300", "/count" = "@10:20" }"#;
    let (code, result, stderr) = run("http", &format!("http://{addr}/api"), "", config);
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("200 OK in "), "{result:#}");
    assert_eq!(metric(&result, "body_size"), Some(API.len() as f64));
}

#[test]
fn a_json_value_that_differs_is_critical_assertion_naming_the_pointer() {
    let addr = api();
    let (code, result, stderr) = run("http", &format!("http://{addr}/api"), "", r#"json = { "/status" = "red" }"#);
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("json /status is \"green\", expected \"red\" (200 OK in "), "{result:#}");

    let (_, result, _) = run("http", &format!("http://{addr}/api"), "", r#"json = { "/count" = "4" }"#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("json /count is 3, expected 4 ("), "{result:#}");
}

#[test]
fn a_missing_pointer_is_critical_assertion_and_every_failure_is_in_the_details() {
    let addr = api();
    let config = r#"json = { "/items/5/id" = "1" }
json_exists = ["/owner/email"]"#;
    let (_, result, stderr) = run("http", &format!("http://{addr}/api"), "", config);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert!(
        summary(&result).starts_with("json /items/5/id is missing, and 1 more failed assertion (200 OK in "),
        "{result:#}"
    );
    let details = result["details"].as_str().unwrap_or_default();
    assert!(
        details.starts_with("failed assertions:\n  json /items/5/id is missing\n  json /owner/email is missing\n"),
        "{details}"
    );
}

#[test]
fn a_body_that_is_not_json_is_critical_assertion() {
    let addr = api();
    let (_, result, stderr) = run("http", &format!("http://{addr}/html"), "", r#"json = { "/status" = "green" }"#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert!(
        summary(&result).starts_with(
            "the body is not JSON: expected value at line 1 column 1, it starts \"<html><h1>502 Bad Gateway</h1></html>\" ("
        ),
        "{result:#}"
    );
    let (_, result, _) = run("http", &format!("http://{addr}/empty"), "", r#"json_exists = ["/status"]"#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("the body is not JSON: it is empty ("), "{result:#}");
}

#[test]
fn a_json_number_outside_its_range_is_critical_and_a_text_is_no_number() {
    let addr = api();
    let url = format!("http://{addr}/api");
    let (_, result, stderr) = run("http", &url, "", r#"json_range = { "/latency_ms" = "0:100" }"#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("json /latency_ms is 250, outside 0:100 ("), "{result:#}");

    let (_, result, _) = run("http", &url, "", r#"json_range = { "/count" = "@1:5" }"#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("json /count is 3, inside @1:5 ("), "{result:#}");

    let (_, result, _) = run("http", &url, "", r#"json_range = { "/load" = "~:5" }"#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("json /load is \"high\", not a number (json_range ~:5) ("), "{result:#}");

    let (_, result, _) = run("http", &url, "", r#"json_range = { "/latency_ms" = "300" }"#);
    assert_eq!(status(&result), "ok", "{result:#}");
}

#[test]
fn header_regex_that_matches_is_ok_and_one_that_does_not_is_critical() {
    let web = servers::http();
    let url = format!("http://{web}/json");
    let config = r#"header_regex = { X-Service = '^vitals-\w+$', Content-Type = "json" }"#;
    let (_, result, stderr) = run("http", &url, "", config);
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");

    let (_, result, _) = run("http", &url, "", r#"header_regex = { X-Service = "^prod-" }"#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(
        summary(&result).starts_with("header x-service is \"vitals-test\", which does not match /^prod-/ ("),
        "{result:#}"
    );

    let (_, result, _) = run("http", &url, "", r#"header_regex = { X-Request-Id = "." }"#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("header x-request-id is missing ("), "{result:#}");
}

#[test]
fn basic_authentication_with_the_password_from_the_environment() {
    let addr = http_server(basic_auth);
    let url = format!("http://{addr}/admin");
    let config = format!("basic_user = \"{BASIC_USER}\"\nbasic_password = \"${{env:VITALS_TEST_HTTP_PASSWORD}}\"");
    let (code, result, stderr) = run_env("http", &url, "", &config, &[("VITALS_TEST_HTTP_PASSWORD", BASIC_PASSWORD)]);
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("200 OK in "), "{result:#}");
    assert!(!result.to_string().contains(BASIC_PASSWORD) && !stderr.contains(BASIC_PASSWORD), "{result:#}\n{stderr}");

    let wrong = "not-the-password";
    let (_, result, stderr) = run_env("http", &url, "", &config, &[("VITALS_TEST_HTTP_PASSWORD", wrong)]);
    assert_eq!((status(&result), reason(&result)), ("critical", "http-status"), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("401 Unauthorized (expected 200-399) in "), "{result:#}");
    assert!(!result.to_string().contains(wrong) && !stderr.contains(wrong), "{result:#}\n{stderr}");
}

#[test]
fn a_bearer_token_from_the_environment() {
    let addr = http_server(bearer_auth);
    let url = format!("http://{addr}/api");
    let config = "bearer_token = \"${env:VITALS_TEST_HTTP_TOKEN}\"";
    let (_, result, stderr) = run_env("http", &url, "", config, &[("VITALS_TEST_HTTP_TOKEN", BEARER_TOKEN)]);
    assert_eq!((status(&result), reason(&result)), ("ok", ""), "{result:#}\n{stderr}");
    assert!(!result.to_string().contains(BEARER_TOKEN) && !stderr.contains(BEARER_TOKEN), "{result:#}\n{stderr}");

    let (_, result, _) = run_env("http", &url, "", config, &[("VITALS_TEST_HTTP_TOKEN", "expired-token")]);
    assert_eq!((status(&result), reason(&result)), ("critical", "http-status"), "{result:#}");
    assert!(summary(&result).starts_with("401 Unauthorized"), "{result:#}");
}

#[test]
fn a_body_reaches_the_server_posted_with_its_content_type() {
    let addr = http_server(echo);
    let url = format!("http://{addr}/echo");
    // The server echoes what it got; the check's own json keys say whether it was right.
    let config = r#"body = '{"probe":true}'
json = { "/method" = "POST", "/content_type" = "application/json", "/body" = '{"probe":true}' }"#;
    let (_, result, stderr) = run("http", &url, "", config);
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");

    let config = r#"body = "ping"
method = "PUT"
json = { "/method" = "PUT", "/content_type" = "text/plain; charset=utf-8", "/body" = "ping" }"#;
    let (_, result, stderr) = run("http", &url, "", config);
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");

    let config = r#"body = "a,b"
content_type = "text/csv"
json = { "/content_type" = "application/json" }"#;
    let (_, result, _) = run("http", &url, "", config);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("json /content_type is \"text/csv\", expected \"application/json\" ("));
}

#[test]
fn https_with_a_private_ca_reports_days_to_expiry_and_the_tls_version() {
    let ca = Ca::new("Vitals HTTP Test CA");
    let addr = https_server(ca.valid_for(90));
    let (code, result, stderr) = run("http", &https_url(addr), &ca.setting(), "");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("200 OK in "), "{result:#}");
    assert!(metric(&result, "days_to_expiry").is_some_and(|d| (89.0..=90.0).contains(&d)), "{result:#}");
    assert_eq!(metric(&result, "tls_version"), Some(1.3));
    assert!(metric(&result, "time_tls").is_some(), "{result:#}");
    let details = result["details"].as_str().unwrap_or_default();
    assert!(details.contains("certificate CN=localhost (issuer CN=Vitals HTTP Test CA), valid until "), "{details}");

    // Thresholds it is far from leave it ok, and travel with the metric.
    let (_, result, _) = run("http", &https_url(addr), &ca.setting(), "cert_warn_days = 30\ncert_crit_days = 7");
    assert_eq!(status(&result), "ok", "{result:#}");
    assert_eq!(metric_ranges(&result, "days_to_expiry"), (Some("30:".into()), Some("7:".into())), "{result:#}");
}

#[test]
fn a_certificate_expiring_in_three_days_is_critical_under_cert_crit_days() {
    let ca = Ca::new("Vitals HTTP Test CA");
    let addr = https_server(ca.valid_for(3));
    let (code, result, stderr) = run("http", &https_url(addr), &ca.setting(), "cert_crit_days = 7");
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("certificate expires in 3 days, on "), "{result:#}");
    assert!(summary(&result).contains(", sooner than cert_crit_days 7 (200 OK in "), "{result:#}");
    assert_eq!(metric(&result, "days_to_expiry"), Some(3.0));
    assert_eq!(metric_ranges(&result, "days_to_expiry"), (None, Some("7:".into())), "{result:#}");

    let (_, result, _) = run("http", &https_url(addr), &ca.setting(), "cert_warn_days = 5\ncert_crit_days = 1");
    assert_eq!((status(&result), reason(&result)), ("warning", "assertion"), "{result:#}");
    assert!(summary(&result).contains("sooner than cert_warn_days 5"), "{result:#}");

    // Without thresholds the days are reported, not judged.
    let (_, result, _) = run("http", &https_url(addr), &ca.setting(), "");
    assert_eq!(status(&result), "ok", "{result:#}");
    assert_eq!(metric(&result, "days_to_expiry"), Some(3.0));
}

#[test]
fn an_expired_certificate_is_critical_tls_in_words() {
    let ca = Ca::new("Vitals HTTP Test CA");
    let addr = https_server(ca.leaf(&LOCAL, When::Ago(30 * DAY), When::Ago(3 * DAY + HOUR)));
    let (_, result, stderr) = run("http", &https_url(addr), &ca.setting(), "");
    assert_eq!((status(&result), reason(&result)), ("critical", "tls"), "{result:#}\n{stderr}");
    let expected = format!("GET {} failed: certificate for 127.0.0.1 expired on ", https_url(addr));
    assert!(summary(&result).starts_with(&expected), "{result:#}");
    assert!(summary(&result).ends_with(", 3 days ago"), "{result:#}");

    // Not verified, the handshake completes and the thresholds judge the date.
    let (_, result, _) = run("http", &https_url(addr), &ca.setting(), "tls_verify = false\ncert_crit_days = 7");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).starts_with("certificate expired on "), "{result:#}");
    assert!(summary(&result).contains(", 3 days ago (200 OK in "), "{result:#}");
    assert_eq!(metric(&result, "days_to_expiry"), Some(-3.0));
}
