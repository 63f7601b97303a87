//! The host API plugins import, as plain Rust: every call checked against the check's
//! grants and bounded by its deadline. The WIT glue lives in `runtime::wit`.

pub mod dns;
pub mod http;
pub mod net;
pub mod tcp;
pub mod tls;
