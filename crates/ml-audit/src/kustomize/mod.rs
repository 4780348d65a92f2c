//! Kustomize rendered in the core: what `kubectl kustomize DIR` (kustomize
//! v5.5.0, as embedded in kubectl 1.32) builds, offline, on the project's
//! span-carrying [`Node`] trees.
//!
//! # Locations
//!
//! A rendered object is a [`Node`] tree whose nodes keep the [`Span`] they
//! were written at (a node the renderer makes up, such as a label value from
//! `commonLabels` or a generated ConfigMap, has the span of the kustomization
//! line that asked for it, or the default span when there is none). A span
//! has no file, so each [`RenderedObject`] carries a side table,
//! [`RenderedObject::origins`]: a list of `(JSON pointer prefix, file)`
//! entries in the order they were written. The first entry is `("", file
//! the object was read from)`; every patch, and every transformer that
//! writes a field, appends the pointer of the subtree it wrote and the file
//! that wrote it (the patch file, or the kustomization). The file of a node
//! is that of the **last** entry whose pointer is a prefix of the node's
//! pointer ([`RenderedObject::file_of`]): later writers win, as in the
//! rendering itself. Pointers are those of the rendered object; a list
//! element that a later patch moves keeps its entry under the old index, a
//! known imprecision of this model that the finding step can refine.
//!
//! This keeps the trees themselves unchanged (every rule and walker of the
//! core reads them as before) and costs one short list per object.
//!
//! # What is not built
//!
//! A field that the renderer does not implement (`helmCharts`, `generators`,
//! `transformers`, `validators`, `crds`, `openapi`, a remote resource) is a
//! [`RenderError`] at the kustomization's line, never a silently
//! half-rendered result.
//!
//! # Configurations and vars
//!
//! `configurations:` (transformer configs: extra field specs for the name
//! prefix, labels, namespace, images, replicas, var and name references)
//! accumulate upwards as in kustomize: a base's configuration applies to
//! the transformers of every kustomization above it (see `config`).
//! Legacy `vars:` are resolved once the whole build is done (see `vars`);
//! a replaced string keeps its span and gets an origin entry naming the
//! kustomization and the line of its `vars:` item.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::node::{CompactString, Entry, Node, Span, Value};

pub(crate) mod cache;
mod config;
mod gen;
pub use gen::content_hash;
mod json6902;
mod nameref;
mod replacements;
mod smp;
mod transform;
mod vars;

/// The names kustomize looks for in a directory, in its order.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomization file of `dir`, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// One object of a rendering, with where its parts came from.
#[derive(Clone, Debug)]
pub struct RenderedObject {
    /// The object, as kustomize outputs it; nodes keep their source spans.
    pub node: Node,
    /// Who wrote which subtree, in the order written; see the module
    /// documentation.
    pub origins: Vec<Origin>,
}

/// One entry of [`RenderedObject::origins`]: the subtree at `pointer` (and
/// everything under it, until a later entry) was written by `file`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// JSON pointer of the subtree in the rendered object (`""`: all of it).
    pub pointer: String,
    /// The file that wrote it: the resource file, a patch, a replacement
    /// file, or the kustomization whose transformer set it.
    pub file: PathBuf,
    /// The line in `file` of the entry that wrote it (the `images:` item,
    /// the `namespace:` key, the JSON patch operation...), 0 when the
    /// written nodes carry their own spans in `file` (a resource, a
    /// strategic merge patch).
    pub line: u32,
    /// Only the value was rewritten (an `images:` entry, a replacement, a
    /// var): the nodes keep the spans they had, in the file of the origin
    /// before this one, and this entry says who rewrote them.
    pub keeps_span: bool,
}

impl Origin {
    fn covers(&self, pointer: &str) -> bool {
        let p = self.pointer.as_str();
        pointer == p || (pointer.starts_with(p) && pointer.as_bytes().get(p.len()) == Some(&b'/'))
    }

    pub(crate) fn new(pointer: impl Into<String>, file: &Path, line: u32) -> Origin {
        Origin {
            pointer: pointer.into(),
            file: file.to_path_buf(),
            line,
            keeps_span: false,
        }
    }

    /// An entry for a value rewritten in place: the node keeps its span.
    pub(crate) fn rewrite(pointer: impl Into<String>, file: &Path, line: u32) -> Origin {
        Origin {
            keeps_span: true,
            ..Origin::new(pointer, file, line)
        }
    }
}

