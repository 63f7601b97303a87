//! The process exit codes, in one place: check statuses (Monitoring Plugins) and the
//! sysexits codes that tell "a check failed" from "Vitals could not run".

/// All checks ok.
pub const OK: u8 = 0;
/// Worst check result was warning.
pub const WARNING: u8 = 1;
/// Worst check result was critical.
pub const CRITICAL: u8 = 2;
/// Worst check result was unknown.
pub const UNKNOWN: u8 = 3;
/// A test or gate that ran and did not pass (`vitals gate`, `vitals plugin test`).
pub const FAILED: u8 = 1;
/// The command line was wrong (EX_USAGE).
pub const USAGE: u8 = 64;
/// A plugin file could not be read or used (EX_DATAERR).
pub const DATA: u8 = 65;
/// A resource it needs is unavailable, such as the `--listen` address (EX_UNAVAILABLE).
pub const UNAVAILABLE: u8 = 69;
/// Vitals itself failed unexpectedly (EX_SOFTWARE).
pub const SOFTWARE: u8 = 70;
/// The result store could not be opened or written (EX_IOERR).
pub const IO: u8 = 74;
/// The configuration is invalid (EX_CONFIG).
pub const CONFIG: u8 = 78;

use std::process::ExitCode;

use crate::app::{Failure, FailureKind};

/// The exit code of a failure of `kind`.
pub fn of(kind: FailureKind) -> u8 {
    match kind {
        FailureKind::Usage => USAGE,
        FailureKind::Config => CONFIG,
        FailureKind::Data => DATA,
        FailureKind::Unavailable => UNAVAILABLE,
        FailureKind::Store => IO,
        FailureKind::Internal => SOFTWARE,
    }
}

/// Prints a failure's message on stderr and gives its exit code.
pub fn report(failure: &Failure) -> ExitCode {
    let text = failure.message().trim_end();
    if text.starts_with("error:") {
        eprintln!("{text}");
    } else {
        eprintln!("error: {text}");
    }
    ExitCode::from(of(failure.kind()))
}
