//! The error every parser of this crate returns: what was written and why it is not a
//! quantity, in words a person can act on.

use std::fmt;

/// A quantity that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    message: String,
}

impl UnitError {
    pub(crate) fn new(message: impl Into<String>) -> UnitError {
        UnitError { message: message.into() }
    }

    /// The explanation, without the input's kind in front (`"unknown unit 'sec'"`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnitError {}

impl From<UnitError> for String {
    fn from(e: UnitError) -> String {
        e.message
    }
}
