//! `vitals check NAME`: one check in the Monitoring Plugins format, so that Nagios,
//! Icinga or Sensu can call Vitals like any other plugin.

use super::context::{self, Failure};
use super::render;
use super::{CheckArgs, Cli};
use crate::schedule;

/// Runs the command.
pub async fn check(cli: &Cli, args: &CheckArgs) -> Result<u8, Failure> {
    let plan = context::load_plan(cli)?;
    let Some(check) = plan.checks.iter().find(|c| c.name == args.name) else {
        let names: Vec<&str> = plan.checks.iter().map(|c| c.name.as_str()).collect();
        return Err(Failure::usage(format!(
            "no check is called `{}` in {} (checks: {})",
            args.name,
            cli.config.display(),
            names.join(", ")
        )));
    };
    let runtime = context::runtime(cli)?;
    let prepared = schedule::prepare(&runtime, &plan, [check]).await?;
    let mut store = if args.no_store { None } else { Some(context::open_store(cli)?) };
    let results = schedule::run_once(&runtime, &prepared, 1, &|_| {}).await;
    if let Some(store) = store.as_mut() {
        store.write_run(&results, &[]).map_err(|e| Failure::store(format!("{e}\nthe result was not stored")))?;
    }
    let Some(result) = results.first() else {
        return Err(Failure::internal("the check produced no result"));
    };
    let label = prepared.first().map_or("CHECK", |p| p.plugin.description.name.as_str());
    println!("{}", render::plugin_line(label, result));
    Ok(result.status.exit_code())
}
