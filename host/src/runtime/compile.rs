//! From a plugin reference to a compiled component without holding up an async thread:
//! the file is read (refused past a size limit) and compiled, or mapped from the cache, on
//! a thread of its own, which the caller stops waiting for after a time limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};
use wasmtime::component::Component;

use super::cache::ComponentCache;
use super::error::LoadError;
use super::registry;
use crate::plan::PluginRef;

/// Longest the load of one plugin may spend reading and compiling it (or mapping it from the
/// cache) before it fails: 120 s. The largest real plugins, componentize-js and
/// componentize-py output, took 26 to 45 s in a debug build on a busy 2-core machine
/// (docs/plugin-guide.md); twice the worst of those leaves room for slower machines.
///
/// wasmtime cannot interrupt a compilation: after the limit the load fails, and the thread
/// doing it runs on in the background until it is done. With the cache on, what it compiled
/// is then kept, so a later load of the same file is quick.
pub const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);

/// Compilations one runtime runs at once, abandoned ones included. Loads run one at a time,
/// so two leave room for one compilation that outlived its limit: a plugin reloaded again
/// and again never piles up threads that each compile it.
const MAX_COMPILING: usize = 2;

/// A plugin's component, compiled, and what is known of the file it came from.
pub(super) struct Compiled {
    /// Built-in name or file path, for messages.
    pub label: String,
    /// Size of the component in bytes.
    pub size: usize,
    /// The component, ready to link.
    pub component: Component,
}

/// Reads and compiles plugins off the async threads, within [`COMPILE_TIMEOUT`].
pub(super) struct Compiler {
    engine: wasmtime::Engine,
    cache: ComponentCache,
    /// One permit per compilation running, held by its thread until it ends.
    running: Arc<Semaphore>,
    limit: Duration,
}

impl Compiler {
    /// Compiles with `engine`, through `cache`.
    pub(super) fn new(engine: &wasmtime::Engine, cache: ComponentCache) -> Compiler {
        Compiler {
            engine: engine.clone(),
            cache,
            running: Arc::new(Semaphore::new(MAX_COMPILING)),
            limit: COMPILE_TIMEOUT,
        }
    }

    /// The component of `plugin`: its bytes read (files up to
    /// [`registry::MAX_COMPONENT_BYTES`]), its header checked, and compiled or loaded from the
    /// cache, all on a thread of its own; a [`LoadError::CompileTimeout`] past the limit.
    pub(super) async fn compile(&self, plugin: &PluginRef) -> Result<Compiled, LoadError> {
        let label = plugin.to_string();
        let started = AtomicBool::new(false);
        let work = async {
            // The semaphore is never closed, so acquiring only waits.
            let permit = Arc::clone(&self.running).acquire_owned().await.map_err(|_| LoadError::Compile {
                label: label.clone(),
                message: "the compiler was shut down".into(),
            })?;
            started.store(true, Ordering::Relaxed);
            let (tx, rx) = oneshot::channel();
            let (engine, cache, plugin) = (self.engine.clone(), self.cache.clone(), plugin.clone());
            // A thread of its own rather than tokio's blocking pool: a compilation abandoned at
            // the limit must not hold up the runtime's shutdown, which waits for that pool.
            std::thread::Builder::new()
                .name("vitals-compile".into())
                .spawn(move || {
                    let _permit = permit;
                    let _ = tx.send(read_and_compile(&engine, &cache, &plugin));
                })
                .map_err(|e| LoadError::Compile {
                    label: label.clone(),
                    message: format!("cannot start a thread to compile it: {e}"),
                })?;
            rx.await.unwrap_or_else(|_| {
                Err(LoadError::Compile { label: label.clone(), message: "the compiler thread panicked".into() })
            })
        };
        match tokio::time::timeout(self.limit, work).await {
            Ok(outcome) => outcome,
            Err(_) => Err(LoadError::CompileTimeout {
                label,
                limit: self.limit,
                waited_for_others: !started.load(Ordering::Relaxed),
            }),
        }
    }
}

/// The blocking part of [`Compiler::compile`].
fn read_and_compile(
    engine: &wasmtime::Engine,
    cache: &ComponentCache,
    plugin: &PluginRef,
) -> Result<Compiled, LoadError> {
    let (label, wasm) = registry::read(plugin)?;
    check_header(&label, &wasm)?;
    let component = cache
        .load_or_compile(engine, &wasm)
        .map_err(|e| LoadError::Compile { label: label.clone(), message: format!("{e:#}") })?;
    Ok(Compiled { label, size: wasm.len(), component })
}

