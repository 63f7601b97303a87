//! The choke point every plugin result goes through: whatever a plugin returns, the sealed
//! result holds its bounds, shows no secret and keeps only trustworthy metrics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitals::result::Metric;
use vitals::runtime::{Draft, MAX_RESULT_BYTES, UNITS, seal};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.split('\u{1f}').collect();
    let secret = "hunter2 is_the-key".to_string();
    let metrics = parts
        .iter()
        .map(|p| Metric {
            name: format!("{p}{secret}"),
            value: p.len() as f64 - 3.5,
            unit: p.chars().take(2).collect(),
            warn: Some(p.to_string()),
            crit: Some(secret.clone()),
            min: Some(f64::INFINITY),
            max: Some(1.0),
        })
        .collect();
    let draft = Draft {
        summary: format!("{text} {secret}"),
        details: Some(parts.join(&secret.replace(' ', "\u{1}"))),
        metrics,
    };
    let sealed = seal(draft, &[format!("refused {secret}.example")], &[secret.clone()]);
    let bytes = sealed.text_bytes();
    assert!(bytes <= MAX_RESULT_BYTES);
    assert!(!sealed.summary.contains(&secret));
    assert!(!sealed.details.unwrap_or_default().contains(&secret));
    assert!(sealed.metrics.iter().all(|m| m.value.is_finite() && UNITS.contains(&m.unit.as_str()) && m.crit.is_none()));
});
