//! Hostile input, through the real binary: every case ends with a clear
//! error in bounded time and memory, and the rest of the input is still
//! audited. Peak memory is read from the binary itself (`ML_AUDIT_STATS`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const GOOD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n  containers:\n  - {name: c, image: i, securityContext: {privileged: true}}\n";

struct Run {
    code: i32,
    json: serde_json::Value,
    elapsed: Duration,
    peak_kb: u64,
}

fn scan(dir: &Path) -> Run {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .arg(dir)
        .args(["--format", "json"])
        .env("ML_AUDIT_STATS", "1")
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak_kb = stderr
        .split("peak_rss_kb=")
        .nth(1)
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}); stderr: {stderr}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        json,
        elapsed,
        peak_kb,
    }
}

/// Writes `name` with `content` next to a good manifest and checks that the
/// run reports an error for it containing `expect`, still flags the good
/// manifest, and stays within `max_secs` and `max_mb`.
fn case(name: &str, content: &[u8], expect: &str, max_secs: u64, max_mb: u64) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    std::fs::write(dir.path().join(name), content).unwrap();
    check(dir.path(), name, expect, max_secs, max_mb);
}

fn check(dir: &Path, name: &str, expect: &str, max_secs: u64, max_mb: u64) {
    let r = scan(dir);
    assert_eq!(r.code, 2, "{name}: exit code");
    let diags = r.json["diagnostics"].as_array().unwrap();
    let d = diags
        .iter()
        .find(|d| d["file"].as_str().unwrap().ends_with(name) && d["level"] == "error")
        .unwrap_or_else(|| panic!("{name}: no error in {diags:#?}"));
    let msg = d["message"].as_str().unwrap();
    assert!(msg.to_lowercase().contains(expect), "{name}: {msg}");
    assert!(
        r.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["object"]["name"] == "good"),
        "{name}: the good manifest was not audited"
    );
    assert!(
        r.elapsed < Duration::from_secs(max_secs),
        "{name}: took {:?}",
        r.elapsed
    );
    if r.peak_kb > 0 {
        assert!(
            r.peak_kb < max_mb * 1024,
            "{name}: peak {} MB",
            r.peak_kb / 1024
        );
    }
    println!(
        "{name}: {:?}, peak {} MB: {msg}",
        r.elapsed,
        r.peak_kb / 1024
    );
}

#[test]
fn alias_bomb() {
    let mut s = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        s.push_str(&format!("  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    case("bomb.yaml", s.as_bytes(), "alias", 20, 300);
}

#[test]
fn deep_nesting() {
    let s = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata: {}{}\n",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    case("deep.yaml", s.as_bytes(), "nesting", 20, 300);
    let mut block =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep2}\ndata:\n");
    for i in 0..1000 {
        block.push_str(&" ".repeat(i + 2));
        block.push_str("k:\n");
    }
    case("deep-block.yaml", block.as_bytes(), "nesting", 20, 300);
}

#[test]
fn huge_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    let f = std::fs::File::create(dir.path().join("huge.yaml")).unwrap();
    f.set_len(500 * 1024 * 1024).unwrap(); // sparse: 500 MB of NULs, no disk used
    check(dir.path(), "huge.yaml", "larger than", 10, 200);
}

#[test]
fn hundred_thousand_documents() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    let mut s = String::new();
    for i in 0..100_000 {
        s.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: ns{}}}\ndata: {{k: v}}\n", i % 50));
    }
    s.push_str("---\nkind: [broken\n");
    std::fs::write(dir.path().join("many.yaml"), s).unwrap();
    check(dir.path(), "many.yaml", "invalid yaml", 60, 1500);
    let r = scan(dir.path());
    assert_eq!(r.json["summary"]["objects"], 100_001);
}

#[test]
fn invalid_utf8_and_binary() {
    case(
        "latin1.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: \"caf\xe9\"}\n",
        "utf-8",
        10,
        200,
    );
    case(
        "elf.yaml",
        b"\x7fELF\x02\x01\x01\x00\x00\x00",
        "binary",
        10,
        200,
    );
}

#[test]
fn symlink_loop_and_unreadable_entries() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("nowhere.yaml"),
        dir.path().join("dangling.yaml"),
    )
    .unwrap();
    // A directory named like a manifest, given explicitly, cannot be read as a file.
    let r = scan(dir.path());
    assert!(r.elapsed < Duration::from_secs(10));
    assert!(r.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["object"]["name"] == "good"));
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .args([
            "-f",
            dir.path().join("missing.yaml").to_str().unwrap(),
            "-f",
            dir.path().join("good.yaml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("missing.yaml") && text.contains("cannot read"),
        "{text}"
    );
    assert!(text.contains("pss-privileged"));
}

#[test]
fn every_field_of_the_wrong_type() {
    // Replace each field of a full pod spec in turn with a value of the wrong
    // type: each must be an error at that field's line, never a panic.
    let fields = [
        ("containers", "oops"),
        ("initContainers", "7"),
        ("volumes", "{a: b}"),
        ("hostNetwork", "[1]"),
        ("securityContext", "true"),
        ("nodeSelector", "[x]"),
        ("tolerations", "x"),
        ("serviceAccountName", "[a]"),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    for (i, (field, value)) in fields.iter().enumerate() {
        let doc = format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}}}\nspec:\n  template:\n    spec:\n      {field}: {value}\n");
        std::fs::write(dir.path().join(format!("wrong{i}.yaml")), doc).unwrap();
    }
    for (i, c) in [
        "name: [x]",
        "image: {a: b}",
        "ports: 80",
        "securityContext: {privileged: maybe}",
        "resources: {limits: [1]}",
        "env: {A: b}",
    ]
    .iter()
    .enumerate()
    {
        let doc = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  containers:\n  - {c}\n"
        );
        std::fs::write(dir.path().join(format!("ctr{i}.yaml")), doc).unwrap();
    }
    let r = scan(dir.path());
    assert_eq!(r.code, 2);
    let diags = r.json["diagnostics"].as_array().unwrap();
    for (i, (field, _)) in fields.iter().enumerate() {
        let d = diags.iter().find(|d| {
            d["file"]
                .as_str()
                .unwrap()
                .ends_with(&format!("wrong{i}.yaml"))
        });
        // A wrong-typed field may be one Kubernetes accepts leniently (a string where a list
        // is not expected is an error; a bool for a string is accepted as its text).
        if let Some(d) = d {
            assert_eq!(d["line"], 7, "{d}");
        } else {
            assert_eq!(*field, "serviceAccountName", "wrong{i}.yaml not reported");
        }
    }
    for i in 0..6 {
        let d = diags
            .iter()
            .find(|d| {
                d["file"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("ctr{i}.yaml"))
            })
            .unwrap_or_else(|| panic!("ctr{i}.yaml not reported: {diags:#?}"));
        assert_eq!(d["line"], 6, "{d}");
    }
    assert!(r.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["object"]["name"] == "good"));
}
