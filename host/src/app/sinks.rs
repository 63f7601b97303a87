//! Where the scheduler's finished runs go: collected and written in one transaction
//! (`run --once`), or written by a background writer as they come (the daemon), which
//! holds a bounded number of them while the store fails and never lets one result the
//! store refuses hold up the others.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::notify::NotifySender;
use crate::result::{CheckResult, EventRecord, Status};
use crate::runtime::output::one_line;
use crate::schedule::Sink;
use crate::serve::metrics::Telemetry;
use crate::store::{ResultStore, StoreError};

/// Where the daemon's events go: the sender of the notifiers in force, swapped whole by a
/// reload (`None` while no notifier is configured).
pub type NotifySlot = Arc<RwLock<Option<NotifySender>>>;

/// Collects a run's results and events, to be written together, ticking a progress
/// bar when there is one.
#[derive(Default)]
pub struct Collect {
    /// The results, in the order they finished.
    pub results: Vec<CheckResult>,
    /// The events they caused.
    pub events: Vec<EventRecord>,
    /// Shown on stderr while the run goes on.
    pub progress: Option<indicatif::ProgressBar>,
    /// Where events are sent, when notifiers are configured.
    pub notify: Option<NotifySender>,
}

impl Collect {
    /// A collector with a progress bar of `total` checks on stderr.
    pub fn with_progress(total: usize) -> Collect {
        let bar = indicatif::ProgressBar::new(total as u64);
        let style = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} checks {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        Collect { progress: Some(bar), ..Collect::default() }
    }
}

impl Sink for Collect {
    fn record(&mut self, result: CheckResult, events: Vec<EventRecord>) {
        tracing::info!(check = %result.check, status = %result.status, "{}", result.summary);
        if let Some(bar) = &self.progress {
            bar.inc(1);
            if bar.position() == bar.length().unwrap_or(0) {
                bar.finish_and_clear();
            }
        }
        notify(self.notify.as_ref(), &events);
        self.results.push(result);
        self.events.extend(events);
    }
}

/// Hands `events` to the notifiers; those of a location's series (`web@eu`) are stored but
/// not sent: the check's own combined state is what is notified, once, whichever runner
/// made it.
fn notify(sender: Option<&NotifySender>, events: &[EventRecord]) {
    if let Some(sender) = sender {
        for event in events.iter().filter(|e| !e.check.contains(crate::plan::LOCATION_SEPARATOR)) {
            sender.send(event);
        }
    }
}

/// Results the daemon's writer holds at most: those queued for its thread plus the batch it
/// retries while the store fails (a full disk, a long lock). 100,000 is over 16 hours of
/// 100 checks a minute. A result that arrives past it, or past [`MAX_PENDING_BYTES`], is
/// dropped: counted in `vitals_results_dropped_total` and logged. Its events still reach
/// the notifiers.
pub const MAX_PENDING_RESULTS: usize = 100_000;

/// Bytes the pending results may hold, text included: 256 MiB. A result can be about 20 KiB
/// (the runtime cuts details to 16 KiB), so the count alone could let the queue use 2 GiB.
pub const MAX_PENDING_BYTES: usize = 256 << 20;

/// At most one log line per this long about dropped results; the rest are counted in it.
const DROP_LOG_EVERY: Duration = Duration::from_secs(10);

/// How long the writer gathers results after the first of a batch before it writes them:
/// one transaction per quarter second at most, not one per result. At 50 checks a second
/// a transaction per result rewrote the same few 16 KiB pages into the WAL fifty times a
/// second (docs/PERFORMANCE.md §2); a result waits at most this long to be readable.
const GATHER: Duration = Duration::from_millis(250);

/// A batch is written as soon as it holds this many results, gathering or not.
const MAX_BATCH: usize = 5_000;

/// The pause before the first retry of a failed write, doubled up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// The longest summary of the `unknown` result stored for one the store refused, and the
/// longest piece of the refused result quoted in its details.
const STAND_IN_SUMMARY: usize = 300;
const STAND_IN_QUOTE: usize = 1024;

/// A finished run on its way to the store: the result and the events it caused.
type Item = (CheckResult, Vec<EventRecord>);

/// Writes results on a thread of its own, batching whatever has queued up into one
/// transaction, so the scheduler never waits on the disk.
pub struct Writer {
    /// Where events are sent.
    notify: NotifySlot,
    tx: Option<mpsc::Sender<Item>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<u64, (StoreError, usize)>>>,
}

