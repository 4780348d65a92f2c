//! The engine, the ticker thread, loading a module, and one sandboxed
//! instance per batch of calls.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ml_audit::Severity;
use serde::Deserialize;
use wasmtime::{
    Config, Engine, ExternType, Instance, InstancePre, Linker, Memory, OptLevel, Store,
    StoreLimits, StoreLimitsBuilder, Trap, TypedFunc,
};

use crate::cache::{self, CacheMode, CacheStatus};
use crate::encode;
use crate::{PluginError, ABI_VERSION, ABI_VERSION_MIN};

/// Resource limits of every plugin call.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Fuel (roughly, wasm instructions) for one object in per-object mode.
    pub fuel_per_object: u64,
    /// Fuel for one whole-inventory call.
    pub fuel_per_inventory: u64,
    /// Fuel for loading: ABI version, metadata, settings.
    pub fuel_per_setup: u64,
    /// Linear memory of one instance, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock backstop of one call (fuel is the real, deterministic
    /// budget; this catches what fuel cannot).
    pub deadline: Duration,
    /// Largest output (metadata or findings) of one call, in bytes.
    pub max_output: usize,
    /// Most findings from one call.
    pub max_findings: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_per_object: 50_000_000,
            fuel_per_inventory: 2_000_000_000,
            fuel_per_setup: 50_000_000,
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(5),
            max_output: 4 << 20,
            max_findings: 10_000,
        }
    }
}

/// How the host is set up.
#[derive(Clone, Debug, Default)]
pub struct HostOptions {
    /// The limits of every call.
    pub limits: Limits,
    /// Where compiled modules are cached.
    pub cache: CacheMode,
}

/// How often the ticker thread advances the engine's epoch.
const TICK: Duration = Duration::from_millis(10);

