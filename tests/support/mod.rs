//! Shared by the end-to-end tests: the real `vitals` binary, throwaway configs, the
//! fixture plugins (hostile, compat), and small servers on 127.0.0.1 that the tests start.

#![allow(dead_code)]

pub mod pg;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The root of the repository.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent").to_path_buf()
}

/// The cargo target directory (`$CARGO_TARGET_DIR`, else `target/`), where the wasm
/// plugins and the compiled-plugin cache of the tests live.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// A scratch directory with a config file in it.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// A directory holding `checks.toml` with `config`.
    pub fn new(config: &str) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("checks.toml"), config).expect("write config");
        Sandbox { dir }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("checks.toml")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("vitals.db")
    }

    /// `vitals --config <this config> <args>`.
    pub fn vitals(&self, args: &[&str]) -> Output {
        let mut cmd = vitals();
        cmd.arg("--config").arg(self.config()).args(args);
        cmd.output().expect("run vitals")
    }

    /// `vitals --config <this config> <args>` with extra environment variables.
    #[allow(dead_code)]
    pub fn vitals_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = vitals();
        cmd.arg("--config").arg(self.config()).args(args);
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.output().expect("run vitals")
    }

    /// `run --once --format json`, parsed; also returns the exit code.
    pub fn run_json(&self, extra: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
        let mut args = vec!["run", "--once", "--format", "json"];
        args.extend_from_slice(extra);
        let out = self.vitals(&args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not a JSON array ({e}):\n{stdout}\nstderr:\n{stderr}"));
        (out.status.code().unwrap_or(-1), parsed, stderr)
    }
}

/// The binary under test, with a compiled-plugin cache shared by all tests.
pub fn vitals() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vitals"));
    cmd.env("VITALS_CACHE_DIR", target_dir().join("test-plugin-cache"))
        .env_remove("VITALS_CONFIG")
        .env_remove("VITALS_DB")
        .env_remove("RUST_LOG")
        .env_remove("VITALS_LOG");
    cmd
}

/// The result object of check `name` in a JSON run.
pub fn result<'a>(results: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    results.iter().find(|r| r["check"] == name).unwrap_or_else(|| panic!("no result for {name} in {results:#?}"))
}

/// The value of metric `name` in a result object.
pub fn metric(result: &serde_json::Value, name: &str) -> Option<f64> {
    result["metrics"].as_array()?.iter().find(|m| m["name"] == name)?["value"].as_f64()
}

/// The hostile fixture plugin (tests/plugins/hostile), built once per test binary.
pub fn hostile_plugin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_fixtures("tests/plugins/hostile").join("vitals_test_hostile.wasm")).clone()
}

/// The released WIT versions, one per directory of `wit/released/`, oldest first.
pub fn released_wit_versions() -> Vec<String> {
    let dir = root().join("wit/released");
    let mut versions: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    versions.sort_by_key(|v| v.split('.').map(|part| part.parse::<u64>().unwrap_or(u64::MAX)).collect::<Vec<_>>());
    versions
}

/// The directory name of the compat fixtures of WIT `version`: `v0_1_0` for `0.1.0`.
pub fn compat_dir_name(version: &str) -> String {
    format!("v{}", version.replace('.', "_"))
}

/// The compat check plugin built against the released WIT `version`
/// (tests/plugins/compat/v0_1_0 for 0.1.0); the compat workspace is built once per test
/// binary.
pub fn compat_plugin(version: &str) -> PathBuf {
    compat_release_dir().join(format!("vitals_compat_check_{}.wasm", compat_dir_name(version)))
}

/// The compat notifier plugin built against the released WIT `version` (there is one for
/// 0.1.1, the version that introduced notifiers).
pub fn compat_notifier(version: &str) -> PathBuf {
    compat_release_dir().join(format!("vitals_compat_notify_{}.wasm", compat_dir_name(version)))
}

fn compat_release_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_fixtures("tests/plugins/compat")).clone()
}

/// Builds the fixture workspace in `dir` (relative to the root) for `wasm32-wasip2`, into
/// the target directory shared with the built-in plugins (cargo's lock makes concurrent
/// builds wait for each other), and returns the directory the components are written to.
fn build_fixtures(dir: &str) -> PathBuf {
    let root = root();
    let target_dir = target_dir().join("wasm-plugins");
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["build", "--release", "--workspace", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(root.join(dir).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap_or_else(|e| panic!("run cargo to build the fixture plugins of {dir}: {e}"));
    assert!(status.success(), "building the fixture plugins of {dir} failed");
    target_dir.join("wasm32-wasip2/release")
}

/// A TOML basic string holding `s` (paths with backslashes or quotes stay valid).
pub fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Runs `command` to the end with its output captured, and reads the child's peak
/// resident memory (`ru_maxrss`, in KiB) from `wait4(2)`: for the memory ceilings of
/// the hostile tests.
// wait4 reaps the child itself; `Child::wait` would then find nothing to wait for.
#[allow(clippy::zombie_processes)]
pub fn output_and_peak_rss(command: &mut Command) -> (Output, u64) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start vitals");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let stdout = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let stderr = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let pid = i32::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: rusage is plain old data that wait4 fills; the pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let status = std::os::unix::process::ExitStatusExt::from_raw(status);
    let output = Output { status, stdout: stdout.join().expect("stdout"), stderr: stderr.join().expect("stderr") };
    (output, u64::try_from(usage.ru_maxrss).unwrap_or(0))
}
