//! Plugin rules as [`ml_audit::Rule`]s.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ml_audit::{
    Audit, Context, Finding, Inventory, Object, ObjectRef, Rule, RuleMeta, RuleOption, Severity,
    Span,
};
use rayon::prelude::*;

use crate::encode::{self, Val, Writer, ARRAY, OBJECT};
use crate::host::{Mode, Plugin, PluginRuleMeta, Reply, Sandbox, Shared};
use crate::PluginError;

/// The id of the finding a failing plugin gives (a trap, exhausted fuel, the
/// deadline, the memory limit, malformed output).
pub const PLUGIN_ERROR: &str = "plugin-error";

/// The `plugin-error` rule: known like any other rule, so that it can be
/// listed, explained, selected and ignored; it checks nothing itself, its
/// findings come from the plugin rules that fail.
pub struct PluginErrorRule {
    meta: RuleMeta,
}

impl PluginErrorRule {
    /// The rule.
    pub fn new() -> PluginErrorRule {
        PluginErrorRule {
            meta: RuleMeta {
                id: Cow::Borrowed(PLUGIN_ERROR),
                category: Cow::Borrowed("plugin"),
                severity: Severity::High,
                title: Cow::Borrowed("A WebAssembly rule failed"),
                doc: Cow::Borrowed(include_str!("plugin-error.md")),
                options: Cow::Borrowed(&[]),
            },
        }
    }
}

impl Default for PluginErrorRule {
    fn default() -> Self {
        PluginErrorRule::new()
    }
}

impl Rule for PluginErrorRule {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }
}

/// Objects handed to one instance in per-object mode, in inventory order: a
/// 64th of the objects, within these bounds (a fresh instance costs its
/// memory's page faults: over a tenth of the plugin's time at 256 objects
/// per instance on 100,000 objects). It depends on the input only, so that a
/// guest that keeps state between calls behaves the same whatever the
/// thread count.
const CHUNK_MIN: usize = 256;
const CHUNK_MAX: usize = 2048;

/// Objects whose trees are loaded into the cache together before they are
/// encoded ([`encode::warm`]): about 100 KiB of trees, within the L2 cache.
const WARM: usize = 32;

/// One rule of a plugin.
pub struct PluginRule {
    shared: Arc<Shared>,
    index: usize,
    meta: RuleMeta,
    mode: Mode,
    kinds: Vec<String>,
    /// What it reads of each object, `None` for everything.
    reads: Option<Reads>,
}

/// The parts of each object a rule declared it reads.
#[derive(Clone, Debug, Default)]
struct Reads {
    /// JSON pointers.
    pointers: Vec<String>,
    /// Each pod spec of the object.
    pods: bool,
}

impl Reads {
    /// `None` when the rule reads everything (no `reads`, or `""`).
    fn parse(reads: &[String]) -> Option<Reads> {
        let mut r = Reads::default();
        for x in reads {
            if x == "pods" {
                r.pods = true;
            } else if x.starts_with('/') {
                r.pointers.push(x.clone());
            } else {
                // `""` (the whole object); anything else is refused at load.
                return None;
            }
        }
        (r.pods || !r.pointers.is_empty()).then_some(r)
    }
}

/// Adds the rules of these plugins to an audit. A rule id that is already
/// taken (by a built-in rule or another plugin) refuses the whole set.
pub fn register(audit: &mut Audit, plugins: &[Plugin]) -> Result<(), PluginError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for p in plugins {
        for r in &p.meta.rules {
            let clash = |reason: String| PluginError::DuplicateId {
                plugin: p.name().to_string(),
                id: r.id.clone(),
                reason,
            };
            if r.id == PLUGIN_ERROR {
                return Err(clash("is reserved for plugin errors".into()));
            }
            if audit.rule(&r.id).is_some() {
                return Err(clash("is already taken by a built-in rule".into()));
            }
            if let Some(other) = seen.insert(&r.id, p.name()) {
                return Err(clash(format!("is also declared by plugin {other}")));
            }
        }
    }
    for p in plugins {
        for rule in p.rules() {
            audit.add_rule(Box::new(rule));
        }
    }
    Ok(())
}

