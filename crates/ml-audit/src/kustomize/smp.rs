//! Strategic merge patches as kustomize (kyaml's `merge2`) applies them:
//! maps merge key by key, a null deletes, `$patch: delete|replace`; lists of
//! built-in kinds that Kubernetes declares with a merge strategy merge by
//! their merge key (patch elements first, then the others, as kustomize's
//! "prepend" direction does); every other list is replaced whole, as for
//! custom resources, whose schema kustomize does not know.

use crate::node::{escape, Node, Value};

/// Whether a group is one of Kubernetes' built-in API groups.
pub(crate) fn builtin_group(group: &str) -> bool {
    matches!(
        group,
        "" | "apps"
            | "batch"
            | "policy"
            | "autoscaling"
            | "extensions"
            | "rbac.authorization.k8s.io"
            | "networking.k8s.io"
            | "admissionregistration.k8s.io"
            | "apiextensions.k8s.io"
            | "apiregistration.k8s.io"
            | "storage.k8s.io"
            | "scheduling.k8s.io"
            | "coordination.k8s.io"
            | "certificates.k8s.io"
            | "discovery.k8s.io"
            | "node.k8s.io"
            | "events.k8s.io"
            | "flowcontrol.apiserver.k8s.io"
    )
}

/// The merge keys of a list field of a built-in kind, by field name and
/// the name of the field above it (`ports` differs in a Service).
fn merge_keys(field: &str, parent: &str, kind: &str) -> Option<&'static [&'static str]> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "webhooks" => &["name"],
        "volumeMounts" => &["mountPath"],
        "volumeDevices" => &["devicePath"],
        "hostAliases" => &["ip"],
        "conditions" => &["type"],
        "ownerReferences" => &["uid"],
        "topologySpreadConstraints" => &["topologyKey", "whenUnsatisfiable"],
        "ports" if kind == "Service" && parent == "spec" => &["port", "protocol"],
        "ports" if parent != "spec" => &["containerPort", "protocol"],
        _ => return None,
    })
}

/// What a merge did: where in the result the patch wrote.
pub(crate) struct Merge<'a> {
    /// Merge keys apply (a built-in kind).
    pub(crate) builtin: bool,
    /// The kind of the patched object.
    pub(crate) kind: &'a str,
    /// Pointers of the subtrees the patch wrote.
    pub(crate) written: Vec<String>,
}

fn directive(n: &Node) -> Option<&str> {
    n.get("$patch").and_then(Node::as_str)
}

/// A patch subtree with directives and nulls removed (what is inserted when
/// the target has nothing there).
fn clean(n: &Node) -> Node {
    match &n.value {
        Value::Map(entries) => Node {
            value: Value::Map(
                entries
                    .iter()
                    .filter(|e| !e.key.starts_with('$') && !e.value.is_null())
                    .map(|e| {
                        let mut e = e.clone();
                        e.value = clean(&e.value);
                        e
                    })
                    .collect(),
            ),
            span: n.span,
        },
        Value::Seq(items) => Node {
            value: Value::Seq(
                items
                    .iter()
                    .filter(|i| !matches!(directive(i), Some("delete" | "replace")))
                    .map(clean)
                    .collect(),
            ),
            span: n.span,
        },
        _ => n.clone(),
    }
}

