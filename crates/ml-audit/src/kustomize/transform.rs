//! The built-in transformers, in kustomize's order: patches (strategic
//! merge, then `patches`), namespace, name prefix and suffix, labels,
//! annotations, JSON 6902 patches, replicas, images. (References to
//! renamed objects are fixed once the root is built: `nameref`.)

use regex::Regex;

use super::config::{self, Config, FieldSpec};
use super::json6902::apply_op;
use super::smp::{builtin_group, Merge};
use super::{
    err, get_mut, map_node, read_docs, set, str_node, string_map, Kust, Origin, RenderError, Res,
};
use crate::node::{escape, Node, Span, Value};

pub(super) fn run_transformers(
    k: &Kust<'_>,
    acc: &mut Vec<Res>,
    cfg: &Config,
) -> Result<(), RenderError> {
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
            let extra: Vec<FieldSpec> = cfg
                .namespace
                .iter()
                .filter(|s| s.path != "metadata/namespace")
                .cloned()
                .collect();
            for r in acc.iter_mut() {
                set_namespace(r, ns_str, ns.span, k);
                let specs: Vec<FieldSpec> = extra
                    .iter()
                    .filter(|s| {
                        (s.path != "metadata/name" || r.obj.api_version() == "v1")
                            && !(matches!(r.obj.kind(), "RoleBinding" | "ClusterRoleBinding")
                                && s.path == "subjects/namespace")
                    })
                    .cloned()
                    .collect();
                config::set_scalar(r, &specs, ns, k.file);
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
                if skips_affixes(r) {
                    continue;
                }
                let old = r.obj.name().to_string();
                let new = if prefix {
                    format!("{}{old}", v.0)
                } else {
                    format!("{old}{}", v.0)
                };
                rename(r, &new, v.1, k);
                if prefix {
                    r.prefixes.push(v.0.to_string());
                } else {
                    r.suffixes.push(v.0.to_string());
                }
            }
            let specs: Vec<FieldSpec> = if prefix {
                &cfg.name_prefix
            } else {
                &cfg.name_suffix
            }
            .iter()
            .filter(|s| s.path != "metadata/name")
            .cloned()
            .collect();
            for r in acc.iter_mut().filter(|r| !skips_affixes(r)) {
                config::rewrite_strings(r, &specs, k.file, v.1.line, &|old| {
                    Some(if prefix {
                        format!("{}{old}", v.0)
                    } else {
                        format!("{old}{}", v.0)
                    })
                });
            }
        }
    }
    let common = string_map(k.root.field("commonLabels"));
    if !common.is_empty() {
        let span = k.root.field("commonLabels").span;
        for r in acc.iter_mut() {
            apply_labels(r, &common, LabelScope::Selectors, k, "commonLabels");
            config::set_pairs(r, &cfg.common_labels, &common, span, k.file);
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
        // The entry's own field specs, then those of configurations.
        let mut extra = Vec::new();
        for f in l.field("fields").items() {
            extra.push(config::spec(f, k.file)?);
        }
        extra.extend(cfg.labels.iter().cloned());
        match scope {
            LabelScope::Selectors => extra.extend(cfg.common_labels.iter().cloned()),
            LabelScope::Templates => extra.extend(cfg.template_labels.iter().cloned()),
            LabelScope::Metadata => {}
        }
        let span = k.root.field("labels").span;
        for r in acc.iter_mut() {
            apply_labels(r, &pairs, scope, k, "labels");
            config::set_pairs(r, &extra, &pairs, span, k.file);
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
            config::set_pairs(r, &cfg.common_annotations, &annotations, span, k.file);
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
            if r.obj.name() == name || r.prev_names.iter().any(|(n, _)| n == name) {
                config::set_scalar(r, &cfg.replicas, count, k.file);
            }
        }
    }
    for img in k.root.field("images").items() {
        for r in acc.iter_mut() {
            let mut written = Vec::new();
            update_images(&mut r.obj.node, img, &mut String::new(), &mut written);
            for w in written {
                r.obj
                    .origins
                    .push(Origin::rewrite(w, k.file, img.span.line));
            }
            if r.obj.kind() != "CustomResourceDefinition" {
                config::rewrite_strings(r, &cfg.images, k.file, img.span.line, &|s| {
                    new_image(s, img)
                });
            }
        }
    }
    super::replacements::run(k, acc)?;
    Ok(())
}

