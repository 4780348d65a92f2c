//! The built-in transformers, in kustomize's order: patches (strategic
//! merge, then `patches`), namespace, name prefix and suffix, labels,
//! annotations, JSON 6902 patches, replicas, images; and, once the root is
//! built, the renaming of references to renamed objects.

use regex::Regex;

use super::json6902::apply_op;
use super::smp::{builtin_group, Merge};
use super::{
    err, get_mut, map_node, read_docs, set, str_node, string_map, Kust, Origin, RenderError, Res,
};
use crate::node::{escape, Node, Span, Value};

pub(super) fn run_transformers(k: &Kust<'_>, acc: &mut Vec<Res>) -> Result<(), RenderError> {
    for item in k.root.field("patchesStrategicMerge").items() {
        for (patch, file) in patch_docs(k, item)? {
            smp_by_id(k, acc, &patch, &file, item)?;
        }
    }
    for p in k.root.field("patches").items() {
        patch_entry(k, acc, p, false)?;
    }
    if let Some(ns) = k.root.get("namespace") {
        if let Some(ns_str) = ns.as_str() {
            for r in acc.iter_mut() {
                set_namespace(r, ns_str, ns.span, k);
            }
        }
    }
    for (key, prefix) in [("namePrefix", true), ("nameSuffix", false)] {
        if let Some(v) = k
            .root
            .get(key)
            .and_then(|n| n.as_str().map(|s| (s, n.span)))
        {
            for r in acc.iter_mut() {
                if matches!(r.obj.kind(), "CustomResourceDefinition" | "Namespace")
                    || (r.obj.kind() == "APIService" && r.group() == "apiregistration.k8s.io")
                {
                    continue;
                }
                let old = r.obj.name().to_string();
                let new = if prefix {
                    format!("{}{old}", v.0)
                } else {
                    format!("{old}{}", v.0)
                };
                rename(r, &new, v.1, k);
            }
        }
    }
    let common = string_map(k.root.field("commonLabels"));
    if !common.is_empty() {
        for r in acc.iter_mut() {
            apply_labels(r, &common, LabelScope::Selectors, k, "commonLabels");
        }
    }
    for l in k.root.field("labels").items() {
        let pairs = string_map(l.field("pairs"));
        let scope = if l.field("includeSelectors").as_bool() == Some(true) {
            LabelScope::Selectors
        } else if l.field("includeTemplates").as_bool() == Some(true) {
            LabelScope::Templates
        } else {
            LabelScope::Metadata
        };
        if l.get("fields").is_some() {
            return Err(k.err_at(
                l,
                "`labels[].fields` is not supported by the built-in renderer",
            ));
        }
        for r in acc.iter_mut() {
            apply_labels(r, &pairs, scope, k, "labels");
        }
    }
    let annotations = string_map(k.root.field("commonAnnotations"));
    if !annotations.is_empty() {
        let span = k.root.field("commonAnnotations").span;
        for r in acc.iter_mut() {
            let kind = r.obj.kind().to_string();
            let group = r.group().to_string();
            let mut paths: Vec<&[&str]> = vec![&["metadata", "annotations"]];
            match (kind.as_str(), group.as_str()) {
                ("ReplicationController", "")
                | ("Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet", _)
                | ("Job", "batch") => paths.push(&["spec", "template", "metadata", "annotations"]),
                ("CronJob", "batch") => {
                    paths.push(&["spec", "jobTemplate", "metadata", "annotations"]);
                    paths.push(&[
                        "spec",
                        "jobTemplate",
                        "spec",
                        "template",
                        "metadata",
                        "annotations",
                    ]);
                }
                _ => {}
            }
            for p in paths {
                set_pairs(r, p, &annotations, span, true, k);
            }
        }
    }
    for item in k.root.field("patchesJson6902").items() {
        patch_entry(k, acc, item, true)?;
    }
    for rep in k.root.field("replicas").items() {
        let name = rep.field("name").as_str().unwrap_or("");
        let count = rep.field("count");
        for r in acc.iter_mut() {
            if matches!(
                r.obj.kind(),
                "Deployment" | "ReplicationController" | "ReplicaSet" | "StatefulSet"
            ) && (r.obj.name() == name || r.prev_names.iter().any(|(n, _)| n == name))
            {
                if let Some(spec) =
                    super::get_or_insert(&mut r.obj.node, "spec", || map_node(rep.span))
                {
                    set(spec, "replicas", count.clone());
                }
                r.obj
                    .origins
                    .push(Origin::new("/spec/replicas", k.file, rep.span.line));
            }
        }
    }
    for img in k.root.field("images").items() {
        for r in acc.iter_mut() {
            let mut written = Vec::new();
            update_images(&mut r.obj.node, img, String::new(), &mut written);
            for w in written {
                r.obj
                    .origins
                    .push(Origin::rewrite(w, k.file, img.span.line));
            }
        }
    }
    super::replacements::run(k, acc)?;
    Ok(())
}

