//! The table of known kinds: where each keeps its pod templates and replica
//! counts, which kinds are cluster-scoped, and which API resource names them.
//! It is data (`kinds.yaml`), and users extend it from their config file.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::de::from_node;
use crate::yaml::{parse_stream, Limits};
use crate::Error;

/// One place in an object where a pod is described.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSource {
    /// Absolute pattern of the node holding one pod (`*` = every item/key).
    #[serde(default)]
    pub each: Option<String>,
    /// Relative path of a PodTemplateSpec.
    #[serde(default)]
    pub template: Option<String>,
    /// Relative path of a PodSpec.
    #[serde(default)]
    pub pod: Option<String>,
    /// Relative path of the pod's metadata (with `pod`).
    #[serde(default)]
    pub meta: Option<String>,
    /// Absolute path of shared pod-level fields.
    #[serde(default)]
    pub base: Option<String>,
    /// Relative patterns of extra containers.
    #[serde(default)]
    pub containers: Vec<String>,
    /// Relative patterns of extra init containers.
    #[serde(default)]
    pub init_containers: Vec<String>,
    /// Replicas: relative path, absolute path or number.
    #[serde(default)]
    pub replicas: Option<Count>,
    /// Lower autoscaling bound.
    #[serde(default)]
    pub min_replicas: Option<Count>,
    /// Upper autoscaling bound.
    #[serde(default)]
    pub max_replicas: Option<Count>,
    /// Role name, with `{key}` and `{field}` substitution.
    #[serde(default)]
    pub name: Option<String>,
    /// Relative path of an embedded object of another kind.
    #[serde(default)]
    pub embedded: Option<String>,
}

/// A replica count: where to read it, or a fixed number.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Count {
    /// A fixed number.
    Fixed(u32),
    /// A path (relative to `each`, or absolute with a leading `/`).
    Path(String),
}

/// What the table says of one kind.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KindSpec {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name, as RBAC rules name it.
    #[serde(default)]
    pub resource: Option<String>,
    /// Where its pods are described.
    #[serde(default)]
    pub pods: Vec<PodSource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TableFile {
    #[serde(default)]
    kinds: Vec<KindSpec>,
    #[serde(default)]
    cluster_scoped: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    audited: BTreeMap<String, Vec<String>>,
}

/// The table of known kinds.
#[derive(Clone, Debug, Default)]
pub struct KindTable {
    /// group -> kind -> entry: looked up by `&str`, without building a
    /// key (every object and workload is looked up, several times).
    by_kind: FxHashMap<String, FxHashMap<String, KindSpec>>,
    cluster_scoped: FxHashMap<String, Vec<String>>,
    /// Kinds without pods that a rule or an analysis reads.
    audited: FxHashMap<String, Vec<String>>,
}

const BUILTIN: &str = include_str!("../kinds.yaml");

impl KindTable {
    /// The built-in table.
    pub fn builtin() -> &'static KindTable {
        static T: OnceLock<KindTable> = OnceLock::new();
        T.get_or_init(|| {
            let mut t = KindTable::default();
            t.extend_from_yaml(BUILTIN)
                .expect("the built-in kinds.yaml is valid");
            t
        })
    }

    /// Adds (or replaces) entries from YAML text in the `kinds.yaml` shape.
    pub fn extend_from_yaml(&mut self, text: &str) -> crate::Result<()> {
        let (docs, err) = parse_stream(text, Limits::default());
        if let Some(e) = err {
            return Err(Error::Kinds(format!("{}:{}: {}", e.line, e.col, e.message)));
        }
        for d in docs {
            let f: TableFile = from_node(&d.root)
                .map_err(|e| Error::Kinds(format!("{} at {}", e.message, e.pointer)))?;
            self.add(f.kinds);
            for (g, kinds) in f.cluster_scoped {
                self.cluster_scoped.entry(g).or_default().extend(kinds);
            }
            for (g, kinds) in f.audited {
                self.audited.entry(g).or_default().extend(kinds);
            }
        }
        Ok(())
    }

    /// Adds (or replaces) kind entries.
    pub fn add(&mut self, kinds: Vec<KindSpec>) {
        for k in kinds {
            self.by_kind
                .entry(k.group.clone())
                .or_default()
                .insert(k.kind.clone(), k);
        }
    }

    /// The entry for a group and kind.
    pub fn get(&self, group: &str, kind: &str) -> Option<&KindSpec> {
        self.by_kind.get(group)?.get(kind)
    }

    /// Every entry that describes pods, sorted by group and kind.
    pub fn pod_kinds(&self) -> Vec<&KindSpec> {
        let mut v: Vec<_> = self
            .by_kind
            .values()
            .flat_map(|kinds| kinds.values())
            .filter(|k| !k.pods.is_empty())
            .collect();
        v.sort_by(|a, b| (&a.group, &a.kind).cmp(&(&b.group, &b.kind)));
        v
    }

    /// Whether an object of this kind is audited: it describes pods, or a
    /// rule or an analysis reads it.
    pub fn audited(&self, group: &str, kind: &str) -> bool {
        self.get(group, kind).is_some()
            || self
                .audited
                .get(group)
                .is_some_and(|v| v.iter().any(|k| k == kind))
    }

    /// The groups other than `group` that the table knows `kind` under
    /// (`apps` for a `Deployment`), sorted.
    pub fn groups_of(&self, kind: &str, group: &str) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .by_kind
            .iter()
            .filter(|(g, kinds)| g.as_str() != group && kinds.contains_key(kind))
            .map(|(g, _)| g.as_str())
            .chain(
                self.audited
                    .iter()
                    .filter(|(g, kinds)| g.as_str() != group && kinds.iter().any(|k| k == kind))
                    .map(|(g, _)| g.as_str()),
            )
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether a kind is cluster-scoped.
    pub fn cluster_scoped(&self, group: &str, kind: &str) -> bool {
        self.cluster_scoped
            .get(group)
            .is_some_and(|v| v.iter().any(|k| k == kind))
    }
}

/// Whether a kind is cluster-scoped, by the built-in table.
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    KindTable::builtin().cluster_scoped(group, kind)
}
