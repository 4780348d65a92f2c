//! # ml-audit-rule-sdk
//!
//! Write an [ml-audit](https://github.com/ml-audit/ml-audit) rule as a plain
//! Rust function and build it to a sandboxed WebAssembly module
//! (`wasm32-unknown-unknown`) that `kubectl ml-audit --plugin rule.wasm` runs.
//!
//! A rule is a function over one object, or over the whole inventory (for
//! cross-object checks); [`export_plugin!`] exports it with its metadata and
//! hides the ABI (`plugins/ABI.md` in the repository documents it).
//!
//! ```
//! use ml_audit_rule_sdk::prelude::*;
//!
//! const NO_LATEST: RuleInfo = RuleInfo {
//!     id: "acme-image-latest",
//!     title: "Images must not use the `latest` tag",
//!     severity: Severity::Medium,
//!     kinds: &[], // every kind that has pods
//!     reads: &["pods"], // only the pod specs are sent: faster
//!     options: &[OptionInfo {
//!         name: "tags",
//!         ty: OptionType::StringList,
//!         default: "[latest]",
//!         doc: "The tags that are refused.",
//!     }],
//!     doc: Doc {
//!         what: "Flags container images tagged `latest` or untagged.",
//!         why: "`latest` changes under your feet: two replicas may run different code.",
//!         example: "image: pytorch/pytorch:latest",
//!         use_instead: "image: pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
//!         references: &[],
//!     },
//! };
//!
//! fn no_latest(obj: &Object, cx: &Context) -> Vec<Finding> {
//!     let tags = cx.setting::<Vec<String>>("tags").unwrap_or_else(|| vec!["latest".into()]);
//!     obj.containers()
//!         .filter(|c| c.image().is_some_and(|i| tags.iter().any(|t| i.ends_with(&format!(":{t}")))))
//!         .map(|c| obj.finding(c.pointer_to("image"), "image uses a moving tag"))
//!         .collect()
//! }
//!
//! export_plugin!("acme-images", [object(no_latest, NO_LATEST)]);
//!
//! // The rule is plain Rust: test it natively, on the object as ml-audit
//! // sends it (only what the rule `reads`).
//! let obj = NO_LATEST.object(serde_json::json!({
//!     "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
//!     "spec": {"containers": [{"name": "c", "image": "x:latest"}]}
//! }));
//! let found = no_latest(&obj, &Context::default());
//! assert_eq!(found[0].pointer, "/spec/containers/0/image");
//! // `metadata` is not in `reads`: the rule would not see it.
//! assert!(obj.get("/metadata").is_none());
//! ```
//!
//! A function with another signature does not compile, and the error says
//! which signature to write:
//!
//! ```compile_fail
//! use ml_audit_rule_sdk::prelude::*;
//! const R: RuleInfo = RuleInfo {
//!     id: "r", title: "t", severity: Severity::Low, kinds: &[], reads: &[], options: &[],
//!     doc: Doc { what: "", why: "", example: "", use_instead: "", references: &[] },
//! };
//! // error[E0277]: `fn(&Object, usize) -> Vec<Finding> {bad}` is not an ml-audit object rule
//! //   = note: write the rule as `fn my_rule(obj: &Object, cx: &Context) -> Vec<Finding>` ...
//! fn bad(obj: &Object, n: usize) -> Vec<Finding> { Vec::new() }
//! export_plugin!("p", [object(bad, R)]);
//! ```
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
pub use serde_json::{self, json, Value};

mod tree;
pub use tree::{Array, ArrayIter, Key, Map, MapIter, Node};

/// The ABI version this SDK speaks (see `plugins/ABI.md`): 3, findings
/// replied in the binary encoding.
pub const ABI_VERSION: i32 = 3;

/// Everything a rule author needs: `use ml_audit_rule_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        export_plugin, json, pointer, Context, Doc, Finding, Inventory, Namespace, Node, Object,
        OptionInfo, OptionType, PodRef, RuleInfo, Severity, Value,
    };
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information only.
    Info,
    /// Hygiene; low risk.
    Low,
    /// A weakness to fix.
    Medium,
    /// A serious weakness.
    High,
    /// Exploitable as is.
    Critical,
}

impl Severity {
    /// Its name in the ABI (`medium`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The catalogue page of a rule, in the shape of the built-in ones.
#[derive(Clone, Copy, Debug)]
pub struct Doc {
    /// `## What it does`.
    pub what: &'static str,
    /// `## Why is this bad?`.
    pub why: &'static str,
    /// `## Example` (YAML).
    pub example: &'static str,
    /// `## Use instead` (YAML).
    pub use_instead: &'static str,
    /// `## References` (links).
    pub references: &'static [&'static str],
}

