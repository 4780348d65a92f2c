//! Reading inputs: files, directories (walked like ripgrep, `.gitignore`
//! aware), standard input and in-memory text, into objects with locations.

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
    /// Walk hidden files and directories too (like `rg --hidden`).
    pub hidden: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            limits: Limits::default(),
            max_file_bytes: 128 * 1024 * 1024,
            exclude: Vec::new(),
            hidden: false,
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
fn collect(inputs: &[Input], opts: &LoadOptions, diags: &mut Vec<Diagnostic>) -> Vec<Input> {
    let found = collect_all(inputs, opts, diags);
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
        .map(|f| f.input)
        .collect()
}

/// An input to read, with its inode where the directory listing gave it,
/// and its full key where it was `stat`ed (named files are).
struct Found {
    input: Input,
    ino: Option<u64>,
    key: Option<FileKey>,
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

fn collect_all(inputs: &[Input], opts: &LoadOptions, diags: &mut Vec<Diagnostic>) -> Vec<Found> {
    let mut out = Vec::new();
    for input in inputs {
        match input {
            Input::Text { .. } => out.push(Found {
                input: input.clone(),
                ino: None,
                key: None,
            }),
            Input::Path(p) if p.is_dir() => {
                let (found, mut errors) = walk(p, opts);
                let found = sort_paths(found);
                // Errors in path order, whatever thread met them first.
                errors.sort();
                diags.extend(errors);
                out.extend(found.into_iter().map(|(path, ino)| Found {
                    input: Input::Path(path),
                    ino,
                    key: None,
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
                let mut key = Vec::with_capacity(f.0.as_os_str().len() + 8);
                for c in f.0.components() {
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
        found.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        found
    }
}

/// A file a walk found, with its inode from the directory listing.
type WalkedFile = (PathBuf, Option<u64>);

type Walked = (Vec<WalkedFile>, Vec<Diagnostic>);

/// Walks one directory on the current pool's threads: manifests found (with
/// their inodes) and the errors met.
fn walk(dir: &Path, opts: &LoadOptions) -> Walked {
    let shared: std::sync::Mutex<Walked> = Default::default();
    ignore::WalkBuilder::new(dir)
        .hidden(!opts.hidden)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .follow_links(false)
        .threads(rayon::current_num_threads())
        .build_parallel()
        .visit(&mut WalkCollector {
            dir,
            opts,
            shared: &shared,
        });
    shared.into_inner().unwrap_or_else(|e| e.into_inner())
}

struct WalkCollector<'a> {
    dir: &'a Path,
    opts: &'a LoadOptions,
    shared: &'a std::sync::Mutex<Walked>,
}

impl<'s> ignore::ParallelVisitorBuilder<'s> for WalkCollector<'s> {
    fn build(&mut self) -> Box<dyn ignore::ParallelVisitor + 's> {
        Box::new(WalkThread {
            dir: self.dir,
            opts: self.opts,
            shared: self.shared,
            found: Vec::new(),
            errors: Vec::new(),
        })
    }
}

/// One walking thread: collects on its own, hands over when done.
struct WalkThread<'a> {
    dir: &'a Path,
    opts: &'a LoadOptions,
    shared: &'a std::sync::Mutex<Walked>,
    found: Vec<WalkedFile>,
    errors: Vec<Diagnostic>,
}

impl ignore::ParallelVisitor for WalkThread<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> ignore::WalkState {
        match entry {
            Ok(e) => {
                let path = e.path();
                if e.file_type().is_some_and(|t| t.is_file()) && is_manifest(path) {
                    let excluded = !self.opts.exclude.is_empty() && {
                        let shown = path.to_string_lossy();
                        self.opts.exclude.iter().any(|x| shown.contains(x.as_str()))
                    };
                    if !excluded {
                        #[cfg(unix)]
                        let ino = e.ino();
                        #[cfg(not(unix))]
                        let ino = None;
                        self.found.push((e.into_path(), ino));
                    }
                }
            }
            Err(err) => self.errors.push(Diagnostic {
                level: Level::Error,
                file: walk_error_path(&err).unwrap_or_else(|| self.dir.display().to_string()),
                line: 0,
                col: 0,
                message: format!("could not walk directory: {err}"),
            }),
        }
        ignore::WalkState::Continue
    }
}

impl Drop for WalkThread<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.0.append(&mut self.found);
        shared.1.append(&mut self.errors);
    }
}

fn walk_error_path(err: &ignore::Error) -> Option<String> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.display().to_string()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.display().to_string()),
        _ => None,
    }
}

