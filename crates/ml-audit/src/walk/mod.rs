//! Which files a directory holds to audit. The command line chooses, not
//! the content of the tree:
//!
//! - In a git work tree, a file is audited when git tracks it (read from
//!   the index, in process), or when it is untracked and git does not ignore
//!   it (`.gitignore` files and `.git/info/exclude`, applied to untracked
//!   files only, as git applies them). A tracked file is audited even when a
//!   `.gitignore` names it: a pull request cannot hide a manifest it adds
//!   by adding a pattern too.
//! - Outside a git work tree, every file under the directory is audited:
//!   `.gitignore` means nothing there, and `.ignore` never does (neither
//!   `kubectl apply` nor Argo CD reads it).
//! - `no_ignore` audits every file under the directory, git or not.
//! - Hidden files and directories are walked (`kubectl apply -R` and Argo
//!   CD read them); `.git` never is. Symbolic links are not followed (a link
//!   could lead out of the tree, to a secret or a device).
//!
//! Every file left out is counted, by reason ([`Skipped`]).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Serialize;

use crate::load::{Diagnostic, Level};

mod index;

pub use index::read_index;

/// Files (and directories) a walk left out, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// Untracked files, and untracked directories (counted once each, not
    /// walked), that git ignores.
    pub ignored_by_git: usize,
    /// Hidden files that were read and held no Kubernetes object (CI
    /// workflows, tool configs): set aside without a diagnostic each.
    pub hidden: usize,
    /// Files whose names do not end in `.yaml`, `.yml` or `.json`.
    pub not_yaml_or_json: usize,
    /// Files the config's `exclude` names.
    pub excluded_by_config: usize,
    /// Symbolic links (not followed).
    pub symlinks: usize,
    /// FIFOs, sockets and devices.
    pub not_regular_files: usize,
    /// Files of units whose role the config's `units: {roles}` does not
    /// select (an `examples/` folder when only `deploy` is).
    pub role_not_selected: usize,
}

impl Skipped {
    /// How many in all.
    pub fn total(&self) -> usize {
        self.ignored_by_git
            + self.hidden
            + self.not_yaml_or_json
            + self.excluded_by_config
            + self.symlinks
            + self.not_regular_files
            + self.role_not_selected
    }

    /// Adds another walk's counts.
    pub fn add(&mut self, o: &Skipped) {
        self.ignored_by_git += o.ignored_by_git;
        self.hidden += o.hidden;
        self.not_yaml_or_json += o.not_yaml_or_json;
        self.excluded_by_config += o.excluded_by_config;
        self.symlinks += o.symlinks;
        self.not_regular_files += o.not_regular_files;
        self.role_not_selected += o.role_not_selected;
    }
}

/// A file a walk found: its path, its inode from the directory listing,
/// and whether a component below the walked directory is hidden.
#[derive(Debug)]
pub(crate) struct WalkedFile {
    pub path: PathBuf,
    pub ino: Option<u64>,
    pub hidden: bool,
}

/// What a walk found.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub files: Vec<WalkedFile>,
    pub errors: Vec<Diagnostic>,
    pub skipped: Skipped,
}

/// How a walk chooses.
pub(crate) struct WalkOptions<'a> {
    /// Audit everything under the directory.
    pub no_ignore: bool,
    /// Path fragments the config excludes.
    pub exclude: &'a [String],
    /// Whether a file name is a manifest's.
    pub is_manifest: fn(&Path) -> bool,
}

/// A git repository the walk is inside.
struct Repo {
    /// Tracked paths, relative to the work tree's root, `/`-separated.
    tracked: rustc_hash::FxHashSet<Vec<u8>>,
    /// Every directory that holds a tracked path (`a`, `a/b` for `a/b/c`),
    /// and the directories a sparse index keeps whole.
    tracked_dirs: rustc_hash::FxHashSet<Vec<u8>>,
    /// Directories a sparse index records as one entry: everything under
    /// them is tracked.
    sparse_dirs: Vec<Vec<u8>>,
    /// `info/exclude`, rooted at the work tree.
    exclude: Option<Gitignore>,
}

impl Repo {
    fn is_tracked(&self, rel: &[u8]) -> bool {
        self.tracked.contains(rel)
            || self
                .sparse_dirs
                .iter()
                .any(|d| rel.starts_with(d) && rel.get(d.len()) == Some(&b'/'))
    }

