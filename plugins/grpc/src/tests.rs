//! Unit tests of how calls are judged (pure logic, no host calls), and the cases.

use super::*;

// Every case of cases.toml, run natively through `Grpc::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Grpc, "cases.toml");
