//! A gate condition as written (`p95(tag:api, connect, 7d) < 300ms`): the syntax tree, a
//! recursive-descent parser over [`lexer`](super::lexer) tokens, and the type rules.
//!
//! ```text
//! condition := call OP literal
//! call      := FUNCTION "(" subject ("," argument)* ")"
//! subject   := "*" | "all" | "tag" ":" name | name
//! argument  := name            (a metric: `connect` is `time_connect`)
//!            | duration        (a window of stored history: `7d`)
//! literal   := "ok" | "warning" | "critical" | "unknown" | NUMBER UNIT?
//! name      := IDENT | "quoted" | 'quoted'
//! ```

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use super::lexer::{Kind, Op, Part, Token, tokenize};
use super::quantity::{Amount, Dimension, Value, unit_factor};
use crate::plan::MAX_DURATION;
use crate::result::Status;

/// Why a condition is not valid: what was expected, and where (a byte span of the
/// condition text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConditionError {
    /// Byte span in the condition text.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl ConditionError {
    /// An error at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> ConditionError {
        ConditionError { span, message: message.into(), help: None }
    }

    /// Adds a hint.
    pub fn help(mut self, help: impl Into<String>) -> ConditionError {
        self.help = Some(help.into());
        self
    }

    /// The 1-based column (in characters) where the error starts in `text`.
    pub fn column(&self, text: &str) -> usize {
        let mut at = self.span.start.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text[..at].chars().count() + 1
    }
}

/// A summary statistic over a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// Median (nearest rank).
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// Arithmetic mean.
    Mean,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
}

impl Stat {
    /// The quantile of a percentile, `None` for mean.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Stat::P50 => Some(0.50),
            Stat::P90 => Some(0.90),
            Stat::P95 => Some(0.95),
            Stat::P99 => Some(0.99),
            Stat::Min => Some(0.0),
            Stat::Max => Some(1.0),
            Stat::Mean => None,
        }
    }
}

/// What a condition measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// The worst status.
    Status,
    /// A statistic of the response time or of a metric.
    Stat(Stat),
    /// Time-weighted HARD availability over a window.
    Availability,
    /// The remaining error budget of the check's `slo` over its `slo_window`.
    ErrorBudget,
    /// The SLO burn rate over a window.
    BurnRate,
    /// The latest value of a metric.
    Metric,
}

impl Function {
    const NAMES: [(&'static str, Function); 12] = [
        ("status", Function::Status),
        ("p50", Function::Stat(Stat::P50)),
        ("p90", Function::Stat(Stat::P90)),
        ("p95", Function::Stat(Stat::P95)),
        ("p99", Function::Stat(Stat::P99)),
        ("mean", Function::Stat(Stat::Mean)),
        ("min", Function::Stat(Stat::Min)),
        ("max", Function::Stat(Stat::Max)),
        ("availability", Function::Availability),
        ("error_budget", Function::ErrorBudget),
        ("burn_rate", Function::BurnRate),
        ("metric", Function::Metric),
    ];

    /// The function's name as written.
    pub fn name(self) -> &'static str {
        Function::NAMES.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }

    fn parse(name: &str) -> Option<Function> {
        Function::NAMES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    fn all_names() -> String {
        Function::NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    }

    /// Whether a metric argument is accepted, and whether it is required.
    fn metric_arg(self) -> Arity {
        match self {
            Function::Stat(_) => Arity::Optional,
            Function::Metric => Arity::Required,
            _ => Arity::Refused,
        }
    }

    /// Whether a window argument is accepted, and whether it is required.
    fn window_arg(self) -> Arity {
        match self {
            Function::Status | Function::Stat(_) | Function::Metric => Arity::Optional,
            Function::Availability | Function::BurnRate => Arity::Required,
            Function::ErrorBudget => Arity::Refused,
        }
    }

    /// The usage line shown in help texts.
    pub fn usage(self) -> &'static str {
        match self {
            Function::Status => "status(CHECK[, WINDOW]) == ok",
            Function::Stat(_) => "p95(CHECK[, METRIC][, WINDOW]) < 300ms",
            Function::Availability => "availability(CHECK, WINDOW) >= 99.9%",
            Function::ErrorBudget => "error_budget(CHECK) > 10%",
            Function::BurnRate => "burn_rate(CHECK, WINDOW) < 14.4",
            Function::Metric => "metric(CHECK, METRIC[, WINDOW]) < 5s",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arity {
    Refused,
    Optional,
    Required,
}

/// Which checks a condition is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Every check (`*` or `all`).
    All,
    /// The checks with this tag (`tag:api`).
    Tag(String),
    /// One check by name.
    Check(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::All => f.write_str("*"),
            Subject::Tag(t) => write!(f, "tag:{t}"),
            Subject::Check(c) => f.write_str(c),
        }
    }
}

/// A name and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The name.
    pub name: String,
    /// Byte span in the condition.
    pub span: Range<usize>,
}

