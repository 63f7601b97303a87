//! `vitals:plugin@0.1.x`, world `notify` (since 0.1.1): the generated bindings of a
//! notifier plugin and conversions between its types and the host's.
//!
//! The world's imports (`types`, `http`, `log`) are the interfaces of the `check` world,
//! mapped with `with` to [`super::v0_1`]'s generated modules: the same `impl http::Host
//! for RunState` (and `log`) serve both worlds, and the runtime's one linker, which
//! already holds them, links notifier plugins too (there is no `add_to_linker` here).

use crate::result::Status;
use crate::result::state::Event;

/// Generated from `wit/plugin.wit`, whose doc comments document these items.
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        world: "notify",
        path: "../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "vitals:plugin/types": crate::runtime::wit::v0_1::types,
            "vitals:plugin/http": crate::runtime::wit::v0_1::http,
            "vitals:plugin/log": crate::runtime::wit::v0_1::log,
        },
    });
}

pub use bindings::NotifyPre;
pub use bindings::exports::vitals::plugin::notifier::{ChangeKind, StateChange};

use super::v0_1::types;

/// The state change handed to `notify`, built from a scheduler event.
pub fn state_change(check: &str, event: &Event, summary: &str, target: &str, report_link: Option<&str>) -> StateChange {
    let (kind, old_status, new_status) = match *event {
        Event::HardChange { from, to, .. } => (ChangeKind::HardChange, Some(status(from)), Some(status(to))),
        Event::FlappingStarted { .. } => (ChangeKind::FlappingStarted, None, None),
        Event::FlappingStopped { .. } => (ChangeKind::FlappingStopped, None, None),
    };
    StateChange {
        check: check.to_string(),
        kind,
        old_status,
        new_status,
        at_ms: event.at_ms(),
        summary: summary.to_string(),
        target: target.to_string(),
        report_link: report_link.map(str::to_string),
    }
}

fn status(s: Status) -> types::Status {
    match s {
        Status::Ok => types::Status::Ok,
        Status::Warning => types::Status::Warning,
        Status::Critical => types::Status::Critical,
        Status::Unknown => types::Status::Unknown,
    }
}