impl RenderedObject {
    /// The file the node at `pointer` was written in: the last origin whose
    /// pointer is a prefix of `pointer` (on a token boundary).
    pub fn file_of(&self, pointer: &str) -> Option<&Path> {
        self.origins
            .iter()
            .rev()
            .find(|o| o.covers(pointer))
            .map(|o| o.file.as_path())
    }

    /// The origin entry that wrote the node at `pointer` (see
    /// [`RenderedObject::file_of`]).
    pub fn origin_of(&self, pointer: &str) -> Option<&Origin> {
        self.origins.iter().rev().find(|o| o.covers(pointer))
    }

    fn str_at(&self, keys: &[&str]) -> &str {
        let mut n = &self.node;
        for k in keys {
            n = n.field(k);
        }
        n.as_str().unwrap_or("")
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"])
    }
    /// `kind`.
    pub fn kind(&self) -> &str {
        self.str_at(&["kind"])
    }
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"])
    }
    /// `metadata.namespace`, empty when unset.
    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"])
    }
}

/// Why a kustomization could not be rendered, at a file and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderError {
    /// The file at fault (a kustomization, a resource, a patch).
    pub file: PathBuf,
    /// 1-based line, 0 when the file as a whole is at fault.
    pub line: u32,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

impl std::error::Error for RenderError {}

fn err(file: &Path, line: u32, message: impl Into<String>) -> RenderError {
    RenderError {
        file: file.to_path_buf(),
        line,
        message: message.into(),
    }
}

/// An object while it is built: the rendered object and what kustomize
/// tracks beside it.
#[derive(Clone, Debug)]
pub(crate) struct Res {
    pub(crate) obj: RenderedObject,
    /// Names the object had before prefixes, suffixes and hashes, oldest
    /// first (for name references).
    pub(crate) prev_names: Vec<(String, String)>,
    /// A generated object whose name takes the content hash at the end.
    pub(crate) needs_hash: bool,
    /// The behavior a generated object was declared with.
    pub(crate) behavior: Option<String>,
    /// The namespace the object was read with.
    pub(crate) orig_ns: String,
    /// Name and namespace before each `namespace:` transformer (kustomize
    /// stores a previous id then, even when nothing changes); with
    /// `prev_names`, the object's previous ids.
    pub(crate) prev_ids: Vec<(String, String)>,
    /// The vars that name this object (see `vars`).
    pub(crate) ref_vars: Vec<String>,
    /// The name prefixes and suffixes given to the object, oldest first
    /// (to tell apart objects a name reference may mean).
    pub(crate) prefixes: Vec<String>,
    pub(crate) suffixes: Vec<String>,
    /// The kustomization line that last changed the name or namespace (a
    /// reference fixed to follow it names that line as its rewriter).
    pub(crate) renamed_by: Option<(PathBuf, u32)>,
}

impl Res {
    pub(crate) fn new(node: Node, file: &Path) -> Res {
        let orig_ns = node
            .field("metadata")
            .field("namespace")
            .as_str()
            .unwrap_or("")
            .to_string();
        Res {
            orig_ns,
            obj: RenderedObject {
                node,
                origins: vec![Origin::new("", file, 0)],
            },
            prev_names: Vec::new(),
            prev_ids: Vec::new(),
            ref_vars: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            renamed_by: None,
            needs_hash: false,
            behavior: None,
        }
    }

    /// Group of the apiVersion.
    pub(crate) fn group(&self) -> &str {
        self.obj
            .api_version()
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
    }

    /// Version of the apiVersion.
    pub(crate) fn version(&self) -> &str {
        let av = self.obj.api_version();
        av.rsplit_once('/').map_or(av, |(_, v)| v)
    }

    /// Every (name, namespace) the object had, the current one last.
    pub(crate) fn ids(&self) -> impl Iterator<Item = (&str, &str)> {
        self.prev_names
            .iter()
            .chain(&self.prev_ids)
            .map(|(n, ns)| (n.as_str(), ns.as_str()))
            .chain(std::iter::once((self.obj.name(), self.obj.namespace())))
    }

    /// Whether the object had a previous id named `name`.
    pub(crate) fn had_name(&self, name: &str) -> bool {
        self.prev_names
            .iter()
            .chain(&self.prev_ids)
            .any(|(n, _)| n == name)
    }

    /// The original (first) name and namespace.
    pub(crate) fn orig_name(&self) -> &str {
        self.prev_names
            .first()
            .map_or(self.obj.name(), |(n, _)| n.as_str())
    }
}

