//! The scheduler: a queue of due times, one entry per check, dispatching runs under a
//! global and a per-host limit, and turning each finished run into states and events.
//! `run --once` and the daemon are the same loop: once, every check is due now.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

use super::Prepared;
use crate::plan::CheckPlan;
use crate::plan::schedule::retry_after;
use crate::result::state::{CheckState, Event};
use crate::result::{CheckResult, EventRecord, Reason, StateInfo, StateType};
use crate::runtime::{POOL_INSTANCES, Runtime};

/// Runs one check; the real one sandboxes the plugin, tests script results.
pub trait Executor: Send + Sync + 'static {
    /// Runs `check` and returns its result; never fails.
    fn run(&self, check: Prepared) -> Pin<Box<dyn Future<Output = CheckResult> + Send>>;

    /// The most connections in flight to one host (`max_per_host`): the sandbox counts
    /// connections, not runs, so a check that loops without connecting holds nothing.
    fn set_max_per_host(&self, _max: usize) {}
}

/// The executor that runs plugins in the sandbox.
pub struct SandboxExecutor(pub Arc<Runtime>);

impl Executor for SandboxExecutor {
    fn run(&self, check: Prepared) -> Pin<Box<dyn Future<Output = CheckResult> + Send>> {
        let runtime = Arc::clone(&self.0);
        Box::pin(async move { runtime.run(&check.plugin, &check.check).await })
    }

    fn set_max_per_host(&self, max: usize) {
        self.0.engine().set_max_per_host(max);
    }
}

/// Wall-clock milliseconds derived from tokio's monotonic clock, so that a paused test
/// clock drives due times, and a stepped system clock does not make checks bunch up.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_ms: i64,
    start: Instant,
}

/// The system's wall time, in milliseconds since the Unix epoch (0 before it).
pub fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Clock {
    /// A clock that reads `base_ms` now.
    pub fn starting_at(base_ms: i64) -> Clock {
        Clock { base_ms, start: Instant::now() }
    }

    /// A clock that starts at the system's wall time.
    pub fn system() -> Clock {
        Clock::starting_at(wall_clock_ms())
    }

    /// Milliseconds since the Unix epoch, now.
    pub fn now_ms(&self) -> i64 {
        self.base_ms.saturating_add(i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX))
    }

    /// The tokio instant of a wall time in milliseconds.
    pub fn instant_at(&self, ms: i64) -> Instant {
        let offset = ms.saturating_sub(self.base_ms).max(0);
        self.start + Duration::from_millis(u64::try_from(offset).unwrap_or(0))
    }
}

/// What the loop tells whoever watches it (the daemon's `/metrics`). Every method does
/// nothing by default; the scheduler calls them from its tasks, so they must be cheap.
pub trait Observer: Send + Sync + 'static {
    /// The number of scheduled checks changed (start, reload).
    fn checks(&self, _count: usize) {}
    /// A run started `late` after its due time.
    fn run_started(&self, _late: Duration) {}
    /// A run finished (its result follows through [`Observer::result`]).
    fn run_finished(&self) {}
    /// A run of `check` was skipped: the previous one was still going.
    fn skipped(&self, _check: &CheckPlan) {}
    /// A run's result, with whether its state is HARD and whether the check flaps.
    fn result(&self, _check: &CheckPlan, _result: &CheckResult, _hard: bool, _flapping: bool) {}
    /// `check` was removed by a reload: forget what is known of it.
    fn removed(&self, _check: &str) {}
}

/// How the loop runs: its limits, its clock, what runs a check and who watches.
pub struct Settings {
    /// Most runs at once against one target host (`max_per_host`).
    pub max_per_host: usize,
    /// Most runs at once in all (`--concurrency`), capped by the instance pool.
    pub concurrency: usize,
    /// The wall clock due times are read from.
    pub clock: Clock,
    /// What runs one check.
    pub executor: Arc<dyn Executor>,
    /// Who is told about runs (telemetry); `None` when nobody will read it (`run --once`).
    pub observer: Option<Arc<dyn Observer>>,
}

/// One due run in the queue; ordered by due time, then by the order it was queued.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    /// When the run is due, ms since the Unix epoch.
    at_ms: i64,
    /// Queue order, breaking ties between runs due at the same millisecond.
    sequence: u64,
    /// The check's name.
    check: String,
    /// The check's generation when this was queued; a newer one makes it stale.
    generation: u64,
}

