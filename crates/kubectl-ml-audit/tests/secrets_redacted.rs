//! A literal secret found in a manifest never appears in any output of the
//! real binary: not in messages, help, context or related notes, and not in
//! the source lines the text format shows (its own finding's or another
//! rule's).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every secret written in the two fixtures (one of each kind), or a
/// distinctive slice of it.
const SECRETS: [&str; 13] = [
    "9c2e4b6d8f0a3f9a1c7e5b2d4f6a8c0e1b3d5f7a",
    "sk-proj-Q7rT9wXy2Bz4Kd6Mn8Pq1Rs3Tu5Vw",
    "hf_QzT8rW2yXv4BnM6kLp9HjG3fD5sA7qE1cR0u",
    "AKIAQ3EGRTYU7MNB2XKZ",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
    "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    "Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE9dC8bA7zY6xW5vU4tS3rQ2pO1nM0lK9jI8hG7fE6dC5bA4zY3xW2v",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "mlflowpw123",
    "s3cr3tpassw0rd",
    "abcd1234efgh5678",
    "hunter22",
];

fn run(args: &[&str]) -> (String, String) {
    let files = [
        root().join("testdata/rules/hardcoded-credential/fail.yaml"),
        root().join("testdata/rules/hardcoded-secret-by-name/fail.yaml"),
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .args(files.iter().map(|p| p.as_os_str()))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_clean(args: &[&str], must_mention: &[&str]) {
    let (stdout, stderr) = run(args);
    for m in must_mention {
        assert!(
            stdout.contains(m),
            "{args:?}: expected `{m}` in the output:\n{stdout}"
        );
    }
    for s in SECRETS {
        // Slices too: a secret cut by a line wrap or a prefix is still a leak.
        for part in [s, &s[..s.len().min(12)], &s[s.len().saturating_sub(12)..]] {
            if part.len() < 8 {
                continue;
            }
            assert!(
                !stdout.contains(part) && !stderr.contains(part),
                "{args:?}: `{part}` (of a literal secret) appears in the output"
            );
        }
    }
}

#[test]
fn no_secret_in_text_output() {
    assert_clean(
        &["--format", "text"],
        &[
            "hardcoded-credential",
            "hardcoded-secret-by-name",
            "AWS access key id",
        ],
    );
}

#[test]
fn no_secret_in_json_output() {
    assert_clean(
        &["--format", "json"],
        &[
            "hardcoded-credential",
            "hardcoded-secret-by-name",
            "redacted",
        ],
    );
}

#[test]
fn no_secret_in_other_rules_source_lines() {
    // Other rules' findings show the neighbouring lines: still masked.
    assert_clean(
        &[
            "--format",
            "text",
            "--ignore",
            "hardcoded-credential,hardcoded-secret-by-name",
        ],
        &["image-not-pinned-by-digest", "****"],
    );
}
