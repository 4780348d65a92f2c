//! The files a rendering reads, read and parsed once per load: a scan
//! renders every kustomization root of a repository, and roots share their
//! bases. A file is known by its device and inode, so `overlay/../base/x`
//! and `base/x` are one file, and a symbolic link is the file it names.
//!
//! The cache is installed for the duration of a closure ([`with`]) on the
//! calling thread; [`super::read_docs`] consults it, and reads and parses
//! uncached when none is installed (a single `render` call).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::node::Node;
use crate::yaml::{parse_stream, Limits};

/// One file as read: its text (newlines normalised, as the loader keeps
/// them) and its non-null documents, or why not.
pub(crate) struct Entry {
    /// The text, or why it could not be read.
    pub(crate) text: Result<String, String>,
    /// The parse as the loader makes it (every document, with its
    /// warnings, and the error), for a file then read as a plain file.
    pub(crate) stream: Option<(Vec<crate::yaml::Document>, Option<crate::yaml::SyntaxError>)>,
}

/// Files read during one load, by (device, inode), and the real paths of
/// the paths asked for.
#[derive(Default)]
pub(crate) struct Cache {
    files: Mutex<HashMap<(u64, u64), Arc<Entry>>>,
    real: Mutex<HashMap<std::path::PathBuf, std::path::PathBuf>>,
    /// The directories (real paths) a scan's rendering may read under:
    /// the repositories of the inputs. Empty: anywhere (`render`).
    roots: Vec<std::path::PathBuf>,
}

impl Cache {
    /// A cache whose renderings read only under `roots` (real paths).
    pub(crate) fn confined_to(roots: Vec<std::path::PathBuf>) -> Cache {
        Cache {
            roots,
            ..Cache::default()
        }
    }
}

/// Whether `path` exists outside the directories the installed cache
/// confines renderings to: a kustomization of the audited repository
/// naming `/etc` or another checkout on the machine must not choose what
/// is read.
pub(crate) fn outside(path: &Path) -> bool {
    let Some(cache) = CURRENT.with(|c| c.borrow().clone()) else {
        return false;
    };
    if cache.roots.is_empty() {
        return false;
    }
    match canonical(path) {
        Ok(real) => !cache.roots.iter().any(|r| real.starts_with(r)),
        Err(_) => false,
    }
}

/// `path.canonicalize()`, remembered for the load when a cache is
/// installed (a kustomization directory is resolved once, not once per
/// file it names). Failures are not remembered.
pub(crate) fn canonical(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let Some(cache) = CURRENT.with(|c| c.borrow().clone()) else {
        return path.canonicalize();
    };
    if let Some(r) = cache
        .real
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(path)
    {
        return Ok(r.clone());
    }
    let real = path.canonicalize()?;
    cache
        .real
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_path_buf(), real.clone());
    Ok(real)
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Cache>>> = const { RefCell::new(None) };
    /// Kustomizations built and resources read by the rendering under way
    /// on this thread.
    static SPENT: std::cell::Cell<(u32, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// Kustomization builds one rendering may do: a base reached through many
/// paths (a diamond of bases, each level with its own prefix) is built once
/// per path, so a hostile repository could ask for 2^30 builds.
pub(crate) const MAX_BUILDS: u32 = 4_096;
/// Resources one rendering may read (each copy of a base counts).
pub(crate) const MAX_RESOURCES: u64 = 1_000_000;

/// Whether a cache is installed on this thread.
pub(crate) fn installed() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// Starts the budget of a rendering.
pub(crate) fn start_rendering() {
    SPENT.with(|s| s.set((0, 0)));
}

/// Counts one kustomization build; `false` past [`MAX_BUILDS`].
pub(crate) fn spend_build() -> bool {
    SPENT.with(|s| {
        let (b, r) = s.get();
        s.set((b + 1, r));
        b < MAX_BUILDS
    })
}

/// Counts `n` resources read; `false` past [`MAX_RESOURCES`].
pub(crate) fn spend_resources(n: usize) -> bool {
    SPENT.with(|s| {
        let (b, r) = s.get();
        let r = r.saturating_add(n as u64);
        s.set((b, r));
        r <= MAX_RESOURCES
    })
}

/// Runs `f` with `cache` installed on this thread.
pub(crate) fn with<R>(cache: &Arc<Cache>, f: impl FnOnce() -> R) -> R {
    let old = CURRENT.with(|c| c.replace(Some(cache.clone())));
    let out = f();
    CURRENT.with(|c| *c.borrow_mut() = old);
    out
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn read(path: &Path) -> Entry {
    let text = crate::load::read_bounded(path, crate::load::MAX_FILE_BYTES)
        .and_then(|b| crate::load::decode(&path.to_string_lossy(), b).map_err(|d| d.message))
        .map(crate::load::normalize_newlines);
    let stream = text
        .as_ref()
        .ok()
        .map(|t| parse_stream(t, Limits::default()));
    Entry { text, stream }
}

impl Entry {
    /// The non-null documents' roots, or the line and message of why there
    /// are none (unreadable, or invalid YAML).
    pub(crate) fn roots(&self) -> Result<Vec<&Node>, (u32, String)> {
        match (&self.text, &self.stream) {
            (Err(e), _) => Err((0, e.clone())),
            (_, Some((_, Some(e)))) => Err((e.line, e.message.clone())),
            (_, Some((docs, None))) => Ok(docs
                .iter()
                .map(|d| &d.root)
                .filter(|n| !n.is_null())
                .collect()),
            (Ok(_), None) => Ok(Vec::new()),
        }
    }
}

/// The file at `path`: from the installed cache (read into it on first
/// use), or read now when no cache is installed.
pub(crate) fn get(path: &Path) -> Arc<Entry> {
    let cache = CURRENT.with(|c| c.borrow().clone());
    let (Some(cache), Some(id)) = (cache, identity(path)) else {
        return Arc::new(read(path));
    };
    if let Some(e) = cache
        .files
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
    {
        return e.clone();
    }
    // Parsed outside the lock: two threads may parse one file at once, and
    // the first to finish is kept.
    let entry = Arc::new(read(path));
    let mut files = cache.files.lock().unwrap_or_else(|e| e.into_inner());
    let kept = files.entry(id).or_insert(entry).clone();
    kept
}

/// The text of a file the installed cache (or `cache`) has read, if any.
pub(crate) fn text_of(cache: &Cache, path: &Path) -> Option<Arc<Entry>> {
    let id = identity(path)?;
    let files = cache.files.lock().unwrap_or_else(|e| e.into_inner());
    let found = files.get(&id).cloned();
    found
}
