//! What every plugin that connects to its `host:port` target does first, and the phase
//! metrics it reports last: [`Peer::open`] parses the target and connects, giving the
//! ready result of a failure; its [`Link`] is the part of the plugin's record of the run
//! that every connecting plugin keeps, and [`Link::phase_metrics`] and
//! [`Link::time_total`] are the standard `time_connect`, `time_dns`, `time_tls` and
//! `time_total` metrics.
//!
//! ```no_run
//! use vitals_sdk::session::Peer;
//! use vitals_sdk::{CheckRequest, CheckResult, Deadline, Thresholds, net_failure, ok};
//!
//! fn run(request: CheckRequest) -> CheckResult {
//!     let deadline = Deadline::from_ms(request.deadline_ms);
//!     let Peer { connection, mut link, .. } = match Peer::open(&request, &deadline) {
//!         Ok(peer) => peer,
//!         Err(result) => return result,
//!     };
//!     let handshake = connection.upgrade_tls(None, true, deadline.remaining_ms());
//!     drop(connection);
//!     link.elapsed = deadline.elapsed();
//!     let result = match handshake {
//!         Ok(us) => {
//!             link.tls_us = Some(us);
//!             ok(format!("TLS with {} ({})", link.target, link.remote))
//!         }
//!         Err(err) => net_failure(&format!("TLS handshake with {}", link.target), &err),
//!     };
//!     let mut metrics = link.phase_metrics(Thresholds::default());
//!     metrics.push(link.time_total());
//!     result.with_metrics(metrics)
//! }
//! # let _ = run;
//! ```

use std::time::Duration;

use crate::tcp::{self, Connection};
use crate::{
    CheckRequest, CheckResult, Deadline, Metric, Reason, Thresholds, Timings, metric, net_failure, unknown, us_to_ms,
};

/// An open connection to a check's target, with what opening it found out.
#[derive(Debug)]
pub struct Peer {
    /// The connection; dropping it closes it.
    pub connection: Connection,
    /// The target's host, without brackets.
    pub host: String,
    /// The target's port.
    pub port: u16,
    /// The target, the address connected to and the connect's times, for the plugin's
    /// record of the run.
    pub link: Link,
}

impl Peer {
    /// Parses the request's target ([`tcp::parse_target`]) and connects to it before
    /// `deadline`. A target that does not parse is `unknown` (`plugin-error`, "invalid
    /// target \"x\": why"); a failed connect is the [`net_failure`] of `"connect to
    /// TARGET"`. Either comes back as the result to return.
    ///
    /// ```
    /// use vitals_sdk::{CheckRequest, Deadline, Reason, Status, session::Peer};
    ///
    /// let request = CheckRequest { name: "db".into(), target: " db.test ".into(), config: "{}".into(), deadline_ms: 5_000 };
    /// let result = Peer::open(&request, &Deadline::from_ms(request.deadline_ms)).unwrap_err();
    /// assert_eq!(result.summary, "invalid target \"db.test\": expected host:port or [v6]:port, the port is missing");
    /// assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    /// ```
    pub fn open(request: &CheckRequest, deadline: &Deadline) -> Result<Peer, CheckResult> {
        let target = request.target.trim();
        let (host, port) = tcp::parse_target(target)
            .map_err(|why| unknown(format!("invalid target {target:?}: {why}"), Reason::PluginError))?;
        let (connection, timings) = tcp::connect(&host, port, deadline.remaining_ms())
            .map_err(|err| net_failure(&format!("connect to {target}"), &err))?;
        let link = Link::new(target, connection.remote_addr(), timings);
        Ok(Peer { connection, host, port, link })
    }
}

/// The part of a connecting plugin's record of a run that every such plugin keeps: the
/// target, the address connected to, the connect's times, the TLS handshake's time and
/// the run's total time, with the standard metrics of those phases.
///
/// ```
/// use std::time::Duration;
/// use vitals_sdk::{Thresholds, Timings, session::Link};
///
/// let timings = Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 };
/// let mut link = Link::new("db.test:5432", "192.0.2.7:5432".into(), timings);
/// link.tls_us = Some(2_000);
/// link.elapsed = Duration::from_millis(3);
/// let mut metrics = link.phase_metrics(Thresholds::default());
/// metrics.push(link.time_total());
/// let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
/// assert_eq!(names, ["time_connect", "time_tls", "time_total"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The target as configured, trimmed: `host:port` or `[v6]:port`.
    pub target: String,
    /// The address connected to, `ip:port`, as the host says.
    pub remote: String,
    /// Resolution and connect times.
    pub timings: Timings,
    /// TLS handshake time, when TLS was used.
    pub tls_us: Option<u64>,
    /// Time since the run started, once the plugin has set it.
    pub elapsed: Duration,
}