/// The documents of a patch given as a path or inline, with the file they
/// were read from (the kustomization for an inline patch).
fn patch_docs(k: &Kust<'_>, item: &Node) -> Result<Vec<(Node, std::path::PathBuf)>, RenderError> {
    let s = item
        .as_str()
        .ok_or_else(|| k.err_at(item, "expected a path or an inline patch"))?;
    if s.contains('\n') || s.trim_start().starts_with('{') || s.trim_start().starts_with('[') {
        let (docs, e) = crate::yaml::parse_stream(s, crate::yaml::Limits::default());
        if let Some(e) = e {
            return Err(k.err_at(item, format!("inline patch: {}", e.message)));
        }
        return Ok(docs
            .into_iter()
            .map(|d| (respan(d.root, item.span), k.file.to_path_buf()))
            .filter(|(n, _)| !n.is_null())
            .collect());
    }
    let path = k.path(item)?;
    if !path.is_file() {
        return Err(k.err_at(item, format!("patch `{s}` does not exist")));
    }
    let path = k.confined(item, path)?;
    Ok(read_docs(&path)?
        .into_iter()
        .map(|d| (d, path.clone()))
        .collect())
}

/// Inline patches are text inside a kustomization: their nodes point at the
/// line of that text (shifted by the line inside it).
fn respan(mut n: Node, base: Span) -> Node {
    fn walk(n: &mut Node, base: u32) {
        n.span.line += base;
        n.span.end_line += base;
        match &mut n.value {
            Value::Map(es) => es.iter_mut().for_each(|e| {
                e.key_span.line += base;
                e.key_span.end_line += base;
                walk(&mut e.value, base)
            }),
            Value::Seq(items) => items.iter_mut().for_each(|i| walk(i, base)),
            _ => {}
        }
    }
    walk(&mut n, base.line);
    n
}

fn ns_eq(a: &str, b: &str) -> bool {
    let d = |s: &str| {
        if s.is_empty() {
            "default".to_string()
        } else {
            s.to_string()
        }
    };
    d(a) == d(b)
}

/// A strategic merge patch applied to the object its own id names.
fn smp_by_id(
    k: &Kust<'_>,
    acc: &mut Vec<Res>,
    patch: &Node,
    file: &std::path::Path,
    at: &Node,
) -> Result<(), RenderError> {
    let av = patch.field("apiVersion").as_str().unwrap_or("");
    let kind = patch.field("kind").as_str().unwrap_or("");
    let name = patch.field("metadata").field("name").as_str().unwrap_or("");
    let ns = patch
        .field("metadata")
        .field("namespace")
        .as_str()
        .unwrap_or("");
    let found: Vec<usize> = acc
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.obj.kind() == kind
                && r.obj.api_version() == av
                && ((r.obj.name() == name && ns_eq(r.obj.namespace(), ns))
                    || r.prev_names.iter().any(|(n, s)| n == name && ns_eq(s, ns)))
        })
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        return Err(k.err_at(
            at,
            format!("no resource matches strategic merge patch {kind}/{name} (apiVersion {av}, namespace `{ns}`)"),
        ));
    }
    if found.len() > 1 {
        return Err(k.err_at(at, format!("several resources match patch {kind}/{name}")));
    }
    apply_smp(acc, found[0], patch, file);
    Ok(())
}

