//! Coverage: every object is audited, or counted as not audited with the
//! reason.
//!
//! Before the pods are found ([`prepare`]), the objects whose pods are
//! written somewhere else are completed: an Argo `resource` template's
//! `manifest` string is parsed in place (its nodes at their lines in the
//! block scalar), a TrainJob gets the runtime it references, with its
//! trainer fields and patches applied, and an LLMInferenceService gets the
//! configs its `baseRefs` name. Every node keeps the place it is written
//! at, and [`Object::origins`] says which file wrote which subtree, so a
//! finding on a field the TrainJob sets points at the TrainJob, one on a
//! field of the runtime at the runtime.
//!
//! After ([`check`]), each object is audited (it has pods, or a rule reads
//! its kind) or counted in [`NotAudited`], and the input is warned about:
//! API versions Kubernetes removed, a known kind under a group that does
//! not serve it, an unknown kind that holds containers.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::kinds::KindTable;
use crate::load::{Diagnostic, Level};
use crate::node::{Entry, Node, Pointer, Span, Value};
use crate::object::{FileId, Object, SourceFile, Written};
use crate::workload::Workload;
use crate::yaml::{parse_stream, Limits};

/// Objects of one apiVersion and kind that were not audited, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotAudited {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// How many objects.
    pub count: usize,
    /// Why they were not audited.
    pub reason: String,
}

const ARGO_KINDS: [&str; 4] = [
    "Workflow",
    "WorkflowTemplate",
    "ClusterWorkflowTemplate",
    "CronWorkflow",
];

/// How many nodes merging may copy in all: a thousand TrainJobs naming
/// one large runtime must not make a thousand copies of it without bound.
const MERGE_BUDGET: usize = 2_000_000;

/// Why some objects were not completed, by object: see [`prepare`].
pub(crate) type Unmerged = FxHashMap<usize, &'static str>;

const OVER_BUDGET: &str =
    "merging it with its runtime would copy more nodes than the merge budget allows";

/// Completes the objects whose pods are written elsewhere (see the module
/// documentation). Only Argo workflows, TrainJobs and LLMInferenceServices
/// are looked at; the others cost a comparison of their kind. Returns the
/// objects that were not completed, and why.
pub(crate) fn prepare(
    objects: &mut [Object],
    files: &[SourceFile],
    diags: &mut Vec<Diagnostic>,
) -> Unmerged {
    let mut unmerged = Unmerged::default();
    let mut lines = FxHashMap::default();
    let mut trainjobs = Vec::new();
    let mut llm = Vec::new();
    for (i, o) in objects.iter_mut().enumerate() {
        match (o.group(), o.kind.as_str()) {
            ("argoproj.io", k) if ARGO_KINDS.contains(&k) => {
                argo_manifests(o, files, &mut lines, diags)
            }
            ("trainer.kubeflow.org" | "kubeflow.org", "TrainJob") => trainjobs.push(i),
            ("serving.kserve.io", "LLMInferenceService") => llm.push(i),
            _ => {}
        }
    }
    if trainjobs.is_empty() && llm.is_empty() {
        return unmerged;
    }
    // (unit, group, kind, namespace or "", name) -> object, for the kinds
    // referenced: an object is completed from its own unit's (a
    // kustomization renders the runtime with the TrainJob), else from the
    // first loaded of any unit.
    type Key<'a> = (Option<u32>, &'a str, &'a str, &'a str, &'a str);
    let mut by_name: FxHashMap<Key<'_>, usize> = FxHashMap::default();
    // LLMInferenceServiceConfigs by unit and name alone.
    let mut any_ns: FxHashMap<(Option<u32>, &str), usize> = FxHashMap::default();
    for (i, o) in objects.iter().enumerate() {
        let wanted = matches!(
            (o.group(), o.kind.as_str()),
            (
                "trainer.kubeflow.org" | "kubeflow.org",
                "TrainingRuntime" | "ClusterTrainingRuntime"
            ) | ("serving.kserve.io", "LLMInferenceServiceConfig")
        );
        if wanted {
            let ns = o.effective_namespace().unwrap_or("");
            for unit in [o.unit, None] {
                by_name
                    .entry((unit, o.group(), &o.kind, ns, &o.name))
                    .or_insert(i);
                if o.kind == "LLMInferenceServiceConfig" {
                    any_ns.entry((unit, &o.name)).or_insert(i);
                }
            }
        }
    }
    let mut budget = MERGE_BUDGET;
    let mut sizes: FxHashMap<usize, usize> = FxHashMap::default();
    let mut size_of = |i: usize, objects: &[Object]| -> usize {
        *sizes
            .entry(i)
            .or_insert_with(|| count_nodes(&objects[i].root))
    };
    let mut over = 0usize;
    let mut merged: Vec<(usize, Node, Vec<Written>)> = Vec::new();
    for &i in &trainjobs {
        let tj = &objects[i];
        let r = tj.root.field("spec").field("runtimeRef");
        let name = r.field("name").as_str().unwrap_or("");
        let kind = r.field("kind").as_str().unwrap_or("ClusterTrainingRuntime");
        let ns = if kind == "TrainingRuntime" {
            tj.effective_namespace().unwrap_or("default")
        } else {
            ""
        };
        let rt = by_name
            .get(&(tj.unit, tj.group(), kind, ns, name))
            .or_else(|| by_name.get(&(None, tj.group(), kind, ns, name)));
        if let Some(&rt) = rt {
            let n = size_of(rt, objects);
            if n > budget {
                unmerged.insert(i, OVER_BUDGET);
                over += 1;
                continue;
            }
            budget -= n;
            let (root, origins) = merge_trainjob(tj, &objects[rt]);
            merged.push((i, root, origins));
        }
    }
    for &i in &llm {
        let svc = &objects[i];
        let refs = svc.root.field("spec").field("baseRefs").items();
        if refs.is_empty() {
            continue;
        }
        let ns = svc.effective_namespace().unwrap_or("default");
        let found: Vec<usize> = refs
            .iter()
            .filter_map(|r| r.field("name").as_str())
            .filter_map(|n| {
                // In the service's namespace, else the controller's (where
                // KServe keeps the well-known configs): any namespace.
                let kind = "LLMInferenceServiceConfig";
                let g = "serving.kserve.io";
                by_name
                    .get(&(svc.unit, g, kind, ns, n))
                    .or_else(|| any_ns.get(&(svc.unit, n)))
                    .or_else(|| by_name.get(&(None, g, kind, ns, n)))
                    .or_else(|| any_ns.get(&(None, n)))
                    .copied()
            })
            .collect();
        let n: usize = found.iter().map(|&c| size_of(c, objects)).sum();
        if n > budget {
            over += 1;
            continue;
        }
        budget -= n;
        let configs: Vec<&Object> = found.iter().map(|&c| &objects[c]).collect();
        if !configs.is_empty() {
            let (root, origins) = merge_llm(svc, &configs);
            merged.push((i, root, origins));
        }
    }
    for (i, root, origins) in merged {
        objects[i].root = root;
        objects[i].origins = origins;
    }
    if over > 0 {
        diags.push(Diagnostic {
            level: Level::Warning,
            file: String::new(),
            line: 0,
            col: 0,
            message: format!(
                "{over} TrainJobs and LLMInferenceServices were not merged with the runtimes and configs they name: the copies would exceed {MERGE_BUDGET} nodes"
            ),
        });
    }
    unmerged
}