    fn holds_tracked(&self, rel_dir: &[u8]) -> bool {
        self.tracked_dirs.contains(rel_dir) || self.is_tracked(rel_dir)
    }
}

/// The `.gitignore` files from the work tree's root down to a directory,
/// innermost last, each with its directory relative to the root.
#[derive(Clone, Default)]
struct Chain(Vec<(Arc<Vec<u8>>, Arc<Gitignore>)>);

/// Where a directory stands in the walk.
#[derive(Clone)]
struct DirState {
    repo: Option<Arc<Repo>>,
    /// The directory relative to the work tree's root (`/`-separated, no
    /// trailing slash; empty at the root).
    rel: Vec<u8>,
    chain: Chain,
    /// Inside a directory git ignores (walked only for its tracked files).
    in_ignored: bool,
    /// Inside a hidden directory (below the walked one).
    hidden: bool,
}

#[cfg(unix)]
fn os_bytes(s: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(s.as_bytes())
}

#[cfg(not(unix))]
fn os_bytes(s: &OsStr) -> std::borrow::Cow<'_, [u8]> {
    match s.to_string_lossy() {
        std::borrow::Cow::Borrowed(b) => std::borrow::Cow::Borrowed(b.as_bytes()),
        std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o.into_bytes()),
    }
}

