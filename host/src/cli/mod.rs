//! The command line: argument definitions (clap) and one module per command. Each
//! command returns the process exit code; `main.rs` only calls [`main`].

mod check;
mod docs;
pub mod exit;
mod gate;
mod init;
mod plugin;
mod render;
mod report;
mod run;
mod runners;
mod stdout;
mod store;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

use crate::app::{Context, Failure};
use crate::plan::PostgresSpec;

/// Vitals runs health checks as sandboxed WebAssembly plugins, stores every result,
/// and exits with the worst status so that cron jobs and CI pipelines can act on it.
///
/// Exit codes: 0 ok, 1 warning, 2 critical, 3 unknown (the worst check; for `gate`,
/// 0 every condition holds, 1 one failed); 64 usage error, 65 unusable plugin file, 69 --listen address unavailable,
/// 70 internal error, 74 store error,
/// 78 configuration error.
#[derive(Debug, Parser)]
#[command(name = "vitals", version, long_version = LONG_VERSION, about, long_about, max_term_width = 100)]
#[command(after_long_help = "Examples:\n  \
    vitals init                          # write a commented checks.toml for this machine\n  \
    vitals run --once                    # run every check once, store the results, exit with the worst status\n  \
    vitals report --since 7d             # availability, incidents and response times\n  \
    vitals gate --condition 'p95(web) < 300ms'\n  \
    vitals completions bash > /etc/bash_completion.d/vitals")]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short = 'c',
        global = true,
        default_value = "checks.toml",
        env = "VITALS_CONFIG",
        help_heading = GLOBAL
    )]
    pub config: PathBuf,

    /// The SQLite result database [default: the shared store if one is named, else
    /// vitals.db next to the config file].
    #[arg(long, global = true, env = "VITALS_DB", help_heading = GLOBAL, conflicts_with = "store")]
    pub db: Option<PathBuf>,

    /// The shared PostgreSQL store, postgres://USER@HOST/DATABASE [default: [store] url of
    /// the config file]; pass a URL with a password through VITALS_STORE, not on the command line.
    #[arg(long, global = true, env = "VITALS_STORE", value_name = "URL", value_parser = StoreParser, help_heading = GLOBAL)]
    pub store: Option<PostgresSpec>,

    /// Compile plugins instead of using the compiled copies in the cache directory.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_cache: bool,

    /// Log format on stderr (the level comes from VITALS_LOG or RUST_LOG, default `warn`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, help_heading = GLOBAL)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// `--version`: the version, the WIT versions of the plugins it loads and its wasmtime.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nplugins: vitals:plugin@",
    env!("VITALS_WIT_VERSIONS"),
    "\nwasmtime ",
    env!("VITALS_WASMTIME_VERSION")
);

impl Cli {
    /// Where the command finds its configuration and store.
    pub fn context(&self) -> Context {
        Context { config: self.config.clone(), db: self.db.clone(), store: self.store.clone(), no_cache: self.no_cache }
    }
}

/// `--store`: a PostgreSQL URL, refused when it is not one. A parser of its own because
/// clap's usual message quotes the value given, password included; this one never does.
#[derive(Clone)]
struct StoreParser;

impl clap::builder::TypedValueParser for StoreParser {
    type Value = PostgresSpec;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<PostgresSpec, clap::Error> {
        let refuse = |why: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("invalid --store: {why}\n"))
        };
        let url = value.to_str().ok_or_else(|| refuse("the URL is not valid UTF-8".into()))?;
        PostgresSpec::parse(url).map_err(refuse)
    }
}