/// What the scheduler's side and the writer thread both see.
struct Shared {
    bounds: Bounds,
    /// Results given to the writer and not yet written or dropped, and their bytes.
    results: AtomicUsize,
    bytes: AtomicUsize,
    drops: Drops,
    /// Called once when the database turns out to be damaged: the writer has stopped.
    on_damage: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

/// How much the writer may hold.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    results: usize,
    bytes: usize,
}

impl Shared {
    /// Takes a result of `weight` bytes into the pending count, unless that is full. The
    /// one caller (the scheduler's sink) adds; the writer thread only takes away.
    fn admit(&self, weight: usize) -> bool {
        let results = self.results.load(Ordering::Acquire);
        let fits = results < self.bounds.results
            && (results == 0 || self.bytes.load(Ordering::Acquire).saturating_add(weight) <= self.bounds.bytes);
        if fits {
            self.results.fetch_add(1, Ordering::AcqRel);
            self.bytes.fetch_add(weight, Ordering::AcqRel);
        }
        fits
    }

    /// Takes results that were written or dropped out of the pending count.
    fn release<'a>(&self, items: impl IntoIterator<Item = (&'a CheckResult, &'a [EventRecord])>) {
        for (result, events) in items {
            self.results.fetch_sub(1, Ordering::AcqRel);
            self.bytes.fetch_sub(weight(result, events), Ordering::AcqRel);
        }
    }
}

/// About how many bytes a pending result holds.
fn weight(result: &CheckResult, events: &[EventRecord]) -> usize {
    let text = [&result.check, &result.plugin, &result.plugin_version, &result.target, &result.summary]
        .iter()
        .map(|s| s.len())
        .sum::<usize>()
        + result.details.as_ref().map_or(0, String::len);
    let metrics: usize = result
        .metrics
        .iter()
        .map(|m| {
            std::mem::size_of_val(m)
                + m.name.len()
                + m.unit.len()
                + m.warn.as_ref().map_or(0, String::len)
                + m.crit.as_ref().map_or(0, String::len)
        })
        .sum();
    let events: usize = events.iter().map(|e| std::mem::size_of_val(e) + e.check.len() + e.summary.len()).sum();
    std::mem::size_of::<Item>() + text + metrics + events
}

/// Results that were not stored: each one counted in `/metrics`, and told to the log in at
/// most one line per [`DROP_LOG_EVERY`], so that a long outage neither floods the log nor
/// drops anything silently.
struct Drops {
    telemetry: Arc<Telemetry>,
    log: Mutex<DropLog>,
}

#[derive(Default)]
struct DropLog {
    /// Dropped since the last line.
    unlogged: u64,
    /// When the last line was written.
    last: Option<Instant>,
}

impl Drops {
    /// Counts `n` more dropped results, for the reason `why`.
    fn add(&self, n: u64, why: &str) {
        self.telemetry.record_results_dropped(n);
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.unlogged += n;
        if log.last.is_none_or(|at| at.elapsed() >= DROP_LOG_EVERY) {
            tracing::error!(dropped = log.unlogged, "results dropped, not stored: {why}");
            log.unlogged = 0;
            log.last = Some(Instant::now());
        }
    }

    /// Logs the drops not told yet: when writes succeed again, and at the end.
    fn flush(&self) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.unlogged > 0 {
            tracing::error!(dropped = log.unlogged, "more results were dropped, not stored, since the last report");
            log.unlogged = 0;
            log.last = Some(Instant::now());
        }
    }
}

impl Writer {
    /// Starts the writer thread over `store`. A write that fails because of the database
    /// (a long lock, a full disk) is retried with a growing pause, and the results that
    /// arrive meanwhile join the same batch, up to [`MAX_PENDING_RESULTS`] and
    /// [`MAX_PENDING_BYTES`]; past them new results are dropped and counted in `telemetry`.
    /// A write refused because of its data is split to find the results the store refuses,
    /// and each of those is stored as an `unknown` result saying why.
    pub fn start(store: Box<dyn ResultStore>, notify: NotifySlot, telemetry: Arc<Telemetry>) -> Writer {
        Writer::with_bounds(store, notify, telemetry, Bounds { results: MAX_PENDING_RESULTS, bytes: MAX_PENDING_BYTES })
    }

