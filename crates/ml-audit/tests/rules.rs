//! One harness for every rule's fixtures, and the catalogue checks.
//!
//! `testdata/rules/<rule-id>/fail.yaml` must be flagged by that rule exactly
//! on the lines marked `# expect: <rule-id>` (several ids may follow,
//! comma-separated); `pass.yaml` must not be flagged by it at all. Any other
//! `*.yaml` in the folder is loaded alongside both (shared context such as
//! Namespaces or bindings). A fixture folder may hold `settings.json`
//! (`{"option": value}`) with the rule's options (checked against the
//! options the rule declares).
//!
//! The findings on `fail.yaml` are pinned in `fail.snap` next to it: rule,
//! line, column, severity, pointer, message and help of each, so that a
//! change to any of them shows in review. `UPDATE_SNAPSHOTS=1 cargo test -p
//! ml-audit --test rules` rewrites the snapshots that differ (review the
//! diff before committing it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ml_audit::{Audit, Input, Inventory, LoadOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The catalogue pages: in the crate (so that they are packaged with it).
fn pages() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// `rules/` at the repository root, the catalogue users browse, is the
/// crate's folder of pages (a link to it), not a copy that could drift.
#[test]
fn root_catalogue_is_the_crates_pages() {
    let at_root = std::fs::canonicalize(root().join("rules")).unwrap();
    assert_eq!(at_root, std::fs::canonicalize(pages()).unwrap());
}

/// The findings of rule `id` on `main` (line, rendered snapshot entry) and
/// the load errors.
fn run(id: &str, dir: &Path, main: &str) -> (Vec<(u32, String)>, Vec<String>) {
    let mut inputs = vec![Input::Path(dir.join(main))];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".yaml") && name != "fail.yaml" && name != "pass.yaml" {
            inputs.push(Input::Path(p));
        }
    }
    let loaded = ml_audit::load(&inputs, &LoadOptions::default());
    let inv = Inventory::new(loaded);
    let mut audit = Audit::new();
    if let Ok(s) = std::fs::read_to_string(dir.join("settings.json")) {
        let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&s).unwrap();
        for (k, val) in v {
            audit.set_option(id, &k, val).unwrap();
        }
    }
    audit.select(&[id]).unwrap();
    let report = audit.run(&inv);
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| d.level == ml_audit::Level::Error)
        .map(|d| format!("{}:{}: {}", d.file, d.line, d.message))
        .collect();
    let hits = report
        .findings
        .iter()
        .filter(|f| f.rule == id)
        .map(|f| {
            let mut entry = format!(
                "{main}:{}:{} {} {} {}\n  {}\n",
                f.span.line, f.span.col, f.rule, f.severity, f.pointer, f.message
            );
            if let Some(h) = &f.help {
                entry.push_str(&format!("  help: {h}\n"));
            }
            (f.span.line, entry)
        })
        .collect();
    (hits, errors)
}

fn expected_lines(text: &str, id: &str) -> BTreeSet<u32> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.split_once("# expect:")
                .is_some_and(|(_, ids)| ids.split(',').any(|x| x.trim() == id))
        })
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

#[test]
fn every_rule_fixture_pair_holds() {
    let audit = Audit::new();
    let dir = root().join("testdata/rules");
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in audit.rules() {
        let id = r.meta().id.to_string();
        let d = dir.join(&id);
        if !d.join("fail.yaml").exists() || !d.join("pass.yaml").exists() {
            failures.push(format!(
                "{id}: missing testdata/rules/{id}/fail.yaml or pass.yaml"
            ));
            continue;
        }
        checked += 1;
        let fail_text = std::fs::read_to_string(d.join("fail.yaml")).unwrap();
        let want = expected_lines(&fail_text, &id);
        if want.is_empty() {
            failures.push(format!(
                "{id}: fail.yaml marks no line with `# expect: {id}`"
            ));
        }
        let (hits, errors) = run(&id, &d, "fail.yaml");
        if !errors.is_empty() {
            failures.push(format!("{id}: fail.yaml does not load cleanly: {errors:?}"));
        }
        let got: BTreeSet<u32> = hits.iter().map(|(l, _)| *l).collect();
        if got != want {
            failures.push(format!(
                "{id}: fail.yaml flagged on lines {got:?}, expected {want:?}; findings: {hits:?}"
            ));
        }
        let snapshot: String = hits.iter().map(|(_, e)| e.as_str()).collect();
        if let Err(e) = check_snapshot(&d.join("fail.snap"), &snapshot) {
            failures.push(format!("{id}: {e}"));
        }
        let (hits, errors) = run(&id, &d, "pass.yaml");
        if !errors.is_empty() {
            failures.push(format!("{id}: pass.yaml does not load cleanly: {errors:?}"));
        }
        if !hits.is_empty() {
            failures.push(format!("{id}: pass.yaml is flagged: {hits:?}"));
        }
    }
    println!("rule fixtures checked: {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Compares `got` with the snapshot file, or writes it when
/// `UPDATE_SNAPSHOTS` is set.
fn check_snapshot(path: &Path, got: &str) -> Result<(), String> {
    let want = std::fs::read_to_string(path).ok();
    if want.as_deref() == Some(got) {
        return Ok(());
    }
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, got).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("updated {}", path.display());
        return Ok(());
    }
    Err(match want {
        None => format!(
            "no snapshot {} (run with UPDATE_SNAPSHOTS=1 to write it):\n{got}",
            path.display()
        ),
        Some(want) => format!(
            "findings differ from {} (run with UPDATE_SNAPSHOTS=1 to accept them):\n--- snapshot\n{want}+++ now\n{got}",
            path.display()
        ),
    })
}

#[test]
fn every_fixture_folder_names_a_rule() {
    let audit = Audit::new();
    for e in std::fs::read_dir(root().join("testdata/rules")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            audit.rule(&name).is_some(),
            "testdata/rules/{name} names no rule"
        );
    }
}

const SECTIONS: [&str; 5] = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## References",
];

#[test]
fn catalogue_pages_are_complete_and_match_rules() {
    let audit = Audit::new();
    let mut failures = Vec::new();
    let mut ids = BTreeSet::new();
    for r in audit.rules() {
        let m = r.meta();
        ids.insert(m.id.to_string());
        let first = m.doc.lines().next().unwrap_or("");
        if first != format!("# {}: {}", m.id, m.title) {
            failures.push(format!(
                "{}: page must start with `# {}: {}`",
                m.id, m.id, m.title
            ));
        }
        // The options as declared, listed on the page (explain prints it).
        let options = m.options_markdown();
        if !m.doc.contains(&options) || (options.is_empty() && m.doc.contains("## Options")) {
            failures.push(format!(
                "{}: the page must list the declared options as\n{options}",
                m.id
            ));
        }
        let mut last = 0;
        for s in SECTIONS {
            match m.doc.find(s) {
                Some(i) if i >= last => last = i,
                _ => failures.push(format!("{}: page lacks `{s}` (in this order)", m.id)),
            }
        }
    }
    for e in std::fs::read_dir(pages()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            if stem != "README" && !ids.contains(&stem) {
                failures.push(format!("rules/{stem}.md belongs to no rule"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