/// Renders the kustomization in `dir`, as `kubectl kustomize DIR` would.
pub fn render(dir: &Path) -> Result<Vec<RenderedObject>, RenderError> {
    cache::start_rendering();
    let mut visiting = HashSet::new();
    let Acc {
        res: mut resources,
        cfg,
        vars,
    } = build(dir, &mut visiting, false)?;
    gen::add_hashes(&mut resources);
    let refs: Vec<&config::BackRef> = config::defaults()
        .name_reference
        .iter()
        .chain(&cfg.name_reference)
        .collect();
    nameref::fix(&mut resources, &refs)?;
    vars::resolve(&vars, &mut resources, &cfg)?;
    for r in &mut resources {
        drop_empty_annotations(&mut r.obj.node);
    }
    // The top kustomization's `sortOptions` (kustomize ignores those of
    // bases): legacy order by default, with its own first and last kinds
    // when given; `fifo` keeps the order the resources were read in.
    let top = kustomization_file(dir)
        .and_then(|f| read_docs(&f).ok())
        .and_then(|d| d.into_iter().next());
    match top
        .as_ref()
        .and_then(|t| t.get("sortOptions"))
        .map(sort_order)
    {
        Some(Ok(SortOrder::Fifo)) => {}
        Some(Ok(SortOrder::Legacy { first, last })) => {
            let first: Vec<&str> = first.iter().map(String::as_str).collect();
            let last: Vec<&str> = last.iter().map(String::as_str).collect();
            sort_legacy(&mut resources, &first, &last);
        }
        _ => sort_legacy(&mut resources, &LEGACY_FIRST, &LEGACY_LAST),
    }
    Ok(resources.into_iter().map(|r| r.obj).collect())
}

/// How the output is sorted (`sortOptions`).
enum SortOrder {
    /// In the order read.
    Fifo,
    /// By kind: these first, these last, the rest between (then by id).
    Legacy {
        first: Vec<String>,
        last: Vec<String>,
    },
}

fn sort_order(opts: &Node) -> Result<SortOrder, String> {
    let list = |key: &str, default: &[&str]| -> Vec<String> {
        match opts.field("legacySortOptions").get(key) {
            Some(n) => n.items().iter().filter_map(Node::scalar_text).collect(),
            None => default.iter().map(|s| s.to_string()).collect(),
        }
    };
    match opts.field("order").as_str().unwrap_or("legacy") {
        "fifo" => Ok(SortOrder::Fifo),
        "legacy" => Ok(SortOrder::Legacy {
            first: list("orderFirst", &LEGACY_FIRST),
            last: list("orderLast", &LEGACY_LAST),
        }),
        o => Err(format!(
            "unknown sortOptions order `{o}` (kustomize knows `legacy` and `fifo`)"
        )),
    }
}

/// kustomize adds build annotations to every object and removes them at the
/// end, and with them an `annotations` mapping left empty (or null).
fn drop_empty_annotations(node: &mut Node) {
    if let Some(Value::Map(meta)) = get_mut(node, "metadata").map(|n| &mut n.value) {
        meta.retain(|e| {
            !(e.key == "annotations"
                && (e.value.is_null() || matches!(&e.value.value, Value::Map(m) if m.is_empty())))
        });
    }
}

/// Parses a YAML/JSON file into its documents (empty documents dropped).
pub(crate) fn read_docs(file: &Path) -> Result<Vec<Node>, RenderError> {
    // Read once per load (see `cache`), bounded as every file the loader
    // reads: a FIFO or a device named by a hostile kustomization is refused.
    match cache::get(file).roots() {
        Ok(docs) => Ok(docs.into_iter().cloned().collect()),
        Err((line, message)) => Err(err(file, line, message)),
    }
}

/// Reads resources from a file: `kind: List` expanded.
fn read_resources(file: &Path) -> Result<Vec<Res>, RenderError> {
    let mut out = Vec::new();
    let docs = read_docs(file)?;
    if !cache::spend_resources(docs.len()) {
        return Err(err(
            file,
            0,
            format!(
                "more than {} resources in one rendering: not rendered",
                cache::MAX_RESOURCES
            ),
        ));
    }
    for doc in docs {
        if !matches!(doc.value, Value::Map(_)) {
            return Err(err(file, doc.span.line, "a resource must be a mapping"));
        }
        let kind = doc.field("kind").as_str().unwrap_or("");
        if kind.ends_with("List") && doc.get("items").is_some() {
            for item in doc.field("items").items() {
                out.push(Res::new(item.clone(), file));
            }
            continue;
        }
        if doc.field("metadata").field("name").as_str().is_none() && kind.is_empty() {
            return Err(err(file, doc.span.line, "a resource has no kind"));
        }
        out.push(Res::new(doc, file));
    }
    Ok(out)
}

