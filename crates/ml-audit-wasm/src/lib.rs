//! # ml-audit-wasm
//!
//! Custom ml-audit rules as sandboxed WebAssembly modules. A [`PluginHost`]
//! owns one wasmtime engine (fuel, epoch interruption, small memories) and a
//! ticker thread for the wall-clock deadline; [`PluginHost::load`] checks a
//! module (no imports at all, the ABI version, the metadata) and gives a
//! [`Plugin`], whose rules implement [`ml_audit::Rule`] and so are listed,
//! explained, selected and ignored like built-in ones.
//!
//! ```no_run
//! use ml_audit::{Audit, Input, Inventory, LoadOptions};
//! use ml_audit_wasm::{HostOptions, PluginHost};
//!
//! let host = PluginHost::new(HostOptions::default()).unwrap();
//! let plugin = host.load("allowed_registries.wasm".as_ref()).unwrap();
//! let mut audit = Audit::new();
//! ml_audit_wasm::register(&mut audit, &[plugin]).unwrap();
//! let inv = Inventory::new(ml_audit::load(&[Input::Path("manifests".into())], &LoadOptions::default()));
//! let report = audit.run(&inv);
//! ```
//!
//! The guest ABI is documented in `plugins/ABI.md`; the SDK that hides it is
//! the `ml-audit-rule-sdk` crate. A trap, exhausted fuel, the deadline, the
//! memory limit or malformed output becomes a `plugin-error` finding naming
//! the plugin; the Store is thrown away and every other finding stands.
#![deny(missing_docs)]

mod cache;
mod encode;
mod host;
mod rule;

pub use cache::CacheMode;
pub use host::{HostOptions, Limits, Plugin, PluginHost, PluginMeta, PluginOption, PluginRuleMeta};
pub use rule::{register, register_each, PluginErrorRule, PluginRule, PLUGIN_ERROR};

/// The one ABI version this host speaks: 3 (objects in a binary tree
/// encoding the guest reads in place, findings replied in the same encoding
/// or as JSON). A module that declares any other version is refused.
pub const ABI_VERSION: i32 = 3;

/// Why a plugin could not be loaded or registered.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file could not be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The module is not valid WebAssembly or could not be compiled.
    #[error("plugin {plugin}: not a valid WebAssembly module: {message}")]
    Compile {
        /// The plugin.
        plugin: String,
        /// What wasmtime said.
        message: String,
    },
    /// The module imports something the host does not offer.
    #[error("plugin {plugin} is refused: it imports {imports}, but ml-audit plugins get no host functions at all (no WASI: no files, clock, random, network or environment)")]
    Import {
        /// The plugin.
        plugin: String,
        /// The imports, as `module::name (kind)`.
        imports: String,
    },
    /// The module speaks another ABI version.
    #[error("plugin {plugin} is refused: it speaks plugin ABI version {found}, this ml-audit speaks version {supported}; rebuild it with a matching ml-audit-rule-sdk")]
    AbiVersion {
        /// The plugin.
        plugin: String,
        /// The version it declared.
        found: i64,
        /// The version the host speaks.
        supported: i32,
    },
    /// The module does not follow the ABI (missing export, bad metadata).
    #[error("plugin {plugin} is refused: {message}")]
    Abi {
        /// The plugin.
        plugin: String,
        /// What is wrong.
        message: String,
    },
    /// A rule id is declared twice or clashes with another rule.
    #[error("plugin {plugin} is refused: rule id `{id}` {reason}")]
    DuplicateId {
        /// The plugin.
        plugin: String,
        /// The id.
        id: String,
        /// Clashes with what.
        reason: String,
    },
    /// The module is over a cap that bounds loading (module size, function
    /// count, function size, locals, compile time), or its path is not a
    /// regular file; the message names the cap.
    #[error("plugin {plugin} is refused: {message}")]
    Cap {
        /// The plugin.
        plugin: String,
        /// Which cap stopped it, and by how much.
        message: String,
    },
    /// The engine could not be set up.
    #[error("cannot set up the WebAssembly engine: {0}")]
    Engine(String),
}
