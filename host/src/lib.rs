//! Vitals: a health check runner whose checks are sandboxed WebAssembly plugins.
//!
//! The data flows one way: [`config`] reads `checks.toml` into a [`plan::Plan`];
//! [`schedule`] decides when each check runs; [`runtime`] runs it in a wasmtime sandbox;
//! the [`result::CheckResult`] goes to the [`store`]; reports and gates read it back.

#![deny(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
pub mod gate;
pub mod plan;
pub mod report;
pub mod result;
pub mod runtime;
pub mod schedule;
pub mod serve;
pub mod store;
