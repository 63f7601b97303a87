//! The `http` plugin's configuration keys, declared once: `describe` announces them and
//! `run` and `validate` parse them, from this one struct, plus the checks of keys taken
//! together (`Config::problems`).

use std::collections::BTreeMap;
use std::ops::Deref;
use std::time::Duration;

use regex::Regex;
use vitals_sdk::serde_json::Value;
use vitals_sdk::{
    Config, ConfigProblem, ConfigType, ConfigValue, CrossChecked, ListItem, OptionalValue, Range, StatusCodes,
    Thresholds,
};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// HTTP method of the request (GET, or POST when body is set).
    #[config(check = http_token)]
    pub method: Option<String>,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Request body to send; the method is then POST unless method says otherwise.
    pub body: Option<String>,
    /// Content-Type of body (default "application/json" when body parses as JSON, else
    /// "text/plain; charset=utf-8"; a Content-Type in headers is sent as it is instead).
    pub content_type: Option<String>,
    /// User name for HTTP Basic authentication (Authorization: Basic); needs basic_password.
    #[config(check = basic_user_id)]
    pub basic_user: Option<String>,
    /// Password for HTTP Basic authentication with basic_user; write it as "${env:NAME}".
    pub basic_password: Option<String>,
    /// Token sent as Authorization: Bearer TOKEN; write it as "${env:NAME}".
    #[config(check = bearer)]
    pub bearer_token: Option<String>,
    /// Accepted status codes: comma-separated codes and ranges, e.g. "200,204,300-399".
    #[config(default = "200-399")]
    pub expect_status: StatusCodes,
    /// Text the response body must contain.
    pub body_contains: Option<String>,
    /// Regular expression the response body must match.
    pub body_regex: Option<Pattern>,
    /// Response headers (names case-insensitive) that must have exactly these values.
    pub header_equals: BTreeMap<String, String>,
    /// Response headers (names case-insensitive) whose value must match these regular
    /// expressions; a missing header fails too.
    pub header_regex: HeaderPatterns,
    /// JSON body assertions: a JSON Pointer (RFC 6901, e.g. "/status", "/items/0/id") →
    /// the value expected there. A JSON string must equal the text; a number, true, false
    /// or null must be written as JSON ("42", "true", "null"; "1" matches 1.0); an array or
    /// object must equal the text read as JSON ("[1,2]").
    pub json: PointerMap<String>,
    /// JSON Pointers (RFC 6901, e.g. "/data/id") that must exist in the JSON body.
    pub json_exists: Vec<JsonPointer>,
    /// JSON Pointer (RFC 6901) → range ("0:100", "~:5", "@10:20"): the value there must be a
    /// number, and a value the range alerts on is critical.
    pub json_range: PointerMap<Range>,
    /// Warn when the whole exchange takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole exchange takes longer than this.
    pub crit_time: Option<Duration>,
    /// Warn when the https server's certificate expires in fewer days than this.
    pub cert_warn_days: Option<u32>,
    /// Critical when the https server's certificate expires in fewer days than this.
    pub cert_crit_days: Option<u32>,
    /// How many redirects to follow (0 checks the redirect response itself).
    #[config(default = 5)]
    pub max_redirects: u8,
    /// Verify the server's certificate and name.
    #[config(default = true)]
    pub tls_verify: bool,
    /// How many bytes of the body to keep for body_contains, body_regex and the json keys.
    #[config(default = 1_048_576)]
    pub max_body: u32,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds (`"500"` alerts above
    /// 500 ms, as check_http writes them).
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }

    /// `cert_warn_days` and `cert_crit_days` as thresholds on whole days left (`"30:"`
    /// alerts below 30, as check_ssl_cert writes them).
    pub fn cert_thresholds(&self) -> Thresholds {
        let at_least =
            |days: Option<u32>| days.map(|d| Range { start: f64::from(d), end: f64::INFINITY, inside: false });
        Thresholds { warn: at_least(self.cert_warn_days), crit: at_least(self.cert_crit_days) }
    }

    /// Whether any key judges the body as JSON.
    pub fn wants_json(&self) -> bool {
        !self.json.is_empty() || !self.json_exists.is_empty() || !self.json_range.is_empty()
    }

    /// The method sent: `method`, else POST with a body and GET without.
    pub fn method(&self) -> &str {
        match (&self.method, &self.body) {
            (Some(method), _) => method,
            (None, Some(_)) => "POST",
            (None, None) => "GET",
        }
    }

    /// The value of request header `name` (lower case) in `headers`, whatever its case there.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(header, _)| header.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// An HTTP token: a method (`GET`, `PROPFIND`, …) or a header name.
fn is_token(text: &str) -> bool {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    !text.is_empty() && text.chars().all(token)
}

