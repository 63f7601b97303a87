//! The built-in catalogue against real peers on 127.0.0.1: the local services this kind of
//! machine runs (PostgreSQL, MariaDB, Redis, RabbitMQ, Mosquitto, NATS; `scripts/services`
//! starts any that is down) and servers the tests start themselves. One module per plugin.

#[path = "../support/mod.rs"]
mod support;

mod amqp;
mod dns;
mod grpc;
mod http;
mod imap;
mod mqtt;
mod mysql;
mod nagios;
mod nats;
mod ping;
mod pki;
mod pop3;
mod postgres;
mod redis;
mod smtp;
mod ssh;
mod system;
mod tls;

use support::Sandbox;

/// One `run --once --format json` of a single check named `c`: `plugin` (a built-in name or
/// a path to a .wasm) against `target`, with `extra` TOML lines in the `[[check]]` table
/// and `config` TOML lines in its `[check.config]`. Returns the exit code, the result
/// object and stderr.
pub fn run(plugin: &str, target: &str, extra: &str, config: &str) -> (i32, serde_json::Value, String) {
    run_env(plugin, target, extra, config, &[])
}

/// [`run`] with extra environment variables (secrets for `${env:NAME}`).
pub fn run_env(
    plugin: &str,
    target: &str,
    extra: &str,
    config: &str,
    env: &[(&str, &str)],
) -> (i32, serde_json::Value, String) {
    let toml = format!(
        "[[check]]\nname = \"c\"\nplugin = {}\ntarget = {}\ntimeout = \"5s\"\n{extra}\n[check.config]\n{config}\n",
        support::toml_str(plugin),
        support::toml_str(target)
    );
    let sandbox = Sandbox::new(&toml);
    let mut args = vec!["run", "--once", "--format", "json"];
    args.push("--db");
    let db = sandbox.db().display().to_string();
    args.push(&db);
    let out = sandbox.vitals_env(&args, env);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not a JSON array ({e}):\n{stdout}\nstderr:\n{stderr}\nconfig:\n{toml}"));
    let result = parsed.into_iter().next().unwrap_or_else(|| panic!("no result; stderr:\n{stderr}"));
    (out.status.code().unwrap_or(-1), result, stderr)
}

/// The status of a result object (`ok`, `warning`, `critical`, `unknown`).
pub fn status(result: &serde_json::Value) -> &str {
    result["status"].as_str().unwrap_or("?")
}

/// The reason of a result object, or "" when there is none.
pub fn reason(result: &serde_json::Value) -> &str {
    result["reason"].as_str().unwrap_or("")
}

/// The summary of a result object.
pub fn summary(result: &serde_json::Value) -> &str {
    result["summary"].as_str().unwrap_or("")
}
