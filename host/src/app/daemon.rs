//! The daemon: checks on their schedules until SIGINT or SIGTERM; SIGHUP (or `--watch`)
//! reloads the whole configuration (checks, `max_per_host`, notifiers, retention and
//! housekeeping cadences) or refuses the new file whole; `--listen` serves /metrics,
//! /healthz and /status; a thread of its own seals and prunes the store.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use super::context::{Context, load_notifiers, notifiers, prepare_tagged, start_notifiers};
use super::notify::NotifyHandle;
use super::run::history_states;
use super::runners::{Combining, Roster, Sharing, for_location, start_membership};
use super::sinks::{NotifySlot, Writer};
use super::{Failure, prepare};
use crate::config::ConfigError;
use crate::plan::{Diagnostic, Plan};
use crate::report::rollup::Cadence;
use crate::runtime::Runtime;
use crate::schedule::scheduler::Settings;
use crate::schedule::{Clock, Control, Prepared, SandboxExecutor, Scheduler, SharedStates, wall_clock_ms};
pub use crate::serve::metrics::Detail;
use crate::serve::metrics::{Place, Telemetry};
use crate::store::{Buffered, MAX_BUFFERED_RESULTS, StoreError, StoreSpec};

/// How often `--watch` looks at the config file.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// The exit code of a second SIGINT or SIGTERM (the CLI's "internal error", 70).
const FORCED_EXIT: i32 = 70;

/// How the daemon runs (the flags of `vitals run`).
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Only checks with one of these tags (all when empty).
    pub tags: Vec<String>,
    /// Most runs at once.
    pub concurrency: usize,
    /// Where to serve /metrics, /healthz and /status.
    pub listen: Option<SocketAddr>,
    /// Reload when the config file changes.
    pub watch: bool,
    /// How long runs in flight may take to finish at shutdown.
    pub grace: Duration,
    /// The opt-in per-check series of `/metrics`.
    pub detail: Detail,
    /// Threads doing the checks' network I/O (`--io-threads`); `None`: by the schedule's
    /// rate ([`io_threads_for_rate`]).
    pub io_threads: Option<usize>,
    /// How this runner shares the checks with the other runners of a shared store (its id,
    /// `--location`, heartbeat); unused with a store that is not shared.
    pub sharing: Sharing,
    /// The local buffer of results while the shared store is unreachable (`--buffer`);
    /// `None`: `vitals-buffer.db` beside the config file.
    pub buffer: Option<PathBuf>,
}

/// What a run of the daemon did, for its last log line.
#[derive(Debug, Clone, Copy)]
pub struct DaemonSummary {
    /// Results written to the store.
    pub written: u64,
}

/// From this many runs a second on, the daemon gives every core an I/O thread: runs then
/// overlap, and a second thread finds work waiting instead of being woken for each
/// (measured at 1,000 and 1,667 checks/s in docs/PERFORMANCE.md §8).
pub const SPREAD_IO_FROM_RATE: f64 = 250.0;

/// The I/O threads for running `prepared` on their schedules: one per core at
/// [`SPREAD_IO_FROM_RATE`] runs a second or more, one below.
pub fn io_threads_for_rate(prepared: &[Prepared]) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    io_threads_for_intervals(prepared.iter().map(|p| p.check.timing.interval), cores)
}

/// [`io_threads_for_rate`] of checks with these intervals on `cores` cores.
fn io_threads_for_intervals(intervals: impl Iterator<Item = Duration>, cores: usize) -> usize {
    let rate: f64 = intervals.map(|i| 1.0 / i.as_secs_f64().max(0.001)).sum();
    // A sum of tenths is not exact: 2,500 checks every 10 s are 250 a second.
    if rate >= SPREAD_IO_FROM_RATE - 1e-6 { cores.max(1) } else { 1 }
}

