//! The line that fixes a value of the wrong type when what was meant is plain (a bare
//! number for a duration gets a unit, a quoted number loses its quotes): one rule for the
//! file's own keys (`table`) and for the keys a plugin declares (`validate`).

/// How a duration is written, for the help of one that does not parse.
pub const DURATION_HELP: &str = "write a number and a unit: \"500ms\", \"10s\", \"5m\", \"1h\"";

/// How a Monitoring Plugins threshold range is written, for the help of one that does not
/// parse.
pub const RANGE_HELP: &str = "write a range: \"10\" (alert outside 0..10), \"10:\" (below 10), \"~:10\" (above 10), \
     \"10:20\" (outside), \"@10:20\" (inside)";

/// What a key takes, as far as writing the fix of a wrong value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A string (a range is one too): a scalar gets quotes.
    Text,
    /// A duration string; a bare number gets this unit, the one it most likely meant.
    Duration(&'static str),
    /// A size string; a bare number is a count of MiB when small, of bytes when large.
    Size,
    /// A percentage string; a bare number gets `%`.
    Percent,
    /// A whole number: a quoted one loses its quotes, a whole float its fraction.
    Integer,
    /// A number: a quoted one loses its quotes.
    Number,
    /// `true` or `false`: a quoted one loses its quotes.
    Boolean,
    /// A list of strings: one string becomes a list of one.
    Strings,
    /// A list of whole numbers: one number becomes a list of one.
    Integers,
}

/// A value as written, reduced to what a fix needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Written<'a> {
    /// A whole number that fits 64 bits.
    Integer(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// `true` or `false`.
    Boolean,
    /// A date or time.
    Datetime,
    /// A string, its content.
    String(&'a str),
    /// An array, a table, or a number that does not fit.
    Other,
}

impl<'a> Written<'a> {
    /// The reduced form of a parsed TOML value.
    pub fn of(value: &'a toml::Value) -> Written<'a> {
        match value {
            toml::Value::Integer(n) => Written::Integer(*n),
            toml::Value::Float(f) => Written::Float(*f),
            toml::Value::Boolean(_) => Written::Boolean,
            toml::Value::Datetime(_) => Written::Datetime,
            toml::Value::String(s) => Written::String(s),
            toml::Value::Array(_) | toml::Value::Table(_) => Written::Other,
        }
    }

    /// The number, in the shortest form that reads back as the same value.
    fn number(self) -> Option<String> {
        match self {
            Written::Integer(n) => Some(n.to_string()),
            Written::Float(f) if f.is_finite() => Some(f.to_string()),
            _ => None,
        }
    }
}

/// The line `key = …` that fixes `value` for a key that takes `want`, when the intent is
/// plain; `raw` is the value's text as written in the file, when it is short.
pub fn fix(key: &str, want: Want, value: Written<'_>, raw: Option<&str>) -> Option<String> {
    use Written as W;
    match (want, value) {
        (Want::Duration(unit), W::Integer(_) | W::Float(_)) => value.number().map(|n| format!("{key} = \"{n}{unit}\"")),
        (Want::Size, W::Integer(n)) => {
            let n = u64::try_from(n).ok()?;
            // A small number is a count of MiB; a large one, of bytes.
            let size = if n >= 1 << 20 && n % (1 << 20) == 0 {
                format!("{}MiB", n >> 20)
            } else if n >= 1 << 20 {
                format!("{n}B")
            } else {
                format!("{n}MiB")
            };
            Some(format!("{key} = \"{size}\""))
        }
        (Want::Percent, W::Integer(_) | W::Float(_)) => value.number().map(|n| format!("{key} = \"{n}%\"")),
        (Want::Text, W::Integer(_) | W::Float(_) | W::Boolean | W::Datetime) => {
            raw.map(|raw| format!("{key} = \"{raw}\""))
        }
        (Want::Integer, W::String(s)) => s.trim().parse::<i64>().ok().map(|n| format!("{key} = {n}")),
        (Want::Integer, W::Float(f)) => (f.fract() == 0.0 && f.abs() < 1e15).then(|| format!("{key} = {}", f as i64)),
        (Want::Number, W::String(s)) => s.trim().parse::<f64>().ok().map(|_| format!("{key} = {}", s.trim())),
        (Want::Boolean, W::String(s)) => matches!(s.trim(), "true" | "false").then(|| format!("{key} = {}", s.trim())),
        (Want::Strings, W::String(_)) => raw.map(|raw| format!("{key} = [{raw}]")),
        (Want::Integers, W::Integer(n)) => Some(format!("{key} = [{n}]")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_number_gets_the_unit_or_the_quotes_its_key_needs() {
        assert_eq!(
            fix("timeout", Want::Duration("s"), Written::Integer(5), Some("5")).as_deref(),
            Some("timeout = \"5s\"")
        );
        assert_eq!(fix("memory", Want::Size, Written::Integer(64), Some("64")).as_deref(), Some("memory = \"64MiB\""));
        assert_eq!(fix("slo", Want::Percent, Written::Float(99.9), Some("99.9")).as_deref(), Some("slo = \"99.9%\""));
        assert_eq!(fix("crit", Want::Text, Written::Integer(500), Some("500")).as_deref(), Some("crit = \"500\""));
    }

    #[test]
    fn a_quoted_value_loses_its_quotes_when_the_key_takes_a_number_or_a_boolean() {
        let s = Written::String;
        assert_eq!(fix("max_redirects", Want::Integer, s("5"), None).as_deref(), Some("max_redirects = 5"));
        assert_eq!(fix("ratio", Want::Number, s("0.5"), None).as_deref(), Some("ratio = 0.5"));
        assert_eq!(fix("insecure", Want::Boolean, s("true"), None).as_deref(), Some("insecure = true"));
        assert_eq!(fix("max_redirects", Want::Integer, s("five"), None), None);
    }

    #[test]
    fn one_value_for_a_list_becomes_a_list_of_one() {
        assert_eq!(fix("tags", Want::Strings, Written::String("a"), Some("\"a\"")).as_deref(), Some("tags = [\"a\"]"));
        assert_eq!(fix("ports", Want::Integers, Written::Integer(80), Some("80")).as_deref(), Some("ports = [80]"));
    }
}
