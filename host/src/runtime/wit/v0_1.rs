//! `vitals:plugin@0.1.0`: the generated bindings, the host side of its imports
//! (`http`, `tcp`, `log`), and conversions between its types and the host's.

use std::time::Duration;

use wasmtime::component::{HasSelf, Linker, Resource};

use crate::plan::describe::{ConfigKey, ConfigKind, PluginDescription};
use crate::result::{Metric, Reason, Status};
use crate::runtime::imports::{http as host_http, net, tcp as host_tcp};
use crate::runtime::output::redact;
use crate::runtime::state::RunState;

/// Generated from `wit/plugin.wit`, whose doc comments document these items.
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        world: "check",
        path: "../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "vitals:plugin/tcp.connection": crate::runtime::imports::tcp::TcpConnection,
        },
    });
}

pub use bindings::vitals::plugin::{http, log, tcp, types};
pub use bindings::{Check, CheckPre};

/// Adds the 0.1 host API to a linker.
pub fn add_to_linker(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    Check::add_to_linker::<RunState, HasSelf<RunState>>(linker, |s| s)
}

/// Most TCP connections one run may hold open.
const MAX_CONNECTIONS: usize = 16;
/// Most log lines one run may write; the rest are dropped.
const MAX_LOG_LINES: u32 = 1000;
/// Longest log line kept, in bytes.
const MAX_LOG_LINE: usize = 4096;

impl types::Host for RunState {}

impl RunState {
    /// The time a host call may take: what the plugin asked for, capped by what is left.
    fn call_limit(&self, requested_ms: Option<u32>) -> Result<Duration, types::NetError> {
        net::Budget::new(self.grant.deadline)
            .limit(requested_ms.map(|ms| Duration::from_millis(u64::from(ms))))
            .map_err(net_error)
    }

    fn note(&mut self, result: Result<(), &net::NetError>) {
        if let Err(net::NetError::Denied(why)) = result {
            self.denials.push(why.clone());
        }
    }
}

impl http::Host for RunState {
    async fn send(&mut self, req: http::Request) -> wasmtime::Result<Result<http::Response, types::NetError>> {
        let limit = match self.call_limit(req.timeout_ms) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let request = host_http::HttpRequest {
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: req.body,
            timeout: Some(limit),
            max_redirects: req.max_redirects,
            tls_verify: req.tls_verify,
            max_body_bytes: req.max_body_bytes,
        };
        let outcome = host_http::send(&self.grant.grants, &self.grant.secrets, request, self.grant.deadline).await;
        self.note(outcome.as_ref().map(|_| ()));
        Ok(outcome
            .map(|r| http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
                body_size: r.body_size,
                truncated: r.truncated,
                final_url: r.final_url,
                redirects: r.redirects,
                remote_addr: r.remote_addr,
                timings: timings(&r.timings),
            })
            .map_err(net_error))
    }
}

impl tcp::Host for RunState {
    async fn connect(
        &mut self,
        host: String,
        port: u16,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<(Resource<host_tcp::TcpConnection>, types::Timings), types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        if self.connections >= MAX_CONNECTIONS {
            return Ok(Err(types::NetError::Invalid(format!(
                "at most {MAX_CONNECTIONS} connections may be open at once"
            ))));
        }
        let outcome = host_tcp::connect(&self.grant.grants, &host, port, limit, self.grant.deadline).await;
        self.note(outcome.as_ref().map(|_| ()));
        match outcome {
            Ok((conn, t)) => {
                let handle = self.table.push(conn)?;
                self.connections += 1;
                Ok(Ok((handle, timings(&t))))
            }
            Err(e) => Ok(Err(net_error(e))),
        }
    }
}

impl tcp::HostConnection for RunState {
    async fn send(
        &mut self,
        conn: Resource<host_tcp::TcpConnection>,
        data: Vec<u8>,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<(), types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let deadline = self.grant.deadline;
        let conn = self.table.get_mut(&conn)?;
        Ok(conn.send(&data, limit, deadline).await.map_err(net_error))
    }

    async fn receive(
        &mut self,
        conn: Resource<host_tcp::TcpConnection>,
        max_bytes: u32,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let deadline = self.grant.deadline;
        let conn = self.table.get_mut(&conn)?;
        Ok(conn.receive(max_bytes, limit, deadline).await.map_err(net_error))
    }

    async fn upgrade_tls(
        &mut self,
        conn: Resource<host_tcp::TcpConnection>,
        server_name: Option<String>,
        verify: bool,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<u64, types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let deadline = self.grant.deadline;
        let conn = self.table.get_mut(&conn)?;
        Ok(conn.upgrade_tls(server_name.as_deref(), verify, limit, deadline).await.map(micros).map_err(net_error))
    }

    async fn remote_addr(&mut self, conn: Resource<host_tcp::TcpConnection>) -> wasmtime::Result<String> {
        Ok(self.table.get(&conn)?.remote_addr().to_string())
    }

