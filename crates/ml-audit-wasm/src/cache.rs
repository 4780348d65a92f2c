//! The on-disk cache of compiled modules, keyed by the module's hash and the
//! engine's compatibility hash (wasmtime version and configuration).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// Where compiled modules are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CacheMode {
    /// `$ML_AUDIT_CACHE_DIR`, else `$XDG_CACHE_HOME/ml-audit/wasm`, else
    /// `~/.cache/ml-audit/wasm`.
    #[default]
    Default,
    /// This directory.
    Dir(PathBuf),
    /// No cache: compile every time.
    Off,
}

impl CacheMode {
    /// The directory, if any.
    pub fn dir(&self) -> Option<PathBuf> {
        match self {
            CacheMode::Off => None,
            CacheMode::Dir(d) => Some(d.clone()),
            CacheMode::Default => {
                let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
                if let Some(d) = env("ML_AUDIT_CACHE_DIR") {
                    return Some(PathBuf::from(d));
                }
                let base = env("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
                Some(base.join("ml-audit").join("wasm"))
            }
        }
    }
}

/// Feeds `Hash` output into SHA-256 (stable, unlike `DefaultHasher`).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file of a module for an engine.
pub(crate) fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    let engine_hash = hex(&h.0.finalize()[..8]);
    let module_hash = hex(&Sha256::digest(wasm)[..16]);
    format!("{module_hash}-{engine_hash}.cwasm")
}

/// Whether a module came from the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheStatus {
    /// Loaded from the cache.
    Hit,
    /// Compiled, and written to the cache.
    Stored,
    /// Compiled; the cache could not be written (the reason).
    NotStored(String),
    /// Compiled; no cache.
    Off,
}

/// Loads a module from the cache, or compiles it (and stores it).
pub(crate) fn load_or_compile(
    engine: &Engine,
    wasm: &[u8],
    dir: Option<&Path>,
) -> Result<(Module, CacheStatus), wasmtime::Error> {
    let Some(dir) = dir else {
        return Ok((Module::new(engine, wasm)?, CacheStatus::Off));
    };
    let path = dir.join(key(engine, wasm));
    if let Some(m) = read(engine, &path) {
        return Ok((m, CacheStatus::Hit));
    }
    let compiled = engine.precompile_module(wasm)?;
    let module = deserialize(engine, &compiled).map_or_else(|| Module::new(engine, wasm), Ok)?;
    let status = match write(dir, &path, &compiled) {
        Ok(()) => CacheStatus::Stored,
        Err(e) => CacheStatus::NotStored(e.to_string()),
    };
    Ok((module, status))
}

/// A cache entry: the compiled bytes then their SHA-256, so that a truncated
/// or corrupted file is recompiled rather than trusted.
fn read(engine: &Engine, path: &Path) -> Option<Module> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() < 32 {
        return None;
    }
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body).as_slice() != digest {
        return None;
    }
    deserialize(engine, body)
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, body: &[u8]) -> Option<Module> {
    // SAFETY: `body` is what `Engine::precompile_module` produced for an
    // engine with the same compatibility hash (it is in the file name), and
    // its SHA-256 was checked above; wasmtime checks the header, version and
    // configuration again and refuses a mismatch.
    unsafe { Module::deserialize(engine, body) }.ok()
}

fn write(dir: &Path, path: &Path, compiled: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut data = Vec::with_capacity(compiled.len() + 32);
    data.extend_from_slice(compiled);
    data.extend_from_slice(&Sha256::digest(compiled));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("module"),
        std::process::id()
    ));
    std::fs::write(&tmp, &data)?;
    std::fs::rename(&tmp, path)
}
