//! The replayed host: a case's answers installed on the test's thread, and the
//! conversions between `vitals_cases`' types and the WIT bindings' types.

use std::cell::RefCell;
use std::time::Duration;

use vitals_cases::{Case, ErrorKind, HttpCall, HttpReply, NetFailure, Replay};

use crate::NetError;
use crate::http::{Request, Response};
use crate::native::Host;

thread_local! {
    /// The case being replayed on this thread; `cargo test` runs each test on a thread of
    /// its own, so tests in parallel never share one.
    static REPLAY: RefCell<Option<Replay>> = const { RefCell::new(None) };
}

/// Runs `run` with `case`'s answers installed on this thread, and returns what it returned
/// with the replay's problems ([`Replay::finish`]).
pub(crate) fn replaying<T>(case: &Case, run: impl FnOnce() -> T) -> (T, Vec<String>) {
    /// Puts back what was installed before, even when `run` unwinds.
    struct Installed(Option<Option<Replay>>);
    impl Drop for Installed {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                REPLAY.set(previous);
            }
        }
    }
    let mut installed = Installed(Some(REPLAY.replace(Some(Replay::new(case)))));
    let out = run();
    let previous = installed.0.take().unwrap_or_default();
    let problems = REPLAY.replace(previous).map(|mut replay| replay.finish()).unwrap_or_default();
    (out, problems)
}

/// Runs `call` on the case replayed on this thread; none when no case is.
pub(crate) fn with<T>(call: impl FnOnce(&mut dyn Host) -> Result<T, NetError>) -> Option<Result<T, NetError>> {
    REPLAY.with_borrow_mut(|replay| replay.as_mut().map(|replay| call(replay)))
}

impl Host for Replay {
    fn http(&mut self, request: &Request) -> Result<Response, NetError> {
        let call = HttpCall { method: &request.method, url: &request.url, max_body: request.max_body_bytes };
        Replay::http(self, call).map(response).map_err(net_error)
    }

    fn connect(&mut self, host: &str, port: u16) -> Result<(usize, String, crate::Timings), NetError> {
        let reply = Replay::connect(self, host, port).map_err(net_error)?;
        Ok((reply.id, reply.remote_addr, timings(&reply.timings)))
    }

    fn send(&mut self, connection: usize, data: &[u8]) -> Result<(), NetError> {
        Replay::send(self, connection, data).map_err(net_error)
    }

    fn receive(&mut self, connection: usize, max_bytes: u32) -> Result<Vec<u8>, NetError> {
        Replay::receive(self, connection, max_bytes).map_err(net_error)
    }

    fn upgrade_tls(&mut self, connection: usize) -> Result<u64, NetError> {
        Replay::upgrade_tls(self, connection).map(micros).map_err(net_error)
    }
}

/// A case's failure as the WIT error the plugin gets.
fn net_error(failure: NetFailure) -> NetError {
    let NetFailure { kind, message } = failure;
    match kind {
        ErrorKind::Denied => NetError::Denied(message),
        ErrorKind::Dns => NetError::Dns(message),
        ErrorKind::Connect => NetError::Connect(message),
        ErrorKind::Tls => NetError::Tls(message),
        ErrorKind::Timeout => NetError::Timeout(message),
        ErrorKind::Protocol => NetError::Protocol(message),
        ErrorKind::Invalid => NetError::Invalid(message),
    }
}

/// A case's HTTP answer as the WIT response.
fn response(reply: HttpReply) -> Response {
    Response {
        status: reply.status,
        headers: reply.headers,
        body: reply.body,
        body_size: reply.body_size,
        truncated: reply.truncated,
        final_url: reply.final_url,
        redirects: reply.redirects,
        remote_addr: reply.remote_addr,
        timings: timings(&reply.timings),
    }
}

/// A case's timings (durations) as the WIT's (microseconds); the total is the case's
/// `total`, or the sum of its phases.
fn timings(t: &vitals_cases::Timings) -> crate::Timings {
    crate::Timings {
        dns_us: t.dns.map(micros),
        connect_us: t.connect.map(micros),
        tls_us: t.tls.map(micros),
        first_byte_us: t.first_byte.map(micros),
        total_us: micros(t.total()),
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_keeps_its_case_and_message() {
        let kinds = [
            (ErrorKind::Denied, NetError::Denied("m".into())),
            (ErrorKind::Dns, NetError::Dns("m".into())),
            (ErrorKind::Connect, NetError::Connect("m".into())),
            (ErrorKind::Tls, NetError::Tls("m".into())),
            (ErrorKind::Timeout, NetError::Timeout("m".into())),
            (ErrorKind::Protocol, NetError::Protocol("m".into())),
            (ErrorKind::Invalid, NetError::Invalid("m".into())),
        ];
        for (kind, expected) in kinds {
            assert_eq!(net_error(NetFailure { kind, message: "m".into() }), expected);
        }
    }

    #[test]
    fn timings_become_microseconds_with_a_total() {
        let case = vitals_cases::Timings {
            dns: Some(Duration::from_micros(1_500)),
            connect: Some(Duration::from_millis(2)),
            ..vitals_cases::Timings::default()
        };
        let wit = timings(&case);
        assert_eq!((wit.dns_us, wit.connect_us, wit.tls_us, wit.total_us), (Some(1_500), Some(2_000), None, 3_500));
        assert_eq!(micros(Duration::MAX), u64::MAX);
    }

    #[test]
    fn an_unwinding_run_leaves_no_case_installed() {
        let file =
            vitals_cases::CaseFile::parse("[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = { status = \"ok\" }\n")
                .unwrap();
        let unwound = std::panic::catch_unwind(|| replaying(&file.cases[0], || panic!("boom")));
        assert!(unwound.is_err());
        assert!(with(|_| Ok(())).is_none());
        let ((), problems) = replaying(&file.cases[0], || assert!(with(|_| Ok(())).is_some()));
        assert!(problems.is_empty());
    }
}
