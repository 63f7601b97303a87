//! Small servers on 127.0.0.1, each on its own port and thread, that live as long as
//! the test process: an HTTP server with fixed routes, a TCP banner server, a port that
//! accepts and never answers, and a port that is closed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

/// A 5 MiB body for the huge route.
pub const HUGE_BODY: usize = 5 << 20;

/// Starts the HTTP test server and returns its address. Routes:
/// `/ok` 200 "OK\n"; `/fail` 500; `/slow` 200 after 3 s; `/huge` 200 with 5 MiB;
/// `/redirect-away?to=PORT` 302 to http://127.0.0.1:PORT/ok; `/redirect-here` 302 to
/// `/ok`; `/json` 200 with a JSON body and `x-service: vitals-test`; `/echo-auth` 200
/// whose body is the Authorization header it received; `/flaky` 200 and 500 in turn
/// (the first request of the process 200).
pub fn http() -> SocketAddr {
    serve(|stream| {
        let _ = handle_http(stream);
    })
}

fn handle_http(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut auth = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("authorization:") {
            auth = v.trim().to_string();
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, headers, body): (&str, Vec<String>, Vec<u8>) = match path.split('?').next().unwrap_or("") {
        "/ok" => ("200 OK", vec![], b"OK\n".to_vec()),
        "/fail" => ("500 Internal Server Error", vec![], b"broken\n".to_vec()),
        "/slow" => {
            thread::sleep(Duration::from_secs(3));
            ("200 OK", vec![], b"late\n".to_vec())
        }
        "/huge" => ("200 OK", vec![], vec![b'x'; HUGE_BODY]),
        "/redirect-away" => {
            let port = path.split("to=").nth(1).unwrap_or("1");
            ("302 Found", vec![format!("Location: http://127.0.0.1:{port}/ok")], vec![])
        }
        "/redirect-here" => ("302 Found", vec!["Location: /ok".to_string()], vec![]),
        "/json" => (
            "200 OK",
            vec!["Content-Type: application/json".into(), "X-Service: vitals-test".into()],
            br#"{"status":"green","version":"1.2.3"}"#.to_vec(),
        ),
        "/echo-auth" => ("200 OK", vec![], auth.into_bytes()),
        "/flaky" => {
            static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            if REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed).is_multiple_of(2) {
                ("200 OK", vec![], b"OK\n".to_vec())
            } else {
                ("500 Internal Server Error", vec![], b"broken\n".to_vec())
            }
        }
        _ => ("404 Not Found", vec![], b"no such route\n".to_vec()),
    };
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for h in headers {
        head.push_str(&h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}

/// A server that greets every connection with `banner` and then echoes what it reads.
pub fn banner(banner: &'static str) -> SocketAddr {
    serve(move |mut stream| {
        let _ = stream.write_all(banner.as_bytes());
        let mut buf = [0u8; 1024];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 || stream.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    })
}

/// A port that accepts connections and never sends a byte.
pub fn silent() -> SocketAddr {
    serve(|stream| {
        thread::sleep(Duration::from_secs(120));
        drop(stream);
    })
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

fn serve(handler: impl Fn(TcpStream) + Send + Sync + Copy + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test server");
    let addr = listener.local_addr().expect("server address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || handler(stream));
        }
    });
    addr
}

/// An HTTP server whose `/` answers 200 or 500 as the returned switch says (true = up).
pub fn switchable() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let up = std::sync::Arc::new(AtomicBool::new(true));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test server");
    let addr = listener.local_addr().expect("server address");
    let flag = std::sync::Arc::clone(&up);
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let up = flag.load(Ordering::SeqCst);
            thread::spawn(move || {
                let mut reader = BufReader::new(match stream.try_clone() {
                    Ok(s) => s,
                    Err(_) => return,
                });
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let (status, body) = if up { ("200 OK", "up\n") } else { ("500 Internal Server Error", "down\n") };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (addr, up)
}

/// A GET over a fresh connection: status code and body.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// A webhook receiver: records the body of every request and answers 204.
pub fn receiver() -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a receiver");
    let addr = listener.local_addr().expect("receiver address");
    let store = std::sync::Arc::clone(&bodies);
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let store = std::sync::Arc::clone(&store);
            thread::spawn(move || {
                let Ok(clone) = stream.try_clone() else { return };
                let mut reader = BufReader::new(clone);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_ok() {
                    store.lock().expect("lock").push(String::from_utf8_lossy(&body).to_string());
                }
                let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            });
        }
    });
    (addr, bodies)
}

/// An HTTP server that answers each path in `routes` with its status line (`"200 OK"`),
/// content type and body, and any other path with 404: for plugins that read JSON APIs.
pub fn routes(routes: &[(&str, &str, &str, &str)]) -> SocketAddr {
    let table: std::sync::Arc<Vec<(String, String, String, String)>> = std::sync::Arc::new(
        routes.iter().map(|(p, s, t, b)| (p.to_string(), s.to_string(), t.to_string(), b.to_string())).collect(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test server");
    let addr = listener.local_addr().expect("server address");
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let table = std::sync::Arc::clone(&table);
            thread::spawn(move || {
                let Ok(clone) = stream.try_clone() else { return };
                let mut reader = BufReader::new(clone);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("/");
                let (status, kind, body) = table
                    .iter()
                    .find(|(p, ..)| p == path)
                    .map(|(_, s, t, b)| (s.as_str(), t.as_str(), b.as_str()))
                    .unwrap_or(("404 Not Found", "text/plain", "no such route\n"));
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    addr
}
