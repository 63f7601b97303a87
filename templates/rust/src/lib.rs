//! `{{name}}`: a Vitals check plugin. It GETs the target URL and is OK when the status
//! code is one of `expect_status`, with the response time as a metric and optional
//! warning and critical thresholds on it.

use std::time::Duration;

use vitals_sdk::http::{self, Request};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, Config, ConfigProblem, Description, PluginConfig, Reason, Status, StatusCodes,
    Thresholds, critical, description, format_ms, metric, net_failure, ok, register_check, us_to_ms, warning,
};

/// The check's `[check.config]` table, declared once: `describe` announces these keys
/// (with their doc comments and defaults), `validate` and `run` parse them.
#[derive(Debug, Config)]
pub struct Settings {
    /// Accepted status codes: codes and ranges, e.g. "200,204,300-399".
    #[config(default = "200-299")]
    pub expect_status: StatusCodes,
    /// Warn when the response takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the response takes longer than this.
    pub crit_time: Option<Duration>,
}

/// The check.
pub struct Plugin;

impl Check for Plugin {
    fn describe() -> Description {
        description(
            "{{name}}",
            env!("CARGO_PKG_VERSION"),
            "GETs the target URL; OK when its status code is expected, with the time as a metric.",
            Settings::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        vitals_sdk::validate_config::<Settings>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        let settings = match Settings::parse(&request.config) {
            Ok(settings) => settings,
            Err(error) => return error.into(),
        };
        let get = Request {
            method: "GET".into(),
            url: request.target.clone(),
            headers: Vec::new(),
            body: None,
            timeout_ms: Some(request.deadline_ms),
            max_redirects: 0,
            tls_verify: true,
            max_body_bytes: 0,
        };
        let response = match http::send(&get) {
            Ok(response) => response,
            Err(error) => return net_failure(&format!("GET {}", request.target), &error),
        };
        let time_ms = us_to_ms(response.timings.total_us);
        let thresholds = Thresholds::time_ms(settings.warn_time, settings.crit_time);
        let time = metric("time", time_ms, "ms").min(0.0).warn_opt(thresholds.warn).crit_opt(thresholds.crit);
        let headline = format!("HTTP {} in {}", response.status, format_ms(time_ms));
        let result = if !settings.expect_status.contains(response.status) {
            critical(format!("{headline}, expected {}", settings.expect_status), Reason::HttpStatus)
        } else {
            match thresholds.evaluate(time_ms) {
                Status::Critical => critical(format!("{headline}: slower than crit_time"), Reason::Assertion),
                Status::Warning => warning(format!("{headline}: slower than warn_time"), Reason::Assertion),
                _ => ok(headline),
            }
        };
        result.with_metric(time)
    }
}

register_check!(Plugin);

#[cfg(test)]
mod tests {
    // Every case of cases.toml, run natively against its recorded answers.
    vitals_sdk::test_cases!(super::Plugin, "cases.toml");
}