/// The type of a rule option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionType {
    /// `true` or `false`.
    Bool,
    /// A whole number, zero or more.
    Count,
    /// A string.
    String,
    /// A list of strings.
    StringList,
}

impl OptionType {
    /// Its name in the metadata (`string-list`).
    pub fn as_str(self) -> &'static str {
        match self {
            OptionType::Bool => "bool",
            OptionType::Count => "count",
            OptionType::String => "string",
            OptionType::StringList => "string-list",
        }
    }
}

/// An option a rule reads from its settings (`--set RULE.NAME=VALUE`, or
/// `rules: {RULE: {NAME: VALUE}}` in `.ml-audit.yaml`). ml-audit refuses
/// any option a rule does not declare, and a value of another type, before
/// the rule runs; `explain RULE` lists them.
#[derive(Clone, Copy, Debug)]
pub struct OptionInfo {
    /// The option's name (`allowed`).
    pub name: &'static str,
    /// The type of its value.
    pub ty: OptionType,
    /// The default, as it would be written in YAML (`[]`, `team`): what the
    /// rule does when the option is not given (the rule applies it itself;
    /// ml-audit shows it).
    pub default: &'static str,
    /// What it does, in one or two sentences.
    pub doc: &'static str,
}

/// What a rule is: id, title, default severity, the kinds it looks at, the
/// options it reads, and its documentation.
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    /// Stable id, kebab-case; must not clash with a built-in rule.
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Kinds the rule wants (`RayCluster`, or `ray.io/RayCluster`); empty:
    /// every object.
    pub kinds: &'static [&'static str],
    /// What the rule reads of each object: JSON pointers
    /// (`/metadata/labels`) and `pods` (every pod spec, wherever the kind
    /// keeps it). ml-audit then sends only those parts (the rest of the
    /// tree is absent, list items off every path are null), which makes a
    /// rule over large objects much cheaper. Empty: the whole object.
    pub reads: &'static [&'static str],
    /// The options it reads from its settings; empty: none (any option
    /// given to it is then an error).
    pub options: &'static [OptionInfo],
    /// The catalogue page.
    pub doc: Doc,
}

impl RuleInfo {
    /// The object as ml-audit sends it to this rule: only the parts its
    /// [`RuleInfo::reads`] declares (other keys absent, list items on no
    /// path `null`). Test a rule with it: a rule that looks outside its
    /// `reads` then sees nothing there, as it does when it runs.
    pub fn object(&self, json: Value) -> Object {
        Object::build(json, 0, Some(self.reads))
    }

    /// The inventory as ml-audit sends it to this inventory rule: the
    /// objects of its [`RuleInfo::kinds`] (each as [`RuleInfo::object`]
    /// sends it, indexed by its place in `objects`), and every namespace a
    /// Namespace object in `objects` declares (with its labels and the
    /// automatic `kubernetes.io/metadata.name`) or an object names.
    pub fn inventory(&self, objects: Vec<Value>) -> Inventory {
        let mut inv = Inventory::default();
        for (index, json) in objects.into_iter().enumerate() {
            let s = |p: &str| json.pointer(p).and_then(Value::as_str).map(str::to_string);
            let kind = s("/kind").unwrap_or_default();
            if kind == "Namespace" {
                if let Some(name) = s("/metadata/name") {
                    let mut labels: BTreeMap<String, String> = json
                        .pointer("/metadata/labels")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect();
                    labels.insert("kubernetes.io/metadata.name".into(), name.clone());
                    inv.namespaces.insert(
                        name,
                        Namespace {
                            labels,
                            declared: true,
                        },
                    );
                }
            } else if let Some(ns) = s("/metadata/namespace") {
                inv.namespaces.entry(ns).or_default();
            }
            let group = s("/apiVersion")
                .and_then(|a| a.split_once('/').map(|(g, _)| g.to_string()))
                .unwrap_or_default();
            let wanted = self.kinds.is_empty()
                || self.kinds.iter().any(|k| match k.split_once('/') {
                    Some((g, k)) => k == kind && g == group,
                    None => *k == kind,
                });
            if wanted {
                inv.objects
                    .push(Object::build(json, index, Some(self.reads)));
            }
        }
        inv
    }
}

/// A pod template inside an object, as the host found it (a Deployment's
/// template, each RayCluster group, each PyTorchJob replica spec, ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodRef<'a> {
    /// Role in the object (`head`, `worker gpu-group`, `Worker`); empty for
    /// objects with one pod template.
    pub role: &'a str,
    /// JSON pointer of the pod spec inside the object.
    pub pointer: &'a str,
}

/// Absent from the object document.
const NONE: usize = usize::MAX;

