//! The JSON report of a fixture database, compared to a golden file
//! (`tests/golden/report.json`), so that any change to a reported figure is seen and
//! reviewed. `VITALS_UPDATE_GOLDEN=1 cargo test --test report_golden` rewrites the file.
//!
//! The fixture, three days of two minutely checks written through the library, has what
//! the SLA rules must get right: a HARD outage after SOFT retries, SOFT failures that never
//! became HARD, a gap of no data, a maintenance window over an outage, and an incident that
//! spans the window's start. Most of it is sealed into hourly rollups and packed hours by
//! housekeeping, the rest left as rows, so both tiers feed the report.

mod support;

use std::time::Duration;

use support::Sandbox;
use vitals::plan::StatePolicy;
use vitals::result::EventRecord;
use vitals::result::state::CheckState;
use vitals::result::{CheckResult, Metric, StateInfo, Status};

/// 2026-01-01T00:00:00Z.
const DAY0: i64 = 1_767_225_600_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn metric(name: &str, value: f64) -> Metric {
    Metric { name: name.into(), value, unit: "ms".into(), warn: None, crit: None, min: Some(0.0), max: None }
}

/// What check `name` returned at minute `m` of the fixture.
fn status(name: &str, m: i64) -> Option<Status> {
    match name {
        // Down 02:00-02:30 on day 0 (spans nothing), 23:50 day 0 to 00:20 day 1 (spans the
        // window's start at 00:00 day 1), and 10:10-10:40 on day 1 inside the maintenance.
        "api" => Some(match m {
            120..150 | 1430..1460 => Status::Critical,
            m if (1440 + 610..1440 + 640).contains(&m) => Status::Critical,
            // Two single failures the retries clear.
            m if m == 1440 + 300 || m == 2880 + 5 => Status::Critical,
            _ => Status::Ok,
        }),
        // No results for 45 minutes on day 2; a warning hour on day 1.
        "db" => match m {
            m if (2880 + 600..2880 + 645).contains(&m) => None,
            m if (1440 + 900..1440 + 960).contains(&m) => Some(Status::Warning),
            _ => Some(Status::Ok),
        },
        _ => None,
    }
}

fn fixture(sandbox: &Sandbox, spec: vitals::store::StoreSpec) {
    let mut store = vitals::store::open(spec).expect("opens the store");
    let policy = StatePolicy { retries: 1, ..StatePolicy::default() };
    for (index, name) in ["api", "db"].into_iter().enumerate() {
        let mut state = CheckState::new();
        let mut results = Vec::new();
        let mut events = Vec::new();
        for m in 0..3 * 1440 {
            let Some(status) = status(name, m) else { continue };
            let at = DAY0 + m * MIN + 1_000 * index as i64;
            let total =
                20.0 + ((m * 37 + index as i64 * 11) % 50) as f64 + if status == Status::Ok { 0.0 } else { 400.0 };
            let o = state.observe(status, at, &policy);
            let summary = format!("HTTP {status} in {total} ms");
            events.extend(o.events.into_iter().map(|event| EventRecord {
                check: name.into(),
                event,
                summary: summary.clone(),
            }));
            results.push(CheckResult {
                check: name.into(),
                plugin: "http".into(),
                plugin_version: "0.1.0".into(),
                target: format!("http://{name}.test/health"),
                started_at_ms: at,
                duration: Duration::from_millis(total as u64 + 1),
                status,
                summary,
                reason: None,
                metrics: vec![
                    metric("time_total", total),
                    metric("time_connect", total / 5.0),
                    Metric {
                        unit: String::new(),
                        ..metric("status_code", if status == Status::Ok { 200.0 } else { 503.0 })
                    },
                ],
                details: None,
                state: Some(StateInfo { kind: o.state_type, attempt: o.attempt }),
            });
        }
        store.write_run(&results, &events).expect("writes the fixture");
    }
    // Seal everything up to 20:00 on day 2: the last hours stay as rows.
    let cadences = vitals::app::housekeeping::cadences(&vitals::config::load(&sandbox.config()).expect("config"));
    let outcome = vitals::app::housekeeping::run(
        store.as_mut(),
        &cadences,
        Duration::from_secs(366 * 86_400),
        DAY0 + 2 * 24 * HOUR + 20 * HOUR + 10 * MIN,
    )
    .expect("housekeeping");
    assert_eq!(outcome.sealed, 2 * (2 * 24 + 20), "{outcome:?}");
}

#[test]
fn the_json_report_of_the_fixture_matches_the_golden_file() {
    golden_report(None);
}

