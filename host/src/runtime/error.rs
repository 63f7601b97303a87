//! Why a plugin could not be loaded: each case says what the file is, what is wrong
//! with it, and what to do.

use std::path::PathBuf;
use std::time::Duration;

use vitals_units::format_bytes;

use super::imports::net::human_duration;

/// A plugin that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read plugin {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The reason.
        source: std::io::Error,
    },
    /// The file is larger than a plugin may be (`MAX_COMPONENT_BYTES`); it was not read.
    #[error(
        "{} is {size} bytes, larger than the {} a plugin file may be; it was not loaded (is it the right file?)",
        path.display(),
        format_bytes(*limit)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The largest size loaded, in bytes.
        limit: u64,
    },
    /// No built-in plugin has this name.
    #[error(
        "there is no built-in plugin called `{name}` (built-in: {available}); for your own plugin give a path ending in .wasm"
    )]
    UnknownBuiltin {
        /// The name asked for.
        name: String,
        /// The names that exist.
        available: String,
    },
    /// The bytes are not WebAssembly at all.
    #[error("{label} is not a WebAssembly file (it does not start with the `\\0asm` header)")]
    NotWasm {
        /// The plugin.
        label: String,
    },
    /// A core module rather than a component.
    #[error(
        "{label} is a core WebAssembly module, not a component; build it for wasm32-wasip2 (`cargo build --target wasm32-wasip2`) or wrap it with `wasm-tools component new`"
    )]
    CoreModule {
        /// The plugin.
        label: String,
    },
    /// wasmtime could not compile it.
    #[error("{label} could not be compiled: {message}")]
    Compile {
        /// The plugin.
        label: String,
        /// wasmtime's message.
        message: String,
    },
    /// Reading and compiling it took longer than `COMPILE_TIMEOUT`; the compilation goes on
    /// in the background.
    #[error("{label} {}", compile_timeout(*limit, *waited_for_others))]
    CompileTimeout {
        /// The plugin.
        label: String,
        /// The limit it went past.
        limit: Duration,
        /// Whether the time went on waiting for earlier compilations to end rather than on
        /// compiling this one.
        waited_for_others: bool,
    },
    /// It does not export `vitals:plugin/checker`.
    #[error("{label} is not a Vitals check plugin: it does not export `vitals:plugin/checker` (it exports: {exports})")]
    NotAPlugin {
        /// The plugin.
        label: String,
        /// What it exports.
        exports: String,
    },
    /// It was built against a WIT version this host does not know.
    #[error(
        "{label} was built against vitals:plugin@{found}, which this vitals does not support (supported: {supported}); rebuild it against a supported version or upgrade vitals"
    )]
    UnsupportedVersion {
        /// The plugin.
        label: String,
        /// Its version.
        found: String,
        /// What this host supports.
        supported: String,
    },
    /// It imports something the host does not provide, or its types do not match.
    #[error("{label} cannot be linked: {message}")]
    Link {
        /// The plugin.
        label: String,
        /// wasmtime's message.
        message: String,
    },
    /// `describe` trapped or timed out.
    #[error("{label} failed while describing itself: {message}")]
    Describe {
        /// The plugin.
        label: String,
        /// What happened.
        message: String,
    },
}

/// What [`LoadError::CompileTimeout`] says after the plugin's label.
fn compile_timeout(limit: Duration, waited_for_others: bool) -> String {
    let limit = human_duration(limit);
    if waited_for_others {
        format!(
            "was not loaded: it waited {limit} (the limit for compiling a plugin) for earlier compilations to end, \
             and they are still running; try again once they are done"
        )
    } else {
        format!(
            "did not compile within {limit}, the limit for compiling a plugin, and was not loaded; wasmtime cannot \
             stop a compilation, so it goes on in the background (with the plugin cache on, a later load uses its result)"
        )
    }
}
