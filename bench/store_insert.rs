//! Insert throughput of a result store: how many results a second one writer stores in
//! batches, as the daemon's writer hands them (`bench/store-insert.sh`). Not a product
//! command.
//!
//! ```text
//! cargo run --release --example store-insert -- STORE RESULTS [BATCH]
//! ```
//!
//! STORE is an SQLite path or a `postgres://` URL (an existing, empty database). Writes
//! RESULTS `http`-like results (seven metrics each, 100 checks, one a second each) in
//! batches of BATCH (default 5,000) through `ResultStore::write_run`, then prints the
//! results a second and the mean batch time.

use std::time::{Duration, Instant};

use vitals::plan::PostgresSpec;
use vitals::result::{CheckResult, Metric, StateInfo, StateType, Status};
use vitals::store::StoreSpec;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(store), Some(count)) = (args.first(), args.get(1).and_then(|n| n.parse::<usize>().ok())) else {
        eprintln!("usage: store-insert STORE RESULTS [BATCH]");
        std::process::exit(64);
    };
    let batch = args.get(2).and_then(|n| n.parse::<usize>().ok()).unwrap_or(5_000).max(1);
    let spec = if store.starts_with("postgres") {
        StoreSpec::Postgres(PostgresSpec::parse(store).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(64)
        }))
    } else {
        StoreSpec::Sqlite(store.into())
    };
    let mut db = vitals::store::open(&spec).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(74)
    });
    let start_ms = 1_780_000_000_000_i64;
    let result = |i: usize| CheckResult {
        check: format!("c{:03}", i % 100),
        plugin: "http".into(),
        plugin_version: "0.1.0".into(),
        target: format!("http://127.0.0.1:8080/c{:03}", i % 100),
        started_at_ms: start_ms + (i / 100) as i64 * 1_000,
        duration: Duration::from_micros(12_345),
        status: Status::Ok,
        summary: "HTTP 200 in 12 ms".into(),
        reason: None,
        metrics: ["time_dns", "time_connect", "time_tls", "time_first_byte", "time_total"]
            .iter()
            .map(|m| Metric::plain(*m, 3.5, "ms"))
            .chain([Metric::plain("status_code", 200.0, ""), Metric::plain("body_size", 512.0, "B")])
            .collect(),
        details: None,
        state: Some(StateInfo { kind: StateType::Hard, attempt: 1 }),
    };
    let began = Instant::now();
    let mut batches = 0u32;
    let mut i = 0;
    while i < count {
        let results: Vec<CheckResult> = (i..(i + batch).min(count)).map(result).collect();
        db.write_run(&results, &[]).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(74)
        });
        i += results.len();
        batches += 1;
    }
    let took = began.elapsed();
    println!(
        "{count} results in {batches} batches of {batch}: {:.0} results/s, {:.1} ms a batch",
        count as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / f64::from(batches.max(1))
    );
}
