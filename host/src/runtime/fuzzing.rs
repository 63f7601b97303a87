//! For the fuzzers (`fuzz/`, built with `--cfg fuzzing` only): the host side of every WIT
//! import called with arbitrary guest arguments, in a sandbox that grants nothing, then the
//! result's choke point. Whatever the bytes, nothing may panic, no call may reach the
//! network, and what comes out must hold the output bounds.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Resource;

use super::imports::tcp as host_tcp;
use super::lanes::Lanes;
use super::output::{self, Draft};
use super::state::{NetBudget, RunGrant, RunState};
use super::wit::v0_1::{http, log, tcp};
use crate::plan::Grants;
use crate::result::Metric;

/// Splits `data` into fields at `0xFF` bytes, each read as (lossy) UTF-8.
fn fields(data: &[u8]) -> Vec<String> {
    data.split(|b| *b == 0xFF).map(|f| String::from_utf8_lossy(f).into_owned()).collect()
}

fn number(field: Option<&String>) -> u64 {
    field.map_or(0, |f| f.bytes().fold(0u64, |n, b| n.wrapping_mul(31).wrapping_add(u64::from(b))))
}

/// Plays `data` as a sequence of host calls, then seals a result built from it. Must be
/// called inside a tokio runtime (the I/O lane is the current one).
pub async fn host_calls(data: &[u8]) {
    let Ok(lanes) = Lanes::new() else { return };
    let secret = "fuzz-secret value_1".to_string();
    let grant = RunGrant {
        check: Arc::from("fuzz"),
        grants: Arc::new(Grants::none()),
        secrets: Arc::new(vec![secret.clone()]),
        deadline: tokio::time::Instant::now() + Duration::from_millis(200),
        memory: 1 << 20,
        budget: NetBudget::DEFAULT,
        lanes: Some(lanes),
        answers: Default::default(),
    };
    let mut state = RunState::new(grant);
    let fields = fields(data);
    let mut calls = fields.chunks(4);
    while let Some(call) = calls.next() {
        let kind = call.first().and_then(|f| f.bytes().next()).unwrap_or(0) % 6;
        let text = |i: usize| call.get(i).cloned().unwrap_or_default();
        let stopped = match kind {
            0 => {
                let request = http::Request {
                    method: text(1),
                    url: text(2),
                    headers: vec![(text(3), secret.clone())],
                    body: Some(text(3).into_bytes()),
                    timeout_ms: Some(number(call.get(3)) as u32),
                    max_redirects: (number(call.get(1)) % 4) as u8,
                    tls_verify: number(call.get(2)) % 2 == 0,
                    max_body_bytes: number(call.get(3)) as u32,
                };
                http::Host::send(&mut state, request).await.is_err()
            }
            1 => tcp::Host::connect(&mut state, text(1), number(call.get(2)) as u16, number(call.get(3)) as u32)
                .await
                .is_err(),
            2 => {
                let level = [log::Level::Debug, log::Level::Info, log::Level::Warn, log::Level::Error]
                    [(number(call.get(1)) % 4) as usize];
                log::Host::write(&mut state, level, text(2)).await.is_err()
            }
            3 => {
                // A handle the plugin made up: the table refuses it, no panic.
                let forged = Resource::<host_tcp::Connection>::new_own(number(call.get(1)) as u32);
                tcp::HostConnection::send(&mut state, forged, text(2).into_bytes(), 10).await.is_err()
            }
            4 => {
                let forged = Resource::<host_tcp::Connection>::new_own(number(call.get(1)) as u32);
                tcp::HostConnection::receive(&mut state, forged, number(call.get(2)) as u32, 10).await.is_err()
            }
            _ => false,
        };
        // A trap (a budget spent, a bad handle) ends the run, as it would a guest's.
        if stopped {
            break;
        }
    }
    let metrics = fields
        .iter()
        .map(|f| Metric {
            name: f.clone(),
            value: number(Some(f)) as f64 / 7.0,
            unit: f.chars().take(3).collect(),
            warn: Some(f.clone()),
            crit: Some(f.chars().rev().collect()),
            min: Some(f64::NAN),
            max: None,
        })
        .collect();
    let draft = Draft { summary: fields.join(" "), details: Some(fields.join("\n")), metrics };
    let notes: Vec<String> = state.denials.note().into_iter().collect();
    let sealed = output::seal(draft, &notes, &[secret.clone()]);
    let bytes = sealed.text_bytes();
    assert!(bytes <= output::MAX_RESULT_BYTES, "a sealed result of {bytes} bytes");
    assert!(!sealed.summary.contains(&secret), "the secret in the summary");
    assert!(!sealed.details.as_deref().unwrap_or_default().contains(&secret), "the secret in the details");
    assert!(sealed.metrics.iter().all(|m| m.value.is_finite() && output::UNITS.contains(&m.unit.as_str())));
}
