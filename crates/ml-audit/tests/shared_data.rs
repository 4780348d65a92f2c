//! The rule for tests that read `../shared`: absent, they skip (with a
//! printed reason) on a developer's machine, and fail when `CI` is set, so
//! that CI cannot pass without checking anything.

use std::process::Command;

#[path = "support/shared.rs"]
mod shared;

/// Run by [`absent_shared_data_skips_here_and_fails_under_ci`] in a child
/// process: asks for a folder that is never there.
#[test]
fn probe_absent_shared_data() {
    if std::env::var_os("ML_AUDIT_SHARED_PROBE").is_none() {
        return;
    }
    assert!(shared::shared("no-such-folder-for-this-probe").is_none());
}

#[test]
fn absent_shared_data_skips_here_and_fails_under_ci() {
    let probe = |ci: bool| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["probe_absent_shared_data", "--exact", "--nocapture"])
            .env("ML_AUDIT_SHARED_PROBE", "1")
            .env_remove("CI");
        if ci {
            cmd.env("CI", "true");
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let (ok, text) = probe(false);
    assert!(ok, "{text}");
    assert!(
        text.contains("skipped: ") && text.contains("is absent"),
        "{text}"
    );
    let (ok, text) = probe(true);
    assert!(!ok, "{text}");
    assert!(text.contains("is absent, and CI is set"), "{text}");
}
