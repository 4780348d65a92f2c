//! Hostile repositories, through the library: text inside a scalar never
//! suppresses, two files whose names differ only in invalid UTF-8 bytes
//! stay two files, repeated diagnostics are aggregated where they are
//! made, mirror pods are workloads of their own, and the git index is read
//! as git reads it.

use std::path::Path;
use std::process::Command;

use ml_audit::yaml::{
    parse_events_with_comments, parse_fast_with_comments, parse_stream_with_comments, Limits,
};
use ml_audit::{Audit, Input, Inventory, Level, LoadOptions};

const PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: victim, namespace: ns}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext: {privileged: true}\n";

fn audit_texts(texts: &[(&str, &str)]) -> ml_audit::Report {
    let inputs: Vec<Input> = texts
        .iter()
        .map(|(n, t)| Input::Text {
            name: n.to_string(),
            text: t.to_string(),
        })
        .collect();
    let inv = Inventory::new(ml_audit::load(&inputs, &LoadOptions::default()));
    Audit::new().run(&inv)
}

fn privileged_on(report: &ml_audit::Report, name: &str) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.rule == "pss-privileged" && f.object.name == name)
        .count()
}

/// The marker a finding on line 8 (`privileged: true`) would be suppressed
/// by, written as text.
const MARKER: &str = "# ml-audit: ignore pss-privileged -- accepted";

#[test]
fn a_real_comment_suppresses() {
    // The control: the same marker as a comment does apply.
    let text = PRIVILEGED.replace(
        "securityContext: {privileged: true}\n",
        &format!("securityContext: {{privileged: true}}  {MARKER}\n"),
    );
    let r = audit_texts(&[("pod.yaml", &text)]);
    assert_eq!(privileged_on(&r, "victim"), 0, "{:#?}", r.findings);
    assert_eq!(r.summary.suppressed, 1);
}

#[test]
fn a_marker_in_a_configmap_value_of_a_one_line_json_list_does_not_suppress() {
    // The pod's line 1 holds everything; the marker is inside a string.
    let list = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"cm\"}}, \"data\": {{\"k\": \" {MARKER}\"}}}}, {{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {{\"name\": \"victim\"}}, \"spec\": {{\"containers\": [{{\"name\": \"c\", \"image\": \"i\", \"securityContext\": {{\"privileged\": true}}}}]}}}}]}}\n"
    );
    for name in ["list.json", "list.yaml"] {
        let r = audit_texts(&[(name, &list)]);
        assert_eq!(privileged_on(&r, "victim"), 1, "{name}: {:#?}", r.findings);
        assert_eq!(r.summary.suppressed, 0, "{name}");
    }
}

#[test]
fn a_marker_on_the_last_line_of_a_block_scalar_does_not_suppress() {
    // The block scalar's last line sits right above the pod's privileged
    // line, where an own-line comment would cover it.
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm}}\ndata:\n  run.sh: |\n    echo hi\n    {MARKER}\n---\n{PRIVILEGED}"
    );
    let text = text.replace(
        "    securityContext: {privileged: true}\n",
        "    securityContext:\n      privileged: true\n",
    );
    // And inside quoted scalars, single and double, on one line or two.
    let quoted = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm}}\ndata:\n  a: \"x {MARKER}\"\n  b: 'y {MARKER}'\n  c: \"multi\n    {MARKER}\"\n---\n{PRIVILEGED}"
    );
    for (name, t) in [("block.yaml", &text), ("quoted.yaml", &quoted)] {
        let r = audit_texts(&[(name, t)]);
        assert_eq!(privileged_on(&r, "victim"), 1, "{name}: {:#?}", r.findings);
        assert_eq!(r.summary.suppressed, 0, "{name}");
    }
}

