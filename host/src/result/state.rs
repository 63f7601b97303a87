//! The check state machine: turns the sequence of raw results of one check into soft/hard
//! states, flapping and the events to notify, as Icinga 2 and Nagios do. Pure logic, no clock.

use std::collections::VecDeque;

use serde::Serialize;

use crate::result::Status;

/// How many raw statuses the flap detection keeps (Nagios `MAX_STATE_HISTORY_ENTRIES`),
/// that is 20 transitions.
pub const FLAP_HISTORY: usize = 21;

/// Weight of a change at the oldest transition of the flap history.
const LOW_CURVE: f64 = 0.75;
/// Weight of a change at the newest transition of the flap history.
const HIGH_CURVE: f64 = 1.25;

pub use crate::plan::StatePolicy;
pub use crate::result::StateType;

/// Something worth notifying that one result caused.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The HARD state changed: a problem confirmed, a problem changed, or a recovery.
    HardChange {
        /// The previous HARD status.
        from: Status,
        /// The new HARD status.
        to: Status,
        /// When the result that caused it started, ms since the Unix epoch.
        at_ms: i64,
    },
    /// The check started flapping.
    FlappingStarted {
        /// The flap percentage that crossed `flap_high`.
        percent: f64,
        /// When the result that caused it started, ms since the Unix epoch.
        at_ms: i64,
    },
    /// The check stopped flapping.
    FlappingStopped {
        /// The flap percentage that crossed `flap_low`.
        percent: f64,
        /// When the result that caused it started, ms since the Unix epoch.
        at_ms: i64,
    },
}

impl Event {
    /// Whether this is a HARD change from a problem back to ok.
    pub fn is_recovery(&self) -> bool {
        matches!(self, Event::HardChange { from, to: Status::Ok, .. } if *from != Status::Ok)
    }

    /// When the result that caused the event started, ms since the Unix epoch.
    pub fn at_ms(&self) -> i64 {
        match *self {
            Event::HardChange { at_ms, .. }
            | Event::FlappingStarted { at_ms, .. }
            | Event::FlappingStopped { at_ms, .. } => at_ms,
        }
    }
}

/// What one result did to a check's state, for the scheduler and the notifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// The state type after this result.
    pub state_type: StateType,
    /// The attempt number after this result (see [`CheckState::attempt`]).
    pub attempt: u32,
    /// The scheduler should re-run the check at its retry interval, not its normal one.
    pub retry: bool,
    /// The check is flapping after this result: the caller should suppress notifications of
    /// hard changes, as Nagios does.
    pub flapping: bool,
    /// What to notify, in order: a hard change first, then a flapping change.
    pub events: Vec<Event>,
}

/// The state of one check, derived from its results so far; serialised for `/status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckState {
    status: Status,
    state_type: StateType,
    attempt: u32,
    last_hard_status: Status,
    hard_since_ms: Option<i64>,
    flapping: bool,
    flap_percent: f64,
    history: VecDeque<Status>,
}

impl Default for CheckState {
    fn default() -> Self {
        CheckState::new()
    }
}

impl CheckState {
    /// A check with no result yet: HARD ok, attempt 1, empty history. The first result
    /// establishes the state: an ok stays HARD ok without an event, a problem starts SOFT.
    pub fn new() -> Self {
        CheckState {
            status: Status::Ok,
            state_type: StateType::Hard,
            attempt: 1,
            last_hard_status: Status::Ok,
            hard_since_ms: None,
            flapping: false,
            flap_percent: 0.0,
            history: VecDeque::with_capacity(FLAP_HISTORY),
        }
    }

    /// The status of the latest result.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Whether the current status is confirmed.
    pub fn state_type(&self) -> StateType {
        self.state_type
    }

    /// The attempt number: while SOFT on a problem, the failed attempts so far
    /// (`1..max_check_attempts`); in a HARD problem, `max_check_attempts`; while SOFT on a
    /// recovery, the consecutive oks so far; in HARD ok, 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The last HARD status (the one notified), which a SOFT state has not replaced yet.
    pub fn last_hard_status(&self) -> Status {
        self.last_hard_status
    }