/// The fields this renderer does not build: each is an error if present.
const UNSUPPORTED: [&str; 8] = [
    "helmCharts",
    "helmChartInflationGenerator",
    "helmGlobals",
    "generators",
    "transformers",
    "validators",
    "crds",
    "openapi",
];

/// Fields a kustomization may hold that this renderer builds.
const SUPPORTED: [&str; 25] = [
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "sortOptions",
    "buildMetadata",
    "replacements",
    "vars",
    "configurations",
];

pub(crate) struct Kust<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) file: &'a Path,
    pub(crate) root: &'a Node,
}

impl Kust<'_> {
    pub(crate) fn line(&self, key: &str) -> u32 {
        self.root.entry(key).map_or(0, |e| e.key_span.line)
    }

    pub(crate) fn err(&self, key: &str, message: impl Into<String>) -> RenderError {
        err(self.file, self.line(key), message)
    }

    pub(crate) fn err_at(&self, node: &Node, message: impl Into<String>) -> RenderError {
        err(self.file, node.span.line, message)
    }

    /// A path named in the kustomization, resolved and confined: kustomize
    /// refuses files outside the kustomization root only under its load
    /// restrictor, which kubectl enables by default.
    pub(crate) fn path(&self, node: &Node) -> Result<PathBuf, RenderError> {
        let s = node
            .as_str()
            .ok_or_else(|| self.err_at(node, "expected a path"))?;
        if s.contains("://") || s.starts_with("github.com/") || s.starts_with("git@") {
            return Err(self.err_at(
                node,
                format!("remote resource `{s}` cannot be rendered offline"),
            ));
        }
        let path = tidy(self.dir, s);
        if cache::outside(&path) {
            return Err(self.err_at(
                node,
                format!("`{s}` is outside the repository being audited: not read"),
            ));
        }
        Ok(path)
    }
}

/// `dir` joined with `rel`, each `..` of `rel` taking back a directory
/// instead of being appended (`overlay/../base` as `base`), so that
/// errors and origins name a file as a person writes it; `dir` itself is
/// kept as the caller spelled it. When a `..` follows a symbolic link (and
/// the two spellings are not the same file), the plain join is kept.
fn tidy(dir: &Path, rel: &str) -> PathBuf {
    use std::path::Component;
    let joined = dir.join(rel);
    let relp = Path::new(rel);
    if !relp
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return joined;
    }
    let mut out = dir.to_path_buf();
    for c in relp.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::RootDir | Component::Prefix(_) => out = PathBuf::from(c.as_os_str()),
            c => out.push(c),
        }
    }
    match (joined.canonicalize(), out.canonicalize()) {
        (Ok(a), Ok(b)) if a == b => out,
        _ => joined,
    }
}

