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
const BUILTINS: &[(&str, &str)] =
    &[("http", "vitals_plugin_http"), ("tcp", "vitals_plugin_tcp"), ("webhook", "vitals_plugin_webhook")];
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
    println!("cargo:warning=installing the {WASM_TARGET} target into toolchain {toolchain} (rustup target add)");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET, "--toolchain", &toolchain])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run rustup to install the {WASM_TARGET} target: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`rustup target add {WASM_TARGET} --toolchain {toolchain}` failed (see above)"))
    }
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
