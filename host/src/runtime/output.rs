//! The one choke point for everything a plugin controls. Nothing a plugin returns or
//! writes is trusted: summaries, details, metric names, units, thresholds and values, the
//! host's own notes about the run (refused calls quote host names the plugin chose), log
//! lines, stdout and stderr, and the plugin's self-description.
//!
//! Every string goes the same way, and in this order:
//! 1. **clean**: control characters, bidirectional overrides and isolates, and other
//!    invisible format characters become a space (or `_` in a metric name), so no terminal
//!    escape, no forged second line and no reordered text reaches a terminal, a log, a
//!    Nagios parser or the store;
//! 2. **redact**: every secret of the check is replaced, in its own form and in every form
//!    that cleaning produces from it (a secret written with a control character in place
//!    of a space comes out of cleaning as the secret, so it is matched after cleaning);
//! 3. **bound**: cut to a byte ceiling on a character boundary, with `…`.
//!
//! Metrics keep only what the Monitoring Plugins format can carry: a finite value, a unit
//! of its set, `warn`/`crit` that parse as ranges (shown in their normal form), finite
//! `min`/`max`. Whatever is dropped is said in a note. The host's notes are appended to
//! the details last and are bounded themselves, so a whole result never exceeds
//! [`MAX_RESULT_BYTES`] whatever the plugin does.

use crate::result::Metric;

/// Longest summary kept, in bytes.
pub const MAX_SUMMARY: usize = 1024;
/// Longest details kept, in bytes, the host's notes included.
pub const MAX_DETAILS: usize = 16 * 1024;
/// Most metrics kept per result.
pub const MAX_METRICS: usize = 64;
/// Longest metric name kept, in bytes.
pub const MAX_METRIC_NAME: usize = 64;
/// Longest `warn`/`crit` range kept, in bytes (a longer one is no range anyone wrote).
const MAX_RANGE: usize = 64;
/// Refused calls quoted in a result; the rest are counted.
pub const MAX_REFUSALS_SHOWN: usize = 5;
/// Longest quote of one refused call, in bytes.
const MAX_REFUSAL: usize = 200;
/// Dropped-metric-part notes quoted in a result; the rest are counted.
const MAX_METRIC_NOTES: usize = 5;
/// Longest host note kept, in bytes (a refusals note with its quotes fits).
const MAX_NOTE: usize = 2048;
/// Room kept in the details for the note that says they were cut.
const CUT_NOTE_ROOM: usize = 64;
/// Longest log line kept from a plugin, in bytes.
pub const MAX_LOG_LINE: usize = 4096;
/// Upper bound of the bytes one result's texts can take (summary, details, every metric's
/// name, unit and ranges): what the store is sized for, and what tests assert.
pub const MAX_RESULT_BYTES: usize =
    MAX_SUMMARY + MAX_DETAILS + MAX_METRICS * (MAX_METRIC_NAME + MAX_UNIT_LEN + 2 * MAX_RANGE);
/// The longest unit of [`UNITS`].
const MAX_UNIT_LEN: usize = 2;

/// The units of the Monitoring Plugins format (an empty unit is a plain number, `c` a
/// counter), plus `GB`, which Vitals' own plugins never write but readers accept.
pub const UNITS: [&str; 11] = ["", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"];

/// The text written in place of a secret value.
pub const REDACTED: &str = "***";
/// The same in a metric name, which keeps to letters, digits, `_`, `-` and `.`.
const REDACTED_NAME: &str = "redacted";

/// A plugin's result before it is trusted, as the sandbox put it together.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// One line for people.
    pub summary: String,
    /// Longer text, when there is any.
    pub details: Option<String>,
    /// Metrics as the plugin wrote them.
    pub metrics: Vec<Metric>,
}

/// What a result keeps of a [`Draft`], cleaned, redacted and bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Sealed {
    /// The summary.
    pub summary: String,
    /// The details, with the host's notes at the end.
    pub details: Option<String>,
    /// The metrics that can be trusted.
    pub metrics: Vec<Metric>,
}

impl Sealed {
    /// The bytes of its texts: summary, details, and every metric's name, unit and
    /// ranges. At most [`MAX_RESULT_BYTES`].
    pub fn text_bytes(&self) -> usize {
        let metric = |m: &Metric| {
            m.name.len()
                + m.unit.len()
                + m.warn.as_ref().map_or(0, String::len)
                + m.crit.as_ref().map_or(0, String::len)
        };
        self.summary.len()
            + self.details.as_ref().map_or(0, String::len)
            + self.metrics.iter().map(metric).sum::<usize>()
    }
}

