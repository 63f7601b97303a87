//! The scheduler under tokio's paused clock, with a scripted executor: phase spread,
//! skip-when-busy, per-host limits, retries to SOFT then HARD, recovery, reload and
//! shutdown, all in virtual time.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::scheduler::*;
use crate::config;
use crate::plan::SourceFile;
use crate::result::EventRecord;
use crate::result::state::Event;
use crate::result::{CheckResult, StateType, Status};
use crate::runtime::{ComponentCache, Runtime};
use crate::schedule::Prepared;
use crate::serve::metrics::Telemetry;

/// A round epoch in ms (a multiple of every interval used here: 500,000 hours).
const BASE: i64 = 1_800_000_000_000;

/// What the scripted executor saw.
#[derive(Default)]
struct Log {
    starts: Vec<(String, i64)>,
    running: usize,
    most_running: usize,
    running_per_check: HashMap<String, usize>,
    /// Every `max_per_host` the scheduler handed to the executor.
    max_per_host: Vec<usize>,
}

/// Returns scripted statuses (the last one repeats) after `delay`.
struct Script {
    clock: Clock,
    delay: Duration,
    statuses: Mutex<HashMap<String, VecDeque<Status>>>,
    log: Arc<Mutex<Log>>,
}

impl Script {
    fn new(clock: Clock, delay: Duration, statuses: &[(&str, &[Status])]) -> Arc<Script> {
        Arc::new(Script {
            clock,
            delay,
            statuses: Mutex::new(statuses.iter().map(|(n, s)| (n.to_string(), s.iter().copied().collect())).collect()),
            log: Arc::new(Mutex::new(Log::default())),
        })
    }

    fn starts_of(&self, check: &str) -> Vec<i64> {
        self.log.lock().unwrap().starts.iter().filter(|(n, _)| n == check).map(|(_, t)| *t - BASE).collect()
    }
}

impl Executor for Script {
    fn set_max_per_host(&self, max: usize) {
        self.log.lock().unwrap().max_per_host.push(max);
    }

    fn run(&self, check: Prepared) -> Pin<Box<dyn Future<Output = CheckResult> + Send>> {
        let name = check.check.name.clone();
        let now = self.clock.now_ms();
        {
            let mut log = self.log.lock().unwrap();
            log.starts.push((name.clone(), now));
            log.running += 1;
            log.most_running = log.most_running.max(log.running);
            let per = log.running_per_check.entry(name.clone()).or_default();
            *per += 1;
            assert_eq!(*per, 1, "two runs of {name} at once");
        }
        let status = {
            let mut all = self.statuses.lock().unwrap();
            let queue = all.entry(name.clone()).or_default();
            if queue.len() > 1 {
                queue.pop_front().unwrap_or(Status::Ok)
            } else {
                queue.front().copied().unwrap_or(Status::Ok)
            }
        };
        let (delay, log, target) = (self.delay, Arc::clone(&self.log), check.check.target.clone());
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            {
                let mut log = log.lock().unwrap();
                log.running -= 1;
                *log.running_per_check.entry(name.clone()).or_default() -= 1;
            }
            CheckResult {
                check: name.clone(),
                plugin: "script".into(),
                plugin_version: "0".into(),
                target,
                started_at_ms: now,
                duration: delay,
                status,
                summary: format!("{name} is {status}"),
                reason: None,
                metrics: Vec::new(),
                details: None,
                state: None,
            }
        })
    }
}

/// Keeps what the scheduler recorded.
#[derive(Default)]
struct Recorded {
    results: Vec<CheckResult>,
    events: Vec<EventRecord>,
}

impl Sink for Recorded {
    fn record(&mut self, result: CheckResult, events: Vec<EventRecord>) {
        self.results.push(result);
        self.events.extend(events);
    }
}

