//! The `redis` plugin's configuration keys, declared once, the memory limits they hold and
//! the parsing of the target.

use std::time::Duration;

use vitals_sdk::serde_json::Value;
use vitals_sdk::{Config, ConfigProblem, ConfigType, ConfigValue, CrossChecked, Range, Thresholds, format_bytes};

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// ACL user to authenticate as (`AUTH user password`); needs password.
    #[config(check = non_empty)]
    pub user: Option<String>,
    /// Password to authenticate with (`AUTH password`, or `AUTH user password` with user);
    /// write it as "${env:NAME}".
    pub password: Option<String>,
    /// Start TLS right after connecting (a TLS port such as Redis' tls-port).
    #[config(default = false)]
    pub tls: bool,
    /// Verify the server's certificate and name when tls is on.
    #[config(default = true)]
    pub tls_verify: bool,
    /// Role the server must have: "master" or "replica" (critical otherwise).
    pub role: Option<Role>,
    /// Warn when used_memory is above this: a size ("512MiB") or a percentage of maxmemory ("80%").
    pub memory_warn: Option<MemoryLimit>,
    /// Critical when used_memory is above this: a size ("1GiB") or a percentage of maxmemory ("95%").
    pub memory_crit: Option<MemoryLimit>,
    /// Warn when PING takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when PING takes longer than this.
    pub crit_time: Option<Duration>,
}

impl Config {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }
}

fn non_empty(text: &str) -> Result<(), String> {
    if text.is_empty() { Err("must not be empty".to_string()) } else { Ok(()) }
}

/// The replication role of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A primary (INFO says `role:master`).
    Master,
    /// A replica (INFO says `role:slave`).
    Replica,
}

impl Role {
    /// The role as INFO's `role` field names it (`master`, `slave`), if it is one.
    pub fn from_info(text: &str) -> Option<Role> {
        match text {
            "master" => Some(Role::Master),
            "slave" | "replica" => Some(Role::Replica),
            _ => None,
        }
    }

    /// The word for a summary and the config: `master` or `replica`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Replica => "replica",
        }
    }
}

impl ConfigValue for Role {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Role, String> {
        match String::from_json(value)?.as_str() {
            "master" => Ok(Role::Master),
            "replica" => Ok(Role::Replica),
            other => Err(format!("{other:?} is not a role; write \"master\" or \"replica\"")),
        }
    }
}

/// A limit on used memory: a size in bytes, or a share of the server's maxmemory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MemoryLimit {
    /// This many bytes (`"512MiB"`).
    Bytes(u64),
    /// This percentage of maxmemory (`"80%"`), more than 0 and at most 100.
    Percent(f64),
}

impl MemoryLimit {
    /// The limit in bytes for a server whose maxmemory is `maxmemory` (0: none); none for a
    /// percentage when there is no maxmemory.
    pub fn bytes(self, maxmemory: u64) -> Option<u64> {
        match self {
            MemoryLimit::Bytes(bytes) => Some(bytes),
            MemoryLimit::Percent(_) if maxmemory == 0 => None,
            MemoryLimit::Percent(percent) => Some((maxmemory as f64 * percent / 100.0).round() as u64),
        }
    }

    /// The limit as a range on used_memory in bytes (alerting above it), as perfdata shows it.
    pub fn range(self, maxmemory: u64) -> Option<Range> {
        self.bytes(maxmemory).map(|bytes| Range { start: 0.0, end: bytes as f64, inside: false })
    }

    fn same_kind(&self, other: &MemoryLimit) -> bool {
        matches!(
            (self, other),
            (MemoryLimit::Bytes(_), MemoryLimit::Bytes(_)) | (MemoryLimit::Percent(_), MemoryLimit::Percent(_))
        )
    }

    fn amount(&self) -> f64 {
        match self {
            MemoryLimit::Bytes(bytes) => *bytes as f64,
            MemoryLimit::Percent(percent) => *percent,
        }
    }
}

