//! Reading inputs: files, directories (walked as [`crate::walk`] says:
//! in a git work tree what git tracks and does not ignore, elsewhere
//! everything), standard input and in-memory text, into objects with
//! locations.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::node::{Entry, Node, Value};
use crate::object::{string_map, FileId, Object, SourceFile};
use crate::yaml::{parse_stream, Limits};
use rustc_hash::FxHashMap;

/// Something to read.
#[derive(Clone, Debug)]
pub enum Input {
    /// A file or a directory (walked for `*.yaml`, `*.yml`, `*.json`).
    Path(PathBuf),
    /// Text already in memory, with the name to report it under (`-` for stdin).
    Text {
        /// The name findings use for it.
        name: String,
        /// The text.
        text: String,
    },
}

/// How inputs are read.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Limits on alias expansion and nesting.
    pub limits: Limits,
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Path fragments to leave out while walking directories.
    pub exclude: Vec<String>,
    /// No effect: hidden files and directories are always walked (`.git`
    /// never is). Kept so that callers that set it still build.
    pub hidden: bool,
    /// Audit every file under a directory, whatever git tracks or ignores.
    pub no_ignore: bool,
    /// How kustomizations are read (default: rendered by the core, each
    /// root a unit; see [`Render`]).
    pub render: Render,
    /// Renders a kustomization root that the core cannot build (a remote
    /// base, `helmCharts`, a KRM function): given its directory, returns
    /// the rendered YAML stream or why not. `None`: such a root is an error
    /// and its files are read as plain files.
    pub fallback: Option<Fallback>,
    /// The unit roles to audit (empty: every role). Files of units of
    /// other roles are not read.
    pub roles: Vec<crate::Role>,
}

/// Renders a kustomization directory another way (the user's kubectl):
/// the rendered YAML stream, or why not. See [`LoadOptions::fallback`].
pub type Fallback = fn(&Path) -> Result<String, String>;

/// How kustomizations under the inputs are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Render {
    /// Each kustomization root (one no other kustomization uses) is
    /// rendered by the core, as `kubectl kustomize` would, and its objects
    /// are audited as rendered, every node at the line it is written on (a
    /// base, a patch, the kustomization); the files it uses are never read
    /// on their own. Other files are read as they are.
    #[default]
    Units,
    /// Every file is read as it is written, kustomizations are skipped.
    Off,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            limits: Limits::default(),
            max_file_bytes: MAX_FILE_BYTES,
            exclude: Vec::new(),
            hidden: false,
            no_ignore: false,
            render: Render::default(),
            fallback: None,
            roles: Vec::new(),
        }
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Something was skipped on purpose (a non-Kubernetes document).
    Info,
    /// Worth knowing; the audit is complete.
    Warning,
    /// Input that could not be read or understood: the audit is incomplete.
    Error,
}

/// A problem with the input itself (not a finding about an object).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Diagnostic {
    /// How serious.
    pub level: Level,
    /// The file.
    pub file: String,
    /// 1-based line (0 when the problem is the whole file).
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// What is wrong, and what to do.
    pub message: String,
}

