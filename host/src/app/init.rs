//! `vitals init`: a commented `checks.toml` to start from. By default it is about this
//! machine: the well-known services that answer on 127.0.0.1 get a check each; `--example
//! web`, `db` or `all` writes examples instead. Either way the file ends with commented
//! examples of the rest of the grammar (objectives, retries, secrets, maintenance,
//! notifiers), each valid as soon as its `# ` is deleted.
//!
//! Lines starting with `## ` explain; lines starting with `# ` are settings.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use super::Failure;

/// What `--example` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Example {
    /// Public web checks.
    Web,
    /// The local databases and caches.
    Db,
    /// Both, and what answers on this machine.
    All,
}

/// How a service found on a port is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// An HTTP server (`http://127.0.0.1:PORT/`).
    Http,
    /// An HTTPS server, whose certificate will not name 127.0.0.1.
    Https,
    /// A TCP service: connect, optionally send a text and expect one.
    Tcp {
        /// Sent after connecting (TOML escapes allowed).
        send: Option<&'static str>,
        /// What the server must send.
        expect: Option<&'static str>,
    },
}

/// A well-known service: its name, port and how it is checked.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// Used in the check's name (`local-NAME`) and tags.
    pub name: &'static str,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// How it is checked.
    pub probe: Probe,
    /// Its tag (`web`, `database`, `cache`, `broker`, `mail`, `remote`).
    pub tag: &'static str,
    /// Commented settings written under its `[check.config]`, for what cannot be assumed.
    pub optional: &'static str,
}

const fn tcp(name: &'static str, port: u16, tag: &'static str) -> Service {
    Service { name, port, probe: Probe::Tcp { send: None, expect: None }, tag, optional: "" }
}

/// The services `vitals init` looks for on 127.0.0.1.
pub const WELL_KNOWN: &[Service] = &[
    Service { probe: Probe::Tcp { send: None, expect: Some("SSH-") }, ..tcp("ssh", 22, "remote") },
    Service { probe: Probe::Tcp { send: None, expect: Some("220") }, ..tcp("smtp", 25, "mail") },
    Service { probe: Probe::Http, ..tcp("http", 80, "web") },
    Service { probe: Probe::Https, ..tcp("https", 443, "web") },
    Service { probe: Probe::Http, ..tcp("http-8080", 8080, "web") },
    tcp("mysql", 3306, "database"),
    tcp("postgres", 5432, "database"),
    // A Redis behind a password answers PING with -NOAUTH: the exchange is offered, not assumed.
    Service {
        optional: "## Without a password (requirepass), Redis answers PING; with one it says -NOAUTH.\n\
                   # send = \"PING\\r\\n\"\n\
                   # expect = \"+PONG\"\n",
        ..tcp("redis", 6379, "cache")
    },
    tcp("rabbitmq", 5672, "broker"),
    tcp("mosquitto", 1883, "broker"),
    Service { probe: Probe::Tcp { send: None, expect: Some("INFO") }, ..tcp("nats", 4222, "broker") },
];

/// The services of `candidates` that accept a TCP connection on 127.0.0.1 within
/// `timeout` each.
pub fn detect(candidates: &[Service], timeout: Duration) -> Vec<Service> {
    candidates
        .iter()
        .copied()
        .filter(|s| TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, s.port)), timeout).is_ok())
        .collect()
}

