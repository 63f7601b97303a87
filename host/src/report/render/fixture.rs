//! A report whose every figure is known by hand, for the renderers' tests: one day, a check
//! `api` 99.5 % up against a 99 % objective with one 7.2-minute incident, slower than the
//! day before, and a check `db|replica` without data but with an hour of maintenance, both
//! tagged `web`.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use crate::report::check::CheckReport;
use crate::report::groups::GroupReport;
use crate::report::latency::{Summary, Trend};
use crate::report::sla::{
    Availability, DataCoverage, ErrorBudget, Incident, Incidents, NoData, Parts, Period, Periods, Resolution, Slo,
    SloReport, Window,
};
use crate::report::{MaintenanceListing, Report};
use crate::result::Status;

/// 2026-01-01T00:00:00Z.
pub const DAY0: i64 = 1_767_225_600_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// `api`'s one outage, 7.2 minutes from 10:00.
const OUTAGE_MS: i64 = 432_000;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Response times whose p50, p95 and p99 are `p50`, `p95` and `p99` milliseconds.
fn summary(count: u64, p50: u64, p95: u64, p99: u64) -> Summary {
    Summary { count, min: ms(1), mean: ms(p50), p50: ms(p50), p90: ms(p95), p95: ms(p95), p99: ms(p99), max: ms(p99) }
}

fn empty_check(name: &str, availability: Availability, interval: Duration) -> CheckReport {
    CheckReport {
        check: name.to_string(),
        availability,
        incidents: Incidents::from_list(Vec::new()),
        warnings: Periods::default(),
        flapping: Periods::default(),
        hidden_failures: false,
        resolution: Resolution::of(interval, 2, Duration::from_secs(30)),
        maintenance: Vec::new(),
        response_time: None,
        percentiles_from: "raw",
        phases: BTreeMap::new(),
        metrics: None,
        trend: None,
        slo: None,
        approximate: false,
        timeline: Default::default(),
    }
}

/// `api`: up all day but 7.2 minutes (99.500 %), 1435 of 1440 attempts ok (99.653 %), one
/// HARD warning of 30 minutes from 14:00 (degraded), flapping from 20:00 to 20:45, p50, p95
/// and p99 of 35, 80 and 120 ms, p95 up 60 % from 50 ms, a 30-day 99 % objective whose
/// 432-minute budget has 424.8 minutes (98.3 %) left.
pub fn api() -> CheckReport {
    let window = Window { from_ms: DAY0, to_ms: DAY0 + DAY_MS };
    let parts = Parts {
        up_ms: DAY_MS - OUTAGE_MS,
        degraded_ms: 30 * 60_000,
        down_ms: OUTAGE_MS,
        raw_ok: 1435,
        raw_total: 1440,
        ..Parts::default()
    };
    let period = |from_ms: i64, minutes: i64| Period {
        start_ms: from_ms,
        end_ms: Some(from_ms + minutes * 60_000),
        started_before_window: false,
        duration_ms: minutes * 60_000,
    };
    let periods = |p: Period| Periods { count: 1, total_ms: p.duration_ms, periods: vec![p] };
    let outage = Incident {
        start_ms: DAY0 + 10 * HOUR_MS,
        end_ms: Some(DAY0 + 10 * HOUR_MS + OUTAGE_MS),
        started_before_window: false,
        duration_ms: OUTAGE_MS,
        down_ms: OUTAGE_MS,
        worst: Status::Critical,
        first_failure: None,
        summary: Some("HTTP 503".into()),
    };
    let budget_ms = DAY_MS * 30 / 100;
    CheckReport {
        incidents: Incidents::from_list(vec![outage]),
        warnings: periods(period(DAY0 + 14 * HOUR_MS, 30)),
        flapping: periods(period(DAY0 + 20 * HOUR_MS, 45)),
        response_time: Some(summary(1440, 35, 80, 120)),
        phases: BTreeMap::from([("time_connect".to_string(), summary(1440, 5, 9, 12))]),
        trend: Some(Trend { previous_p95: ms(50), current_p95: ms(80), change: 0.6, regression: true }),
        slo: Some(SloReport {
            slo: Slo { target: 0.99, window: Duration::from_secs(30 * 86_400), calendar_month: false },
            budget: ErrorBudget {
                window,
                measured_ms: 30 * DAY_MS,
                total_ms: budget_ms,
                consumed_ms: OUTAGE_MS,
                remaining_ms: budget_ms - OUTAGE_MS,
                remaining_percent: Some((budget_ms - OUTAGE_MS) as f64 * 100.0 / budget_ms as f64),
            },
            burn_rates: Vec::new(),
            alerts: Vec::new(),
            data: DataCoverage { measured_ms: 30 * DAY_MS, period_ms: 30 * DAY_MS, share: 1.0, enough: true },
        }),
        ..empty_check("api", Availability::from_parts(parts, NoData::Exclude), Duration::from_secs(60))
    }
}

/// `db|replica`: no results all day, an hour of it in maintenance; checked every five
/// minutes.
pub fn db() -> CheckReport {
    let parts = Parts { no_data_ms: DAY_MS - HOUR_MS, maintenance_ms: HOUR_MS, ..Parts::default() };
    CheckReport {
        maintenance: vec![maintenance_window()],
        ..empty_check("db|replica", Availability::from_parts(parts, NoData::Exclude), Duration::from_secs(300))
    }
}

/// 02:00 to 03:00.
fn maintenance_window() -> Window {
    Window { from_ms: DAY0 + 2 * HOUR_MS, to_ms: DAY0 + 3 * HOUR_MS }
}

/// The whole report: `api` and `db|replica`, the tag `web` over both, and the maintenance.
pub fn report() -> Report {
    let (api, db) = (api(), db());
    let mut parts = api.availability.parts();
    parts += db.availability.parts();
    let web = GroupReport {
        tag: "web".into(),
        checks: vec![api.check.clone(), db.check.clone()],
        availability: Availability::from_parts(parts, NoData::Exclude),
        incidents: 1,
        warnings: 1,
        flapping: 1,
        response_time: api.response_time,
    };
    let w = maintenance_window();
    Report {
        window: Window { from_ms: DAY0, to_ms: DAY0 + DAY_MS },
        generated_ms: DAY0 + DAY_MS,
        no_data: NoData::Exclude,
        checks: vec![api, db],
        groups: vec![web],
        maintenance: vec![MaintenanceListing {
            name: "db upgrade".into(),
            from_ms: w.from_ms,
            to_ms: w.to_ms,
            checks: vec!["db|replica".into()],
        }],
    }
}

/// What `write` makes of `report`, as text.
pub fn rendered(write: fn(&mut Vec<u8>, &Report) -> io::Result<()>, report: &Report) -> String {
    let mut out = Vec::new();
    write(&mut out, report).expect("writes to memory");
    String::from_utf8(out).expect("UTF-8")
}
