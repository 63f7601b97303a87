//! Record data compared the way a person means it: an expected value (`expect`) and the
//! data of an answer record are both split into the fields of their record type and each
//! field normalized (addresses parsed, names without case and trailing dot, numbers as
//! numbers), so `"10 MX.example.com"` matches `10 mx.example.com.`.

use std::net::{Ipv4Addr, Ipv6Addr};

use vitals_sdk::dns::RecordType;

/// What one field of a record's presentation format holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// An IPv4 address.
    V4,
    /// An IPv6 address.
    V6,
    /// A domain name: compared without case and without its trailing dot.
    Name,
    /// An unsigned number (preference, port, serial, CAA flags).
    Number,
    /// A word compared without case (a CAA tag).
    Word,
    /// The rest of the text, one pair of surrounding quotes dropped, compared without
    /// case (a CAA value).
    RestFolded,
    /// The rest of the text, one pair of surrounding quotes dropped, compared exactly
    /// (TXT: tokens and keys are case-sensitive).
    RestExact,
}

/// The fields of a record type's data, in presentation order.
fn layout(kind: RecordType) -> &'static [Field] {
    use Field::*;
    match kind {
        RecordType::A => &[V4],
        RecordType::Aaaa => &[V6],
        RecordType::Cname | RecordType::Ns | RecordType::Ptr => &[Name],
        RecordType::Mx => &[Number, Name],
        RecordType::Srv => &[Number, Number, Number, Name],
        RecordType::Soa => &[Name, Name, Number, Number, Number, Number, Number],
        RecordType::Caa => &[Number, Word, RestFolded],
        RecordType::Txt => &[RestExact],
    }
}

/// How an expected value is held against a record's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Every field given, every field equal.
    Whole,
    /// The first field left out (an MX exchange without its preference, a CAA record
    /// without its flags): the other fields equal.
    AfterFirst,
    /// The first fields given (an SOA record's names, perhaps its serial): those equal.
    Prefix,
}

/// One value of `expect`, parsed for the record type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The value as written (trimmed), for summaries.
    pub text: String,
    fields: Vec<String>,
    rule: Rule,
}

impl Expected {
    /// Reads an expected value of a record of type `kind`; the error says what such a
    /// value looks like.
    pub fn parse(kind: RecordType, text: &str) -> Result<Expected, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an expected value is empty".to_string());
        }
        let full = layout(kind);
        let given = split(text, full);
        let (rule, fields) = match kind {
            RecordType::Mx if given.len() == 1 => (Rule::AfterFirst, &full[1..]),
            RecordType::Caa if given.first().is_some_and(|first| first.parse::<u8>().is_err()) => {
                (Rule::AfterFirst, &full[1..])
            }
            RecordType::Soa if given.len() < full.len() => (Rule::Prefix, &full[..given.len()]),
            _ => (Rule::Whole, full),
        };
        // Split again by the layout chosen, so a CAA value without flags keeps its spaces.
        let given = split(text, fields);
        if given.len() != fields.len() {
            return Err(format!("{text:?} is not {}", shape(kind)));
        }
        let fields = fields
            .iter()
            .zip(&given)
            .map(|(field, value)| normalize(*field, value).ok_or_else(|| format!("{text:?} is not {}", shape(kind))))
            .collect::<Result<Vec<String>, String>>()?;
        Ok(Expected { text: text.to_string(), fields, rule })
    }

    /// Whether `other` is the same value, however differently it was written.
    pub fn same_as(&self, other: &Expected) -> bool {
        self.rule == other.rule && self.fields == other.fields
    }

    /// Whether a record's data ([`Data::of`]) is this value.
    pub fn matches(&self, data: &Data) -> bool {
        let actual = &data.0;
        match self.rule {
            Rule::Whole => *actual == self.fields,
            Rule::AfterFirst => actual.get(1..).is_some_and(|rest| rest == self.fields.as_slice()),
            Rule::Prefix => actual.get(..self.fields.len()).is_some_and(|head| head == self.fields.as_slice()),
        }
    }
}

/// An answer record's data, split into its normalized fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data(Vec<String>);

impl Data {
    /// The normalized fields of `data`, the presentation text the host gives for a
    /// record of type `kind`. Never fails: a field that does not read as its type is kept
    /// as written (lower case), so it matches nothing normalized.
    pub fn of(kind: RecordType, data: &str) -> Data {
        let fields = layout(kind);
        let given = split(data.trim(), fields);
        Data(
            given
                .iter()
                .enumerate()
                .map(|(i, value)| match fields.get(i) {
                    Some(field) => normalize(*field, value).unwrap_or_else(|| value.to_lowercase()),
                    None => value.to_lowercase(),
                })
                .collect(),
        )
    }
}

/// What a value of `kind` looks like, for an error message.
fn shape(kind: RecordType) -> &'static str {
    match kind {
        RecordType::A => "an IPv4 address (192.0.2.1)",
        RecordType::Aaaa => "an IPv6 address (2001:db8::1)",
        RecordType::Cname | RecordType::Ns | RecordType::Ptr => "one domain name (host.example.com)",
        RecordType::Mx => "an MX value: \"PREFERENCE EXCHANGE\" (10 mx.example.com) or just the exchange",
        RecordType::Srv => "an SRV value: \"PRIORITY WEIGHT PORT TARGET\" (10 5 443 www.example.com)",
        RecordType::Soa => "an SOA value: \"MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM\", or its first fields",
        RecordType::Caa => "a CAA value: \"[FLAGS] TAG VALUE\" (0 issue \"letsencrypt.org\")",
        RecordType::Txt => "a TXT value",
    }
}

/// `text` cut into as many fields as `layout` has: whitespace-separated words, except
/// that a last field of the rest keeps everything after the words before it. More words
/// than fields give more pieces (which then fit no layout).
fn split(text: &str, layout: &[Field]) -> Vec<String> {
    let rest_last = matches!(layout.last(), Some(Field::RestExact | Field::RestFolded));
    if !rest_last {
        return text.split_whitespace().map(str::to_string).collect();
    }
    let mut pieces = Vec::new();
    let mut rest = text.trim_start();
    for _ in 1..layout.len() {
        let Some(end) = rest.find(char::is_whitespace) else {
            if !rest.is_empty() {
                pieces.push(rest.to_string());
            }
            return pieces;
        };
        pieces.push(rest[..end].to_string());
        rest = rest[end..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_string());
    }
    pieces
}

/// One field in its normal form; none when it does not read as its type.
fn normalize(field: Field, value: &str) -> Option<String> {
    match field {
        Field::V4 => value.parse::<Ipv4Addr>().ok().map(|ip| ip.to_string()),
        Field::V6 => value.trim_matches(['[', ']']).parse::<Ipv6Addr>().ok().map(|ip| ip.to_string()),
        // The root (a null MX's exchange) is the one name that is only a dot.
        Field::Name if value == "." => Some(".".to_string()),
        Field::Name => {
            let name = value.strip_suffix('.').unwrap_or(value);
            (!name.is_empty()).then(|| name.to_ascii_lowercase())
        }
        Field::Number => value.parse::<u32>().ok().map(|n| n.to_string()),
        Field::Word => Some(value.to_ascii_lowercase()),
        Field::RestFolded => Some(unquote(value).to_lowercase()),
        Field::RestExact => Some(unquote(value).to_string()),
    }
}

/// `text` without one pair of surrounding double quotes.
fn unquote(text: &str) -> &str {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text)
}