/// Loads a config (checks of the real `tcp` plugin, which the scripted executor never
/// runs) into prepared checks.
///
/// Loading runs on a runtime of its own with the real clock: under the tests' paused clock,
/// time jumps ahead while the plugin compiles and `describe` would hit its deadline.
async fn prepared(toml: &str) -> (Vec<Prepared>, usize) {
    let toml = toml.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
            let plan = config::parse(SourceFile::new("checks.toml", &toml), &|_| None).unwrap();
            let prepared = crate::app::prepare(&runtime, &plan, plan.checks.iter()).await.unwrap();
            (prepared, plan.max_per_host)
        })
    })
    .join()
    .unwrap()
}

fn tcp_checks(names: &[&str], extra: &str) -> String {
    names
        .iter()
        .map(|n| format!("[[check]]\nname = \"{n}\"\nplugin = \"tcp\"\ntarget = \"{n}.example:22\"\n{extra}\n"))
        .collect()
}

fn scheduler(prepared: Vec<Prepared>, max_per_host: usize, script: &Arc<Script>, clock: Clock) -> Scheduler {
    let executor: Arc<dyn Executor> = Arc::clone(script) as Arc<dyn Executor>;
    let settings =
        Settings { max_per_host, concurrency: 64, clock, executor, observer: Some(Arc::new(Telemetry::new())) };
    Scheduler::new(prepared, HashMap::new(), settings)
}

