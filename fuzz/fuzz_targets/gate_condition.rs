//! Gate conditions as a CI job might pass them: the parser never panics, and an error's
//! column lies inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match vitals::gate::condition::parse(text) {
        Ok(condition) => {
            let _ = format!("{condition:?}");
        }
        Err(e) => {
            let _ = vitals::gate::render_command_line(text, &e);
        }
    }
});
