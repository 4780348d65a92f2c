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

use crate::cache::{self, CacheDir, CacheMode, CacheStatus};
use crate::encode;
use crate::{PluginError, ABI_VERSION};

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
    /// Largest module file, in bytes (the module-size cap). Also bounds
    /// what is read of a plugin path.
    pub max_module_bytes: usize,
    /// Largest body of one function, in bytes (the function-size cap):
    /// compilation time and memory grow with the largest function.
    pub max_function_bytes: usize,
    /// Most functions in a module (the function-count cap).
    pub max_functions: u32,
    /// Most locals in one function (the locals cap).
    pub max_locals: u32,
    /// Deepest nesting of blocks, loops and ifs in one function (the
    /// nesting cap).
    pub max_nesting: u32,
    /// Most blocks, loops and ifs in one function (the function-blocks
    /// cap): the compiler's time grows faster than linearly with them.
    pub max_function_blocks: u32,
    /// Most loops in one function (the function-loops cap): compile time
    /// grows with their square (1,000 loops: 0.7 s; 16,000: 80 s).
    pub max_function_loops: u32,
    /// Most blocks, loops and ifs in the whole module (the module-blocks
    /// cap).
    pub max_module_blocks: u32,
    /// Most loops in the whole module (the module-loops cap).
    pub max_module_loops: u32,
    /// Wall-clock cap on compiling one module (the compile-time cap).
    pub compile_deadline: Duration,
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
            max_module_bytes: MAX_MODULE_BYTES,
            max_function_bytes: 256 << 10,
            max_functions: 50_000,
            max_locals: 10_000,
            max_nesting: 1_000,
            max_function_blocks: 10_000,
            max_function_loops: 1_000,
            max_module_blocks: 100_000,
            max_module_loops: 10_000,
            compile_deadline: Duration::from_secs(60),
        }
    }
}

/// The default module-size cap: 8 MiB, about 28 times the largest example
/// plugin (289 KB as a debug build).
const MAX_MODULE_BYTES: usize = 8 << 20;

/// How the host is set up.
#[derive(Clone, Debug, Default)]
pub struct HostOptions {
    /// The limits of every call.
    pub limits: Limits,
    /// Where compiled modules are cached.
    pub cache: CacheMode,
    /// The paths being audited: their content is untrusted, so a cache
    /// directory inside one of them is refused.
    pub untrusted: Vec<PathBuf>,
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
    cache: CacheDir,
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
        // The linker offers nothing: the ABI has no host functions, so a
        // module that imports anything fails to link (and is refused first,
        // by name, in `load_bytes`).
        let linker = Linker::new(&engine);
        let ticker =
            Ticker::start(engine.clone()).map_err(|e| PluginError::Engine(e.to_string()))?;
        Ok(PluginHost {
            inner: Arc::new(HostInner {
                engine,
                linker,
                limits,
                cache: CacheDir::open(&options.cache, &options.untrusted),
                _ticker: ticker,
            }),
        })
    }

    /// The limits of every call.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Why the cache directory is not used, when it is refused (its
    /// owner, its mode, or its place inside a scanned path): every module
    /// is then compiled.
    pub fn cache_problem(&self) -> Option<String> {
        match &self.inner.cache {
            CacheDir::Refused(dir, why) => Some(format!(
                "not using the plugin cache {}: {why}; compiling plugins without it",
                dir.display()
            )),
            _ => None,
        }
    }

    /// Loads a plugin from a `.wasm` file: a regular file (not a FIFO, a
    /// device or a directory), of at most the module-size cap.
    pub fn load(&self, path: &Path) -> Result<Plugin, PluginError> {
        let name = path.display().to_string();
        let bytes = read_module(path, self.inner.limits.max_module_bytes).map_err(|e| match e {
            ReadError::Io(source) => PluginError::Read {
                path: name.clone(),
                source,
            },
            ReadError::Refused(message) => PluginError::Cap {
                plugin: name.clone(),
                message,
            },
        })?;
        self.load_bytes(&name, &bytes)
    }

    /// Loads a plugin from the bytes of a module; `name` names it in errors
    /// and findings (usually its path).
    pub fn load_bytes(&self, name: &str, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let host = &self.inner;
        check_shape(bytes, &host.limits).map_err(|message| PluginError::Cap {
            plugin: name.to_string(),
            message,
        })?;
        let (module, cache_status) = compile(&host.engine, &host.cache, &host.limits, bytes)
            .map_err(|e| match e {
                CompileError::Invalid(message) => PluginError::Compile {
                    plugin: name.to_string(),
                    message,
                },
                CompileError::Deadline => PluginError::Cap {
                    plugin: name.to_string(),
                    message: format!(
                        "compiling it took longer than the compile-time cap ({} s); the compilation was abandoned",
                        host.limits.compile_deadline.as_secs_f64()
                    ),
                },
            })?;
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
        let shared = Shared {
            name: name.to_string(),
            host: self.inner.clone(),
            pre,
        };
        let mut inst = Sandbox::new(&shared, host.limits.fuel_per_setup)
            .map_err(|e| abi(format!("cannot start: {}", e.describe(&host.limits))))?;
        let version = inst
            .abi_version()
            .map_err(|e| abi(format!("mla_abi_version: {}", e.describe(&host.limits))))?;
        if version != i64::from(ABI_VERSION) {
            return Err(PluginError::AbiVersion {
                plugin: name.to_string(),
                found: version,
                supported: ABI_VERSION,
            });
        }
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

enum ReadError {
    Io(std::io::Error),
    Refused(String),
}

/// Reads a module file: refused unless it is a regular file (opened without
/// blocking, so that a FIFO cannot hang the run), and read up to the cap
/// only (so that `/dev/zero` cannot fill the memory).
fn read_module(path: &Path, cap: usize) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK);
    let file = opts.open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, a socket or a device)"
        };
        return Err(ReadError::Refused(format!("its path is {what}")));
    }
    let too_big = || {
        ReadError::Refused(format!(
            "its module is over the module-size cap ({})",
            bytes_text(cap)
        ))
    };
    if meta.len() > cap as u64 {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() > cap {
        return Err(too_big());
    }
    Ok(bytes)
}