/// Advances the epoch every [`TICK`]; stopped and joined on drop.
struct Ticker {
    stop: Mutex<Option<Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Ticker {
    fn start(engine: Engine) -> std::io::Result<Ticker> {
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("ml-audit-wasm-epoch".into())
            .spawn(move || {
                // Stops when the host drops the sender.
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(TICK) {
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker {
            stop: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.lock().map(|mut s| s.take()));
        if let Ok(mut t) = self.thread.lock() {
            if let Some(t) = t.take() {
                let _ = t.join();
            }
        }
    }
}

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<State>,
    pub(crate) limits: Limits,
    cache_dir: Option<PathBuf>,
    _ticker: Ticker,
}

/// The WebAssembly rule host: one engine shared by every plugin.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<HostInner>,
}

pub(crate) struct State {
    limits: StoreLimits,
}

impl PluginHost {
    /// A host: the engine (fuel, epochs, small static memories, no WASI) and
    /// its ticker thread.
    pub fn new(options: HostOptions) -> Result<PluginHost, PluginError> {
        let limits = options.limits;
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .cranelift_opt_level(OptLevel::Speed)
            .parallel_compilation(true)
            // Reserve only what a plugin may use (plus a small guard), not
            // the default gigabytes per memory.
            .memory_reservation(limits.memory_bytes as u64)
            .memory_reservation_for_growth(0)
            .memory_guard_size(64 << 10)
            .max_wasm_stack(512 << 10);
        let engine = Engine::new(&config).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        // The linker offers nothing: the ABI (versions 1 and 2) has no host
        // functions.
        let linker = Linker::new(&engine);
        let ticker =
            Ticker::start(engine.clone()).map_err(|e| PluginError::Engine(e.to_string()))?;
        Ok(PluginHost {
            inner: Arc::new(HostInner {
                engine,
                linker,
                limits,
                cache_dir: options.cache.dir(),
                _ticker: ticker,
            }),
        })
    }

    /// The limits of every call.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Loads a plugin from a `.wasm` file.
    pub fn load(&self, path: &Path) -> Result<Plugin, PluginError> {
        let bytes = std::fs::read(path).map_err(|source| PluginError::Read {
            path: path.display().to_string(),
            source,
        })?;
        self.load_bytes(&path.display().to_string(), &bytes)
    }

    /// Loads a plugin from the bytes of a module; `name` names it in errors
    /// and findings (usually its path).
    pub fn load_bytes(&self, name: &str, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let host = &self.inner;
        let compile_err = |e: wasmtime::Error| PluginError::Compile {
            plugin: name.to_string(),
            message: format!("{e:#}"),
        };
        let (module, cache_status) =
            cache::load_or_compile(&host.engine, bytes, host.cache_dir.as_deref())
                .map_err(compile_err)?;
        let imports: Vec<String> = module
            .imports()
            .map(|i| format!("`{}::{}` ({})", i.module(), i.name(), kind(&i.ty())))
            .collect();
        if !imports.is_empty() {
            return Err(PluginError::Import {
                plugin: name.to_string(),
                imports: imports.join(", "),
            });
        }
        let abi = |message: String| PluginError::Abi {
            plugin: name.to_string(),
            message,
        };
        let pre = host
            .linker
            .instantiate_pre(&module)
            .map_err(|e| abi(format!("{e:#}")))?;
        let mut shared = Shared {
            name: name.to_string(),
            host: self.inner.clone(),
            pre,
            abi: ABI_VERSION,
        };
        let mut inst = Sandbox::new(&shared, host.limits.fuel_per_setup)
            .map_err(|e| abi(format!("cannot start: {}", e.describe(&host.limits))))?;
        let version = inst
            .abi_version()
            .map_err(|e| abi(format!("mla_abi_version: {}", e.describe(&host.limits))))?;
        if !(i64::from(ABI_VERSION_MIN)..=i64::from(ABI_VERSION)).contains(&version) {
            return Err(PluginError::AbiVersion {
                plugin: name.to_string(),
                found: version,
                supported: ABI_VERSION,
            });
        }
        shared.abi = version as i32;
        inst.abi = shared.abi;
        let raw = inst
            .call_out(|e| &e.metadata, ())
            .map_err(|e| abi(format!("mla_metadata: {}", e.describe(&host.limits))))?;
        let meta: PluginMeta = serde_json::from_slice(&raw)
            .map_err(|e| abi(format!("its metadata is not valid: {e}")))?;
        validate(&meta, version).map_err(abi)?;
        Ok(Plugin {
            shared: Arc::new(shared),
            meta,
            cache_status,
        })
    }
}

fn kind(t: &ExternType) -> &'static str {
    match t {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        _ => "other",
    }
}

fn validate(meta: &PluginMeta, version: i64) -> Result<(), String> {
    if meta.abi != version {
        return Err(format!(
            "its metadata says ABI version {}, but `mla_abi_version` says {version}",
            meta.abi
        ));
    }
    if meta.rules.is_empty() {
        return Err("it declares no rule".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &meta.rules {
        let kebab = !r.id.is_empty()
            && r.id.len() <= 64
            && r.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !r.id.starts_with('-')
            && !r.id.ends_with('-');
        if !kebab {
            return Err(format!(
                "rule id `{}` is not kebab-case (a-z, 0-9 and `-`, at most 64)",
                r.id
            ));
        }
        if !seen.insert(r.id.as_str()) {
            return Err(format!("rule id `{}` is declared twice", r.id));
        }
        if r.title.trim().is_empty() {
            return Err(format!("rule `{}` has no title", r.id));
        }
        if let Some(bad) = r
            .reads
            .iter()
            .find(|x| *x != "pods" && !x.is_empty() && !x.starts_with('/'))
        {
            return Err(format!(
                "rule `{}` reads `{bad}`, which is neither `pods` nor a JSON pointer",
                r.id
            ));
        }
    }
    Ok(())
}

/// A plugin's metadata, as its `mla_metadata` export declares it.
#[derive(Clone, Debug, Deserialize)]
pub struct PluginMeta {
    /// ABI version.
    pub abi: i64,
    /// The plugin's name.
    pub plugin: String,
    /// Its version.
    #[serde(default)]
    pub version: String,
    /// Its rules.
    pub rules: Vec<PluginRuleMeta>,
}

/// One rule of a plugin.
#[derive(Clone, Debug, Deserialize)]
pub struct PluginRuleMeta {
    /// Rule id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Default severity.
    pub severity: Severity,
    /// Category (default `plugin`).
    #[serde(default)]
    pub category: Option<String>,
    /// `object` or `inventory`.
    pub mode: Mode,
    /// Kinds wanted (`Kind` or `group/Kind`); empty: every object.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// What the rule reads of each object (ABI 2): JSON pointers
    /// (`/metadata/labels`) and `pods` (each pod spec); the host sends only
    /// those sub-trees. Empty: the whole object.
    #[serde(default)]
    pub reads: Vec<String>,
    /// The catalogue page.
    #[serde(default)]
    pub doc: RuleDoc,
}

/// How a rule looks at the inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One object per call.
    Object,
    /// Every wanted object in one call.
    Inventory,
}

/// A rule's documentation, in the catalogue's shape.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleDoc {
    /// What it does.
    #[serde(default)]
    pub what: String,
    /// Why is this bad?
    #[serde(default)]
    pub why: String,
    /// Example (YAML).
    #[serde(default)]
    pub example: String,
    /// Use instead (YAML).
    #[serde(default)]
    pub use_instead: String,
    /// References (links).
    #[serde(default)]
    pub references: Vec<String>,
}

/// A loaded plugin.
pub struct Plugin {
    pub(crate) shared: Arc<Shared>,
    /// What it declared.
    pub meta: PluginMeta,
    cache_status: CacheStatus,
}

impl Plugin {
    /// The name it is known by (its path).
    pub fn name(&self) -> &str {
        &self.shared.name
    }
    /// Whether its compiled code came from the disk cache.
    pub fn from_cache(&self) -> bool {
        self.cache_status == CacheStatus::Hit
    }
    /// Why the compiled code could not be cached, if it could not.
    pub fn cache_problem(&self) -> Option<&str> {
        match &self.cache_status {
            CacheStatus::NotStored(e) => Some(e),
            _ => None,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) host: Arc<HostInner>,
    pre: InstancePre<State>,
    /// The ABI version it speaks.
    pub(crate) abi: i32,
}

#[derive(Clone)]
struct Exports {
    memory: Memory,
    abi_version: TypedFunc<(), i32>,
    alloc: TypedFunc<i32, i32>,
    metadata: TypedFunc<(), i64>,
    configure: TypedFunc<(i32, i32), i64>,
    check: TypedFunc<(i32, i32), i64>,
}

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    Fuel(u64),
    Deadline,
    Memory(String),
    Trap(String),
    Output(String),
    Guest(String),
}

impl CallError {
    pub(crate) fn describe(&self, limits: &Limits) -> String {
        match self {
            CallError::Fuel(budget) => format!("ran out of fuel (budget {budget})"),
            CallError::Deadline => format!(
                "hit the wall-clock deadline ({} ms)",
                limits.deadline.as_millis()
            ),
            CallError::Memory(m) => format!(
                "went over its memory limit ({} MiB): {m}",
                limits.memory_bytes >> 20
            ),
            CallError::Trap(m) => format!("trapped: {m}"),
            CallError::Output(m) => format!("gave malformed output: {m}"),
            CallError::Guest(m) => format!("reported an error: {m}"),
        }
    }
}

/// One instance in its own Store. Thrown away after any failure.
pub(crate) struct Sandbox {
    store: Store<State>,
    exports: Exports,
    limits: Limits,
    budget: u64,
    abi: i32,
}

impl Sandbox {
    pub(crate) fn new(shared: &Shared, budget: u64) -> Result<Sandbox, CallError> {
        let limits = shared.host.limits.clone();
        let state = State {
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .instances(1)
                .tables(2)
                .memories(1)
                .table_elements(100_000)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(&shared.host.engine, state);
        store.limiter(|s| &mut s.limits);
        prepare(&mut store, &limits, budget)?;
        let instance: Instance = shared
            .pre
            .instantiate(&mut store)
            .map_err(|e| classify(e, budget))?;
        let missing = |what: &str, e: wasmtime::Error| {
            CallError::Output(format!("missing or wrong export `{what}`: {e:#}"))
        };
        let exports = Exports {
            memory: instance
                .get_memory(&mut store, "memory")
                .ok_or_else(|| CallError::Output("no exported `memory`".into()))?,
            abi_version: instance
                .get_typed_func(&mut store, "mla_abi_version")
                .map_err(|e| missing("mla_abi_version: () -> i32", e))?,
            alloc: instance
                .get_typed_func(&mut store, "mla_alloc")
                .map_err(|e| missing("mla_alloc: (i32) -> i32", e))?,
            metadata: instance
                .get_typed_func(&mut store, "mla_metadata")
                .map_err(|e| missing("mla_metadata: () -> i64", e))?,
            configure: instance
                .get_typed_func(&mut store, "mla_configure")
                .map_err(|e| missing("mla_configure: (i32, i32) -> i64", e))?,
            check: instance
                .get_typed_func(&mut store, "mla_check")
                .map_err(|e| missing("mla_check: (i32, i32) -> i64", e))?,
        };
        Ok(Sandbox {
            store,
            exports,
            limits,
            budget,
            abi: shared.abi,
        })
    }

    /// Sets the fuel and deadline of the next call.
    pub(crate) fn budget(&mut self, fuel: u64) -> Result<(), CallError> {
        self.budget = fuel;
        prepare(&mut self.store, &self.limits, fuel)
    }

    fn abi_version(&mut self) -> Result<i64, CallError> {
        let v = self
            .exports
            .abi_version
            .call(&mut self.store, ())
            .map_err(|e| classify(e, self.budget))?;
        Ok(i64::from(v))
    }

    /// Writes `input` into the guest (through `mla_alloc`).
    fn send(&mut self, input: &[u8]) -> Result<i32, CallError> {
        let len =
            i32::try_from(input.len()).map_err(|_| CallError::Output("input over 2 GiB".into()))?;
        let ptr = self
            .exports
            .alloc
            .call(&mut self.store, len)
            .map_err(|e| classify(e, self.budget))?;
        self.exports
            .memory
            .write(&mut self.store, ptr as u32 as usize, input)
            .map_err(|_| {
                CallError::Output(format!(
                    "mla_alloc({len}) returned {ptr}, outside its memory"
                ))
            })?;
        Ok(len)
    }

    /// Calls an export that returns `ptr << 32 | len` and reads the output.
    fn call_out<P: wasmtime::WasmParams>(
        &mut self,
        pick: fn(&Exports) -> &TypedFunc<P, i64>,
        params: P,
    ) -> Result<Vec<u8>, CallError> {
        // The function is called in place: cloning a `TypedFunc` clones its
        // registered type (a few percent of a plugin's time per object).
        let packed = pick(&self.exports)
            .call(&mut self.store, params)
            .map_err(|e| classify(e, self.budget))?;
        let ptr = (packed as u64 >> 32) as usize;
        let len = (packed as u64 & 0xffff_ffff) as usize;
        if len > self.limits.max_output {
            return Err(CallError::Output(format!(
                "{len} bytes of output, over the limit of {} bytes",
                self.limits.max_output
            )));
        }
        let data = self.exports.memory.data(&self.store);
        let end = ptr.checked_add(len).filter(|&e| e <= data.len());
        match end {
            Some(end) => Ok(data[ptr..end].to_vec()),
            None => Err(CallError::Output(format!(
                "output at {ptr}..{} is outside its memory ({} bytes)",
                ptr + len,
                data.len()
            ))),
        }
    }

    /// Hands a rule its settings.
    pub(crate) fn configure(&mut self, rule: usize, settings: &[u8]) -> Result<(), CallError> {
        let len = self.send(settings)?;
        let out = self.call_out(|e| &e.configure, (rule as i32, len))?;
        parse_reply(&out).map(|_| ())
    }

    /// Runs a rule over an input; its reply, not yet checked finding by
    /// finding.
    pub(crate) fn check(&mut self, rule: usize, input: &[u8]) -> Result<Reply, CallError> {
        let len = self.send(input)?;
        let out = self.call_out(|e| &e.check, (rule as i32, len))?;
        // ABI 2: an empty reply is no findings (the common case, parsed by
        // neither side).
        if self.abi >= 2 && out.is_empty() {
            return Ok(Reply::Json(Vec::new()));
        }
        // ABI 3: a reply in the binary encoding starts with the tag of a
        // map; JSON starts with `{` or white space.
        if self.abi >= 3 && out.first() == Some(&encode::OBJECT) {
            return match encode::reply(&out) {
                Ok(encode::ReplyDoc::Findings { count, .. })
                    if count > self.limits.max_findings =>
                {
                    Err(CallError::Output(format!(
                        "{count} findings from one call, over the limit of {}",
                        self.limits.max_findings
                    )))
                }
                Ok(encode::ReplyDoc::Findings { list, .. }) => Ok(Reply::Binary(out, list)),
                Ok(encode::ReplyDoc::Error(e)) => Err(CallError::Guest(e)),
                Err(e) => Err(CallError::Output(e)),
            };
        }
        let reply = parse_reply(&out)?;
        match reply {
            serde_json::Value::Object(mut m) if m.get("findings").is_some_and(|f| f.is_array()) => {
                let Some(serde_json::Value::Array(a)) = m.remove("findings") else {
                    unreachable!("checked above")
                };
                if a.len() > self.limits.max_findings {
                    return Err(CallError::Output(format!(
                        "{} findings from one call, over the limit of {}",
                        a.len(),
                        self.limits.max_findings
                    )));
                }
                Ok(Reply::Json(a))
            }
            _ => Err(CallError::Output(
                "expected {\"findings\": [...]} or {\"error\": \"...\"}".into(),
            )),
        }
    }
}

/// What `mla_check` replied.
pub(crate) enum Reply {
    /// The findings as JSON values (ABI 1 and 2, and ABI 3 guests that
    /// reply JSON); empty for an empty reply.
    Json(Vec<serde_json::Value>),
    /// The reply document in the binary encoding (ABI 3), checked to be a
    /// map with a list of `findings`, and where that list is.
    Binary(Vec<u8>, usize),
}

fn parse_reply(out: &[u8]) -> Result<serde_json::Value, CallError> {
    let v: serde_json::Value =
        serde_json::from_slice(out).map_err(|e| CallError::Output(format!("not JSON ({e})")))?;
    if !v.is_object() {
        return Err(CallError::Output("expected a JSON object".into()));
    }
    if let Some(e) = v.get("error") {
        return Err(CallError::Guest(
            e.as_str().map_or_else(|| e.to_string(), str::to_string),
        ));
    }
    Ok(v)
}

fn prepare(store: &mut Store<State>, limits: &Limits, fuel: u64) -> Result<(), CallError> {
    store
        .set_fuel(fuel)
        .map_err(|e| CallError::Trap(format!("{e:#}")))?;
    let ticks = (limits.deadline.as_millis() / TICK.as_millis()).max(1) as u64;
    store.set_epoch_deadline(ticks);
    Ok(())
}

fn classify(e: wasmtime::Error, budget: u64) -> CallError {
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => CallError::Fuel(budget),
        Some(Trap::Interrupt) => CallError::Deadline,
        Some(t) if e.to_string().contains("grow") => CallError::Memory(t.to_string()),
        Some(t) => CallError::Trap(t.to_string()),
        None => {
            // The innermost cause, on one line ("forcing trap when growing
            // memory to ... bytes"), not the wasm backtrace.
            let m = e
                .chain()
                .last()
                .map(|c| c.to_string())
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            if m.contains("memory") || m.contains("grow") {
                CallError::Memory(m)
            } else {
                CallError::Trap(m)
            }
        }
    }
}