    /// When the current HARD state began, ms since the Unix epoch; `None` before any result.
    pub fn hard_since_ms(&self) -> Option<i64> {
        self.hard_since_ms
    }

    /// Whether the check is flapping.
    pub fn is_flapping(&self) -> bool {
        self.flapping
    }

    /// The flap percentage computed at the latest result (see [`flap_percent`]).
    pub fn flap_percent(&self) -> f64 {
        self.flap_percent
    }

    /// The latest raw statuses, oldest first, at most [`FLAP_HISTORY`].
    pub fn history(&self) -> &VecDeque<Status> {
        &self.history
    }

    /// Feeds one raw result that started at `at_ms` and returns what it changed.
    pub fn observe(&mut self, status: Status, at_ms: i64, policy: &StatePolicy) -> Observation {
        let mut events = Vec::new();
        if self.hard_since_ms.is_none() {
            // The first result: the assumed HARD ok begins now.
            self.hard_since_ms = Some(at_ms);
        }
        let retry = self.transition(status, at_ms, policy, &mut events);
        self.detect_flapping(status, at_ms, policy, &mut events);
        Observation { state_type: self.state_type, attempt: self.attempt, retry, flapping: self.flapping, events }
    }

    /// Applies the soft/hard rules; returns whether the scheduler should retry soon.
    fn transition(&mut self, status: Status, at_ms: i64, policy: &StatePolicy, events: &mut Vec<Event>) -> bool {
        let max_attempts = policy.max_check_attempts();
        let problem = status != Status::Ok;
        match (self.state_type, self.status == Status::Ok, problem) {
            // HARD ok, ok again: nothing to do.
            (StateType::Hard, true, false) => {
                self.attempt = 1;
                false
            }
            // HARD ok, a problem: first attempt, HARD at once when there are no retries.
            (StateType::Hard, true, true) => {
                self.status = status;
                self.attempt = 1;
                if self.attempt >= max_attempts {
                    self.go_hard(status, at_ms, events);
                    false
                } else {
                    self.state_type = StateType::Soft;
                    true
                }
            }
            // SOFT problem, another problem: one more attempt, HARD once they are used up.
            (StateType::Soft, false, true) => {
                self.status = status;
                self.attempt = self.attempt.saturating_add(1);
                if self.attempt >= max_attempts {
                    self.attempt = max_attempts;
                    self.go_hard(status, at_ms, events);
                    false
                } else {
                    true
                }
            }
            // SOFT problem, an ok: soft recovery back to the HARD ok it never left.
            (StateType::Soft, false, false) => {
                self.status = Status::Ok;
                self.state_type = StateType::Hard;
                self.attempt = 1;
                false
            }
            // HARD problem, a problem: a different status is a HARD change at once.
            (StateType::Hard, false, true) => {
                self.status = status;
                self.attempt = max_attempts;
                if status != self.last_hard_status {
                    self.go_hard(status, at_ms, events);
                }
                false
            }
            // HARD problem, an ok: recovering; HARD ok after `recover_after` oks.
            (StateType::Hard, false, false) => {
                self.status = Status::Ok;
                self.attempt = 1;
                self.count_ok(policy, at_ms, events)
            }
            // SOFT recovery, another ok: count it.
            (StateType::Soft, true, false) => {
                self.attempt = self.attempt.saturating_add(1);
                self.count_ok(policy, at_ms, events)
            }
            // SOFT recovery, a problem: the recovery failed, back to the HARD problem; a
            // different status than the hard one is a HARD change.
            (StateType::Soft, true, true) => {
                self.status = status;
                self.state_type = StateType::Hard;
                self.attempt = max_attempts;
                if status != self.last_hard_status {
                    self.go_hard(status, at_ms, events);
                }
                false
            }
        }
    }

    /// After `self.attempt` consecutive oks in a problem: HARD ok (a recovery) when enough,
    /// else SOFT ok. Returns whether to retry soon.
    fn count_ok(&mut self, policy: &StatePolicy, at_ms: i64, events: &mut Vec<Event>) -> bool {
        if self.attempt >= policy.oks_to_recover() {
            self.attempt = 1;
            self.go_hard(Status::Ok, at_ms, events);
            false
        } else {
            self.state_type = StateType::Soft;
            true
        }
    }