/// One Kubernetes object: its identity ([`Object::kind`],
/// [`Object::name`], [`Object::namespace`] ...), its pod templates
/// ([`Object::pods`]), and its whole tree ([`Object::root`],
/// [`Object::get`]), all read in place from what the host sent: nothing is
/// copied until a rule asks for it.
#[derive(Clone)]
pub struct Object {
    /// Its index in the inventory (findings name objects by it).
    pub index: usize,
    /// The encoded input this object is in.
    data: Rc<Vec<u8>>,
    /// Where the values of the document's fields start (their tags), or
    /// [`NONE`].
    file: usize,
    api_version: usize,
    kind: usize,
    name: usize,
    namespace: usize,
    pods: usize,
    root: usize,
}

impl Default for Object {
    fn default() -> Object {
        Object::from_json(Value::Null)
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("index", &self.index)
            .field("file", &self.file())
            .field("api_version", &self.api_version())
            .field("kind", &self.kind())
            .field("name", &self.name())
            .field("namespace", &self.namespace())
            .field("pods", &self.pods().collect::<Vec<_>>())
            .field("root", &self.root())
            .finish()
    }
}

/// A container of a pod template.
#[derive(Clone, Copy, Debug)]
pub struct ContainerAt<'a> {
    /// The pod template's role.
    pub role: &'a str,
    /// JSON pointer of the container.
    pub pointer: &'a str,
    /// Index within its list.
    pub index: usize,
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub list: &'static str,
    /// The container.
    pub value: Node<'a>,
    pod_pointer: &'a str,
}

impl<'a> ContainerAt<'a> {
    /// `name:`.
    pub fn name(&self) -> Option<&'a str> {
        self.value.get("name")?.as_str()
    }
    /// `image:`.
    pub fn image(&self) -> Option<&'a str> {
        self.value.get("image")?.as_str()
    }
    /// Pointer of a field of this container (`image`, `resources`).
    pub fn pointer_to(&self, field: &str) -> String {
        format!(
            "{}/{}/{}/{}",
            self.pod_pointer,
            self.list,
            self.index,
            escape(field)
        )
    }
}

impl Object {
    /// An object from its JSON alone, whole (for native tests of a rule;
    /// prefer [`RuleInfo::object`], which sends only what the rule
    /// `reads`, as ml-audit does).
    pub fn from_json(json: Value) -> Object {
        Object::build(json, 0, None)
    }

    /// The object document the host would send: `reads` applied (`None`:
    /// the whole object).
    fn build(json: Value, index: usize, reads: Option<&[&str]>) -> Object {
        let s = |p: &str| json.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let kind = s("/kind");
        let pod_pointers = guess_pods(kind, &json);
        let pods: Vec<Value> = pod_pointers
            .iter()
            .map(|p| json!({"role": "", "pointer": p}))
            .collect();
        let whole = reads.is_none_or(|r| r.is_empty() || r.contains(&""));
        let tree = if whole {
            json.clone()
        } else {
            let reads = reads.unwrap_or_default();
            let mut paths: Vec<&str> = reads.iter().copied().filter(|r| *r != "pods").collect();
            if reads.contains(&"pods") {
                paths.extend(pod_pointers.iter().copied());
            }
            sparse(&json, &paths)
        };
        // The document the host would send.
        let doc = json!({
            "index": index,
            "file": "",
            "apiVersion": s("/apiVersion"),
            "kind": kind,
            "name": s("/metadata/name"),
            "namespace": json.pointer("/metadata/namespace").filter(|n| n.is_string()),
            "pods": pods,
            "object": tree,
        });
        let mut data = Vec::new();
        tree::encode(&doc, &mut data);
        Object::decode(&Rc::new(data), 0).unwrap_or_else(|_| Object {
            index: 0,
            data: Rc::new(vec![0]),
            file: NONE,
            api_version: NONE,
            kind: NONE,
            name: NONE,
            namespace: NONE,
            pods: NONE,
            root: 0,
        })
    }

    /// Reads the object document (ABI.md, "Input") whose tag is at `at`:
    /// only where each field is, no copy.
    fn decode(data: &Rc<Vec<u8>>, at: usize) -> Result<Object, String> {
        let doc = Node::new(data, at)
            .and_then(|n| n.as_object())
            .ok_or("an object is not an encoded map")?;
        let mut o = Object {
            index: 0,
            data: data.clone(),
            file: NONE,
            api_version: NONE,
            kind: NONE,
            name: NONE,
            namespace: NONE,
            pods: NONE,
            root: NONE,
        };
        // Keys compared as bytes: no UTF-8 check of the document's keys.
        for (k, v) in doc.raw_entries() {
            let is = |name: &str| tree::same(k, name.as_bytes());
            if is("index") {
                o.index = v.as_u64().ok_or("`index` is not an index")? as usize;
            } else if is("file") {
                o.file = v.at();
            } else if is("apiVersion") {
                o.api_version = v.at();
            } else if is("kind") {
                o.kind = v.at();
            } else if is("name") {
                o.name = v.at();
            } else if is("namespace") {
                o.namespace = v.at();
            } else if is("pods") {
                o.pods = v.at();
            } else if is("object") {
                o.root = v.at();
            }
        }
        if o.root == NONE {
            return Err("an object has no `object` tree".into());
        }
        Ok(o)
    }