/// What loading produced.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Files read, in a stable order.
    pub files: Vec<SourceFile>,
    /// Objects, in file order then document order.
    pub objects: Vec<Object>,
    /// Problems met on the way.
    pub diagnostics: Vec<Diagnostic>,
    /// What the walks of directories left out, by reason.
    pub skipped: crate::walk::Skipped,
    /// The units the inputs hold (kustomization roots and plain folders),
    /// when a directory holds a kustomization; [`Object::unit`] indexes it.
    pub units: Vec<crate::Unit>,
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Expands inputs to the list of files (and texts) to read, sorted.
/// A file reached twice (named, and again inside a walked directory) is
/// read once, under the name it was first reached by.
fn collect(
    inputs: &[Input],
    opts: &LoadOptions,
    diags: &mut Vec<Diagnostic>,
    skipped: &mut crate::walk::Skipped,
) -> Vec<(Input, bool)> {
    let found = collect_all(inputs, opts, diags, skipped);
    // Two paths are the same file when their device and inode are. The walk
    // already knows each file's inode (from the directory listing), so only
    // the files whose inode is seen twice, and the files named on the
    // command line, are `stat`ed: a `stat` per file was a tenth of a large
    // scan.
    let mut inodes: FxHashMap<u64, u32> = FxHashMap::default();
    for f in &found {
        if let Some(ino) = f.ino {
            *inodes.entry(ino).or_default() += 1;
        }
    }
    let found: Vec<Found> = found
        .into_par_iter()
        .map(|mut f| {
            if let (Input::Path(p), None) = (&f.input, &f.key) {
                if f.ino.is_none_or(|ino| inodes[&ino] > 1) {
                    f.key = Some(file_key(p));
                }
            }
            f
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    found
        .into_iter()
        .filter(|f| f.key.as_ref().is_none_or(|k| seen.insert(k.clone())))
        .map(|f| (f.input, f.hidden))
        .collect()
}

/// An input to read, with its inode where the directory listing gave it,
/// and its full key where it was `stat`ed (named files are).
struct Found {
    input: Input,
    ino: Option<u64>,
    key: Option<FileKey>,
    /// Found in a walk under a hidden name.
    hidden: bool,
}

/// What identifies a file whatever the path it is reached by.
#[derive(Clone, PartialEq, Eq, Hash)]
enum FileKey {
    /// Device and inode.
    Inode(u64, u64),
    /// The canonical path, where there is no inode (or no metadata).
    Path(PathBuf),
}

fn file_key(p: &Path) -> FileKey {
    #[cfg(unix)]
    if let Ok(m) = std::fs::metadata(p) {
        use std::os::unix::fs::MetadataExt;
        return FileKey::Inode(m.dev(), m.ino());
    }
    FileKey::Path(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
}

fn collect_all(
    inputs: &[Input],
    opts: &LoadOptions,
    diags: &mut Vec<Diagnostic>,
    skipped: &mut crate::walk::Skipped,
) -> Vec<Found> {
    let mut out = Vec::new();
    let walk_opts = crate::walk::WalkOptions {
        no_ignore: opts.no_ignore,
        exclude: &opts.exclude,
        is_manifest,
    };
    for input in inputs {
        match input {
            Input::Text { .. } => out.push(Found {
                input: input.clone(),
                ino: None,
                key: None,
                hidden: false,
            }),
            Input::Path(p) if p.is_dir() => {
                let walked = crate::walk::walk(p, &walk_opts);
                let found = sort_paths(walked.files);
                let mut errors = walked.errors;
                // Errors in path order, whatever thread met them first.
                errors.sort();
                diags.extend(errors);
                skipped.add(&walked.skipped);
                out.extend(found.into_iter().map(|f| Found {
                    input: Input::Path(f.path),
                    ino: f.ino,
                    key: None,
                    hidden: f.hidden,
                }));
            }
            Input::Path(p) => {
                let key = file_key(p);
                out.push(Found {
                    input: Input::Path(p.clone()),
                    ino: match key {
                        FileKey::Inode(_, ino) => Some(ino),
                        FileKey::Path(_) => None,
                    },
                    key: Some(key),
                    hidden: false,
                })
            }
        }
    }
    out
}

/// Sorts a walk's files in `Path` order (component by component).
/// Comparing `Path`s parses both every time (a seventh of a second for
/// 60,000 files); each path's components, joined by NUL (which sorts
/// before every other byte), are the same order as bytes.
fn sort_paths(found: Vec<WalkedFile>) -> Vec<WalkedFile> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut keyed: Vec<(Vec<u8>, WalkedFile)> = found
            .into_par_iter()
            .map(|f| {
                let mut key = Vec::with_capacity(f.path.as_os_str().len() + 8);
                for c in f.path.components() {
                    key.extend_from_slice(c.as_os_str().as_bytes());
                    key.push(0);
                }
                (key, f)
            })
            .collect();
        keyed.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        keyed.into_iter().map(|(_, f)| f).collect()
    }
    #[cfg(not(unix))]
    {
        let mut found = found;
        found.par_sort_unstable_by(|a, b| a.path.cmp(&b.path));
        found
    }
}

use crate::walk::WalkedFile;

/// A path as findings and diagnostics name it. A UTF-8 path without a
/// backslash is shown as it is; any other is escaped so that no two paths
/// share a name: each byte that is not UTF-8 as `\xNN`, a backslash as
/// `\\`. (Shown lossily, `a<FF>.yaml` and `a<FE>.yaml` were both
/// `a\u{fffd}.yaml`, and a suppression comment in one covered the other's
/// findings.)
pub fn display_path(p: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = p.as_os_str().as_bytes();
        if let Ok(s) = std::str::from_utf8(bytes) {
            if !s.contains('\\') {
                return s.to_owned();
            }
        }
        let mut out = String::with_capacity(bytes.len() + 8);
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c == '\\' {
                    out.push_str("\\\\");
                } else {
                    out.push(c);
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        p.to_str()
            .map_or_else(|| p.display().to_string(), str::to_owned)
    }
}

pub(crate) fn read(input: &Input, opts: &LoadOptions) -> Result<(String, String), Diagnostic> {
    match input {
        Input::Text { name, text } => Ok((name.clone(), normalize_newlines(text.clone()))),
        Input::Path(p) => {
            let name = display_path(p);
            let whole = |message: String| Diagnostic {
                level: Level::Error,
                file: name.clone(),
                line: 0,
                col: 0,
                message,
            };
            let cannot = |e: std::io::Error| whole(format!("cannot read: {e}"));
            // One open and one `fstat`: the size checked is the size of the
            // file read, and it sizes the buffer.
            let mut file = std::fs::File::open(p).map_err(cannot)?;
            let meta = file.metadata().map_err(cannot)?;
            let len = meta.len();
            if len > opts.max_file_bytes {
                return Err(whole(format!(
                    "file is {} MB, larger than the {} MB limit: not read",
                    len / 1_000_000,
                    opts.max_file_bytes / 1_000_000
                )));
            }
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
            // A regular file is read up to the size `fstat` gave (what it
            // holds when the scan reaches it), so that no second `read` is
            // needed to find its end: one system call less per file.
            // Anything else (a pipe from `<(helm template ...)`, a `/proc`
            // file that says 0 bytes) is read to its end, and one that grows
            // while it is read stops at the limit.
            let limit = if meta.is_file() && len > 0 {
                len
            } else {
                opts.max_file_bytes.saturating_add(1)
            };
            std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, limit), &mut bytes)
                .map_err(cannot)?;
            if bytes.len() as u64 > opts.max_file_bytes {
                return Err(whole(format!(
                    "file grew past the {} MB limit while it was read: not read",
                    opts.max_file_bytes / 1_000_000
                )));
            }
            let text = decode(&name, bytes)?;
            Ok((name, text))
        }
    }
}

