//! `vitals completions SHELL` and `vitals man`: the command line described for shells and
//! for `man`, generated from the same clap definitions as `--help`.

use clap::CommandFactory;

use super::{Cli, CompletionsArgs, ManArgs, exit, stdout};
use crate::app::Failure;

/// Prints the completion script of `args.shell`.
pub fn completions(args: &CompletionsArgs) -> Result<u8, Failure> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "vitals", &mut script);
    stdout::write(&script)?;
    Ok(exit::OK)
}

/// Prints the main manual page, or writes every page into `args.dir`.
pub fn man(args: &ManArgs) -> Result<u8, Failure> {
    let command = Cli::command();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::store(format!("cannot create {}: {e}", dir.display())))?;
            clap_mangen::generate_to(command, dir)
                .map_err(|e| Failure::store(format!("cannot write the manual pages into {}: {e}", dir.display())))?;
            Ok(exit::OK)
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(|e| Failure::internal(format!("cannot render the manual page: {e}")))?;
            stdout::write(&page)?;
            Ok(exit::OK)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// Every command, as the words that name it (`["plugin", "run"]`), with its definition.
    fn commands(command: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut at = path.clone();
            at.push(sub.get_name().to_string());
            out.push((at.clone(), sub.clone()));
            commands(sub, at, out);
        }
    }

    #[test]
    fn every_command_has_examples_and_global_options_apart_from_its_own() {
        let mut all = Vec::new();
        commands(&Cli::command(), Vec::new(), &mut all);
        assert!(all.len() >= 12, "{} commands", all.len());
        let mut root = Cli::command();
        let help = root.render_long_help().to_string();
        assert!(help.contains("\nExamples:\n"), "vitals --help has examples");
        for (path, _) in &all {
            let mut words = vec!["vitals".to_string()];
            words.extend(path.iter().cloned());
            words.push("--help".to_string());
            let help = match Cli::try_parse_from(&words) {
                Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => e.to_string(),
                other => panic!("{words:?}: {other:?}"),
            };
            assert!(help.contains("\nExamples:\n  vitals "), "`{}` has no examples:\n{help}", words.join(" "));
            let global = help.find("\nGlobal options:\n").unwrap_or_else(|| panic!("{words:?}: no Global options"));
            let config = help.find("--config <CONFIG>").unwrap_or(0);
            assert!(config > global, "{words:?}: --config is listed under Global options");
        }
    }

    #[test]
    fn the_long_version_names_the_wit_versions_and_wasmtime() {
        let version = Cli::command().render_long_version();
        let lines: Vec<&str> = version.lines().collect();
        assert_eq!(lines[0], format!("vitals {}", env!("CARGO_PKG_VERSION")));
        // Every released WIT version and the current one.
        for released in ["0.1.0", "0.1.1"] {
            assert!(lines[1].contains(released), "{version}");
        }
        let wit = include_str!("../../../wit/plugin.wit");
        let current = wit.lines().find_map(|l| l.strip_prefix("package vitals:plugin@")).unwrap_or_default();
        assert!(lines[1].starts_with("plugins: vitals:plugin@") && lines[1].ends_with(current.trim_end_matches(';')));
        let lock = include_str!("../../../Cargo.lock");
        let wasmtime = lock.split("[[package]]").find(|p| p.contains("\nname = \"wasmtime\"\n")).unwrap_or_default();
        assert!(wasmtime.contains(&format!("version = \"{}\"", lines[2].trim_start_matches("wasmtime "))), "{version}");
    }
}
