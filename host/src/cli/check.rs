//! `vitals check NAME`: one check in the Monitoring Plugins format, so that Nagios,
//! Icinga or Sensu can call Vitals like any other plugin.

use super::context::{self, Failure};
use super::render;
use super::run::run_once;
use super::sinks::Collect;
use super::{CheckArgs, Cli};
use crate::result::CheckResult;
use crate::schedule;
use crate::store::{EventRecord, HourRollup, ResultStore, StoreError};

/// The store of `--no-store`: remembers nothing, so the state starts afresh.
struct NoStore;

impl ResultStore for NoStore {
    fn write_run(&mut self, _: &[CheckResult], _: &[EventRecord]) -> Result<(), StoreError> {
        Ok(())
    }

    fn window(&self, _: &str, _: i64, _: i64) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        Ok((None, Vec::new()))
    }

    fn events(&self, _: Option<&str>, _: usize) -> Result<Vec<EventRecord>, StoreError> {
        Ok(Vec::new())
    }

    fn recent(&self, _: Option<&str>, _: usize) -> Result<Vec<CheckResult>, StoreError> {
        Ok(Vec::new())
    }

    fn hard_changes(&self, _: &str, _: i64, _: i64) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError> {
        Ok((None, Vec::new()))
    }

    fn rollups(&self, _: &str, _: i64, _: i64) -> Result<Vec<HourRollup>, StoreError> {
        Ok(Vec::new())
    }

    fn unsealed_hours(&self, _: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(Vec::new())
    }

    fn seal_hour(&mut self, _: &HourRollup, _: &[CheckResult]) -> Result<(), StoreError> {
        Ok(())
    }

    fn prune(&mut self, _: i64, _: usize) -> Result<usize, StoreError> {
        Ok(0)
    }

    fn oldest_sealed_hour(&self, _: &str) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }

    fn pending_phase_days(&self, _: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(Vec::new())
    }

    fn compact_phases(&mut self, _: &str, _: i64, _: &[u8]) -> Result<(), StoreError> {
        Ok(())
    }

    fn daily_phases(&self, _: &str, _: i64, _: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        Ok(Vec::new())
    }
}

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
    let label = prepared.first().map_or_else(|| "CHECK".to_string(), |p| p.plugin.description.name.clone());
    let results = if args.no_store {
        let mut nowhere = NoStore;
        run_once(&runtime, prepared, plan.max_per_host, 1, &mut nowhere, Collect::default()).await?
    } else {
        let mut store = context::open_store(cli)?;
        run_once(&runtime, prepared, plan.max_per_host, 1, &mut *store, Collect::default()).await?
    };
    let Some(result) = results.first() else {
        return Err(Failure::internal("the check produced no result"));
    };
    println!("{}", render::plugin_line(&label, result));
    Ok(result.status.exit_code())
}