/// `8 MiB`, `256 KiB`, `100 bytes`.
fn bytes_text(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// Checks the caps that bound compilation before compiling: the module's
/// size, its number of functions, and the size and locals of each function
/// (cranelift's time and memory grow with the largest function, faster
/// than linearly). Each message names the cap. A module that is not valid
/// WebAssembly passes here and is refused by the compiler, with its
/// message.
fn check_shape(bytes: &[u8], limits: &Limits) -> Result<(), String> {
    use wasmparser::{Operator, Parser, Payload};
    if bytes.len() > limits.max_module_bytes {
        return Err(format!(
            "its module is {} bytes, over the module-size cap ({})",
            bytes.len(),
            bytes_text(limits.max_module_bytes)
        ));
    }
    let (mut index, mut module_blocks, mut module_loops) = (0u32, 0u32, 0u32);
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else {
            return Ok(());
        };
        match payload {
            Payload::CodeSectionStart { count, .. } if count > limits.max_functions => {
                return Err(format!(
                    "it defines {count} functions, over the function-count cap ({})",
                    limits.max_functions
                ));
            }
            Payload::CodeSectionEntry(body) => {
                let size = body.range().len();
                if size > limits.max_function_bytes {
                    return Err(format!(
                        "function {index} has a body of {size} bytes, over the function-size cap ({})",
                        bytes_text(limits.max_function_bytes)
                    ));
                }
                let mut locals = 0u32;
                if let Ok(reader) = body.get_locals_reader() {
                    for l in reader {
                        let Ok((n, _)) = l else { break };
                        locals = locals.saturating_add(n);
                    }
                }
                if locals > limits.max_locals {
                    return Err(format!(
                        "function {index} declares {locals} locals, over the locals cap ({} per function)",
                        limits.max_locals
                    ));
                }
                let (mut blocks, mut loops, mut depth) = (0u32, 0u32, 0u32);
                if let Ok(mut ops) = body.get_operators_reader() {
                    while !ops.eof() {
                        let Ok(op) = ops.read() else { break };
                        match op {
                            Operator::Block { .. } | Operator::If { .. } => {
                                blocks += 1;
                                depth += 1;
                            }
                            Operator::Loop { .. } => {
                                blocks += 1;
                                loops += 1;
                                depth += 1;
                            }
                            Operator::End => depth = depth.saturating_sub(1),
                            _ => {}
                        }
                        if depth > limits.max_nesting {
                            return Err(format!(
                                "function {index} nests blocks over {} deep, over the nesting cap",
                                limits.max_nesting
                            ));
                        }
                        if blocks > limits.max_function_blocks {
                            return Err(format!(
                                "function {index} has over {} blocks, loops and ifs, over the function-blocks cap",
                                limits.max_function_blocks
                            ));
                        }
                        if loops > limits.max_function_loops {
                            return Err(format!(
                                "function {index} has over {} loops, over the function-loops cap",
                                limits.max_function_loops
                            ));
                        }
                    }
                }
                module_blocks = module_blocks.saturating_add(blocks);
                module_loops = module_loops.saturating_add(loops);
                if module_blocks > limits.max_module_blocks {
                    return Err(format!(
                        "it has over {} blocks, loops and ifs, over the module-blocks cap",
                        limits.max_module_blocks
                    ));
                }
                if module_loops > limits.max_module_loops {
                    return Err(format!(
                        "it has over {} loops, over the module-loops cap",
                        limits.max_module_loops
                    ));
                }
                index += 1;
            }
            _ => {}
        }
    }
    Ok(())
}

