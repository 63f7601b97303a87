//! Why a command could not do its job: a kind (which the CLI turns into its documented
//! exit code) and a message written for the person who ran it.

use crate::config::ConfigError;
use crate::plan::{Diagnostic, UnknownName};

/// What kind of failure it is; `cli::exit` maps each to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The command was called wrongly (64).
    Usage,
    /// The configuration is invalid (78).
    Config,
    /// A plugin file is unusable (65).
    Data,
    /// A resource such as a listen address is unavailable (69).
    Unavailable,
    /// The store could not be read or written (74).
    Store,
    /// Vitals itself failed (70).
    Internal,
}

/// A command's failure: its kind and what to tell the user.
#[derive(Debug)]
pub struct Failure {
    kind: FailureKind,
    message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure { kind, message: message.into() }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Usage, message)
    }

    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Config, message)
    }

    /// An unusable plugin file.
    pub fn data(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Data, message)
    }

    /// An unavailable resource.
    pub fn unavailable(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Unavailable, message)
    }

    /// A store error.
    pub fn store(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Store, message)
    }

    /// An internal error.
    pub fn internal(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Internal, message)
    }

    /// Its kind.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// What to tell the user.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<Vec<Diagnostic>> for Failure {
    fn from(problems: Vec<Diagnostic>) -> Failure {
        Failure::config(ConfigError::Invalid(problems).to_string())
    }
}

/// A check name or tag the configuration does not have is a usage error (64): the
/// command line named it.
impl From<UnknownName> for Failure {
    fn from(e: UnknownName) -> Failure {
        Failure::usage(format!("{e}\n  = help: {}", e.help()))
    }
}
