//! `vitals validate`: the configuration and every plugin it names, checked without
//! running anything.

use std::io::Write as _;

use super::render::count;
use super::{Cli, exit, stdout};
use crate::app::{Failure, notifiers, prepare_tagged};

/// Runs the command.
pub async fn validate(cli: &Cli) -> Result<u8, Failure> {
    let context = cli.context();
    let plan = context.load_plan()?;
    // `vitals gate` would refuse them; say so before a pipeline gets there.
    crate::gate::load(&plan, &[]).map_err(|e| Failure::from(e.config))?;
    let runtime = context.runtime()?;
    let prepared = prepare_tagged(&runtime, &plan, &[]).await?;
    if let Some(notifiers) = notifiers(&runtime, &plan, &prepared).await? {
        notifiers.finish(std::time::Duration::ZERO).await;
    }
    let plugins: std::collections::BTreeSet<&str> = prepared.iter().map(|p| p.plugin.label.as_str()).collect();
    let line = format!(
        "{}: {}, {} ({}): valid\n",
        cli.config.display(),
        count(prepared.len(), "check"),
        count(plugins.len(), "plugin"),
        plugins.into_iter().collect::<Vec<_>>().join(", ")
    );
    stdout::write(line.as_bytes())?;
    // Valid, but worth a second look: these programs run outside the sandbox.
    for check in &plan.checks {
        for program in check.grants.programs() {
            let _ = writeln!(
                std::io::stderr(),
                "warning: check `{}` may run {program} outside the sandbox (allow \"exec:{program}\"): it can do \
                 whatever that program can do as the user vitals runs as; the host gives it no shell, an empty \
                 environment, no input and a time limit",
                check.name
            );
        }
    }
    Ok(exit::OK)
}
