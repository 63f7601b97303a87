//! The report of the selected checks over a window, read from the store in one step: each
//! check's report, the per-tag groups and the maintenance listing, ready for any renderer;
//! and, for CSV, the raw results of the window.

use serde::Serialize;

use super::check::{CheckReport, Contribution, Request, check_report};
use super::groups::{GroupReport, Member, groups};
use super::sla::{NoData, Window};
use crate::plan::{CheckPlan, Maintenance};
use crate::result::CheckResult;
use crate::store::{ResultStore, StoreError};

/// How far before the window maintenance can matter: the previous window (for the trend)
/// and the longest SLO window.
const MAINTENANCE_LOOKBACK_MS: i64 = 32 * 86_400_000;

/// At most this many threads read the store at once, each with its own connection.
const MAX_WORKERS: usize = 4;

/// Everything any renderer shows: the figures of each selected check and tag over one
/// window, and the maintenance inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The report window.
    pub window: Window,
    /// When the report was made, in milliseconds since the epoch.
    pub generated_ms: i64,
    /// How time without results counted.
    pub no_data: NoData,
    /// One report per selected check, in the order they were selected.
    pub checks: Vec<CheckReport>,
    /// One group per tag of the selected checks, in tag order.
    pub groups: Vec<GroupReport>,
    /// The maintenance windows inside the report window that cover a selected check.
    pub maintenance: Vec<MaintenanceListing>,
}

/// A maintenance window inside the report window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaintenanceListing {
    /// The maintenance's name.
    pub name: String,
    /// This occurrence's start, in milliseconds since the epoch (unclipped).
    pub from_ms: i64,
    /// This occurrence's end, in milliseconds since the epoch (unclipped).
    pub to_ms: i64,
    /// The selected checks it covers.
    pub checks: Vec<String>,
}

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A thread reading the store panicked.
    #[error("a report worker panicked")]
    WorkerPanicked,
}

/// Opens a connection to the store. The checks are independent, so [`build`] splits them
/// over a few threads, and a connection cannot be shared between threads.
pub type OpenStore<'a> = dyn Fn() -> Result<Box<dyn ResultStore>, StoreError> + Sync + 'a;

/// Builds the report of `checks` as `request` asks, with the occurrences of `maintenance`
/// that cover them, reading the store through connections from `open_store`.
/// `generated_ms` is the time the report is made.
pub fn build(
    open_store: &OpenStore<'_>,
    checks: &[&CheckPlan],
    maintenance: &[Maintenance],
    request: &Request,
    generated_ms: i64,
) -> Result<Report, BuildError> {
    let window = request.window;
    let (reports, contributions): (Vec<CheckReport>, Vec<Contribution>) =
        check_reports(open_store, checks, maintenance, request)?.into_iter().unzip();
    let members: Vec<Member<'_>> = checks
        .iter()
        .zip(&contributions)
        .map(|(c, contribution)| Member { check: &c.name, tags: &c.tags, contribution })
        .collect();
    Ok(Report {
        window,
        generated_ms,
        no_data: request.options.no_data,
        groups: groups(&members, request.options.no_data),
        checks: reports,
        maintenance: listing(maintenance, checks, window),
    })
}

/// Every check's report and contribution, in the order of `checks`, read by a few threads.
fn check_reports(
    open_store: &OpenStore<'_>,
    checks: &[&CheckPlan],
    maintenance: &[Maintenance],
    request: &Request,
) -> Result<Vec<(CheckReport, Contribution)>, BuildError> {
    let window = request.window;
    let lookback = Window {
        from_ms: window
            .from_ms
            .saturating_sub(window.len_ms())
            .min(window.to_ms.saturating_sub(MAINTENANCE_LOOKBACK_MS)),
        to_ms: window.to_ms,
    };
    let maintenance_of = |check: &CheckPlan| -> Vec<Window> {
        maintenance
            .iter()
            .filter(|m| m.covers(&check.name, &check.tags))
            .flat_map(|m| m.occurrences(lookback))
            .collect()
    };
    let workers =
        std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_WORKERS).min(checks.len().max(1));
    let chunk = checks.len().div_ceil(workers).max(1);
    let results: Vec<Result<Vec<(CheckReport, Contribution)>, BuildError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = checks
            .chunks(chunk)
            .map(|checks| {
                let maintenance_of = &maintenance_of;
                scope.spawn(move || -> Result<Vec<(CheckReport, Contribution)>, BuildError> {
                    let store = open_store()?;
                    checks
                        .iter()
                        .map(|c| Ok(check_report(store.as_ref(), &c.name, &c.timing, &maintenance_of(c), request)?))
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(Err(BuildError::WorkerPanicked))).collect()
    });
    let mut all = Vec::with_capacity(checks.len());
    for chunk in results {
        all.append(&mut chunk?);
    }
    Ok(all)
}

/// Each occurrence of `maintenance` that overlaps `window` and covers one of `checks`, in
/// the order of `maintenance`.
fn listing(maintenance: &[Maintenance], checks: &[&CheckPlan], window: Window) -> Vec<MaintenanceListing> {
    maintenance
        .iter()
        .flat_map(|m| {
            let checks: Vec<String> =
                checks.iter().filter(|c| m.covers(&c.name, &c.tags)).map(|c| c.name.clone()).collect();
            m.occurrences(window).into_iter().map(move |w| MaintenanceListing {
                name: m.name.clone(),
                from_ms: w.from_ms,
                to_ms: w.to_ms,
                checks: checks.clone(),
            })
        })
        .filter(|l| !l.checks.is_empty())
        .collect()
}

/// The raw results of `checks` inside `window`, check after check (raw results only: those
/// past the retention are gone).
pub fn raw_results(
    store: &dyn ResultStore,
    checks: &[&CheckPlan],
    window: Window,
) -> Result<Vec<CheckResult>, StoreError> {
    let mut results = Vec::new();
    for c in checks {
        let (_, mut inside) = store.window(&c.name, window.from_ms, window.to_ms)?;
        results.append(&mut inside);
    }
    Ok(results)
}