/// Where finished runs go: written, counted, and announced.
pub trait Sink: Send + 'static {
    /// Called for every finished run, with the events it caused.
    fn record(&mut self, result: CheckResult, events: Vec<EventRecord>);
}

/// What the loop is told from outside.
pub enum Control {
    /// Replace the checks: changed ones are rescheduled, removed ones stop, unchanged
    /// ones keep their state and their place in the schedule.
    Reload {
        /// The new checks.
        checks: Vec<Prepared>,
        /// The new per-host limit.
        max_per_host: usize,
    },
    /// Run only the checks in `owned` from now on (a runner sharing its checks with
    /// others: see `app::runners`), the newly owned ones from the states given, read from
    /// the history their previous owner stored.
    Assign {
        /// The names of the schedule entries this runner owns.
        owned: HashSet<String>,
        /// The state of each newly owned entry.
        states: HashMap<String, CheckState>,
    },
    /// Stop scheduling; let runs in flight finish within `grace`.
    Shutdown {
        /// How long in-flight runs may take to finish.
        grace: Duration,
    },
}

/// Counters a run of the scheduler ends with.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Runs started.
    pub started: u64,
    /// Runs finished and recorded.
    pub finished: u64,
    /// Runs skipped because the previous run of the same check was still going.
    pub skipped: u64,
    /// Runs still going when the grace period ended (recorded as timed out).
    pub abandoned: u64,
}

/// One scheduled check.
struct Entry {
    prepared: Prepared,
    state: CheckState,
    /// Changed (from a scheduler-wide counter) when a queued due time is replaced by a
    /// retry or a reload, so stale queue items are ignored.
    generation: u64,
    /// The id of the run in flight, if any.
    running: Option<u64>,
}

struct Done {
    name: String,
    run: u64,
    /// `None` when the run was called off before it started (shutdown).
    result: Option<CheckResult>,
}

/// The scheduler loop and its state.
pub struct Scheduler {
    entries: HashMap<String, Entry>,
    queue: BinaryHeap<Reverse<Due>>,
    sequence: u64,
    clock: Clock,
    global: Arc<Semaphore>,
    executor: Arc<dyn Executor>,
    /// Who is told about runs; `None` when nobody will read it (`run --once`).
    observer: Option<Arc<dyn Observer>>,
    states: SharedStates,
    summary: Summary,
    /// Set at shutdown: runs still waiting for a permit are called off.
    stopping: Arc<AtomicBool>,
    /// The entries this runner owns, when it shares its checks with other runners
    /// ([`Control::Assign`]); `None`: every entry. The others stay scheduled, their due
    /// runs passed over, so that an entry taken over runs at its usual moment.
    owned: Option<HashSet<String>>,
}

/// Every check's current state, readable from outside the loop (for `/status`).
pub type SharedStates = Arc<Mutex<HashMap<String, CheckState>>>;

impl Scheduler {
    /// A scheduler for `checks`; `states` seeds each check's state (from history).
    pub fn new(checks: Vec<Prepared>, mut states: HashMap<String, CheckState>, settings: Settings) -> Scheduler {
        let Settings { max_per_host, concurrency, clock, executor, observer } = settings;
        executor.set_max_per_host(max_per_host);
        let mut scheduler = Scheduler {
            entries: HashMap::new(),
            queue: BinaryHeap::new(),
            sequence: 0,
            clock,
            // The instance pool is fixed in size; never ask it for more.
            global: Arc::new(Semaphore::new(concurrency.clamp(1, POOL_INSTANCES as usize))),
            executor,
            observer,
            states: Arc::new(Mutex::new(HashMap::new())),
            summary: Summary::default(),
            stopping: Arc::new(AtomicBool::new(false)),
            owned: None,
        };
        for prepared in checks {
            let name = prepared.check.name.clone();
            let state = states.remove(&name).unwrap_or_default();
            scheduler.insert(prepared, state);
        }
        scheduler.publish_states();
        scheduler
    }

    /// The states, shared for reading.
    pub fn states(&self) -> SharedStates {
        Arc::clone(&self.states)
    }

    fn insert(&mut self, prepared: Prepared, state: CheckState) {
        let name = prepared.check.name.clone();
        let generation = self.next_id();
        self.entries.insert(name, Entry { prepared, state, generation, running: None });
    }

