//! Several runners sharing one store: who runs which check, and checks seen from several
//! locations.
//!
//! Each runner registers in the shared store's membership table and refreshes its
//! heartbeat every [`Sharing::heartbeat`]; a runner whose heartbeat is older than
//! [`Sharing::timeout`] (by the database's clock) is gone. Every schedule entry is owned by
//! one live runner, chosen by rendezvous hashing over the live runners that may run it:
//! each candidate scores `sha256(runner id, entry name)` and the highest wins, so every
//! runner computes the same owner from the same membership without talking to the
//! others, and when a runner joins or leaves only the entries it wins or held move. No
//! queue rows, no locks per run.
//!
//! Who may run an entry: anyone, for a check without `locations`; the runners of location
//! L, for `CHECK@L` (a location's run of a check with `locations`); the runners of any of
//! the check's locations, for the check itself, whose entry combines the newest result of
//! each location ([`Combining`]) under its `quorum`.
//!
//! The hand-over window: a runner that dies keeps its entries until its heartbeat expires
//! (up to `timeout` plus one `heartbeat`: those runs are missed); a runner that joins runs
//! its entries from its first heartbeat, while the runner that had them stops at its next
//! (up to one `heartbeat`: those runs may be made twice). Entries keep their phase in the
//! interval whoever runs them, so the new owner runs at the old owner's moments.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use super::run::history_states;
use crate::plan::{CheckPlan, Schedule, Series, Status};
use crate::result::{CheckResult, Metric};
use crate::schedule::scheduler::Executor;
use crate::schedule::{Control, Prepared, SandboxExecutor, wall_clock_ms};
use crate::store::{Membership, ResultStore, RunnerInfo, StoreSpec};

/// How a runner shares its checks.
#[derive(Debug, Clone)]
pub struct Sharing {
    /// This runner's id in the membership table.
    pub id: String,
    /// Its `--location`.
    pub location: Option<String>,
    /// How often it refreshes its heartbeat.
    pub heartbeat: Duration,
    /// How old a heartbeat may be before its runner counts as gone.
    pub timeout: Duration,
}

/// The default runner id: the host name and the process id, unique on one machine and
/// readable in `vitals runners`.
pub fn default_runner_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "vitals".to_owned());
    format!("{host}-{}", std::process::id())
}

/// The schedule entries a runner in `location` takes part in, from the checks it loaded: a
/// check without `locations` as it is; a check with them, if `location` is one of them, as
/// its location's series (`CHECK@LOCATION`) and its combining entry. A runner in none of a
/// check's locations leaves it to others (logged once, at start and at each reload).
pub fn for_location(prepared: Vec<Prepared>, location: Option<&str>) -> Vec<Prepared> {
    let mut out = Vec::with_capacity(prepared.len());
    for p in prepared {
        if p.check.locations.is_empty() {
            out.push(p);
            continue;
        }
        match location.filter(|l| p.check.locations.iter().any(|c| c == l)) {
            Some(here) => {
                let series = Prepared { check: Arc::new(p.check.at_location(here)), ..p.clone() };
                out.push(series);
                out.push(p);
            }
            None => tracing::info!(
                check = %p.check.name,
                locations = %p.check.locations.join(", "),
                here = location.unwrap_or("(no --location)"),
                "the check runs from other locations; this runner leaves it to them"
            ),
        }
    }
    out
}

/// The rendezvous score of `runner` for `entry`.
fn score(runner: &str, entry: &str) -> u64 {
    let mut hash = Sha256::new();
    hash.update(runner.as_bytes());
    // 0xff cannot occur in UTF-8: (runner, entry) pairs never collide by shifting bytes.
    hash.update([0xff]);
    hash.update(entry.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Whether `runner` may run `check`'s entry.
fn may_run(check: &CheckPlan, runner: &RunnerInfo) -> bool {
    match &check.series {
        Series::Location { location, .. } => runner.location == *location,
        Series::Own if check.locations.is_empty() => true,
        Series::Own => check.locations.contains(&runner.location),
    }
}

/// The live runner that owns `check`'s entry: the highest score among those that may run
/// it (ties to the smaller id); `None` when none may.
pub fn owner<'a>(check: &CheckPlan, live: &'a [RunnerInfo]) -> Option<&'a RunnerInfo> {
    rendezvous(&check.name, live.iter().filter(|r| may_run(check, r)))
}

/// The key whose owner among all live runners seals and prunes the shared store: one
/// runner does the housekeeping, not each of them.
const HOUSEKEEPING: &str = "vitals housekeeping";

/// Whether `me` is the live runner that does the shared store's housekeeping.
pub fn keeps_house(me: &str, live: &[RunnerInfo]) -> bool {
    rendezvous(HOUSEKEEPING, live.iter()).is_some_and(|r| r.id == me)
}

