//! The host side of every WIT import, called with arbitrary guest arguments in a sandbox
//! that grants nothing (see `vitals::runtime::fuzzing`).
#![no_main]

use libfuzzer_sys::fuzz_target;

thread_local! {
    static RUNTIME: tokio::runtime::Runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
}

fuzz_target!(|data: &[u8]| {
    RUNTIME.with(|rt| rt.block_on(vitals::runtime::fuzzing::host_calls(data)));
});