#[cfg(unix)]
fn bytes_path(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn bytes_path(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

fn join_rel(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(dir.len() + 1 + name.len());
    out.extend_from_slice(dir);
    if !dir.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

/// The largest `.gitignore` read (git itself ignores larger ones).
const MAX_IGNORE_FILE: u64 = 100 * 1024 * 1024;

/// A directory's `.gitignore`, if it has one that is a regular file (git
/// does not follow a symbolic link there either).
fn read_gitignore(dir: &Path, errors: &mut Vec<Diagnostic>) -> Option<Gitignore> {
    let path = dir.join(".gitignore");
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let bytes = match crate::load::read_bounded(&path, MAX_IGNORE_FILE) {
        Ok(b) => b,
        Err(e) => {
            errors.push(warning(&path, format!("{e}; its patterns are not applied")));
            return None;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    patterns(&text, &path)
}

fn patterns(text: &str, from: &Path) -> Option<Gitignore> {
    // Rooted at `.`: matched against paths relative to its directory.
    let mut b = GitignoreBuilder::new(".");
    for line in text.lines() {
        // A pattern that does not parse is left out: fewer files ignored,
        // never fewer audited.
        let _ = b.add_line(Some(from.to_path_buf()), line);
    }
    let gi = b.build().ok()?;
    (!gi.is_empty()).then_some(gi)
}

fn warning(path: &Path, message: String) -> Diagnostic {
    Diagnostic {
        level: Level::Warning,
        file: crate::load::display_path(path),
        line: 0,
        col: 0,
        message,
    }
}

/// Whether git ignores an untracked path (relative to the work tree).
fn git_ignores(repo: &Repo, chain: &Chain, rel: &[u8], is_dir: bool) -> bool {
    use ignore::Match;
    for (dir, gi) in chain.0.iter().rev() {
        let sub = if dir.is_empty() {
            rel
        } else {
            match rel.strip_prefix(dir.as_slice()) {
                Some(r) => r.strip_prefix(b"/").unwrap_or(r),
                None => continue,
            }
        };
        match gi.matched(bytes_path(sub), is_dir) {
            Match::Ignore(_) => return true,
            Match::Whitelist(_) => return false,
            Match::None => {}
        }
    }
    repo.exclude
        .as_ref()
        .is_some_and(|gi| gi.matched(bytes_path(rel), is_dir).is_ignore())
}

/// Finds the git work tree `dir` is in, and reads its index. `Ok(None)`
/// outside a work tree; an error (with the file it concerns) where the
/// repository cannot be read, so that the caller audits everything.
fn discover(dir: &Path) -> Result<Option<(PathBuf, Repo)>, (PathBuf, String)> {
    let Ok(abs) = std::fs::canonicalize(dir) else {
        return Ok(None);
    };
    for root in abs.ancestors() {
        let dot_git = root.join(".git");
        let Ok(meta) = std::fs::symlink_metadata(&dot_git) else {
            continue;
        };
        let git_dir = if meta.is_dir() {
            dot_git.clone()
        } else if meta.is_file() {
            // A linked work tree or a submodule: `gitdir: <path>`.
            let text =
                crate::load::read_bounded(&dot_git, 64 * 1024).map_err(|e| (dot_git.clone(), e))?;
            let text = String::from_utf8_lossy(&text);
            let Some(target) = text.trim().strip_prefix("gitdir:") else {
                return Err((dot_git, "not a `gitdir:` file".into()));
            };
            root.join(target.trim())
        } else {
            continue;
        };
        return open(&git_dir).map(|r| Some((root.to_path_buf(), r)));
    }
    Ok(None)
}

fn open(git_dir: &Path) -> Result<Repo, (PathBuf, String)> {
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(c) => git_dir.join(c.trim()),
        Err(_) => git_dir.to_path_buf(),
    };
    let sha256 = std::fs::read_to_string(common.join("config")).is_ok_and(|c| {
        c.lines().any(|l| {
            let l = l.trim().to_ascii_lowercase();
            l.starts_with("objectformat") && l.ends_with("sha256")
        })
    });
    let index_path = git_dir.join("index");
    let entries = match crate::load::read_bounded(&index_path, 1024 * 1024 * 1024) {
        Ok(bytes) => read_index(&bytes, if sha256 { 32 } else { 20 })
            .map_err(|e| (index_path.clone(), e.to_string()))?,
        // A repository with nothing added yet has no index.
        Err(_) if !index_path.exists() => Vec::new(),
        Err(e) => return Err((index_path, e)),
    };
    let mut repo = Repo {
        tracked: Default::default(),
        tracked_dirs: Default::default(),
        sparse_dirs: Vec::new(),
        exclude: None,
    };
    for e in entries {
        let mut path = e.path;
        if e.directory {
            while path.last() == Some(&b'/') {
                path.pop();
            }
            repo.sparse_dirs.push(path.clone());
        }
        for (i, b) in path.iter().enumerate() {
            if *b == b'/' {
                repo.tracked_dirs.insert(path[..i].to_vec());
            }
        }
        repo.tracked.insert(path);
    }
    let exclude = common.join("info").join("exclude");
    if let Ok(bytes) = crate::load::read_bounded(&exclude, MAX_IGNORE_FILE) {
        repo.exclude = patterns(&String::from_utf8_lossy(&bytes), &exclude);
    }
    Ok(repo)
}

struct Shared<'a> {
    opts: &'a WalkOptions<'a>,
    out: Mutex<Walked>,
}

/// Walks one directory on the current pool's threads.
pub(crate) fn walk(dir: &Path, opts: &WalkOptions<'_>) -> Walked {
    let mut errors = Vec::new();
    let mut state = DirState {
        repo: None,
        rel: Vec::new(),
        chain: Chain::default(),
        in_ignored: false,
        hidden: false,
    };
    if !opts.no_ignore {
        match discover(dir) {
            Ok(None) => {}
            Ok(Some((root, repo))) => {
                // The `.gitignore` files from the root down to `dir`. The
                // directory named on the command line is walked even when
                // git ignores it: the command line chooses.
                let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
                let rel = abs.strip_prefix(&root).unwrap_or(Path::new(""));
                let mut at = root.clone();
                let mut rel_bytes: Vec<u8> = Vec::new();
                for c in rel.components() {
                    if let Some(gi) = read_gitignore(&at, &mut errors) {
                        state
                            .chain
                            .0
                            .push((Arc::new(rel_bytes.clone()), Arc::new(gi)));
                    }
                    at.push(c);
                    rel_bytes = join_rel(&rel_bytes, &os_bytes(c.as_os_str()));
                }
                state.rel = rel_bytes;
                state.repo = Some(Arc::new(repo));
            }
            Err((file, e)) => errors.push(warning(
                &file,
                format!("cannot read the git repository ({e}): every file under {} is audited, none is taken as ignored", crate::load::display_path(dir)),
            )),
        }
    }
    let shared = Shared {
        opts,
        out: Mutex::new(Walked {
            errors,
            ..Walked::default()
        }),
    };
    rayon::scope(|s| visit(s, &shared, dir.to_path_buf(), state, true));
    let mut out = shared.out.into_inner().unwrap_or_else(|e| e.into_inner());
    if out.files.is_empty() && out.skipped.ignored_by_git > 0 {
        // A directory git ignores whole (a home directory's repository that
        // ignores `*`, say) would otherwise pass as an empty, clean audit.
        out.errors.push(warning(
            dir,
            format!(
                "every manifest here is ignored by git ({} skipped): nothing was audited; --no-ignore audits them",
                out.skipped.ignored_by_git
            ),
        ));
    }
    out
}

fn visit<'s>(
    scope: &rayon::Scope<'s>,
    shared: &'s Shared<'s>,
    dir: PathBuf,
    mut state: DirState,
    top: bool,
) {
    let mut local = Walked::default();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => {
            local.errors.push(walk_error(&dir, &e));
            merge(shared, local);
            return;
        }
    };
    // A nested work tree (a submodule): its own index and ignore files.
    if state.repo.is_some() && !top && dir.join(".git").symlink_metadata().is_ok() {
        match discover(&dir) {
            Ok(Some((_, nested))) => {
                state.repo = Some(Arc::new(nested));
                state.rel.clear();
                state.chain = Chain::default();
                state.in_ignored = false;
            }
            Ok(None) => {}
            Err((file, e)) => {
                local.errors.push(warning(
                    &file,
                    format!(
                        "cannot read the git repository ({e}): every file under {} is audited",
                        crate::load::display_path(&dir)
                    ),
                ));
                state.repo = None;
            }
        }
    }
    if state.repo.is_some() {
        if let Some(gi) = read_gitignore(&dir, &mut local.errors) {
            state
                .chain
                .0
                .push((Arc::new(state.rel.clone()), Arc::new(gi)));
        }
    }
    let opts = shared.opts;
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                local.errors.push(walk_error(&dir, &e));
                continue;
            }
        };
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let path = entry.path();
        let Ok(ft) = entry.file_type() else {
            local.errors.push(Diagnostic {
                level: Level::Error,
                file: crate::load::display_path(&path),
                line: 0,
                col: 0,
                message: "cannot read: no file type".into(),
            });
            continue;
        };
        let name_bytes = os_bytes(&name);
        let hidden = state.hidden || name_bytes.first() == Some(&b'.');
        let rel = state
            .repo
            .as_ref()
            .map(|_| join_rel(&state.rel, &name_bytes));
        if ft.is_symlink() {
            local.skipped.symlinks += 1;
        } else if ft.is_dir() {
            let mut in_ignored = state.in_ignored;
            if let (Some(repo), Some(rel)) = (&state.repo, &rel) {
                if !in_ignored && git_ignores(repo, &state.chain, rel, true) {
                    in_ignored = true;
                }
                if in_ignored && !repo.holds_tracked(rel) {
                    local.skipped.ignored_by_git += 1;
                    continue;
                }
            }
            let child = DirState {
                repo: state.repo.clone(),
                rel: rel.unwrap_or_default(),
                chain: state.chain.clone(),
                in_ignored,
                hidden,
            };
            scope.spawn(move |s| visit(s, shared, path, child, false));
        } else if !ft.is_file() {
            local.skipped.not_regular_files += 1;
        } else if !(opts.is_manifest)(&path) {
            local.skipped.not_yaml_or_json += 1;
        } else if !opts.exclude.is_empty() && {
            let shown = path.to_string_lossy();
            opts.exclude.iter().any(|x| shown.contains(x.as_str()))
        } {
            local.skipped.excluded_by_config += 1;
        } else if let (Some(repo), Some(rel)) = (&state.repo, &rel) {
            if repo.is_tracked(rel)
                || !(state.in_ignored || git_ignores(repo, &state.chain, rel, false))
            {
                local.files.push(found(&entry, path, hidden));
            } else {
                local.skipped.ignored_by_git += 1;
            }
        } else {
            local.files.push(found(&entry, path, hidden));
        }
    }
    merge(shared, local);
}

fn found(entry: &std::fs::DirEntry, path: PathBuf, hidden: bool) -> WalkedFile {
    #[cfg(unix)]
    let ino = {
        use std::os::unix::fs::DirEntryExt;
        Some(entry.ino())
    };
    #[cfg(not(unix))]
    let ino = {
        let _ = entry;
        None
    };
    WalkedFile { path, ino, hidden }
}

fn merge(shared: &Shared<'_>, mut local: Walked) {
    let mut out = shared.out.lock().unwrap_or_else(|e| e.into_inner());
    out.files.append(&mut local.files);
    out.errors.append(&mut local.errors);
    out.skipped.add(&local.skipped);
}

/// The error of a directory that cannot be listed (or an entry of it that
/// cannot be read).
fn walk_error(dir: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        file: crate::load::display_path(dir),
        line: 0,
        col: 0,
        message: format!("could not walk directory: {e}"),
    }
}
