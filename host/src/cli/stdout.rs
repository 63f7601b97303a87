//! Writing a command's output to stdout as a pipeline expects: all at once, colour only
//! for a terminal (`anstream` strips it elsewhere and honours `NO_COLOR`), and a closed
//! pipe (`vitals check web | head -1`) ends the command quietly with the exit code it
//! would have had, as ripgrep does, instead of a panic.

use std::io::Write;

use crate::app::Failure;

/// Writes `text` to stdout, with its colour codes kept only on a terminal.
pub fn write(text: &[u8]) -> Result<(), Failure> {
    finish(anstream::stdout().write_all(text).and_then(|()| anstream::stdout().flush()))
}

/// Writes `text` to stdout as it is (JSON, machine formats).
pub fn write_plain(text: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    finish(out.write_all(text).and_then(|()| out.flush()))
}

/// A write's outcome: a reader that went away is not an error of ours.
fn finish(written: std::io::Result<()>) -> Result<(), Failure> {
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::internal(format!("cannot write to stdout: {e}"))),
        Ok(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_not_a_failure_but_other_errors_are() {
        assert!(finish(Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))).is_ok());
        assert!(finish(Err(std::io::Error::from(std::io::ErrorKind::StorageFull))).is_err());
    }
}
