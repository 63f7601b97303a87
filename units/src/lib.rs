//! The one grammar of the quantities people write in Vitals: durations (`"250ms"`,
//! `"1h30m"`, `"1d"`), sizes (`"16MiB"`) and Monitoring Plugins threshold ranges (`"10:20"`,
//! `"@~:5"`), parsed and formatted the same way by the host (config, gate, reports) and by
//! the plugin SDK, so that what `vitals validate` accepts is exactly what a plugin reads.
//!
//! Pure `std`: it builds for the host and for `wasm32-wasip2` alike.

#![deny(missing_docs)]

mod duration;
mod error;
mod range;
mod size;

pub use duration::{duration_unit_nanos, format_duration, parse_duration};
pub use error::UnitError;
pub use range::Range;
pub use size::{format_bytes, parse_bytes, size_unit_bytes};
