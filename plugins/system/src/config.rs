//! The `system` plugin's configuration keys, declared once, and which parts of the machine
//! a config asks about.

use vitals_sdk::serde_json::{Map, Value};
use vitals_sdk::{Config, ConfigError, ConfigProblem, ConfigType, ConfigValue, PluginConfig, Range};

/// Most ports one check may require to be listening.
pub const MAX_PORTS: usize = 16;

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// Warn when a file system is fuller than this, e.g. "80%" (used space of the space unprivileged users can have, as df shows it).
    pub disk_warn: Option<Percent>,
    /// Critical when a file system is fuller than this, e.g. "90%".
    pub disk_crit: Option<Percent>,
    /// The mount points to check, e.g. ["/", "/var"]; left out, every mounted file system with storage whose type is not ignored.
    #[config(check = mount_points)]
    pub mounts: Vec<String>,
    /// File system types left out when mounts is not given.
    #[config(default = ["tmpfs", "devtmpfs", "squashfs", "iso9660"])]
    pub ignore_fs_types: Vec<String>,
    /// Warn when more than this share of a file system's inodes is used, e.g. "80%".
    pub inode_warn: Option<Percent>,
    /// Critical when more than this share of a file system's inodes is used, e.g. "95%".
    pub inode_crit: Option<Percent>,
    /// Warn when more than this share of memory is in use (1 - MemAvailable / MemTotal), e.g. "85%".
    pub memory_warn: Option<Percent>,
    /// Critical when more than this share of memory is in use, e.g. "95%".
    pub memory_crit: Option<Percent>,
    /// Warn when more than this share of swap is used, e.g. "50%".
    pub swap_warn: Option<Percent>,
    /// Critical when more than this share of swap is used, e.g. "80%".
    pub swap_crit: Option<Percent>,
    /// Warn when the load average per CPU is above this, e.g. 1.5.
    #[config(check = load_limit)]
    pub load_warn: Option<f64>,
    /// Critical when the load average per CPU is above this, e.g. 3.
    #[config(check = load_limit)]
    pub load_crit: Option<f64>,
    /// Which load average the thresholds apply to: "1m", "5m" or "15m".
    #[config(default = "1m")]
    pub load_average: LoadWindow,
    /// A process that must run, by name as `ps -C` matches it (e.g. "nginx").
    #[config(check = process_name)]
    pub process: Option<String>,
    /// Critical when fewer processes than this are named process.
    #[config(default = 1)]
    pub process_min: u32,
    /// Critical when more processes than this are named process.
    pub process_max: Option<u32>,
    /// TCP ports something on this machine must listen on, e.g. [22, 443].
    #[config(check = ports)]
    pub listening: Vec<u16>,
}

/// Which parts of the machine a config asks about: a part is checked when one of its keys
/// is given; a config with none of them asks about disk, memory, swap and load, without
/// thresholds (an inventory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Parts {
    /// Space and inodes of the file systems.
    pub disk: bool,
    /// Memory in use.
    pub memory: bool,
    /// Swap in use.
    pub swap: bool,
    /// Load averages.
    pub load: bool,
    /// A process count.
    pub process: bool,
    /// Listening ports.
    pub listening: bool,
}

impl Parts {
    /// The parts whose keys `table` gives.
    pub fn of(table: &Map<String, Value>) -> Parts {
        let given = |keys: &[&str]| keys.iter().any(|key| table.get(*key).is_some_and(|v| !v.is_null()));
        let parts = Parts {
            disk: given(&["disk_warn", "disk_crit", "mounts", "ignore_fs_types", "inode_warn", "inode_crit"]),
            memory: given(&["memory_warn", "memory_crit"]),
            swap: given(&["swap_warn", "swap_crit"]),
            load: given(&["load_warn", "load_crit", "load_average"]),
            process: given(&["process"]),
            listening: given(&["listening"]),
        };
        if parts == Parts::default() {
            Parts { disk: true, memory: true, swap: true, load: true, ..parts }
        } else {
            parts
        }
    }
}

