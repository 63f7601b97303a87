//! A check's history over a span, read from hourly rollups where they cover whole hours and
//! from raw results everywhere else, with the same answers either way.
//!
//! Availability is additive: the time-weighted parts of whole hours come from their rollups
//! (which [`super::rollup::rollup`] computed from the same raw results and rule), the rest
//! from the raw results, and the sum is what the raw results alone give. So an hour is read
//! raw whenever a rollup cannot stand for it exactly: when a window the report asks about
//! starts or ends inside it (the `cuts`), when a maintenance window overlaps it, or when
//! warnings count as down (rollups count them up). Once the raw results of such an hour are
//! past retention its rollup is used anyway, pro rata, and the report says the figure is
//! approximate.
//!
//! Percentiles over a window that includes rollups come from merged sketches (within
//! [`super::latency::RELATIVE_ERROR`]); over raw results alone they are exact.

use std::collections::BTreeMap;
use std::time::Duration;

use super::latency::{LatencySketch, Summary, exact_summary};
use super::rollup::{Cadence, phase_blobs, phases, response_time, sample};
use super::sla::{Availabilities, Availability, History, Options, Parts, Sample, WarningIs, Window};
use crate::result::CheckResult;
use crate::store::{HOUR_MS, HourRollup, ResultStore, StoreError};

const DAY_MS: i64 = 24 * HOUR_MS;

/// Raw results of one stretch of the span that no rollup stands for.
#[derive(Debug)]
struct RawRange {
    window: Window,
    before: Option<Sample>,
    samples: Vec<Sample>,
    results: Vec<CheckResult>,
}

/// What to read for one check.
#[derive(Debug, Clone)]
pub struct Load<'a> {
    /// The check.
    pub check: &'a str,
    /// Its schedule, as the SLA computations need it.
    pub cadence: Cadence,
    /// How results count.
    pub options: Options,
    /// Its maintenance windows over the span, sorted and disjoint.
    pub maintenance: Vec<Window>,
    /// Everything any question will be about.
    pub span: Window,
    /// Times where a window asked about starts or ends.
    pub cuts: Vec<i64>,
    /// Raw results exist from about this time on (now minus the retention).
    pub raw_since_ms: i64,
    /// Read raw results only, for exact figures (slower over long spans).
    pub exact: bool,
}

/// The loaded history of one check.
#[derive(Debug)]
pub struct Tiered {
    cadence: Cadence,
    options: Options,
    maintenance: Vec<Window>,
    rollups: Vec<HourRollup>,
    /// Daily phase sketches of the days whose hourly ones were compacted.
    daily_phases: Vec<(i64, Vec<u8>)>,
    raw: Vec<RawRange>,
    approximate: bool,
}

impl Tiered {
    /// Reads what `load` asks for from `store`, every raw result whole.
    pub fn load(store: &dyn ResultStore, load: &Load<'_>) -> Result<Tiered, StoreError> {
        Self::read(store, load, None)
    }

    /// Reads what `load` asks for from `store` for a report whose plugin metrics are
    /// summarised over `metrics_over` when it is read from raw results alone: then every raw
    /// result is read whole, else only its timings ([`ResultStore::window_timings`]), which
    /// is all the other figures use.
    pub fn load_for(store: &dyn ResultStore, load: &Load<'_>, metrics_over: Window) -> Result<Tiered, StoreError> {
        Self::read(store, load, Some(metrics_over))
    }