fn apply_smp(acc: &mut Vec<Res>, i: usize, patch: &Node, file: &std::path::Path) {
    let r = &mut acc[i];
    let kind = r.obj.kind().to_string();
    let builtin = builtin_group(r.group());
    // The patch may not rename the object: kustomize keeps the target's id.
    let mut patch = patch.clone();
    if let Some(meta) = get_mut(&mut patch, "metadata") {
        if let Value::Map(es) = &mut meta.value {
            es.retain(|e| e.key != "name" && e.key != "namespace");
        }
    }
    let mut m = Merge {
        builtin,
        kind: &kind,
        written: Vec::new(),
    };
    let keep = m.map(&mut r.obj.node, &patch, "");
    // kyaml's merge walks the whole object: fields left null anywhere are
    // dropped, and so are empty label and annotation maps.
    drop_nulls(&mut r.obj.node);
    if let Some(Value::Map(meta)) = get_mut(&mut r.obj.node, "metadata").map(|n| &mut n.value) {
        meta.retain(|e| {
            !((e.key == "labels" || e.key == "annotations")
                && matches!(&e.value.value, Value::Map(m) if m.is_empty()))
        });
    }
    let written = m.written;
    if keep {
        for w in written {
            r.obj.origins.push(Origin::new(w, file, 0));
        }
    } else {
        acc.remove(i);
    }
}

fn drop_nulls(n: &mut Node) {
    match &mut n.value {
        Value::Map(es) => {
            es.retain(|e| !e.value.is_null());
            es.iter_mut().for_each(|e| drop_nulls(&mut e.value));
        }
        Value::Seq(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// One entry of `patches` or `patchesJson6902`.
fn patch_entry(
    k: &Kust<'_>,
    acc: &mut Vec<Res>,
    p: &Node,
    json_only: bool,
) -> Result<(), RenderError> {
    let (docs, file): (Vec<Node>, std::path::PathBuf) = if let Some(path) = p.get("path") {
        let file = k.path(path)?;
        if !file.is_file() {
            return Err(k.err_at(path, "patch file does not exist"));
        }
        let file = k.confined(path, file)?;
        (read_docs(&file)?, file)
    } else if let Some(text) = p.get("patch") {
        let s = text.as_str().unwrap_or("");
        let (docs, e) = crate::yaml::parse_stream(s, crate::yaml::Limits::default());
        if let Some(e) = e {
            return Err(k.err_at(text, format!("inline patch: {}", e.message)));
        }
        (
            docs.into_iter()
                .map(|d| respan(d.root, text.span))
                .collect(),
            k.file.to_path_buf(),
        )
    } else {
        return Err(k.err_at(p, "a patch needs `path` or `patch`"));
    };
    if p.get("options").is_some() {
        return Err(k.err_at(
            p.field("options"),
            "patch `options` are not supported by the built-in renderer",
        ));
    }
    let target = p.get("target");
    let is_json = docs.len() == 1 && matches!(docs[0].value, Value::Seq(_));
    if json_only && !is_json {
        return Err(k.err_at(p, "a patchesJson6902 patch must be a list of operations"));
    }
    if is_json {
        let target = target.ok_or_else(|| k.err_at(p, "a JSON 6902 patch needs a `target`"))?;
        let idx = select(k, acc, target)?;
        for i in idx {
            let r = &mut acc[i];
            for op in docs[0].items() {
                let w = apply_op(&mut r.obj.node, op).map_err(|m| {
                    err(
                        &file,
                        op.span.line,
                        format!("{m} in {} {}", r.obj.kind(), r.obj.name()),
                    )
                })?;
                if let Some(w) = w {
                    r.obj.origins.push(Origin::new(w, &file, op.span.line));
                }
            }
        }
        return Ok(());
    }
    for doc in &docs {
        match target {
            None => smp_by_id(k, acc, doc, &file, p)?,
            Some(t) => {
                // Deletions shift indices: apply from the last match.
                let mut idx = select(k, acc, t)?;
                idx.reverse();
                for i in idx {
                    apply_smp(acc, i, doc, &file);
                }
            }
        }
    }
    Ok(())
}

/// The resources a patch `target` selects, in order.
pub(super) fn select(k: &Kust<'_>, acc: &[Res], t: &Node) -> Result<Vec<usize>, RenderError> {
    let re = |key: &str| -> Result<Option<Regex>, RenderError> {
        match t.get(key).and_then(Node::as_str) {
            None | Some("") => Ok(None),
            Some(s) => Regex::new(&format!("^(?:{s})$"))
                .map(Some)
                .map_err(|e| k.err_at(t.field(key), format!("bad `{key}` pattern: {e}"))),
        }
    };
    let (name, ns) = (re("name")?, re("namespace")?);
    let group = t.get("group").and_then(Node::as_str);
    let version = t.get("version").and_then(Node::as_str);
    let kind = t.get("kind").and_then(Node::as_str);
    let labels = selector(t.field("labelSelector").as_str().unwrap_or(""));
    let annots = selector(t.field("annotationSelector").as_str().unwrap_or(""));
    let mut out = Vec::new();
    for (i, r) in acc.iter().enumerate() {
        if group.is_some_and(|g| g != r.group())
            || version.is_some_and(|v| !v.is_empty() && v != r.version())
            || kind.is_some_and(|kd| !kd.is_empty() && kd != r.obj.kind())
        {
            continue;
        }
        if let Some(re) = &name {
            let mut names = vec![r.obj.name()];
            names.extend(r.prev_names.iter().map(|(n, _)| n.as_str()));
            if !names.iter().any(|n| re.is_match(n)) {
                continue;
            }
        }
        if let Some(re) = &ns {
            if !re.is_match(r.obj.namespace()) {
                continue;
            }
        }
        let meta = r.obj.node.field("metadata");
        if !labels
            .iter()
            .all(|(key, v)| meta.field("labels").field(key).as_str() == Some(v.as_str()))
        {
            continue;
        }
        if !annots
            .iter()
            .all(|(key, v)| meta.field("annotations").field(key).as_str() == Some(v.as_str()))
        {
            continue;
        }
        out.push(i);
    }
    Ok(out)
}

fn selector(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (key, v) = p.split_once('=').unwrap_or((p, ""));
            (
                key.trim().trim_end_matches('=').to_string(),
                v.trim_start_matches('=').trim().to_string(),
            )
        })
        .collect()
}

/// Kinds that have no namespace.
pub(crate) fn cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "CustomResourceDefinition"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "PersistentVolume"
            | "StorageClass"
            | "PriorityClass"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "APIService"
            | "CSIDriver"
            | "CSINode"
            | "Node"
            | "IngressClass"
            | "RuntimeClass"
            | "VolumeAttachment"
            | "PodSecurityPolicy"
            | "CertificateSigningRequest"
            | "ComponentStatus"
            | "FlowSchema"
            | "PriorityLevelConfiguration"
            | "SelfSubjectAccessReview"
            | "SelfSubjectRulesReview"
            | "SubjectAccessReview"
            | "TokenReview"
    )
}