/// The first `N` quotes of something counted, and the count: what the host notes of a
/// thing a plugin can repeat without end, at the cost of a counter, not memory.
#[derive(Debug, Clone, Default)]
struct Tally<const N: usize> {
    shown: Vec<String>,
    total: usize,
}

impl<const N: usize> Tally<N> {
    /// Counts one; `quote` is made only while fewer than `N` are shown.
    fn push(&mut self, quote: impl FnOnce() -> String) {
        self.total = self.total.saturating_add(1);
        if self.shown.len() < N {
            self.shown.push(quote());
        }
    }

    /// `head` and the quotes, then "; and M {more}" for those not shown; `None` for none.
    fn note(&self, head: &str, more: &str) -> Option<String> {
        if self.total == 0 {
            return None;
        }
        let mut note = format!("{head}{}", self.shown.join("; "));
        if self.total > self.shown.len() {
            note.push_str(&format!("; and {} {more}", self.total - self.shown.len()));
        }
        Some(note)
    }
}

/// The host calls a run was refused, bounded as they come: the first few quoted (cleaned
/// and cut), the rest only counted, so a plugin that makes refused calls in a loop costs
/// a counter, not memory.
#[derive(Debug, Clone, Default)]
pub struct Refusals(Tally<MAX_REFUSALS_SHOWN>);

impl Refusals {
    /// Records one refused call and why.
    pub fn push(&mut self, why: &str) {
        self.0.push(|| one_line(why, MAX_REFUSAL));
    }

    /// How many calls were refused.
    pub fn total(&self) -> usize {
        self.0.total
    }

    /// The note for the details, `None` when nothing was refused. Not yet redacted.
    pub fn note(&self) -> Option<String> {
        self.0.note(&format!("vitals: the sandbox refused {} call(s): ", self.0.total), "more")
    }
}

/// The one exit of a result: cleans, redacts and bounds everything in `draft`, drops the
/// metric parts that cannot be trusted, and appends the host's `notes` (each cleaned and
/// redacted too) after the details, within [`MAX_DETAILS`].
pub fn seal(draft: Draft, notes: &[String], secrets: &[String]) -> Sealed {
    let redactor = Redactor::new(secrets);
    let (summary, summary_cut) = bounded(&redactor.text(&one_line_clean(&draft.summary)), MAX_SUMMARY);
    let mut problems = MetricNotes::default();
    let total = draft.metrics.len();
    let metrics: Vec<Metric> =
        draft.metrics.into_iter().take(MAX_METRICS).filter_map(|m| metric(m, &redactor, &mut problems)).collect();
    let mut host_notes: Vec<String> = Vec::new();
    if summary_cut {
        host_notes.push(format!("vitals: summary truncated to {MAX_SUMMARY} bytes"));
    }
    if total > MAX_METRICS {
        host_notes.push(format!("vitals: {} metrics dropped (at most {MAX_METRICS} are kept)", total - MAX_METRICS));
    }
    host_notes.extend(problems.note("vitals: ", "more dropped metric parts"));
    host_notes.extend(notes.iter().map(|n| n.to_string()));
    let notes_text: Vec<String> =
        host_notes.iter().map(|n| bounded(&redactor.text(&one_line_clean(n)), MAX_NOTE).0).collect();
    let notes_len: usize = notes_text.iter().map(|n| n.len() + 1).sum();
    let room = MAX_DETAILS.saturating_sub(notes_len + CUT_NOTE_ROOM);
    let mut details = draft.details.map(|d| {
        let (text, cut) = bounded(&redactor.text(&multi_line_clean(&d)), room);
        if cut { format!("{text}\nvitals: details truncated to {room} bytes") } else { text }
    });
    if !notes_text.is_empty() {
        let mut text = details.take().filter(|d| !d.is_empty()).unwrap_or_default();
        for note in notes_text {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&note);
        }
        details = Some(bounded(&text, MAX_DETAILS).0);
    }
    Sealed { summary, details, metrics }
}

/// The notes about metric parts that were dropped, bounded like refusals.
type MetricNotes = Tally<MAX_METRIC_NOTES>;

