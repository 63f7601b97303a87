//! The native test kit: a plugin's `run` in a plain `cargo test`, its host calls answered
//! from the cases of a `cases.toml`, its results judged as `vitals plugin test` judges them.
//!
//! Enable the `testing` feature in the plugin's dev-dependencies only, so the component
//! never contains the kit, and add one test:
//!
//! ```toml
//! [dev-dependencies]
//! vitals-sdk = { path = "../sdk", features = ["testing"] }
//! ```
//!
//! ```no_run
//! # struct MyCheck;
//! # impl vitals_sdk::Check for MyCheck {
//! #     fn describe() -> vitals_sdk::Description { vitals_sdk::description("my", "0.1.0", "", vec![]) }
//! #     fn run(_: vitals_sdk::CheckRequest) -> vitals_sdk::CheckResult { vitals_sdk::ok("") }
//! # }
//! // In src/tests.rs: one #[test] that runs every case of the crate's cases.toml.
//! vitals_sdk::test_cases!(MyCheck, "cases.toml");
//! ```
//!
//! The format of a cases file is `vitals_cases`' ([`CaseFile`]); the same file is replayed
//! in the real sandbox by `vitals plugin test`. Natively, [`http::send`](crate::http::send),
//! [`tcp::connect`](crate::tcp::connect) and the [`Connection`](crate::tcp::Connection)
//! methods answer from the case ([`vitals_cases::Replay`]); every mismatch between what
//! the plugin did and what the case recorded fails the case.
//!
//! What the native kit does not do, and `vitals plugin test` does: check the case's
//! `allow` grants (a call to a host the check is not granted is answered here, refused
//! there), type-check the config against `describe`, enforce the timeout, memory and CPU
//! limits, and turn a trap into a result (here a panic in `run` becomes the same
//! `unknown`/`plugin-error` result, `plugin panicked: <message>`).

// The kit itself is native only: in a component the host answers the calls, and
// `vitals plugin test` replays the cases there.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod host;
#[cfg(not(target_arch = "wasm32"))]
mod run;

#[cfg(not(target_arch = "wasm32"))]
pub use run::{run_case, run_cases};
/// The cases file format (`vitals_cases`), re-exported so a plugin needs no dependency of
/// its own on it.
#[cfg(not(target_arch = "wasm32"))]
pub use vitals_cases::{Case, CaseFile};

/// Defines one `#[test]`, `every_case_passes`, that runs every case of a cases file
/// through a [`Check`](crate::Check) with [`testing::run_cases`](crate::testing::run_cases).
/// The path is relative to the crate's root (its `Cargo.toml`); in a `wasm32` build the
/// test is left out. Needs the `testing` feature.
///
/// ```no_run
/// # struct Http;
/// # impl vitals_sdk::Check for Http {
/// #     fn describe() -> vitals_sdk::Description { vitals_sdk::description("http", "0.1.0", "", vec![]) }
/// #     fn run(_: vitals_sdk::CheckRequest) -> vitals_sdk::CheckResult { vitals_sdk::ok("") }
/// # }
/// // plugins/http/src/tests.rs
/// vitals_sdk::test_cases!(Http, "cases.toml");
/// ```
#[macro_export]
macro_rules! test_cases {
    ($check:ty, $path:expr $(,)?) => {
        #[cfg(not(target_arch = "wasm32"))]
        #[test]
        fn every_case_passes() {
            $crate::testing::run_cases::<$check>(::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join($path));
        }
    };
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
