//! `vitals:plugin@0.1.0`: the generated bindings, the host side of its imports
//! (`http`, `tcp`, `log`), and conversions between its types and the host's.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::plan::describe::{ConfigKey, ConfigKind, PluginDescription};
use crate::result::{Metric, Reason, Status};
use crate::runtime::answers::{self, Answers};
use crate::runtime::imports::{
    dns as host_dns, exec as host_exec, http as host_http, net, ping as host_ping, system as host_system,
    tcp as host_tcp, tls as host_tls,
};
use crate::runtime::lanes::{HostSlots, Lanes};
use crate::runtime::output;
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
            "vitals:plugin/tcp.connection": crate::runtime::imports::tcp::Connection,
        },
    });
}

pub use bindings::vitals::plugin::{dns, exec, http, log, ping, system, tcp, types};
pub use bindings::{Check, CheckPre};

/// Adds the 0.1 host API to a linker.
pub fn add_to_linker(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    Check::add_to_linker::<RunState, HasSelf<RunState>>(linker, |s| s)
}

/// Most TCP connections one run may hold open.
const MAX_CONNECTIONS: usize = 16;
/// Most log lines one run may write; the rest are dropped.
const MAX_LOG_LINES: u32 = 1000;

impl types::Host for RunState {}

/// The parts of a run a network call carries to the I/O lane.
struct Call {
    lanes: Lanes,
    grants: Arc<crate::plan::Grants>,
    deadline: tokio::time::Instant,
    slots: Arc<HostSlots>,
}

impl RunState {
    /// The lanes of this run's I/O; a `describe` call has none.
    fn lanes(&self) -> Result<Lanes, types::NetError> {
        self.grant.lanes.clone().ok_or_else(|| types::NetError::Invalid("no network while describing a plugin".into()))
    }

    /// What a network call takes to the I/O lane.
    fn call(&self) -> Result<Call, types::NetError> {
        let lanes = self.lanes()?;
        let slots = Arc::clone(lanes.slots());
        Ok(Call { lanes, grants: Arc::clone(&self.grant.grants), deadline: self.grant.deadline, slots })
    }

    /// A slot for a connection to `host` (`max_per_host`), waited for until `deadline`.
    async fn slot(
        slots: Arc<HostSlots>,
        host: &str,
        deadline: tokio::time::Instant,
    ) -> Result<OwnedSemaphorePermit, net::NetError> {
        tokio::time::timeout_at(deadline, slots.acquire(host)).await.map_err(|_| {
            net::NetError::Timeout(format!("timed out waiting for a free connection to {host} (max_per_host)"))
        })
    }

    /// The time a host call may take: what the plugin asked for, capped by what is left.
    fn call_limit(&self, requested_ms: Option<u32>) -> Result<Duration, types::NetError> {
        net::Budget::new(self.grant.deadline)
            .limit(requested_ms.map(|ms| Duration::from_millis(u64::from(ms))))
            .map_err(net_error)
    }

    /// Records a refused call (not granted, or not a valid request); past the refusals
    /// budget the run ends (a trap).
    fn note(&mut self, result: Result<(), &net::NetError>) -> wasmtime::Result<()> {
        if let Err(net::NetError::Denied(why) | net::NetError::Invalid(why)) = result {
            self.refused(why)?;
        }
        Ok(())
    }
}

impl http::Host for RunState {
    async fn send(&mut self, req: http::Request) -> wasmtime::Result<Result<http::Response, types::NetError>> {
        Ok(self.http_send(req, false).await?.map(|(response, _)| response))
    }

    async fn send_tls(
        &mut self,
        req: http::Request,
    ) -> wasmtime::Result<Result<(http::Response, Option<types::TlsInfo>), types::NetError>> {
        self.http_send(req, true).await
    }
}

