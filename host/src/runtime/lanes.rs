//! Guest code and host I/O run in separate lanes, so no plugin can slow another's network.
//!
//! - **Guests** (every plugin's code, from instantiation to its result) each run on a
//!   thread of their own, from a pool of threads at a lower scheduling priority (nice
//!   10), so the kernel shares the cores among them and puts the I/O thread (and the
//!   servers being checked, on the same machine) first: a plugin in a CPU loop takes its
//!   time slices, and a plugin or reply that wakes up gets a core at once. (On tokio's
//!   cooperative workers, two looping guests yielding at each epoch tick kept a ready
//!   guest waiting for most of a second.)
//! - **Host I/O** (DNS, connect, TLS, every byte sent and received) runs as tasks on the
//!   runtime that drives the process's I/O reactor, where no guest code ever runs. The
//!   phase timings a plugin gets (dns, connect, tls, first byte) are measured there, so a
//!   busy neighbour cannot inflate them, and a readiness event is never stuck behind a
//!   guest that holds the thread.
//! - **Per-host slots** limit the connections in flight to one host (`max_per_host`): a
//!   slot is held while a connection is open or a request is under way, not for a whole
//!   run, so a plugin looping on a target holds nothing while it loops.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use super::imports::net::NetError;

/// Where a run's code and its I/O go; cheap to clone (one per engine, shared by runs).
#[derive(Clone)]
pub struct Lanes {
    io: tokio::runtime::Handle,
    shards: Arc<IoShards>,
    guests: Arc<GuestThreads>,
    slots: Arc<HostSlots>,
    active: Arc<AtomicUsize>,
}

/// The nice value of guest threads: below the I/O thread and ordinary processes.
const GUEST_NICE: i32 = 10;

impl Lanes {
    /// Lanes whose I/O runs on the tokio runtime this is called from.
    pub fn new() -> anyhow::Result<Lanes> {
        let io = tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("the WebAssembly runtime must be started inside the async runtime"))?;
        // Only its blocking pool is used: a thread per guest run, reused while warm.
        let guests = tokio::runtime::Builder::new_current_thread()
            .thread_name("vitals-guest")
            .max_blocking_threads(super::POOL_INSTANCES as usize)
            .on_thread_start(lower_priority)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start the threads that run plugins: {e}"))?;
        Ok(Lanes {
            io,
            shards: Arc::new(IoShards::default()),
            guests: Arc::new(GuestThreads(Some(guests))),
            slots: Arc::new(HostSlots::new(4)),
            active: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// How many guest runs are going on now (the epoch ticker slows down when none is).
    pub fn active(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.active)
    }

    /// Spreads the runs' I/O over `lanes` I/O threads in all: the runtime `Lanes` was made
    /// on, plus single-threaded runtimes on threads of their own, each run's I/O and
    /// timers on one of them in turn (`--io-threads`; the daemon's default from 250 checks
    /// a second, where runs overlap enough to keep a second thread busy). Each run stays on
    /// one thread, so nothing wakes a second thread for it. Calling it again with a larger
    /// number adds threads; they end when the last clone is dropped.
    pub fn spread_io(&self, lanes: usize) {
        let mut extra = self.shards.extra.lock().unwrap_or_else(PoisonError::into_inner);
        while extra.len() + 1 < lanes {
            match IoShard::start(extra.len() + 1) {
                Ok(shard) => extra.push(shard),
                Err(e) => {
                    tracing::debug!(error = %e, "cannot start another I/O thread; the runs share the ones there are");
                    break;
                }
            }
        }
    }

    /// The I/O runtime the next run goes to: the main one, or the shards in turn.
    fn next_io(&self) -> tokio::runtime::Handle {
        let extra = self.shards.extra.lock().unwrap_or_else(PoisonError::into_inner);
        if extra.is_empty() {
            return self.io.clone();
        }
        match self.shards.next.fetch_add(1, Ordering::Relaxed) % (extra.len() + 1) {
            0 => self.io.clone(),
            n => extra[n - 1].handle.clone(),
        }
    }

    /// Runs a guest's whole run on a thread of its own and waits for it; `None` when that
    /// failed (a panic in the host while running it). The guest's timers and its waits for
    /// the I/O lane are driven by the I/O runtime; the thread only runs the guest's code.
    pub async fn guest<T: Send + 'static>(&self, run: impl Future<Output = T> + Send + 'static) -> Option<T> {
        let io = self.next_io();
        let threads = self.guests.0.as_ref()?;
        let active = Arc::clone(&self.active);
        // Not aborted when the caller stops waiting: a guest stops at its own deadline.
        let run = Box::pin(run);
        // Counted on the guest's thread, for as long as the guest runs there: a caller that
        // stops waiting does not stop the guest, nor its epoch ticks.
        let on_thread = move || {
            let _running = Running::start(&active);
            io.block_on(run)
        };
        match threads.spawn_blocking(on_thread).await {
            Ok(value) => Some(value),
            Err(e) => {
                tracing::error!(error = %e, "a check's run panicked in the host");
                None
            }
        }
    }