/// A parsed, well-typed condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The text as written.
    pub text: String,
    /// What it measures.
    pub function: Function,
    /// Over which checks.
    pub subject: Subject,
    /// Byte span of the subject.
    pub subject_span: Range<usize>,
    /// The metric, for `metric()` and statistics of a metric (`connect`).
    pub metric: Option<Named>,
    /// The window of stored history; `None` means the gate's own runs.
    pub window: Option<Duration>,
    /// The comparison.
    pub op: Op,
    /// What the measured value is compared with.
    pub threshold: Value,
}

impl Condition {
    /// The dimension this condition's value is known to have before anything runs:
    /// `None` for a status, and for a metric whose unit only a run tells.
    pub fn static_dimension(&self) -> Option<Dimension> {
        match (self.function, &self.metric) {
            (Function::Status, _) => None,
            (Function::Stat(_), None) => Some(Dimension::Time),
            (Function::Stat(_), Some(_)) | (Function::Metric, _) => None,
            (Function::Availability | Function::ErrorBudget, _) => Some(Dimension::Percent),
            (Function::BurnRate, _) => Some(Dimension::Number),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.trim())
    }
}

/// Parses and type-checks one condition.
pub fn parse(text: &str) -> Result<Condition, ConditionError> {
    let tokens = tokenize(text)?;
    Parser { tokens, at: 0, text }.condition()
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    text: &'a str,
}

/// The call part of a condition, before the comparison.
struct Call {
    function: Function,
    subject: Subject,
    subject_span: Range<usize>,
    metric: Option<Named>,
    window: Option<Duration>,
    /// From the function name to the closing parenthesis.
    span: Range<usize>,
}

const OPERATORS: &str = "a comparison operator (<, <=, >, >=, ==, !=)";
const UNITS: &str = "units are us, ms, s, m, h, d, %, B, KiB, MiB, GiB (or none for a plain number)";