    /// Makes `to` the HARD state and records the change.
    fn go_hard(&mut self, to: Status, at_ms: i64, events: &mut Vec<Event>) {
        events.push(Event::HardChange { from: self.last_hard_status, to, at_ms });
        self.state_type = StateType::Hard;
        self.last_hard_status = to;
        self.hard_since_ms = Some(at_ms);
    }

    /// Records the raw status and starts or stops flapping. As in Nagios, nothing is decided
    /// until the history holds [`FLAP_HISTORY`] statuses; the percentage is kept meanwhile.
    fn detect_flapping(&mut self, status: Status, at_ms: i64, policy: &StatePolicy, events: &mut Vec<Event>) {
        while self.history.len() >= FLAP_HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(status);
        let percent = flap_percent(self.history.make_contiguous());
        self.flap_percent = percent;
        if self.history.len() < FLAP_HISTORY {
            return;
        }
        // Between the thresholds the flapping state does not change (hysteresis).
        if !self.flapping && percent > policy.flap_high {
            self.flapping = true;
            events.push(Event::FlappingStarted { percent, at_ms });
        } else if self.flapping && percent < policy.flap_low {
            self.flapping = false;
            events.push(Event::FlappingStopped { percent, at_ms });
        }
    }
}

/// The Nagios flap percentage (base/flapping.c) of raw statuses, oldest first: each of the
/// 20 transitions of the last [`FLAP_HISTORY`] statuses that is a change adds a weight
/// rising linearly from 0.75 (oldest) to 1.25 (newest), and the sum is scaled to 20
/// transitions. Only the last [`FLAP_HISTORY`] entries count. A shorter history is taken
/// as the newest part of a full one whose missing older entries never changed, so a change
/// weighs the same for its age as it will once the history is full.
pub fn flap_percent(history: &[Status]) -> f64 {
    let window = &history[history.len().saturating_sub(FLAP_HISTORY)..];
    // Position of the window's oldest entry in a full history (0 when full).
    let offset = FLAP_HISTORY - window.len();
    let transitions = (FLAP_HISTORY - 1) as f64;
    let mut curved_changes = 0.0;
    for (i, pair) in window.windows(2).enumerate() {
        if pair[0] != pair[1] {
            // Nagios's `x - 1`: 0 for the oldest transition, 19 for the newest.
            let age_rank = (offset + i) as f64;
            curved_changes += (age_rank * (HIGH_CURVE - LOW_CURVE)) / (FLAP_HISTORY - 2) as f64 + LOW_CURVE;
        }
    }
    curved_changes * 100.0 / transitions
}

#[cfg(test)]
mod tests {
    use super::*;

    use Status::{Critical, Ok, Unknown, Warning};

    fn policy(retries: u32, recover_after: u32) -> StatePolicy {
        StatePolicy { retries, recover_after, ..StatePolicy::default() }
    }

    /// Feeds `statuses` at t = 1000, 2000, … and returns each observation.
    fn feed(state: &mut CheckState, statuses: &[Status], policy: &StatePolicy) -> Vec<Observation> {
        statuses.iter().zip(1..).map(|(&s, t)| state.observe(s, t * 1000, policy)).collect()
    }

    fn hard_changes(observations: &[Observation]) -> Vec<Event> {
        observations
            .iter()
            .flat_map(|o| o.events.iter().copied())
            .filter(|e| matches!(e, Event::HardChange { .. }))
            .collect()
    }

    #[test]
    fn default_policy_is_two_retries_immediate_recovery_and_30_25_flapping() {
        let p = StatePolicy::default();
        assert_eq!((p.retries, p.recover_after, p.flap_high, p.flap_low), (2, 1, 30.0, 25.0));
        assert_eq!(p.max_check_attempts(), 3);
    }

    #[test]
    fn new_state_is_hard_ok_attempt_one_with_empty_history() {
        let s = CheckState::new();
        assert_eq!((s.status(), s.state_type(), s.attempt(), s.last_hard_status()), (Ok, StateType::Hard, 1, Ok));
        assert_eq!(s.hard_since_ms(), None);
        assert!(s.history().is_empty() && !s.is_flapping());
    }