/// kustomize gives no name prefix or suffix (at any field) to CRDs,
/// Namespaces and APIServices.
fn skips_affixes(r: &Res) -> bool {
    matches!(r.obj.kind(), "CustomResourceDefinition" | "Namespace")
        || (r.obj.kind() == "APIService" && r.group() == "apiregistration.k8s.io")
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
            .map(|d| (respan(d.root, item), k.file.to_path_buf()))
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
/// line and column of that text in the kustomization. `scalar` is the
/// string node holding the patch. A block scalar (`patch: |-`) has its
/// span at its first line that is not blank, indented: text line `k` is
/// that line plus `k - 1` minus the blank lines it starts with, and every
/// column moves by the indentation. A one-line scalar is on its own line.
fn respan(mut n: Node, scalar: &Node) -> Node {
    fn walk(n: &mut Node, lines: i64, cols: i64) {
        let shift = |v: &mut u32, by: i64| *v = u32::try_from(i64::from(*v) + by).unwrap_or(0);
        shift(&mut n.span.line, lines);
        shift(&mut n.span.end_line, lines);
        shift(&mut n.span.col, cols);
        shift(&mut n.span.end_col, cols);
        match &mut n.value {
            Value::Map(es) => es.iter_mut().for_each(|e| {
                shift(&mut e.key_span.line, lines);
                shift(&mut e.key_span.end_line, lines);
                shift(&mut e.key_span.col, cols);
                shift(&mut e.key_span.end_col, cols);
                walk(&mut e.value, lines, cols)
            }),
            Value::Seq(items) => items.iter_mut().for_each(|i| walk(i, lines, cols)),
            _ => {}
        }
    }
    let text = scalar.as_str().unwrap_or("");
    let base = i64::from(scalar.span.line);
    let (lines, cols) = if text.contains('\n') {
        let blank = text.chars().take_while(|c| *c == '\n').count() as i64;
        (base - 1 - blank, i64::from(scalar.span.col) - 1)
    } else {
        (base - 1, 0)
    };
    walk(&mut n, lines, cols);
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
                && r.ids().any(|(n, s)| n == name && ns_eq(s, ns))
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
    // kyaml's merge walks the whole object: fields left empty anywhere are
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

/// kyaml's merge drops the fields whose value is empty (`key:` with
/// nothing after it); a null written as `null` or `~` stays (kubectl
/// prints `creationTimestamp: null` after a patch). An empty value is the
/// null whose span is empty.
fn drop_nulls(n: &mut Node) {
    match &mut n.value {
        Value::Map(es) => {
            es.retain(|e| {
                let s = e.value.span;
                !(e.value.is_null() && s.line == s.end_line && s.col == s.end_col)
            });
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
            docs.into_iter().map(|d| respan(d.root, text)).collect(),
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
    r.prev_ids
        .push((r.obj.name().to_string(), r.obj.namespace().to_string()));
    if !cluster_scoped(&kind) {
        if r.obj.namespace() != ns {
            r.renamed_by = Some((file.clone(), span.line));
        }
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
    r.renamed_by = Some((k.file.to_path_buf(), span.line));
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
/// Rewrites the images of every `containers` and `initContainers` list in
/// `node` that `img` names, recording their pointers. The pointer is built
/// in one buffer as the walk goes: a string per node visited was a fifth of
/// rendering a large repository.
fn update_images(node: &mut Node, img: &Node, ptr: &mut String, written: &mut Vec<String>) {
    use std::fmt::Write as _;
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                if !matches!(e.value.value, Value::Map(_) | Value::Seq(_)) {
                    continue;
                }
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&escape(&e.key));
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
                                written.push(format!("{ptr}/{i}/image"));
                            }
                        }
                    }
                }
                update_images(&mut e.value, img, ptr, written);
                ptr.truncate(len);
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                if !matches!(item.value, Value::Map(_) | Value::Seq(_)) {
                    continue;
                }
                let len = ptr.len();
                let _ = write!(ptr, "/{i}");
                update_images(item, img, ptr, written);
                ptr.truncate(len);
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

#[cfg(test)]
mod tests {
    use super::drop_nulls;
    use crate::yaml::{parse_stream, Limits};

    /// Both parsers give an empty value an empty span, so that a strategic
    /// merge drops `a:` and keeps `b: null` and `c: ~`, as kubectl does.
    #[test]
    fn a_merge_drops_empty_values_and_keeps_written_nulls() {
        for text in [
            "a:\nb: null\nc: ~\nd:\n  e:\n  f: null\n",
            "a:\nb: null\nc: ~\nd:\n  e:\n  f: null\n&x g: 1\n",
        ] {
            let (docs, e) = parse_stream(text, Limits::default());
            assert!(e.is_none());
            let mut n = docs[0].root.clone();
            drop_nulls(&mut n);
            let keys: Vec<&str> = n.entries().iter().map(|e| e.key.as_str()).collect();
            assert_eq!(&keys[..3], ["b", "c", "d"], "{text}");
            let inner: Vec<&str> = n
                .field("d")
                .entries()
                .iter()
                .map(|e| e.key.as_str())
                .collect();
            assert_eq!(inner, ["f"], "{text}");
        }
    }
}
