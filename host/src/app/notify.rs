//! The notification dispatcher: every state-change event of the scheduler goes to every
//! configured notifier plugin, each in a sandbox of its own, without ever making the
//! scheduler wait.
//!
//! [`Notifiers::start`] spawns one worker task per notifier, each with a bounded queue.
//! [`NotifySender::send`] only tries to queue the event (an event for a full queue is
//! dropped, counted and logged), so a slow or failing notifier never blocks the sender,
//! nor delays the other notifiers. A worker delivers its events in order; a failed
//! delivery is logged and retried after 1 s, 2 s and 4 s before it is given up.
//! [`NotifyHandle::finish`] closes the queues and waits, up to a grace period, for the
//! workers to deliver what is queued.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::plan::grants::Grants;
use crate::result::EventRecord;
use crate::runtime::Engine;
use crate::runtime::NotifyEvent;

pub use crate::runtime::NotifierPlugin;

/// Waits between a failed delivery and its retries: three retries.
pub const RETRY_DELAYS: [Duration; 3] = [Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)];
/// Events each notifier's queue holds before new ones are dropped.
pub const QUEUE_CAPACITY: usize = 1024;

/// One configured notifier (a `[[notifier]]` table): its plugin and how to run it.
#[derive(Debug, Clone)]
pub struct NotifierSpec {
    /// The notifier's name, for logs.
    pub name: String,
    /// The loaded plugin.
    pub plugin: Arc<NotifierPlugin>,
    /// The `[notifier.config]` table as a JSON object, validated against the plugin's keys.
    pub config_json: String,
    /// Hosts and ports the plugin may reach.
    pub grants: Arc<Grants>,
    /// Time limit of one delivery (one `notify` call, the plugin's own retries included).
    pub timeout: Duration,
    /// Linear memory cap in bytes.
    pub memory: u64,
    /// Secret values to redact from the plugin's log lines and errors.
    pub secrets: Arc<Vec<String>>,
}

/// The notifiers of one daemon, before they start.
pub struct Notifiers {
    engine: Engine,
    specs: Vec<NotifierSpec>,
    targets: HashMap<String, String>,
    retry_delays: Vec<Duration>,
    capacity: usize,
}

impl Notifiers {
    /// The notifiers `specs`, run with `engine` (the runtime's: `Runtime::engine`).
    pub fn new(engine: &Engine, specs: Vec<NotifierSpec>) -> Notifiers {
        Notifiers {
            engine: engine.clone(),
            specs,
            targets: HashMap::new(),
            retry_delays: RETRY_DELAYS.to_vec(),
            capacity: QUEUE_CAPACITY,
        }
    }

    /// The target to show for each check, by check name, for events sent as
    /// [`EventRecord`]s (which do not carry it).
    pub fn with_targets(mut self, targets: HashMap<String, String>) -> Notifiers {
        self.targets = targets;
        self
    }

    /// Replaces the waits before retries of a failed delivery (one retry per wait).
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> Notifiers {
        self.retry_delays = delays;
        self
    }

    /// Replaces the capacity of each notifier's queue (at least 1).
    pub fn with_queue_capacity(mut self, capacity: usize) -> Notifiers {
        self.capacity = capacity.max(1);
        self
    }

    /// Whether no notifier is configured.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Spawns the workers (on the current tokio runtime) and returns the handle that
    /// feeds them.
    pub fn start(self) -> NotifyHandle {
        let mut workers = JoinSet::new();
        let mut queues = Vec::with_capacity(self.specs.len());
        let delays = Arc::new(self.retry_delays);
        for spec in self.specs {
            let (tx, rx) = mpsc::channel(self.capacity);
            queues.push((spec.name.clone(), tx));
            workers.spawn(work(self.engine.clone(), spec, rx, Arc::clone(&delays)));
        }
        let sender = NotifySender {
            queues: Arc::new(queues),
            targets: Arc::new(self.targets),
            dropped: Arc::new(AtomicU64::new(0)),
        };
        NotifyHandle { sender, workers }
    }
}

/// Queues events for the notifiers; cheap to clone, never blocks.
#[derive(Clone)]
pub struct NotifySender {
    queues: Arc<Vec<(String, mpsc::Sender<NotifyEvent>)>>,
    targets: Arc<HashMap<String, String>>,
    dropped: Arc<AtomicU64>,
}