    async fn drop(&mut self, conn: Resource<host_tcp::TcpConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        self.connections = self.connections.saturating_sub(1);
        Ok(())
    }
}

impl log::Host for RunState {
    async fn write(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        self.log_lines = self.log_lines.saturating_add(1);
        if self.log_lines > MAX_LOG_LINES {
            if self.log_lines == MAX_LOG_LINES + 1 {
                tracing::warn!(check = %self.grant.check, "plugin wrote more than {MAX_LOG_LINES} log lines; dropping the rest of this run's");
            }
            return Ok(());
        }
        let line = crate::runtime::output::one_line(&redact(&message, &self.grant.secrets), MAX_LOG_LINE);
        let check = &*self.grant.check;
        match level {
            log::Level::Debug => tracing::debug!(check, plugin_log = true, "{line}"),
            log::Level::Info => tracing::info!(check, plugin_log = true, "{line}"),
            log::Level::Warn => tracing::warn!(check, plugin_log = true, "{line}"),
            log::Level::Error => tracing::error!(check, plugin_log = true, "{line}"),
        }
        Ok(())
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn timings(t: &net::Timings) -> types::Timings {
    types::Timings {
        dns_us: t.dns.map(micros),
        connect_us: t.connect.map(micros),
        tls_us: t.tls.map(micros),
        first_byte_us: t.first_byte.map(micros),
        total_us: micros(t.total),
    }
}

fn net_error(e: net::NetError) -> types::NetError {
    use net::NetError as N;
    use types::NetError as W;
    match e {
        N::Denied(m) => W::Denied(m),
        N::Dns(m) => W::Dns(m),
        N::Connect(m) => W::Connect(m),
        N::Tls(m) => W::Tls(m),
        N::Timeout(m) => W::Timeout(m),
        N::Protocol(m) => W::Protocol(m),
        N::Invalid(m) => W::Invalid(m),
    }
}

/// A plugin's description in host types.
pub fn description(d: types::Description) -> PluginDescription {
    PluginDescription {
        name: d.name,
        version: d.version,
        summary: d.summary,
        config: d
            .config
            .into_iter()
            .map(|k| ConfigKey {
                name: k.name,
                kind: kind(k.kind),
                default: k.default,
                required: k.required,
                doc: k.doc,
            })
            .collect(),
    }
}

fn kind(k: types::ConfigType) -> ConfigKind {
    use types::ConfigType as T;
    match k {
        T::String => ConfigKind::String,
        T::Integer => ConfigKind::Integer,
        T::Float => ConfigKind::Float,
        T::Boolean => ConfigKind::Boolean,
        T::Duration => ConfigKind::Duration,
        T::Range => ConfigKind::Range,
        T::StringList => ConfigKind::StringList,
        T::IntegerList => ConfigKind::IntegerList,
        T::StringMap => ConfigKind::StringMap,
    }
}

/// The parts of a plugin's result the host keeps, before sanitising.
pub struct RawOutcome {
    /// Status.
    pub status: Status,
    /// Summary as the plugin wrote it.
    pub summary: String,
    /// Metrics as the plugin wrote them.
    pub metrics: Vec<Metric>,
    /// Details.
    pub details: Option<String>,
    /// Reason.
    pub reason: Option<Reason>,
}

/// Converts a WIT result into host types (no trust yet: see `runtime::output`).
pub fn outcome(r: types::CheckResult) -> RawOutcome {
    RawOutcome {
        status: match r.status {
            types::Status::Ok => Status::Ok,
            types::Status::Warning => Status::Warning,
            types::Status::Critical => Status::Critical,
            types::Status::Unknown => Status::Unknown,
        },
        summary: r.summary,
        metrics: r
            .metrics
            .into_iter()
            .map(|m| Metric {
                name: m.name,
                value: m.value,
                unit: m.unit,
                warn: m.warn,
                crit: m.crit,
                min: m.min,
                max: m.max,
            })
            .collect(),
        details: r.details,
        reason: r.reason.map(|x| match x {
            types::Reason::Dns => Reason::Dns,
            types::Reason::Connect => Reason::Connect,
            types::Reason::Tls => Reason::Tls,
            types::Reason::Timeout => Reason::Timeout,
            types::Reason::HttpStatus => Reason::HttpStatus,
            types::Reason::Assertion => Reason::Assertion,
            types::Reason::Protocol => Reason::Protocol,
            types::Reason::Denied => Reason::Denied,
            types::Reason::PluginError => Reason::PluginError,
        }),
    }
}

/// The request handed to `run`.
pub fn request(name: &str, target: &str, config: String, left: Duration) -> types::CheckRequest {
    types::CheckRequest {
        name: name.to_string(),
        target: target.to_string(),
        config,
        deadline_ms: u32::try_from(left.as_millis()).unwrap_or(u32::MAX),
    }
}
