//! `checks.toml` as anyone might write it: parsing and resolving never panics, and every
//! error it reports points inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vitals::plan::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let source = SourceFile::new("checks.toml", text);
    let env = |name: &str| (name == "SET").then(|| "value".to_string());
    if let Err(vitals::config::ConfigError::Invalid(problems)) = vitals::config::parse(source, &env) {
        for problem in problems {
            let _ = problem.to_string();
        }
    }
});
