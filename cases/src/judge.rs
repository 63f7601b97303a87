//! Judging a result against a case's expectations.

use crate::model::{Expect, MetricExpect, Reason, Status};

/// What a run produced, as far as a case judges it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The status.
    pub status: Status,
    /// The reason, when not `ok`.
    pub reason: Option<Reason>,
    /// The one-line summary.
    pub summary: String,
    /// Every metric, by name and value.
    pub metrics: Vec<(String, f64)>,
}

/// Every way `outcome` misses `expect`, one line each; empty when the case passes.
///
/// ```
/// use vitals_cases::{CaseFile, Outcome, Status, judge};
/// let file = CaseFile::parse("[[case]]\nname = \"a\"\ntarget = \"t\"\n\
///     expect = { status = \"ok\", summary = \"^200\", metrics = { time = \"0:500\" } }\n").unwrap();
/// let outcome = Outcome { status: Status::Ok, reason: None, summary: "200 OK".into(),
///     metrics: vec![("time".into(), 612.0)] };
/// assert_eq!(judge(&file.cases[0].expect, &outcome), ["metric `time` is 612, outside 500"]);
/// ```
pub fn judge(expect: &Expect, outcome: &Outcome) -> Vec<String> {
    let mut misses = Vec::new();
    if outcome.status != expect.status {
        misses.push(format!(
            "status: expected {}, got {} ({:?})",
            expect.status.as_str(),
            outcome.status.as_str(),
            outcome.summary
        ));
    }
    if let Some(reason) = expect.reason
        && outcome.reason != Some(reason)
    {
        let got = outcome.reason.map_or("none", Reason::as_str);
        misses.push(format!("reason: expected {}, got {got}", reason.as_str()));
    }
    if let Some(pattern) = &expect.summary
        && !pattern.0.is_match(&outcome.summary)
    {
        misses.push(format!("summary {:?} does not match /{}/", outcome.summary, pattern.0.as_str()));
    }
    for (name, want) in &expect.metrics {
        let Some((_, value)) = outcome.metrics.iter().find(|(n, _)| n == name) else {
            let names: Vec<&str> = outcome.metrics.iter().map(|(n, _)| n.as_str()).collect();
            let has = if names.is_empty() { "none".to_string() } else { names.join(", ") };
            misses.push(format!("metric `{name}` is missing (the result has: {has})"));
            continue;
        };
        match want {
            MetricExpect::Exact(x) if value != x => misses.push(format!("metric `{name}`: expected {x}, got {value}")),
            MetricExpect::Within(range) if range.alerts(*value) => {
                misses.push(format!("metric `{name}` is {value}, outside {range}"))
            }
            _ => {}
        }
    }
    misses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CaseFile;

    fn expect(text: &str) -> Expect {
        let file = format!("[[case]]\nname = \"a\"\ntarget = \"t\"\nexpect = {text}\n");
        CaseFile::parse(&file).unwrap().cases.remove(0).expect
    }

    #[test]
    fn every_miss_is_named() {
        let e = expect(
            r#"{ status = "critical", reason = "http-status", summary = "500", metrics = { code = 500, t = "@0:10", gone = 1 } }"#,
        );
        let got = Outcome {
            status: Status::Ok,
            reason: None,
            summary: "200 OK".into(),
            metrics: vec![("code".into(), 200.0), ("t".into(), 5.0)],
        };
        let misses = judge(&e, &got);
        assert_eq!(misses.len(), 6, "{misses:?}");
        assert!(misses[0].starts_with("status: expected critical, got ok"));
        assert!(misses[1].contains("expected http-status, got none"));
        assert!(misses[3].contains("expected 500, got 200"), "{misses:?}");
        assert!(misses[4].contains("missing (the result has: code, t)"), "{misses:?}");
        assert!(misses[5].contains("`t` is 5, outside @10"), "{misses:?}");
        let pass = Outcome {
            status: Status::Critical,
            reason: Some(Reason::HttpStatus),
            summary: "HTTP 500".into(),
            metrics: vec![("code".into(), 500.0), ("t".into(), 11.0), ("gone".into(), 1.0)],
        };
        assert!(judge(&e, &pass).is_empty());
    }
}