    /// Runs one host I/O operation on the I/O lane and waits for it. If the guest stops
    /// waiting (its deadline passed), the operation is cancelled with it.
    pub async fn io<T: Send + 'static>(
        &self,
        operation: impl Future<Output = Result<T, NetError>> + Send + 'static,
    ) -> Result<T, NetError> {
        // On the I/O runtime of the run this is called from (its guest thread is inside
        // that runtime's context), so a run's I/O stays on one thread.
        let io = tokio::runtime::Handle::try_current().unwrap_or_else(|_| self.io.clone());
        // Boxed: the task then holds a pointer, not a copy of a future of kilobytes
        // (moving those into task cells was a tenth of a check's instructions).
        match AbortOnDrop(io.spawn(Box::pin(operation))).wait().await {
            Some(outcome) => outcome,
            None => Err(NetError::Invalid("the host's I/O task failed (see the log)".to_string())),
        }
    }

    /// The per-host connection slots.
    pub fn slots(&self) -> &Arc<HostSlots> {
        &self.slots
    }
}

/// Counts a guest run from its start until it is dropped.
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    fn start(active: &'a AtomicUsize) -> Running<'a> {
        active.fetch_add(1, Ordering::Relaxed);
        Running(active)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The extra I/O runtimes of [`Lanes::spread_io`] and the turn of the next run.
#[derive(Default)]
struct IoShards {
    extra: Mutex<Vec<IoShard>>,
    next: AtomicUsize,
}

/// A single-threaded runtime driven by a thread of its own until it is dropped.
struct IoShard {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl IoShard {
    fn start(index: usize) -> std::io::Result<IoShard> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name(format!("vitals-io-{index}")).spawn(move || {
            // Runs until told to stop (or the sender is dropped); the tasks left then are
            // dropped with the runtime, off the thread that dropped the lanes.
            let _ = runtime.block_on(stopped);
            runtime.shutdown_background();
        })?;
        Ok(IoShard { handle, stop: Some(stop) })
    }
}

impl Drop for IoShard {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The guest threads (a runtime used only for its blocking pool); shut down without
/// waiting when the last run is over (a runtime cannot be dropped inside another one).
struct GuestThreads(Option<tokio::runtime::Runtime>);

impl Drop for GuestThreads {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Lowers the calling thread's scheduling priority (Linux: nice is per thread). Failing
/// only costs fairness, never a run, so it is logged and ignored.
fn lower_priority() {
    // SAFETY: setpriority takes no pointers; `0` is the calling thread.
    let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, GUEST_NICE) };
    if done != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower a guest thread's priority");
    }
}

/// A spawned task that is aborted when whoever waits for it stops waiting.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn wait(mut self) -> Option<T> {
        match (&mut self.0).await {
            Ok(value) => Some(value),
            Err(e) => {
                if e.is_panic() {
                    tracing::error!(error = %e, "a task of the sandbox panicked");
                }
                None
            }
        }
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// At most `max` connections in flight to one host, across every check.
pub struct HostSlots {
    max: AtomicUsize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostSlots {
    /// Slots of `max` per host.
    pub fn new(max: usize) -> HostSlots {
        HostSlots { max: AtomicUsize::new(max.max(1)), hosts: Mutex::new(HashMap::new()) }
    }

    /// Changes the limit (a reload). Connections open now keep the slots of the old one.
    pub fn set_max(&self, max: usize) {
        let max = max.max(1);
        if self.max.swap(max, Ordering::SeqCst) != max {
            self.hosts.lock().unwrap_or_else(PoisonError::into_inner).clear();
        }
    }

    /// Waits for a slot for `host` (compared case-insensitively, brackets of an IPv6
    /// literal aside); the slot is free again when the permit is dropped.
    pub async fn acquire(&self, host: &str) -> OwnedSemaphorePermit {
        let key = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            let max = self.max.load(Ordering::SeqCst);
            Arc::clone(hosts.entry(key).or_insert_with(|| Arc::new(Semaphore::new(max))))
        };
        loop {
            // The semaphore is never closed; should it be, a fresh one is as good.
            match Arc::clone(&semaphore).acquire_owned().await {
                Ok(permit) => return permit,
                Err(_) => tokio::task::yield_now().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name of the thread an I/O operation of a run ran on.
    async fn io_thread(lanes: &Lanes) -> String {
        let op = lanes.io(async { Ok(std::thread::current().name().unwrap_or("unnamed").to_string()) });
        op.await.unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[tokio::test]
    async fn spread_io_gives_runs_the_io_threads_in_turn_and_keeps_each_run_on_one() {
        let lanes = Lanes::new().unwrap();
        let main = std::thread::current().name().unwrap_or("unnamed").to_string();
        let mut seen = Vec::new();
        for spread in [1, 2] {
            lanes.spread_io(spread);
            for _ in 0..4 {
                let run = lanes.clone();
                let threads = lanes.guest(async move { (io_thread(&run).await, io_thread(&run).await) }).await;
                let (first, second) = threads.expect("the run finished");
                assert_eq!(first, second, "one run's I/O stays on one thread");
                seen.push(first);
            }
        }
        let (alone, spread) = seen.split_at(4);
        assert!(alone.iter().all(|t| *t == main), "one lane: every run's I/O on the caller's runtime: {alone:?}");
        assert_eq!(spread.iter().filter(|t| **t == main).count(), 2, "{spread:?}");
        assert_eq!(spread.iter().filter(|t| *t == "vitals-io-1").count(), 2, "{spread:?}");
        assert_ne!(spread[0], spread[1], "in turn: {spread:?}");
    }

    #[tokio::test]
    async fn a_guest_counts_as_running_until_it_ends_even_when_no_one_waits() {
        let lanes = Lanes::new().unwrap();
        let active = lanes.active();
        let (started, on_start) = std::sync::mpsc::channel::<()>();
        let (finish, on_finish) = std::sync::mpsc::channel::<()>();
        let waiting = tokio::spawn({
            let lanes = lanes.clone();
            async move {
                lanes
                    .guest(async move {
                        let _ = started.send(());
                        let _ = on_finish.recv();
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || on_start.recv()).await.unwrap().unwrap();
        assert_eq!(active.load(Ordering::Relaxed), 1, "running");
        waiting.abort();
        let _ = waiting.await;
        assert_eq!(active.load(Ordering::Relaxed), 1, "the caller gave up; the guest still runs");
        finish.send(()).unwrap();
        for _ in 0..500 {
            if active.load(Ordering::Relaxed) == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the ended guest is still counted");
    }

    #[tokio::test]
    async fn slots_bound_connections_per_host_and_free_on_drop() {
        let slots = Arc::new(HostSlots::new(2));
        let a = slots.acquire("Web.Example").await;
        let _b = slots.acquire("web.example").await;
        let third = {
            let slots = Arc::clone(&slots);
            tokio::spawn(async move { slots.acquire("WEB.example").await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "a third connection to the host waits");
        let _other = slots.acquire("other.example").await;
        drop(a);
        assert!(third.await.is_ok(), "a freed slot is taken");
    }
}
