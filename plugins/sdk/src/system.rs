//! The facts of the host's machine (`vitals:plugin/system`, since WIT 0.1.3), for a check
//! granted `allow = ["system"]`: in a component the WIT import itself; in a native build
//! functions that fail saying the test kit does not answer them, so a plugin's judging is
//! tested on plain values.

pub use crate::bindings::vitals::plugin::system::{LoadAverage, MemoryUsage, Mount};

#[cfg(target_arch = "wasm32")]
pub use crate::bindings::vitals::plugin::system::{listening, load, memory, mounts, processes};

/// The mounted file systems with real storage (at most 256).
///
/// ```
/// assert!(vitals_sdk::system::mounts().unwrap_err().message().starts_with("no host: "));
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn mounts() -> Result<Vec<Mount>, crate::NetError> {
    Err(crate::native::unanswered("system::mounts"))
}

/// Memory and swap.
///
/// ```
/// assert!(vitals_sdk::system::memory().is_err());
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn memory() -> Result<MemoryUsage, crate::NetError> {
    Err(crate::native::unanswered("system::memory"))
}

/// Load averages and CPUs.
///
/// ```
/// assert!(vitals_sdk::system::load().is_err());
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn load() -> Result<LoadAverage, crate::NetError> {
    Err(crate::native::unanswered("system::load"))
}

/// How many processes are named `name`.
///
/// ```
/// assert!(vitals_sdk::system::processes("nginx").is_err());
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn processes(name: &str) -> Result<u32, crate::NetError> {
    Err(crate::native::unanswered(&format!("system::processes({name})")))
}

/// Whether something listens on TCP `port`.
///
/// ```
/// assert!(vitals_sdk::system::listening(22).is_err());
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn listening(port: u16) -> Result<bool, crate::NetError> {
    Err(crate::native::unanswered(&format!("system::listening({port})")))
}