/// How many nodes a tree holds.
fn count_nodes(n: &Node) -> usize {
    1 + match &n.value {
        Value::Map(entries) => entries.iter().map(|e| count_nodes(&e.value)).sum(),
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The file that wrote the node at `pointer` of `obj`.
fn writer(obj: &Object, pointer: &str) -> FileId {
    obj.origins
        .iter()
        .rev()
        .find(|w| !w.keeps_span && w.covers(pointer))
        .map_or(obj.file, |w| w.file)
}

/// The origins of `obj` as they start: its own, or one entry for its file.
fn own_origins(obj: &Object) -> Vec<Written> {
    if obj.origins.is_empty() {
        vec![written("", obj.file)]
    } else {
        obj.origins.clone()
    }
}

fn written(pointer: &str, file: FileId) -> Written {
    Written {
        pointer: pointer.into(),
        file,
        line: 0,
        keeps_span: false,
    }
}

/// The origins of `from`'s subtree at `at`, as a subtree at `to`.
fn graft_origins(from: &Object, at: &str, to: &str, out: &mut Vec<Written>) {
    out.push(written(to, writer(from, at)));
    for w in &from.origins {
        let under = w.pointer.len() > at.len()
            && w.pointer.starts_with(at)
            && w.pointer.as_bytes()[at.len()] == b'/';
        if under {
            let mut w = w.clone();
            w.pointer = format!("{to}{}", &w.pointer[at.len()..]).into();
            out.push(w);
        }
    }
}

fn get_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|e| e.key == key)
            .map(|e| &mut e.value),
        _ => None,
    }
}

/// The node under `key`, made a mapping entry when it is not there.
fn child_mut<'a>(node: &'a mut Node, key: &str) -> &'a mut Node {
    if !matches!(node.value, Value::Map(_)) {
        node.value = Value::Map(Vec::new());
    }
    let Value::Map(entries) = &mut node.value else {
        unreachable!("made a mapping above")
    };
    let i = match entries.iter().position(|e| e.key == key) {
        Some(i) => i,
        None => {
            entries.push(Entry {
                key: key.into(),
                key_span: Span::default(),
                value: Node::new(Value::Null),
            });
            entries.len() - 1
        }
    };
    &mut entries[i].value
}

