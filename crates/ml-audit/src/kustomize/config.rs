//! `configurations:`: kustomize's transformer configs, files of field specs
//! (`namePrefix`, `commonLabels`, `namespace`, `images`, `varReference`,
//! `nameReference` ...) that extend the built-in ones.
//!
//! kustomize keeps one configuration per accumulator: the built-in specs
//! merged with the `configurations:` of the kustomization and of every
//! kustomization and component it accumulated (a base's configuration
//! applies to the overlays above it, never to its siblings' transformers
//! that ran before). The built-in transformers of this renderer implement
//! the built-in specs by hand; a [`Config`] holds only the specs a
//! configuration adds to them (the *extras*), which the transformers apply
//! through the generic field spec walker [`visit`]. The built-in specs
//! themselves are read once per process, from `defaults.yaml`, to tell
//! extras from repetitions of a built-in spec, and are used whole for
//! `varReference` (`vars`) and `nameReference` (`nameref`).

use std::path::Path;
use std::sync::OnceLock;

use super::{err, map_node, Kust, Origin, RenderError, Res};
use crate::node::{escape, Node, Span, Value};

/// One field spec: where a transformer writes, in objects of a group,
/// version and kind (empty: any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldSpec {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    /// kustomize's path: keys separated by `/`, a key ending in `[]` names
    /// a list (never created).
    pub(crate) path: String,
    pub(crate) create: bool,
}

impl FieldSpec {
    /// Whether the spec applies to an object of this group, version, kind.
    pub(crate) fn applies(&self, group: &str, version: &str, kind: &str) -> bool {
        (self.kind.is_empty() || self.kind == kind)
            && (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
    }

    pub(crate) fn applies_to(&self, r: &Res) -> bool {
        self.applies(r.group(), r.version(), r.obj.kind())
    }

    /// kustomize's `effectivelyEquals`: the same path, and `self`'s kind is
    /// one that `other` selects.
    fn same_key(&self, other: &FieldSpec) -> bool {
        self.path == other.path && other.applies(&self.group, &self.version, &self.kind)
    }

    pub(crate) fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }
}

/// A `nameReference` entry: objects of this kind are named at these specs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BackRef {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    pub(crate) specs: Vec<FieldSpec>,
}

/// Field specs by transformer: the extras of a configuration (see the
/// module documentation), or the built-in specs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) name_prefix: Vec<FieldSpec>,
    pub(crate) name_suffix: Vec<FieldSpec>,
    pub(crate) common_labels: Vec<FieldSpec>,
    pub(crate) labels: Vec<FieldSpec>,
    pub(crate) template_labels: Vec<FieldSpec>,
    pub(crate) common_annotations: Vec<FieldSpec>,
    pub(crate) namespace: Vec<FieldSpec>,
    pub(crate) var_reference: Vec<FieldSpec>,
    pub(crate) images: Vec<FieldSpec>,
    pub(crate) replicas: Vec<FieldSpec>,
    pub(crate) name_reference: Vec<BackRef>,
}

/// The keys of a transformer configuration, in kustomize's spelling.
const SPEC_KEYS: [&str; 10] = [
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "templateLabels",
    "commonAnnotations",
    "namespace",
    "varReference",
    "images",
    "replicas",
];

impl Config {
    fn specs_mut(&mut self, key: &str) -> Option<&mut Vec<FieldSpec>> {
        Some(match key {
            "namePrefix" => &mut self.name_prefix,
            "nameSuffix" => &mut self.name_suffix,
            "commonLabels" => &mut self.common_labels,
            "labels" => &mut self.labels,
            "templateLabels" => &mut self.template_labels,
            "commonAnnotations" => &mut self.common_annotations,
            "namespace" => &mut self.namespace,
            "varReference" => &mut self.var_reference,
            "images" => &mut self.images,
            "replicas" => &mut self.replicas,
            _ => return None,
        })
    }

    fn specs(&self, key: &str) -> &[FieldSpec] {
        match key {
            "namePrefix" => &self.name_prefix,
            "nameSuffix" => &self.name_suffix,
            "commonLabels" => &self.common_labels,
            "labels" => &self.labels,
            "templateLabels" => &self.template_labels,
            "commonAnnotations" => &self.common_annotations,
            "namespace" => &self.namespace,
            "varReference" => &self.var_reference,
            "images" => &self.images,
            "replicas" => &self.replicas,
            _ => &[],
        }
    }

