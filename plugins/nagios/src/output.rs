//! Reading what a Monitoring Plugins program printed, after the Development Guidelines:
//! the first line is the summary, text after its `|` is perfdata, the lines after it are
//! the long output, and a `|` in the long output starts more perfdata that runs to the end.
//!
//! Perfdata items are `'label'=value[UOM];[warn];[crit];[min];[max]`, separated by
//! whitespace; a label with spaces or `=` is quoted with `'` (and `''` is a quote in it).
//! Items that cannot be read are skipped with a note, never a failure.

use vitals_sdk::{Range, sanitize};

/// Longest summary kept, in characters.
pub const MAX_SUMMARY: usize = 300;
/// Longest long output kept in the details, in bytes.
pub const MAX_LONG_OUTPUT: usize = 8 * 1024;
/// Longest stderr kept in the details, in bytes.
pub const MAX_STDERR: usize = 2 * 1024;
/// Longest metric name the host keeps, in bytes.
pub const MAX_METRIC_NAME: usize = 64;
/// Longest `warn`/`crit` range the host keeps, in bytes.
const MAX_RANGE: usize = 64;
/// How much of a skipped item a note quotes, in characters.
const MAX_QUOTE: usize = 60;
/// The units Vitals keeps (the Monitoring Plugins set, with `GB`), besides none.
pub const UNITS: [&str; 10] = ["s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"];

/// A program's stdout taken apart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parts {
    /// The first line up to its `|`, trimmed (not yet cleaned).
    pub summary: String,
    /// The long output, without perfdata, as it was printed.
    pub long: String,
    /// Every perfdata text: after the first line's `|`, then after the long output's `|`.
    pub perfdata: String,
}

/// Splits stdout into summary, long output and perfdata. Leading blank lines are skipped,
/// so the summary is the first line with text; `\r\n` line ends are read as `\n`.
pub fn split(stdout: &str) -> Parts {
    let text = stdout.replace("\r\n", "\n");
    let text = text.trim_start();
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let (summary, first_perf) = first.split_once('|').unwrap_or((first, ""));
    let (long, long_perf) = rest.split_once('|').unwrap_or((rest, ""));
    let perfdata = [first_perf.trim(), long_perf.trim()].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>();
    Parts { summary: summary.trim().to_string(), long: long.to_string(), perfdata: perfdata.join(" ") }
}

/// The summary for a person: `text` cleaned, cut to [`MAX_SUMMARY`] characters, with the
/// program's own `SERVICE STATUS - ` prefix left out when its status word is `word` (Vitals
/// prints the status itself; a prefix that disagrees with the exit code stays, so that the
/// disagreement shows).
pub fn summary_text(text: &str, word: &str) -> String {
    let cleaned = sanitize(text, MAX_SUMMARY);
    without_status(cleaned.trim(), word).to_string()
}

/// `text` without a leading `[SERVICE ]WORD - ` or `[SERVICE ]WORD: ` (`DISK OK - `,
/// `HTTP WARNING: `, `UNKNOWN: `); unchanged when nothing would be left after it.
fn without_status<'a>(text: &'a str, word: &str) -> &'a str {
    let after_service = |text: &'a str| -> Option<&'a str> {
        let rest = text.strip_prefix(word)?;
        let rest = rest.trim_start_matches(' ');
        let rest = rest.strip_prefix('-').or_else(|| rest.strip_prefix(':'))?;
        let rest = rest.strip_prefix(' ')?.trim_start();
        (!rest.is_empty()).then_some(rest)
    };
    if let Some(rest) = after_service(text) {
        return rest;
    }
    let Some((service, rest)) = text.split_once(' ') else { return text };
    let service_like = service.starts_with(|c: char| c.is_ascii_alphabetic())
        && service.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if service_like { after_service(rest).unwrap_or(text) } else { text }
}

/// `text` with its lines kept: control characters (tabs too) become spaces, trailing
/// spaces and blank lines at both ends go, and it is cut to `max` bytes with `…`.
pub fn clean_lines(text: &str, max: usize) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            line.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim_end().to_string()
        })
        .collect();
    let first = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    let last = lines.iter().rposition(|l| !l.is_empty()).map_or(first, |i| i + 1);
    let joined = lines[first..last.max(first)].join("\n");
    if joined.len() <= max {
        return joined;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while end > 0 && !joined.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &joined[..end])
}

/// One perfdata item that could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Perf {
    /// The label as the program wrote it (quotes removed).
    pub label: String,
    /// The value.
    pub value: f64,
    /// A unit of [`UNITS`], or empty.
    pub unit: String,
    /// The warning range as written, when it is a range.
    pub warn: Option<String>,
    /// The critical range as written, when it is a range.
    pub crit: Option<String>,
    /// The smallest possible value.
    pub min: Option<f64>,
    /// The largest possible value.
    pub max: Option<f64>,
}

/// Reads every perfdata item of `text`; what cannot be read (or read whole) is said in
/// `notes`, one line each.
pub fn perfdata(text: &str, notes: &mut Vec<String>) -> Vec<Perf> {
    let mut items = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (item, after) = match next_item(rest) {
            Ok(split) => split,
            Err((quoted, why, after)) => {
                notes.push(format!("perfdata {} skipped: {why}", quote(quoted)));
                rest = after.trim_start();
                continue;
            }
        };
        rest = after.trim_start();
        match read_item(&item.label, item.data, notes) {
            Ok(perf) => items.push(perf),
            Err(why) => notes.push(format!("perfdata {} skipped: {why}", quote(item.raw))),
        }
    }
    items
}

/// One item's label and the text after its `=`.
struct Item<'a> {
    label: String,
    data: &'a str,
    raw: &'a str,
}