    #[test]
    fn first_result_ok_is_hard_ok_without_event() {
        let mut s = CheckState::new();
        let o = s.observe(Ok, 5_000, &StatePolicy::default());
        assert_eq!((o.state_type, o.attempt, o.retry, o.events.len()), (StateType::Hard, 1, false, 0));
        assert_eq!(s.hard_since_ms(), Some(5_000));
    }

    #[test]
    fn first_result_problem_starts_soft_attempt_one() {
        let mut s = CheckState::new();
        let o = s.observe(Critical, 5_000, &StatePolicy::default());
        assert_eq!((o.state_type, o.attempt, o.retry), (StateType::Soft, 1, true));
        assert!(o.events.is_empty());
        assert_eq!((s.status(), s.last_hard_status()), (Critical, Ok));
    }

    #[test]
    fn three_failures_with_two_retries_go_soft1_soft2_then_hard_with_one_event() {
        let mut s = CheckState::new();
        let obs = feed(&mut s, &[Critical, Critical, Critical], &policy(2, 1));
        let steps: Vec<_> = obs.iter().map(|o| (o.state_type, o.attempt, o.retry, o.events.len())).collect();
        assert_eq!(
            steps,
            [(StateType::Soft, 1, true, 0), (StateType::Soft, 2, true, 0), (StateType::Hard, 3, false, 1)]
        );
        assert_eq!(obs[2].events, [Event::HardChange { from: Ok, to: Critical, at_ms: 3_000 }]);
        assert_eq!((s.last_hard_status(), s.hard_since_ms()), (Critical, Some(3_000)));
    }

    #[test]
    fn hard_problem_takes_the_status_of_the_last_soft_attempt() {
        let mut s = CheckState::new();
        let obs = feed(&mut s, &[Warning, Critical, Unknown], &policy(2, 1));
        assert_eq!(hard_changes(&obs), [Event::HardChange { from: Ok, to: Unknown, at_ms: 3_000 }]);
    }

    #[test]
    fn ok_during_soft_problem_is_a_soft_recovery_without_event() {
        let mut s = CheckState::new();
        let obs = feed(&mut s, &[Ok, Critical, Critical, Ok], &policy(2, 1));
        assert!(obs.iter().all(|o| o.events.is_empty()));
        let last = &obs[3];
        assert_eq!((last.state_type, last.attempt, last.retry), (StateType::Hard, 1, false));
        assert_eq!((s.status(), s.last_hard_status(), s.hard_since_ms()), (Ok, Ok, Some(1_000)));
    }

    #[test]
    fn ok_after_hard_problem_recovers_at_once_with_one_event() {
        let mut s = CheckState::new();
        let obs = feed(&mut s, &[Critical, Critical, Critical, Ok, Ok], &policy(2, 1));
        assert_eq!((obs[3].state_type, obs[3].attempt, obs[3].retry), (StateType::Hard, 1, false));
        let recovery = Event::HardChange { from: Critical, to: Ok, at_ms: 4_000 };
        assert_eq!(obs[3].events, [recovery]);
        assert!(recovery.is_recovery());
        assert!(obs[4].events.is_empty());
        assert_eq!(hard_changes(&obs).len(), 2);
        assert_eq!(s.hard_since_ms(), Some(4_000));
    }

    #[test]
    fn recover_after_three_needs_three_consecutive_oks() {
        let mut s = CheckState::new();
        let p = policy(0, 3);
        let obs = feed(&mut s, &[Critical, Ok, Ok, Ok], &p);
        let steps: Vec<_> = obs[1..].iter().map(|o| (o.state_type, o.attempt, o.retry, o.events.len())).collect();
        assert_eq!(
            steps,
            [(StateType::Soft, 1, true, 0), (StateType::Soft, 2, true, 0), (StateType::Hard, 1, false, 1)]
        );
        assert_eq!(obs[3].events, [Event::HardChange { from: Critical, to: Ok, at_ms: 4_000 }]);
    }