    /// Merges `other` into `self` as kustomize's `TransformerConfig.Merge`
    /// does: a spec already there (same key) is skipped, one that differs
    /// only in `create` is a conflict.
    pub(crate) fn merge(&mut self, other: &Config) -> Result<(), String> {
        for key in SPEC_KEYS {
            let incoming = other.specs(key).to_vec();
            let into = self.specs_mut(key).expect("a known key");
            merge_specs(into, &incoming).map_err(|m| format!("`{key}`: {m}"))?;
        }
        for r in &other.name_reference {
            match self
                .name_reference
                .iter_mut()
                .find(|b| b.group == r.group && b.version == r.version && b.kind == r.kind)
            {
                Some(b) => merge_specs(&mut b.specs, &r.specs)
                    .map_err(|m| format!("`nameReference` of {}: {m}", r.kind))?,
                None => self.name_reference.push(r.clone()),
            }
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == Config::default()
    }
}

fn merge_specs(into: &mut Vec<FieldSpec>, incoming: &[FieldSpec]) -> Result<(), String> {
    for x in incoming {
        match into.iter().find(|s| s.same_key(x)) {
            Some(s) if s.create != x.create => {
                return Err(format!(
                    "conflicting field specs for path `{}` (create: {} and {})",
                    x.path, s.create, x.create
                ))
            }
            Some(_) => {}
            None => into.push(x.clone()),
        }
    }
    Ok(())
}

/// kustomize's built-in field specs, parsed once.
pub(crate) fn defaults() -> &'static Config {
    static DEFAULTS: OnceLock<Config> = OnceLock::new();
    DEFAULTS.get_or_init(|| {
        let text = include_str!("defaults.yaml");
        let (docs, e) = crate::yaml::parse_stream(text, crate::yaml::Limits::default());
        assert!(e.is_none(), "defaults.yaml parses");
        parse(&docs[0].root, Path::new("defaults.yaml")).expect("defaults.yaml is a configuration")
    })
}

/// Field specs one configuration may hold (kustomize's built-in ones are
/// about 400): merging is quadratic, and a hostile file of a million specs
/// must not stall a scan.
const MAX_SPECS: usize = 10_000;

/// Reads one transformer configuration (strictly: an unknown key is an
/// error at its line, as kustomize's strict unmarshalling refuses it).
pub(crate) fn parse(root: &Node, file: &Path) -> Result<Config, RenderError> {
    let mut c = Config::default();
    let mut count = 0usize;
    let mut counted = |n: &Node| {
        count += 1;
        if count > MAX_SPECS {
            Err(err(
                file,
                n.span.line,
                format!("more than {MAX_SPECS} field specs in a transformer configuration"),
            ))
        } else {
            Ok(())
        }
    };
    if root.is_null() {
        return Ok(c);
    }
    if !matches!(root.value, Value::Map(_)) {
        return Err(err(
            file,
            root.span.line,
            "a transformer configuration must be a mapping",
        ));
    }
    for e in root.entries() {
        if e.key == "nameReference" {
            for item in seq(&e.value, file)? {
                let mut b = BackRef {
                    group: String::new(),
                    version: String::new(),
                    kind: String::new(),
                    specs: Vec::new(),
                };
                for f in map(item, file)? {
                    match f.key.as_str() {
                        "group" => b.group = text(&f.value, file)?,
                        "version" => b.version = text(&f.value, file)?,
                        "kind" => b.kind = text(&f.value, file)?,
                        "fieldSpecs" => {
                            for s in seq(&f.value, file)? {
                                counted(s)?;
                                b.specs.push(spec(s, file)?);
                            }
                        }
                        other => return Err(unknown(file, f.key_span.line, other)),
                    }
                }
                c.name_reference.push(b);
            }
            continue;
        }
        let Some(into) = c.specs_mut(&e.key) else {
            return Err(unknown(file, e.key_span.line, &e.key));
        };
        for item in seq(&e.value, file)? {
            counted(item)?;
            into.push(spec(item, file)?);
        }
    }
    Ok(c)
}

fn unknown(file: &Path, line: u32, key: &str) -> RenderError {
    err(
        file,
        line,
        format!("unknown field `{key}` in a transformer configuration"),
    )
}

fn seq<'a>(n: &'a Node, file: &Path) -> Result<&'a [Node], RenderError> {
    match &n.value {
        Value::Null => Ok(&[]),
        Value::Seq(items) => Ok(items),
        _ => Err(err(file, n.span.line, "expected a list")),
    }
}

fn map<'a>(n: &'a Node, file: &Path) -> Result<&'a [crate::node::Entry], RenderError> {
    match &n.value {
        Value::Map(es) => Ok(es),
        _ => Err(err(file, n.span.line, "expected a mapping")),
    }
}