impl Parser<'_> {
    fn peek(&self) -> Token {
        let end = self.text.len();
        self.tokens.get(self.at).cloned().unwrap_or(Token { kind: Kind::End, span: end..end })
    }

    fn next(&mut self) -> Token {
        let token = self.peek();
        if self.at < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn expected(&self, what: &str, found: &Token) -> ConditionError {
        ConditionError::new(found.span.clone(), format!("expected {what}, found {}", found.kind.describe()))
    }

    fn condition(&mut self) -> Result<Condition, ConditionError> {
        let call = self.call()?;
        let text = self.text;
        let call_text = &text[call.span.clone()];
        let op_token = self.next();
        let Kind::Op(op) = op_token.kind else {
            return Err(self.expected(&format!("{OPERATORS} after `{call_text}`"), &op_token));
        };
        let threshold_token = self.next();
        let threshold = self.threshold(&threshold_token)?;
        let end = self.next();
        if end.kind != Kind::End {
            let mut e = self.expected("the end of the condition", &end);
            if let Kind::Ident(word) = &end.kind
                && unit_factor(word).is_some()
            {
                e = e.help("write the unit right after the number, without a space: 300ms");
            } else {
                e = e.help("write one comparison per condition; add more conditions for more tests");
            }
            return Err(e);
        }
        let condition = Condition {
            text: self.text.trim().to_string(),
            function: call.function,
            subject: call.subject,
            subject_span: call.subject_span,
            metric: call.metric,
            window: call.window,
            op,
            threshold,
        };
        check_types(&condition, call_text, threshold_token.span)?;
        Ok(condition)
    }

    fn call(&mut self) -> Result<Call, ConditionError> {
        let name = self.next();
        let function = match &name.kind {
            Kind::Ident(word) => Function::parse(word).ok_or_else(|| {
                ConditionError::new(name.span.clone(), format!("unknown function `{word}`"))
                    .help(format!("the functions are {}", Function::all_names()))
            })?,
            _ => {
                return Err(self
                    .expected("a function such as status, p95 or availability", &name)
                    .help("a condition reads like `p95(web) < 300ms`"));
            }
        };
        let open = self.next();
        if open.kind != Kind::Open {
            return Err(self.expected(&format!("`(` after `{}`", function.name()), &open).help(function.usage()));
        }
        let (subject, subject_span) = self.subject()?;
        let mut metric: Option<Named> = None;
        let mut window: Option<Duration> = None;
        loop {
            let token = self.next();
            match token.kind {
                Kind::Close => {
                    let span = name.span.start..token.span.end;
                    let missing = |what: &str| {
                        ConditionError::new(token.span.clone(), format!("`{}` needs {what}", function.name()))
                            .help(function.usage())
                    };
                    if function.metric_arg() == Arity::Required && metric.is_none() {
                        return Err(missing("a metric name"));
                    }
                    if function.window_arg() == Arity::Required && window.is_none() {
                        return Err(missing("a window such as 1h or 30d"));
                    }
                    return Ok(Call { function, subject, subject_span, metric, window, span });
                }
                Kind::Comma => {}
                _ => return Err(self.expected("`,` or `)`", &token).help(function.usage())),
            }
            let argument = self.next();
            match &argument.kind {
                Kind::Ident(word) | Kind::Str(word) => {
                    if function.metric_arg() == Arity::Refused {
                        return Err(ConditionError::new(
                            argument.span.clone(),
                            format!("`{}` takes no metric, found `{word}`", function.name()),
                        )
                        .help(function.usage()));
                    }
                    if metric.is_some() {
                        return Err(ConditionError::new(
                            argument.span.clone(),
                            format!("`{}` takes one metric; `{word}` is a second one", function.name()),
                        )
                        .help(function.usage()));
                    }
                    metric = Some(Named { name: word.clone(), span: argument.span.clone() });
                }
                Kind::Literal(parts) => {
                    if function.window_arg() == Arity::Refused {
                        return Err(ConditionError::new(
                            argument.span.clone(),
                            format!("`{}` takes no window", function.name()),
                        )
                        .help("the error budget is over the check's slo_window; set it in checks.toml"));
                    }
                    if window.is_some() {
                        return Err(ConditionError::new(
                            argument.span.clone(),
                            format!("`{}` takes one window; this is a second one", function.name()),
                        )
                        .help(function.usage()));
                    }
                    window = Some(window_of(parts, &argument.span)?);
                }
                _ => {
                    return Err(self
                        .expected("a metric name or a window such as 7d", &argument)
                        .help(function.usage()));
                }
            }
        }
    }

    fn subject(&mut self) -> Result<(Subject, Range<usize>), ConditionError> {
        let token = self.next();
        let expected = "a check name, `tag:NAME`, or `*` for every check";
        match &token.kind {
            Kind::Star => Ok((Subject::All, token.span)),
            Kind::Ident(word) if word == "all" => Ok((Subject::All, token.span)),
            Kind::Ident(word) if word == "tag" && self.peek().kind == Kind::Colon => {
                self.next();
                let tag = self.next();
                match &tag.kind {
                    Kind::Ident(t) | Kind::Str(t) => Ok((Subject::Tag(t.clone()), token.span.start..tag.span.end)),
                    _ => Err(self.expected("a tag name after `tag:`", &tag)),
                }
            }
            Kind::Ident(word) | Kind::Str(word) => Ok((Subject::Check(word.clone()), token.span)),
            _ => Err(self
                .expected(expected, &token)
                .help("quote a check name that is not a plain word: status(\"my check\") == ok")),
        }
    }

    fn threshold(&self, token: &Token) -> Result<Value, ConditionError> {
        match &token.kind {
            Kind::Ident(word) => match Status::parse(word) {
                Some(status) => Ok(Value::Status(status)),
                None => Err(ConditionError::new(
                    token.span.clone(),
                    format!("expected a threshold such as 300ms, 99.9% or ok, found `{word}`"),
                )
                .help("a status is ok, warning, critical or unknown; an amount is a number and a unit")),
            },
            Kind::Literal(parts) => amount(parts).map(Value::Amount),
            _ => Err(self.expected("a threshold such as 300ms, 99.9% or ok", token)),
        }
    }
}

