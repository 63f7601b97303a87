//! What one sandboxed run holds: the check's grants, deadline, secrets and limits,
//! an empty WASI context, and the bookkeeping of its host calls.

use std::sync::Arc;

use tokio::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::answers::Answers;
use super::lanes::Lanes;
use super::limits::MemoryLimiter;
use super::output::Refusals;
use crate::plan::Grants;
pub use crate::plan::NetBudget;

/// Bytes of a plugin's stdout and stderr kept for the log; writes past it fail in the guest.
pub const OUTPUT_CAP: usize = 64 * 1024;
/// Handles (connections, WASI streams) a plugin may hold at once.
const MAX_HANDLES: usize = 256;

/// The trap that ends a run which spent one of its budgets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin exceeded its budget of {limit} {what} per run")]
pub struct BudgetExceeded {
    /// What was counted (`connection attempts`, `refused calls`).
    pub what: &'static str,
    /// The budget.
    pub limit: u32,
}

/// Who a run is for and what it may do; cheap to clone per run.
#[derive(Clone)]
pub struct RunGrant {
    /// The check's name, for logs.
    pub check: Arc<str>,
    /// Hosts and ports the plugin may reach.
    pub grants: Arc<Grants>,
    /// Secret values to redact from anything the plugin writes.
    pub secrets: Arc<Vec<String>>,
    /// When the run must end, host calls included.
    pub deadline: Instant,
    /// Linear memory cap in bytes.
    pub memory: u64,
    /// The network budget.
    pub budget: NetBudget,
    /// Where the run's host I/O goes, and the per-host connection slots; `None` for a
    /// `describe` call, which has no network at all.
    pub lanes: Option<Lanes>,
    /// Where host calls are answered: the network, or a test case.
    pub answers: Answers,
}

/// The data of one run's wasmtime `Store`.
pub struct RunState {
    pub(crate) grant: RunGrant,
    pub(crate) limiter: MemoryLimiter,
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) stdout: MemoryOutputPipe,
    pub(crate) stderr: MemoryOutputPipe,
    /// Log lines written so far through the `log` import.
    pub(crate) log_lines: u32,
    /// TCP connections open now.
    pub(crate) connections: usize,
    /// Connection attempts made so far (against the budget).
    pub(crate) attempts: u32,
    /// Host calls refused for lack of a grant, to report beside the result (bounded).
    pub(crate) denials: Refusals,
}

impl RunState {
    /// A fresh state: WASI with no files, no environment, no arguments, no sockets and
    /// captured, size-capped stdout and stderr. Clocks and randomness are allowed.
    pub fn new(grant: RunGrant) -> RunState {
        let stdout = MemoryOutputPipe::new(OUTPUT_CAP);
        let stderr = MemoryOutputPipe::new(OUTPUT_CAP);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_HANDLES);
        let limiter = MemoryLimiter::new(grant.memory);
        RunState {
            grant,
            limiter,
            wasi,
            table,
            stdout,
            stderr,
            log_lines: 0,
            connections: 0,
            attempts: 0,
            denials: Refusals::default(),
        }
    }
}

impl RunState {
    /// Counts a connection attempt; past the budget, the error that ends the run.
    pub(crate) fn spend_attempt(&mut self) -> Result<(), BudgetExceeded> {
        if self.attempts >= self.grant.budget.connections {
            return Err(BudgetExceeded { what: "connection attempts", limit: self.grant.budget.connections });
        }
        self.attempts += 1;
        Ok(())
    }

    /// Records a refused call; past the budget, the error that ends the run.
    pub(crate) fn refused(&mut self, why: &str) -> Result<(), BudgetExceeded> {
        self.denials.push(why);
        let limit = self.grant.budget.refusals;
        if self.denials.total() > limit as usize {
            return Err(BudgetExceeded { what: "refused calls", limit });
        }
        Ok(())
    }
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
