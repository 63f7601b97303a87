//! The little of the NATS client protocol a health check needs: the server's `INFO`, the
//! client's `CONNECT`, and the operations the server sends back, one line each.

use vitals_sdk::sanitize;
use vitals_sdk::serde_json::{self, Value};

/// Longest a value from INFO may get when shown.
const MAX_SHOWN: usize = 80;

/// What the server says of itself in `INFO {json}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerInfo {
    /// `server_id`, cleaned.
    pub server_id: String,
    /// `server_name`, cleaned.
    pub server_name: String,
    /// `version` (of nats-server), cleaned.
    pub version: String,
    /// `go`, the Go version it was built with, cleaned.
    pub go: String,
    /// `proto`, the protocol version.
    pub proto: Option<i64>,
    /// `jetstream`: whether JetStream is enabled.
    pub jetstream: bool,
    /// `auth_required`.
    pub auth_required: bool,
    /// `tls_required`.
    pub tls_required: bool,
    /// `max_payload`, in bytes.
    pub max_payload: Option<u64>,
    /// `client_id`: the number the server gave this connection.
    pub client_id: Option<u64>,
}

impl ServerInfo {
    /// Reads the JSON after `INFO `; the error says what is wrong with it.
    pub fn parse(json: &[u8]) -> Result<ServerInfo, String> {
        let value: Value = serde_json::from_slice(json).map_err(|e| format!("its JSON does not parse ({e})"))?;
        let Value::Object(fields) = value else {
            return Err("its JSON is not an object".to_string());
        };
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(clean).unwrap_or_default();
        let flag = |name: &str| fields.get(name).and_then(Value::as_bool).unwrap_or(false);
        let info = ServerInfo {
            server_id: text("server_id"),
            server_name: text("server_name"),
            version: text("version"),
            go: text("go"),
            proto: fields.get("proto").and_then(Value::as_i64),
            jetstream: flag("jetstream"),
            auth_required: flag("auth_required"),
            tls_required: flag("tls_required"),
            max_payload: fields.get("max_payload").and_then(Value::as_u64),
            client_id: fields.get("client_id").and_then(Value::as_u64),
        };
        if info.server_id.is_empty() && info.version.is_empty() {
            return Err("it has neither server_id nor version".to_string());
        }
        Ok(info)
    }

    /// The subject of this connection's inbox: unique in a cluster, as the server's id and
    /// the connection's number together are.
    pub fn inbox(&self) -> String {
        let server: String = self.server_id.chars().filter(char::is_ascii_alphanumeric).take(16).collect();
        let server = if server.is_empty() { "server".to_string() } else { server };
        format!("_INBOX.vitals.{server}.{}", self.client_id.unwrap_or(0))
    }

    /// The lines the details show, `name: value`.
    pub fn details(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (name, value) in [
            ("server_id", &self.server_id),
            ("server_name", &self.server_name),
            ("version", &self.version),
            ("go", &self.go),
        ] {
            // A server without a name of its own is named by its id: no need to say it twice.
            let repeated = name == "server_name" && *value == self.server_id;
            if !value.is_empty() && !repeated {
                lines.push(format!("{name}: {value}"));
            }
        }
        if let Some(proto) = self.proto {
            lines.push(format!("proto: {proto}"));
        }
        lines.push(format!("jetstream: {}", self.jetstream));
        lines.push(format!("auth_required: {}", self.auth_required));
        lines.push(format!("tls_required: {}", self.tls_required));
        if let Some(max) = self.max_payload {
            lines.push(format!("max_payload: {max}"));
        }
        if let Some(id) = self.client_id {
            lines.push(format!("client_id: {id}"));
        }
        lines
    }
}

/// Credentials for CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// None configured.
    None,
    /// `user` and `pass`.
    User(&'a str, &'a str),
    /// `auth_token`.
    Token(&'a str),
}

/// The `CONNECT {json}\r\n` line: verbose (every command is acknowledged with `+OK`), not
/// pedantic, named "vitals", with the credentials given.
pub fn connect_line(credentials: Credentials<'_>, tls: bool) -> Vec<u8> {
    let quote = |text: &str| Value::from(text).to_string();
    let mut json = format!(
        "{{\"verbose\":true,\"pedantic\":false,\"tls_required\":{tls},\"name\":\"vitals\",\"lang\":\"rust\",\
         \"version\":{},\"protocol\":1,\"echo\":true",
        quote(env!("CARGO_PKG_VERSION"))
    );
    match credentials {
        Credentials::None => {}
        Credentials::User(user, pass) => json.push_str(&format!(",\"user\":{},\"pass\":{}", quote(user), quote(pass))),
        Credentials::Token(token) => json.push_str(&format!(",\"auth_token\":{}", quote(token))),
    }
    format!("CONNECT {json}}}\r\n").into_bytes()
}

/// One operation the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `+OK`, the acknowledgement of verbose mode.
    Ok,
    /// `-ERR 'message'`: the message as sent (with its quotes).
    Err(String),
    /// `PING`: the server wants a `PONG`.
    Ping,
    /// `PONG`.
    Pong,
    /// `INFO {json}` sent again (the cluster changed).
    Info,
    /// `MSG <subject> <sid> [reply-to] <#bytes>`: the payload follows.
    Msg {
        /// The subject it was published to.
        subject: String,
        /// The subscription it is delivered for.
        sid: String,
        /// The payload's length.
        size: usize,
    },
    /// Anything else: the raw line, for quoting.
    Other(Vec<u8>),
}

