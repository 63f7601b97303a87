//! Where a run's host calls are answered: the network (every run of `vitals run`), a
//! case's recorded answers (`vitals plugin test`), or the network with every answer
//! written down (`vitals plugin test --record`). The grants, budgets and bounds of a run
//! hold the same in all three: a replayed call to a host the check was not granted is
//! refused as it would be for real.

use std::sync::{Arc, Mutex};

use vitals_cases::{ErrorKind, HttpCall, NetFailure, Recorder, Replay};

use super::imports::http::HttpResponse;
use super::imports::net::{self, NetError, Timings};
use crate::plan::Grants;

/// Where a run's host calls are answered.
#[derive(Clone, Default)]
pub enum Answers {
    /// By the network.
    #[default]
    Network,
    /// From a case, without any network.
    Replay(Arc<Mutex<Replay>>),
    /// By the network, each answer recorded for a case.
    Record(Arc<Mutex<Recorder>>),
}

impl Answers {
    /// Answers from `replay`.
    pub fn replay(replay: Replay) -> Answers {
        Answers::Replay(Arc::new(Mutex::new(replay)))
    }

    /// Answers from the network, recorded.
    pub fn record() -> Answers {
        Answers::Record(Arc::new(Mutex::new(Recorder::default())))
    }

    /// The replay's problems so far (none for the other two).
    pub fn problems(&self) -> Vec<String> {
        match self {
            Answers::Replay(replay) => replay.lock().map(|mut r| r.finish()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// What was recorded, when recording.
    pub fn recorded(&self) -> Option<(Vec<vitals_cases::HttpAnswer>, Vec<vitals_cases::TcpAnswer>)> {
        match self {
            Answers::Record(rec) => rec.lock().ok().map(|mut r| std::mem::take(&mut *r).into_answers()),
            _ => None,
        }
    }
}

/// A host call that failed, as a case writes it.
pub fn failure(e: &NetError) -> NetFailure {
    let (kind, message) = match e {
        NetError::Denied(m) => (ErrorKind::Denied, m),
        NetError::Dns(m) => (ErrorKind::Dns, m),
        NetError::Connect(m) => (ErrorKind::Connect, m),
        NetError::Tls(m) => (ErrorKind::Tls, m),
        NetError::Timeout(m) => (ErrorKind::Timeout, m),
        NetError::Protocol(m) => (ErrorKind::Protocol, m),
        NetError::Invalid(m) => (ErrorKind::Invalid, m),
    };
    NetFailure { kind, message: message.clone() }
}

/// A case's failure, as the host returns it.
pub fn net_error(f: NetFailure) -> NetError {
    match f.kind {
        ErrorKind::Denied => NetError::Denied(f.message),
        ErrorKind::Dns => NetError::Dns(f.message),
        ErrorKind::Connect => NetError::Connect(f.message),
        ErrorKind::Tls => NetError::Tls(f.message),
        ErrorKind::Timeout => NetError::Timeout(f.message),
        ErrorKind::Protocol => NetError::Protocol(f.message),
        ErrorKind::Invalid => NetError::Invalid(f.message),
    }
}

/// A case's timings, as the host measures them.
pub fn timings(t: &vitals_cases::Timings) -> Timings {
    Timings { dns: t.dns, connect: t.connect, tls: t.tls, first_byte: t.first_byte, total: t.total() }
}

/// The host's timings, as a case writes them.
pub fn case_timings(t: &Timings) -> vitals_cases::Timings {
    vitals_cases::Timings { dns: t.dns, connect: t.connect, tls: t.tls, first_byte: t.first_byte, total: Some(t.total) }
}

/// An HTTP request answered from `replay`, after the grants' check a real one gets.
pub fn replay_http(
    grants: &Grants,
    replay: &Mutex<Replay>,
    method: &str,
    url: &str,
    max_body: u32,
) -> Result<HttpResponse, NetError> {
    let parsed = url::Url::parse(url).map_err(|e| NetError::Invalid(format!("invalid URL {url:?}: {e}")))?;
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port_or_known_default().unwrap_or(0);
    if !grants.allows(host, port) {
        return Err(NetError::Denied(net::denied_message(grants, host, port)));
    }
    let mut replay = replay.lock().map_err(|_| NetError::Invalid("replay: the case's answers are poisoned".into()))?;
    let reply = replay.http(HttpCall { method, url, max_body }).map_err(net_error)?;
    Ok(HttpResponse {
        status: reply.status,
        headers: reply.headers,
        body: reply.body,
        body_size: reply.body_size,
        truncated: reply.truncated,
        final_url: reply.final_url,
        redirects: reply.redirects,
        remote_addr: reply.remote_addr,
        timings: timings(&reply.timings),
        // Cases carry no certificates.
        tls: None,
    })
}

/// Records an HTTP exchange that went over the network.
pub fn record_http(rec: &Mutex<Recorder>, method: &str, url: &str, outcome: &Result<HttpResponse, NetError>) {
    let Ok(mut rec) = rec.lock() else { return };
    match outcome {
        Ok(r) => {
            let reply = vitals_cases::HttpReply {
                status: r.status,
                headers: r.headers.clone(),
                body: r.body.clone(),
                body_size: r.body_size,
                truncated: r.truncated,
                final_url: r.final_url.clone(),
                redirects: r.redirects,
                remote_addr: r.remote_addr.clone(),
                timings: case_timings(&r.timings),
            };
            rec.http(method, url, Ok(&reply));
        }
        Err(e) => rec.http(method, url, Err(&failure(e))),
    }
}