/// Lays `patch` over `base` as a strategic merge does: mappings field by
/// field, lists of named items by name, anything else replaced. Each
/// subtree `patch` writes is recorded in `out` as written by `file`.
fn overlay(base: &mut Node, patch: &Node, at: &Pointer, file: FileId, out: &mut Vec<Written>) {
    match (&mut base.value, &patch.value) {
        (Value::Map(be), Value::Map(pe)) => {
            for e in pe {
                let p = at.key(&e.key);
                match be.iter().position(|b| b.key == e.key) {
                    Some(k) if mergeable(&be[k].value, &e.value) => {
                        overlay(&mut be[k].value, &e.value, &p, file, out)
                    }
                    // Replaced whole, key and all: a finding on the field
                    // points at the patch's line.
                    Some(k) => {
                        be[k] = e.clone();
                        out.push(written(p.as_str(), file));
                    }
                    None => {
                        be.push(e.clone());
                        out.push(written(p.as_str(), file));
                    }
                }
            }
        }
        (Value::Seq(bi), Value::Seq(pi))
            if pi.iter().all(|n| n.field("name").as_str().is_some()) =>
        {
            for item in pi {
                let name = item.field("name").as_str();
                match bi.iter().position(|b| b.field("name").as_str() == name) {
                    Some(k) => overlay(&mut bi[k], item, &at.idx(k), file, out),
                    None => {
                        bi.push(item.clone());
                        out.push(written(at.idx(bi.len() - 1).as_str(), file));
                    }
                }
            }
        }
        _ => {
            *base = patch.clone();
            out.push(written(at.as_str(), file));
        }
    }
}

/// Whether `overlay` merges `patch` into `base` rather than replacing it.
fn mergeable(base: &Node, patch: &Node) -> bool {
    match (&base.value, &patch.value) {
        (Value::Map(_), Value::Map(_)) => true,
        (Value::Seq(_), Value::Seq(p)) => p.iter().all(|n| n.field("name").as_str().is_some()),
        _ => false,
    }
}

/// Replaces (or adds) `key` of `node` with `value`, recording the writer.
fn set(
    node: &mut Node,
    at: &Pointer,
    key: &str,
    value: &Node,
    key_span: Span,
    file: FileId,
    out: &mut Vec<Written>,
) {
    *child_mut(node, key) = value.clone();
    if let Value::Map(entries) = &mut node.value {
        if let Some(e) = entries.iter_mut().find(|e| e.key == key) {
            e.key_span = key_span;
        }
    }
    out.push(written(at.key(key).as_str(), file));
}

