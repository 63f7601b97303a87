//! Compiled plugins on disk: each component is compiled once per content hash and
//! wasmtime build, written atomically, and mapped back in on later runs.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

/// Where compiled plugins are kept; `None` compiles every time (`--no-cache`).
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    /// The user's cache directory (`$VITALS_CACHE_DIR`, else `~/.cache/vitals/components`).
    pub fn user_default() -> ComponentCache {
        let dir = std::env::var_os("VITALS_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| directories::ProjectDirs::from("", "", "vitals").map(|d| d.cache_dir().join("components")));
        ComponentCache { dir }
    }

    /// A cache in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> ComponentCache {
        ComponentCache { dir: Some(dir.into()) }
    }

    /// No cache: every load compiles.
    pub fn disabled() -> ComponentCache {
        ComponentCache { dir: None }
    }

    /// The cache directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The compiled component for `wasm`, from the cache when it holds a usable copy.
    /// A cache that cannot be read or written only costs a compilation, never a failure.
    pub fn load_or_compile(&self, engine: &wasmtime::Engine, wasm: &[u8]) -> wasmtime::Result<Component> {
        let Some(dir) = &self.dir else {
            return Component::new(engine, wasm);
        };
        let path = dir.join(format!("{}.cwasm", key(engine, wasm)));
        if path.exists() {
            // SAFETY: the file was written by `serialize` of an engine with the same
            // compatibility hash (it is in the file name), in the user's own cache
            // directory; wasmtime still checks its header and version before use.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok(component),
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "ignoring an unusable cached plugin"),
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = store(&path, &component) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the plugin cache; plugins will be compiled on every run");
        }
        Ok(component)
    }
}

/// Content hash of the component and compatibility hash of the engine.
fn key(engine: &wasmtime::Engine, wasm: &[u8]) -> String {
    let content = hex::encode(Sha256::digest(wasm));
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{content}-{:016x}", h.finish())
}

fn store(path: &Path, component: &Component) -> anyhow::Result<()> {
    let bytes = component.serialize().map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = path.parent().ok_or_else(|| anyhow::anyhow!("cache path has no directory"))?;
    std::fs::create_dir_all(dir)?;
    // Write beside, then rename: a reader never sees half a file.
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        std::process::id(),
        path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