#[test]
fn json_has_no_comments() {
    // YAML would read the trailing `#...` as a comment; JSON has none.
    let json = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {{\"name\": \"victim\"}}, \"spec\": {{\"containers\": [{{\"name\": \"c\", \"image\": \"i\", \"securityContext\": {{\"privileged\": true}}}}]}}}} {MARKER}\n"
    );
    let r = audit_texts(&[("pod.json", &json)]);
    assert_eq!(privileged_on(&r, "victim"), 1, "{:#?}", r.findings);
    let r = audit_texts(&[("pod.yaml", &json)]);
    assert_eq!(privileged_on(&r, "victim"), 0, "as YAML, a comment");
}

#[test]
fn both_parsers_find_the_same_comments() {
    let streams = [
        format!("a: \"x {MARKER}\" # real\nb: 1\n"),
        format!("a: |\n  x\n  {MARKER}\nb: 2 {MARKER}\n"),
        format!("a: [\"{MARKER}\", b]  # c\n"),
        "# top\n---\na: 'it''s # no'  #yes\n#    - ports: # inside a comment\n".to_string(),
        "k: |  # header comment\n  # content\nl: x\n".to_string(),
    ];
    for s in &streams {
        let fast = parse_fast_with_comments(s, Limits::default())
            .unwrap_or_else(|| panic!("fast parser refused:\n{s}"));
        let events = parse_events_with_comments(s, Limits::default());
        assert_eq!(fast.comments, events.comments, "{s}");
        for &c in &fast.comments {
            assert_eq!(s.as_bytes()[c], b'#');
        }
    }
    // Anchored collections (only the event parser reads them), multi-line
    // quoted scalars, a key written twice (its dropped value's `#` is still
    // inside a scalar).
    let only_events = [
        (
            format!("a: &x\n  b: \"{MARKER}\"\nc: *x # real\n"),
            vec!["# real"],
        ),
        (format!("a: \"one\n  {MARKER}\" # real\n"), vec!["# real"]),
        (
            format!("a: \"v {MARKER}\"\na: w\nb: [1,\n  2] # real\n"),
            vec!["# real"],
        ),
    ];
    for (s, want) in &only_events {
        let p = parse_events_with_comments(s, Limits::default());
        if let Some(fast) = parse_fast_with_comments(s, Limits::default()) {
            assert_eq!(fast.comments, p.comments, "{s}");
        }
        let got: Vec<&str> = p
            .comments
            .iter()
            .map(|&c| s[c..].lines().next().unwrap_or(""))
            .collect();
        assert_eq!(&got, want, "{s}");
    }
    // In the document a syntax error breaks, and past it, nothing is a
    // comment.
    let p =
        parse_stream_with_comments("a: 1 # ok\n---\nb: [unclosed\n# after\n", Limits::default());
    assert!(p.error.is_some());
    assert_eq!(p.comments, [5]);
}

#[cfg(unix)]
#[test]
fn names_that_differ_only_in_invalid_utf8_are_two_files() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join(OsStr::from_bytes(b"pod-\xff.yaml"));
    let b = dir.path().join(OsStr::from_bytes(b"pod-\xfe.yaml"));
    let privileged = PRIVILEGED.replace(
        "    securityContext: {privileged: true}\n",
        "    securityContext: {privileged: true}",
    );
    // The same pod in both; only one suppresses it.
    std::fs::write(&a, format!("{privileged}  {MARKER}\n")).unwrap();
    std::fs::write(&b, format!("{privileged}\n")).unwrap();
    let inv = Inventory::new(ml_audit::load(
        &[Input::Path(dir.path().to_path_buf())],
        &LoadOptions::default(),
    ));
    let mut names: Vec<&str> = inv.files.iter().map(|f| f.path.as_str()).collect();
    names.sort();
    let base = dir.path().display().to_string();
    assert_eq!(
        names,
        [
            format!("{base}/pod-\\xfe.yaml"),
            format!("{base}/pod-\\xff.yaml")
        ]
    );
    let r = Audit::new().run(&inv);
    let left: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.rule == "pss-privileged")
        .map(|f| f.file.as_str())
        .collect();
    assert_eq!(left, [format!("{base}/pod-\\xfe.yaml")]);
    assert_eq!(r.summary.suppressed, 1);
    // A backslash in a name is escaped too, so that no UTF-8 name can
    // spell another's escape.
    assert_eq!(
        ml_audit::__internals::display_path(Path::new("a\\xff.yaml")),
        "a\\\\xff.yaml"
    );
}