fn set_namespace(r: &mut Res, ns: &str, span: Span, k: &Kust<'_>) {
    let kind = r.obj.kind().to_string();
    let file = k.file.to_path_buf();
    if !cluster_scoped(&kind) {
        r.ns_set = true;
        if let Some(meta) = super::get_or_insert(&mut r.obj.node, "metadata", || map_node(span)) {
            set(meta, "namespace", str_node(ns, span));
        }
        r.obj
            .origins
            .push(Origin::new("/metadata/namespace", &file, span.line));
    }
    if kind == "Namespace" && r.obj.api_version() == "v1" {
        let old = r.obj.name().to_string();
        if old != ns {
            r.prev_names.push((old, String::new()));
            if let Some(meta) = get_mut(&mut r.obj.node, "metadata") {
                set(meta, "name", str_node(ns, span));
            }
            r.obj
                .origins
                .push(Origin::new("/metadata/name", &file, span.line));
        }
    }
    if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
        if let Some(Value::Seq(subjects)) =
            get_mut(&mut r.obj.node, "subjects").map(|n| &mut n.value)
        {
            for (i, s) in subjects.iter_mut().enumerate() {
                if s.field("name").as_str() == Some("default") {
                    set(s, "namespace", str_node(ns, span));
                    r.obj.origins.push(Origin::new(
                        format!("/subjects/{i}/namespace"),
                        &file,
                        span.line,
                    ));
                }
            }
        }
    }
    if kind == "APIService" && r.group() == "apiregistration.k8s.io" {
        if let Some(svc) = super::path_mut(&mut r.obj.node, &["spec", "service"]) {
            set(svc, "namespace", str_node(ns, span));
        }
    }
    if kind == "CustomResourceDefinition" {
        if let Some(svc) = super::path_mut(
            &mut r.obj.node,
            &["spec", "conversion", "webhook", "clientConfig", "service"],
        ) {
            set(svc, "namespace", str_node(ns, span));
        }
    }
}

