//! What a plugin says about itself (`describe` in the WIT contract), as host types:
//! the runtime produces it, the plan validates a check's config against it.

use serde::Serialize;

/// The type of a configuration value a plugin accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigKind {
    /// A string.
    String,
    /// A whole number.
    Integer,
    /// A number, whole or not.
    Float,
    /// `true` or `false`.
    Boolean,
    /// A duration string such as `"250ms"`.
    Duration,
    /// A threshold in the Monitoring Plugins range syntax.
    Range,
    /// A list of strings.
    StringList,
    /// A list of whole numbers.
    IntegerList,
    /// A table of strings.
    StringMap,
}

impl ConfigKind {
    /// How the type is written in docs and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::String => "string",
            ConfigKind::Integer => "integer",
            ConfigKind::Float => "float",
            ConfigKind::Boolean => "boolean",
            ConfigKind::Duration => "duration",
            ConfigKind::Range => "range",
            ConfigKind::StringList => "list of strings",
            ConfigKind::IntegerList => "list of integers",
            ConfigKind::StringMap => "table of strings",
        }
    }
}

/// One configuration key a plugin accepts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigKey {
    /// The key as written in `[check.config]`.
    pub name: String,
    /// Its type.
    pub kind: ConfigKind,
    /// The default, as TOML text.
    pub default: Option<String>,
    /// Whether it must be given.
    pub required: bool,
    /// What it does.
    pub doc: String,
}

/// A plugin's self-description.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginDescription {
    /// Short name (`http`).
    pub name: String,
    /// The plugin's version.
    pub version: String,
    /// One paragraph: what it checks.
    pub summary: String,
    /// The keys it accepts.
    pub config: Vec<ConfigKey>,
}

impl PluginDescription {
    /// The key called `name`, if the plugin accepts it.
    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.config.iter().find(|k| k.name == name)
    }
}
