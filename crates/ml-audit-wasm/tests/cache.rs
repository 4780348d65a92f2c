//! The compiled-code cache runs native code outside the sandbox: it is
//! used only when nobody but the user can write it, outside the scanned
//! paths, and each entry is bound to its module.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ml_audit_wasm::{CacheMode, HostOptions, PluginHost};

fn host(dir: &Path, untrusted: &[PathBuf]) -> PluginHost {
    PluginHost::new(HostOptions {
        cache: CacheMode::Dir(dir.to_path_buf()),
        untrusted: untrusted.to_vec(),
        ..HostOptions::default()
    })
    .unwrap()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().mode() & 0o777
}

#[test]
fn the_cache_is_created_private_and_reused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("a/wasm");
    let wasm = common::hostile("endless-loop");
    let p = host(&dir, &[]).load_bytes("p", &wasm).unwrap();
    assert!(!p.from_cache() && p.cache_problem().is_none());
    assert_eq!(mode(&dir), 0o700);
    let files = entries(&dir);
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0]), 0o600);
    let again = host(&dir, &[]).load_bytes("p", &wasm).unwrap();
    assert!(again.from_cache());
}

#[test]
fn a_cache_writable_by_others_or_inside_a_scanned_path_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let wasm = common::hostile("endless-loop");
    let open = d.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let h = host(&open, &[]);
    let why = h.cache_problem().expect("refused");
    assert!(
        why.contains("is writable by its group and every user (mode 0777)")
            && why.contains("compiling plugins without it"),
        "{why}"
    );
    let p = h.load_bytes("p", &wasm).unwrap();
    assert!(!p.from_cache());
    assert!(
        entries(&open).is_empty(),
        "nothing written to a refused cache"
    );

    let repo = d.path().join("repo");
    let inside = repo.join(".cache/ml-audit");
    let h = host(&inside, std::slice::from_ref(&repo));
    let why = h.cache_problem().expect("refused");
    assert!(why.contains("lies inside the scanned path"), "{why}");
    h.load_bytes("p", &wasm).unwrap();
    assert!(entries(&inside).is_empty());
}

#[test]
fn an_entry_is_bound_to_its_module_and_refused_when_others_can_write_it() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("wasm");
    let a = common::hostile("endless-loop");
    let b = common::hostile("bad-finding");
    host(&dir, &[]).load_bytes("a", &a).unwrap();
    let entry_a = entries(&dir).remove(0);
    host(&dir, &[]).load_bytes("b", &b).unwrap();
    let entry_b = entries(&dir).into_iter().find(|e| *e != entry_a).unwrap();
    // A's compiled code copied over B's entry: a miss, B is compiled again
    // (and is B: its own rule).
    std::fs::copy(&entry_a, &entry_b).unwrap();
    let p = host(&dir, &[]).load_bytes("b", &b).unwrap();
    assert!(!p.from_cache());
    assert_eq!(p.meta.rules[0].id, "hostile-pointer");
    // The entry was replaced by B's own: a hit now.
    assert!(host(&dir, &[]).load_bytes("b", &b).unwrap().from_cache());
    // Patched code: a miss.
    let mut bytes = std::fs::read(&entry_b).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&entry_b, &bytes).unwrap();
    assert!(!host(&dir, &[]).load_bytes("b", &b).unwrap().from_cache());
    // An entry others may write: refused, said, compiled again.
    std::fs::set_permissions(&entry_b, std::fs::Permissions::from_mode(0o666)).unwrap();
    let p = host(&dir, &[]).load_bytes("b", &b).unwrap();
    assert!(!p.from_cache());
    let why = p.cache_problem().expect("said");
    assert!(
        why.contains("writable by its group and every user"),
        "{why}"
    );
    assert_eq!(mode(&entry_b), 0o600, "replaced by a private entry");
    // An entry another user owns (only root can make one).
    let chown = std::process::Command::new("chown")
        .arg("12345")
        .arg(&entry_b)
        .status();
    if chown.is_ok_and(|s| s.success()) {
        let p = host(&dir, &[]).load_bytes("b", &b).unwrap();
        assert!(!p.from_cache());
        let why = p.cache_problem().expect("said");
        assert!(why.contains("it is owned by uid 12345"), "{why}");
    } else {
        eprintln!("skipped the other-owner case: chown needs root");
    }
}