fn rename(r: &mut Res, new: &str, span: Span, k: &Kust<'_>) {
    let old = r.obj.name().to_string();
    let ns = r.obj.namespace().to_string();
    r.prev_names.push((old, ns));
    if let Some(meta) = get_mut(&mut r.obj.node, "metadata") {
        set(meta, "name", str_node(new, span));
    }
    r.obj
        .origins
        .push(Origin::new("/metadata/name", k.file, span.line));
}

#[derive(Clone, Copy)]
enum LabelScope {
    Metadata,
    Templates,
    Selectors,
}

fn apply_labels(
    r: &mut Res,
    pairs: &std::collections::BTreeMap<String, String>,
    scope: LabelScope,
    k: &Kust<'_>,
    key: &str,
) {
    let span = k.root.field(key).span;
    let kind = r.obj.kind().to_string();
    let group = r.group().to_string();
    let version = r.version().to_string();
    // (path, create)
    let mut specs: Vec<(Vec<&str>, bool)> = vec![(vec!["metadata", "labels"], true)];
    if !matches!(scope, LabelScope::Metadata) {
        let template = match (kind.as_str(), group.as_str()) {
            ("ReplicationController", "")
            | ("Deployment" | "ReplicaSet" | "DaemonSet", _)
            | ("StatefulSet", "apps")
            | ("Job", "batch") => {
                vec![vec!["spec", "template", "metadata", "labels"]]
            }
            ("CronJob", "batch") => vec![
                vec!["spec", "jobTemplate", "metadata", "labels"],
                vec![
                    "spec",
                    "jobTemplate",
                    "spec",
                    "template",
                    "metadata",
                    "labels",
                ],
            ],
            _ => vec![],
        };
        specs.extend(template.into_iter().map(|p| (p, true)));
    }
    if matches!(scope, LabelScope::Selectors) {
        let aff = || -> Vec<(Vec<&'static str>, bool)> {
            vec![
                (
                    vec![
                        "spec",
                        "template",
                        "spec",
                        "affinity",
                        "podAffinity",
                        "preferredDuringSchedulingIgnoredDuringExecution",
                        "podAffinityTerm",
                        "labelSelector",
                        "matchLabels",
                    ],
                    false,
                ),
                (
                    vec![
                        "spec",
                        "template",
                        "spec",
                        "affinity",
                        "podAffinity",
                        "requiredDuringSchedulingIgnoredDuringExecution",
                        "labelSelector",
                        "matchLabels",
                    ],
                    false,
                ),
                (
                    vec![
                        "spec",
                        "template",
                        "spec",
                        "affinity",
                        "podAntiAffinity",
                        "preferredDuringSchedulingIgnoredDuringExecution",
                        "podAffinityTerm",
                        "labelSelector",
                        "matchLabels",
                    ],
                    false,
                ),
                (
                    vec![
                        "spec",
                        "template",
                        "spec",
                        "affinity",
                        "podAntiAffinity",
                        "requiredDuringSchedulingIgnoredDuringExecution",
                        "labelSelector",
                        "matchLabels",
                    ],
                    false,
                ),
                (
                    vec![
                        "spec",
                        "template",
                        "spec",
                        "topologySpreadConstraints",
                        "labelSelector",
                        "matchLabels",
                    ],
                    false,
                ),
            ]
        };
        match (kind.as_str(), group.as_str()) {
            ("Service", "") if version == "v1" => specs.push((vec!["spec", "selector"], true)),
            ("ReplicationController", "") if version == "v1" => {
                specs.push((vec!["spec", "selector"], true))
            }
            ("Deployment", g) => {
                specs.push((vec!["spec", "selector", "matchLabels"], true));
                if g == "apps" {
                    specs.extend(aff());
                }
            }
            ("ReplicaSet" | "DaemonSet", _) => {
                specs.push((vec!["spec", "selector", "matchLabels"], true))
            }
            ("StatefulSet", "apps") => {
                specs.push((vec!["spec", "selector", "matchLabels"], true));
                specs.extend(aff());
                if r.obj
                    .node
                    .field("spec")
                    .get("volumeClaimTemplates")
                    .is_some()
                {
                    specs.push((
                        vec!["spec", "volumeClaimTemplates", "metadata", "labels"],
                        true,
                    ));
                }
            }
            ("Job", "batch") => specs.push((vec!["spec", "selector", "matchLabels"], false)),
            ("CronJob", "batch") => specs.push((
                vec!["spec", "jobTemplate", "spec", "selector", "matchLabels"],
                false,
            )),
            ("PodDisruptionBudget", "policy") => {
                specs.push((vec!["spec", "selector", "matchLabels"], false))
            }
            ("NetworkPolicy", "networking.k8s.io") => {
                specs.push((vec!["spec", "podSelector", "matchLabels"], false));
                specs.push((
                    vec!["spec", "ingress", "from", "podSelector", "matchLabels"],
                    false,
                ));
                specs.push((
                    vec!["spec", "egress", "to", "podSelector", "matchLabels"],
                    false,
                ));
            }
            _ => {}
        }
    }
    for (path, create) in specs {
        set_pairs(r, &path, pairs, span, create, k);
    }
}

