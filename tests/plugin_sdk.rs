//! The plugins' own unit tests (range syntax, durations, status lists, result judging)
//! run natively in the plugins' workspace; this test runs them, so that `cargo test` at
//! the root passes every test of the repository.

mod support;

use std::process::Command;

fn host_triple() -> String {
    let out = Command::new("rustc").arg("-vV").output().expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host triple")
}

#[test]
fn the_plugin_workspace_unit_tests_pass_natively() {
    let root = support::root();
    let out = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["test", "--workspace", "--manifest-path", "plugins/Cargo.toml", "--target"])
        .arg(host_triple())
        .arg("--target-dir")
        .arg(support::target_dir().join("wasm-plugins"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("run cargo test in plugins/");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "plugin tests failed:\n{stdout}\n{stderr}");
    let passed: usize = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert!(passed >= 20, "expected the SDK and plugin tests to run, {passed} passed:\n{stdout}");
}
