//! A plugin's config declared once: [`PluginConfig`] (what `#[derive(Config)]` implements)
//! gives the `describe` keys and the parsing of the host's config JSON, every problem
//! collected by key ([`ConfigError`], [`validate_config`]).

use std::fmt;

use serde_json::{Map, Value};

use crate::{CheckResult, ConfigKey, ConfigProblem, Reason, unknown};

/// A plugin's `[check.config]` (or `[notifier.config]`) table as a Rust struct: its keys
/// for `describe`, and its parsing with every problem reported by key. Derive it with
/// [`derive@crate::Config`] rather than implementing it.
///
/// ```
/// use std::time::Duration;
/// use vitals_sdk::PluginConfig;
///
/// #[derive(vitals_sdk::Config)]
/// struct Config {
///     /// Text to send after connecting.
///     send: Option<String>,
///     /// Time limit of one attempt.
///     #[config(default = "5s")]
///     timeout: Duration,
///     /// How many attempts at most.
///     #[config(default = 3, check = positive)]
///     attempts: u32,
/// }
///
/// fn positive(n: &u32) -> Result<(), String> {
///     if *n == 0 { Err("must be at least 1".into()) } else { Ok(()) }
/// }
///
/// let config = Config::parse(r#"{"send": "PING"}"#).map_err(|e| e.to_string())?;
/// assert_eq!(config.send.as_deref(), Some("PING"));
/// assert_eq!((config.timeout, config.attempts), (Duration::from_secs(5), 3));
///
/// let error = Config::parse(r#"{"timeout": "soon", "attempts": 0}"#).err().ok_or("accepted")?;
/// assert_eq!(error.problems().len(), 2);
/// assert_eq!(error.to_string(), "invalid config: timeout: expected a number at 'soon' in 'soon'");
/// # Ok::<(), String>(())
/// ```
pub trait PluginConfig: Sized {
    /// The keys as `describe` announces them, in the order of the fields.
    ///
    /// ```
    /// use vitals_sdk::{ConfigType, PluginConfig};
    ///
    /// #[derive(vitals_sdk::Config)]
    /// struct Config {
    ///     /// HTTP method of the request.
    ///     #[config(default = "GET")]
    ///     method: String,
    /// }
    ///
    /// let keys = Config::keys();
    /// assert_eq!(keys[0].name, "method");
    /// assert_eq!(keys[0].kind, ConfigType::String);
    /// assert_eq!(keys[0].default.as_deref(), Some("\"GET\""));
    /// assert_eq!(keys[0].doc, "HTTP method of the request.");
    /// ```
    fn keys() -> Vec<ConfigKey>;

    /// Reads the config from the table the host passes (as a JSON object), or returns
    /// every problem: unknown keys, missing required ones, bad values. Most plugins call
    /// [`PluginConfig::parse`] instead.
    ///
    /// ```
    /// use vitals_sdk::PluginConfig;
    ///
    /// #[derive(vitals_sdk::Config)]
    /// struct Config {
    ///     /// Where to POST.
    ///     #[config(required)]
    ///     url: String,
    /// }
    ///
    /// let table = vitals_sdk::serde_json::Map::new();
    /// let problems = Config::from_table(&table).err().unwrap_or_default();
    /// assert_eq!(problems[0].key.as_deref(), Some("url"));
    /// ```
    fn from_table(table: &Map<String, Value>) -> Result<Self, Vec<ConfigProblem>>;

    /// Parses every `default` through the same reading as a given value, and returns
    /// the problems: none for a plugin without bugs. Call it in a unit test.
    ///
    /// ```
    /// use vitals_sdk::PluginConfig;
    ///
    /// #[derive(vitals_sdk::Config)]
    /// struct Config {
    ///     /// Accepted status codes.
    ///     #[config(default = "200-399")]
    ///     expect_status: vitals_sdk::StatusCodes,
    ///     /// A default that is no duration: the test finds it.
    ///     #[config(default = "5 seconds")]
    ///     timeout: std::time::Duration,
    /// }
    ///
    /// let problems = Config::check_defaults();
    /// assert_eq!(problems.len(), 1);
    /// assert_eq!(problems[0].key.as_deref(), Some("timeout"));
    /// ```
    fn check_defaults() -> Vec<ConfigProblem>;

