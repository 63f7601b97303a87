//! The WIT worlds this host supports, one module per released version of the
//! `vitals:plugin` package, and the detection of which one a component targets.

pub mod notifier_v0_1;
pub mod v0_1;

use wasmtime::component::Component;

/// The interface every check plugin exports, without its version.
pub const CHECKER_INTERFACE: &str = "vitals:plugin/checker";

/// The package versions this host loads plugins for (`0.1.x`: any patch of 0.1).
pub const SUPPORTED_VERSIONS: &[&str] = &["0.1"];

/// The WIT version a plugin was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitVersion {
    /// `vitals:plugin@0.1.x`.
    V0_1,
}

impl WitVersion {
    /// The version as written in WIT.
    pub fn as_str(self) -> &'static str {
        match self {
            WitVersion::V0_1 => "0.1.0",
        }
    }
}

/// What a component's exports say about its contract.
#[derive(Debug, PartialEq, Eq)]
pub enum Detected {
    /// A supported version, and the exact version the plugin names.
    Supported(WitVersion, String),
    /// A `vitals:plugin/checker` export of a version this host does not know.
    Unsupported(String),
    /// No checker export at all; the component's exports are listed.
    NotAPlugin(Vec<String>),
}

/// Reads the component's exports to find which `vitals:plugin` version it implements.
pub fn detect(engine: &wasmtime::Engine, component: &Component) -> Detected {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
    for name in &exports {
        if let Some(version) = name.strip_prefix(CHECKER_INTERFACE).and_then(|v| v.strip_prefix('@')) {
            return match version.split('.').take(2).collect::<Vec<_>>().as_slice() {
                ["0", "1"] => Detected::Supported(WitVersion::V0_1, version.to_string()),
                _ => Detected::Unsupported(version.to_string()),
            };
        }
    }
    Detected::NotAPlugin(exports)
}

/// The names of everything a component imports (interfaces and functions).
pub fn imports(engine: &wasmtime::Engine, component: &Component) -> Vec<String> {
    component.component_type().imports(engine).map(|(name, _)| name.to_string()).collect()
}
