//! Reports: pure computations over stored results, one module per kind of report. They
//! read plain data (results, windows, check settings) and return plain data; no I/O, and
//! no formatting of output strings, which rendering does separately: [`build`] gathers
//! the [`Report`] of the selected checks from the store, [`cells`] formats the figures
//! every renderer shows, and [`render`] writes it as text, Markdown, JSON, CSV or HTML.

pub mod build;
pub mod cells;
pub mod check;
pub mod groups;
pub mod latency;
pub mod render;
pub mod rollup;
pub mod sla;
pub mod tiered;
pub mod timeline;

pub use build::{BuildError, MaintenanceListing, OpenStore, Report, build, raw_results};