/// Adds the rules of each plugin whose rule ids are all free (not taken by
/// a built-in rule, by `plugin-error`, or by a plugin before it in the
/// list); the others are left out, each with its name and error. For a
/// front end that reports a refused plugin and runs everything else.
pub fn register_each(audit: &mut Audit, plugins: Vec<Plugin>) -> Vec<(String, PluginError)> {
    let mut errors = Vec::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for p in plugins {
        let refused = p.meta.rules.iter().find_map(|r| {
            let reason = if r.id == PLUGIN_ERROR {
                "is reserved for plugin errors".to_string()
            } else if let Some(other) = owner.get(&r.id) {
                format!("is also declared by plugin {other}")
            } else if audit.rule(&r.id).is_some() {
                "is already taken by a built-in rule".to_string()
            } else {
                return None;
            };
            Some(PluginError::DuplicateId {
                plugin: p.name().to_string(),
                id: r.id.clone(),
                reason,
            })
        });
        match refused {
            Some(e) => errors.push((p.name().to_string(), e)),
            None => {
                for r in &p.meta.rules {
                    owner.insert(r.id.clone(), p.name().to_string());
                }
                for rule in p.rules() {
                    audit.add_rule(Box::new(rule));
                }
            }
        }
    }
    errors
}

impl Plugin {
    /// Its rules, ready for [`Audit::add_rule`] (prefer [`register`], which
    /// checks the ids).
    pub fn rules(&self) -> Vec<PluginRule> {
        self.meta
            .rules
            .iter()
            .enumerate()
            .map(|(index, r)| PluginRule {
                shared: self.shared.clone(),
                index,
                meta: RuleMeta {
                    id: Cow::Owned(r.id.clone()),
                    category: Cow::Owned(r.category.clone().unwrap_or_else(|| "plugin".into())),
                    severity: r.severity,
                    title: Cow::Owned(r.title.clone()),
                    doc: Cow::Owned(doc_page(self, r)),
                    options: Cow::Owned(
                        r.options
                            .iter()
                            .filter_map(|o| {
                                Some(RuleOption {
                                    name: Cow::Owned(o.name.clone()),
                                    ty: o.option_type()?,
                                    default: Cow::Owned(o.default.clone()),
                                    doc: Cow::Owned(o.doc.clone()),
                                })
                            })
                            .collect(),
                    ),
                },
                mode: r.mode,
                kinds: r.kinds.clone(),
                reads: Reads::parse(&r.reads),
            })
            .collect()
    }
}

fn doc_page(p: &Plugin, r: &PluginRuleMeta) -> String {
    let d = &r.doc;
    let mut s = format!("# {}: {}\n\n", r.id, r.title);
    s += &format!("## What it does\n\n{}\n\n", d.what.trim());
    s += &format!("## Why is this bad?\n\n{}\n\n", d.why.trim());
    s += &format!("## Example\n\n```yaml\n{}\n```\n\n", d.example.trim_end());
    s += &format!(
        "## Use instead\n\n```yaml\n{}\n```\n\n",
        d.use_instead.trim_end()
    );
    s += "## References\n\n";
    for link in &d.references {
        s += &format!("- {link}\n");
    }
    s += &format!(
        "- plugin `{}` {} ({}), {} rule\n",
        p.meta.plugin,
        p.meta.version,
        p.name(),
        match r.mode {
            Mode::Object => "per-object",
            Mode::Inventory => "whole-inventory",
        }
    );
    s
}

/// The pod templates (workloads) of each object, computed once per run and
/// shared by every plugin rule: the workload indices grouped by object
/// (`order[starts[o]..starts[o + 1]]`), with no copy of their strings.
struct PodIndex {
    order: Vec<usize>,
    starts: Vec<usize>,
}

fn pod_index(inv: &Inventory) -> PodIndex {
    let n = inv.objects.len();
    let mut order: Vec<usize> = (0..inv.workloads.len())
        .filter(|&i| inv.workloads[i].object < n)
        .collect();
    // Stable: each object's pod templates stay in inventory order.
    order.sort_by_key(|&i| inv.workloads[i].object);
    let mut starts = vec![0; n + 1];
    for &i in &order {
        starts[inv.workloads[i].object + 1] += 1;
    }
    for o in 0..n {
        starts[o + 1] += starts[o];
    }
    PodIndex { order, starts }
}

