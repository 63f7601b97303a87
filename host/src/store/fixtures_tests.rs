//! Results the store tests of both backends write: the same data, so that what one store
//! is tested with the other is too.

use std::time::Duration;

use crate::result::state::Event;
use crate::result::{CheckResult, EventRecord, Metric, Reason, StateInfo, StateType, Status};

/// A metric in ms without thresholds nor bounds.
pub fn metric(name: &str, value: f64) -> Metric {
    Metric { name: name.into(), value, unit: "ms".into(), warn: None, crit: None, min: None, max: None }
}

/// A plain result of `check`.
pub fn result(check: &str, started_at_ms: i64, status: Status) -> CheckResult {
    CheckResult {
        check: check.into(),
        plugin: "http".into(),
        plugin_version: "1.2.3".into(),
        target: format!("https://{check}.example/"),
        started_at_ms,
        duration: Duration::from_micros(12_345),
        status,
        summary: format!("{check} is {status}"),
        reason: None,
        metrics: Vec::new(),
        details: None,
        state: None,
    }
}

/// A run covering every status, every reason, optional fields both set and unset,
/// and several metrics whose order must survive.
pub fn rich_run(started: i64) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let mut full = result("full", started, Status::Critical);
    full.reason = Some(Reason::HttpStatus);
    full.details = Some("HTTP/1.1 503\nretry-after: 10\n".into());
    full.duration = Duration::from_micros(1_234_567_891);
    full.metrics = vec![
        Metric {
            name: "zeta".into(),
            value: -0.5,
            unit: "%".into(),
            warn: Some("10:".into()),
            crit: Some("@0:5".into()),
            min: Some(0.0),
            max: Some(100.0),
        },
        metric("alpha", 1e300),
        Metric { unit: String::new(), ..metric("mid", 3.25) },
        Metric { min: Some(-1.5), ..metric("only_min", 7.0) },
    ];
    full.plugin = "/opt/plugins/ünïcode 'quoted'.wasm".into();
    out.push(full);
    for (i, status) in Status::ALL.into_iter().enumerate() {
        out.push(result(&format!("s{i}"), started + 1 + i as i64, status));
    }
    for (i, reason) in Reason::ALL.into_iter().enumerate() {
        let mut r = result(&format!("r{i}"), started + 10 + i as i64, Status::Warning);
        r.reason = Some(reason);
        r.metrics = vec![metric("t", i as f64)];
        r.state =
            Some(StateInfo { kind: if i % 2 == 0 { StateType::Soft } else { StateType::Hard }, attempt: i as u32 + 1 });
        out.push(r);
    }
    out
}

/// Newest first, as `recent` returns them.
pub fn newest_first(mut results: Vec<CheckResult>) -> Vec<CheckResult> {
    results.sort_by_key(|r| std::cmp::Reverse(r.started_at_ms));
    results
}

/// Three events, one of each kind, of two checks.
pub fn events() -> Vec<EventRecord> {
    vec![
        EventRecord {
            check: "web".into(),
            event: Event::HardChange { from: Status::Ok, to: Status::Critical, at_ms: 1_000 },
            summary: "500 Internal Server Error".into(),
        },
        EventRecord {
            check: "web".into(),
            event: Event::FlappingStarted { percent: 35.5, at_ms: 2_000 },
            summary: "x".into(),
        },
        EventRecord {
            check: "db".into(),
            event: Event::FlappingStopped { percent: 24.0, at_ms: 3_000 },
            summary: "y".into(),
        },
    ]
}