    /// Parses the config JSON as the host passes it (`request.config`; an empty text is
    /// an empty table). The error holds every problem, and shows as the first one:
    /// `invalid config: KEY: message`. It converts into the `unknown` / `plugin-error`
    /// result a check returns for a bad config.
    ///
    /// ```
    /// use vitals_sdk::{CheckResult, PluginConfig, Reason, Status};
    ///
    /// #[derive(vitals_sdk::Config)]
    /// struct Config {
    ///     /// Redirects to follow.
    ///     #[config(default = 5)]
    ///     max_redirects: u8,
    /// }
    ///
    /// assert_eq!(Config::parse("").map(|c| c.max_redirects).ok(), Some(5));
    /// let result: CheckResult = match Config::parse(r#"{"max_redirects": 1000}"#) {
    ///     Ok(_) => vitals_sdk::ok("fine"),
    ///     Err(error) => error.into(),
    /// };
    /// assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    /// assert_eq!(result.summary, "invalid config: max_redirects: must be between 0 and 255, found 1000");
    /// ```
    fn parse(json: &str) -> Result<Self, ConfigError> {
        let table = json_object(json).map_err(|problem| ConfigError::new(vec![problem]))?;
        Self::from_table(&table).map_err(ConfigError::new)
    }
}

/// The problems of a config, for [`crate::Check::validate`]: none when it parses. With a
/// derived config this is the whole of `validate`.
///
/// ```
/// use vitals_sdk::{Check, CheckRequest, CheckResult, ConfigProblem, Description, PluginConfig};
///
/// #[derive(vitals_sdk::Config)]
/// struct Config {
///     /// Warn above this many milliseconds.
///     warn: Option<vitals_sdk::Range>,
/// }
///
/// struct Ping;
///
/// impl Check for Ping {
///     fn describe() -> Description {
///         vitals_sdk::description("ping", "0.1.0", "Says OK.", Config::keys())
///     }
///     fn validate(config: &str) -> Vec<ConfigProblem> {
///         vitals_sdk::validate_config::<Config>(config)
///     }
///     fn run(_request: CheckRequest) -> CheckResult {
///         vitals_sdk::ok("fine")
///     }
/// }
///
/// assert!(Ping::validate(r#"{"warn": "~:10"}"#).is_empty());
/// let problems = Ping::validate(r#"{"warn": "10:5"}"#);
/// assert_eq!(problems[0].key.as_deref(), Some("warn"));
/// ```
pub fn validate_config<C: PluginConfig>(json: &str) -> Vec<ConfigProblem> {
    match C::parse(json) {
        Ok(_) => Vec::new(),
        Err(error) => error.into_problems(),
    }
}

/// A config whose keys must also agree with each other (a user needs a password, a warning
/// level lies below its critical one): the derive checks each key alone, this the keys
/// together, once, for `validate` and `run` alike.
///
/// ```
/// use vitals_sdk::{ConfigProblem, CrossChecked};
///
/// #[derive(vitals_sdk::Config)]
/// struct Login {
///     /// Who logs in.
///     user: Option<String>,
///     /// Their password.
///     password: Option<String>,
/// }
///
/// impl CrossChecked for Login {
///     fn problems(&self) -> Vec<ConfigProblem> {
///         match (&self.user, &self.password) {
///             (Some(_), None) => vec![ConfigProblem::at_key("user", "needs password")],
///             _ => Vec::new(),
///         }
///     }
/// }
///
/// assert!(Login::load(r#"{"user": "a", "password": "b"}"#).is_ok());
/// let problems = vitals_sdk::validate_checked::<Login>(r#"{"user": "a"}"#);
/// assert_eq!(problems[0].key.as_deref(), Some("user"));
/// ```
pub trait CrossChecked: PluginConfig {
    /// What is wrong with the keys taken together (each one alone has been checked).
    fn problems(&self) -> Vec<ConfigProblem>;

    /// The config in `json`, its keys checked alone and then together.
    fn load(json: &str) -> Result<Self, ConfigError> {
        let config = Self::parse(json)?;
        match config.problems() {
            problems if problems.is_empty() => Ok(config),
            problems => Err(ConfigError::new(problems)),
        }
    }
}

