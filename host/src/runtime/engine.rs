//! The one wasmtime `Engine` of the process: component model, async, epoch
//! interruption driven by a 10 ms ticker (100 ms while no guest runs), and the pooling
//! allocator where it fits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::lanes::Lanes;
use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::plan::MAX_MEMORY;

/// How often the epoch advances: the granularity of CPU deadlines, and of the yields
/// that let other checks run beside a busy plugin.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How often the epoch advances while no guest runs. Each tick wakes a thread, so an idle
/// daemon ticks ten times a second instead of a hundred; a guest that starts meanwhile
/// gets its first tick (and its first deadline check) at most this late.
pub const IDLE_EPOCH_TICK: Duration = Duration::from_millis(100);

/// Guest stack: deep enough for real plugins, small enough that runaway recursion traps
/// fast. Must stay under the async stack (2 MiB), the rest of which host calls use.
const MAX_WASM_STACK: usize = 1 << 20;

/// Instances the pool holds at once; the run-time semaphore is never larger.
pub const POOL_INSTANCES: u32 = 256;

/// The process-wide engine: compile plugins with it, run every check on it.
#[derive(Clone)]
pub struct Engine {
    inner: wasmtime::Engine,
    pooling: bool,
    lanes: Lanes,
}

impl Engine {
    /// Builds the engine (pooling allocator when the machine can reserve it) and starts
    /// the epoch ticker thread, which ends when the last clone of the engine is dropped.
    pub fn new() -> anyhow::Result<Engine> {
        let (inner, pooling) = match wasmtime::Engine::new(&base_config(true)) {
            Ok(engine) => (engine, true),
            Err(e) => {
                tracing::debug!(error = %e, "pooling allocator unavailable, using on-demand allocation");
                (wasmtime::Engine::new(&base_config(false))?, false)
            }
        };
        let lanes = Lanes::new()?;
        start_ticker(&inner, lanes.active())?;
        Ok(Engine { inner, pooling, lanes })
    }

    /// The wasmtime engine, for the runtime's own modules.
    pub(crate) fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner
    }

    /// Where guest code and host I/O run (see `lanes`).
    pub(crate) fn lanes(&self) -> &Lanes {
        &self.lanes
    }

    /// Spreads the runs' host I/O over `threads` I/O threads (see [`Lanes::spread_io`]).
    pub fn spread_io(&self, threads: usize) {
        self.lanes.spread_io(threads);
    }

    /// Sets the most connections in flight to one host, for every check (`max_per_host`).
    pub fn set_max_per_host(&self, max: usize) {
        self.lanes.slots().set_max(max);
    }

    /// Whether instances come from the pooling allocator.
    pub fn is_pooling(&self) -> bool {
        self.pooling
    }
}

fn base_config(pooling: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(MAX_WASM_STACK);
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 8)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 4)
            .total_stacks(POOL_INSTANCES)
            .max_memories_per_component(4)
            .max_tables_per_component(16)
            .max_core_instances_per_component(32)
            .max_component_instance_size(1 << 20)
            .max_core_instance_size(1 << 20)
            // Each slot reserves address space for the largest cap a check may ask for;
            // the per-check cap is enforced by the store's limiter.
            .max_memory_size(MAX_MEMORY as usize)
            // Resetting a slot for the next check: `madvise` each time costs a TLB
            // shootdown across cores, which profiling showed as the largest cost per
            // check. Keep the memory a typical plugin touches resident and reset it with
            // `memset` (only the pages actually touched, where the kernel can tell), and
            // batch the decommits of the rest.
            .linear_memory_keep_resident(4 << 20)
            .table_keep_resident(64 << 10)
            .async_stack_keep_resident(256 << 10)
            .pagemap_scan(wasmtime::Enabled::Auto)
            .decommit_batch_size(32);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// Without the ticker no CPU deadline would ever fire, so failing to start it is an error.
/// It ticks every [`EPOCH_TICK`] while a guest runs (`active` > 0), and every
/// [`IDLE_EPOCH_TICK`] otherwise.
fn start_ticker(engine: &wasmtime::Engine, active: Arc<AtomicUsize>) -> anyhow::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("vitals-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                let busy = active.load(Ordering::Relaxed) > 0;
                std::thread::sleep(if busy { EPOCH_TICK } else { IDLE_EPOCH_TICK });
            }
        })
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("cannot start the epoch thread that enforces deadlines: {e}"))
}