fn check_header(label: &str, wasm: &[u8]) -> Result<(), LoadError> {
    const MAGIC: &[u8] = b"\0asm";
    if wasm.len() < 8 || &wasm[..4] != MAGIC {
        return Err(LoadError::NotWasm { label: label.into() });
    }
    // Bytes 4..8: version 1 for core modules, 0x0d with layer 1 for components.
    if wasm[4..8] == [1, 0, 0, 0] {
        return Err(LoadError::CoreModule { label: label.into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::runtime::Runtime;

    /// A valid component (one core module, nothing exported) of about 4 MiB of straight-line
    /// arithmetic in 200 functions, which Cranelift takes seconds to compile.
    fn slow_component() -> Vec<u8> {
        fn leb(mut v: usize, out: &mut Vec<u8>) {
            loop {
                let byte = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    out.push(byte);
                    return;
                }
                out.push(byte | 0x80);
            }
        }
        fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
            out.push(id);
            leb(body.len(), out);
            out.extend_from_slice(body);
        }
        const FUNCS: usize = 200;
        // Three i32 locals beside the i32 parameter; then, 2,000 times,
        // `local.set c (i32.add (i32.mul (local.get a) (i32.const k)) (local.get b))`.
        let mut body = vec![1, 3, 0x7f];
        for j in 0..2000usize {
            let [a, b, c, k] = [j % 4, (j + 1) % 4, (j + 2) % 4, j % 64].map(|v| v as u8);
            body.extend([0x20, a, 0x41, k, 0x6c, 0x20, b, 0x6a, 0x21, c]);
        }
        body.extend([0x20, 1, 0x0b]);
        let mut code = Vec::new();
        leb(FUNCS, &mut code);
        for _ in 0..FUNCS {
            leb(body.len(), &mut code);
            code.extend_from_slice(&body);
        }
        let mut functions = Vec::new();
        leb(FUNCS, &mut functions);
        functions.extend(std::iter::repeat_n(0, FUNCS));
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        section(1, &[1, 0x60, 1, 0x7f, 1, 0x7f], &mut module);
        section(3, &functions, &mut module);
        section(10, &code, &mut module);
        let mut component = b"\0asm\x0d\0\x01\0".to_vec();
        section(1, &module, &mut component);
        component
    }

    fn slow_plugin_file(dir: &tempfile::TempDir) -> PluginRef {
        let path = dir.path().join("slow.wasm");
        std::fs::write(&path, slow_component()).unwrap();
        PluginRef::File(path)
    }

    #[test]
    fn garbage_and_core_modules_are_told_apart_from_components() {
        assert!(matches!(check_header("x", b"hello world"), Err(LoadError::NotWasm { .. })));
        assert!(matches!(check_header("x", b"\0asm\x01\0\0\0rest"), Err(LoadError::CoreModule { .. })));
        assert!(check_header("x", b"\0asm\x0d\0\x01\0rest").is_ok());
    }

    /// On the current-thread runtime of one-shot commands, the one thread that runs every
    /// check keeps running while a plugin compiles for seconds.
    #[tokio::test]
    async fn a_slow_compile_leaves_the_async_thread_free() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = slow_plugin_file(&dir);
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let ticks = Arc::new(AtomicU64::new(0));
        let ticker = tokio::spawn({
            let ticks = Arc::clone(&ticks);
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let started = std::time::Instant::now();
        let outcome = runtime.load(&plugin).await;
        let took = started.elapsed();
        ticker.abort();
        // It compiled: only then is a component found to export nothing.
        assert!(matches!(outcome, Err(LoadError::NotAPlugin { .. })), "{outcome:?}");
        let ticks = ticks.load(Ordering::Relaxed);
        let possible = took.as_millis() as u64 / 10;
        eprintln!("compiled in {took:?}; the ticker ticked {ticks} of {possible} times");
        assert!(ticks * 4 >= possible, "the ticker ticked {ticks} times in {took:?} (up to {possible})");
    }

    #[tokio::test]
    async fn a_compile_past_its_limit_fails_the_load_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = slow_plugin_file(&dir);
        let engine = crate::runtime::Engine::new().unwrap();
        let mut compiler = Compiler::new(engine.wasmtime(), ComponentCache::disabled());
        compiler.limit = Duration::from_millis(50);
        let started = std::time::Instant::now();
        let err = compiler.compile(&plugin).await.err().expect("the compile outlives 50ms");
        assert!(
            matches!(err, LoadError::CompileTimeout { waited_for_others: false, .. }),
            "{err:?} after {:?}",
            started.elapsed()
        );
        let message = err.to_string();
        assert!(message.starts_with(&format!("{plugin} did not compile within 50ms")), "{message}");
        assert!(message.contains("in the background"), "{message}");
    }

    #[tokio::test]
    async fn an_oversize_component_file_is_refused_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.wasm");
        // Sparse: the size is there, the bytes are not.
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(registry::MAX_COMPONENT_BYTES + 1).unwrap();
        let runtime = Runtime::new(ComponentCache::disabled()).unwrap();
        let err = runtime.load(&PluginRef::File(path.clone())).await.unwrap_err();
        assert!(matches!(err, LoadError::TooLarge { size, .. } if size == (64 << 20) + 1), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "{} is 67108865 bytes, larger than the 64 MiB a plugin file may be; it was not loaded \
                 (is it the right file?)",
                path.display()
            )
        );
        let err = runtime.load_notifier(&PluginRef::File(path)).await.unwrap_err();
        assert!(matches!(err, LoadError::TooLarge { .. }), "{err:?}");
    }
}