/// The amount a literal writes, in its dimension's canonical unit.
fn amount(parts: &[Part]) -> Result<Amount, ConditionError> {
    let mut total: Option<Amount> = None;
    for part in parts {
        let Some((dimension, factor)) = unit_factor(&part.unit) else {
            return Err(
                ConditionError::new(part.unit_span.clone(), format!("unknown unit `{}`", part.unit)).help(UNITS)
            );
        };
        let value = part.number * factor;
        total = Some(match total {
            None => Amount { dimension, value },
            Some(sum) if sum.dimension == Dimension::Time && dimension == Dimension::Time => {
                Amount { dimension, value: sum.value + value }
            }
            Some(_) => {
                return Err(ConditionError::new(
                    part.unit_span.clone(),
                    "only durations combine parts, as in 1h30m".to_string(),
                )
                .help("write one number with one unit"));
            }
        });
    }
    let total = total.unwrap_or(Amount::number(0.0));
    if !total.value.is_finite() {
        let span = parts.first().map_or(0..0, |p| p.unit_span.clone());
        return Err(ConditionError::new(span, "this number is too large"));
    }
    Ok(total)
}

/// A window argument: a positive duration.
fn window_of(parts: &[Part], span: &Range<usize>) -> Result<Duration, ConditionError> {
    let amount = amount(parts)?;
    if amount.dimension != Dimension::Time {
        return Err(ConditionError::new(
            span.clone(),
            format!("a window is a duration, not {}", amount.dimension.noun()),
        )
        .help("write a duration such as 1h, 7d or 30d"));
    }
    let seconds = amount.value / 1000.0;
    // Evaluating a window reads (and allocates for) every hour in it: it gets the ceiling of
    // every other duration a person types, before it can become a huge or overflowing span.
    if seconds > MAX_DURATION.as_secs_f64() {
        let days = MAX_DURATION.as_secs() / 86_400;
        return Err(ConditionError::new(span.clone(), format!("this window is too long: at most {days}d"))
            .help(format!("a gate looks back at most {days}d, as reports do; write a window such as 30d")));
    }
    match Duration::try_from_secs_f64(seconds) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(ConditionError::new(span.clone(), "a window must be longer than zero")
            .help("write a duration such as 1h, 7d or 30d")),
    }
}

