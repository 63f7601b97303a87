//! Generates a history of results into a Vitals database, for the report and storage
//! benchmarks (`bench/report-history.sh`). Not a product command.
//!
//! ```text
//! cargo run --release --example gen-history -- DB CHECKS DAYS [INTERVAL_S] [RETENTION_DAYS]
//! ```
//!
//! Writes DAYS of results of CHECKS `http`-like checks (named `c0000`…), one every
//! INTERVAL_S seconds (default 60), ending at the start of the current hour: per-phase
//! timings, status code, body size and redirects as the `http` plugin reports them, mostly
//! ok with a few outages a month that go SOFT then HARD through the real state machine (its
//! events are written too). Every hour is sealed as the daemon would seal it (rollup and
//! packed block, see `store`), and with RETENTION_DAYS housekeeping runs once a simulated
//! day (phase sketches of past days merged, raw results beyond the retention pruned), so the
//! file is what a runner of that age leaves. Deterministic: the same arguments give the
//! same database.
//!
//! Fast because nothing goes through the unsealed tier: worker threads (one a core) make
//! each check-hour's results, its rollup and its packed block (`PackedHour::pack`, the
//! store's own packing, zstd being most of the cost), and this thread seals each simulated
//! hour of every check in one transaction (`ResultStore::seal_packed`, the rows
//! `seal_hour` writes; `store`'s tests check that they are the same).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use vitals::plan::StatePolicy;
use vitals::report::rollup::{Cadence, rollup};
use vitals::result::EventRecord;
use vitals::result::state::CheckState;
use vitals::result::{CheckResult, Metric, StateInfo, Status};
use vitals::store::{HOUR_MS, PackedHour};

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A long-tailed latency around `median_ms`.
    fn latency(&mut self, median_ms: f64) -> f64 {
        let u = self.unit().max(1e-12);
        (median_ms * (-(u.ln()) * 0.7).exp() * 0.6 * 1000.0).round() / 1000.0
    }
}

fn metric(name: &str, value: f64, unit: &str) -> Metric {
    Metric { name: name.into(), value, unit: unit.into(), warn: None, crit: None, min: Some(0.0), max: None }
}

/// One result of check `index` at `at_ms`, down when `down`.
fn result(rng: &mut Rng, name: &str, index: usize, at_ms: i64, down: bool) -> CheckResult {
    let median = 5.0 + (index % 50) as f64;
    let (dns, connect, tls) = (rng.latency(0.3), rng.latency(median * 0.2), rng.latency(median * 0.3));
    let first_byte = connect + tls + rng.latency(median * 0.5);
    let total = first_byte + rng.latency(median * 0.1);
    let (status, code) = if down { (Status::Critical, 503.0) } else { (Status::Ok, 200.0) };
    CheckResult {
        check: name.to_string(),
        plugin: "http".into(),
        plugin_version: "0.1.0".into(),
        target: format!("https://svc{index}.example.internal/health"),
        started_at_ms: at_ms,
        duration: Duration::from_micros((total * 1000.0) as u64 + 150),
        status,
        summary: format!("HTTP/1.1 {code} {} in {total:.1} ms, 612 B", if down { "Service Unavailable" } else { "OK" }),
        reason: None,
        metrics: vec![
            metric("time_total", total, "ms"),
            metric("time_dns", dns, "ms"),
            metric("time_connect", connect, "ms"),
            metric("time_tls", tls, "ms"),
            metric("time_first_byte", first_byte, "ms"),
            metric("status_code", code, ""),
            metric("body_size", 612.0, "B"),
            metric("redirects", 0.0, ""),
        ],
        details: None,
        state: None,
    }
}

/// Whether check `index` is down at `at_ms`: about three outages of 5 to 40 minutes a month.
fn down(index: usize, at_ms: i64) -> bool {
    let day = at_ms.div_euclid(86_400_000);
    let mut rng = Rng((index as u64) << 32 ^ day as u64);
    if rng.unit() > 0.1 {
        return false;
    }
    let start = (rng.unit() * 86_400_000.0) as i64;
    let length = 300_000 + (rng.unit() * 2_100_000.0) as i64;
    let t = at_ms.rem_euclid(86_400_000);
    t >= start && t < start + length
}

/// One simulated hour of one worker's checks, ready to write.
struct Batch {
    worker: usize,
    sealed: Vec<PackedHour>,
    events: Vec<EventRecord>,
    results: u64,
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: gen-history DB CHECKS DAYS [INTERVAL_S] [RETENTION_DAYS] | gen-history DB housekeep RETENTION_DAYS";
    // `gen-history DB housekeep DAYS`: one housekeeping pass now, as the daemon would make.
    if let [db, verb, days] = &args[..]
        && verb == "housekeep"
    {
        let days: u64 = days.parse().map_err(|_| usage)?;
        let mut store = vitals::store::open(std::path::Path::new(db)).map_err(|e| e.to_string())?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let done = vitals::app::housekeeping::run(
            store.as_mut(),
            &Default::default(),
            Duration::from_secs(days * 86_400),
            now.as_millis() as i64,
        )
        .map_err(|e| e.to_string())?;
        eprintln!("housekeeping: {done:?} in {:.1?}", started.elapsed());
        return Ok(());
    }
    let arg = |i: usize| args.get(i).ok_or(usage);
    let db = arg(0)?;
    let checks: usize = arg(1)?.parse().map_err(|_| usage)?;
    let days: i64 = arg(2)?.parse().map_err(|_| usage)?;
    let interval_s: i64 = args.get(3).map_or(Ok(60), |s| s.parse()).map_err(|_| usage)?;
    let retention_days: Option<i64> = args.get(4).map(|s| s.parse()).transpose().map_err(|_| usage)?;
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?.as_millis()
            as i64;
    let end = now_ms.div_euclid(HOUR_MS) * HOUR_MS;
    let start = end - days * 24 * HOUR_MS;
    let hours = days * 24;
    let interval_ms = interval_s * 1000;
    let cadence = Cadence {
        interval: Duration::from_secs(interval_s as u64),
        retries: 2,
        retry_interval: Duration::from_secs(10),
    };
    let policy = StatePolicy::default();
    let mut store = vitals::store::open(std::path::Path::new(db)).map_err(|e| e.to_string())?;
    let started = Instant::now();

