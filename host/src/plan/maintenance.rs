//! Planned downtime: when each `[[maintenance]]` happens and which checks it covers.
//! Reports cut its windows out of availability.

use std::time::Duration;

use super::schedule::Schedule;
use super::slo::Window;

/// When a maintenance happens.
#[derive(Debug, Clone)]
pub enum Recurrence {
    /// Once, from this time (ms since the Unix epoch).
    Once(i64),
    /// Every time this cron schedule fires.
    Cron(Box<Schedule>),
}

/// One `[[maintenance]]` table, resolved.
#[derive(Debug, Clone)]
pub struct Maintenance {
    /// Its name, for reports (`maintenance N` when not given).
    pub name: String,
    /// When it starts.
    pub recurrence: Recurrence,
    /// How long each occurrence lasts.
    pub duration: Duration,
    /// The checks it covers by name.
    pub checks: Vec<String>,
    /// The checks it covers by tag.
    pub tags: Vec<String>,
}

impl Maintenance {
    /// Whether it covers a check with this name and these tags (no checks and no tags:
    /// every check).
    pub fn covers(&self, check: &str, tags: &[String]) -> bool {
        (self.checks.is_empty() && self.tags.is_empty())
            || self.checks.iter().any(|c| c == check)
            || self.tags.iter().any(|t| tags.contains(t))
    }

    /// Its occurrences that overlap `span`, oldest first, unclipped.
    pub fn occurrences(&self, span: Window) -> Vec<Window> {
        let len = i64::try_from(self.duration.as_millis()).unwrap_or(i64::MAX);
        match &self.recurrence {
            Recurrence::Once(start) => {
                let w = Window { from_ms: *start, to_ms: start.saturating_add(len) };
                if w.to_ms > span.from_ms && w.from_ms < span.to_ms { vec![w] } else { Vec::new() }
            }
            Recurrence::Cron(schedule) => {
                let mut out = Vec::new();
                let mut after = span.from_ms.saturating_sub(len).saturating_sub(1);
                // A span of a year of minutely maintenance is half a million windows: cap it.
                while out.len() < 100_000 {
                    let Some(start) = schedule.next_after("", after) else { break };
                    if start >= span.to_ms {
                        break;
                    }
                    let w = Window { from_ms: start, to_ms: start.saturating_add(len) };
                    if w.to_ms > span.from_ms {
                        out.push(w);
                    }
                    after = start;
                }
                out
            }
        }
    }
}