/// Sets each pair in the mapping at `path` (walking into every element of a
/// list on the way), creating missing mappings when `create`.
fn set_pairs(
    r: &mut Res,
    path: &[&str],
    pairs: &std::collections::BTreeMap<String, String>,
    span: Span,
    create: bool,
    k: &Kust<'_>,
) {
    let mut written = Vec::new();
    walk_set(
        &mut r.obj.node,
        path,
        pairs,
        span,
        create,
        String::new(),
        &mut written,
    );
    for w in written {
        r.obj.origins.push(Origin::new(w, k.file, span.line));
    }
}

fn walk_set(
    node: &mut Node,
    path: &[&str],
    pairs: &std::collections::BTreeMap<String, String>,
    span: Span,
    create: bool,
    ptr: String,
    written: &mut Vec<String>,
) {
    if let Value::Seq(items) = &mut node.value {
        for (i, item) in items.iter_mut().enumerate() {
            walk_set(
                item,
                path,
                pairs,
                span,
                create,
                format!("{ptr}/{i}"),
                written,
            );
        }
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        if !matches!(node.value, Value::Map(_)) {
            if !node.is_null() {
                return;
            }
            *node = map_node(span);
        }
        for (key, v) in pairs {
            set(node, key, str_node(v, span));
            written.push(format!("{ptr}/{}", escape(key)));
        }
        return;
    };
    if !matches!(node.value, Value::Map(_)) {
        return;
    }
    let exists = node.get(first).is_some_and(|n| !n.is_null());
    if !exists && !create {
        return;
    }
    if let Some(child) = super::get_or_insert(node, first, || map_node(span)) {
        walk_set(
            child,
            rest,
            pairs,
            span,
            create,
            format!("{ptr}/{}", escape(first)),
            written,
        );
    }
}

/// Rewrites the `image` of every container and init container, anywhere in
/// the object, whose image name is the entry's `name`.
fn update_images(node: &mut Node, img: &Node, ptr: String, written: &mut Vec<String>) {
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                let p = format!("{ptr}/{}", escape(&e.key));
                if (e.key == "containers" || e.key == "initContainers")
                    && matches!(e.value.value, Value::Seq(_))
                {
                    if let Value::Seq(items) = &mut e.value.value {
                        for (i, c) in items.iter_mut().enumerate() {
                            if let Some(new) =
                                c.field("image").as_str().and_then(|s| new_image(s, img))
                            {
                                let span = c.field("image").span;
                                set(c, "image", str_node(&new, span));
                                written.push(format!("{p}/{i}/image"));
                            }
                        }
                    }
                }
                update_images(&mut e.value, img, p, written);
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                update_images(item, img, format!("{ptr}/{i}"), written);
            }
        }
        _ => {}
    }
}

/// Splits an image into name, tag and digest.
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].find(':') {
        Some(c) => (&rest[..slash + c], Some(&rest[slash + c + 1..]), digest),
        None => (rest, None, digest),
    }
}

fn new_image(image: &str, img: &Node) -> Option<String> {
    let want = img.field("name").as_str()?;
    let (name, tag, digest) = split_image(image);
    if name != want {
        return None;
    }
    let name = img.field("newName").as_str().unwrap_or(name);
    if let Some(d) = img.field("digest").as_str() {
        return Some(format!("{name}@{d}"));
    }
    if let Some(t) = img.field("newTag").scalar_text() {
        return Some(format!("{name}:{t}"));
    }
    let mut out = name.to_string();
    if let Some(t) = tag {
        out.push(':');
        out.push_str(t);
    }
    if let Some(d) = digest {
        out.push('@');
        out.push_str(d);
    }
    Some(out)
}

