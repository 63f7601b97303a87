//! The replayed host: the plugin's calls answered from a case, in order, with every
//! mismatch between what the plugin did and what the case recorded noted as a problem.

use std::time::Duration;

use crate::model::{Case, ErrorKind, HttpAnswer, NetFailure, Step, TcpAnswer, Timings};

/// Most problems one replay notes; a plugin looping on a mismatch must not fill memory.
const MAX_PROBLEMS: usize = 50;
/// How much of the bytes in a mismatch a problem quotes.
const QUOTE: usize = 60;

/// An HTTP request, as far as the replay needs it.
#[derive(Debug, Clone, Copy)]
pub struct HttpCall<'a> {
    /// The method.
    pub method: &'a str,
    /// The URL.
    pub url: &'a str,
    /// The most body bytes the plugin keeps.
    pub max_body: u32,
}

/// The answer to an HTTP request, in the shape of the WIT `response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, up to the request's `max_body`.
    pub body: Vec<u8>,
    /// The whole body's length.
    pub body_size: u64,
    /// Whether `body` is shorter than the whole.
    pub truncated: bool,
    /// The URL after redirects.
    pub final_url: String,
    /// Redirects followed.
    pub redirects: u8,
    /// The address that answered.
    pub remote_addr: String,
    /// Phase timings.
    pub timings: Timings,
}

/// The answer to a TCP connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpReply {
    /// The connection's number in this run (0, 1, …), for the later calls.
    pub id: usize,
    /// The address connected to.
    pub remote_addr: String,
    /// Phase timings of the connect.
    pub timings: Timings,
}

/// A connection being replayed.
#[derive(Debug)]
struct Conn {
    label: String,
    script: Vec<Step>,
    /// The step now due.
    step: usize,
    /// Bytes of the step now due already received or sent.
    offset: usize,
}

/// A case's answers, handed out as the plugin asks.
#[derive(Debug)]
pub struct Replay {
    http: Vec<HttpAnswer>,
    next_http: usize,
    tcp: Vec<TcpAnswer>,
    next_tcp: usize,
    conns: Vec<Conn>,
    problems: Vec<String>,
}

impl Replay {
    /// A replay of `case`'s answers.
    ///
    /// ```
    /// use vitals_cases::{CaseFile, HttpCall, Replay};
    /// let file = CaseFile::parse("[[case]]\nname = \"a\"\ntarget = \"http://x.test/\"\n\
    ///     expect = { status = \"ok\" }\nhttp = [{ status = 503, body = \"down\" }]\n").unwrap();
    /// let mut replay = Replay::new(&file.cases[0]);
    /// let reply = replay.http(HttpCall { method: "GET", url: "http://x.test/", max_body: 2 }).unwrap();
    /// assert_eq!((reply.status, reply.body.as_slice(), reply.truncated), (503, &b"do"[..], true));
    /// assert!(replay.finish().is_empty());
    /// ```
    pub fn new(case: &Case) -> Replay {
        Replay {
            http: case.http.clone(),
            next_http: 0,
            tcp: case.tcp.clone(),
            next_tcp: 0,
            conns: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(text);
        }
    }

