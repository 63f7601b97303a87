//! `vitals run` as a daemon: checks on their schedules until SIGINT or SIGTERM, SIGHUP
//! (or `--watch`) reloads the config, and `--listen` serves /metrics, /healthz, /status.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use super::context::{self, Failure};
use super::sinks::Writer;
use super::{Cli, RunArgs};
use crate::exit;
use crate::runtime::Runtime;
use crate::schedule::scheduler::{Clock, Control, SandboxExecutor, Scheduler, SharedStates};
use crate::serve::metrics::Telemetry;

/// How often `--watch` looks at the config file.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Runs the daemon until it is told to stop; exits 0 once everything is written.
pub async fn run(cli: &Cli, args: &RunArgs) -> Result<u8, Failure> {
    // Before anything slow: a SIGHUP or SIGTERM during start-up must not kill the process
    // with the default action.
    let signals = Signals::install().map_err(|e| Failure::internal(format!("cannot install signal handlers: {e}")))?;
    let plan = context::load_plan(cli)?;
    let runtime = context::runtime(cli)?;
    let prepared = context::prepare(&runtime, &plan, &args.tags).await?;
    let notifiers = context::notifiers(&runtime, &plan, &prepared).await?;
    let store = context::open_store(cli)?;
    let states = super::run::history_states(&prepared, &*store);
    let telemetry = Arc::new(Telemetry::new());
    let checks = prepared.len();
    let scheduler = Scheduler::new(
        prepared,
        states,
        plan.max_per_host,
        usize::from(args.concurrency),
        Clock::system(),
        Arc::new(SandboxExecutor(Arc::clone(&runtime))),
        Some(Arc::clone(&telemetry)),
    );
    let (stop_server, server_stopped) = watch::channel(false);
    let server = match args.listen {
        Some(addr) => Some(start_server(addr, &telemetry, scheduler.states(), server_stopped).await?),
        None => None,
    };
    let (control, control_rx) = mpsc::channel(8);
    let reloader = Reloader {
        cli_config: cli.config.clone(),
        tags: args.tags.clone(),
        runtime,
        control: control.clone(),
        one_at_a_time: Arc::new(tokio::sync::Mutex::new(())),
    };
    tokio::spawn(signals.serve(reloader.clone(), args.grace));
    if args.watch {
        tokio::spawn(watch_file(reloader));
    }
    start_housekeeping(cli, &plan, stop_server.subscribe());
    tracing::info!(checks, config = %cli.config.display(), "vitals is running");
    let mut writer = Writer::start(store);
    writer.notify = notifiers.as_ref().map(|n| n.sender());
    let summary = scheduler.run(control_rx, &mut writer).await;
    let written = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap_or_else(|_| Err("the writer thread panicked".into()));
    if let Some(notifiers) = notifiers {
        notifiers.finish(args.grace).await;
    }
    let written = written.map_err(|e| Failure::store(format!("{e}\nsome results were not stored")))?;
    let _ = stop_server.send(true);
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
    Ok(exit::OK)
}

/// Seals finished hours and prunes old raw results every few minutes, on a thread of its
/// own with its own connection, until `stopped`. Failures are logged and retried.
fn start_housekeeping(cli: &Cli, plan: &crate::plan::Plan, stopped: watch::Receiver<bool>) {
    let cadences = crate::housekeeping::cadences(plan);
    let retention = plan.retention;
    let path = context::db_path(cli);
    let spawned = std::thread::Builder::new().name("vitals-housekeeping".into()).spawn(move || {
        let mut store = match crate::store::open(&path) {
            Ok(store) => store,
            Err(e) => {
                tracing::warn!(error = %e, "store housekeeping cannot open the store; old results are not pruned");
                return;
            }
        };
        loop {
            if let Err(e) = crate::housekeeping::run(
                store.as_mut(),
                &cadences,
                retention,
                crate::schedule::scheduler::wall_clock_ms(),
            ) {
                tracing::warn!(error = %e, "store housekeeping failed; retrying later");
            }
            let deadline = std::time::Instant::now() + crate::housekeeping::EVERY;
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

async fn start_server(
    addr: std::net::SocketAddr,
    telemetry: &Arc<Telemetry>,
    states: SharedStates,
    mut stopped: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, Failure> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::unavailable(format!("cannot listen on {addr}: {e}")))?;
    let status: crate::serve::StatusFn = Arc::new(move || {
        let states = states.lock().map(|s| s.clone()).unwrap_or_default();
        let sorted: std::collections::BTreeMap<_, _> = states.into_iter().collect();
        serde_json::json!({ "checks": sorted })
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

/// Reloads the configuration on request; a bad new config is refused and logged, and
/// the old one keeps running.
#[derive(Clone)]
struct Reloader {
    cli_config: PathBuf,
    tags: Vec<String>,
    runtime: Arc<Runtime>,
    control: mpsc::Sender<Control>,
    /// SIGHUP and --watch may fire together: reloads run one at a time, in order.
    one_at_a_time: Arc<tokio::sync::Mutex<()>>,
}

impl Reloader {
    async fn reload(&self) {
        let _turn = self.one_at_a_time.lock().await;
        let plan = match crate::config::load(&self.cli_config) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!("configuration not reloaded, the running one stays:\n{e}");
                return;
            }
        };
        let selected: Vec<_> = plan.select(&self.tags).collect();
        match crate::schedule::prepare(&self.runtime, &plan, selected).await {
            Ok(checks) => {
                tracing::info!(checks = checks.len(), "configuration reloaded");
                let _ = self.control.send(Control::Reload { checks, max_per_host: plan.max_per_host }).await;
            }
            Err(problems) => {
                let e = crate::config::ConfigError::Invalid(problems);
                tracing::error!("configuration not reloaded, the running one stays:\n{e}");
            }
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
        std::process::exit(i32::from(exit::SOFTWARE));
    }
}

async fn watch_file(reloader: Reloader) {
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut last: Option<SystemTime> = modified(&reloader.cli_config);
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let now = modified(&reloader.cli_config);
        if now != last {
            last = now;
            reloader.reload().await;
        }
        if reloader.control.is_closed() {
            return;
        }
    }
}