/// A method is an HTTP token.
fn http_token(method: &str) -> Result<(), String> {
    if !is_token(method) {
        return Err(format!("invalid HTTP method {method:?}"));
    }
    Ok(())
}

/// A Basic user-id has no colon (RFC 7617: the first colon ends it) and no control
/// characters.
fn basic_user_id(user: &str) -> Result<(), String> {
    if user.contains(':') {
        return Err("must not contain ':' (Basic authentication ends the user name at the first colon)".into());
    }
    if user.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// A bearer token fits in a header value as one word. Never quoted back: it is a secret.
fn bearer(token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err("must not be empty".into());
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    Ok(())
}

/// A regular expression that compiled (`body_regex`, the values of `header_regex`).
#[derive(Debug, Clone)]
pub struct Pattern(Regex);

impl Pattern {
    /// Compiles `pattern`, with the one-line reason when it does not.
    fn compile(pattern: &str) -> Result<Pattern, String> {
        Regex::new(pattern).map(Pattern).map_err(|err| {
            let text = err.to_string();
            let why = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("invalid pattern");
            let why = why.trim().trim_start_matches("error: ");
            format!("invalid regex {pattern:?}: {why}")
        })
    }
}

impl Deref for Pattern {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        &self.0
    }
}

/// A string that compiles as a regular expression, with the one-line reason when it
/// does not.
impl ConfigValue for Pattern {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Pattern, String> {
        Pattern::compile(&String::from_json(value)?)
    }
}

/// `header_regex`: header names (lower case) and the patterns their values must match.
#[derive(Debug, Clone, Default)]
pub struct HeaderPatterns(pub Vec<(String, Pattern)>);

impl ConfigValue for HeaderPatterns {
    const KIND: ConfigType = ConfigType::StringMap;

    fn from_json(value: &Value) -> Result<HeaderPatterns, String> {
        let table = BTreeMap::<String, String>::from_json(value)?;
        table
            .into_iter()
            .map(|(name, pattern)| {
                if !is_token(&name) {
                    return Err(format!("{name:?} is not a header name"));
                }
                Pattern::compile(&pattern).map(|p| (name.to_ascii_lowercase(), p)).map_err(|e| format!("{name:?}: {e}"))
            })
            .collect::<Result<_, _>>()
            .map(HeaderPatterns)
    }
}

impl OptionalValue for HeaderPatterns {
    fn absent() -> HeaderPatterns {
        HeaderPatterns::default()
    }
}

/// A JSON Pointer (RFC 6901): empty (the whole document) or `/`-separated tokens, with
/// `~1` for a `/` and `~0` for a `~` inside a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPointer(String);

impl JsonPointer {
    /// Reads a pointer, or says how it breaks RFC 6901.
    pub fn parse(text: &str) -> Result<JsonPointer, String> {
        if !text.is_empty() && !text.starts_with('/') {
            return Err(format!("{text:?} is not a JSON Pointer: it starts with \"/\" (RFC 6901), e.g. \"/{text}\""));
        }
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err(format!(
                    "{text:?} is not a JSON Pointer: \"~\" is written \"~0\" and \"/\" in a name \"~1\""
                ));
            }
        }
        Ok(JsonPointer(text.to_string()))
    }

    /// The pointer as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ConfigValue for JsonPointer {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<JsonPointer, String> {
        JsonPointer::parse(&String::from_json(value)?)
    }
}

impl ListItem for JsonPointer {
    const LIST_KIND: ConfigType = ConfigType::StringList;
}

/// A table whose keys are JSON Pointers (`json`, `json_range`), in key order.
#[derive(Debug, Clone)]
pub struct PointerMap<V>(pub Vec<(JsonPointer, V)>);

