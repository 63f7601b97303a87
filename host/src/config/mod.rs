//! Reading `checks.toml`: parse (keeping spans), reject unknown keys, expand
//! `${env:NAME}` secrets, and resolve everything into a validated [`Plan`].

pub mod maintenance;
mod model;
mod resolve;
mod schedule;
pub mod secrets;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use validate::{validate_config, validate_entries};

use crate::plan::{Diagnostic, SourceFile};

use crate::plan::Plan;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The reason.
        source: std::io::Error,
    },
    /// The file was read but is not valid; every problem found is listed.
    #[error("{}", Problems(.0))]
    Invalid(Vec<Diagnostic>),
}

struct Problems<'a>(&'a [Diagnostic]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n\n{} errors in the configuration", self.0.len())?;
        }
        Ok(())
    }
}

/// A duration in the one grammar of `vitals-units`, at most [`crate::plan::MAX_DURATION`].
fn duration(text: &str) -> Result<std::time::Duration, String> {
    crate::plan::bounded_duration(text)
}

/// Loads and validates a configuration file, reading `${env:NAME}` from the process environment.
pub fn load(path: &Path) -> Result<Plan, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    parse(SourceFile::new(path, text), &|name| std::env::var(name).ok())
}

/// Parses and validates configuration text, looking variables up with `env`.
pub fn parse(source: Arc<SourceFile>, env: &dyn Fn(&str) -> Option<String>) -> Result<Plan, ConfigError> {
    let raw: model::RawConfig = toml::from_str(&source.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim_end().to_string();
        let help = syntax_help(&message);
        let mut d = Diagnostic::new(&source, span, message);
        if let Some(help) = help {
            d = d.help(help);
        }
        ConfigError::Invalid(vec![d])
    })?;
    resolve::resolve(&source, raw, env).map_err(ConfigError::Invalid)
}

/// A hint for the most common structural mistakes, from serde's message.
fn syntax_help(message: &str) -> Option<String> {
    if message.starts_with("unknown field") {
        Some(
            "check the spelling; docs/configuration.md lists every key (plugin settings go under [check.config])"
                .into(),
        )
    } else if message.starts_with("missing field") {
        Some("every [[check]] needs name, plugin and target".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
