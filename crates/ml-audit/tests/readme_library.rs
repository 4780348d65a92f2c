//! The README's library snippet, built and run as a user's crate builds it:
//! `examples/library-user` is a crate outside the workspace that depends on
//! `ml-audit` by path and picks the k8s-openapi version feature itself.
//! The snippet in the README and the crate's `main.rs` are the same text.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The fenced block of `lang` that follows `heading` in the README.
fn readme_block(heading: &str, lang: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find(heading).expect("README section")..];
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).expect("code block") + fence.len();
    let len = section[start..].find("```\n").unwrap();
    section[start..start + len].to_string()
}

#[test]
fn readme_snippet_is_the_example_crate() {
    let main = std::fs::read_to_string(root().join("examples/library-user/src/main.rs")).unwrap();
    assert_eq!(readme_block("## As a library", "rust"), main);
    // The dependency line the README asks for is the one the crate has.
    let toml = readme_block("## As a library", "toml");
    let manifest =
        std::fs::read_to_string(root().join("examples/library-user/Cargo.toml")).unwrap();
    let k8s = toml.lines().find(|l| l.starts_with("k8s-openapi")).unwrap();
    assert!(manifest.lines().any(|l| l == k8s), "{k8s}");
}

#[test]
fn readme_snippet_builds_and_runs_as_a_users_crate() {
    let root = root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(root.join("examples/library-user/Cargo.toml"))
        .args(["--", "testdata/examples"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same findings the library gives here, printed the snippet's way
    // (from the same directory, so that file names match).
    std::env::set_current_dir(&root).unwrap();
    let loaded = ml_audit::load(
        &[ml_audit::Input::Path("testdata/examples".into())],
        &Default::default(),
    );
    let report = ml_audit::Audit::new().run(&ml_audit::Inventory::new(loaded));
    let expected: String = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{} {} {}\n",
                f.file, f.span.line, f.span.col, f.rule, f.message
            )
        })
        .collect();
    assert!(
        expected.contains("raycluster.yaml:40:17 pss-privileged"),
        "{expected}"
    );
    assert_eq!(stdout, expected);
}