/// Logs to stderr, filtered by `VITALS_LOG` (or `RUST_LOG`), `warn` by default.
fn init_logging(format: LogFormat) {
    let filter = std::env::var("VITALS_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("warn"));
    // Colour only for a person at a terminal: never in a file, a pipe (the documented
    // crontab pipes to `logger`) or with NO_COLOR set.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Log line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented checks.toml: a check for each well-known service that answers on
    /// 127.0.0.1 (ssh, http, https, PostgreSQL, MariaDB, Redis, RabbitMQ, Mosquitto, NATS),
    /// or examples, then commented examples of the rest. Asks nothing.
    #[command(after_long_help = "Examples:\n  \
        vitals init                           # checks.toml for what runs on this machine\n  \
        vitals init --example web --stdout    # public web checks, on stdout\n  \
        vitals --config /etc/vitals/checks.toml init --example all --force\n\n\
        Lines starting with \"## \" explain; delete the \"# \" of a line starting with \"# \" to turn it on.\n\
        Exit codes: 0 written, 64 the file exists (pass --force), 74 cannot write.")]
    Init(InitArgs),
    /// Run checks on their schedules until SIGINT or SIGTERM (SIGHUP reloads the
    /// config); with --once, run every check once and exit with the worst status.
    #[command(after_long_help = "Examples:\n  \
        vitals run --once                              # every check once (cron, CI)\n  \
        vitals run --once --tag db --format json       # only the checks tagged db, as JSON\n  \
        vitals run --listen 127.0.0.1:9100 --watch     # the daemon, with /metrics, reloading on change\n\n\
        Exit codes (--once): 0 ok, 1 warning, 2 critical, 3 unknown (the worst check); 64 usage,\n\
        69 --listen address unavailable, 74 store error, 78 configuration error.")]
    Run(RunArgs),
    /// Run one check and print it in the Monitoring Plugins format
    /// (`HTTP OK - summary | perfdata`), with the matching exit code, for Nagios,
    /// Icinga or Sensu.
    #[command(after_long_help = "Examples:\n  \
        vitals check homepage                 # HTTP OK - 200 in 12 ms | time_total=12ms;...\n  \
        vitals check db --no-store            # run it without storing the result\n\n\
        Exit codes: 0 ok, 1 warning, 2 critical, 3 unknown; 64 no such check, 78 configuration error.")]
    Check(CheckArgs),
    /// Parse and validate the configuration and every plugin it names, without running
    /// anything.
    #[command(after_long_help = "Examples:\n  \
        vitals validate                       # checks.toml in this directory\n  \
        vitals --config /etc/vitals/checks.toml validate\n\n\
        Exit codes: 0 valid, 65 unusable plugin file, 78 configuration error (file:line:col).")]
    Validate,
    /// Work with plugins.
    #[command(subcommand)]
    #[command(after_long_help = "Examples:\n  \
        vitals plugin list                    # the built-ins and the plugins checks.toml uses\n  \
        vitals plugin new redis-ping --lang python\n  \
        vitals plugin run http --target https://example.com/\n  \
        vitals plugin test ./my-check.wasm --cases cases.toml")]
    Plugin(PluginCommand),
    /// Work with the result store.
    #[command(subcommand)]
    #[command(after_long_help = "Examples:\n  \
        vitals store check                    # PRAGMA integrity_check of the whole database")]
    Store(StoreCommand),
    /// The runners that share a PostgreSQL store: locations, heartbeats, checks owned.
    #[command(after_long_help = "Examples:\n  \
        vitals --store postgres://vitals@db/vitals runners\n  \
        vitals runners --format json")]
    Runners(RunnersArgs),
    /// Availability, incidents and response times from the stored results.
    #[command(after_long_help = "Examples:\n  \
        vitals report --since 7d                                   # every check and tag, as a table\n  \
        vitals report --since 30d --format html --output sla.html  # one self-contained page with charts\n  \
        vitals report --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --format markdown\n  \
        vitals report --since 1d --check api --format csv          # the raw results, for a spreadsheet\n\n\
        Availability counts HARD states, warning as up (the time in a HARD warning is shown as degraded).\n\
        Exit codes: 0 written, 64 usage error (an unknown --check), 74 store error, 78 configuration error.")]
    Report(ReportArgs),
    /// A CI health gate: run the checks the conditions need, test every condition
    /// ("p95(web) < 300ms", "error_budget(web) > 10%") and exit 0 if all hold, 1 if not.
    Gate(GateArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    #[command(after_long_help = "Examples:\n  \
        vitals completions bash > ~/.local/share/bash-completion/completions/vitals\n  \
        vitals completions zsh > ~/.zfunc/_vitals     # with fpath+=(~/.zfunc) in .zshrc\n  \
        vitals completions fish > ~/.config/fish/completions/vitals.fish")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a directory.
    #[command(after_long_help = "Examples:\n  \
        vitals man | man -l -                 # read it now\n  \
        vitals man --dir /usr/local/share/man/man1   # vitals.1, vitals-run.1, vitals-report.1, ...")]
    Man(ManArgs),
}