/// Refuses comparisons across kinds: a status with an amount, or two dimensions.
fn check_types(c: &Condition, call_text: &str, threshold_span: Range<usize>) -> Result<(), ConditionError> {
    let mismatch = |what: String, help: String| Err(ConditionError::new(threshold_span.clone(), what).help(help));
    match (c.function, c.threshold) {
        (Function::Status, Value::Status(_)) => Ok(()),
        (Function::Status, Value::Amount(a)) => mismatch(
            format!("`{call_text}` is a status; it cannot be compared with {}", a.dimension.noun()),
            "compare it with ok, warning, critical or unknown (in that order): status(web) <= warning".into(),
        ),
        (_, Value::Status(s)) => mismatch(
            format!("`{call_text}` is an amount; it cannot be compared with the status `{s}`"),
            "use status(CHECK) to test a status".into(),
        ),
        (_, Value::Amount(a)) => match c.static_dimension() {
            Some(d) if d != a.dimension => mismatch(
                format!("`{call_text}` is {}; it cannot be compared with {}", d.noun(), a.dimension.noun()),
                format!("write {} such as {}", d.noun(), d.example()),
            ),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Condition {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e} at {:?}", e.span))
    }

    /// The error's message and 1-based column.
    fn err(text: &str) -> (String, usize) {
        let e = parse(text).expect_err(text);
        (e.message.clone(), e.column(text))
    }

    #[test]
    fn status_conditions() {
        let c = ok("status(web) == ok");
        assert_eq!(
            (c.function, &c.subject, c.op, c.threshold),
            (Function::Status, &Subject::Check("web".into()), Op::Eq, Value::Status(Status::Ok))
        );
        assert_eq!(c.subject_span, 7..10);
        let c = ok("  status(tag:api) <= warning ");
        assert_eq!(
            (&c.subject, c.subject_span.clone(), c.text.as_str()),
            (&Subject::Tag("api".into()), 9..16, "status(tag:api) <= warning")
        );
        assert_eq!(ok("status(*) != unknown").subject, Subject::All);
        assert_eq!(ok("status(all, 1h) < critical").window, Some(Duration::from_secs(3600)));
        assert_eq!(ok("status(\"my check\") == ok").subject, Subject::Check("my check".into()));
        assert_eq!(ok("status('all') == ok").subject, Subject::Check("all".into()));
    }

    #[test]
    fn statistics_with_metric_and_window() {
        let c = ok("p95(web) < 300ms");
        assert_eq!((c.function, c.metric.clone(), c.window), (Function::Stat(Stat::P95), None, None));
        assert_eq!(c.threshold, Value::Amount(Amount::ms(300.0)));
        let c = ok("p99(tag:api, connect) < 50ms");
        assert_eq!(c.metric, Some(Named { name: "connect".into(), span: 13..20 }));
        let c = ok("p95(web, 7d) < 300ms");
        assert_eq!((c.metric, c.window), (None, Some(Duration::from_secs(7 * 86_400))));
        let c = ok("p90(web, time_first_byte, 1h30m) <= 1.5s");
        assert_eq!(c.window, Some(Duration::from_secs(5400)));
        assert_eq!(c.threshold, Value::Amount(Amount::ms(1500.0)));
        for (text, stat) in [
            ("p50(a) < 1s", Stat::P50),
            ("mean(a) < 1s", Stat::Mean),
            ("min(a) > 1us", Stat::Min),
            ("max(a) < 1m", Stat::Max),
        ] {
            assert_eq!(ok(text).function, Function::Stat(stat), "{text}");
        }
        // Metric-based statistics only learn their unit from a run.
        assert_eq!(ok("max(db, body_size) < 512KiB").static_dimension(), None);
    }

    #[test]
    fn slo_functions_and_metrics() {
        let c = ok("availability(web, 30d) >= 99.9%");
        assert_eq!(
            (c.window, c.threshold),
            (Some(Duration::from_secs(30 * 86_400)), Value::Amount(Amount::percent(99.9)))
        );
        assert_eq!(ok("error_budget(web) > 10%").function, Function::ErrorBudget);
        let c = ok("burn_rate(web, 1h) < 14.4");
        assert_eq!((c.function, c.threshold), (Function::BurnRate, Value::Amount(Amount::number(14.4))));
        let c = ok("metric(db, replication_lag) < 5s");
        assert_eq!(c.metric.map(|m| m.name), Some("replication_lag".into()));
        assert_eq!(ok("metric(db, '5xx') < 3").metric.map(|m| m.name), Some("5xx".into()));
        assert_eq!(ok("metric(db, conns, 1h) >= -2").threshold, Value::Amount(Amount::number(-2.0)));
    }

    #[test]
    fn units_in_every_dimension() {
        let amount = |text: &str| match ok(&format!("metric(a, m) < {text}")).threshold {
            Value::Amount(a) => a,
            Value::Status(s) => panic!("{s}"),
        };
        assert_eq!(amount("250us"), Amount::ms(0.25));
        assert_eq!(amount("2s"), Amount::ms(2000.0));
        assert_eq!(amount("2m"), Amount::ms(120_000.0));
        assert_eq!(amount("1h"), Amount::ms(3_600_000.0));
        assert_eq!(amount("1d"), Amount::ms(86_400_000.0));
        assert_eq!(amount("12.5%"), Amount::percent(12.5));
        assert_eq!(amount("100B"), Amount { dimension: Dimension::Size, value: 100.0 });
        assert_eq!(amount("2KiB"), Amount { dimension: Dimension::Size, value: 2048.0 });
        assert_eq!(amount("1MiB"), Amount { dimension: Dimension::Size, value: 1_048_576.0 });
        assert_eq!(amount("1GiB"), Amount { dimension: Dimension::Size, value: 1_073_741_824.0 });
        assert_eq!(amount("42"), Amount::number(42.0));
        assert_eq!(amount(".5"), Amount::number(0.5));
    }

    #[test]
    fn syntax_errors_say_what_was_expected_and_where() {
        assert_eq!(err("p95 web) < 1s"), ("expected `(` after `p95`, found `web`".into(), 5));
        assert_eq!(
            err("p95(web) 300ms"),
            ("expected a comparison operator (<, <=, >, >=, ==, !=) after `p95(web)`, found `300ms`".into(), 10)
        );
        assert_eq!(err("p95(web) = 300ms"), ("`=` is not an operator".into(), 10));
        assert_eq!(err("p96(web) < 1s"), ("unknown function `p96`".into(), 1));
        assert_eq!(err("p95(web < 1s"), ("expected `,` or `)`, found `<`".into(), 9));
        assert_eq!(err("p95() < 1s").1, 5);
        assert_eq!(err("p95(web) < 300 ms"), ("expected the end of the condition, found `ms`".into(), 16));
        assert_eq!(err("p95(web) < 300mss"), ("unknown unit `mss`".into(), 15));
        assert_eq!(
            err("p95(web) <"),
            ("expected a threshold such as 300ms, 99.9% or ok, found the end of the condition".into(), 11)
        );
        assert_eq!(err("status(web) == fine").1, 16);
        assert_eq!(err("status(tag:) == ok"), ("expected a tag name after `tag:`, found `)`".into(), 12));
        assert_eq!(err("p95(web) < 1h30"), ("only durations combine parts, as in 1h30m".into(), 14));
        assert_eq!(err("").1, 1);
        // Columns count characters, not bytes.
        assert_eq!(err("status(\"é\") == okk").1, 16);
    }

    #[test]
    fn argument_errors() {
        assert_eq!(err("availability(web) >= 99%"), ("`availability` needs a window such as 1h or 30d".into(), 17));
        assert_eq!(err("burn_rate(web) < 2").0, "`burn_rate` needs a window such as 1h or 30d");
        assert_eq!(err("metric(db) < 5s"), ("`metric` needs a metric name".into(), 10));
        assert_eq!(err("error_budget(web, 7d) > 10%"), ("`error_budget` takes no window".into(), 19));
        assert_eq!(err("status(web, connect) == ok"), ("`status` takes no metric, found `connect`".into(), 13));
        assert_eq!(err("p95(web, a, b) < 1s"), ("`p95` takes one metric; `b` is a second one".into(), 13));
        assert_eq!(err("p95(web, 1h, 2h) < 1s").1, 14);
        assert_eq!(err("p95(web, 7) < 1s"), ("a window is a duration, not a plain number".into(), 10));
        assert_eq!(err("p95(web, 0s) < 1s"), ("a window must be longer than zero".into(), 10));
        assert_eq!(err("p95(web, -1h) < 1s").0, "a window must be longer than zero");
    }

    #[test]
    fn windows_past_366_days_are_refused_where_they_are_written() {
        assert_eq!(ok("availability(web, 366d) >= 99%").window, Some(MAX_DURATION));
        assert_eq!(ok("p95(web, 8784h) < 1s").window, Some(MAX_DURATION));
        let too_long = ("this window is too long: at most 366d".to_string(), 11);
        assert_eq!(err("mean(web, 99999999999d) < 1s"), too_long);
        assert_eq!(err("mean(web, 367d) < 1s"), too_long);
        assert_eq!(err("mean(web, 366d1s) < 1s"), too_long);
        // Past what a `Duration` holds: too long too, not "not longer than zero".
        assert_eq!(err(&format!("mean(web, {}d) < 1s", "9".repeat(40))), too_long);
        let e = parse("burn_rate(web, 400d) < 2").expect_err("400d");
        assert_eq!(
            e.help.as_deref(),
            Some("a gate looks back at most 366d, as reports do; write a window such as 30d")
        );
    }

    #[test]
    fn comparing_across_kinds_is_an_error() {
        assert_eq!(
            err("p95(web) < 99%"),
            ("`p95(web)` is a duration; it cannot be compared with a percentage".into(), 12)
        );
        assert_eq!(
            err("status(web) == 3"),
            ("`status(web)` is a status; it cannot be compared with a plain number".into(), 16)
        );
        assert_eq!(err("p95(web) < ok").0, "`p95(web)` is an amount; it cannot be compared with the status `ok`");
        assert_eq!(
            err("availability(web, 30d) >= 0.999").0,
            "`availability(web, 30d)` is a percentage; it cannot be compared with a plain number"
        );
        assert_eq!(
            err("burn_rate(web, 1h) < 5%").0,
            "`burn_rate(web, 1h)` is a plain number; it cannot be compared with a percentage"
        );
        assert_eq!(err("p95(web) < 300").0, "`p95(web)` is a duration; it cannot be compared with a plain number");
        assert_eq!(
            err("metric(db, lag) < warning").0,
            "`metric(db, lag)` is an amount; it cannot be compared with the status `warning`"
        );
    }
}
