//! Issue 21, the output's side: a hostile repository cannot make a run
//! exit 0 when its report was not written, cannot write to the terminal or
//! the CI log through names, cannot crash or blow up the text output with a
//! one-line file, cannot make the JUnit report ill-formed, and cannot show
//! a literal secret through a YAML anchor. Fixtures: `testdata/hostile/`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"));
    c.env_remove("NO_COLOR").env_remove("ML_AUDIT_STATS");
    c
}

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/hostile")
        .join(name)
}

/// A one-line JSON `List` of `n` privileged pods.
fn one_line_list(n: usize) -> String {
    let pod = |i: usize| {
        format!(
            r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "p{i}"}}, "spec": {{"containers": [{{"name": "c", "image": "i", "securityContext": {{"privileged": true}}}}]}}}}"#
        )
    };
    let items: Vec<String> = (0..n).map(pod).collect();
    format!(
        r#"{{"apiVersion": "v1", "kind": "List", "items": [{}]}}"#,
        items.join(", ")
    )
}

/// Runs with stdout on `/dev/full`.
fn to_dev_full(args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    bin().args(args).stdout(full).output().unwrap()
}

/// Point 1: a report that cannot be written (ENOSPC) is an error named on
/// stderr, exit 2, in every format and every command that prints.
#[test]
fn a_failed_write_exits_2_with_a_message() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let bad = hostile("write-error.yaml");
    let bad = bad.to_str().unwrap();
    let inj = hostile("terminal-injection.yaml");
    let inj = inj.to_str().unwrap();
    let mut cases: Vec<Vec<&str>> = ["text", "json", "sarif", "junit", "github"]
        .iter()
        .map(|f| vec!["scan", bad, "--format", f])
        .collect();
    cases.extend([
        vec!["rules"],
        vec!["rules", "--format", "json"],
        vec!["explain", "pss-privileged"],
        vec!["man"],
        vec!["completions", "bash"],
        vec!["who-can", "create", "pods", inj],
        vec!["who-can", "create", "pods", inj, "--format", "json"],
        vec!["rbac", "paths", "--from", "Group:system:masters", inj],
        vec!["reach", inj],
        vec!["reach", inj, "--format", "json"],
        vec!["quota", inj],
        vec!["quota", inj, "--format", "json"],
    ]);
    for args in cases {
        let out = to_dev_full(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output") && stderr.contains("No space left"),
            "{args:?}: {stderr}"
        );
    }
}

/// Point 1: a reader that closes the pipe early (`| head -c 10`) ends the
/// run quietly, with the exit code the findings call for (1 here), never 0.
#[test]
fn a_closed_pipe_keeps_the_findings_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.json");
    // Output far larger than a pipe's buffer in every format.
    std::fs::write(&list, one_line_list(700)).unwrap();
    for format in ["text", "json", "sarif", "junit", "github"] {
        let mut child = bin()
            .arg(&list)
            .args(["--format", format, "--color", "never"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        // The pipe's reading end is closed here.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(!stderr.contains("error"), "{format}: {stderr}");
    }
}

/// Bytes that must never reach a terminal or a CI log from a scanned file.
/// (`--format github` writes workflow commands, one a line, by design.)
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for bad in ["\x1b", "\x07", "\u{9b}", "\u{202e}", "\r"] {
        assert!(!text.contains(bad), "{what}: {bad:?} in {text}");
    }
    for line in text.lines() {
        let command = ["::error file=", "::warning file=", "::notice file="]
            .iter()
            .any(|c| line.starts_with(c) && what.contains("github"));
        assert!(
            command || !line.trim_start().starts_with("::"),
            "{what}: a line a CI runner obeys: {line:?}"
        );
        // The legacy form, which the runner obeys anywhere in a line it
        // cannot read as a `::` command (in one it can, the file name is
        // kept exact, and only the message counts).
        let tail = if command {
            line.splitn(3, "::").nth(2).unwrap_or("")
        } else {
            line
        };
        assert!(
            !tail.contains("##["),
            "{what}: a legacy command in {line:?}"
        );
    }
}

