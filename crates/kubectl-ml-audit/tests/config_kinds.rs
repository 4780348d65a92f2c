//! Kinds a config teaches (`.ml-audit.yaml` `kinds:`) are known to every
//! analysis, not only to the pod checks: `who-can` sees the escalation a
//! pod-creating custom kind gives.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/config-kinds")
}

/// Runs the binary in `cwd`; returns (exit code, stdout).
fn run_in(cwd: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_kubectl-ml_audit"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn who_can_follows_a_config_declared_pod_kind() {
    let dir = fixture();
    let manifests = dir.join("rbac.yaml");
    let manifests = manifests.to_str().unwrap();
    // With the config (found in the working directory): bob can create
    // Trainers in ml, so he can run as ml/runner, which reads its Secrets.
    let (code, out) = run_in(&dir, &["who-can", "get", "secrets", "-n", "ml", manifests]);
    assert_eq!(code, 0);
    let escalation = out.split("By escalation").nth(1).unwrap();
    assert!(escalation.starts_with(" (1):"), "{out}");
    assert!(escalation.contains("User:bob"), "{out}");
    assert!(
        escalation.contains("create trainers.ml.example.com in ml"),
        "{out}"
    );
    // `trainers` without a group is found in the config's kinds.
    let (_, out) = run_in(
        &dir,
        &["who-can", "create", "trainers", "-n", "ml", manifests],
    );
    assert!(
        out.split("By escalation")
            .next()
            .unwrap()
            .contains("User:bob"),
        "{out}"
    );

    // Without the config, nothing knows what a Trainer runs.
    let elsewhere = tempfile::tempdir().unwrap();
    let (_, out) = run_in(
        elsewhere.path(),
        &["who-can", "get", "secrets", "-n", "ml", manifests],
    );
    assert!(!out.contains("User:bob"), "{out}");
}
