//! The `webhook` notifier's configuration keys, declared once: `describe` announces them
//! and `notify` parses them, from this one struct.

use std::collections::BTreeMap;
use std::time::Duration;

use vitals_sdk::Config;

/// The parsed `[notifier.config]` table.
#[derive(Debug, Clone, PartialEq, Config)]
pub struct Config {
    /// The http:// or https:// URL to POST every state change to.
    #[config(required, check = http_url)]
    pub url: String,
    /// Extra request headers (e.g. Authorization).
    pub headers: BTreeMap<String, String>,
    /// Time limit of one attempt.
    #[config(default = "5s")]
    pub timeout: Duration,
    /// Further attempts after a failed one.
    #[config(default = 3)]
    pub retries: u32,
    /// Wait before the first retry; each next retry waits twice as long.
    #[config(default = "500ms")]
    pub backoff: Duration,
}

fn http_url(url: &str) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!("{url:?} is not an http:// or https:// URL"))
    }
}