/// Point 3: object names, images, namespaces, RBAC subjects, quota
/// resources and file names holding OSC 52, `ESC[2J`, C1 and bidi controls
/// and `\n::add-mask::` are escaped in every human-readable output and in
/// the diagnostics on stderr.
#[test]
fn control_characters_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read(hostile("terminal-injection.yaml")).unwrap();
    std::fs::write(dir.path().join("a.yaml"), &fixture).unwrap();
    // A file name that attacks too, with a YAML error in it.
    let evil = "evil\x1b]52;c;aGk=\x07\x1b[2J\n::add-mask::x.yaml";
    std::fs::write(
        dir.path().join(evil),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: \"q\\e[2J\"\nspec: [\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("also\x1b[2J.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - {name: c, image: i, securityContext: {privileged: true}}\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let from = "User:mallory\x1b]52;c;aGk=\x07\n::add-mask::x";
    let cases: Vec<Vec<&str>> = vec![
        vec!["scan", d, "--color", "never"],
        vec!["scan", d, "--format", "github"],
        vec!["who-can", "create", "pods", d],
        vec!["who-can", "get", "secrets", "-n", "default", d],
        vec!["rbac", "paths", "--from", from, d],
        vec!["rbac", "paths", "--from", from, "--format", "dot", d],
        vec!["rbac", "paths", "--from", from, "--format", "mermaid", d],
        vec!["reach", d],
        vec!["reach", d, "--format", "connlist"],
        vec!["quota", d],
    ];
    for args in cases {
        let out = bin().args(&args).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "{args:?}: {:?}",
            out.status
        );
        assert!(!out.stdout.is_empty(), "{args:?}: no output");
        assert_inert(&format!("{args:?} stdout"), &out.stdout);
        assert_inert(&format!("{args:?} stderr"), &out.stderr);
    }
    // The names are still there, escaped.
    let out = bin()
        .args(["scan", d, "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pod\\e]52;c;aGk=\\u{7}\\e[2J\\n::add-mask::x"));
    assert!(text.contains("evil\\e]52;c;aGk=\\u{7}\\e[2J\\n::add-mask::x.yaml"));
    // In colour, miette's own escapes only: none of the file's.
    let out = bin()
        .args(["scan", d, "--color", "always"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("\x1b]52") && !text.contains("\x1b[2J") && !text.contains('\x07'));
}

/// Point 3: in GitHub annotations, a newline in a name is `%0A`: no
/// workflow command starts inside a value (the format's own escaping).
#[test]
fn github_annotations_keep_names_on_their_line() {
    let out = bin()
        .arg(hostile("terminal-injection.yaml"))
        .args(["--format", "github"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice ")
                || line.starts_with("ml-audit: "),
            "{line:?}"
        );
        assert!(!line.contains('\n') && !line.contains('\r'));
    }
    assert!(text.contains("%0A::add-mask::x"));
}

/// Point 4: a one-line JSON `List` of 700 privileged pods renders as text
/// without a panic, each snippet cut to a window around its span: the
/// output grows with the findings, not with findings times the line.
#[test]
fn one_line_files_render_in_bounded_size() {
    let dir = tempfile::tempdir().unwrap();
    for n in [360, 700] {
        let list = dir.path().join(format!("list{n}.json"));
        let input = one_line_list(n);
        std::fs::write(&list, &input).unwrap();
        let out = bin()
            .arg(&list)
            .args(["--color", "never"])
            .env("ML_AUDIT_STATS", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let text = String::from_utf8(out.stdout).unwrap();
        let findings = text.matches("\n  × ").count() + text.matches("\n  ⚠ ").count();
        assert!(findings >= 2 * n, "{findings} findings");
        // Every source line shown is at most a window wide.
        let widest = text
            .lines()
            .filter(|l| l.contains(" │ "))
            .map(|l| l.chars().count())
            .max()
            .unwrap();
        assert!(widest < 260, "a source line of {widest} characters");
        assert!(
            text.len() < findings * 1200,
            "{} bytes for {findings} findings ({} bytes of input)",
            text.len(),
            input.len()
        );
        let peak_kb: u64 = stderr
            .split("peak_rss_kb=")
            .nth(1)
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        assert!(peak_kb < 300 * 1024, "peak {peak_kb} kB");
    }
}

/// Point 10: names holding U+FFFE, U+FFFF and C0 controls give a JUnit
/// report that is well-formed XML.
#[test]
fn junit_is_well_formed_whatever_the_names() {
    let out = bin()
        .arg(hostile("xml-forbidden.yaml"))
        .args(["--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    for c in xml.chars() {
        assert!(
            matches!(c, '\t' | '\n' | '\r' | ' '..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..),
            "U+{:04X} in the XML",
            c as u32
        );
    }
    assert!(xml.contains("p\u{fffd}\u{fffd}\u{fffd}"));
    // And an XML parser agrees, where python3 is installed.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, &xml).unwrap();
    match Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])",
        ])
        .arg(&file)
        .output()
    {
        Ok(o) => assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "python3: {e}");
            eprintln!("skipped the parser check: python3: {e}");
        }
    }
}