    fn read(store: &dyn ResultStore, load: &Load<'_>, metrics_over: Option<Window>) -> Result<Tiered, StoreError> {
        let span = load.span;
        let use_rollups = !load.exact && load.options.warning == WarningIs::Up;
        let mut rollups = if use_rollups { store.rollups(load.check, span.from_ms, span.to_ms)? } else { Vec::new() };
        let mut approximate = false;
        rollups.retain(|r| {
            let hour = Window { from_ms: r.hour_ms, to_ms: r.hour_ms + HOUR_MS };
            let split = load.cuts.iter().any(|&c| c > hour.from_ms && c < hour.to_ms)
                || load.maintenance.iter().any(|m| m.from_ms < hour.to_ms && m.to_ms > hour.from_ms);
            if split && hour.from_ms < load.raw_since_ms {
                approximate = true;
            }
            !split || hour.from_ms < load.raw_since_ms
        });
        let mut gaps = Vec::new();
        let mut cursor = span.from_ms;
        for r in &rollups {
            if r.hour_ms > cursor {
                gaps.push(Window { from_ms: cursor, to_ms: r.hour_ms });
            }
            cursor = cursor.max(r.hour_ms + HOUR_MS);
        }
        if cursor < span.to_ms {
            gaps.push(Window { from_ms: cursor, to_ms: span.to_ms });
        }
        let whole = metrics_over.is_none_or(|w| !rollups.iter().any(|r| w.overlap(r.hour_ms, r.hour_ms + HOUR_MS) > 0));
        let mut raw = Vec::with_capacity(gaps.len());
        for window in gaps {
            let (before, results) = if whole {
                store.window(load.check, window.from_ms, window.to_ms)?
            } else {
                store.window_timings(load.check, window.from_ms, window.to_ms)?
            };
            raw.push(RawRange {
                window,
                before: before.as_ref().map(sample),
                samples: results.iter().map(sample).collect(),
                results,
            });
        }
        let daily_phases = if rollups.iter().any(|r| r.phases.is_none()) {
            store.daily_phases(load.check, span.from_ms, span.to_ms)?
        } else {
            Vec::new()
        };
        Ok(Tiered {
            daily_phases,
            cadence: load.cadence,
            options: load.options,
            maintenance: load.maintenance.clone(),
            rollups,
            raw,
            approximate,
        })
    }

    /// Whether some figure had to prorate an hour whose raw results are gone.
    pub fn approximate(&self) -> bool {
        self.approximate
    }

    /// Whether every figure over `window` comes from raw results.
    pub fn all_raw(&self, window: Window) -> bool {
        !self.rollups.iter().any(|r| window.overlap(r.hour_ms, r.hour_ms + HOUR_MS) > 0)
    }

    fn history<'a>(&'a self, range: &'a RawRange) -> History<'a> {
        History {
            samples: &range.samples,
            before: range.before,
            interval: self.cadence.interval,
            retries: self.cadence.retries,
            retry_interval: self.cadence.retry_interval,
            maintenance: &self.maintenance,
            options: self.options,
        }
    }

    /// The raw results that started inside `window`, oldest first.
    pub fn results_in(&self, window: Window) -> impl Iterator<Item = &CheckResult> {
        self.raw
            .iter()
            .filter(move |r| window.overlap(r.window.from_ms, r.window.to_ms) > 0)
            .flat_map(move |r| r.results.iter().filter(move |x| window.contains(x.started_at_ms)))
    }

    fn rollups_in(&self, window: Window) -> impl Iterator<Item = &HourRollup> {
        let start = self.rollups.partition_point(|r| r.hour_ms + HOUR_MS <= window.from_ms);
        self.rollups[start..].iter().take_while(move |r| r.hour_ms < window.to_ms)
    }

    /// Response time over `window`: exact over raw results alone, else from merged sketches.
    /// `scratch` is reused between calls to spare the allocation.
    pub fn response_time(&self, window: Window, scratch: &mut LatencySketch) -> Option<Summary> {
        if self.all_raw(window) {
            let mut values: Vec<Duration> = self.results_in(window).map(response_time).collect();
            return exact_summary(&mut values);
        }
        scratch.reset();
        self.merge_response_time(window, scratch);
        scratch.summary()
    }

    /// Adds the response times of `window` to `sketch`.
    pub fn merge_response_time(&self, window: Window, sketch: &mut LatencySketch) {
        for r in self.rollups_in(window) {
            if let Some(bytes) = &r.latency
                && let Err(e) = sketch.merge_payload(bytes)
            {
                tracing::warn!(check = %r.check, hour_ms = r.hour_ms, error = %e, "skipping a damaged rollup sketch");
            }
        }
        self.results_in(window).for_each(|x| sketch.record(response_time(x)));
    }