#[test]
fn the_json_report_of_the_fixture_on_postgresql_matches_the_same_golden_file() {
    let db = support::pg::Database::new();
    golden_report(Some(&db.url()));
}

/// Writes the fixture to the SQLite file, or to the PostgreSQL database `url` (named by
/// `[store] url`), and compares the report to the one golden file.
fn golden_report(url: Option<&str>) {
    let store = url.map(|u| format!("url = \"{u}\"\n")).unwrap_or_default();
    let sandbox = Sandbox::new(
        &(format!("[store]\n{store}")
            + "retention = \"366d\"\n\n\
         [[check]]\nname = \"api\"\nplugin = \"http\"\ntarget = \"http://api.test/health\"\nretries = 1\n\
         slo = \"99.5%\"\nslo_window = \"month\"\ntags = [\"web\"]\n\n\
         [[check]]\nname = \"db\"\nplugin = \"http\"\ntarget = \"http://db.test/health\"\nretries = 1\ntags = [\"web\", \"data\"]\n\n\
         [[maintenance]]\nname = \"api upgrade\"\nstart = \"2026-01-02T10:00:00Z\"\nduration = \"1h\"\nchecks = [\"api\"]\n"),
    );
    let spec = match url {
        Some(u) => vitals::store::StoreSpec::Postgres(vitals::plan::PostgresSpec::parse(u).expect("a URL")),
        None => vitals::store::StoreSpec::Sqlite(sandbox.db()),
    };
    fixture(&sandbox, spec);
    let out = sandbox.vitals(&[
        "report",
        "--from",
        "2026-01-02T00:00:00Z",
        "--to",
        "2026-01-03T22:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let golden_path = support::root().join("tests/golden/report.json");
    let rendered = serde_json::to_string_pretty(&report).expect("renders") + "\n";
    if std::env::var_os("VITALS_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden_path, &rendered).expect("writes the golden file");
    }
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&golden_path).expect("tests/golden/report.json exists"))
            .expect("the golden file is JSON");
    if report != golden {
        let actual = golden_path.with_extension("actual.json");
        let _ = std::fs::write(&actual, &rendered);
        panic!(
            "the report differs from {}; the actual one is in {} (review the difference, then \
             VITALS_UPDATE_GOLDEN=1 to accept it)",
            golden_path.display(),
            actual.display()
        );
    }

    // Hand-checked figures, so that the golden file is not merely whatever came out.
    let api = &report["checks"][0];
    assert_eq!(api["check"], "api");
    // The incident that started at 23:50 the day before ends at 00:20 (HARD ok at once).
    let first = &api["incidents"]["incidents"][0];
    assert_eq!(first["started_before_window"], true);
    assert_eq!(first["end_ms"], DAY0 + 1440 * MIN + 20 * MIN);
    // The 10:10-10:40 outage lies inside the maintenance hour: it is listed as an incident
    // but none of it is counted down; the hour is maintenance.
    assert_eq!(api["availability"]["maintenance_ms"], HOUR);
    let db = &report["checks"][1];
    // 45 minutes without results, less the minute the last result before them holds beyond
    // its own.
    assert_eq!(db["availability"]["no_data_ms"], 44 * MIN);
    assert_eq!(db["availability"]["down_ms"], 0, "warnings count up and the gap is no data");
    assert_eq!(db["percentiles_from"], "sketch");
    // The warning hour (15:00-16:00 on day 1) is degraded from its second result on, when
    // it became HARD (retries = 1): 59 minutes, in one warning period, read back from the
    // hourly rollups as much as from raw results.
    assert_eq!(db["availability"]["degraded_ms"], 59 * MIN);
    assert_eq!(db["warnings"]["count"], 1);
    assert_eq!(db["warnings"]["periods"][0]["start_ms"], DAY0 + 1440 * MIN + 901 * MIN + 1_000);
    // Both tags hold db: its degraded time and warning show in both.
    for g in report["groups"].as_array().expect("groups") {
        assert_eq!((&g["availability"]["degraded_ms"], &g["warnings"]), (&(59 * MIN).into(), &1.into()), "{g:#}");
    }
    // api's calendar-month SLO has 69 hours of January measured: under a tenth, too little.
    assert_eq!(api["slo"]["data"]["measured_ms"], 69 * HOUR);
    assert_eq!(api["slo"]["data"]["enough"], false);
    // A window of 46 hours is charted an hour a bar.
    assert_eq!(api["timeline"]["bucket_ms"], HOUR);
    assert_eq!(api["timeline"]["availability"].as_array().map(Vec::len), Some(46));
}
