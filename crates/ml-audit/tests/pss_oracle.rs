//! The Pod Security Standards rules against the upstream Pod Security
//! Admission fixtures (v1.37), read in place from `../shared/oracles/pss/`.
//!
//! For each level, every file under `<level>/v1.37/fail/` must be flagged by
//! the rule of the control its file name names (`privileged0.yaml` by
//! `pss-privileged`), and no file under `<level>/v1.37/pass/` may be flagged
//! by any rule of that level (baseline: the baseline rules; restricted: all).

use std::path::{Path, PathBuf};

use ml_audit::__internals::{level_of, run_rules, PssLevel};
use ml_audit::{Audit, Context, Input, Inventory, LoadOptions, Rule, Settings};

#[path = "support/shared.rs"]
mod shared;

/// The rule id for an upstream check, from the file-name prefix.
fn rule_for(check: &str) -> Option<&'static str> {
    Some(match check {
        "windowshostprocess" => "pss-host-process",
        "hostnamespaces" => "pss-host-namespaces",
        "privileged" => "pss-privileged",
        "capabilities_baseline" => "pss-capabilities",
        "hostpathvolumes" => "pss-host-path-volumes",
        "hostports" => "pss-host-ports",
        "apparmorprofile" => "pss-apparmor",
        "selinuxoptions" => "pss-selinux",
        "procmount" => "pss-proc-mount",
        "seccompprofile_baseline" => "pss-seccomp",
        "sysctls" => "pss-sysctls",
        "hostprobesandhostlifecycle" => "pss-host-probes",
        "restrictedvolumes" => "pss-volume-types",
        "allowprivilegeescalation" => "pss-privilege-escalation",
        "runasnonroot" => "pss-run-as-non-root",
        "runasuser" => "pss-run-as-user",
        "seccompprofile_restricted" => "pss-seccomp-restricted",
        "capabilities_restricted" => "pss-capabilities-restricted",
        "procmount_restricted" => "pss-proc-mount-restricted",
        _ => return None,
    })
}

/// `capabilities_baseline3.yaml` -> `capabilities_baseline`.
fn check_name(file: &str) -> &str {
    file.trim_end_matches(".yaml")
        .trim_end_matches(|c: char| c.is_ascii_digit())
}

/// The ids of the rules that flag the file.
fn flagged_by(path: &Path, selected: &[&dyn Rule]) -> (Vec<String>, Vec<String>) {
    let loaded = ml_audit::load(&[Input::Path(path.to_path_buf())], &LoadOptions::default());
    let inv = Inventory::new(loaded);
    let errors = inv
        .diagnostics
        .iter()
        .filter(|d| d.level == ml_audit::Level::Error)
        .map(|d| d.message.clone())
        .collect();
    let settings = Settings::default();
    let cx = Context::new(&inv, &settings);
    let mut ids: Vec<String> = run_rules(&cx, selected)
        .into_iter()
        .map(|f| f.rule.to_string())
        .collect();
    ids.sort();
    ids.dedup();
    (ids, errors)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn pss_rules_agree_with_upstream_fixtures() {
    let Some(root) = shared::shared("oracles/pss") else {
        return;
    };
    let audit = Audit::new();
    let mut total = 0;
    let mut agree = 0;
    let mut failures = Vec::new();
    for level in [PssLevel::Baseline, PssLevel::Restricted] {
        let dir = root.join(level.as_str()).join("v1.37");
        if !dir.is_dir() {
            println!("skipped {}: {} is absent", level.as_str(), dir.display());
            continue;
        }
        let selected: Vec<&dyn Rule> = audit
            .rules()
            .filter(|r| level_of(&r.meta().id).is_some_and(|l| l <= level))
            .collect();
        let (mut n, mut ok) = (0, 0);
        for path in files(&dir.join("fail")) {
            n += 1;
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let Some(want) = rule_for(check_name(&name)) else {
                failures.push(format!(
                    "{}/fail/{name}: no rule maps the check `{}`",
                    level.as_str(),
                    check_name(&name)
                ));
                continue;
            };
            let (got, errors) = flagged_by(&path, &selected);
            if errors.is_empty() && got.iter().any(|id| id == want) {
                ok += 1;
            } else {
                failures.push(format!(
                    "{}/fail/{name}: expected {want}, flagged by {got:?}, load errors {errors:?}",
                    level.as_str()
                ));
            }
        }
        for path in files(&dir.join("pass")) {
            n += 1;
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let (got, errors) = flagged_by(&path, &selected);
            if errors.is_empty() && got.is_empty() {
                ok += 1;
            } else {
                failures.push(format!(
                    "{}/pass/{name}: flagged by {got:?}, load errors {errors:?}",
                    level.as_str()
                ));
            }
        }
        println!("pss oracle {}: {n} files, {ok} agreements", level.as_str());
        total += n;
        agree += ok;
    }
    println!("pss oracle total: {total} files, {agree} agreements");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(total, agree);
}
