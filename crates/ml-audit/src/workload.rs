//! Workloads: every pod template of every object, ML CRDs included, found
//! through the kinds table.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};

use crate::de::from_node;
use crate::kinds::{Count, KindTable, PodSource};
use crate::load::{Diagnostic, Level};
use crate::node::{Entry, Node, Pointer, Value};
use crate::object::{string_map, Object, ObjectId};

/// Which list a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerKind {
    /// `initContainers` (sidecars with `restartPolicy: Always` included).
    Init,
    /// `containers` (and containers a CRD adds, such as KServe's `model`).
    App,
    /// `ephemeralContainers`.
    Ephemeral,
}

/// A container of a workload, with where it is written.
#[derive(Clone, Debug)]
pub struct ContainerRef {
    /// Which list it belongs to.
    pub kind: ContainerKind,
    /// Its name (`name:`), or `#N` when it has none.
    pub name: String,
    /// JSON pointer of the container inside the object.
    pub pointer: Pointer,
    /// The typed container.
    pub spec: Container,
}

/// One pod template of an object: a Deployment's template, a RayCluster
/// worker group, a PyTorchJob replica spec, an Argo template, ...
#[derive(Clone, Debug)]
pub struct Workload {
    /// The object it belongs to.
    pub object: ObjectId,
    /// Its role in the object (`head`, `worker gpu-group`, `Worker`, ...);
    /// empty for objects with one pod template.
    pub role: String,
    /// The namespace its pods run in (`None` for a cluster-scoped template
    /// holder such as a ClusterServingRuntime).
    pub namespace: Option<String>,
    /// JSON pointer of the pod spec inside the object.
    pub pod_pointer: Pointer,
    /// Pod-level fields that come from somewhere else than `pod_pointer`
    /// (Argo templates inherit from the workflow spec): field -> pointer.
    pub field_origins: BTreeMap<String, Pointer>,
    /// JSON pointer of the pod metadata, when there is one.
    pub meta_pointer: Option<Pointer>,
    /// Pod labels.
    pub labels: BTreeMap<String, String>,
    /// Pod annotations.
    pub annotations: BTreeMap<String, String>,
    /// Replicas as declared (1 when not said).
    pub replicas: u32,
    /// Lower autoscaling bound (= replicas when not autoscaled).
    pub min_replicas: u32,
    /// Upper autoscaling bound (= replicas when not autoscaled).
    pub max_replicas: u32,
    /// The typed pod spec: pod-level fields only. Its container lists are
    /// empty: every container (with its pointer) is in `containers`. Boxed:
    /// a `PodSpec` is about 1.5 KB before any of its strings, and the
    /// inventory moves every workload into one vector.
    pub spec: Box<PodSpec>,
    /// Every container: init, app (with CRD extras) and ephemeral.
    pub containers: Vec<ContainerRef>,
}

impl Workload {
    /// Pointer of a pod-level field (`hostNetwork`, `securityContext`, ...).
    pub fn field_pointer(&self, field: &str) -> Pointer {
        match self.field_origins.get(field) {
            Some(p) => p.clone(),
            None => self.pod_pointer.key(field),
        }
    }

    /// The ServiceAccount its pods run as, and whether the spec names it
    /// (`serviceAccountName`, else the deprecated `serviceAccount`; an
    /// empty name is no name): otherwise `default`.
    pub fn service_account(&self) -> (&str, bool) {
        #[allow(deprecated)]
        let named = self
            .spec
            .service_account_name
            .as_deref()
            .or(self.spec.service_account.as_deref())
            .filter(|s| !s.is_empty());
        match named {
            Some(n) => (n, true),
            None => ("default", false),
        }
    }

    /// Containers of one kind.
    pub fn containers_of(&self, kind: ContainerKind) -> impl Iterator<Item = &ContainerRef> {
        self.containers.iter().filter(move |c| c.kind == kind)
    }

    /// `Kind ns/name` plus the role, for messages.
    pub fn describe(&self, obj: &Object) -> String {
        if self.role.is_empty() {
            obj.display_name()
        } else {
            format!("{} ({})", obj.display_name(), self.role)
        }
    }
}

/// Matches a pattern (`a/*/b`, `.` = here) under a node: (pointer, node, key).
fn expand<'a>(
    node: &'a Node,
    at: &Pointer,
    pattern: &str,
) -> Vec<(Pointer, &'a Node, Option<String>)> {
    let mut cur = vec![(at.clone(), node, None)];
    for seg in pattern.split('/').filter(|s| !s.is_empty() && *s != ".") {
        let mut next = Vec::new();
        for (p, n, key) in cur {
            if seg == "*" {
                match &n.value {
                    Value::Seq(items) => {
                        for (i, it) in items.iter().enumerate() {
                            next.push((p.idx(i), it, Some(i.to_string())));
                        }
                    }
                    Value::Map(entries) => {
                        for e in entries {
                            next.push((p.key(&e.key), &e.value, Some(e.key.to_string())));
                        }
                    }
                    _ => {}
                }
            } else if let Some(child) = n.get(seg) {
                next.push((p.key(seg), child, key));
            }
        }
        cur = next;
    }
    cur
}

