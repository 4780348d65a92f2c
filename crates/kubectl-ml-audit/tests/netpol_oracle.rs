//! np-guard netpol-analyzer's test cases, read in place from
//! `../shared/oracles/netpol-analyzer/`: for every case that uses only
//! features ml-audit models, `reach --format connlist` on `input/` must equal
//! `expected_connlist.txt` (lines sorted). Cases that need something else
//! are skipped with the feature they need.
//!
//! netpol-analyzer takes namespaces without a Namespace object to have only
//! their name label, where ml-audit reports verdicts that depend on other
//! labels as unknown (on stderr, left out of the connlist). The cases run
//! with the defaults; the test prints how many unknown lines each gives.

#[path = "../../ml-audit/tests/support/shared.rs"]
mod shared;
use std::path::{Path, PathBuf};
use std::process::Command;

use ml_audit::{Input, LoadOptions};

/// Kinds the analysis does not model, and the feature each stands for.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("Route", "OpenShift Routes"),
    ("UserDefinedNetwork", "OVN user-defined networks"),
    (
        "ClusterUserDefinedNetwork",
        "OVN cluster user-defined networks",
    ),
    ("NetworkAttachmentDefinition", "Multus secondary networks"),
    ("MultiNetworkPolicy", "MultiNetworkPolicy"),
    ("VirtualMachine", "KubeVirt virtual machines"),
];

fn needs(input: &Path) -> Vec<&'static str> {
    let loaded = ml_audit::load(&[Input::Path(input.to_path_buf())], &LoadOptions::default());
    let mut out: Vec<&'static str> = UNSUPPORTED
        .iter()
        .filter(|(k, _)| loaded.objects.iter().any(|o| o.kind == *k))
        .map(|(_, f)| *f)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    v
}

#[test]
fn netpol_analyzer_cases_agree() {
    let Some(dir) = shared::shared("oracles/netpol-analyzer") else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        panic!("cannot read {}", dir.display());
    };
    let mut cases: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expected_connlist.txt").is_file())
        .collect();
    cases.sort();
    let (mut run, mut agree, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let input = case.join("input");
        let need = needs(&input);
        if !need.is_empty() {
            skipped += 1;
            println!("skip {name}: needs {}", need.join(", "));
            continue;
        }
        run += 1;
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
            .args([
                "reach",
                "--format",
                "connlist",
                "--missing-namespaces",
                "name-label-only",
            ])
            .arg(&input)
            .output()
            .expect("run kubectl-ml_audit");
        let got = sorted_lines(&String::from_utf8_lossy(&out.stdout));
        let want =
            sorted_lines(&std::fs::read_to_string(case.join("expected_connlist.txt")).unwrap());
        let unknown = String::from_utf8_lossy(&out.stderr)
            .matches("warning: unknown")
            .count();
        if got == want {
            agree += 1;
            println!("agree {name} ({} lines, {unknown} unknown)", want.len());
        } else {
            let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).take(5).collect();
            let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).take(5).collect();
            println!("DIFFER {name}: extra {extra:?} missing {missing:?}");
            failures.push(name);
        }
    }
    println!(
        "netpol-analyzer oracle: {} cases, {run} run, {agree} agree, {skipped} skipped",
        cases.len()
    );
    assert!(failures.is_empty(), "cases that differ: {failures:?}");
}
