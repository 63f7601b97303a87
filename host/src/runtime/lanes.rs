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
    guests: Arc<GuestThreads>,
    slots: Arc<HostSlots>,
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
        Ok(Lanes { io, guests: Arc::new(GuestThreads(Some(guests))), slots: Arc::new(HostSlots::new(4)) })
    }

    /// Runs a guest's whole run on a thread of its own and waits for it; `None` when that
    /// failed (a panic in the host while running it). The guest's timers and its waits for
    /// the I/O lane are driven by the I/O runtime; the thread only runs the guest's code.
    pub async fn guest<T: Send + 'static>(&self, run: impl Future<Output = T> + Send + 'static) -> Option<T> {
        let io = self.io.clone();
        let threads = self.guests.0.as_ref()?;
        // Not aborted when the caller stops waiting: a guest stops at its own deadline.
        match threads.spawn_blocking(move || io.block_on(run)).await {
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
        match AbortOnDrop(self.io.spawn(operation)).wait().await {
            Some(outcome) => outcome,
            None => Err(NetError::Invalid("the host's I/O task failed (see the log)".to_string())),
        }
    }

    /// The per-host connection slots.
    pub fn slots(&self) -> &Arc<HostSlots> {
        &self.slots
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
