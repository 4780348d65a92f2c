//! What a repository deploys: its units.
//!
//! A unit is either a kustomization root (a directory holding
//! `kustomization.yaml`, `kustomization.yml` or `Kustomization` that no
//! other kustomization of the input uses through `resources`, `bases` or
//! `components`; a use by an example, test, docs or hack kustomization
//! counts only against one of the same role, so that a deployed base only
//! an example uses is a root too), or a plain folder: the manifests of one directory that no
//! kustomization claims. A kustomization claims its resource files, and
//! every other file it reads (patches, generator `files` and `envs`,
//! `configurations`, `transformers`, `crds`, `replacements`): those files
//! belong to each root that reaches it, never to a plain unit. Remote bases
//! (URLs) are recorded, never fetched.
//!
//! Files are listed by the same walk as a scan's (what git tracks, or every
//! file outside a git work tree), so units see what a scan sees. Nothing is
//! rendered here.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("ml-audit-units-doc-{}", std::process::id()));
//! std::fs::create_dir_all(dir.join("base")).unwrap();
//! std::fs::write(dir.join("base/kustomization.yaml"), "resources: [deploy.yaml]\n").unwrap();
//! std::fs::write(dir.join("base/deploy.yaml"), "kind: Deployment\n").unwrap();
//! let found = ml_audit::find_units(&[dir.clone()], &ml_audit::LoadOptions::default());
//! assert_eq!(found.units.len(), 1);
//! assert_eq!(found.units[0].kind, ml_audit::UnitKind::Kustomization);
//! std::fs::remove_dir_all(dir).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::load::{display_path, Diagnostic, Level, LoadOptions};
use crate::node::Node;

/// The names a kustomization file may have, in the order kustomize looks
/// for them.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The largest kustomization file read.
const MAX_KUSTOMIZATION_BYTES: u64 = 16 * 1024 * 1024;

/// What kind of unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// A kustomization no other kustomization of the input uses.
    Kustomization,
    /// The manifests of one directory that no kustomization claims.
    Folder,
}

impl UnitKind {
    /// The name shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Kustomization => "kustomization",
            UnitKind::Folder => "folder",
        }
    }
}