/// The largest file read by default: manifests, and the files named beside
/// them (a baseline).
pub const MAX_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// Reads a whole regular file of at most `max` bytes. Anything else is
/// refused without reading it: a FIFO (opened without blocking, so that a
/// pipe with no writer does not hang the run), a device such as
/// `/dev/zero` (which never ends), a directory; and so is a file larger
/// than `max`, or one that grows past it while it is read.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let mut file = open.open(path).map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        let what = file_type_name(&meta.file_type());
        return Err(format!("{what}, not a regular file: refused"));
    }
    if meta.len() > max {
        return Err(format!(
            "file is {} MB, larger than the {} MB limit: not read",
            meta.len() / 1_000_000,
            max / 1_000_000
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut file, max.saturating_add(1)),
        &mut bytes,
    )
    .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "file grew past the {} MB limit while it was read: not read",
            max / 1_000_000
        ));
    }
    Ok(bytes)
}

/// What a file that is not a regular file is, for messages.
fn file_type_name(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// YAML counts `\r\n`, `\n` and a lone `\r` as line breaks: the text is
/// kept with `\n` only, so the lines findings name are the lines every
/// reader of the text (and the text output's snippets) counts.
pub fn normalize_newlines(text: String) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    }
}

/// Bytes to text: binary files and invalid UTF-8 are errors with a line.
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    let at = |offset: usize, message: String| {
        let line = bytes[..offset].iter().filter(|b| **b == b'\n').count() as u32 + 1;
        let col = (offset
            - bytes[..offset]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)) as u32
            + 1;
        Diagnostic {
            level: Level::Error,
            file: name.to_string(),
            line,
            col,
            message,
        }
    };
    let head = &bytes[..bytes.len().min(8192)];
    // Looked for with `contains` first: it is vectorized, `position` is not.
    if head.contains(&0) {
        let nul = head.iter().position(|b| *b == 0).unwrap_or(0);
        return Err(at(nul, "binary file (NUL byte): not a manifest".into()));
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..3);
            }
            Ok(normalize_newlines(s))
        }
        Err(e) => {
            let off = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let line = bytes[..off].iter().filter(|b| **b == b'\n').count() as u32 + 1;
            Err(Diagnostic {
                level: Level::Error,
                file: name.to_string(),
                line,
                col: 0,
                message: "invalid UTF-8: manifests must be UTF-8 text".into(),
            })
        }
    }
}

