//! Rules, their metadata, the context they run in, and the engine that runs
//! them in parallel.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use serde::Serialize;

use crate::finding::{Finding, Related, Severity};
use crate::inventory::Inventory;
use crate::node::{Pointer, Span};
use crate::object::Object;
use crate::workload::Workload;

/// What a rule is: id, category, default severity, title and catalogue page.
#[derive(Clone, Debug, Serialize)]
pub struct RuleMeta {
    /// Stable id (`pss-privileged`); never reused.
    pub id: Cow<'static, str>,
    /// Category (`pod-security`, `rbac`, `network`, ...).
    pub category: Cow<'static, str>,
    /// Default severity.
    pub severity: Severity,
    /// One-line title.
    pub title: Cow<'static, str>,
    /// The catalogue page (Markdown: What it does / Why is this bad? /
    /// Example / Use instead / References).
    #[serde(skip)]
    pub doc: Cow<'static, str>,
    /// The options the rule reads (from `.ml-audit.yaml` `rules:` and
    /// `--set`); any other option name, or a value of another type, is an
    /// error.
    #[serde(skip_serializing_if = "<[RuleOption]>::is_empty")]
    pub options: Cow<'static, [RuleOption]>,
}

/// The type of a rule option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptionType {
    /// `true` or `false`.
    Bool,
    /// A whole number, zero or more.
    Count,
    /// A string.
    String,
    /// A list of strings.
    StringList,
    /// A list of port numbers (1 to 65535).
    PortList,
}

impl OptionType {
    /// How the type is written in messages and in `explain`.
    pub fn name(self) -> &'static str {
        match self {
            OptionType::Bool => "boolean",
            OptionType::Count => "whole number",
            OptionType::String => "string",
            OptionType::StringList => "list of strings",
            OptionType::PortList => "list of port numbers",
        }
    }

    /// Whether `value` is of this type.
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match self {
            OptionType::Bool => value.is_boolean(),
            OptionType::Count => value.as_u64().is_some(),
            OptionType::String => value.is_string(),
            OptionType::StringList => match value {
                J::Array(items) => items.iter().all(J::is_string),
                _ => false,
            },
            OptionType::PortList => match value {
                J::Array(items) => items
                    .iter()
                    .all(|p| p.as_u64().is_some_and(|p| (1..=65535).contains(&p))),
                _ => false,
            },
        }
    }
}

/// One option a rule reads: its name, type, default and documentation.
#[derive(Clone, Debug, Serialize)]
pub struct RuleOption {
    /// The option's name (`registries`).
    pub name: Cow<'static, str>,
    /// The type of its value.
    #[serde(rename = "type")]
    pub ty: OptionType,
    /// The default, as it would be written in YAML (`[]`, `30`).
    pub default: Cow<'static, str>,
    /// What it does, in one or two sentences.
    pub doc: Cow<'static, str>,
}

impl RuleOption {
    /// A built-in rule's option.
    pub const fn builtin(
        name: &'static str,
        ty: OptionType,
        default: &'static str,
        doc: &'static str,
    ) -> RuleOption {
        RuleOption {
            name: Cow::Borrowed(name),
            ty,
            default: Cow::Borrowed(default),
            doc: Cow::Borrowed(doc),
        }
    }
}

impl RuleMeta {
    /// Metadata of a built-in rule.
    pub const fn builtin(
        id: &'static str,
        category: &'static str,
        severity: Severity,
        title: &'static str,
        doc: &'static str,
    ) -> RuleMeta {
        RuleMeta {
            id: Cow::Borrowed(id),
            category: Cow::Borrowed(category),
            severity,
            title: Cow::Borrowed(title),
            doc: Cow::Borrowed(doc),
            options: Cow::Borrowed(&[]),
        }
    }

    /// The same metadata, with these options.
    pub const fn with_options(mut self, options: &'static [RuleOption]) -> RuleMeta {
        // (A plain assignment would drop the old value, which a `const fn`
        // cannot do; it holds nothing to free.)
        std::mem::forget(std::mem::replace(&mut self.options, Cow::Borrowed(options)));
        self
    }

