//! Log lines routed to the host's tracing output under the check's name
//! (`vitals:plugin/log`); in a native build they go to stderr, which `cargo test` shows
//! for a failing test.

pub use crate::bindings::vitals::plugin::log::Level;
#[cfg(target_arch = "wasm32")]
use crate::bindings::vitals::plugin::log::write;
#[cfg(not(target_arch = "wasm32"))]
use crate::native::write_log as write;

/// Writes a debug line.
///
/// ```
/// vitals_sdk::log::debug("resolved api.test to 192.0.2.1");
/// ```
pub fn debug(message: &str) {
    write(Level::Debug, message);
}

/// Writes an info line.
///
/// ```
/// vitals_sdk::log::info("sending GET /health");
/// ```
pub fn info(message: &str) {
    write(Level::Info, message);
}

/// Writes a warning line.
///
/// ```
/// vitals_sdk::log::warn("the server sent no content-type");
/// ```
pub fn warn(message: &str) {
    write(Level::Warn, message);
}

/// Writes an error line.
///
/// ```
/// vitals_sdk::log::error("the response could not be parsed");
/// ```
pub fn error(message: &str) {
    write(Level::Error, message);
}
