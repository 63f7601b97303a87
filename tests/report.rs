//! `vitals report` end to end: stored results of real runs become availability,
//! incidents and response-time percentiles, as JSON with a schema version or a table.

mod support;

use support::{Sandbox, servers};

#[test]
fn report_counts_ok_and_failing_checks_from_stored_runs() {
    let web = servers::http();
    let sandbox = Sandbox::new(&format!(
        "[[check]]\nname = \"up\"\nplugin = \"http\"\ntarget = \"http://{web}/ok\"\ntags = [\"web\"]\n\n\
         [[check]]\nname = \"down\"\nplugin = \"http\"\ntarget = \"http://{web}/fail\"\nretries = 0\nslo = \"99%\"\ntags = [\"web\"]\n"
    ));
    for _ in 0..3 {
        sandbox.run_json(&[]);
    }
    let out = sandbox.vitals(&["report", "--since", "1h", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["schema_version"], 3);
    let check = |name: &str| report["checks"].as_array().unwrap().iter().find(|c| c["check"] == name).unwrap().clone();
    let up = check("up");
    assert_eq!(up["availability"]["raw_total"], 3);
    assert_eq!(up["availability"]["raw_ok"], 3);
    assert_eq!(up["availability"]["ratio"], 1.0);
    assert_eq!(up["incidents"]["count"], 0);
    assert_eq!(up["response_time"]["count"], 3);
    assert!(up["response_time"]["p95"].as_f64().unwrap() > 0.0);
    // Inside the retention, from raw results: exact percentiles, the http plugin's phases
    // and every metric it reports.
    assert_eq!(up["percentiles_from"], "raw");
    assert_eq!(up["phases"]["time_connect"]["count"], 3, "{up:#}");
    assert_eq!(up["metrics"]["status_code"]["last"], 200.0, "{up:#}");
    // An hour's window is charted a minute a bar.
    assert_eq!(up["timeline"]["bucket_ms"], 60_000, "{up:#}");
    assert!(up["timeline"]["availability"].as_array().unwrap().len() >= 60, "{up:#}");
    assert_eq!(up["timeline"]["latency"][0]["count"], 3, "{up:#}");
    let group = report["groups"].as_array().unwrap().iter().find(|g| g["tag"] == "web").unwrap().clone();
    assert_eq!(group["checks"], serde_json::json!(["up", "down"]));
    assert_eq!(group["incidents"], 1);
    assert_eq!(group["availability"]["raw_total"], 6);
    let down = check("down");
    assert_eq!(down["availability"]["raw_ok"], 0);
    assert_eq!(down["availability"]["ratio"], 0.0);
    assert_eq!(down["incidents"]["count"], 1, "one HARD outage, still going: {down:#}");
    assert_eq!(down["resolution"]["can_miss_shorter_than_ms"], 60_000);
    // Always down against a 99% objective: the budget is overspent and every burn-rate
    // alert fires; the check without an objective has no SLO section.
    assert!(down["slo"]["budget"]["remaining_ms"].as_i64().unwrap() < 0, "{down:#}");
    assert!(down["slo"]["alerts"].as_array().unwrap().iter().all(|a| a["firing"] == true), "{down:#}");
    assert!(up.get("slo").is_none());
    // Seconds of data on a 30-day objective: the figures say they rest on too little.
    assert_eq!(down["slo"]["data"]["enough"], false, "{down:#}");

    let out = sandbox.vitals(&["report", "--since", "1h", "--check", "up"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("100.000%") && !text.contains("down "), "{text}");
    assert!(!text.contains('\x1b'), "no colour into a pipe: {text}");
    // On a terminal (forced here), availability is coloured: green meets 99.9 %.
    let out = support::vitals()
        .args(["--config", sandbox.config().to_str().unwrap(), "--db", sandbox.db().to_str().unwrap()])
        .args(["report", "--since", "1h", "--check", "up"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("runs vitals");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\x1b[32m") && text.contains("100.000%"), "{text}");
    let out = sandbox.vitals(&["report", "--since", "1h", "--check", "down"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\nSLO\nCHECK  OBJECTIVE  WINDOW") && text.contains("\ndown     99.000%  30.0 d"), "{text}");
    assert!(text.contains("down: its SLO figures rest on only "), "{text}");
    // Budgets of milliseconds are written in milliseconds, not as "0.0 min".
    assert!(!text.contains(" min"), "{text}");
    let out = sandbox.vitals(&["report", "--since", "1h", "--format", "markdown"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| check | availability (HARD)") && md.contains("| up | 100.000%"), "{md}");
    let out = sandbox.vitals(&["report", "--since", "1h", "--format", "csv"]);
    let mut rows = csv::Reader::from_reader(out.stdout.as_slice());
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("a CSV row")).collect();
    assert_eq!(records.len(), 6, "three runs of two checks");
    assert!(records.iter().any(|r| &r[0] == "down" && &r[3] == "critical" && &r[4] == "hard"));
    let header = rows.headers().expect("a header").clone();
    assert_eq!((&header[1], &header[2]), ("started_at", "duration (ms)"));
    assert!(header.iter().any(|h| h == "time_total (ms)") && header.iter().any(|h| h == "status_code"), "{header:?}");
    assert!(records.iter().all(|r| r[1].ends_with('Z') && r[1].contains('T')), "ISO 8601 times: {records:?}");
    let out = sandbox.vitals(&["report", "--check", "nope"]);
    assert_eq!(out.status.code(), Some(64));
}

/// A check that warns on every run is up, but degraded all along, in one warning period;
/// one that fails every other run without retries flaps, and its raw ratio is far below
/// its HARD availability only when the retries absorb the failures.
#[test]
fn warnings_are_degraded_time_and_flapping_and_hidden_failures_are_shown() {
    let web = servers::http();
    let sandbox = Sandbox::new(&format!(
        "[[check]]\nname = \"slow\"\nplugin = \"http\"\ntarget = \"http://{web}/ok\"\nretries = 0\n\
         [check.config]\nwarn_time = \"1us\"\n\n\
         [[check]]\nname = \"flaky\"\nplugin = \"http\"\ntarget = \"http://{web}/flaky\"\nretries = 1\n\
         flap_high = 20\nflap_low = 10\n"
    ));
    for _ in 0..24 {
        sandbox.run_json(&[]);
    }
    let out = sandbox.vitals(&["report", "--since", "1h", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let check = |name: &str| report["checks"].as_array().unwrap().iter().find(|c| c["check"] == name).unwrap().clone();
    let slow = check("slow");
    assert_eq!(slow["availability"]["ratio"], 1.0, "warning counts as up: {slow:#}");
    let a = &slow["availability"];
    assert!(a["degraded_ms"].as_i64().unwrap() > 0 && a["degraded_ms"] == a["up_ms"], "degraded all along: {a:#}");
    assert_eq!(slow["warnings"]["count"], 1, "one HARD warning, still going: {slow:#}");
    assert_eq!(slow["incidents"]["count"], 0);

    let flaky = check("flaky");
    assert!(flaky["flapping"]["count"].as_u64().unwrap() >= 1, "it flaps: {flaky:#}");
    let (hard, raw) =
        (flaky["availability"]["ratio"].as_f64().unwrap(), flaky["availability"]["raw_ratio"].as_f64().unwrap());
    assert!(raw < 0.75, "every other attempt fails: {raw}");
    assert_eq!(flaky["hidden_failures"], hard - raw > 0.01, "{flaky:#}");
    if hard - raw > 0.01 {
        assert!(text_of(&sandbox).contains("flaky: ! "), "the hidden failures get a note");
    }

    let out = sandbox.vitals(&["report", "--since", "1h"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text.lines().find(|l| l.starts_with("slow ")).unwrap_or_default();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells.get(1), Some(&"100.000%"), "{text}");
    assert_ne!(cells.get(3), Some(&"-"), "degraded time shown beside availability: {text}");
    assert!(text.contains("\nDegraded and flapping\n") && text.contains("slow   degraded"), "{text}");
    assert!(text.contains("flaky  flapping"), "{text}");
    for format in ["markdown", "html"] {
        let out = sandbox.vitals(&["report", "--since", "1h", "--format", format]);
        let page = String::from_utf8_lossy(&out.stdout);
        assert!(page.contains("degraded") && page.contains("flapping"), "{format}: {page}");
    }
}

fn text_of(sandbox: &Sandbox) -> String {
    String::from_utf8_lossy(&sandbox.vitals(&["report", "--since", "1h"]).stdout).to_string()
}
