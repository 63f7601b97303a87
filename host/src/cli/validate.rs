//! `vitals validate`: the configuration and every plugin it names, checked without
//! running anything.

use super::Cli;
use super::context::{self, Failure};
use super::render::count;
use crate::exit;

/// Runs the command.
pub async fn validate(cli: &Cli) -> Result<u8, Failure> {
    let plan = context::load_plan(cli)?;
    // `vitals gate` would refuse them; say so before a pipeline gets there.
    crate::gate::load(&plan, &[]).map_err(|e| Failure::from(e.config))?;
    let runtime = context::runtime(cli)?;
    let prepared = context::prepare(&runtime, &plan, &[]).await?;
    if let Some(notifiers) = context::notifiers(&runtime, &plan, &prepared).await? {
        notifiers.finish(std::time::Duration::ZERO).await;
    }
    let plugins: std::collections::BTreeSet<&str> = prepared.iter().map(|p| p.plugin.label.as_str()).collect();
    println!(
        "{}: {}, {} ({}): valid",
        cli.config.display(),
        count(prepared.len(), "check"),
        count(plugins.len(), "plugin"),
        plugins.into_iter().collect::<Vec<_>>().join(", ")
    );
    Ok(exit::OK)
}
