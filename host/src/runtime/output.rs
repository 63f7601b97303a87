//! Nothing a plugin returns is trusted: summaries, details, metric names and units are
//! bounded, stripped of control characters (no terminal escapes) and redacted of secrets.

use crate::result::Metric;

/// Longest summary kept, in bytes.
pub const MAX_SUMMARY: usize = 1024;
/// Longest details kept, in bytes.
pub const MAX_DETAILS: usize = 16 * 1024;
/// Most metrics kept per result.
pub const MAX_METRICS: usize = 64;
const MAX_METRIC_NAME: usize = 64;
const MAX_UNIT: usize = 8;
const MAX_RANGE: usize = 64;

/// What sanitising had to cut, to tell the user.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cuts {
    /// The summary was longer than [`MAX_SUMMARY`].
    pub summary: bool,
    /// The details were longer than [`MAX_DETAILS`].
    pub details: bool,
    /// Metrics beyond [`MAX_METRICS`] were dropped (how many).
    pub metrics_dropped: usize,
}

impl Cuts {
    /// A sentence for the details, when anything was cut.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.summary {
            parts.push(format!("summary truncated to {MAX_SUMMARY} bytes"));
        }
        if self.details {
            parts.push(format!("details truncated to {MAX_DETAILS} bytes"));
        }
        if self.metrics_dropped > 0 {
            parts.push(format!("{} metrics dropped (at most {MAX_METRICS} are kept)", self.metrics_dropped));
        }
        (!parts.is_empty()).then(|| format!("vitals: {}", parts.join("; ")))
    }
}

/// `text` on one line, control characters replaced, at most `max` bytes (cut on a
/// character boundary, with `…` when cut).
pub fn one_line(text: &str, max: usize) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    truncate(cleaned.trim(), max).0
}

/// `text` with control characters other than newline and tab replaced, at most `max` bytes.
pub fn multi_line(text: &str, max: usize) -> (String, bool) {
    let cleaned: String =
        text.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { ' ' } else { c }).collect();
    truncate(&cleaned, max)
}

fn truncate(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_string(), false);
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    (format!("{}…", &text[..end]), true)
}

/// A bounded, redacted summary.
pub fn summary(text: &str, secrets: &[String]) -> (String, bool) {
    let redacted = redact(text, secrets);
    let line = one_line(&redacted, MAX_SUMMARY);
    let cut = redacted.trim().len() > MAX_SUMMARY;
    (line, cut)
}

/// Bounded, redacted details.
pub fn details(text: &str, secrets: &[String]) -> (String, bool) {
    multi_line(&redact(text, secrets), MAX_DETAILS)
}

/// Metric names are letters, digits, `_`, `-` and `.`; anything else becomes `_`.
pub fn metrics(metrics: Vec<Metric>, secrets: &[String]) -> (Vec<Metric>, usize) {
    let dropped = metrics.len().saturating_sub(MAX_METRICS);
    let kept = metrics
        .into_iter()
        .take(MAX_METRICS)
        .map(|m| Metric {
            name: metric_name(&redact(&m.name, secrets)),
            value: m.value,
            unit: one_line(&redact(&m.unit, secrets), MAX_UNIT),
            warn: m.warn.map(|w| one_line(&w, MAX_RANGE)),
            crit: m.crit.map(|c| one_line(&c, MAX_RANGE)),
            min: m.min,
            max: m.max,
        })
        .collect();
    (kept, dropped)
}

fn metric_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(MAX_METRIC_NAME)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' })
        .collect();
    if out.is_empty() {
        out.push_str("unnamed");
    }
    out
}

/// The text written in place of a secret value.
pub const REDACTED: &str = "***";

/// Replaces every occurrence of every secret in `text` with [`REDACTED`].
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    // Longest first, so that a secret containing another is redacted whole.
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in sorted {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_every_occurrence_longest_first() {
        let secrets = vec!["abc".to_string(), "abcdef".to_string()];
        assert_eq!(redact("x abcdef abc", &secrets), "x *** ***");
    }

    #[test]
    fn a_huge_summary_is_cut_to_one_bounded_line() {
        let (s, cut) = summary(&"x".repeat(10 << 20), &[]);
        assert!(cut);
        assert!(s.len() <= MAX_SUMMARY);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn terminal_escapes_and_newlines_never_reach_the_output() {
        assert_eq!(one_line("ok\x1b[31m red\nnext", 100), "ok [31m red next");
        assert_eq!(multi_line("a\nb\x07", 100).0, "a\nb ");
    }

    #[test]
    fn secrets_are_redacted_from_summaries_details_and_metric_names() {
        let secrets = vec!["hunter2".to_string()];
        assert_eq!(summary("pw hunter2", &secrets).0, "pw ***");
        assert_eq!(details("x\nhunter2", &secrets).0, "x\n***");
        let m = Metric {
            name: "hunter2 time".into(),
            value: 1.0,
            unit: "ms".into(),
            warn: None,
            crit: None,
            min: None,
            max: None,
        };
        assert_eq!(metrics(vec![m], &secrets).0[0].name, "____time");
    }

    #[test]
    fn metrics_over_the_cap_are_dropped_and_counted() {
        let m =
            Metric { name: "a".into(), value: 1.0, unit: String::new(), warn: None, crit: None, min: None, max: None };
        let (kept, dropped) = metrics(vec![m; MAX_METRICS + 5], &[]);
        assert_eq!((kept.len(), dropped), (MAX_METRICS, 5));
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        let (s, cut) = truncate(&"é".repeat(10), 7);
        assert!(cut);
        assert!(s.len() <= 7, "{s}");
    }
}
