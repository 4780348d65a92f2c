//! LimitRange: defaults filled in per container, then the min / max /
//! maxLimitRequestRatio checks of the LimitRanger admission plugin, per
//! container and per pod.

use std::collections::BTreeMap;
use std::fmt;

use super::{limit_pointer, request_pointer, Amounts, ContainerUsage, Quantity};
use crate::node::{Node, Pointer};
use crate::object::{Object, ObjectId};
use crate::workload::Workload;

type Origins = BTreeMap<String, (Quantity, Pointer)>;

struct Item {
    kind: String,
    max: Origins,
    min: Origins,
    default: Origins,
    default_request: Origins,
    ratio: Origins,
}

/// A parsed LimitRange, with the API server's defaulting of its items
/// (`default` from `max`, `defaultRequest` from `default` then `min`).
pub(super) struct LimitRange {
    pub(super) object: ObjectId,
    items: Vec<Item>,
}

fn origins(node: &Node, at: &Pointer) -> Origins {
    let mut out = Origins::new();
    for e in node.entries() {
        if let Some(q) = e.value.scalar_text().and_then(|t| Quantity::parse(&t)) {
            out.insert(e.key.to_string(), (q, at.key(&e.key)));
        }
    }
    out
}

/// Which side of a container or pod a LimitRange constraint is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitSide {
    /// A request is too small (or missing).
    Request,
    /// A limit is too large (or missing).
    Limit,
    /// The limit/request ratio is too large.
    Ratio,
}

/// A pod that a LimitRange would reject.
#[derive(Clone, Debug)]
pub struct LimitRejection {
    /// Index in `Inventory::workloads`.
    pub workload: usize,
    /// Index in `Workload::containers`; `None` for a `type: Pod` limit.
    pub container: Option<usize>,
    /// The resource.
    pub resource: String,
    /// What is wrong.
    pub side: LimitSide,
    /// Where in the workload's object to point.
    pub pointer: Pointer,
    /// Why it is rejected.
    pub message: String,
    /// The LimitRange.
    pub limit_range: ObjectId,
    /// The constraint inside it.
    pub limit_pointer: Pointer,
}

/// "container `name`", written only into a message (no string per container checked).
struct ContainerName<'a>(&'a str);

impl fmt::Display for ContainerName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "container `{}`", self.0)
    }
}

impl LimitRange {
    pub(super) fn parse(o: &Object) -> LimitRange {
        let mut items = Vec::new();
        let base = Pointer::root().keys(&["spec", "limits"]);
        if let Some(list) = o.root.pointer("/spec/limits") {
            for (i, it) in list.items().iter().enumerate() {
                let at = base.idx(i);
                let get = |k: &str| origins(it.field(k), &at.key(k));
                let mut item = Item {
                    kind: it.field("type").as_str().unwrap_or("").to_string(),
                    max: get("max"),
                    min: get("min"),
                    default: get("default"),
                    default_request: get("defaultRequest"),
                    ratio: get("maxLimitRequestRatio"),
                };
                if item.kind == "Container" {
                    for (k, v) in &item.max {
                        item.default.entry(k.clone()).or_insert(v.clone());
                    }
                    for (k, v) in &item.default {
                        item.default_request.entry(k.clone()).or_insert(v.clone());
                    }
                    for (k, v) in &item.min {
                        item.default_request.entry(k.clone()).or_insert(v.clone());
                    }
                }
                items.push(item);
            }
        }
        LimitRange {
            object: o.id,
            items,
        }
    }