/// `vitals init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Examples instead of (web, db) or beside (all) what answers on this machine.
    #[arg(long, value_enum, value_name = "KIND")]
    pub example: Option<ExampleArg>,
    /// Where to write it [default: the --config path, checks.toml].
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print it instead of writing a file.
    #[arg(long, conflicts_with_all = ["output", "force"])]
    pub stdout: bool,
}

/// `vitals init --example`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExampleArg {
    /// Public web checks (http).
    Web,
    /// The local databases and caches (PostgreSQL, MariaDB, Redis).
    Db,
    /// Both, and what answers on this machine.
    All,
}

/// `vitals completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `vitals man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `vitals.1` and one page per command into this directory instead of printing
    /// the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `vitals gate`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:\n  \
    vitals gate --condition 'status(*) <= warning' --condition 'p95(web) < 300ms'\n  \
    vitals gate --wait-for-healthy --timeout 2m --junit gate.xml\n\n\
    Conditions (docs/ci.md has the whole grammar):\n  \
    status(web) == ok             status(tag:api) <= warning     status(*) != critical\n  \
    p95(web) < 300ms              p99(tag:api, connect) < 50ms   max(web, 7d) < 1s\n  \
    availability(web, 30d) >= 99.9%   error_budget(web) > 10%    burn_rate(web, 1h) < 14.4\n  \
    metric(db, replication_lag) < 5s\n\n\
    Exit codes: 0 every condition holds, 1 a condition failed, 64 usage error (a bad --condition),\n\
    74 store error, 78 configuration error (a bad [gate] condition).")]
pub struct GateArgs {
    /// A condition to test, added to the [gate] conditions of the config (repeat for several).
    #[arg(long = "condition", value_name = "CONDITION")]
    pub conditions: Vec<String>,
    /// Run each check the conditions need this many times per attempt.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// The pause between those runs.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub spacing: std::time::Duration,
    /// Try again (runs and evaluation), with backoff from 1s doubling up to 30s, until every
    /// condition holds or --timeout has passed.
    #[arg(long)]
    pub wait_for_healthy: bool,
    /// How long --wait-for-healthy waits before failing.
    #[arg(long, default_value = "5m", value_parser = parse_duration, requires = "wait_for_healthy")]
    pub timeout: std::time::Duration,
    /// Most checks running at the same time.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
    /// Also write the verdict as JUnit XML to this file (one testsuite per check).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the verdict as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// Gate verdict formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GateFormat {
    /// One line per condition and check, for people.
    Text,
    /// One JSON object with a `schema_version` (docs/ci.md).
    Json,
}

/// `vitals report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The window: from this long ago until now.
    #[arg(long, default_value = "30d", value_parser = parse_duration)]
    pub since: std::time::Duration,
    /// Only this check (repeat for several).
    #[arg(long = "check", value_name = "NAME")]
    pub checks: Vec<String>,
    /// Only checks with this tag (repeat for any of several).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Flag a regression when p95 grew by more than this percentage against the
    /// previous window of the same length.
    #[arg(long, default_value_t = 20.0, value_name = "PERCENT")]
    pub regression_threshold: f64,
    /// Start of the window (RFC 3339, such as 2026-11-01T00:00:00Z); with --to, instead
    /// of --since.
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "to")]
    pub from: Option<i64>,
    /// End of the window (RFC 3339); the SLO is evaluated as of this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<i64>,
    /// How time without results counts: excluded from the ratio (default) or as down.
    #[arg(long, value_enum, default_value_t = NoDataArg::Excluded, value_name = "HOW")]
    pub no_data_as: NoDataArg,
    /// Read raw results only (exact percentiles and every plugin metric, but slower over
    /// long windows; raw results older than the retention are gone).
    #[arg(long)]
    pub exact: bool,
}

/// `--no-data-as`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoDataArg {
    /// Time without results is left out of the availability ratio.
    Excluded,
    /// Time without results counts as down.
    Down,
}

/// An RFC 3339 time as milliseconds since the Unix epoch.
fn parse_time(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("{e}; write an RFC 3339 time such as 2026-11-01T00:00:00Z"))
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned table for people.
    Text,
    /// One JSON object with a `schema_version`.
    Json,
    /// Markdown tables, for a CI job summary or a wiki page.
    Markdown,
    /// The raw results of the window, one row each, for spreadsheets.
    Csv,
    /// One self-contained HTML page with charts (inline SVG, no script, no network).
    Html,
}