/// Runs the daemon until it is told to stop; returns once everything is written.
pub async fn run(context: &Context, options: &DaemonOptions) -> Result<DaemonSummary, Failure> {
    // Before anything slow: a SIGHUP or SIGTERM during start-up must not kill the process
    // with the default action.
    let signals = Signals::install().map_err(|e| Failure::internal(format!("cannot install signal handlers: {e}")))?;
    let plan = context.load_plan()?;
    let runtime = context.runtime()?;
    let location = options.sharing.location.clone();
    let prepared = for_location(prepare_tagged(&runtime, &plan, &options.tags).await?, location.as_deref());
    runtime.engine().spread_io(options.io_threads.unwrap_or_else(|| io_threads_for_rate(&prepared)));
    let handle = notifiers(&runtime, &plan, &prepared).await?;
    let spec = context.store_spec();
    let (store, reader) = tokio::task::spawn_blocking({
        let spec = spec.clone();
        move || Ok::<_, StoreError>((crate::store::open(&spec)?, crate::store::open(&spec)?))
    })
    .await
    .map_err(|e| Failure::internal(format!("the store opener failed: {e}")))?
    .map_err(|e| Failure::store(e.to_string()))?;
    let shared = store.shared();
    let states = history_states(&prepared, &*store);
    let store: Box<dyn crate::store::ResultStore> = if shared {
        let path = options.buffer.clone().unwrap_or_else(|| context.db_path().with_file_name("vitals-buffer.db"));
        Box::new(Buffered::new(store, &path, MAX_BUFFERED_RESULTS).map_err(|e| {
            Failure::store(format!(
                "{e}
  = help: the local buffer of a runner sharing a store is --buffer PATH"
            ))
        })?)
    } else {
        store
    };
    let telemetry = Arc::new(Telemetry::with_detail(options.detail).at_location(location.as_deref()));
    let checks = prepared.len();
    let roster = Roster::default();
    roster.set(&prepared);
    let settings = Settings {
        max_per_host: plan.max_per_host,
        concurrency: options.concurrency,
        clock: Clock::system(),
        executor: Arc::new(Combining {
            sandbox: SandboxExecutor(Arc::clone(&runtime)),
            store: Arc::new(Mutex::new(reader)),
        }),
        observer: Some(Arc::clone(&telemetry) as _),
    };
    let scheduler = Scheduler::new(prepared, states, settings);
    let (stop_server, server_stopped) = watch::channel(false);
    let (control, control_rx) = mpsc::channel(8);
    // Whether this runner seals and prunes the store: always alone, one of them when shared.
    let housekeeper = Arc::new(AtomicBool::new(true));
    let membership = if shared {
        let (sharing, roster, sender, stopped) =
            (options.sharing.clone(), roster.clone(), control.clone(), stop_server.subscribe());
        let keeper = Arc::clone(&housekeeper);
        let (first, thread) = tokio::task::spawn_blocking({
            let spec = spec.clone();
            move || start_membership(&spec, sharing, roster, sender, keeper, stopped)
        })
        .await
        .map_err(|e| Failure::internal(format!("the membership thread failed: {e}")))?
        .map_err(|e| Failure::store(e.to_string()))?;
        // Queued before the loop starts: the first thing the scheduler reads.
        let _ = control.send(first).await;
        Some(thread)
    } else {
        None
    };
    let server = match options.listen {
        Some(addr) => {
            let here = location.clone().unwrap_or_default();
            Some(start_server(addr, &telemetry, scheduler.states(), (roster.clone(), here), server_stopped).await?)
        }
        None => None,
    };
    let slot: NotifySlot = Arc::new(RwLock::new(handle.as_ref().map(NotifyHandle::sender)));
    let upkeep = Arc::new(Mutex::new(Upkeep::of(&plan)));
    let reloader = Reloader {
        config: context.config.clone(),
        tags: options.tags.clone(),
        location,
        roster,
        runtime,
        control: control.clone(),
        notify: Arc::new(tokio::sync::Mutex::new(Notify { slot: Arc::clone(&slot), handle })),
        upkeep: Arc::clone(&upkeep),
        grace: options.grace,
    };
    tokio::spawn(signals.serve(reloader.clone(), options.grace));
    if options.watch {
        tokio::spawn(watch_file(reloader.clone()));
    }
    let damage = Damage { found: Arc::new(Mutex::new(None)), control: control.clone(), grace: options.grace };
    start_housekeeping(spec.clone(), upkeep, housekeeper, stop_server.subscribe(), damage.clone());
    tracing::info!(checks, config = %context.config.display(), "vitals is running");
    let mut writer = Writer::start(store, Arc::clone(&slot), Arc::clone(&telemetry)).on_damage({
        let damage = damage.clone();
        move || damage.report("the database is damaged; the writer stopped".into())
    });
    let summary = scheduler.run(control_rx, &mut writer).await;
    // The writer's queue holds the last results: they are written before the notifiers
    // are told to finish, so that every event queued is one whose result is stored.
    let written = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap_or_else(|_| Err("the writer thread panicked".into()));
    reloader.finish_notifiers(options.grace).await;
    let written = written.map_err(|e| Failure::store(format!("{e}\nsome results were not stored")))?;
    if let Some(what) = damage.found() {
        return Err(Failure::store(format!("{what} ({}); run `vitals store check`", spec.shown())));
    }
    let _ = stop_server.send(true);
    if let Some(thread) = membership {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    if let Some(server) = server {
        let _ = server.await;
    }
    tracing::info!(
        started = summary.started,
        finished = summary.finished,
        skipped = summary.skipped,
        abandoned = summary.abandoned,
        written,
        "vitals stopped"
    );
    Ok(DaemonSummary { written })
}

/// Where the threads that write to the store say the database is damaged: the first
/// report stops the daemon, which then exits 74 with it.
#[derive(Clone)]
struct Damage {
    found: Arc<Mutex<Option<String>>>,
    control: mpsc::Sender<Control>,
    grace: Duration,
}

impl Damage {
    /// Records `what` (the first report wins) and asks the scheduler to stop. Called from
    /// threads outside the async runtime.
    fn report(&self, what: String) {
        let mut found = self.found.lock().unwrap_or_else(PoisonError::into_inner);
        if found.is_none() {
            *found = Some(what);
            let _ = self.control.blocking_send(Control::Shutdown { grace: self.grace });
        }
    }

    fn found(&self) -> Option<String> {
        self.found.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// What the housekeeping thread works with; a reload replaces it whole.
#[derive(Debug, Clone)]
struct Upkeep {
    /// Each check's nominal interval and the like, to seal its hours.
    cadences: HashMap<String, Cadence>,
    /// How long raw results are kept.
    retention: Duration,
}

impl Upkeep {
    fn of(plan: &Plan) -> Upkeep {
        Upkeep { cadences: super::housekeeping::cadences(plan), retention: plan.retention }
    }
}

/// Seals finished hours and prunes old raw results every few minutes, on a thread of its
/// own with its own connection, until `stopped`. Each round reads the settings in force,
/// so a reload applies from the next round. Failures are logged and retried. A round runs
/// only while `housekeeper` is set: of the runners sharing a store, one does it.
fn start_housekeeping(
    spec: StoreSpec,
    upkeep: Arc<Mutex<Upkeep>>,
    housekeeper: Arc<AtomicBool>,
    stopped: watch::Receiver<bool>,
    damage: Damage,
) {
    let spawned = std::thread::Builder::new().name("vitals-housekeeping".into()).spawn(move || {
        let mut store = match crate::store::open(&spec) {
            Ok(store) => store,
            Err(e) => {
                tracing::warn!(error = %e, "store housekeeping cannot open the store; old results are not pruned");
                return;
            }
        };
        loop {
            let Upkeep { cadences, retention } = upkeep.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let outcome = if housekeeper.load(Ordering::Relaxed) {
                super::housekeeping::run(store.as_mut(), &cadences, retention, wall_clock_ms())
            } else {
                tracing::debug!("another runner does the store's housekeeping");
                Ok(Default::default())
            };
            match outcome {
                Err(e @ StoreError::Corrupt { .. }) => {
                    // No more writing into a damaged database: stop, and stop the daemon.
                    tracing::error!(error = %e, "the database is damaged; housekeeping stops");
                    damage.report(e.to_string());
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "store housekeeping failed; retrying later"),
                Ok(_) => {}
            }
            let deadline = std::time::Instant::now() + super::housekeeping::EVERY;
            while std::time::Instant::now() < deadline {
                if *stopped.borrow() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start store housekeeping");
    }
}

/// Serves `/metrics`, `/healthz` and `/status` on `addr`. `/status` has the state of each
/// entry this runner runs, with its `check` and its `location` (see `serve::metrics::Place`),
/// read off `roster` on a runner in `here`.
async fn start_server(
    addr: SocketAddr,
    telemetry: &Arc<Telemetry>,
    states: SharedStates,
    (roster, here): (Roster, String),
    mut stopped: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, Failure> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::unavailable(format!("cannot listen on {addr}: {e}")))?;
    let status: crate::serve::StatusFn = Arc::new(move || {
        let states = states.lock().map(|s| s.clone()).unwrap_or_default();
        let entries = roster.entries();
        let places: HashMap<&str, Place> =
            entries.iter().map(|p| (p.check.name.as_str(), Place::of(&p.check, &here))).collect();
        let sorted: std::collections::BTreeMap<String, serde_json::Value> = states
            .into_iter()
            .map(|(name, state)| {
                let mut entry = serde_json::to_value(&state).unwrap_or_default();
                if let (Some(place), Some(fields)) = (places.get(name.as_str()), entry.as_object_mut()) {
                    fields.insert("check".into(), place.check.clone().into());
                    if !place.location.is_empty() {
                        fields.insert("location".into(), place.location.clone().into());
                    }
                }
                (name, entry)
            })
            .collect();
        match here.as_str() {
            "" => serde_json::json!({ "checks": sorted }),
            location => serde_json::json!({ "location": location, "checks": sorted }),
        }
    });
    let telemetry = Arc::clone(telemetry);
    tracing::info!(%addr, "serving /metrics, /healthz and /status");
    Ok(tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        if let Err(e) = crate::serve::serve(listener, telemetry, status, shutdown).await {
            tracing::error!(error = %e, "the HTTP endpoint failed");
        }
    }))
}

/// The notifiers in force: the sender the writer uses, and the handle to finish them.
struct Notify {
    slot: NotifySlot,
    handle: Option<NotifyHandle>,
}

/// Reloads the configuration on request. The new file is applied whole (checks,
/// `max_per_host`, notifiers, retention, housekeeping cadences) or refused whole, with
/// its full diagnostic logged, and the running one stays.
#[derive(Clone)]
struct Reloader {
    config: PathBuf,
    tags: Vec<String>,
    /// This runner's `--location`: which series of the checks with `locations` it runs.
    location: Option<String>,
    /// The entries the membership thread assigns, replaced at each reload.
    roster: Roster,
    runtime: Arc<Runtime>,
    control: mpsc::Sender<Control>,
    /// Also the lock that makes reloads run one at a time (SIGHUP and --watch may fire
    /// together).
    notify: Arc<tokio::sync::Mutex<Notify>>,
    upkeep: Arc<Mutex<Upkeep>>,
    /// How long replaced notifiers may take to deliver what they hold.
    grace: Duration,
}

impl Reloader {
    async fn reload(&self) {
        let mut notify = self.notify.lock().await;
        let plan = match crate::config::load(&self.config) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!("configuration not reloaded, the running one stays:\n{e}");
                return;
            }
        };
        let selected = match plan.tagged(&self.tags) {
            Ok(selected) => selected,
            Err(e) => {
                tracing::error!("configuration not reloaded, the running one stays: {e}; {}", e.help());
                return;
            }
        };
        let checks = prepare(&self.runtime, &plan, selected).await;
        let specs = load_notifiers(&self.runtime, &plan).await;
        let (checks, specs) = match (checks, specs) {
            (Ok(checks), Ok(specs)) => (checks, specs),
            (checks, specs) => {
                let mut problems: Vec<Diagnostic> = checks.err().unwrap_or_default();
                problems.extend(specs.err().unwrap_or_default());
                let e = ConfigError::Invalid(problems);
                tracing::error!("configuration not reloaded, the running one stays:\n{e}");
                return;
            }
        };
        let checks = for_location(checks, self.location.as_deref());
        self.roster.set(&checks);
        let handle = specs.map(|specs| start_notifiers(&self.runtime, specs, &checks));
        tracing::info!(
            checks = checks.len(),
            notifiers = plan.notifiers.len(),
            retention_s = plan.retention.as_secs(),
            "configuration reloaded"
        );
        if self.control.send(Control::Reload { checks, max_per_host: plan.max_per_host }).await.is_err() {
            // Shutting down: nothing to apply the rest to.
            if let Some(handle) = handle {
                handle.finish(Duration::ZERO).await;
            }
            return;
        }
        *self.upkeep.lock().unwrap_or_else(PoisonError::into_inner) = Upkeep::of(&plan);
        *notify.slot.write().unwrap_or_else(PoisonError::into_inner) = handle.as_ref().map(NotifyHandle::sender);
        if let Some(old) = std::mem::replace(&mut notify.handle, handle) {
            // The old notifiers deliver what they hold, without delaying anything else.
            let grace = self.grace;
            tokio::spawn(async move { old.finish(grace).await });
        }
    }

    /// At shutdown: stops feeding the notifiers and lets them deliver within `grace`.
    async fn finish_notifiers(&self, grace: Duration) {
        let mut notify = self.notify.lock().await;
        notify.slot.write().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(handle) = notify.handle.take() {
            handle.finish(grace).await;
        }
    }
}

/// The daemon's signal handlers, installed first thing.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// SIGHUP reloads; the first SIGINT or SIGTERM stops gracefully, a second one stops
    /// at once.
    async fn serve(mut self, reloader: Reloader, grace: Duration) {
        loop {
            tokio::select! {
                _ = self.term.recv() => break,
                _ = self.int.recv() => break,
                _ = self.hup.recv() => reloader.reload().await,
            }
        }
        tracing::info!(grace = ?grace, "stopping: no new runs; waiting for runs in flight");
        let _ = reloader.control.send(Control::Shutdown { grace }).await;
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        tracing::warn!("second signal: exiting without waiting for runs in flight");
        std::process::exit(FORCED_EXIT);
    }
}

