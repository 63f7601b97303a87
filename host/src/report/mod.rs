//! Reports: pure computations over stored results, one module per kind of report. They
//! read plain data (results, windows, check settings) and return plain data; no I/O, and
//! no formatting of output strings, which rendering does separately.

pub mod check;
pub mod latency;
pub mod rollup;
pub mod sla;
pub mod tiered;
pub mod timeline;
