//! One TOML table of `checks.toml`, read key by key: each value is checked against the
//! type its key takes, and every unknown key is reported, so one mistake hides no other.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::Problem;
use super::hint::{self, Want, Written};
use crate::plan::closest;

/// A string with its position in the file.
pub type SpannedStr = Spanned<String>;

/// A plugin's own settings (`[check.config]`), keys and values located.
pub type ConfigTable = Spanned<BTreeMap<SpannedStr, Spanned<toml::Value>>>;

/// A sub-table found in a table: its span (the `[header]`, or the inline table) and its entries.
pub type Section<'a, 'i> = (Range<usize>, &'a DeTable<'i>);

/// What a key takes: checked on reading, and used to write the hint that fixes a wrong value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Any string.
    Text,
    /// A duration string; the unit is the one a bare number most likely meant.
    Duration(&'static str),
    /// A size string such as `"64MiB"`.
    Size,
    /// A percentage string such as `"99.9%"`.
    Percent,
    /// A whole number.
    Integer,
    /// A number, whole or not.
    Number,
    /// A list of strings.
    Strings,
    /// A table of free-form settings.
    Config,
    /// A table written once (`[defaults]`).
    Table,
    /// An array of tables (`[[check]]`).
    Tables,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Duration(_) => "a duration string",
            Kind::Size => "a size string",
            Kind::Percent => "a percentage string",
            Kind::Integer => "a whole number",
            Kind::Number => "a number",
            Kind::Strings => "a list of strings",
            Kind::Config | Kind::Table => "a table",
            Kind::Tables => "an array of tables",
        }
    }

    /// A value of this kind, as it would be written after `key = `.
    fn example(self) -> String {
        match self {
            Kind::Text => "\"...\"".into(),
            Kind::Duration(unit) => format!("\"10{unit}\""),
            Kind::Size => "\"64MiB\"".into(),
            Kind::Percent => "\"99.9%\"".into(),
            Kind::Integer => "3".into(),
            Kind::Number => "25.0".into(),
            Kind::Strings => "[\"a\", \"b\"]".into(),
            Kind::Config | Kind::Table | Kind::Tables => "{ key = \"value\" }".into(),
        }
    }
}

