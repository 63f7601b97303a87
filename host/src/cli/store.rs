//! `vitals store check`: whether the database is sound, page by page.

use super::{Cli, exit, stdout};
use crate::app::Failure;
use crate::store;

/// Runs the command: `ok` (exit 0), or the problems found (exit 74).
pub fn check(cli: &Cli) -> Result<u8, Failure> {
    let context = cli.context();
    let spec = context.store_spec();
    let path = spec.shown();
    let store = store::open(&spec).map_err(|e| Failure::store(e.to_string()))?;
    let problems = store.integrity_check().map_err(|e| Failure::store(e.to_string()))?;
    if problems.is_empty() {
        stdout::write(format!("{}: ok\n", path).as_bytes())?;
        return Ok(exit::OK);
    }
    let mut text = format!("{} is damaged ({} problems found):\n", path, problems.len());
    for p in problems.iter().take(100) {
        text.push_str(&format!("  {p}\n"));
    }
    text.push_str("  = help: restore the file from a backup, or move it away to start a new history\n");
    Err(Failure::store(text))
}