impl NotifySender {
    /// Queues a stored event for every notifier, with the check's target (see
    /// [`Notifiers::with_targets`]).
    pub fn send(&self, record: &EventRecord) {
        let target = self.targets.get(&record.check).cloned().unwrap_or_default();
        self.send_event(NotifyEvent::new(record, target));
    }

    /// Queues an event for every notifier. A notifier whose queue is full (it is far
    /// behind) or whose worker has ended does not get it: the drop is counted and logged.
    pub fn send_event(&self, event: NotifyEvent) {
        for (name, queue) in self.queues.iter() {
            if let Err(e) = queue.try_send(event.clone()) {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "its queue is full",
                    mpsc::error::TrySendError::Closed(_) => "it has stopped",
                };
                tracing::warn!(notifier = %name, check = %event.check, dropped, "event not notified: {why}");
            }
        }
    }

    /// How many (event, notifier) deliveries were dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The running notifiers: feed them through [`NotifyHandle::sender`] (or
/// [`NotifyHandle::send`]), then [`NotifyHandle::finish`].
pub struct NotifyHandle {
    sender: NotifySender,
    workers: JoinSet<()>,
}

impl NotifyHandle {
    /// A sender to give to whoever produces events.
    pub fn sender(&self) -> NotifySender {
        self.sender.clone()
    }

    /// Queues a stored event for every notifier (see [`NotifySender::send`]).
    pub fn send(&self, record: &EventRecord) {
        self.sender.send(record);
    }

    /// How many (event, notifier) deliveries were dropped so far.
    pub fn dropped(&self) -> u64 {
        self.sender.dropped()
    }

    /// Closes the queues and waits up to `grace` for the workers to deliver what is
    /// queued; then stops them, logging that events were left undelivered. Returns
    /// whether everything queued was handled in time. Senders still held elsewhere keep
    /// their queues open: drop them first.
    pub async fn finish(self, grace: Duration) -> bool {
        let NotifyHandle { sender, mut workers } = self;
        drop(sender);
        let drained = tokio::time::timeout(grace, async { while workers.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                notifiers = workers.len(),
                grace_ms = grace.as_millis() as u64,
                "notifiers still busy at shutdown; their queued events are not delivered"
            );
            workers.shutdown().await;
            return false;
        }
        true
    }
}

/// One notifier's worker: delivers its events in order until its queue closes.
async fn work(engine: Engine, spec: NotifierSpec, mut rx: mpsc::Receiver<NotifyEvent>, delays: Arc<Vec<Duration>>) {
    while let Some(event) = rx.recv().await {
        // A failure has been logged; the next event is tried all the same.
        let _ = deliver(&engine, &spec, &event, &delays).await;
    }
}