impl Config {
    /// Parses the config JSON and checks what no single key can say (a warning above its
    /// critical, process limits without a process), with the parts it asks about.
    pub fn load(json: &str) -> Result<(Config, Parts), ConfigError> {
        let config = Config::parse(json)?;
        let table = match vitals_sdk::serde_json::from_str::<Value>(if json.trim().is_empty() { "{}" } else { json }) {
            Ok(Value::Object(table)) => table,
            _ => Map::new(),
        };
        let mut problems = Vec::new();
        for (warn_key, warn, crit_key, crit) in [
            ("disk_warn", pct(config.disk_warn), "disk_crit", pct(config.disk_crit)),
            ("inode_warn", pct(config.inode_warn), "inode_crit", pct(config.inode_crit)),
            ("memory_warn", pct(config.memory_warn), "memory_crit", pct(config.memory_crit)),
            ("swap_warn", pct(config.swap_warn), "swap_crit", pct(config.swap_crit)),
            ("load_warn", config.load_warn, "load_crit", config.load_crit),
        ] {
            if let (Some(warn), Some(crit)) = (warn, crit)
                && warn > crit
            {
                problems.push(ConfigProblem::at_key(
                    warn_key,
                    format!("is above {crit_key}: a warning comes before the critical level"),
                ));
            }
        }
        if config.process.is_none() {
            for key in ["process_min", "process_max"].into_iter().filter(|key| table.contains_key(*key)) {
                problems.push(ConfigProblem::at_key(key, "needs process, the name of the process to count"));
            }
        }
        if let Some(max) = config.process_max
            && max < config.process_min
        {
            problems.push(ConfigProblem::at_key(
                "process_max",
                format!("is below process_min ({}): no count could pass", config.process_min),
            ));
        }
        if problems.is_empty() { Ok((config, Parts::of(&table))) } else { Err(ConfigError::new(problems)) }
    }

    /// The thresholds of one part as ranges that alert above them (Nagios perfdata).
    pub fn ranges(warn: Option<Percent>, crit: Option<Percent>) -> (Option<Range>, Option<Range>) {
        (warn.map(Percent::upper), crit.map(Percent::upper))
    }
}

/// The number of a percentage, if any.
fn pct(percent: Option<Percent>) -> Option<f64> {
    percent.map(|p| p.0)
}

/// A percentage such as `"80%"`, from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(pub f64);

impl Percent {
    /// A range alerting above this percentage.
    pub fn upper(self) -> Range {
        Range { start: 0.0, end: self.0, inside: false }
    }
}

impl ConfigValue for Percent {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<Percent, String> {
        let text = String::from_json(value)?;
        let number = text.trim().strip_suffix('%').map(str::trim).and_then(|n| n.parse::<f64>().ok());
        match number {
            Some(n) if (0.0..=100.0).contains(&n) => Ok(Percent(n)),
            Some(_) => Err(format!("{text:?} is not between 0% and 100%")),
            None => Err(format!("expected a percentage such as \"80%\", found {text:?}")),
        }
    }
}

/// Which load average is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadWindow {
    /// Over 1 minute.
    One,
    /// Over 5 minutes.
    Five,
    /// Over 15 minutes.
    Fifteen,
}

impl LoadWindow {
    /// How a summary names it.
    pub fn label(self) -> &'static str {
        match self {
            LoadWindow::One => "1m",
            LoadWindow::Five => "5m",
            LoadWindow::Fifteen => "15m",
        }
    }
}

impl ConfigValue for LoadWindow {
    const KIND: ConfigType = ConfigType::String;

    fn from_json(value: &Value) -> Result<LoadWindow, String> {
        match String::from_json(value)?.trim() {
            "1m" => Ok(LoadWindow::One),
            "5m" => Ok(LoadWindow::Five),
            "15m" => Ok(LoadWindow::Fifteen),
            other => Err(format!("expected \"1m\", \"5m\" or \"15m\", found {other:?}")),
        }
    }
}

fn load_limit(limit: &f64) -> Result<(), String> {
    if limit.is_finite() && *limit >= 0.0 { Ok(()) } else { Err("must be a number of 0 or more".to_string()) }
}

fn process_name(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_control) {
        Err("a process name is one word without `/`, e.g. \"nginx\"".to_string())
    } else {
        Ok(())
    }
}

// The derive hands a check the key's own type.
#[allow(clippy::ptr_arg)]
fn mount_points(mounts: &Vec<String>) -> Result<(), String> {
    match mounts.iter().position(|m| !m.trim().starts_with('/') || m.chars().any(char::is_control)) {
        Some(i) => Err(format!("item {}: a mount point is an absolute path such as \"/var\"", i + 1)),
        None => Ok(()),
    }
}

#[allow(clippy::ptr_arg)]
fn ports(ports: &Vec<u16>) -> Result<(), String> {
    if ports.len() > MAX_PORTS {
        return Err(format!("at most {MAX_PORTS} ports"));
    }
    match ports.iter().position(|p| *p == 0) {
        Some(i) => Err(format!("item {}: a port is a number from 1 to 65535", i + 1)),
        None => Ok(()),
    }
}

/// A mount point as the kernel lists it: without a trailing `/` (except `/` itself).
pub fn normal_mount(path: &str) -> String {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.is_empty() { "/".to_string() } else { trimmed.to_string() }
}