/// `validate` of a [`CrossChecked`] config: every problem, of the keys alone or together.
pub fn validate_checked<C: CrossChecked>(json: &str) -> Vec<ConfigProblem> {
    match C::load(json) {
        Ok(_) => Vec::new(),
        Err(error) => error.into_problems(),
    }
}

/// The table in `json`, or the problem with it.
fn json_object(json: &str) -> Result<Map<String, Value>, ConfigProblem> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(table)) => Ok(table),
        Ok(_) => Err(ConfigProblem::table("not a JSON object")),
        Err(error) => {
            // serde_json's " at line 1 column 17" means nothing to a person who wrote TOML.
            let message = error.to_string();
            let message = message.split(" at line ").next().unwrap_or_default();
            Err(ConfigProblem::table(format!("not a JSON object: {message}")))
        }
    }
}

impl ConfigProblem {
    /// A problem with one key's value.
    ///
    /// ```
    /// let problem = vitals_sdk::ConfigProblem::at_key("body_regex", "unclosed group");
    /// assert_eq!(problem.to_string(), "body_regex: unclosed group");
    /// ```
    pub fn at_key(key: impl Into<String>, message: impl Into<String>) -> ConfigProblem {
        ConfigProblem { key: Some(key.into()), message: message.into() }
    }

    /// A problem with the table as a whole (two keys that exclude each other).
    ///
    /// ```
    /// let problem = vitals_sdk::ConfigProblem::table("give body or body_file, not both");
    /// assert_eq!(problem.key, None);
    /// assert_eq!(problem.to_string(), "give body or body_file, not both");
    /// ```
    pub fn table(message: impl Into<String>) -> ConfigProblem {
        ConfigProblem { key: None, message: message.into() }
    }
}

/// `KEY: message`, or the message alone for the whole table.
impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{key}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A config that did not parse: every problem found, at least one. It shows as the
/// first (`invalid config: KEY: message`), and converts into the check result for it.
///
/// ```
/// use vitals_sdk::{CheckResult, ConfigError, ConfigProblem};
///
/// let error = ConfigError::new(vec![
///     ConfigProblem::at_key("expect_status", "invalid status list \"2xx\""),
///     ConfigProblem::at_key("ulr", "unknown key (did you mean `url`?)"),
/// ]);
/// assert_eq!(error.to_string(), "invalid config: expect_status: invalid status list \"2xx\"");
/// let result = CheckResult::from(error);
/// assert!(result.details.unwrap_or_default().contains("ulr: unknown key"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// Never empty.
    problems: Vec<ConfigProblem>,
}

impl ConfigError {
    /// An error from the problems found (an empty list becomes one problem that says so).
    ///
    /// ```
    /// let error = vitals_sdk::ConfigError::new(vec![]);
    /// assert_eq!(error.problems().len(), 1);
    /// ```
    pub fn new(problems: Vec<ConfigProblem>) -> ConfigError {
        ConfigError { problems: crate::__private::at_least_one(problems) }
    }