impl<V> PointerMap<V> {
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: ConfigValue> ConfigValue for PointerMap<V> {
    const KIND: ConfigType = ConfigType::StringMap;

    fn from_json(value: &Value) -> Result<PointerMap<V>, String> {
        let Value::Object(table) = value else {
            // The SDK's words for a value that is no table.
            let why = BTreeMap::<String, String>::from_json(value).err();
            return Err(why.unwrap_or_else(|| "expected a table of strings".to_string()));
        };
        table
            .iter()
            .map(|(key, value)| {
                let pointer = JsonPointer::parse(key)?;
                V::from_json(value).map(|v| (pointer, v)).map_err(|e| format!("{key:?}: {e}"))
            })
            .collect::<Result<_, _>>()
            .map(PointerMap)
    }
}

impl<V: ConfigValue> OptionalValue for PointerMap<V> {
    fn absent() -> PointerMap<V> {
        PointerMap(Vec::new())
    }
}

impl CrossChecked for Config {
    fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let basic = self.basic_user.is_some() || self.basic_password.is_some();
        if self.basic_user.is_some() && self.basic_password.is_none() {
            problems.push(ConfigProblem::at_key(
                "basic_user",
                "needs basic_password (write basic_password = \"\" for an empty one)",
            ));
        }
        if self.basic_password.is_some() && self.basic_user.is_none() {
            problems.push(ConfigProblem::at_key("basic_password", "needs basic_user"));
        }
        if basic && self.bearer_token.is_some() {
            problems.push(ConfigProblem::at_key(
                "bearer_token",
                "give bearer_token or basic_user and basic_password, not both: each is the Authorization header",
            ));
        }
        if (basic || self.bearer_token.is_some()) && self.header("authorization").is_some() {
            let key = if basic { "basic_user" } else { "bearer_token" };
            problems.push(ConfigProblem::at_key(
                "headers",
                format!("sets Authorization, and so does {key}: give one of them"),
            ));
        }
        if self.content_type.is_some() {
            if self.body.is_none() {
                problems.push(ConfigProblem::at_key("content_type", "needs body"));
            }
            if self.header("content-type").is_some() {
                problems.push(ConfigProblem::at_key("content_type", "headers sets Content-Type too: give one of them"));
            }
        }
        if let (Some(warn), Some(crit)) = (self.cert_warn_days, self.cert_crit_days)
            && warn < crit
        {
            problems.push(ConfigProblem::at_key(
                "cert_warn_days",
                format!("{warn} is below cert_crit_days {crit}, so it would never warn"),
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::{CheckResult, PluginConfig, Reason, Status};

    use super::*;

    fn parse(json: &str) -> Result<Config, String> {
        Config::parse(json).map_err(|error| {
            let result = CheckResult::from(error);
            assert_eq!(result.status, Status::Unknown);
            assert_eq!(result.reason, Some(Reason::PluginError));
            result.summary
        })
    }

    fn config(json: &str) -> Config {
        match parse(json) {
            Ok(config) => config,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn defaults_match_describe() {
        assert_eq!(Config::check_defaults(), []);
        let config = config("{}");
        assert_eq!(config.method(), "GET");
        assert_eq!(config.expect_status.to_string(), "200-399");
        assert_eq!(config.max_redirects, 5);
        assert!(config.tls_verify);
        assert_eq!(config.max_body, 1_048_576);
        assert_eq!(config.time_thresholds(), Thresholds::default());
        assert_eq!(config.cert_thresholds(), Thresholds::default());
        assert!(!config.wants_json());
        assert_eq!(config.problems(), []);
    }

    #[test]
    fn a_body_is_posted_unless_method_says_otherwise() {
        assert_eq!(config(r#"{"body": "x"}"#).method(), "POST");
        assert_eq!(config(r#"{"body": "x", "method": "PUT"}"#).method(), "PUT");
        assert_eq!(config(r#"{"method": "HEAD"}"#).method(), "HEAD");
    }

    #[test]
    fn bad_values_name_the_key() {
        for (json, key) in [
            (r#"{"body_regex": "(abc"}"#, "body_regex"),
            (r#"{"expect_status": "2xx"}"#, "expect_status"),
            (r#"{"warn_time": "fast"}"#, "warn_time"),
            (r#"{"method": "GET /"}"#, "method"),
            (r#"{"max_redirects": 1000}"#, "max_redirects"),
            (r#"{"header_regex": {"X-Version": "v(\\d"}}"#, "header_regex"),
            (r#"{"header_regex": {"X Version": "v"}}"#, "header_regex"),
            (r#"{"json": {"status": "up"}}"#, "json"),
            (r#"{"json": {"/a~2": "up"}}"#, "json"),
            (r#"{"json": {"/status": 5}}"#, "json"),
            (r#"{"json_exists": ["/a", "b"]}"#, "json_exists"),
            (r#"{"json_range": {"/load": "ten"}}"#, "json_range"),
            (r#"{"json_range": {"load": "0:10"}}"#, "json_range"),
            (r#"{"basic_user": "a:b", "basic_password": "p"}"#, "basic_user"),
            (r#"{"bearer_token": "two words"}"#, "bearer_token"),
            (r#"{"bearer_token": ""}"#, "bearer_token"),
            (r#"{"cert_crit_days": -1}"#, "cert_crit_days"),
        ] {
            match parse(json) {
                Ok(_) => panic!("{json} was accepted"),
                Err(summary) => {
                    assert!(summary.starts_with(&format!("invalid config: {key}: ")), "{summary}");
                    assert!(!summary.contains('\n'), "{summary}");
                }
            }
        }
    }

    #[test]
    fn pointers_follow_rfc_6901() {
        for good in ["", "/", "/a", "/items/0/id", "/a~1b", "/m~0n", "/~01"] {
            assert_eq!(JsonPointer::parse(good).map(|p| p.as_str().to_string()), Ok(good.to_string()));
        }
        assert_eq!(
            JsonPointer::parse("items/0").err().as_deref(),
            Some("\"items/0\" is not a JSON Pointer: it starts with \"/\" (RFC 6901), e.g. \"/items/0\"")
        );
        for bad in ["/a~", "/a~2", "/~x"] {
            assert!(JsonPointer::parse(bad).is_err_and(|e| e.contains("\"~0\"")), "{bad}");
        }
        let config = config(r#"{"json": {"/b": "2", "/a": "1"}, "json_range": {"/n": "@10:20"}}"#);
        let keys: Vec<&str> = config.json.0.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(keys, ["/a", "/b"]);
        assert_eq!(config.json_range.0[0].1.to_string(), "@10:20");
        assert!(config.wants_json());
    }

    #[test]
    fn keys_that_exclude_or_need_each_other() {
        let problems = |json: &str| -> Vec<(Option<String>, String)> {
            config(json).problems().into_iter().map(|p| (p.key, p.message)).collect()
        };
        let key = |json: &str| -> Vec<Option<String>> { problems(json).into_iter().map(|(k, _)| k).collect() };
        assert_eq!(key(r#"{"basic_user": "u", "basic_password": "p"}"#), Vec::<Option<String>>::new());
        assert_eq!(key(r#"{"basic_user": "u", "basic_password": ""}"#), Vec::<Option<String>>::new());
        assert_eq!(key(r#"{"basic_user": "u"}"#), [Some("basic_user".to_string())]);
        assert_eq!(key(r#"{"basic_password": "p"}"#), [Some("basic_password".to_string())]);
        assert_eq!(
            key(r#"{"basic_user": "u", "basic_password": "p", "bearer_token": "t"}"#),
            [Some("bearer_token".to_string())]
        );
        let both = problems(r#"{"bearer_token": "t", "headers": {"authorization": "Basic x"}}"#);
        assert_eq!(
            both,
            [(Some("headers".into()), "sets Authorization, and so does bearer_token: give one of them".into())]
        );
        assert_eq!(
            key(r#"{"basic_user": "u", "basic_password": "p", "headers": {"Authorization": "x"}}"#),
            [Some("headers".to_string())]
        );
        assert_eq!(key(r#"{"content_type": "text/csv"}"#), [Some("content_type".to_string())]);
        assert_eq!(
            key(r#"{"body": "a", "content_type": "text/csv", "headers": {"content-type": "text/csv"}}"#),
            [Some("content_type".to_string())]
        );
        assert_eq!(
            problems(r#"{"cert_warn_days": 5, "cert_crit_days": 7}"#),
            [(Some("cert_warn_days".into()), "5 is below cert_crit_days 7, so it would never warn".into())]
        );
        assert_eq!(key(r#"{"cert_warn_days": 7, "cert_crit_days": 7}"#), Vec::<Option<String>>::new());
        // A secret is never quoted back.
        let summary = parse(r#"{"bearer_token": "s3cr3t value"}"#).err().unwrap_or_default();
        assert!(!summary.contains("s3cr3t"), "{summary}");
    }

    #[test]
    fn time_thresholds_in_ms() {
        let config = config(r#"{"warn_time": "500ms", "crit_time": "1.5s"}"#);
        let thresholds = config.time_thresholds();
        assert_eq!(thresholds.warn.map(|r| r.to_string()).as_deref(), Some("500"));
        assert_eq!(thresholds.crit.map(|r| r.to_string()).as_deref(), Some("1500"));
        assert_eq!(thresholds.evaluate(499.0), Status::Ok);
        assert_eq!(thresholds.evaluate(501.0), Status::Warning);
        assert_eq!(thresholds.evaluate(1500.1), Status::Critical);
    }

    #[test]
    fn cert_thresholds_in_days_left() {
        let thresholds = config(r#"{"cert_warn_days": 30, "cert_crit_days": 7}"#).cert_thresholds();
        assert_eq!(thresholds.warn.map(|r| r.to_string()).as_deref(), Some("30:"));
        assert_eq!(thresholds.crit.map(|r| r.to_string()).as_deref(), Some("7:"));
        assert_eq!(thresholds.evaluate(30.0), Status::Ok);
        assert_eq!(thresholds.evaluate(29.0), Status::Warning);
        assert_eq!(thresholds.evaluate(7.0), Status::Warning);
        assert_eq!(thresholds.evaluate(6.0), Status::Critical);
        assert_eq!(thresholds.evaluate(-2.0), Status::Critical);
    }
}
