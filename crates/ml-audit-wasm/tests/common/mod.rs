//! Shared by the tests and the benchmark: builds the example plugins.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds the plugins of `plugins/` for wasm32-unknown-unknown (once per test
/// binary) and gives the directory of the `.wasm` files. They get a folder of
/// their own inside the shared target directory, so the nested cargo never
/// waits on the lock of the build that runs the tests.
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build(false))
}

/// The same, built with `--release` (for the benchmark).
pub fn release_plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build(true))
}

fn build(release: bool) -> PathBuf {
    {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target"))
            .join("wasm-plugins");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "build",
                "--target",
                "wasm32-unknown-unknown",
                "--manifest-path",
            ])
            .arg(root().join("plugins/Cargo.toml"))
            .args(release.then_some("--release"))
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "building the plugins failed (is the target installed? `rustup target add wasm32-unknown-unknown`):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target
            .join("wasm32-unknown-unknown")
            .join(if release { "release" } else { "debug" })
    }
}

/// The `.wasm` of an example plugin (`allowed-registries`).
pub fn plugin(name: &str) -> PathBuf {
    plugin_dir().join(format!("{}.wasm", name.replace('-', "_")))
}

/// A hostile guest, compiled from its `.wat`.
pub fn hostile(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/hostile")
        .join(format!("{name}.wat"));
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