fn read(input: &Input, opts: &LoadOptions) -> Result<(String, String), Diagnostic> {
    match input {
        Input::Text { name, text } => Ok((name.clone(), normalize_newlines(text.clone()))),
        Input::Path(p) => {
            // A UTF-8 path is copied as it is (what `display` gives too,
            // without the formatter's pass over it for invalid bytes).
            let name = p
                .to_str()
                .map_or_else(|| p.display().to_string(), str::to_owned);
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

/// Objects and diagnostics of one text.
pub fn parse_text(
    file: FileId,
    name: &str,
    text: &str,
    limits: Limits,
) -> (Vec<Object>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let (docs, err) = parse_stream(text, limits);
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
        diags.push(Diagnostic {
            level: Level::Error,
            file: name.to_string(),
            line: e.line,
            col: e.col,
            message,
        });
    }
    if docs.is_empty() && diags.is_empty() {
        diags.push(Diagnostic {
            level: Level::Error,
            file: name.to_string(),
            line: 1,
            col: 1,
            message: "empty file: no Kubernetes objects".into(),
        });
    }
    for doc in docs {
        diags.extend(doc.warnings.into_iter().map(|w| Diagnostic {
            level: Level::Warning,
            file: name.to_string(),
            line: w.line,
            col: w.col,
            message: w.message,
        }));
        to_objects(file, name, doc.index, doc.root, &mut objects, &mut diags, 0);
    }
    (objects, diags)
}

fn to_objects(
    file: FileId,
    name: &str,
    doc: usize,
    root: Node,
    objects: &mut Vec<Object>,
    diags: &mut Vec<Diagnostic>,
    depth: usize,
) {
    let diag = |level: Level, node: &Node, message: String| Diagnostic {
        level,
        file: name.to_string(),
        line: node.span.line,
        col: node.span.col,
        message,
    };
    match &root.value {
        Value::Null => return,
        Value::Map(_) => {}
        _ => {
            diags.push(diag(
                Level::Error,
                &root,
                "document is not a mapping: not a Kubernetes object".into(),
            ));
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
        diags.push(diag(
            Level::Info,
            &root,
            format!("not a Kubernetes object (no apiVersion/kind){what}: skipped"),
        ));
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
                            to_objects(file, name, doc, item, objects, diags, 1);
                        }
                    }
                    Value::Null => {}
                    _ => diags.push(diag(
                        Level::Error,
                        &e.value,
                        "`items` of a List must be a list".into(),
                    )),
                }
            }
        }
        return;
    }
    let (api_version, kind) = (api_version.to_string(), kind.to_string());
    let meta = root.get("metadata");
    if let Some(m) = meta {
        if !matches!(m.value, Value::Map(_) | Value::Null) {
            diags.push(diag(
                Level::Error,
                m,
                format!("{kind}: `metadata` must be a mapping: object skipped"),
            ));
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
    });
}

/// Reads every input, in parallel, into objects with locations. Problems are
/// diagnostics; everything readable is still loaded. Output order is stable
/// whatever the thread count.
pub fn load(inputs: &[Input], opts: &LoadOptions) -> Loaded {
    let mut diagnostics = Vec::new();
    let files = collect(inputs, opts, &mut diagnostics);
    let results: Vec<_> = files
        .par_iter()
        .enumerate()
        .map(|(i, input)| match read(input, opts) {
            Ok((name, text)) => {
                let (objs, diags) = parse_text(i, &name, &text, opts.limits);
                (Some(SourceFile { path: name, text }), objs, diags)
            }
            Err(d) => (None, Vec::new(), vec![d]),
        })
        .collect();
    let mut loaded = Loaded {
        diagnostics,
        files: Vec::with_capacity(results.len()),
        objects: Vec::with_capacity(results.iter().map(|r| r.1.len()).sum()),
    };
    for (source, objs, diags) in results {
        let file = loaded.files.len();
        loaded.files.push(source.unwrap_or_else(|| SourceFile {
            path: diags.first().map(|d| d.file.clone()).unwrap_or_default(),
            text: String::new(),
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
        let found: Vec<(PathBuf, Option<u64>)> = names
            .iter()
            .rev()
            .map(|n| (PathBuf::from(n), None))
            .collect();
        let mut want: Vec<PathBuf> = found.iter().map(|f| f.0.clone()).collect();
        want.sort();
        let got: Vec<PathBuf> = sort_paths(found).into_iter().map(|f| f.0).collect();
        assert_eq!(got, want);
    }
}
