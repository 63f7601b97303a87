//! Recorded test cases for Vitals check plugins.
//!
//! A cases file (`cases.toml`) lists cases; each gives a check's target and config, the
//! answers the host gives to the plugin's calls (HTTP responses, TCP exchanges), and what
//! the result must be. `vitals plugin test` runs the plugin in the real sandbox with the
//! host's imports answering from the case ([`Replay`]); the SDK's native test kit answers
//! a plugin crate's `run` from the same file, so `cargo test` exercises it. Both judge the
//! result with [`judge`]. `vitals plugin test --record` runs the cases against the real
//! hosts once and writes what they answered back into the file ([`Recorder`]).
//!
//! ```
//! let file = vitals_cases::CaseFile::parse(r#"
//! [[case]]
//! name = "healthy"
//! target = "http://api.test/health"
//! expect = { status = "ok", summary = "200" }
//! [[case.http]]
//! status = 200
//! body = "up"
//! "#).unwrap();
//! assert_eq!(file.cases[0].http[0].status, Some(200));
//! ```
#![deny(missing_docs)]

mod judge;
mod model;
mod record;
mod replay;

pub use judge::{Outcome, judge};
pub use model::{
    Case, CaseFile, ErrorKind, Expect, HttpAnswer, MetricExpect, NetFailure, Pattern, Reason, Status, Step, TcpAnswer,
    Timings, toml_to_json,
};
pub use record::Recorder;
#[cfg(feature = "edit")]
pub use record::write_answers;
pub use replay::{HttpCall, HttpReply, Replay, TcpReply};

/// A cases file that cannot be read: where and why.
#[derive(Debug, thiserror::Error)]
pub enum CasesError {
    /// Not valid TOML, or not the cases format; the message says where (line and column).
    #[error("{0}")]
    Syntax(String),
    /// Valid TOML with a mistake the format rules out (two cases of one name, …).
    #[error("case `{case}`: {message}")]
    Case {
        /// The case's name.
        case: String,
        /// What is wrong.
        message: String,
    },
}