impl Merge<'_> {
    /// Merges `patch` into the mapping `dest` at `ptr`. Returns false when
    /// the patch deletes `dest` (`$patch: delete`).
    pub(crate) fn map(&mut self, dest: &mut Node, patch: &Node, ptr: &str) -> bool {
        match directive(patch) {
            Some("delete") => return false,
            Some("replace") => {
                *dest = clean(patch);
                self.written.push(ptr.to_string());
                return true;
            }
            _ => {}
        }
        if !matches!(dest.value, Value::Map(_)) {
            *dest = clean(patch);
            self.written.push(ptr.to_string());
            return true;
        }
        for e in patch.entries() {
            if e.key.starts_with('$') {
                continue;
            }
            let child_ptr = format!("{ptr}/{}", escape(&e.key));
            let Value::Map(entries) = &mut dest.value else {
                unreachable!()
            };
            let pos = entries.iter().position(|d| d.key == e.key);
            if e.value.is_null() {
                if let Some(i) = pos {
                    entries.remove(i);
                }
                continue;
            }
            let Some(i) = pos else {
                let v = clean(&e.value);
                if matches!(&v.value, Value::Map(m) if m.is_empty())
                    && directive(&e.value).is_some()
                {
                    continue;
                }
                entries.push(crate::node::Entry {
                    key: e.key.clone(),
                    key_span: e.key_span,
                    value: v,
                });
                self.written.push(child_ptr);
                continue;
            };
            let d = &mut entries[i].value;
            match (&mut d.value, &e.value.value) {
                (Value::Map(_), Value::Map(_)) => {
                    if !self.map(d, &e.value, &child_ptr) {
                        entries.remove(i);
                    }
                }
                (Value::Seq(_), Value::Seq(_)) => {
                    let keys = if self.builtin {
                        merge_keys(&e.key, parent_name(ptr), self.kind)
                    } else {
                        None
                    };
                    match keys {
                        Some(keys) => self.list(d, &e.value, keys, &child_ptr),
                        None => {
                            *d = clean(&e.value);
                            self.written.push(child_ptr);
                        }
                    }
                }
                _ => {
                    entries[i].value = clean(&e.value);
                    self.written.push(child_ptr);
                }
            }
        }
        true
    }

    fn list(&mut self, dest: &mut Node, patch: &Node, keys: &[&str], ptr: &str) {
        let key_of = |n: &Node| -> Vec<Option<String>> {
            keys.iter()
                .map(|k| n.get(k).and_then(Node::scalar_text))
                .collect()
        };
        // Two elements match when their primary keys are equal and a
        // secondary key differs only where one side leaves it empty.
        let matches = |a: &[Option<String>], b: &[Option<String>]| {
            a[0].is_some()
                && a[0] == b[0]
                && a.iter()
                    .zip(b)
                    .skip(1)
                    .all(|(x, y)| x.is_none() || y.is_none() || x == y)
        };
        // An element `$patch: replace` replaces the whole list with the
        // patch's other elements.
        if patch
            .items()
            .iter()
            .any(|p| directive(p) == Some("replace"))
        {
            *dest = clean(patch);
            self.written.push(ptr.to_string());
            return;
        }
        let Value::Seq(old) = std::mem::replace(&mut dest.value, Value::Null) else {
            return;
        };
        let mut old: Vec<Option<Node>> = old.into_iter().map(Some).collect();
        let mut out: Vec<(Node, bool)> = Vec::new();
        for p in patch.items() {
            if !matches!(p.value, Value::Map(_)) {
                continue;
            }
            let pk = key_of(p);
            let found = old
                .iter()
                .position(|o| o.as_ref().is_some_and(|o| matches(&key_of(o), &pk)));
            if directive(p) == Some("delete") {
                if let Some(i) = found {
                    old[i] = None;
                }
                continue;
            }
            if out.iter().any(|(o, _)| matches(&key_of(o), &pk)) {
                continue;
            }
            match found {
                Some(i) => {
                    let mut o = old[i].take().unwrap_or_else(|| Node::new(Value::Null));
                    let mut sub = Merge {
                        builtin: self.builtin,
                        kind: self.kind,
                        written: Vec::new(),
                    };
                    let idx = out.len();
                    if sub.map(&mut o, p, &format!("{ptr}/{idx}")) {
                        self.written.extend(sub.written);
                        out.push((o, false));
                    }
                }
                None => {
                    out.push((clean(p), true));
                }
            }
        }
        for o in old.into_iter().flatten() {
            out.push((o, false));
        }
        for (i, (_, new)) in out.iter().enumerate() {
            if *new {
                self.written.push(format!("{ptr}/{i}"));
            }
        }
        dest.value = Value::Seq(out.into_iter().map(|(n, _)| n).collect());
    }
}

fn parent_name(ptr: &str) -> &str {
    ptr.rsplit('/').next().unwrap_or("")
}