fn looks_like_helm(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim_start();
        t.starts_with("{{") || t.starts_with("- {{") || t.contains(": {{")
    })
}

/// Diagnostics past this many of one kind in one file are counted, not
/// listed: a million documents that are not Kubernetes objects give five
/// diagnostics and a count, not a million diagnostics.
pub const KEPT_PER_KIND: usize = crate::yaml::KEPT_WARNINGS;

/// Kinds of diagnostics that repeat within a file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    DuplicateKey,
    NotAnObject,
    NotAMapping,
    BadMetadata,
    BadItems,
}

impl Kind {
    fn what(self) -> &'static str {
        match self {
            Kind::DuplicateKey => "keys written twice",
            Kind::NotAnObject => "documents that are not Kubernetes objects",
            Kind::NotAMapping => "documents that are not mappings",
            Kind::BadMetadata => "objects whose `metadata` is not a mapping",
            Kind::BadItems => "Lists whose `items` is not a list",
        }
    }
}

/// How many diagnostics of one kind a file met.
struct Count {
    kind: Kind,
    level: Level,
    total: usize,
    listed: usize,
    /// Where the last listed one is, and the first one not listed (when
    /// known).
    last_listed: (u32, u32),
    first_unlisted: Option<(u32, u32)>,
}

/// One file's diagnostics, aggregated by kind as they are made, so that
/// memory stays bounded whatever the input repeats.
pub(crate) struct FileDiags<'a> {
    name: &'a str,
    out: Vec<Diagnostic>,
    counts: Vec<Count>,
}

impl<'a> FileDiags<'a> {
    pub(crate) fn new(name: &'a str) -> Self {
        FileDiags {
            name,
            out: Vec::new(),
            counts: Vec::new(),
        }
    }

    fn slot(&mut self, kind: Kind, level: Level) -> &mut Count {
        let i = match self.counts.iter().position(|c| c.kind == kind) {
            Some(i) => i,
            None => {
                self.counts.push(Count {
                    kind,
                    level,
                    total: 0,
                    listed: 0,
                    last_listed: (0, 0),
                    first_unlisted: None,
                });
                self.counts.len() - 1
            }
        };
        &mut self.counts[i]
    }

    /// Adds a diagnostic of a kind; `make` runs only when it is listed.
    fn push(
        &mut self,
        kind: Kind,
        level: Level,
        line: u32,
        col: u32,
        make: impl FnOnce() -> String,
    ) {
        let c = self.slot(kind, level);
        c.total += 1;
        if c.listed >= KEPT_PER_KIND {
            c.first_unlisted.get_or_insert((line, col));
            return;
        }
        c.listed += 1;
        c.last_listed = (line, col);
        let message = make();
        self.out.push(Diagnostic {
            level,
            file: self.name.to_string(),
            line,
            col,
            message,
        });
    }