    fn with_bounds(
        store: Box<dyn ResultStore>,
        notify: NotifySlot,
        telemetry: Arc<Telemetry>,
        bounds: Bounds,
    ) -> Writer {
        let (tx, rx) = mpsc::channel::<Item>();
        let shared = Arc::new(Shared {
            bounds,
            results: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            drops: Drops { telemetry, log: Mutex::new(DropLog::default()) },
            on_damage: Mutex::new(None),
        });
        let thread = std::thread::Builder::new()
            .name("vitals-writer".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || write_until_closed(store, &rx, &shared)
            })
            .ok();
        Writer { notify, tx: Some(tx), shared, thread }
    }

    /// What to do when the database turns out to be damaged (a SQLite corruption error on
    /// any write): the writer stops writing into it at once, and `then` is called (the
    /// daemon stops, exit 74).
    pub fn on_damage(self, then: impl FnOnce() + Send + 'static) -> Writer {
        *self.shared.on_damage.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(then));
        self
    }

    /// Stops accepting results, writes what is queued, and says how many were written.
    pub fn finish(mut self) -> Result<u64, String> {
        drop(self.tx.take());
        let outcome = match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Ok(n))) => Ok(n),
            Some(Ok(Err((e, lost)))) => Err(format!("{e}; {lost} results could not be stored")),
            Some(Err(_)) => Err("the writer thread panicked".into()),
            None => Err("the writer thread could not be started".into()),
        };
        self.shared.drops.flush();
        outcome
    }
}

impl Sink for Writer {
    fn record(&mut self, result: CheckResult, events: Vec<EventRecord>) {
        tracing::info!(check = %result.check, status = %result.status, "{}", result.summary);
        if !events.is_empty() {
            // A poisoned slot still holds a usable sender: it is only ever replaced whole.
            let slot = self.notify.read().unwrap_or_else(PoisonError::into_inner);
            notify(slot.as_ref(), &events);
        }
        if !self.shared.admit(weight(&result, &events)) {
            self.shared.drops.add(
                1,
                &format!(
                    "the queue of results waiting for the store is full (at most {} results or {} MiB)",
                    self.shared.bounds.results,
                    self.shared.bounds.bytes >> 20
                ),
            );
            return;
        }
        let sent = match &self.tx {
            Some(tx) => tx.send((result, events)).map_err(|mpsc::SendError(item)| item),
            None => Err((result, events)),
        };
        if let Err((result, events)) = sent {
            self.shared.release([(&result, events.as_slice())]);
            self.shared.drops.add(1, "the result writer has stopped");
        }
    }
}

