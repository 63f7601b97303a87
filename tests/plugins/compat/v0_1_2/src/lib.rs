//! `compat-v0-1-2`: a check plugin built against the released WIT 0.1.2, so that the
//! host's tests can prove that plugins of that version keep loading and running.
//!
//! The check itself is shared by every version's fixture (`../common/check.rs`); only
//! the contract it is compiled against differs.

wit_bindgen::generate!({ world: "check", path: "../../../../wit/released/0.1.2" });

/// The name `describe` gives.
const NAME: &str = "compat-v0-1-2";

include!("../../common/check.rs");