/// `512 MiB` or `80%`, as a summary shows the limit.
impl std::fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemoryLimit::Bytes(bytes) => f.write_str(&format_bytes(*bytes)),
            MemoryLimit::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

impl ConfigValue for MemoryLimit {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<MemoryLimit, String> {
        let text = String::from_json(value)?;
        let text = text.trim();
        if let Some(number) = text.strip_suffix('%') {
            let percent: f64 = number.trim().parse().map_err(|_| {
                format!("{text:?} is not a percentage; write e.g. \"80%\" or a size such as \"512MiB\"")
            })?;
            if !(percent > 0.0 && percent <= 100.0) {
                return Err(format!("{text:?}: a percentage of maxmemory must be more than 0% and at most 100%"));
            }
            return Ok(MemoryLimit::Percent(percent));
        }
        match vitals_sdk::parse_bytes(text) {
            Ok(0) => Err("must be more than 0 bytes".to_string()),
            Ok(bytes) => Ok(MemoryLimit::Bytes(bytes)),
            Err(error) => Err(format!("{error} (or a percentage of maxmemory such as \"80%\")")),
        }
    }
}

impl CrossChecked for Config {
    fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.user.is_some() && self.password.is_none() {
            problems.push(ConfigProblem::at_key("user", "needs password (AUTH user password)"));
        }
        if let (Some(warn), Some(crit)) = (self.memory_warn, self.memory_crit)
            && warn.same_kind(&crit)
            && warn.amount() > crit.amount()
        {
            problems.push(ConfigProblem::at_key("memory_warn", format!("{warn} is above memory_crit {crit}")));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    fn parse(json: &str) -> Config {
        match Config::parse(json) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn memory_limits_are_sizes_or_percentages() {
        let read = |text: &str| MemoryLimit::from_json(&Value::from(text));
        assert_eq!(read("512MiB"), Ok(MemoryLimit::Bytes(512 << 20)));
        assert_eq!(read("1000"), Ok(MemoryLimit::Bytes(1000)));
        assert_eq!(read("80%"), Ok(MemoryLimit::Percent(80.0)));
        assert_eq!(read(" 12.5 %"), Ok(MemoryLimit::Percent(12.5)));
        for bad in ["0%", "101%", "x%", "%", "0", "lots", "5 parsecs", "-1%"] {
            assert!(read(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(MemoryLimit::Percent(50.0).bytes(1000), Some(500));
        assert_eq!(MemoryLimit::Percent(50.0).bytes(0), None);
        assert_eq!(MemoryLimit::Bytes(7).bytes(0), Some(7));
        assert_eq!(MemoryLimit::Bytes(512 << 20).to_string(), "512 MiB");
        assert_eq!(MemoryLimit::Percent(80.0).to_string(), "80%");
    }

    #[test]
    fn defaults_roles_and_problems() {
        assert_eq!(Config::check_defaults(), []);
        let config = parse("{}");
        assert!(!config.tls && config.tls_verify && config.role.is_none() && config.problems().is_empty());
        assert_eq!(parse(r#"{"role": "replica"}"#).role, Some(Role::Replica));
        assert!(Config::parse(r#"{"role": "slave"}"#).is_err());
        assert_eq!(Role::from_info("slave"), Some(Role::Replica));
        assert_eq!(Role::from_info("sentinel"), None);

        let keys = |json: &str| parse(json).problems().into_iter().map(|p| p.key).collect::<Vec<_>>();
        assert_eq!(keys(r#"{"user": "app"}"#), [Some("user".to_string())]);
        assert_eq!(keys(r#"{"user": "app", "password": "x"}"#), []);
        assert_eq!(keys(r#"{"memory_warn": "2GiB", "memory_crit": "1GiB"}"#), [Some("memory_warn".to_string())]);
        assert_eq!(keys(r#"{"memory_warn": "2GiB", "memory_crit": "90%"}"#), []);
        assert_eq!(keys(r#"{"memory_warn": "80%", "memory_crit": "90%"}"#), []);
    }
}