/// The text of a `checks.toml`: the checks of `found` (what answers here), plus those of
/// `example`, then the commented examples.
pub fn render(found: &[Service], example: Option<Example>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## checks.toml, written by `vitals init`. What Vitals checks, one [[check]] each.");
    let _ = writeln!(out, "##");
    let _ =
        writeln!(out, "## Lines starting with \"## \" explain; lines starting with \"# \" are settings you turn on");
    let _ =
        writeln!(out, "## by deleting the \"# \". `vitals validate` checks this file, `vitals run --once` runs every");
    let _ = writeln!(out, "## check once, `vitals run` runs them on their schedules. docs/configuration.md documents");
    let _ =
        writeln!(out, "## every key, and `vitals plugin inspect http` lists the keys of a plugin's [check.config].");
    let _ = writeln!(out);
    out.push_str(DEFAULTS);
    let machine = example.is_none() || example == Some(Example::All);
    let mut checks = 0;
    if machine {
        let _ = writeln!(out);
        if found.is_empty() {
            let _ = writeln!(out, "## Nothing answered on the usual ports of 127.0.0.1 when this file was written.");
        } else {
            let names: Vec<String> = found.iter().map(|s| format!("{} ({})", s.name, s.port)).collect();
            let _ = writeln!(out, "## What answered on 127.0.0.1 when this file was written: {}.", names.join(", "));
        }
        for service in found {
            out.push_str(&service_check(service));
            checks += 1;
        }
    }
    if matches!(example, Some(Example::Web | Example::All)) || (example.is_none() && found.is_empty()) {
        out.push_str(WEB);
        checks += 1;
    }
    if matches!(example, Some(Example::Db | Example::All)) {
        for service in WELL_KNOWN.iter().filter(|s| matches!(s.tag, "database" | "cache")) {
            if !(machine && found.iter().any(|f| f.port == service.port)) {
                out.push_str(&service_check(service));
                checks += 1;
            }
        }
    }
    debug_assert!(checks > 0, "every file has a check");
    out.push_str(MORE);
    out
}

/// A `[[check]]` of one local service.
fn service_check(s: &Service) -> String {
    let mut out = String::new();
    let _ = writeln!(out);
    match s.probe {
        Probe::Http | Probe::Https => {
            let scheme = if s.probe == Probe::Https { "https" } else { "http" };
            let port = if matches!((s.probe, s.port), (Probe::Http, 80) | (Probe::Https, 443)) {
                String::new()
            } else {
                format!(":{}", s.port)
            };
            let _ = writeln!(out, "## The web server on port {}: any answer but a server error is up.", s.port);
            let _ = writeln!(out, "[[check]]\nname = \"local-{}\"\nplugin = \"http\"", s.name);
            let _ = writeln!(out, "target = \"{scheme}://127.0.0.1{port}/\"\ntags = [\"local\", \"{}\"]", s.tag);
            let _ = writeln!(out, "[check.config]\nexpect_status = \"200-499\"\nwarn_time = \"500ms\"");
            if s.probe == Probe::Https {
                let _ =
                    writeln!(out, "tls_verify = false               ## its certificate names the host, not 127.0.0.1");
            }
        }
        Probe::Tcp { send, expect } => {
            let _ = writeln!(
                out,
                "## {} on port {}: it accepts connections{}.",
                s.name,
                s.port,
                match expect {
                    Some(e) => format!(" and answers {e:?}"),
                    None => String::new(),
                }
            );
            let _ = writeln!(out, "[[check]]\nname = \"local-{}\"\nplugin = \"tcp\"", s.name);
            let _ = writeln!(out, "target = \"127.0.0.1:{}\"\ntags = [\"local\", \"{}\"]", s.port, s.tag);
            let _ = writeln!(out, "[check.config]\nwarn_time = \"100ms\"");
            if let Some(send) = send {
                let _ = writeln!(out, "send = \"{send}\"");
            }
            if let Some(expect) = expect {
                let _ = writeln!(out, "expect = \"{expect}\"");
            }
        }
    }
    out.push_str(s.optional);
    out
}

const DEFAULTS: &str = r##"## Values every check inherits unless it sets its own.
[defaults]
timeout = "5s"                ## the deadline of one run, network and plugin time included
interval = "60s"              ## how often the daemon (`vitals run`) runs each check
# retries = 2                 ## further attempts before a failure is confirmed (HARD)
# retry_interval = "10s"      ## the pause between those attempts
# memory = "32MiB"            ## the sandbox's memory cap
"##;

