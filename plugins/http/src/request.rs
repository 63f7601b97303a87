//! The request a config asks for: method, headers (with Authorization and Content-Type
//! made from `basic_*`, `bearer_token`, `body` and `content_type`) and body.

use vitals_sdk::http::Request;
use vitals_sdk::serde_json::{self, Value};

use crate::config::Config;

/// The request to send to `target` within `timeout_ms`.
pub fn build(config: &Config, target: &str, timeout_ms: u32) -> Request {
    let mut headers: Vec<(String, String)> =
        config.headers.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
    if let Some(authorization) = authorization(config) {
        headers.push(("Authorization".to_string(), authorization));
    }
    if let Some(body) = &config.body
        && config.header("content-type").is_none()
    {
        headers.push(("Content-Type".to_string(), content_type(config, body)));
    }
    Request {
        method: config.method().to_string(),
        url: target.to_string(),
        headers,
        body: config.body.as_ref().map(|body| body.as_bytes().to_vec()),
        timeout_ms: Some(timeout_ms),
        max_redirects: config.max_redirects,
        tls_verify: config.tls_verify,
        max_body_bytes: config.max_body,
    }
}

/// `Basic base64(user:password)` or `Bearer token`, when the config asks for either.
fn authorization(config: &Config) -> Option<String> {
    if let Some(token) = &config.bearer_token {
        return Some(format!("Bearer {token}"));
    }
    let user = config.basic_user.as_deref()?;
    let password = config.basic_password.as_deref().unwrap_or_default();
    Some(format!("Basic {}", base64(format!("{user}:{password}").as_bytes())))
}

/// `content_type`, or what the body looks like: JSON, else UTF-8 text.
fn content_type(config: &Config, body: &str) -> String {
    match &config.content_type {
        Some(kind) => kind.clone(),
        None if serde_json::from_str::<Value>(body).is_ok() => "application/json".to_string(),
        None => "text/plain; charset=utf-8".to_string(),
    }
}

/// Standard base64 with padding (RFC 4648 §4), as Basic authentication writes it.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    fn request(json: &str) -> Request {
        match Config::parse(json) {
            Ok(config) => build(&config, "https://api.test/", 5_000),
            Err(error) => panic!("{error}"),
        }
    }

    fn header<'a>(request: &'a Request, name: &str) -> Vec<&'a str> {
        request.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    #[test]
    fn base64_as_rfc_4648_writes_it() {
        for (text, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(text.as_bytes()), encoded, "{text}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn a_plain_get_by_default() {
        let request = request("{}");
        assert_eq!((request.method.as_str(), request.url.as_str()), ("GET", "https://api.test/"));
        assert_eq!((request.body, request.headers.len()), (None, 0));
        assert_eq!((request.timeout_ms, request.max_redirects, request.tls_verify), (Some(5_000), 5, true));
        assert_eq!(request.max_body_bytes, 1_048_576);
    }

    #[test]
    fn basic_and_bearer_authorization() {
        let basic = request(r#"{"basic_user": "Aladdin", "basic_password": "open sesame"}"#);
        assert_eq!(header(&basic, "authorization"), ["Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="]);
        let empty = request(r#"{"basic_user": "probe", "basic_password": ""}"#);
        assert_eq!(header(&empty, "authorization"), [format!("Basic {}", base64(b"probe:"))]);
        let bearer = request(r#"{"bearer_token": "abc.def-ghi"}"#);
        assert_eq!(header(&bearer, "authorization"), ["Bearer abc.def-ghi"]);
        let own = request(r#"{"headers": {"Authorization": "Token xyz"}}"#);
        assert_eq!(header(&own, "authorization"), ["Token xyz"]);
    }

    #[test]
    fn a_body_is_posted_with_a_content_type() {
        let json = request(r#"{"body": "{\"probe\": true}"}"#);
        assert_eq!(json.method, "POST");
        assert_eq!(json.body.as_deref(), Some(&b"{\"probe\": true}"[..]));
        assert_eq!(header(&json, "content-type"), ["application/json"]);
        let text = request(r#"{"body": "ping", "method": "PUT"}"#);
        assert_eq!(text.method, "PUT");
        assert_eq!(header(&text, "content-type"), ["text/plain; charset=utf-8"]);
        let given = request(r#"{"body": "a,b", "content_type": "text/csv"}"#);
        assert_eq!(header(&given, "content-type"), ["text/csv"]);
        // A Content-Type among the headers is sent as it is, alone.
        let own = request(r#"{"body": "{}", "headers": {"content-type": "application/merge-patch+json"}}"#);
        assert_eq!(header(&own, "content-type"), ["application/merge-patch+json"]);
    }
}
