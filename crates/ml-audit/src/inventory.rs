//! The inventory: every object and workload, indexed.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHasher};

use crate::kinds::KindTable;
use crate::load::{Diagnostic, Loaded};
use crate::node::Span;
use crate::object::{Object, ObjectId, SourceFile};
use crate::workload::{extract, Workload};

/// A namespace, declared or only referenced.
#[derive(Clone, Debug, Default)]
pub struct NamespaceInfo {
    /// The Namespace object, when the input has one.
    pub object: Option<ObjectId>,
    /// Its labels (with the automatic `kubernetes.io/metadata.name`).
    pub labels: BTreeMap<String, String>,
}

/// Everything loaded, indexed for the analyses and rules.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Source files, by [`crate::FileId`].
    pub files: Vec<SourceFile>,
    /// Objects, by [`ObjectId`].
    pub objects: Vec<Object>,
    /// Every pod template found.
    pub workloads: Vec<Workload>,
    /// Problems with the input.
    pub diagnostics: Vec<Diagnostic>,
    /// What the walks of directories left out, by reason.
    pub skipped: crate::walk::Skipped,
    /// The units of the input (see [`crate::find_units`]), when it holds
    /// a kustomization: [`Object::unit`] indexes them.
    pub units: Vec<crate::Unit>,
    /// Objects that were not audited, by apiVersion, kind and reason
    /// (see [`crate::coverage`]).
    pub not_audited: Vec<crate::coverage::NotAudited>,
    /// Namespaces (declared or referenced), by name.
    pub namespaces: BTreeMap<String, NamespaceInfo>,
    by_kind: HashMap<String, Vec<ObjectId>>,
    by_ns: HashMap<String, Vec<ObjectId>>,
    /// By a hash of (kind, namespace or `""`, name): no key strings are
    /// allocated to build or to look up; matches are checked on the objects.
    by_name: HashMap<u64, Vec<ObjectId>>,
    /// The kinds table the workloads were found with (`None`: the
    /// built-in one). Every analysis reads it, so that kinds a config
    /// teaches are known everywhere.
    kinds: Option<Arc<KindTable>>,
}

/// Where a node is written: see [`Inventory::place`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place<'a> {
    /// The file.
    pub file: &'a str,
    /// Where in it.
    pub span: Span,
    /// The file and line of the kustomization entry that rewrote the value
    /// in place, if one did.
    pub rewritten_by: Option<(&'a str, u32)>,
}

/// The lookup tables of an [`Inventory`].
#[derive(Default)]
struct Indexes {
    namespaces: BTreeMap<String, NamespaceInfo>,
    by_kind: HashMap<String, Vec<ObjectId>>,
    by_ns: HashMap<String, Vec<ObjectId>>,
    by_name: HashMap<u64, Vec<ObjectId>>,
}

impl Indexes {
    fn of(objects: &[Object]) -> Indexes {
        let mut inv = Indexes::default();
        for o in objects {
            inv.by_kind.entry(o.kind.clone()).or_default().push(o.id);
            if let Some(ns) = o.effective_namespace() {
                inv.by_ns.entry(ns.to_string()).or_default().push(o.id);
                inv.namespaces.entry(ns.to_string()).or_default();
            }
            inv.by_name
                .entry(name_key(
                    &o.kind,
                    o.effective_namespace().unwrap_or(""),
                    &o.name,
                ))
                .or_default()
                .push(o.id);
            if o.kind == "Namespace" && o.group().is_empty() {
                let info = inv.namespaces.entry(o.name.clone()).or_default();
                info.object = Some(o.id);
                info.labels = o.labels.clone();
            }
        }
        for (name, info) in inv.namespaces.iter_mut() {
            info.labels
                .insert("kubernetes.io/metadata.name".into(), name.clone());
        }
        inv
    }
}

impl Inventory {
    /// Builds the inventory from loaded input with the built-in kinds table.
    pub fn new(loaded: Loaded) -> Inventory {
        Inventory::with_kinds(loaded, KindTable::builtin())
    }

    /// The inventory of one text (YAML or JSON, any number of documents),
    /// reported under `name`, loaded with the default options.
    pub fn from_text(name: &str, text: &str) -> Inventory {
        Inventory::new(crate::load::load(
            &[crate::load::Input::Text {
                name: name.to_string(),
                text: text.to_string(),
            }],
            &crate::load::LoadOptions::default(),
        ))
    }

    /// The kinds table this inventory was built with: the built-in one,
    /// or the one given to [`Inventory::with_kinds`] (a config's `kinds:`).
    pub fn kinds(&self) -> &KindTable {
        self.kinds.as_deref().unwrap_or(KindTable::builtin())
    }

    /// The kinds table, shared (`None`: the built-in one).
    pub(crate) fn shared_kinds(&self) -> Option<Arc<KindTable>> {
        self.kinds.clone()
    }