impl PodIndex {
    /// The pod templates of an object: role and pointer of the pod spec.
    fn of<'a>(
        &'a self,
        inv: &'a Inventory,
        o: &Object,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        let range = match (self.starts.get(o.id), self.starts.get(o.id + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        };
        self.order[range].iter().map(move |&i| {
            let w = &inv.workloads[i];
            (w.role.as_str(), w.pod_pointer.as_str())
        })
    }
}

/// The object document (ABI.md, "Input"), in the binary encoding.
fn encode_object(
    inv: &Inventory,
    pods: &PodIndex,
    o: &Object,
    reads: Option<&Reads>,
    w: &mut Writer<'_>,
) {
    let doc = w.open(OBJECT, 8);
    w.key("index");
    w.int(o.id as i64);
    w.key("file");
    w.str(inv.file_of(o));
    w.key("apiVersion");
    w.str(&o.api_version);
    w.key("kind");
    w.str(&o.kind);
    w.key("name");
    w.str(&o.name);
    w.key("namespace");
    match o.effective_namespace() {
        Some(ns) => w.str(ns),
        None => w.null(),
    }
    w.key("pods");
    let a = w.open(ARRAY, pods.of(inv, o).count());
    for (role, pointer) in pods.of(inv, o) {
        let p = w.open(OBJECT, 2);
        w.key("role");
        w.str(role);
        w.key("pointer");
        w.str(pointer);
        w.close(p);
    }
    w.close(a);
    w.key("object");
    match reads {
        None => w.node(&o.root),
        Some(r) => {
            let pod_specs = pods.of(inv, o).filter(|_| r.pods).map(|(_, p)| p);
            let paths: Vec<&str> = r
                .pointers
                .iter()
                .map(String::as_str)
                .chain(pod_specs)
                .collect();
            w.sparse(&o.root, &paths);
        }
    }
    w.close(doc);
}

/// A finding as a guest gave it, its fields of the right types; checked
/// against the inventory by [`PluginRule::convert`].
struct RawFinding<'a> {
    object: Option<u64>,
    pointer: &'a str,
    message: Option<&'a str>,
    help: Option<&'a str>,
    severity: Option<Severity>,
}

/// What one instance found (with each finding's position among the
/// selected objects), and where it failed, if it did.
type ChunkResult = (Vec<(usize, Finding)>, Option<Failure>);

/// A failure of the rule: at which selected object (inventory order), and why.
struct Failure {
    at: usize,
    object: Option<usize>,
    why: String,
}

impl PluginRule {
    fn wants(&self, o: &Object) -> bool {
        self.kinds.is_empty()
            || self.kinds.iter().any(|k| {
                *k == o.kind
                    || k.split_once('/')
                        .is_some_and(|(g, kind)| kind == o.kind && g == o.group())
            })
    }

    fn settings(&self, cx: &Context<'_>) -> Vec<u8> {
        let empty = BTreeMap::new();
        let opts = cx
            .settings
            .options
            .get(self.meta.id.as_ref())
            .unwrap_or(&empty);
        serde_json::to_vec(opts).unwrap_or_else(|_| b"{}".to_vec())
    }

    fn sandbox(&self, fuel: u64, settings: &[u8]) -> Result<Sandbox, String> {
        let limits = &self.shared.host.limits;
        let mut sb = Sandbox::new(&self.shared, limits.fuel_per_setup)
            .map_err(|e| format!("could not start: {}", e.describe(limits)))?;
        sb.configure(self.index, settings)
            .map_err(|e| format!("refused its settings: {}", e.describe(limits)))?;
        sb.budget(fuel).map_err(|e| e.describe(limits))?;
        Ok(sb)
    }