/// The writer thread: takes what has queued, writes it, and retries while the database
/// fails, until the channel closes and the batch is empty (or one last try failed).
fn write_until_closed(
    mut store: Box<dyn ResultStore>,
    rx: &mpsc::Receiver<Item>,
    shared: &Shared,
) -> Result<u64, (StoreError, usize)> {
    let mut written = 0u64;
    let mut batch = Batch::default();
    let mut last_error: Option<StoreError> = None;
    let mut pause = FIRST_PAUSE;
    let mut open = true;
    // A full batch was just taken: more may be waiting, so the next is taken at once.
    let mut backlog = false;
    while open || !batch.is_empty() {
        if batch.is_empty() {
            match rx.recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
            if !backlog {
                // Sleep out the window and take what came meanwhile: one wake-up per
                // window, where waiting on the channel woke the thread for every result.
                std::thread::sleep(GATHER);
            }
        }
        while open && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        backlog = batch.len() >= MAX_BATCH;
        let (stored, failed) = batch.write(&mut *store, shared);
        written += stored;
        match failed {
            None => {
                last_error = None;
                pause = FIRST_PAUSE;
                shared.drops.flush();
            }
            Some(e @ StoreError::Corrupt { .. }) => {
                // No more writing into a damaged database: every later write could make
                // it worse.
                tracing::error!(error = %e, pending = batch.len(), "the database is damaged; no more results are written");
                let pending = batch.len();
                if let Some(then) = shared.on_damage.lock().unwrap_or_else(PoisonError::into_inner).take() {
                    then();
                }
                return Err((e, pending));
            }
            Some(e) => {
                tracing::error!(error = %e, pending = batch.len(), "cannot store results; retrying");
                last_error = Some(e);
                if !open {
                    // Shutting down: one last try was made; report what is lost.
                    break;
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
    match last_error {
        Some(e) if !batch.is_empty() => Err((e, batch.len())),
        _ => Ok(written),
    }
}

/// Results waiting for the store, oldest first, with the events each one caused.
#[derive(Default)]
struct Batch {
    results: Vec<CheckResult>,
    events: Vec<Vec<EventRecord>>,
}

impl Batch {
    fn push(&mut self, (result, events): Item) {
        self.results.push(result);
        self.events.push(events);
    }

    fn len(&self) -> usize {
        self.results.len()
    }

    fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// Writes the batch in as few transactions as it can, and says how many results were
    /// stored. A write the store refuses for its data is split in halves until the refused
    /// result is alone, and that one is stored as an `unknown` result saying why; the others
    /// go on. An error about the database stops the writing and is returned, and the batch
    /// keeps what is still to be written, to be tried again whole.
    fn write(&mut self, store: &mut dyn ResultStore, shared: &Shared) -> (u64, Option<StoreError>) {
        let mut done = 0;
        let mut stored = 0u64;
        let mut size = self.len();
        let mut failed = None;
        while done < self.len() {
            let end = (done + size.max(1)).min(self.len());
            let events: Vec<EventRecord> = self.events[done..end].iter().flatten().cloned().collect();
            match store.write_run(&self.results[done..end], &events) {
                Ok(()) => {
                    stored += (end - done) as u64;
                    done = end;
                    size = self.len() - done;
                }
                Err(e) if e.is_about_the_data() && end - done > 1 => size = (end - done) / 2,
                Err(e) if e.is_about_the_data() => {
                    match store_instead(store, &self.results[done], &self.events[done], &e) {
                        Ok(true) => stored += 1,
                        Ok(false) => {
                            shared.drops.add(1, "the store refused a result and the unknown result in its place")
                        }
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                    done += 1;
                    size = self.len() - done;
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        shared.release(self.results[..done].iter().zip(self.events[..done].iter().map(Vec::as_slice)));
        self.results.drain(..done);
        self.events.drain(..done);
        (stored, failed)
    }
}

/// Stores, in place of `result` which the store refused (`why`), an `unknown` result of the
/// same check saying so, with `events` when the store takes them. `Ok(false)` when it
/// refuses that too; an error when the database itself fails.
fn store_instead(
    store: &mut dyn ResultStore,
    result: &CheckResult,
    events: &[EventRecord],
    why: &StoreError,
) -> Result<bool, StoreError> {
    tracing::error!(check = %result.check, error = %why, "the store refused a result; storing an unknown result in its place");
    let stand_in = [stand_in(result, why)];
    let tries: &[&[EventRecord]] = if events.is_empty() { &[&[]] } else { &[events, &[]] };
    for (n, events) in tries.iter().enumerate() {
        match store.write_run(&stand_in, events) {
            Ok(()) => {
                if n > 0 {
                    tracing::error!(check = %result.check, "the events of the refused result were not stored");
                }
                return Ok(true);
            }
            Err(e) if e.is_about_the_data() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// The `unknown` result stored for one the store refused: the same check, plugin, target,
/// time and state; a summary saying why; in its details, what the result said, cut short.
fn stand_in(result: &CheckResult, why: &StoreError) -> CheckResult {
    let reason = match why {
        StoreError::Rejected { detail, .. } => detail.clone(),
        other => other.to_string(),
    };
    let details = format!(
        "The result the plugin gave could not be stored, so this one stands in for it.\n\
         status: {}\nsummary: {}\nmetrics: {}\ndetails: {} bytes",
        result.status,
        one_line(&result.summary, STAND_IN_QUOTE),
        result.metrics.len(),
        result.details.as_ref().map_or(0, String::len),
    );
    CheckResult {
        check: result.check.clone(),
        plugin: result.plugin.clone(),
        plugin_version: result.plugin_version.clone(),
        target: result.target.clone(),
        started_at_ms: result.started_at_ms,
        duration: result.duration,
        status: Status::Unknown,
        summary: one_line(&format!("vitals could not store this result: {reason}"), STAND_IN_SUMMARY),
        reason: None,
        metrics: Vec::new(),
        details: Some(details),
        state: result.state,
    }
}

#[cfg(test)]
#[path = "sinks_tests.rs"]
mod tests;