impl Link {
    /// A link to `target`, connected to `remote` in `timings`, without TLS and with no
    /// time elapsed yet.
    ///
    /// ```
    /// # let timings = vitals_sdk::Timings { dns_us: None, connect_us: None, tls_us: None, first_byte_us: None, total_us: 0 };
    /// let link = vitals_sdk::session::Link::new("a.test:1", "192.0.2.1:1".into(), timings);
    /// assert_eq!((link.target.as_str(), link.tls_us), ("a.test:1", None));
    /// ```
    pub fn new(target: &str, remote: String, timings: Timings) -> Link {
        Link { target: target.to_string(), remote, timings, tls_us: None, elapsed: Duration::ZERO }
    }

    /// [`Timings::phase_metrics`] of this link's connect and TLS handshake:
    /// `time_connect` (with `connect`'s thresholds), `time_dns` and `time_tls`.
    pub fn phase_metrics(&self, connect: Thresholds) -> Vec<Metric> {
        self.timings.phase_metrics(self.tls_us, connect)
    }

    /// [`time_total`] of [`Link::elapsed`].
    pub fn time_total(&self) -> Metric {
        time_total(self.elapsed)
    }
}

impl Timings {
    /// The TCP connect time in microseconds, or the whole connect call's time when the
    /// host gave no phase.
    ///
    /// ```
    /// let t = vitals_sdk::Timings { dns_us: None, connect_us: None, tls_us: None, first_byte_us: None, total_us: 900 };
    /// assert_eq!(t.connect_time_us(), 900);
    /// ```
    pub fn connect_time_us(&self) -> u64 {
        self.connect_us.unwrap_or(self.total_us)
    }

    /// The standard phase metrics of a connection, in ms with min 0: `time_connect` (with
    /// `connect`'s thresholds), then `time_dns` when the host measured resolution and
    /// `time_tls` when a handshake took `tls_us`. A plugin adds its own, then
    /// [`time_total`].
    ///
    /// ```
    /// use vitals_sdk::{Thresholds, Timings};
    /// let t = Timings { dns_us: Some(500), connect_us: Some(2_600), tls_us: None, first_byte_us: None, total_us: 3_100 };
    /// let metrics = t.phase_metrics(Some(4_000), Thresholds::default());
    /// let shown: Vec<(&str, f64)> = metrics.iter().map(|m| (m.name.as_str(), m.value)).collect();
    /// assert_eq!(shown, [("time_connect", 2.6), ("time_dns", 0.5), ("time_tls", 4.0)]);
    /// assert_eq!(metrics[0].min, Some(0.0));
    /// ```
    pub fn phase_metrics(&self, tls_us: Option<u64>, connect: Thresholds) -> Vec<Metric> {
        let mut metrics = vec![
            metric("time_connect", us_to_ms(self.connect_time_us()), "ms")
                .warn_opt(connect.warn)
                .crit_opt(connect.crit)
                .min(0.0),
        ];
        if let Some(us) = self.dns_us {
            metrics.push(metric("time_dns", us_to_ms(us), "ms").min(0.0));
        }
        if let Some(us) = tls_us {
            metrics.push(metric("time_tls", us_to_ms(us), "ms").min(0.0));
        }
        metrics
    }
}

/// A duration in whole microseconds (saturating).
///
/// ```
/// assert_eq!(vitals_sdk::session::micros(std::time::Duration::from_nanos(2_600_900)), 2_600);
/// ```
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The `time_total` metric of a run that took `elapsed`: ms to the microsecond, min 0.
///
/// ```
/// let total = vitals_sdk::session::time_total(std::time::Duration::from_micros(12_345));
/// assert_eq!((total.name.as_str(), total.value, total.min), ("time_total", 12.345, Some(0.0)));
/// ```
pub fn time_total(elapsed: Duration) -> Metric {
    metric("time_total", us_to_ms(micros(elapsed)), "ms").min(0.0)
}