/// Renames references to objects whose names changed (prefix, suffix,
/// generator hash): in pod templates, bindings, Ingresses, StatefulSets.
pub(super) fn fix_name_references(res: &mut [Res]) {
    // (kind, namespace, old name, new name)
    let renames: Vec<(String, String, String, String)> = res
        .iter()
        .flat_map(|r| {
            let ns = r.obj.namespace().to_string();
            let new = r.obj.name().to_string();
            let kind = r.obj.kind().to_string();
            r.prev_names
                .iter()
                .map(move |(old, _)| (kind.clone(), ns.clone(), old.clone(), new.clone()))
                .collect::<Vec<_>>()
        })
        .filter(|(_, _, o, n)| o != n)
        .collect();
    // ServiceAccounts: original name and namespace, current ones.
    let accounts: Vec<Account> = res
        .iter()
        .filter(|r| r.obj.kind() == "ServiceAccount")
        .map(|r| Account {
            orig_name: r.orig_name().to_string(),
            orig_ns: r.orig_ns.clone(),
            ns: r.obj.namespace().to_string(),
            name: r.obj.name().to_string(),
            ns_set: r.ns_set,
        })
        .collect();
    let lookup = |kind: &str, ns: &str, old: &str| -> Option<String> {
        renames
            .iter()
            .find(|(k, n, o, _)| k == kind && o == old && (cluster_scoped(kind) || n == ns))
            .map(|(_, _, _, new)| new.clone())
    };
    for r in res.iter_mut() {
        let ns = r.obj.namespace().to_string();
        let kind = r.obj.kind().to_string();
        let pod_spec: Option<&[&str]> = match kind.as_str() {
            "Pod" => Some(&["spec"]),
            "PodTemplate" => Some(&["template", "spec"]),
            "Deployment"
            | "ReplicaSet"
            | "DaemonSet"
            | "StatefulSet"
            | "Job"
            | "ReplicationController" => Some(&["spec", "template", "spec"]),
            "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
            _ => None,
        };
        if let Some(path) = pod_spec {
            if let Some(spec) = super::path_mut(&mut r.obj.node, path) {
                rename_in_pod_spec(spec, &|kind, old| lookup(kind, &ns, old));
            }
        }
        let l = |kind: &str, old: &str| lookup(kind, &ns, old);
        match kind.as_str() {
            "StatefulSet" => rename_at(&mut r.obj.node, &["spec", "serviceName"], "Service", &l),
            "HorizontalPodAutoscaler" => {
                let target = r
                    .obj
                    .node
                    .field("spec")
                    .field("scaleTargetRef")
                    .field("kind")
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                rename_at(
                    &mut r.obj.node,
                    &["spec", "scaleTargetRef", "name"],
                    &target,
                    &l,
                );
            }
            "Ingress" => {
                rename_at(
                    &mut r.obj.node,
                    &["spec", "defaultBackend", "service", "name"],
                    "Service",
                    &l,
                );
                if let Some(Value::Seq(rules)) =
                    super::path_mut(&mut r.obj.node, &["spec", "rules"]).map(|n| &mut n.value)
                {
                    for rule in rules {
                        if let Some(Value::Seq(paths)) =
                            super::path_mut(rule, &["http", "paths"]).map(|n| &mut n.value)
                        {
                            for p in paths {
                                rename_at(p, &["backend", "service", "name"], "Service", &l);
                                rename_at(p, &["backend", "serviceName"], "Service", &l);
                            }
                        }
                    }
                }
                if let Some(Value::Seq(tls)) =
                    super::path_mut(&mut r.obj.node, &["spec", "tls"]).map(|n| &mut n.value)
                {
                    for t in tls {
                        rename_at(t, &["secretName"], "Secret", &l);
                    }
                }
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let rk = r
                    .obj
                    .node
                    .field("roleRef")
                    .field("kind")
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                rename_at(&mut r.obj.node, &["roleRef", "name"], &rk, &l);
                let binding_ns = r.orig_ns.clone();
                if let Some(Value::Seq(subjects)) =
                    get_mut(&mut r.obj.node, "subjects").map(|n| &mut n.value)
                {
                    for s in subjects {
                        if s.field("kind").as_str() == Some("ServiceAccount") {
                            fix_subject(s, &accounts, &binding_ns);
                        }
                    }
                }
            }
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
                if let Some(Value::Seq(hooks)) =
                    get_mut(&mut r.obj.node, "webhooks").map(|n| &mut n.value)
                {
                    for h in hooks {
                        let sns = h
                            .field("clientConfig")
                            .field("service")
                            .field("namespace")
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        let ls = |kind: &str, old: &str| lookup(kind, &sns, old);
                        rename_at(h, &["clientConfig", "service", "name"], "Service", &ls);
                    }
                }
            }
            _ => {}
        }
    }
}