/// One table being read. Each accessor names a key the table accepts; [`Table::finish`]
/// then reports every key that no accessor asked for.
pub struct Table<'a, 'i> {
    /// How the table is written (`[[check]]`); `None` for the top level of the file.
    header: Option<&'static str>,
    span: Range<usize>,
    entries: &'a DeTable<'i>,
    text: &'i str,
    known: Vec<(&'static str, Kind)>,
    problems: Vec<Problem>,
}

impl<'a, 'i> Table<'a, 'i> {
    /// The top level of a file whose text is `text`.
    pub fn top(root: &'a Spanned<DeTable<'i>>, text: &'i str) -> Table<'a, 'i> {
        Table {
            header: None,
            span: root.span(),
            entries: root.get_ref(),
            text,
            known: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// A table found in the file, written as `header`.
    pub fn open(header: &'static str, (span, entries): Section<'a, 'i>, text: &'i str) -> Table<'a, 'i> {
        Table { header: Some(header), span, entries, text, known: Vec::new(), problems: Vec::new() }
    }

    /// A string.
    pub fn text(&mut self, key: &'static str) -> Option<SpannedStr> {
        self.string(key, Kind::Text)
    }

    /// A duration string (`"10s"`); `unit` is what a bare number most likely meant.
    pub fn duration(&mut self, key: &'static str, unit: &'static str) -> Option<SpannedStr> {
        self.string(key, Kind::Duration(unit))
    }

    /// A size string (`"64MiB"`).
    pub fn size(&mut self, key: &'static str) -> Option<SpannedStr> {
        self.string(key, Kind::Size)
    }

    /// A percentage string (`"99.9%"`).
    pub fn percent(&mut self, key: &'static str) -> Option<SpannedStr> {
        self.string(key, Kind::Percent)
    }

    /// A whole number.
    pub fn integer(&mut self, key: &'static str) -> Option<Spanned<i64>> {
        let value = self.get(key, Kind::Integer)?;
        match value.get_ref() {
            DeValue::Integer(n) => match i64::from_str_radix(n.as_str(), n.radix()) {
                Ok(n) => Some(Spanned::new(value.span(), n)),
                Err(_) => {
                    self.problem(value.span(), format!("`{key}` = {n} is too large"), "write a smaller number");
                    None
                }
            },
            _ => self.wrong_type(key, Kind::Integer, value),
        }
    }

    /// A number; a whole number is accepted too.
    pub fn number(&mut self, key: &'static str) -> Option<Spanned<f64>> {
        let value = self.get(key, Kind::Number)?;
        let number = match value.get_ref() {
            DeValue::Integer(n) => i64::from_str_radix(n.as_str(), n.radix()).ok().map(|n| n as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            _ => None,
        };
        match number {
            Some(n) => Some(Spanned::new(value.span(), n)),
            None => self.wrong_type(key, Kind::Number, value),
        }
    }

    /// A list of strings. Each item of another type is reported; the strings are kept.
    pub fn strings(&mut self, key: &'static str) -> Option<Vec<SpannedStr>> {
        let value = self.get(key, Kind::Strings)?;
        let DeValue::Array(items) = value.get_ref() else {
            return self.wrong_type(key, Kind::Strings, value);
        };
        let mut strings = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::String(s) => strings.push(Spanned::new(item.span(), s.to_string())),
                other => {
                    let found = self.found(other, item.span());
                    let help = match self.raw(item.span()) {
                        Some(raw) if is_scalar(other) => format!("put it in quotes: \"{raw}\""),
                        _ => format!("write for example `{key} = {}`", Kind::Strings.example()),
                    };
                    self.problem(
                        item.span(),
                        format!("item {} of `{key}` must be a string, found {found}", index + 1),
                        help,
                    );
                }
            }
        }
        Some(strings)
    }

    /// A table of a plugin's own settings, taken as they are (the plugin's description
    /// checks them later).
    pub fn config(&mut self, key: &'static str) -> Option<ConfigTable> {
        let value = self.get(key, Kind::Config)?;
        let DeValue::Table(entries) = value.get_ref() else {
            return self.wrong_type(key, Kind::Config, value);
        };
        let mut table = BTreeMap::new();
        for (name, setting) in entries.iter() {
            match toml::Value::deserialize(ValueDeserializer::from(setting.clone())) {
                Ok(v) => {
                    table
                        .insert(Spanned::new(name.span(), name.get_ref().to_string()), Spanned::new(setting.span(), v));
                }
                // Only a number beyond 64 bits gets here: TOML has no larger integers.
                Err(e) => self.problem(
                    setting.span(),
                    format!("`{}` cannot be read: {}", name.get_ref(), e.message().trim_end()),
                    "TOML integers have 64 bits; write a larger number as a string",
                ),
            }
        }
        Some(Spanned::new(value.span(), table))
    }

    /// A table written once, such as `[defaults]`.
    pub fn table(&mut self, key: &'static str) -> Option<Section<'a, 'i>> {
        let value = self.get(key, Kind::Table)?;
        match value.get_ref() {
            DeValue::Table(entries) => Some((value.span(), entries)),
            _ => self.wrong_type(key, Kind::Table, value),
        }
    }

    /// An array of tables, such as the `[[check]]` tables.
    pub fn tables(&mut self, key: &'static str) -> Vec<Section<'a, 'i>> {
        let Some(value) = self.get(key, Kind::Tables) else { return Vec::new() };
        let tables: Option<Vec<Section<'a, 'i>>> = match value.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::Table(entries) => Some((item.span(), entries)),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        match tables {
            Some(tables) => tables,
            None => {
                self.wrong_type::<()>(key, Kind::Tables, value);
                Vec::new()
            }
        }
    }

    /// `value`, or a "missing field" problem at the table's header when the key is absent
    /// (a key present with a wrong type has been reported already).
    pub fn required<T>(&mut self, key: &'static str, value: Option<T>) -> Option<T> {
        if value.is_none() && !self.has(key) {
            let header = self.header.unwrap_or("the file");
            let example =
                self.known.iter().find(|(k, _)| *k == key).map_or_else(String::new, |(_, kind)| kind.example());
            self.problem(
                self.span.clone(),
                format!("missing field `{key}` in {header}"),
                format!("add `{key} = {example}` to this {header}"),
            );
        }
        value
    }

    /// Every problem found, with one for each key that no accessor asked for. `fallback`
    /// is the help of an unknown key that is no near miss of a known one; without it the
    /// help lists the keys the table takes.
    pub fn finish(mut self, fallback: Option<&str>) -> Vec<Problem> {
        let entries = self.entries;
        for (key, value) in entries.iter() {
            let name = key.get_ref().as_ref();
            if self.known.iter().any(|(k, _)| *k == name) {
                continue;
            }
            let message = match (self.header, value.get_ref()) {
                (Some(header), _) => format!("unknown field `{name}` in {header}"),
                (None, DeValue::Table(_)) => format!("unknown table [{name}]"),
                (None, DeValue::Array(items)) if items.iter().all(|i| i.get_ref().is_table()) => {
                    format!("unknown table [[{name}]]")
                }
                (None, _) => format!("unknown field `{name}` outside any table"),
            };
            let near = closest(name, self.known.iter().map(|(k, _)| *k));
            let help = match (near, fallback) {
                (Some(near), _) => format!("did you mean {}?", self.shown(near)),
                (None, Some(fallback)) => fallback.to_string(),
                (None, None) => {
                    let keys: Vec<String> = self.known.iter().map(|(k, _)| self.shown(k)).collect();
                    format!("{} takes {}", self.header.unwrap_or("the file"), keys.join(", "))
                }
            };
            self.problem(key.span(), message, help);
        }
        self.problems
    }

    /// A known key as the user would write it: `[store]`, `[[check]]` or `` `timeout` ``.
    fn shown(&self, key: &str) -> String {
        match self.known.iter().find(|(k, _)| *k == key).map(|(_, kind)| *kind) {
            Some(Kind::Table) => format!("[{key}]"),
            Some(Kind::Tables) => format!("[[{key}]]"),
            _ => format!("`{key}`"),
        }
    }

    /// Where the table is: its `[header]`, or the inline table.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Whether the table has `key`, whatever its value.
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.get_ref() == key)
    }

