//! Reading `checks.toml`: parse (keeping spans), reject unknown keys, expand
//! `${env:NAME}` secrets, and resolve everything into a validated [`Plan`].

mod hint;
pub mod maintenance;
mod model;
mod resolve;
mod schedule;
pub mod secrets;
mod table;
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

/// One located problem: byte span, message, help (empty for none).
type Problem = (std::ops::Range<usize>, String, String);

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

/// Parses and validates configuration text, looking variables up with `env`. Every
/// problem in the file is reported, in the order of the file; only a TOML syntax error,
/// past which the file cannot be read, comes alone.
pub fn parse(source: Arc<SourceFile>, env: &dyn Fn(&str) -> Option<String>) -> Result<Plan, ConfigError> {
    let (raw, problems) = model::RawConfig::read(&source.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim_end().to_string();
        ConfigError::Invalid(vec![Diagnostic::new(&source, span, message)])
    })?;
    resolve::resolve(&source, raw, problems, env).map_err(ConfigError::Invalid)
}

#[cfg(test)]
mod tests;