fn text(n: &Node, file: &Path) -> Result<String, RenderError> {
    if n.is_null() {
        return Ok(String::new());
    }
    n.scalar_text()
        .ok_or_else(|| err(file, n.span.line, "expected a string"))
}

/// One field spec (`group`, `version`, `kind`, `path`, `create`), strictly.
pub(crate) fn spec(n: &Node, file: &Path) -> Result<FieldSpec, RenderError> {
    let mut s = FieldSpec {
        group: String::new(),
        version: String::new(),
        kind: String::new(),
        path: String::new(),
        create: false,
    };
    for f in map(n, file)? {
        match f.key.as_str() {
            "group" => s.group = text(&f.value, file)?,
            "version" => s.version = text(&f.value, file)?,
            "kind" => s.kind = text(&f.value, file)?,
            "path" => s.path = text(&f.value, file)?,
            "create" => {
                s.create = match &f.value.value {
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    _ => return Err(err(file, f.value.span.line, "`create` must be a boolean")),
                }
            }
            other => return Err(unknown(file, f.key_span.line, other)),
        }
    }
    Ok(s)
}

/// The extras of the kustomization's `configurations:` (see the module
/// documentation): its files merged, then with the built-in specs; what
/// the merge adds to the built-in specs.
pub(crate) fn load(k: &Kust<'_>) -> Result<Config, RenderError> {
    let mut loaded = Config::default();
    for item in k.root.field("configurations").items() {
        let path = k.path(item)?;
        if !path.is_file() {
            return Err(k.err_at(
                item,
                format!(
                    "configuration `{}` does not exist",
                    item.as_str().unwrap_or("")
                ),
            ));
        }
        let path = k.confined(item, path)?;
        let docs = super::read_docs(&path)?;
        let empty = Node::new(Value::Null);
        let c = parse(docs.first().unwrap_or(&empty), &path)?;
        loaded
            .merge(&c)
            .map_err(|m| k.err_at(item, format!("configuration: {m}")))?;
    }
    if loaded.is_empty() {
        return Ok(loaded);
    }
    let base = defaults();
    let mut merged = base.clone();
    merged
        .merge(&loaded)
        .map_err(|m| k.err("configurations", format!("configuration: {m}")))?;
    // Merging appends: what is past the built-in specs is new.
    let mut extras = Config::default();
    for key in SPEC_KEYS {
        let n = base.specs(key).len();
        *extras.specs_mut(key).expect("a known key") = merged.specs(key)[n..].to_vec();
    }
    for b in &merged.name_reference {
        let known = base
            .name_reference
            .iter()
            .find(|d| d.group == b.group && d.version == b.version && d.kind == b.kind)
            .map_or(0, |d| d.specs.len());
        if b.specs.len() > known {
            extras.name_reference.push(BackRef {
                specs: b.specs[known..].to_vec(),
                ..b.clone()
            });
        }
    }
    Ok(extras)
}

/// What a missing leaf is created as, when its spec says `create`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaf {
    /// Never created (the transformer only rewrites what is there).
    Never,
    /// A scalar (created null; the setter writes it).
    Scalar,
    /// A mapping.
    Map,
}

/// Calls `set` with every node at the spec's path below `node` and its
/// JSON pointer, as kustomize's field spec filter walks: into every
/// element of a list on the way; a missing key is created (a mapping on
/// the way, `leaf` at the end) only when the spec says `create`, never for
/// a key written `name[]`.
pub(crate) fn visit(
    node: &mut Node,
    path: &[&str],
    create: bool,
    leaf: Leaf,
    span: Span,
    ptr: &mut String,
    set: &mut dyn FnMut(&mut Node, &str),
) {
    let Some((first, rest)) = path.split_first() else {
        set(node, ptr);
        return;
    };
    match &mut node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&i.to_string());
                visit(item, path, create, leaf, span, ptr, set);
                ptr.truncate(len);
            }
        }
        Value::Map(_) => {
            let (name, is_seq) = match first.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (*first, false),
            };
            let make = if !create || is_seq || (rest.is_empty() && leaf == Leaf::Never) {
                None
            } else if rest.is_empty() {
                Some(leaf)
            } else {
                Some(Leaf::Map)
            };
            let present = node.get(name).is_some();
            if !present && make.is_none() {
                return;
            }
            let child = super::get_or_insert(node, name, || match make {
                Some(Leaf::Map) => map_node(span),
                _ => Node {
                    value: Value::Null,
                    span,
                },
            });
            let Some(child) = child else { return };
            if child.is_null() && make == Some(Leaf::Map) {
                *child = map_node(span);
            }
            let len = ptr.len();
            ptr.push('/');
            ptr.push_str(&escape(name));
            visit(child, rest, create, leaf, span, ptr, set);
            ptr.truncate(len);
        }
        _ => {}
    }
}