/// `vitals runners`.
#[derive(Debug, Args)]
pub struct RunnersArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// A heartbeat older than this counts as expired (the runners' --heartbeat-timeout).
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

/// `vitals run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run every selected check once, then exit (for cron and CI).
    #[arg(long)]
    pub once: bool,
    /// Most checks running at the same time.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Threads doing the checks' network I/O (plugins run on threads of their own).
    /// Default: one for --once (the cheapest per check at every size measured, up to
    /// 10,000 checks); for the daemon, one per core when the checks it starts with run 250
    /// times a second or more, one below (docs/PERFORMANCE.md §8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub io_threads: Option<u16>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only run checks with this tag (repeat for any of several).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Daemon: serve /metrics (Prometheus), /healthz and /status on this address.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Daemon: how long runs in flight may take to finish after SIGINT or SIGTERM.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub grace: std::time::Duration,
    /// Daemon: reload the configuration when the file changes (as SIGHUP does).
    #[arg(long)]
    pub watch: bool,
    /// Daemon: also export a duration histogram per check in /metrics
    /// (`vitals_check_duration_seconds`, 17 series a check). Off by default: at thousands
    /// of checks it makes most of the page.
    #[arg(long)]
    pub check_histograms: bool,
    /// Daemon: also export every value a plugin reports as a gauge in /metrics
    /// (`vitals_check_metric{check, metric, unit}`, up to 64 a check). Off by default; the
    /// values are stored either way, for reports and `vitals gate`.
    #[arg(long)]
    pub plugin_metrics: bool,
    /// Where this runner is (`eu`, `dc1`): it runs the checks whose `locations` name it,
    /// once per interval among the runners of that location.
    #[arg(long, value_name = "NAME", env = "VITALS_LOCATION", value_parser = parse_location)]
    pub location: Option<String>,
    /// Daemon, shared store: this runner's id in the membership [default: HOST-PID].
    #[arg(long, value_name = "ID", env = "VITALS_RUNNER_ID", value_parser = parse_runner_id)]
    pub runner_id: Option<String>,
    /// Daemon, shared store: how often the runner refreshes its heartbeat (100ms to 1h).
    #[arg(long, default_value = "5s", value_parser = parse_heartbeat)]
    pub heartbeat: std::time::Duration,
    /// Daemon, shared store: how old a runner's heartbeat may be before the others take
    /// its checks over [default: three heartbeats].
    #[arg(long, value_parser = parse_heartbeat)]
    pub heartbeat_timeout: Option<std::time::Duration>,
    /// Daemon, shared store: the local SQLite file that keeps results while the shared
    /// store is unreachable [default: vitals-buffer.db next to the config file].
    #[arg(long, value_name = "PATH")]
    pub buffer: Option<PathBuf>,
}

/// `--heartbeat`, `--heartbeat-timeout`: from 100 ms (each heartbeat is a write to the
/// shared store) to an hour.
fn parse_heartbeat(text: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(text)?;
    if (std::time::Duration::from_millis(100)..=std::time::Duration::from_secs(3600)).contains(&d) {
        Ok(d)
    } else {
        Err("a heartbeat is from 100ms to 1h".to_owned())
    }
}

/// `--location`: a location name.
fn parse_location(text: &str) -> Result<String, String> {
    if crate::plan::valid_location(text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a location name: 1 to 64 letters, digits, `-`, `_` or `.` (not `{}`)",
            crate::plan::ALL_LOCATIONS
        ))
    }
}

/// `--runner-id`: 1 to 128 printable characters without spaces.
fn parse_runner_id(text: &str) -> Result<String, String> {
    if (1..=128).contains(&text.len()) && text.chars().all(|c| c.is_ascii_graphic()) {
        Ok(text.to_owned())
    } else {
        Err("a runner id is 1 to 128 printable ASCII characters without spaces".to_owned())
    }
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::plan::bounded_duration(text)
}

/// Result output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned table for people (colour on a terminal).
    Table,
    /// A JSON array of results (schema in docs/output.md).
    Json,
}

/// `vitals check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The check's name in the configuration.
    pub name: String,
    /// Do not store the result.
    #[arg(long)]
    pub no_store: bool,
}

/// `vitals store ...`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Check the database for damage (SQLite's `PRAGMA integrity_check` of every page and
    /// index): prints `ok` and exits 0, or lists the problems and exits 74.
    #[command(after_long_help = "Examples:\n  \
        vitals store check\n  \
        vitals --db /var/lib/vitals/vitals.db store check")]
    Check,
}

