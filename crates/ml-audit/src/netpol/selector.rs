//! Label selectors (`matchLabels` + `matchExpressions`), with three-valued
//! matching for namespaces whose labels the input does not declare.

use std::collections::BTreeMap;
use std::fmt;

use crate::node::Node;

/// The label every namespace carries automatically.
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Labels.
pub type Labels = BTreeMap<String, String>;

/// One requirement of a selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Req {
    /// `key in (values)` (matchLabels gives one value).
    In(String, Vec<String>),
    /// `key notin (values)`: true for objects without the key.
    NotIn(String, Vec<String>),
    /// `key` exists.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

impl Req {
    fn key(&self) -> &str {
        match self {
            Req::In(k, _) | Req::NotIn(k, _) | Req::Exists(k) | Req::DoesNotExist(k) => k,
        }
    }

    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Req::In(k, v) => labels.get(k).is_some_and(|x| v.contains(x)),
            Req::NotIn(k, v) => labels.get(k).is_none_or(|x| !v.contains(x)),
            Req::Exists(k) => labels.contains_key(k),
            Req::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

/// A label selector. The empty selector selects everything; an invalid one
/// (unknown operator) selects nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector {
    /// Requirements, all of which must hold.
    pub reqs: Vec<Req>,
    /// Set when the selector could not be read: it selects nothing.
    pub invalid: bool,
}

/// A three-valued answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tri {
    /// Certainly.
    Yes,
    /// Certainly not.
    No,
    /// Depends on labels the input does not declare.
    Unknown,
}

impl Selector {
    /// Reads a `LabelSelector` node.
    pub fn parse(node: &Node) -> Selector {
        let mut s = Selector::default();
        for e in node.field("matchLabels").entries() {
            match e.value.scalar_text() {
                Some(v) => s.reqs.push(Req::In(e.key.to_string(), vec![v])),
                None => s.invalid = true,
            }
        }
        for x in node.field("matchExpressions").items() {
            let key = x.field("key").scalar_text().unwrap_or_default();
            let values: Vec<String> = x
                .field("values")
                .items()
                .iter()
                .filter_map(|v| v.scalar_text())
                .collect();
            match x.field("operator").as_str().unwrap_or("") {
                "In" => s.reqs.push(Req::In(key, values)),
                "NotIn" => s.reqs.push(Req::NotIn(key, values)),
                "Exists" => s.reqs.push(Req::Exists(key)),
                "DoesNotExist" => s.reqs.push(Req::DoesNotExist(key)),
                _ => s.invalid = true,
            }
        }
        s.reqs.sort();
        s.reqs.dedup();
        s
    }

    /// True for `{}`: selects everything.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty() && !self.invalid
    }

    /// Matches known labels.
    pub fn matches(&self, labels: &Labels) -> bool {
        !self.invalid && self.reqs.iter().all(|r| r.matches(labels))
    }

    /// Matches a namespace: with `known` labels the answer is certain;
    /// otherwise only the automatic name label is known and the answer is
    /// `Unknown` when it depends on any other label.
    pub fn matches_ns(&self, labels: &Labels, known: bool) -> Tri {
        if known {
            return if self.matches(labels) {
                Tri::Yes
            } else {
                Tri::No
            };
        }
        if self.invalid {
            return Tri::No;
        }
        let mut unknown = false;
        for r in &self.reqs {
            if r.key() == NAME_LABEL {
                if !r.matches(labels) {
                    return Tri::No;
                }
            } else {
                unknown = true;
            }
        }
        if unknown {
            Tri::Unknown
        } else {
            Tri::Yes
        }
    }

    /// The label keys the selector reads.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.reqs.iter().map(|r| r.key())
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invalid {
            return f.write_str("<invalid>");
        }
        if self.reqs.is_empty() {
            return f.write_str("{}");
        }
        for (i, r) in self.reqs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r {
                Req::In(k, v) if v.len() == 1 => write!(f, "{k}={}", v[0])?,
                Req::In(k, v) => write!(f, "{k} in ({})", v.join(","))?,
                Req::NotIn(k, v) => write!(f, "{k} notin ({})", v.join(","))?,
                Req::Exists(k) => write!(f, "{k}")?,
                Req::DoesNotExist(k) => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}
