//! The one grammar of quantities: durations, sizes and ranges never panic, and a range
//! that parses prints in a form that parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(d) = vitals_units::parse_duration(text) {
        let _ = vitals_units::format_duration(d);
    }
    if let Ok(b) = vitals_units::parse_bytes(text) {
        let _ = vitals_units::format_bytes(b);
    }
    if let Ok(range) = vitals_units::Range::parse(text) {
        let shown = range.to_string();
        assert_eq!(vitals_units::Range::parse(&shown).ok(), Some(range), "{text:?} shows as {shown:?}");
    }
});