/// One metric, trusted or dropped (a non-finite value has nothing to show).
fn metric(m: Metric, redactor: &Redactor, notes: &mut MetricNotes) -> Option<Metric> {
    let name = metric_name(&redactor.name(&metric_name(&m.name)));
    if !m.value.is_finite() {
        notes.push(|| format!("metric `{name}` dropped: its value {} is not a finite number", m.value));
        return None;
    }
    let unit = if UNITS.contains(&m.unit.as_str()) {
        m.unit
    } else {
        notes.push(|| {
            format!("unit of metric `{name}` dropped: not a Monitoring Plugins unit ({})", UNITS[1..].join(" "))
        });
        String::new()
    };
    let warn = threshold(&name, "warn", m.warn, redactor, notes);
    let crit = threshold(&name, "crit", m.crit, redactor, notes);
    Some(Metric {
        name,
        value: m.value,
        unit,
        warn,
        crit,
        min: m.min.filter(|v| v.is_finite()),
        max: m.max.filter(|v| v.is_finite()),
    })
}

/// A `warn` or `crit` range in its normal form, or `None` with a note when it does not
/// parse (or when its normal form would show a secret).
fn threshold(
    name: &str,
    which: &str,
    range: Option<String>,
    redactor: &Redactor,
    notes: &mut MetricNotes,
) -> Option<String> {
    let text = range?;
    let parsed = (text.len() <= MAX_RANGE).then(|| vitals_units::Range::parse(&text).ok()).flatten();
    match parsed.map(|r| r.to_string()) {
        Some(normal) if redactor.text(&normal) == normal => Some(normal),
        Some(_) => {
            notes.push(|| format!("{which} of metric `{name}` dropped: it shows a secret"));
            None
        }
        None => {
            notes.push(|| {
                format!("{which} of metric `{name}` dropped: not a range (write e.g. 10, 10:20, ~:5 or @1:2)")
            });
            None
        }
    }
}

/// `text` on one line, cleaned and redacted, at most `max` bytes: for the host's own
/// messages that quote a plugin (a panic message, a notifier's error, a log line).
pub fn line(text: &str, max: usize, secrets: &[String]) -> String {
    bounded(&Redactor::new(secrets).text(&one_line_clean(text)), max).0
}

/// `text` with its lines kept, cleaned and redacted, at most `max` bytes (stdout, stderr,
/// a trap's backtrace).
pub fn lines(text: &str, max: usize, secrets: &[String]) -> String {
    bounded(&Redactor::new(secrets).text(&multi_line_clean(text)), max).0
}

/// `text` on one line, cleaned, at most `max` bytes, for what has no secrets to hide (a
/// plugin's self-description).
pub fn one_line(text: &str, max: usize) -> String {
    bounded(&one_line_clean(text), max).0
}

/// `text` with its lines kept, cleaned, at most `max` bytes.
pub fn multi_line(text: &str, max: usize) -> String {
    bounded(&multi_line_clean(text), max).0
}

/// Whether a character must not reach output: a control character, a bidirectional
/// embedding, override or isolate (which reorder what a terminal or a browser shows), or
/// another invisible format character (zero-width ones, BOM, soft hyphen).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}')
        || matches!(c, '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

fn one_line_clean(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if unsafe_char(c) { ' ' } else { c }).collect();
    cleaned.trim().to_string()
}

fn multi_line_clean(text: &str) -> String {
    text.chars().map(|c| if unsafe_char(c) && c != '\n' && c != '\t' { ' ' } else { c }).collect()
}

/// Metric names are letters, digits, `_`, `-` and `.`, at most [`MAX_METRIC_NAME`] bytes;
/// anything else becomes `_`.
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

/// A metric name's skeleton: ASCII letters and digits kept, everything else `_`, one
/// character for one (a name is ASCII already; a secret's other characters become `_`).
fn skeleton(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// `text` cut to at most `max` bytes on a character boundary, with `…` when cut.
fn bounded(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_string(), false);
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    (format!("{}…", &text[..end]), true)
}

/// A check's secrets in every form output can show them in: as given, and as each
/// cleaning rewrites them. Longest first, so a secret containing another goes whole.
struct Redactor {
    forms: Vec<String>,
}

