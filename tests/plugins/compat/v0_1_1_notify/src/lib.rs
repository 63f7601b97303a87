//! `compat-notify-v0-1-1`: a notifier plugin built against the released WIT 0.1.1 (the
//! version that introduced notifiers), so that the host's tests can prove that notifiers
//! of that version keep loading and delivering.
//!
//! `notify` POSTs one line, `<check> <kind> <old> -> <new>: <summary>`, to the `url` key
//! through the host's `http` import; any answer but 2xx is an error.

wit_bindgen::generate!({ world: "notify", path: "../../../../wit/released/0.1.1" });

use exports::vitals::plugin::notifier::{ChangeKind, Guest, StateChange};
use vitals::plugin::http;
use vitals::plugin::types::{ConfigKey, ConfigType, Description, Status};

/// The `[notifier.config]` table.
#[derive(serde::Deserialize)]
struct Config {
    url: String,
}

struct Notify;

impl Guest for Notify {
    fn describe() -> Description {
        Description {
            name: "compat-notify-v0-1-1".into(),
            version: "0.1.0".into(),
            summary: "A test fixture built against WIT 0.1.1: POSTs each state change as one \
                      line of text to `url`."
                .into(),
            config: vec![ConfigKey {
                name: "url".into(),
                kind: ConfigType::String,
                default: None,
                required: true,
                doc: "Where to POST each state change.".into(),
            }],
        }
    }

    fn notify(event: StateChange, config: String) -> Result<(), String> {
        let config: Config = serde_json::from_str(&config).map_err(|e| format!("bad config: {e}"))?;
        let kind = match event.kind {
            ChangeKind::HardChange => "hard-change",
            ChangeKind::FlappingStarted => "flapping-started",
            ChangeKind::FlappingStopped => "flapping-stopped",
        };
        let line = format!(
            "{} {kind} {} -> {}: {}",
            event.check,
            status(event.old_status),
            status(event.new_status),
            event.summary
        );
        let request = http::Request {
            method: "POST".into(),
            url: config.url.clone(),
            headers: vec![("content-type".into(), "text/plain".into())],
            body: Some(line.into_bytes()),
            timeout_ms: Some(5000),
            max_redirects: 0,
            tls_verify: true,
            max_body_bytes: 1024,
        };
        match http::send(&request) {
            Ok(response) if (200..300).contains(&response.status) => Ok(()),
            Ok(response) => Err(format!("{} answered {}", config.url, response.status)),
            Err(e) => Err(format!("{}: {e:?}", config.url)),
        }
    }
}

export!(Notify);

/// A status as one lower-case word; `none` when there is none.
fn status(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Ok) => "ok",
        Some(Status::Warning) => "warning",
        Some(Status::Critical) => "critical",
        Some(Status::Unknown) => "unknown",
        None => "none",
    }
}
