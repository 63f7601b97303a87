//! ICMP echo from the host (`vitals:plugin/ping`, since WIT 0.1.3): in a component the WIT
//! import itself; in a native build a function that fails saying the test kit does not
//! answer it, so a plugin's judging of the stats is tested on plain values.

pub use crate::bindings::vitals::plugin::ping::PingStats;

#[cfg(target_arch = "wasm32")]
pub use crate::bindings::vitals::plugin::ping::echo;

/// Sends `count` echo requests (at most 20) of `size` payload bytes, `interval_ms` apart,
/// to `host`, which the check must be granted (any port of it), waiting `timeout_ms` in all.
///
/// Natively (`cargo test`) there is no host: this returns
/// [`NetError::Invalid`](crate::NetError::Invalid) saying so.
///
/// ```
/// let err = vitals_sdk::ping::echo("192.0.2.1", 3, 200, 56, 1_000).unwrap_err();
/// assert!(err.message().starts_with("no host: "), "{err:?}");
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn echo(
    host: &str,
    count: u32,
    interval_ms: u32,
    size: u32,
    timeout_ms: u32,
) -> Result<PingStats, crate::NetError> {
    let _ = (count, interval_ms, size, timeout_ms);
    Err(crate::native::unanswered(&format!("ping::echo({host})")))
}