    /// The value whose tag is at `at` (`None` for [`NONE`]).
    fn field(&self, at: usize) -> Option<Node<'_>> {
        if at == NONE {
            return None;
        }
        Node::new(&self.data, at)
    }

    /// A string field of the document (empty when absent).
    fn text(&self, at: usize) -> &str {
        self.field(at).and_then(|n| n.as_str()).unwrap_or_default()
    }

    /// The file it was read from.
    pub fn file(&self) -> &str {
        self.text(self.file)
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.text(self.api_version)
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.text(self.kind)
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.text(self.name)
    }

    /// The namespace it lives in (`default` when a namespaced object does
    /// not say); `None` for cluster-scoped kinds.
    pub fn namespace(&self) -> Option<&str> {
        self.field(self.namespace).and_then(|n| n.as_str())
    }

    /// Its pod templates, as the host found them.
    pub fn pods(&self) -> impl Iterator<Item = PodRef<'_>> + '_ {
        self.field(self.pods)
            .and_then(|n| n.as_array())
            .into_iter()
            .flatten()
            .map(|p| {
                let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                PodRef {
                    role: text("role"),
                    pointer: text("pointer"),
                }
            })
    }

    /// The whole tree of the object (`apiVersion`, `kind`, `metadata`,
    /// `spec` ...).
    pub fn root(&self) -> Node<'_> {
        // `decode` and `from_json` checked that a value starts there.
        Node::new(&self.data, self.root).unwrap_or_else(Node::null)
    }

    /// The value at a JSON pointer (`/spec/template`).
    pub fn get(&self, pointer: &str) -> Option<Node<'_>> {
        self.root().pointer(pointer)
    }

    /// The whole object as a `serde_json::Value` (a copy: prefer
    /// [`Object::get`] and the [`Node`] accessors in a rule that runs on
    /// every object).
    pub fn to_json(&self) -> Value {
        self.root().to_json()
    }

    /// A label of the object.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.root()
            .get("metadata")?
            .get("labels")?
            .get(key)?
            .as_str()
    }

    /// The labels of the object.
    pub fn labels(&self) -> BTreeMap<&str, &str> {
        self.get("/metadata/labels")
            .and_then(|n| n.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k, v.as_str()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The group of `apiVersion` (empty for the core group).
    pub fn group(&self) -> &str {
        match self.api_version().split_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    /// Every container of every pod template: init, app and ephemeral.
    pub fn containers(&self) -> impl Iterator<Item = ContainerAt<'_>> {
        self.pods().flat_map(move |pod| {
            let spec = self.get(pod.pointer);
            ["initContainers", "containers", "ephemeralContainers"]
                .into_iter()
                .flat_map(move |list| {
                    spec.and_then(|s| s.get(list))
                        .and_then(|l| l.as_array())
                        .into_iter()
                        .flatten()
                        .enumerate()
                        .map(move |(index, value)| ContainerAt {
                            role: pod.role,
                            pointer: pod.pointer,
                            index,
                            list,
                            value,
                            pod_pointer: pod.pointer,
                        })
                })
        })
    }

    /// A finding on this object at `pointer` (a JSON pointer such as
    /// `/spec/template/spec/containers/0/image`; build one with
    /// [`pointer`]).
    pub fn finding(&self, pointer: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            object: self.index,
            pointer: pointer.into(),
            message: message.into(),
            help: None,
            severity: None,
        }
    }

    /// `Kind namespace/name`, for messages.
    pub fn display_name(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{} {}/{}", self.kind(), ns, self.name()),
            None => format!("{} {}", self.kind(), self.name()),
        }
    }
}