    /// The options as the catalogue pages and `explain` list them: a
    /// `## Options` section, one item per option (name, type, default,
    /// doc). Empty for a rule without options.
    pub fn options_markdown(&self) -> String {
        if self.options.is_empty() {
            return String::new();
        }
        let mut s = String::from("## Options\n\n");
        for o in self.options.iter() {
            s.push_str(&format!(
                "- `{}` ({}, default `{}`): {}\n",
                o.name,
                o.ty.name(),
                o.default,
                o.doc
            ));
        }
        s
    }

    /// Checks one option given to this rule: its name must be one the rule
    /// declares and its value of the declared type. The error says what is
    /// wrong and which options there are.
    pub fn check_option(&self, name: &str, value: &serde_json::Value) -> crate::Result<()> {
        let Some(opt) = self.options.iter().find(|o| o.name == name) else {
            let known: Vec<&str> = self.options.iter().map(|o| o.name.as_ref()).collect();
            return Err(crate::Error::RuleOption(if known.is_empty() {
                format!("rule `{}` has no options (`{name}` given)", self.id)
            } else {
                format!(
                    "rule `{}` has no option `{name}` (its options: {})",
                    self.id,
                    known.join(", ")
                )
            }));
        };
        if opt.ty.accepts(value) {
            Ok(())
        } else {
            Err(crate::Error::RuleOption(format!(
                "option `{name}` of rule `{}` takes a {}, not {value}",
                self.id,
                opt.ty.name()
            )))
        }
    }
}

/// A rule. Implement the hooks that fit: per workload, per object, or once
/// over the whole inventory. Hooks run in parallel and must not block.
pub trait Rule: Send + Sync {
    /// The rule's metadata.
    fn meta(&self) -> &RuleMeta;
    /// Checks one workload (pod template).
    fn check_workload(&self, _cx: &Context<'_>, _w: &Workload, _out: &mut Vec<Finding>) {}
    /// Checks one object.
    fn check_object(&self, _cx: &Context<'_>, _o: &Object, _out: &mut Vec<Finding>) {}
    /// Checks the whole inventory (cross-object rules).
    fn check_inventory(&self, _cx: &Context<'_>, _out: &mut Vec<Finding>) {}
}

/// Per-rule options from the config file: rule id -> option -> JSON value.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The options.
    pub options: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

impl Settings {
    /// An option of a rule, decoded; `None` when it is not set. The option
    /// must be one that `rule` declares (debug builds check it), read as a
    /// type its declared [`OptionType`] decodes to: values are checked
    /// against the declaration ([`crate::Audit::run`] reports those that
    /// are not of it as errors), so none is dropped here unseen.
    pub fn get<T: serde::de::DeserializeOwned>(&self, rule: &RuleMeta, key: &str) -> Option<T> {
        debug_assert!(
            rule.options.iter().any(|o| o.name == key),
            "rule `{}` reads option `{key}`, which it does not declare",
            rule.id
        );
        let v = self.options.get(rule.id.as_ref())?.get(key)?;
        serde_json::from_value(v.clone()).ok()
    }

    /// Sets an option.
    pub fn set(&mut self, rule: &str, key: &str, value: serde_json::Value) {
        self.options
            .entry(rule.to_string())
            .or_default()
            .insert(key.to_string(), value);
    }
}

/// One analysis: its value once built, and which thread is building it.
#[derive(Default)]
pub(crate) struct AnalysisSlot {
    value: OnceLock<Arc<dyn Any + Send + Sync>>,
    builder: Mutex<Option<std::thread::ThreadId>>,
}

pub(crate) type AnalysisCell = Arc<AnalysisSlot>;

/// What a rule sees: the inventory, the settings, and shared analyses.
pub struct Context<'a> {
    /// Everything loaded.
    pub inventory: &'a Inventory,
    /// Rule options.
    pub settings: &'a Settings,
    analyses: Mutex<HashMap<TypeId, AnalysisCell>>,
    /// Tells this context's per-workload values from another's (see
    /// [`Context::per_workload`]).
    id: u64,
}

/// The next context's id.
static NEXT_CONTEXT: AtomicU64 = AtomicU64::new(1);

/// Values derived from the workload a thread is auditing, with the
/// workload's key (context id, address): see [`Context::per_workload`].
type WorkloadMemo = Option<((u64, usize), Vec<(TypeId, Rc<dyn Any>)>)>;

thread_local! {
    static WORKLOAD_MEMO: RefCell<WorkloadMemo> = const { RefCell::new(None) };
}

/// While alive, the thread's per-workload values are kept for one workload
/// (the one whose rules [`run_rules`] is running); dropped, they are freed.
struct WorkloadScope;

impl WorkloadScope {
    fn enter(cx: &Context<'_>, w: &Workload) -> WorkloadScope {
        let key = (cx.id, std::ptr::from_ref(w) as usize);
        WORKLOAD_MEMO.with_borrow_mut(|memo| *memo = Some((key, Vec::new())));
        WorkloadScope
    }
}

impl Drop for WorkloadScope {
    fn drop(&mut self) {
        // Taken out first: dropping the values may run arbitrary code.
        let old = WORKLOAD_MEMO.with_borrow_mut(Option::take);
        drop(old);
    }
}

/// Runs `build` in a rayon pool of `threads` threads of its own and
/// returns its value once every thread of the pool has exited: the pool's
/// threads are joined (a thread only detached, as `build_scoped` leaves
/// them, may still be ending when the caller goes on; the fuzzers' leak
/// checker reported its thread handle). Without a pool (threads cannot be
/// started), `build` runs on this thread.
fn build_in_own_pool<T: Send>(threads: usize, build: impl FnOnce() -> T + Send) -> T {
    let handles = Mutex::new(Vec::new());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .spawn_handler(|thread| {
            let handle = std::thread::Builder::new().spawn(move || thread.run())?;
            handles
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle);
            Ok(())
        })
        .build();
    // Waits until the pool's threads are gone (also those a failed build
    // started: rayon ends them).
    let join = |handles: Mutex<Vec<std::thread::JoinHandle<()>>>| {
        for handle in handles.into_inner().unwrap_or_else(|e| e.into_inner()) {
            let _ = handle.join();
        }
    };
    let Ok(pool) = pool else {
        join(handles);
        return build();
    };
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.install(build)));
    // Dropping the pool ends its threads.
    drop(pool);
    join(handles);
    built.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