    /// Percentiles of each timing phase (`time_dns`, `time_connect`…) over `window`, exact
    /// over raw results alone, else from merged sketches. Days whose hourly phase sketches
    /// were compacted count whole: phases have a day's resolution there.
    pub fn phases(&self, window: Window) -> BTreeMap<String, Summary> {
        if self.all_raw(window) {
            let mut values: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
            for r in self.results_in(window) {
                for (name, v) in phases(r) {
                    values.entry(name).or_default().push(v);
                }
            }
            return values.into_iter().filter_map(|(k, mut v)| Some((k.to_string(), exact_summary(&mut v)?))).collect();
        }
        let mut sketches: BTreeMap<String, LatencySketch> = BTreeMap::new();
        // Hours whose phases were compacted into their day's sketch: each such day once.
        let mut days: Vec<i64> = self
            .rollups_in(window)
            .filter(|r| r.phases.is_none())
            .map(|r| r.hour_ms.div_euclid(DAY_MS) * DAY_MS)
            .collect();
        days.dedup();
        let daily = self.daily_phases.iter().filter(|(day, _)| days.binary_search(day).is_ok()).map(|(_, b)| b);
        let hourly = self.rollups_in(window).filter_map(|r| r.phases.as_ref());
        for blob in hourly.chain(daily) {
            match phase_blobs(blob) {
                Ok(list) => {
                    for (name, bytes) in list {
                        let sketch = sketches.entry(name.clone()).or_default();
                        if let Err(e) = sketch.merge_payload(&bytes) {
                            tracing::warn!(phase = name, error = %e, "skipping a damaged phase sketch");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "skipping damaged phases"),
            }
        }
        // A day's sketch already holds the phases of its hours read raw.
        let used: Vec<i64> = self.daily_phases.iter().map(|(day, _)| *day).filter(|d| days.contains(d)).collect();
        for r in self.results_in(window).filter(|r| !used.contains(&(r.started_at_ms.div_euclid(DAY_MS) * DAY_MS))) {
            for (name, v) in phases(r) {
                sketches.entry(name.to_string()).or_default().record(v);
            }
        }
        sketches.into_iter().filter_map(|(k, s)| Some((k, s.summary()?))).collect()
    }

    /// Parts of `window` ∩ `hour` taken from a rollup: whole, or pro rata when the window cuts
    /// the hour (only past retention, see the module doc).
    fn rollup_parts(&self, r: &HourRollup, window: Window) -> Parts {
        let hour = Window { from_ms: r.hour_ms, to_ms: r.hour_ms + HOUR_MS };
        let inside = window.overlap(hour.from_ms, hour.to_ms);
        let from = hour.from_ms.max(window.from_ms);
        let maintenance: i64 = self.maintenance.iter().map(|m| m.overlap(from, from + inside)).sum();
        let good = r.counts.ok + r.counts.warning;
        let total = r.counts.ok + r.counts.warning + r.counts.critical + r.counts.unknown;
        if inside == HOUR_MS && maintenance == 0 {
            return Parts {
                up_ms: r.up_ms,
                degraded_ms: r.degraded_ms,
                down_ms: r.down_ms,
                no_data_ms: r.no_data_ms,
                maintenance_ms: 0,
                raw_ok: good,
                raw_total: total,
            };
        }
        let f = (inside - maintenance) as f64 / HOUR_MS as f64;
        let scale = |v: i64| (v as f64 * f).round() as i64;
        let scale_n = |v: u64| (v as f64 * f).round() as u64;
        let (up, down) = (scale(r.up_ms), scale(r.down_ms));
        Parts {
            up_ms: up,
            degraded_ms: scale(r.degraded_ms).min(up),
            down_ms: down,
            no_data_ms: inside - maintenance - up - down,
            maintenance_ms: maintenance,
            raw_ok: scale_n(good),
            raw_total: scale_n(total),
        }
    }
}

impl Availabilities for Tiered {
    fn availability_over(&self, window: Window) -> Availability {
        let mut parts = Parts::default();
        for r in self.rollups_in(window) {
            parts += self.rollup_parts(r, window);
        }
        for range in &self.raw {
            let from = range.window.from_ms.max(window.from_ms);
            let to = range.window.to_ms.min(window.to_ms);
            if from < to {
                parts += self.history(range).availability(Window { from_ms: from, to_ms: to }).parts();
            }
        }
        Availability::from_parts(parts, self.options.no_data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::rollup::rollup;
    use crate::result::{StateInfo, StateType, Status, fixture};
    use crate::store::ResultStore;

    const MIN: i64 = 60_000;
    const CADENCE: Cadence =
        Cadence { interval: Duration::from_secs(60), retries: 0, retry_interval: Duration::from_secs(60) };

    fn result(at_ms: i64, status: Status, total_ms: f64) -> CheckResult {
        CheckResult {
            state: Some(StateInfo { kind: StateType::Hard, attempt: 1 }),
            ..fixture::result("web", at_ms, status, vec![fixture::ms("time_total", total_ms)])
        }
    }

    /// Ten hours of minutely results with an outage, a gap and 40 minutes of warning, every
    /// hour but the last sealed.
    fn fixture() -> (tempfile::TempDir, Box<dyn ResultStore>, Vec<CheckResult>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = crate::store::open(dir.path().join("v.db")).expect("opens");
        let results: Vec<CheckResult> = (0..600)
            .filter(|m| !(200..230).contains(m))
            .map(|m| {
                let status = match m {
                    95..130 => Status::Critical,
                    300..340 => Status::Warning,
                    _ => Status::Ok,
                };
                result(m * MIN + 7_000, status, 10.0 + (m % 17) as f64)
            })
            .collect();
        store.write_run(&results, &[]).expect("writes");
        for hour in 0..9 {
            let h = hour * HOUR_MS;
            let (before, inside) = store.window("web", h, h + HOUR_MS).expect("reads");
            let r = rollup("web", CADENCE, before.as_ref(), &inside, h);
            store.seal_hour(&r, &inside).expect("seals");
        }
        (dir, store, results)
    }

    fn load(span: Window, cuts: Vec<i64>, exact: bool) -> Load<'static> {
        Load {
            check: "web",
            cadence: CADENCE,
            options: Options::default(),
            maintenance: Vec::new(),
            span,
            cuts,
            raw_since_ms: 0,
            exact,
        }
    }

    #[test]
    fn rollups_and_raw_results_give_the_same_availability_as_raw_alone() {
        let (_dir, store, results) = fixture();
        let span = Window { from_ms: 0, to_ms: 10 * HOUR_MS };
        let windows = [
            span,
            Window { from_ms: 90 * MIN + 30_000, to_ms: 7 * HOUR_MS + 5 * MIN },
            Window { from_ms: 3 * HOUR_MS, to_ms: 4 * HOUR_MS },
        ];
        let cuts: Vec<i64> = windows.iter().flat_map(|w| [w.from_ms, w.to_ms]).collect();
        let tiered = Tiered::load(store.as_ref(), &load(span, cuts.clone(), false)).expect("loads");
        let exact = Tiered::load(store.as_ref(), &load(span, cuts, true)).expect("loads");
        assert!(!tiered.all_raw(span) && exact.all_raw(span));
        let samples: Vec<Sample> = results.iter().map(sample).collect();
        let history = History {
            samples: &samples,
            before: None,
            interval: CADENCE.interval,
            retries: 0,
            retry_interval: CADENCE.retry_interval,
            maintenance: &[],
            options: Options::default(),
        };
        for w in windows {
            assert_eq!(tiered.availability_over(w), history.availability(w), "{w:?}");
            assert_eq!(exact.availability_over(w), history.availability(w), "{w:?}");
        }
        // The outage (35 minutes) and the gap (30 minutes, less the 2 minutes the last
        // result before it holds, and the 7 seconds before the first) are where they should be.
        let a = tiered.availability_over(span);
        assert_eq!(a.down_ms, 35 * MIN);
        assert_eq!(a.no_data_ms, 29 * MIN + 7_000);
        // The warning is degraded, read back from the rollups of the hours it spans.
        assert_eq!(a.degraded_ms, 40 * MIN);
    }

    #[test]
    fn percentiles_from_sketches_are_within_the_stated_error_of_the_exact_ones() {
        let (_dir, store, _) = fixture();
        let span = Window { from_ms: 0, to_ms: 10 * HOUR_MS };
        let tiered = Tiered::load(store.as_ref(), &load(span, vec![], false)).expect("loads");
        let exact = Tiered::load(store.as_ref(), &load(span, vec![], true)).expect("loads");
        let mut scratch = LatencySketch::new();
        let a = tiered.response_time(span, &mut scratch).expect("values");
        let b = exact.response_time(span, &mut scratch).expect("values");
        assert_eq!(a.count, b.count);
        for (x, y) in [(a.p50, b.p50), (a.p95, b.p95), (a.p99, b.p99), (a.max, b.max)] {
            let (x, y) = (x.as_secs_f64(), y.as_secs_f64());
            assert!((x - y).abs() <= y * crate::report::latency::RELATIVE_ERROR, "{x} vs {y}");
        }
    }

    #[test]
    fn maintenance_makes_an_hour_read_raw_and_is_cut_out() {
        let (_dir, store, _) = fixture();
        let span = Window { from_ms: 0, to_ms: 10 * HOUR_MS };
        let mut l = load(span, vec![], false);
        l.maintenance = vec![Window { from_ms: 100 * MIN, to_ms: 110 * MIN }];
        let tiered = Tiered::load(store.as_ref(), &l).expect("loads");
        let a = tiered.availability_over(span);
        assert_eq!(a.maintenance_ms, 10 * MIN);
        assert_eq!(a.down_ms, 25 * MIN);
        assert!(!tiered.approximate());
    }
}