/// Applies `set` at every spec of `specs` that applies to `r`.
pub(crate) fn apply(
    r: &mut Res,
    specs: &[FieldSpec],
    leaf: Leaf,
    span: Span,
    set: &mut dyn FnMut(&mut Node, &str, &mut Vec<String>),
) -> Vec<String> {
    let mut written = Vec::new();
    let chosen: Vec<&FieldSpec> = specs.iter().filter(|s| s.applies_to(r)).collect();
    for s in chosen {
        let mut ptr = String::new();
        visit(
            &mut r.obj.node,
            &s.segments(),
            s.create,
            leaf,
            span,
            &mut ptr,
            &mut |n, p| set(n, p, &mut written),
        );
    }
    written
}

/// Sets label or annotation pairs in the mapping at each of `specs`.
pub(crate) fn set_pairs(
    r: &mut Res,
    specs: &[FieldSpec],
    pairs: &std::collections::BTreeMap<String, String>,
    span: Span,
    file: &Path,
) {
    if specs.is_empty() || pairs.is_empty() {
        return;
    }
    let written = apply(r, specs, Leaf::Map, span, &mut |n, p, written| {
        if n.is_null() {
            *n = map_node(span);
        }
        if !matches!(n.value, Value::Map(_)) {
            return;
        }
        for (key, v) in pairs {
            super::set(n, key, super::str_node(v, span));
            written.push(format!("{p}/{}", escape(key)));
        }
    });
    for w in written {
        r.obj.origins.push(Origin::new(w, file, span.line));
    }
}

/// Sets a scalar (a namespace, a replica count) at each of `specs`.
pub(crate) fn set_scalar(r: &mut Res, specs: &[FieldSpec], value: &Node, file: &Path) {
    if specs.is_empty() {
        return;
    }
    let span = value.span;
    let written = apply(r, specs, Leaf::Scalar, span, &mut |n, p, written| {
        if matches!(n.value, Value::Map(_) | Value::Seq(_)) {
            return;
        }
        *n = Node {
            value: value.value.clone(),
            span,
        };
        written.push(p.to_string());
    });
    for w in written {
        r.obj.origins.push(Origin::new(w, file, span.line));
    }
}

/// Rewrites the strings at each of `specs` with `f` (name prefixes and
/// suffixes, images): only existing string values.
pub(crate) fn rewrite_strings(
    r: &mut Res,
    specs: &[FieldSpec],
    file: &Path,
    line: u32,
    f: &dyn Fn(&str) -> Option<String>,
) {
    if specs.is_empty() {
        return;
    }
    let written = apply(
        r,
        specs,
        Leaf::Never,
        Span::default(),
        &mut |n, p, written| {
            if let Some(new) = n.as_str().and_then(f) {
                n.value = Value::Str(new.as_str().into());
                written.push(p.to_string());
            }
        },
    );
    for w in written {
        r.obj.origins.push(Origin::rewrite(w, file, line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_specs_parse() {
        let d = defaults();
        assert_eq!(d.name_prefix.len(), 1);
        assert!(d.var_reference.len() > 60);
        assert!(d.name_reference.iter().any(|b| b.kind == "ConfigMap"));
        assert!(d.images.iter().all(|s| s.create));
    }

    #[test]
    fn a_configuration_of_too_many_specs_is_refused() {
        let text = "varReference:\n".to_string() + &"- path: a\n".repeat(MAX_SPECS + 1);
        let (docs, _) = crate::yaml::parse_stream(&text, crate::yaml::Limits::default());
        let e = parse(&docs[0].root, Path::new("c.yaml")).unwrap_err();
        assert_eq!(e.line, MAX_SPECS as u32 + 2);
        assert!(e.message.contains("more than"), "{e}");
    }

    #[test]
    fn merging_skips_known_specs_and_refuses_conflicts() {
        let spec = |kind: &str, path: &str, create: bool| FieldSpec {
            group: String::new(),
            version: String::new(),
            kind: kind.into(),
            path: path.into(),
            create,
        };
        let mut a = vec![spec("", "metadata/labels", true)];
        merge_specs(&mut a, &[spec("Foo", "metadata/labels", true)]).unwrap();
        assert_eq!(a.len(), 2, "a kind-specific spec is not the generic one");
        merge_specs(&mut a, &[spec("", "metadata/labels", true)]).unwrap();
        assert_eq!(a.len(), 2);
        assert!(merge_specs(&mut a, &[spec("Foo", "metadata/labels", false)]).is_err());
    }
}