    fn next_id(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    fn push(&mut self, due_ms: i64, name: &str) {
        let Some(entry) = self.entries.get(name) else { return };
        self.sequence += 1;
        self.queue.push(Reverse(Due {
            at_ms: due_ms,
            sequence: self.sequence,
            check: name.to_string(),
            generation: entry.generation,
        }));
    }

    fn schedule_next(&mut self, name: &str, after_ms: i64) {
        let next = self.entries.get(name).and_then(|e| {
            // Every series of a check keeps the check's rhythm; its combining entry comes
            // `combine_delay` after the runs it combines.
            let check = &e.prepared.check;
            let delay = i64::try_from(check.combine_delay().as_millis()).unwrap_or(0);
            check.timing.schedule.next_after(check.rhythm(), after_ms.checked_sub(delay)?)?.checked_add(delay)
        });
        if let Some(due) = next {
            self.push(due, name);
        }
    }

    /// Whether this runner runs `name` now.
    fn owns(&self, name: &str) -> bool {
        self.owned.as_ref().is_none_or(|owned| owned.contains(name))
    }

    /// How many entries this runner runs (every entry, unless it shares them).
    fn owned_count(&self) -> usize {
        match &self.owned {
            None => self.entries.len(),
            Some(_) => self.entries.keys().filter(|n| self.owns(n)).count(),
        }
    }

    /// Takes the assignment of [`Control::Assign`].
    fn assign(&mut self, owned: HashSet<String>, mut states: HashMap<String, CheckState>) {
        for (name, entry) in &mut self.entries {
            let gained = owned.contains(name) && !self.owned.as_ref().is_none_or(|before| before.contains(name));
            if gained
                && entry.running.is_none()
                && let Some(state) = states.remove(name)
            {
                entry.state = state;
            }
        }
        tracing::debug!(owned = owned.len(), of = self.entries.len(), "runner assignment changed");
        self.owned = Some(owned);
        if let Some(t) = &self.observer {
            t.checks(self.owned_count());
        }
        self.publish_states();
    }

    /// Runs every check once, now, and returns the results in check order: `run --once`.
    pub async fn run_once(mut self, sink: &mut dyn Sink) -> (Vec<CheckResult>, Summary) {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let now = self.clock.now_ms();
        let mut names: Vec<(usize, String)> =
            self.entries.values().map(|e| (e.prepared.index, e.prepared.check.name.clone())).collect();
        names.sort();
        for (_, name) in &names {
            self.dispatch(name, now, &done_tx);
        }
        drop(done_tx);
        let mut results: HashMap<String, CheckResult> = HashMap::new();
        while let Some(done) = done_rx.recv().await {
            let name = done.name.clone();
            if let Some(result) = self.finish(done, sink) {
                results.insert(name, result);
            }
        }
        let ordered = names.into_iter().filter_map(|(_, n)| results.remove(&n)).collect();
        (ordered, self.summary)
    }

    /// The daemon loop: runs checks on their schedules until told to shut down.
    pub async fn run(mut self, mut control: mpsc::Receiver<Control>, sink: &mut dyn Sink) -> Summary {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
        let now = self.clock.now_ms();
        let names: Vec<String> = self.entries.keys().cloned().collect();
        for name in &names {
            // The first run comes at the check's phase in its interval (or its next cron
            // fire), so that checks are spread and a restart keeps each one's rhythm.
            self.schedule_next(name, now);
        }
        if let Some(t) = &self.observer {
            t.checks(self.owned_count());
        }
        let grace = loop {
            let next_due = self.queue.peek().map(|Reverse(due)| due.at_ms);
            let sleep = async {
                match next_due {
                    Some(due) => tokio::time::sleep_until(self.clock.instant_at(due)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                command = control.recv() => match command {
                    Some(Control::Reload { checks, max_per_host }) => self.reload(checks, max_per_host),
                    Some(Control::Assign { owned, states }) => self.assign(owned, states),
                    Some(Control::Shutdown { grace }) => break grace,
                    None => break Duration::ZERO,
                },
                Some(done) = done_rx.recv() => {
                    self.finish(done, sink);
                }
                () = sleep => self.dispatch_due(&done_tx),
            }
        };
        drop(done_tx);
        self.stopping.store(true, Ordering::SeqCst);
        self.drain(&mut done_rx, grace, sink).await;
        self.summary
    }

    /// Waits up to `grace` for runs in flight, recording each as it finishes.
    async fn drain(&mut self, done_rx: &mut mpsc::UnboundedReceiver<Done>, grace: Duration, sink: &mut dyn Sink) {
        let deadline = Instant::now() + grace;
        while self.entries.values().any(|e| e.running.is_some()) {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some(done)) => {
                    self.finish(done, sink);
                }
                Ok(None) => break,
                Err(_) => {
                    // Recorded, not lost: each abandoned run is a timed-out result.
                    let now = self.clock.now_ms();
                    let left: Vec<(String, u64, CheckResult)> = self
                        .entries
                        .iter()
                        .filter_map(|(name, e)| e.running.map(|run| (name.clone(), run, abandoned(&e.prepared, now))))
                        .collect();
                    tracing::warn!(runs = left.len(), "grace period over; abandoning runs still in flight");
                    self.summary.abandoned += left.len() as u64;
                    for (name, run, result) in left {
                        self.finish(Done { name, run, result: Some(result) }, sink);
                    }
                    break;
                }
            }
        }
    }

    fn dispatch_due(&mut self, done_tx: &mpsc::UnboundedSender<Done>) {
        let now = self.clock.now_ms();
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.at_ms > now {
                break;
            }
            let Some(Reverse(Due { at_ms: due, check: name, generation, .. })) = self.queue.pop() else { break };
            let Some(entry) = self.entries.get(&name) else { continue };
            if entry.generation != generation {
                continue; // replaced by a retry or a reload
            }
            if !self.owns(&name) {
                // Another runner runs it; it stays scheduled for when this one takes it over.
            } else if entry.running.is_some() {
                // Never two runs of one check at once: this one is skipped, and counted.
                self.summary.skipped += 1;
                if let Some(t) = &self.observer {
                    t.skipped(&entry.prepared.check);
                }
                tracing::warn!(check = %name, "previous run still going; skipping this one");
            } else {
                self.dispatch(&name, due, done_tx);
            }
            self.schedule_next(&name, due.max(now));
        }
    }