/// Only the sub-trees at `paths` (JSON pointers) of a tree, where they are,
/// as the host sends them: maps keep the keys on a path, lists keep their
/// length (items on no path are null).
fn sparse(v: &Value, paths: &[&str]) -> Value {
    if paths.iter().any(|p| p.is_empty()) {
        return v.clone();
    }
    let heads: Vec<(String, &str)> = paths
        .iter()
        .map(|p| {
            let p = p.strip_prefix('/').unwrap_or(p);
            let (t, rest) = match p.find('/') {
                Some(i) => (&p[..i], &p[i..]),
                None => (p, ""),
            };
            (t.replace("~1", "/").replace("~0", "~"), rest)
        })
        .collect();
    let below = |key: &str| -> Vec<&str> {
        heads
            .iter()
            .filter(|(t, _)| t == key)
            .map(|(_, rest)| *rest)
            .collect()
    };
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| heads.iter().any(|(t, _)| t == *k))
                .map(|(k, x)| (k.clone(), sparse(x, &below(k))))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let sub = below(&i.to_string());
                    if sub.is_empty() {
                        Value::Null
                    } else {
                        sparse(x, &sub)
                    }
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// Where the usual kinds keep their pod template (the host sends the real
/// list; this is for [`Object::from_json`] in native tests).
fn guess_pods(kind: &str, json: &Value) -> Vec<&'static str> {
    let p = |s: &'static str| s;
    match kind {
        "Pod" => vec![p("/spec")],
        "CronJob" => vec![p("/spec/jobTemplate/spec/template/spec")],
        _ if json.pointer("/spec/template/spec").is_some() => vec![p("/spec/template/spec")],
        _ => Vec::new(),
    }
}

/// A namespace of the inventory (declared or only referenced).
#[derive(Clone, Debug, Default)]
pub struct Namespace {
    /// Its labels (with `kubernetes.io/metadata.name`); empty when no
    /// Namespace object declares it.
    pub labels: BTreeMap<String, String>,
    /// Whether a Namespace object declares it.
    pub declared: bool,
}

/// Every object the rule asked for (its kinds), and every namespace.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// The objects, in inventory order.
    pub objects: Vec<Object>,
    /// Namespaces by name.
    pub namespaces: BTreeMap<String, Namespace>,
}

impl Inventory {
    /// Reads the inventory document (ABI.md, "Input").
    fn decode(data: &Rc<Vec<u8>>) -> Result<Inventory, String> {
        let doc = Node::new(data, 0)
            .and_then(|n| n.as_object())
            .ok_or("the inventory is not an encoded map")?;
        let mut inv = Inventory::default();
        if let Some(objects) = doc.get("objects").and_then(|o| o.as_array()) {
            inv.objects = objects
                .iter()
                .map(|o| Object::decode(data, o.at()))
                .collect::<Result<_, _>>()?;
        }
        for (name, ns) in doc
            .get("namespaces")
            .and_then(|n| n.as_object())
            .into_iter()
            .flatten()
        {
            let labels = ns
                .get("labels")
                .and_then(|l| l.as_object())
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                .collect();
            let declared = ns.get("declared").and_then(|d| d.as_bool()) == Some(true);
            inv.namespaces
                .insert(name.to_string(), Namespace { labels, declared });
        }
        Ok(inv)
    }

    /// Objects of a kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Object> + 'a {
        self.objects.iter().filter(move |o| o.kind() == kind)
    }
}

/// The settings of the rule (from the config file or `--set RULE.KEY=VALUE`).
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The rule's options, a JSON object (empty when none are given).
    pub settings: serde_json::Map<String, Value>,
}

impl Context {
    /// An option, decoded; `None` when absent or of another type.
    pub fn setting<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_value(self.settings.get(key)?.clone()).ok()
    }
    /// A context with these settings (for native tests).
    pub fn with_settings(settings: Value) -> Context {
        Context {
            settings: match settings {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            },
        }
    }
}

/// A problem a rule found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Index of the object at fault ([`Object::index`]).
    pub object: usize,
    /// JSON pointer of the narrowest node at fault inside that object.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Overrides the rule's severity for this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

impl Finding {
    /// Sets the help text.
    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }
    /// Sets the severity of this finding.
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = Some(severity);
        self
    }
}

/// Escapes one JSON-pointer token (`~` -> `~0`, `/` -> `~1`).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer from tokens: `pointer(&["metadata", "labels", "app.kubernetes.io/name"])`
/// is `/metadata/labels/app.kubernetes.io~1name`.
pub fn pointer(tokens: &[&str]) -> String {
    tokens.iter().map(|t| format!("/{}", escape(t))).collect()
}

/// A rule over one object: `fn(&Object, &Context) -> Vec<Finding>` (or
/// `fn(&Object) -> Vec<Finding>` when it has no settings). `Args` tells the
/// two apart; it is inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an ml-audit object rule",
    label = "expected `fn(&Object, &Context) -> Vec<Finding>`",
    note = "write the rule as `fn my_rule(obj: &Object, cx: &Context) -> Vec<Finding>` (or without `cx`), with `use ml_audit_rule_sdk::prelude::*;`; export a rule over `&Inventory` with `inventory(..)` instead of `object(..)`"
)]
pub trait ObjectRule<Args> {
    /// Runs the rule.
    fn run(&self, obj: &Object, cx: &Context) -> Vec<Finding>;
}

