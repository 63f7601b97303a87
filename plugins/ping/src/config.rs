//! The `ping` plugin's configuration keys, declared once, and the parsing of its target.

use std::time::Duration;

use vitals_sdk::serde_json::Value;
use vitals_sdk::{Config, ConfigError, ConfigProblem, ConfigType, ConfigValue, PluginConfig, Range, Thresholds};

/// Most echo requests the host sends in one call.
pub const MAX_COUNT: u32 = 20;
/// Largest payload the host sends, in bytes.
pub const MAX_SIZE: u32 = 1024;
/// Shortest interval the host keeps between requests.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// Longest interval accepted: a ping series is a few seconds, not a vigil.
pub const MAX_INTERVAL: Duration = Duration::from_secs(10);

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// How many echo requests to send (1 to 20).
    #[config(default = 5, check = count)]
    pub count: u32,
    /// Time between two requests (100ms to 10s); a reply is waited for until the next request is due, the last one for at least 1s.
    #[config(default = "200ms", check = interval)]
    pub interval: Duration,
    /// Payload bytes of each request (at most 1024).
    #[config(default = 56, check = size)]
    pub size: u32,
    /// Warn when more than this share of the requests gets no reply.
    #[config(default = "20%")]
    pub loss_warn: Percent,
    /// Critical when more than this share of the requests gets no reply.
    #[config(default = "60%")]
    pub loss_crit: Percent,
    /// Warn when the average round trip takes longer than this.
    pub rtt_warn: Option<Duration>,
    /// Critical when the average round trip takes longer than this.
    pub rtt_crit: Option<Duration>,
}

impl Config {
    /// Parses the config JSON and checks what no single key can say (a warning above its
    /// critical level).
    pub fn load(json: &str) -> Result<Config, ConfigError> {
        let config = Config::parse(json)?;
        let mut problems = Vec::new();
        if config.loss_warn.0 > config.loss_crit.0 {
            problems.push(ConfigProblem::at_key(
                "loss_warn",
                format!(
                    "{}% is above loss_crit ({}%): a warning comes before the critical level",
                    config.loss_warn.0, config.loss_crit.0
                ),
            ));
        }
        if let (Some(warn), Some(crit)) = (config.rtt_warn, config.rtt_crit)
            && warn > crit
        {
            problems.push(ConfigProblem::at_key(
                "rtt_warn",
                "is above rtt_crit: a warning comes before the critical level",
            ));
        }
        if problems.is_empty() { Ok(config) } else { Err(ConfigError::new(problems)) }
    }

    /// `rtt_warn` and `rtt_crit` as thresholds on milliseconds.
    pub fn rtt_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.rtt_warn, self.rtt_crit)
    }

    /// `loss_warn` and `loss_crit` as ranges alerting above them.
    pub fn loss_thresholds(&self) -> Thresholds {
        Thresholds { warn: Some(self.loss_warn.upper()), crit: Some(self.loss_crit.upper()) }
    }

    /// How long the host may take for the whole series: every interval, and for the last
    /// reply the interval or 1 s, whichever is longer.
    pub fn series_ms(&self) -> u32 {
        let interval = u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX);
        let last = interval.max(1_000);
        let total = u64::from(self.count.saturating_sub(1)).saturating_mul(interval).saturating_add(last);
        u32::try_from(total).unwrap_or(u32::MAX)
    }
}

/// A percentage such as `"20%"`, from 0 to 100.
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
            None => Err(format!("expected a percentage such as \"20%\", found {text:?}")),
        }
    }
}

fn count(n: &u32) -> Result<(), String> {
    if (1..=MAX_COUNT).contains(n) { Ok(()) } else { Err(format!("must be from 1 to {MAX_COUNT}")) }
}

fn interval(d: &Duration) -> Result<(), String> {
    if (MIN_INTERVAL..=MAX_INTERVAL).contains(d) { Ok(()) } else { Err("must be from 100ms to 10s".to_string()) }
}

fn size(n: &u32) -> Result<(), String> {
    if *n <= MAX_SIZE { Ok(()) } else { Err(format!("must be at most {MAX_SIZE} bytes")) }
}

/// The host to ping from a target: `ping:HOST` (no port), or `HOST:PORT` / `[v6]:PORT`
/// as other checks write it, the port ignored (ICMP has none).
pub fn parse_target(target: &str) -> Result<String, String> {
    let target = target.trim();
    let host = if let Some(rest) = target.strip_prefix("ping:") {
        let rest = rest.trim();
        rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(rest)
    } else if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("missing ] after an IPv6 address")?;
        port(after.strip_prefix(':').ok_or("expected ping:HOST, HOST:PORT or [v6]:PORT")?)?;
        host
    } else {
        let (host, p) = target.rsplit_once(':').ok_or("expected ping:HOST, HOST:PORT or [v6]:PORT")?;
        if host.contains(':') {
            return Err("an IPv6 address needs brackets ([v6]:PORT) or the ping: form (ping:::1)".to_string());
        }
        port(p)?;
        host
    };
    if host.is_empty() {
        return Err("the host is empty".to_string());
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '[' | ']')) {
        return Err(format!("invalid host {host:?}"));
    }
    Ok(host.to_string())
}

/// A port as a target writes it (1-65535, the number itself); ping ignores it.
fn port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(number) if number > 0 && number.to_string() == text => Ok(number),
        _ => Err(format!("invalid port {text:?} (1-65535)")),
    }
}