struct Account {
    orig_name: String,
    orig_ns: String,
    ns: String,
    name: String,
    ns_set: bool,
}

/// A ServiceAccount subject that names an account of the rendering by its
/// original name and namespace (the binding's original namespace when the
/// subject has none; an empty namespace reads as `default`) follows that
/// account's renaming and namespace, as kustomize's name reference for
/// subjects does; an account that no transformer renamed or moved leaves
/// the subject as written.
fn fix_subject(s: &mut Node, accounts: &[Account], binding_ns: &str) {
    let name = s.field("name").as_str().unwrap_or("").to_string();
    let sns = s
        .field("namespace")
        .as_str()
        .unwrap_or(binding_ns)
        .to_string();
    let found: Vec<&Account> = accounts
        .iter()
        .filter(|a| a.orig_name == name && ns_eq(&a.orig_ns, &sns))
        .collect();
    if let [a] = found.as_slice() {
        if a.name == a.orig_name && !a.ns_set {
            return;
        }
        let span = s.field("name").span;
        set(s, "name", str_node(&a.name, span));
        if !a.ns.is_empty() {
            set(s, "namespace", str_node(&a.ns, span));
        }
    }
}

type Lookup<'a> = dyn Fn(&str, &str) -> Option<String> + 'a;

fn rename_at(node: &mut Node, path: &[&str], kind: &str, lookup: &Lookup<'_>) {
    if let Some(n) = super::path_mut(node, path) {
        if let Some(new) = n.as_str().and_then(|old| lookup(kind, old)) {
            n.value = Value::Str(new.as_str().into());
        }
    }
}

fn rename_in_pod_spec(spec: &mut Node, lookup: &Lookup<'_>) {
    rename_at(spec, &["serviceAccountName"], "ServiceAccount", lookup);
    rename_at(spec, &["serviceAccount"], "ServiceAccount", lookup);
    if let Some(Value::Seq(items)) = get_mut(spec, "imagePullSecrets").map(|n| &mut n.value) {
        for s in items {
            rename_at(s, &["name"], "Secret", lookup);
        }
    }
    if let Some(Value::Seq(vols)) = get_mut(spec, "volumes").map(|n| &mut n.value) {
        for v in vols {
            rename_at(v, &["configMap", "name"], "ConfigMap", lookup);
            rename_at(v, &["secret", "secretName"], "Secret", lookup);
            rename_at(
                v,
                &["persistentVolumeClaim", "claimName"],
                "PersistentVolumeClaim",
                lookup,
            );
            if let Some(Value::Seq(srcs)) =
                super::path_mut(v, &["projected", "sources"]).map(|n| &mut n.value)
            {
                for s in srcs {
                    rename_at(s, &["configMap", "name"], "ConfigMap", lookup);
                    rename_at(s, &["secret", "name"], "Secret", lookup);
                }
            }
        }
    }
    for key in ["containers", "initContainers"] {
        if let Some(Value::Seq(cs)) = get_mut(spec, key).map(|n| &mut n.value) {
            for c in cs {
                if let Some(Value::Seq(env)) = get_mut(c, "env").map(|n| &mut n.value) {
                    for e in env {
                        rename_at(
                            e,
                            &["valueFrom", "configMapKeyRef", "name"],
                            "ConfigMap",
                            lookup,
                        );
                        rename_at(e, &["valueFrom", "secretKeyRef", "name"], "Secret", lookup);
                    }
                }
                if let Some(Value::Seq(env)) = get_mut(c, "envFrom").map(|n| &mut n.value) {
                    for e in env {
                        rename_at(e, &["configMapRef", "name"], "ConfigMap", lookup);
                        rename_at(e, &["secretRef", "name"], "Secret", lookup);
                    }
                }
            }
        }
    }
}