    /// The fields of a finding given as JSON.
    fn json_finding<'v>(&self, v: &'v serde_json::Value) -> Result<RawFinding<'v>, String> {
        let field = |k: &str| v.get(k).filter(|x| !x.is_null());
        if !v.is_object() {
            return Err("a finding is not a JSON object".into());
        }
        if let Some(r) = field("rule") {
            if r.as_str() != Some(self.meta.id.as_ref()) {
                return Err(format!(
                    "a finding names rule {r}, but this call was for `{}`",
                    self.meta.id
                ));
            }
        }
        let object = match field("object") {
            None => None,
            Some(i) => Some(
                i.as_u64()
                    .ok_or_else(|| format!("finding `object` is {i}, not an index"))?,
            ),
        };
        let pointer = match field("pointer") {
            None => "",
            Some(p) => p
                .as_str()
                .ok_or_else(|| format!("finding `pointer` {p} is not a JSON pointer"))?,
        };
        let help = match field("help") {
            None => None,
            Some(h) => Some(h.as_str().ok_or("finding `help` is not a string")?),
        };
        let severity = match field("severity") {
            None => None,
            Some(s) => Some(
                s.as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("finding `severity` {s} is not a severity"))?,
            ),
        };
        Ok(RawFinding {
            object,
            pointer,
            message: field("message").and_then(|m| m.as_str()),
            help,
            severity,
        })
    }

    /// The fields of a finding given in the binary encoding: the same
    /// fields and checks as JSON.
    fn binary_finding<'v>(&self, v: Val<'v>) -> Result<RawFinding<'v>, String> {
        let mut f = RawFinding {
            object: None,
            pointer: "",
            message: None,
            help: None,
            severity: None,
        };
        // The first of a repeated key, as for lookups in the input.
        let mut seen = [false; 6];
        let walked = v.each_entry(|k, x| {
            let slot = match k {
                "rule" => 0,
                "object" => 1,
                "pointer" => 2,
                "message" => 3,
                "help" => 4,
                "severity" => 5,
                _ => return Ok(()),
            };
            if std::mem::replace(&mut seen[slot], true) || x.is_null() {
                return Ok(());
            }
            match slot {
                0 => {
                    if x.as_str() != Some(self.meta.id.as_ref()) {
                        return Err(format!(
                            "a finding names rule {}, but this call was for `{}`",
                            x.describe(),
                            self.meta.id
                        ));
                    }
                }
                1 => {
                    let i = x.as_i64().and_then(|i| u64::try_from(i).ok());
                    f.object = Some(i.ok_or_else(|| {
                        format!("finding `object` is {}, not an index", x.describe())
                    })?);
                }
                2 => {
                    f.pointer = x.as_str().ok_or_else(|| {
                        format!("finding `pointer` {} is not a JSON pointer", x.describe())
                    })?;
                }
                3 => f.message = x.as_str(),
                4 => f.help = Some(x.as_str().ok_or("finding `help` is not a string")?),
                _ => {
                    f.severity =
                        Some(x.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
                            format!("finding `severity` {} is not a severity", x.describe())
                        })?);
                }
            }
            Ok(())
        });
        walked.ok_or("a finding is not a map")??;
        Ok(f)
    }

    /// Turns one guest finding into a [`Finding`].
    fn convert(
        &self,
        cx: &Context<'_>,
        raw: RawFinding<'_>,
        only: Option<&Object>,
    ) -> Result<Finding, String> {
        let inv = cx.inventory;
        let obj = match (raw.object, only) {
            (None, Some(o)) => o,
            (Some(idx), _) => {
                let o = usize::try_from(idx)
                    .ok()
                    .and_then(|i| inv.objects.get(i))
                    .ok_or_else(|| format!("finding `object` {idx} is not an object index"))?;
                if only.is_some_and(|x| x.id != o.id) {
                    return Err(format!(
                        "finding `object` {idx} is not the object it was given"
                    ));
                }
                o
            }
            (None, None) => return Err("a finding has no `object`".into()),
        };
        let pointer = raw.pointer;
        if !(pointer.is_empty() || pointer.starts_with('/')) {
            return Err(format!(
                "finding `pointer` {pointer:?} is not a JSON pointer"
            ));
        }
        let message = raw
            .message
            .filter(|m| !m.trim().is_empty())
            .ok_or("a finding has no `message` string")?;
        let mut f = cx.finding(
            &self.meta,
            obj,
            &ml_audit::Pointer::parse(pointer),
            truncate(message),
        );
        if let Some(h) = raw.help {
            f = f.help(truncate(h));
        }
        if let Some(s) = raw.severity {
            f = f.severity(s);
        }
        Ok(f)
    }

    /// Every finding of a reply, converted; the first malformed one is an
    /// error.
    fn convert_reply(
        &self,
        cx: &Context<'_>,
        reply: &Reply,
        only: Option<&Object>,
        out: &mut impl FnMut(Finding),
    ) -> Result<(), String> {
        match reply {
            Reply::Json(values) => {
                for v in values {
                    out(self.convert(cx, self.json_finding(v)?, only)?);
                }
            }
            Reply::Binary(bytes, list) => encode::reply_findings(bytes, *list, |v| {
                out(self.convert(cx, self.binary_finding(v)?, only)?);
                Ok(())
            })?,
        }
        Ok(())
    }

    fn error_finding(&self, cx: &Context<'_>, failure: &Failure) -> Finding {
        let inv = cx.inventory;
        let name = &self.shared.name;
        let (object, file, span, whilst) = match failure.object.and_then(|i| inv.objects.get(i)) {
            Some(o) => (
                o.reference(),
                inv.file_of(o).to_string(),
                o.locate(""),
                format!(" while checking {}", o.display_name()),
            ),
            None => (
                ObjectRef {
                    api_version: String::new(),
                    kind: "Plugin".into(),
                    namespace: None,
                    name: name.clone(),
                },
                name.clone(),
                Span::default(),
                String::new(),
            ),
        };
        Finding {
            rule: PLUGIN_ERROR.into(),
            severity: Severity::High,
            object,
            file,
            span,
            pointer: String::new(),
            context: Some(format!("plugin {name}, rule {}", self.meta.id)),
            message: format!(
                "plugin {name}: rule `{}` {}{whilst}; its findings from here on are dropped",
                self.meta.id, failure.why
            ),
            help: Some(
                format!(
                    "the other rules' findings are complete; fix the plugin, or skip the rule with `--ignore {}`",
                    self.meta.id
                )
                .into(),
            ),
            related: Vec::new(),
            units: Vec::new(),
        }
    }

    fn check_objects(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let inv = cx.inventory;
        let pods = cx.analysis(pod_index);
        let limits = &self.shared.host.limits;
        let selected: Vec<&Object> = inv.objects.iter().filter(|o| self.wants(o)).collect();
        if selected.is_empty() {
            return;
        }
        let settings = self.settings(cx);
        let first_fail = AtomicUsize::new(usize::MAX);
        let per_instance = (selected.len() / 64).clamp(CHUNK_MIN, CHUNK_MAX);
        let chunks: Vec<ChunkResult> = selected
            .par_chunks(per_instance)
            .enumerate()
            .map(|(ci, chunk)| {
                let start = ci * per_instance;
                let mut found = Vec::new();
                if start > first_fail.load(Ordering::Relaxed) {
                    return (found, None);
                }
                let fail = |at: usize, o: &Object, why: String| {
                    first_fail.fetch_min(at, Ordering::Relaxed);
                    Some(Failure {
                        at,
                        object: Some(o.id),
                        why,
                    })
                };
                let mut sb = match self.sandbox(limits.fuel_per_object, &settings) {
                    Ok(sb) => sb,
                    Err(why) => return (found, fail(start, chunk[0], why)),
                };
                // One buffer per chunk for the encoded objects.
                let mut scratch = Vec::new();
                let mut nodes = Vec::new();
                for (k, o) in chunk.iter().enumerate() {
                    let at = start + k;
                    if at > first_fail.load(Ordering::Relaxed) {
                        break;
                    }
                    // The next few trees into the cache, their loads in
                    // parallel, before they are encoded one by one.
                    if k % WARM == 0 {
                        let group = &chunk[k..(k + WARM).min(chunk.len())];
                        let header = group.iter().flat_map(|o| {
                            [&o.api_version, &o.kind, &o.name]
                                .into_iter()
                                .map(String::as_str)
                                .chain(o.namespace.as_deref())
                                .chain(pods.of(inv, o).flat_map(|(r, p)| [r, p]))
                        });
                        std::hint::black_box(encode::warm(
                            group.iter().map(|o| &o.root),
                            header,
                            &mut nodes,
                        ));
                    }
                    scratch.clear();
                    encode_object(
                        inv,
                        &pods,
                        o,
                        self.reads.as_ref(),
                        &mut Writer(&mut scratch),
                    );
                    let input = &scratch[..];
                    let res = sb
                        .budget(limits.fuel_per_object)
                        .and_then(|_| sb.check(self.index, input));
                    match res {
                        Ok(reply) => {
                            let converted = self
                                .convert_reply(cx, &reply, Some(o), &mut |f| found.push((at, f)));
                            if let Err(e) = converted {
                                return (found, fail(at, o, format!("gave malformed output: {e}")));
                            }
                        }
                        // The Store is dropped with `sb` on return.
                        Err(e) => return (found, fail(at, o, e.describe(limits))),
                    }
                }
                (found, None)
            })
            .collect();
        let failure = chunks
            .iter()
            .filter_map(|(_, f)| f.as_ref())
            .min_by_key(|f| f.at);
        let cut = failure.map_or(usize::MAX, |f| f.at);
        let failure = failure.map(|f| self.error_finding(cx, f));
        for (found, _) in chunks {
            out.extend(
                found
                    .into_iter()
                    .filter(|(at, _)| *at < cut)
                    .map(|(_, f)| f),
            );
        }
        out.extend(failure);
    }

    fn check_whole(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let inv = cx.inventory;
        let pods = cx.analysis(pod_index);
        let limits = &self.shared.host.limits;
        let settings = self.settings(cx);
        let fail = |why: String| Failure {
            at: 0,
            object: None,
            why,
        };
        let wanted: Vec<&Object> = inv.objects.iter().filter(|o| self.wants(o)).collect();
        let mut buf = Vec::new();
        let mut w = Writer(&mut buf);
        let doc = w.open(OBJECT, 2);
        w.key("objects");
        let a = w.open(ARRAY, wanted.len());
        for o in wanted {
            encode_object(inv, &pods, o, self.reads.as_ref(), &mut w);
        }
        w.close(a);
        w.key("namespaces");
        let m = w.open(OBJECT, inv.namespaces.len());
        for (name, ns) in &inv.namespaces {
            w.key(name);
            let e = w.open(OBJECT, 2);
            w.key("labels");
            let l = w.open(OBJECT, ns.labels.len());
            for (k, v) in &ns.labels {
                w.key(k);
                w.str(v);
            }
            w.close(l);
            w.key("declared");
            w.bool(ns.object.is_some());
            w.close(e);
        }
        w.close(m);
        w.close(doc);
        let mut sb = match self.sandbox(limits.fuel_per_inventory, &settings) {
            Ok(sb) => sb,
            Err(why) => return out.push(self.error_finding(cx, &fail(why))),
        };
        match sb.check(self.index, &buf) {
            Ok(reply) => {
                let mut found = Vec::new();
                match self.convert_reply(cx, &reply, None, &mut |f| found.push(f)) {
                    Ok(()) => out.extend(found),
                    Err(e) => out
                        .push(self.error_finding(cx, &fail(format!("gave malformed output: {e}")))),
                }
            }
            Err(e) => out.push(self.error_finding(cx, &fail(e.describe(limits)))),
        }
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 2000;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl Rule for PluginRule {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn check_inventory(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        match self.mode {
            Mode::Object => self.check_objects(cx, out),
            Mode::Inventory => self.check_whole(cx, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ml_audit::{Input, LoadOptions};

    #[test]
    fn each_object_gets_its_own_pod_templates_in_order() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n\
            apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: rc, namespace: a}\n\
            spec:\n  headGroupSpec:\n    template:\n      spec:\n        containers: [{name: h, image: x}]\n\
            \x20 workerGroupSpecs:\n  - groupName: g\n    template:\n      spec:\n        containers: [{name: w, image: x}]\n---\n\
            apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n";
        let inv = Inventory::new(ml_audit::load(
            &[Input::Text {
                name: "t.yaml".into(),
                text: yaml.into(),
            }],
            &LoadOptions::default(),
        ));
        let pods = pod_index(&inv);
        let of =
            |i: usize| -> Vec<&str> { pods.of(&inv, &inv.objects[i]).map(|(_, p)| p).collect() };
        assert!(of(0).is_empty());
        assert_eq!(
            of(1),
            [
                "/spec/headGroupSpec/template/spec",
                "/spec/workerGroupSpecs/0/template/spec"
            ]
        );
        assert_eq!(of(2), ["/spec"]);
    }
}
