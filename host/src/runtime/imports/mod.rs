//! The host API plugins import, as plain Rust: every call checked against the check's
//! grants and bounded by its deadline. The WIT glue lives in `runtime::wit`.

pub mod dns;
pub mod exec;
pub mod http;
pub mod net;
pub mod ping;
pub mod system;
pub mod tcp;
pub mod tls;