/// Runs the daemon loop for `length` of virtual time, then shuts it down.
async fn run_for(s: Scheduler, length: Duration, grace: Duration) -> (Recorded, Summary) {
    let (tx, rx) = mpsc::channel(4);
    let handle = tokio::spawn(async move {
        let mut sink = Recorded::default();
        let summary = s.run(rx, &mut sink).await;
        (sink, summary)
    });
    tokio::time::sleep(length).await;
    tx.send(Control::Shutdown { grace }).await.unwrap();
    handle.await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn checks_of_one_interval_start_at_their_phase_spread_over_it() {
    let names: Vec<String> = (0..200).map(|i| format!("c{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (prepared, _) = prepared(&tcp_checks(&refs, "interval = \"10s\"")).await;
    let clock = Clock::starting_at(BASE);
    let script = Script::new(clock, Duration::from_millis(5), &[]);
    let s = scheduler(prepared, 1000, &script, clock);
    let (_, summary) = run_for(s, Duration::from_millis(19_999), Duration::from_secs(1)).await;
    let mut buckets = [0usize; 10];
    for name in &names {
        let starts: Vec<i64> = script.starts_of(name).into_iter().filter(|&t| t < 20_000).collect();
        let phase = crate::plan::schedule::phase(name, Duration::from_secs(10)).as_millis() as i64;
        assert_eq!(starts, vec![phase, phase + 10_000], "{name} runs at its phase, every 10 s");
        buckets[(phase / 1000) as usize] += 1;
    }
    assert!(buckets.iter().all(|&b| b <= 40), "no second holds more than twice its share: {buckets:?}");
    assert_eq!((summary.started, summary.skipped), (400, 0));
}

#[tokio::test(start_paused = true)]
async fn a_run_still_going_when_the_next_is_due_is_skipped_not_doubled() {
    let (prepared, _) = prepared(&tcp_checks(&["slow", "quick"], "interval = \"1s\"")).await;
    let clock = Clock::starting_at(BASE);
    // Every run takes 2.5 s: `slow` and `quick` alike, so each skips two of three dues.
    let script = Script::new(clock, Duration::from_millis(2_500), &[]);
    let s = scheduler(prepared, 1000, &script, clock);
    let (recorded, summary) = run_for(s, Duration::from_secs(10), Duration::from_secs(5)).await;
    assert!(summary.skipped >= 10, "{summary:?}");
    assert_eq!(summary.started, summary.finished, "{summary:?}");
    assert_eq!(recorded.results.len() as u64, summary.finished);
    for name in ["slow", "quick"] {
        let starts = script.starts_of(name);
        assert!(starts.windows(2).all(|w| w[1] - w[0] >= 2_500), "{name}: {starts:?}");
    }
}

/// The per-host limit counts connections in the sandbox, not runs: the scheduler hands it
/// to the executor and starts runs of one host's checks together, so a check that loops
/// without connecting never delays the others of its host.
#[tokio::test(start_paused = true)]
async fn max_per_host_goes_to_the_sandbox_and_runs_of_one_host_start_together() {
    let checks: String = (0..10)
        .map(|i| format!("[[check]]\nname = \"c{i}\"\nplugin = \"tcp\"\ntarget = \"db.example:{}\"\n", 5000 + i))
        .collect();
    let (prepared, _) = prepared(&format!("[defaults]\nmax_per_host = 2\n{checks}")).await;
    let clock = Clock::starting_at(BASE);
    let script = Script::new(clock, Duration::from_secs(1), &[]);
    let s = scheduler(prepared, 2, &script, clock);
    let (mut sink, once) = (Recorded::default(), s);
    let (results, _) = once.run_once(&mut sink).await;
    assert_eq!(results.len(), 10);
    let log = script.log.lock().unwrap();
    assert_eq!(log.most_running, 10);
    assert_eq!(log.max_per_host, [2]);
}

#[tokio::test(start_paused = true)]
async fn failures_are_soft_then_hard_after_retries_and_recovery_is_hard_at_once() {
    use Status::{Critical, Ok};
    let (prepared, _) =
        prepared(&tcp_checks(&["web"], "interval = \"60s\"\nretries = 2\nretry_interval = \"10s\"")).await;
    let clock = Clock::starting_at(BASE);
    let script = Script::new(clock, Duration::from_millis(10), &[("web", &[Ok, Critical, Critical, Critical, Ok])]);
    let s = scheduler(prepared, 4, &script, clock);
    let (recorded, _) = run_for(s, Duration::from_secs(200), Duration::from_secs(1)).await;
    let phase = crate::plan::schedule::phase("web", Duration::from_secs(60)).as_millis() as i64;
    let starts = script.starts_of("web");
    // ok at the phase; critical a minute later; two retries 10 s apart (plus the run
    // time); then ok again at the next regular due time.
    assert_eq!(&starts[..4], &[phase, phase + 60_000, phase + 70_010, phase + 80_020], "{starts:?}");
    let states: Vec<(StateType, u32)> =
        recorded.results.iter().take(5).map(|r| r.state.map(|s| (s.kind, s.attempt)).unwrap()).collect();
    assert_eq!(
        states,
        vec![
            (StateType::Hard, 1),
            (StateType::Soft, 1),
            (StateType::Soft, 2),
            (StateType::Hard, 3),
            (StateType::Hard, 1)
        ]
    );
    let changes: Vec<(Status, Status)> = recorded
        .events
        .iter()
        .filter_map(|e| match e.event {
            Event::HardChange { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect();
    assert_eq!(changes, vec![(Ok, Critical), (Critical, Ok)], "one HARD down, one recovery");
}

#[tokio::test(start_paused = true)]
async fn reload_keeps_unchanged_checks_drops_removed_ones_and_adds_new_ones() {
    let (before, _) = prepared(&tcp_checks(&["keep", "drop"], "interval = \"10s\"")).await;
    let (after, _) = prepared(&tcp_checks(&["keep", "new"], "interval = \"10s\"")).await;
    let clock = Clock::starting_at(BASE);
    let script = Script::new(clock, Duration::from_millis(1), &[]);
    let s = scheduler(before, 4, &script, clock);
    let (tx, rx) = mpsc::channel(4);
    let handle = tokio::spawn(async move {
        let mut sink = Recorded::default();
        s.run(rx, &mut sink).await
    });
    tokio::time::sleep(Duration::from_secs(25)).await;
    tx.send(Control::Reload { checks: after, max_per_host: 4 }).await.unwrap();
    tokio::time::sleep(Duration::from_secs(25)).await;
    tx.send(Control::Shutdown { grace: Duration::from_secs(1) }).await.unwrap();
    handle.await.unwrap();
    let keep = script.starts_of("keep");
    assert!(keep.windows(2).all(|w| w[1] - w[0] == 10_000), "keep's rhythm survives the reload: {keep:?}");
    assert_eq!(keep.len(), 5);
    assert!(script.starts_of("drop").iter().all(|&t| t < 25_000));
    assert!(!script.starts_of("new").is_empty() && script.starts_of("new").iter().all(|&t| t >= 25_000));
}

#[tokio::test(start_paused = true)]
async fn shutdown_lets_runs_in_flight_finish_within_the_grace_period() {
    let (prepared, _) = prepared(&tcp_checks(&["slow"], "interval = \"60s\"")).await;
    let clock = Clock::starting_at(BASE);
    let script = Script::new(clock, Duration::from_secs(5), &[]);
    let phase = crate::plan::schedule::phase("slow", Duration::from_secs(60)).as_millis() as u64;
    let s = scheduler(prepared, 4, &script, clock);
    // Stop one second into the run: the 5 s run still fits in a 10 s grace.
    let (recorded, summary) = run_for(s, Duration::from_millis(phase + 1_000), Duration::from_secs(10)).await;
    assert_eq!((summary.started, summary.finished, summary.abandoned), (1, 1, 0));
    assert_eq!(recorded.results.len(), 1);
    // The same with a grace period of one second: the run is abandoned.
    let (prepared, _) = self::prepared(&tcp_checks(&["slow"], "interval = \"60s\"")).await;
    let clock = Clock::starting_at(BASE);
    let script = Script::new(clock, Duration::from_secs(5), &[]);
    let s = scheduler(prepared, 4, &script, clock);
    let (recorded, summary) = run_for(s, Duration::from_millis(phase + 1_000), Duration::from_secs(1)).await;
    assert_eq!(summary.abandoned, 1, "a run longer than the grace period is abandoned: {summary:?}");
    assert_eq!(recorded.results.len(), 1, "and recorded, not lost");
    assert_eq!(recorded.results[0].reason, Some(crate::result::Reason::Timeout));
    assert!(recorded.results[0].summary.starts_with("abandoned at shutdown"));
}

#[tokio::test(start_paused = true)]
async fn a_check_removed_and_added_back_runs_on_one_schedule_only() {
    let (with, _) = prepared(&tcp_checks(&["a", "b"], "interval = \"10s\"")).await;
    let (without, _) = prepared(&tcp_checks(&["b"], "interval = \"10s\"")).await;
    let (again, _) = prepared(&tcp_checks(&["a", "b"], "interval = \"10s\"")).await;
    let clock = Clock::starting_at(BASE);
    let script = Script::new(clock, Duration::from_millis(1), &[]);
    let s = scheduler(with, 4, &script, clock);
    let (tx, rx) = mpsc::channel(4);
    let handle = tokio::spawn(async move {
        let mut sink = Recorded::default();
        s.run(rx, &mut sink).await
    });
    tokio::time::sleep(Duration::from_secs(12)).await;
    tx.send(Control::Reload { checks: without, max_per_host: 4 }).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    tx.send(Control::Reload { checks: again, max_per_host: 4 }).await.unwrap();
    tokio::time::sleep(Duration::from_secs(40)).await;
    tx.send(Control::Shutdown { grace: Duration::from_secs(1) }).await.unwrap();
    let summary = handle.await.unwrap();
    assert_eq!(summary.skipped, 0, "no second chain of due times: {summary:?}");
    let starts = script.starts_of("a");
    assert!(starts.windows(2).all(|w| w[1] - w[0] >= 9_000), "{starts:?}");
}
