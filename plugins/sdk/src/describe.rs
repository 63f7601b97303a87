//! Building a plugin's `describe` answer.

use crate::{ConfigKey, ConfigType, Description};

/// A plugin description: short name, semver version, one-paragraph summary and every
/// configuration key the plugin accepts.
///
/// ```
/// let d = vitals_sdk::description("hello", "0.1.0", "Always says OK.", vec![]);
/// assert_eq!((d.name.as_str(), d.config.len()), ("hello", 0));
/// ```
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
///
/// ```
/// use vitals_sdk::ConfigType;
/// let key = vitals_sdk::config_key("warn_time", ConfigType::Duration, "Warn above this.");
/// assert_eq!((key.default, key.required), (None, false));
/// ```
pub fn config_key(name: impl Into<String>, kind: ConfigType, doc: impl Into<String>) -> ConfigKey {
    ConfigKey { name: name.into(), kind, default: None, required: false, doc: doc.into() }
}

impl ConfigKey {
    /// Sets the default, written as TOML (`"\"GET\""`, `"5"`, `"true"`).
    ///
    /// ```
    /// use vitals_sdk::ConfigType;
    /// let key = vitals_sdk::config_key("method", ConfigType::String, "HTTP method.").with_default("\"GET\"");
    /// assert_eq!(key.default.as_deref(), Some("\"GET\""));
    /// ```
    pub fn with_default(mut self, toml: impl Into<String>) -> ConfigKey {
        self.default = Some(toml.into());
        self
    }

    /// Marks the key as one that must be given.
    ///
    /// ```
    /// use vitals_sdk::ConfigType;
    /// let key = vitals_sdk::config_key("url", ConfigType::String, "Where to POST.").required();
    /// assert!(key.required);
    /// ```
    pub fn required(mut self) -> ConfigKey {
        self.required = true;
        self
    }
}