    /// Every problem, in the order found: unknown keys first, then the keys in the order
    /// they are declared.
    ///
    /// ```
    /// let error = vitals_sdk::ConfigError::new(vec![vitals_sdk::ConfigProblem::table("empty")]);
    /// assert_eq!(error.problems()[0].message, "empty");
    /// ```
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }

    /// Every problem, for [`crate::Check::validate`].
    ///
    /// ```
    /// let error = vitals_sdk::ConfigError::new(vec![vitals_sdk::ConfigProblem::table("empty")]);
    /// assert_eq!(error.into_problems().len(), 1);
    /// ```
    pub fn into_problems(self) -> Vec<ConfigProblem> {
        self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.first() {
            Some(first) => write!(f, "invalid config: {first}"),
            None => f.write_str("invalid config"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The result of a check whose config did not parse: `unknown`, reason `plugin-error`,
/// the first problem as the summary and, when there are more, every problem in the
/// details.
impl From<ConfigError> for CheckResult {
    fn from(error: ConfigError) -> CheckResult {
        let result = unknown(error.to_string(), Reason::PluginError);
        if error.problems.len() < 2 {
            return result;
        }
        let lines: Vec<String> = error.problems.iter().map(|p| format!("  {p}")).collect();
        result.with_details(format!("every problem of the config:\n{}", lines.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::{ConfigType, Range, Status, StatusCodes};

    /// A check's config using every kind of key.
    #[derive(Debug, crate::Config)]
    struct Everything {
        /// A name.
        #[config(required)]
        name: String,
        /// Redirects to follow.
        #[config(default = 5)]
        max_redirects: u8,
        /// Verify certificates.
        #[config(default = true)]
        tls_verify: bool,
        /// A ratio.
        #[config(default = 0.5)]
        ratio: f64,
        /// Time limit.
        #[config(default = "1.5s")]
        timeout: Duration,
        /// Warning range.
        warn: Option<Range>,
        /// Accepted codes.
        #[config(default = "200-399")]
        expect_status: StatusCodes,
        /// Names.
        #[config(default = ["a", "b"])]
        names: Vec<String>,
        /// Ports.
        ports: Vec<u16>,
        /// Headers.
        headers: BTreeMap<String, String>,
        /// A key whose name is not the field's.
        #[config(rename = "type", default = "plain")]
        kind: String,
        /// At least one, when given.
        #[config(check = positive)]
        count: Option<u32>,
        /// An offset below zero.
        #[config(default = -1)]
        offset: i32,
    }

    fn positive(n: &u32) -> Result<(), String> {
        if *n == 0 { Err("must be at least 1".to_string()) } else { Ok(()) }
    }

    fn problems(json: &str) -> Vec<(Option<String>, String)> {
        match Everything::parse(json) {
            Ok(config) => panic!("{json} parsed as {config:?}"),
            Err(error) => error.into_problems().into_iter().map(|p| (p.key, p.message)).collect(),
        }
    }

    #[test]
    fn keys_carry_kind_default_requirement_and_doc() {
        let keys = Everything::keys();
        let shown: Vec<(&str, ConfigType, Option<&str>, bool, &str)> =
            keys.iter().map(|k| (k.name.as_str(), k.kind, k.default.as_deref(), k.required, k.doc.as_str())).collect();
        assert_eq!(
            shown,
            [
                ("name", ConfigType::String, None, true, "A name."),
                ("max_redirects", ConfigType::Integer, Some("5"), false, "Redirects to follow."),
                ("tls_verify", ConfigType::Boolean, Some("true"), false, "Verify certificates."),
                ("ratio", ConfigType::Float, Some("0.5"), false, "A ratio."),
                ("timeout", ConfigType::Duration, Some("\"1.5s\""), false, "Time limit."),
                ("warn", ConfigType::Range, None, false, "Warning range."),
                ("expect_status", ConfigType::String, Some("\"200-399\""), false, "Accepted codes."),
                ("names", ConfigType::StringList, Some("[\"a\", \"b\"]"), false, "Names."),
                ("ports", ConfigType::IntegerList, None, false, "Ports."),
                ("headers", ConfigType::StringMap, None, false, "Headers."),
                ("type", ConfigType::String, Some("\"plain\""), false, "A key whose name is not the field's."),
                ("count", ConfigType::Integer, None, false, "At least one, when given."),
                ("offset", ConfigType::Integer, Some("-1"), false, "An offset below zero."),
            ]
        );
        assert_eq!(Everything::check_defaults(), []);
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let config = match Everything::parse(r#"{"name": "x"}"#) {
            Ok(config) => config,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(config.name, "x");
        assert_eq!((config.max_redirects, config.tls_verify, config.ratio), (5, true, 0.5));
        assert_eq!(config.timeout, Duration::from_millis(1500));
        assert_eq!(config.warn, None);
        assert_eq!(config.expect_status, StatusCodes::range(200, 399));
        assert_eq!(config.names, ["a", "b"]);
        assert!(config.ports.is_empty() && config.headers.is_empty());
        assert_eq!((config.kind.as_str(), config.count, config.offset), ("plain", None, -1));
    }

    #[test]
    fn given_values_are_read() {
        let json = r#"{"name": "x", "warn": "~:10", "ports": [22, 443], "headers": {"A": "1"},
            "type": "fancy", "count": 2, "max_redirects": 0}"#;
        let config = match Everything::parse(json) {
            Ok(config) => config,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(config.warn.map(|r| r.to_string()).as_deref(), Some("~:10"));
        assert_eq!(config.ports, [22, 443]);
        assert_eq!(config.headers.get("A").map(String::as_str), Some("1"));
        assert_eq!((config.kind.as_str(), config.count, config.max_redirects), ("fancy", Some(2), 0));
    }

    #[test]
    fn every_problem_is_collected_by_key() {
        let found = problems(r#"{"nmae": "x", "max_redirects": 300, "timeout": "soon", "count": 0, "ratoi": 1}"#);
        let keys: Vec<Option<&str>> = found.iter().map(|(k, _)| k.as_deref()).collect();
        assert_eq!(
            keys,
            [Some("nmae"), Some("ratoi"), Some("name"), Some("max_redirects"), Some("timeout"), Some("count")]
        );
        assert_eq!(found[0].1, "unknown key (did you mean `name`?)");
        assert_eq!(found[1].1, "unknown key (did you mean `ratio`?)");
        assert_eq!(found[2].1, "missing: this key is required");
        assert_eq!(found[3].1, "must be between 0 and 255, found 300");
        assert_eq!(found[5].1, "must be at least 1");
        let far = problems(r#"{"name": "x", "zzzzzzzz": 1}"#);
        assert!(far[0].1.starts_with("unknown key (the keys are `name`, `max_redirects`,"), "{}", far[0].1);
    }

    #[test]
    fn the_first_problem_is_the_summary() {
        let error = match Everything::parse(r#"{"max_redirects": "five"}"#) {
            Ok(_) => panic!("accepted"),
            Err(error) => error,
        };
        assert_eq!(error.to_string(), "invalid config: name: missing: this key is required");
        let result = CheckResult::from(error);
        assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
        assert_eq!(
            result.details.as_deref(),
            Some(
                "every problem of the config:\n  name: missing: this key is required\n  \
                 max_redirects: expected a whole number, found the string \"five\""
            )
        );
        let single = CheckResult::from(ConfigError::new(vec![ConfigProblem::table("x")]));
        assert_eq!((single.summary.as_str(), single.details), ("invalid config: x", None));
    }

    #[test]
    fn a_table_that_is_no_object_is_one_problem() {
        assert_eq!(problems("[1]"), [(None, "not a JSON object".to_string())]);
        let trailing = problems(r#"{"name": "x"} x"#);
        assert!(trailing[0].1.starts_with("not a JSON object: trailing"), "{trailing:?}");
        assert!(!trailing[0].1.contains("line 1"), "{trailing:?}");
        assert_eq!(validate_config::<Everything>(r#"{"name": "x"}"#), []);
        assert_eq!(validate_config::<Everything>("{}").len(), 1);
    }

    /// A config whose defaults are plugin bugs.
    #[derive(Debug, crate::Config)]
    struct BadDefaults {
        /// A duration defaulting to no duration.
        #[config(default = 5)]
        wait: Duration,
        /// A count whose default fails its check.
        #[config(default = 0, check = positive)]
        count: u32,
    }

    #[test]
    fn bad_defaults_are_found() {
        let found: Vec<String> = BadDefaults::check_defaults().iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "wait: the plugin's default 5 is invalid (a bug in the plugin): expected a duration such as \"250ms\" or \"2s\", found the integer 5",
                "count: the plugin's default 0 is invalid (a bug in the plugin): must be at least 1",
            ]
        );
        assert_eq!(BadDefaults::parse("{}").map_err(|e| e.problems().len()).err(), Some(2));
        let given = BadDefaults::parse(r#"{"wait": "1s", "count": 1}"#).map(|c| (c.wait, c.count));
        assert_eq!(given, Ok((Duration::from_secs(1), 1)));
    }

    /// A plugin without keys.
    #[derive(crate::Config)]
    struct Nothing {}

    #[test]
    fn a_config_without_keys_refuses_every_key() {
        assert!(Nothing::keys().is_empty());
        assert!(Nothing::parse("{}").is_ok());
        let error = Nothing::parse(r#"{"x": 1}"#).err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("invalid config: x: unknown key (this plugin takes no config keys)"));
    }
}