impl<F: Fn(&Object, &Context) -> Vec<Finding>> ObjectRule<(Object, Context)> for F {
    fn run(&self, obj: &Object, cx: &Context) -> Vec<Finding> {
        self(obj, cx)
    }
}

impl<F: Fn(&Object) -> Vec<Finding>> ObjectRule<(Object,)> for F {
    fn run(&self, obj: &Object, _cx: &Context) -> Vec<Finding> {
        self(obj)
    }
}

/// A rule over the whole inventory: `fn(&Inventory, &Context) -> Vec<Finding>`
/// (or `fn(&Inventory) -> Vec<Finding>`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an ml-audit inventory rule",
    label = "expected `fn(&Inventory, &Context) -> Vec<Finding>`",
    note = "write the rule as `fn my_rule(inv: &Inventory, cx: &Context) -> Vec<Finding>` (or without `cx`), with `use ml_audit_rule_sdk::prelude::*;`; export a rule over `&Object` with `object(..)` instead of `inventory(..)`"
)]
pub trait InventoryRule<Args> {
    /// Runs the rule.
    fn run(&self, inv: &Inventory, cx: &Context) -> Vec<Finding>;
}

impl<F: Fn(&Inventory, &Context) -> Vec<Finding>> InventoryRule<(Inventory, Context)> for F {
    fn run(&self, inv: &Inventory, cx: &Context) -> Vec<Finding> {
        self(inv, cx)
    }
}

impl<F: Fn(&Inventory) -> Vec<Finding>> InventoryRule<(Inventory,)> for F {
    fn run(&self, inv: &Inventory, _cx: &Context) -> Vec<Finding> {
        self(inv)
    }
}

/// Exports rules as an ml-audit plugin: the plugin name, then each rule as
/// `object(function, INFO)` or `inventory(function, INFO)`.
///
/// ```ignore
/// export_plugin!("acme", [object(no_latest, NO_LATEST), inventory(team_label, TEAM)]);
/// ```
///
/// Use it once per crate (a `cdylib` built for `wasm32-unknown-unknown`).
#[macro_export]
macro_rules! export_plugin {
    ($name:expr, [ $( $mode:ident ( $f:path , $info:expr ) ),+ $(,)? ]) => {
        const _: () = {
            fn __mla_registry() -> ::std::vec::Vec<$crate::__private::Registered> {
                ::std::vec![ $( $crate::__private::$mode($f, &$info) ),+ ]
            }

            #[no_mangle]
            pub extern "C" fn mla_abi_version() -> i32 {
                $crate::ABI_VERSION
            }

            #[no_mangle]
            pub extern "C" fn mla_alloc(len: i32) -> i32 {
                $crate::__private::alloc(len)
            }

            #[no_mangle]
            pub extern "C" fn mla_metadata() -> i64 {
                $crate::__private::metadata($name, env!("CARGO_PKG_VERSION"), __mla_registry)
            }

            #[no_mangle]
            pub extern "C" fn mla_configure(rule: i32, len: i32) -> i64 {
                $crate::__private::configure(rule, len, __mla_registry)
            }

            #[no_mangle]
            pub extern "C" fn mla_check(rule: i32, len: i32) -> i64 {
                $crate::__private::check(rule, len, __mla_registry)
            }

            #[no_mangle]
            pub extern "C" fn mla_panic_message() -> i64 {
                $crate::__private::panic_message()
            }
        };
    };
}

#[doc(hidden)]
pub mod __private {
    //! What [`export_plugin!`] expands to. Not a stable API.
    use std::cell::RefCell;

    use super::*;

    type ObjFn = Box<dyn Fn(&Object, &Context) -> Vec<Finding>>;
    type InvFn = Box<dyn Fn(&Inventory, &Context) -> Vec<Finding>>;

    /// A rule as exported.
    pub struct Registered {
        info: &'static RuleInfo,
        run: Run,
    }

    enum Run {
        Object(ObjFn),
        Inventory(InvFn),
    }

