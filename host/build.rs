//! Builds the built-in plugins (the `plugins/` workspace) for wasm32-wasip2 and
//! generates the table that embeds them in the binary.
//!
//! The plugins are a separate cargo workspace compiled by a nested `cargo build` into
//! `target/wasm-plugins`, shared by every profile of the host, so a plugin is compiled
//! once and cargo's own fingerprints decide when it must be again.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Built-in plugin name → crate artifact name (check plugins and the `webhook` notifier).
const BUILTINS: &[(&str, &str)] = &[
    ("http", "vitals_plugin_http"),
    ("tcp", "vitals_plugin_tcp"),
    ("webhook", "vitals_plugin_webhook"),
    ("postgres", "vitals_plugin_postgres"),
    ("mysql", "vitals_plugin_mysql"),
    ("redis", "vitals_plugin_redis"),
    ("nats", "vitals_plugin_nats"),
    ("mqtt", "vitals_plugin_mqtt"),
    ("amqp", "vitals_plugin_amqp"),
    ("smtp", "vitals_plugin_smtp"),
    ("imap", "vitals_plugin_imap"),
    ("pop3", "vitals_plugin_pop3"),
    ("ssh", "vitals_plugin_ssh"),
    ("dns", "vitals_plugin_dns"),
    ("tls", "vitals_plugin_tls"),
    ("grpc", "vitals_plugin_grpc"),
    ("system", "vitals_plugin_system"),
    ("ping", "vitals_plugin_ping"),
    ("nagios", "vitals_plugin_nagios"),
];
const WASM_TARGET: &str = "wasm32-wasip2";

fn main() {
    if let Err(message) = run() {
        // A build script reports errors by failing; make the reason the last thing shown.
        eprintln!("\nerror: {message}\n");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let root = manifest_dir.parent().ok_or("host/ has no parent directory")?.to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let target_dir = env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let wasm_dir = target_dir.join("wasm-plugins");

    for watched in ["plugins", "wit", "units", "cases", "templates"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    println!("cargo:rerun-if-changed={}", root.join("Cargo.lock").display());
    versions(&root)?;

    ensure_wasm_target()?;
    build_plugins(&root.join("plugins/Cargo.toml"), &wasm_dir)?;

    let mut table =
        String::from("/// Built-in plugins: name and component bytes.\npub static BUILTINS: &[(&str, &[u8])] = &[\n");
    for (name, artifact) in BUILTINS {
        let built = wasm_dir.join(WASM_TARGET).join("release").join(format!("{artifact}.wasm"));
        let embedded = out_dir.join(format!("{name}.wasm"));
        std::fs::copy(&built, &embedded).map_err(|e| format!("cannot copy {}: {e}", built.display()))?;
        writeln!(table, "    ({name:?}, include_bytes!({:?})),", embedded.display().to_string())
            .map_err(|e| e.to_string())?;
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("builtin_plugins.rs"), table).map_err(|e| e.to_string())?;
    Ok(())
}

/// Tells the crate, for `vitals --version`, the WIT versions it loads plugins of (every
/// released one in `wit/released/` and the current `wit/plugin.wit`) and the wasmtime it
/// was built with (from Cargo.lock), as `VITALS_WIT_VERSIONS` and `VITALS_WASMTIME_VERSION`.
fn versions(root: &Path) -> Result<(), String> {
    let wit =
        std::fs::read_to_string(root.join("wit/plugin.wit")).map_err(|e| format!("cannot read wit/plugin.wit: {e}"))?;
    let current = wit
        .lines()
        .find_map(|l| l.trim().strip_prefix("package vitals:plugin@"))
        .map(|v| v.trim_end_matches(';').trim().to_string())
        .ok_or("wit/plugin.wit has no `package vitals:plugin@VERSION;` line")?;
    let mut released: Vec<String> = std::fs::read_dir(root.join("wit/released"))
        .map_err(|e| format!("cannot read wit/released: {e}"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    released.push(current);
    released.sort_by_key(|v| v.split('.').map(|n| n.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>());
    released.dedup();
    println!("cargo:rustc-env=VITALS_WIT_VERSIONS={}", released.join(", "));
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let wasmtime = lock
        .split("[[package]]")
        .find(|p| p.lines().any(|l| l.trim() == "name = \"wasmtime\""))
        .and_then(|p| p.lines().find_map(|l| l.trim().strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_string())
        .ok_or("Cargo.lock has no wasmtime package")?;
    println!("cargo:rustc-env=VITALS_WASMTIME_VERSION={wasmtime}");
    Ok(())
}

/// Makes sure the toolchain has the wasm32-wasip2 standard library. rustup installs the
/// targets `rust-toolchain.toml` lists when it installs the toolchain, but not when the
/// toolchain was already there without them; then this adds the target, as a person would.
fn ensure_wasm_target() -> Result<(), String> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot =
        Command::new(&rustc).args(["--print", "sysroot"]).output().map_err(|e| format!("cannot run {rustc}: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
        return Ok(());
    }
    let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") else {
        return Err(format!(
            "the {WASM_TARGET} target is not installed in {} and rustup is not managing this toolchain; \
             install the target for this compiler (the built-in plugins are compiled to it)",
            sysroot.display()
        ));
    };
    // The sysroot probe can miss a target rustup has (a toolchain directory reached through a
    // symlink, a wrapper as RUSTC): ask rustup, which is what installs it, before installing.
    let installed =
        Command::new("rustup").args(["target", "list", "--installed", "--toolchain", &toolchain]).output().is_ok_and(
            |o| o.status.success() && String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == WASM_TARGET),
        );
    if installed {
        return Ok(());
    }
    let output = Command::new("rustup")
        .args(["target", "add", WASM_TARGET, "--toolchain", &toolchain])
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run rustup to install the {WASM_TARGET} target: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`rustup target add {WASM_TARGET} --toolchain {toolchain}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // Said only when rustup did install something, not when the target was up to date.
    if !String::from_utf8_lossy(&output.stderr).contains("up to date") {
        println!("cargo:warning=installed the {WASM_TARGET} target into toolchain {toolchain} (rustup target add)");
    }
    Ok(())
}

fn build_plugins(manifest: &Path, target_dir: &Path) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--target", WASM_TARGET, "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .stdout(Stdio::null());
    // The outer build's flags and wrappers are for the host target, not for wasm.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().map_err(|e| format!("cannot run cargo to build the built-in plugins: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the built-in plugins for {WASM_TARGET} failed (see above).\n\
             If the target is missing, `rustup target add {WASM_TARGET}` installs it \
             (rust-toolchain.toml asks rustup to do so automatically)."
        ));
    }
    Ok(())
}