    #[test]
    fn problem_during_soft_recovery_returns_to_the_hard_problem_without_event() {
        let mut s = CheckState::new();
        let obs = feed(&mut s, &[Critical, Ok, Ok, Critical, Ok], &policy(0, 3));
        assert_eq!(hard_changes(&obs).len(), 1, "only the first HARD critical");
        assert_eq!((obs[3].state_type, obs[3].retry), (StateType::Hard, false));
        // The interrupted recovery starts counting again.
        assert_eq!((obs[4].state_type, obs[4].attempt), (StateType::Soft, 1));
        assert_eq!(s.hard_since_ms(), Some(1_000));
    }

    #[test]
    fn other_problem_during_soft_recovery_is_a_hard_change() {
        let mut s = CheckState::new();
        let obs = feed(&mut s, &[Critical, Ok, Warning], &policy(0, 3));
        assert_eq!(obs[2].events, [Event::HardChange { from: Critical, to: Warning, at_ms: 3_000 }]);
    }

    #[test]
    fn hard_critical_to_warning_is_one_event_and_stays_hard() {
        let mut s = CheckState::new();
        let obs = feed(&mut s, &[Critical, Critical, Critical, Warning, Warning], &policy(2, 1));
        assert_eq!(obs[3].events, [Event::HardChange { from: Critical, to: Warning, at_ms: 4_000 }]);
        assert!(!obs[3].events[0].is_recovery());
        assert_eq!((obs[3].state_type, obs[3].attempt, obs[3].retry), (StateType::Hard, 3, false));
        assert!(obs[4].events.is_empty());
        assert_eq!(hard_changes(&obs).len(), 2);
    }

    #[test]
    fn same_hard_problem_again_gives_no_event() {
        let mut s = CheckState::new();
        let obs = feed(&mut s, &[Critical; 6], &policy(2, 1));
        assert_eq!(hard_changes(&obs).len(), 1);
        assert!(obs[3..].iter().all(|o| o.state_type == StateType::Hard && !o.retry));
    }

    #[test]
    fn zero_retries_go_hard_at_once() {
        let mut s = CheckState::new();
        let o = s.observe(Warning, 7_000, &policy(0, 1));
        assert_eq!((o.state_type, o.attempt, o.retry), (StateType::Hard, 1, false));
        assert_eq!(o.events, [Event::HardChange { from: Ok, to: Warning, at_ms: 7_000 }]);
    }

    #[test]
    fn flap_percent_of_alternating_full_history_is_100() {
        let history: Vec<Status> = (0..21).map(|i| if i % 2 == 0 { Ok } else { Critical }).collect();
        // 20 changes: 20 * 0.75 + (0 + 1 + … + 19) * 0.5 / 19 = 15 + 5 = 20; 20 * 100 / 20.
        assert_eq!(flap_percent(&history), 100.0);
    }

    #[test]
    fn flap_percent_of_one_change_at_the_newest_transition_is_6_25() {
        let mut history = vec![Ok; 21];
        history[20] = Critical;
        // 1.25 * 100 / 20.
        assert_eq!(flap_percent(&history), 6.25);
    }

    #[test]
    fn flap_percent_of_one_change_at_the_oldest_transition_is_3_75() {
        let mut history = vec![Warning; 21];
        history[0] = Ok;
        // 0.75 * 100 / 20.
        assert_eq!(flap_percent(&history), 3.75);
    }

    #[test]
    fn flap_percent_of_a_steady_or_tiny_history_is_zero() {
        assert_eq!(flap_percent(&[]), 0.0);
        assert_eq!(flap_percent(&[Critical]), 0.0);
        assert_eq!(flap_percent(&[Unknown; 21]), 0.0);
    }

    #[test]
    fn flap_percent_counts_only_the_last_21_entries() {
        let mut history = vec![Ok, Critical];
        history.extend([Critical; 21]);
        assert_eq!(flap_percent(&history), 0.0);
    }

    #[test]
    fn flap_percent_of_a_short_history_weighs_changes_by_age() {
        // Newest change in a history of 2: weighs 1.25 as in a full one.
        assert_eq!(flap_percent(&[Ok, Critical]), 6.25);
    }

