//! The checks that share a tag, reported together: time-weighted availability over all of
//! them, their incidents added up and their response times merged. Computation only.

use std::collections::BTreeMap;

use serde::Serialize;

use super::check::Contribution;
use super::latency::{LatencySketch, Summary};
use super::sla::{Availability, NoData, Parts};

/// The checks sharing one tag, together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupReport {
    /// The tag.
    pub tag: String,
    /// Its checks.
    pub checks: Vec<String>,
    /// Time-weighted availability over all its checks: their up time over their measured time.
    pub availability: Availability,
    /// Incidents of all its checks.
    pub incidents: usize,
    /// Periods of HARD warning (degraded) of all its checks.
    pub warnings: usize,
    /// Periods of flapping of all its checks.
    pub flapping: usize,
    /// Response time of all its checks' results together.
    pub response_time: Option<Summary>,
}

/// One check as its groups see it.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// The check's name.
    pub check: &'a str,
    /// Its tags: it belongs to one group per tag.
    pub tags: &'a [String],
    /// What it adds to each of them.
    pub contribution: &'a Contribution,
}

/// One group per tag of `members`, in tag order, each listing its checks in the order of
/// `members`.
pub fn groups(members: &[Member<'_>], no_data: NoData) -> Vec<GroupReport> {
    let mut by_tag: BTreeMap<&str, Vec<&Member<'_>>> = BTreeMap::new();
    for m in members {
        for tag in m.tags {
            by_tag.entry(tag.as_str()).or_default().push(m);
        }
    }
    by_tag
        .into_iter()
        .map(|(tag, members)| {
            let mut parts = Parts::default();
            let mut sketch = LatencySketch::new();
            let (mut incidents, mut warnings, mut flapping) = (0, 0, 0);
            for m in &members {
                parts += m.contribution.availability.parts();
                if let Err(e) = sketch.merge_payload(&m.contribution.response_time) {
                    tracing::warn!(check = %m.check, error = %e, "leaving a check's response times out of its groups");
                }
                incidents += m.contribution.incidents;
                warnings += m.contribution.warnings;
                flapping += m.contribution.flapping;
            }
            GroupReport {
                tag: tag.to_string(),
                checks: members.iter().map(|m| m.check.to_string()).collect(),
                availability: Availability::from_parts(parts, no_data),
                incidents,
                warnings,
                flapping,
                response_time: sketch.summary(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::latency::RELATIVE_ERROR;

    const HOUR_MS: i64 = 3_600_000;

    /// A check's share of an hour: `up_ms` of it up, the rest down, one result a minute of
    /// which as many are ok as there are whole up minutes, response times of `millis`.
    fn contribution(up_ms: i64, incidents: usize, millis: impl IntoIterator<Item = u64>) -> Contribution {
        let mut sketch = LatencySketch::new();
        millis.into_iter().for_each(|ms| sketch.record(Duration::from_millis(ms)));
        let parts = Parts {
            up_ms,
            down_ms: HOUR_MS - up_ms,
            raw_ok: (up_ms / 60_000) as u64,
            raw_total: 60,
            ..Parts::default()
        };
        Contribution {
            availability: Availability::from_parts(parts, NoData::Exclude),
            incidents,
            warnings: incidents + 1,
            flapping: 1,
            response_time: sketch.to_payload_bytes(),
        }
    }

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    fn within(actual: Duration, expected_ms: u64) -> bool {
        let (a, e) = (actual.as_secs_f64(), Duration::from_millis(expected_ms).as_secs_f64());
        (a - e).abs() <= e * RELATIVE_ERROR
    }

    #[test]
    fn a_group_of_a_check_always_up_and_one_half_up_is_three_quarters_available() {
        let (up, half) = (contribution(HOUR_MS, 0, [10]), contribution(HOUR_MS / 2, 2, [20]));
        let web = tags(&["web"]);
        let members = [
            Member { check: "up", tags: &web, contribution: &up },
            Member { check: "half", tags: &web, contribution: &half },
        ];
        let groups = groups(&members, NoData::Exclude);
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!((g.tag.as_str(), g.checks.clone()), ("web", vec!["up".to_string(), "half".to_string()]));
        assert_eq!(g.availability.ratio, Some(0.75), "{:?}", g.availability);
        assert_eq!((g.availability.up_ms, g.availability.measured_ms), (HOUR_MS * 3 / 2, 2 * HOUR_MS));
        assert_eq!((g.availability.raw_ok, g.availability.raw_total), (90, 120));
        assert_eq!(g.incidents, 2, "incidents add up");
        assert_eq!((g.warnings, g.flapping), (4, 2), "so do warnings and flapping periods");
    }

    #[test]
    fn response_times_of_the_checks_of_a_group_are_merged_into_one_set_of_percentiles() {
        // 1..=50 ms and 51..=100 ms: together 1..=100 ms, whose p50 is 50 ms and p99 99 ms.
        let (fast, slow) = (contribution(HOUR_MS, 0, 1..=50), contribution(HOUR_MS, 0, 51..=100));
        let web = tags(&["web"]);
        let members = [
            Member { check: "fast", tags: &web, contribution: &fast },
            Member { check: "slow", tags: &web, contribution: &slow },
        ];
        let groups = groups(&members, NoData::Exclude);
        let p = groups[0].response_time.expect("response times");
        assert_eq!(p.count, 100);
        for (name, actual, expected) in
            [("p50", p.p50, 50), ("p95", p.p95, 95), ("p99", p.p99, 99), ("max", p.max, 100)]
        {
            assert!(within(actual, expected), "{name} is {actual:?}, not {expected} ms");
        }
    }

    #[test]
    fn a_check_is_in_one_group_per_tag_and_groups_come_in_tag_order() {
        let (api, db) = (contribution(HOUR_MS, 1, [10]), contribution(HOUR_MS / 2, 3, [30]));
        let (web, both) = (tags(&["web"]), tags(&["web", "data"]));
        let members = [
            Member { check: "api", tags: &web, contribution: &api },
            Member { check: "db", tags: &both, contribution: &db },
        ];
        let groups = groups(&members, NoData::Exclude);
        let tags: Vec<&str> = groups.iter().map(|g| g.tag.as_str()).collect();
        assert_eq!(tags, ["data", "web"]);
        assert_eq!((groups[0].checks.clone(), groups[0].incidents), (vec!["db".to_string()], 3));
        assert_eq!(groups[0].availability.ratio, Some(0.5));
        assert_eq!((groups[1].incidents, groups[1].availability.ratio), (4, Some(0.75)));
    }

    #[test]
    fn time_without_data_counts_down_in_a_group_when_asked() {
        // Up 30 min, no data 30 min: excluded, 100 % of what was measured; as down, 50 %.
        let parts = Parts { up_ms: HOUR_MS / 2, no_data_ms: HOUR_MS / 2, ..Parts::default() };
        let gap = Contribution {
            availability: Availability::from_parts(parts, NoData::Exclude),
            incidents: 0,
            warnings: 0,
            flapping: 0,
            response_time: LatencySketch::new().to_payload_bytes(),
        };
        let web = tags(&["web"]);
        let members = [Member { check: "gap", tags: &web, contribution: &gap }];
        assert_eq!(groups(&members, NoData::Exclude)[0].availability.ratio, Some(1.0));
        assert_eq!(groups(&members, NoData::AsDown)[0].availability.ratio, Some(0.5));
        assert_eq!(groups(&members, NoData::AsDown)[0].response_time, None, "no response times, no percentiles");
    }

    #[test]
    fn a_check_whose_response_times_cannot_be_read_still_counts_for_availability() {
        let good = contribution(HOUR_MS, 0, [10, 20]);
        let mut broken = contribution(0, 1, [500]);
        broken.response_time = vec![0xff; 7];
        let web = tags(&["web"]);
        let members = [
            Member { check: "good", tags: &web, contribution: &good },
            Member { check: "broken", tags: &web, contribution: &broken },
        ];
        let g = &groups(&members, NoData::Exclude)[0];
        assert_eq!(g.availability.ratio, Some(0.5));
        assert_eq!(g.response_time.map(|p| p.count), Some(2), "only the readable check's times");
    }
}