    /// Builds the inventory with a given kinds table.
    pub fn with_kinds(loaded: Loaded, table: &KindTable) -> Inventory {
        let Loaded {
            files,
            mut objects,
            mut diagnostics,
            skipped,
            units,
        } = loaded;
        let unmerged = crate::coverage::prepare(&mut objects, &files, &mut diagnostics);
        // The pod templates are extracted in parallel while the indexes,
        // which do not need them, are built on another thread.
        let (per_object, indexes) = rayon::join(
            || {
                objects
                    .par_iter()
                    .map(|o| {
                        let mut w = Vec::new();
                        let mut d = Vec::new();
                        extract(table, o, &files[o.file].path, &mut w, &mut d);
                        (w, d)
                    })
                    .collect::<Vec<(Vec<Workload>, Vec<Diagnostic>)>>()
            },
            || Indexes::of(&objects),
        );
        // Sized once: growing by doubling copied the 1.7 KB workloads over
        // and over, on one thread.
        let mut workloads = Vec::with_capacity(per_object.iter().map(|(w, _)| w.len()).sum());
        for (w, d) in per_object {
            workloads.extend(w);
            diagnostics.extend(d);
        }
        let (not_audited, d) =
            crate::coverage::check(table, &objects, &workloads, &files, &unmerged);
        diagnostics.extend(d);
        Inventory {
            files,
            objects,
            workloads,
            diagnostics,
            skipped,
            units,
            not_audited,
            namespaces: indexes.namespaces,
            by_kind: indexes.by_kind,
            by_ns: indexes.by_ns,
            by_name: indexes.by_name,
            kinds: (!std::ptr::eq(table, KindTable::builtin())).then(|| Arc::new(table.clone())),
        }
    }

    /// The object with this id.
    pub fn object(&self, id: ObjectId) -> &Object {
        &self.objects[id]
    }

    /// The path of the file an object came from (for a rendered object,
    /// the resource file it was read from; see [`Inventory::place`]).
    pub fn file_of(&self, obj: &Object) -> &str {
        &self.files[obj.file].path
    }

    /// Where the node at `pointer` of `obj` is written: the file and span
    /// to change. For an object read as written, that is its file and
    /// [`Object::locate`]. For a rendered object, it is the file of the
    /// last writer of the deepest node that exists on the way (a patch, the
    /// base, the kustomization that made the node up); a value only
    /// rewritten by the kustomization (`images:`, a replacement) keeps the
    /// place it is written at, and `rewritten_by` names the kustomization
    /// line that changed it.
    pub fn place(&self, obj: &Object, pointer: &str) -> Place<'_> {
        if obj.origins.is_empty() {
            return Place {
                file: &self.files[obj.file].path,
                span: obj.locate(pointer),
                rewritten_by: None,
            };
        }
        let (mut span, len) = obj.root.locate_prefix(pointer);
        let found = &pointer[..len];
        let mut file = obj.file;
        let mut rewritten_by = None;
        for w in obj.origins.iter().rev().filter(|w| w.covers(found)) {
            if w.keeps_span {
                if rewritten_by.is_none() && w.line > 0 {
                    rewritten_by = Some((self.files[w.file].path.as_str(), w.line));
                }
                continue;
            }
            file = w.file;
            if span.line == 0 && w.line > 0 {
                span = Span::point(w.line, 1);
            }
            break;
        }
        Place {
            file: &self.files[file].path,
            span,
            rewritten_by,
        }
    }

    /// Objects of a kind (any group), in load order.
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.by_kind
            .get(kind)
            .into_iter()
            .flatten()
            .map(|id| &self.objects[*id])
    }

    /// Objects in a namespace, in load order.
    pub fn in_namespace<'a>(&'a self, ns: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.by_ns
            .get(ns)
            .into_iter()
            .flatten()
            .map(|id| &self.objects[*id])
    }

    /// Objects by kind, namespace (`""` for cluster-scoped) and name.
    pub fn lookup<'a>(
        &'a self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> impl Iterator<Item = &'a Object> + 'a {
        let matched: Vec<&'a Object> = self
            .by_name
            .get(&name_key(kind, namespace, name))
            .into_iter()
            .flatten()
            .map(|id| &self.objects[*id])
            .filter(|o| {
                o.kind == kind
                    && o.name == name
                    && o.effective_namespace().unwrap_or("") == namespace
            })
            .collect();
        matched.into_iter()
    }

    /// Labels of a namespace, if the input declares it with a Namespace object.
    pub fn namespace_labels(&self, ns: &str) -> Option<&BTreeMap<String, String>> {
        self.namespaces
            .get(ns)
            .filter(|i| i.object.is_some())
            .map(|i| &i.labels)
    }
}

fn name_key(kind: &str, namespace: &str, name: &str) -> u64 {
    let mut h = FxHasher::default();
    (kind, namespace, name).hash(&mut h);
    h.finish()
}