    /// An object rule.
    pub fn object<A, R: ObjectRule<A> + 'static>(rule: R, info: &'static RuleInfo) -> Registered {
        Registered {
            info,
            run: Run::Object(Box::new(move |o, cx| rule.run(o, cx))),
        }
    }

    /// An inventory rule.
    pub fn inventory<A, R: InventoryRule<A> + 'static>(
        rule: R,
        info: &'static RuleInfo,
    ) -> Registered {
        Registered {
            info,
            run: Run::Inventory(Box::new(move |i, cx| rule.run(i, cx))),
        }
    }

    thread_local! {
        static PANIC: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        static REGISTRY: RefCell<Option<Vec<Registered>>> = const { RefCell::new(None) };
        static SETTINGS: RefCell<Vec<Context>> = const { RefCell::new(Vec::new()) };
    }

    /// Keeps the message of a panic for [`panic_message`] (a panic aborts
    /// the guest: the host sees a trap, then asks for the message). Only in
    /// the wasm guest: a native test keeps the usual hook.
    fn hook() {
        #[cfg(target_arch = "wasm32")]
        {
            static ONCE: std::sync::Once = std::sync::Once::new();
            ONCE.call_once(|| {
                std::panic::set_hook(Box::new(|info| {
                    let payload = info.payload();
                    let msg = payload
                        .downcast_ref::<&str>()
                        .copied()
                        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                        .unwrap_or("(no message)");
                    let text = match info.location() {
                        Some(l) => format!("{msg} (at {}:{})", l.file(), l.line()),
                        None => msg.to_string(),
                    };
                    PANIC.with(|p| {
                        if let Ok(mut p) = p.try_borrow_mut() {
                            *p = text.into_bytes();
                        }
                    });
                }));
            });
        }
    }

    /// The message of the last panic (`mla_panic_message`): empty when
    /// there was none.
    pub fn panic_message() -> i64 {
        PANIC.with(|p| match p.try_borrow() {
            Ok(p) => ((p.as_ptr() as usize as i64) << 32) | (p.len() as i64 & 0xffff_ffff),
            Err(_) => 0,
        })
    }

    /// A buffer of `len` bytes for the host to write the next input into.
    pub fn alloc(len: i32) -> i32 {
        INPUT.with(|b| {
            let mut b = b.borrow_mut();
            b.clear();
            b.resize(len.max(0) as usize, 0);
            b.as_mut_ptr() as usize as i32
        })
    }

    fn output(bytes: Vec<u8>) -> i64 {
        OUTPUT.with(|o| {
            let mut o = o.borrow_mut();
            *o = bytes;
            ((o.as_ptr() as usize as i64) << 32) | (o.len() as i64 & 0xffff_ffff)
        })
    }

    fn error(message: String) -> i64 {
        output(serde_json::to_vec(&json!({ "error": message })).unwrap_or_default())
    }

    fn with_registry<T>(make: fn() -> Vec<Registered>, f: impl FnOnce(&[Registered]) -> T) -> T {
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            f(r.get_or_insert_with(make))
        })
    }

    /// The metadata document.
    pub fn metadata(name: &str, version: &str, make: fn() -> Vec<Registered>) -> i64 {
        hook();
        let rules: Vec<Value> = with_registry(make, |rs| {
            rs.iter()
                .map(|r| {
                    let i = r.info;
                    json!({
                        "id": i.id,
                        "title": i.title,
                        "severity": i.severity,
                        "mode": match r.run { Run::Object(_) => "object", Run::Inventory(_) => "inventory" },
                        "kinds": i.kinds,
                        "reads": i.reads,
                        "options": i.options.iter().map(|o| json!({
                            "name": o.name,
                            "type": o.ty.as_str(),
                            "default": o.default,
                            "doc": o.doc,
                        })).collect::<Vec<_>>(),
                        "doc": {
                            "what": i.doc.what,
                            "why": i.doc.why,
                            "example": i.doc.example,
                            "useInstead": i.doc.use_instead,
                            "references": i.doc.references,
                        },
                    })
                })
                .collect()
        });
        output(
            serde_json::to_vec(&json!({
                "abi": ABI_VERSION,
                "plugin": name,
                "version": version,
                "rules": rules,
            }))
            .unwrap_or_default(),
        )
    }

    fn take_input() -> Vec<u8> {
        INPUT.with(|b| std::mem::take(&mut *b.borrow_mut()))
    }

    /// Stores the settings of a rule.
    pub fn configure(rule: i32, len: i32, make: fn() -> Vec<Registered>) -> i64 {
        hook();
        let input = take_input();
        let bytes = &input[..(len.max(0) as usize).min(input.len())];
        let settings = match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => Context::with_settings(v),
            Err(e) => return error(format!("settings are not JSON: {e}")),
        };
        let n = with_registry(make, |rs| rs.len());
        let rule = rule.max(0) as usize;
        if rule >= n {
            return error(format!("no rule number {rule}"));
        }
        SETTINGS.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < n {
                s.resize_with(n, Context::default);
            }
            s[rule] = settings;
        });
        output(b"{}".to_vec())
    }

    /// Runs a rule over the input (the binary encoding of ABI version 2).
    /// No findings: an empty reply; findings: the reply document in the
    /// binary encoding (ABI version 3). The input buffer is kept for the
    /// next call.
    pub fn check(rule: i32, len: i32, make: fn() -> Vec<Registered>) -> i64 {
        hook();
        let mut input = take_input();
        input.truncate(len.max(0) as usize);
        let data = Rc::new(input);
        let rule = rule.max(0) as usize;
        let result = SETTINGS.with(|s| {
            let s = s.borrow();
            let default = Context::default();
            let cx = s.get(rule).unwrap_or(&default);
            with_registry(make, |rs| {
                let r = rs
                    .get(rule)
                    .ok_or_else(|| format!("no rule number {rule}"))?;
                match &r.run {
                    Run::Object(f) => {
                        let obj = Object::decode(&data, 0)
                            .map_err(|e| format!("cannot read the object: {e}"))?;
                        let mut found = f(&obj, cx);
                        for x in &mut found {
                            x.object = obj.index;
                        }
                        Ok(found)
                    }
                    Run::Inventory(f) => {
                        let inv = Inventory::decode(&data)
                            .map_err(|e| format!("cannot read the inventory: {e}"))?;
                        Ok(f(&inv, cx))
                    }
                }
            })
        });
        if let Ok(buf) = Rc::try_unwrap(data) {
            INPUT.with(|b| *b.borrow_mut() = buf);
        }
        match result {
            Ok(findings) if findings.is_empty() => 0,
            // ABI 3: the findings in the binary encoding, in the output
            // buffer of the last call.
            Ok(findings) => OUTPUT.with(|o| {
                let mut o = o.borrow_mut();
                o.clear();
                tree::encode_findings(&findings, &mut o);
                ((o.as_ptr() as usize as i64) << 32) | (o.len() as i64 & 0xffff_ffff)
            }),
            Err(e) => error(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes() {
        assert_eq!(
            pointer(&["metadata", "labels", "a/b~c"]),
            "/metadata/labels/a~1b~0c"
        );
    }

    const READS: RuleInfo = RuleInfo {
        id: "r",
        title: "t",
        severity: Severity::Low,
        kinds: &["Pod"],
        reads: &[
            "/apiVersion",
            "/kind",
            "/metadata/labels",
            "/spec/containers/1/image",
        ],
        options: &[],
        doc: Doc {
            what: "",
            why: "",
            example: "",
            use_instead: "",
            references: &[],
        },
    };

    /// The same object and paths as the host's own test
    /// (`ml-audit-wasm`, `sparse_keeps_only_the_paths_where_they_are`): a
    /// native test sees what the host sends.
    #[test]
    fn a_rule_sees_only_what_it_reads_as_the_host_sends_it() {
        let full = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "x"}, {"name": "d", "image": "y"}], "volumes": []}});
        let o = READS.object(full.clone());
        assert_eq!(
            o.to_json(),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"a": "b"}},
                   "spec": {"containers": [null, {"image": "y"}]}})
        );
        // Outside `reads`: nothing, as when the rule runs.
        assert!(o.get("/spec/volumes").is_none());
        assert!(o.get("/metadata/name").is_none());
        // The identity is still sent.
        assert_eq!((o.kind(), o.name()), ("Pod", "p"));
        assert!(Object::from_json(full.clone())
            .get("/spec/volumes")
            .is_some());
        // `pods`: every pod spec, whole.
        let pods = RuleInfo {
            reads: &["pods"],
            ..READS
        };
        assert_eq!(
            pods.object(full.clone()).to_json(),
            json!({"spec": full["spec"]})
        );
        // An inventory: the wanted kinds, indexed by place, and the namespaces.
        let inv = READS.inventory(vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"team": "x"}}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "b"}}),
        ]);
        assert_eq!(inv.objects.len(), 1);
        assert_eq!(inv.objects[0].index, 1);
        assert_eq!(inv.namespaces["a"].labels["team"], "x");
        assert_eq!(
            inv.namespaces["a"].labels["kubernetes.io/metadata.name"],
            "a"
        );
        assert!(inv.namespaces["a"].declared && !inv.namespaces["b"].declared);
    }

    #[test]
    fn containers_of_a_pod() {
        let o = Object::from_json(json!({"kind":"Deployment","spec":{"template":{"spec":{
            "initContainers":[{"name":"i","image":"busybox"}],
            "containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}}}));
        let c: Vec<_> = o.containers().map(|c| c.pointer_to("image")).collect();
        assert_eq!(
            c,
            [
                "/spec/template/spec/initContainers/0/image",
                "/spec/template/spec/containers/0/image",
                "/spec/template/spec/containers/1/image"
            ]
        );
    }
}
