//! Kubernetes objects as loaded: identity, metadata, and the raw tree.

use std::collections::BTreeMap;

use crate::node::{Node, Span};

/// Index of a source file in an [`crate::Inventory`].
pub type FileId = usize;
/// Index of an object in an [`crate::Inventory`].
pub type ObjectId = usize;

/// A source file that was read.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given or found (`-` for standard input).
    pub path: String,
    /// The full text.
    pub text: String,
    /// Byte offsets of the `#` of its YAML comments, when it holds a
    /// suppression marker (`# ml-audit:`) at all; empty otherwise, and
    /// always for JSON, which has no comments. A `#` inside a scalar (a
    /// ConfigMap value, a block scalar's line) is never one.
    pub comments: Vec<usize>,
}

/// One Kubernetes object (a document, or an item of a `List`).
#[derive(Debug)]
pub struct Object {
    /// Its index in the inventory.
    pub id: ObjectId,
    /// The file it came from.
    pub file: FileId,
    /// Which document of the file (0-based).
    pub doc: usize,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name` (or `generateName`), empty when absent.
    pub name: String,
    /// `metadata.namespace` as written.
    pub namespace: Option<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// The whole object.
    pub root: Node,
    /// For an object rendered from a kustomization: who wrote which subtree,
    /// in the order written (the first entry is the resource file,
    /// [`Object::file`]). Empty for an object read as it is written: every
    /// node is then in [`Object::file`]. See [`crate::Inventory::place`].
    pub origins: Vec<Written>,
    /// The unit that rendered it (an index into
    /// [`crate::Inventory::units`]); `None` for an object read from a
    /// plain file.
    pub unit: Option<u32>,
}

/// One entry of [`Object::origins`]: the subtree at `pointer` (until a
/// later entry) was written by `file`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// JSON pointer of the subtree in the rendered object.
    pub pointer: Box<str>,
    /// The file that wrote it.
    pub file: FileId,
    /// The line in `file` of the kustomization entry that wrote it, 0 when
    /// the nodes carry their own spans in `file` (a resource, a patch).
    pub line: u32,
    /// Only values were rewritten (`images:`, a replacement, a var): the
    /// nodes keep the spans they had, in the file of an earlier entry.
    pub keeps_span: bool,
}

impl Written {
    /// Whether this entry covers the node at `pointer` (a prefix of it, on a
    /// token boundary).
    pub fn covers(&self, pointer: &str) -> bool {
        let p: &str = &self.pointer;
        pointer == p || (pointer.starts_with(p) && pointer.as_bytes().get(p.len()) == Some(&b'/'))
    }
}

impl Object {
    /// The API group (`""` for the core group). The kinds that
    /// `extensions/v1beta1` served before Kubernetes 1.16 and 1.22 are in
    /// the group that serves them today (`apps`, `networking.k8s.io`,
    /// `policy`), so that they are audited as the kind they are.
    pub fn group(&self) -> &str {
        match self.api_version.rsplit_once('/') {
            Some(("extensions", _)) => legacy_extensions_group(&self.kind),
            Some((g, _)) => g,
            None => "",
        }
    }

    /// Whether this kind lives in a namespace.
    pub fn is_namespaced(&self) -> bool {
        !crate::kinds::is_cluster_scoped(self.group(), &self.kind)
    }

    /// The namespace the object lands in: its own, `default` when a
    /// namespaced object names none, `None` for cluster-scoped kinds.
    pub fn effective_namespace(&self) -> Option<&str> {
        if !self.is_namespaced() {
            return None;
        }
        Some(self.namespace.as_deref().unwrap_or("default"))
    }

    /// The span of a JSON pointer inside the object.
    pub fn locate(&self, pointer: &str) -> Span {
        self.root.locate(pointer)
    }

    /// A reference to this object, for findings.
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.effective_namespace().map(str::to_string),
            name: self.name.clone(),
        }
    }

    /// `Kind namespace/name` (or `Kind name`), for messages.
    pub fn display_name(&self) -> String {
        match self.effective_namespace() {
            Some(ns) => format!("{} {}/{}", self.kind, ns, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// Identity of an object, as findings name it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ObjectRef {
    /// `apiVersion`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace (absent for cluster-scoped kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// Where a kind `extensions/v1beta1` served lives today.
fn legacy_extensions_group(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" => "apps",
        "Ingress" | "NetworkPolicy" => "networking.k8s.io",
        "PodSecurityPolicy" => "policy",
        _ => "extensions",
    }
}

pub(crate) fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(n) = node {
        for e in n.entries() {
            if let Some(v) = e.value.scalar_text() {
                out.insert(e.key.to_string(), v);
            }
        }
    }
    out
}