/// What a unit is for, from its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Deployed: no component of its path says otherwise.
    Deploy,
    /// Under `examples`, `example`, `samples` or `sample`.
    Example,
    /// Under `docs`.
    Docs,
    /// Under `test`, `tests` or `e2e`.
    Test,
    /// Under `hack`.
    Hack,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 5] = [
        Role::Deploy,
        Role::Example,
        Role::Docs,
        Role::Test,
        Role::Hack,
    ];

    /// The name shown in reports and written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Deploy => "deploy",
            Role::Example => "example",
            Role::Docs => "docs",
            Role::Test => "test",
            Role::Hack => "hack",
        }
    }

    /// The role a path component marks, if any.
    pub fn of_component(c: &str) -> Option<Role> {
        Some(match c {
            "examples" | "example" | "samples" | "sample" => Role::Example,
            "docs" => Role::Docs,
            "test" | "tests" | "e2e" => Role::Test,
            "hack" => Role::Hack,
            _ => return None,
        })
    }

    /// The role of a path: the outermost component that marks one, else
    /// [`Role::Deploy`].
    pub fn of_path(p: &Path) -> Role {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(s) => s.to_str().and_then(Role::of_component),
                _ => None,
            })
            .next()
            .unwrap_or(Role::Deploy)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}` (one of: deploy, example, docs, test, hack)")
            })
    }
}

/// How a kustomization uses a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Use {
    /// The kustomization file itself.
    Kustomization,
    /// Listed in `resources` (or `bases`).
    Resource,
    /// A patch (`patches`, `patchesStrategicMerge`, `patchesJson6902`).
    Patch,
    /// A generator's `files`, `envs` or `env`.
    Generator,
    /// `configurations`.
    Configuration,
    /// `transformers` or `generators`.
    Transformer,
    /// `crds`.
    Crd,
    /// `replacements` paths.
    Replacement,
    /// `openapi` path.
    Openapi,
}

impl Use {
    /// The name shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Use::Kustomization => "kustomization",
            Use::Resource => "resource",
            Use::Patch => "patch",
            Use::Generator => "generator",
            Use::Configuration => "configuration",
            Use::Transformer => "transformer",
            Use::Crd => "crd",
            Use::Replacement => "replacement",
            Use::Openapi => "openapi",
        }
    }
}

/// A file a unit renders from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UnitFile {
    /// The file.
    pub path: String,
    /// How it is used.
    #[serde(rename = "use")]
    pub used_as: Use,
    /// The kustomization directory that uses it (empty in a plain folder).
    pub by: String,
}

/// A kustomization entry that is a URL: recorded, not fetched.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RemoteBase {
    /// The entry as written.
    pub url: String,
    /// The kustomization file that names it.
    pub file: String,
    /// Its line there.
    pub line: u32,
}

/// One thing a repository deploys.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unit {
    /// A kustomization root or a plain folder.
    pub kind: UnitKind,
    /// Its directory.
    pub path: String,
    /// What it is for, from its path.
    pub role: Role,
    /// The kustomization directories it renders from, itself first, then
    /// in the order they are reached (depth first, each once).
    pub kustomizations: Vec<String>,
    /// Kustomization directories it uses that lie outside the input: not
    /// read.
    pub outside: Vec<String>,
    /// The files it renders from, sorted by path.
    pub files: Vec<UnitFile>,
    /// Remote bases it names, not fetched.
    pub remote_bases: Vec<RemoteBase>,
    /// What cannot be built: missing paths, unreadable kustomizations,
    /// cycles (each at its file and line).
    pub errors: Vec<Diagnostic>,
    /// Its directory as a path (what [`Unit::path`] shows).
    #[serde(skip)]
    pub dir: PathBuf,
}

/// What [`find_units`] found.
#[derive(Debug, Default)]
pub struct Units {
    /// The units, sorted by path.
    pub units: Vec<Unit>,
    /// For each kustomization used by more than one root: the roots that
    /// use it (kustomization directory to root paths, sorted).
    pub shared: BTreeMap<String, Vec<String>>,
    /// Problems of the walk, and kustomizations that could not be read
    /// (errors: the units are then incomplete).
    pub diagnostics: Vec<Diagnostic>,
    /// What the walks left out, by reason.
    pub skipped: crate::walk::Skipped,
}

fn is_listed(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str());
    matches!(name, Some("Kustomization"))
        || matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        )
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_FILES.contains(&n))
}

/// `p` with `.` and `..` resolved lexically (kustomize resolves them so).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                match last {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    Some(Component::RootDir | Component::Prefix(_)) => {}
                    _ => out.push(".."),
                }
            }
            c => out.push(c.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Whether a kustomization entry names a remote base.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("git::")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.contains("?ref=")
        || entry.contains("?version=")
}

/// A path a kustomization names, with where it is named.
struct Ref {
    entry: String,
    line: u32,
    col: u32,
    field: &'static str,
    used_as: Use,
    /// May name a kustomization directory (`resources`, `bases`,
    /// `components`, `transformers`, `generators`).
    may_be_dir: bool,
}

/// A kustomization as read.
#[derive(Default)]
struct Kust {
    /// The kustomization file.
    file: PathBuf,
    /// Kustomization directories it uses (in the input or not).
    children: Vec<(PathBuf, u32, u32)>,
    files: Vec<UnitFile>,
    remote: Vec<RemoteBase>,
    errors: Vec<Diagnostic>,
    /// Could not be read or parsed.
    unreadable: bool,
}

fn strings(node: Option<&Node>) -> Vec<&Node> {
    node.map(|n| n.items().iter().collect()).unwrap_or_default()
}

fn refs(root: &Node) -> Vec<Ref> {
    let mut out = Vec::new();
    let mut push = |n: &Node, field: &'static str, used_as: Use, may_be_dir: bool| {
        if let Some(s) = n.as_str() {
            out.push(Ref {
                entry: s.to_string(),
                line: n.span.line,
                col: n.span.col,
                field,
                used_as,
                may_be_dir,
            });
        }
    };
    for field in ["resources", "bases", "components"] {
        for n in strings(root.get(field)) {
            push(n, field, Use::Resource, true);
        }
    }
    for n in strings(root.get("patchesStrategicMerge")) {
        // An inline patch is YAML text, not a path.
        if n.as_str()
            .is_some_and(|s| !s.contains('\n') && !s.contains(": "))
        {
            push(n, "patchesStrategicMerge", Use::Patch, false);
        }
    }
    for field in ["patches", "patchesJson6902"] {
        for p in strings(root.get(field)) {
            if let Some(n) = p.get("path") {
                push(n, field, Use::Patch, false);
            }
        }
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        for g in strings(root.get(field)) {
            for n in strings(g.get("files")) {
                // `key=path` or `path`.
                if let Some(s) = n.as_str() {
                    let path = s.split_once('=').map_or(s, |(_, p)| p);
                    let mut at = n.clone();
                    at.value = crate::Value::Str(path.into());
                    push(&at, field, Use::Generator, false);
                }
            }
            for n in strings(g.get("envs")) {
                push(n, field, Use::Generator, false);
            }
            if let Some(n) = g.get("env") {
                push(n, field, Use::Generator, false);
            }
        }
    }
    for n in strings(root.get("configurations")) {
        push(n, "configurations", Use::Configuration, false);
    }
    for field in ["transformers", "generators", "validators"] {
        for n in strings(root.get(field)) {
            // An inline transformer config is YAML text.
            if n.as_str().is_some_and(|s| !s.contains('\n')) {
                push(n, field, Use::Transformer, true);
            }
        }
    }
    for n in strings(root.get("crds")) {
        push(n, "crds", Use::Crd, false);
    }
    for r in strings(root.get("replacements")) {
        if let Some(n) = r.get("path") {
            push(n, "replacements", Use::Replacement, false);
        }
    }
    if let Some(n) = root.get("openapi").and_then(|o| o.get("path")) {
        push(n, "openapi", Use::Openapi, false);
    }
    out
}

fn error(file: &Path, line: u32, col: u32, message: String) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        file: display_path(file),
        line,
        col,
        message,
    }
}

/// The kustomization file of a directory, if it has one (on disk).
fn kustomization_in(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

fn read_kust(dir: &Path, file: &Path, opts: &LoadOptions) -> Kust {
    let mut k = Kust {
        file: file.to_path_buf(),
        ..Kust::default()
    };
    let others: Vec<_> = KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p != file && p.is_file())
        .collect();
    if !others.is_empty() {
        k.errors.push(error(
            file,
            0,
            0,
            format!(
                "more than one kustomization file in {} (kustomize refuses to build it)",
                display_path(dir)
            ),
        ));
    }
    let name = display_path(file);
    // Read through the scan's rendering cache when one is installed (the
    // renderer reads the same file next), else on its own.
    let cached;
    let parsed;
    let docs: Vec<&Node> = if crate::kustomize::cache::installed() {
        cached = crate::kustomize::cache::get(file);
        match cached.roots() {
            Ok(d) => d,
            Err((line, message)) => {
                k.errors.push(error(file, line, 0, message));
                k.unreadable = true;
                return k;
            }
        }
    } else {
        let text =
            match crate::load::read_bounded(file, MAX_KUSTOMIZATION_BYTES.min(opts.max_file_bytes))
                .map_err(|m| error(file, 0, 0, m))
                .and_then(|b| crate::load::decode(&name, b))
            {
                Ok(t) => crate::load::normalize_newlines(t),
                Err(d) => {
                    k.errors.push(d);
                    k.unreadable = true;
                    return k;
                }
            };
        let (d, err) = crate::yaml::parse_stream(&text, opts.limits);
        if let Some(e) = err {
            k.errors.push(error(file, e.line, e.col, e.message));
            k.unreadable = true;
            return k;
        }
        parsed = d;
        parsed.iter().map(|d| &d.root).collect()
    };
    let root = match docs.iter().copied().find(|d| !d.is_null()) {
        Some(d) if d.entries().is_empty() && !matches!(d.value, crate::Value::Map(_)) => {
            k.errors.push(error(
                file,
                d.span.line,
                d.span.col,
                "a kustomization must be a mapping".into(),
            ));
            k.unreadable = true;
            return k;
        }
        Some(d) => d,
        None => return k,
    };
    for r in refs(root) {
        if is_remote(&r.entry) {
            k.remote.push(RemoteBase {
                url: r.entry,
                file: name.clone(),
                line: r.line,
            });
            continue;
        }
        let target = normalize(&dir.join(&r.entry));
        match std::fs::metadata(&target) {
            Ok(m) if m.is_dir() && r.may_be_dir => {
                if kustomization_in(&target).is_some() {
                    k.children.push((target, r.line, r.col));
                } else {
                    k.errors.push(error(
                        file,
                        r.line,
                        r.col,
                        format!(
                            "`{}` in `{}` is a directory without a kustomization file",
                            r.entry, r.field
                        ),
                    ));
                }
            }
            Ok(m) if m.is_dir() => k.errors.push(error(
                file,
                r.line,
                r.col,
                format!("`{}` in `{}` is a directory, not a file", r.entry, r.field),
            )),
            Ok(_) => k.files.push(UnitFile {
                path: display_path(&target),
                used_as: r.used_as,
                by: display_path(dir),
            }),
            Err(_) => k.errors.push(error(
                file,
                r.line,
                r.col,
                format!("`{}` in `{}` does not exist", r.entry, r.field),
            )),
        }
    }
    k
}

/// Finds the units under `paths` (directories are walked as a scan walks
/// them; a file is a plain unit of its own, or a kustomization file names
/// its directory).
pub fn find_units(paths: &[PathBuf], opts: &LoadOptions) -> Units {
    let mut out = Units::default();
    let files = listed(paths, opts, &mut out);
    units_of(files, paths, opts, out, None)
}

/// Every file the walks of `paths` list (normalised), with the input it was
/// found under and whether it is hidden.
fn listed(
    paths: &[PathBuf],
    opts: &LoadOptions,
    out: &mut Units,
) -> BTreeMap<PathBuf, (usize, bool)> {
    let walk_opts = crate::walk::WalkOptions {
        no_ignore: opts.no_ignore,
        exclude: &opts.exclude,
        is_manifest: is_listed,
    };
    // Every listed file (normalised), with the input it was found under and
    // whether it is hidden.
    let mut files: BTreeMap<PathBuf, (usize, bool)> = BTreeMap::new();
    for (i, p) in paths.iter().enumerate() {
        if p.is_dir() {
            let walked = crate::walk::walk(p, &walk_opts);
            out.diagnostics.extend(walked.errors);
            out.skipped.add(&walked.skipped);
            for f in walked.files {
                files.entry(normalize(&f.path)).or_insert((i, f.hidden));
            }
        } else if p.exists() {
            files.entry(normalize(p)).or_insert((i, false));
        } else {
            out.diagnostics
                .push(error(p, 0, 0, "no such file or directory".into()));
        }
    }
    files
}

/// The units of files already listed (a scan's walk): see [`find_units`].
pub(crate) fn units_of(
    files: BTreeMap<PathBuf, (usize, bool)>,
    paths: &[PathBuf],
    opts: &LoadOptions,
    mut out: Units,
    cache: Option<&std::sync::Arc<crate::kustomize::cache::Cache>>,
) -> Units {
    // Kustomizations of the input, by directory, read in parallel.
    let mut todo: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for f in files.keys() {
        if !is_kustomization_file(f) {
            continue;
        }
        let dir = parent_dir(f);
        if todo.contains_key(&dir) {
            continue;
        }
        // The file kustomize would read (in its order of names), among
        // those the walk listed: a `kustomization.yaml` that is a symbolic
        // link (the walk does not follow them) is never read. The first
        // name needs no search.
        let first = f.file_name().is_some_and(|n| n == KUSTOMIZATION_FILES[0]);
        let file = if first {
            f.clone()
        } else {
            KUSTOMIZATION_FILES
                .iter()
                .map(|n| normalize(&dir.join(n)))
                .find(|p| files.contains_key(p))
                .unwrap_or_else(|| f.clone())
        };
        todo.insert(dir, file);
    }
    let kusts: BTreeMap<PathBuf, Kust> = {
        use rayon::prelude::*;
        todo.into_par_iter()
            .map(|(dir, file)| {
                let k = match cache {
                    Some(c) => crate::kustomize::cache::with(c, || read_kust(&dir, &file, opts)),
                    None => read_kust(&dir, &file, opts),
                };
                (dir, k)
            })
            .collect()
    };
    for k in kusts.values() {
        if k.unreadable {
            out.diagnostics.extend(k.errors.iter().cloned());
        }
    }
    // Which kustomizations of the input another one uses. A use by an
    // example, a test, docs or hack counts only against a kustomization of
    // the same role: a deployed base that only an example uses (Kubeflow's
    // `example/` installs every component) is a root of its own, so that
    // selecting the `deploy` role still audits it.
    // By index, not by path: comparing paths component by component was
    // most of the time of finding the units of a large repository.
    let inputs = Inputs::new(paths);
    let dirs: Vec<&PathBuf> = kusts.keys().collect();
    let index: std::collections::HashMap<&Path, usize> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.as_path(), i))
        .collect();
    let children: Vec<Vec<usize>> = kusts
        .values()
        .map(|k| {
            k.children
                .iter()
                .filter_map(|c| index.get(c.0.as_path()).copied())
                .collect()
        })
        .collect();
    let role: Vec<Role> = dirs.iter().map(|d| role_in(d, &inputs)).collect();
    let mut used = vec![false; dirs.len()];
    for (user, cs) in children.iter().enumerate() {
        for &c in cs {
            if c != user && (role[user] == Role::Deploy || role[user] == role[c]) {
                used[c] = true;
            }
        }
    }
    let mut root_ids: Vec<usize> = (0..dirs.len()).filter(|&i| !used[i]).collect();
    // Kustomizations only reachable through a cycle have no root: the first
    // of each (by path) stands as one.
    let mut reached = vec![false; dirs.len()];
    let reach = |from: usize, reached: &mut Vec<bool>| {
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut reached[i], true) {
                stack.extend(children[i].iter().copied());
            }
        }
    };
    for &r in &root_ids {
        reach(r, &mut reached);
    }
    for d in 0..dirs.len() {
        if !reached[d] {
            root_ids.push(d);
            reach(d, &mut reached);
        }
    }
    let roots: Vec<PathBuf> = root_ids.iter().map(|&i| dirs[i].clone()).collect();
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut claimed: BTreeSet<String> = BTreeSet::new();
    for k in kusts.values() {
        claimed.insert(display_path(&k.file));
        claimed.extend(k.files.iter().map(|f| f.path.clone()));
    }
    let root_units: Vec<Unit> = {
        use rayon::prelude::*;
        roots
            .par_iter()
            .map(|r| root_unit(r, &kusts, &inputs))
            .collect()
    };
    for unit in root_units {
        for d in &unit.kustomizations {
            users.entry(d.clone()).or_default().push(unit.path.clone());
        }
        out.units.push(unit);
    }
    out.shared = users
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, mut v)| {
            v.sort();
            (k, v)
        })
        .collect();
    // Plain folders: listed manifests nobody claims, by directory. Hidden
    // files (CI workflows, tool configs) are left out, as a scan sets them
    // aside when they hold no object.
    let mut folders: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for (f, (_, hidden)) in &files {
        if *hidden || is_kustomization_file(f) || !is_manifest_name(f) {
            continue;
        }
        let shown = display_path(f);
        if claimed.contains(&shown) {
            continue;
        }
        let dir = parent_dir(f);
        folders.entry(dir).or_default().push(shown);
    }
    for (dir, fs) in folders {
        out.units.push(Unit {
            kind: UnitKind::Folder,
            path: display_path(&dir),
            role: role_in(&dir, &inputs),
            kustomizations: Vec::new(),
            outside: Vec::new(),
            files: fs
                .into_iter()
                .map(|path| UnitFile {
                    path,
                    used_as: Use::Resource,
                    by: String::new(),
                })
                .collect(),
            remote_bases: Vec::new(),
            errors: Vec::new(),
            dir,
        });
    }
    out.units
        .sort_by(|a, b| (&a.path, a.kind).cmp(&(&b.path, b.kind)));
    out.diagnostics.sort();
    out.diagnostics.dedup();
    out
}

/// The directory of a file: `.` rather than nothing.
fn parent_dir(f: &Path) -> PathBuf {
    match f.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The inputs, as [`role_in`] compares directories with them: each
/// input's directory (a file's parent), and whether it was given relative.
/// Computed once: a `stat` per input and directory was a tenth of finding
/// the units of a large repository.
pub(crate) struct Inputs(Vec<(PathBuf, bool)>);

impl Inputs {
    pub(crate) fn new(inputs: &[PathBuf]) -> Inputs {
        Inputs(
            inputs
                .iter()
                .map(|input| {
                    let base = normalize(input);
                    let base_dir = if base.is_file() {
                        base.parent().map(Path::to_path_buf).unwrap_or_default()
                    } else {
                        base.clone()
                    };
                    (base_dir, base.is_relative())
                })
                .collect(),
        )
    }
}

/// The role of a directory: from its path below the input it is under,
/// and from the input's own path when that was given relative.
fn role_in(dir: &Path, inputs: &Inputs) -> Role {
    for (base_dir, relative) in &inputs.0 {
        if let Ok(below) = dir.strip_prefix(base_dir) {
            if *relative {
                return Role::of_path(dir);
            }
            return Role::of_path(below);
        }
    }
    if dir.is_relative() {
        Role::of_path(dir)
    } else {
        Role::Deploy
    }
}

fn root_unit(root: &Path, kusts: &BTreeMap<PathBuf, Kust>, inputs: &Inputs) -> Unit {
    let mut unit = Unit {
        kind: UnitKind::Kustomization,
        path: display_path(root),
        role: role_in(root, inputs),
        kustomizations: Vec::new(),
        outside: Vec::new(),
        files: Vec::new(),
        remote_bases: Vec::new(),
        errors: Vec::new(),
        dir: root.to_path_buf(),
    };
    let mut seen = BTreeSet::new();
    let mut stack: Vec<PathBuf> = Vec::new();
    visit(root, kusts, &mut seen, &mut stack, &mut unit);
    unit.files.sort();
    unit.files.dedup();
    unit.remote_bases.sort();
    unit.remote_bases.dedup();
    unit.outside.sort();
    unit.outside.dedup();
    unit.errors.sort();
    unit.errors.dedup();
    unit
}

fn visit(
    d: &Path,
    kusts: &BTreeMap<PathBuf, Kust>,
    seen: &mut BTreeSet<PathBuf>,
    stack: &mut Vec<PathBuf>,
    unit: &mut Unit,
) {
    let Some(k) = kusts.get(d) else {
        unit.outside.push(display_path(d));
        return;
    };
    if !seen.insert(d.to_path_buf()) {
        return;
    }
    unit.kustomizations.push(display_path(d));
    unit.files.push(UnitFile {
        path: display_path(&k.file),
        used_as: Use::Kustomization,
        by: display_path(d),
    });
    unit.files.extend(k.files.iter().cloned());
    unit.remote_bases.extend(k.remote.iter().cloned());
    unit.errors.extend(k.errors.iter().cloned());
    stack.push(d.to_path_buf());
    for (c, line, col) in &k.children {
        if stack.contains(c) {
            unit.errors.push(error(
                &k.file,
                *line,
                *col,
                format!("cycle: {} uses {}", display_path(d), display_path(c)),
            ));
            continue;
        }
        visit(c, kusts, seen, stack, unit);
    }
    stack.pop();
}