/// Point 11: a token written at a YAML anchor and used at an alias is
/// masked on the anchor's line too, in every snippet that shows it.
#[test]
fn a_secret_at_an_anchor_is_masked_everywhere() {
    let out = bin()
        .arg(hostile("secret-anchor.yaml"))
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("GITHUB_TOKEN"), "{text}");
    assert!(
        text.contains("workingDir: &tok ****************************************"),
        "{text}"
    );
    assert!(!text.contains("Zx9Qw8Er7Ty6"), "{text}");
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

/// Point 1: a stderr that cannot be written (`2>/dev/full`) is no crash
/// (`eprintln!` panicked: exit 101): the run ends with the exit code its
/// findings call for, or 2 when stdout failed too.
#[test]
fn a_stderr_that_cannot_be_written_keeps_the_exit_code() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let dup = hostile("duplicate-key.yaml");
    let dup = dup.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "kind: Pod\nmetadata: {name: x\n").unwrap();
    let broken = broken.to_str().unwrap();
    let baseline = dir.path().join("base.json");
    let baseline = baseline.to_str().unwrap();
    // (args, ML_AUDIT_STATS, stdout to /dev/full too, exit code)
    let cases: Vec<(Vec<&str>, bool, bool, i32)> = vec![
        (vec!["scan", dup], false, false, 1),
        // Statistics lines on stderr.
        (vec!["scan", dup], true, false, 1),
        (vec!["scan", dup, "--format", "json"], true, false, 1),
        // "wrote N fingerprints" on stderr.
        (
            vec!["scan", dup, "--write-baseline", baseline],
            false,
            false,
            0,
        ),
        // A note on stderr, an exceeded quota or not.
        (vec!["quota", "-n", "nowhere", dup], false, false, 0),
        // Input errors on stderr.
        (vec!["who-can", "create", "pods", broken], false, false, 2),
        (vec!["reach", broken], false, false, 2),
        // Both streams full: the report was not written.
        (vec!["scan", dup], false, true, 2),
        (vec!["scan", dup, "--format", "github"], true, true, 2),
        (vec!["who-can", "create", "pods", dup], false, true, 2),
    ];
    for (args, stats, both, code) in cases {
        let mut c = bin();
        c.args(&args).stderr(dev_full());
        if stats {
            c.env("ML_AUDIT_STATS", "1");
        }
        if both {
            c.stdout(dev_full());
        } else {
            c.stdout(Stdio::null());
        }
        let status = c.status().unwrap();
        assert_eq!(
            status.code(),
            Some(code),
            "{args:?} stats={stats} both={both}"
        );
    }
}

/// The hostile tree of the workflow command tests: the names of
/// `command-prefix.yaml`, and file names that start with `::` and `##[`.
fn command_prefix_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(hostile("command-prefix.yaml"), dir.path().join("a.yaml")).unwrap();
    std::fs::write(
        dir.path().join("::error::x.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("##[add-mask]y.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\nspec: {containers: [{name: c, image: i}]}\n",
    )
    .unwrap();
    dir
}

/// The subject of `command-prefix.yaml`'s ClusterRoleBinding.
const EVE: &str = "User:eve\n##[add-mask]x\"];\n  evil -> \"z";