#[test]
fn repeated_diagnostics_are_counted_not_listed() {
    // 200,000 documents that are not Kubernetes objects.
    let docs = "x: 1\n---\n".repeat(200_000);
    let r = audit_texts(&[("many.yaml", &docs)]);
    let d: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.file == "many.yaml")
        .collect();
    assert_eq!(d.len(), 6, "{d:#?}");
    assert!(d[..5]
        .iter()
        .all(|d| d.message.starts_with("not a Kubernetes object")));
    assert_eq!((d[0].line, d[4].line), (1, 9));
    assert_eq!(
        d[5].message,
        "and 199,995 more documents that are not Kubernetes objects in this file, not listed one by one (the first 5 are)"
    );
    assert_eq!(d[5].line, 11, "at the first one not listed");

    // 200,000 copies of one key in one mapping.
    let mut dup = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n");
    dup.push_str(&"  k: v\n".repeat(200_000));
    let r = audit_texts(&[("dup.yaml", &dup)]);
    let d: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.file == "dup.yaml")
        .collect();
    assert_eq!(d.len(), 6, "{d:#?}");
    assert!(d.iter().all(|d| d.level == Level::Warning));
    let more: Vec<_> = d.iter().filter(|d| d.message.starts_with("and ")).collect();
    assert_eq!(more.len(), 1, "{d:#?}");
    assert!(
        more[0]
            .message
            .starts_with("and 199,994 more keys written twice"),
        "{}",
        more[0].message
    );
    assert_eq!(r.summary.objects, 1);

    // A List of 100,000 items that are not mappings: errors, counted.
    let list = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{}1]}}\n",
        "1, ".repeat(99_999)
    );
    let r = audit_texts(&[("list.json", &list)]);
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    assert_eq!(errors, 6);
    assert_eq!(r.summary.errors, 6);
}

#[test]
fn mirror_pods_are_workloads_of_their_own() {
    let pod = |name: &str, owner: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\n  labels: {{tier: control-plane}}\n  ownerReferences:\n  - {{apiVersion: v1, kind: {owner}, name: node-1, uid: u, controller: true}}\nspec:\n  containers:\n  - {{name: c, image: i, ports: [{{containerPort: 443}}]}}\n---\n")
    };
    let text = pod("kube-apiserver-node-1", "Node")
        + &pod("etcd-node-1", "Node")
        + &pod("web-1", "ReplicaSet")
        + &pod("web-2", "ReplicaSet");
    let inv = Inventory::from_text("static.yaml", &text);
    let r = ml_audit::netpol::Reachability::build(&inv, &ml_audit::netpol::Options::default());
    let mut peers: Vec<String> = r.peers.iter().map(|p| p.display()).collect();
    peers.sort();
    assert_eq!(
        peers,
        [
            "kube-system/etcd-node-1[Pod]",
            "kube-system/kube-apiserver-node-1[Pod]",
            "kube-system/node-1[ReplicaSet]",
        ]
    );
}

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_index_reader_reads_what_git_tracks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    if !git(d, &["init", "-q"]) {
        println!("skipped: git is not installed");
        return;
    }
    // A long path (3,000 bytes; the system's path limit keeps the test
    // below the 4,095 of an entry's 12-bit name length).
    let long = vec!["d".repeat(199); 15].join("/");
    let names = [
        "a.yaml".to_string(),
        "sub/b.yaml".into(),
        "sub/c d.yaml".into(),
        "sub/deeper/x.json".into(),
        format!("sub/{long}/long.yaml"),
        "z\u{e9}.yaml".into(),
    ];
    for n in &names {
        let p = d.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "a: 1\n").unwrap();
    }
    assert!(git(d, &["add", "."]));
    let mut want: Vec<Vec<u8>> = names.iter().map(|n| n.as_bytes().to_vec()).collect();
    want.sort();
    for version in ["2", "3", "4"] {
        assert!(git(d, &["update-index", "--index-version", version]));
        if version == "3" {
            // An extended flag (intent-to-add) makes git write version 3.
            std::fs::write(d.join("new.yaml"), "a: 1\n").unwrap();
            assert!(git(d, &["add", "-N", "new.yaml"]));
        }
        let bytes = std::fs::read(d.join(".git/index")).unwrap();
        let mut got: Vec<Vec<u8>> = ml_audit::__internals::read_index(&bytes, 20)
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        got.sort();
        let mut want = want.clone();
        if version != "2" {
            want.push(b"new.yaml".to_vec());
            want.sort();
        }
        assert_eq!(got, want, "index version {version}");
    }
    // A truncated index is an error, never a partial list.
    let bytes = std::fs::read(d.join(".git/index")).unwrap();
    assert!(ml_audit::__internals::read_index(&bytes[..bytes.len() / 2], 20).is_err());
    assert!(ml_audit::__internals::read_index(b"DIRC\0\0\0\x09\0\0\0\0", 20).is_err());
}