    // Checks are split over worker threads, each keeping its checks' states and last result
    // and sending sealed hours, in time order, to this thread, which writes them.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).max(1);
    let (tx, rx) = mpsc::sync_channel::<(i64, Result<Batch, String>)>(workers * 2);
    let mut handles = Vec::new();
    for w in 0..workers {
        let tx = tx.clone();
        let mine: Vec<usize> = (0..checks).filter(|i| i % workers == w).collect();
        handles.push(std::thread::spawn(move || {
            let names: Vec<String> = mine.iter().map(|i| format!("c{i:04}")).collect();
            let mut states: Vec<CheckState> = mine.iter().map(|_| CheckState::new()).collect();
            let mut last: Vec<Option<CheckResult>> = vec![None; mine.len()];
            let mut rngs: Vec<Rng> = mine.iter().map(|&i| Rng(i as u64 + 1)).collect();
            for h in 0..hours {
                let hour_ms = start + h * HOUR_MS;
                let mut batch =
                    Batch { worker: w, sealed: Vec::with_capacity(mine.len()), events: Vec::new(), results: 0 };
                for (k, &index) in mine.iter().enumerate() {
                    let phase = (index as i64 * 7_919) % interval_ms;
                    let mut results = Vec::new();
                    let mut at = hour_ms + phase;
                    while at < hour_ms + HOUR_MS {
                        let mut r = result(&mut rngs[k], &names[k], index, at, down(index, at));
                        let o = states[k].observe(r.status, at, &policy);
                        r.state = Some(StateInfo { kind: o.state_type, attempt: o.attempt });
                        batch.events.extend(o.events.into_iter().map(|event| EventRecord {
                            check: names[k].clone(),
                            event,
                            summary: r.summary.clone(),
                        }));
                        results.push(r);
                        at += if o.retry { 10_000 } else { interval_ms };
                    }
                    let rollup = rollup(&names[k], cadence, last[k].as_ref(), &results, hour_ms);
                    batch.results += results.len() as u64;
                    match PackedHour::pack(rollup, &results) {
                        Ok(packed) => batch.sealed.push(packed),
                        Err(e) => {
                            let _ = tx.send((h, Err(format!("cannot pack {}: {e}", names[k]))));
                            return;
                        }
                    }
                    last[k] = results.pop();
                }
                if tx.send((h, Ok(batch))).is_err() {
                    return;
                }
            }
        }));
    }
    drop(tx);
    // Write hour by hour in order, whichever worker finishes first: each simulated hour's
    // events in one transaction, and each simulated day's check-hours sealed in one more.
    // A day at a time because the rows of a check are neighbours in the table's key order
    // (check, hour): sealing an hour of every check dirties a page per check, sealing a day
    // the same pages once for its 24 hours.
    let mut pending: std::collections::BTreeMap<i64, Vec<Batch>> = std::collections::BTreeMap::new();
    let mut next = 0;
    let mut written = 0u64;
    let mut day: Vec<PackedHour> = Vec::new();
    for (h, batch) in rx {
        pending.entry(h).or_default().push(batch?);
        while pending.get(&next).is_some_and(|b| b.len() == workers) {
            let mut batches = pending.remove(&next).unwrap_or_default();
            batches.sort_by_key(|b| b.worker);
            let events: Vec<EventRecord> = batches.iter_mut().flat_map(|b| std::mem::take(&mut b.events)).collect();
            store.write_run(&[], &events).map_err(|e| e.to_string())?;
            day.extend(batches.iter_mut().flat_map(|b| std::mem::take(&mut b.sealed)));
            written += batches.iter().map(|b| b.results).sum::<u64>();
            next += 1;
            if next % 24 == 0 || next == hours {
                store.seal_packed(&day).map_err(|e| e.to_string())?;
                day.clear();
            }
            // Housekeeping once a simulated day, as the daemon does every few minutes, so
            // the file reuses the pages pruning frees, as a long-running store does.
            if let (Some(days), 0) = (retention_days, next % 24) {
                let retention = Duration::from_secs(days as u64 * 86_400);
                vitals::app::housekeeping::run(store.as_mut(), &Default::default(), retention, start + next * HOUR_MS)
                    .map_err(|e| e.to_string())?;
            }
            if next % 24 == 0 {
                eprintln!("day {}/{days}: {written} results, {:.0?}", next / 24, started.elapsed());
            }
        }
    }
    for h in handles {
        h.join().map_err(|_| "a worker panicked".to_string())?;
    }
    if let Some(days) = retention_days {
        let retention = Duration::from_secs(days as u64 * 86_400);
        let done = vitals::app::housekeeping::run(store.as_mut(), &Default::default(), retention, end)
            .map_err(|e| e.to_string())?;
        eprintln!("housekeeping: {done:?}");
    }
    eprintln!("{written} results of {checks} checks over {days} days in {:.1?}", started.elapsed());
    Ok(())
}
