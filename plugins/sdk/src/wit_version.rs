//! The version of the WIT contract (`wit/plugin.wit`) this SDK builds plugins against,
//! which is the SDK's own version.

/// The version of the `vitals:plugin` WIT package the SDK's bindings come from. The SDK
/// is versioned with the contract: `vitals-sdk 0.1.3` builds `vitals:plugin@0.1.3`
/// components, which hosts that know 0.1.3 or newer load.
///
/// ```
/// assert_eq!(vitals_sdk::WIT_VERSION, "0.1.3");
/// ```
pub const WIT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    use super::*;

    /// The WIT file packed with the crate (through the `wit` symlink).
    const WIT: &str = include_str!("../wit/plugin.wit");

    #[test]
    fn the_sdk_version_is_the_wit_package_version() {
        let package = WIT.lines().map(str::trim).find(|line| line.starts_with("package "));
        assert_eq!(package, Some(format!("package vitals:plugin@{};", env!("CARGO_PKG_VERSION")).as_str()));
        assert_eq!(WIT_VERSION, env!("CARGO_PKG_VERSION"));
    }
}