    /// The next HTTP answer, or the failure it records.
    pub fn http(&mut self, call: HttpCall<'_>) -> Result<HttpReply, NetFailure> {
        let n = self.next_http;
        let Some(answer) = self.http.get(n).cloned() else {
            self.problem(format!(
                "the plugin sent request {} ({} {}), but the case has only {} [[case.http]] answer(s)",
                n + 1,
                shown(call.method),
                shown(call.url),
                self.http.len()
            ));
            return Err(fail(
                ErrorKind::Invalid,
                format!("replay: no recorded answer for {} {}", call.method, call.url),
            ));
        };
        self.next_http += 1;
        let method_differs = answer.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(call.method));
        let url_differs = answer.url.as_deref().is_some_and(|u| u != call.url);
        if method_differs || url_differs {
            self.problem(format!(
                "request {}: the plugin sent {} {}, the case's answer is for {} {}",
                n + 1,
                shown(call.method),
                shown(call.url),
                shown(answer.method.as_deref().unwrap_or(call.method)),
                shown(answer.url.as_deref().unwrap_or(call.url))
            ));
        }
        if let Some(error) = answer.error {
            return Err(error);
        }
        let body = match answer.body_bytes() {
            Ok(body) => body,
            Err(why) => {
                self.problem(format!("[[case.http]] answer {}: {why}", n + 1));
                Vec::new()
            }
        };
        let keep = body.len().min(usize::try_from(call.max_body).unwrap_or(usize::MAX));
        Ok(HttpReply {
            status: answer.status.unwrap_or(200),
            headers: answer.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect(),
            body_size: body.len() as u64,
            truncated: keep < body.len(),
            body: body[..keep].to_vec(),
            final_url: answer.final_url.unwrap_or_else(|| call.url.to_string()),
            redirects: answer.redirects,
            remote_addr: answer.remote_addr.unwrap_or_else(|| format!("192.0.2.1:{}", url_port(call.url))),
            timings: answer.timings,
        })
    }

    /// The next TCP answer: a connection, or the failure it records.
    pub fn connect(&mut self, host: &str, port: u16) -> Result<TcpReply, NetFailure> {
        let n = self.next_tcp;
        let Some(answer) = self.tcp.get(n).cloned() else {
            self.problem(format!(
                "the plugin opened connection {} (to {}:{port}), but the case has only {} [[case.tcp]] answer(s)",
                n + 1,
                shown(host),
                self.tcp.len()
            ));
            return Err(fail(
                ErrorKind::Invalid,
                format!("replay: no recorded answer for a connection to {host}:{port}"),
            ));
        };
        self.next_tcp += 1;
        let host_differs = answer.host.as_deref().is_some_and(|h| !h.eq_ignore_ascii_case(host));
        let port_differs = answer.port.is_some_and(|p| p != port);
        if host_differs || port_differs {
            self.problem(format!(
                "connection {}: the plugin connected to {}:{port}, the case's answer is for {}:{}",
                n + 1,
                shown(host),
                shown(answer.host.as_deref().unwrap_or(host)),
                answer.port.unwrap_or(port)
            ));
        }
        if let Some(error) = answer.error {
            return Err(error);
        }
        let id = self.conns.len();
        self.conns.push(Conn { label: format!("connection {}", n + 1), script: answer.script, step: 0, offset: 0 });
        Ok(TcpReply {
            id,
            remote_addr: answer.remote_addr.unwrap_or_else(|| format!("192.0.2.1:{port}")),
            timings: answer.timings,
        })
    }

    fn conn(&mut self, id: usize) -> Result<&mut Conn, NetFailure> {
        self.conns.get_mut(id).ok_or_else(|| fail(ErrorKind::Invalid, "replay: no such connection".into()))
    }

    /// The plugin sends `data` on connection `id`; it must be what the script expects.
    pub fn send(&mut self, id: usize, data: &[u8]) -> Result<(), NetFailure> {
        let conn = self.conn(id)?;
        let label = conn.label.clone();
        match conn.script.get(conn.step).cloned() {
            Some(Step::Send(expected)) => {
                let rest = &expected[conn.offset.min(expected.len())..];
                if rest.starts_with(data) {
                    conn.offset += data.len();
                    if conn.offset >= expected.len() {
                        conn.step += 1;
                        conn.offset = 0;
                    }
                } else {
                    conn.step += 1;
                    conn.offset = 0;
                    self.problem(format!("{label}: the plugin sent {}, the case expects {}", quote(data), quote(rest)));
                }
                Ok(())
            }
            Some(Step::Error(error)) => {
                conn.step += 1;
                Err(error)
            }
            Some(Step::Receive(pending)) => {
                let pending = quote(&pending[conn.offset.min(pending.len())..]);
                self.problem(format!("{label}: the plugin sent {} before reading {pending}", quote(data)));
                Ok(())
            }
            Some(Step::Tls(_)) => {
                self.problem(format!("{label}: the plugin sent {} where the case upgrades to TLS", quote(data)));
                Ok(())
            }
            None => Err(fail(ErrorKind::Protocol, "connection closed by the peer".into())),
        }
    }

    /// The plugin waits for up to `max` bytes on connection `id`; an empty answer means
    /// the peer closed it.
    pub fn receive(&mut self, id: usize, max: u32) -> Result<Vec<u8>, NetFailure> {
        let conn = self.conn(id)?;
        match conn.script.get(conn.step).cloned() {
            Some(Step::Receive(bytes)) => {
                let start = conn.offset.min(bytes.len());
                let end = bytes.len().min(start.saturating_add(usize::try_from(max).unwrap_or(usize::MAX)));
                conn.offset = end;
                if end >= bytes.len() {
                    conn.step += 1;
                    conn.offset = 0;
                }
                Ok(bytes[start..end].to_vec())
            }
            Some(Step::Error(error)) => {
                conn.step += 1;
                Err(error)
            }
            // The peer waits for the plugin: a real one would let the receive time out.
            Some(Step::Send(_) | Step::Tls(_)) => {
                Err(fail(ErrorKind::Timeout, "timed out waiting for data (the peer waits for the plugin)".into()))
            }
            None => Ok(Vec::new()),
        }
    }

    /// The plugin upgrades connection `id` to TLS; the handshake time is the script's.
    pub fn upgrade_tls(&mut self, id: usize) -> Result<Duration, NetFailure> {
        let conn = self.conn(id)?;
        let label = conn.label.clone();
        match conn.script.get(conn.step).cloned() {
            Some(Step::Tls(took)) => {
                conn.step += 1;
                conn.offset = 0;
                Ok(took)
            }
            Some(Step::Error(error)) => {
                conn.step += 1;
                Err(error)
            }
            _ => {
                self.problem(format!("{label}: the plugin upgraded to TLS where the case does not"));
                Err(fail(ErrorKind::Tls, "replay: the recorded exchange has no TLS upgrade here".into()))
            }
        }
    }

    /// Every mismatch seen, and every answer the plugin never asked for.
    pub fn finish(&mut self) -> Vec<String> {
        let mut problems = std::mem::take(&mut self.problems);
        if self.next_http < self.http.len() {
            problems.push(format!(
                "the plugin sent {} HTTP request(s); the case answers {}",
                self.next_http,
                self.http.len()
            ));
        }
        if self.next_tcp < self.tcp.len() {
            problems.push(format!(
                "the plugin opened {} connection(s); the case answers {}",
                self.next_tcp,
                self.tcp.len()
            ));
        }
        for conn in &self.conns {
            if let Some(Step::Send(expected)) =
                conn.script[conn.step.min(conn.script.len())..].iter().find(|s| matches!(s, Step::Send(_)))
            {
                problems.push(format!("{}: the plugin never sent {}", conn.label, quote(expected)));
            }
        }
        problems
    }
}

