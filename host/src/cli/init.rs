//! `vitals init`: writes a commented checks.toml (see [`crate::app::init`]).

use std::time::Duration;

use super::{Cli, ExampleArg, InitArgs, exit, stdout};
use crate::app::Failure;
use crate::app::init::{self, Example, WELL_KNOWN};

/// How long each well-known port may take to accept a connection.
const PROBE: Duration = Duration::from_millis(300);

/// Runs the command.
pub fn init(cli: &Cli, args: &InitArgs) -> Result<u8, Failure> {
    let example = args.example.map(|e| match e {
        ExampleArg::Web => Example::Web,
        ExampleArg::Db => Example::Db,
        ExampleArg::All => Example::All,
    });
    let found = if matches!(example, None | Some(Example::All)) { init::detect(WELL_KNOWN, PROBE) } else { Vec::new() };
    let text = init::render(&found, example);
    if args.stdout {
        stdout::write_plain(text.as_bytes())?;
        return Ok(exit::OK);
    }
    let path = args.output.as_ref().unwrap_or(&cli.config);
    init::write(path, &text, args.force)?;
    let checks = text.lines().filter(|l| *l == "[[check]]").count();
    let mut out = format!("wrote {} with {checks} check{}", path.display(), if checks == 1 { "" } else { "s" });
    if !found.is_empty() {
        let names: Vec<&str> = found.iter().map(|s| s.name).collect();
        out.push_str(&format!(" (found on 127.0.0.1: {})", names.join(", ")));
    }
    let config = if path.as_path() == std::path::Path::new("checks.toml") {
        String::new()
    } else {
        format!("--config {} ", path.display())
    };
    out.push_str(&format!("\nnext: vitals {config}validate, then vitals {config}run --once\n"));
    stdout::write(out.as_bytes())?;
    Ok(exit::OK)
}