impl RunState {
    /// `send` and `send-tls`: one request through the run's grants, answers and lanes.
    async fn http_send(
        &mut self,
        req: http::Request,
        tls_facts: bool,
    ) -> wasmtime::Result<Result<(http::Response, Option<types::TlsInfo>), types::NetError>> {
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
            tls_facts,
        };
        self.spend_attempt()?;
        if let Answers::Replay(replay) = &self.grant.answers {
            let outcome =
                answers::replay_http(&self.grant.grants, replay, &request.method, &request.url, request.max_body_bytes);
            self.note(outcome.as_ref().map(|_| ()))?;
            return Ok(outcome.map(|r| (response(r), None)).map_err(net_error));
        }
        let Call { lanes, grants, deadline, slots } = match self.call() {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let secrets = Arc::clone(&self.grant.secrets);
        let host = url::Url::parse(&request.url).ok().and_then(|u| u.host_str().map(str::to_string));
        let (method, url) = (request.method.clone(), request.url.clone());
        // On the I/O lane: the phase timings are the network's, not a busy neighbour's.
        let outcome = lanes
            .io(async move {
                let _slot = match &host {
                    Some(host) => Some(Self::slot(slots, host, deadline).await?),
                    None => None,
                };
                host_http::send(&grants, &secrets, request, deadline).await
            })
            .await;
        if let Answers::Record(rec) = &self.grant.answers {
            answers::record_http(rec, &method, &url, &outcome);
        }
        self.note(outcome.as_ref().map(|_| ()))?;
        Ok(outcome
            .map(|mut r| {
                let tls = r.tls.take().map(tls_info);
                (response(r), tls)
            })
            .map_err(net_error))
    }
}

/// A host response in WIT types.
fn response(r: host_http::HttpResponse) -> http::Response {
    http::Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
        body_size: r.body_size,
        truncated: r.truncated,
        final_url: r.final_url,
        redirects: r.redirects,
        remote_addr: r.remote_addr,
        timings: timings(&r.timings),
    }
}