fn fail(kind: ErrorKind, message: String) -> NetFailure {
    NetFailure { kind, message }
}

/// Bytes for a problem: quoted, escaped, shortened.
fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(QUOTE)]);
    let more = if bytes.len() > QUOTE { "…" } else { "" };
    format!("{:?}{more}", text)
}

/// Text the plugin chose (a method, a URL, a host) for a problem: one line, at most
/// [`QUOTE`] × 2 characters.
fn shown(text: &str) -> String {
    let limit = QUOTE * 2;
    let mut out: String = text.chars().take(limit).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().count() > limit {
        out.push('…');
    }
    out
}

/// The port of a URL, or the scheme's.
fn url_port(url: &str) -> u16 {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let port = match authority.rfind(']') {
        Some(end) => authority[end..].split_once(':').map(|(_, p)| p),
        None => authority.split_once(':').map(|(_, p)| p),
    };
    port.and_then(|p| p.parse().ok()).unwrap_or(if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CaseFile;

    fn replay(answers: &str) -> Replay {
        let text = format!("[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = {{ status = \"ok\" }}\n{answers}");
        Replay::new(&CaseFile::parse(&text).unwrap().cases[0])
    }

    #[test]
    fn http_answers_in_order_and_notes_mismatches() {
        let mut r = replay(
            "[[case.http]]\nmethod = \"GET\"\nurl = \"https://a.test/x\"\nheaders = { Server = \"t\" }\n\
             [[case.http]]\nerror = { kind = \"connect\", message = \"refused\" }\n",
        );
        let call = HttpCall { method: "GET", url: "https://a.test/x", max_body: 10 };
        let first = r.http(call).unwrap();
        assert_eq!(first.status, 200);
        assert_eq!(first.remote_addr, "192.0.2.1:443");
        assert_eq!(first.headers, vec![("server".to_string(), "t".to_string())]);
        assert_eq!(r.http(call).unwrap_err().kind, ErrorKind::Connect);
        assert_eq!(r.http(call).unwrap_err().kind, ErrorKind::Invalid);
        let problems = r.finish();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("only 2"), "{problems:?}");

        let mut r = replay("[[case.http]]\nmethod = \"POST\"\n[[case.http]]\n");
        let _ = r.http(HttpCall { method: "GET", url: "http://b.test:8080/", max_body: 0 });
        let problems = r.finish();
        assert!(problems[0].contains("the case's answer is for POST"), "{problems:?}");
        assert!(problems[1].contains("sent 1 HTTP request(s); the case answers 2"), "{problems:?}");
    }

    #[test]
    fn tcp_scripts_play_out() {
        let mut r = replay(
            "[[case.tcp]]\nport = 25\nscript = [{ receive = \"220 hi\\r\\n\" }, { send = \"EHLO x\\r\\n\" }, \
             { receive = \"250 ok\\r\\n\" }, { tls = \"2ms\" }, { send = \"QUIT\\r\\n\" }]\n",
        );
        let c = r.connect("mail.test", 25).unwrap();
        assert_eq!(r.receive(c.id, 3).unwrap(), b"220");
        assert_eq!(r.receive(c.id, 100).unwrap(), b" hi\r\n");
        assert_eq!(r.receive(c.id, 100).unwrap_err().kind, ErrorKind::Timeout);
        r.send(c.id, b"EHLO ").unwrap();
        r.send(c.id, b"x\r\n").unwrap();
        assert_eq!(r.receive(c.id, 100).unwrap(), b"250 ok\r\n");
        assert_eq!(r.upgrade_tls(c.id).unwrap(), Duration::from_millis(2));
        assert!(r.finish().iter().any(|p| p.contains("never sent \"QUIT")));
        r.send(c.id, b"QUIT\r\n").unwrap();
        assert_eq!(r.receive(c.id, 100).unwrap(), b"");
        assert!(r.finish().is_empty());
    }

    #[test]
    fn tcp_mismatches_are_problems() {
        let mut r = replay("[[case.tcp]]\nhost = \"a.test\"\nscript = [{ send = \"PING\" }]\n");
        let c = r.connect("b.test", 1).unwrap();
        r.send(c.id, b"PONG").unwrap();
        assert!(r.upgrade_tls(c.id).is_err());
        let problems = r.finish();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[1].contains("expects \"PING\""), "{problems:?}");
    }

    #[test]
    fn what_the_plugin_sent_is_shown_bounded() {
        let mut r = replay("");
        let url = format!("http://a.test/{}\n", "x".repeat(100_000));
        let _ = r.http(HttpCall { method: "GET", url: &url, max_body: 0 });
        let _ = r.connect(&"h".repeat(100_000), 1);
        let problems = r.finish();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.len() < 400 && !p.contains('\n')), "{problems:?}");
    }

    #[test]
    fn ports_of_urls() {
        assert_eq!(url_port("http://a.test/"), 80);
        assert_eq!(url_port("HTTPS://a.test"), 443);
        assert_eq!(url_port("http://u:p@a.test:8080/x"), 8080);
        assert_eq!(url_port("http://[::1]:9/"), 9);
        assert_eq!(url_port("http://[::1]/"), 80);
    }
}
