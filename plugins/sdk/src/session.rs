//! What every plugin that connects to its `host:port` target does first, and the phase
//! metrics it reports last: [`Peer::open`] parses the target and connects, giving the
//! ready result of a failure; [`Timings::phase_metrics`] and [`time_total`] are the
//! standard `time_connect`, `time_dns`, `time_tls` and `time_total` metrics.
//!
//! ```no_run
//! use vitals_sdk::session::{Peer, time_total};
//! use vitals_sdk::{CheckRequest, CheckResult, Deadline, Thresholds, ok};
//!
//! fn run(request: CheckRequest) -> CheckResult {
//!     let deadline = Deadline::from_ms(request.deadline_ms);
//!     let peer = match Peer::open(&request, &deadline) {
//!         Ok(peer) => peer,
//!         Err(result) => return result,
//!     };
//!     let tls_us = peer.connection.upgrade_tls(None, true, deadline.remaining_ms()).ok();
//!     let mut metrics = peer.timings.phase_metrics(tls_us, Thresholds::default());
//!     drop(peer.connection);
//!     metrics.push(time_total(deadline.elapsed()));
//!     ok(format!("connected to {}", peer.target)).with_metrics(metrics)
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
    /// The target as configured, trimmed: `host:port` or `[v6]:port`.
    pub target: String,
    /// The target's host, without brackets.
    pub host: String,
    /// The target's port.
    pub port: u16,
    /// The address connected to, `ip:port`, as the host says.
    pub remote: String,
    /// Resolution and connect times.
    pub timings: Timings,
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
        let remote = connection.remote_addr();
        Ok(Peer { connection, target: target.to_string(), host, port, remote, timings })
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
