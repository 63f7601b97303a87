//! Per-run resource limits: a memory cap summed over all of a plugin's linear memories,
//! caps on tables and instances, and a flag saying when a limit was hit.

use vitals_units::format_bytes;

/// Most table elements a plugin may have (function tables of large guests fit).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;
/// Most instances, tables and memories a plugin may create.
const MAX_INSTANCES: usize = 64;
const MAX_TABLES: usize = 64;
const MAX_MEMORIES: usize = 8;

/// The limiter installed in every run's store.
#[derive(Debug)]
pub struct MemoryLimiter {
    cap: u64,
    used: u64,
    exceeded: bool,
}

impl MemoryLimiter {
    /// A limiter allowing `cap` bytes of linear memory in total.
    pub fn new(cap: u64) -> MemoryLimiter {
        MemoryLimiter { cap, used: 0, exceeded: false }
    }

    /// Whether the plugin tried to go over its cap.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// The cap, in bytes.
    pub fn cap(&self) -> u64 {
        self.cap
    }

    #[cfg(test)]
    /// Peak linear memory granted so far, in bytes.
    pub fn used(&self) -> u64 {
        self.used
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current) as u64;
        let after = self.used.saturating_add(growth);
        if after > self.cap {
            self.exceeded = true;
            // A trap rather than a failed grow: guests abort on allocation failure anyway,
            // and the trap carries a message a person understands.
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} reached (the plugin asked for {})",
                format_bytes(self.cap),
                format_bytes(after)
            )));
        }
        self.used = after;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn growth_is_summed_across_memories_and_refused_over_the_cap() {
        let mut l = MemoryLimiter::new(4 << 20);
        assert!(l.memory_growing(0, 2 << 20, None).unwrap());
        assert!(l.memory_growing(0, 2 << 20, None).unwrap());
        let err = l.memory_growing(2 << 20, 3 << 20, None).unwrap_err();
        assert!(err.to_string().contains("memory limit of 4 MiB reached"), "{err}");
        assert!(l.exceeded());
        assert_eq!(l.used(), 4 << 20);
    }
}