impl Redactor {
    fn new(secrets: &[String]) -> Redactor {
        let mut forms: Vec<String> = Vec::new();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            for form in [secret.clone(), one_line_clean(secret), multi_line_clean(secret), metric_name(secret)] {
                // A secret made only of what cleaning blanks out must not redact every space.
                let visible = form.chars().any(|c| !c.is_whitespace() && c != '_');
                if visible && !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        Redactor { forms }
    }

    fn text(&self, text: &str) -> String {
        self.with(text, REDACTED)
    }

    /// A metric name (letters, digits, `_`, `-`, `.` only) with every secret replaced,
    /// compared on their skeletons (every other character read as `_`), so a secret whose
    /// separators the plugin swapped for others is still found.
    fn name(&self, name: &str) -> String {
        let mut out = name.to_string();
        for form in &self.forms {
            let wanted = skeleton(form);
            if wanted.is_empty() || wanted.chars().all(|c| c == '_') {
                continue;
            }
            let mut seen = skeleton(&out);
            while let Some(at) = seen.find(&wanted) {
                // Both are ASCII here: byte offsets in the skeleton are offsets in `out`.
                out.replace_range(at..at + wanted.len(), REDACTED_NAME);
                seen = skeleton(&out);
            }
        }
        out
    }

    fn with(&self, text: &str, marker: &str) -> String {
        let mut out = text.to_string();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), marker);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, value: f64, unit: &str) -> Metric {
        Metric { name: name.into(), value, unit: unit.into(), warn: None, crit: None, min: None, max: None }
    }

    fn draft(summary: &str, details: Option<&str>, metrics: Vec<Metric>) -> Draft {
        Draft { summary: summary.into(), details: details.map(String::from), metrics }
    }

    fn secrets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn redaction_replaces_every_occurrence_longest_first() {
        assert_eq!(Redactor::new(&secrets(&["abc", "abcdef"])).text("x abcdef abc"), "x *** ***");
    }

    #[test]
    fn a_huge_summary_is_cut_to_one_bounded_line_and_said_so() {
        let s = seal(draft(&"x".repeat(10 << 20), None, vec![]), &[], &[]);
        assert!(s.summary.len() <= MAX_SUMMARY && s.summary.ends_with('…'));
        assert!(s.details.as_deref().unwrap_or_default().contains("summary truncated"));
    }

    #[test]
    fn terminal_escapes_bidi_overrides_and_newlines_never_reach_the_output() {
        assert_eq!(one_line("ok\x1b[31m red\nnext", 100), "ok [31m red next");
        assert_eq!(multi_line("a\nb\x07", 100), "a\nb ");
        let s = seal(draft("price \u{202E}001$\u{202C} ok\u{200B}", Some("x\u{2066}y\u{2069}\r\nz"), vec![]), &[], &[]);
        assert_eq!(s.summary, "price  001$  ok");
        assert_eq!(s.details.as_deref(), Some("x y  \nz"));
    }

    #[test]
    fn secrets_are_redacted_everywhere_a_plugin_writes() {
        let secret = secrets(&["hunter2"]);
        let mut metric = m("hunter2 time", 1.0, "ms");
        metric.warn = Some("hunter2".into());
        let s = seal(
            draft("pw hunter2", Some("x\nhunter2"), vec![metric]),
            &["refused hunter2.example:443".into()],
            &secret,
        );
        assert_eq!(s.summary, "pw ***");
        assert_eq!(s.metrics[0].name, "redacted_time");
        assert_eq!(s.metrics[0].warn, None, "not a range");
        let details = s.details.unwrap_or_default();
        assert!(details.starts_with("x\n***"), "{details}");
        assert!(details.contains("refused ***.example:443"), "{details}");
        assert!(!details.contains("hunter2"), "{details}");
    }

    #[test]
    fn a_secret_disguised_by_what_cleaning_rewrites_is_still_redacted() {
        // The plugin writes the secret with a control character where it has a space, or
        // with a character a metric name cannot hold where it has `_`: cleaning would
        // turn either back into the secret.
        let secret = secrets(&["open sesame", "api_key-42"]);
        let metric = m("x.api/key/42.y", 1.0, "");
        let s = seal(draft("a open\x01sesame b", Some("open\u{202E}sesame"), vec![metric]), &[], &secret);
        assert_eq!(s.summary, "a *** b");
        assert_eq!(s.details.as_deref(), Some("***"));
        assert_eq!(s.metrics[0].name, "x.redacted.y");
    }

    #[test]
    fn a_range_that_shows_a_secret_is_dropped() {
        let mut metric = m("t", 1.0, "");
        metric.crit = Some("31337".into());
        let s = seal(draft("", None, vec![metric]), &[], &secrets(&["31337"]));
        assert_eq!(s.metrics[0].crit, None);
        assert!(s.details.unwrap_or_default().contains("crit of metric `t` dropped: it shows a secret"));
    }

    #[test]
    fn units_and_ranges_that_could_forge_perfdata_are_dropped_with_a_note() {
        let mut forged = m("time", 1.0, "ms;1;2 'fake'=1");
        forged.warn = Some("1;2 'injected'=3".into());
        forged.crit = Some("@~:10".into());
        let s = seal(draft("", None, vec![forged]), &[], &[]);
        let kept = &s.metrics[0];
        assert_eq!((kept.unit.as_str(), kept.warn.as_deref(), kept.crit.as_deref()), ("", None, Some("@~:10")));
        let details = s.details.unwrap_or_default();
        assert!(details.contains("unit of metric `time` dropped"), "{details}");
        assert!(details.contains("warn of metric `time` dropped: not a range"), "{details}");
    }

    #[test]
    fn non_finite_values_are_dropped_and_non_finite_bounds_forgotten() {
        let mut bounded_metric = m("b", 2.0, "%");
        bounded_metric.min = Some(f64::NEG_INFINITY);
        bounded_metric.max = Some(100.0);
        let s =
            seal(draft("", None, vec![m("nan", f64::NAN, ""), m("inf", f64::INFINITY, "s"), bounded_metric]), &[], &[]);
        assert_eq!(s.metrics.len(), 1);
        assert_eq!((s.metrics[0].min, s.metrics[0].max), (None, Some(100.0)));
        assert!(s.details.unwrap_or_default().contains("metric `nan` dropped"));
    }

    #[test]
    fn metrics_over_the_cap_are_dropped_and_counted() {
        let s = seal(draft("", None, vec![m("a", 1.0, ""); MAX_METRICS + 5]), &[], &[]);
        assert_eq!(s.metrics.len(), MAX_METRICS);
        assert!(s.details.unwrap_or_default().contains("5 metrics dropped"));
    }

    #[test]
    fn refusals_keep_a_few_quotes_and_count_the_rest() {
        let mut refusals = Refusals::default();
        for i in 0..100_000 {
            refusals.push(&format!("{}{i}.example:443 is not granted", "x".repeat(10_000)));
        }
        assert_eq!(refusals.total(), 100_000);
        let note = refusals.note().unwrap_or_default();
        assert!(note.starts_with("vitals: the sandbox refused 100000 call(s): "), "{}", &note[..80]);
        assert!(note.ends_with("; and 99995 more"), "{note}");
        assert!(note.len() < MAX_REFUSALS_SHOWN * (MAX_REFUSAL + 2) + 100, "{}", note.len());
    }

    #[test]
    fn the_host_notes_come_last_and_the_whole_result_stays_under_its_ceiling() {
        let mut many = Vec::new();
        for i in 0..1000 {
            let mut metric = m(&format!("{}{i}", "n".repeat(500)), 1.0, "nonsense");
            metric.warn = Some("9".repeat(10_000));
            metric.crit = Some("1:2".into());
            many.push(metric);
        }
        let mut refusals = Refusals::default();
        for _ in 0..1000 {
            refusals.push(&"h".repeat(100_000));
        }
        let notes: Vec<String> = refusals.note().into_iter().collect();
        let s = seal(draft(&"s".repeat(1 << 20), Some(&"d\n".repeat(1 << 20)), many), &notes, &[]);
        assert!(s.text_bytes() <= MAX_RESULT_BYTES, "{} > {MAX_RESULT_BYTES}", s.text_bytes());
        let details = s.details.unwrap_or_default();
        assert!(details.len() <= MAX_DETAILS);
        assert!(details.ends_with("; and 995 more"), "the refusals note is kept whole at the end");
        assert!(details.contains("details truncated"));
    }

    #[test]
    fn a_secret_of_only_blank_characters_does_not_blank_the_output() {
        let s = seal(draft("a b  c", None, vec![]), &[], &secrets(&["\x01\x02"]));
        assert_eq!(s.summary, "a b  c");
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        let (s, cut) = bounded(&"é".repeat(10), 7);
        assert!(cut);
        assert!(s.len() <= 7, "{s}");
    }
}