const WEB: &str = r##"
## A public web page: its status, its content and its speed. On a machine without internet
## access it fails with reason "dns" or "connect", which is the right answer there.
[[check]]
name = "example-home"
plugin = "http"
target = "https://example.com/"
tags = ["web", "public"]
[check.config]
expect_status = "200-299"     ## codes and ranges: "200,204,300-399"
body_contains = "Example"
warn_time = "800ms"           ## warning when the whole exchange takes longer
crit_time = "3s"              ## critical when it takes longer than this
"##;

const MORE: &str = r##"
## More, to turn on by deleting the "# " of each line of an example.
##
## A check with an objective: `vitals report` shows its error budget and burn-rate alerts,
## and `vitals gate --condition "error_budget(api) > 10%"` stops a release that spends it.
## Secrets come from the environment (here API_TOKEN) and are never printed or stored.
# [[check]]
# name = "api"
# plugin = "http"
# target = "https://api.example.com/health"
# tags = ["web", "api"]
# retries = 2
# retry_interval = "10s"
# slo = "99.9%"
# slo_window = "30d"
# [check.config]
# expect_status = "200"
# headers = { Authorization = "Bearer ${env:API_TOKEN}" }

## Planned downtime of the api check above: left out of availability and of notifications
## (`tags = [...]` names the checks by tag instead).
# [[maintenance]]
# name = "weekly patching"
# cron = "0 3 * * SUN"
# timezone = "UTC"
# duration = "30m"
# checks = ["api"]

## Where HARD state changes and flapping go: a webhook (its token from HOOK_TOKEN).
# [[notifier]]
# name = "ops-webhook"
# plugin = "webhook"
# target = "https://hooks.example.com/vitals"
# [notifier.config]
# url = "https://hooks.example.com/vitals"
# headers = { Authorization = "Bearer ${env:HOOK_TOKEN}" }
"##;

/// Writes `text` to `path`: refused when it exists unless `force`; written beside it,
/// then renamed over it, so a reader never sees half a file.
pub fn write(path: &Path, text: &str, force: bool) -> Result<(), Failure> {
    if path.exists() && !force {
        return Err(Failure::usage(format!(
            "{} already exists; pass --force to replace it, or --output PATH (or --stdout) to write elsewhere",
            path.display()
        )));
    }
    let fail = |e: std::io::Error| Failure::store(format!("cannot write {}: {e}", path.display()));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".init");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_that_answers_is_found_and_one_that_does_not_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        let open = listener.local_addr().expect("address").port();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
            l.local_addr().expect("address").port()
        };
        let candidates = [tcp("open", open, "database"), tcp("closed", closed, "database")];
        let found = detect(&candidates, Duration::from_millis(500));
        assert_eq!(found.iter().map(|s| s.name).collect::<Vec<_>>(), ["open"]);
    }

    #[test]
    fn every_file_has_checks_and_the_examples_at_the_end() {
        let found = [WELL_KNOWN[2], WELL_KNOWN[3], WELL_KNOWN[7]];
        let text = render(&found, None);
        assert!(text.contains("name = \"local-http\"\nplugin = \"http\"\ntarget = \"http://127.0.0.1/\""), "{text}");
        assert!(text.contains("target = \"https://127.0.0.1/\"") && text.contains("tls_verify = false"), "{text}");
        assert!(text.contains("# send = \"PING\\r\\n\"\n# expect = \"+PONG\"\n"), "offered, not assumed: {text}");
        assert!(!text.contains("example-home"), "the machine's services, no public example");
        assert!(render(&[], None).contains("name = \"example-home\""), "nothing found: the web example");
        let db = render(&[], Some(Example::Db));
        assert!(db.contains("local-postgres") && db.contains("local-redis") && !db.contains("example-home"));
        // With --example all, a service found here is not written twice.
        let all = render(&[WELL_KNOWN[6]], Some(Example::All));
        assert_eq!(all.matches("name = \"local-postgres\"").count(), 1, "{all}");
        assert!(all.ends_with(MORE));
    }
}
