//! The on-disk cache of compiled modules.
//!
//! A cache entry is native code that runs outside the sandbox, so the cache
//! is trusted only when nobody but the user can write it (see "Compiled-code
//! cache" in `plugins/ABI.md`):
//! - the directory must be owned by the user, not writable by group or
//!   others, and outside every scanned path; it is created `0700`;
//! - an entry must be a regular file owned by the user, not writable by
//!   group or others; it is created `0600`;
//! - an entry is bound to its module: its name and its header hold the
//!   SHA-256 of the wasm bytes and of the engine's configuration, and a
//!   trailer the SHA-256 of the rest. Any mismatch is a cache miss (the
//!   module is compiled again), never a load.

use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
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

/// The first bytes of an entry (then the version of this layout).
const MAGIC: &[u8; 16] = b"ml-audit-cwasm1\n";

/// The largest entry read (compiled code of a module at the size cap is a
/// few times the module).
const MAX_ENTRY: u64 = 512 << 20;

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

/// What binds an entry to its module and engine: the SHA-256 of the wasm
/// bytes and of the engine's compatibility hash (wasmtime version and
/// configuration).
pub(crate) struct Key {
    module: [u8; 32],
    engine: [u8; 32],
}

impl Key {
    pub(crate) fn new(engine: &Engine, wasm: &[u8]) -> Key {
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        Key {
            module: Sha256::digest(wasm).into(),
            engine: h.0.finalize().into(),
        }
    }

    /// The file name of the entry.
    pub(crate) fn file_name(&self) -> String {
        format!("{}-{}.cwasm", hex(&self.module), hex(&self.engine[..8]))
    }
}

/// The cache directory of a run, once checked.
#[derive(Clone, Debug)]
pub(crate) enum CacheDir {
    /// No cache asked for.
    Off,
    /// Safe to use.
    Usable(PathBuf),
    /// Refused: the directory and why (modules are compiled every time).
    Refused(PathBuf, String),
}

impl CacheDir {
    /// Checks (and creates) the directory of `mode`; `untrusted` are the
    /// scanned paths, inside which a cache is refused.
    pub(crate) fn open(mode: &CacheMode, untrusted: &[PathBuf]) -> CacheDir {
        let Some(dir) = mode.dir() else {
            return CacheDir::Off;
        };
        match check_dir(&dir, untrusted) {
            Ok(()) => CacheDir::Usable(dir),
            Err(why) => CacheDir::Refused(dir, why),
        }
    }
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Who may write a file or directory: refused when another user owns it or
/// when group or others may write it.
#[cfg(unix)]
fn check_owner(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let me = euid();
    if meta.uid() != me {
        return Err(format!(
            "it is owned by uid {}, not by this user (uid {me})",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "it is writable by {} (mode {mode:04o}); `chmod go-w` it, or delete it",
            match mode & 0o022 {
                0o020 => "its group",
                0o002 => "every user",
                _ => "its group and every user",
            }
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner(_meta: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

fn check_dir(dir: &Path, untrusted: &[PathBuf]) -> Result<(), String> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .map_err(|e| format!("it cannot be created: {e}"))?;
    let meta = std::fs::metadata(dir).map_err(|e| format!("it cannot be read: {e}"))?;
    if !meta.is_dir() {
        return Err("it is not a directory".into());
    }
    check_owner(&meta)?;
    let real = std::fs::canonicalize(dir).map_err(|e| format!("it cannot be resolved: {e}"))?;
    for p in untrusted {
        if let Ok(scanned) = std::fs::canonicalize(p) {
            if real.starts_with(&scanned) {
                return Err(format!(
                    "it lies inside the scanned path {}, whose content is not trusted",
                    p.display()
                ));
            }
        }
    }
    Ok(())
}

/// What happened to a module's cache entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheStatus {
    /// Loaded from the cache.
    Hit,
    /// Compiled, and written to the cache.
    Stored,
    /// Compiled; the cache could not be written, or an entry was refused
    /// (the reason).
    NotStored(String),
    /// Compiled; no cache, or the cache directory was refused.
    Off,
}

/// Loads a module from its entry. `Ok(None)` is a miss (no entry, or one
/// that is not this module's); `Err` an entry refused for its owner or
/// mode (then also a miss).
pub(crate) fn lookup(engine: &Engine, dir: &Path, key: &Key) -> Result<Option<Module>, String> {
    let path = dir.join(key.file_name());
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let Ok(file) = opts.open(&path) else {
        return Ok(None);
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("entry {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("entry {} is not a regular file", path.display()));
    }
    check_owner(&meta).map_err(|e| format!("entry {}: {e}", path.display()))?;
    if meta.len() > MAX_ENTRY {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    if file.take(MAX_ENTRY).read_to_end(&mut bytes).is_err() {
        return Ok(None);
    }
    Ok(parse(&bytes, key).and_then(|body| deserialize(engine, body)))
}

/// The compiled code of an entry, if the entry is whole and is this key's.
fn parse<'a>(bytes: &'a [u8], key: &Key) -> Option<&'a [u8]> {
    let head = MAGIC.len() + 64;
    if bytes.len() < head + 32 {
        return None;
    }
    let (signed, digest) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(signed).as_slice() != digest
        || &signed[..MAGIC.len()] != MAGIC
        || signed[MAGIC.len()..MAGIC.len() + 32] != key.module
        || signed[MAGIC.len() + 32..head] != key.engine
    {
        return None;
    }
    Some(&signed[head..])
}

/// Code that this process compiled (or an entry checked by [`parse`]) as a
/// module.
#[allow(unsafe_code)]
pub(crate) fn deserialize(engine: &Engine, body: &[u8]) -> Option<Module> {
    // SAFETY: `body` is what `Engine::precompile_module` produced, in this
    // process or in an entry that only this user can write (checked in
    // `lookup` and `CacheDir::open`) whose header names this module and
    // this engine's configuration and whose SHA-256 matches; wasmtime
    // checks the header, version and configuration again and refuses a
    // mismatch.
    unsafe { Module::deserialize(engine, body) }.ok()
}

/// Writes an entry: created `0600` under a temporary name, then renamed
/// over any old one.
pub(crate) fn store(dir: &Path, key: &Key, compiled: &[u8]) -> std::io::Result<()> {
    let mut data = Vec::with_capacity(MAGIC.len() + 64 + compiled.len() + 32);
    data.extend_from_slice(MAGIC);
    data.extend_from_slice(&key.module);
    data.extend_from_slice(&key.engine);
    data.extend_from_slice(compiled);
    let digest = Sha256::digest(&data);
    data.extend_from_slice(&digest);
    let name = key.file_name();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let written = opts.open(&tmp).and_then(|mut f| f.write_all(&data));
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, dir.join(&name))) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_bound_to_its_module_and_engine() {
        let engine = Engine::default();
        let a = Key::new(&engine, b"module a");
        let b = Key::new(&engine, b"module b");
        let mut entry = MAGIC.to_vec();
        entry.extend_from_slice(&a.module);
        entry.extend_from_slice(&a.engine);
        entry.extend_from_slice(b"code");
        let d = Sha256::digest(&entry);
        entry.extend_from_slice(&d);
        assert_eq!(parse(&entry, &a), Some(&b"code"[..]));
        // Another module's entry under this name: a miss.
        assert_eq!(parse(&entry, &b), None);
        // One byte changed: a miss.
        let mut bad = entry.clone();
        bad[MAGIC.len() + 64] ^= 1;
        assert_eq!(parse(&bad, &a), None);
        assert_eq!(parse(&entry[..40], &a), None);
    }
}
