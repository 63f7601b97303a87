//! Where the scheduler's finished runs go: collected and written in one transaction
//! (`run --once`), or written by a background writer as they come (the daemon).

use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::notify::NotifySender;
use crate::result::CheckResult;
use crate::schedule::scheduler::Sink;
use crate::store::{EventRecord, ResultStore, StoreError};

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
    /// Where events are sent, when notifiers are configured.
    pub notify: Option<NotifySender>,
    tx: Option<mpsc::Sender<(CheckResult, Vec<EventRecord>)>>,
    thread: Option<JoinHandle<Result<u64, StoreError>>>,
}

impl Writer {
    /// Starts the writer thread over `store`.
    pub fn start(mut store: Box<dyn ResultStore>) -> Writer {
        let (tx, rx) = mpsc::channel::<(CheckResult, Vec<EventRecord>)>();
        let thread = std::thread::Builder::new()
            .name("vitals-writer".into())
            .spawn(move || {
                let mut written = 0u64;
                while let Ok(first) = rx.recv() {
                    let mut results = vec![first.0];
                    let mut events = first.1;
                    while let Ok((r, e)) = rx.try_recv() {
                        results.push(r);
                        events.extend(e);
                    }
                    // A failed write is retried with the next batch rather than lost.
                    let mut attempts = 0;
                    loop {
                        match store.write_run(&results, &events) {
                            Ok(()) => break,
                            Err(e) if attempts < 5 => {
                                attempts += 1;
                                tracing::error!(error = %e, "cannot store results; retrying");
                                std::thread::sleep(std::time::Duration::from_millis(200 * attempts));
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    written += results.len() as u64;
                }
                Ok(written)
            })
            .ok();
        Writer { notify: None, tx: Some(tx), thread }
    }

    /// Stops accepting results, writes what is queued, and says how many were written.
    pub fn finish(mut self) -> Result<u64, String> {
        drop(self.tx.take());
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Ok(n))) => Ok(n),
            Some(Ok(Err(e))) => Err(e.to_string()),
            Some(Err(_)) => Err("the writer thread panicked".into()),
            None => Err("the writer thread could not be started".into()),
        }
    }
}

impl Sink for Writer {
    fn record(&mut self, result: CheckResult, events: Vec<EventRecord>) {
        tracing::info!(check = %result.check, status = %result.status, "{}", result.summary);
        notify(self.notify.as_ref(), &events);
        if let Some(tx) = &self.tx
            && tx.send((result, events)).is_err()
        {
            tracing::error!("the result writer has stopped; a result was not stored");
        }
    }
}
