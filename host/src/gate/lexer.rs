//! The tokens of a gate condition (`p95(tag:api, connect) < 300ms`), each with its byte
//! span in the condition text so that errors can point at the column.

use std::ops::Range;

use super::condition::ConditionError;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// Whether `ordering` (measured against threshold) satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Op::Lt => ordering == Less,
            Op::Le => ordering != Greater,
            Op::Gt => ordering == Greater,
            Op::Ge => ordering != Less,
            Op::Eq => ordering == Equal,
            Op::Ne => ordering != Equal,
        }
    }
}

/// One `<number><unit>` part of a literal such as `1h30m` or `99.9%`.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The number, sign included.
    pub number: f64,
    /// The unit written right after it (empty for none).
    pub unit: String,
    /// Byte span of the unit (of the number when there is no unit).
    pub unit_span: Range<usize>,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A name: a function, a check, a tag, a metric, a status word.
    Ident(String),
    /// A quoted name (`"my check"` or `'5xx_rate'`), for names an identifier cannot spell.
    Str(String),
    /// A number with its unit, possibly several parts (`1h30m`).
    Literal(Vec<Part>),
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `*`
    Star,
    /// A comparison operator.
    Op(Op),
    /// The end of the condition.
    End,
}

impl Kind {
    /// How the token is named in "found …" messages.
    pub fn describe(&self) -> String {
        match self {
            Kind::Ident(s) => format!("`{s}`"),
            Kind::Str(s) => format!("\"{s}\""),
            Kind::Literal(parts) => {
                let text: String = parts.iter().map(|p| format!("{}{}", p.number, p.unit)).collect();
                format!("`{text}`")
            }
            Kind::Open => "`(`".into(),
            Kind::Close => "`)`".into(),
            Kind::Comma => "`,`".into(),
            Kind::Colon => "`:`".into(),
            Kind::Star => "`*`".into(),
            Kind::Op(op) => format!("`{}`", op.as_str()),
            Kind::End => "the end of the condition".into(),
        }
    }
}

/// A token and its byte span in the condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// Where it is.
    pub span: Range<usize>,
}

fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn unit_char(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '%' || c == 'µ'
}

/// Splits a condition into tokens, ending with [`Kind::End`].
pub fn tokenize(text: &str) -> Result<Vec<Token>, ConditionError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = |kind: Kind| Token { kind, span: start..start + c.len_utf8() };
        let token = match c {
            '(' => single(Kind::Open),
            ')' => single(Kind::Close),
            ',' => single(Kind::Comma),
            ':' => single(Kind::Colon),
            '*' => single(Kind::Star),
            '<' | '>' | '=' | '!' => {
                chars.next();
                let followed_by_eq = chars.peek().is_some_and(|&(_, n)| n == '=');
                if followed_by_eq {
                    chars.next();
                }
                let op = match (c, followed_by_eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    ('=', true) => Op::Eq,
                    ('!', true) => Op::Ne,
                    _ => {
                        let (found, help) = if c == '=' {
                            ("=", "compare with `==` (equal), or `<=`/`>=`")
                        } else {
                            ("!", "`!=` means not equal")
                        };
                        return Err(
                            ConditionError::new(start..start + 1, format!("`{found}` is not an operator")).help(help)
                        );
                    }
                };
                let end = if followed_by_eq { start + 2 } else { start + 1 };
                tokens.push(Token { kind: Kind::Op(op), span: start..end });
                continue;
            }
            '"' | '\'' => {
                chars.next();
                let mut value = String::new();
                let mut end = None;
                for (i, ch) in chars.by_ref() {
                    if ch == c {
                        end = Some(i + 1);
                        break;
                    }
                    value.push(ch);
                }
                let Some(end) = end else {
                    return Err(ConditionError::new(
                        start..text.len(),
                        format!("this {c}quoted name{c} is not closed"),
                    )
                    .help(format!("end the name with {c}")));
                };
                tokens.push(Token { kind: Kind::Str(value), span: start..end });
                continue;
            }
            c if c.is_ascii_digit() || (c == '-' || c == '.') => {
                tokens.push(literal(text, &mut chars)?);
                continue;
            }
            c if ident_start(c) => {
                let mut end = start;
                while let Some(&(i, ch)) = chars.peek() {
                    if !ident_char(ch) {
                        break;
                    }
                    end = i + ch.len_utf8();
                    chars.next();
                }
                tokens.push(Token { kind: Kind::Ident(text[start..end].to_string()), span: start..end });
                continue;
            }
            other => {
                return Err(ConditionError::new(
                    start..start + other.len_utf8(),
                    format!("unexpected character `{other}`"),
                )
                .help("a condition reads like `p95(web) < 300ms`; quote unusual names: `status(\"my check\") == ok`"));
            }
        };
        chars.next();
        tokens.push(token);
    }
    tokens.push(Token { kind: Kind::End, span: text.len()..text.len() });
    Ok(tokens)
}