/// The candidate with the highest score for `key` (ties to the smaller id).
fn rendezvous<'a>(key: &str, candidates: impl Iterator<Item = &'a RunnerInfo>) -> Option<&'a RunnerInfo> {
    candidates.max_by(|a, b| score(&a.id, key).cmp(&score(&b.id, key)).then_with(|| b.id.cmp(&a.id)))
}

/// The runners of `membership` whose heartbeat is at most `timeout` old, and `me` whatever
/// the table says (a runner that could write its heartbeat is alive).
pub fn live(membership: &Membership, me: &RunnerInfo, timeout: Duration) -> Vec<RunnerInfo> {
    let oldest = membership.now_ms.saturating_sub(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX));
    let mut live: Vec<RunnerInfo> =
        membership.runners.iter().filter(|r| r.heartbeat_ms >= oldest && r.id != me.id).cloned().collect();
    live.push(me.clone());
    live.sort_by(|a, b| a.id.cmp(&b.id));
    live
}

/// The entries of `entries` that `me` owns among `live`.
pub fn assignment(entries: &[Prepared], me: &str, live: &[RunnerInfo]) -> HashSet<String> {
    entries.iter().filter(|p| owner(&p.check, live).is_some_and(|o| o.id == me)).map(|p| p.check.name.clone()).collect()
}

/// The entries a runner schedules, as the daemon last loaded them (at start and at each
/// reload), for the membership thread to assign, with a generation that counts the loads.
#[derive(Clone, Default)]
pub struct Roster(Arc<Mutex<(u64, Arc<Vec<Prepared>>)>>);

impl Roster {
    /// Replaces the entries.
    pub fn set(&self, entries: &[Prepared]) {
        let mut roster = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        roster.0 += 1;
        roster.1 = Arc::new(entries.to_vec());
    }

    /// The entries.
    pub fn entries(&self) -> Arc<Vec<Prepared>> {
        self.get().1
    }

    /// The generation and the entries (shared, not copied: it is read every heartbeat).
    fn get(&self) -> (u64, Arc<Vec<Prepared>>) {
        let roster = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (roster.0, Arc::clone(&roster.1))
    }
}

/// Registers this runner, then keeps its heartbeat, its share of the checks and whether it
/// is the one that does the store's housekeeping (`housekeeper`) up to date on a thread of
/// its own, with its own connection to `spec`, until `stopped`; then leaves
/// the membership, so that the others take its checks at once. Returns the first
/// assignment (made before the scheduler runs anything) and the thread.
///
/// When the store cannot be reached the runner keeps the checks it has: results are
/// buffered (`store::Buffered`), and its peers, which see its heartbeat expire, may run them
/// too until it is back.
pub fn start_membership(
    spec: &StoreSpec,
    sharing: Sharing,
    roster: Roster,
    control: mpsc::Sender<Control>,
    housekeeper: Arc<AtomicBool>,
    mut stopped: watch::Receiver<bool>,
) -> Result<(Control, std::thread::JoinHandle<()>), crate::store::StoreError> {
    let mut store = crate::store::open(spec)?;
    let mut me = RunnerInfo {
        id: sharing.id.clone(),
        location: sharing.location.clone().unwrap_or_default(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at_ms: 0,
        heartbeat_ms: 0,
        checks: 0,
    };
    let membership = store.heartbeat(&me)?;
    let (mut seen, entries) = roster.get();
    let alive = live(&membership, &me, sharing.timeout);
    let mut owned = assignment(&entries, &me.id, &alive);
    housekeeper.store(keeps_house(&me.id, &alive), Ordering::Relaxed);
    let mut members: Vec<String> = alive.into_iter().map(|r| r.id).collect();
    let first = Control::Assign { owned: owned.clone(), states: HashMap::new() };
    tracing::info!(runner = %me.id, location = %me.location, owned = owned.len(), of = entries.len(), runners = members.len(), "joined the runners");
    let thread = std::thread::Builder::new()
        .name("vitals-membership".into())
        .spawn(move || {
            let mut reachable = true;
            loop {
                if wait(&mut stopped, sharing.heartbeat) {
                    break;
                }
                me.checks = owned.len() as u64;
                let membership = match store.heartbeat(&me) {
                    Ok(m) => {
                        if !reachable {
                            tracing::info!(runner = %me.id, "the shared store is back; heartbeats resume");
                            reachable = true;
                        }
                        m
                    }
                    Err(e) => {
                        if reachable {
                            tracing::warn!(runner = %me.id, error = %e, "cannot refresh the heartbeat; keeping the checks this runner has");
                            reachable = false;
                        }
                        continue;
                    }
                };
                let alive = live(&membership, &me, sharing.timeout);
                let ids: Vec<String> = alive.iter().map(|r| r.id.clone()).collect();
                let (generation, entries) = roster.get();
                if ids == members && generation == seen {
                    continue;
                }
                let now = assignment(&entries, &me.id, &alive);
                housekeeper.store(keeps_house(&me.id, &alive), Ordering::Relaxed);
                let gained: Vec<Prepared> =
                    entries.iter().filter(|p| now.contains(&p.check.name) && !owned.contains(&p.check.name)).cloned().collect();
                // The states the previous owners left, so a HARD problem taken over stays one.
                let states = if gained.is_empty() { HashMap::new() } else { history_states(&gained, &*store) };
                tracing::info!(
                    runner = %me.id, runners = ids.len(), owned = now.len(), gained = gained.len(),
                    "the runners changed; checks reassigned"
                );
                if control.blocking_send(Control::Assign { owned: now.clone(), states }).is_err() {
                    break;
                }
                owned = now;
                members = ids;
                seen = generation;
            }
            if let Err(e) = store.leave(&me.id) {
                tracing::warn!(runner = %me.id, error = %e, "cannot leave the runners; the others take its checks when its heartbeat expires");
            }
        })
        .map_err(|e| crate::store::StoreError::Other { path: spec.shown().into(), source: Box::new(e) })?;
    Ok((first, thread))
}

/// Waits `period` unless `stopped` turns true first; returns whether it did.
fn wait(stopped: &mut watch::Receiver<bool>, period: Duration) -> bool {
    let deadline = std::time::Instant::now() + period;
    while std::time::Instant::now() < deadline {
        if *stopped.borrow() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50).min(period));
    }
    *stopped.borrow()
}

