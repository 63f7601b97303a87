//! `vitals check NAME`: one check in the Monitoring Plugins format, so that Nagios,
//! Icinga or Sensu can call Vitals like any other plugin.

use super::{CheckArgs, Cli, stdout};
use crate::app::run::run_once;
use crate::app::sinks::Collect;
use crate::app::{Failure, prepare};
use crate::store::NullStore;

/// Runs the command.
pub async fn check(cli: &Cli, args: &CheckArgs) -> Result<u8, Failure> {
    let context = cli.context();
    let plan = context.load_plan()?;
    let check = plan.check(&args.name)?;
    let runtime = context.runtime()?;
    let prepared = prepare(&runtime, &plan, [check]).await?;
    let label = prepared.first().map_or_else(|| "CHECK".to_string(), |p| p.plugin.description.name.clone());
    let results = if args.no_store {
        run_once(&runtime, prepared, plan.max_per_host, 1, &mut NullStore, Collect::default()).await?
    } else {
        let mut store = context.open_store()?;
        run_once(&runtime, prepared, plan.max_per_host, 1, &mut *store, Collect::default()).await?
    };
    let Some(result) = results.first() else {
        return Err(Failure::internal("the check produced no result"));
    };
    stdout::write(format!("{}\n", result.plugin_line(&label)).as_bytes())?;
    Ok(result.status.exit_code())
}