async fn watch_file(reloader: Reloader) {
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut last: Option<SystemTime> = modified(&reloader.config);
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let now = modified(&reloader.config);
        if now != last {
            last = now;
            reloader.reload().await;
        }
        if reloader.control.is_closed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_threads_spread_over_the_cores_from_250_checks_a_second() {
        let every = |secs: u64, n: usize| std::iter::repeat_n(Duration::from_secs(secs), n);
        assert_eq!(io_threads_for_intervals(every(20, 1_000), 2), 1, "50/s: one thread");
        assert_eq!(io_threads_for_intervals(every(10, 2_490), 2), 1, "249/s: one thread");
        assert_eq!(io_threads_for_intervals(every(10, 2_500), 2), 2, "250/s: a thread a core");
        assert_eq!(io_threads_for_intervals(every(60, 100_000), 4), 4);
        assert_eq!(io_threads_for_intervals(every(10, 10_000), 0), 1, "never no thread");
        assert_eq!(io_threads_for_intervals(std::iter::empty(), 2), 1);
        // A zero interval counts as a thousand runs a second, not infinitely many.
        assert_eq!(io_threads_for_intervals(every(0, 1), 2), 2);
    }
    use crate::runtime::ComponentCache;

    fn tcp_check(name: &str) -> String {
        format!("[[check]]\nname = \"{name}\"\nplugin = \"tcp\"\ntarget = \"127.0.0.1:1\"\ninterval = \"30s\"\n")
    }

    fn reloader(config: PathBuf, control: mpsc::Sender<Control>) -> Reloader {
        let runtime = Arc::new(Runtime::new(ComponentCache::disabled()).expect("runtime"));
        Reloader {
            config,
            tags: Vec::new(),
            location: None,
            roster: Roster::default(),
            runtime,
            control,
            notify: Arc::new(tokio::sync::Mutex::new(Notify { slot: Arc::new(RwLock::new(None)), handle: None })),
            upkeep: Arc::new(Mutex::new(Upkeep {
                cadences: HashMap::new(),
                retention: Duration::from_secs(35 * 86_400),
            })),
            grace: Duration::ZERO,
        }
    }

    #[tokio::test]
    async fn a_reload_applies_checks_max_per_host_retention_and_cadences_together() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("checks.toml");
        let text = format!(
            "[defaults]\nmax_per_host = 2\n\n{}{}[store]\nretention = \"3d\"\n",
            tcp_check("a"),
            tcp_check("b")
        );
        std::fs::write(&path, text).expect("write config");
        let (tx, mut rx) = mpsc::channel(8);
        let reloader = reloader(path, tx);
        reloader.reload().await;
        match rx.try_recv() {
            Ok(Control::Reload { checks, max_per_host }) => {
                let names: Vec<&str> = checks.iter().map(|p| p.check.name.as_str()).collect();
                assert_eq!(names, ["a", "b"]);
                assert_eq!(max_per_host, 2);
            }
            _ => panic!("the scheduler was not told"),
        }
        let upkeep = reloader.upkeep.lock().expect("upkeep").clone();
        assert_eq!(upkeep.retention, Duration::from_secs(3 * 86_400));
        let mut cadenced: Vec<&String> = upkeep.cadences.keys().collect();
        cadenced.sort();
        assert_eq!(cadenced, ["a", "b"]);
        assert_eq!(upkeep.cadences["a"].interval, Duration::from_secs(30));
    }

    #[tokio::test]
    async fn a_refused_reload_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("checks.toml");
        // The checks are fine; the store table is not: the whole file is refused.
        std::fs::write(&path, format!("{}[store]\nretention = \"1m\"\n", tcp_check("a"))).expect("write config");
        let (tx, mut rx) = mpsc::channel(8);
        let reloader = reloader(path, tx);
        reloader.reload().await;
        assert!(rx.try_recv().is_err(), "the scheduler was told of a refused file");
        let upkeep = reloader.upkeep.lock().expect("upkeep").clone();
        assert_eq!(upkeep.retention, Duration::from_secs(35 * 86_400));
        assert!(upkeep.cadences.is_empty());
    }
}