/// The executor of a runner: the sandbox for every entry that runs a plugin, and the
/// combining of locations for the entry of a check with `locations`, which reads each
/// location's newest result from the store.
pub struct Combining {
    /// Runs plugins.
    pub sandbox: SandboxExecutor,
    /// Reads the locations' results (a connection of its own).
    pub store: Arc<Mutex<Box<dyn ResultStore>>>,
}

impl Executor for Combining {
    fn run(&self, check: Prepared) -> Pin<Box<dyn Future<Output = CheckResult> + Send>> {
        if !check.check.combines() {
            return self.sandbox.run(check);
        }
        let store = Arc::clone(&self.store);
        Box::pin(async move {
            let started = wall_clock_ms();
            let plan = Arc::clone(&check.check);
            let read = tokio::task::spawn_blocking(move || {
                let store = store.lock().unwrap_or_else(PoisonError::into_inner);
                newest_of_locations(&plan, &**store, started)
            })
            .await;
            let votes = match read {
                Ok(Ok(votes)) => Ok(votes),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(format!("the store reader failed: {e}")),
            };
            combine(&check, started, votes)
        })
    }

    fn set_max_per_host(&self, max: usize) {
        self.sandbox.set_max_per_host(max);
    }
}

/// The newest result of each of `check`'s locations that started in its current interval
/// (no earlier than half an interval before the runs `check` combines were due).
fn newest_of_locations(
    check: &CheckPlan,
    store: &dyn ResultStore,
    now_ms: i64,
) -> Result<Vec<(String, CheckResult)>, crate::store::StoreError> {
    let interval = match &check.timing.schedule {
        Schedule::Interval { every, .. } => *every,
        Schedule::Cron { .. } => Duration::from_secs(60),
    };
    let back = check.combine_delay() + interval / 2;
    let since = now_ms.saturating_sub(i64::try_from(back.as_millis()).unwrap_or(i64::MAX));
    let mut votes = Vec::new();
    for location in &check.locations {
        let series = check.at_location(location).name;
        if let Some(newest) = store.recent(Some(&series), 1)?.into_iter().next()
            && newest.started_at_ms >= since
        {
            votes.push((location.clone(), newest));
        }
    }
    Ok(votes)
}

/// How bad a status is for the quorum: down is worst, then unknown, warning, ok.
fn badness(status: Status) -> u8 {
    match status {
        Status::Ok => 0,
        Status::Warning => 1,
        Status::Unknown => 2,
        Status::Critical => 3,
    }
}

/// The longest part of one location's summary kept in the combined summary.
const LOCATION_SUMMARY_CHARS: usize = 160;