    /// Counts `n` more of a kind that were not kept where they were found.
    fn more(&mut self, kind: Kind, level: Level, n: usize) {
        if n > 0 {
            self.slot(kind, level).total += n;
        }
    }

    fn other(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        for c in std::mem::take(&mut self.counts) {
            if c.total <= c.listed {
                continue;
            }
            let (line, col) = c.first_unlisted.unwrap_or(c.last_listed);
            self.out.push(Diagnostic {
                level: c.level,
                file: self.name.to_string(),
                line,
                col,
                message: format!(
                    "and {} more {} in this file, not listed one by one (the first {} are)",
                    thousands(c.total - c.listed),
                    c.kind.what(),
                    c.listed
                ),
            });
        }
        self.out
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whether a file is JSON by its name: it has no comments.
pub(crate) fn is_json(name: &str) -> bool {
    name.len() >= 5 && name[name.len() - 5..].eq_ignore_ascii_case(".json")
}

/// Objects and diagnostics of one text, and the places of its comments when it holds a
/// suppression marker (`want_comments`, and not JSON).
pub(crate) fn parse_source(
    file: FileId,
    name: &str,
    text: &str,
    limits: Limits,
    want_comments: bool,
) -> (Vec<Object>, Vec<Diagnostic>, Vec<usize>) {
    let (docs, err, comments) =
        if want_comments && !is_json(name) && text.contains(crate::suppress::COMMENT_MARKER) {
            let p = crate::yaml::parse_stream_with_comments(text, limits);
            (p.docs, p.error, p.comments)
        } else {
            let (docs, err) = parse_stream(text, limits);
            (docs, err, Vec::new())
        };
    objects_of_docs(file, name, text, docs, err, comments)
}

/// [`parse_source`] after the parse: the objects and diagnostics of a
/// text's documents (parsed already, as the renderer's cache keeps them).
pub(crate) fn objects_of_docs(
    file: FileId,
    name: &str,
    text: &str,
    docs: Vec<crate::yaml::Document>,
    err: Option<crate::yaml::SyntaxError>,
    comments: Vec<usize>,
) -> (Vec<Object>, Vec<Diagnostic>, Vec<usize>) {
    let mut diags = FileDiags::new(name);
    // A document is an object (a `List` adds its items): sized to that, not
    // to the four objects a first push makes room for (most files hold one).
    let mut objects = Vec::with_capacity(docs.len());
    if let Some(e) = err {
        let message = if looks_like_helm(text) {
            format!(
                "{}: this looks like an unrendered Helm template; render it first with `helm template` and audit the output",
                e.message
            )
        } else {
            format!("invalid YAML: {}", e.message)
        };
        diags.other(Diagnostic {
            level: Level::Error,
            file: name.to_string(),
            line: e.line,
            col: e.col,
            message,
        });
    }
    if docs.is_empty() && diags.is_empty() {
        diags.other(Diagnostic {
            level: Level::Error,
            file: name.to_string(),
            line: 1,
            col: 1,
            message: "empty file: no Kubernetes objects".into(),
        });
    }
    for doc in docs {
        for w in doc.warnings {
            diags.push(Kind::DuplicateKey, Level::Warning, w.line, w.col, || {
                w.message
            });
        }
        diags.more(Kind::DuplicateKey, Level::Warning, doc.more_warnings);
        to_objects(file, doc.index, doc.root, &mut objects, &mut diags, 0);
    }
    (objects, diags.finish(), comments)
}

pub(crate) fn to_objects(
    file: FileId,
    doc: usize,
    root: Node,
    objects: &mut Vec<Object>,
    diags: &mut FileDiags<'_>,
    depth: usize,
) {
    match &root.value {
        Value::Null => return,
        Value::Map(_) => {}
        _ => {
            let at = root.span;
            diags.push(Kind::NotAMapping, Level::Error, at.line, at.col, || {
                "document is not a mapping: not a Kubernetes object".into()
            });
            return;
        }
    }
    let api_version = root.get("apiVersion").and_then(Node::as_str);
    let kind = root.get("kind").and_then(Node::as_str);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let what = if root.get("resources").is_some() || root.get("bases").is_some() {
            " (a kustomization? audit its output with -k)"
        } else {
            ""
        };
        let at = root.span;
        diags.push(Kind::NotAnObject, Level::Info, at.line, at.col, || {
            format!("not a Kubernetes object (no apiVersion/kind){what}: skipped")
        });
        return;
    };
    if kind.ends_with("List") && root.get("items").is_some() && depth == 0 {
        let (api_version, kind) = (api_version.to_string(), kind.to_string());
        let Value::Map(entries) = root.value else {
            return;
        };
        for e in entries {
            if e.key == "items" {
                match e.value.value {
                    Value::Seq(items) => {
                        // `kubectl get pods -o yaml` lists omit the items' apiVersion/kind:
                        // a `PodList` of apiVersion v1 holds v1 Pods
                        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
                        let api_version = api_version.as_str();
                        for mut item in items {
                            if let (Some(k), Value::Map(es)) = (item_kind, &mut item.value) {
                                for (key, val) in [("apiVersion", api_version), ("kind", k)] {
                                    if !es.iter().any(|e| e.key == key) {
                                        es.push(Entry {
                                            key: key.into(),
                                            key_span: item.span,
                                            value: Node {
                                                value: Value::Str(val.into()),
                                                span: item.span,
                                            },
                                        });
                                    }
                                }
                            }
                            to_objects(file, doc, item, objects, diags, 1);
                        }
                    }
                    Value::Null => {}
                    _ => {
                        let at = e.value.span;
                        diags.push(Kind::BadItems, Level::Error, at.line, at.col, || {
                            "`items` of a List must be a list".into()
                        })
                    }
                }
            }
        }
        return;
    }
    let (api_version, kind) = (api_version.to_string(), kind.to_string());
    let meta = root.get("metadata");
    if let Some(m) = meta {
        if !matches!(m.value, Value::Map(_) | Value::Null) {
            diags.push(
                Kind::BadMetadata,
                Level::Error,
                m.span.line,
                m.span.col,
                || format!("{kind}: `metadata` must be a mapping: object skipped"),
            );
            return;
        }
    }
    // Read in place: the metadata is part of the tree the object keeps.
    let field = |key: &str| meta.and_then(|m| m.get(key));
    let name_ = field("name")
        .or_else(|| field("generateName"))
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    let namespace = field("namespace").and_then(Node::scalar_text);
    let labels = string_map(field("labels"));
    let annotations = string_map(field("annotations"));
    objects.push(Object {
        id: 0,
        file,
        doc,
        api_version,
        kind,
        name: name_,
        namespace,
        labels,
        annotations,
        root,
        origins: Vec::new(),
        unit: None,
    });
}

/// Reads every input, in parallel, into objects with locations. Problems are
/// diagnostics; everything readable is still loaded. Output order is stable
/// whatever the thread count.
pub fn load(inputs: &[Input], opts: &LoadOptions) -> Loaded {
    let mut diagnostics = Vec::new();
    let mut skipped = crate::walk::Skipped::default();
    let mut files = collect(inputs, opts, &mut diagnostics, &mut skipped);
    let repo = if opts.render == Render::Units {
        crate::repo::plan(inputs, &mut files, opts, &mut skipped.role_not_selected)
    } else {
        None
    };
    let mut loaded = read_plain(&files, opts, diagnostics, skipped, None);
    if let Some(repo) = repo {
        crate::repo::add_rendered(&mut loaded, repo, opts);
    }
    loaded
}

/// A file the renderer has read and parsed already (its name, text and
/// documents), unless it holds a suppression comment (its comments are
/// then found by parsing it again).
#[allow(clippy::type_complexity)]
fn cached(
    input: &Input,
    parsed: Option<&crate::kustomize::cache::Cache>,
) -> Option<(
    String,
    String,
    Option<(Vec<crate::yaml::Document>, Option<crate::yaml::SyntaxError>)>,
)> {
    let (Input::Path(p), Some(cache)) = (input, parsed) else {
        return None;
    };
    let entry = crate::kustomize::cache::text_of(cache, p)?;
    let text = entry.text.as_ref().ok()?;
    let stream = entry.stream.as_ref()?;
    if text.contains(crate::suppress::COMMENT_MARKER) {
        return None;
    }
    Some((display_path(p), text.clone(), Some(stream.clone())))
}

/// Reads files as they are written, in parallel, in order.
pub(crate) fn read_plain(
    files: &[(Input, bool)],
    opts: &LoadOptions,
    diagnostics: Vec<Diagnostic>,
    skipped: crate::walk::Skipped,
    parsed: Option<&crate::kustomize::cache::Cache>,
) -> Loaded {
    let results: Vec<_> = files
        .par_iter()
        .enumerate()
        .map(|(i, (input, hidden))| {
            match cached(input, parsed)
                .map_or_else(|| read(input, opts).map(|(n, t)| (n, t, None)), Ok)
            {
                Ok((name, text, docs)) => {
                    let (objs, diags, comments) = match docs {
                        Some((docs, err)) => {
                            objects_of_docs(i, &name, &text, docs, err, Vec::new())
                        }
                        None => parse_source(i, &name, &text, opts.limits, true),
                    };
                    // A hidden file that holds no Kubernetes object (a CI
                    // workflow, a tool's config) is set aside and counted, not
                    // reported: it was read, so nothing in it goes unaudited.
                    if *hidden && objs.is_empty() && diags.iter().all(|d| d.level == Level::Info) {
                        return (None, Vec::new(), Vec::new());
                    }
                    let source = SourceFile {
                        path: name,
                        text,
                        comments,
                    };
                    (Some(source), objs, diags)
                }
                Err(d) => (None, Vec::new(), vec![d]),
            }
        })
        .collect();
    let mut loaded = Loaded {
        diagnostics,
        files: Vec::with_capacity(results.len()),
        objects: Vec::with_capacity(results.iter().map(|r| r.1.len()).sum()),
        skipped,
        units: Vec::new(),
    };
    for (source, objs, diags) in results {
        if source.is_none() && diags.is_empty() {
            loaded.skipped.hidden += 1;
            continue;
        }
        let file = loaded.files.len();
        loaded.files.push(source.unwrap_or_else(|| SourceFile {
            path: diags.first().map(|d| d.file.clone()).unwrap_or_default(),
            text: String::new(),
            comments: Vec::new(),
        }));
        for mut o in objs {
            o.file = file;
            o.id = loaded.objects.len();
            loaded.objects.push(o);
        }
        loaded.diagnostics.extend(diags);
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walked_paths_sort_as_paths_do() {
        let names = [
            "r/a",
            "r/a-b",
            "r/a/b",
            "r/a.b/c",
            "r/a/b-c",
            "r/ab",
            "r/a b/c",
            "r/a/b/c",
            "r/A",
            "r/é/x",
            "r/e/x",
            "r/a-/b",
            "r/a/-b",
            "r/z",
            "r/a/b.yaml",
            "r/a.yaml",
        ];
        let found: Vec<WalkedFile> = names
            .iter()
            .rev()
            .map(|n| WalkedFile {
                path: PathBuf::from(n),
                ino: None,
                hidden: false,
            })
            .collect();
        let mut want: Vec<PathBuf> = found.iter().map(|f| f.path.clone()).collect();
        want.sort();
        let got: Vec<PathBuf> = sort_paths(found).into_iter().map(|f| f.path).collect();
        assert_eq!(got, want);
    }
}