    fn dispatch(&mut self, name: &str, due_ms: i64, done_tx: &mpsc::UnboundedSender<Done>) {
        let Some(entry) = self.entries.get(name) else { return };
        let prepared = entry.prepared.clone();
        let run = self.next_id();
        if let Some(entry) = self.entries.get_mut(name) {
            entry.running = Some(run);
        }
        let stopping = Arc::clone(&self.stopping);
        self.summary.started += 1;
        let global = Arc::clone(&self.global);
        let executor = Arc::clone(&self.executor);
        let observer = self.observer.clone();
        let clock = self.clock;
        let done_tx = done_tx.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            let _global = global.acquire_owned().await;
            if stopping.load(Ordering::SeqCst) {
                // Shutting down: a run that has not started yet is called off.
                let _ = done_tx.send(Done { name, run, result: None });
                return;
            }
            let late = clock.now_ms().saturating_sub(due_ms).max(0);
            if let Some(t) = &observer {
                t.run_started(Duration::from_millis(u64::try_from(late).unwrap_or(0)));
            }
            // A panic in the host while running one check becomes that check's result.
            let result = match tokio::spawn(executor.run(prepared.clone())).await {
                Ok(result) => result,
                Err(e) => {
                    tracing::error!(check = %name, error = %e, "the host failed while running a check");
                    let (c, p) = (&prepared.check, &prepared.plugin);
                    let mut r = CheckResult::host_failure(&c.name, &p.label, &p.description.version, &c.target_display);
                    r.started_at_ms = clock.now_ms();
                    r
                }
            };
            if let Some(t) = &observer {
                t.run_finished();
            }
            let _ = done_tx.send(Done { name, run, result: Some(result) });
        });
    }

    /// Records a finished run: state, events, sink, telemetry, and a retry if needed.
    fn finish(&mut self, done: Done, sink: &mut dyn Sink) -> Option<CheckResult> {
        let Done { name, run, result } = done;
        let current = self.entries.get(&name).is_some_and(|e| e.running == Some(run));
        if current && let Some(entry) = self.entries.get_mut(&name) {
            entry.running = None;
        }
        let mut result = result?;
        self.summary.finished += 1;
        if !current {
            // The check was removed or replaced by a reload while this run went on (or
            // the run was abandoned): store what it found, without touching the state
            // of whatever has the name now.
            sink.record(result.clone(), Vec::new());
            return Some(result);
        }
        let now = self.clock.now_ms();
        let entry = self.entries.get_mut(&name)?;
        let policy = entry.prepared.check.timing.policy;
        let observation = entry.state.observe(result.status, result.started_at_ms.max(0), &policy);
        result.state = Some(StateInfo { kind: observation.state_type, attempt: observation.attempt });
        let events: Vec<EventRecord> = observation
            .events
            .iter()
            .map(|event| {
                log_event(&name, event, &result.summary);
                EventRecord { check: name.clone(), event: *event, summary: result.summary.clone() }
            })
            .collect();
        if let Some(t) = &self.observer {
            t.result(&entry.prepared.check, &result, observation.state_type == StateType::Hard, observation.flapping);
        }
        if observation.retry {
            let retry_interval = entry.prepared.check.timing.retry_interval;
            let generation = self.next_id();
            if let Some(entry) = self.entries.get_mut(&name) {
                entry.generation = generation;
            }
            self.push(retry_after(now, retry_interval), &name);
        }
        self.publish_state(&name);
        sink.record(result.clone(), events);
        Some(result)
    }

    fn reload(&mut self, checks: Vec<Prepared>, max_per_host: usize) {
        let now = self.clock.now_ms();
        let mut incoming: HashMap<String, Prepared> = checks.into_iter().map(|p| (p.check.name.clone(), p)).collect();
        let removed: Vec<String> = self.entries.keys().filter(|n| !incoming.contains_key(*n)).cloned().collect();
        for name in removed {
            self.entries.remove(&name);
            if let Some(t) = &self.observer {
                t.removed(&name);
            }
            tracing::info!(check = %name, "check removed by reload");
        }
        for (name, prepared) in incoming.drain() {
            match self.entries.get_mut(&name) {
                Some(entry) if entry.prepared.same_as(&prepared) => {
                    entry.prepared.index = prepared.index;
                }
                Some(entry) => {
                    // Changed: new definition and a new place in the schedule; the state
                    // of the service it watches is kept, and so is a retry under way.
                    entry.prepared = prepared;
                    let retrying = entry.state.state_type() == StateType::Soft;
                    let retry_interval = entry.prepared.check.timing.retry_interval;
                    let generation = self.next_id();
                    if let Some(entry) = self.entries.get_mut(&name) {
                        entry.generation = generation;
                    }
                    tracing::info!(check = %name, "check changed by reload; rescheduled");
                    if retrying {
                        self.push(retry_after(now, retry_interval), &name);
                    } else {
                        self.schedule_next(&name, now);
                    }
                }
                None => {
                    self.insert(prepared, CheckState::new());
                    tracing::info!(check = %name, "check added by reload");
                    self.schedule_next(&name, now);
                }
            }
        }
        // Connections open now keep the slots of the old limit until they close.
        self.executor.set_max_per_host(max_per_host);
        if let Some(t) = &self.observer {
            t.checks(self.owned_count());
        }
        self.publish_states();
    }

    fn publish_state(&self, name: &str) {
        if !self.owns(name) {
            return;
        }
        if let (Ok(mut states), Some(entry)) = (self.states.lock(), self.entries.get(name)) {
            states.insert(name.to_string(), entry.state.clone());
        }
    }

    /// Publishes the state of every entry this runner owns (`/status` shows no other).
    fn publish_states(&self) {
        if let Ok(mut states) = self.states.lock() {
            states.clear();
            for (name, entry) in self.entries.iter().filter(|(name, _)| self.owns(name)) {
                states.insert(name.clone(), entry.state.clone());
            }
        }
    }
}

/// The result recorded for a run still going when the grace period ended.
fn abandoned(prepared: &Prepared, now_ms: i64) -> CheckResult {
    CheckResult {
        check: prepared.check.name.clone(),
        plugin: prepared.plugin.label.clone(),
        plugin_version: prepared.plugin.description.version.clone(),
        target: prepared.check.target_display.clone(),
        started_at_ms: now_ms,
        duration: Duration::ZERO,
        status: prepared.check.timeout_status,
        summary: "abandoned at shutdown: still running when the grace period ended".into(),
        reason: Some(Reason::Timeout),
        metrics: Vec::new(),
        details: None,
        state: None,
    }
}

fn log_event(check: &str, event: &Event, summary: &str) {
    match event {
        Event::HardChange { from, to, .. } if event.is_recovery() => {
            tracing::info!(check, from = %from, to = %to, "RECOVERY: {summary}");
        }
        Event::HardChange { from, to, .. } => {
            tracing::warn!(check, from = %from, to = %to, "HARD {}: {summary}", to.as_plugin_word());
        }
        Event::FlappingStarted { percent, .. } => tracing::warn!(check, percent, "flapping started"),
        Event::FlappingStopped { percent, .. } => tracing::info!(check, percent, "flapping stopped"),
    }
}