/// The combined result of `check` from its locations' `votes`: the status that at least
/// `quorum` of the locations that reported see, or worse (the `quorum`-th worst of their
/// statuses; when fewer locations reported, the quorum is their number), and a summary that
/// says what each location saw.
pub fn combine(check: &Prepared, started_ms: i64, votes: Result<Vec<(String, CheckResult)>, String>) -> CheckResult {
    let plan = &check.check;
    let mut result = CheckResult::host_failure(
        &plan.name,
        &check.plugin.label,
        &check.plugin.description.version,
        &plan.target_display,
    );
    result.started_at_ms = started_ms;
    result.duration = Duration::ZERO;
    let votes = match votes {
        Ok(votes) => votes,
        Err(e) => {
            result.status = Status::Unknown;
            result.summary = format!("cannot read the locations' results: {e}");
            return result;
        }
    };
    if votes.is_empty() {
        result.status = Status::Unknown;
        result.summary = format!("no location reported in this interval ({})", plan.locations.join(", "));
        return result;
    }
    let mut statuses: Vec<Status> = votes.iter().map(|(_, r)| r.status).collect();
    statuses.sort_by_key(|s| std::cmp::Reverse(badness(*s)));
    let quorum = plan.quorum.clamp(1, statuses.len());
    result.status = statuses[quorum - 1];
    let agreeing = statuses.iter().filter(|s| badness(**s) >= badness(result.status)).count();
    let seen: Vec<String> = votes
        .iter()
        .map(|(location, r)| {
            let summary: String = r.summary.chars().take(LOCATION_SUMMARY_CHARS).collect();
            format!("{location} {}: {summary}", r.status)
        })
        .collect();
    result.summary = format!(
        "{agreeing} of {} locations see {} (quorum {}): {}",
        votes.len(),
        result.status,
        plan.quorum,
        seen.join("; ")
    );
    result.reason = votes.iter().find(|(_, r)| r.status == result.status).and_then(|(_, r)| r.reason);
    result.duration = votes.iter().map(|(_, r)| r.duration).max().unwrap_or_default();
    result.metrics = vec![
        Metric::plain("locations_reporting", votes.len() as f64, ""),
        Metric::plain("locations_failing", votes.iter().filter(|(_, r)| r.status != Status::Ok).count() as f64, ""),
    ];
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(id: &str, location: &str) -> RunnerInfo {
        RunnerInfo {
            id: id.into(),
            location: location.into(),
            version: "0".into(),
            started_at_ms: 0,
            heartbeat_ms: 0,
            checks: 0,
        }
    }

    #[test]
    fn rendezvous_moves_only_the_entries_of_the_runner_that_left() {
        let names: Vec<String> = (0..3000).map(|i| format!("check-{i}")).collect();
        let three = [runner("a", ""), runner("b", ""), runner("c", "")];
        let pick = |live: &[RunnerInfo], name: &str| {
            live.iter().max_by(|x, y| score(&x.id, name).cmp(&score(&y.id, name))).map(|r| r.id.clone())
        };
        let before: Vec<Option<String>> = names.iter().map(|n| pick(&three, n)).collect();
        for id in ["a", "b", "c"] {
            let share = before.iter().filter(|o| o.as_deref() == Some(id)).count();
            assert!((800..1200).contains(&share), "{id} owns {share} of 3000");
        }
        let two = [runner("a", ""), runner("c", "")];
        for (name, was) in names.iter().zip(&before) {
            let now = pick(&two, name);
            if was.as_deref() != Some("b") {
                assert_eq!(&now, was, "{name} moved though its runner stayed");
            }
        }
    }

    #[test]
    fn exactly_one_live_runner_keeps_house_and_another_takes_over_when_it_goes() {
        let three = vec![runner("a", "eu"), runner("b", "us"), runner("c", "")];
        let keepers: Vec<&str> = three.iter().filter(|r| keeps_house(&r.id, &three)).map(|r| r.id.as_str()).collect();
        assert_eq!(keepers.len(), 1, "{keepers:?}");
        let rest: Vec<RunnerInfo> = three.iter().filter(|r| r.id != keepers[0]).cloned().collect();
        assert_eq!(rest.iter().filter(|r| keeps_house(&r.id, &rest)).count(), 1);
    }

    #[test]
    fn a_heartbeat_older_than_the_timeout_is_gone_but_me_is_always_live() {
        let me = runner("me", "");
        let mut old = runner("old", "");
        old.heartbeat_ms = 1_000;
        let mut fresh = runner("fresh", "");
        fresh.heartbeat_ms = 9_500;
        let m = Membership { now_ms: 10_000, runners: vec![old, fresh] };
        let ids: Vec<String> = live(&m, &me, Duration::from_secs(1)).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["fresh", "me"]);
    }

    #[test]
    fn the_combined_status_is_the_quorumth_worst() {
        let statuses = |list: &[Status]| {
            let mut s = list.to_vec();
            s.sort_by_key(|s| std::cmp::Reverse(badness(*s)));
            s
        };
        assert_eq!(statuses(&[Status::Ok, Status::Critical])[1], Status::Ok);
        assert_eq!(statuses(&[Status::Critical, Status::Critical])[1], Status::Critical);
        assert_eq!(statuses(&[Status::Warning, Status::Critical])[1], Status::Warning);
        assert_eq!(statuses(&[Status::Unknown, Status::Ok, Status::Critical])[1], Status::Unknown);
    }
}
