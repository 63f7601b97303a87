//! The host's imports in a native build (`cargo test`), which has no host: each call goes
//! to the case the test kit replays on this thread (feature `testing`), or fails saying
//! how to get one, where wit-bindgen's own stubs would abort the test binary.

use crate::NetError;
use crate::http::{Request, Response};

/// What answers host calls in a native build: the test kit's replayed case. Timeouts,
/// TLS verification and grants are the real host's business and are not modelled.
pub(crate) trait Host {
    /// Answers an HTTP request.
    fn http(&mut self, request: &Request) -> Result<Response, NetError>;
    /// Opens connection number `.0`, to remote address `.1`.
    fn connect(&mut self, host: &str, port: u16) -> Result<(usize, String, crate::Timings), NetError>;
    /// Takes bytes the plugin sends on a connection.
    fn send(&mut self, connection: usize, data: &[u8]) -> Result<(), NetError>;
    /// Gives bytes the peer sends on a connection; empty once it has closed it.
    fn receive(&mut self, connection: usize, max_bytes: u32) -> Result<Vec<u8>, NetError>;
    /// Upgrades a connection to TLS, taking this many microseconds.
    fn upgrade_tls(&mut self, connection: usize) -> Result<u64, NetError>;
}

/// Runs `call` on the host of this thread; `what` names the call when there is none.
pub(crate) fn with_host<T>(what: &str, call: impl FnOnce(&mut dyn Host) -> Result<T, NetError>) -> Result<T, NetError> {
    #[cfg(feature = "testing")]
    return crate::testing::host::with(call).unwrap_or_else(|| {
        Err(NetError::Invalid(format!(
            "no host: {what} was called outside a test case; natively, host calls are answered only \
             inside vitals_sdk::testing::run_case and run_cases"
        )))
    });
    #[cfg(not(feature = "testing"))]
    {
        let _ = call;
        Err(NetError::Invalid(format!(
            "no host: {what} was called in a native build; to answer it from a test case, enable the \
             `testing` feature of vitals-sdk and use vitals_sdk::testing"
        )))
    }
}

/// The error of a host call the test kit does not model (dns, ping, system, exec) in a
/// native build: it says so, and how to test the plugin instead.
pub(crate) fn unanswered(what: &str) -> NetError {
    NetError::Invalid(format!(
        "no host: {what} was called in a native build, and the test kit does not answer this call; test how \
         its answers are judged on plain values, and the whole check with `vitals plugin run`"
    ))
}

/// The native `vitals:plugin/log` `write`: lines go to stderr, which `cargo test`
/// captures and shows for a failing test.
pub(crate) fn write_log(level: crate::log::Level, message: &str) {
    use crate::log::Level;
    let level = match level {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    };
    eprintln!("[plugin {level}] {message}");
}

// With the feature, the kit's own tests cover the calls (`testing/tests.rs`).
#[cfg(all(test, not(feature = "testing")))]
mod tests {
    use crate::NetError;

    #[test]
    fn without_the_testing_feature_a_host_call_says_how_to_get_one() {
        let Err(NetError::Invalid(message)) = crate::tcp::connect("db.test", 5432, 1_000) else {
            panic!("a native connect answered");
        };
        assert_eq!(
            message,
            "no host: tcp::connect was called in a native build; to answer it from a test case, enable the \
             `testing` feature of vitals-sdk and use vitals_sdk::testing"
        );
    }
}