    #[test]
    fn flapping_is_not_detected_before_the_history_holds_21_results() {
        let mut s = CheckState::new();
        let alternating: Vec<Status> = (0..21).map(|i| if i % 2 == 0 { Critical } else { Ok }).collect();
        let obs = feed(&mut s, &alternating[..20], &StatePolicy::default());
        assert!(obs.iter().all(|o| !o.flapping && o.events.is_empty()));
        assert!(s.flap_percent() > 30.0 && !s.is_flapping(), "{}", s.flap_percent());
        let o = s.observe(alternating[20], 21_000, &StatePolicy::default());
        assert!(o.flapping);
        assert_eq!(o.events, [Event::FlappingStarted { percent: s.flap_percent(), at_ms: 21_000 }]);
    }

    #[test]
    fn flapping_starts_above_30_and_stops_below_25_with_hysteresis_between() {
        // 21 oks, then 6 alternations (changes at the 6 newest transitions), then oks that
        // push those changes back, one transition (0.5 / 19 of weight each) per result.
        let mut statuses = vec![Ok; 21];
        statuses.extend([Critical, Ok, Critical, Ok, Critical, Ok]);
        statuses.extend([Ok; 16]);
        let mut s = CheckState::new();
        let obs = feed(&mut s, &statuses, &StatePolicy::default());
        let flap_events: Vec<(usize, Event)> = obs
            .iter()
            .enumerate()
            .flat_map(|(i, o)| o.events.iter().map(move |e| (i, *e)))
            .filter(|(_, e)| !matches!(e, Event::HardChange { .. }))
            .collect();
        assert_eq!(flap_events.len(), 2, "{flap_events:?}");
        // 5 changes at the newest transitions: 5 * 0.75 + (15+…+19) * 0.5 / 19 = 5.9868…
        // → 29.93 %: between the thresholds, still not flapping.
        assert!(!obs[25].flapping && obs[25].events.is_empty());
        // 6 changes: 6 * 0.75 + (14+…+19) * 0.5 / 19 = 7.1052… → 35.53 % > 30: starts.
        let (i, started) = flap_events[0];
        assert_eq!(i, 26);
        let Event::FlappingStarted { percent, at_ms: 27_000 } = started else { panic!("{started:?}") };
        assert!((percent - (22.5 + 247.5 / 19.0)).abs() < 1e-9, "{percent}");
        // Pushed back by k results: 22.5 + (247.5 - 15 k) / 19 %. k = 10 → 27.63 %: still
        // flapping; k = 13 → 25.26 %: still flapping; k = 14 → 24.47 % < 25: stops.
        assert!(obs[36].flapping && obs[36].events.is_empty());
        assert!(obs[39].flapping);
        let (i, stopped) = flap_events[1];
        assert_eq!(i, 40);
        let Event::FlappingStopped { percent, at_ms: 41_000 } = stopped else { panic!("{stopped:?}") };
        assert!((percent - (22.5 + 37.5 / 19.0)).abs() < 1e-9, "{percent}");
        assert!(!s.is_flapping());
    }

    #[test]
    fn hard_change_while_flapping_is_emitted_and_marked_flapping() {
        let mut s = CheckState::new();
        let p = policy(0, 1);
        let alternating: Vec<Status> = (0..22).map(|i| if i % 2 == 0 { Critical } else { Ok }).collect();
        let obs = feed(&mut s, &alternating, &p);
        let last = &obs[21];
        assert!(last.flapping);
        assert_eq!(last.events, [Event::HardChange { from: Critical, to: Ok, at_ms: 22_000 }]);
    }

    #[test]
    fn state_and_events_serialise_with_lowercase_words() {
        let mut s = CheckState::new();
        let o = s.observe(Critical, 1_000, &policy(0, 1));
        let event = serde_json::to_value(o.events[0]).unwrap_or_default();
        assert_eq!(event, serde_json::json!({"event": "hard_change", "from": "ok", "to": "critical", "at_ms": 1000}));
        let state = serde_json::to_value(&s).unwrap_or_default();
        assert_eq!(state["state_type"], "hard");
        assert_eq!(state["last_hard_status"], "critical");
        assert_eq!(state["history"], serde_json::json!(["critical"]));
        assert_eq!(StateType::Soft.as_str(), "soft");
    }
}