/// The TrainJob with its runtime's template at `/spec/template`: the
/// trainer's image, command, args, env, resources per node and number of
/// nodes applied to the runtime's trainer job, then its `runtimePatches`
/// (and the older `podTemplateOverrides`) laid over it.
fn merge_trainjob(tj: &Object, rt: &Object) -> (Node, Vec<Written>) {
    let mut root = tj.root.clone();
    let mut origins = own_origins(tj);
    let Some(template) = rt.root.field("spec").get("template") else {
        return (root, origins);
    };
    let spec = child_mut(&mut root, "spec");
    *child_mut(spec, "template") = template.clone();
    graft_origins(rt, "/spec/template", "/spec/template", &mut origins);

    let tspec = tj.root.field("spec");
    let trainer = tspec.field("trainer");
    let jobs_at = Pointer::parse("/spec/template/spec/replicatedJobs");
    let num_nodes = trainer
        .get("numNodes")
        .map(|n| (n, writer(tj, "/spec/trainer/numNodes")))
        .or_else(|| {
            rt.root
                .field("spec")
                .field("mlPolicy")
                .get("numNodes")
                .map(|n| (n, writer(rt, "/spec/mlPolicy/numNodes")))
        });
    let tpl = child_mut(child_mut(&mut root, "spec"), "template");
    let Some(jobs) = get_mut(child_mut(tpl, "spec"), "replicatedJobs") else {
        return (root, origins);
    };
    if let Value::Seq(items) = &mut jobs.value {
        // The trainer job: the one the runtime marks as the trainer step,
        // else the one named `node` (`trainer-node` in v2alpha1).
        if let Some(k) = find_step(items, "trainer", &["node", "trainer-node"]) {
            let job_at = jobs_at.idx(k);
            if let Some((n, f)) = num_nodes {
                set(
                    &mut items[k],
                    &job_at,
                    "replicas",
                    n,
                    n.span,
                    f,
                    &mut origins,
                );
            }
            if let Some((c_at, container)) =
                container_mut(&mut items[k], &job_at, &["node", "trainer"])
            {
                for (field, into) in [
                    ("image", "image"),
                    ("command", "command"),
                    ("args", "args"),
                    ("resourcesPerNode", "resources"),
                ] {
                    if let Some(e) = trainer.entry(field) {
                        let f = writer(tj, &format!("/spec/trainer/{field}"));
                        set(
                            container,
                            &c_at,
                            into,
                            &e.value,
                            e.key_span,
                            f,
                            &mut origins,
                        );
                    }
                }
                let at = "/spec/trainer";
                add_env(container, &c_at, trainer, tj, at, &mut origins);
            }
        }
        // The initializers: their env and the Secret they read.
        for step in ["dataset", "model"] {
            let section = tspec.field("initializer").field(step);
            if matches!(section.value, Value::Null) {
                continue;
            }
            let name = format!("{step}-initializer");
            let Some(k) = find_step(items, &name, &[&name]) else {
                continue;
            };
            let job_at = jobs_at.idx(k);
            if let Some((c_at, container)) = container_mut(&mut items[k], &job_at, &[&name]) {
                let at = format!("/spec/initializer/{step}");
                add_env(container, &c_at, section, tj, &at, &mut origins);
                if let Some(e) = section.entry("secretRef") {
                    let f = writer(tj, &format!("{at}/secretRef"));
                    let from = Node {
                        value: Value::Map(vec![e.clone()]),
                        span: e.key_span,
                    };
                    let list = child_mut(container, "envFrom");
                    if !matches!(list.value, Value::Seq(_)) {
                        list.value = Value::Seq(Vec::new());
                    }
                    if let Value::Seq(l) = &mut list.value {
                        l.push(from);
                        let p = c_at.key("envFrom").idx(l.len() - 1);
                        origins.push(written(p.as_str(), f));
                    }
                }
            }
        }
    }
    // Patches of the runtime spec (`runtimePatches`, trainer v2.1+).
    for (i, p) in tspec.field("runtimePatches").items().iter().enumerate() {
        if let Some(t) = p.field("trainingRuntimeSpec").get("template") {
            let f = writer(tj, &format!("/spec/runtimePatches/{i}"));
            let tpl = child_mut(child_mut(&mut root, "spec"), "template");
            overlay(tpl, t, &Pointer::parse("/spec/template"), f, &mut origins);
        }
    }
    // Pod template overrides (`podTemplateOverrides`, trainer v2.0).
    for (i, o) in tspec
        .field("podTemplateOverrides")
        .items()
        .iter()
        .enumerate()
    {
        let Some(ps) = o.get("spec") else { continue };
        let f = writer(tj, &format!("/spec/podTemplateOverrides/{i}"));
        let targets: Vec<&str> = o
            .field("targetJobs")
            .items()
            .iter()
            .filter_map(|t| t.field("name").as_str())
            .collect();
        let tpl = child_mut(child_mut(&mut root, "spec"), "template");
        let Some(Value::Seq(items)) =
            get_mut(child_mut(tpl, "spec"), "replicatedJobs").map(|j| &mut j.value)
        else {
            continue;
        };
        for (k, job) in items.iter_mut().enumerate() {
            if !targets.contains(&job.field("name").as_str().unwrap_or("")) {
                continue;
            }
            let at = jobs_at
                .idx(k)
                .key("template")
                .key("spec")
                .key("template")
                .key("spec");
            let pod = child_mut(
                child_mut(child_mut(child_mut(job, "template"), "spec"), "template"),
                "spec",
            );
            overlay(pod, ps, &at, f, &mut origins);
        }
    }
    (root, origins)
}

/// The replicated job of a runtime step: the one whose template carries
/// the step's ancestor label, else the first with one of `names`.
fn find_step(items: &[Node], step: &str, names: &[&str]) -> Option<usize> {
    let labelled = |j: &Node| {
        j.field("template")
            .field("metadata")
            .field("labels")
            .field("trainer.kubeflow.org/trainjob-ancestor-step")
            .as_str()
            == Some(step)
    };
    items.iter().position(labelled).or_else(|| {
        items
            .iter()
            .position(|j| j.field("name").as_str().is_some_and(|n| names.contains(&n)))
    })
}

/// The container of a replicated job named one of `names` (else its
/// first), with its pointer.
fn container_mut<'a>(
    job: &'a mut Node,
    job_at: &Pointer,
    names: &[&str],
) -> Option<(Pointer, &'a mut Node)> {
    let pod = get_mut(
        get_mut(get_mut(get_mut(job, "template")?, "spec")?, "template")?,
        "spec",
    )?;
    let Value::Seq(cs) = &mut get_mut(pod, "containers")?.value else {
        return None;
    };
    let c = cs
        .iter()
        .position(|c| c.field("name").as_str().is_some_and(|n| names.contains(&n)))
        .or(if cs.is_empty() { None } else { Some(0) })?;
    let at = job_at
        .key("template")
        .key("spec")
        .key("template")
        .key("spec")
        .key("containers")
        .idx(c);
    Some((at, &mut cs[c]))
}

/// Lays the `env` of a TrainJob section over a container's, by name.
fn add_env(
    container: &mut Node,
    c_at: &Pointer,
    section: &Node,
    tj: &Object,
    at: &str,
    origins: &mut Vec<Written>,
) {
    let Some(e) = section.entry("env") else {
        return;
    };
    let f = writer(tj, &format!("{at}/env"));
    match get_mut(container, "env") {
        Some(base) => overlay(base, &e.value, &c_at.key("env"), f, origins),
        None => set(container, c_at, "env", &e.value, e.key_span, f, origins),
    }
}

