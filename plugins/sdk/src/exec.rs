//! Running one granted program outside the sandbox (`vitals:plugin/exec`, since WIT 0.1.3;
//! `allow = ["exec:/absolute/path"]`): in a component the WIT import itself; in a native
//! build a function that fails saying the test kit does not answer it.

pub use crate::bindings::vitals::plugin::exec::Exit;

#[cfg(target_arch = "wasm32")]
pub use crate::bindings::vitals::plugin::exec::run;

/// Runs `program` (its absolute path, granted by the check) with `args`, waiting at most
/// `timeout_ms`; the host gives it an empty environment, no input, and caps its output.
///
/// ```
/// let args = ["-w".to_string(), "20%".to_string()];
/// let err = vitals_sdk::exec::run("/usr/lib/nagios/plugins/check_disk", &args, 1_000).unwrap_err();
/// assert!(err.message().starts_with("no host: "), "{err:?}");
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn run(program: &str, args: &[String], timeout_ms: u32) -> Result<Exit, crate::NetError> {
    let _ = (args, timeout_ms);
    Err(crate::native::unanswered(&format!("exec::run({program})")))
}
