//! Building a plugin's `describe` answer.

use crate::{ConfigKey, ConfigType, Description};

/// A plugin description: short name, semver version, one-paragraph summary and every
/// configuration key the plugin accepts.
pub fn description(
    name: impl Into<String>,
    version: impl Into<String>,
    summary: impl Into<String>,
    config: Vec<ConfigKey>,
) -> Description {
    Description { name: name.into(), version: version.into(), summary: summary.into(), config }
}

/// An optional configuration key without a default; refine it with
/// [`ConfigKey::with_default`] and [`ConfigKey::required`].
pub fn config_key(name: impl Into<String>, kind: ConfigType, doc: impl Into<String>) -> ConfigKey {
    ConfigKey { name: name.into(), kind, default: None, required: false, doc: doc.into() }
}

impl ConfigKey {
    /// Sets the default, written as TOML (`"\"GET\""`, `"5"`, `"true"`).
    pub fn with_default(mut self, toml: impl Into<String>) -> ConfigKey {
        self.default = Some(toml.into());
        self
    }

    /// Marks the key as one that must be given.
    pub fn required(mut self) -> ConfigKey {
        self.required = true;
        self
    }
}