/// `vitals plugin ...`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List the built-in plugins and the plugins the config uses: version, WIT version,
    /// and which checks and notifiers use each.
    #[command(after_long_help = "Examples:\n  \
        vitals plugin list                    # the built-ins, and the plugins of ./checks.toml if there is one\n  \
        vitals --config /etc/vitals/checks.toml plugin list --format json\n\n\
        Exit codes: 0 listed, 65 a plugin cannot be loaded (the list says which and why),\n\
        78 configuration error.")]
    List(ListArgs),
    /// Describe a plugin: name, version, WIT version, config keys and imports.
    #[command(after_long_help = "Examples:\n  \
        vitals plugin inspect http\n  \
        vitals plugin inspect ./target/wasm32-wasip2/release/my_check.wasm --format json\n\n\
        Exit codes: 0 described, 65 not a usable plugin.")]
    Inspect(InspectArgs),
    /// Print a plugin's reference page (Markdown) from what it says about itself, or
    /// write one page per built-in (`--all --dir`), as docs/plugins/ holds them.
    #[command(after_long_help = "Examples:\n  \
        vitals plugin docs postgres\n  \
        vitals plugin docs ./my_check.wasm > docs/my_check.md\n  \
        vitals plugin docs --all --dir docs/plugins      # regenerate the built-ins' pages\n\n\
        Exit codes: 0 written, 64 usage error, 65 not a usable plugin, 74 cannot write.")]
    Docs(DocsArgs),
    /// Start a plugin project (Rust, Python or JavaScript) that builds with one command
    /// and passes its own test.
    New(NewArgs),
    /// Run a plugin once against a target, without a checks.toml, and print the
    /// Monitoring Plugins line (exit 0 ok, 1 warning, 2 critical, 3 unknown).
    Run(PluginRunArgs),
    /// Replay recorded cases against a plugin in the real sandbox and report each as
    /// passed or failed (TAP or JUnit); exit 0 when all pass, 1 when one fails.
    Test(PluginTestArgs),
}

/// `vitals plugin new`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:\n  \
    vitals plugin new redis-ping                     # a Rust crate on the vitals-sdk\n  \
    vitals plugin new status-page --lang js --dir plugins\n\n\
    The project's README.md says how to build, test and run it.\n\n\
    Exit codes: 0 created, 64 usage error (a bad name, or the directory exists), 74 cannot write.")]
pub struct NewArgs {
    /// The plugin's name: lower-case letters, digits and `-`, starting with a letter.
    pub name: String,
    /// The language of the project.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// The directory to create the project in (it becomes DIR/NAME).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// For Rust: the vitals-sdk crate to depend on, as a path (default: the SDK of the
    /// source tree this vitals was built from, else vitals-sdk from crates.io).
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

/// The languages `plugin new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// A crate on the vitals-sdk.
    Rust,
    /// componentize-py, with the vitals_check helper module.
    Python,
    /// componentize-js (jco), with the vitals-check.js helper module.
    Js,
}

/// `vitals plugin run`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:\n  \
    vitals plugin run http --target https://example.com/ --config expect_status=200-299\n  \
    vitals plugin run ./demo.wasm --target 127.0.0.1:6379 --config 'expect=\"+PONG\"' --format json\n\n\
    A --config value is read as TOML when it is a TOML value (5, true, [\"a\"], { a = \"b\" }, \"text\"),\n\
    else as a string.\n\n\
    Exit codes: 0 ok, 1 warning, 2 critical, 3 unknown; 64 usage error, 65 the plugin cannot be used,\n\
    78 the config is refused (as `vitals validate` would).")]
pub struct PluginRunArgs {
    /// A built-in plugin name (`http`) or a path to a .wasm component.
    pub plugin: String,
    /// What the check is about: a URL or `host:port`.
    #[arg(long)]
    pub target: String,
    /// A `[check.config]` key, `--config key=value` (repeat for several; `--set` is the
    /// same flag).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// A `host:port` the check may reach beside its target (repeat for several).
    #[arg(long = "allow", value_name = "HOST:PORT")]
    pub allow: Vec<String>,
    /// The check's timeout.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
    pub format: InspectFormat,
}

