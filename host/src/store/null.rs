//! The store that remembers nothing: what `vitals check --no-store` runs against, so a
//! check's state starts afresh and nothing is written.

use super::{ChangeKind, HourRollup, ResultStore, StoreError};
use crate::result::{CheckResult, EventRecord};

/// A store that keeps nothing and reads back nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullStore;

impl ResultStore for NullStore {
    fn write_run(&mut self, _: &[CheckResult], _: &[EventRecord]) -> Result<(), StoreError> {
        Ok(())
    }

    fn window(&self, _: &str, _: i64, _: i64) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        Ok((None, Vec::new()))
    }

    fn events(&self, _: Option<&str>, _: usize) -> Result<Vec<EventRecord>, StoreError> {
        Ok(Vec::new())
    }

    fn recent(&self, _: Option<&str>, _: usize) -> Result<Vec<CheckResult>, StoreError> {
        Ok(Vec::new())
    }

    fn changes(
        &self,
        _: &str,
        _: ChangeKind,
        _: i64,
        _: i64,
    ) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError> {
        Ok((None, Vec::new()))
    }

    fn rollups(&self, _: &str, _: i64, _: i64) -> Result<Vec<HourRollup>, StoreError> {
        Ok(Vec::new())
    }

    fn unsealed_hours(&self, _: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(Vec::new())
    }

    fn seal_hour(&mut self, _: &HourRollup, _: &[CheckResult]) -> Result<(), StoreError> {
        Ok(())
    }

    fn prune(&mut self, _: i64, _: usize) -> Result<usize, StoreError> {
        Ok(0)
    }

    fn oldest_sealed_hour(&self, _: &str) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }

    fn pending_phase_days(&self, _: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(Vec::new())
    }

    fn compact_phases(&mut self, _: &str, _: i64, _: &[u8]) -> Result<(), StoreError> {
        Ok(())
    }

    fn daily_phases(&self, _: &str, _: i64, _: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Status;
    use crate::result::fixture::result;

    #[test]
    fn what_is_written_is_never_read_back() {
        let mut store = NullStore;
        let r = result("web", 1_000, Status::Critical, Vec::new());
        store.write_run(std::slice::from_ref(&r), &[]).expect("writes nothing, successfully");
        assert!(store.recent(Some("web"), 10).expect("reads").is_empty());
        assert!(store.recent(None, 10).expect("reads").is_empty());
        let (before, inside) = store.window("web", 0, i64::MAX).expect("reads");
        assert!(before.is_none() && inside.is_empty());
        assert!(store.events(None, 10).expect("reads").is_empty());
        assert!(store.unsealed_hours(i64::MAX).expect("reads").is_empty());
        assert_eq!(store.prune(i64::MAX, 10).expect("prunes"), 0);
        assert_eq!(store.oldest_sealed_hour("web").expect("reads"), None);
        assert!(store.rollups("web", 0, i64::MAX).expect("reads").is_empty());
        assert!(store.daily_phases("web", 0, i64::MAX).expect("reads").is_empty());
    }
}