/// A skipped item: its text, why, and what follows it.
type Skipped<'a> = (&'a str, String, &'a str);

/// The first item of `text` (which starts with one), and what follows it.
fn next_item(text: &str) -> Result<(Item<'_>, &str), Skipped<'_>> {
    let word_end = |s: &str| s.find(char::is_whitespace).unwrap_or(s.len());
    let (label, after_label) = if let Some(quoted) = text.strip_prefix('\'') {
        let mut label = String::new();
        let mut chars = quoted.char_indices();
        let close = loop {
            match chars.next() {
                Some((i, '\'')) if quoted[i + 1..].starts_with('\'') => {
                    label.push('\'');
                    chars.next();
                }
                Some((i, '\'')) => break i,
                Some((_, c)) => label.push(c),
                None => return Err((text, "its quote is never closed".to_string(), "")),
            }
        };
        (label, &quoted[close + 1..])
    } else {
        let end = word_end(text);
        match text[..end].find('=') {
            Some(eq) => (text[..eq].to_string(), &text[eq..]),
            None => return Err((&text[..end], "no `=` between label and value".to_string(), &text[end..])),
        }
    };
    let Some(data) = after_label.strip_prefix('=') else {
        let end = text.len() - after_label.len() + word_end(after_label);
        return Err((&text[..end], "no `=` after the quoted label".to_string(), &text[end..]));
    };
    let end = word_end(data);
    let raw_end = text.len() - data.len() + end;
    Ok((Item { label, data: &data[..end], raw: &text[..raw_end] }, &data[end..]))
}

/// One item's `value[UOM];warn;crit;min;max`; parts that cannot be kept (a unit Vitals
/// does not know, a threshold that is not a range) are dropped with a note.
fn read_item(label: &str, data: &str, notes: &mut Vec<String>) -> Result<Perf, String> {
    if label.trim().is_empty() {
        return Err("the label is empty".to_string());
    }
    let fields: Vec<&str> = data.split(';').collect();
    if fields.len() > 5 {
        return Err(format!("{} fields after `=`, at most 5 (value;warn;crit;min;max)", fields.len()));
    }
    let written = fields[0];
    if written.is_empty() {
        return Err("no value".to_string());
    }
    if written == "U" {
        return Err("its value is U (the program could not determine it)".to_string());
    }
    let (number, uom) = split_number(written);
    let value = number.parse::<f64>().ok().filter(|v| v.is_finite() && !number.is_empty());
    let Some(value) = value.filter(|_| uom.chars().all(|c| c.is_ascii_alphabetic() || c == '%')) else {
        return Err(format!("the value {} is not a number", quote(written)));
    };
    let shown = sanitize(label, MAX_QUOTE);
    let unit = match uom {
        "" => String::new(),
        "kB" => "KB".to_string(),
        u if UNITS.contains(&u) => u.to_string(),
        u => {
            notes
                .push(format!("perfdata '{shown}': unit {u:?} dropped (Vitals keeps {}), value kept", UNITS.join(" ")));
            String::new()
        }
    };
    let field = |n: usize| fields.get(n).map(|f| f.trim()).filter(|f| !f.is_empty());
    let mut range = |n: usize, which: &str| {
        let text = field(n)?;
        if text.len() <= MAX_RANGE && Range::parse(text).is_ok() {
            Some(text.to_string())
        } else {
            notes.push(format!("perfdata '{shown}': {which} {} dropped, not a range", quote(text)));
            None
        }
    };
    let warn = range(1, "warn");
    let crit = range(2, "crit");
    let mut bound = |n: usize, which: &str| {
        let text = field(n)?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                notes.push(format!("perfdata '{shown}': {which} {} dropped, not a number", quote(text)));
                None
            }
        }
    };
    let min = bound(3, "min");
    let max = bound(4, "max");
    Ok(Perf { label: label.to_string(), value, unit, warn, crit, min, max })
}

/// `text` split after its leading number (sign, digits, one `.`, an exponent).
fn split_number(text: &str) -> (&str, &str) {
    let bytes = text.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    let mut any = digits(&mut i);
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        any |= digits(&mut i);
    }
    if any && matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        if digits(&mut j) {
            i = j;
        }
    }
    if !any {
        return ("", text);
    }
    text.split_at(i)
}

/// A skipped text quoted in a note, cleaned and bounded.
fn quote(text: &str) -> String {
    format!("\"{}\"", sanitize(text, MAX_QUOTE))
}

/// The metric name of a perfdata label: a file system path loses its leading `/` and the
/// root `/` itself is `root` (check_disk's `/` is `root`, `/var/log` is `var_log`); every
/// character but letters, digits, `_`, `-` and `.` becomes `_` (a run of them one `_`, and
/// none at either end); at most [`MAX_METRIC_NAME`] bytes; `unnamed` when nothing is left.
pub fn metric_name(label: &str) -> String {
    let label = label.trim();
    if !label.is_empty() && label.chars().all(|c| c == '/') {
        return "root".to_string();
    }
    let label = label.strip_prefix('/').unwrap_or(label);
    let mut name = String::new();
    let mut replaced = false;
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
            if replaced && !name.is_empty() {
                name.push('_');
            }
            replaced = false;
            name.push(c);
        } else {
            replaced = true;
        }
    }
    name.truncate(MAX_METRIC_NAME);
    if name.is_empty() { "unnamed".to_string() } else { name }
}

/// `name`, or when it is taken already `name_2`, `name_3`, … (within the length limit).
pub fn unique(name: String, taken: &[String]) -> String {
    if !taken.contains(&name) {
        return name;
    }
    (2..)
        .map(|n| {
            let suffix = format!("_{n}");
            let mut base = name.clone();
            base.truncate(MAX_METRIC_NAME - suffix.len());
            base + &suffix
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(name)
}