/// The LLMInferenceService with the configs its `baseRefs` name laid
/// under its own spec, in order: each later one wins, the service last.
fn merge_llm(svc: &Object, configs: &[&Object]) -> (Node, Vec<Written>) {
    let mut root = svc.root.clone();
    let mut origins = own_origins(svc);
    let mut spec = Node::new(Value::Map(Vec::new()));
    let mut spec_origins = Vec::new();
    let at = Pointer::parse("/spec");
    for c in configs {
        if let Some(s) = c.root.get("spec") {
            let f = writer(c, "/spec");
            overlay(&mut spec, s, &at, f, &mut spec_origins);
            for w in &c.origins {
                if w.pointer.starts_with("/spec/") {
                    spec_origins.push(w.clone());
                }
            }
        }
    }
    if let Some(own) = svc.root.get("spec") {
        overlay(&mut spec, own, &at, writer(svc, "/spec"), &mut spec_origins);
    }
    *child_mut(&mut root, "spec") = spec;
    origins.extend(spec_origins);
    // What rewrote the service's own nodes (a kustomize patch) still did.
    origins.extend(
        svc.origins
            .iter()
            .filter(|w| w.pointer.starts_with("/spec/"))
            .cloned(),
    );
    (root, origins)
}

/// Parses the `manifest` of each Argo `resource` template that creates an
/// object, in place: the string becomes the object's tree, at its lines.
fn argo_manifests<'a>(
    o: &mut Object,
    files: &'a [SourceFile],
    lines: &mut FxHashMap<FileId, Lines<'a>>,
    diags: &mut Vec<Diagnostic>,
) {
    let templates_at = if o.kind == "CronWorkflow" {
        "/spec/workflowSpec/templates"
    } else {
        "/spec/templates"
    };
    let count = o.root.pointer(templates_at).map_or(0, |t| t.items().len());
    for i in 0..count {
        let at = format!("{templates_at}/{i}/resource/manifest");
        let Some(node) = o.root.pointer(&at) else {
            continue;
        };
        let Value::Str(text) = &node.value else {
            continue;
        };
        let action = o
            .root
            .pointer(&format!("{templates_at}/{i}/resource/action"))
            .and_then(Node::as_str)
            .unwrap_or("");
        if matches!(action, "delete" | "get") {
            continue;
        }
        let span = node.span;
        let fid = writer(o, &at);
        let file = &files[fid];
        // Argo substitutes `{{...}}` before it creates the object: a plain
        // value that starts with one is a string, not a flow mapping.
        let quoted = quote_placeholders(text);
        let (docs, err) = parse_stream(quoted.as_deref().unwrap_or(text), Limits::default());
        let index = lines.entry(fid).or_insert_with(|| Lines::of(&file.text));
        let shift = block_shift(index, span, text);
        if let Some(e) = err {
            let (line, col) = match shift {
                Some((dl, dc)) => (e.line + dl, e.col + dc),
                None => (span.line, span.col),
            };
            diags.push(Diagnostic {
                level: Level::Warning,
                file: file.path.clone(),
                line,
                col,
                message: format!(
                    "{}: the manifest of resource template #{i} is not valid YAML ({}): the object it creates was not audited",
                    o.display_name(),
                    e.message
                ),
            });
            continue;
        }
        let Some(mut doc) = docs.into_iter().next().map(|d| d.root) else {
            continue;
        };
        if !matches!(doc.value, Value::Map(_)) {
            continue;
        }
        relocate(&mut doc, shift, span);
        let Some(node) = pointer_mut(&mut o.root, &at) else {
            continue;
        };
        *node = doc;
    }
}

