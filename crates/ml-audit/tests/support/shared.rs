//! The data next to the repository, under `../shared` (the corpus, the
//! oracles, the schemas): tests that read it call [`shared`], the one place
//! that decides what happens when it is absent. Included by path from the
//! tests of every crate (`#[path = ...] mod shared;`).

use std::path::{Path, PathBuf};

/// `../shared/<rel>`, or `None` when it is absent: the test then prints why
/// it skips and returns. When the environment variable `CI` is set, an
/// absent folder fails the test instead, so that CI cannot pass by
/// skipping.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is absent, and CI is set: the test would pass without checking anything",
        p.display()
    );
    println!("skipped: {} is absent", p.display());
    None
}