/// Point 3: no scanned value starts a GitHub Actions workflow command: not
/// `::cmd::` at a line start (a name or a file name that begins with
/// `::`, or follows a newline), and not the legacy `##[cmd]`, which the
/// runner obeys anywhere in a line; in every human-readable output, on
/// stderr, and in `--format github`.
#[test]
fn no_value_starts_a_workflow_command() {
    let dir = command_prefix_tree();
    let d = dir.path().to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["scan", d, "--color", "never"],
        vec!["scan", d, "--format", "github"],
        vec!["who-can", "create", "pods", d],
        vec!["rbac", "paths", "--from", EVE, d],
        vec!["rbac", "paths", "--from", EVE, "--format", "dot", d],
        vec!["rbac", "paths", "--from", EVE, "--format", "mermaid", d],
        vec!["reach", d],
        vec!["reach", d, "--format", "connlist"],
        vec!["reach", d, "--format", "dot"],
        vec!["quota", d],
    ];
    for args in &cases {
        let out = bin().current_dir(dir.path()).args(args).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(1..=2)),
            "{args:?}: {:?}",
            out.status
        );
        assert!(!out.stdout.is_empty(), "{args:?}: no output");
        assert_inert(&format!("{args:?} stdout"), &out.stdout);
        assert_inert(&format!("{args:?} stderr"), &out.stderr);
    }
    // Relative file names, which some outputs print at a line start.
    let out = bin()
        .current_dir(dir.path())
        .args(["::error::x.yaml", "##[add-mask]y.yaml", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_inert("file names stdout", &out.stdout);
    assert_inert("file names stderr", &out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r"\u{3a}:error::x.yaml:4:1"), "{text}");
    assert!(text.contains(r"#\u{23}[add-mask]y.yaml:4:3"), "{text}");
    // The names, shown escaped.
    let out = bin()
        .arg(hostile("command-prefix.yaml"))
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r"Pod default/#\u{23}[add-mask]y\n"), "{text}");
    assert!(text.contains(r"Pod default/::error::spoofed:"), "{text}");
    let out = bin()
        .arg(hostile("command-prefix.yaml"))
        .args(["--format", "github"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r"User:eve%0A#\u{23}[add-mask]x"), "{text}");
}

/// Point 3: a backslash that reads as one of the escapes (`\e`, `\n`,
/// `\\`, `\u`) is doubled, so a name holding `\e` does not show as one
/// holding ESC; a name with a backslash and nothing to escape shows as it
/// is, and so do source lines.
#[test]
fn a_literal_backslash_escape_is_not_an_escape() {
    let out = bin()
        .arg(hostile("command-prefix.yaml"))
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(r"container `a\\eb` has no memory limit"),
        "{text}"
    );
    assert!(
        text.contains(r#"22 │   - {name: "a\\eb", image: "a\\b"}"#),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: 'c\\d', image: i}\n  - {name: \"e\\e\", image: i}\n",
    )
    .unwrap();
    let out = bin()
        .arg(dir.path())
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(r"container `c\d` has no memory limit"),
        "{text}"
    );
    assert!(
        text.contains(r"container `e\e` has no memory limit"),
        "{text}"
    );
}

/// Replaces each double-quoted string of a DOT line (with its `\"`
/// escapes) with `Q`; `None` when a string is not closed.
fn dot_shape(line: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = line.chars();
    while let Some(c) = it.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        loop {
            match it.next()? {
                '\\' => {
                    it.next()?;
                }
                '"' => break,
                _ => {}
            }
        }
        out.push('Q');
    }
    Some(out)
}

