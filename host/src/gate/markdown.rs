//! The verdict for CI pages: a Markdown summary (a job summary, a merge-request comment)
//! and GitHub Actions `::error` annotations, one per failure.

use std::fmt::Write as _;

use super::Verdict;
use super::output::measured_text;

/// A Markdown heading with the verdict and a table of every condition on every check.
pub fn markdown(verdict: &Verdict) -> String {
    let mut out = String::new();
    let total = verdict.conditions.len();
    let _ = if verdict.passed() {
        writeln!(out, "## Vitals gate: passed\n\nAll {total} conditions hold.\n")
    } else {
        writeln!(out, "## Vitals gate: failed\n\n{} of {total} conditions failed.\n", verdict.failed())
    };
    let _ = writeln!(out, "| | condition | check | measured |");
    let _ = writeln!(out, "|---|---|---|---|");
    for c in &verdict.conditions {
        for o in &c.outcomes {
            let mark = if o.passed { "✅" } else { "❌" };
            let _ = writeln!(
                out,
                "| {mark} | `{}` | {} | {} |",
                cell(&c.condition),
                cell(&o.check),
                cell(&measured_text(o))
            );
        }
    }
    if verdict.attempts > 1 {
        let _ = writeln!(out, "\nAfter {} attempts (`--wait-for-healthy`).", verdict.attempts);
    }
    out
}

/// Text safe inside a table cell: no pipe, no line break.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// One `::error title=…::message` workflow command per failed outcome, each on its own line.
pub fn github_annotations(verdict: &Verdict) -> String {
    let mut out = String::new();
    for (c, o) in verdict.failures() {
        let title = format!("Vitals gate: {} ({})", c.condition, o.check);
        let _ = writeln!(out, "::error title={}::{}", escape_property(&title), escape_data(&c.describe(o)));
    }
    out
}

/// Escapes a workflow command's message (GitHub's `escapeData`).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value (GitHub's `escapeProperty`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::output::tests::sample;

    #[test]
    fn markdown_table_marks_each_outcome() {
        let md = markdown(&sample());
        assert!(md.starts_with("## Vitals gate: failed\n\n1 of 2 conditions failed.\n"), "{md}");
        assert!(md.contains("| ✅ | `status(web) == ok` | web | ok |"), "{md}");
        assert!(md.contains("| ❌ | `p95(tag:api) < 300ms` | web | 412.0 ms |"), "{md}");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn annotations_escape_what_github_parses() {
        let text = github_annotations(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "::error title=Vitals gate%3A p95(tag%3Aapi) < 300ms (web)::`p95(tag:api) < 300ms` failed on web: measured 412.0 ms"
        );
        assert_eq!(escape_data("100%\nx"), "100%25%0Ax");
        assert_eq!(escape_property("a,b:c"), "a%2Cb%3Ac");
    }
}