/// `vitals plugin test`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:\n  \
    vitals plugin test http --cases plugins/http/cases.toml\n  \
    vitals plugin test ./my_check.wasm --format junit > cases.xml\n  \
    vitals plugin test ./my_check.wasm --record --filter timeout   # re-record what the hosts answer\n\n\
    docs/plugin-guide.md describes the cases file.\n\n\
    Exit codes: 0 every case passed, 1 a case failed, 64 usage error, 65 the plugin or the\n\
    cases file cannot be used, 74 --record cannot write the cases file.")]
pub struct PluginTestArgs {
    /// A built-in plugin name (`http`) or a path to a .wasm component.
    pub plugin: String,
    /// The cases file.
    #[arg(long, default_value = "cases.toml")]
    pub cases: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Tap)]
    pub format: TestFormat,
    /// Run the cases against the real hosts they grant, once, and write what those
    /// answered into the cases file (its comments and layout are kept).
    #[arg(long)]
    pub record: bool,
    /// Run only the cases whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
}

/// `plugin test` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// Test Anything Protocol, version 14.
    Tap,
    /// JUnit XML, for CI test reporters.
    Junit,
}

/// `vitals plugin list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
    pub format: InspectFormat,
}

/// `vitals plugin inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A built-in plugin name (`http`) or a path to a .wasm component.
    pub plugin: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
    pub format: InspectFormat,
}

/// `vitals plugin docs`.
#[derive(Debug, Args)]
pub struct DocsArgs {
    /// A built-in plugin name (`postgres`) or a path to a .wasm component.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub plugin: Option<String>,
    /// Every built-in plugin, one page each, plus an index (README.md), into `--dir`.
    #[arg(long, requires = "dir")]
    pub all: bool,
    /// The directory `--all` writes into.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `plugin inspect` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    /// For people.
    Text,
    /// One JSON object.
    Json,
}

/// The command line, with `--config KEY=VALUE` after `plugin run` read as that command's
/// `--set` (the global `--config` names a checks.toml, which `plugin run` has none of).
fn arguments(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let words: Vec<Option<&str>> = args.iter().map(|a| a.to_str()).collect();
    let plugin_run = words.iter().enumerate().find_map(|(i, w)| {
        let next = words[i + 1..].iter().flatten().find(|w| !w.starts_with('-'));
        (*w == Some("plugin") && next == Some(&"run")).then_some(i)
    });
    if let Some(start) = plugin_run {
        for arg in args.iter_mut().skip(start) {
            let Some(text) = arg.to_str() else { continue };
            if text == "--config" {
                *arg = "--set".into();
            } else if let Some(value) = text.strip_prefix("--config=") {
                *arg = format!("--set={value}").into();
            }
        }
    }
    args
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(arguments(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => exit::OK,
                _ => exit::USAGE,
            };
            // clap prints help to stdout and errors to stderr itself.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.log_format);
    // Every command drives its I/O from one thread: checks are short and I/O-bound, and a
    // multi-threaded runtime's workers spent more CPU waking each other than checking
    // (docs/PERFORMANCE.md §8). Guests run on threads of their own; `--io-threads` adds
    // I/O threads (`Engine::spread_io`).
    let mut builder = tokio::runtime::Builder::new_current_thread();
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return exit::report(&Failure::internal(format!("cannot start the async runtime: {e}"))),
    };
    let outcome = runtime.block_on(dispatch(cli));
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => exit::report(&failure),
    }
}

async fn dispatch(cli: Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Init(args) => init::init(&cli, args),
        Command::Run(args) => run::run(&cli, args).await,
        Command::Check(args) => check::check(&cli, args).await,
        Command::Validate => validate::validate(&cli).await,
        Command::Store(StoreCommand::Check) => store::check(&cli),
        Command::Runners(args) => runners::list(&cli, args),
        Command::Plugin(PluginCommand::Inspect(args)) => plugin::inspect(&cli, args).await,
        Command::Plugin(PluginCommand::List(args)) => plugin::list(&cli, args).await,
        Command::Plugin(PluginCommand::Docs(args)) => plugin::docs(&cli, args).await,
        Command::Plugin(PluginCommand::New(args)) => plugin::new(args),
        Command::Plugin(PluginCommand::Run(args)) => plugin::run(&cli, args).await,
        Command::Plugin(PluginCommand::Test(args)) => plugin::test(&cli, args).await,
        Command::Report(args) => report::report(&cli, args),
        Command::Gate(args) => gate::gate(&cli, args).await,
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
    }
}