impl<'a> Context<'a> {
    /// A context over an inventory.
    pub fn new(inventory: &'a Inventory, settings: &'a Settings) -> Context<'a> {
        Context {
            inventory,
            settings,
            analyses: Mutex::new(HashMap::new()),
            id: NEXT_CONTEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A value derived from workload `w` alone, built once and shared by
    /// the rules that ask for it while [`run_rules`] runs `w`'s rules (one
    /// after another, on one thread); asked for anywhere else, it is built
    /// each time. Values are told apart by type: give each its own. Two
    /// secrets rules scanned every env value and argument each, for
    /// instance, and seven Pod Security controls resolved every container's
    /// security context.
    pub(crate) fn per_workload<T: Any>(
        &self,
        w: &Workload,
        build: impl FnOnce(&Workload) -> T,
    ) -> Rc<T> {
        let key = (self.id, std::ptr::from_ref(w) as usize);
        let found = WORKLOAD_MEMO.with_borrow(|memo| match memo {
            Some((k, values)) if *k == key => Some(
                values
                    .iter()
                    .find(|(t, _)| *t == TypeId::of::<T>())
                    .map(|(_, v)| v.clone()),
            ),
            _ => None,
        });
        let Some(found) = found else {
            return Rc::new(build(w));
        };
        if let Some(v) = found {
            return v.downcast::<T>().expect("memo type matches its key");
        }
        // Built outside the borrow: `build` may ask for other values.
        let v = Rc::new(build(w));
        WORKLOAD_MEMO.with_borrow_mut(|memo| {
            if let Some((k, values)) = memo {
                if *k == key {
                    values.push((TypeId::of::<T>(), v.clone() as Rc<dyn Any>));
                }
            }
        });
        v
    }

    /// A cross-object analysis, computed once (by whichever rule asks first)
    /// and shared by every rule.
    pub fn analysis<T: Any + Send + Sync>(
        &self,
        build: impl FnOnce(&Inventory) -> T + Send,
    ) -> Arc<T> {
        let cell = {
            let mut map = self.analyses.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(TypeId::of::<T>()).or_default().clone()
        };
        // An analysis is built on a thread of its own, with its own rayon
        // pool, while the rule workers that need it wait without stealing
        // work: a worker waiting inside rayon would run other rule jobs that
        // ask for the same analysis (a deadlock with a plain OnceLock, and
        // unbounded nesting otherwise; both seen with -j 8).
        let any = loop {
            if let Some(v) = cell.value.get() {
                break v.clone();
            }
            let claimed = {
                let mut b = cell.builder.lock().unwrap_or_else(|e| e.into_inner());
                let free = b.is_none();
                if free {
                    *b = Some(std::thread::current().id());
                }
                free
            };
            if claimed {
                let inv = self.inventory;
                let threads = rayon::current_num_threads();
                let started = std::time::Instant::now();
                let built = std::thread::scope(|s| {
                    s.spawn(move || build_in_own_pool(threads, move || build(inv)))
                        .join()
                });
                let built = match built {
                    Ok(v) => v,
                    Err(panic) => std::panic::resume_unwind(panic),
                };
                if profiling() {
                    add_time(
                        &format!("analysis:{}", std::any::type_name::<T>()),
                        started.elapsed(),
                    );
                }
                let _ = cell
                    .value
                    .set(Arc::new(built) as Arc<dyn Any + Send + Sync>);
                break cell.value.get().expect("just set").clone();
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        };
        any.downcast::<T>().expect("analysis type matches its key")
    }

    /// The analyses built so far, taken out of the context (for freeing
    /// them on other threads).
    pub(crate) fn take_analyses(&self) -> Vec<AnalysisCell> {
        let mut map = self.analyses.lock().unwrap_or_else(|e| e.into_inner());
        map.drain().map(|(_, cell)| cell).collect()
    }

    /// A finding of `meta`'s rule on `obj`, at `pointer`: in the file and
    /// at the line the node is written (see [`Inventory::place`]).
    pub fn finding(
        &self,
        meta: &RuleMeta,
        obj: &Object,
        pointer: &Pointer,
        message: impl Into<String>,
    ) -> Finding {
        let place = self.inventory.place(obj, pointer.as_str());
        let related = match place.rewritten_by {
            Some((file, line)) => vec![Related {
                file: file.to_string(),
                span: Span::point(line, 1),
                object: None,
                pointer: String::new(),
                message: "the value is rewritten here, by the kustomization".into(),
            }],
            None => Vec::new(),
        };
        Finding {
            rule: meta.id.to_string(),
            severity: meta.severity,
            object: obj.reference(),
            file: place.file.to_string(),
            span: place.span,
            pointer: pointer.as_str().to_owned(),
            context: None,
            message: message.into(),
            help: None,
            related,
            units: obj
                .unit
                .and_then(|u| self.inventory.units.get(u as usize))
                .map(|u| vec![u.path.clone()])
                .unwrap_or_default(),
        }
    }

    /// A related location on another (or the same) object.
    pub fn related(&self, obj: &Object, pointer: &Pointer, message: impl Into<String>) -> Related {
        let place = self.inventory.place(obj, pointer.as_str());
        Related {
            file: place.file.to_string(),
            span: place.span,
            object: Some(obj.reference()),
            pointer: pointer.as_str().to_owned(),
            message: message.into(),
        }
    }
}

impl Finding {
    /// Sets the help text: a `&'static str` is kept as is, a `String` is
    /// moved in.
    pub fn help(mut self, help: impl Into<Cow<'static, str>>) -> Finding {
        self.help = Some(help.into());
        self
    }
    /// Sets the context (workload role, container).
    pub fn context(mut self, context: impl Into<String>) -> Finding {
        let c: String = context.into();
        self.context = (!c.is_empty()).then_some(c);
        self
    }
    /// Sets the severity.
    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }
    /// Adds a related location.
    pub fn with_related(mut self, related: Related) -> Finding {
        self.related.push(related);
        self
    }
}

/// Runs rules over an inventory in parallel; the findings come back sorted
/// (file, line, column, rule, ...) and free of duplicates, so the output is
/// the same whatever the thread count.
pub fn run_rules(cx: &Context<'_>, rules: &[&dyn Rule]) -> Vec<Finding> {
    let inv = cx.inventory;
    let clocks: Option<Vec<AtomicU64>> =
        profiling().then(|| rules.iter().map(|_| AtomicU64::new(0)).collect());
    let clocks = clocks.as_deref();
    // Each job's findings stay in their own vector (an indexed collect,
    // written in parallel); the sort places them into one vector, also in
    // parallel. Concatenating first moved every finding on one thread.
    // The whole-inventory checks start at once, each a job of its own, on
    // one thread (and so do the shared analyses they build), while another
    // starts on the workloads: starting both on the workloads had them wait
    // for the same analysis, one building it and the other idle. The
    // workloads and objects go in small pieces, so that a thread out of
    // work can always take some (rayon's default pieces are large, and one
    // thread ran the last of them for a tenth of a second alone).
    let per_object = inv.workloads.len() + inv.objects.len();
    let (whole, mut chunks): (Vec<Vec<Finding>>, Vec<Vec<Finding>>) = rayon::join(
        || {
            rules
                .par_iter()
                .enumerate()
                .with_max_len(1)
                .map(|(i, r)| {
                    let mut out = Vec::new();
                    timed_call(clocks, i, || r.check_inventory(cx, &mut out));
                    out
                })
                .collect()
        },
        || {
            // A workload's findings are gathered in a vector kept by the
            // thread, then moved out at their number: grown from empty for
            // each workload, a vector was reallocated (and copied) two or
            // three times, and kept up to half again what it held.
            (0..per_object)
                .into_par_iter()
                .with_max_len(64)
                .map_init(Vec::new, |out: &mut Vec<Finding>, j| {
                    if let Some(w) = inv.workloads.get(j) {
                        let _scope = WorkloadScope::enter(cx, w);
                        for (i, r) in rules.iter().enumerate() {
                            timed_call(clocks, i, || r.check_workload(cx, w, out));
                        }
                    } else {
                        let o = &inv.objects[j - inv.workloads.len()];
                        for (i, r) in rules.iter().enumerate() {
                            timed_call(clocks, i, || r.check_object(cx, o, out));
                        }
                    }
                    // Moved out at their number; `out` keeps its capacity.
                    let mut found = Vec::with_capacity(out.len());
                    found.append(out);
                    found
                })
                .collect()
        },
    );
    // Ties are kept in the order workloads, objects, inventory checks.
    chunks.extend(whole);
    for (r, c) in rules.iter().zip(clocks.unwrap_or_default()) {
        let nanos = c.load(Ordering::Relaxed);
        add_time(&r.meta().id, std::time::Duration::from_nanos(nanos));
    }
    sorted(chunks)
}

static PROFILE: AtomicBool = AtomicBool::new(false);
static PROFILE_TIMES: Mutex<BTreeMap<String, std::time::Duration>> = Mutex::new(BTreeMap::new());

/// Turns on (or off) the timing of every rule hook and analysis build, for
/// finding where an audit's time goes. Off by default: timing costs a clock
/// read per hook call. Turning it on starts the times from zero; read them
/// with [`profile`]. (The times are the process's: audits run at the same
/// time add to the same ones.)
pub fn set_profiling(on: bool) {
    if on {
        PROFILE_TIMES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
    PROFILE.store(on, Ordering::Relaxed);
}

fn profiling() -> bool {
    PROFILE.load(Ordering::Relaxed)
}

fn add_time(name: &str, took: std::time::Duration) {
    let mut times = PROFILE_TIMES.lock().unwrap_or_else(|e| e.into_inner());
    match times.get_mut(name) {
        Some(t) => *t += took,
        None => {
            times.insert(name.to_string(), took);
        }
    }
}

/// The time spent so far (summed over threads) in each rule, by rule id, and
/// in each shared analysis, as `analysis:<type>`, since profiling was turned
/// on with [`set_profiling`]. A rule's time includes the wait for (or the
/// build of) an analysis it asks for first; the analysis line shows the
/// build alone.
pub fn profile() -> Vec<(String, std::time::Duration)> {
    let times = PROFILE_TIMES.lock().unwrap_or_else(|e| e.into_inner());
    times.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

/// Runs one hook of rule `i`, adding its time to the rule's clock when
/// profiling.
fn timed_call(clocks: Option<&[AtomicU64]>, i: usize, call: impl FnOnce()) {
    let Some(clocks) = clocks else {
        return call();
    };
    let start = std::time::Instant::now();
    call();
    let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    clocks[i].fetch_add(nanos, Ordering::Relaxed);
}

/// Sorts findings deterministically and drops exact duplicates.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    // Already in order (the audit sorts again after suppressions, which
    // mostly only remove findings): one pass instead of a sort.
    if findings.is_sorted_by(|a, b| a.sort_key() <= b.sort_key()) {
        findings.dedup();
        return;
    }
    *findings = sorted(vec![std::mem::take(findings)]);
}

/// The findings of all `chunks` in one vector, sorted as
/// [`Finding::sort_key`] orders them (ties kept in chunk order), without
/// exact duplicates.
fn sorted(chunks: Vec<Vec<Finding>>) -> Vec<Finding> {
    // Files are ranked once, so that most comparisons are of integers, not
    // of long paths with long common prefixes (a third of a second at
    // 200,000 findings, on one thread). A job's findings are mostly of one
    // file: neighbours are dropped before the sort.
    let mut files: Vec<&str> = chunks
        .par_iter()
        .flat_map_iter(|c| {
            let mut last: Option<&str> = None;
            c.iter().filter_map(move |f| {
                let new = last != Some(f.file.as_str());
                last = Some(f.file.as_str());
                new.then_some(f.file.as_str())
            })
        })
        .collect();
    files.par_sort_unstable();
    files.dedup();
    let rank: rustc_hash::FxHashMap<&str, u32> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, i as u32))
        .collect();
    // Small keys are sorted, not the findings: a merge sort moves each
    // element about log2(n) times, and a finding is 300 bytes. Ties on
    // (file, line, column) are broken by the rest of the key, then by the
    // original position (chunk, index), which keeps the sort stable.
    // A finding of its neighbour's file takes the neighbour's rank: one
    // comparison of the paths instead of hashing one.
    let mut keys: Vec<(u32, u32, u32, u32, u32)> = chunks
        .par_iter()
        .enumerate()
        .flat_map_iter(|(c, fs)| {
            let rank = &rank;
            let mut last: Option<(&str, u32)> = None;
            fs.iter().enumerate().map(move |(i, f)| {
                let file = f.file.as_str();
                let r = match last {
                    Some((p, r)) if p == file => r,
                    _ => {
                        let r = rank[file];
                        last = Some((file, r));
                        r
                    }
                };
                (r, f.span.line, f.span.col, c as u32, i as u32)
            })
        })
        .collect();
    drop(rank);
    drop(files);
    keys.par_sort_unstable_by(|a, b| {
        (a.0, a.1, a.2)
            .cmp(&(b.0, b.1, b.2))
            .then_with(|| {
                let fa = &chunks[a.3 as usize][a.4 as usize];
                let fb = &chunks[b.3 as usize][b.4 as usize];
                fa.sort_key_in_file().cmp(&fb.sort_key_in_file())
            })
            .then((a.3, a.4).cmp(&(b.3, b.4)))
    });
    // Each finding is moved once, to its place, on any thread, and an empty
    // finding (no allocation) left in its stead. A job's lock guards its
    // findings where they are: a lock per finding meant moving every one
    // into a new vector of locks first (and faulting in its memory). The
    // two threads seldom want the same job's lock: they place different
    // stretches of the files.
    let slots: Vec<Mutex<Vec<Finding>>> = chunks.into_iter().map(Mutex::new).collect();
    let all: Vec<Finding> = keys
        .par_iter()
        .map(|k| {
            let mut chunk = slots[k.3 as usize]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut chunk[k.4 as usize], Finding::empty())
        })
        .collect();
    // Emptied, but their buffers are large: freed on every thread.
    slots.into_par_iter().for_each(drop);
    // Exact duplicates are neighbours now; which to keep is decided in
    // parallel (the first of each run, as `Vec::dedup` keeps). Neighbours
    // mostly share their rule, object and file, and differ in their place:
    // that is compared first (`==` compares the fields in order, several
    // long strings before the span).
    let same = |a: &Finding, b: &Finding| a.span == b.span && a.pointer == b.pointer && a == b;
    let keep: Vec<bool> = (0..all.len())
        .into_par_iter()
        .map(|i| i == 0 || !same(&all[i], &all[i - 1]))
        .collect();
    if keep.iter().all(|k| *k) {
        return all;
    }
    all.into_iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Span;
    use crate::object::ObjectRef;

    /// A value derived from a workload is built once while the workload's
    /// rules run, and each time anywhere else (a rule called on a workload
    /// of its own making cannot be given another's values); a context does
    /// not see another's.
    #[test]
    fn per_workload_values_live_while_the_workloads_rules_run() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: x\n";
        let loaded = crate::load(
            &[crate::Input::Text {
                name: "pod.yaml".into(),
                text: pod.into(),
            }],
            &crate::LoadOptions::default(),
        );
        let inv = Inventory::new(loaded);
        let settings = Settings::default();
        let cx = Context::new(&inv, &settings);
        let w = &inv.workloads[0];
        struct Value;
        let builds = std::cell::Cell::new(0);
        let get = |cx: &Context<'_>| {
            cx.per_workload(w, |_| {
                builds.set(builds.get() + 1);
                Value
            })
        };
        get(&cx);
        get(&cx);
        assert_eq!(builds.get(), 2, "outside run_rules: built each time");
        {
            let _scope = WorkloadScope::enter(&cx, w);
            get(&cx);
            get(&cx);
            assert_eq!(builds.get(), 3, "while the workload's rules run: once");
            get(&Context::new(&inv, &settings));
            assert_eq!(builds.get(), 4, "another context: its own");
        }
        get(&cx);
        assert_eq!(builds.get(), 5, "after: built again");
    }

    /// Sorting findings kept in per-job vectors gives what a stable sort of
    /// their concatenation by [`Finding::sort_key`], then `dedup`, gives:
    /// ties in job order, exact duplicates dropped (also across jobs).
    #[test]
    fn chunked_sort_is_a_stable_sort_of_the_concatenation() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..200 {
            let jobs = 1 + next(6) as usize;
            let chunks: Vec<Vec<Finding>> = (0..jobs)
                .map(|_| {
                    (0..next(12))
                        .map(|_| {
                            let line = 1 + next(4) as u32;
                            Finding {
                                rule: format!("r{}", next(3)),
                                severity: Severity::Low,
                                object: ObjectRef {
                                    api_version: "v1".into(),
                                    kind: "Pod".into(),
                                    namespace: None,
                                    name: "p".into(),
                                },
                                file: format!("dir/f{}.yaml", next(3)),
                                span: Span::point(line, 1 + next(2) as u32),
                                pointer: "/spec".into(),
                                context: None,
                                // Same key, other message or help: a tie
                                // that is not a duplicate.
                                message: format!("m{}", next(2)),
                                help: (next(2) == 0).then(|| "h".into()),
                                related: Vec::new(),
                                units: Vec::new(),
                            }
                        })
                        .collect()
                })
                .collect();
            let mut want: Vec<Finding> = chunks.concat();
            want.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            want.dedup();
            let mut one = chunks.concat();
            sort_findings(&mut one);
            assert_eq!(one, want);
            assert_eq!(sorted(chunks), want);
        }
    }
}