fn pointer_mut<'a>(node: &'a mut Node, pointer: &str) -> Option<&'a mut Node> {
    let mut cur = node;
    for seg in pointer.split('/').skip(1) {
        cur = match &mut cur.value {
            Value::Map(entries) => &mut entries.iter_mut().find(|e| e.key == seg)?.value,
            Value::Seq(items) => items.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// `text` with each plain value that starts with an Argo placeholder
/// (`name: {{inputs.parameters.name}}-job`, `- {{item}}`) single-quoted to
/// the end of its line, or `None` when there is none. Lines keep their
/// numbers, and every value its column (the quote takes the place the
/// value started at).
fn quote_placeholders(text: &str) -> Option<String> {
    if !text.contains("{{") {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let brk = &line[body.len()..];
        // Where a plain value starts: after `key: `, after a `- ` list
        // marker, or at the start of a line of its own.
        let at = body.find("{{").filter(|&i| {
            let before = body[..i].trim_end();
            let spaced = body[..i].ends_with(' ') || before.is_empty();
            let marker = before
                .strip_suffix('-')
                .is_some_and(|b| b.is_empty() || b.ends_with(' '));
            spaced
                && (before.ends_with(':') || marker || before.is_empty())
                && body[i..].contains("}}")
                && !body[i..].contains(" #")
        });
        match at {
            Some(i) => {
                let value = body[i..].trim_end();
                out.push_str(&body[..i]);
                out.push('\'');
                out.push_str(&value.replace('\'', "''"));
                out.push('\'');
                out.push_str(brk);
                changed = true;
            }
            None => out.push_str(line),
        }
    }
    changed.then_some(out)
}

/// The lines of a file, indexed once (a file may hold many manifests).
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn of(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    /// Line `n` (0-based), without its line break.
    fn get(&self, n: usize) -> Option<&'a str> {
        let from = *self.starts.get(n)?;
        let to = self.starts.get(n + 1).map_or(self.text.len(), |&e| e - 1);
        let line = self.text.get(from..to)?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

/// Lines and columns to add to a position in the text of a literal block
/// scalar (`manifest: |`) to get its position in the file, when the file
/// holds the text line for line at `span` (its first and last lines
/// checked); `None` otherwise (a quoted or folded string: its nodes are
/// then placed at the string).
fn block_shift(file: &Lines<'_>, span: Span, text: &str) -> Option<(u32, u32)> {
    let mut content = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (first, line) = content.next()?;
    let last = content.last().unwrap_or((first, line));
    // The span starts at the `|` or at the first line of the text.
    let start = (span.line as usize).saturating_sub(1);
    let (k, found) = (start..start + first + 3)
        .filter_map(|n| Some((n, file.get(n)?)))
        .find(|(_, l)| l.trim_start() == line.trim_start() && l.ends_with(line))?;
    let indent = found.chars().count() - line.chars().count();
    let dl = k.checked_sub(first)?;
    let end = file.get(last.0 + dl)?;
    if !end.ends_with(last.1) || end.chars().count() != last.1.chars().count() + indent {
        return None;
    }
    Some((u32::try_from(dl).ok()?, u32::try_from(indent).ok()?))
}

/// Moves every span of a tree parsed from a string to its place in the
/// file: by `shift` when known, else onto the string's own span.
fn relocate(node: &mut Node, shift: Option<(u32, u32)>, at: Span) {
    let mv = |s: &mut Span| match shift {
        Some((dl, dc)) => {
            s.line += dl;
            s.end_line += dl;
            s.col += dc;
            s.end_col += dc;
        }
        None => *s = at,
    };
    mv(&mut node.span);
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries {
                mv(&mut e.key_span);
                relocate(&mut e.value, shift, at);
            }
        }
        Value::Seq(items) => {
            for n in items {
                relocate(n, shift, at);
            }
        }
        _ => {}
    }
}

/// API versions Kubernetes no longer serves: (apiVersion, kinds (empty:
/// every kind), the release that removed them, what serves them today,
/// `""` when nothing does).
const REMOVED: &[(&str, &[&str], &str, &str)] = &[
    (
        "extensions/v1beta1",
        &["Deployment", "DaemonSet", "ReplicaSet"],
        "1.16",
        "apps/v1",
    ),
    (
        "extensions/v1beta1",
        &["NetworkPolicy"],
        "1.16",
        "networking.k8s.io/v1",
    ),
    // PodSecurityPolicy has no successor kind (Pod Security Admission
    // reads namespace labels): "" below.
    ("extensions/v1beta1", &["PodSecurityPolicy"], "1.16", ""),
    ("policy/v1beta1", &["PodSecurityPolicy"], "1.25", ""),
    (
        "extensions/v1beta1",
        &["Ingress"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    (
        "apps/v1beta1",
        &["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"],
        "1.16",
        "apps/v1",
    ),
    (
        "apps/v1beta2",
        &["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"],
        "1.16",
        "apps/v1",
    ),
    ("batch/v1beta1", &["CronJob"], "1.25", "batch/v1"),
    (
        "networking.k8s.io/v1beta1",
        &["Ingress", "IngressClass"],
        "1.22",
        "networking.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        &[],
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1alpha1",
        &[],
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        "1.25",
        "policy/v1",
    ),
    (
        "autoscaling/v2beta1",
        &["HorizontalPodAutoscaler"],
        "1.25",
        "autoscaling/v2",
    ),
    (
        "autoscaling/v2beta2",
        &["HorizontalPodAutoscaler"],
        "1.26",
        "autoscaling/v2",
    ),
];

fn removed(api_version: &str, kind: &str) -> Option<(&'static str, &'static str)> {
    REMOVED
        .iter()
        .find(|(av, kinds, _, _)| *av == api_version && (kinds.is_empty() || kinds.contains(&kind)))
        .map(|(_, _, release, now)| (*release, *now))
}

/// Whether a group is one Kubernetes itself serves (where a CRD cannot
/// define a kind of the same name).
fn builtin_group(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io")
}

/// Counts what was not audited, by apiVersion and kind, and warns about
/// removed API versions, known kinds under groups that do not serve them,
/// and unknown kinds that hold containers.
pub(crate) fn check(
    table: &KindTable,
    objects: &[Object],
    workloads: &[Workload],
    files: &[SourceFile],
    unmerged: &Unmerged,
) -> (Vec<NotAudited>, Vec<Diagnostic>) {
    let mut has_pods = vec![false; objects.len()];
    for w in workloads {
        if let Some(b) = has_pods.get_mut(w.object) {
            *b = true;
        }
    }
    let mut counts: BTreeMap<(&str, &str, String), usize> = BTreeMap::new();
    let mut diags = Vec::new();
    let path = |o: &Object, p: &str| files[writer(o, p)].path.clone();
    for o in objects {
        let group = o.group();
        let kind = o.kind.as_str();
        let gone = removed(&o.api_version, kind);
        if let Some((release, now)) = gone {
            let span = o.locate("/apiVersion");
            let what = if now.is_empty() {
                format!(
                    ", and {kind} has no successor: a cluster rejects it, and it was not audited"
                )
            } else {
                format!(": audited as {now} {kind}, which is what a cluster serves today")
            };
            diags.push(Diagnostic {
                level: Level::Warning,
                file: path(o, "/apiVersion"),
                line: span.line,
                col: span.col,
                message: format!(
                    "{}: apiVersion `{}` was removed in Kubernetes {release}{what}",
                    o.display_name(),
                    o.api_version
                ),
            });
        }
        if has_pods[o.id] {
            continue;
        }
        let orphan = kind == "TrainJob" && matches!(group, "trainer.kubeflow.org" | "kubeflow.org");
        if !orphan && table.audited(group, kind) {
            continue;
        }
        let reason = if let Some((release, "")) = gone {
            format!("removed from Kubernetes in {release}, with no successor")
        } else if group == "kustomize.config.k8s.io" {
            "a kustomization: what it renders is audited, not the file (--render none reads it as it is)".to_string()
        } else if let Some(others) = Some(table.groups_of(kind, group))
            .filter(|g| !g.is_empty() && builtin_group(group) && others_builtin(g))
        {
            let served = others
                .iter()
                .filter(|g| builtin_group(g))
                .map(|g| {
                    if g.is_empty() {
                        "v1".to_string()
                    } else {
                        format!("{g}/v1")
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ");
            let span = o.locate("/apiVersion");
            diags.push(Diagnostic {
                level: Level::Warning,
                file: path(o, "/apiVersion"),
                line: span.line,
                col: span.col,
                message: format!(
                    "{}: no Kubernetes API serves {kind} under apiVersion `{}` ({served} does): not audited",
                    o.display_name(),
                    o.api_version
                ),
            });
            format!("{kind} is not served under this apiVersion")
        } else if let Some(why) = unmerged.get(&o.id) {
            why.to_string()
        } else if orphan {
            "the training runtime it references is not in the input".to_string()
        } else {
            if let Some((p, rel_each, rel_pod)) = find_containers(&o.root) {
                let span = o.locate(&p);
                let teach = match rel_each {
                    Some(each) => format!("{{each: {each}, {rel_pod}}}"),
                    None => format!("{{{rel_pod}}}"),
                };
                diags.push(Diagnostic {
                    level: Level::Warning,
                    file: path(o, &p),
                    line: span.line,
                    col: span.col,
                    message: format!(
                        "{}: unknown kind holds containers at `{p}`, which were not audited; teach it in .ml-audit.yaml: `kinds: [{{group: \"{group}\", kind: {kind}, pods: [{teach}]}}]`",
                        o.display_name()
                    ),
                });
            }
            "no rule reads this kind".to_string()
        };
        *counts
            .entry((o.api_version.as_str(), kind, reason))
            .or_default() += 1;
    }
    let not_audited = counts
        .into_iter()
        .map(|((api_version, kind, reason), count)| NotAudited {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            count,
            reason,
        })
        .collect();
    (not_audited, diags)
}

fn others_builtin(groups: &[&str]) -> bool {
    groups.iter().any(|g| builtin_group(g))
}

/// The first `containers` list whose items have an `image`, in document
/// order: its pointer, and the `each` and `template:`/`pod:` a `kinds:`
/// entry would name (a list on the way becomes `*` in `each`).
fn find_containers(root: &Node) -> Option<(String, Option<String>, String)> {
    fn walk(n: &Node, path: &mut Vec<String>, depth: usize) -> Option<Vec<String>> {
        if depth > 16 {
            return None;
        }
        match &n.value {
            Value::Map(entries) => {
                for e in entries {
                    path.push(e.key.to_string());
                    if e.key == "containers"
                        && e.value.items().iter().any(|c| c.get("image").is_some())
                    {
                        return Some(path.clone());
                    }
                    if let Some(p) = walk(&e.value, path, depth + 1) {
                        return Some(p);
                    }
                    path.pop();
                }
                None
            }
            Value::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    path.push(i.to_string());
                    if let Some(p) = walk(it, path, depth + 1) {
                        return Some(p);
                    }
                    path.pop();
                }
                None
            }
            _ => None,
        }
    }
    let segs = walk(root, &mut Vec::new(), 0)?;
    let mut ptr = Pointer::root();
    for s in &segs {
        ptr = ptr.key(s);
    }
    let parent = &segs[..segs.len() - 1];
    // The last list index on the way splits `each` from `pod`.
    let last_idx = parent.iter().rposition(|s| s.parse::<usize>().is_ok());
    let (each, pod) = match last_idx {
        Some(k) => {
            let each: Vec<&str> = parent[..=k]
                .iter()
                .map(|s| {
                    if s.parse::<usize>().is_ok() {
                        "*"
                    } else {
                        s.as_str()
                    }
                })
                .collect();
            (
                Some(format!("/{}", each.join("/"))),
                parent[k + 1..].join("/"),
            )
        }
        None => (None, parent.join("/")),
    };
    // A `spec` under something else is a pod template's: say `template`,
    // so that its labels are read too.
    let pod = match pod.strip_suffix("/spec") {
        Some(t) => format!("template: {t}"),
        None if pod == "spec" && each.is_some() => "template: .".to_string(),
        None if pod.is_empty() => "pod: .".to_string(),
        None => format!("pod: {pod}"),
    };
    Some((ptr.as_str().to_string(), each, pod))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Inventory;

    fn argo(manifest: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: w}}\nspec:\n  templates:\n    - name: t\n      resource:\n        action: create\n        manifest: {manifest}\n"
        )
    }

    fn image_span(inv: &Inventory) -> Span {
        let w = &inv.workloads[0];
        let o = inv.object(w.object);
        o.locate(&format!("{}/image", w.containers[0].pointer))
    }

    #[test]
    fn a_literal_block_maps_each_node_to_its_line_and_column() {
        let text = argo("|-\n          kind: Pod\n          apiVersion: v1\n\n          spec:\n            containers: [{name: c, image: busybox}]\n");
        let inv = Inventory::from_text("w.yaml", &text);
        assert_eq!(inv.workloads.len(), 1);
        let s = image_span(&inv);
        assert_eq!((s.line, s.col), (14, 36), "{text}");
    }

    #[test]
    fn a_quoted_manifest_is_audited_at_the_string() {
        let text = argo(
            "\"kind: Pod\\napiVersion: v1\\nspec:\\n  containers: [{name: c, image: busybox}]\\n\"",
        );
        let inv = Inventory::from_text("w.yaml", &text);
        assert_eq!(inv.workloads.len(), 1);
        let s = image_span(&inv);
        assert_eq!((s.line, s.col), (9, 19));
    }

    #[test]
    fn argo_placeholders_in_a_manifest_are_strings() {
        let text = argo("|\n          kind: Pod\n          apiVersion: v1\n          metadata:\n            name: {{workflow.name}}-pod\n          spec:\n            containers:\n              - name: c\n                image: {{inputs.parameters.image}}\n                args:\n                  - {{item}}\n                  - \"{{quoted}}\"\n                  - a-{{x}}\n");
        let inv = Inventory::from_text("w.yaml", &text);
        assert!(inv.diagnostics.is_empty(), "{:?}", inv.diagnostics);
        let w = &inv.workloads[0];
        let c = &w.containers[0].spec;
        assert_eq!(c.image.as_deref(), Some("{{inputs.parameters.image}}"));
        assert_eq!(
            c.args.as_deref(),
            Some(
                &[
                    "{{item}}".to_string(),
                    "{{quoted}}".to_string(),
                    "a-{{x}}".to_string()
                ][..]
            )
        );
        let o = inv.object(w.object);
        let s = o.locate(&format!("{}/image", w.containers[0].pointer));
        assert_eq!((s.line, s.col), (17, 17));
        assert_eq!(
            o.root
                .pointer("/spec/templates/0/resource/manifest/metadata/name")
                .and_then(Node::as_str),
            Some("{{workflow.name}}-pod")
        );
    }

    #[test]
    fn lines_are_indexed_without_their_breaks() {
        let l = Lines::of("a\r\nbc\n\nd");
        assert_eq!(
            (0..5).map(|n| l.get(n)).collect::<Vec<_>>(),
            [Some("a"), Some("bc"), Some(""), Some("d"), None]
        );
    }

    #[test]
    fn the_suggested_entry_names_each_list_and_the_template() {
        let inv = Inventory::from_text(
            "x.yaml",
            "apiVersion: x.io/v1\nkind: X\nmetadata: {name: x}\nspec:\n  groups:\n    - podTemplate:\n        spec:\n          containers: [{name: c, image: i}]\n",
        );
        let d: Vec<_> = inv
            .diagnostics
            .iter()
            .map(|d| (d.line, d.message.as_str()))
            .collect();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].0, 8);
        assert!(
            d[0].1
                .contains("pods: [{each: /spec/groups/*, template: podTemplate}]"),
            "{d:?}"
        );
    }
}
