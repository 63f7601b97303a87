//! The application: what each command does, wired from the stages below it. Running
//! checks once or as a daemon (reloader, housekeeping loop, server), the sinks and the
//! writer thread, notifier dispatch, and plugin preparation (one path for checks and
//! notifiers). `cli/` only parses arguments, calls in here and prints.

mod context;
pub mod daemon;
mod failure;
pub mod gate;
pub mod housekeeping;
pub mod init;
pub mod kit;
pub mod notify;
mod prepare;
pub mod reference;
pub mod run;
pub mod runners;
pub mod scaffold;
pub mod sinks;

pub use context::{Context, load_notifiers, notifiers, prepare_tagged, start_notifiers};
pub use failure::{Failure, FailureKind};
pub use prepare::prepare;