/// What `line` (without its CRLF) is.
pub fn classify(line: Vec<u8>) -> Op {
    let text = String::from_utf8_lossy(&line);
    let (name, rest) = match text.split_once([' ', '\t']) {
        Some((name, rest)) => (name, rest.trim()),
        None => (text.trim(), ""),
    };
    match name.to_ascii_uppercase().as_str() {
        "+OK" if rest.is_empty() => Op::Ok,
        "-ERR" => Op::Err(rest.to_string()),
        "PING" if rest.is_empty() => Op::Ping,
        "PONG" if rest.is_empty() => Op::Pong,
        "INFO" => Op::Info,
        "MSG" => {
            let args: Vec<&str> = rest.split_whitespace().collect();
            match (args.len(), args.last().and_then(|n| n.parse::<usize>().ok())) {
                (3 | 4, Some(size)) => Op::Msg { subject: args[0].to_string(), sid: args[1].to_string(), size },
                _ => Op::Other(line),
            }
        }
        _ => Op::Other(line),
    }
}

/// `text` on one line, without control characters, at most [`MAX_SHOWN`] characters.
pub fn clean(text: &str) -> String {
    // `sanitize` trims before it turns control characters into spaces: trim again.
    sanitize(text, MAX_SHOWN).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = r#"{"server_id":"NA7FS3AMNBUHQNWOF2UZ4QDV63HVJ6LRBS4N2QLCZHFASMA7JE6YMS4Q","server_name":"n1","version":"2.9.10","proto":1,"go":"go1.19.8","host":"127.0.0.1","port":4222,"headers":true,"max_payload":1048576,"jetstream":true,"client_id":6,"client_ip":"127.0.0.1"} "#;

    #[test]
    fn info_fields() {
        let info = match ServerInfo::parse(INFO.as_bytes()) {
            Ok(info) => info,
            Err(error) => panic!("{error}"),
        };
        assert_eq!((info.version.as_str(), info.server_name.as_str(), info.proto), ("2.9.10", "n1", Some(1)));
        assert!(info.jetstream && !info.auth_required && !info.tls_required);
        assert_eq!((info.max_payload, info.client_id), (Some(1048576), Some(6)));
        assert_eq!(info.inbox(), "_INBOX.vitals.NA7FS3AMNBUHQNWO.6");
        assert!(info.details().contains(&"jetstream: true".to_string()));

        assert!(ServerInfo::parse(b"nope").is_err());
        assert!(ServerInfo::parse(b"[1]").is_err());
        assert!(ServerInfo::parse(b"{}").is_err());
        let odd = ServerInfo::parse(br#"{"version":"\u001b[2J2.10","server_id":"../x y"}"#).unwrap_or_default();
        assert_eq!(odd.version, "[2J2.10");
        assert_eq!(odd.inbox(), "_INBOX.vitals.xy.0");
    }

    #[test]
    fn connect_lines() {
        let line = String::from_utf8(connect_line(Credentials::None, false)).unwrap_or_default();
        assert_eq!(
            line,
            "CONNECT {\"verbose\":true,\"pedantic\":false,\"tls_required\":false,\"name\":\"vitals\",\"lang\":\"rust\",\
             \"version\":\"0.1.0\",\"protocol\":1,\"echo\":true}\r\n"
        );
        let line = String::from_utf8(connect_line(Credentials::User("a\"b", "p\\w"), true)).unwrap_or_default();
        assert!(line.ends_with(",\"user\":\"a\\\"b\",\"pass\":\"p\\\\w\"}\r\n"), "{line}");
        assert!(line.contains("\"tls_required\":true"), "{line}");
        let line = String::from_utf8(connect_line(Credentials::Token("t"), false)).unwrap_or_default();
        assert!(line.ends_with(",\"auth_token\":\"t\"}\r\n"), "{line}");
    }

    #[test]
    fn operations() {
        let op = |line: &str| classify(line.as_bytes().to_vec());
        assert_eq!(op("+OK"), Op::Ok);
        assert_eq!(op("ping"), Op::Ping);
        assert_eq!(op("PONG"), Op::Pong);
        assert_eq!(op("-ERR 'Authorization Violation'"), Op::Err("'Authorization Violation'".into()));
        assert_eq!(op("INFO {}"), Op::Info);
        assert_eq!(op("MSG a.b 1 5"), Op::Msg { subject: "a.b".into(), sid: "1".into(), size: 5 });
        assert_eq!(op("MSG a.b 1 reply.x 12"), Op::Msg { subject: "a.b".into(), sid: "1".into(), size: 12 });
        assert_eq!(op("MSG a.b 1"), Op::Other(b"MSG a.b 1".to_vec()));
        assert_eq!(op("MSG a.b 1 x"), Op::Other(b"MSG a.b 1 x".to_vec()));
        assert_eq!(op("+OK then"), Op::Other(b"+OK then".to_vec()));
        assert_eq!(op("SSH-2.0-OpenSSH"), Op::Other(b"SSH-2.0-OpenSSH".to_vec()));
    }
}