impl Kust<'_> {
    /// A file named in the kustomization, which must lie inside its
    /// directory: kubectl's default load restrictor refuses any other file
    /// (directories of other kustomizations may lie anywhere), and a
    /// hostile repository could otherwise read `/etc/passwd` into a
    /// generated Secret.
    pub(crate) fn confined(&self, node: &Node, path: PathBuf) -> Result<PathBuf, RenderError> {
        let root = cache::canonical(self.dir).map_err(|e| self.err_at(node, e.to_string()))?;
        match cache::canonical(&path) {
            Ok(real) if real.starts_with(&root) => Ok(path),
            Ok(_) => Err(self.err_at(
                node,
                format!(
                    "`{}` is outside the kustomization's directory (kubectl refuses it too)",
                    node.as_str().unwrap_or("")
                ),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(self.err_at(
                node,
                format!("`{}` does not exist", node.as_str().unwrap_or("")),
            )),
            Err(e) => Err(self.err_at(node, format!("`{}`: {e}", node.as_str().unwrap_or("")))),
        }
    }
}

/// What a kustomization accumulates, as kustomize's `ResAccumulator`: the
/// objects, the field specs its and its bases' `configurations:` add (see
/// `config`), and the vars declared so far.
#[derive(Default)]
pub(crate) struct Acc {
    pub(crate) res: Vec<Res>,
    pub(crate) cfg: config::Config,
    pub(crate) vars: Vec<vars::Var>,
}

/// Builds one kustomization directory (`component` when it is reached
/// through `components:`).
fn build(dir: &Path, visiting: &mut HashSet<PathBuf>, component: bool) -> Result<Acc, RenderError> {
    let mut acc = Acc::default();
    build_into(dir, visiting, component, &mut acc)?;
    Ok(acc)
}

fn build_into(
    dir: &Path,
    visiting: &mut HashSet<PathBuf>,
    component: bool,
    acc: &mut Acc,
) -> Result<(), RenderError> {
    let file = kustomization_file(dir).ok_or_else(|| {
        err(
            dir,
            0,
            "no kustomization.yaml, kustomization.yml or Kustomization here",
        )
    })?;
    if !cache::spend_build() {
        return Err(err(
            &file,
            0,
            format!(
                "more than {} kustomization builds in one rendering (a base reached through very many paths): not rendered",
                cache::MAX_BUILDS
            ),
        ));
    }
    let canon = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if !visiting.insert(canon.clone()) {
        return Err(err(&file, 0, "kustomization cycle"));
    }
    let docs = read_docs(&file)?;
    let empty = Node::new(Value::Map(Vec::new()));
    let root = docs.first().unwrap_or(&empty);
    if !matches!(root.value, Value::Map(_)) {
        return Err(err(
            &file,
            root.span.line,
            "a kustomization must be a mapping",
        ));
    }
    let k = Kust {
        dir,
        file: &file,
        root,
    };
    let kind = root.field("kind").as_str().unwrap_or("Kustomization");
    if component && kind != "Component" {
        return Err(k.err(
            "kind",
            format!("expected kind Component for a component, found {kind}"),
        ));
    }
    for e in root.entries() {
        if UNSUPPORTED.contains(&e.key.as_str()) {
            return Err(err(
                &file,
                e.key_span.line,
                format!("`{}` is not supported by the built-in renderer", e.key),
            ));
        }
        if !SUPPORTED.contains(&e.key.as_str()) {
            return Err(err(
                &file,
                e.key_span.line,
                format!("unknown kustomization field `{}`", e.key),
            ));
        }
    }
    // Read here for its errors; only the top kustomization's is used (see
    // `render`), as kustomize does.
    if let Some(opts) = root.get("sortOptions") {
        sort_order(opts).map_err(|m| k.err_at(opts, m))?;
    }

    // resources, then bases (both accumulate in order).
    let mut own: Acc = if component {
        std::mem::take(acc)
    } else {
        Acc::default()
    };
    for key in ["resources", "bases"] {
        for item in root.field(key).items() {
            let path = k.path(item)?;
            if path.is_dir() {
                let sub = build(&path, visiting, false).map_err(|e| {
                    if e.line == 0 && e.file == path {
                        k.err_at(item, e.message)
                    } else {
                        e
                    }
                })?;
                absorb(&mut own.res, sub.res, &k, item)?;
                own.cfg
                    .merge(&sub.cfg)
                    .map_err(|m| k.err_at(item, format!("merging its configuration: {m}")))?;
                vars::add(&mut own.vars, &sub.vars)?;
            } else if path.is_file() {
                let sub = read_resources(&k.confined(item, path)?)?;
                absorb(&mut own.res, sub, &k, item)?;
            } else {
                return Err(k.err_at(
                    item,
                    format!("`{}` does not exist", item.as_str().unwrap_or("")),
                ));
            }
        }
    }
    let extras = config::load(&k)?;
    own.cfg
        .merge(&extras)
        .map_err(|m| k.err("configurations", format!("configuration: {m}")))?;
    gen::run_generators(&k, &mut own.res)?;
    for item in root.field("components").items() {
        let path = k.path(item)?;
        if !path.is_dir() {
            return Err(k.err_at(item, "a component must be a directory"));
        }
        build_into(&path, visiting, true, &mut own)?;
    }
    transform::run_transformers(&k, &mut own.res, &own.cfg)?;
    let declared = vars::parse(&k)?;
    vars::merge(&declared, &mut own.res, &mut own.vars)?;
    visiting.remove(&canon);
    if component {
        *acc = own;
    } else {
        acc.res.extend(own.res);
        acc.cfg = own.cfg;
        acc.vars = own.vars;
    }
    Ok(())
}

/// Appends `sub` to `acc`, refusing an object whose id is already there.
fn absorb(acc: &mut Vec<Res>, sub: Vec<Res>, k: &Kust<'_>, at: &Node) -> Result<(), RenderError> {
    for r in sub {
        if acc.iter().any(|o| same_id(o, &r)) {
            return Err(k.err_at(
                at,
                format!(
                    "may not add resource with an already registered id: {}/{} {}",
                    r.obj.kind(),
                    r.obj.name(),
                    r.obj.namespace()
                ),
            ));
        }
        acc.push(r);
    }
    Ok(())
}

pub(crate) fn same_id(a: &Res, b: &Res) -> bool {
    a.obj.kind() == b.obj.kind()
        && a.group() == b.group()
        && a.obj.name() == b.obj.name()
        && a.obj.namespace() == b.obj.namespace()
}

/// Kustomize's default (legacy) output order.
/// Kinds the legacy order puts first, in order.
const LEGACY_FIRST: [&str; 22] = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
/// Kinds the legacy order puts last, in order.
const LEGACY_LAST: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn sort_legacy(res: &mut [Res], first: &[&str], last: &[&str]) {
    let order = |kind: &str| -> i64 {
        if let Some(i) = first.iter().position(|k| *k == kind) {
            i as i64 - first.len() as i64
        } else if let Some(i) = last.iter().position(|k| *k == kind) {
            1 + i as i64
        } else {
            0
        }
    };
    let gvk = |r: &Res| {
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        format!(
            "{}_{}_{}",
            or(r.group(), "~G"),
            or(r.version(), "~V"),
            or(r.obj.kind(), "~K")
        )
    };
    res.sort_by(|a, b| {
        let (ka, kb) = (a.obj.kind(), b.obj.kind());
        let (ga, gb) = (gvk(a), gvk(b));
        if ga != gb {
            let (oa, ob) = (order(ka), order(kb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            if ka == "Namespace"
                && kb == "Namespace"
                && (a.group().is_empty() || b.group().is_empty())
            {
                return gb.cmp(&ga);
            }
            return ga.cmp(&gb);
        }
        let id = |r: &Res| {
            let ns = if r.obj.namespace().is_empty() {
                "~X"
            } else {
                r.obj.namespace()
            };
            let nm = if r.obj.name().is_empty() {
                "~N"
            } else {
                r.obj.name()
            };
            format!("{ns}|{nm}")
        };
        id(a).cmp(&id(b))
    });
}

// Helpers shared by the submodules.

pub(crate) fn str_node(s: &str, span: Span) -> Node {
    Node {
        value: Value::Str(CompactString::from(s)),
        span,
    }
}

pub(crate) fn map_node(span: Span) -> Node {
    Node {
        value: Value::Map(Vec::new()),
        span,
    }
}

/// The mutable value under `key`, inserted (as `make()`) when absent or null.
pub(crate) fn get_or_insert<'a>(
    node: &'a mut Node,
    key: &str,
    make: impl FnOnce() -> Node,
) -> Option<&'a mut Node> {
    let Value::Map(entries) = &mut node.value else {
        return None;
    };
    let i = match entries.iter().position(|e| e.key == key) {
        Some(i) => {
            if entries[i].value.is_null() {
                entries[i].value = make();
            }
            i
        }
        None => {
            let value = make();
            entries.push(Entry {
                key: CompactString::from(key),
                key_span: value.span,
                value,
            });
            entries.len() - 1
        }
    };
    Some(&mut entries[i].value)
}

pub(crate) fn get_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|e| e.key == key)
            .map(|e| &mut e.value),
        _ => None,
    }
}

/// Sets `key` to `value` in a mapping (replacing or appending).
pub(crate) fn set(node: &mut Node, key: &str, value: Node) {
    if let Value::Map(entries) = &mut node.value {
        if let Some(e) = entries.iter_mut().find(|e| e.key == key) {
            e.value = value;
        } else {
            entries.push(Entry {
                key: CompactString::from(key),
                key_span: value.span,
                value,
            });
        }
    }
}

/// The mutable node at a path of keys, if every step exists.
pub(crate) fn path_mut<'a>(node: &'a mut Node, keys: &[&str]) -> Option<&'a mut Node> {
    let mut n = node;
    for k in keys {
        n = get_mut(n, k)?;
    }
    Some(n)
}

/// A string map from a mapping node (scalar values as text).
pub(crate) fn string_map(node: &Node) -> BTreeMap<String, String> {
    node.entries()
        .iter()
        .filter_map(|e| e.value.scalar_text().map(|v| (e.key.to_string(), v)))
        .collect()
}
