//! Where the scheduler's finished runs go: collected and written in one transaction
//! (`run --once`), or written by a background writer as they come (the daemon).

use std::sync::{Arc, RwLock, mpsc};
use std::thread::JoinHandle;

use super::notify::NotifySender;
use crate::result::{CheckResult, EventRecord};
use crate::schedule::Sink;
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

fn notify(sender: Option<&NotifySender>, events: &[EventRecord]) {
    if let Some(sender) = sender {
        for event in events {
            sender.send(event);
        }
    }
}

/// Writes results on a thread of its own, batching whatever has queued up into one
/// transaction, so the scheduler never waits on the disk.
pub struct Writer {
    /// Where events are sent.
    notify: NotifySlot,
    tx: Option<mpsc::Sender<(CheckResult, Vec<EventRecord>)>>,
    thread: Option<JoinHandle<Result<u64, (StoreError, usize)>>>,
}

impl Writer {
    /// Starts the writer thread over `store`. A write that fails (a long lock, a full
    /// disk) is retried with a growing pause, and the results that arrive meanwhile join
    /// the same batch: nothing is dropped while the process runs.
    pub fn start(mut store: Box<dyn ResultStore>, notify: NotifySlot) -> Writer {
        let (tx, rx) = mpsc::channel::<(CheckResult, Vec<EventRecord>)>();
        let thread = std::thread::Builder::new()
            .name("vitals-writer".into())
            .spawn(move || {
                let mut written = 0u64;
                let mut results = Vec::new();
                let mut events = Vec::new();
                let mut last_error: Option<StoreError> = None;
                let mut pause = std::time::Duration::from_millis(100);
                let mut open = true;
                while open || !results.is_empty() {
                    if results.is_empty() {
                        match rx.recv() {
                            Ok((r, e)) => {
                                results.push(r);
                                events.extend(e);
                            }
                            Err(_) => break,
                        }
                    }
                    loop {
                        match rx.try_recv() {
                            Ok((r, e)) => {
                                results.push(r);
                                events.extend(e);
                            }
                            Err(mpsc::TryRecvError::Empty) => break,
                            Err(mpsc::TryRecvError::Disconnected) => {
                                open = false;
                                break;
                            }
                        }
                    }
                    match store.write_run(&results, &events) {
                        Ok(()) => {
                            written += results.len() as u64;
                            results.clear();
                            events.clear();
                            last_error = None;
                            pause = std::time::Duration::from_millis(100);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, pending = results.len(), "cannot store results; retrying");
                            last_error = Some(e);
                            if !open {
                                // Shutting down: one last try was made; report what is lost.
                                break;
                            }
                            std::thread::sleep(pause);
                            pause = (pause * 2).min(std::time::Duration::from_secs(5));
                        }
                    }
                }
                match last_error {
                    Some(e) if !results.is_empty() => Err((e, results.len())),
                    _ => Ok(written),
                }
            })
            .ok();
        Writer { notify, tx: Some(tx), thread }
    }

    /// Stops accepting results, writes what is queued, and says how many were written.
    pub fn finish(mut self) -> Result<u64, String> {
        drop(self.tx.take());
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Ok(n))) => Ok(n),
            Some(Ok(Err((e, lost)))) => Err(format!("{e}; {lost} results could not be stored")),
            Some(Err(_)) => Err("the writer thread panicked".into()),
            None => Err("the writer thread could not be started".into()),
        }
    }
}

impl Sink for Writer {
    fn record(&mut self, result: CheckResult, events: Vec<EventRecord>) {
        tracing::info!(check = %result.check, status = %result.status, "{}", result.summary);
        if !events.is_empty() {
            // A poisoned slot still holds a usable sender: it is only ever replaced whole.
            let slot = self.notify.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            notify(slot.as_ref(), &events);
        }
        if let Some(tx) = &self.tx
            && tx.send((result, events)).is_err()
        {
            tracing::error!("the result writer has stopped; a result was not stored");
        }
    }
}