/// A number literal: `-`? digits (`.` digits)? unit?, repeated while a digit follows a
/// unit directly (`1h30m`).
fn literal(text: &str, chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Result<Token, ConditionError> {
    let start = chars.peek().map_or(text.len(), |&(i, _)| i);
    let mut parts = Vec::new();
    let end = loop {
        let number_start = chars.peek().map_or(text.len(), |&(i, _)| i);
        let mut number_end = number_start;
        while let Some(&(i, ch)) = chars.peek() {
            let sign = ch == '-' && i == number_start && parts.is_empty();
            if !(ch.is_ascii_digit() || ch == '.' || sign) {
                break;
            }
            number_end = i + ch.len_utf8();
            chars.next();
        }
        let number_text = &text[number_start..number_end];
        let number: f64 = match number_text.parse() {
            Ok(n) if number_text.chars().any(|c| c.is_ascii_digit()) => n,
            _ => {
                return Err(ConditionError::new(number_start..number_end.max(number_start + 1), {
                    format!("`{number_text}` is not a number")
                })
                .help("write a number such as 300, 1.5 or -2"));
            }
        };
        let unit_start = number_end;
        let mut unit_end = unit_start;
        while let Some(&(i, ch)) = chars.peek() {
            if !unit_char(ch) {
                break;
            }
            unit_end = i + ch.len_utf8();
            chars.next();
        }
        let unit_span = if unit_end > unit_start { unit_start..unit_end } else { number_start..number_end };
        parts.push(Part { number, unit: text[unit_start..unit_end].to_string(), unit_span });
        let more = unit_end > unit_start && chars.peek().is_some_and(|&(_, ch)| ch.is_ascii_digit());
        if !more {
            break unit_end;
        }
    };
    Ok(Token { kind: Kind::Literal(parts), span: start..end })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        tokenize(text).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn splits_a_condition_with_spans() {
        let tokens = tokenize("p95(tag:api, connect) <= 1h30m").unwrap();
        let spans: Vec<_> = tokens.iter().map(|t| t.span.clone()).collect();
        assert_eq!(spans, [0..3, 3..4, 4..7, 7..8, 8..11, 11..12, 13..20, 20..21, 22..24, 25..30, 30..30]);
        assert_eq!(tokens[8].kind, Kind::Op(Op::Le));
        let Kind::Literal(parts) = &tokens[9].kind else { panic!("{:?}", tokens[9]) };
        assert_eq!(parts.iter().map(|p| (p.number, p.unit.as_str())).collect::<Vec<_>>(), [(1.0, "h"), (30.0, "m")]);
        assert_eq!(parts[1].unit_span, 29..30);
    }

    #[test]
    fn every_operator_and_quoted_names() {
        assert_eq!(
            kinds("< <= > >= == !="),
            [Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq, Op::Ne]
                .map(Kind::Op)
                .into_iter()
                .chain([Kind::End])
                .collect::<Vec<_>>()
        );
        assert_eq!(kinds("'5xx rate' \"a\"")[..2], [Kind::Str("5xx rate".into()), Kind::Str("a".into())]);
        assert_eq!(kinds("-2.5%")[0], Kind::Literal(vec![Part { number: -2.5, unit: "%".into(), unit_span: 4..5 }]));
        assert_eq!(kinds("web-home.v2")[0], Kind::Ident("web-home.v2".into()));
    }

    #[test]
    fn lone_equals_and_unknown_characters_point_at_their_column() {
        let e = tokenize("p95(web) = 300ms").unwrap_err();
        assert_eq!((e.span.clone(), e.message.as_str()), (9..10, "`=` is not an operator"));
        let e = tokenize("status(web) == ok;").unwrap_err();
        assert_eq!(e.span, 17..18);
        let e = tokenize("status(\"web) == ok").unwrap_err();
        assert_eq!(e.span.start, 7);
        let e = tokenize("p95(web) < 1..2s").unwrap_err();
        assert_eq!(e.message, "`1..2` is not a number");
    }
}