impl tcp::Host for RunState {
    async fn connect(
        &mut self,
        host: String,
        port: u16,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<(Resource<host_tcp::Connection>, types::Timings), types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        if self.connections >= MAX_CONNECTIONS {
            return Ok(Err(types::NetError::Invalid(format!(
                "at most {MAX_CONNECTIONS} connections may be open at once"
            ))));
        }
        self.spend_attempt()?;
        if let Answers::Replay(replay) = &self.grant.answers {
            let outcome = if self.grant.grants.allows(&host, port) {
                match replay.lock() {
                    Ok(mut replay) => replay.connect(&host, port).map_err(answers::net_error),
                    Err(_) => Err(net::NetError::Invalid("replay: the case's answers are poisoned".into())),
                }
            } else {
                Err(net::NetError::Denied(net::denied_message(&self.grant.grants, &host, port)))
            };
            self.note(outcome.as_ref().map(|_| ()))?;
            return match outcome {
                Ok(reply) => {
                    let handle = self.table.push(host_tcp::Connection::replayed(reply.id, reply.remote_addr))?;
                    self.connections += 1;
                    Ok(Ok((handle, timings(&answers::timings(&reply.timings)))))
                }
                Err(e) => Ok(Err(net_error(e))),
            };
        }
        let Call { lanes, grants, deadline, slots } = match self.call() {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let target = host.clone();
        let outcome = lanes
            .io(async move {
                // Refused before a slot is taken: a denied call must not wait for one.
                if !grants.allows(&host, port) {
                    return host_tcp::connect(&grants, &host, port, limit, deadline).await.map(|(c, t)| (c, t, None));
                }
                let slot = Self::slot(slots, &host, deadline).await?;
                let (conn, t) = host_tcp::connect(&grants, &host, port, limit, deadline).await?;
                Ok((conn, t, Some(slot)))
            })
            .await;
        self.note(outcome.as_ref().map(|_| ()))?;
        let case_id = match &self.grant.answers {
            Answers::Record(rec) => rec.lock().ok().and_then(|mut rec| match &outcome {
                Ok((conn, t, _)) => {
                    rec.connect(&target, port, Ok((&conn.remote().to_string(), answers::case_timings(t))))
                }
                Err(e) => rec.connect(&target, port, Err(&answers::failure(e))),
            }),
            _ => None,
        };
        match outcome {
            Ok((conn, t, slot)) => {
                let handle = self.table.push(host_tcp::Connection::new(conn, slot, case_id))?;
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
        conn: Resource<host_tcp::Connection>,
        data: Vec<u8>,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<(), types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let (deadline, handle) = (self.grant.deadline, self.table.get(&conn)?);
        let (shared, case_id) = (handle.shared(), handle.case_id());
        let outcome = match (shared, &self.grant.answers) {
            (None, Answers::Replay(replay)) => with_replay(replay, |r| r.send(case_id.unwrap_or(usize::MAX), &data)),
            (None, _) => Err(net::NetError::Invalid("replay: no such connection".into())),
            (Some(conn), answers) => {
                let lanes = match self.lanes() {
                    Ok(l) => l,
                    Err(e) => return Ok(Err(e)),
                };
                let sent = data.clone();
                let outcome = lanes.io(async move { conn.lock().await.send(&sent, limit, deadline).await }).await;
                if let Answers::Record(rec) = answers
                    && let Ok(mut rec) = rec.lock()
                {
                    rec.send(case_id, &data, outcome.as_ref().map(|_| ()).map_err(answers::failure));
                }
                outcome
            }
        };
        Ok(outcome.map_err(net_error))
    }

    async fn receive(
        &mut self,
        conn: Resource<host_tcp::Connection>,
        max_bytes: u32,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let (deadline, handle) = (self.grant.deadline, self.table.get(&conn)?);
        let (shared, case_id) = (handle.shared(), handle.case_id());
        let max_bytes = max_bytes.min(host_tcp::MAX_RECEIVE_BYTES as u32);
        let outcome = match (shared, &self.grant.answers) {
            (None, Answers::Replay(replay)) => {
                with_replay(replay, |r| r.receive(case_id.unwrap_or(usize::MAX), max_bytes))
            }
            (None, _) => Err(net::NetError::Invalid("replay: no such connection".into())),
            (Some(conn), answers) => {
                let lanes = match self.lanes() {
                    Ok(l) => l,
                    Err(e) => return Ok(Err(e)),
                };
                let outcome =
                    lanes.io(async move { conn.lock().await.receive(max_bytes, limit, deadline).await }).await;
                if let Answers::Record(rec) = answers
                    && let Ok(mut rec) = rec.lock()
                {
                    rec.receive(case_id, outcome.as_deref().map_err(answers::failure));
                }
                outcome
            }
        };
        Ok(outcome.map_err(net_error))
    }

    async fn upgrade_tls(
        &mut self,
        conn: Resource<host_tcp::Connection>,
        server_name: Option<String>,
        verify: bool,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<u64, types::NetError>> {
        self.upgrade(conn, server_name, verify, Vec::new(), timeout_ms).await
    }

    async fn upgrade_tls_alpn(
        &mut self,
        conn: Resource<host_tcp::Connection>,
        server_name: Option<String>,
        verify: bool,
        alpn: Vec<String>,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<u64, types::NetError>> {
        self.upgrade(conn, server_name, verify, alpn, timeout_ms).await
    }

    async fn remote_addr(&mut self, conn: Resource<host_tcp::Connection>) -> wasmtime::Result<String> {
        Ok(self.table.get(&conn)?.remote_addr().to_string())
    }

    async fn tls_info(&mut self, conn: Resource<host_tcp::Connection>) -> wasmtime::Result<Option<types::TlsInfo>> {
        // A replayed connection has no handshake to describe.
        let Some(shared) = self.table.get(&conn)?.shared() else {
            return Ok(None);
        };
        let facts = shared.lock().await.tls_facts();
        Ok(facts.map(tls_info))
    }

    async fn drop(&mut self, conn: Resource<host_tcp::Connection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        self.connections = self.connections.saturating_sub(1);
        Ok(())
    }
}

impl dns::Host for RunState {
    async fn resolve(&mut self, q: dns::Query) -> wasmtime::Result<Result<dns::Answer, types::NetError>> {
        let limit = match self.call_limit(Some(q.timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        self.spend_attempt()?;
        if matches!(self.grant.answers, Answers::Replay(_)) {
            let refused =
                net::NetError::Invalid("dns: cases do not answer DNS queries yet; test the check live".into());
            self.note(Err(&refused))?;
            return Ok(Err(net_error(refused)));
        }
        let Call { lanes, grants, deadline, .. } = match self.call() {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let query = host_dns::DnsQuery {
            name: q.name,
            kind: record_kind(q.kind),
            server: q.server,
            tcp: q.tcp,
            dnssec: q.dnssec,
        };
        let outcome = lanes.io(async move { host_dns::resolve(&grants, query, limit, deadline).await }).await;
        self.note(outcome.as_ref().map(|_| ()))?;
        Ok(outcome.map(dns_answer).map_err(net_error))
    }
}

impl RunState {
    /// Refuses a call of this run the plugin may not make here: answered from a case (which
    /// does not model `what`), or not granted. Counts towards the refusals budget.
    fn local_call(
        &mut self,
        what: &str,
        granted: Result<(), net::NetError>,
    ) -> wasmtime::Result<Result<(), types::NetError>> {
        self.spend_attempt()?;
        let refused = if matches!(self.grant.answers, Answers::Replay(_)) {
            Err(net::NetError::Invalid(format!("{what}: cases do not answer this call yet; test the check live")))
        } else if self.grant.lanes.is_none() {
            Err(net::NetError::Invalid(format!("{what}: not while describing or validating a plugin")))
        } else {
            granted
        };
        self.note(refused.as_ref().copied())?;
        Ok(refused.map_err(net_error))
    }
}

impl ping::Host for RunState {
    async fn echo(
        &mut self,
        host: String,
        count: u32,
        interval_ms: u32,
        size: u32,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<ping::PingStats, types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = self.local_call("ping", Ok(()))? {
            return Ok(Err(e));
        }
        let Call { lanes, grants, deadline, .. } = match self.call() {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let echo = host_ping::Echo { host, count, interval: Duration::from_millis(u64::from(interval_ms)), size };
        let outcome = lanes.io(async move { host_ping::echo(&grants, echo, limit, deadline).await }).await;
        self.note(outcome.as_ref().map(|_| ()))?;
        Ok(outcome
            .map(|s| ping::PingStats {
                address: s.address.to_string(),
                sent: s.sent,
                received: s.received,
                rtts_us: s.rtts.into_iter().map(micros).collect(),
            })
            .map_err(net_error))
    }
}

impl system::Host for RunState {
    async fn mounts(&mut self) -> wasmtime::Result<Result<Vec<system::Mount>, types::NetError>> {
        if let Err(e) = self.local_call("system", host_system::granted(&self.grant.grants))? {
            return Ok(Err(e));
        }
        let outcome = Self::off_the_guest(self.grant.deadline, "the mounted file systems", host_system::mounts).await;
        Ok(outcome
            .map(|all| {
                all.into_iter()
                    .map(|m| system::Mount {
                        path: m.path,
                        device: m.device,
                        fs_type: m.fs_type,
                        total_bytes: m.total_bytes,
                        available_bytes: m.available_bytes,
                        used_bytes: m.used_bytes,
                        total_inodes: m.total_inodes,
                        free_inodes: m.free_inodes,
                    })
                    .collect()
            })
            .map_err(net_error))
    }

    async fn memory(&mut self) -> wasmtime::Result<Result<system::MemoryUsage, types::NetError>> {
        if let Err(e) = self.local_call("system", host_system::granted(&self.grant.grants))? {
            return Ok(Err(e));
        }
        Ok(host_system::memory()
            .map(|m| system::MemoryUsage {
                total_bytes: m.total,
                available_bytes: m.available,
                swap_total_bytes: m.swap_total,
                swap_free_bytes: m.swap_free,
            })
            .map_err(net_error))
    }

    async fn load(&mut self) -> wasmtime::Result<Result<system::LoadAverage, types::NetError>> {
        if let Err(e) = self.local_call("system", host_system::granted(&self.grant.grants))? {
            return Ok(Err(e));
        }
        Ok(host_system::load()
            .map(|l| system::LoadAverage { one: l.one, five: l.five, fifteen: l.fifteen, cpus: l.cpus })
            .map_err(net_error))
    }

    async fn processes(&mut self, name: String) -> wasmtime::Result<Result<u32, types::NetError>> {
        if let Err(e) = self.local_call("system", host_system::granted(&self.grant.grants))? {
            return Ok(Err(e));
        }
        let outcome =
            Self::off_the_guest(self.grant.deadline, "the process count", move || host_system::processes(&name)).await;
        self.note(outcome.as_ref().map(|_| ()))?;
        Ok(outcome.map_err(net_error))
    }

    async fn listening(&mut self, port: u16) -> wasmtime::Result<Result<bool, types::NetError>> {
        if let Err(e) = self.local_call("system", host_system::granted(&self.grant.grants))? {
            return Ok(Err(e));
        }
        let outcome =
            Self::off_the_guest(self.grant.deadline, "the listening sockets", move || host_system::listening(port))
                .await;
        Ok(outcome.map_err(net_error))
    }
}

impl RunState {
    /// Runs a read of this machine's facts on a blocking thread, until the check's
    /// deadline: a /proc file of a process stuck in the kernel, or a file system that
    /// stopped answering, then costs that thread, not the guest's, and the run ends on time.
    async fn off_the_guest<T: Send + 'static>(
        deadline: tokio::time::Instant,
        what: &str,
        read: impl FnOnce() -> Result<T, net::NetError> + Send + 'static,
    ) -> Result<T, net::NetError> {
        match tokio::time::timeout_at(deadline, tokio::task::spawn_blocking(read)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => Err(net::NetError::Invalid(format!("reading {what} failed: {e}"))),
            Err(_) => Err(net::NetError::Timeout(format!("reading {what} did not finish before the check's deadline"))),
        }
    }
}

impl exec::Host for RunState {
    async fn run(
        &mut self,
        program: String,
        args: Vec<String>,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<exec::Exit, types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = self.local_call("exec", Ok(()))? {
            return Ok(Err(e));
        }
        let Call { lanes, grants, deadline, .. } = match self.call() {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let check = Arc::clone(&self.grant.check);
        let outcome = lanes
            .io(async move {
                let span = tracing::info_span!("exec", check = %check, program = %program);
                let _enter = span.enter();
                host_exec::run(&grants, &program, &args, limit, deadline).await
            })
            .await;
        self.note(outcome.as_ref().map(|_| ()))?;
        Ok(outcome
            .map(|x| exec::Exit {
                code: x.code,
                timed_out: x.timed_out,
                stdout: x.stdout,
                stderr: x.stderr,
                truncated: x.truncated,
                time_us: micros(x.time),
            })
            .map_err(net_error))
    }
}

fn record_kind(k: dns::RecordType) -> host_dns::Kind {
    use dns::RecordType as T;
    use host_dns::Kind as K;
    match k {
        T::A => K::A,
        T::Aaaa => K::Aaaa,
        T::Cname => K::Cname,
        T::Mx => K::Mx,
        T::Txt => K::Txt,
        T::Ns => K::Ns,
        T::Soa => K::Soa,
        T::Srv => K::Srv,
        T::Caa => K::Caa,
        T::Ptr => K::Ptr,
    }
}

fn record_type(k: host_dns::Kind) -> dns::RecordType {
    use dns::RecordType as T;
    use host_dns::Kind as K;
    match k {
        K::A => T::A,
        K::Aaaa => T::Aaaa,
        K::Cname => T::Cname,
        K::Mx => T::Mx,
        K::Txt => T::Txt,
        K::Ns => T::Ns,
        K::Soa => T::Soa,
        K::Srv => T::Srv,
        K::Caa => T::Caa,
        K::Ptr => T::Ptr,
    }
}

fn dns_answer(a: host_dns::DnsAnswer) -> dns::Answer {
    dns::Answer {
        rcode: a.rcode,
        records: a
            .records
            .into_iter()
            .map(|r| dns::AnswerRecord { name: r.name, kind: record_type(r.kind), ttl: r.ttl, data: r.data })
            .collect(),
        authenticated: a.authenticated,
        authoritative: a.authoritative,
        server: a.server.to_string(),
        time_us: micros(a.time),
    }
}

fn tls_info(f: host_tls::TlsFacts) -> types::TlsInfo {
    types::TlsInfo {
        version: f.version,
        cipher: f.cipher,
        alpn: f.alpn,
        server_name: f.server_name,
        chain: f
            .chain
            .into_iter()
            .map(|c| types::Certificate {
                subject: c.subject,
                issuer: c.issuer,
                names: c.names,
                not_before_ms: c.not_before_ms,
                not_after_ms: c.not_after_ms,
                is_ca: c.is_ca,
                sha256: c.sha256,
                serial: c.serial,
                key: c.key,
            })
            .collect(),
        chain_valid: f.chain_valid,
        name_valid: f.name_valid,
        problem: f.problem,
    }
}

impl RunState {
    /// `upgrade-tls` and `upgrade-tls-alpn`.
    async fn upgrade(
        &mut self,
        conn: Resource<host_tcp::Connection>,
        server_name: Option<String>,
        verify: bool,
        alpn: Vec<String>,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<u64, types::NetError>> {
        let limit = match self.call_limit(Some(timeout_ms)) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let (deadline, handle) = (self.grant.deadline, self.table.get(&conn)?);
        let (shared, case_id) = (handle.shared(), handle.case_id());
        let outcome = match (shared, &self.grant.answers) {
            (None, Answers::Replay(replay)) => with_replay(replay, |r| r.upgrade_tls(case_id.unwrap_or(usize::MAX))),
            (None, _) => Err(net::NetError::Invalid("replay: no such connection".into())),
            (Some(conn), answers) => {
                let lanes = match self.lanes() {
                    Ok(l) => l,
                    Err(e) => return Ok(Err(e)),
                };
                let trust = self.grant.grants.trust().cloned();
                let upgrade = async move {
                    conn.lock()
                        .await
                        .upgrade_tls(server_name.as_deref(), verify, trust.as_ref(), &alpn, limit, deadline)
                        .await
                };
                let outcome = lanes.io(upgrade).await;
                if let Answers::Record(rec) = answers
                    && let Ok(mut rec) = rec.lock()
                {
                    rec.tls(case_id, outcome.as_ref().copied().map_err(answers::failure));
                }
                outcome
            }
        };
        Ok(outcome.map(micros).map_err(net_error))
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
        let line = output::line(&message, output::MAX_LOG_LINE, &self.grant.secrets);
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

/// A call answered by the run's replay.
fn with_replay<T>(
    replay: &std::sync::Mutex<vitals_cases::Replay>,
    call: impl FnOnce(&mut vitals_cases::Replay) -> Result<T, vitals_cases::NetFailure>,
) -> Result<T, net::NetError> {
    let mut replay =
        replay.lock().map_err(|_| net::NetError::Invalid("replay: the case's answers are poisoned".into()))?;
    call(&mut replay).map_err(answers::net_error)
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

/// Longest plugin name or version kept, in bytes.
const MAX_LABEL: usize = 64;
/// Longest description text (summary, key doc, default) kept, in bytes.
const MAX_DOC: usize = 1024;
/// Most config keys a description may declare.
const MAX_KEYS: usize = 256;

/// A plugin's description in host types, cleaned and bounded like everything else a
/// plugin controls: its name and version reach `vitals check`'s Nagios line and `plugin
/// inspect`, so no escape, no second line and no unbounded text.
pub fn description(d: types::Description) -> PluginDescription {
    PluginDescription {
        name: label(&d.name, "unnamed"),
        version: label(&d.version, "0"),
        summary: output::one_line(&d.summary, MAX_DOC),
        config: d
            .config
            .into_iter()
            .take(MAX_KEYS)
            .map(|k| ConfigKey {
                name: output::one_line(&k.name, MAX_LABEL),
                kind: kind(k.kind),
                default: k.default.map(|v| output::one_line(&v, MAX_DOC)),
                required: k.required,
                doc: output::multi_line(&k.doc, MAX_DOC),
            })
            .collect(),
    }
}

/// A name or version: one word of letters, digits and `._+-` (anything else becomes `_`).
fn label(text: &str, empty: &str) -> String {
    let cleaned: String = output::one_line(text, MAX_LABEL)
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '_' | '+' | '-') { c } else { '_' })
        .collect();
    if cleaned.is_empty() { empty.to_string() } else { cleaned }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_description_is_cleaned_to_one_word_name_and_bounded_texts() {
        let forged = types::Description {
            name: "evil\x1b[31m\nHTTP OK - forged | x=1".into(),
            version: "1.0\u{202E}9".into(),
            summary: format!("line one\nline two\x07{}", "s".repeat(10_000)),
            config: (0..1000)
                .map(|i| types::ConfigKey {
                    name: format!("key{i}\x1b[2J"),
                    kind: types::ConfigType::String,
                    default: Some("\"a\"\n\"b\"".into()),
                    required: false,
                    doc: "doc\x1b]0;title\x07".into(),
                })
                .collect(),
        };
        let d = description(forged);
        assert_eq!(d.name, "evil__31m_HTTP_OK_-_forged___x_1");
        assert_eq!(d.version, "1.0_9");
        assert!(!d.summary.contains(['\n', '\x07']) && d.summary.len() <= MAX_DOC);
        assert_eq!(d.config.len(), MAX_KEYS);
        assert_eq!(d.config[0].name, "key0 [2J");
        assert_eq!(d.config[0].default.as_deref(), Some("\"a\" \"b\""));
        assert!(!d.config[0].doc.contains(['\x1b', '\x07']));
        let empty = description(types::Description {
            name: "\n".into(),
            version: String::new(),
            summary: String::new(),
            config: vec![],
        });
        assert_eq!((empty.name.as_str(), empty.version.as_str()), ("unnamed", "0"));
    }
}