enum CompileError {
    Invalid(String),
    Deadline,
}

/// The module from the cache, or compiled (and stored). Compilation runs
/// on a thread of its own, awaited up to the compile-time cap; past it,
/// the thread is abandoned: it cannot be stopped, but the shape caps bound
/// what it still costs (see `plugins/ABI.md`), and its result is dropped.
fn compile(
    engine: &Engine,
    dir: &CacheDir,
    limits: &Limits,
    bytes: &[u8],
) -> Result<(wasmtime::Module, CacheStatus), CompileError> {
    let key = cache::Key::new(engine, bytes);
    let mut refused = None;
    if let CacheDir::Usable(d) = dir {
        match cache::lookup(engine, d, &key) {
            Ok(Some(m)) => return Ok((m, CacheStatus::Hit)),
            Ok(None) => {}
            Err(why) => refused = Some(format!("refused {why}; compiled it again")),
        }
    }
    let (tx, rx) = mpsc::channel();
    let (e, wasm) = (engine.clone(), bytes.to_vec());
    let spawned = std::thread::Builder::new()
        .name("ml-audit-wasm-compile".into())
        .spawn(move || {
            let _ = tx.send(e.precompile_module(&wasm).map_err(|e| format!("{e:#}")));
        });
    if let Err(e) = spawned {
        return Err(CompileError::Invalid(format!(
            "cannot start compiling: {e}"
        )));
    }
    let compiled = match rx.recv_timeout(limits.compile_deadline) {
        Ok(Ok(c)) => c,
        Ok(Err(m)) => return Err(CompileError::Invalid(m)),
        Err(RecvTimeoutError::Timeout) => return Err(CompileError::Deadline),
        Err(RecvTimeoutError::Disconnected) => {
            return Err(CompileError::Invalid("the compiler stopped".into()))
        }
    };
    let module = cache::deserialize(engine, &compiled)
        .ok_or_else(|| CompileError::Invalid("its compiled code cannot be loaded".into()))?;
    let status = match (dir, refused) {
        (CacheDir::Usable(d), refused) => match cache::store(d, &key, &compiled) {
            Ok(()) => refused.map_or(CacheStatus::Stored, CacheStatus::NotStored),
            Err(e) => CacheStatus::NotStored(format!("cannot write the cache: {e}")),
        },
        _ => CacheStatus::Off,
    };
    Ok((module, status))
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
        let mut names = std::collections::BTreeSet::new();
        for o in &r.options {
            if o.name.is_empty() || o.name.len() > 64 || o.name.contains(['.', '=']) {
                return Err(format!(
                    "rule `{}` declares an option named {:?}: a name is 1 to 64 characters, without `.` or `=`",
                    r.id, o.name
                ));
            }
            if o.option_type().is_none() {
                return Err(format!(
                    "option `{}` of rule `{}` has type {:?}: expected bool, count, string or string-list",
                    o.name, r.id, o.ty
                ));
            }
            if !names.insert(o.name.as_str()) {
                return Err(format!(
                    "rule `{}` declares option `{}` twice",
                    r.id, o.name
                ));
            }
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
    /// The options it reads from its settings.
    #[serde(default)]
    pub options: Vec<PluginOption>,
    /// What the rule reads of each object: JSON pointers
    /// (`/metadata/labels`) and `pods` (each pod spec); the host sends only
    /// those sub-trees. Empty: the whole object.
    #[serde(default)]
    pub reads: Vec<String>,
    /// The catalogue page.
    #[serde(default)]
    pub doc: RuleDoc,
}

/// An option of a plugin rule, as its metadata declares it.
#[derive(Clone, Debug, Deserialize)]
pub struct PluginOption {
    /// The option's name.
    pub name: String,
    /// `bool`, `count`, `string` or `string-list`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The default, as it would be written in YAML.
    #[serde(default)]
    pub default: String,
    /// What it does.
    #[serde(default)]
    pub doc: String,
}

impl PluginOption {
    /// Its type, if the metadata names a known one.
    pub fn option_type(&self) -> Option<ml_audit::OptionType> {
        use ml_audit::OptionType as T;
        Some(match self.ty.as_str() {
            "bool" => T::Bool,
            "count" => T::Count,
            "string" => T::String,
            "string-list" => T::StringList,
            _ => return None,
        })
    }
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
    /// Why the compiled code could not be cached, or why its cache entry
    /// was refused (another owner, writable by others), if so.
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
}

#[derive(Clone)]
struct Exports {
    memory: Memory,
    abi_version: TypedFunc<(), i32>,
    alloc: TypedFunc<i32, i32>,
    metadata: TypedFunc<(), i64>,
    configure: TypedFunc<(i32, i32), i64>,
    check: TypedFunc<(i32, i32), i64>,
    /// Optional: the message of the guest's last panic.
    panic_message: Option<TypedFunc<(), i64>>,
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
            panic_message: match instance.get_func(&mut store, "mla_panic_message") {
                None => None,
                Some(f) => Some(
                    f.typed(&store)
                        .map_err(|e| missing("mla_panic_message: () -> i64", e))?,
                ),
            },
        };
        Ok(Sandbox {
            store,
            exports,
            limits,
            budget,
        })
    }

    /// Sets the fuel and deadline of the next call.
    pub(crate) fn budget(&mut self, fuel: u64) -> Result<(), CallError> {
        self.budget = fuel;
        prepare(&mut self.store, &self.limits, fuel)
    }

    fn abi_version(&mut self) -> Result<i64, CallError> {
        match self.exports.abi_version.call(&mut self.store, ()) {
            Ok(v) => Ok(i64::from(v)),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Why a call failed; for a trap, with the guest's panic message when
    /// it exports `mla_panic_message` and has one.
    fn failed(&mut self, e: wasmtime::Error) -> CallError {
        match classify(e, self.budget) {
            CallError::Trap(m) => match self.panic_message() {
                Some(p) => CallError::Trap(format!("{m}; it panicked: {p}")),
                None => CallError::Trap(m),
            },
            other => other,
        }
    }

    /// The guest's last panic message: read with a fresh fuel budget and
    /// deadline, cut to 2,000 bytes, `None` when empty or unreadable.
    fn panic_message(&mut self) -> Option<String> {
        let f = self.exports.panic_message.clone()?;
        prepare(&mut self.store, &self.limits, self.limits.fuel_per_setup).ok()?;
        let packed = f.call(&mut self.store, ()).ok()?;
        let ptr = (packed as u64 >> 32) as usize;
        let len = ((packed as u64 & 0xffff_ffff) as usize).min(2000);
        let data = self.exports.memory.data(&self.store);
        let bytes = data.get(ptr..ptr.checked_add(len)?)?;
        let text = String::from_utf8_lossy(bytes);
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }

    /// Writes `input` into the guest (through `mla_alloc`).
    fn send(&mut self, input: &[u8]) -> Result<i32, CallError> {
        let len =
            i32::try_from(input.len()).map_err(|_| CallError::Output("input over 2 GiB".into()))?;
        let ptr = match self.exports.alloc.call(&mut self.store, len) {
            Ok(p) => p,
            Err(e) => return Err(self.failed(e)),
        };
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
        let packed = match pick(&self.exports).call(&mut self.store, params) {
            Ok(p) => p,
            Err(e) => return Err(self.failed(e)),
        };
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
        // An empty reply is no findings (the common case, parsed by
        // neither side).
        if out.is_empty() {
            return Ok(Reply::Json(Vec::new()));
        }
        // A reply in the binary encoding starts with the tag of a map; JSON
        // starts with `{` or white space.
        if out.first() == Some(&encode::OBJECT) {
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
    /// The findings as JSON values (a guest that replies JSON); empty for
    /// an empty reply.
    Json(Vec<serde_json::Value>),
    /// The reply document in the binary encoding, checked to be a
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