    /// Fills in `default` limits and `defaultRequest` requests.
    pub(super) fn apply_defaults(&self, c: &mut ContainerUsage) {
        for item in self.items.iter().filter(|i| i.kind == "Container") {
            for (r, (q, _)) in &item.default {
                c.limits.set_default(r, *q);
            }
            for (r, (q, p)) in &item.default_request {
                if !c.requests.contains_key(r) {
                    c.requests.insert(r, *q);
                    c.defaulted.insert(r.clone(), (self.object, p.clone()));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn validate(
        &self,
        index: usize,
        w: &Workload,
        containers: &[ContainerUsage],
        pod_requests: &Amounts,
        pod_limits: &Amounts,
        out: &mut Vec<LimitRejection>,
    ) {
        for item in &self.items {
            match item.kind.as_str() {
                "Container" => {
                    for c in containers {
                        let what = ContainerName(&w.containers[c.index].name);
                        let ptr = |side: LimitSide, r: &str| match side {
                            LimitSide::Request => request_pointer(w, c.index, r),
                            _ => limit_pointer(w, c.index, r),
                        };
                        self.check(
                            item,
                            index,
                            Some(c.index),
                            &what,
                            "Container",
                            &c.requests,
                            &c.limits,
                            &ptr,
                            out,
                        );
                    }
                }
                "Pod" => {
                    let ptr = |_: LimitSide, _: &str| w.pod_pointer.key("containers");
                    self.check(
                        item,
                        index,
                        None,
                        &"the pod",
                        "Pod",
                        pod_requests,
                        pod_limits,
                        &ptr,
                        out,
                    );
                }
                _ => {}
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        item: &Item,
        index: usize,
        container: Option<usize>,
        what: &dyn fmt::Display,
        per: &str,
        requests: &Amounts,
        limits: &Amounts,
        ptr: &dyn Fn(LimitSide, &str) -> Pointer,
        out: &mut Vec<LimitRejection>,
    ) {
        let mut push = |r: &str, side: LimitSide, at: &Pointer, message: String| {
            out.push(LimitRejection {
                workload: index,
                container,
                resource: r.to_string(),
                side,
                pointer: ptr(side, r),
                message,
                limit_range: self.object,
                limit_pointer: at.clone(),
            })
        };
        for (r, (min, at)) in &item.min {
            let req = requests.get(r);
            match req {
                None => push(
                    r,
                    LimitSide::Request,
                    at,
                    format!(
                        "{what} has no {r} request, but the minimum {r} per {per} is {}",
                        min.display_for(r)
                    ),
                ),
                Some(q) if q < min => push(
                    r,
                    LimitSide::Request,
                    at,
                    format!(
                        "{what} requests {} {r}, below the minimum {} per {per}",
                        q.display_for(r),
                        min.display_for(r)
                    ),
                ),
                _ => {
                    if let Some(l) = limits.get(r).filter(|l| *l < min) {
                        push(
                            r,
                            LimitSide::Limit,
                            at,
                            format!(
                                "{what} has a {r} limit of {}, below the minimum {} per {per}",
                                l.display_for(r),
                                min.display_for(r)
                            ),
                        );
                    }
                }
            }
        }
        for (r, (max, at)) in &item.max {
            match limits.get(r) {
                None => push(
                    r,
                    LimitSide::Limit,
                    at,
                    format!(
                        "{what} has no {r} limit, but the maximum {r} per {per} is {}",
                        max.display_for(r)
                    ),
                ),
                Some(l) if l > max => push(
                    r,
                    LimitSide::Limit,
                    at,
                    format!(
                        "{what} has a {r} limit of {}, above the maximum {} per {per}",
                        l.display_for(r),
                        max.display_for(r)
                    ),
                ),
                _ => {
                    if let Some(q) = requests.get(r).filter(|q| *q > max) {
                        push(
                            r,
                            LimitSide::Request,
                            at,
                            format!(
                                "{what} requests {} {r}, above the maximum {} per {per}",
                                q.display_for(r),
                                max.display_for(r)
                            ),
                        );
                    }
                }
            }
        }
        for (r, (ratio, at)) in &item.ratio {
            let req = requests.get(r).filter(|q| !q.is_zero());
            let lim = limits.get(r).filter(|q| !q.is_zero());
            match (req, lim) {
                (None, _) => push(r, LimitSide::Ratio, at, format!("{what} has no {r} request, but the maximum {r} limit/request ratio per {per} is {ratio}")),
                (_, None) => push(r, LimitSide::Ratio, at, format!("{what} has no {r} limit, but the maximum {r} limit/request ratio per {per} is {ratio}")),
                (Some(q), Some(l)) => {
                    // l / q > ratio, exactly: l * 10^9 > ratio * q (ratio in nano-units).
                    if l.0.saturating_mul(1_000_000_000) > ratio.0.saturating_mul(q.0) {
                        push(r, LimitSide::Ratio, at, format!("{what} has a {r} limit/request ratio of {:.2}, above the maximum {ratio} per {per}", l.ratio(*q)));
                    }
                }
            }
        }
    }
}