/// Delivers one event, retrying after each of `delays`; logs every failure.
async fn deliver(engine: &Engine, spec: &NotifierSpec, event: &NotifyEvent, delays: &[Duration]) -> Result<(), String> {
    let attempts = delays.len() + 1;
    let mut attempt = 1;
    loop {
        let outcome = spec
            .plugin
            .notify(
                engine,
                event,
                &spec.config_json,
                Arc::clone(&spec.grants),
                spec.timeout,
                spec.memory,
                Arc::clone(&spec.secrets),
            )
            .await;
        match outcome {
            Ok(()) => {
                tracing::debug!(notifier = %spec.name, check = %event.check, attempt, "event notified");
                return Ok(());
            }
            Err(error) if attempt < attempts => {
                let wait = delays[attempt - 1];
                tracing::warn!(
                    notifier = %spec.name,
                    check = %event.check,
                    attempt,
                    retry_in_ms = wait.as_millis() as u64,
                    "notification failed: {error}"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(error) => {
                tracing::error!(
                    notifier = %spec.name,
                    check = %event.check,
                    attempts,
                    "notification given up: {error}"
                );
                return Err(error);
            }
        }
    }
}

/// A tiny HTTP receiver for the tests of notifiers: it records every request and answers
/// 500 the first `failures` times, then 200.
#[cfg(test)]
pub(crate) mod receiver {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::sync::{Arc, Mutex};

    /// One received request.
    #[derive(Debug, Clone)]
    pub struct Received {
        /// The request line and headers, lines joined with `\n`.
        pub head: String,
        /// The body.
        pub body: Vec<u8>,
    }

    /// A running receiver (its thread lives as long as the test process).
    pub struct Receiver {
        pub addr: SocketAddr,
        pub requests: Arc<Mutex<Vec<Received>>>,
    }

    impl Receiver {
        pub fn url(&self) -> String {
            format!("http://{}/hook", self.addr)
        }

        pub fn received(&self) -> Vec<Received> {
            self.requests.lock().unwrap().clone()
        }
    }

    /// Starts a receiver on 127.0.0.1 that fails the first `failures` requests.
    pub fn start(failures: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = Vec::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let line = line.trim_end().to_string();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    head.push(line);
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let n = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(Received { head: head.join("\n"), body });
                    seen.len()
                };
                let status = if n <= failures { "500 Internal Server Error" } else { "200 OK" };
                let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        Receiver { addr, requests }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::plan::PluginRef;
    use crate::result::Status;
    use crate::result::state::Event;
    use crate::runtime::{ComponentCache, Runtime};

    async fn spec(runtime: &Runtime, url: &str, retries: u32) -> NotifierSpec {
        let plugin = runtime.load_notifier(&PluginRef::Builtin("webhook".into())).await.unwrap();
        NotifierSpec {
            name: "hook".into(),
            plugin,
            config_json: serde_json::json!({"url": url, "retries": retries, "backoff": "10ms", "timeout": "2s"})
                .to_string(),
            grants: Arc::new(Grants::for_check(url, &[]).unwrap()),
            timeout: Duration::from_secs(10),
            memory: 64 << 20,
            secrets: Arc::new(Vec::new()),
        }
    }

    fn record(check: &str, at_ms: i64) -> EventRecord {
        EventRecord {
            check: check.into(),
            event: Event::HardChange { from: Status::Ok, to: Status::Critical, at_ms },
            summary: "HTTP 500".into(),
        }
    }

    #[tokio::test]
    async fn every_event_reaches_the_receiver_in_order_with_its_target() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let receiver = receiver::start(0);
        let spec = spec(&runtime, &receiver.url(), 0).await;
        let targets = HashMap::from([("web".to_string(), "https://example.com/".to_string())]);
        let handle = Notifiers::new(runtime.engine(), vec![spec]).with_targets(targets).start();
        handle.send(&record("web", 1000));
        handle.send(&record("db", 2000));
        assert!(handle.finish(Duration::from_secs(20)).await);
        let bodies: Vec<serde_json::Value> =
            receiver.received().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
        assert_eq!(bodies.len(), 2);
        assert_eq!((&bodies[0]["check"], &bodies[0]["target"]), (&"web".into(), &"https://example.com/".into()));
        assert_eq!(bodies[0]["at"], "1970-01-01T00:00:01.000Z");
        assert_eq!((&bodies[1]["check"], &bodies[1]["target"]), (&"db".into(), &"".into()));
    }

    #[tokio::test]
    async fn a_failing_notifier_is_retried_without_blocking_the_sender() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let receiver = receiver::start(usize::MAX);
        // The plugin tries twice per delivery, the dispatcher delivers 1 + 3 times.
        let spec = spec(&runtime, &receiver.url(), 1).await;
        let handle = Notifiers::new(runtime.engine(), vec![spec])
            .with_retry_delays(vec![Duration::from_millis(20); 3])
            .with_queue_capacity(2)
            .start();
        let t0 = Instant::now();
        for i in 0..5 {
            handle.send(&record("web", i));
        }
        assert!(t0.elapsed() < Duration::from_millis(100), "sending took {:?}", t0.elapsed());
        // The worker holds one event, the queue two: the other two are dropped.
        assert!(handle.dropped() >= 2, "{} dropped", handle.dropped());
        let delivered = 5 - handle.dropped() as usize;
        assert!(handle.finish(Duration::from_secs(60)).await);
        assert_eq!(receiver.received().len(), delivered * 2 * 4);
    }

    #[tokio::test]
    async fn finish_gives_up_after_the_grace_period() {
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let receiver = receiver::start(usize::MAX);
        let spec = spec(&runtime, &receiver.url(), 0).await;
        let handle =
            Notifiers::new(runtime.engine(), vec![spec]).with_retry_delays(vec![Duration::from_secs(30)]).start();
        handle.send(&record("web", 0));
        let t0 = Instant::now();
        assert!(!handle.finish(Duration::from_millis(500)).await);
        assert!(t0.elapsed() < Duration::from_secs(5));
    }
}