fn read_count(count: &Option<Count>, root: &Node, each: &Node) -> Option<u32> {
    match count.as_ref()? {
        Count::Fixed(n) => Some(*n),
        Count::Path(p) => {
            let node = if p.starts_with('/') {
                root.pointer(p)?
            } else {
                expand(each, &Pointer::root(), p).into_iter().next()?.1
            };
            match &node.value {
                Value::Int(i) => u32::try_from(*i).ok(),
                Value::Str(s) => s.parse().ok(),
                _ => None,
            }
        }
    }
}

fn role_name(template: &Option<String>, each: &Node, key: &Option<String>) -> String {
    let Some(t) = template else {
        return String::new();
    };
    let mut out = String::new();
    let mut rest = t.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if name == "key" {
            out.push_str(key.as_deref().unwrap_or(""));
        } else {
            out.push_str(&each.field(name).scalar_text().unwrap_or_default());
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// Finds the workloads of one object. Shape errors become diagnostics.
pub fn extract(
    table: &KindTable,
    obj: &Object,
    file: &str,
    out: &mut Vec<Workload>,
    diags: &mut Vec<Diagnostic>,
) {
    extract_at(
        table,
        obj,
        &obj.root,
        &Pointer::root(),
        obj.group(),
        &obj.kind,
        file,
        out,
        diags,
        0,
    );
}

#[allow(clippy::too_many_arguments)]
fn extract_at(
    table: &KindTable,
    obj: &Object,
    root: &Node,
    at: &Pointer,
    group: &str,
    kind: &str,
    file: &str,
    out: &mut Vec<Workload>,
    diags: &mut Vec<Diagnostic>,
    depth: usize,
) {
    let Some(spec) = table.get(group, kind) else {
        return;
    };
    for src in &spec.pods {
        let each_pattern = src.each.as_deref().unwrap_or("");
        for (each_ptr, each, key) in expand(root, at, each_pattern.trim_start_matches('/')) {
            if let Some(emb) = &src.embedded {
                if depth < 4 {
                    for (p, n, _) in expand(each, &each_ptr, emb) {
                        let (Some(av), Some(k)) = (
                            n.get("apiVersion").and_then(Node::as_str),
                            n.get("kind").and_then(Node::as_str),
                        ) else {
                            continue;
                        };
                        let g = av.rsplit_once('/').map_or("", |(g, _)| g);
                        let first = out.len();
                        extract_at(table, obj, n, &p, g, k, file, out, diags, depth + 1);
                        // The role names the embedded object: an AppWrapper
                        // holds several, each of its own kind.
                        let name = n.field("metadata").field("name").as_str().unwrap_or("");
                        let whose = format!("{k} {name}");
                        let whose = whose.trim_end();
                        for w in &mut out[first..] {
                            w.role = if w.role.is_empty() {
                                whose.to_string()
                            } else {
                                format!("{whose} {}", w.role)
                            };
                        }
                    }
                }
                continue;
            }
            match one(table, obj, root, src, &each_ptr, each, &key) {
                Ok(Some(w)) => out.push(w),
                Ok(None) => {}
                Err((pointer, message)) => {
                    let span = obj.locate(pointer.as_str());
                    diags.push(Diagnostic {
                        level: Level::Error,
                        file: file.to_string(),
                        line: span.line,
                        col: span.col,
                        message: format!(
                            "{}: `{}` is not a valid pod spec: {message}; this pod template was not audited",
                            obj.display_name(),
                            pointer
                        ),
                    });
                }
            }
        }
    }
}

fn one(
    _table: &KindTable,
    obj: &Object,
    root: &Node,
    src: &PodSource,
    each_ptr: &Pointer,
    each: &Node,
    key: &Option<String>,
) -> Result<Option<Workload>, (Pointer, String)> {
    if !matches!(each.value, Value::Map(_)) {
        return Ok(None);
    }
    let (pod_ptr, pod_node, meta) = if let Some(t) = &src.template {
        let Some((tp, tn, _)) = expand(each, each_ptr, t).into_iter().next() else {
            return Ok(None);
        };
        let Some(pn) = tn.get("spec") else {
            return Ok(None);
        };
        (
            tp.key("spec"),
            pn,
            tn.get("metadata").map(|m| (tp.key("metadata"), m)),
        )
    } else if let Some(p) = &src.pod {
        let Some((pp, pn, _)) = expand(each, each_ptr, p).into_iter().next() else {
            return Ok(None);
        };
        let meta = src
            .meta
            .as_ref()
            .and_then(|m| expand(each, each_ptr, m).into_iter().next())
            .map(|(p, n, _)| (p, n));
        (pp, pn, meta)
    } else {
        return Ok(None);
    };
    if !matches!(pod_node.value, Value::Map(_)) {
        return Err((pod_ptr, "expected a mapping".into()));
    }

    // Pod-level fields inherited from a base (Argo: the workflow spec).
    let mut field_origins = BTreeMap::new();
    let merged;
    let pod_view: &Node = match src.base.as_deref().and_then(|b| {
        let p = Pointer::parse(b);
        root.pointer(b).map(|n| (p, n))
    }) {
        Some((bp, base)) => {
            let mut entries: Vec<Entry> = Vec::new();
            for e in base.entries() {
                if pod_node.get(&e.key).is_none() && e.key != "templates" {
                    field_origins.insert(e.key.to_string(), bp.key(&e.key));
                    entries.push(e.clone());
                }
            }
            entries.extend(pod_node.entries().iter().cloned());
            merged = Node {
                value: Value::Map(entries),
                span: pod_node.span,
            };
            &merged
        }
        None => pod_node,
    };

    let spec: PodSpec = from_node(pod_view).map_err(|e| {
        let first = e.pointer.split('/').nth(1).unwrap_or("");
        let p = match field_origins.get(first) {
            Some(origin) => Pointer::parse(&format!("{}{}", origin, &e.pointer[first.len() + 1..])),
            None => Pointer::parse(&format!("{}{}", pod_ptr, e.pointer)),
        };
        (p, e.message)
    })?;

    let mut containers = Vec::new();
    let mut spec = spec;
    // A container list inherited from the base lives there, not in the template.
    let list_ptr = |field: &str| {
        field_origins
            .get(field)
            .cloned()
            .unwrap_or_else(|| pod_ptr.key(field))
    };
    let name_of = |c: &Container, i: usize| {
        if c.name.is_empty() {
            format!("#{i}")
        } else {
            c.name.clone()
        }
    };
    // The typed container specs move into `containers`: one copy each (a
    // `Container` is over 2 KB before any of its strings).
    for (i, c) in spec
        .init_containers
        .take()
        .into_iter()
        .flatten()
        .enumerate()
    {
        containers.push(ContainerRef {
            kind: ContainerKind::Init,
            name: name_of(&c, i),
            pointer: list_ptr("initContainers").idx(i),
            spec: c,
        });
    }
    for (i, c) in std::mem::take(&mut spec.containers).into_iter().enumerate() {
        containers.push(ContainerRef {
            kind: ContainerKind::App,
            name: name_of(&c, i),
            pointer: list_ptr("containers").idx(i),
            spec: c,
        });
    }
    spec.ephemeral_containers = None;
    let mut extra = |patterns: &[String], kind: ContainerKind| -> Result<(), (Pointer, String)> {
        for pat in patterns {
            for (p, n, _) in expand(each, each_ptr, pat) {
                if !matches!(n.value, Value::Map(_)) {
                    continue;
                }
                let c: Container = from_node(n)
                    .map_err(|e| (Pointer::parse(&format!("{}{}", p, e.pointer)), e.message))?;
                let name = if !c.name.is_empty() {
                    c.name.clone()
                } else if pat == "container" || pat == "script" {
                    // Argo names the container of a container/script template `main`.
                    "main".to_string()
                } else {
                    pat.trim_end_matches("/*").to_string()
                };
                containers.push(ContainerRef {
                    kind,
                    name,
                    pointer: p,
                    spec: c,
                });
            }
        }
        Ok(())
    };
    extra(&src.containers, ContainerKind::App)?;
    extra(&src.init_containers, ContainerKind::Init)?;
    if let Some(eph) = pod_node.get("ephemeralContainers") {
        for (i, n) in eph.items().iter().enumerate() {
            let p = pod_ptr.key("ephemeralContainers").idx(i);
            let c: Container = from_node(n)
                .map_err(|e| (Pointer::parse(&format!("{}{}", p, e.pointer)), e.message))?;
            containers.push(ContainerRef {
                kind: ContainerKind::Ephemeral,
                name: name_of(&c, i),
                pointer: p,
                spec: c,
            });
        }
    }
    if containers.is_empty() {
        return Ok(None);
    }

    let (labels, annotations, meta_pointer) = match meta {
        Some((p, m)) => (
            string_map(m.get("labels")),
            string_map(m.get("annotations")),
            Some(p),
        ),
        None => (obj.labels.clone(), obj.annotations.clone(), None),
    };
    let replicas = read_count(&src.replicas, root, each).unwrap_or(1);
    let min_replicas = read_count(&src.min_replicas, root, each).unwrap_or(replicas);
    let max_replicas = read_count(&src.max_replicas, root, each)
        .unwrap_or(replicas)
        .max(replicas);
    Ok(Some(Workload {
        object: obj.id,
        role: role_name(&src.name, each, key),
        namespace: obj.effective_namespace().map(str::to_string),
        pod_pointer: pod_ptr,
        field_origins,
        meta_pointer,
        labels,
        annotations,
        replicas,
        min_replicas,
        max_replicas,
        spec: Box::new(spec),
        containers,
    }))
}
