//! The real binary: exit codes, determinism, stdin, rules/explain.

#[path = "../../ml-audit/tests/support/shared.rs"]
mod shared;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"));
    c.env("NO_COLOR", "1");
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).current_dir(root()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes_follow_the_contract() {
    let (code, out, _) = run(&["testdata/examples"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("pss-privileged"));
    let (code, _, _) = run(&[
        "testdata/examples",
        "--fail-on",
        "critical",
        "--select",
        "pss-run-as-user",
    ]);
    assert_eq!(code, 0);
    let (code, _, err) = run(&["testdata/examples", "--select", "no-such-rule"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule"));
    let (code, _, _) = run(&[]);
    assert_eq!(code, 2);
}

#[test]
fn unreadable_input_exits_2_and_still_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "kind: [\n").unwrap();
    std::fs::copy(
        root().join("testdata/examples/team-a/notebook.yaml"),
        dir.path().join("nb.yaml"),
    )
    .unwrap();
    let (code, out, _) = run(&[dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "pss-privileged"));
    assert_eq!(v["diagnostics"][0]["level"], "error");
    assert_eq!(v["diagnostics"][0]["line"], 2);
}

#[test]
fn output_is_identical_across_thread_counts_and_runs() {
    let target = match shared::shared("corpus") {
        Some(corpus) => corpus.to_string_lossy().to_string(),
        None => {
            println!("checking determinism on testdata only");
            "testdata".to_string()
        }
    };
    // The corpus in JSON (every analysis on), every format on testdata.
    let mut cases = vec![(target, "json")];
    for format in ["text", "json", "sarif", "junit", "github"] {
        cases.push(("testdata".to_string(), format));
    }
    for (i, (target, format)) in cases.into_iter().enumerate() {
        let (_, one, _) = run(&[&target, "-j", "1", "--format", format]);
        let (_, eight, _) = run(&[&target, "-j", "8", "--format", format]);
        assert!(!one.is_empty(), "{format}: no output");
        assert!(one == eight, "{target} {format}: -j 1 and -j 8 differ");
        if i > 0 {
            // The small input also against -j 2 and a repeated run.
            let (_, two, _) = run(&[&target, "-j", "2", "--format", format]);
            let (_, again, _) = run(&[&target, "-j", "2", "--format", format]);
            assert!(one == two, "{target} {format}: -j 1 and -j 2 differ");
            assert!(two == again, "{target} {format}: repeated runs differ");
        }
    }
}

#[test]
fn output_does_not_depend_on_directory_order() {
    // The same files, created in opposite orders in two directories.
    let src = root().join("testdata/examples/team-a");
    let mut names: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for n in &names {
        std::fs::copy(src.join(n), a.path().join(n)).unwrap();
    }
    for n in names.iter().rev() {
        std::fs::copy(src.join(n), b.path().join(n)).unwrap();
    }
    for format in ["text", "json", "sarif", "junit", "github"] {
        let (_, x, _) = run(&[a.path().to_str().unwrap(), "--format", format]);
        let (_, y, _) = run(&[b.path().to_str().unwrap(), "--format", format]);
        let x = x.replace(a.path().to_str().unwrap(), "DIR");
        let y = y.replace(b.path().to_str().unwrap(), "DIR");
        assert!(x == y, "{format}: output depends on directory order");
    }
}

#[test]
fn stdin_is_read_with_dash() {
    let mut child = bin()
        .args(["-f", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: i, securityContext: {privileged: true}}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "pss-privileged")
        .unwrap();
    assert_eq!(f["file"], "-");
    assert_eq!(f["span"]["line"], 6);
}

#[test]
fn rules_and_explain_come_from_one_source() {
    let (code, list, _) = run(&["rules"]);
    assert_eq!(code, 0);
    assert!(list.contains("pss-privileged"));
    let (code, page, _) = run(&["explain", "pss-privileged"]);
    assert_eq!(code, 0);
    let file = std::fs::read_to_string(root().join("rules/pss-privileged.md")).unwrap();
    assert!(page.starts_with(file.trim_end()));
    let (code, _, err) = run(&["explain", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule"));
}