    /// The value of `key`, remembering that the table takes `key`.
    fn get(&mut self, key: &'static str, kind: Kind) -> Option<&'a Spanned<DeValue<'i>>> {
        self.known.push((key, kind));
        let entries = self.entries;
        entries.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
    }

    fn string(&mut self, key: &'static str, kind: Kind) -> Option<SpannedStr> {
        let value = self.get(key, kind)?;
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(value.span(), s.to_string())),
            _ => self.wrong_type(key, kind, value),
        }
    }

    /// Reports a value of the wrong type: what was expected, what was found, and the
    /// line to write instead when the intent is plain.
    fn wrong_type<T>(&mut self, key: &'static str, kind: Kind, value: &Spanned<DeValue<'i>>) -> Option<T> {
        let found = self.found(value.get_ref(), value.span());
        let help = match fix(key, kind, value.get_ref(), self.raw(value.span())) {
            Some(line) => format!("write `{line}`"),
            None if kind == Kind::Tables => format!("write [[{key}]], with two brackets, before each one"),
            None if kind == Kind::Table => format!("write [{key}], with one bracket, once"),
            None => format!("write for example `{key} = {}`", kind.example()),
        };
        self.problem(value.span(), format!("`{key}` must be {}, found {found}", kind.expected()), help);
        None
    }

    /// A value's type, with its text when that is short: `integer 5`, `table`.
    fn found(&self, value: &DeValue<'_>, span: Range<usize>) -> String {
        match self.raw(span) {
            Some(raw) if is_scalar(value) => format!("{} {raw}", value.type_str()),
            _ => value.type_str().to_string(),
        }
    }

    /// The text of a span when it is one short line.
    fn raw(&self, span: Range<usize>) -> Option<&'i str> {
        self.text.get(span).filter(|raw| raw.len() <= 40 && !raw.contains('\n'))
    }

    fn problem(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push((span, message.into(), help.into()));
    }
}

fn is_scalar(value: &DeValue<'_>) -> bool {
    !matches!(value, DeValue::Array(_) | DeValue::Table(_))
}

/// The line that fixes a value of the wrong type, when what was meant is plain
/// ([`hint::fix`], the rule the keys of plugins share).
fn fix(key: &str, kind: Kind, value: &DeValue<'_>, raw: Option<&str>) -> Option<String> {
    let want = match kind {
        Kind::Text => Want::Text,
        Kind::Duration(unit) => Want::Duration(unit),
        Kind::Size => Want::Size,
        Kind::Percent => Want::Percent,
        Kind::Integer => Want::Integer,
        Kind::Number => Want::Number,
        Kind::Strings => Want::Strings,
        Kind::Config | Kind::Table | Kind::Tables => return None,
    };
    let written = match value {
        DeValue::Integer(n) => i64::from_str_radix(n.as_str(), n.radix()).map_or(Written::Other, Written::Integer),
        DeValue::Float(f) => f.as_str().parse::<f64>().map_or(Written::Other, Written::Float),
        DeValue::Boolean(_) => Written::Boolean,
        DeValue::Datetime(_) => Written::Datetime,
        DeValue::String(s) => Written::String(s),
        DeValue::Array(_) | DeValue::Table(_) => Written::Other,
    };
    hint::fix(key, want, written, raw)
}