/// Point 3: a name holding a newline, quotes and diagram syntax is one
/// node or edge of a well-formed Graphviz or Mermaid diagram: no line of
/// its own, no statement injected.
#[test]
fn diagrams_stay_well_formed_whatever_the_names() {
    let dir = command_prefix_tree();
    let d = dir.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let out = bin().args(args).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    for dot in [
        run(&["rbac", "paths", "--from", EVE, "--format", "dot", d]),
        run(&["reach", d, "--format", "dot"]),
    ] {
        let lines: Vec<&str> = dot.lines().collect();
        assert!(
            lines[0].starts_with("digraph ") && lines.last() == Some(&"}"),
            "{dot}"
        );
        for line in &lines[1..lines.len() - 1] {
            let shape = dot_shape(line).unwrap_or_else(|| panic!("{line:?}"));
            assert!(
                [
                    "  rankdir=LR;",
                    "  node [shape=box];",
                    "  Q;",
                    "  Q [style=filled, fillcolor=Q];",
                    "  Q -> Q [label=Q];",
                    "  Q -> Q [label=Q, style=dashed];",
                ]
                .contains(&shape.as_str()),
                "{line:?} in {dot}"
            );
        }
    }
    let dot = run(&["rbac", "paths", "--from", EVE, "--format", "dot", d]);
    assert!(
        dot.contains("\n  \"User:eve\\n#&#35;[add-mask]x\\\"];\\n  evil -> \\\"z\";\n"),
        "{dot}"
    );
    let reach = run(&["reach", d, "--format", "dot"]);
    assert!(
        reach.contains(r#""default/#&#35;[add-mask]y\n\"]; injected -> node; x[\"[Pod]""#),
        "{reach}"
    );
    let mermaid = run(&["rbac", "paths", "--from", EVE, "--format", "mermaid", d]);
    let lines: Vec<&str> = mermaid.lines().collect();
    assert_eq!(lines[0], "flowchart LR");
    for line in &lines[1..] {
        let node = line
            .strip_prefix("  n")
            .and_then(|l| l.split_once("[\""))
            .is_some_and(|(n, rest)| {
                n.bytes().all(|b| b.is_ascii_digit())
                    && rest.ends_with("\"]")
                    && !rest[..rest.len() - 2].contains('"')
            });
        let edge =
            line.starts_with("  n") && line.matches('"').count() == 2 && line.contains(" -->|\"");
        assert!(node || edge, "{line:?} in {mermaid}");
    }
    assert!(
        mermaid.contains("[\"User:eve#92;n#35;#35;[add-mask]x#quot;];#92;n  evil -> #quot;z\"]\n"),
        "{mermaid}"
    );
}

/// Point 3: config errors and the write-baseline message name values and
/// paths that may come from the scanned tree: shown escaped.
#[test]
fn config_errors_and_baseline_paths_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let pod = hostile("write-error.yaml");
    for config in [
        "fail-on: \"x\\e]52;c;aGk=\\a\\n::error::y\"\n",
        "select: [\"p\\e[2J\\n##[add-mask]x\"]\n",
        "plugins: [\"p\\e[2J\\n::error::x.wasm\"]\n",
    ] {
        std::fs::write(dir.path().join(".ml-audit.yaml"), config).unwrap();
        // (The other commands read the config's `kinds` and `exclude`
        // only: its first error is theirs too.)
        let commands = if config.starts_with("fail-on") {
            vec![vec!["scan"], vec!["who-can", "create", "pods"]]
        } else {
            vec![vec!["scan"]]
        };
        for args in commands {
            let out = bin()
                .current_dir(dir.path())
                .args(&args)
                .arg(&pod)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{config}");
            // A config error ends the run on stderr; a plugin that cannot
            // be loaded is an input error of the report, which is printed.
            let shown = if config.starts_with("plugins") {
                &out.stdout
            } else {
                &out.stderr
            };
            let shown_text = String::from_utf8_lossy(shown);
            assert!(shown_text.starts_with("error: "), "{shown_text}");
            assert_inert(config, &out.stderr);
            assert_inert(config, &out.stdout);
        }
    }
    let base = dir.path().join("b\x1b[2J\n::error::x.json");
    let out = bin()
        .arg(&pod)
        .arg("--no-config")
        .arg("--write-baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(r"b\e[2J\n::error::x.json"), "{stderr}");
    assert_inert("write-baseline", &out.stderr);
}

/// Point 1: the CLI writes to stderr through `say!` (`to_stderr`) only:
/// `eprintln!` and `eprint!` panic when stderr cannot be written.
#[test]
fn the_cli_writes_stderr_through_one_function() {
    fn walk(dir: &Path, found: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, found);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, line) in text.lines().enumerate() {
                    let raw = ["eprintln!(", "eprint!(", "io::stderr().lock().write"]
                        .iter()
                        .any(|m| line.contains(m));
                    if raw {
                        found.push(format!("{}:{}: {line}", p.display(), i + 1));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    // The one writer, in `to_stderr`.
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("main.rs"), "{found:#?}");
}
